// AsyncSession keep-alive against an in-process server that scripts every byte: when a
// connection is reused, when it must not be, what a stale connection costs (one transparent
// retry for idempotent requests, a clear error otherwise), how message framing (HEAD, 204, 304,
// 1xx, chunked trailers, close-delimited bodies) keeps a connection in step, and how the pool
// honours its caps. Everything is observed from both ends: the Response and pool summary on the
// client, connections and requests counted by the server.
#include "faultserver.h"
#include "sessiontest.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Body>
#include <Reqivo/asyncconnectionpool.h>

#include <QBuffer>

#include <vector>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::Endpoint;
using Reqivo::RequestOptions;
using Reqivo::Response;

namespace {

QString summary(const FaultServer &server, int idle, int active, int total)
{
    return u"http://127.0.0.1:%1 idle=%2 active=%3 | total=%4/100 waiting=0"_s.arg(server.port())
        .arg(idle)
        .arg(active)
        .arg(total);
}

Endpoint endpointOf(const FaultServer &server)
{
    return Endpoint::fromUrl(server.url());
}

// Answers every request with 200 and "<connection>.<index on connection>", so a body tells
// which connection carried it.
void answerWithWhere(ServerConnection &c, const ReceivedRequest &r)
{
    c.write(httpResponse(
        200, QByteArray::number(r.connection) + '.' + QByteArray::number(r.indexOnConnection)));
}

// The bodies for the retry and stale-connection tests.
enum class BodyKind { None, Bytes, Generator, Device };

// \a device backs BodyKind::Device: a random-access device, rewound for each send.
Body makeBody(BodyKind kind, QBuffer *device)
{
    switch (kind) {
    case BodyKind::None:
        return {};
    case BodyKind::Bytes:
        return Body::fromBytes("payload");
    case BodyKind::Generator:
        return Body::fromGenerator([]() -> Body::Generator { co_yield QByteArray("payload"); });
    case BodyKind::Device:
        device->setData("skip:payload");
        device->open(QIODevice::ReadOnly);
        device->seek(5);
        return Body::fromDevice(device);
    }
    return {};
}

} // namespace

class TestSessionKeepAlive : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sequentialRequestsShareOneConnection()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answerWithWhere);
            AsyncSession session;
            const Outcome first = co_await attempt(session.get(server.url(u"/a"_s)));
            CO_EXPECT_OK(first);
            CO_COMPARE(first.response.body(), QByteArray("1.0"));
            CO_VERIFY(!first.response.connectionReused());
            CO_COMPARE(session.pool()->debugSummary(), summary(server, 1, 0, 1));

            for (int i = 1; i <= 3; ++i) {
                const Outcome next = co_await attempt(session.get(server.url(u"/b"_s)));
                CO_EXPECT_OK(next);
                CO_COMPARE(next.response.body(), "1." + QByteArray::number(i));
                CO_VERIFY(next.response.connectionReused());
            }
            CO_COMPARE(server.connectionCount(), 1);
            CO_COMPARE(server.requests().size(), qsizetype(4));
            CO_COMPARE(session.pool()->debugSummary(), summary(server, 1, 0, 1));
        }());
    }

    // The server closes the idle connection (FIN) before the next request: the pool must notice
    // and never hand it out, so even a POST, which may not be retried, succeeds. The server
    // closes once the connection is idle in the pool, and the request goes out only after the
    // client's kernel acknowledged the FIN.
    void connectionClosedWhileIdleIsNotHandedOut_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<int>("body");
        QTest::newRow("GET") << QByteArray("GET") << int(BodyKind::None);
        QTest::newRow("POST with bytes") << QByteArray("POST") << int(BodyKind::Bytes);
        QTest::newRow("POST with a generator") << QByteArray("POST") << int(BodyKind::Generator);
    }
    void connectionClosedWhileIdleIsNotHandedOut()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, method);
            QFETCH(int, body);
            FaultServer server(answerWithWhere); // keep-alive announced
            AsyncSession session;
            CO_EXPECT_OK(co_await attempt(session.get(server.url())));
            CO_COMPARE(session.pool()->idleCount(endpointOf(server)), 1);
            CO_VERIFY(server.connections().value(0)->closeAcknowledged());
            CO_VERIFY(co_await waitUntil([&] { return server.openConnections() == 0; }));

            RequestOptions opts;
            QBuffer device;
            opts.body = makeBody(BodyKind(body), &device);
            const Outcome second = co_await attempt(session.request(method, server.url(), opts));
            CO_EXPECT_OK(second);
            CO_COMPARE(second.response.body(), QByteArray("2.0"));
            CO_VERIFY(!second.response.connectionReused());
            CO_COMPARE(server.connectionCount(), 2);
            CO_COMPARE(server.requests().size(), qsizetype(2));
            CO_COMPARE(server.requests().last().method, method);
            CO_COMPARE(server.requests().last().body,
                BodyKind(body) == BodyKind::None ? QByteArray() : QByteArray("payload"));
        }());
    }

    // The race the pool cannot see: the server reads the next request on the idle connection
    // and closes it without answering (its keep-alive timer fired at that moment). Idempotent
    // requests with replayable bodies are retried once on a fresh connection; others fail
    // with a NetworkError and are sent exactly once.
    void staleConnectionRetriedOnlyWhenSafe_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<int>("body");
        QTest::addColumn<bool>("retried");
        QTest::newRow("GET is retried") << QByteArray("GET") << int(BodyKind::None) << true;
        QTest::newRow("HEAD is retried") << QByteArray("HEAD") << int(BodyKind::None) << true;
        QTest::newRow("DELETE is retried") << QByteArray("DELETE") << int(BodyKind::None) << true;
        QTest::newRow("PUT with bytes is retried")
            << QByteArray("PUT") << int(BodyKind::Bytes) << true;
        QTest::newRow("PUT with a QBuffer body is retried (rewound)")
            << QByteArray("PUT") << int(BodyKind::Device) << true;
        QTest::newRow("POST is not retried") << QByteArray("POST") << int(BodyKind::Bytes) << false;
        QTest::newRow("POST without a body is not retried")
            << QByteArray("POST") << int(BodyKind::None) << false;
        QTest::newRow("PATCH is not retried")
            << QByteArray("PATCH") << int(BodyKind::Bytes) << false;
        QTest::newRow("PUT with a generator body is not retried (cannot replay)")
            << QByteArray("PUT") << int(BodyKind::Generator) << false;
    }
    void staleConnectionRetriedOnlyWhenSafe()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, method);
            QFETCH(int, body);
            QFETCH(bool, retried);
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                if (r.connection == 1 && r.indexOnConnection == 1)
                    c.close();
                else
                    answerWithWhere(c, r);
            });
            AsyncSession session;
            CO_EXPECT_OK(co_await attempt(session.get(server.url(u"/warm-up"_s))));

            RequestOptions opts;
            QBuffer device;
            opts.body = makeBody(BodyKind(body), &device);
            const Outcome o = co_await attempt(session.request(method, server.url(u"/x"_s), opts));
            if (retried) {
                CO_EXPECT_OK(o);
                CO_COMPARE(o.response.status(), 200);
                CO_COMPARE(o.response.body(), method == "HEAD" ? QByteArray() : QByteArray("2.0"));
                CO_VERIFY(!o.response.connectionReused());
                CO_COMPARE(server.connectionCount(), 2);
                CO_COMPARE(server.requests().size(), qsizetype(3));
                CO_COMPARE(server.requests().at(2).method, method);
                CO_COMPARE(server.requests().at(2).body, server.requests().at(1).body);
            } else {
                CO_EXPECT_ERROR(o, "NetworkError");
                CO_COMPARE(server.connectionCount(), 1);
                CO_COMPARE(server.requests().size(), qsizetype(2));
            }
            CO_COMPARE(server.requests().at(1).method, method);
            CO_COMPARE(session.pool()->activeCount(endpointOf(server)), 0);
        }());
    }

    // RFC 9110 §9.3.2: a HEAD response's framing fields describe the GET body; none follows.
    // If the client waited for it, the next response on the connection would be eaten as body.
    void headResponseHasNoBody_data()
    {
        QTest::addColumn<QByteArray>("fields");
        QTest::newRow("Content-Length") << QByteArray("Content-Length: 1000\r\n");
        QTest::newRow("Transfer-Encoding: chunked") << QByteArray("Transfer-Encoding: chunked\r\n");
    }
    void headResponseHasNoBody()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, fields);
            FaultServer server([fields](ServerConnection &c, const ReceivedRequest &r) {
                if (r.method == "HEAD")
                    c.write("HTTP/1.1 200 OK\r\n" + fields + "\r\n");
                else
                    c.write(httpResponse(200, "after"));
            });
            AsyncSession session;
            const Outcome head = co_await attempt(session.head(server.url()));
            CO_EXPECT_OK(head);
            CO_COMPARE(head.response.status(), 200);
            CO_COMPARE(head.response.body(), QByteArray());
            CO_VERIFY(head.response.headers().size() == 1);
            const Outcome get = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(get);
            CO_COMPARE(get.response.body(), QByteArray("after"));
            CO_VERIFY(get.response.connectionReused());
            CO_COMPARE(server.connectionCount(), 1);
        }());
    }

    // RFC 9112 §6.3 rule 1: 1xx, 204 and 304 end at the head, whatever Content-Length says.
    void noBodyStatuses_data()
    {
        QTest::addColumn<QByteArray>("head");
        QTest::addColumn<int>("status");
        QTest::newRow("204") << QByteArray("HTTP/1.1 204 No Content\r\n\r\n") << 204;
        QTest::newRow("204 with Content-Length: 0")
            << QByteArray("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n") << 204;
        QTest::newRow("304 with the representation's Content-Length")
            << QByteArray("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 10\r\n\r\n")
            << 304;
    }
    void noBodyStatuses()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, head);
            QFETCH(int, status);
            FaultServer server([head](ServerConnection &c, const ReceivedRequest &r) {
                c.write(r.indexOnConnection == 0 ? head : httpResponse(200, "next"));
            });
            AsyncSession session;
            const Outcome first = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(first);
            CO_COMPARE(first.response.status(), status);
            CO_COMPARE(first.response.body(), QByteArray());
            CO_VERIFY(!first.response.isSuccess() || status == 204);
            const Outcome next = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(next);
            CO_COMPARE(next.response.body(), QByteArray("next"));
            CO_VERIFY(next.response.connectionReused());
            CO_COMPARE(server.connectionCount(), 1);
        }());
    }

    // Interim responses are skipped; only the final one is returned, with its own fields.
    void interimResponsesAreSkipped_data()
    {
        QTest::addColumn<QByteArray>("interim");
        QTest::addColumn<bool>("separatePackets");
        QTest::newRow("100 Continue, same packet")
            << QByteArray("HTTP/1.1 100 Continue\r\n\r\n") << false;
        QTest::newRow("100 Continue, then the final response later")
            << QByteArray("HTTP/1.1 100 Continue\r\n\r\n") << true;
        QTest::newRow("103 Early Hints with fields")
            << QByteArray("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
            << true;
        QTest::newRow("102 then 100")
            << QByteArray("HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n") << false;
    }
    void interimResponsesAreSkipped()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, interim);
            QFETCH(bool, separatePackets);
            FaultServer server([=](ServerConnection &c, const ReceivedRequest &r) {
                const QByteArray final = httpResponse(200, "final:" + r.body, "X-Final: yes\r\n");
                if (!separatePackets) {
                    c.write(interim + final);
                    return;
                }
                c.write(interim);
                QTimer::singleShot(30ms, &c, [&c, final] { c.write(final); });
            });
            AsyncSession session;
            const Outcome o = co_await attempt(session.post(server.url(), Body::fromBytes("b")));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.body(), QByteArray("final:b"));
            CO_COMPARE(o.response.headers().value("x-final").toByteArray(), QByteArray("yes"));
            CO_VERIFY(!o.response.headers().contains("link"));
            const Outcome next = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(next);
            CO_VERIFY(next.response.connectionReused());
        }());
    }

    void chunkedBodyWithTrailers_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("trailer field")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n");
        QTest::newRow("chunk extensions and upper-case hex")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5;name=value\r\nhello\r\nB\r\n world!!!!!\r\n0\r\n\r\n");
        QTest::newRow("one chunk per packet is tested by trickling below")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "b\r\nhello world\r\n0\r\n\r\n");
    }
    void chunkedBodyWithTrailers()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, bytes);
            FaultServer server([bytes](ServerConnection &c, const ReceivedRequest &r) {
                c.write(r.indexOnConnection == 0 ? bytes : httpResponse(200, "next"));
            });
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_VERIFY2(o.response.body().startsWith("hello world"), o.response.body().constData());
            const Outcome next = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(next);
            CO_COMPARE(next.response.body(), QByteArray("next"));
            CO_VERIFY(next.response.connectionReused());
            CO_COMPARE(server.connectionCount(), 1);
        }());
    }

    // Responses after which the connection may not carry another request.
    void connectionNotReusedAfter_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<bool>("serverCloses");
        QTest::addColumn<QByteArray>("expectedBody");
        QTest::newRow("Connection: close")
            << httpResponse(200, "bye", "Connection: close\r\n") << true << QByteArray("bye");
        QTest::newRow("HTTP/1.0 without keep-alive")
            << QByteArray("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold") << true
            << QByteArray("old");
        QTest::newRow("body delimited by the close")
            << QByteArray("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end") << true
            << QByteArray("until the end");
        // RFC 9112 §9.3: bytes after a complete response were not asked for; the connection is
        // out of step and must be dropped, even though the server keeps it open.
        QTest::newRow("unsolicited bytes after the body") << QByteArray(
            httpResponse(200, "ok") + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil")
                                                          << false << QByteArray("ok");
    }
    void connectionNotReusedAfter()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, bytes);
            QFETCH(bool, serverCloses);
            QFETCH(QByteArray, expectedBody);
            FaultServer server([=](ServerConnection &c, const ReceivedRequest &r) {
                if (r.connection > 1) {
                    answerWithWhere(c, r);
                    return;
                }
                c.write(bytes);
                if (serverCloses)
                    c.close();
            });
            AsyncSession session;
            const Outcome first = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(first);
            CO_COMPARE(first.response.body(), expectedBody);
            CO_COMPARE(session.pool()->idleCount(endpointOf(server)), 0);
            const Outcome second = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(second);
            CO_COMPARE(second.response.body(), QByteArray("2.0"));
            CO_VERIFY(!second.response.connectionReused());
            CO_COMPARE(server.connectionCount(), 2);
        }());
    }

    // Unsolicited bytes that arrive while the connection is idle in the pool.
    void bytesArrivingWhileIdleDisqualifyTheConnection()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answerWithWhere);
            AsyncSession session;
            CO_EXPECT_OK(co_await attempt(session.get(server.url())));
            CO_COMPARE(session.pool()->idleCount(endpointOf(server)), 1);
            // Once the client's kernel has them, the next request must not take the connection.
            CO_VERIFY(server.connections().value(0)->writeAcknowledged(httpResponse(200, "evil")));
            const Outcome second = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(second);
            CO_COMPARE(second.response.body(), QByteArray("2.0"));
            CO_COMPARE(server.connectionCount(), 2);
        }());
    }

    // "Keep-Alive: timeout=1": the server will close after 1 s idle, so the pool drops the
    // connection before that instead of racing the server's close.
    void keepAliveTimeoutExpiresIdleConnection()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                c.write(httpResponse(
                    200, QByteArray::number(r.connection), "Keep-Alive: timeout=1, max=100\r\n"));
            });
            AsyncSession session;
            const Reqivo::Endpoint ep = endpointOf(server);
            CO_EXPECT_OK(co_await attempt(session.get(server.url())));
            const Outcome soon = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(soon);
            CO_VERIFY2(soon.response.connectionReused(),
                "a connection the server keeps for 1 s is reusable at once");
            CO_COMPARE(session.pool()->idleCount(ep), 1);

            QElapsedTimer timer;
            timer.start();
            CO_VERIFY(co_await waitUntil([&] { return session.pool()->idleCount(ep) == 0; }, 3s));
            CO_VERIFY2(
                timer.elapsed() <= 1100, qPrintable(u"dropped after %1 ms"_s.arg(timer.elapsed())));
            // The client closed it: the server sees the connection end.
            CO_VERIFY(co_await waitUntil([&] { return server.openConnections() == 0; }, 2s));
            const Outcome later = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(later);
            CO_COMPARE(later.response.body(), QByteArray("2"));
            CO_COMPARE(server.connectionCount(), 2);
        }());
    }

    // RFC 9112 §9.3: an HTTP/1.0 response is persistent only with "Connection: keep-alive".
    void http10KeepAliveIsReused()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                c.write("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n"
                    + QByteArray::number(r.connection) + '.'
                    + QByteArray::number(r.indexOnConnection));
            });
            AsyncSession session;
            CO_EXPECT_OK(co_await attempt(session.get(server.url())));
            const Outcome second = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(second);
            CO_COMPARE(second.response.httpVersion(), u"1.0"_s);
            CO_COMPARE(second.response.body(), QByteArray("1.1"));
            CO_VERIFY(second.response.connectionReused());
        }());
    }

    // A streamed body nobody reads to the end: dropping the last copy of the Response closes
    // its connection (a half-read connection can never be reused).
    void droppedStreamedResponseClosesItsConnection()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(200, QByteArray(100000, 'd')));
            });
            AsyncSession session;
            {
                const Outcome o
                    = co_await attempt(session.get(server.url(), RequestOptions().streaming()));
                CO_EXPECT_OK(o);
                Response copy = o.response;
                const QByteArray first = co_await copy.readChunk(10);
                CO_COMPARE(first.size(), qsizetype(10));
                CO_COMPARE(session.pool()->activeCount(endpointOf(server)), 1);
            }
            CO_COMPARE(session.pool()->activeCount(endpointOf(server)), 0);
            CO_COMPARE(session.pool()->totalCount(), 0);
            CO_VERIFY(co_await waitUntil([&] { return server.openConnections() == 0; }));
        }());
    }

    // PoolOptions::maxTotal bounds connections across endpoints.
    void totalCapAcrossEndpoints()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const auto slow = [](ServerConnection &c, const ReceivedRequest &r) {
                QTimer::singleShot(50ms, &c, [&c, r] { c.write(httpResponse(200, r.target)); });
            };
            FaultServer a(slow);
            FaultServer b(slow);
            AsyncSession session;
            Reqivo::PoolOptions options;
            options.maxTotal = 2;
            session.pool()->setOptions(options);
            std::vector<QCoro::Task<Response>> tasks;
            for (int i = 0; i < 6; ++i)
                tasks.push_back(session.get((i % 2 ? a : b).url(u"/%1"_s.arg(i))));
            CO_VERIFY(session.pool()->totalCount() <= 2);
            for (size_t i = 0; i < tasks.size(); ++i) {
                const Outcome o = co_await attempt(std::move(tasks[i]));
                CO_EXPECT_OK(o);
                CO_COMPARE(o.response.body(), "/" + QByteArray::number(qsizetype(i)));
                CO_VERIFY(session.pool()->totalCount() <= 2);
            }
            CO_VERIFY(a.connectionCount() >= 1 && b.connectionCount() >= 1);
        }());
    }

    // PoolOptions::maxIdleTime: an idle connection older than that is closed by the pool.
    void maxIdleTimeExpiresIdleConnection()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answerWithWhere);
            AsyncSession session;
            Reqivo::PoolOptions options;
            options.maxIdleTime = 300ms;
            session.pool()->setOptions(options);
            CO_EXPECT_OK(co_await attempt(session.get(server.url())));
            CO_COMPARE(session.pool()->idleCount(endpointOf(server)), 1);
            QElapsedTimer timer;
            timer.start();
            CO_VERIFY(co_await waitUntil(
                [&] { return session.pool()->idleCount(endpointOf(server)) == 0; }, 3s));
            CO_VERIFY2(timer.elapsed() >= 200 && timer.elapsed() <= 1500,
                qPrintable(u"dropped after %1 ms"_s.arg(timer.elapsed())));
            CO_VERIFY(co_await waitUntil([&] { return server.openConnections() == 0; }, 2s));
        }());
    }

    void closeIdleConnectionsClosesThem()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answerWithWhere);
            AsyncSession session;
            CO_EXPECT_OK(co_await attempt(session.get(server.url())));
            CO_COMPARE(server.openConnections(), 1);
            session.closeIdleConnections();
            CO_COMPARE(session.pool()->totalCount(), 0);
            CO_VERIFY(co_await waitUntil([&] { return server.openConnections() == 0; }));
            const Outcome again = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(again);
            CO_COMPARE(again.response.body(), QByteArray("2.0"));
        }());
    }

    // maxPerHost = 2 and five requests at once: two connections carry all five, the other
    // requests wait for a slot, and the server never sees a third connection.
    void poolCapBoundsConnections()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                QTimer::singleShot(50ms, &c, [&c, r] { c.write(httpResponse(200, r.target)); });
            });
            AsyncSession session;
            Reqivo::PoolOptions options;
            options.maxPerHost = 2;
            session.pool()->setOptions(options);

            std::vector<QCoro::Task<Response>> tasks;
            for (int i = 0; i < 5; ++i)
                tasks.push_back(session.get(server.url(u"/r%1"_s.arg(i))));
            CO_COMPARE(session.pool()->waitingCount(), 3);
            CO_VERIFY(session.pool()->totalCount() <= 2);
            for (int i = 0; i < 5; ++i) {
                const Outcome o = co_await attempt(std::move(tasks[i]));
                CO_EXPECT_OK(o);
                CO_COMPARE(o.response.body(), "/r" + QByteArray::number(i));
            }
            CO_COMPARE(server.connectionCount(), 2);
            CO_COMPARE(server.maxOpenConnections(), 2);
            CO_COMPARE(server.requests().size(), qsizetype(5));
            CO_COMPARE(session.pool()->debugSummary(),
                u"http://127.0.0.1:%1 idle=2 active=0 | total=2/100 waiting=0"_s.arg(
                    server.port()));
        }());
    }

    // A full pool makes later callers wait, at most Timeout::poolAcquire.
    void poolAcquireTimeout()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                QTimer::singleShot(1500ms, &c, [&c] { c.write(httpResponse(200, "slow")); });
            });
            AsyncSession session;
            Reqivo::PoolOptions options;
            options.maxPerHost = 1;
            session.pool()->setOptions(options);
            Reqivo::Timeout t;
            t.poolAcquire = 200ms;
            session.setTimeout(t);

            QCoro::Task<Response> slow = session.get(server.url());
            const Outcome waiting = co_await attempt(session.get(server.url()));
            CO_EXPECT_ERROR(waiting, "PoolTimeout");
            CO_VERIFY2(waiting.took >= 150ms && waiting.took < 1200ms,
                qPrintable(u"gave up after %1 ms"_s.arg(waiting.took.count())));
            const Outcome first = co_await attempt(std::move(slow));
            CO_EXPECT_OK(first);
            CO_COMPARE(server.connectionCount(), 1);
            CO_COMPARE(server.requests().size(), qsizetype(1));
        }());
    }
};

QTEST_GUILESS_MAIN(TestSessionKeepAlive)
#include "tst_session_keepalive.moc"
