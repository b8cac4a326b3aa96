// MockServer's WebSocket scripts: Reqivo's AsyncWebSocket against them (text and binary sent by
// the server, messages the client sends recorded, echo, ping, delays, close code and reason seen
// by the client, a drop seen as an abnormal closure, the accepted subprotocol, wss with the
// server's CA), and a raw socket for what a client library hides: the 101's fields, refused
// handshakes, unmasked server frames, fragmented and interleaved client frames, pong answers and a
// client's protocol error.
#include "support/qcorotest.h"

#include <Reqivo/AsyncWebSocket>
#include <Reqivo/Testing/MockServer>
#include <Reqivo/WebSocketOptions>

#include <QCryptographicHash>
#include <QSignalSpy>
#include <QTcpSocket>

#include <memory>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using Reqivo::AsyncWebSocket;
using Reqivo::WebSocketMessage;
using Reqivo::Testing::MockResponse;
using Reqivo::Testing::MockServer;
using Reqivo::Testing::RecordedMessage;
using Reqivo::Testing::RecordedRequest;
using Reqivo::Testing::WebSocketScript;

namespace {

QUrl wsUrl(const MockServer &server, const QString &path = u"/ws"_s)
{
    QUrl url = server.url(path);
    url.setScheme(url.scheme() == u"https"_s ? u"wss"_s : u"ws"_s);
    return url;
}

Reqivo::WebSocketOptions optionsFor(const MockServer &server)
{
    Reqivo::WebSocketOptions options;
    options.proxy = QNetworkProxy(QNetworkProxy::NoProxy);
    if (server.url().scheme() == u"https"_s) {
        Reqivo::TlsOptions tls;
        tls.caCertificates = {server.caCertificate()};
        tls.useSystemCaCertificates = false;
        options.tlsOptions = tls;
    }
    return options;
}

// The error a task threw (a null Error when it threw none).
template<typename T>
QCoro::Task<Reqivo::Error> errorOf(QCoro::Task<T> task)
{
    try {
        co_await task;
    } catch (...) {
        co_return Reqivo::Error::fromException(std::current_exception());
    }
    co_return Reqivo::Error();
}

// --- a raw client, for the bytes themselves ---------------------------------------------------

QByteArray maskedFrame(quint8 firstByte, const QByteArray &payload)
{
    QByteArray frame;
    frame.append(char(firstByte));
    const quint8 mask[4] = {0x11, 0x22, 0x33, 0x44};
    if (payload.size() < 126) {
        frame.append(char(0x80 | payload.size()));
    } else {
        frame.append(char(0x80 | 126));
        frame.append(char((payload.size() >> 8) & 0xff));
        frame.append(char(payload.size() & 0xff));
    }
    frame.append(reinterpret_cast<const char *>(mask), 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        frame.append(char(payload[i] ^ mask[i % 4]));
    return frame;
}

struct Frame
{
    quint8 firstByte = 0;
    bool masked = false;
    QByteArray payload;
};

// Reads one whole frame from \a buffer (server frames: short lengths are enough here).
std::optional<Frame> takeFrame(QByteArray &buffer)
{
    if (buffer.size() < 2)
        return std::nullopt;
    Frame f;
    f.firstByte = quint8(buffer[0]);
    f.masked = quint8(buffer[1]) & 0x80;
    qsizetype length = quint8(buffer[1]) & 0x7f;
    qsizetype header = 2;
    if (length == 126) {
        if (buffer.size() < 4)
            return std::nullopt;
        length = (qsizetype(quint8(buffer[2])) << 8) | quint8(buffer[3]);
        header = 4;
    }
    if (buffer.size() < header + length)
        return std::nullopt;
    f.payload = buffer.mid(header, length);
    buffer.remove(0, header + length);
    return f;
}

class RawClient
{
public:
    bool connect(const MockServer &server)
    {
        QSignalSpy connected(&m_socket, &QTcpSocket::connected);
        m_socket.connectToHost(QHostAddress::LocalHost, server.port());
        return connected.wait(10000);
    }
    void write(const QByteArray &bytes) { m_socket.write(bytes); }
    // The response head (up to the empty line), waiting for it.
    QByteArray readHead()
    {
        while (!m_buffer.contains("\r\n\r\n")) {
            if (!waitForBytes())
                return {};
        }
        const qsizetype end = m_buffer.indexOf("\r\n\r\n") + 4;
        const QByteArray head = m_buffer.left(end);
        m_buffer.remove(0, end);
        return head;
    }
    std::optional<Frame> readFrame()
    {
        for (;;) {
            if (auto f = takeFrame(m_buffer))
                return f;
            if (!waitForBytes())
                return std::nullopt;
        }
    }
    // True once the server closed the connection (EOF), after every byte before it was read.
    bool waitForClose()
    {
        if (m_socket.state() == QAbstractSocket::UnconnectedState)
            return true;
        QSignalSpy disconnected(&m_socket, &QTcpSocket::disconnected);
        return m_socket.state() == QAbstractSocket::UnconnectedState || disconnected.wait(10000);
    }
    QByteArray rest()
    {
        m_buffer += m_socket.readAll();
        return m_buffer;
    }

private:
    bool waitForBytes()
    {
        if (m_socket.bytesAvailable() == 0) {
            QSignalSpy ready(&m_socket, &QTcpSocket::readyRead);
            if (!ready.wait(10000))
                return false;
        }
        m_buffer += m_socket.readAll();
        return true;
    }

    QTcpSocket m_socket;
    QByteArray m_buffer;
};

QByteArray upgradeRequest(const QByteArray &key = "dGhlIHNhbXBsZSBub25jZQ==",
    const QByteArray &version = "13", const QByteArray &extra = {})
{
    return "GET /raw HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: "
        + key + "\r\nSec-WebSocket-Version: " + version + "\r\n" + extra + "\r\n";
}

} // namespace

class TestMockServerWebSocket : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void serverMessagesAndRecordedClientMessages_data();
    void serverMessagesAndRecordedClientMessages();
    void echoUntilClose();
    void pingAndDelayKeepTheConversation();
    void closeCodeAndReasonReachTheClient();
    void dropIsAnAbnormalClosure();
    void subprotocolAccepted();
    void subprotocolNotOfferedFailsTheClient();
    void afterTheScriptMessagesAreStillRecorded();
    void stopDuringTheScript();
    void rawHandshakeAndFrames();
    void rawRefusedHandshakes_data();
    void rawRefusedHandshakes();
    void rawProtocolErrorIsClosedWith1002();
};

void TestMockServerWebSocket::serverMessagesAndRecordedClientMessages_data()
{
    QTest::addColumn<bool>("tls");
    QTest::addRow("ws") << false;
    QTest::addRow("wss") << true;
}

void TestMockServerWebSocket::serverMessagesAndRecordedClientMessages()
{
    QFETCH(bool, tls);
    MockServer server;
    if (tls)
        server.useTls();
    QVERIFY(server.start());
    const QByteArray binary("\x00\x01\xfe\xff", 4);
    const QByteArray big(70000, 'b');
    server.enqueue(MockResponse::webSocket(WebSocketScript()
                                               .sendText(u"hello ünïcode"_s)
                                               .sendBinary(binary)
                                               .expectMessage()
                                               .expectMessage()
                                               .sendBinary(big)
                                               .expectMessage()
                                               .close(1000, "done")));
    QSignalSpy recorded(&server, &MockServer::webSocketMessageReceived);
    RUN_CORO([&]() -> QCoro::Task<void> {
        AsyncWebSocket socket(wsUrl(server), optionsFor(server));
        co_await socket.open();
        WebSocketMessage m = co_await socket.receive(10s);
        CO_VERIFY(m.isText());
        CO_COMPARE(m.text(), u"hello ünïcode"_s);
        m = co_await socket.receive(10s);
        CO_VERIFY(m.isBinary());
        CO_VERIFY(m.data() == binary);
        co_await socket.sendText(u"from client"_s);
        co_await socket.sendBinary(QByteArray("\x01\x02", 2));
        m = co_await socket.receive(10s);
        CO_VERIFY(m.isBinary());
        CO_COMPARE(m.data().size(), big.size());
        co_await socket.sendText(QString(300, u'x'));
        m = co_await socket.receive(10s);
        CO_VERIFY(m.isEnd());
        CO_COMPARE(socket.closeCode(), 1000);
        CO_COMPARE(socket.closeReason(), u"done"_s);
    }());
    const QList<RecordedMessage> messages = server.webSocketMessages();
    QCOMPARE(messages.size(), 3);
    QCOMPARE(recorded.size(), 3);
    QCOMPARE(messages.at(0).data, QByteArray("from client"));
    QVERIFY(!messages.at(0).binary);
    QCOMPARE(messages.at(1).data, QByteArray("\x01\x02", 2));
    QVERIFY(messages.at(1).binary);
    QCOMPARE(messages.at(2).data, QByteArray(300, 'x'));
    QCOMPARE(messages.at(2).connectionIndex, 0);
    const std::optional<RecordedRequest> upgrade = server.takeRequest();
    QVERIFY(upgrade);
    QCOMPARE(upgrade->method, QByteArray("GET"));
    QCOMPARE(upgrade->target, QByteArray("/ws"));
    QCOMPARE(upgrade->header("upgrade").toLower(), QByteArray("websocket"));
    QCOMPARE(upgrade->tls, tls);
}

void TestMockServerWebSocket::echoUntilClose()
{
    MockServer server;
    QVERIFY(server.start());
    server.enqueue(
        MockResponse::webSocket(WebSocketScript().sendText(u"ready"_s).echoUntilClose()));
    RUN_CORO([&]() -> QCoro::Task<void> {
        AsyncWebSocket socket(wsUrl(server), optionsFor(server));
        co_await socket.open();
        CO_COMPARE((co_await socket.receive(10s)).text(), u"ready"_s);
        for (int i = 0; i < 5; ++i) {
            co_await socket.sendText(u"m%1"_s.arg(i));
            const WebSocketMessage m = co_await socket.receive(10s);
            CO_VERIFY(m.isText());
            CO_COMPARE(m.text(), u"m%1"_s.arg(i));
        }
        const QByteArray bytes(100000, '\x7f');
        co_await socket.sendBinary(bytes);
        const WebSocketMessage m = co_await socket.receive(10s);
        CO_VERIFY(m.isBinary());
        CO_VERIFY(m.data() == bytes);
        co_await socket.close(4000, u"bye"_s);
        CO_COMPARE(socket.closeCode(), 4000); // the server answers with the client's code
    }());
    QCOMPARE(server.webSocketMessages().size(), 6);
}

void TestMockServerWebSocket::pingAndDelayKeepTheConversation()
{
    MockServer server;
    QVERIFY(server.start());
    server.enqueue(MockResponse::webSocket(WebSocketScript()
                                               .ping("are you there")
                                               .wait(30ms)
                                               .sendText(u"after"_s)
                                               .expectMessage()
                                               .close()));
    RUN_CORO([&]() -> QCoro::Task<void> {
        AsyncWebSocket socket(wsUrl(server), optionsFor(server));
        co_await socket.open();
        CO_COMPARE((co_await socket.receive(10s)).text(), u"after"_s);
        // The server answers the client's pings too.
        const std::chrono::microseconds rtt = co_await socket.ping(10s);
        CO_VERIFY(rtt >= 0us);
        co_await socket.sendText(u"last"_s);
        CO_VERIFY((co_await socket.receive(10s)).isEnd());
        CO_COMPARE(socket.closeCode(), 1000);
    }());
}

void TestMockServerWebSocket::closeCodeAndReasonReachTheClient()
{
    MockServer server;
    QVERIFY(server.start());
    server.enqueue(MockResponse::webSocket(WebSocketScript().close(4321, "custom reason")));
    RUN_CORO([&]() -> QCoro::Task<void> {
        AsyncWebSocket socket(wsUrl(server), optionsFor(server));
        QSignalSpy closed(&socket, &AsyncWebSocket::disconnected);
        co_await socket.open();
        CO_VERIFY((co_await socket.receive(10s)).isEnd());
        CO_COMPARE(socket.closeCode(), 4321);
        CO_COMPARE(socket.closeReason(), u"custom reason"_s);
        CO_COMPARE(closed.size(), 1);
        CO_COMPARE(closed.at(0).at(0).toInt(), 4321);
    }());
}

void TestMockServerWebSocket::dropIsAnAbnormalClosure()
{
    MockServer server;
    QVERIFY(server.start());
    server.enqueue(MockResponse::webSocket(WebSocketScript().sendText(u"last words"_s).drop()));
    RUN_CORO([&]() -> QCoro::Task<void> {
        AsyncWebSocket socket(wsUrl(server), optionsFor(server));
        co_await socket.open();
        CO_COMPARE((co_await socket.receive(10s)).text(), u"last words"_s);
        const Reqivo::Error error = co_await errorOf(socket.receive(10s));
        CO_COMPARE(error.kind(), Reqivo::Error::Kind::WebSocket);
        CO_COMPARE(error.code(), AsyncWebSocket::AbnormalClosure);
        CO_COMPARE(socket.closeCode(), 1006);
    }());
}

void TestMockServerWebSocket::subprotocolAccepted()
{
    MockServer server;
    QVERIFY(server.start());
    server.enqueue(MockResponse::webSocket(
        WebSocketScript().acceptSubprotocol("chat.v2").sendText(u"hi"_s).close())
                       .addHeader("X-Server", "mock"));
    RUN_CORO([&]() -> QCoro::Task<void> {
        Reqivo::WebSocketOptions options = optionsFor(server);
        options.subprotocols = {u"chat.v1"_s, u"chat.v2"_s};
        AsyncWebSocket socket(wsUrl(server), options);
        co_await socket.open();
        CO_COMPARE(socket.subprotocol(), u"chat.v2"_s);
        CO_COMPARE(
            socket.handshakeHeaders().get("x-server").value_or(QByteArray()), QByteArray("mock"));
        CO_COMPARE((co_await socket.receive(10s)).text(), u"hi"_s);
        CO_VERIFY((co_await socket.receive(10s)).isEnd());
    }());
    const std::optional<RecordedRequest> upgrade = server.takeRequest();
    QVERIFY(upgrade);
    QCOMPARE(upgrade->header("sec-websocket-protocol"), QByteArray("chat.v1, chat.v2"));
}

void TestMockServerWebSocket::subprotocolNotOfferedFailsTheClient()
{
    MockServer server;
    QVERIFY(server.start());
    server.enqueue(MockResponse::webSocket(WebSocketScript().acceptSubprotocol("other")));
    RUN_CORO([&]() -> QCoro::Task<void> {
        Reqivo::WebSocketOptions options = optionsFor(server);
        options.subprotocols = {u"chat.v1"_s};
        AsyncWebSocket socket(wsUrl(server), options);
        const Reqivo::Error error = co_await errorOf(socket.open());
        CO_COMPARE(error.kind(), Reqivo::Error::Kind::WebSocket);
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
    }());
}

void TestMockServerWebSocket::afterTheScriptMessagesAreStillRecorded()
{
    MockServer server;
    QVERIFY(server.start());
    server.enqueue(MockResponse::webSocket(WebSocketScript().sendText(u"only"_s)));
    RUN_CORO([&]() -> QCoro::Task<void> {
        AsyncWebSocket socket(wsUrl(server), optionsFor(server));
        co_await socket.open();
        CO_COMPARE((co_await socket.receive(10s)).text(), u"only"_s);
        co_await socket.sendText(u"one"_s);
        co_await socket.sendText(u"two"_s);
        CO_VERIFY((co_await socket.ping(10s)) >= 0us);
        co_await socket.close();
        CO_COMPARE(socket.closeCode(), 1000);
    }());
    QTRY_COMPARE(server.webSocketMessages().size(), 2);
    QCOMPARE(server.webSocketMessages().at(1).data, QByteArray("two"));
}

// stop() with a script waiting (a delay, then more): the client sees an abnormal closure.
void TestMockServerWebSocket::stopDuringTheScript()
{
    MockServer server;
    QVERIFY(server.start());
    server.enqueue(MockResponse::webSocket(
        WebSocketScript().sendText(u"first"_s).wait(std::chrono::hours(1)).sendText(u"never"_s)));
    RUN_CORO([&]() -> QCoro::Task<void> {
        AsyncWebSocket socket(wsUrl(server), optionsFor(server));
        co_await socket.open();
        CO_COMPARE((co_await socket.receive(10s)).text(), u"first"_s);
        server.stop();
        const Reqivo::Error error = co_await errorOf(socket.receive(10s));
        CO_COMPARE(error.kind(), Reqivo::Error::Kind::WebSocket);
        CO_COMPARE(socket.closeCode(), AsyncWebSocket::AbnormalClosure);
    }());
}

// The bytes: the 101's fields, unmasked frames from the server, a pong for a ping, fragments
// (with a ping between them) reassembled and recorded once, and the closing handshake.
void TestMockServerWebSocket::rawHandshakeAndFrames()
{
    MockServer server;
    QVERIFY(server.start());
    server.enqueue(MockResponse::webSocket(
        WebSocketScript().sendText(u"hi"_s).ping("p").expectMessage().close(1001, "away")));
    RawClient client;
    QVERIFY(client.connect(server));
    client.write(upgradeRequest());
    const QByteArray head = client.readHead();
    QVERIFY2(head.startsWith("HTTP/1.1 101 "), head.constData());
    // RFC 6455 §1.3's example key and answer.
    QVERIFY2(head.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        head.constData());
    QVERIFY(head.toLower().contains("\r\nupgrade: websocket\r\n"));
    QVERIFY(head.toLower().contains("\r\nconnection: upgrade\r\n"));
    QVERIFY(!head.toLower().contains("sec-websocket-protocol"));

    std::optional<Frame> f = client.readFrame();
    QVERIFY(f);
    QCOMPARE(f->firstByte, quint8(0x81));
    QVERIFY(!f->masked);
    QCOMPARE(f->payload, QByteArray("hi"));
    f = client.readFrame();
    QVERIFY(f);
    QCOMPARE(f->firstByte, quint8(0x89));
    QCOMPARE(f->payload, QByteArray("p"));

    // A ping of ours, then a message in three fragments with a ping between them.
    client.write(maskedFrame(0x89, "ours"));
    f = client.readFrame();
    QVERIFY(f);
    QCOMPARE(f->firstByte, quint8(0x8a));
    QCOMPARE(f->payload, QByteArray("ours"));
    client.write(maskedFrame(0x01, "frag"));
    client.write(maskedFrame(0x89, "mid"));
    client.write(maskedFrame(0x00, "ment"));
    client.write(maskedFrame(0x80, "ed"));
    f = client.readFrame();
    QVERIFY(f);
    QCOMPARE(f->firstByte, quint8(0x8a));
    QCOMPARE(f->payload, QByteArray("mid"));

    // Expect took the message: the script closes with 1001 "away" and waits for ours.
    f = client.readFrame();
    QVERIFY(f);
    QCOMPARE(f->firstByte, quint8(0x88));
    QCOMPARE(f->payload,
        QByteArray("\x03\xe9"
                   "away",
            6));
    client.write(maskedFrame(0x88, QByteArray("\x03\xe9", 2)));
    QVERIFY(client.waitForClose());
    QCOMPARE(client.rest(), QByteArray());

    QCOMPARE(server.webSocketMessages().size(), 1);
    QCOMPARE(server.webSocketMessages().at(0).data, QByteArray("fragmented"));
    QVERIFY(!server.webSocketMessages().at(0).binary);
}

void TestMockServerWebSocket::rawRefusedHandshakes_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QByteArray>("statusLine");
    QTest::addColumn<QByteArray>("field");
    QTest::addRow("no key") << upgradeRequest("", "13") << QByteArray("HTTP/1.1 400 ")
                            << QByteArray();
    QTest::addRow("short key") << upgradeRequest("c2hvcnQ=", "13") << QByteArray("HTTP/1.1 400 ")
                               << QByteArray();
    QTest::addRow("version 8") << upgradeRequest("dGhlIHNhbXBsZSBub25jZQ==", "8")
                               << QByteArray("HTTP/1.1 426 ")
                               << QByteArray("Sec-WebSocket-Version: 13");
}

void TestMockServerWebSocket::rawRefusedHandshakes()
{
    QFETCH(QByteArray, request);
    QFETCH(QByteArray, statusLine);
    QFETCH(QByteArray, field);
    MockServer server;
    QVERIFY(server.start());
    server.enqueue(MockResponse::webSocket(WebSocketScript().sendText(u"never"_s)));
    RawClient client;
    QVERIFY(client.connect(server));
    client.write(request);
    const QByteArray head = client.readHead();
    QVERIFY2(head.startsWith(statusLine), head.constData());
    if (!field.isEmpty())
        QVERIFY2(head.contains(field), head.constData());
    QVERIFY(client.waitForClose());
    QVERIFY(!client.rest().contains("never"));
    QCOMPARE(server.requestCount(), 1);
}

// An unmasked frame from a client is a protocol error: close 1002, then the connection ends.
void TestMockServerWebSocket::rawProtocolErrorIsClosedWith1002()
{
    MockServer server;
    QVERIFY(server.start());
    server.enqueue(MockResponse::webSocket(WebSocketScript().expectMessage().sendText(u"no"_s)));
    RawClient client;
    QVERIFY(client.connect(server));
    client.write(upgradeRequest());
    QVERIFY(client.readHead().startsWith("HTTP/1.1 101 "));
    client.write(QByteArray("\x81\x02hi", 4));
    const std::optional<Frame> f = client.readFrame();
    QVERIFY(f);
    QCOMPARE(f->firstByte, quint8(0x88));
    QCOMPARE(f->payload, QByteArray("\x03\xea", 2));
    QVERIFY(client.waitForClose());
    QVERIFY(server.webSocketMessages().isEmpty());
}

QTEST_GUILESS_MAIN(TestMockServerWebSocket)
#include "tst_mockserver_websocket.moc"
