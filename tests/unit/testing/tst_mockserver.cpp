// Reqivo::Testing::MockServer seen from outside: by Reqivo's own clients (coroutines, Reply,
// AsyncEventSource, the blocking Session) and by a raw QTcpSocket that reads the exact bytes.
#include <Reqivo/AsyncEventSource>
#include <Reqivo/AsyncSession>
#include <Reqivo/Errors>
#include <Reqivo/Reply>
#include <Reqivo/Session>
#include <Reqivo/Testing/MockServer>

#include "support/qcorotest.h"

#include <QBuffer>
#include <QCoroSignal>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QThread>

#include <memory>

using namespace std::chrono_literals;
using namespace Reqivo::Testing;
using ReqivoTest::thrown;

namespace {

// Reads from \a socket until \a done says the bytes are complete or the peer closes.
template<typename Done>
QByteArray readUntil(QTcpSocket &socket, Done done, std::chrono::milliseconds timeout = 5s)
{
    QByteArray got;
    QElapsedTimer clock;
    clock.start();
    while (!done(got) && clock.elapsed() < timeout.count()) {
        if (socket.bytesAvailable() == 0 && socket.state() != QAbstractSocket::ConnectedState)
            break;
        if (socket.bytesAvailable() == 0)
            QSignalSpy(&socket, &QTcpSocket::readyRead).wait(100);
        got += socket.readAll();
    }
    return got;
}

// Everything until the peer closes.
QByteArray readToClose(QTcpSocket &socket)
{
    QByteArray got = socket.readAll();
    QObject context;
    QObject::connect(
        &socket, &QTcpSocket::readyRead, &context, [&got, &socket] { got += socket.readAll(); });
    QSignalSpy closed(&socket, &QTcpSocket::disconnected);
    if (socket.state() == QAbstractSocket::ConnectedState)
        closed.wait(5000);
    return got + socket.readAll();
}

bool connectTo(QTcpSocket &socket, const MockServer &server)
{
    socket.connectToHost(QHostAddress::LocalHost, server.port());
    return socket.waitForConnected(5000);
}

Reqivo::Timeout readTimeout(std::chrono::milliseconds read)
{
    Reqivo::Timeout t;
    t.read = read;
    return t;
}

} // namespace

class tst_MockServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void queueInOrderThenDefault();
    void dispatcherChooses();
    void dispatcherKeepsItsState();
    void recordsEveryField();
    void chunkedRequestBody();
    void keepAliveCountsReuse();
    void pipelinedRequestsAnsweredInOrder();
    void headHasNoBody();
    void chunkedResponseBody();
    void headDelay();
    void throttledBody();
    void disconnectAfterBytes_data();
    void disconnectAfterBytes();
    void stall();
    void reset();
    void closeBeforeHead();
    void tlsTrusted();
    void tlsRefusedWithoutTheCa();
    void eventStream();
    void waitForRequestWithReply();
    void nextRequestWithQCoro();
    void fromAnotherThread();
    void destroyedWithConnectionsOpen();
    void scriptedExactBytes();
    void scriptedRawBytes();
    void tlsOrPlainOnOnePort();
    void countsOpenConnections();
};

void tst_MockServer::queueInOrderThenDefault()
{
    MockServer server;
    server.enqueue(MockResponse::text(QStringLiteral("one")));
    server.enqueue(MockResponse::json(R"({"n":2})", 201));
    QVERIFY(server.start());
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        const Reqivo::Response first = co_await session.get(server.url(QStringLiteral("/a")));
        CO_COMPARE(first.status(), 200);
        CO_COMPARE(first.body(), QByteArray("one"));
        CO_COMPARE(
            first.headers().value("content-type"), QByteArrayView("text/plain; charset=utf-8"));
        const Reqivo::Response second = co_await session.get(server.url(QStringLiteral("/b")));
        CO_COMPARE(second.status(), 201);
        CO_COMPARE(second.body(), QByteArray(R"({"n":2})"));
        const Reqivo::Response third = co_await session.get(server.url(QStringLiteral("/c")));
        CO_COMPARE(third.status(), 404);
    }());
    QCOMPARE(server.requestCount(), 3);
    QCOMPARE(server.takeRequest()->target, QByteArray("/a"));
    QCOMPARE(server.takeRequest()->target, QByteArray("/b"));
    QCOMPARE(server.takeRequest()->target, QByteArray("/c"));
    QVERIFY(!server.takeRequest());
}

void tst_MockServer::dispatcherChooses()
{
    MockServer server;
    server.enqueue(MockResponse::text(QStringLiteral("from the queue")));
    server.setDispatcher([](const RecordedRequest &r) {
        if (r.path() == QStringLiteral("/users/1"))
            return MockResponse::json(R"({"id":1})");
        return MockResponse(404).setBody("no " + r.target);
    });
    QVERIFY(server.start());
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        const auto found = co_await session.get(server.url(QStringLiteral("/users/1?x=y")));
        CO_COMPARE(found.status(), 200);
        CO_COMPARE(found.body(), QByteArray(R"({"id":1})"));
        const auto missing = co_await session.get(server.url(QStringLiteral("/users/2")));
        CO_COMPARE(missing.status(), 404);
        CO_COMPARE(missing.body(), QByteArray("no /users/2"));
    }());
    // An empty dispatcher restores the queue.
    server.setDispatcher({});
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        const auto queued = co_await session.get(server.url(QStringLiteral("/x")));
        CO_COMPARE(queued.body(), QByteArray("from the queue"));
    }());
}

void tst_MockServer::dispatcherKeepsItsState()
{
    MockServer server;
    server.setDispatcher([count = 0](const RecordedRequest &) mutable {
        return MockResponse().setBody(QByteArray::number(count++));
    });
    QVERIFY(server.start());
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        for (int i = 0; i < 3; ++i)
            CO_COMPARE((co_await session.get(server.url())).body(), QByteArray::number(i));
    }());
}

void tst_MockServer::recordsEveryField()
{
    MockServer server;
    QVERIFY(server.start());
    QSignalSpy received(&server, &MockServer::requestReceived);
    QTcpSocket socket;
    QVERIFY(connectTo(socket, server));
    socket.write("POST /upload?kind=a HTTP/1.1\r\nHost: 127.0.0.1\r\nX-B: 2\r\nx-a:  1 \r\n"
                 "X-B: 3\r\nContent-Length: 5\r\n\r\nhello"
                 "GET /second HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QTRY_COMPARE(server.requestCount(), 2);
    QCOMPARE(received.size(), 2);
    const RecordedRequest r = server.requests().at(0);
    QCOMPARE(r.method, QByteArray("POST"));
    QCOMPARE(r.target, QByteArray("/upload?kind=a"));
    QCOMPARE(r.path(), QStringLiteral("/upload"));
    QCOMPARE(r.httpVersion, QByteArray("HTTP/1.1"));
    const QList<std::pair<QByteArray, QByteArray>> expected {
        {"Host", "127.0.0.1"}, {"X-B", "2"}, {"x-a", "1"}, {"X-B", "3"}, {"Content-Length", "5"}};
    QCOMPARE(r.headers, expected);
    QCOMPARE(r.header("X-A"), QByteArray("1"));
    QCOMPARE(r.header("x-b"), QByteArray("2"));
    QVERIFY(r.hasHeader("content-length"));
    QVERIFY(!r.hasHeader("x-c"));
    QCOMPARE(r.body, QByteArray("hello"));
    QVERIFY(!r.chunked);
    QVERIFY(!r.tls);
    QCOMPARE(r.sequenceNumber, 0);
    QCOMPARE(r.connectionIndex, 0);
    QCOMPARE(r.indexOnConnection, 0);
    const RecordedRequest second = server.requests().at(1);
    QCOMPARE(second.sequenceNumber, 1);
    QCOMPARE(second.indexOnConnection, 1);
    QCOMPARE(second.body, QByteArray());
    QCOMPARE(received.at(0).at(0).value<RecordedRequest>().target, r.target);

    // A second connection: the next connection index, its own request index.
    QTcpSocket other;
    QVERIFY(connectTo(other, server));
    other.write("DELETE http://127.0.0.1/abs/path?q HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QTRY_COMPARE(server.requestCount(), 3);
    const RecordedRequest third = server.requests().at(2);
    QCOMPARE(third.connectionIndex, 1);
    QCOMPARE(third.indexOnConnection, 0);
    QCOMPARE(third.sequenceNumber, 2);
    QCOMPARE(third.path(), QStringLiteral("/abs/path"));
    QCOMPARE(server.connectionCount(), 2);
}

void tst_MockServer::chunkedRequestBody()
{
    MockServer server;
    QVERIFY(server.start());
    QTcpSocket socket;
    QVERIFY(connectTo(socket, server));
    socket.write("PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhel");
    socket.flush();
    QTRY_VERIFY(socket.bytesToWrite() == 0);
    socket.write("lo\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    QTRY_COMPARE(server.requestCount(), 1);
    const RecordedRequest r = server.requests().at(0);
    QCOMPARE(r.body, QByteArray("hello world"));
    QVERIFY(r.chunked);
    QCOMPARE(r.header("x-trailer"), QByteArray("t"));
    const QByteArray answer
        = readUntil(socket, [](const QByteArray &b) { return b.contains("\r\n\r\n"); });
    QVERIFY2(answer.startsWith("HTTP/1.1 404 Not Found\r\n"), answer.constData());

    // From Reqivo: a body of unknown size goes chunked.
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        QBuffer device;
        device.setData("abc");
        device.open(QIODevice::ReadOnly);
        const auto response = co_await session.post(
            server.url(QStringLiteral("/d")), Reqivo::Body::fromDevice(&device));
        CO_COMPARE(response.status(), 404);
    }());
    QCOMPARE(server.requests().at(1).body, QByteArray("abc"));
}

void tst_MockServer::keepAliveCountsReuse()
{
    MockServer server;
    server.setDefaultResponse(MockResponse::text(QStringLiteral("ok")));
    QVERIFY(server.start());
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        for (int i = 0; i < 3; ++i) {
            const auto response = co_await session.get(server.url(QStringLiteral("/k")));
            CO_COMPARE(response.body(), QByteArray("ok"));
        }
    }());
    QCOMPARE(server.connectionCount(), 1);
    const auto requests = server.requests();
    QCOMPARE(requests.size(), 3);
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(requests[i].connectionIndex, 0);
        QCOMPARE(requests[i].indexOnConnection, i);
    }
    // "Connection: close" from the client: the server closes after its answer.
    QTcpSocket socket;
    QVERIFY(connectTo(socket, server));
    socket.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const QByteArray all = readToClose(socket);
    QVERIFY2(all.contains("Connection: close\r\n"), all.constData());
    QVERIFY(all.endsWith("\r\n\r\nok"));
}

void tst_MockServer::pipelinedRequestsAnsweredInOrder()
{
    MockServer server;
    // The first answer is late: the second must still come after it.
    server.enqueue(MockResponse::text(QStringLiteral("first")).setHeadDelay(100ms));
    server.enqueue(MockResponse::text(QStringLiteral("second")));
    QVERIFY(server.start());
    QTcpSocket socket;
    QVERIFY(connectTo(socket, server));
    socket.write("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
    const QByteArray both
        = readUntil(socket, [](const QByteArray &b) { return b.endsWith("second"); });
    QVERIFY2(both.indexOf("first") >= 0 && both.indexOf("first") < both.indexOf("second"),
        both.constData());
    QCOMPARE(server.requestCount(), 2);
}

void tst_MockServer::headHasNoBody()
{
    MockServer server;
    server.enqueue(MockResponse::text(QStringLiteral("12345")));
    server.enqueue(MockResponse::text(QStringLiteral("after")));
    QVERIFY(server.start());
    QTcpSocket socket;
    QVERIFY(connectTo(socket, server));
    socket.write("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const QByteArray both
        = readUntil(socket, [](const QByteArray &b) { return b.endsWith("after"); });
    const qsizetype firstEnd = both.indexOf("\r\n\r\n") + 4;
    QVERIFY(both.left(firstEnd).contains("Content-Length: 5\r\n"));
    QVERIFY2(both.mid(firstEnd).startsWith("HTTP/1.1 200 OK\r\n"), both.constData());
}

void tst_MockServer::chunkedResponseBody()
{
    MockServer server;
    server.enqueue(MockResponse().setChunkedBody("abcdefg", 3).setHeader("X-Y", "z"));
    QVERIFY(server.start());
    QTcpSocket socket;
    QVERIFY(connectTo(socket, server));
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const QByteArray all
        = readUntil(socket, [](const QByteArray &b) { return b.endsWith("0\r\n\r\n"); });
    QCOMPARE(all,
        QByteArray("HTTP/1.1 200 OK\r\nX-Y: z\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "3\r\nabc\r\n3\r\ndef\r\n1\r\ng\r\n0\r\n\r\n"));
    server.enqueue(MockResponse().setChunkedBody("abcdefg", 3));
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        const auto response = co_await session.get(server.url());
        CO_COMPARE(response.body(), QByteArray("abcdefg"));
    }());
}

void tst_MockServer::headDelay()
{
    MockServer server;
    server.enqueue(MockResponse::text(QStringLiteral("late")).setHeadDelay(10s));
    server.enqueue(MockResponse::text(QStringLiteral("soon")).setHeadDelay(50ms));
    QVERIFY(server.start());
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        Reqivo::RequestOptions opts;
        opts.timeout = readTimeout(200ms);
        const auto error = co_await thrown<Reqivo::ReqivoError>(
            session.get(server.url(QStringLiteral("/late")), opts));
        CO_VERIFY(error.has_value());
        CO_COMPARE(error->kind(), Reqivo::Error::Kind::ReadTimeout);
        const auto soon = co_await session.get(server.url(QStringLiteral("/soon")));
        CO_COMPARE(soon.body(), QByteArray("soon"));
    }());
}

void tst_MockServer::throttledBody()
{
    MockServer server;
    server.enqueue(MockResponse().setBody("aabbcc").throttleBody(2, 300ms));
    server.enqueue(MockResponse().setBody("aabbcc").throttleBody(2, 10ms));
    QVERIFY(server.start());
    QTcpSocket socket;
    QVERIFY(connectTo(socket, server));
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    // The head and the first piece come at once; the rest waits a period each.
    const QByteArray start
        = readUntil(socket, [](const QByteArray &b) { return b.endsWith("\r\n\r\naa"); });
    QVERIFY2(start.endsWith("Content-Length: 6\r\n\r\naa"), start.constData());
    QCOMPARE(socket.bytesAvailable(), 0);
    const QByteArray rest = readUntil(socket, [](const QByteArray &b) { return b.size() >= 4; });
    QCOMPARE(rest, QByteArray("bbcc"));
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        const auto response = co_await session.get(server.url());
        CO_COMPARE(response.body(), QByteArray("aabbcc"));
    }());
}

void tst_MockServer::disconnectAfterBytes_data()
{
    QTest::addColumn<qint64>("bytes");
    QTest::newRow("inside the head") << qint64(10);
    QTest::newRow("inside the body") << qint64(-3); // 3 bytes short of the whole response
}

void tst_MockServer::disconnectAfterBytes()
{
    QFETCH(qint64, bytes);
    const QByteArray full = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    const qint64 cut = bytes < 0 ? full.size() + bytes : bytes;
    MockServer server;
    server.enqueue(MockResponse().setBody("0123456789").disconnectAfter(cut));
    server.enqueue(MockResponse().setBody("0123456789").disconnectAfter(cut));
    QVERIFY(server.start());
    QTcpSocket socket;
    QVERIFY(connectTo(socket, server));
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    QCOMPARE(readToClose(socket), full.left(cut));
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        const auto error = co_await thrown<Reqivo::ReqivoError>(session.get(server.url()));
        CO_VERIFY(error.has_value());
        CO_VERIFY2(error->error().isA(Reqivo::Error::Kind::Network)
                || error->error().isA(Reqivo::Error::Kind::Protocol),
            error->what());
    }());
}

void tst_MockServer::stall()
{
    MockServer server;
    server.enqueue(MockResponse().setFault(MockResponse::Fault::Stall));
    QVERIFY(server.start());
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        Reqivo::RequestOptions opts;
        opts.timeout = readTimeout(100ms);
        const auto error = co_await thrown<Reqivo::ReqivoError>(session.get(server.url(), opts));
        CO_VERIFY(error.has_value());
        CO_COMPARE(error->kind(), Reqivo::Error::Kind::ReadTimeout);
    }());
    QCOMPARE(server.requestCount(), 1);
}

void tst_MockServer::reset()
{
    MockServer server;
    server.enqueue(MockResponse().setFault(MockResponse::Fault::Reset));
    server.enqueue(MockResponse().setFault(MockResponse::Fault::Reset));
    QVERIFY(server.start());
    QTcpSocket socket;
    QVERIFY(connectTo(socket, server));
    QSignalSpy errors(&socket, &QTcpSocket::errorOccurred);
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    QTRY_VERIFY(!errors.isEmpty());
    QCOMPARE(errors.at(0).at(0).value<QAbstractSocket::SocketError>(),
        QAbstractSocket::RemoteHostClosedError);
    // Qt reports ECONNRESET as RemoteHostClosedError too; the reset shows in that nothing, not
    // even the head, arrived and the connection is gone.
    QCOMPARE(socket.readAll(), QByteArray());
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        const auto error = co_await thrown<Reqivo::ReqivoError>(session.get(server.url()));
        CO_VERIFY(error.has_value());
        CO_VERIFY2(error->error().isA(Reqivo::Error::Kind::Network)
                || error->error().isA(Reqivo::Error::Kind::Protocol),
            error->what());
    }());
}

void tst_MockServer::closeBeforeHead()
{
    MockServer server;
    server.enqueue(MockResponse().setFault(MockResponse::Fault::CloseBeforeHead));
    server.enqueue(MockResponse().setFault(MockResponse::Fault::CloseBeforeHead));
    QVERIFY(server.start());
    QTcpSocket socket;
    QVERIFY(connectTo(socket, server));
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    QCOMPARE(readToClose(socket), QByteArray());
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        const auto error = co_await thrown<Reqivo::ReqivoError>(session.get(server.url()));
        CO_VERIFY(error.has_value());
        CO_VERIFY2(error->error().isA(Reqivo::Error::Kind::Network)
                || error->error().isA(Reqivo::Error::Kind::Protocol),
            error->what());
    }());
}

void tst_MockServer::tlsTrusted()
{
    MockServer server;
    server.useTls();
    QVERIFY(!server.caCertificate().isNull());
    server.enqueue(MockResponse::text(QStringLiteral("secure")));
    server.enqueue(MockResponse::text(QStringLiteral("by name")));
    QVERIFY(server.start());
    QCOMPARE(server.url().scheme(), QStringLiteral("https"));
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        Reqivo::TlsOptions tls;
        tls.useSystemCaCertificates = false;
        tls.caCertificates = {server.caCertificate()};
        session.setTlsOptions(tls);
        const auto response = co_await session.get(server.url());
        CO_COMPARE(response.body(), QByteArray("secure"));
        QUrl byName = server.url();
        byName.setHost(QStringLiteral("localhost"));
        const auto named = co_await session.get(byName);
        CO_COMPARE(named.body(), QByteArray("by name"));
    }());
    QVERIFY(server.requests().at(0).tls);
}

void tst_MockServer::tlsRefusedWithoutTheCa()
{
    MockServer server;
    server.useTls();
    server.enqueue(MockResponse::text(QStringLiteral("secure")));
    QVERIFY(server.start());
    MockServer other; // another CA: trusting it is not trusting this server
    other.useTls();
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        Reqivo::TlsOptions tls;
        tls.useSystemCaCertificates = false;
        tls.caCertificates = {other.caCertificate()};
        session.setTlsOptions(tls);
        const auto error = co_await thrown<Reqivo::ReqivoError>(session.get(server.url()));
        CO_VERIFY(error.has_value());
        CO_COMPARE(error->kind(), Reqivo::Error::Kind::Tls);
    }());
    QCOMPARE(server.requestCount(), 0);
}

void tst_MockServer::eventStream()
{
    MockServer server;
    MockEvent hello;
    hello.data = "hello\nworld";
    hello.event = "greeting";
    hello.id = "1";
    MockEvent comment;
    comment.comment = "keep-alive";
    MockEvent later;
    later.data = "later";
    later.delay = 30ms;
    server.enqueue(MockResponse::eventStream({hello, comment, later}, true));
    QVERIFY(server.start());
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncEventSource events(server.url(QStringLiteral("/feed")));
        const auto first = co_await events.next();
        CO_VERIFY(first.has_value());
        CO_COMPARE(first->data, QStringLiteral("hello\nworld"));
        CO_COMPARE(first->type, QStringLiteral("greeting"));
        CO_COMPARE(first->lastEventId, QStringLiteral("1"));
        const auto second = co_await events.next();
        CO_VERIFY(second.has_value());
        CO_COMPARE(second->data, QStringLiteral("later"));
    }());
    const RecordedRequest r = *server.takeRequest();
    QCOMPARE(r.header("accept"), QByteArray("text/event-stream"));
}

void tst_MockServer::waitForRequestWithReply()
{
    MockServer server;
    server.enqueue(MockResponse::text(QStringLiteral("reply")));
    QVERIFY(server.start());
    QVERIFY(!server.waitForRequest(0ms));
    Reqivo::AsyncSession session;
    Reqivo::Reply *reply
        = session.sendPost(server.url(QStringLiteral("/r")), Reqivo::Body::fromBytes("payload"));
    QSignalSpy finished(reply, &Reqivo::Reply::finished);
    QVERIFY(server.waitForRequest());
    const auto request = server.takeRequest();
    QVERIFY(request);
    QCOMPARE(request->method, QByteArray("POST"));
    QCOMPARE(request->body, QByteArray("payload"));
    QTRY_VERIFY(!finished.isEmpty());
    QCOMPARE(reply->response().body(), QByteArray("reply"));
    // Nothing more comes: a short wait says so.
    QVERIFY(!server.waitForRequest(20ms));
}

void tst_MockServer::nextRequestWithQCoro()
{
    MockServer server;
    server.setDefaultResponse(MockResponse(204));
    QVERIFY(server.start());
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        Reqivo::Reply *reply = session.sendGet(server.url(QStringLiteral("/co")));
        const auto request = co_await server.nextRequest();
        CO_VERIFY(request.has_value());
        CO_COMPARE(request->target, QByteArray("/co"));
        co_await qCoro(reply, &Reqivo::Reply::finished);
        CO_COMPARE(reply->response().status(), 204);
        const auto none = co_await server.nextRequest(20ms);
        CO_VERIFY(!none.has_value());
    }());
}

void tst_MockServer::fromAnotherThread()
{
    QThread thread;
    thread.start();
    auto server = std::make_unique<MockServer>();
    server->moveToThread(&thread);
    server->enqueue(MockResponse::text(QStringLiteral("threaded")));
    bool started = false;
    QMetaObject::invokeMethod(
        server.get(), [&] { started = server->start(); }, Qt::BlockingQueuedConnection);
    QVERIFY(started);
    // The blocking client on this thread; the server answers on its own.
    Reqivo::Session session;
    const Reqivo::Response response = session.get(server->url(QStringLiteral("/t")));
    QCOMPARE(response.body(), QByteArray("threaded"));
    QVERIFY(server->waitForRequest());
    QCOMPARE(server->takeRequest()->target, QByteArray("/t"));
    QMetaObject::invokeMethod(
        server.get(), [&] { server.reset(); }, Qt::BlockingQueuedConnection);
    thread.quit();
    thread.wait();
}

void tst_MockServer::destroyedWithConnectionsOpen()
{
    auto server = std::make_unique<MockServer>();
    server->enqueue(MockResponse().setFault(MockResponse::Fault::Stall));
    server->enqueue(MockResponse().setBody("x").throttleBody(1, 1s));
    QVERIFY(server->start());
    QTcpSocket stalled;
    QVERIFY(connectTo(stalled, *server));
    stalled.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    QTcpSocket slow;
    QVERIFY(connectTo(slow, *server));
    slow.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    QTcpSocket idle;
    QVERIFY(connectTo(idle, *server));
    QTRY_COMPARE(server->requestCount(), 2);
    QCOMPARE(server->connectionCount(), 3);
    QSignalSpy closed(&stalled, &QTcpSocket::disconnected);
    server.reset(); // sockets, timers and handlers go with it (ASan: no leak, no use after free)
    QTRY_VERIFY(!closed.isEmpty());
}

void tst_MockServer::scriptedExactBytes()
{
    MockServer server;
    server.enqueue(MockResponse::text(QStringLiteral("never used: scripted mode")));
    int accepted = 0;
    server.setAcceptHandler([&accepted](ScriptedConnection &) { ++accepted; });
    server.setRequestHandler([](ScriptedConnection &c, const RecordedRequest &r) {
        c.write("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n" + r.target.right(3));
    });
    QVERIFY(server.start());
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        const auto response = co_await session.get(server.url(QStringLiteral("/abc")));
        CO_COMPARE(response.body(), QByteArray("abc"));
    }());
    QCOMPARE(accepted, 1);
    QCOMPARE(server.requestCount(), 1);
    const RecordedRequest r = server.requests().at(0);
    QVERIFY2(r.head.startsWith("GET /abc HTTP/1.1\r\n"), r.head.constData());
    QVERIFY(!r.head.endsWith("\r\n"));
    const auto connections = server.scriptedConnections();
    QCOMPARE(connections.size(), 1);
    QVERIFY(connections.at(0));
    QCOMPARE(connections.at(0)->index(), 0);
    QCOMPARE(server.bytesReceived(), qint64(connections.at(0)->received().size()));
    QVERIFY(connections.at(0)->received().startsWith(r.head));
}

void tst_MockServer::scriptedRawBytes()
{
    MockServer server;
    server.setRawHandler([](ScriptedConnection &c, const QByteArray &bytes) {
        c.write(bytes.toUpper());
        if (bytes.contains('.'))
            c.close();
    });
    QVERIFY(server.start());
    QTcpSocket socket;
    QVERIFY(connectTo(socket, server));
    socket.write("not http at all.");
    QCOMPARE(readToClose(socket), QByteArray("NOT HTTP AT ALL."));
    QCOMPARE(server.requestCount(), 0);
}

void tst_MockServer::tlsOrPlainOnOnePort()
{
    MockServer server;
    server.useTls(MockServer::TlsMode::TlsOrPlain);
    server.setDefaultResponse(MockResponse::text(QStringLiteral("either")));
    QVERIFY(server.start());
    QUrl plain = server.url();
    plain.setScheme(QStringLiteral("http"));
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncSession session;
        Reqivo::TlsOptions tls;
        tls.caCertificates = {server.caCertificate()};
        session.setTlsOptions(tls);
        CO_COMPARE((co_await session.get(plain)).body(), QByteArray("either"));
        CO_COMPARE((co_await session.get(server.url())).body(), QByteArray("either"));
    }());
    QCOMPARE(server.requestCount(), 2);
    QVERIFY(!server.requests().at(0).tls);
    QVERIFY(server.requests().at(1).tls);
    QCOMPARE(server.connectionCount(), 2);
}

void tst_MockServer::countsOpenConnections()
{
    MockServer server;
    QVERIFY(server.start());
    QTcpSocket first;
    QTcpSocket second;
    QVERIFY(connectTo(first, server));
    QVERIFY(connectTo(second, server));
    QTRY_COMPARE(server.openConnectionCount(), 2);
    first.disconnectFromHost();
    QTRY_COMPARE(server.openConnectionCount(), 1);
    QCOMPARE(server.maxOpenConnectionCount(), 2);
    QCOMPARE(server.connectionCount(), 2);
}

QTEST_GUILESS_MAIN(tst_MockServer)
#include "tst_mockserver.moc"
