// HTTP/2 faults and features through co_await, against h2peer.py (tests/support), a scripted
// server for exact frames: GOAWAY mid-flight, REFUSED_STREAM, RST_STREAM, a stream limit of one,
// a window that never opens, CONTINUATION/PING/SETTINGS floods, bad HPACK, DATA beyond the
// window, a server that stops answering PING; and what every request needs over HTTP/2 as over
// HTTP/1.1: timeouts, aborts in every phase, cookies, hooks, credentials, trailers, progress.
#include "integration/session/sessiontest.h"
#include "support/h2peer.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Body>
#include <Reqivo/Reply>
#include <Reqivo/WhenAll>
#include <Reqivo/asyncconnectionpool.h>

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QJsonObject>

#include <QCoro/QCoroSignal>

#include <sys/resource.h>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::HttpVersion;
using Reqivo::RequestOptions;
using Reqivo::Response;
using ReqivoTest::H2Peer;

#if defined(__SANITIZE_ADDRESS__)
#define REQIVO_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REQIVO_TEST_ASAN 1
#endif
#endif

namespace {

#ifdef REQIVO_TEST_ASAN
constexpr bool underAsan = true; // freed memory sits in quarantine: RSS says nothing
#else
constexpr bool underAsan = false;
#endif

// A session that speaks HTTP/2 to the cleartext peer at once.
std::unique_ptr<AsyncSession> h2Session()
{
    auto session = std::make_unique<AsyncSession>();
    session->setHttpVersion(HttpVersion::Http2PriorKnowledge);
    return session;
}

int connectionOf(const Response &r)
{
    return r.header("x-connection").toInt();
}

qint64 peakRss()
{
    rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    return qint64(usage.ru_maxrss) * 1024;
}

// A body of \a count copies of \a block, yielded one by one.
Body::Generator repeated(QByteArray block, int count)
{
    for (int i = 0; i < count; ++i)
        co_yield QByteArray(block);
}

Reqivo::Timeout shortTimeouts(std::chrono::milliseconds each)
{
    Reqivo::Timeout t = Reqivo::Timeout::all(5s);
    t.read = each;
    t.write = each;
    t.poolAcquire = each;
    return t;
}

} // namespace

class TestHttp2Faults : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void goAwayRetriesTheStreamsItNeverProcessed()
    {
        H2Peer peer;
        START_H2_PEER(peer, u"goaway"_s);
        RUN_CORO([&peer]() -> QCoro::Task<void> {
            const auto session = h2Session();
            // The first request is answered on connection 1; the next ones, sent while it runs,
            // get GOAWAY(last-stream-id = the first) and must go to a new connection — a POST
            // included, since the server says it never processed them.
            std::vector<QCoro::Task<Response>> tasks;
            tasks.push_back(session->get(peer.url(u"/slow/300"_s)));
            // The first stream is open before the others.
            CO_VERIFY(co_await waitUntil([&] { return peer.log().contains("GET /slow/300"); }));
            tasks.push_back(session->get(peer.url(u"/second"_s)));
            tasks.push_back(session->post(peer.url(u"/third"_s), Body::fromText(u"payload"_s)));
            const std::vector<Response> rs = co_await Reqivo::whenAll(std::move(tasks));
            CO_COMPARE(rs.at(0).body(), QByteArray("hello /slow/300"));
            CO_COMPARE(connectionOf(rs.at(0)), 1);
            CO_COMPARE(rs.at(1).body(), QByteArray("hello /second"));
            CO_COMPARE(connectionOf(rs.at(1)), 2);
            CO_COMPARE(rs.at(2).status(), 200);
            CO_COMPARE(rs.at(2).header("x-received-bytes"), QByteArray("7"));
            CO_COMPARE(connectionOf(rs.at(2)), 2);
        }());
    }

    void refusedStreamIsRetried_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::newRow("GET") << QByteArray("GET");
        QTest::newRow("POST, not idempotent") << QByteArray("POST");
    }
    void refusedStreamIsRetried()
    {
        H2Peer peer;
        START_H2_PEER(peer, u"refuse"_s);
        RUN_CORO([&peer]() -> QCoro::Task<void> {
            QFETCH(QByteArray, method);
            const auto session = h2Session();
            RequestOptions opts;
            if (method == "POST")
                opts.withBody(Body::fromText(u"x"_s));
            const Outcome o = co_await attempt(session->request(method, peer.url(u"/once"_s), opts));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.httpVersion(), u"2"_s);
            // Refused every time: a clear error after a bounded number of attempts.
            const Outcome always = co_await attempt(
                    session->request(method, peer.url(u"/refuse-always/x"_s), opts));
            CO_EXPECT_ERROR(always, "NetworkError");
            CO_COMPARE(always.error.detail(), u"REFUSED_STREAM"_s);
            // One refusal of /once, then 1 + 3 attempts of /refuse-always/x.
            CO_COMPARE(peer.log().count(" refused\n"), 5);
        }());
    }

    void resetStreamEndsThatRequestOnly_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<bool>("stream");
        QTest::newRow("before headers") << u"/reset-early"_s << false;
        QTest::newRow("after headers") << u"/reset"_s << false;
        QTest::newRow("inside the body, buffered") << u"/reset-body"_s << false;
        QTest::newRow("inside the body, streamed") << u"/reset-body"_s << true;
    }
    void resetStreamEndsThatRequestOnly()
    {
        H2Peer peer;
        START_H2_PEER(peer, u"reset"_s);
        RUN_CORO([&peer]() -> QCoro::Task<void> {
            QFETCH(QString, path);
            QFETCH(bool, stream);
            const auto session = h2Session();
            const Outcome first = co_await attempt(session->get(peer.url(u"/first"_s)));
            CO_EXPECT_OK(first);
            Outcome o;
            if (stream) {
                o = co_await attempt(session->get(peer.url(path), RequestOptions().streaming()));
                CO_EXPECT_OK(o);
                const BytesOutcome body = co_await attemptBytes(o.response.readAll());
                CO_VERIFY(!body.ok());
                o.error = body.error;
            } else {
                o = co_await attempt(session->get(peer.url(path)));
            }
            CO_EXPECT_ERROR(o, "ProtocolError");
            CO_COMPARE(o.error.detail(), u"RST_STREAM INTERNAL_ERROR"_s);
            // The connection carries on.
            const Outcome after = co_await attempt(session->get(peer.url(u"/after"_s)));
            CO_EXPECT_OK(after);
            CO_COMPARE(connectionOf(after.response), 1);
            CO_VERIFY(after.response.connectionReused());
        }());
    }

    void streamLimitOfOneQueuesRequests()
    {
        H2Peer peer;
        START_H2_PEER(peer, u"maxstreams1"_s);
        RUN_CORO([&peer]() -> QCoro::Task<void> {
            const auto session = h2Session();
            // One request first, so that the server's SETTINGS are known.
            CO_EXPECT_OK(co_await attempt(session->get(peer.url(u"/first"_s))));
            std::vector<QCoro::Task<Response>> tasks;
            for (int i = 0; i < 6; ++i)
                tasks.push_back(session->get(peer.url(u"/slow/20"_s)));
            const std::vector<Response> rs = co_await Reqivo::whenAll(std::move(tasks));
            for (const Response &r : rs) {
                CO_COMPARE(r.status(), 200);
                CO_COMPARE(r.header("x-max-concurrent"), QByteArray("1"));
                CO_COMPARE(connectionOf(r), 1); // queued, not a second connection
            }
            CO_COMPARE(session->pool()->totalCount(), 1);
        }());
    }

    void aQueuedRequestWaitsAtMostPoolAcquire()
    {
        H2Peer peer;
        START_H2_PEER(peer, u"maxstreams1"_s);
        RUN_CORO([&peer]() -> QCoro::Task<void> {
            const auto session = h2Session();
            CO_EXPECT_OK(co_await attempt(session->get(peer.url(u"/first"_s))));
            auto holder = session->get(peer.url(u"/slow/3000"_s));
            // The only stream is taken.
            CO_VERIFY(co_await waitUntil([&] { return peer.log().contains("GET /slow/3000"); }));
            Reqivo::Timeout t = Reqivo::Timeout::all(10s);
            t.poolAcquire = 200ms;
            const Outcome queued = co_await attempt(
                    session->get(peer.url(u"/queued"_s), RequestOptions().withTimeout(t)));
            CO_EXPECT_ERROR(queued, "PoolTimeout");
            CO_VERIFY2(queued.took < 2s, qPrintable(QString::number(queued.took.count())));
            const Outcome held = co_await attempt(std::move(holder));
            CO_EXPECT_OK(held);
        }());
    }

    void aWindowThatNeverOpensIsAWriteTimeout()
    {
        H2Peer peer;
        START_H2_PEER(peer, u"nowindow"_s);
        RUN_CORO([&peer]() -> QCoro::Task<void> {
            const auto session = h2Session();
            CO_EXPECT_OK(co_await attempt(session->get(peer.url(u"/first"_s))));
            const QByteArray big(1024 * 1024, 'b');
            // The task is made outside the co_await expression: GCC 12 destroys temporaries
            // made inside one twice (here: the Body, whose bytes it would free too early).
            const Body body = Body::fromGenerator([big] { return repeated(big, 4); });
            const RequestOptions opts = RequestOptions().withTimeout(shortTimeouts(300ms));
            auto task = session->post(peer.url(u"/upload"_s), body, opts);
            const Outcome o = co_await attempt(std::move(task));
            CO_EXPECT_ERROR(o, "WriteTimeout");
        }());
    }

    void protocolViolationsEndTheConnection_data()
    {
        QTest::addColumn<QString>("scenario");
        QTest::newRow("CONTINUATION flood") << u"continuation-flood"_s;
        QTest::newRow("PING flood") << u"ping-flood"_s;
        QTest::newRow("SETTINGS flood") << u"settings-flood"_s;
        QTest::newRow("bad HPACK") << u"bad-hpack"_s;
    }
    void protocolViolationsEndTheConnection()
    {
        QFETCH(QString, scenario);
        H2Peer peer;
        START_H2_PEER(peer, scenario);
        RUN_CORO([&peer]() -> QCoro::Task<void> {
            const auto session = h2Session();
            const qint64 before = peakRss();
            // The peer misbehaves as soon as the first request arrives.
            const Outcome o = co_await attempt(session->get(peer.url(u"/first"_s)));
            // A ProtocolError for the connection; for a CONTINUATION flood the stream may
            // fail first with its subclass InvalidResponseError (its header section passed
            // Limits::maxHeaderBytes) before the connection ends.
            CO_VERIFY2(!o.ok() && o.error.isA(Reqivo::Error::Kind::Protocol),
                       qPrintable(o.describe()));
            // The peer sends up to 64 MiB of flood; the client must have stopped long before.
            if (!underAsan)
                CO_VERIFY2(peakRss() - before < 32 * 1024 * 1024,
                           qPrintable(u"peak RSS grew by %1 bytes"_s.arg(peakRss() - before)));
            // The connection is gone: nothing is left of it in the pool.
            CO_VERIFY(co_await waitUntil([&] { return session->pool()->totalCount() == 0; }));
        }());
    }

    void dataBeyondTheWindowOfAnUnreadStream()
    {
        H2Peer peer;
        START_H2_PEER(peer, u"data-beyond-window"_s);
        RUN_CORO([&peer]() -> QCoro::Task<void> {
            const auto session = h2Session();
            const Outcome head = co_await attempt(
                    session->get(peer.url(u"/first"_s), RequestOptions().streaming()));
            CO_EXPECT_OK(head);
            // Nothing is read, so nothing of the stream's window is given back: the excess is a
            // flow-control violation, and the stream (or the connection) ends.
            CO_VERIFY(co_await waitUntil([&] { return session->pool()->totalCount() == 0; }));
            Response response = head.response;
            const BytesOutcome body = co_await attemptBytes(response.readAll());
            CO_VERIFY(!body.ok());
            CO_VERIFY2(body.error.isA(Reqivo::Error::Kind::Protocol),
                       qPrintable(body.error.toString()));
        }());
    }

    void silentPeerFailsThePingBeforeReuse()
    {
        H2Peer peer;
        START_H2_PEER(peer, u"silent-ping"_s);
        RUN_CORO([&peer]() -> QCoro::Task<void> {
            const auto session = h2Session();
            Reqivo::PoolOptions options;
            options.http2PingAfterIdle = 0ms; // check before every reuse of an idle connection
            options.http2PingTimeout = 300ms;
            session->pool()->setOptions(options);
            const Outcome first = co_await attempt(session->get(peer.url(u"/first"_s)));
            CO_EXPECT_OK(first);
            CO_COMPARE(connectionOf(first.response), 1);
            const Outcome second = co_await attempt(session->get(peer.url(u"/second"_s)));
            CO_EXPECT_OK(second);
            CO_COMPARE(connectionOf(second.response), 2); // connection 1 never answered
            CO_VERIFY(second.took >= 250ms);
        }());
    }

    void aLivePeerPassesThePing()
    {
        H2Peer peer;
        START_H2_PEER(peer, u"ok"_s);
        RUN_CORO([&peer]() -> QCoro::Task<void> {
            const auto session = h2Session();
            Reqivo::PoolOptions options;
            options.http2PingAfterIdle = 0ms;
            session->pool()->setOptions(options);
            for (int i = 0; i < 3; ++i) {
                const Outcome o = co_await attempt(session->get(peer.url(u"/again"_s)));
                CO_EXPECT_OK(o);
                CO_COMPARE(connectionOf(o.response), 1);
            }
            CO_VERIFY2(peer.log().count("PING") >= 2, peer.log().constData());
        }());
    }

    void readTimeoutEndsTheStreamNotTheConnection()
    {
        H2Peer peer;
        START_H2_PEER(peer, u"ok"_s);
        RUN_CORO([&peer]() -> QCoro::Task<void> {
            const auto session = h2Session();
            const Outcome o = co_await attempt(session->get(
                    peer.url(u"/hang"_s), RequestOptions().withTimeout(shortTimeouts(200ms))));
            CO_EXPECT_ERROR(o, "ReadTimeout");
            const Outcome body = co_await attempt(session->get(
                    peer.url(u"/hang-body"_s), RequestOptions().withTimeout(shortTimeouts(200ms))));
            CO_EXPECT_ERROR(body, "ReadTimeout");
            const Outcome after = co_await attempt(session->get(peer.url(u"/after"_s)));
            CO_EXPECT_OK(after);
            CO_COMPARE(connectionOf(after.response), 1);
            // A total deadline is the same error class, naming the deadline.
            Reqivo::Timeout total = Reqivo::Timeout::all(5s).withTotal(200ms);
            const Outcome late = co_await attempt(
                    session->get(peer.url(u"/hang"_s), RequestOptions().withTimeout(total)));
            CO_EXPECT_ERROR(late, "TimeoutError");
            CO_COMPARE(late.error.detail(), u"total"_s);
        }());
    }

    void anUnreadStreamIsClosedAfterStreamIdle()
    {
        H2Peer peer;
        START_H2_PEER(peer, u"ok"_s);
        RUN_CORO([&peer]() -> QCoro::Task<void> {
            const auto session = h2Session();
            Reqivo::Timeout t = Reqivo::Timeout::all(5s);
            t.streamIdle = 200ms;
            const RequestOptions opts = RequestOptions().streaming().withTimeout(t);
            auto getting = session->get(peer.url(u"/large/8000000"_s), opts);
            const Outcome o = co_await attempt(std::move(getting));
            CO_EXPECT_OK(o);
            Response r = o.response;
            CO_VERIFY(!(co_await r.readChunk()).isEmpty());
            // Nobody reads: the stream is reset (RST_STREAM CANCEL), the connection stays.
            CO_VERIFY(co_await waitUntil([&] { return peer.log().contains("reset by the client"); }));
            const BytesOutcome late = co_await attemptBytes(r.readChunk());
            CO_VERIFY(!late.ok());
            CO_COMPARE(late.error.typeName(), u"ReadTimeout"_s);
            CO_COMPARE(late.error.detail(), u"stream idle"_s);
            const Outcome after = co_await attempt(session->get(peer.url(u"/after"_s)));
            CO_EXPECT_OK(after);
            CO_COMPARE(connectionOf(after.response), 1);
        }());
    }

    void abortInEveryPhase_data()
    {
        QTest::addColumn<QString>("phase");
        QTest::newRow("waiting for the head") << u"head"_s;
        QTest::newRow("reading the body") << u"body"_s;
        QTest::newRow("queued for a stream") << u"queued"_s;
        QTest::newRow("sending the body") << u"upload"_s;
    }
    void abortInEveryPhase()
    {
        QFETCH(QString, phase);
        H2Peer peer;
        START_H2_PEER(peer, phase == u"queued"_s ? u"maxstreams1"_s
                                                 : phase == u"upload"_s ? u"nowindow"_s
                                                                        : u"ok"_s);
        RUN_CORO([&peer, phase]() -> QCoro::Task<void> {
            const auto session = h2Session();
            CO_EXPECT_OK(co_await attempt(session->get(peer.url(u"/first"_s))));
            std::optional<QCoro::Task<Response>> holder;
            if (phase == u"queued"_s) {
                holder = session->get(peer.url(u"/hang"_s));
                CO_VERIFY(co_await waitUntil([&] { return peer.log().contains("GET /hang"); }));
            }
            RequestOptions opts;
            QUrl url = peer.url(u"/hang"_s);
            if (phase == u"body"_s)
                url = peer.url(u"/hang-body"_s);
            if (phase == u"upload"_s) {
                const QByteArray big(1024 * 1024, 'b');
                opts.withBody(Body::fromGenerator([big] { return repeated(big, 4); }));
            }
            const QByteArray method = phase == u"upload"_s ? "POST" : "GET";
            Reqivo::Reply *reply = session->send(method, url, opts);
            if (phase != u"queued"_s) {
                // The request is at the server: the stream is open, waiting in its phase.
                const QByteArray line = method + ' ' + url.path().toLatin1() + ' ';
                CO_VERIFY(co_await waitUntil([&] { return peer.log().contains(line); }));
            }
            QElapsedTimer timer;
            timer.start();
            reply->abort();
            if (!reply->isFinished())
                co_await qCoro(reply, &Reqivo::Reply::finished);
            CO_VERIFY(timer.elapsed() < 1000);
            CO_VERIFY2(reply->error().detail() == u"aborted"_s,
                       qPrintable(reply->error().toString()));
            delete reply;
            // Only the stream ended: the connection serves the next request.
            if (phase != u"queued"_s) {
                const Outcome after = co_await attempt(session->get(peer.url(u"/after"_s)));
                CO_EXPECT_OK(after);
                CO_COMPARE(connectionOf(after.response), 1);
            }
        }());
    }

    void featuresWorkAsOverHttp11()
    {
        H2Peer peer;
        START_H2_PEER(peer, u"ok"_s);
        RUN_CORO([&peer]() -> QCoro::Task<void> {
            const auto session = h2Session();
            // Cookies from the jar.
            CO_EXPECT_OK(co_await attempt(session->get(peer.url(u"/set-cookie?flavour=oat"_s))));
            const Outcome cookie = co_await attempt(session->get(peer.url(u"/cookie"_s)));
            CO_EXPECT_OK(cookie);
            CO_COMPARE(cookie.response.body(), QByteArray("flavour=oat"));
            // Hooks and credentials: the fields arrive (lower case, no Host: :authority).
            session->addRequestHook([](Reqivo::PreparedRequest &r) {
                r.headers.set("x-hooked", "yes");
            });
            session->setBearerToken(u"t0ken"_s);
            const Outcome fields = co_await attempt(session->get(peer.url(u"/headers"_s)));
            CO_EXPECT_OK(fields);
            const QJsonObject json = QJsonDocument::fromJson(fields.response.body()).object();
            CO_COMPARE(json.value(u"x-hooked"_s).toString(), u"yes"_s);
            CO_COMPARE(json.value(u"authorization"_s).toString(), u"Bearer t0ken"_s);
            CO_COMPARE(json.value(u":authority"_s).toString(),
                       u"127.0.0.1:%1"_s.arg(peer.port()));
            CO_VERIFY(!json.contains(u"host"_s));
            CO_VERIFY(!json.contains(u"connection"_s));
            // Trailers end the body cleanly.
            const Outcome trailers = co_await attempt(session->get(peer.url(u"/trailers"_s)));
            CO_EXPECT_OK(trailers);
            CO_COMPARE(trailers.response.body(), QByteArray("hello /trailers"));
            // gzip.
            const Outcome gz = co_await attempt(session->get(peer.url(u"/gzip"_s)));
            CO_EXPECT_OK(gz);
            CO_COMPARE(gz.response.body(), QByteArray("hello /gzip").repeated(100));
            // A redirect on the same connection.
            const Outcome moved = co_await attempt(session->get(
                    peer.url(u"/redirect?to=/landed&status=301"_s)));
            CO_EXPECT_OK(moved);
            CO_COMPARE(moved.response.body(), QByteArray("hello /landed"));
            CO_COMPARE(moved.response.history().size(), 1);
            // Download progress, streamed.
            qint64 lastReceived = 0;
            qint64 lastTotal = 0;
            Reqivo::Reply *reply = session->send("GET", peer.url(u"/large/3000000"_s));
            QObject::connect(reply, &Reqivo::Reply::downloadProgress, reply,
                             [&](qint64 received, qint64 total) {
                                 lastReceived = received;
                                 lastTotal = total;
                             });
            co_await qCoro(reply, &Reqivo::Reply::finished);
            CO_VERIFY(reply->error().isNull());
            CO_COMPARE(reply->response().body().size(), qsizetype(3000000));
            CO_COMPARE(lastReceived, qint64(3000000));
            CO_COMPARE(lastTotal, qint64(3000000));
            delete reply;
            CO_COMPARE(session->pool()->totalCount(), 1);
        }());
    }

    void overTlsByAlpn()
    {
        H2Peer peer;
        START_H2_PEER_TLS(peer, u"count"_s);
        RUN_CORO([&peer]() -> QCoro::Task<void> {
            AsyncSession session;
            Reqivo::TlsOptions tls;
            CO_VERIFY(tls.addCaCertificatesFromFile(peer.caFile()));
            session.setTlsOptions(tls);
            std::vector<QCoro::Task<Response>> tasks;
            for (int i = 0; i < 8; ++i)
                tasks.push_back(session.get(peer.url(u"/slow/20"_s)));
            const std::vector<Response> rs = co_await Reqivo::whenAll(std::move(tasks));
            for (const Response &r : rs) {
                CO_COMPARE(r.httpVersion(), u"2"_s);
                CO_COMPARE(connectionOf(r), 1);
            }
        }());
    }
};

QTEST_GUILESS_MAIN(TestHttp2Faults)
#include "tst_http2_faults.moc"
