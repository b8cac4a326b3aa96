// MockServer over HTTP/2: a real AsyncSession against it over TLS (h2 by ALPN, trusting the
// server's CA) and cleartext (prior knowledge); requests recorded per stream (method, target,
// fields, body, connection and stream order), concurrent streams on one connection, bodies far
// beyond the default flow-control windows both ways, every fault seen as the right client error,
// an event stream over h2, and nghttp2's own client (nghttp) as a conformance check from a tool
// this project did not write.
#include "integration/session/sessiontest.h"

#include <Reqivo/AsyncEventSource>
#include <Reqivo/AsyncSession>
#include <Reqivo/Body>
#include <Reqivo/Testing/MockServer>
#include <Reqivo/WhenAll>

#include <QCryptographicHash>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <memory>
#include <set>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::HttpVersion;
using Reqivo::RequestOptions;
using Reqivo::Response;
using Reqivo::Testing::MockEvent;
using Reqivo::Testing::MockResponse;
using Reqivo::Testing::MockServer;
using Reqivo::Testing::RecordedRequest;

namespace {

// A session that trusts \a server's CA (TLS) or speaks HTTP/2 from the first byte (cleartext).
std::unique_ptr<AsyncSession> sessionFor(const MockServer &server, bool tls)
{
    auto session = std::make_unique<AsyncSession>();
    session->setProxyFromEnvironment(false);
    if (tls) {
        Reqivo::TlsOptions options;
        options.caCertificates = {server.caCertificate()};
        options.useSystemCaCertificates = false;
        session->setTlsOptions(options);
    } else {
        session->setHttpVersion(HttpVersion::Http2PriorKnowledge);
    }
    return session;
}

void startServer(MockServer &server, bool tls)
{
    if (tls)
        server.useTls();
    server.setProtocols(MockServer::Protocols::Http2Only);
    QVERIFY(server.start());
}

QByteArray pattern(qsizetype size)
{
    QByteArray data(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        data[i] = char((i * 131 + i / 4096) & 0xff);
    return data;
}

Reqivo::Timeout shortRead(std::chrono::milliseconds read)
{
    Reqivo::Timeout t = Reqivo::Timeout::all(10s);
    t.read = read;
    return t;
}

} // namespace

class TestMockServerHttp2 : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void requestRecorded_data();
    void requestRecorded();
    void concurrentStreamsOnOneConnection_data();
    void concurrentStreamsOnOneConnection();
    void bigBodiesBothWays();
    void headAndNoContentCarryNoBody();
    void headDelayAndThrottleStillDeliver();
    void resetIsAStreamReset();
    void closeBeforeHeadEndsTheConnection();
    void disconnectAfterCutsTheBody_data();
    void disconnectAfterCutsTheBody();
    void stallTimesOut();
    void webSocketScriptIsRefusedOverHttp2();
    void eventStreamOverHttp2();
    void http1AndHttp2ByAlpn();
    void http1AndH2cInCleartext();
    void stopWithStreamsOpen();
    void nghttpClient();
};

void TestMockServerHttp2::requestRecorded_data()
{
    QTest::addColumn<bool>("tls");
    QTest::addRow("h2 over TLS") << true;
    QTest::addRow("h2c prior knowledge") << false;
}

void TestMockServerHttp2::requestRecorded()
{
    QFETCH(bool, tls);
    MockServer server;
    startServer(server, tls);
    server.enqueue(MockResponse::json(R"({"id": 7})", 201).addHeader("X-Custom", "yes"));
    RUN_CORO([&]() -> QCoro::Task<void> {
        const auto session = sessionFor(server, tls);
        const Outcome o = co_await attempt(session->post(server.url(u"/items?x=1"_s),
            Body::fromBytes("hello h2", "text/plain"), RequestOptions().header("X-Token", "abc")));
        CO_EXPECT_OK(o);
        CO_COMPARE(o.response.status(), 201);
        CO_COMPARE(o.response.httpVersion(), u"2"_s);
        CO_COMPARE(o.response.header("x-custom"), QByteArray("yes"));
        CO_COMPARE(o.response.header("content-type"), QByteArray("application/json"));
        CO_COMPARE(o.response.body(), QByteArray(R"({"id": 7})"));
    }());
    QCOMPARE(server.requestCount(), 1);
    const std::optional<RecordedRequest> r = server.takeRequest();
    QVERIFY(r);
    QCOMPARE(r->method, QByteArray("POST"));
    QCOMPARE(r->target, QByteArray("/items?x=1"));
    QCOMPARE(r->path(), u"/items"_s);
    QCOMPARE(r->httpVersion, QByteArray("HTTP/2"));
    QCOMPARE(r->body, QByteArray("hello h2"));
    QCOMPARE(r->header("x-token"), QByteArray("abc"));
    QCOMPARE(r->header("content-type"), QByteArray("text/plain"));
    QCOMPARE(r->header("host"), QByteArray("127.0.0.1:" + QByteArray::number(server.port())));
    QVERIFY(!r->chunked);
    QCOMPARE(r->tls, tls);
    QCOMPARE(r->sequenceNumber, 0);
    QCOMPARE(r->connectionIndex, 0);
    QCOMPARE(r->indexOnConnection, 0);
}

void TestMockServerHttp2::concurrentStreamsOnOneConnection_data()
{
    requestRecorded_data();
}

void TestMockServerHttp2::concurrentStreamsOnOneConnection()
{
    QFETCH(bool, tls);
    MockServer server;
    startServer(server, tls);
    // "/held" stays open (an event stream that never ends): the others complete beside it.
    server.setDispatcher([](const RecordedRequest &request) {
        if (request.path() == u"/held"_s)
            return MockResponse::eventStream({}, true);
        return MockResponse::text(request.path());
    });
    RUN_CORO([&]() -> QCoro::Task<void> {
        const auto session = sessionFor(server, tls);
        const Outcome held
            = co_await attempt(session->get(server.url(u"/held"_s), RequestOptions().streaming()));
        CO_EXPECT_OK(held);
        std::vector<QCoro::Task<Response>> tasks;
        for (int i = 0; i < 8; ++i)
            tasks.push_back(session->get(server.url(u"/r%1"_s.arg(i))));
        const std::vector<Response> responses = co_await Reqivo::whenAll(std::move(tasks));
        for (int i = 0; i < 8; ++i) {
            CO_COMPARE(responses[size_t(i)].status(), 200);
            CO_COMPARE(responses[size_t(i)].text(), u"/r%1"_s.arg(i));
            CO_COMPARE(responses[size_t(i)].httpVersion(), u"2"_s);
        }
    }());
    const QList<RecordedRequest> requests = server.requests();
    QCOMPARE(requests.size(), 9);
    QCOMPARE(server.connectionCount(), 1);
    std::set<int> indexes;
    std::set<int> sequence;
    for (const RecordedRequest &r : requests) {
        QCOMPARE(r.connectionIndex, 0);
        QCOMPARE(r.httpVersion, QByteArray("HTTP/2"));
        indexes.insert(r.indexOnConnection);
        sequence.insert(r.sequenceNumber);
    }
    QCOMPARE(indexes, (std::set<int> {0, 1, 2, 3, 4, 5, 6, 7, 8}));
    QCOMPARE(sequence, (std::set<int> {0, 1, 2, 3, 4, 5, 6, 7, 8}));
    QCOMPARE(requests.first().path(), u"/held"_s);
    QCOMPARE(requests.first().indexOnConnection, 0);
}

void TestMockServerHttp2::bigBodiesBothWays()
{
    // Far beyond HTTP/2's initial 64 KiB windows, both directions.
    const QByteArray download = pattern(6 * 1024 * 1024 + 17);
    const QByteArray upload = pattern(3 * 1024 * 1024 + 5);
    MockServer server;
    startServer(server, true);
    server.enqueue(MockResponse().setBody(download));
    RUN_CORO([&]() -> QCoro::Task<void> {
        const auto session = sessionFor(server, true);
        const Outcome o = co_await attempt(session->put(
            server.url(u"/big"_s), Body::fromBytes(upload, "application/octet-stream")));
        CO_EXPECT_OK(o);
        CO_COMPARE(o.response.httpVersion(), u"2"_s);
        CO_COMPARE(o.response.body().size(), download.size());
        CO_VERIFY(o.response.body() == download);
    }());
    const std::optional<RecordedRequest> r = server.takeRequest();
    QVERIFY(r);
    QCOMPARE(r->body.size(), upload.size());
    QVERIFY(r->body == upload);
}

void TestMockServerHttp2::headAndNoContentCarryNoBody()
{
    MockServer server;
    startServer(server, false);
    server.enqueue(MockResponse().setBody("not sent for HEAD"));
    server.enqueue(MockResponse(204));
    RUN_CORO([&]() -> QCoro::Task<void> {
        const auto session = sessionFor(server, false);
        const Outcome head = co_await attempt(session->head(server.url(u"/h"_s)));
        CO_EXPECT_OK(head);
        CO_COMPARE(head.response.status(), 200);
        CO_COMPARE(head.response.header("content-length"), QByteArray("17"));
        CO_VERIFY(head.response.body().isEmpty());
        const Outcome none = co_await attempt(session->deleteResource(server.url(u"/d"_s)));
        CO_EXPECT_OK(none);
        CO_COMPARE(none.response.status(), 204);
        CO_VERIFY(none.response.body().isEmpty());
    }());
    QCOMPARE(server.requests().size(), 2);
    QCOMPARE(server.requests().at(0).method, QByteArray("HEAD"));
    QCOMPARE(server.requests().at(1).method, QByteArray("DELETE"));
}

void TestMockServerHttp2::headDelayAndThrottleStillDeliver()
{
    const QByteArray body = pattern(40000);
    MockServer server;
    startServer(server, true);
    server.enqueue(MockResponse().setBody(body).setHeadDelay(50ms).throttleBody(10000, 10ms));
    server.enqueue(MockResponse().setChunkedBody(body, 1000));
    RUN_CORO([&]() -> QCoro::Task<void> {
        const auto session = sessionFor(server, true);
        const Outcome throttled = co_await attempt(session->get(server.url(u"/slow"_s)));
        CO_EXPECT_OK(throttled);
        CO_VERIFY(throttled.response.body() == body);
        const Outcome pieces = co_await attempt(session->get(server.url(u"/pieces"_s)));
        CO_EXPECT_OK(pieces);
        CO_VERIFY(pieces.response.body() == body);
        // One connection for both: nothing was closed.
        CO_VERIFY(pieces.response.connectionReused());
    }());
}

void TestMockServerHttp2::resetIsAStreamReset()
{
    MockServer server;
    startServer(server, true);
    server.enqueue(MockResponse().setFault(MockResponse::Fault::Reset));
    server.enqueue(MockResponse::text(u"after"_s));
    RUN_CORO([&]() -> QCoro::Task<void> {
        const auto session = sessionFor(server, true);
        const Outcome o = co_await attempt(session->get(server.url(u"/reset"_s)));
        CO_EXPECT_ERROR(o, "ProtocolError");
        CO_COMPARE(o.error.detail(), u"RST_STREAM INTERNAL_ERROR"_s);
        // The connection carries on.
        const Outcome after = co_await attempt(session->get(server.url(u"/after"_s)));
        CO_EXPECT_OK(after);
        CO_COMPARE(after.response.text(), u"after"_s);
        CO_VERIFY(after.response.connectionReused());
    }());
    QCOMPARE(server.connectionCount(), 1);
}

void TestMockServerHttp2::closeBeforeHeadEndsTheConnection()
{
    MockServer server;
    startServer(server, false);
    server.enqueue(MockResponse().setFault(MockResponse::Fault::CloseBeforeHead));
    server.enqueue(MockResponse::text(u"after"_s));
    RUN_CORO([&]() -> QCoro::Task<void> {
        const auto session = sessionFor(server, false);
        const Outcome o
            = co_await attempt(session->post(server.url(u"/close"_s), Body::fromBytes("x")));
        CO_VERIFY2(!o.ok(), qPrintable(o.describe()));
        CO_COMPARE(o.error.kind(), Reqivo::Error::Kind::Network);
        // A new connection serves the next request.
        const Outcome after = co_await attempt(session->get(server.url(u"/after"_s)));
        CO_EXPECT_OK(after);
        CO_VERIFY(!after.response.connectionReused());
    }());
    QCOMPARE(server.requestCount(), 2);
    QCOMPARE(server.connectionCount(), 2);
    QCOMPARE(server.requests().size(), 2);
    QCOMPARE(server.requests().at(1).connectionIndex, 1);
}

void TestMockServerHttp2::disconnectAfterCutsTheBody_data()
{
    requestRecorded_data();
}

void TestMockServerHttp2::disconnectAfterCutsTheBody()
{
    QFETCH(bool, tls);
    const QByteArray body = pattern(100000);
    MockServer server;
    startServer(server, tls);
    server.enqueue(MockResponse().setBody(body).disconnectAfter(30000));
    RUN_CORO([&]() -> QCoro::Task<void> {
        const auto session = sessionFor(server, tls);
        const Outcome o
            = co_await attempt(session->get(server.url(u"/cut"_s), RequestOptions().streaming()));
        CO_EXPECT_OK(o); // the head came
        CO_COMPARE(o.response.header("content-length"), QByteArray("100000"));
        Response response = o.response;
        QByteArray received;
        BytesOutcome piece;
        do {
            piece = co_await attemptBytes(response.readChunk(64 * 1024));
            received += piece.bytes;
        } while (piece.ok() && !piece.bytes.isEmpty());
        const Reqivo::Error error = piece.error;
        CO_VERIFY2(!error.isNull(), "the cut body must fail");
        CO_COMPARE(error.kind(), Reqivo::Error::Kind::Network);
        // Every byte that came before the connection closed is read before the error, even
        // when the last DATA and the close arrive together (as over TLS, close_notify with it).
        CO_COMPARE(received.size(), qsizetype(30000));
        CO_VERIFY(received == body.first(30000));
    }());
}

void TestMockServerHttp2::stallTimesOut()
{
    MockServer server;
    startServer(server, false);
    server.enqueue(MockResponse().setFault(MockResponse::Fault::Stall));
    RUN_CORO([&]() -> QCoro::Task<void> {
        const auto session = sessionFor(server, false);
        const Outcome o = co_await attempt(
            session->get(server.url(u"/stall"_s), RequestOptions().withTimeout(shortRead(200ms))));
        CO_EXPECT_ERROR(o, "ReadTimeout");
    }());
    QCOMPARE(server.requestCount(), 1);
}

void TestMockServerHttp2::webSocketScriptIsRefusedOverHttp2()
{
    MockServer server;
    startServer(server, true);
    server.enqueue(MockResponse::webSocket(Reqivo::Testing::WebSocketScript().sendText(u"x"_s)));
    RUN_CORO([&]() -> QCoro::Task<void> {
        const auto session = sessionFor(server, true);
        const Outcome o = co_await attempt(session->get(server.url(u"/ws"_s)));
        CO_EXPECT_ERROR(o, "ProtocolError");
        CO_COMPARE(o.error.detail(), u"RST_STREAM HTTP_1_1_REQUIRED"_s);
    }());
}

void TestMockServerHttp2::eventStreamOverHttp2()
{
    MockServer server;
    startServer(server, true);
    MockEvent first;
    first.data = "one";
    first.id = "1";
    MockEvent second;
    second.data = "two\nlines";
    second.event = "update";
    second.delay = 20ms;
    MockEvent comment;
    comment.comment = "keep-alive";
    MockEvent third;
    third.data = "three";
    third.id = "3";
    server.enqueue(MockResponse::eventStream({first, second, comment, third}, true));
    RUN_CORO([&]() -> QCoro::Task<void> {
        const auto session = sessionFor(server, true);
        std::unique_ptr<Reqivo::AsyncEventSource> events(
            session->eventSource(server.url(u"/events"_s)));
        const auto e1 = co_await events->next(10s);
        CO_VERIFY(e1);
        CO_COMPARE(e1->data, u"one"_s);
        CO_COMPARE(e1->lastEventId, u"1"_s);
        const auto e2 = co_await events->next(10s);
        CO_VERIFY(e2);
        CO_COMPARE(e2->type, u"update"_s);
        CO_COMPARE(e2->data, u"two\nlines"_s);
        const auto e3 = co_await events->next(10s);
        CO_VERIFY(e3);
        CO_COMPARE(e3->data, u"three"_s);
        CO_COMPARE(e3->lastEventId, u"3"_s);
        events->close();
    }());
    const std::optional<RecordedRequest> r = server.takeRequest();
    QVERIFY(r);
    QCOMPARE(r->httpVersion, QByteArray("HTTP/2"));
    QCOMPARE(r->header("accept"), QByteArray("text/event-stream"));
}

void TestMockServerHttp2::http1AndHttp2ByAlpn()
{
    MockServer server;
    server.useTls();
    server.setProtocols(MockServer::Protocols::Http1AndHttp2);
    QVERIFY(server.start());
    server.setDefaultResponse(MockResponse::text(u"ok"_s));
    RUN_CORO([&]() -> QCoro::Task<void> {
        const auto session = sessionFor(server, true);
        const Outcome h2 = co_await attempt(session->get(server.url(u"/a"_s)));
        CO_EXPECT_OK(h2);
        CO_COMPARE(h2.response.httpVersion(), u"2"_s);
        const Outcome h1 = co_await attempt(session->get(
            server.url(u"/b"_s), RequestOptions().withHttpVersion(HttpVersion::Http1_1)));
        CO_EXPECT_OK(h1);
        CO_COMPARE(h1.response.httpVersion(), u"1.1"_s);
    }());
    QCOMPARE(server.requests().size(), 2);
    QCOMPARE(server.requests().at(0).httpVersion, QByteArray("HTTP/2"));
    QCOMPARE(server.requests().at(1).httpVersion, QByteArray("HTTP/1.1"));
}

// Cleartext, both protocols: HTTP/1.1, or HTTP/2 for a client that starts with its preface.
void TestMockServerHttp2::http1AndH2cInCleartext()
{
    MockServer server;
    server.setProtocols(MockServer::Protocols::Http1AndHttp2);
    QVERIFY(server.start());
    server.setDefaultResponse(MockResponse::text(u"ok"_s));
    RUN_CORO([&]() -> QCoro::Task<void> {
        AsyncSession plain;
        plain.setProxyFromEnvironment(false);
        const Outcome h1 = co_await attempt(plain.get(server.url(u"/one"_s)));
        CO_EXPECT_OK(h1);
        CO_COMPARE(h1.response.httpVersion(), u"1.1"_s);
        const auto session = sessionFor(server, false);
        const Outcome h2
            = co_await attempt(session->post(server.url(u"/two"_s), Body::fromBytes("payload")));
        CO_EXPECT_OK(h2);
        CO_COMPARE(h2.response.httpVersion(), u"2"_s);
        CO_COMPARE(h2.response.text(), u"ok"_s);
    }());
    QCOMPARE(server.requests().size(), 2);
    QCOMPARE(server.requests().at(0).httpVersion, QByteArray("HTTP/1.1"));
    QCOMPARE(server.requests().at(1).httpVersion, QByteArray("HTTP/2"));
    QCOMPARE(server.requests().at(1).body, QByteArray("payload"));
    QCOMPARE(server.requests().at(1).connectionIndex, 1);
}

// stop() deletes the handler with streams open (an endless event stream, a stalled request):
// the client sees its connection close.
void TestMockServerHttp2::stopWithStreamsOpen()
{
    MockServer server;
    startServer(server, true);
    server.enqueue(MockResponse::eventStream({}, true));
    server.enqueue(MockResponse().setFault(MockResponse::Fault::Stall));
    RUN_CORO([&]() -> QCoro::Task<void> {
        const auto session = sessionFor(server, true);
        const Outcome open
            = co_await attempt(session->get(server.url(u"/feed"_s), RequestOptions().streaming()));
        CO_EXPECT_OK(open);
        Response feed = open.response;
        QCoro::Task<Response> stalled = session->get(server.url(u"/stalled"_s));
        CO_VERIFY(co_await waitUntil([&server] { return server.requestCount() == 2; }));
        server.stop();
        const BytesOutcome read = co_await attemptBytes(feed.readChunk());
        CO_VERIFY(!read.ok());
        CO_COMPARE(read.error.kind(), Reqivo::Error::Kind::Network);
        const Outcome second = co_await attempt(std::move(stalled));
        CO_VERIFY(!second.ok());
        CO_COMPARE(second.error.kind(), Reqivo::Error::Kind::Network);
    }());
}

// nghttp2's client against the mock: two concurrent streams (GET and POST with a body) over
// h2c and over TLS. nghttp -v exits non-zero on any protocol error it sees.
void TestMockServerHttp2::nghttpClient()
{
    const QString nghttp = QStandardPaths::findExecutable(u"nghttp"_s);
    QVERIFY2(!nghttp.isEmpty(), "nghttp not found: install nghttp2-client (tests/support/deps.sh)");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString upload = dir.filePath(u"upload.bin"_s);
    const QByteArray uploadBytes = pattern(200000);
    {
        QFile f(upload);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QCOMPARE(f.write(uploadBytes), uploadBytes.size());
    }
    const QByteArray body = pattern(300000).toBase64();
    for (const bool tls : {false, true}) {
        MockServer server;
        startServer(server, tls);
        server.setDispatcher([&body](const RecordedRequest &request) {
            if (request.path() == u"/cut"_s)
                return MockResponse().setBody(body).disconnectAfter(30000);
            return request.method == "POST"
                ? MockResponse::text(QString::number(request.body.size()))
                : MockResponse().setBody(body).addHeader("Content-Type", "text/plain");
        });
        QProcess process;
        process.setProgram(nghttp);
        process.setArguments({u"-v"_s, u"-d"_s, upload, server.url(u"/upload"_s).toString()});
        QSignalSpy finished(&process, &QProcess::finished);
        process.start();
        QVERIFY(finished.wait(20000));
        const QByteArray output = process.readAllStandardOutput();
        QVERIFY2(process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0,
            output.right(2000).constData());
        QVERIFY2(output.contains("200000"), output.right(2000).constData());
        QVERIFY(!output.contains("GOAWAY") || output.contains("error_code=NO_ERROR"));

        QProcess get;
        get.setProgram(nghttp);
        get.setArguments({server.url(u"/one"_s).toString(), server.url(u"/two"_s).toString()});
        QSignalSpy gotten(&get, &QProcess::finished);
        get.start();
        QVERIFY(gotten.wait(20000));
        QCOMPARE(get.exitCode(), 0);
        // Both bodies, their DATA frames interleaved as nghttp printed them.
        QCOMPARE(get.readAllStandardOutput().size(), 2 * body.size());

        // disconnectAfter(30000): exactly that much DATA, then the connection closes.
        QProcess cut;
        cut.setProgram(nghttp);
        cut.setArguments({u"-v"_s, u"-n"_s, server.url(u"/cut"_s).toString()});
        QSignalSpy cutDone(&cut, &QProcess::finished);
        cut.start();
        QVERIFY(cutDone.wait(20000));
        const QByteArray trace = cut.readAllStandardOutput();
        qint64 dataBytes = 0;
        static const QRegularExpression dataFrame(u"recv DATA frame <length=(\\d+)"_s);
        for (auto it = dataFrame.globalMatch(QString::fromLatin1(trace)); it.hasNext();)
            dataBytes += it.next().captured(1).toLongLong();
        QVERIFY2(dataBytes == 30000, trace.right(2000).constData());
        static const QRegularExpression endOfData(u"recv DATA frame <[^>]*flags=0x01"_s);
        QVERIFY(!endOfData.match(QString::fromLatin1(trace)).hasMatch()); // the body never ended

        const QList<RecordedRequest> requests = server.requests();
        QCOMPARE(requests.size(), 4);
        QCOMPARE(requests.at(0).method, QByteArray("POST"));
        QVERIFY(requests.at(0).body == uploadBytes);
        QCOMPARE(requests.at(0).tls, tls);
        QCOMPARE(requests.at(1).connectionIndex, requests.at(2).connectionIndex);
        QCOMPARE(requests.at(1).indexOnConnection + requests.at(2).indexOnConnection, 1);
    }
}

QTEST_GUILESS_MAIN(TestMockServerHttp2)
#include "tst_mockserver_http2.moc"
