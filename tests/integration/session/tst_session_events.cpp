// The event listener and Response::timings() from the outside (docs/observability.md): the
// sequence of events a request goes through (fresh and reused connections, TLS, HTTP/2, a
// redirect, a failed connect, a cancelled request, a full pool), the timings' order and their
// zeros on reuse, and who is told (the session's listener, the request's, both). Nothing is
// timed: only the order of events and which timings are zero.
#include "faultserver.h"
#include "sessiontest.h"
#include "support/peers.h"
#include "unit/transport/testproxies.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Body>
#include <Reqivo/EventListener>
#include <Reqivo/Reply>
#include <Reqivo/RetryPolicy>
#include <Reqivo/Session>
#include <Reqivo/asyncconnectionpool.h>

#include <QNetworkProxy>
#include <QSignalSpy>
#include <QTcpServer>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::EventListener;
using Reqivo::RequestEvent;
using Reqivo::RequestOptions;
using Reqivo::Response;
using Reqivo::Timings;
using Type = Reqivo::RequestEvent::Type;

namespace {

//! Keeps every event it is told of.
class Recorder : public EventListener
{
public:
    void onEvent(const RequestEvent &event) override { events.append(event); }

    //! The types of the events of \a callId (all calls for 0), in order.
    QStringList types(quint64 callId = 0) const
    {
        QStringList out;
        for (const RequestEvent &e : events) {
            if (callId == 0 || e.callId == callId)
                out << e.typeName();
        }
        return out;
    }
    //! The first event of \a type of \a callId (all calls for 0); a CallStart-typed default
    //! when none.
    RequestEvent first(Type type, quint64 callId = 0) const
    {
        for (const RequestEvent &e : events) {
            if (e.type == type && (callId == 0 || e.callId == callId))
                return e;
        }
        return {};
    }
    int indexOf(Type type, quint64 callId) const
    {
        for (qsizetype i = 0; i < events.size(); ++i) {
            if (events[i].type == type && events[i].callId == callId)
                return int(i);
        }
        return -1;
    }
    QList<quint64> callIds() const
    {
        QList<quint64> ids;
        for (const RequestEvent &e : events) {
            if (!ids.contains(e.callId))
                ids << e.callId;
        }
        return ids;
    }

    QList<RequestEvent> events;
};

FaultServer::Handler answer(QByteArray body = "ok")
{
    return
        [body](ServerConnection &c, const ReceivedRequest &) { c.write(httpResponse(200, body)); };
}

QStringList names(std::initializer_list<Type> types)
{
    QStringList out;
    for (Type t : types)
        out << RequestEvent::typeName(t);
    return out;
}

QHash<QString, QString> nginxEnv()
{
    return ReqivoTest::loadPeerEnv(u"nginx"_s);
}

Reqivo::TlsOptions trustNginx(const QHash<QString, QString> &nginx)
{
    Reqivo::TlsOptions tls;
    QString error;
    tls.addCaCertificatesFromFile(ReqivoTest::peerValue(nginx, u"NGINX_CA_FILE"_s), &error);
    return tls;
}

//! "dns ≤ connect ≤ tls ≤ ttfb ≤ total over the phases that happened", as a failure message
//! (empty when it holds).
QString orderProblem(const Timings &t)
{
    std::chrono::microseconds last {0};
    const std::pair<const char *, std::chrono::microseconds> phases[] = {{"queue", t.queue},
        {"dns", t.dns}, {"connect", t.connect}, {"proxyTunnel", t.proxyTunnel}, {"tls", t.tls},
        {"requestSent", t.requestSent}, {"ttfb", t.ttfb}, {"total", t.total}};
    for (const auto &[name, value] : phases) {
        if (value.count() == 0)
            continue;
        if (value < last)
            return u"%1 (%2 us) is before an earlier phase (%3 us)"_s.arg(QLatin1StringView(name))
                .arg(value.count())
                .arg(last.count());
        last = value;
    }
    return {};
}

} // namespace

class TestSessionEvents : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // A fresh HTTP/1.1 connection, then the same request over it again.
    void freshThenReused()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answer("hello"));
            AsyncSession session;
            const auto recorder = std::make_shared<Recorder>();
            session.setEventListener(recorder);
            CO_COMPARE(session.eventListener(), std::static_pointer_cast<EventListener>(recorder));

            const Outcome first = co_await attempt(session.get(server.url(u"/one"_s)));
            CO_EXPECT_OK(first);
            const QStringList fresh = names({Type::CallStart, Type::PoolWaitStart,
                Type::PoolWaitEnd, Type::ConnectStart, Type::ConnectEnd, Type::ConnectionAcquired,
                Type::RequestHeadSent, Type::ResponseHeadReceived, Type::ResponseBodyEnd,
                Type::ConnectionReleased, Type::CallEnd});
            CO_COMPARE(recorder->types(), fresh);
            const quint64 id = recorder->events.first().callId;
            for (const RequestEvent &e : recorder->events) {
                CO_COMPARE(e.callId, id);
                CO_COMPARE(e.method, QByteArray("GET"));
                CO_COMPARE(e.url, server.url(u"/one"_s));
            }
            CO_COMPARE(recorder->first(Type::CallStart).attempt, 0);
            CO_COMPARE(recorder->first(Type::ConnectionAcquired).attempt, 1);
            CO_COMPARE(
                recorder->first(Type::ConnectStart).address, u"127.0.0.1:%1"_s.arg(server.port()));
            CO_COMPARE(
                recorder->first(Type::ConnectEnd).address, u"127.0.0.1:%1"_s.arg(server.port()));
            CO_COMPARE(recorder->first(Type::ConnectionAcquired).reused, false);
            CO_COMPARE(recorder->first(Type::ResponseHeadReceived).status, 200);
            CO_COMPARE(recorder->first(Type::ResponseHeadReceived).httpVersion, u"1.1"_s);
            CO_COMPARE(recorder->first(Type::ResponseBodyEnd).bytes, 5);
            CO_COMPARE(recorder->first(Type::ConnectionReleased).reused, true); // pooled
            // Details only on the events that name them.
            for (const RequestEvent &e : recorder->events) {
                const bool connect = e.type == Type::ConnectStart || e.type == Type::ConnectEnd;
                CO_COMPARE(e.address.isEmpty(), !connect);
                CO_COMPARE(e.status != 0, e.type == Type::ResponseHeadReceived);
                CO_COMPARE(e.bytes != -1, e.type == Type::ResponseBodyEnd);
                CO_COMPARE(e.httpVersion.isEmpty(), e.type != Type::ResponseHeadReceived);
                CO_VERIFY(e.error.isNull());
            }
            // Events come in time order.
            for (qsizetype i = 1; i < recorder->events.size(); ++i)
                CO_VERIFY(recorder->events[i - 1].time <= recorder->events[i].time);

            const Timings t1 = first.response.timings();
            CO_VERIFY(!t1.reusedConnection);
            CO_COMPARE(t1.dns.count(), 0); // an IP address literal
            CO_VERIFY(t1.connect.count() > 0);
            CO_COMPARE(t1.tls.count(), 0); // cleartext
            CO_COMPARE(t1.proxyTunnel.count(), 0);
            CO_VERIFY(t1.ttfb.count() > 0);
            CO_VERIFY(t1.total >= t1.ttfb);
            CO_VERIFY2(orderProblem(t1).isEmpty(), qPrintable(orderProblem(t1)));

            recorder->events.clear();
            const Outcome second = co_await attempt(session.get(server.url(u"/two"_s)));
            CO_EXPECT_OK(second);
            const QStringList reused
                = names({Type::CallStart, Type::PoolWaitStart, Type::PoolWaitEnd,
                    Type::ConnectionAcquired, Type::RequestHeadSent, Type::ResponseHeadReceived,
                    Type::ResponseBodyEnd, Type::ConnectionReleased, Type::CallEnd});
            CO_COMPARE(recorder->types(), reused);
            CO_VERIFY(recorder->events.first().callId != id);
            CO_COMPARE(recorder->first(Type::ConnectionAcquired).reused, true);
            const Timings t2 = second.response.timings();
            CO_VERIFY(t2.reusedConnection);
            CO_COMPARE(t2.dns.count(), 0);
            CO_COMPARE(t2.connect.count(), 0);
            CO_COMPARE(t2.tls.count(), 0);
            CO_VERIFY(t2.ttfb.count() > 0);
            CO_VERIFY(t2.total >= t2.ttfb);
            CO_VERIFY2(orderProblem(t2).isEmpty(), qPrintable(orderProblem(t2)));
        }());
    }

    // Timings are recorded without any listener too.
    void timingsWithoutListener()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answer());
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            const Timings t = o.response.timings();
            CO_VERIFY(!t.reusedConnection);
            CO_VERIFY(t.connect.count() > 0);
            CO_VERIFY(t.ttfb.count() > 0);
            CO_VERIFY(t.total >= t.ttfb);
            CO_VERIFY2(orderProblem(t).isEmpty(), qPrintable(orderProblem(t)));
        }());
    }

    // A request with a body tells of it; the request's listener and the session's are both
    // told, each once; a request without its own listener reaches the session's only.
    void requestAndSessionListeners()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answer());
            AsyncSession session;
            const auto sessionRecorder = std::make_shared<Recorder>();
            const auto requestRecorder = std::make_shared<Recorder>();
            session.setEventListener(sessionRecorder);
            const Reqivo::Body body = Reqivo::Body::fromBytes("12345");
            const RequestOptions options = RequestOptions().withEventListener(requestRecorder);
            const Outcome o = co_await attempt(session.post(server.url(), body, options));
            CO_EXPECT_OK(o);
            CO_COMPARE(requestRecorder->types(), sessionRecorder->types());
            CO_VERIFY(sessionRecorder->types().contains(u"RequestBodySent"_s));
            CO_COMPARE(sessionRecorder->first(Type::RequestBodySent).bytes, 5);
            CO_COMPARE(sessionRecorder->first(Type::CallStart).method, QByteArray("POST"));

            // The same listener as both: told once.
            sessionRecorder->events.clear();
            const Outcome same = co_await attempt(
                session.get(server.url(), RequestOptions().withEventListener(sessionRecorder)));
            CO_EXPECT_OK(same);
            CO_COMPARE(sessionRecorder->types().count(u"CallStart"_s), 1);

            // Only the session's.
            const qsizetype before = requestRecorder->events.size();
            CO_EXPECT_OK(co_await attempt(session.get(server.url())));
            CO_COMPARE(requestRecorder->events.size(), before);

            // Only the request's (EventListener::create()).
            session.setEventListener(nullptr);
            QStringList seen;
            const auto callback
                = EventListener::create([&seen](const RequestEvent &e) { seen << e.typeName(); });
            CO_EXPECT_OK(co_await attempt(
                session.get(server.url(), RequestOptions().withEventListener(callback))));
            CO_COMPARE(seen.first(), u"CallStart"_s);
            CO_COMPARE(seen.last(), u"CallEnd"_s);
        }());
    }

    // A listener that throws does not break the request: the exception is dropped.
    void throwingListener()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answer("fine"));
            AsyncSession session;
            int told = 0;
            session.setEventListener(EventListener::create([&told](const RequestEvent &) {
                ++told;
                throw std::runtime_error("listener failure");
            }));
            for (int i = 0; i < 11; ++i)
                QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"EventListener threw"_s));
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), QByteArray("fine"));
            CO_COMPARE(told, 11); // every event of a fresh plain request
        }());
    }

    // TLS: protocol and cipher told; ALPN too when offered (HTTP/2 allowed); nginx's h2 port.
    void tlsAndHttp2_data()
    {
        QTest::addColumn<bool>("http2");
        QTest::newRow("HTTP/1.1 over TLS") << false;
        QTest::newRow("HTTP/2") << true;
    }
    void tlsAndHttp2()
    {
        QFETCH(bool, http2);
        RUN_CORO([http2]() -> QCoro::Task<void> {
            const auto nginx = nginxEnv();
            AsyncSession session;
            session.setTlsOptions(trustNginx(nginx));
            session.setHttpVersion(
                http2 ? Reqivo::HttpVersion::Http2 : Reqivo::HttpVersion::Http1_1);
            const auto recorder = std::make_shared<Recorder>();
            session.setEventListener(recorder);
            const QUrl url = ReqivoTest::peerUrl(nginx, u"NGINX_H2_URL"_s, u"/small.txt"_s);

            const Outcome first = co_await attempt(session.get(url));
            CO_EXPECT_OK(first);
            const QStringList fresh
                = names({Type::CallStart, Type::PoolWaitStart, Type::PoolWaitEnd,
                    Type::ConnectStart, Type::ConnectEnd, Type::TlsStart, Type::TlsEnd,
                    Type::ConnectionAcquired, Type::RequestHeadSent, Type::ResponseHeadReceived,
                    Type::ResponseBodyEnd, Type::ConnectionReleased, Type::CallEnd});
            CO_COMPARE(recorder->types(), fresh);
            const RequestEvent tls = recorder->first(Type::TlsEnd);
            CO_VERIFY2(tls.tlsProtocol.startsWith(u"TLSv1."_s), qPrintable(tls.tlsProtocol));
            CO_VERIFY(!tls.tlsCipher.isEmpty());
            CO_COMPARE(tls.alpn, http2 ? QByteArray("h2") : QByteArray("http/1.1"));
            CO_COMPARE(
                recorder->first(Type::ResponseHeadReceived).httpVersion, http2 ? u"2"_s : u"1.1"_s);
            const Timings t1 = first.response.timings();
            CO_VERIFY(!t1.reusedConnection);
            CO_VERIFY(t1.connect.count() > 0);
            CO_VERIFY(t1.tls >= t1.connect);
            CO_VERIFY(t1.ttfb >= t1.tls);
            CO_VERIFY2(orderProblem(t1).isEmpty(), qPrintable(orderProblem(t1)));

            // The second request (HTTP/2: the second stream) reuses the connection.
            recorder->events.clear();
            const Outcome second = co_await attempt(session.get(url));
            CO_EXPECT_OK(second);
            const QStringList reused
                = names({Type::CallStart, Type::PoolWaitStart, Type::PoolWaitEnd,
                    Type::ConnectionAcquired, Type::RequestHeadSent, Type::ResponseHeadReceived,
                    Type::ResponseBodyEnd, Type::ConnectionReleased, Type::CallEnd});
            CO_COMPARE(recorder->types(), reused);
            CO_COMPARE(recorder->first(Type::ConnectionAcquired).reused, true);
            const Timings t2 = second.response.timings();
            CO_VERIFY(t2.reusedConnection);
            CO_COMPARE(t2.connect.count(), 0);
            CO_COMPARE(t2.tls.count(), 0);
            CO_VERIFY(t2.ttfb.count() > 0);
            CO_VERIFY(t2.total >= t2.ttfb);
        }());
    }

    // Through an HTTP proxy's CONNECT tunnel: connect (to the proxy), tunnel, then TLS with the
    // origin; the timings have the tunnel between connect and TLS.
    void proxyTunnel()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const auto nginx = nginxEnv();
            ReqivoTest::HttpConnectProxy proxy;
            CO_VERIFY(proxy.listen());
            AsyncSession session;
            session.setTlsOptions(trustNginx(nginx));
            session.setHttpVersion(Reqivo::HttpVersion::Http1_1);
            session.setProxy(QNetworkProxy(QNetworkProxy::HttpProxy, u"127.0.0.1"_s, proxy.port()));
            const auto recorder = std::make_shared<Recorder>();
            session.setEventListener(recorder);
            const QUrl url = ReqivoTest::peerUrl(nginx, u"NGINX_HTTPS_URL"_s, u"/small.txt"_s);
            const Outcome o = co_await attempt(session.get(url));
            CO_EXPECT_OK(o);
            CO_COMPARE(recorder->types().mid(0, 10),
                names({Type::CallStart, Type::PoolWaitStart, Type::PoolWaitEnd, Type::ConnectStart,
                    Type::ConnectEnd, Type::ProxyTunnelStart, Type::ProxyTunnelEnd, Type::TlsStart,
                    Type::TlsEnd, Type::ConnectionAcquired}));
            CO_COMPARE(
                recorder->first(Type::ConnectEnd).address, u"127.0.0.1:%1"_s.arg(proxy.port()));
            const Timings t = o.response.timings();
            CO_VERIFY(t.connect.count() > 0);
            CO_VERIFY(t.proxyTunnel >= t.connect);
            CO_VERIFY(t.tls >= t.proxyTunnel);
            CO_VERIFY2(orderProblem(t).isEmpty(), qPrintable(orderProblem(t)));
        }());
    }

    // A redirect: told with its target; the next hop's events carry its URL, attempts from 1.
    void redirect()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                if (r.target == "/from")
                    c.write(httpResponse(302, {}, "Location: /to\r\n", "Found"));
                else
                    c.write(httpResponse(200, "landed"));
            });
            AsyncSession session;
            const auto recorder = std::make_shared<Recorder>();
            session.setEventListener(recorder);
            const Outcome o = co_await attempt(session.get(server.url(u"/from"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), QByteArray("landed"));
            const RequestEvent redirect = recorder->first(Type::Redirect);
            CO_COMPARE(redirect.location, server.url(u"/to"_s));
            CO_COMPARE(redirect.url, server.url(u"/from"_s));
            const int at = recorder->indexOf(Type::Redirect, redirect.callId);
            CO_VERIFY(at > 0);
            const QStringList after = recorder->types().mid(at + 1);
            CO_COMPARE(after,
                names({Type::PoolWaitStart, Type::PoolWaitEnd, Type::ConnectionAcquired,
                    Type::RequestHeadSent, Type::ResponseHeadReceived, Type::ResponseBodyEnd,
                    Type::ConnectionReleased, Type::CallEnd}));
            for (qsizetype i = at + 1; i < recorder->events.size(); ++i) {
                CO_COMPARE(recorder->events[i].url, server.url(u"/to"_s));
                CO_COMPARE(recorder->events[i].attempt, 1);
            }
            // The final hop's timings: over the reused connection.
            CO_VERIFY(o.response.timings().reusedConnection);
        }());
    }

    // A retried 503: the retry decision between the two attempts, the second attempt numbered
    // 2; the timings are the final attempt's (over the reused connection).
    void retry()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            int served = 0;
            FaultServer server([&served](ServerConnection &c, const ReceivedRequest &) {
                c.write(++served == 1 ? httpResponse(503, "busy", {}, "Service Unavailable")
                                      : httpResponse(200, "ok"));
            });
            AsyncSession session;
            Reqivo::RetryPolicy policy = Reqivo::RetryPolicy::attempts(2);
            policy.baseDelay = 0ms;
            session.setRetryPolicy(policy);
            const auto recorder = std::make_shared<Recorder>();
            session.setEventListener(recorder);
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.attempts(), 2);
            const RequestEvent decision = recorder->first(Type::RetryDecision);
            CO_COMPARE(decision.retry, true);
            CO_COMPARE(decision.attempt, 1);
            CO_COMPARE(decision.reason, u"retryable"_s);
            const quint64 id = decision.callId;
            const int at = recorder->indexOf(Type::RetryDecision, id);
            CO_VERIFY(recorder->indexOf(Type::ResponseHeadReceived, id) < at);
            QList<int> headAttempts;
            for (const RequestEvent &e : recorder->events) {
                if (e.type == Type::ResponseHeadReceived)
                    headAttempts << e.attempt;
            }
            CO_COMPARE(headAttempts, QList<int>({1, 2}));
            const QStringList after = recorder->types().mid(at + 1);
            CO_COMPARE(after.first(), u"PoolWaitStart"_s);
            CO_COMPARE(after.last(), u"CallEnd"_s);
            CO_VERIFY(o.response.timings().reusedConnection);
            CO_COMPARE(o.response.timings().connect.count(), 0);
        }());
    }

    // A 401 answered (Digest) and the hop sent again: AuthChallenge with the status and scheme.
    void authChallenge()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                if (r.field("authorization").isEmpty())
                    c.write(httpResponse(401, {},
                        "WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\", "
                        "qop=\"auth\", algorithm=SHA-256\r\n",
                        "Unauthorized"));
                else
                    c.write(httpResponse(200, "in"));
            });
            AsyncSession session;
            session.setDigestAuth(u"user"_s, u"pass"_s);
            const auto recorder = std::make_shared<Recorder>();
            session.setEventListener(recorder);
            const Outcome o = co_await attempt(session.get(server.url(u"/private"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            const RequestEvent answered = recorder->first(Type::AuthChallenge);
            CO_COMPARE(answered.status, 401);
            CO_COMPARE(answered.scheme, QByteArray("Digest"));
            const quint64 id = answered.callId;
            CO_VERIFY(recorder->indexOf(Type::AuthChallenge, id) > 0);
            CO_COMPARE(recorder->types().count(u"RequestHeadSent"_s), 2);
            CO_COMPARE(recorder->types().last(), u"CallEnd"_s);
        }());
    }

    // A connect that fails ends the call with CallFailed, carrying the error.
    void failedConnect()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QTcpServer closed;
            CO_VERIFY(closed.listen(QHostAddress::LocalHost));
            const quint16 port = closed.serverPort();
            closed.close(); // nothing listens there now
            AsyncSession session;
            const auto recorder = std::make_shared<Recorder>();
            session.setEventListener(recorder);
            const Outcome o
                = co_await attempt(session.get(QUrl(u"http://127.0.0.1:%1/"_s.arg(port))));
            CO_VERIFY(!o.ok());
            CO_COMPARE(
                recorder->types(), names({Type::CallStart, Type::PoolWaitStart, Type::CallFailed}));
            const RequestEvent failed = recorder->first(Type::CallFailed);
            CO_COMPARE(failed.error, o.error);
            CO_VERIFY(failed.error.isA(Reqivo::Error::Kind::Network));
        }());
    }

    // A request cancelled (its owner destroyed) while it waits for the response: CallCancelled.
    void cancelled()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &, const ReceivedRequest &) { /* silence */ });
            AsyncSession session;
            const auto recorder = std::make_shared<Recorder>();
            session.setEventListener(recorder);
            auto owner = std::make_unique<QObject>();
            QCoro::Task<Response> task
                = session.get(server.url(), RequestOptions().cancelWith(owner.get()));
            CO_VERIFY(co_await waitUntil([&] { return server.requests().size() == 1; }));
            owner.reset();
            const Outcome o = co_await attempt(std::move(task));
            CO_VERIFY(!o.ok());
            const QStringList types = recorder->types();
            CO_COMPARE(types.last(), u"CallCancelled"_s);
            CO_VERIFY(!types.contains(u"CallFailed"_s));
            CO_VERIFY(types.contains(u"RequestHeadSent"_s));
            // The connection was closed, not pooled.
            CO_COMPARE(recorder->first(Type::ConnectionReleased).reused, false);
            CO_COMPARE(recorder->first(Type::CallCancelled).error, o.error);
        }());
    }

    // A full pool: the second request's wait ends only after the first let the connection go.
    void poolWaitWhenFull()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answer());
            AsyncSession session;
            Reqivo::PoolOptions options;
            options.maxPerHost = 1;
            session.pool()->setOptions(options);
            const auto recorder = std::make_shared<Recorder>();
            session.setEventListener(recorder);
            QCoro::Task<Response> a = session.get(server.url(u"/a"_s));
            QCoro::Task<Response> b = session.get(server.url(u"/b"_s));
            CO_EXPECT_OK(co_await attempt(std::move(a)));
            CO_EXPECT_OK(co_await attempt(std::move(b)));
            const QList<quint64> ids = recorder->callIds();
            CO_COMPARE(ids.size(), 2);
            const quint64 first = recorder->first(Type::ConnectionAcquired).callId;
            const quint64 second = ids[0] == first ? ids[1] : ids[0];
            // Both asked before either had a connection.
            CO_VERIFY(recorder->indexOf(Type::PoolWaitStart, second)
                < recorder->indexOf(Type::ConnectionAcquired, first));
            CO_VERIFY(recorder->indexOf(Type::ConnectionReleased, first)
                < recorder->indexOf(Type::PoolWaitEnd, second));
            CO_COMPARE(recorder->first(Type::ConnectionAcquired, second).reused, true);
            CO_COMPARE(server.connectionCount(), 1);
        }());
    }

    // A streamed body: total is zero until the body was read to its end, then set.
    void streamedTotal()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answer(QByteArray(1000, 'x')));
            AsyncSession session;
            const auto recorder = std::make_shared<Recorder>();
            session.setEventListener(recorder);
            const Outcome o
                = co_await attempt(session.get(server.url(), RequestOptions().streaming()));
            CO_EXPECT_OK(o);
            Response response = o.response;
            CO_VERIFY(response.timings().ttfb.count() > 0);
            CO_COMPARE(recorder->types().last(), u"CallEnd"_s);
            const QByteArray body = co_await response.readAll();
            CO_COMPARE(body.size(), 1000);
            const Timings t = response.timings();
            CO_VERIFY(t.total.count() > 0);
            CO_VERIFY(t.total >= t.ttfb);
            CO_COMPARE(recorder->types().mid(recorder->types().indexOf(u"CallEnd"_s) + 1),
                names({Type::ResponseBodyEnd, Type::ConnectionReleased}));
        }());
    }

    // Pool statistics after a known sequence: HTTP/1.1 (two requests over one connection, then
    // the idle one closed) and HTTP/2 (two streams on one connection).
    void poolStatistics()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answer());
            AsyncSession session;
            CO_VERIFY(session.pool()->statistics().isEmpty());
            CO_EXPECT_OK(co_await attempt(session.get(server.url(u"/1"_s))));
            CO_EXPECT_OK(co_await attempt(session.get(server.url(u"/2"_s))));
            QList<Reqivo::PoolOriginStatistics> stats = session.pool()->statistics();
            CO_COMPARE(stats.size(), 1);
            CO_COMPARE(stats[0].origin, u"http://127.0.0.1:%1"_s.arg(server.port()));
            CO_COMPARE(stats[0].idle, 1);
            CO_COMPARE(stats[0].active, 0);
            CO_COMPARE(stats[0].waiting, 0);
            CO_COMPARE(stats[0].http2, 0);
            CO_COMPARE(stats[0].opened, 1);
            CO_COMPARE(stats[0].reused, 1);
            CO_COMPARE(stats[0].closed, 0);
            session.closeIdleConnections();
            stats = session.pool()->statistics();
            CO_COMPARE(stats.size(), 1);
            CO_COMPARE(stats[0].idle, 0);
            CO_COMPARE(stats[0].opened, 1);
            CO_COMPARE(stats[0].closed, 1);

            const auto nginx = nginxEnv();
            AsyncSession h2;
            h2.setTlsOptions(trustNginx(nginx));
            const QUrl url = ReqivoTest::peerUrl(nginx, u"NGINX_H2_URL"_s, u"/small.txt"_s);
            const Outcome first = co_await attempt(h2.get(url));
            CO_EXPECT_OK(first);
            CO_COMPARE(first.response.httpVersion(), u"2"_s);
            CO_EXPECT_OK(co_await attempt(h2.get(url)));
            stats = h2.pool()->statistics();
            CO_COMPARE(stats.size(), 1);
            CO_VERIFY2(
                stats[0].origin.startsWith(u"https://127.0.0.1:"_s), qPrintable(stats[0].origin));
            CO_COMPARE(stats[0].http2, 1);
            CO_COMPARE(stats[0].active, 1);
            CO_COMPARE(stats[0].idle, 0);
            CO_COMPARE(stats[0].opened, 1);
            CO_COMPARE(stats[0].reused, 1);
            CO_COMPARE(stats[0].closed, 0);
        }());
    }

    // The blocking Session and a Reply see the same timings.
    void blockingAndReply()
    {
        FaultServer server(answer());
        {
            Reqivo::Session session;
            const auto recorder = std::make_shared<Recorder>();
            session.setEventListener(recorder);
            const Response r = session.get(server.url());
            QCOMPARE(r.status(), 200);
            QVERIFY(r.timings().connect.count() > 0);
            QVERIFY(r.timings().total >= r.timings().ttfb);
            QCOMPARE(recorder->types().first(), u"CallStart"_s);
            QCOMPARE(recorder->types().last(), u"CallEnd"_s);
        }
        AsyncSession session;
        const auto recorder = std::make_shared<Recorder>();
        Reqivo::Reply *reply
            = session.sendGet(server.url(), RequestOptions().withEventListener(recorder));
        QSignalSpy finished(reply, &Reqivo::Reply::finished);
        QVERIFY(finished.wait(10000));
        QCOMPARE(reply->response().status(), 200);
        QVERIFY(reply->response().timings().connect.count() > 0);
        QVERIFY(reply->response().timings().total >= reply->response().timings().ttfb);
        QCOMPARE(recorder->types().last(), u"CallEnd"_s);
        delete reply;
    }
};

QTEST_MAIN(TestSessionEvents)
#include "tst_session_events.moc"
