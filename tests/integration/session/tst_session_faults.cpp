// AsyncSession against servers that misbehave: resets, silence, trickles, early closes,
// malformed responses, and requests a client must refuse to send. Each fault must end in the
// right exception class, within the right time, with the pool left consistent (no connection
// leaked as active, the broken one never reused) so that the next request simply works.
#include "faultserver.h"
#include "sessiontest.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Body>
#include <Reqivo/asyncconnectionpool.h>

#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>

#include <memory>
#include <vector>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::Endpoint;
using Reqivo::RequestOptions;
using Reqivo::Response;
using Reqivo::Timeout;

namespace {

Endpoint endpointOf(const FaultServer &server)
{
    return Endpoint::fromUrl(server.url());
}

Timeout withRead(std::chrono::milliseconds read)
{
    Timeout t;
    t.read = read;
    return t;
}

// After a failure: nothing checked out, nothing idle (the failed connection was not pooled).
#define CO_EXPECT_POOL_CLEAN(session, server)                                                      \
    do {                                                                                           \
        CO_COMPARE((session).pool()->activeCount(endpointOf(server)), 0);                          \
        CO_COMPARE((session).pool()->idleCount(endpointOf(server)), 0);                            \
        CO_COMPARE((session).pool()->totalCount(), 0);                                             \
        CO_VERIFY2((session).pool()->debugSummary().endsWith(u"total=0/100 waiting=0"_s),          \
            qPrintable((session).pool()->debugSummary()));                                         \
    } while (false)

// The next request on the session works, over a new connection (the server's second).
#define CO_EXPECT_NEXT_REQUEST_WORKS(session, server)                                              \
    do {                                                                                           \
        const Outcome next_ = co_await attempt((session).get((server).url(u"/next"_s)));           \
        CO_EXPECT_OK(next_);                                                                       \
        CO_COMPARE(next_.response.body(), QByteArray("fine"));                                     \
        CO_VERIFY(!next_.response.connectionReused());                                             \
    } while (false)

// Answers "/next" with "fine" on any connection; everything else goes to \a fault.
FaultServer::Handler unlessNext(FaultServer::Handler fault)
{
    return [fault](ServerConnection &c, const ReceivedRequest &r) {
        if (r.target == "/next")
            c.write(httpResponse(200, "fine"));
        else
            fault(c, r);
    };
}

} // namespace

class TestSessionFaults : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // A TCP reset (RST) in the middle of a Content-Length body: the response is incomplete and
    // the connection is gone, a network failure.
    void resetMidBody()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(unlessNext([](ServerConnection &c, const ReceivedRequest &) {
                c.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + QByteArray(100, 'x'));
                QTimer::singleShot(30ms, &c, [&c] { c.reset(); });
            }));
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_ERROR(o, "NetworkError");
            CO_EXPECT_POOL_CLEAN(session, server);
            CO_EXPECT_NEXT_REQUEST_WORKS(session, server);
            CO_COMPARE(server.connectionCount(), 2);
        }());
    }

    // A graceful close (FIN) before the announced message ended: the message is incomplete
    // (RFC 9112 §8), never a success with a short body; the connection broke, a NetworkError
    // like a reset (Qt cannot tell the two apart).
    void closeMidBody_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("Content-Length body cut short")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nshort");
        QTest::newRow("chunked body without its last chunk")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        QTest::newRow("head cut short")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Half: ");
    }
    void closeMidBody()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, bytes);
            FaultServer server(unlessNext([bytes](ServerConnection &c, const ReceivedRequest &) {
                c.write(bytes);
                c.close();
            }));
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_ERROR(o, "NetworkError");
            CO_EXPECT_POOL_CLEAN(session, server);
            CO_EXPECT_NEXT_REQUEST_WORKS(session, server);
        }());
    }

    // The same faults while the caller streams the body: the bytes before the fault arrive, then
    // readChunk() throws, and the connection is not returned to the pool.
    void resetMidStreamedBody()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(unlessNext([](ServerConnection &c, const ReceivedRequest &) {
                c.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + QByteArray(100, 'x'));
                QTimer::singleShot(100ms, &c, [&c] { c.reset(); });
            }));
            AsyncSession session;
            const Outcome o
                = co_await attempt(session.get(server.url(), RequestOptions().streaming()));
            CO_EXPECT_OK(o);
            Response r = o.response;
            CO_VERIFY(r.isStreaming());
            CO_COMPARE(r.expectedSize(), qint64(1000));
            qint64 got = 0;
            BytesOutcome piece;
            do {
                piece = co_await attemptBytes(r.readChunk());
                got += piece.bytes.size();
            } while (piece.ok() && !piece.bytes.isEmpty());
            CO_VERIFY2(!piece.ok(), "readChunk() must fail, not end the body early");
            CO_COMPARE(piece.error.typeName(), u"NetworkError"_s);
            CO_COMPARE(got, qint64(100));
            CO_EXPECT_POOL_CLEAN(session, server);
            CO_EXPECT_NEXT_REQUEST_WORKS(session, server);
        }());
    }

    void trickledResponseSucceeds_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("Content-Length, one byte at a time") << httpResponse(200,
            "abcdefghijklmnopqrstuvwxyz", "X-A: 1\r\n") << QByteArray("abcdefghijklmnopqrstuvwxyz");
        QTest::newRow("chunked with trailers, one byte at a time") << QByteArray(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\nT: 1\r\n\r\n") << QByteArray("abcdefg");
    }
    void trickledResponseSucceeds()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, bytes);
            QFETCH(QByteArray, expected);
            FaultServer server(
                [bytes](ServerConnection &c, const ReceivedRequest &) { c.trickle(bytes, 3ms); });
            AsyncSession session;
            session.setTimeout(withRead(1s));
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.body(), expected);
            // The connection stays in step: reused for the next (trickled) request.
            const Outcome again = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(again);
            CO_COMPARE(again.response.body(), expected);
            CO_VERIFY(again.response.connectionReused());
        }());
    }

    void silentServerGivesReadTimeout()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(unlessNext([](ServerConnection &, const ReceivedRequest &) {}));
            AsyncSession session;
            session.setTimeout(withRead(300ms));
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_ERROR(o, "ReadTimeout");
            CO_VERIFY2(o.took >= 250ms && o.took < 3s,
                qPrintable(u"timed out after %1 ms"_s.arg(o.took.count())));
            CO_COMPARE(server.requests().size(), qsizetype(1));
            CO_EXPECT_POOL_CLEAN(session, server);
            CO_EXPECT_NEXT_REQUEST_WORKS(session, server);
        }());
    }

    // The listen backlog is full and nobody accepts: the handshake never completes.
    void connectTimeout()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QTcpServer full;
            full.setListenBacklogSize(0);
            CO_VERIFY(full.listen(QHostAddress::LocalHost, 0));
            full.pauseAccepting();
            // Fill the kernel's accept queue (backlog 0 still admits a connection or two).
            std::vector<std::unique_ptr<QTcpSocket>> fillers;
            for (int i = 0; i < 4; ++i) {
                fillers.push_back(std::make_unique<QTcpSocket>());
                fillers.back()->connectToHost(QHostAddress::LocalHost, full.serverPort());
            }
            // Full once the first filler's handshake completed: it occupies the accept queue.
            CO_VERIFY(co_await waitUntil(
                [&] { return fillers.front()->state() == QAbstractSocket::ConnectedState; }));
            AsyncSession session;
            Timeout t;
            t.connect = 300ms;
            session.setTimeout(t);
            const Outcome o = co_await attempt(
                session.get(QUrl(u"http://127.0.0.1:%1/"_s.arg(full.serverPort()))));
            CO_EXPECT_ERROR(o, "ConnectTimeout");
            CO_VERIFY2(
                o.took >= 250ms && o.took < 3s, qPrintable(u"took %1 ms"_s.arg(o.took.count())));
            CO_COMPARE(session.pool()->totalCount(), 0);
        }());
    }

    // The server never reads: once the kernel buffers are full, the upload makes no progress.
    void writeTimeout()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QTcpServer deaf; // completes handshakes in the kernel, never accepts, never reads
            CO_VERIFY(deaf.listen(QHostAddress::LocalHost, 0));
            deaf.pauseAccepting();
            AsyncSession session;
            Timeout t;
            t.write = 300ms;
            session.setTimeout(t);
            const Outcome o = co_await attempt(
                session.post(QUrl(u"http://127.0.0.1:%1/"_s.arg(deaf.serverPort())),
                    Body::fromBytes(QByteArray(64 * 1024 * 1024, 'w'))));
            CO_EXPECT_ERROR(o, "WriteTimeout");
            CO_VERIFY2(o.took < 5s, qPrintable(u"took %1 ms"_s.arg(o.took.count())));
            CO_COMPARE(session.pool()->totalCount(), 0);
        }());
    }

    // A per-request timeout overrides the session's.
    void perRequestReadTimeout()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &, const ReceivedRequest &) {});
            AsyncSession session;
            session.setTimeout(withRead(20s));
            const Outcome o = co_await attempt(
                session.get(server.url(), RequestOptions().withTimeout(withRead(200ms))));
            CO_EXPECT_ERROR(o, "ReadTimeout");
            CO_VERIFY2(o.took < 3s, qPrintable(u"took %1 ms"_s.arg(o.took.count())));
        }());
    }

    // Each byte arrives well within the read timeout, but the whole response would take 4 s:
    // Timeout::total is a deadline for the request, not a per-read limit.
    void totalDeadlineAcrossSlowTrickle()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(unlessNext([](ServerConnection &c, const ReceivedRequest &) {
                c.trickle(httpResponse(200, QByteArray(200, 'z')), 20ms);
            }));
            AsyncSession session;
            Timeout t = withRead(2s);
            t.total = 600ms;
            session.setTimeout(t);
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_ERROR_ISA(o, Timeout);
            CO_VERIFY2(o.took >= 500ms && o.took < 1800ms,
                qPrintable(
                    u"the 600 ms deadline ended the request after %1 ms"_s.arg(o.took.count())));
            CO_EXPECT_POOL_CLEAN(session, server);
            CO_EXPECT_NEXT_REQUEST_WORKS(session, server);
        }());
    }

    // On a fresh connection there is nothing stale to blame: no retry, even for a GET.
    void closeAfterRequestOnFreshConnection()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(
                unlessNext([](ServerConnection &c, const ReceivedRequest &) { c.close(); }));
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_ERROR(o, "NetworkError");
            CO_COMPARE(server.connectionCount(), 1);
            CO_COMPARE(server.requests().size(), qsizetype(1));
            CO_EXPECT_POOL_CLEAN(session, server);
            CO_EXPECT_NEXT_REQUEST_WORKS(session, server);
        }());
    }

    void connectionRefused()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            quint16 port = 0;
            {
                FaultServer closed; // take a free port, then stop listening on it
                port = closed.port();
            }
            AsyncSession session;
            const Outcome o
                = co_await attempt(session.get(QUrl(u"http://127.0.0.1:%1/"_s.arg(port))));
            CO_EXPECT_ERROR(o, "NetworkError");
            CO_COMPARE(session.pool()->totalCount(), 0);
        }());
    }

    // RFC 9112 §6.3: an invalid Content-Length or framing is unrecoverable; the response is
    // refused and its connection is closed, never reused.
    void malformedResponse_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("non-numeric Content-Length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n");
        QTest::newRow("two different Content-Lengths")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk");
        QTest::newRow("negative Content-Length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n");
        QTest::newRow("status code not three digits")
            << QByteArray("HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n");
        QTest::newRow("not HTTP at all") << QByteArray("SSH-2.0-OpenSSH_9.2\r\n\r\n");
        QTest::newRow("bad chunk size")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n");
    }
    void malformedResponse()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, bytes);
            FaultServer server(unlessNext([bytes](ServerConnection &c, const ReceivedRequest &) {
                c.write(bytes); // and keep the connection open: the client must drop it
            }));
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_ERROR(o, "InvalidResponseError");
            CO_EXPECT_POOL_CLEAN(session, server);
            CO_EXPECT_NEXT_REQUEST_WORKS(session, server);
            CO_COMPARE(server.connectionCount(), 2);
        }());
    }

    // Response-side limits end the request with an error, not with memory growth.
    void responseLimits_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("error");
        QTest::newRow("head over maxHeaderBytes") << QByteArray(
            "HTTP/1.1 200 OK\r\nX-Big: " + QByteArray(20000, 'a') + "\r\nContent-Length: 0\r\n\r\n")
                                                  << u"InvalidResponseError"_s;
        QTest::newRow("too many fields") << QByteArray("HTTP/1.1 200 OK\r\n"
            + QByteArray("X: 1\r\n").repeated(150) + "Content-Length: 0\r\n\r\n")
                                         << u"InvalidResponseError"_s;
        QTest::newRow("a flood of 100 Continue") << QByteArray(
            QByteArray("HTTP/1.1 100 Continue\r\n\r\n").repeated(40) + httpResponse(200, "late"))
                                                 << u"InvalidResponseError"_s;
    }
    void responseLimits()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, bytes);
            QFETCH(QString, error);
            FaultServer server(unlessNext(
                [bytes](ServerConnection &c, const ReceivedRequest &) { c.write(bytes); }));
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_VERIFY2(!o.ok(), "a response over the limits must be refused");
            CO_COMPARE(o.error.typeName(), error);
            CO_EXPECT_POOL_CLEAN(session, server);
            CO_EXPECT_NEXT_REQUEST_WORKS(session, server);
        }());
    }

    // Destroying the session while a request is suspended ends that request with a
    // RequestError; its connection is closed; nothing is touched after free (ASan).
    void sessionDestroyedDuringRequest_data()
    {
        QTest::addColumn<int>("stage");
        QTest::newRow("waiting for the response head") << 0;
        QTest::newRow("reading a streamed body") << 1;
        QTest::newRow("waiting for a pool slot") << 2;
    }
    void sessionDestroyedDuringRequest()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(int, stage);
            FaultServer server([stage](ServerConnection &c, const ReceivedRequest &) {
                if (stage == 1)
                    c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst");
            });
            auto session = std::make_unique<AsyncSession>();
            if (stage == 2) {
                Reqivo::PoolOptions options;
                options.maxPerHost = 1;
                session->pool()->setOptions(options);
            }
            QCoro::Task<Response> first
                = session->get(server.url(), RequestOptions().streaming(stage == 1));
            QCoro::Task<Response> queued
                = stage == 2 ? session->get(server.url()) : QCoro::Task<Response>();
            Response streamed;
            QCoro::Task<QByteArray> chunk;
            if (stage == 1) {
                const Outcome head = co_await attempt(std::move(first));
                CO_EXPECT_OK(head);
                streamed = head.response;
                const BytesOutcome firstPiece = co_await attemptBytes(streamed.readChunk());
                CO_COMPARE(firstPiece.bytes, QByteArray("first"));
                chunk = streamed.readChunk(); // suspends: the rest never comes
            }
            CO_VERIFY(co_await waitUntil([&] { return server.requests().size() == 1; }));
            // The request is out; what the client had queued behind writing it runs, so it waits
            // for the head (stage 0) or the rest of the body (stage 1).
            co_await ReqivoTest::eventsFlushed();
            if (stage == 2)
                CO_COMPARE(session->pool()->waitingCount(), 1);

            session.reset();

            if (stage == 1) {
                const BytesOutcome rest = co_await attemptBytes(std::move(chunk));
                CO_VERIFY2(!rest.ok(), "the streamed body must fail once its session is gone");
                CO_VERIFY2(rest.error.isA(Reqivo::Error::Kind::Request),
                    qPrintable(rest.error.toString()));
            } else {
                const Outcome o = co_await attempt(std::move(first));
                CO_EXPECT_ERROR_ISA(o, Request);
            }
            if (stage == 2) {
                const Outcome o = co_await attempt(std::move(queued));
                CO_EXPECT_ERROR_ISA(o, Request);
                CO_COMPARE(server.requests().size(), qsizetype(1));
            }
            CO_VERIFY2(co_await waitUntil([&] { return server.openConnections() == 0; }),
                "the connection must be closed when its session is destroyed");
        }());
    }

    // Many requests in every stage at once (connected and waiting for a head, queued for a pool
    // slot) when the session goes: each one ends with a RequestError, none hangs or crashes.
    void sessionDestroyedWithManyRequestsInFlight()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &, const ReceivedRequest &) {});
            auto session = std::make_unique<AsyncSession>();
            Reqivo::PoolOptions options;
            options.maxPerHost = 4;
            session->pool()->setOptions(options);
            std::vector<QCoro::Task<Response>> tasks;
            for (int i = 0; i < 12; ++i)
                tasks.push_back(session->get(server.url(u"/%1"_s.arg(i))));
            CO_VERIFY(co_await waitUntil([&] { return server.requests().size() == 4; }));
            CO_COMPARE(session->pool()->waitingCount(), 8);
            session.reset();
            for (auto &task : tasks) {
                const Outcome o = co_await attempt(std::move(task));
                CO_EXPECT_ERROR_ISA(o, Request);
            }
            CO_COMPARE(server.requests().size(), qsizetype(4));
            CO_VERIFY(co_await waitUntil([&] { return server.openConnections() == 0; }));
        }());
    }

    // RequestOptions::cancelWith(owner): destroying the owner ends the request with a
    // RequestError ("aborted") and closes its connection; a request whose owner outlives it is
    // untouched, and destroying the owner afterwards changes nothing.
    void ownerDestroyed_data()
    {
        QTest::addColumn<int>("when");
        QTest::newRow("while waiting for the response head") << 0;
        QTest::newRow("before the request starts") << 1;
        QTest::newRow("after the response") << 2;
    }
    void ownerDestroyed()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(int, when);
            // Answers "/next" and "/answered"; leaves everything else without a response.
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                if (r.target == "/next" || r.target == "/answered")
                    c.write(httpResponse(200, "fine"));
            });
            AsyncSession session;
            auto owner = std::make_unique<QObject>();
            // Options made while the owner lives, used (for row 1) after it is gone.
            const RequestOptions options
                    = RequestOptions().withTimeout(withRead(10s)).cancelWith(owner.get());
            if (when == 1)
                owner.reset();
            const QUrl url = server.url(when == 2 ? u"/answered"_s : u"/silent"_s);
            QCoro::Task<Response> task = session.get(url, options);
            if (when == 0) {
                CO_VERIFY(co_await waitUntil([&] { return server.requests().size() == 1; }));
                owner.reset();
            }
            const Outcome o = co_await attempt(std::move(task));
            if (when == 2) {
                CO_EXPECT_OK(o);
                owner.reset();
                CO_COMPARE(session.pool()->idleCount(endpointOf(server)), 1);
                const Outcome again = co_await attempt(session.get(server.url(u"/answered"_s)));
                CO_EXPECT_OK(again);
                CO_VERIFY(again.response.connectionReused());
                co_return;
            }
            CO_EXPECT_ERROR(o, "RequestError");
            CO_COMPARE(o.error.detail(), u"aborted"_s);
            CO_VERIFY2(o.took < 5s, "the request must end when its owner goes, not time out");
            CO_COMPARE(server.requests().size(), qsizetype(when == 0 ? 1 : 0));
            CO_EXPECT_POOL_CLEAN(session, server);
            CO_VERIFY2(co_await waitUntil([&] { return server.openConnections() == 0; }),
                "the aborted request's connection must be closed");
            CO_EXPECT_NEXT_REQUEST_WORKS(session, server);
        }());
    }

    // An owner in another thread is refused: its destruction would race with the request.
    void ownerInAnotherThreadRefused()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(200, "fine"));
            });
            QThread other;
            QObject owner;
            owner.moveToThread(&other);
            AsyncSession session;
            const Outcome o = co_await attempt(
                session.get(server.url(), RequestOptions().cancelWith(&owner)));
            CO_EXPECT_ERROR(o, "RequestError");
            CO_VERIFY2(o.error.message().contains(u"cancelWith"_s),
                qPrintable(o.error.toString()));
            CO_COMPARE(server.requests().size(), qsizetype(0));
        }());
    }

    // ADR-012: user input that would change the message framing is refused before a single
    // byte goes out, whichever way it reaches the request.
    void headerInjectionRefused_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<int>("via"); // 0 request options, 1 session default, 2 request hook
        const QByteArray get("GET");
        QTest::newRow("CRLF in a value")
            << get << QByteArray("X") << QByteArray("a\r\nEvil: 1") << 0;
        QTest::newRow("LF in a value") << get << QByteArray("X") << QByteArray("a\nEvil: 1") << 0;
        QTest::newRow("CR in a value") << get << QByteArray("X") << QByteArray("a\rEvil: 1") << 0;
        QTest::newRow("NUL in a value") << get << QByteArray("X") << QByteArray("a\0b", 3) << 0;
        QTest::newRow("space in a name") << get << QByteArray("Bad Name") << QByteArray("1") << 0;
        QTest::newRow("colon in a name") << get << QByteArray("X:Y") << QByteArray("1") << 0;
        QTest::newRow("CRLF in a name") << get << QByteArray("X\r\nEvil") << QByteArray("1") << 0;
        QTest::newRow("empty name") << get << QByteArray() << QByteArray("1") << 0;
        QTest::newRow("CRLF in a session default header")
            << get << QByteArray("X") << QByteArray("a\r\nEvil: 1") << 1;
        QTest::newRow("CRLF added by a request hook")
            << get << QByteArray("X") << QByteArray("a\r\nEvil: 1") << 2;
        QTest::newRow("CRLF in the method") << QByteArray("GET / HTTP/1.1\r\nEvil: 1\r\nX:")
                                            << QByteArray("X") << QByteArray("1") << 0;
        QTest::newRow("space in the method")
            << QByteArray("GET X") << QByteArray("X") << QByteArray("1") << 0;
    }
    void headerInjectionRefused()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, method);
            QFETCH(QByteArray, name);
            QFETCH(QByteArray, value);
            QFETCH(int, via);
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(200, "sent"));
            });
            AsyncSession session;
            RequestOptions opts;
            if (via == 0)
                opts.header(name, value);
            else if (via == 1)
                session.setDefaultHeader(name, value);
            else
                session.addRequestHook(
                    [=](Reqivo::PreparedRequest &r) { r.headers.add(name, value); });
            const Outcome o = co_await attempt(session.request(method, server.url(), opts));
            CO_EXPECT_ERROR(o, "RequestError");
            // Nothing went out: deliver what the refused call left queued, then make a request
            // (from a session without the bad header). The server accepts in order, so that one
            // must be its first connection and its only request, with no other byte received.
            co_await ReqivoTest::eventsFlushed();
            CO_COMPARE(server.bytesReceived(), qint64(0));
            CO_COMPARE(server.connectionCount(), 0);
            AsyncSession clean;
            const Outcome after = co_await attempt(clean.get(server.url(u"/after"_s)));
            CO_EXPECT_OK(after);
            CO_COMPARE(after.response.body(), QByteArray("sent"));
            CO_COMPARE(server.connectionCount(), 1);
            CO_COMPARE(server.requests().size(), qsizetype(1));
            CO_COMPARE(server.requests().first().target, QByteArray("/after"));
            CO_COMPARE(
                server.bytesReceived(), qint64(server.connections().value(0)->received().size()));
        }());
    }

    // The URL cannot smuggle fields either: what is not allowed in a request target is
    // percent-encoded.
    void urlCannotInjectFields()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                c.write(httpResponse(200, r.target));
            });
            AsyncSession session;
            QUrl url = server.url();
            url.setPath(u"/a b\r\nEvil: 1"_s);
            const Outcome o = co_await attempt(session.get(url));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), QByteArray("/a%20b%0D%0AEvil:%201"));
            CO_COMPARE(server.requests().size(), qsizetype(1));
            CO_VERIFY(!server.requests().first().hasField("evil"));
        }());
    }
};

QTEST_GUILESS_MAIN(TestSessionFaults)
#include "tst_session_faults.moc"
