// Every way a WebSocket connection ends, and what each caller sees: the close code and reason,
// End from receive() for clean endings and WebSocketError for the others, the signals, and no
// reconnect where none belongs. Limits exceeded and a peer that stops answering pings end
// connections too.
#include "wstest.h"

#include <Reqivo/asyncwebsocket.h>

#include <QTcpServer>
#include <QTcpSocket>

#include <memory>

using namespace Reqivo;
using namespace ReqivoTest;
using namespace std::chrono_literals;

namespace {

//! A TCP relay in front of a WebSocket peer that counts the ping frames clients send through it.
//! The heartbeat sends its next ping only once the previous one's pong came back, so the nth
//! ping passing the relay proves that n - 1 heartbeat pongs were taken in time: a test waits for
//! that instead of letting time pass.
class PingCounter : public QObject
{
public:
    explicit PingCounter(quint16 peerPort)
        : m_peerPort(peerPort)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] { accept(); });
    }
    bool listen() { return m_server.listen(QHostAddress::LocalHost); }
    QUrl url(const QString &path) const
    {
        return QUrl(QStringLiteral("ws://127.0.0.1:%1%2").arg(m_server.serverPort()).arg(path));
    }

    int pings = 0; //!< ping frames from clients, over all connections

private:
    // The client's side of one connection: the upgrade request, then masked frames.
    struct ClientStream
    {
        QByteArray buffer;
        bool upgraded = false;
        QByteArray pending; // for the peer, until the relay's connection to it is up
    };

    void accept()
    {
        while (QTcpSocket *client = m_server.nextPendingConnection()) {
            client->setParent(this);
            auto *peer = new QTcpSocket(this);
            auto stream = std::make_shared<ClientStream>();
            const auto fromClient = [this, client, peer, stream] {
                const QByteArray bytes = client->readAll();
                count(*stream, bytes);
                if (peer->state() == QAbstractSocket::ConnectedState)
                    peer->write(bytes);
                else
                    stream->pending += bytes;
            };
            connect(client, &QTcpSocket::readyRead, this, fromClient);
            connect(peer, &QTcpSocket::connected, this,
                [peer, stream] { peer->write(std::exchange(stream->pending, {})); });
            connect(peer, &QTcpSocket::readyRead, this, [client, peer] {
                if (client->state() == QAbstractSocket::ConnectedState)
                    client->write(peer->readAll());
            });
            connect(client, &QTcpSocket::disconnected, peer, &QTcpSocket::disconnectFromHost);
            connect(peer, &QTcpSocket::disconnected, client, &QTcpSocket::disconnectFromHost);
            peer->connectToHost(QHostAddress::LocalHost, m_peerPort);
            if (client->bytesAvailable() > 0)
                fromClient();
        }
    }

    // RFC 6455 §5.2 framing, as far as needed to find the opcode of each frame.
    void count(ClientStream &stream, const QByteArray &bytes)
    {
        stream.buffer += bytes;
        if (!stream.upgraded) {
            const qsizetype end = stream.buffer.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            stream.buffer.remove(0, end + 4);
            stream.upgraded = true;
        }
        while (stream.buffer.size() >= 2) {
            const auto byte = [&](qsizetype i) { return quint64(quint8(stream.buffer.at(i))); };
            quint64 length = byte(1) & 0x7f;
            qsizetype header = 2;
            if (length == 126)
                header = 4;
            else if (length == 127)
                header = 10;
            if (stream.buffer.size() < header)
                return;
            if (header > 2) {
                length = 0;
                for (qsizetype i = 2; i < header; ++i)
                    length = (length << 8) | byte(i);
            }
            if (byte(1) & 0x80)
                header += 4; // the masking key
            if (quint64(stream.buffer.size()) < quint64(header) + length)
                return;
            if ((byte(0) & 0x0f) == 0x9)
                ++pings;
            stream.buffer.remove(0, header + qsizetype(length));
        }
    }

    QTcpServer m_server;
    quint16 m_peerPort;
};

} // namespace

class TestWebSocketClose : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void clientCloseReachesThePeer();
    void clientCloseWithReasonReachesPython();
    void serverCloseWithCodeAndReason_data();
    void serverCloseWithCodeAndReason();
    void serverCloseFromPython();
    void abnormalDropIsAnError();
    void abnormalDropFromPython();
    void bufferedMessagesComeBeforeTheEnd();
    void abortEndsAtOnce();
    void closeWhileConnecting();
    void closeTwiceAndBeforeOpen();
    void invalidCloseArguments();
    void destroyingWakesWaiters();
    void destroyedFromItsOwnSlots();
    void handshakeRefusedWith401();
    void handshakeRefusedWith503();
    void frameTooBig();
    void messageTooBigAcrossFragments();
    void heartbeatLoss();
    void heartbeatKeepsAHealthyConnection();
    void sendsRefusedWhenClosed();

private:
    PythonPeer m_python;
};

void TestWebSocketClose::initTestCase()
{
    START_PYTHON_PEER(m_python);
}

void TestWebSocketClose::clientCloseReachesThePeer()
{
    TestServer server;
    QVERIFY(server.listen());
    int serverSawCode = 0;
    QString serverSawReason;
    server.onText = [&](QWebSocket *peer, const QString &) {
        connect(peer, &QWebSocket::disconnected, this, [&, peer] {
            serverSawCode = peer->closeCode();
            serverSawReason = peer->closeReason();
        });
        return false;
    };
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        SignalLog log(&socket);
        co_await socket.open();
        co_await socket.sendText(QStringLiteral("hello"));
        co_await socket.receive(5s);
        co_await socket.close(4100, QStringLiteral("see you"));
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(socket.closeCode(), 4100);
        CO_COMPARE(socket.closeReason(), QStringLiteral("see you"));
        const WebSocketMessage end = co_await socket.receive(1s);
        CO_VERIFY(end.isEnd());
        CO_COMPARE(end.closeCode(), 4100);
        CO_VERIFY(co_await eventually([&] { return serverSawCode != 0; }));
        CO_COMPARE(serverSawCode, 4100);
        CO_COMPARE(serverSawReason, QStringLiteral("see you"));
        CO_COMPARE(log.lines,
            (QStringList {QStringLiteral("connected"), QStringLiteral("disconnected 4100")}));
    }());
}

void TestWebSocketClose::clientCloseWithReasonReachesPython()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(m_python.url(QStringLiteral("/echo")));
        co_await socket.open();
        co_await socket.close(1001, QStringLiteral("leaving"));
        CO_COMPARE(socket.closeCode(), 1001);
        CO_VERIFY((co_await socket.receive()).isEnd());
    }());
}

void TestWebSocketClose::serverCloseWithCodeAndReason_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<bool>("clean");
    QTest::newRow("1000 normal") << 1000 << true;
    QTest::newRow("1001 going away") << 1001 << true;
    QTest::newRow("4000 application") << 4000 << true;
    QTest::newRow("1008 policy violation") << 1008 << false;
    QTest::newRow("1011 internal error") << 1011 << false;
}

void TestWebSocketClose::serverCloseWithCodeAndReason()
{
    QFETCH(int, code);
    QFETCH(bool, clean);
    TestServer server;
    QVERIFY(server.listen());
    server.onText = [&](QWebSocket *peer, const QString &) {
        peer->close(QWebSocketProtocol::CloseCode(code), QStringLiteral("server says so"));
        return true;
    };
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        SignalLog log(&socket);
        co_await socket.open();
        co_await socket.sendText(QStringLiteral("close please"));
        if (clean) {
            const WebSocketMessage end = co_await socket.receive(5s);
            CO_VERIFY(end.isEnd());
            CO_COMPARE(end.closeCode(), code);
            CO_COMPARE(end.closeReason(), QStringLiteral("server says so"));
            CO_VERIFY(socket.lastError().isNull());
        } else {
            const Error e = co_await errorOf(socket.receive(5s));
            CO_COMPARE(e.kind(), Error::Kind::WebSocket);
            CO_COMPARE(e.code(), code);
            CO_VERIFY2(
                e.message().contains(QLatin1String("server says so")), qPrintable(e.message()));
            CO_COMPARE(log.errors.size(), 1);
            CO_COMPARE(log.errors.first(), e);
        }
        CO_COMPARE(socket.closeCode(), code);
        CO_COMPARE(socket.closeReason(), QStringLiteral("server says so"));
        CO_COMPARE(log.count(QStringLiteral("disconnected %1").arg(code)), 1);
    }());
}

void TestWebSocketClose::serverCloseFromPython()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.reconnect.enabled = true; // an application close code is not retried
        options.reconnect.initialDelay = 10ms;
        AsyncWebSocket socket(
            m_python.url(QStringLiteral("/close?code=4001&reason=bye%20now")), options);
        SignalLog log(&socket);
        co_await socket.open();
        co_await socket.sendText(QStringLiteral("x"));
        const WebSocketMessage end = co_await socket.receive(5s);
        CO_VERIFY(end.isEnd());
        CO_COMPARE(end.closeCode(), 4001);
        CO_COMPARE(end.closeReason(), QStringLiteral("bye now"));
        // End comes once the socket is Closed: a reconnect would have been decided, and
        // announced, by then. Deliver what is queued, then check.
        co_await eventsFlushed();
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(log.count(QStringLiteral("reconnecting 1")), 0);
    }());
}

void TestWebSocketClose::abnormalDropIsAnError()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        SignalLog log(&socket);
        co_await socket.open();
        server.dropClients(0); // TCP cut, no close frame
        const Error e = co_await errorOf(socket.receive(5s));
        CO_COMPARE(e.kind(), Error::Kind::WebSocket);
        CO_COMPARE(e.code(), 1006);
        CO_COMPARE(socket.closeCode(), 1006);
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(log.lines,
            (QStringList {QStringLiteral("connected"), QStringLiteral("disconnected 1006"),
                QStringLiteral("error 1006")}));
        // The error stays: receive() again, and ping(), report it.
        const Error again = co_await errorOf(socket.receive(1s));
        CO_COMPARE(again.code(), 1006);
    }());
}

void TestWebSocketClose::abnormalDropFromPython()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(m_python.url(QStringLiteral("/echo")));
        co_await socket.open();
        co_await socket.sendText(QStringLiteral("one"));
        CO_COMPARE((co_await socket.receive(5s)).text(), QStringLiteral("one"));
        co_await socket.sendText(QStringLiteral("drop"));
        const Error e = co_await errorOf(socket.receive(5s));
        CO_COMPARE(e.code(), 1006);
        CO_VERIFY2(e.message().contains(QLatin1String("abnormal")), qPrintable(e.message()));
    }());
}

void TestWebSocketClose::bufferedMessagesComeBeforeTheEnd()
{
    TestServer server;
    QVERIFY(server.listen());
    server.onText = [&](QWebSocket *peer, const QString &) {
        peer->sendTextMessage(QStringLiteral("1"));
        peer->sendTextMessage(QStringLiteral("2"));
        peer->close(QWebSocketProtocol::CloseCodeNormal, QStringLiteral("done"));
        return true;
    };
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        co_await socket.open();
        co_await socket.sendText(QStringLiteral("go"));
        CO_VERIFY(
            co_await eventually([&] { return socket.state() == AsyncWebSocket::State::Closed; }));
        CO_COMPARE((co_await socket.receive()).text(), QStringLiteral("1"));
        CO_COMPARE((co_await socket.receive()).text(), QStringLiteral("2"));
        const WebSocketMessage end = co_await socket.receive();
        CO_VERIFY(end.isEnd());
        CO_COMPARE(end.closeReason(), QStringLiteral("done"));
        CO_VERIFY((co_await socket.receive()).isEnd()); // and again
    }());
}

void TestWebSocketClose::abortEndsAtOnce()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.reconnect.enabled = true;
        AsyncWebSocket socket(server.url(), options);
        SignalLog log(&socket);
        co_await socket.open();
        socket.abort();
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(socket.closeCode(), 1006);
        CO_VERIFY(socket.lastError().isNull()); // asked for: not an error
        CO_VERIFY((co_await socket.receive()).isEnd());
        co_await eventsFlushed(); // nothing queued behind the abort: no error, no reconnect
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(log.lines,
            (QStringList {QStringLiteral("connected"), QStringLiteral("disconnected 1006")}));
    }());
}

void TestWebSocketClose::closeWhileConnecting()
{
    QTcpServer silent; // accepts, reads, never answers the upgrade
    QVERIFY(silent.listen(QHostAddress::LocalHost));
    QByteArray upgradeRequest;
    connect(&silent, &QTcpServer::newConnection, this, [&] {
        while (QTcpSocket *s = silent.nextPendingConnection())
            connect(s, &QTcpSocket::readyRead, this, [&, s] { upgradeRequest += s->readAll(); });
    });
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(silent.serverPort())));
        auto opening = socket.open();
        // Closed in the middle of the handshake: the upgrade request is out, unanswered.
        CO_VERIFY(co_await eventually([&] { return upgradeRequest.endsWith("\r\n\r\n"); }));
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Connecting);
        co_await socket.close();
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        const Error e = co_await errorOf(std::move(opening));
        CO_COMPARE(e.kind(), Error::Kind::WebSocket);
        CO_VERIFY2(e.message().contains(QLatin1String("closed before it opened")),
            qPrintable(e.message()));
    }());
}

void TestWebSocketClose::closeTwiceAndBeforeOpen()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        co_await socket.close(); // nothing to close
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Unconnected);
        const Error early = co_await errorOf(socket.receive(1s));
        CO_VERIFY2(
            early.message().contains(QLatin1String("before open")), qPrintable(early.message()));
        co_await socket.open();
        auto first = socket.close();
        auto second = socket.close(); // while the first is closing
        co_await std::move(first);
        co_await std::move(second);
        co_await socket.close();
        CO_COMPARE(socket.closeCode(), 1000);
    }());
}

void TestWebSocketClose::invalidCloseArguments()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        co_await socket.open();
        for (int code : {0, 999, 1005, 1006, 1015, 2000, 5000}) {
            const Error e = co_await errorOf(socket.close(code));
            CO_VERIFY2(e.message().contains(QLatin1String("invalid close code")),
                qPrintable(QString::number(code)));
        }
        const Error longReason = co_await errorOf(socket.close(1000, QString(124, u'x')));
        CO_VERIFY(longReason.message().contains(QLatin1String("123")));
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Open);
        co_await socket.close(1000, QString(123, u'x'));
    }());
}

void TestWebSocketClose::destroyingWakesWaiters()
{
    TestServer server;
    QVERIFY(server.listen());
    int serverSawCode = 0;
    bool watching = false;
    server.onText = [&](QWebSocket *peer, const QString &) {
        connect(peer, &QWebSocket::disconnected, this,
            [&, peer] { serverSawCode = peer->closeCode(); });
        watching = true;
        return true;
    };
    RUN_CORO([&]() -> QCoro::Task<> {
        auto *socket = new AsyncWebSocket(server.url());
        co_await socket->open();
        co_await socket->sendText(QStringLiteral("watch me"));
        CO_VERIFY(co_await eventually([&] { return watching; }));
        auto waiting = socket->receive();
        auto pinging = socket->ping(10s);
        delete socket;
        const Error e = co_await errorOf(std::move(waiting));
        CO_VERIFY2(e.message().contains(QLatin1String("destroyed")), qPrintable(e.message()));
        const Error p = co_await errorOf(std::move(pinging));
        CO_VERIFY2(p.message().contains(QLatin1String("destroyed")), qPrintable(p.message()));
        CO_VERIFY(co_await eventually([&] { return serverSawCode != 0; }));
        CO_COMPARE(serverSawCode, 1001);
    }());
}

void TestWebSocketClose::destroyedFromItsOwnSlots()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        // Deleted (not deleteLater) from inside textMessageReceived, with a receive() waiting.
        auto *first = new AsyncWebSocket(server.url());
        connect(first, &AsyncWebSocket::textMessageReceived, this, [&] {
            delete first;
            first = nullptr;
        });
        co_await first->open();
        auto waiting = first->receive(5s);
        first->sendTextMessage(QStringLiteral("echo me"));
        const Error e = co_await errorOf(std::move(waiting));
        CO_VERIFY(first == nullptr); // resumed after the destructor, not inside it
        // The message was kept before the slot ran: the waiting receive() still gets it.
        CO_VERIFY2(e.isNull(), qPrintable(e.toString()));

        // Deleted from inside disconnected(), while a reconnect would follow.
        WebSocketOptions options;
        options.reconnect.enabled = true;
        options.reconnect.initialDelay = 0ms; // a reconnect, if one were started, starts at once
        auto *second = new AsyncWebSocket(server.url(), options);
        connect(second, &AsyncWebSocket::disconnected, this, [&] {
            delete second;
            second = nullptr;
        });
        co_await second->open();
        server.dropClients(0);
        CO_VERIFY(co_await eventually([&] { return second == nullptr; }));
        // No reconnect from a destroyed socket. One would have begun at once (no delay), before
        // the connection opened now, and reached the server ahead of it: three, not four.
        co_await eventsFlushed();
        AsyncWebSocket third(server.url());
        co_await third.open();
        CO_COMPARE(server.connections, 3);
        co_await third.close();
    }());
}

void TestWebSocketClose::handshakeRefusedWith401()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.reconnect.enabled = true;
        options.reconnect.retryInitialConnect = true; // a 401 is still not retried
        options.reconnect.initialDelay = 10ms;
        options.headers.set("Authorization", "Bearer wrong");
        AsyncWebSocket socket(m_python.url(QStringLiteral("/auth")), options);
        SignalLog log(&socket);
        const Error e = co_await errorOf(socket.open());
        CO_COMPARE(e.kind(), Error::Kind::WebSocket);
        // The refused handshake's status is a value: no message text to parse.
        CO_COMPARE(e.code(), 401);
        CO_COMPARE(socket.handshakeStatus(), 401);
        CO_COMPARE(socket.closeCode(), 1006);
        CO_VERIFY2(e.message().contains(QLatin1String("HTTP 401")), qPrintable(e.message()));
        CO_VERIFY(!e.toString().contains(QLatin1String("wrong"))); // no secrets in messages
        // open() threw once the socket was Closed, the retry decided against: deliver what is
        // queued, then check that nothing else was announced.
        co_await eventsFlushed();
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(log.lines, QStringList {QStringLiteral("error 401")});
    }());
}

void TestWebSocketClose::handshakeRefusedWith503()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        // A 5xx may pass later: with retryInitialConnect it is retried, up to maxAttempts.
        WebSocketOptions options;
        options.reconnect.enabled = true;
        options.reconnect.retryInitialConnect = true;
        options.reconnect.initialDelay = 10ms;
        options.reconnect.maxAttempts = 2;
        AsyncWebSocket socket(m_python.url(QStringLiteral("/status?code=503")), options);
        SignalLog log(&socket);
        const Error e = co_await errorOf(socket.open());
        CO_VERIFY2(e.message().contains(QLatin1String("gave up reconnecting after 2 attempts")),
            qPrintable(e.message()));
        CO_VERIFY2(e.message().contains(QLatin1String("HTTP 503")), qPrintable(e.message()));
        CO_COMPARE(log.lines,
            (QStringList {QStringLiteral("reconnecting 1"), QStringLiteral("reconnecting 2"),
                QStringLiteral("error 1006")}));
    }());
}

void TestWebSocketClose::frameTooBig()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        // The default 10 MiB frame limit against a peer that sends 11 MiB in one frame.
        AsyncWebSocket socket(m_python.url(QStringLiteral("/send?bytes=11534336")));
        co_await socket.open();
        const Error e = co_await errorOf(socket.receive(10s));
        CO_COMPARE(e.kind(), Error::Kind::WebSocket);
        CO_COMPARE(e.code(), 1009);
        CO_VERIFY2(e.message().contains(QLatin1String("message too big")), qPrintable(e.message()));
        CO_COMPARE(socket.closeCode(), 1009);
    }());
}

void TestWebSocketClose::messageTooBigAcrossFragments()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        // 4 KiB fragments pass the frame limit; their sum breaks the message limit.
        WebSocketOptions options;
        options.maxFrameSize = 8192;
        options.maxMessageSize = 100'000;
        options.reconnect.enabled = true; // a limit exceeded is not retried
        options.reconnect.initialDelay = 10ms;
        AsyncWebSocket socket(m_python.url(QStringLiteral("/fragments?size=4096")), options);
        SignalLog log(&socket);
        co_await socket.open();
        co_await socket.sendBinary(pattern(99'000)); // under both limits: fine
        CO_COMPARE((co_await socket.receive(5s)).data().size(), 99'000);
        co_await socket.sendBinary(pattern(100'001));
        const Error e = co_await errorOf(socket.receive(5s));
        CO_COMPARE(e.code(), 1009);
        co_await eventsFlushed(); // the error came once the socket was Closed
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(log.count(QStringLiteral("reconnecting 1")), 0);
    }());
}

void TestWebSocketClose::heartbeatLoss()
{
    PingCounter relay(quint16(m_python.url(QStringLiteral("/")).port()));
    QVERIFY(relay.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.heartbeatInterval = 100ms;
        options.heartbeatTimeout = 200ms;
        AsyncWebSocket socket(relay.url(QStringLiteral("/silent")), options);
        SignalLog log(&socket);
        co_await socket.open();
        co_await socket.sendText(QStringLiteral("ok"));
        CO_COMPARE((co_await socket.receive(5s)).text(), QStringLiteral("ok"));
        // Pongs come back while the peer reads: the third ping means two were taken.
        CO_VERIFY(co_await eventually([&] { return relay.pings >= 3; }));
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Open);
        co_await socket.sendText(QStringLiteral("silence")); // the peer stops reading
        QElapsedTimer timer;
        timer.start();
        const Error e = co_await errorOf(socket.receive(5s));
        CO_COMPARE(e.code(), 1006);
        CO_VERIFY2(e.message().contains(QLatin1String("heartbeat")), qPrintable(e.message()));
        CO_VERIFY(timer.elapsed() < 2000);
        CO_COMPARE(log.lines,
            (QStringList {QStringLiteral("connected"), QStringLiteral("disconnected 1006"),
                QStringLiteral("error 1006")}));
    }());
}

void TestWebSocketClose::heartbeatKeepsAHealthyConnection()
{
    TestServer server;
    QVERIFY(server.listen());
    PingCounter relay(server.port());
    QVERIFY(relay.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.heartbeatInterval = 100ms; // and the pong deadline, heartbeatTimeout being unset
        AsyncWebSocket socket(relay.url(QStringLiteral("/")), options);
        QList<qint64> userPongs;
        connect(
            &socket, &AsyncWebSocket::pongReceived, this, [&](qint64 us) { userPongs.append(us); });
        co_await socket.open();
        // The fourth heartbeat ping means three pongs were taken in time.
        CO_VERIFY(co_await eventually([&] { return relay.pings >= 4; }));
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Open);
        CO_VERIFY(userPongs.isEmpty()); // heartbeat pongs are not the user's
        co_await socket.ping();
        CO_COMPARE(userPongs.size(), 1);
        co_await socket.close();
    }());
}

void TestWebSocketClose::sendsRefusedWhenClosed()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        SignalLog log(&socket);
        const Error before = co_await errorOf(socket.sendText(QStringLiteral("x")));
        CO_COMPARE(before.kind(), Error::Kind::WebSocket);
        co_await socket.open();
        co_await socket.close();
        const Error after = co_await errorOf(socket.sendBinary(QByteArray("x")));
        CO_VERIFY2(after.message().contains(QLatin1String("closed")), qPrintable(after.message()));
        CO_VERIFY(!socket.sendTextMessage(QStringLiteral("x")));
        CO_COMPARE(log.errors.size(), 1); // only the signal-style send reports through a signal
        CO_COMPARE(socket.lastError(), log.errors.first());
    }());
}

QTEST_GUILESS_MAIN(TestWebSocketClose)
#include "tst_websocket_close.moc"
