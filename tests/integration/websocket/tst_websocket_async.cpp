// AsyncWebSocket through co_await against both peers: echo of text and binary from 0 bytes to
// 16 MiB, fragmented messages, ping/pong, subprotocol negotiation, the handshake built from a
// session (base URL, default headers, cookies, auth) and from the options, and the signals.
#include "wstest.h"

#include <Reqivo/asyncsession.h>
#include <Reqivo/asyncwebsocket.h>
#include <Reqivo/cookiejar.h>

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkCookie>
#include <QTcpServer>
#include <QTcpSocket>

using namespace Reqivo;
using namespace ReqivoTest;
using namespace std::chrono_literals;

class TestWebSocketAsync : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void echo_data();
    void echo();
    void echoPython_data();
    void echoPython();
    void fragmentedMessagesArriveWhole();
    void manyMessagesKeepTheirOrder();
    void pingReturnsTheRoundTrip();
    void pingPython();
    void subprotocolNegotiated();
    void subprotocolPython();
    void subprotocolNotOfferedFailsTheHandshake();
    void noSubprotocolWhenNoneOffered();
    void sessionHandshake();
    void sessionHandshakePython();
    void failingSessionHookFailsTheOpen();
    void optionsHeadersAndUserInfo();
    void refusedHeaderSendsNothing();
    void openTimeout();
    void connectionRefused();
    void signalsOnOpenAndClose();
    void messageSignalsAndReceiveBothSeeEveryMessage();
    void sendBackpressureWaitsForTheSocket();

private:
    PythonPeer m_python;
};

void TestWebSocketAsync::initTestCase()
{
    START_PYTHON_PEER(m_python);
}

void TestWebSocketAsync::echo_data()
{
    QTest::addColumn<qsizetype>("size");
    QTest::addColumn<bool>("binary");
    for (const qsizetype size :
        {qsizetype(0), qsizetype(1), qsizetype(125), qsizetype(126), qsizetype(65535),
            qsizetype(65536), qsizetype(1024 * 1024), qsizetype(16 * 1024 * 1024)}) {
        QTest::addRow("text %lld bytes", qlonglong(size)) << size << false;
        QTest::addRow("binary %lld bytes", qlonglong(size)) << size << true;
    }
}

void TestWebSocketAsync::echo()
{
    QFETCH(qsizetype, size);
    QFETCH(bool, binary);
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        // QWebSocket sends in 512 KiB frames, so the default 10 MiB frame limit holds.
        AsyncWebSocket socket(server.url(QStringLiteral("/echo")));
        co_await socket.open();
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Open);
        if (binary) {
            const QByteArray data = pattern(size);
            co_await socket.sendBinary(data);
            const WebSocketMessage m = co_await socket.receive(20s);
            CO_VERIFY(m.isBinary());
            CO_VERIFY(m.data() == data);
        } else {
            const QString text = textPattern(size);
            co_await socket.sendText(text);
            const WebSocketMessage m = co_await socket.receive(20s);
            CO_VERIFY(m.isText());
            CO_VERIFY(m.text() == text);
        }
        co_await socket.close();
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(socket.closeCode(), 1000);
    }());
}

void TestWebSocketAsync::echoPython_data()
{
    echo_data();
}

void TestWebSocketAsync::echoPython()
{
    QFETCH(qsizetype, size);
    QFETCH(bool, binary);
    RUN_CORO([&]() -> QCoro::Task<> {
        // Python websockets sends a message as one frame: allow 16 MiB frames.
        WebSocketOptions options;
        options.maxFrameSize = 16 * 1024 * 1024;
        AsyncWebSocket socket(m_python.url(QStringLiteral("/echo")), options);
        co_await socket.open();
        if (binary) {
            const QByteArray data = pattern(size);
            co_await socket.sendBinary(data);
            const WebSocketMessage m = co_await socket.receive(20s);
            CO_VERIFY(m.isBinary());
            CO_VERIFY(m.data() == data);
        } else {
            const QString text = textPattern(size);
            co_await socket.sendText(text);
            const WebSocketMessage m = co_await socket.receive(20s);
            CO_VERIFY(m.isText());
            CO_VERIFY(m.text() == text);
        }
        co_await socket.close(4000, QStringLiteral("done"));
        CO_COMPARE(socket.closeCode(), 4000);
    }());
}

void TestWebSocketAsync::fragmentedMessagesArriveWhole()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        // The peer answers every message in 1000-byte fragments; the limit on frames does not
        // apply to the whole message, the limit on messages does (see tst_websocket_close).
        WebSocketOptions options;
        options.maxFrameSize = 1000;
        AsyncWebSocket socket(m_python.url(QStringLiteral("/fragments?size=1000")), options);
        co_await socket.open();
        const QString text = textPattern(100'000) + QStringLiteral("€ü"); // UTF-8 split too
        co_await socket.sendText(text);
        WebSocketMessage m = co_await socket.receive(10s);
        CO_VERIFY(m.isText());
        CO_COMPARE(m.text().size(), text.size());
        CO_VERIFY(m.text() == text);
        const QByteArray data = pattern(54'321);
        co_await socket.sendBinary(data);
        m = co_await socket.receive(10s);
        CO_VERIFY(m.isBinary());
        CO_VERIFY(m.data() == data);
        co_await socket.close();
    }());
}

void TestWebSocketAsync::manyMessagesKeepTheirOrder()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        co_await socket.open();
        for (int i = 0; i < 500; ++i)
            co_await socket.sendText(QString::number(i));
        for (int i = 0; i < 500; ++i) {
            const WebSocketMessage m = co_await socket.receive(10s);
            CO_COMPARE(m.text(), QString::number(i));
        }
        co_await socket.close();
    }());
}

void TestWebSocketAsync::pingReturnsTheRoundTrip()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        QList<qint64> pongs;
        connect(&socket, &AsyncWebSocket::pongReceived, this, [&](qint64 us) { pongs.append(us); });
        co_await socket.open();
        const std::chrono::microseconds rtt = co_await socket.ping(5s);
        CO_VERIFY(rtt >= 0us);
        CO_VERIFY(rtt < 5s);
        CO_COMPARE(pongs.size(), 1);
        // Two pings in flight at once each get their own pong.
        auto first = socket.ping(5s);
        auto second = socket.ping(5s);
        CO_VERIFY((co_await std::move(first)) >= 0us);
        CO_VERIFY((co_await std::move(second)) >= 0us);
        CO_COMPARE(pongs.size(), 3);
        co_await socket.close();
        const Error afterClose = co_await errorOf(socket.ping(1s));
        CO_COMPARE(afterClose.kind(), Error::Kind::WebSocket);
    }());
}

void TestWebSocketAsync::pingPython()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(m_python.url(QStringLiteral("/echo")));
        co_await socket.open();
        const std::chrono::microseconds rtt = co_await socket.ping(5s);
        CO_VERIFY(rtt < 5s);
        co_await socket.close();
    }());
}

void TestWebSocketAsync::subprotocolNegotiated()
{
    TestServer server;
    server.subprotocols = {QStringLiteral("chat.v1")};
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.subprotocols = {QStringLiteral("chat.v2"), QStringLiteral("chat.v1")};
        AsyncWebSocket socket(server.url(), options);
        co_await socket.open();
        CO_COMPARE(socket.subprotocol(), QStringLiteral("chat.v1"));
        CO_COMPARE(server.requests.last().rawHeader("Sec-WebSocket-Protocol"),
            QByteArray("chat.v2, chat.v1"));
        co_await socket.close();
    }());
}

void TestWebSocketAsync::subprotocolPython()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.subprotocols = {QStringLiteral("chat.v9"), QStringLiteral("chat.v1")};
        AsyncWebSocket socket(m_python.url(QStringLiteral("/subprotocol")), options);
        co_await socket.open();
        CO_COMPARE(socket.subprotocol(), QStringLiteral("chat.v1"));
        co_await socket.close();
    }());
}

void TestWebSocketAsync::subprotocolNotOfferedFailsTheHandshake()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.subprotocols = {QStringLiteral("chat.v9")};
        options.reconnect.enabled = true;
        options.reconnect.retryInitialConnect = true; // and it is not worth a retry
        AsyncWebSocket socket(m_python.url(QStringLiteral("/badsubprotocol")), options);
        SignalLog log(&socket);
        const Error e = co_await errorOf(socket.open());
        CO_COMPARE(e.kind(), Error::Kind::WebSocket);
        CO_COMPARE(e.code(), 1006);
        CO_VERIFY2(e.message().contains(QLatin1String("subprotocol")), qPrintable(e.toString()));
        CO_VERIFY2(e.detail().contains(QLatin1String("not-offered")), qPrintable(e.detail()));
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(log.count(QStringLiteral("reconnecting 1")), 0);
        CO_COMPARE(log.lines, QStringList {QStringLiteral("error 1006")});
    }());
}

void TestWebSocketAsync::noSubprotocolWhenNoneOffered()
{
    TestServer server;
    server.subprotocols = {QStringLiteral("chat.v1")};
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        co_await socket.open();
        CO_COMPARE(socket.subprotocol(), QString());
        CO_VERIFY(!server.requests.last().hasRawHeader("Sec-WebSocket-Protocol"));
        co_await socket.close();
    }());
}

void TestWebSocketAsync::sessionHandshake()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        // The session speaks http://; its socket goes to ws:// on the same host and port.
        AsyncSession session(QUrl(QStringLiteral("http://127.0.0.1:%1/api/").arg(server.port())));
        session.setDefaultHeader("X-Default", "from-session");
        session.setDefaultHeader("X-Both", "session");
        session.setBearerToken(QStringLiteral("tok-1"));
        QNetworkCookie cookie("sid", "abc");
        session.cookieJar()->setCookie(cookie, session.baseUrl());
        int hookRuns = 0;
        session.addRequestHook([&](PreparedRequest &r) {
            ++hookRuns;
            r.headers.set("X-Hook", r.method + ' ' + r.url.scheme().toLatin1());
        });

        WebSocketOptions options;
        options.headers.set("X-Both", "options");
        std::unique_ptr<AsyncWebSocket> socket(
            AsyncWebSocket::fromSession(session, QUrl(QStringLiteral("chat")), options));
        co_await socket->open();
        const QNetworkRequest &r = server.requests.last();
        CO_COMPARE(r.url().path(), QStringLiteral("/api/chat"));
        CO_COMPARE(r.rawHeader("X-Default"), QByteArray("from-session"));
        CO_COMPARE(r.rawHeader("X-Both"), QByteArray("options"));
        CO_COMPARE(r.rawHeader("Authorization"), QByteArray("Bearer tok-1"));
        CO_COMPARE(r.rawHeader("Cookie"), QByteArray("sid=abc"));
        CO_COMPARE(r.rawHeader("X-Hook"), QByteArray("GET ws"));
        CO_VERIFY(r.rawHeader("User-Agent").startsWith("Reqivo"));
        CO_COMPARE(hookRuns, 1);
        co_await socket->close();

        // Read again at the next open: a renewed token and cookie are the ones sent.
        session.setBasicAuth(QStringLiteral("bob"), QStringLiteral("pw"));
        session.cookieJar()->setCookie(QNetworkCookie("sid", "def"), session.baseUrl());
        co_await socket->open();
        CO_COMPARE(server.requests.last().rawHeader("Authorization"), QByteArray("Basic Ym9iOnB3"));
        CO_COMPARE(server.requests.last().rawHeader("Cookie"), QByteArray("sid=def"));
        CO_COMPARE(hookRuns, 2);
        co_await socket->close();
    }());
}

void TestWebSocketAsync::sessionHandshakePython()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        // An https base maps to wss, an http one to ws: here the peer is plain, so http.
        AsyncSession session(m_python.url(QStringLiteral("/")).adjusted(QUrl::RemovePath));
        QUrl base = session.baseUrl();
        base.setScheme(QStringLiteral("http"));
        session.setBaseUrl(base);
        session.setBearerToken(QStringLiteral("secret"));
        std::unique_ptr<AsyncWebSocket> socket(
            AsyncWebSocket::fromSession(session, QUrl(QStringLiteral("/auth"))));
        co_await socket->open(); // /auth answers 401 without "Bearer secret"
        co_await socket->sendText(QStringLiteral("hi"));
        CO_COMPARE((co_await socket->receive(5s)).text(), QStringLiteral("hi"));
        co_await socket->close();

        std::unique_ptr<AsyncWebSocket> headers(
            AsyncWebSocket::fromSession(session, QUrl(QStringLiteral("/headers"))));
        co_await headers->open();
        const QJsonObject seen
            = QJsonDocument::fromJson((co_await headers->receive(5s)).data()).object();
        CO_COMPARE(seen.value(QStringLiteral("authorization")).toString(),
            QStringLiteral("Bearer secret"));
        CO_COMPARE(seen.value(QStringLiteral("upgrade")).toString(), QStringLiteral("websocket"));
        co_await headers->close();
    }());
}

void TestWebSocketAsync::failingSessionHookFailsTheOpen()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncSession session(QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(server.port())));
        session.addRequestHook(
            [](PreparedRequest &) { throw RequestError(QStringLiteral("no token")); });
        std::unique_ptr<AsyncWebSocket> socket(
            AsyncWebSocket::fromSession(session, QUrl(QStringLiteral("/x"))));
        const Error e = co_await errorOf(socket->open());
        CO_COMPARE(e.kind(), Error::Kind::WebSocket);
        CO_VERIFY2(e.message().contains(QLatin1String("request hook")), qPrintable(e.message()));
        CO_VERIFY2(e.message().contains(QLatin1String("no token")), qPrintable(e.message()));
        CO_COMPARE(socket->state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(server.connections, 0);
    }());
}

void TestWebSocketAsync::optionsHeadersAndUserInfo()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.headers.add("X-Trace", "1");
        options.headers.add("X-Trace", "2");
        QUrl url = server.url(QStringLiteral("/x?q=1"));
        url.setUserName(QStringLiteral("alice"));
        url.setPassword(QStringLiteral("pw"));
        AsyncWebSocket socket(url, options);
        co_await socket.open();
        const QNetworkRequest &r = server.requests.last();
        CO_COMPARE(r.rawHeader("X-Trace"), QByteArray("1, 2"));
        CO_COMPARE(r.rawHeader("Authorization"), QByteArray("Basic YWxpY2U6cHc="));
        CO_COMPARE(r.url().query(), QStringLiteral("q=1"));
        co_await socket.close();
    }());
}

void TestWebSocketAsync::refusedHeaderSendsNothing()
{
    // A plain TCP listener: it sees every connection, with a handshake or without.
    QTcpServer listener;
    QVERIFY(listener.listen(QHostAddress::LocalHost));
    QList<quint16> accepted; // the client port of each connection, in the order accepted
    connect(&listener, &QTcpServer::newConnection, this, [&] {
        while (QTcpSocket *s = listener.nextPendingConnection())
            accepted.append(s->peerPort());
    });
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.headers.add("X-Evil", "a\r\nHost: elsewhere");
        AsyncWebSocket socket(
            QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(listener.serverPort())), options);
        const Error e = co_await errorOf(socket.open());
        CO_COMPARE(e.kind(), Error::Kind::WebSocket);
        CO_VERIFY2(e.message().contains(QLatin1String("invalid value")), qPrintable(e.message()));
        co_await eventsFlushed(); // what the refused open() left queued runs now
    }());
    // A connection made now is accepted after any the refused open() made: it must be the only
    // one the listener ever accepted.
    QTcpSocket marker;
    marker.connectToHost(QHostAddress::LocalHost, listener.serverPort());
    QVERIFY(marker.waitForConnected(5000));
    QTRY_VERIFY_WITH_TIMEOUT(accepted.contains(marker.localPort()), 5000);
    QCOMPARE(accepted, QList<quint16> {marker.localPort()});
}

void TestWebSocketAsync::openTimeout()
{
    // A TCP server that accepts and never answers the upgrade.
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost));
    QList<QTcpSocket *> accepted;
    connect(&silent, &QTcpServer::newConnection, this,
        [&] { accepted.append(silent.nextPendingConnection()); });
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.openTimeout = 300ms;
        AsyncWebSocket socket(
            QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(silent.serverPort())), options);
        QElapsedTimer timer;
        timer.start();
        const Error e = co_await errorOf(socket.open());
        CO_COMPARE(e.kind(), Error::Kind::WebSocket);
        CO_COMPARE(e.code(), 1006);
        CO_VERIFY2(e.message().contains(QLatin1String("timed out")), qPrintable(e.message()));
        CO_VERIFY(timer.elapsed() >= 250);
        CO_VERIFY(timer.elapsed() < 5000);
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(socket.lastError().code(), 1006);
    }());
}

void TestWebSocketAsync::connectionRefused()
{
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost));
        port = probe.serverPort();
    }
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(port)));
        const Error e = co_await errorOf(socket.open());
        CO_COMPARE(e.kind(), Error::Kind::WebSocket);
        CO_COMPARE(e.code(), 1006);
        CO_VERIFY2(
            e.message().contains(QLatin1String("could not connect")), qPrintable(e.message()));
        // receive() after a failed open reports the same error.
        const Error r = co_await errorOf(socket.receive(1s));
        CO_COMPARE(r.message(), e.message());
    }());
}

void TestWebSocketAsync::signalsOnOpenAndClose()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        SignalLog log(&socket, true);
        co_await socket.open();
        co_await socket.close(4321, QStringLiteral("bye"));
        CO_COMPARE(log.lines,
            (QStringList {QStringLiteral("state Connecting"), QStringLiteral("state Open"),
                QStringLiteral("connected"), QStringLiteral("state Closing"),
                QStringLiteral("disconnected 4321"), QStringLiteral("state Closed")}));
        CO_COMPARE(socket.closeReason(), QStringLiteral("bye"));
        CO_VERIFY(socket.lastError().isNull());
        // Closed sockets open again.
        co_await socket.open();
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Open);
        CO_COMPARE(socket.closeCode(), 0);
        co_await socket.close();
    }());
}

void TestWebSocketAsync::messageSignalsAndReceiveBothSeeEveryMessage()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        QStringList texts;
        QList<QByteArray> blobs;
        connect(&socket, &AsyncWebSocket::textMessageReceived, this,
            [&](const QString &m) { texts.append(m); });
        connect(&socket, &AsyncWebSocket::binaryMessageReceived, this,
            [&](const QByteArray &m) { blobs.append(m); });
        co_await socket.open();
        CO_VERIFY(socket.sendTextMessage(QStringLiteral("a")));
        CO_VERIFY(socket.sendBinaryMessage(QByteArray("b")));
        CO_COMPARE((co_await socket.receive(5s)).text(), QStringLiteral("a"));
        CO_COMPARE((co_await socket.receive(5s)).data(), QByteArray("b"));
        CO_COMPARE(texts, QStringList {QStringLiteral("a")});
        CO_COMPARE(blobs, QList<QByteArray> {QByteArray("b")});
        CO_COMPARE(socket.pendingMessageCount(), 0);
        co_await socket.close();
    }());
}

void TestWebSocketAsync::sendBackpressureWaitsForTheSocket()
{
    TestServer server;
    server.mode = TestServer::Mode::Silent;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        co_await socket.open();
        // 24 MiB handed over in 8 MiB pieces: each send returns only once little is left.
        for (int i = 0; i < 3; ++i)
            co_await socket.sendBinary(pattern(8 * 1024 * 1024));
        co_await socket.close();
        CO_COMPARE(socket.closeCode(), 1000);
    }());
}

QTEST_GUILESS_MAIN(TestWebSocketAsync)
#include "tst_websocket_async.moc"
