// The opening handshake (RFC 6455 §4.1) judged from outside: the exact upgrade request the client
// writes, the 101 answers it must accept and the ones it must refuse, a refusal's HTTP status and
// header fields for the application (401 vs 503 without reading a message text), which refusals
// are retried, Set-Cookie on the 101 stored in the session's jar, and an unanswered handshake cut
// at openTimeout. The server is the scripted raw-TCP one of wsscripted.h.
#include "wsscripted.h"
#include "wstest.h"

#include <Reqivo/asyncsession.h>
#include <Reqivo/asyncwebsocket.h>
#include <Reqivo/cookiejar.h>
#include <Reqivo/errors.h>
#include <Reqivo/response.h>

#include <memory>

using namespace Reqivo;
using namespace ReqivoTest;
using namespace std::chrono_literals;

namespace {

//! The comma-separated tokens of every \a name field of \a request, trimmed, in order.
QByteArrayList tokens(const ReceivedRequest &request, QByteArrayView name)
{
    QByteArrayList out;
    for (const auto &[n, v] : request.fields) {
        if (QByteArrayView(n).compare(name, Qt::CaseInsensitive) != 0)
            continue;
        for (const QByteArray &token : v.split(','))
            out.append(token.trimmed());
    }
    return out;
}

int fieldCount(const ReceivedRequest &request, QByteArrayView name)
{
    int count = 0;
    for (const auto &f : request.fields) {
        if (QByteArrayView(f.first).compare(name, Qt::CaseInsensitive) == 0)
            ++count;
    }
    return count;
}

bool hasTokenIgnoringCase(const QByteArrayList &list, QByteArrayView token)
{
    for (const QByteArray &t : list) {
        if (QByteArrayView(t).compare(token, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

//! How many connections the server accepted before a probe connection made now: a retry
//! decided earlier (with no delay) reaches the server ahead of the probe.
QCoro::Task<int> connectionsBeforeProbe(WsScriptedServer *server)
{
    auto probe = std::make_unique<QTcpSocket>();
    probe->connectToHost(QHostAddress::LocalHost, server->port());
    const bool up
        = co_await eventually([&] { return probe->state() == QAbstractSocket::ConnectedState; });
    if (!up)
        co_return -1;
    const quint16 probePort = probe->localPort();
    int index = -1;
    co_await eventually([&] {
        for (qsizetype i = 0; i < server->connections.size(); ++i) {
            if (server->connections[i]->socket()->peerPort() == probePort) {
                index = int(i);
                return true;
            }
        }
        return false;
    });
    co_return index;
}

} // namespace

class TestWebSocketHandshake : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void upgradeRequest();
    void accepted_data();
    void accepted();
    void refused_data();
    void refused();
    void refusedStatusAndFields_data();
    void refusedStatusAndFields();
    void refusedStatusRetried_data();
    void refusedStatusRetried();
    void setCookieOn101GoesToTheSessionJar();
    void unansweredHandshakeTimesOut();
};

void TestWebSocketHandshake::upgradeRequest()
{
    WsScriptedServer server;
    server.extraFields101 = "Sec-WebSocket-Protocol: chat.v2\r\n";
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.subprotocols = QStringList {QStringLiteral("chat.v2"), QStringLiteral("chat.v1")};
        options.headers.set("X-Custom", "custom value");
        options.headers.set("X-Second", "2");
        AsyncWebSocket socket(server.url(QStringLiteral("/path?q")), options);
        co_await socket.open();
        CO_COMPARE(socket.subprotocol(), QStringLiteral("chat.v2"));
        CO_COMPARE(server.requests.size(), qsizetype(1));
        const ReceivedRequest request = server.requests.first();

        CO_COMPARE(request.method, QByteArray("GET"));
        CO_COMPARE(request.target, QByteArray("/path?q"));
        CO_COMPARE(request.version, QByteArray("HTTP/1.1"));
        CO_VERIFY2(request.head.startsWith("GET /path?q HTTP/1.1\r\n"), request.head.constData());
        CO_COMPARE(fieldCount(request, "Host"), 1);
        CO_COMPARE(request.field("Host"), "127.0.0.1:" + QByteArray::number(server.port()));
        CO_COMPARE(fieldCount(request, "Upgrade"), 1);
        CO_COMPARE(request.field("Upgrade").toLower(), QByteArray("websocket"));
        CO_VERIFY2(hasTokenIgnoringCase(tokens(request, "Connection"), "upgrade"),
            request.field("Connection").constData());
        CO_COMPARE(fieldCount(request, "Sec-WebSocket-Key"), 1);
        const QByteArray key = request.field("Sec-WebSocket-Key");
        const auto decoded
            = QByteArray::fromBase64Encoding(key, QByteArray::AbortOnBase64DecodingErrors);
        CO_VERIFY2(decoded.decodingStatus == QByteArray::Base64DecodingStatus::Ok, key.constData());
        CO_COMPARE(decoded.decoded.size(), qsizetype(16));
        CO_COMPARE(decoded.decoded.toBase64(), key); // canonical base64, 24 characters
        CO_COMPARE(fieldCount(request, "Sec-WebSocket-Version"), 1);
        CO_COMPARE(request.field("Sec-WebSocket-Version"), QByteArray("13"));
        CO_COMPARE(tokens(request, "Sec-WebSocket-Protocol"),
            (QByteArrayList {QByteArray("chat.v2"), QByteArray("chat.v1")}));
        CO_COMPARE(request.field("X-Custom"), QByteArray("custom value"));
        CO_COMPARE(request.field("X-Second"), QByteArray("2"));
        CO_VERIFY(!request.hasField("Sec-WebSocket-Extensions"));
        CO_VERIFY(!request.hasField("Content-Length"));
        CO_VERIFY(!request.hasField("Transfer-Encoding"));
        CO_VERIFY(request.body.isEmpty());

        // A fresh key for every handshake.
        AsyncWebSocket second(server.url(QStringLiteral("/path?q")), options);
        co_await second.open();
        CO_COMPARE(server.requests.size(), qsizetype(2));
        const QByteArray secondKey = server.requests[1].field("Sec-WebSocket-Key");
        CO_COMPARE(QByteArray::fromBase64(secondKey).size(), qsizetype(16));
        CO_VERIFY(secondKey != key);
    }());
}

void TestWebSocketHandshake::accepted_data()
{
    QTest::addColumn<QByteArray>("response"); // "{accept}" is the right Sec-WebSocket-Accept
    QTest::addColumn<QStringList>("offered");
    QTest::addColumn<QString>("chosen");
    QTest::addColumn<bool>("trickled");

    const auto row
        = [](const char *name, const QByteArray &response, const QStringList &offered = {},
              const QString &chosen = {}, bool trickled = false) {
              QTest::newRow(name) << response << offered << chosen << trickled;
          };
    const QByteArray ok = "HTTP/1.1 101 Switching Protocols\r\n";
    const QByteArray upgrade = "Upgrade: websocket\r\n";
    const QByteArray connection = "Connection: Upgrade\r\n";
    const QByteArray accept = "Sec-WebSocket-Accept: {accept}\r\n";
    const QByteArray server = "X-Server: scripted\r\n";
    const QByteArray plain = ok + upgrade + connection + accept + server + "\r\n";

    row("plain", plain);
    row("Upgrade: WebSocket",
        ok + "Upgrade: WebSocket\r\n" + connection + accept + server + "\r\n");
    row("Connection: keep-alive, Upgrade",
        ok + upgrade + "Connection: keep-alive, Upgrade\r\n" + accept + server + "\r\n");
    row("lower-case names and values",
        ok
            + "upgrade: websocket\r\nconnection: upgrade\r\nsec-websocket-accept: {accept}\r\n"
              "x-server: scripted\r\n\r\n");
    row("other reason phrase, fields in another order",
        "HTTP/1.1 101 Web Socket Protocol Handshake\r\n" + server + accept + connection + upgrade
            + "\r\n");
    row("subprotocol: the second offered",
        ok + upgrade + connection + accept + "Sec-WebSocket-Protocol: b.v2\r\n" + server + "\r\n",
        {QStringLiteral("a.v1"), QStringLiteral("b.v2")}, QStringLiteral("b.v2"));
    row("subprotocol offered, none chosen", plain, {QStringLiteral("a.v1")});
    row("the 101 byte by byte", plain, {}, {}, true);
}

void TestWebSocketHandshake::accepted()
{
    QFETCH(QByteArray, response);
    QFETCH(QStringList, offered);
    QFETCH(QString, chosen);
    QFETCH(bool, trickled);
    WsScriptedServer server;
    server.respond = [&](WsServerConnection *c, const ReceivedRequest &request) {
        const QByteArray answer = wsFillAccept(response, request);
        if (!trickled)
            return answer;
        QByteArrayList pieces;
        for (char byte : answer)
            pieces.append(QByteArray(1, byte));
        c->trickle(pieces);
        return QByteArray();
    };
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.subprotocols = offered;
        AsyncWebSocket socket(server.url(), options);
        SignalLog log(&socket);
        co_await socket.open();
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Open);
        CO_COMPARE(socket.subprotocol(), chosen);
        CO_COMPARE(socket.handshakeStatus(), 101);
        const Headers headers = socket.handshakeHeaders();
        CO_COMPARE(headers.value("X-Server").toByteArray(), QByteArray("scripted"));
        CO_VERIFY(headers.hasToken("Upgrade", "websocket"));
        CO_VERIFY(headers.contains("Sec-WebSocket-Accept"));
        CO_COMPARE(log.lines, QStringList {QStringLiteral("connected")});
        CO_COMPARE(server.connections.size(), qsizetype(1));
    }());
}

void TestWebSocketHandshake::refused_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<QStringList>("offered");
    // The status handshakeStatus() and Error::code() report; -1: not checked.
    QTest::addColumn<int>("status");

    const auto row = [](const char *name, const QByteArray &response, int status = -1,
                         const QStringList &offered = {}) {
        QTest::newRow(name) << response << offered << status;
    };
    const QByteArray ok = "HTTP/1.1 101 Switching Protocols\r\n";
    const QByteArray upgrade = "Upgrade: websocket\r\n";
    const QByteArray connection = "Connection: Upgrade\r\n";
    const QByteArray accept = "Sec-WebSocket-Accept: {accept}\r\n";
    const QByteArray end = "\r\n";

    row("status 200", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200);
    row("status 302", "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n",
        302);
    row("no Upgrade", ok + connection + accept + end);
    row("Upgrade: h2c", ok + "Upgrade: h2c\r\n" + connection + accept + end);
    row("no Connection", ok + upgrade + accept + end);
    row("Connection: keep-alive", ok + upgrade + "Connection: keep-alive\r\n" + accept + end);
    row("no Sec-WebSocket-Accept", ok + upgrade + connection + end);
    // The RFC's example answer, for a key this client never sends.
    row("wrong Sec-WebSocket-Accept",
        ok + upgrade + connection + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" + end);
    row("two Sec-WebSocket-Accept fields", ok + upgrade + connection + accept + accept + end);
    row("subprotocol not offered",
        ok + upgrade + connection + accept + "Sec-WebSocket-Protocol: other\r\n" + end, -1,
        {QStringLiteral("chat")});
    row("subprotocol when none was offered",
        ok + upgrade + connection + accept + "Sec-WebSocket-Protocol: chat\r\n" + end);
    row("extension never offered",
        ok + upgrade + connection + accept + "Sec-WebSocket-Extensions: permessage-deflate\r\n"
            + end);
    row("malformed field line", ok + "Upgrade websocket\r\n" + connection + accept + end);
    row("not HTTP", "HTTX/1.1 101 Switching Protocols\r\n" + upgrade + connection + accept + end);
    row("no status code", "HTTP/1.1 Switching Protocols\r\n" + upgrade + connection + accept + end);
}

void TestWebSocketHandshake::refused()
{
    QFETCH(QByteArray, response);
    QFETCH(QStringList, offered);
    QFETCH(int, status);
    WsScriptedServer server;
    server.respond = [&](WsServerConnection *, const ReceivedRequest &request) {
        return wsFillAccept(response, request);
    };
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.subprotocols = offered;
        AsyncWebSocket socket(server.url(), options);
        SignalLog log(&socket);
        const std::optional<WebSocketError> e = co_await thrown<WebSocketError>(socket.open());
        CO_VERIFY2(e.has_value(), "open() succeeded");
        CO_COMPARE(e->error().kind(), Error::Kind::WebSocket);
        if (status > 0) {
            CO_COMPARE(e->error().code(), status);
            CO_COMPARE(socket.handshakeStatus(), status);
        }
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_VERIFY(!log.lines.contains(QStringLiteral("connected")));
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer);
        CO_VERIFY(co_await eventually([&] { return peer->clientClosed; }));
        CO_COMPARE(peer->bytesAfterRequest, QByteArray()); // no frame, no Close
        co_await eventsFlushed();
        CO_COMPARE(server.connections.size(), qsizetype(1)); // no redirect followed, no retry
    }());
}

void TestWebSocketHandshake::refusedStatusAndFields_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<QByteArray>("fieldName");
    QTest::addColumn<QByteArray>("fieldValue");
    QTest::newRow("401") << 401
                         << QByteArray("HTTP/1.1 401 Unauthorized\r\n"
                                       "WWW-Authenticate: Bearer realm=\"ws\"\r\n"
                                       "Content-Length: 12\r\n\r\nunauthorized")
                         << QByteArray("WWW-Authenticate") << QByteArray("Bearer realm=\"ws\"");
    QTest::newRow("403") << 403
                         << QByteArray("HTTP/1.1 403 Forbidden\r\nX-Reason: banned\r\n"
                                       "Content-Length: 0\r\n\r\n")
                         << QByteArray("X-Reason") << QByteArray("banned");
    QTest::newRow("503") << 503
                         << QByteArray("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\n"
                                       "Content-Length: 4\r\n\r\nbusy")
                         << QByteArray("Retry-After") << QByteArray("7");
    QTest::newRow("503 without a reason phrase")
        << 503 << QByteArray("HTTP/1.1 503 \r\nRetry-After: 9\r\nContent-Length: 0\r\n\r\n")
        << QByteArray("Retry-After") << QByteArray("9");
}

void TestWebSocketHandshake::refusedStatusAndFields()
{
    QFETCH(int, status);
    QFETCH(QByteArray, response);
    QFETCH(QByteArray, fieldName);
    QFETCH(QByteArray, fieldValue);
    WsScriptedServer server;
    server.respond = [&](WsServerConnection *, const ReceivedRequest &) { return response; };
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        SignalLog log(&socket);
        const std::optional<WebSocketError> e = co_await thrown<WebSocketError>(socket.open());
        CO_VERIFY2(e.has_value(), "open() succeeded");
        // The status is a number to compare, in the error and on the socket: no message text.
        CO_COMPARE(e->error().kind(), Error::Kind::WebSocket);
        CO_COMPARE(e->error().code(), status);
        CO_COMPARE(socket.handshakeStatus(), status);
        CO_COMPARE(socket.handshakeHeaders().value(fieldName).toByteArray(), fieldValue);
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(log.errors.size(), qsizetype(1));
        CO_COMPARE(log.errors.first().code(), status);
        CO_COMPARE(socket.lastError().code(), status);
    }());
}

void TestWebSocketHandshake::refusedStatusRetried_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<int>("connections"); // what the server sees with maxAttempts = 2
    QTest::newRow("401 not retried") << 401 << 1;
    QTest::newRow("403 not retried") << 403 << 1;
    QTest::newRow("503 retried") << 503 << 3;
}

void TestWebSocketHandshake::refusedStatusRetried()
{
    QFETCH(int, status);
    QFETCH(int, connections);
    WsScriptedServer server;
    server.respond = [&](WsServerConnection *, const ReceivedRequest &) {
        return "HTTP/1.1 " + QByteArray::number(status) + " Refused\r\nContent-Length: 0\r\n\r\n";
    };
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.reconnect.enabled = true;
        options.reconnect.retryInitialConnect = true;
        options.reconnect.maxAttempts = 2;
        options.reconnect.initialDelay = 0ms;
        options.reconnect.jitter = 0;
        AsyncWebSocket socket(server.url(), options);
        const std::optional<WebSocketError> e = co_await thrown<WebSocketError>(socket.open());
        CO_VERIFY2(e.has_value(), "open() succeeded");
        CO_COMPARE(e->error().kind(), Error::Kind::WebSocket);
        CO_COMPARE(socket.handshakeStatus(), status);
        if (connections == 1)
            CO_COMPARE(e->error().code(), status);
        co_await eventsFlushed();
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        // A retry decided before open() threw (none is delayed) would come before the probe.
        CO_COMPARE(co_await connectionsBeforeProbe(&server), connections);
        CO_COMPARE(server.requests.size(), qsizetype(connections));
    }());
}

void TestWebSocketHandshake::setCookieOn101GoesToTheSessionJar()
{
    WsScriptedServer server;
    server.respond = [](WsServerConnection *, const ReceivedRequest &request) {
        if (!request.hasField("Upgrade"))
            return httpResponse(200, "plain");
        if (request.target == "/login")
            return ws101(request, "Set-Cookie: wssession=abc123; Path=/\r\n");
        return ws101(request);
    };
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncSession session;
        std::unique_ptr<AsyncWebSocket> first(
            AsyncWebSocket::fromSession(session, server.url(QStringLiteral("/login"))));
        co_await first->open();
        CO_VERIFY(!server.requests.first().hasField("Cookie"));
        CO_COMPARE(session.cookieJar()->cookieHeaderFor(server.httpUrl(QStringLiteral("/x"))),
            QByteArray("wssession=abc123"));

        // The next HTTP request to that origin carries it...
        const Response plain = co_await session.get(server.httpUrl(QStringLiteral("/plain")));
        CO_COMPARE(plain.status(), 200);
        CO_COMPARE(server.requests.size(), qsizetype(2));
        CO_COMPARE(server.requests[1].target, QByteArray("/plain"));
        CO_COMPARE(server.requests[1].field("Cookie"), QByteArray("wssession=abc123"));

        // ... and so does the next handshake.
        std::unique_ptr<AsyncWebSocket> second(
            AsyncWebSocket::fromSession(session, server.url(QStringLiteral("/chat"))));
        co_await second->open();
        CO_COMPARE(server.requests.size(), qsizetype(3));
        CO_COMPARE(server.requests[2].target, QByteArray("/chat"));
        CO_COMPARE(server.requests[2].field("Cookie"), QByteArray("wssession=abc123"));
    }());
}

void TestWebSocketHandshake::unansweredHandshakeTimesOut()
{
    WsScriptedServer server;
    server.respond = [](WsServerConnection *, const ReceivedRequest &) { return QByteArray(); };
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.openTimeout = 300ms;
        AsyncWebSocket socket(server.url(), options);
        SignalLog log(&socket);
        const Error e = co_await errorOf(socket.open());
        CO_COMPARE(e.kind(), Error::Kind::WebSocket);
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(socket.handshakeStatus(), 0);
        CO_VERIFY(socket.handshakeHeaders().isEmpty());
        CO_COMPARE(server.requests.size(), qsizetype(1)); // it did reach the server
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer);
        CO_VERIFY(co_await eventually([&] { return peer->clientClosed; }));
        CO_COMPARE(peer->bytesAfterRequest, QByteArray());
        CO_VERIFY(!log.lines.contains(QStringLiteral("connected")));
    }());
}

QTEST_GUILESS_MAIN(TestWebSocketHandshake)
#include "tst_websocket_handshake.moc"
