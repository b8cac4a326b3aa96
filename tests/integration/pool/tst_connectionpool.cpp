// Reqivo::ConnectionPool: keep-alive connections shared by Sessions in several threads.
//
// The peer is an in-process HTTP/1.1 server in a thread of its own that answers each request
// after a short delay and checks the one property sharing must never break: a connection
// carries one request at a time. A second request arriving on a connection before the first
// was answered means two threads wrote on it at once; the server counts that as a violation.
#include "support/kernelack.h"

#include <Reqivo/ConnectionPool>
#include <Reqivo/Session>

#include <QHash>
#include <QMutex>
#include <QSet>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <sys/socket.h>

using namespace Qt::Literals::StringLiterals;

namespace {

class KeepAliveServer : public QObject
{
public:
    std::atomic<int> accepted {0};
    std::atomic<int> requests {0};
    std::atomic<int> violations {0};
    quint16 port = 0;

    void start()
    {
        m_thread.start();
        QMetaObject::invokeMethod(
            this, [this] { listen(); }, Qt::BlockingQueuedConnection);
    }
    ~KeepAliveServer() override
    {
        QMetaObject::invokeMethod(
            this, [this] { delete m_server; }, Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }
    KeepAliveServer() { moveToThread(&m_thread); }
    //! Connections that carried requests from more than one caller (the from= query item).
    int sharedConnections() const
    {
        QMutexLocker lock(&m_mutex);
        int n = 0;
        for (const QSet<QByteArray> &callers : m_callers)
            n += callers.size() > 1;
        return n;
    }
    //! Sends \a bytes on every connection, unasked (they are idle: the client is done), and
    //! returns once the client's kernel has them.
    bool sendToAll(const QByteArray &bytes)
    {
        bool delivered = true;
        QMetaObject::invokeMethod(
            this,
            [this, bytes, &delivered] {
                for (QTcpSocket *s : m_server->findChildren<QTcpSocket *>()) {
                    s->write(bytes);
                    s->flush();
                    delivered = acknowledged(s) && delivered;
                }
            },
            Qt::BlockingQueuedConnection);
        return delivered;
    }
    //! Closes every connection from the server's side (they are idle: the client is done), and
    //! returns once the client's kernel has the FIN.
    bool closeAll()
    {
        bool delivered = true;
        QMetaObject::invokeMethod(
            this,
            [this, &delivered] {
                for (QTcpSocket *s : m_server->findChildren<QTcpSocket *>()) {
                    ::shutdown(int(s->socketDescriptor()), SHUT_WR);
                    delivered = acknowledged(s) && delivered;
                    s->close();
                }
            },
            Qt::BlockingQueuedConnection);
        return delivered;
    }

private:
    // Waits until the peer's kernel acknowledged everything sent on \a s, a FIN included
    // (SIOCOUTQ counts it): from then on the client's kernel holds the bytes or the close, and
    // a recv(MSG_PEEK) there sees them, though nobody reads that socket.
    static bool acknowledged(QTcpSocket *s)
    {
        const int fd = int(s->socketDescriptor());
        return QTest::qWaitFor([fd] { return ReqivoTest::peerAcknowledgedAll(fd); });
    }

    void listen()
    {
        m_server = new QTcpServer;
        m_server->listen(QHostAddress::LocalHost, 0);
        port = m_server->serverPort();
        QObject::connect(m_server, &QTcpServer::newConnection, m_server, [this] {
            while (QTcpSocket *s = m_server->nextPendingConnection()) {
                ++accepted;
                s->setParent(m_server);
                const int index = accepted.load();
                auto *busy = new bool(false);
                auto *buffer = new QByteArray;
                QObject::connect(s, &QObject::destroyed, [busy, buffer] {
                    delete busy;
                    delete buffer;
                });
                QObject::connect(s, &QIODevice::readyRead, s, [this, s, busy, buffer, index] {
                    buffer->append(s->readAll());
                    qsizetype end;
                    while ((end = buffer->indexOf("\r\n\r\n")) >= 0) {
                        // "GET /x?from=<caller> HTTP/1.1": who sent it on this connection.
                        const QByteArray target = buffer->left(end).split(' ').value(1);
                        {
                            QMutexLocker lock(&m_mutex);
                            m_callers[index].insert(target.mid(target.indexOf("from=") + 1));
                        }
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
    mutable QMutex m_mutex;
    QHash<int, QSet<QByteArray>> m_callers; // connection -> callers seen on it
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
        std::atomic<int> ok {0}, reused {0}, failures {0};

        // Every round runs in new threads, each with a fresh Session: a reused connection was
        // parked by another thread, either one of this round or one that has already ended.
        std::atomic<int> nextCaller {0};
        const auto work = [&] {
            const QUrl path(u"/x?from=%1"_s.arg(nextCaller++));
            Reqivo::Session session(&shared, base);
            for (int i = 0; i < perRound; ++i) {
                try {
                    const Reqivo::Response r = session.get(path);
                    if (r.status() == 200 && r.body() == "ok")
                        ++ok;
                    if (r.connectionReused())
                        ++reused;
                } catch (const std::exception &) {
                    ++failures;
                }
            }
        };
        for (int round = 0; round < rounds; ++round) {
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
        // ...and connections went from thread to thread (each thread names itself in its
        // path): threads * rounds threads, at most `threads` connections.
        QVERIFY2(server.sharedConnections() >= 1,
            "no connection carried requests of more than one thread");
        QCOMPARE(shared.idleCount(), server.accepted.load());
        QCOMPARE(shared.debugSummary(),
            u"shared: http://127.0.0.1:%1 parked=%2"_s.arg(server.port)
                .arg(server.accepted.load()));
        shared.clear();
        QCOMPARE(shared.idleCount(), 0);
        QCOMPARE(shared.debugSummary(), u"shared: empty"_s);
    }

    // The hand-over itself: a connection parked by a thread that has ended is taken by a
    // thread of another kind, and then by the first kind again.
    void aConnectionParkedByOneThreadIsTakenByAnother()
    {
        KeepAliveServer server;
        server.start();
        const QUrl url(u"http://127.0.0.1:%1/x"_s.arg(server.port));
        Reqivo::ConnectionPool shared;
        QList<int> reused;
        const auto get = [&] {
            Reqivo::Session session(&shared);
            const Reqivo::Response r = session.get(url);
            reused.append(r.status() == 200 ? int(r.connectionReused()) : -1);
        };
        std::thread first(get);
        first.join();
        QCOMPARE(shared.idleCount(), 1);
        std::unique_ptr<QThread> second(QThread::create(get));
        second->start();
        QVERIFY(second->wait(10000));
        std::thread third(get);
        third.join();
        get(); // and the test's own thread
        QCOMPARE(reused, QList<int>({0, 1, 1, 1}));
        QCOMPARE(server.accepted.load(), 1);
        QCOMPARE(server.requests.load(), 4);
        QCOMPARE(shared.idleCount(), 1);
    }

    // Nobody watches a parked connection: whichever thread takes it must notice that the
    // server closed it or sent bytes nobody asked for (a kernel peek), and open another.
    void aConnectionTheServerSpokeOnWhileParkedIsNotReused_data()
    {
        QTest::addColumn<bool>("close");
        QTest::addColumn<bool>("otherThread");
        QTest::newRow("closed, same thread") << true << false;
        QTest::newRow("closed, another thread") << true << true;
        QTest::newRow("unsolicited bytes, same thread") << false << false;
        QTest::newRow("unsolicited bytes, another thread") << false << true;
    }
    void aConnectionTheServerSpokeOnWhileParkedIsNotReused()
    {
        QFETCH(bool, close);
        QFETCH(bool, otherThread);
        KeepAliveServer server;
        server.start();
        const QUrl base(u"http://127.0.0.1:%1"_s.arg(server.port));
        Reqivo::ConnectionPool shared;
        {
            Reqivo::Session session(&shared, base);
            QCOMPARE(session.get(QUrl(u"/x"_s)).status(), 200);
        }
        QCOMPARE(shared.idleCount(), 1);
        if (close)
            QVERIFY(server.closeAll());
        else
            QVERIFY(server.sendToAll("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno"));
        int status = 0;
        bool reused = true;
        const auto get = [&] {
            Reqivo::Session session(&shared, base);
            const Reqivo::Response r = session.get(QUrl(u"/x"_s));
            status = r.status();
            reused = r.connectionReused();
        };
        if (otherThread) {
            std::thread t(get);
            t.join();
        } else {
            get();
        }
        QCOMPARE(status, 200);
        QVERIFY(!reused);
        QCOMPARE(server.accepted.load(), 2);
        QCOMPARE(server.violations.load(), 0);
        QCOMPARE(shared.idleCount(), 1);
    }

    // Attached pools share the parking place with the ConnectionPool, so one destroyed before
    // the sessions that use it closes what was parked and leaves them working (they used to
    // keep a dangling pointer to it).
    void sessionsOutliveTheConnectionPool()
    {
        KeepAliveServer server;
        server.start();
        const QUrl url(u"http://127.0.0.1:%1/x"_s.arg(server.port));
        auto shared = std::make_unique<Reqivo::ConnectionPool>();
        Reqivo::Session session(shared.get());
        QCOMPARE(session.get(url).status(), 200);
        QCOMPARE(shared->idleCount(), 1);
        shared.reset(); // closes the parked connection
        const Reqivo::Response second = session.get(url);
        QCOMPARE(second.status(), 200);
        QVERIFY(!second.connectionReused());
        const Reqivo::Response third = session.get(url);
        QCOMPARE(third.status(), 200);
        QVERIFY(third.connectionReused()); // parked and taken back as before
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
