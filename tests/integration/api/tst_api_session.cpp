// The API's new shapes against real requests on loopback: whenAll() with N requests that the
// server sees open at once, a failure among them thrown only after the others finished,
// per-request credentials (RequestOptions::basicAuth/bearerToken/withoutAuth) with the session's
// rules (checked before sending, origin only across redirects), query items, and one DELETE name
// (deleteResource) on every class.
#include "integration/session/faultserver.h"
#include "integration/session/sessiontest.h"
#include "integration/sync/threadedserver.h"

#include <Reqivo/AsyncReqivo>
#include <Reqivo/AsyncSession>
#include <Reqivo/Reqivo>
#include <Reqivo/WhenAll>

#include <QPointer>

#include <functional>
#include <memory>
#include <vector>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::RequestOptions;
using Reqivo::Response;

Q_DECLARE_METATYPE(Reqivo::RequestOptions)

// --- the example of docs/coroutines.md ("N requests at once"), verbatim --------------------------
QCoro::Task<QList<QByteArray>> fetchAll(Reqivo::AsyncSession &session, QList<QUrl> urls)
{
    std::vector<QCoro::Task<Reqivo::Response>> tasks;
    for (const QUrl &url : urls)
        tasks.push_back(session.get(url)); // every request starts here, none is awaited yet
    const std::vector<Reqivo::Response> responses = co_await Reqivo::whenAll(std::move(tasks));
    QList<QByteArray> bodies;
    for (const Reqivo::Response &r : responses) // in the order of urls
        bodies.append(r.body());
    co_return bodies;
}
// -------------------------------------------------------------------------------------------------

namespace {

// Parks every request until \a n have arrived, then answers them all, last first, each with
// its own target as the body: only requests that are in flight together can be answered.
struct Rendezvous
{
    explicit Rendezvous(int n)
        : expected(n)
    {
    }
    void operator()(ServerConnection &c, const ReceivedRequest &r)
    {
        parked.append({QPointer<ServerConnection>(&c), r.target});
        if (parked.size() < expected)
            return;
        for (auto it = parked.crbegin(); it != parked.crend(); ++it) {
            if (it->first)
                it->first->write(httpResponse(200, it->second));
        }
        parked.clear();
    }
    int expected;
    QList<std::pair<QPointer<ServerConnection>, QByteArray>> parked;
};

// Answers every request with the Authorization field it carried ("-" when none).
void echoAuthorization(ServerConnection &c, const ReceivedRequest &r)
{
    c.write(httpResponse(200, r.hasField("authorization") ? r.field("authorization") : "-"));
}

QCoro::Task<Response> noting(QCoro::Task<Response> task, QStringList *log, QString name)
{
    try {
        Response r = co_await task;
        log->append(name + u" ok"_s);
        co_return r;
    } catch (...) {
        log->append(name + u" failed"_s);
        throw;
    }
}

} // namespace

class TestApiSession : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // N requests from one coroutine, all in flight at once: the server holds every answer until
    // the N-th request arrived (over its own connection), and answers last first; whenAll()
    // hands the responses back in request order.
    void whenAllRunsRequestsAtOnce_data()
    {
        QTest::addColumn<int>("n");
        QTest::newRow("2") << 2;
        QTest::newRow("5") << 5;
        QTest::newRow("10 (the pool's per-host cap)") << 10;
    }
    void whenAllRunsRequestsAtOnce()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(int, n);
            FaultServer server(Rendezvous {n});
            AsyncSession session;
            QList<QUrl> urls;
            QList<QByteArray> expected;
            for (int i = 0; i < n; ++i) {
                urls.append(server.url(u"/r%1"_s.arg(i)));
                expected.append("/r" + QByteArray::number(i));
            }
            const QList<QByteArray> bodies = co_await fetchAll(session, urls);
            CO_COMPARE(bodies, expected);
            CO_COMPARE(server.maxOpenConnections(), n);
            CO_COMPARE(server.connectionCount(), n);
            CO_COMPARE(server.requests().size(), qsizetype(n));
        }());
    }

    // More requests than the pool lets run at once (2 per host here): the rest wait for a
    // connection, and every result still comes back in order.
    void whenAllBeyondThePoolCap()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                c.write(httpResponse(200, r.target));
            });
            Reqivo::PoolOptions pool;
            pool.maxPerHost = 2;
            AsyncSession session;
            session.pool()->setOptions(pool);
            std::vector<QCoro::Task<Response>> tasks;
            QList<QByteArray> expected;
            for (int i = 0; i < 7; ++i) {
                tasks.push_back(session.get(server.url(u"/q%1"_s.arg(i))));
                expected.append("/q" + QByteArray::number(i));
            }
            const std::vector<Response> responses = co_await Reqivo::whenAll(std::move(tasks));
            QList<QByteArray> bodies;
            for (const Response &r : responses)
                bodies.append(r.body());
            CO_COMPARE(bodies, expected);
            CO_COMPARE(server.maxOpenConnections(), 2);
        }());
    }

    // The first request fails (a reset) before whenAll() is awaited; the others are answered only
    // from the event loop, i.e. once whenAll() has suspended. whenAll() must wait for them
    // instead of throwing at once, then throw the failure.
    void whenAllThrowsAfterTheOthersFinished()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QList<QPointer<ServerConnection>> parked;
            FaultServer server([&parked](ServerConnection &c, const ReceivedRequest &r) {
                if (r.target == "/bad")
                    c.reset();
                else
                    parked.append(&c);
            });
            AsyncSession session;
            QStringList log;
            std::vector<QCoro::Task<Response>> tasks;
            tasks.push_back(noting(session.get(server.url(u"/bad"_s)), &log, u"bad"_s));
            tasks.push_back(noting(session.get(server.url(u"/a"_s)), &log, u"a"_s));
            tasks.push_back(noting(session.get(server.url(u"/b"_s)), &log, u"b"_s));
            CO_VERIFY(co_await waitUntil([&] { return log.contains(u"bad failed"_s); }));
            CO_VERIFY(co_await waitUntil([&] { return parked.size() == 2; }));
            QMetaObject::invokeMethod(
                &server,
                [&parked] {
                    for (const QPointer<ServerConnection> &c : parked)
                        c->write(httpResponse(200, "fine"));
                },
                Qt::QueuedConnection);
            Reqivo::Error error;
            try {
                const std::vector<Response> all = co_await Reqivo::whenAll(std::move(tasks));
                Q_UNUSED(all);
            } catch (const Reqivo::NetworkError &e) {
                error = e.error();
                // The exception comes only after the other two finished (in either order).
                CO_COMPARE(log.size(), qsizetype(3));
                CO_COMPARE(log.value(0), u"bad failed"_s);
                CO_VERIFY(log.contains(u"a ok"_s));
                CO_VERIFY(log.contains(u"b ok"_s));
            }
            CO_VERIFY2(error.isA(Reqivo::Error::Kind::Network), qPrintable(error.toString()));
        }());
    }

    // --- per-request credentials ----------------------------------------------------------------
    void perRequestCredentials_data()
    {
        QTest::addColumn<int>("session"); // 0: none, 1: Bearer s3ss, 2: an invalid Bearer
        QTest::addColumn<RequestOptions>("options");
        QTest::addColumn<QByteArray>("sent");
        const QByteArray basic = "Basic " + QByteArray("ada:pw").toBase64();
        QTest::newRow("session none, request Basic")
            << 0 << RequestOptions().basicAuth(u"ada"_s, u"pw"_s) << basic;
        QTest::newRow("session Bearer, request Basic")
            << 1 << RequestOptions().basicAuth(u"ada"_s, u"pw"_s) << basic;
        QTest::newRow("session Bearer, request Bearer")
            << 1 << RequestOptions().bearerToken(u"r3q"_s) << QByteArray("Bearer r3q");
        QTest::newRow("session Bearer, request withoutAuth")
            << 1 << RequestOptions().withoutAuth() << QByteArray("-");
        QTest::newRow("session Bearer, request unset")
            << 1 << RequestOptions() << QByteArray("Bearer s3ss");
        QTest::newRow("session invalid, request Bearer")
            << 2 << RequestOptions().bearerToken(u"r3q"_s) << QByteArray("Bearer r3q");
        QTest::newRow("an Authorization field wins")
            << 1 << RequestOptions().bearerToken(u"r3q"_s).header("Authorization", "Custom x")
            << QByteArray("Custom x");
    }
    void perRequestCredentials()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(int, session);
            QFETCH(RequestOptions, options);
            QFETCH(QByteArray, sent);
            FaultServer server(echoAuthorization);
            AsyncSession s;
            if (session == 1)
                s.setBearerToken(u"s3ss"_s);
            else if (session == 2)
                s.setBearerToken(u"not a token68"_s);
            const Outcome o = co_await attempt(s.get(server.url(), options));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), sent);
        }());
    }

    // Bad per-request credentials fail the request before anything is sent, as the session's do.
    void invalidPerRequestCredentials_data()
    {
        QTest::addColumn<RequestOptions>("options");
        QTest::newRow("Basic user-id with a colon")
            << RequestOptions().basicAuth(u"a:b"_s, u"pw"_s);
        QTest::newRow("Basic control character") << RequestOptions().basicAuth(u"a"_s, u"p\nw"_s);
        QTest::newRow("Bearer not token68") << RequestOptions().bearerToken(u"a b"_s);
    }
    void invalidPerRequestCredentials()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(RequestOptions, options);
            FaultServer server(echoAuthorization);
            AsyncSession s;
            const Outcome o = co_await attempt(s.get(server.url(u"/secret"_s), options));
            CO_EXPECT_ERROR(o, "RequestError");
            CO_COMPARE(o.error.url(), server.url(u"/secret"_s));
            CO_COMPARE(server.connectionCount(), 0);
        }());
    }

    // Like the session's, a request's credentials go to its origin only: kept on a redirect to
    // the same origin, dropped on one to another.
    void perRequestCredentialsStayWithTheirOrigin()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer other(echoAuthorization);
            const QUrl elsewhere = other.url(u"/landing"_s);
            FaultServer origin([elsewhere](ServerConnection &c, const ReceivedRequest &r) {
                if (r.target == "/away")
                    c.write(httpResponse(302, {}, "Location: " + elsewhere.toEncoded() + "\r\n"));
                else if (r.target == "/here")
                    c.write(httpResponse(302, {}, "Location: /landing\r\n"));
                else
                    echoAuthorization(c, r);
            });
            AsyncSession s;
            const RequestOptions opts = RequestOptions().bearerToken(u"r3q"_s);
            const Outcome same = co_await attempt(s.get(origin.url(u"/here"_s), opts));
            CO_EXPECT_OK(same);
            CO_COMPARE(same.response.body(), QByteArray("Bearer r3q"));
            const Outcome away = co_await attempt(s.get(origin.url(u"/away"_s), opts));
            CO_EXPECT_OK(away);
            CO_COMPARE(away.response.url(), elsewhere);
            CO_COMPARE(away.response.body(), QByteArray("-"));
            CO_COMPARE(origin.requests().value(2).field("authorization"), QByteArray("Bearer r3q"));
        }());
    }

    // --- query items ----------------------------------------------------------------------------
    void queryItemsArriveAsGiven()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                c.write(httpResponse(200, r.target));
            });
            AsyncSession s;
            const RequestOptions opts = RequestOptions()
                                            .queryItem(u"q"_s, u"a+b & c=d"_s)
                                            .queryItem(u"page"_s, u"2"_s)
                                            .queryItem(u"page"_s, u"3"_s);
            const Outcome o = co_await attempt(s.get(server.url(u"/search?x=1"_s), opts));
            CO_EXPECT_OK(o);
            CO_COMPARE(
                o.response.body(), QByteArray("/search?x=1&q=a%2Bb%20%26%20c%3Dd&page=2&page=3"));
        }());
    }

    // --- one DELETE name ------------------------------------------------------------------------
    void deleteResourceEverywhere()
    {
        auto echoMethod = [](ServerConnection &c, const ReceivedRequest &r) {
            c.write(httpResponse(200, r.method + ' ' + r.target));
        };
        RUN_CORO([echoMethod]() -> QCoro::Task<void> {
            FaultServer server(echoMethod);
            AsyncSession session;
            const Outcome a = co_await attempt(session.deleteResource(server.url(u"/a"_s)));
            CO_EXPECT_OK(a);
            CO_COMPARE(a.response.body(), QByteArray("DELETE /a"));
            Reqivo::AsyncReqivo api(server.url());
            const Outcome b = co_await attempt(api.deleteResource(QUrl(u"/b"_s)));
            CO_EXPECT_OK(b);
            CO_COMPARE(b.response.body(), QByteArray("DELETE /b"));
            const Outcome c
                = co_await attempt(Reqivo::AsyncRequest::deleteResource(server.url(u"/c"_s)));
            CO_EXPECT_OK(c);
            CO_COMPARE(c.response.body(), QByteArray("DELETE /c"));
        }());
        // The blocking twins, against a server in its own thread.
        SyncTest::ThreadedServer server(echoMethod);
        Reqivo::Session session;
        QCOMPARE(session.deleteResource(server.url(u"/d"_s)).body(), QByteArray("DELETE /d"));
        Reqivo::Reqivo api(server.url());
        QCOMPARE(api.deleteResource(QUrl(u"/e"_s)).body(), QByteArray("DELETE /e"));
        QCOMPARE(
            Reqivo::Request::deleteResource(server.url(u"/f"_s)).body(), QByteArray("DELETE /f"));
    }
};

QTEST_GUILESS_MAIN(TestApiSession)
#include "tst_api_session.moc"
