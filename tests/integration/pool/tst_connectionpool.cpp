// Reqivo::ConnectionPool: keep-alive connections shared by Sessions in several threads.
//
// The peer is an in-process HTTP/1.1 server in a thread of its own that answers each request
// after a short delay and checks the one property sharing must never break: a connection
// carries one request at a time. A second request arriving on a connection before the first
// was answered means two threads wrote on it at once; the server counts that as a violation.
#include <Reqivo/ConnectionPool>
#include <Reqivo/Session>

#include <QHash>
#include <QMutex>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <thread>
#include <vector>

using namespace Qt::Literals::StringLiterals;

namespace {

class KeepAliveServer : public QObject
{
public:
    std::atomic<int> accepted{0};
    std::atomic<int> requests{0};
    std::atomic<int> violations{0};
    quint16 port = 0;

    void start()
    {
        m_thread.start();
        QMetaObject::invokeMethod(this, [this] { listen(); }, Qt::BlockingQueuedConnection);
    }
    ~KeepAliveServer() override
    {
        QMetaObject::invokeMethod(this, [this] { delete m_server; }, Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }
    KeepAliveServer() { moveToThread(&m_thread); }
    //! Closes every connection from the server's side (they are idle: the client is done).
    void closeAll()
    {
        QMetaObject::invokeMethod(
                this,
                [this] {
                    for (QTcpSocket *s : m_server->findChildren<QTcpSocket *>())
                        s->close();
                },
                Qt::BlockingQueuedConnection);
    }

private:
    void listen()
    {
        m_server = new QTcpServer;
        m_server->listen(QHostAddress::LocalHost, 0);
        port = m_server->serverPort();
        QObject::connect(m_server, &QTcpServer::newConnection, m_server, [this] {
            while (QTcpSocket *s = m_server->nextPendingConnection()) {
                ++accepted;
                s->setParent(m_server);
                auto *busy = new bool(false);
                auto *buffer = new QByteArray;
                QObject::connect(s, &QObject::destroyed, [busy, buffer] {
                    delete busy;
                    delete buffer;
                });
                QObject::connect(s, &QIODevice::readyRead, s, [this, s, busy, buffer] {
                    buffer->append(s->readAll());
                    qsizetype end;
                    while ((end = buffer->indexOf("\r\n\r\n")) >= 0) {
                        buffer->remove(0, end + 4);
                        ++requests;
                        if (*busy)
                            ++violations; // a request while the previous one is unanswered
                        *busy = true;
                        QTimer::singleShot(1, s, [s, busy] {
                            *busy = false;
                            s->write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                        });
                    }
                });
            }
        });
    }

    QThread m_thread;
    QTcpServer *m_server = nullptr;
};

} // namespace

class TestConnectionPool : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void sessionsInManyThreadsShareConnectionsOneRequestAtATime_data()
    {
        QTest::addColumn<bool>("qthreads");
        QTest::newRow("std::thread") << false;
        QTest::newRow("QThread") << true;
    }
    void sessionsInManyThreadsShareConnectionsOneRequestAtATime()
    {
        QFETCH(bool, qthreads);
        KeepAliveServer server;
        server.start();
        const QUrl base(u"http://127.0.0.1:%1"_s.arg(server.port));
        Reqivo::ConnectionPool shared;
        constexpr int threads = 4, rounds = 5, perRound = 40;
        std::atomic<int> ok{0}, reused{0}, failures{0};

        const auto work = [&] {
            for (int round = 0; round < rounds; ++round) {
                // A fresh Session each round: reuse can then only come from the shared pool.
                Reqivo::Session session(&shared, base);
                for (int i = 0; i < perRound; ++i) {
                    try {
                        const Reqivo::Response r = session.get(QUrl(u"/x"_s));
                        if (r.status() == 200 && r.body() == "ok")
                            ++ok;
                        if (r.connectionReused())
                            ++reused;
                    } catch (const std::exception &) {
                        ++failures;
                    }
                }
            }
        };
        if (qthreads) {
            std::vector<std::unique_ptr<QThread>> pool;
            for (int t = 0; t < threads; ++t) {
                pool.emplace_back(QThread::create(work));
                pool.back()->start();
            }
            for (auto &t : pool)
                QVERIFY(t->wait(60000));
        } else {
            std::vector<std::thread> pool;
            for (int t = 0; t < threads; ++t)
                pool.emplace_back(work);
            for (auto &t : pool)
                t.join();
        }

        QCOMPARE(failures.load(), 0);
        QCOMPARE(ok.load(), threads * rounds * perRound);
        QCOMPARE(server.requests.load(), threads * rounds * perRound);
        QCOMPARE(server.violations.load(), 0);
        // At most one connection per concurrently busy thread is ever opened...
        QVERIFY2(server.accepted.load() <= threads,
                 qPrintable(u"%1 connections"_s.arg(server.accepted.load())));
        // ...so nearly every request, across sessions and threads, reused a connection.
        QVERIFY(reused.load() >= threads * rounds * perRound - threads);
        QCOMPARE(shared.idleCount(), server.accepted.load());
        QCOMPARE(shared.debugSummary(),
                 u"shared: http://127.0.0.1:%1 parked=%2"_s.arg(server.port)
                         .arg(server.accepted.load()));
        shared.clear();
        QCOMPARE(shared.idleCount(), 0);
        QCOMPARE(shared.debugSummary(), u"shared: empty"_s);
    }

    void aConnectionTheServerClosedWhileParkedIsNotReused()
    {
        KeepAliveServer server;
        server.start();
        const QUrl base(u"http://127.0.0.1:%1"_s.arg(server.port));
        Reqivo::ConnectionPool shared;
        {
            Reqivo::Session session(&shared, base);
            QCOMPARE(session.get(QUrl(u"/x"_s)).status(), 200);
        }
        QCOMPARE(shared.idleCount(), 1);
        server.closeAll(); // nobody watches a parked connection: the taker must notice
        QTest::qWait(50);
        Reqivo::Session session(&shared, base);
        const Reqivo::Response r = session.get(QUrl(u"/x"_s));
        QCOMPARE(r.status(), 200);
        QVERIFY(!r.connectionReused());
        QCOMPARE(server.accepted.load(), 2);
        QCOMPARE(server.violations.load(), 0);
    }

    void expiredParkedConnectionsAreClosed()
    {
        KeepAliveServer server;
        server.start();
        Reqivo::PoolOptions options;
        options.maxIdleTime = std::chrono::milliseconds(50);
        Reqivo::ConnectionPool shared(options);
        {
            Reqivo::Session session(&shared, QUrl(u"http://127.0.0.1:%1"_s.arg(server.port)));
            QCOMPARE(session.get(QUrl(u"/x"_s)).status(), 200);
        }
        QCOMPARE(shared.idleCount(), 1);
        QTest::qWait(120);
        Reqivo::Session session(&shared, QUrl(u"http://127.0.0.1:%1"_s.arg(server.port)));
        const Reqivo::Response r = session.get(QUrl(u"/x"_s));
        QVERIFY(!r.connectionReused());
        QCOMPARE(server.accepted.load(), 2);
    }
};

QTEST_GUILESS_MAIN(TestConnectionPool)
#include "tst_connectionpool.moc"
