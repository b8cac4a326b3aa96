// The blocking Session in every kind of thread docs/threading.md promises — a plain std::thread
// that never ran an event loop, a QThread with its own exec() and one without — alone and many
// at once against the same nginx host; and the nested loop's hazards on one thread: a blocking
// call started from a slot that the loop of another blocking call invoked is refused with a
// ReqivoError while the outer call completes, and a slot may even destroy the Session whose call
// is on the stack.
#include "synctest.h"
#include "threadedserver.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Connection>
#include <Reqivo/ConnectionPool>
#include <Reqivo/Request>
#include <Reqivo/Session>
#include <Reqivo/asyncconnectionpool.h>

#include <QHash>
#include <QMutex>
#include <QScopeGuard>
#include <QSemaphore>
#include <QSet>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SyncTest;
using Reqivo::Endpoint;
using Reqivo::RequestOptions;
using Reqivo::Response;
using Reqivo::Session;

namespace {

const QByteArray smallBody("Hello from nginx\n");

//! What one client thread saw. Written by that thread only, read after it ended.
struct ThreadReport
{
    int ok = 0; //!< 200 with the expected body
    int reused = 0;
    QStringList failures; //!< at most a few, for the failure message
    Qt::HANDLE threadId = nullptr;
    bool sessionInThisThread = false;

    void fail(const QString &what)
    {
        if (failures.size() < 5)
            failures.append(what);
    }
};

//! \a requests GETs of /small.txt through a Session created on the calling thread (sharing
//! \a shared's connections when given).
void hammer(ThreadReport &report, int requests, Reqivo::ConnectionPool *shared = nullptr)
{
    report.threadId = QThread::currentThreadId();
    Session session(shared, nginxUrl(u"/"_s));
    report.sessionInThisThread = session.async().thread() == QThread::currentThread();
    for (int i = 0; i < requests; ++i) {
        try {
            const Response r = session.get(QUrl(u"/small.txt"_s));
            if (r.status() == 200 && r.body() == smallBody)
                ++report.ok;
            else
                report.fail(u"request %1: %2 %3"_s.arg(i)
                                .arg(r.status())
                                .arg(QString::fromLatin1(r.body())));
            if (r.connectionReused())
                ++report.reused;
        } catch (const Reqivo::ReqivoError &e) {
            report.fail(u"request %1: %2"_s.arg(i).arg(QString::fromUtf8(e.what())));
        }
    }
}

//! A QThread whose run() makes blocking calls without ever running exec().
class NoLoopThread : public QThread
{
public:
    NoLoopThread(ThreadReport &report, int requests, Reqivo::ConnectionPool *shared)
        : m_report(report)
        , m_requests(requests)
        , m_shared(shared)
    {
    }

protected:
    void run() override { hammer(m_report, m_requests, m_shared); }

private:
    ThreadReport &m_report;
    int m_requests;
    Reqivo::ConnectionPool *m_shared;
};

enum class ThreadKind { Std, QThreadWithLoop, QThreadWithoutLoop };

void checkReports(const std::vector<ThreadReport> &reports, int requests)
{
    for (std::size_t i = 0; i < reports.size(); ++i) {
        const ThreadReport &r = reports[i];
        QVERIFY2(
            r.failures.isEmpty(), qPrintable(u"thread %1: "_s.arg(i) + r.failures.join(u"; "_s)));
        QCOMPARE(r.ok, requests);
        QVERIFY(r.sessionInThisThread);
        QVERIFY(r.threadId != QThread::currentThreadId());
        // nginx keeps connections alive: nearly every request after the first reuses one.
        QVERIFY2(r.reused >= requests - 5, qPrintable(QString::number(r.reused)));
    }
}

} // namespace

class TestSyncThreads : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // A std::thread that never ran an event loop: buffered, streamed, an error, a timeout.
    void stdThreadWithoutEventLoop()
    {
        ThreadedServer silent([](ServerConnection &, const ReceivedRequest &) {});
        QByteArray body;
        QByteArray streamed;
        QString refused;
        QString timedOut;
        bool reused = false;
        bool loopBefore = true;
        std::thread worker([&] {
            loopBefore = QThread::currentThread()->loopLevel() != 0;
            Session session;
            body = session.get(nginxUrl(u"/small.txt"_s)).body();
            Response r = session.get(nginxUrl(u"/hello.json"_s), RequestOptions().streaming());
            while (true) {
                const QByteArray piece = Session::readChunk(r, 5);
                if (piece.isEmpty())
                    break;
                streamed += piece;
            }
            reused = session.get(nginxUrl(u"/small.txt"_s)).connectionReused();
            refused = errorOf([&] { session.get(refusedUrl()); }).typeName();
            Reqivo::Timeout t;
            t.read = 200ms;
            timedOut = errorOf([&] {
                session.get(silent.url(), RequestOptions().withTimeout(t));
            }).typeName();
        });
        worker.join();
        QVERIFY(!loopBefore);
        QCOMPARE(body, smallBody);
        QCOMPARE(streamed, QByteArray("{\"hello\":\"nginx\",\"n\":1}\n"));
        QVERIFY(reused);
        QCOMPARE(refused, u"NetworkError"_s);
        QCOMPARE(timedOut, u"ReadTimeout"_s);
    }

    // Each thread has its own Session; all hammer one nginx host at the same time.
    // With a shared ConnectionPool the threads also hand keep-alive connections to each other.
    void manyThreadsHammerOneHost_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<bool>("sharedPool");
        QTest::newRow("4 std::threads") << int(ThreadKind::Std) << false;
        QTest::newRow("4 QThreads running exec()") << int(ThreadKind::QThreadWithLoop) << false;
        QTest::newRow("4 QThreads without exec()") << int(ThreadKind::QThreadWithoutLoop) << false;
        QTest::newRow("4 std::threads, one ConnectionPool") << int(ThreadKind::Std) << true;
        QTest::newRow("4 QThreads running exec(), one ConnectionPool")
            << int(ThreadKind::QThreadWithLoop) << true;
        QTest::newRow("4 QThreads without exec(), one ConnectionPool")
            << int(ThreadKind::QThreadWithoutLoop) << true;
    }
    void manyThreadsHammerOneHost()
    {
        QFETCH(int, kind);
        QFETCH(bool, sharedPool);
        Reqivo::ConnectionPool pool;
        Reqivo::ConnectionPool *const shared = sharedPool ? &pool : nullptr;
        constexpr int threads = 4;
        constexpr int requests = 200;
        std::vector<ThreadReport> reports(threads);
        switch (ThreadKind(kind)) {
        case ThreadKind::Std: {
            std::vector<std::thread> workers;
            for (int i = 0; i < threads; ++i)
                workers.emplace_back(
                    [&reports, i, shared] { hammer(reports[std::size_t(i)], requests, shared); });
            for (std::thread &t : workers)
                t.join();
            break;
        }
        case ThreadKind::QThreadWithLoop: {
            // The calls run in a slot that each thread's own event loop invokes.
            std::vector<std::unique_ptr<QThread>> workers;
            std::vector<std::unique_ptr<QObject>> contexts;
            for (int i = 0; i < threads; ++i) {
                workers.push_back(std::make_unique<QThread>());
                contexts.push_back(std::make_unique<QObject>());
                contexts.back()->moveToThread(workers.back().get());
                workers.back()->start();
            }
            std::atomic_int done {0};
            for (int i = 0; i < threads; ++i) {
                QMetaObject::invokeMethod(
                    contexts[std::size_t(i)].get(), [&reports, &done, i, shared] {
                        if (QThread::currentThread()->loopLevel() != 1)
                            reports[std::size_t(i)].fail(u"not called from the thread's exec()"_s);
                        hammer(reports[std::size_t(i)], requests, shared);
                        ++done;
                    });
            }
            QVERIFY(QTest::qWaitFor([&] { return done == threads; }, 240000));
            for (int i = 0; i < threads; ++i) {
                QMetaObject::invokeMethod(
                    contexts[std::size_t(i)].get(),
                    [&contexts, i] {
                        contexts[std::size_t(i)].reset(); // destroyed in its own thread
                    },
                    Qt::BlockingQueuedConnection);
                workers[std::size_t(i)]->quit();
                workers[std::size_t(i)]->wait();
            }
            break;
        }
        case ThreadKind::QThreadWithoutLoop: {
            std::vector<std::unique_ptr<NoLoopThread>> workers;
            for (int i = 0; i < threads; ++i)
                workers.push_back(
                    std::make_unique<NoLoopThread>(reports[std::size_t(i)], requests, shared));
            for (auto &t : workers)
                t->start();
            for (auto &t : workers)
                QVERIFY(t->wait(QDeadlineTimer(240000)));
            break;
        }
        }
        checkReports(reports, requests);
        if (sharedPool) {
            // The sessions are gone; their keep-alive connections wait, parked, for any thread.
            QVERIFY2(pool.idleCount() >= 1 && pool.idleCount() <= threads,
                qPrintable(pool.debugSummary()));
            QCOMPARE(pool.debugSummary(),
                u"shared: http://127.0.0.1:%1 parked=%2"_s.arg(nginxValue(u"NGINX_HTTP_PORT"_s))
                    .arg(pool.idleCount()));
            // ... and a session in yet another thread picks one up, and another after it.
            const int parked = pool.idleCount();
            int reused = 0;
            int ok = 0;
            std::thread late([&] {
                Session session(&pool);
                for (int i = 0; i < 3; ++i) {
                    const Response r = session.get(nginxUrl(u"/small.txt"_s));
                    ok += r.status() == 200 && r.body() == smallBody;
                    reused += r.connectionReused();
                }
            });
            late.join();
            QCOMPARE(ok, 3);
            QCOMPARE(reused, 3);
            QCOMPARE(pool.idleCount(), parked);
            pool.clear();
            QCOMPARE(pool.idleCount(), 0);
        }
    }

    // One ConnectionPool under load, with every byte under watch: each request names itself,
    // the server answers with that name a moment later and counts any request that arrives on
    // a connection whose previous request is still unanswered (two threads on one connection).
    // A failure says whether the server had received and answered the request that timed out.
    void sharedPoolUnderLoad_data()
    {
        QTest::addColumn<int>("delayMs");
        QTest::newRow("answered at once") << 0;
        QTest::newRow("answered after 1 ms") << 1;
    }
    void sharedPoolUnderLoad()
    {
        QFETCH(int, delayMs);
        struct Watch
        {
            QMutex mutex;
            QHash<int, int> pending; // connection -> unanswered requests
            int overlaps = 0;
        };
        auto watch = std::make_shared<Watch>();
        ThreadedServer server([watch, delayMs](ServerConnection &c, const ReceivedRequest &r) {
            {
                QMutexLocker lock(&watch->mutex);
                if (watch->pending.value(c.index()) > 0)
                    ++watch->overlaps;
                ++watch->pending[c.index()];
            }
            const auto answer = [watch, &c, target = r.target] {
                {
                    QMutexLocker lock(&watch->mutex);
                    --watch->pending[c.index()];
                }
                c.write(httpResponse(200, target));
            };
            if (delayMs == 0)
                answer();
            else
                QTimer::singleShot(std::chrono::milliseconds(delayMs), &c, answer);
        });
        Reqivo::ConnectionPool shared;
        // Three waves of four threads: a wave's sessions start on the connections the threads of
        // the wave before parked (threads that have ended), and within a wave threads also take
        // what the others just parked.
        constexpr int threads = 4;
        constexpr int waves = 3;
        constexpr int requests = 100;
        std::vector<QStringList> failures(threads * waves);
        for (int wave = 0; wave < waves; ++wave) {
            std::vector<std::thread> workers;
            for (int t = wave * threads; t < (wave + 1) * threads; ++t) {
                workers.emplace_back([&, t] {
                    Session session(&shared);
                    Reqivo::Timeout timeout;
                    timeout.read = 2s;
                    session.setTimeout(timeout);
                    for (int i = 0; i < requests; ++i) {
                        const QString path = u"/t%1-%2"_s.arg(t).arg(i);
                        const Outcome o = attempt([&] { return session.get(server.url(path)); });
                        if (!o.ok())
                            failures[std::size_t(t)].append(path + u": "_s + o.error.toString());
                        else if (o.response.body() != path.toLatin1())
                            failures[std::size_t(t)].append(path + u" got the answer for "_s
                                + QString::fromLatin1(o.response.body()));
                    }
                });
            }
            for (std::thread &w : workers)
                w.join();
        }
        // Connections went from thread to thread: count those that carried requests of more
        // than one (the request path names its thread).
        QHash<int, QSet<QByteArray>> threadsOnConnection;
        for (const ReceivedRequest &r : server.requests())
            threadsOnConnection[r.connection].insert(r.target.split('-').value(0));
        const auto handedOver = std::count_if(threadsOnConnection.cbegin(),
            threadsOnConnection.cend(), [](const QSet<QByteArray> &t) { return t.size() > 1; });
        QStringList all;
        const QList<ReceivedRequest> received = server.requests();
        for (const QStringList &f : failures) {
            for (const QString &line : f) {
                const QByteArray path = line.section(u':', 0, 0).section(u' ', 0, 0).toLatin1();
                const auto it = std::find_if(received.begin(), received.end(),
                    [&](const ReceivedRequest &r) { return r.target == path; });
                if (it == received.end()) {
                    all.append(line + u" [the server never received it]"_s);
                    continue;
                }
                // Which thread used this connection just before: a hand-over between threads?
                QByteArray previous = "none";
                for (const ReceivedRequest &r : received) {
                    if (r.connection == it->connection
                        && r.indexOnConnection == it->indexOnConnection - 1)
                        previous = r.target;
                }
                all.append(line
                    + u" [the server received and answered it: request %1 on connection %2, after %3]"_s
                          .arg(it->indexOnConnection)
                          .arg(it->connection)
                          .arg(QString::fromLatin1(previous)));
            }
        }
        QVERIFY2(all.isEmpty(), qPrintable(all.mid(0, 5).join(u"\n"_s)));
        QCOMPARE(watch->overlaps, 0);
        QCOMPARE(server.requestCount(), qsizetype(threads * waves * requests));
        QVERIFY2(server.connectionCount() <= threads,
            qPrintable(QString::number(server.connectionCount())));
        // threads * waves threads on at most `threads` connections.
        QVERIFY2(handedOver >= 1, "no connection was handed from one thread to another");
    }

    // TLS connections cannot be rebuilt from a kernel socket: they are reused only by the
    // thread that parked them. Another thread opens its own; the parking thread, later, gets
    // its own back (the older of the two parked).
    void tlsConnectionsStayInTheirThread()
    {
        Reqivo::TlsOptions tls;
        QString error;
        QVERIFY2(tls.addCaCertificatesFromFile(nginxValue(u"NGINX_CA_FILE"_s), &error),
            qPrintable(error));
        const QUrl url = ReqivoTest::peerUrl(nginxEnv(), u"NGINX_HTTPS_URL"_s, u"/small.txt"_s);
        Reqivo::ConnectionPool pool;
        const auto get = [&] {
            Session session(&pool);
            session.setTlsOptions(tls);
            const Response r = session.get(url);
            if (r.status() != 200 || r.body() != smallBody)
                return -1;
            return int(r.connectionReused());
        };
        QCOMPARE(get(), 0);
        QCOMPARE(pool.idleCount(), 1);
        int otherThread = -2;
        std::thread other([&] { otherThread = get(); });
        other.join();
        QCOMPARE(otherThread, 0);
        QCOMPARE(pool.idleCount(), 2);
        QCOMPARE(get(), 1);
        QCOMPARE(pool.idleCount(), 2);
        pool.clear();
        QCOMPARE(pool.idleCount(), 0);
    }

    // Blocking calls on different threads at the same moment do not count as re-entry: the
    // guard is per thread. One thread is inside a slow call while the other makes ten: the
    // server holds the slow answer until the ten are done.
    void reentryGuardIsPerThread()
    {
        QSemaphore slowArrived;
        ServerConnection *slowConnection = nullptr; // written before slowArrived is released
        ThreadedServer server([&](ServerConnection &c, const ReceivedRequest &r) {
            if (r.target == "/slow") {
                slowConnection = &c;
                slowArrived.release();
            } else {
                c.write(httpResponse(200, "fast"));
            }
        });
        std::atomic_bool slowDone {false};
        QByteArray slow;
        std::thread other([&] {
            Session session;
            slow = session.get(server.url(u"/slow"_s)).body();
            slowDone = true;
        });
        const bool arrived = slowArrived.tryAcquire(1, 10000);
        QList<QByteArray> fast;
        bool slowDoneMeanwhile = true;
        if (arrived) {
            Session session;
            for (int i = 0; i < 10; ++i) {
                const Outcome o = attempt([&] { return session.get(server.url(u"/fast"_s)); });
                fast.append(o.ok() ? o.response.body() : o.describe().toUtf8());
            }
            slowDoneMeanwhile = slowDone;
            QMetaObject::invokeMethod(
                slowConnection, [c = slowConnection] { c->write(httpResponse(200, "slow")); });
        }
        other.join();
        QVERIFY2(arrived, "the slow request never reached the server");
        QCOMPARE(fast, QList<QByteArray>(10, QByteArray("fast")));
        QVERIFY(!slowDoneMeanwhile);
        QCOMPARE(slow, QByteArray("slow"));
    }

    // A slot run by the nested loop of a slow blocking call tries another blocking call: it is
    // refused with a ReqivoError (not a nested loop), and the outer call completes normally.
    void reentrantCallIsRefused_data()
    {
        QTest::addColumn<QString>("via");
        QTest::newRow("Session::get from a QTimer") << u"session"_s;
        QTest::newRow("the same Session from a QTimer") << u"same session"_s;
        QTest::newRow("Request::get from a QTimer") << u"request"_s;
        QTest::newRow("Connection::connectToHost from a QTimer") << u"connection"_s;
        QTest::newRow("Session::get from a Reply's finished()") << u"reply"_s;
    }
    void reentrantCallIsRefused()
    {
        QFETCH(QString, via);
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &r) {
            if (r.target == "/slow")
                c.writeLater(httpResponse(200, "outer"), 500ms);
            else
                c.write(httpResponse(200, "inner"));
        });
        Session outer;
        Session other;
        Reqivo::AsyncSession async;
        Reqivo::Error refused;
        bool slotRan = false;
        const auto tryInner = [&] {
            slotRan = true;
            refused = errorOf([&] {
                if (via == u"session"_s || via == u"reply"_s)
                    other.get(server.url(u"/inner"_s));
                else if (via == u"same session"_s)
                    outer.get(server.url(u"/inner"_s));
                else if (via == u"request"_s)
                    Reqivo::Request::get(server.url(u"/inner"_s));
                else {
                    Reqivo::Connection c;
                    c.connectToHost(Endpoint::fromUrl(server.url()), 1s);
                }
            });
        };
        QTimer timer;
        timer.setSingleShot(true);
        if (via == u"reply"_s) {
            Reqivo::Reply *reply = async.sendGet(server.url(u"/inner"_s));
            connect(reply, &Reqivo::Reply::finished, this, tryInner);
        } else {
            connect(&timer, &QTimer::timeout, this, tryInner);
            timer.start(100ms);
        }
        const Outcome o = attempt([&] { return outer.get(server.url(u"/slow"_s)); });
        QVERIFY2(slotRan, "the slot did not run during the blocking call");
        EXPECT_OK(o);
        QCOMPARE(o.response.body(), QByteArray("outer"));
        QCOMPARE(refused.typeName(), u"ReqivoError"_s);
        QVERIFY2(refused.message().contains(u"while another one is running"_s),
            qPrintable(refused.message()));
        // The refused call sent nothing; the reply's own request reached the server.
        QCOMPARE(server.requestCount(), qsizetype(via == u"reply"_s ? 2 : 1));
        // The guard is released: blocking calls work again.
        QCOMPARE(other.get(server.url(u"/after"_s)).body(), QByteArray("inner"));
        QCOMPARE(outer.get(server.url(u"/after"_s)).body(), QByteArray("inner"));
    }

    // A refusal leaves the outer call's guard in place: a timer that fires again and again
    // during one slow call is refused every time, and the outer call still completes.
    void repeatedRefusalsDuringOneCall()
    {
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &r) {
            if (r.target == "/slow")
                c.writeLater(httpResponse(200, "outer"), 600ms);
            else
                c.write(httpResponse(200, "inner"));
        });
        Session session;
        int refusals = 0;
        QTimer timer;
        timer.setInterval(50ms);
        connect(&timer, &QTimer::timeout, this, [&] {
            if (errorOf([&] { session.get(server.url(u"/inner"_s)); }).kind()
                == Reqivo::Error::Kind::Reqivo)
                ++refusals;
        });
        timer.start();
        QCOMPARE(session.get(server.url(u"/slow"_s)).body(), QByteArray("outer"));
        timer.stop();
        QVERIFY2(refusals >= 5, qPrintable(QString::number(refusals)));
        QCOMPARE(server.requestCount(), qsizetype(1));
    }

    // docs/threading.md: a Session belongs to the thread that created it. Used from another
    // thread it is refused at once with a ReqivoError naming the rule, before anything is sent
    // (not a hang, nor Qt's warnings about timers and sockets of another thread).
    void sessionUsedFromAnotherThreadIsRefused_data()
    {
        QTest::addColumn<QString>("how");
        QTest::newRow("created here, used in a std::thread") << u"from a std::thread"_s;
        QTest::newRow("created in a std::thread that ended, used here") << u"here"_s;
        QTest::newRow("async() moved to another thread, used here") << u"moved"_s;
    }
    void sessionUsedFromAnotherThreadIsRefused()
    {
        QFETCH(QString, how);
        ThreadedServer server(answerWithWhere);
        std::unique_ptr<Session> session;
        QThread elsewhere;
        if (how == u"here"_s)
            std::thread([&] { session = std::make_unique<Session>(); }).join();
        else
            session = std::make_unique<Session>();
        QThread *const here = thread();
        const auto moveBack = [&] {
            if (!elsewhere.isRunning())
                return;
            QMetaObject::invokeMethod(
                &session->async(), [&] { session->async().moveToThread(here); },
                Qt::BlockingQueuedConnection);
            elsewhere.quit();
            elsewhere.wait();
        };
        const auto moveBackOnFailure = qScopeGuard(moveBack);
        if (how == u"moved"_s) {
            elsewhere.start();
            session->async().moveToThread(&elsewhere);
        }
        Reqivo::Timeout timeout;
        timeout.total = 5s; // before the fix the call hung; fail instead of waiting for ever
        const auto call = [&] {
            return attempt(
                [&] { return session->get(server.url(), RequestOptions().withTimeout(timeout)); });
        };
        Outcome o;
        if (how == u"from a std::thread"_s)
            std::thread([&] { o = call(); }).join();
        else
            o = call();
        EXPECT_ERROR(o, "ReqivoError");
        QVERIFY2(o.error.message().contains(u"Reqivo::Session::request()"_s),
            qPrintable(o.error.message()));
        QVERIFY2(o.error.message().contains(u"thread"_s), qPrintable(o.error.message()));
        QCOMPARE(server.connectionCount(), 0);
        moveBack();
        // In its own thread the same Session works.
        if (how == u"from a std::thread"_s || how == u"moved"_s) {
            const Outcome ok = attempt([&] { return session->get(server.url()); });
            EXPECT_OK(ok);
        }
    }

    // docs/threading.md: a slot may "delete the object that made the call". The call then ends
    // with the RequestError every request of a destroyed session gets — no crash, no leak
    // (under ASan).
    void sessionDestroyedFromASlotDuringItsCall()
    {
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &) {
            c.writeLater(httpResponse(200, "late"), 600ms);
        });
        auto *session = new Session;
        QTimer::singleShot(100ms, this, [&session] {
            delete session;
            session = nullptr;
        });
        const Outcome o = attempt([&] { return session->get(server.url()); });
        QVERIFY(session == nullptr);
        EXPECT_ERROR(o, "RequestError");
        QVERIFY2(o.took < 550ms, qPrintable(u"took %1 ms"_s.arg(o.took.count())));
        QVERIFY(waitUntil([&] { return server.openConnections() == 0; }));
    }
};

QTEST_GUILESS_MAIN(TestSyncThreads)
#include "tst_sync_threads.moc"
