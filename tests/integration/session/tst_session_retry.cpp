// The retry policy (retrypolicy.h) as a request sees it, against scripted servers: which
// statuses and failures are tried again and which never are (an unknown host, TLS, a response
// that had started, a POST without an Idempotency-Key, a body that cannot be replayed),
// Retry-After, maxRetryTime, the per-host budget, the total deadline and cancellation during a
// backoff, and attempts() on responses and errors; through co_await, a Reply, the blocking
// Session, and over HTTP/2. Delays are a few milliseconds, without jitter where counts matter;
// a backoff that must not run is a minute long, so that only the rule under test can end it.
#include "faultserver.h"
#include "sessiontest.h"
#include "support/h2peer.h"
#include "unit/transport/testresolver.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Body>
#include <Reqivo/Reply>
#include <Reqivo/Session>
#include <Reqivo/asyncconnectionpool.h>
#include <Reqivo/eventlistener.h>

#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <memory>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::Error;
using Reqivo::EventListener;
using Reqivo::Reply;
using Reqivo::RequestEvent;
using Reqivo::RequestOptions;
using Reqivo::Response;
using Reqivo::RetryAttempt;
using Reqivo::RetryDecision;
using Reqivo::RetryPolicy;
using Reqivo::Timeout;

namespace {

//! \a attempts tries, 1 ms apart, no jitter, no budget: only the rule under test limits them.
RetryPolicy quick(int attempts)
{
    RetryPolicy p = RetryPolicy::attempts(attempts);
    p.baseDelay = 1ms;
    p.factor = 1;
    p.jitter = false;
    p.budget.enabled = false;
    return p;
}

//! A backoff no test waits for: only a rule that skips or ends it lets the test finish.
RetryPolicy slow(int attempts)
{
    RetryPolicy p = quick(attempts);
    p.baseDelay = 60s;
    p.maxDelay = 60s;
    return p;
}

//! The first \a failures requests get \a failure (raw bytes), the rest 200 "fine".
FaultServer::Handler failFirst(int failures, QByteArray failure)
{
    auto count = std::make_shared<int>(0);
    return [count, failures, failure](ServerConnection &c, const ReceivedRequest &) {
        if ((*count)++ < failures)
            c.write(failure);
        else
            c.write(httpResponse(200, "fine"));
    };
}

//! A port on 127.0.0.1 that refuses connections (bound for a moment, then closed).
quint16 refusingPort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        qFatal("cannot listen on 127.0.0.1");
    return probe.serverPort();
}

Reqivo::Body::Generator onePiece()
{
    co_yield QByteArray("piece");
}

} // namespace

class TestSessionRetry : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Each default status is retried and the second attempt's response comes back; its body
    // is the one read (the first one's was dropped).
    void retryableStatus_data()
    {
        QTest::addColumn<int>("status");
        for (int status : {408, 429, 502, 503, 504})
            QTest::addRow("%d", status) << status;
    }
    void retryableStatus()
    {
        QFETCH(int, status);
        RUN_CORO([status]() -> QCoro::Task<void> {
            FaultServer server(failFirst(1, httpResponse(status, "busy")));
            AsyncSession session;
            session.setRetryPolicy(quick(3));
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.body(), QByteArray("fine"));
            CO_COMPARE(o.response.attempts(), 2);
            CO_COMPARE(server.requests().size(), 2);
        }());
    }

    // Without a policy nothing is retried and attempts() is 1; with one, a status it does not
    // list comes back at once; the last attempt's response comes back when all fail.
    void attemptsCounted()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                c.write(httpResponse(r.target == "/500" ? 500 : 503, r.target));
            });
            AsyncSession session;
            Outcome o = co_await attempt(session.get(server.url(u"/503"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 503);
            CO_COMPARE(o.response.attempts(), 1);

            session.setRetryPolicy(quick(3));
            CO_COMPARE(session.retryPolicy().maxAttempts, 3);
            o = co_await attempt(session.get(server.url(u"/500"_s)));
            CO_COMPARE(o.response.status(), 500);
            CO_COMPARE(o.response.attempts(), 1);

            o = co_await attempt(session.get(server.url(u"/503"_s)));
            CO_COMPARE(o.response.status(), 503);
            CO_COMPARE(o.response.body(), QByteArray("/503"));
            CO_COMPARE(o.response.attempts(), 3);
            CO_COMPARE(server.requests().size(), 1 + 1 + 3);

            // The request's own policy replaces the session's.
            o = co_await attempt(session.get(server.url(u"/503"_s),
                                             RequestOptions().withRetry(RetryPolicy::none())));
            CO_COMPARE(o.response.attempts(), 1);
            CO_COMPARE(server.requests().size(), 1 + 1 + 3 + 1);
        }());
    }

    // Retry-After replaces the backoff (a minute here): "0" and a date in the past (each of
    // RFC 9110's three formats) mean "now".
    void retryAfterReplacesBackoff_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::newRow("delta-seconds") << QByteArray("0");
        QTest::newRow("IMF-fixdate") << QByteArray("Sun, 06 Nov 1994 08:49:37 GMT");
        QTest::newRow("RFC 850") << QByteArray("Sunday, 06-Nov-94 08:49:37 GMT");
        QTest::newRow("asctime") << QByteArray("Sun Nov  6 08:49:37 1994");
    }
    void retryAfterReplacesBackoff()
    {
        QFETCH(QByteArray, value);
        RUN_CORO([value]() -> QCoro::Task<void> {
            FaultServer server(
                    failFirst(1, httpResponse(503, {}, "Retry-After: " + value + "\r\n")));
            AsyncSession session;
            session.setRetryPolicy(slow(2));
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.attempts(), 2);
        }());
    }

    // A Retry-After above maxRetryAfter: the response is returned at once, not retried.
    void retryAfterAboveMaximum()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(failFirst(1, httpResponse(429, "later", "Retry-After: 120\r\n")));
            AsyncSession session;
            RetryPolicy policy = quick(3);
            policy.maxRetryAfter = 60s;
            session.setRetryPolicy(policy);
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 429);
            CO_COMPARE(o.response.body(), QByteArray("later"));
            CO_COMPARE(o.response.attempts(), 1);
            CO_COMPARE(server.requests().size(), 1);
        }());
    }

    // A connection refused every time: each attempt is made, and the error says how many.
    void refusedConnection()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const quint16 port = refusingPort();
            AsyncSession session;
            session.setRetryPolicy(quick(3));
            const Outcome o = co_await attempt(
                    session.get(QUrl(u"http://127.0.0.1:%1/"_s.arg(port))));
            CO_EXPECT_ERROR(o, "NetworkError");
            CO_COMPARE(o.error.networkFailure(), Error::NetworkFailure::ConnectionRefused);
            CO_COMPARE(o.error.attempts(), 3);
            // Without a policy, errors count their one attempt too.
            AsyncSession plain;
            const Outcome once
                    = co_await attempt(plain.get(QUrl(u"http://127.0.0.1:%1/"_s.arg(port))));
            CO_EXPECT_ERROR(once, "NetworkError");
            CO_COMPARE(once.error.attempts(), 1);
        }());
    }

    // The connection closed or reset before any response byte: retried on a new connection.
    void droppedBeforeResponse_data()
    {
        QTest::addColumn<bool>("reset");
        QTest::newRow("closed") << false;
        QTest::newRow("reset") << true;
    }
    void droppedBeforeResponse()
    {
        QFETCH(bool, reset);
        RUN_CORO([reset]() -> QCoro::Task<void> {
            auto count = std::make_shared<int>(0);
            FaultServer server([count, reset](ServerConnection &c, const ReceivedRequest &) {
                if ((*count)++ > 0)
                    c.write(httpResponse(200, "fine"));
                else if (reset)
                    c.reset();
                else
                    c.close();
            });
            AsyncSession session;
            session.setRetryPolicy(quick(2));
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.attempts(), 2);
            CO_COMPARE(server.connectionCount(), 2);
            // Without a policy the same drop is the request's error (a new connection is not
            // resent by the stale-connection rule).
            *count = 0;
            AsyncSession plain;
            const Outcome once = co_await attempt(plain.get(server.url()));
            CO_EXPECT_ERROR(once, "NetworkError");
            CO_COMPARE(once.error.attempts(), 1);
            // Its code says what happened (Qt may see a reset as an end of stream).
            const Error::NetworkFailure failure = once.error.networkFailure();
            if (reset)
                CO_VERIFY2(failure == Error::NetworkFailure::ConnectionReset
                                   || failure == Error::NetworkFailure::ConnectionClosed,
                           qPrintable(once.error.toString()));
            else
                CO_COMPARE(failure, Error::NetworkFailure::ConnectionClosed);
        }());
    }

    // No byte within the read timeout: tried again; the second attempt is answered.
    void readTimeoutBeforeAnyByte()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            auto count = std::make_shared<int>(0);
            FaultServer server([count](ServerConnection &c, const ReceivedRequest &) {
                if ((*count)++ > 0)
                    c.write(httpResponse(200, "fine"));
                // the first request: silence
            });
            AsyncSession session;
            Timeout timeout;
            timeout.read = 500ms;
            session.setTimeout(timeout);
            session.setRetryPolicy(quick(2));
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.attempts(), 2);
        }());
    }

    // The head came, then the connection broke: the server may have acted, no retry.
    void responseStartedIsNotRetried()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..");
                c.close();
            });
            AsyncSession session;
            session.setRetryPolicy(quick(3));
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_ERROR(o, "NetworkError");
            CO_COMPARE(o.error.attempts(), 1);
            CO_COMPARE(server.requests().size(), 1);
        }());
    }

    // An unknown host is never retried (the name is answered inside this process, never by
    // DNS: testresolver.h).
    void unknownHostIsNotRetried()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            AsyncSession session;
            session.setRetryPolicy(quick(3));
            const Outcome o
                    = co_await attempt(session.get(QUrl(u"http://nowhere.unknown.reqivo.test/"_s)));
            CO_EXPECT_ERROR(o, "NetworkError");
            CO_COMPARE(o.error.networkFailure(), Error::NetworkFailure::HostNotFound);
            CO_COMPARE(o.error.attempts(), 1);
        }());
    }

    // A TLS handshake that fails (the server speaks no TLS) is never retried.
    void tlsFailureIsNotRetried()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QTcpServer plain;
            CO_VERIFY(plain.listen(QHostAddress::LocalHost, 0));
            int accepted = 0;
            connect(&plain, &QTcpServer::newConnection, &plain, [&plain, &accepted] {
                while (QTcpSocket *s = plain.nextPendingConnection()) {
                    ++accepted;
                    s->write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
                    s->disconnectFromHost();
                }
            });
            AsyncSession session;
            session.setRetryPolicy(quick(3));
            const Outcome o = co_await attempt(
                    session.get(QUrl(u"https://127.0.0.1:%1/"_s.arg(plain.serverPort()))));
            CO_EXPECT_ERROR(o, "TlsError");
            CO_COMPARE(o.error.networkFailure(), Error::NetworkFailure::TlsHandshake);
            CO_COMPARE(o.error.attempts(), 1);
            CO_COMPARE(accepted, 1);
        }());
    }

    // POST is not idempotent: not retried, unless it carries an Idempotency-Key or the policy
    // says retryNonIdempotent.
    void postNeedsIdempotencyKey_data()
    {
        QTest::addColumn<QByteArray>("key");
        QTest::addColumn<bool>("anyMethod");
        QTest::addColumn<int>("attempts");
        QTest::newRow("plain POST") << QByteArray() << false << 1;
        QTest::newRow("Idempotency-Key") << QByteArray("k-123") << false << 2;
        QTest::newRow("retryNonIdempotent") << QByteArray() << true << 2;
    }
    void postNeedsIdempotencyKey()
    {
        QFETCH(QByteArray, key);
        QFETCH(bool, anyMethod);
        QFETCH(int, attempts);
        RUN_CORO([key, anyMethod, attempts]() -> QCoro::Task<void> {
            FaultServer server(failFirst(1, httpResponse(503)));
            AsyncSession session;
            RetryPolicy policy = quick(3);
            policy.retryNonIdempotent = anyMethod;
            session.setRetryPolicy(policy);
            RequestOptions opts;
            if (!key.isEmpty())
                opts.header("Idempotency-Key", key);
            const Outcome o = co_await attempt(
                    session.post(server.url(), Body::fromBytes("payload"), opts));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.attempts(), attempts);
            CO_COMPARE(o.response.status(), attempts == 1 ? 503 : 200);
            CO_COMPARE(server.requests().size(), attempts);
            for (const ReceivedRequest &r : server.requests())
                CO_COMPARE(r.body, QByteArray("payload")); // the body again, whole
        }());
    }

    // A body that cannot be replayed is never sent twice, even with retryNonIdempotent.
    void nonReplayableBodyIsNotResent()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(failFirst(1, httpResponse(503)));
            AsyncSession session;
            RetryPolicy policy = quick(3);
            policy.retryNonIdempotent = true;
            session.setRetryPolicy(policy);
            const Outcome o = co_await attempt(
                    session.put(server.url(), Body::fromGenerator([] { return onePiece(); })));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 503);
            CO_COMPARE(o.response.attempts(), 1);
            CO_COMPARE(server.requests().size(), 1);
        }());
    }

    // A classifier replaces the default: here 500 is retried and 503 is not; it sees the
    // attempt's number, method, URL (without user info) and status.
    void customClassifier()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                c.write(httpResponse(r.target == "/500" ? 500 : 503));
            });
            AsyncSession session;
            RetryPolicy policy = quick(3);
            auto seen = std::make_shared<QList<RetryAttempt>>();
            policy.classifier = [seen](const RetryAttempt &a) {
                seen->append(a);
                return a.status == 500 ? RetryDecision::Retry : RetryDecision::Return;
            };
            session.setRetryPolicy(policy);
            QUrl withUser = server.url(u"/500"_s);
            withUser.setUserInfo(u"user:secret"_s);
            Outcome o = co_await attempt(session.get(withUser));
            CO_COMPARE(o.response.attempts(), 3);
            CO_COMPARE(seen->size(), 3);
            CO_COMPARE(seen->at(0).attempt, 1);
            CO_COMPARE(seen->at(2).attempt, 3);
            CO_COMPARE(seen->at(0).method, QByteArray("GET"));
            CO_COMPARE(seen->at(0).url, server.url(u"/500"_s));
            CO_COMPARE(seen->at(0).status, 500);
            CO_VERIFY(seen->at(0).error.isNull());
            o = co_await attempt(session.get(server.url(u"/503"_s)));
            CO_COMPARE(o.response.attempts(), 1);
        }());
    }

    // The host's budget: with a ratio of 0.5 and no floor, the first request may retry once,
    // the second (two requests, one retry so far) may not.
    void budgetRefusesRetries()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(503));
            });
            AsyncSession session;
            RetryPolicy policy = quick(5);
            policy.budget.enabled = true;
            policy.budget.ratio = 0.5;
            policy.budget.minPerSecond = 0;
            policy.budget.window = std::chrono::hours(1);
            session.setRetryPolicy(policy);
            Outcome o = co_await attempt(session.get(server.url()));
            CO_COMPARE(o.response.attempts(), 2);
            o = co_await attempt(session.get(server.url()));
            CO_COMPARE(o.response.attempts(), 1);
            CO_COMPARE(server.requests().size(), 3);
        }());
    }

    // maxRetryTime: a backoff that would end past it is not started; the response comes back.
    void maxRetryTimeBoundsBackoff()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(503));
            });
            AsyncSession session;
            RetryPolicy policy = slow(3);
            policy.maxRetryTime = 30s;
            session.setRetryPolicy(policy);
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_COMPARE(o.response.status(), 503);
            CO_COMPARE(o.response.attempts(), 1);
        }());
    }

    // The total deadline spans the attempts and the backoff: it ends a minute-long backoff
    // with the total-deadline TimeoutError, which counts the attempts made.
    void totalDeadlineEndsBackoff()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(503));
            });
            AsyncSession session;
            session.setRetryPolicy(slow(3));
            session.setTimeout(Timeout::all(10s).withTotal(300ms));
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_ERROR(o, "TimeoutError");
            CO_COMPARE(o.error.detail(), u"total"_s);
            CO_COMPARE(o.error.attempts(), 1);
        }());
    }

    // Cancelling during a minute-long backoff ends the request at once with "aborted"; the
    // listener hears the decision (retry, its reason and delay) before the backoff starts.
    void cancelDuringBackoff()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(503));
            });
            AsyncSession session;
            session.setRetryPolicy(slow(3));
            auto owner = std::make_unique<QObject>();
            QList<RequestEvent> decisions;
            const auto listener
                    = EventListener::create([&decisions, &owner](const RequestEvent &e) {
                          if (e.type != RequestEvent::Type::RetryDecision)
                              return;
                          decisions.append(e);
                          // From the event loop, once the backoff has started.
                          QTimer::singleShot(0, [&owner] { owner.reset(); });
                      });
            const Outcome o = co_await attempt(session.get(
                    server.url(),
                    RequestOptions().cancelWith(owner.get()).withEventListener(listener)));
            CO_EXPECT_ERROR(o, "RequestError");
            CO_COMPARE(o.error.detail(), u"aborted"_s);
            CO_COMPARE(o.error.attempts(), 1);
            CO_COMPARE(decisions.size(), 1);
            CO_VERIFY(decisions[0].retry);
            CO_COMPARE(decisions[0].reason, u"retryable"_s);
            CO_COMPARE(decisions[0].delay, std::chrono::milliseconds(60000));
            CO_COMPARE(decisions[0].attempt, 1);
            CO_COMPARE(server.requests().size(), 1);
        }());
    }

    // The listener hears every decision, the last one saying why not.
    void decisionsAreTold()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(503));
            });
            AsyncSession session;
            QList<RequestEvent> decisions;
            session.setEventListener(EventListener::create([&decisions](const RequestEvent &e) {
                if (e.type == RequestEvent::Type::RetryDecision)
                    decisions.append(e);
            }));
            session.setRetryPolicy(quick(2));
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_COMPARE(o.response.attempts(), 2);
            CO_COMPARE(decisions.size(), 2);
            CO_VERIFY(decisions[0].retry);
            CO_COMPARE(decisions[0].delay, 1ms);
            CO_VERIFY(!decisions[1].retry);
            CO_COMPARE(decisions[1].reason, u"max-attempts"_s);
            CO_COMPARE(decisions[1].attempt, 2);
        }());
    }

    // Attempts count the final hop: a redirect to a flaky URL counts that URL's tries only.
    void attemptsCountTheFinalHop()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            auto count = std::make_shared<int>(0);
            FaultServer server([count](ServerConnection &c, const ReceivedRequest &r) {
                if (r.target == "/start")
                    c.write(httpResponse(302, {}, "Location: /flaky\r\n"));
                else if ((*count)++ < 2)
                    c.write(httpResponse(502));
                else
                    c.write(httpResponse(200, "fine"));
            });
            AsyncSession session;
            session.setRetryPolicy(quick(4));
            const Outcome o = co_await attempt(session.get(server.url(u"/start"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), QByteArray("fine"));
            CO_COMPARE(o.response.attempts(), 3);
            CO_COMPARE(o.response.history().size(), 1);
        }());
    }

    // A streamed response that is retried: its body is dropped, the final one is streamed.
    void streamedRetry()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(failFirst(1, httpResponse(503, QByteArray(1000, 'x'))));
            AsyncSession session;
            session.setRetryPolicy(quick(2));
            const Outcome o = co_await attempt(
                    session.get(server.url(), RequestOptions().streaming()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.attempts(), 2);
            Response r = o.response;
            const BytesOutcome body = co_await attemptBytes(r.readAll());
            CO_VERIFY(body.ok());
            CO_COMPARE(body.bytes, QByteArray("fine"));
            // The first connection was reused: the dropped body was drained.
            CO_COMPARE(server.connectionCount(), 1);
        }());
    }

    // Through a Reply (signals and slots): retried the same way; abort() during a backoff
    // ends it at once.
    void reply()
    {
        FaultServer server(failFirst(1, httpResponse(503)));
        AsyncSession session;
        session.setRetryPolicy(quick(3));
        Reply *reply = session.sendGet(server.url());
        QSignalSpy finished(reply, &Reply::finished);
        QVERIFY(finished.wait());
        QVERIFY(!reply->error());
        QCOMPARE(reply->response().attempts(), 2);
        reply->deleteLater();

        FaultServer busy([](ServerConnection &c, const ReceivedRequest &) {
            c.write(httpResponse(503));
        });
        session.setRetryPolicy(slow(3));
        bool aborted = false;
        Reply *second = nullptr;
        session.setEventListener(EventListener::create([&](const RequestEvent &e) {
            if (e.type == RequestEvent::Type::RetryDecision && !aborted) {
                aborted = true;
                QTimer::singleShot(0, second, &Reply::abort);
            }
        }));
        second = session.sendGet(busy.url());
        QSignalSpy secondFinished(second, &Reply::finished);
        QVERIFY(secondFinished.wait());
        QVERIFY(aborted);
        QCOMPARE(second->error().kind(), Error::Kind::Request);
        QCOMPARE(second->error().detail(), u"aborted"_s);
        QCOMPARE(second->error().attempts(), 1);
    }

    // The blocking Session runs the same pipeline.
    void blockingSession()
    {
        FaultServer server(failFirst(2, httpResponse(502)));
        Reqivo::Session session;
        session.setRetryPolicy(quick(3));
        QCOMPARE(session.retryPolicy().maxAttempts, 3);
        const Response response = session.get(server.url());
        QCOMPARE(response.status(), 200);
        QCOMPARE(response.attempts(), 3);

        session.setRetryPolicy(quick(2));
        try {
            session.get(QUrl(u"http://127.0.0.1:%1/"_s.arg(refusingPort())));
            QFAIL("expected a NetworkError");
        } catch (const Reqivo::NetworkError &e) {
            QCOMPARE(e.error().attempts(), 2);
            QCOMPARE(e.error().networkFailure(), Error::NetworkFailure::ConnectionRefused);
        }
    }

    // Over HTTP/2 (h2peer.py's /once/N: status N the first time, 200 after): the retry is a new
    // stream on the same connection.
    void http2()
    {
        ReqivoTest::H2Peer peer;
        START_H2_PEER(peer, u"ok"_s);
        RUN_CORO([&peer]() -> QCoro::Task<void> {
            AsyncSession session;
            session.setHttpVersion(Reqivo::HttpVersion::Http2PriorKnowledge);
            session.setRetryPolicy(quick(3));
            const Outcome o = co_await attempt(session.get(peer.url(u"/once/503"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.httpVersion(), u"2"_s);
            CO_COMPARE(o.response.attempts(), 2);
            CO_COMPARE(o.response.headers().value("x-connection"), QByteArrayView("1"));
            CO_COMPARE(o.response.headers().value("x-stream-id"), QByteArrayView("3"));
            // The total deadline passing while the body is awaited (its head came) is not
            // retried.
            const Outcome never = co_await attempt(session.get(peer.url(u"/hang-body"_s),
                    RequestOptions().withTimeout(Timeout::all(10s).withTotal(200ms))));
            CO_EXPECT_ERROR(never, "TimeoutError");
            CO_COMPARE(never.error.attempts(), 1);
        }());
    }
};

QTEST_GUILESS_MAIN(TestSessionRetry)
#include "tst_session_retry.moc"
