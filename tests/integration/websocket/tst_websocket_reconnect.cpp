// Reconnects: after a server restart and after a reset in the middle of a stream the socket
// comes back by itself, and what was sent in between is delivered once, in order. The send
// queue's size and policies, the backoff signals, giving up, and the endings that must not be
// retried (a user close, a normal close from the peer, a 4xx handshake, a protocol error).
#include "wstest.h"

#include <Reqivo/asyncsession.h>
#include <Reqivo/asyncwebsocket.h>

#include <QJsonArray>
#include <QJsonDocument>

using namespace Reqivo;
using namespace ReqivoTest;
using namespace std::chrono_literals;

namespace {

WebSocketOptions fastReconnect(int attempts = 5)
{
    WebSocketOptions options;
    options.reconnect.enabled = true;
    options.reconnect.initialDelay = 20ms;
    options.reconnect.maxDelay = 200ms;
    options.reconnect.maxAttempts = attempts;
    return options;
}

QStringList numbered(int from, int to)
{
    QStringList list;
    for (int i = from; i <= to; ++i)
        list.append(QString::number(i));
    return list;
}

} // namespace

class TestWebSocketReconnect : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void serverRestartReplaysTheQueueInOrder();
    void resetMidStreamPython();
    void goingAwayIsRetried();
    void heartbeatLossIsRetried();
    void noReconnectAfterUserClose();
    void noReconnectAfterNormalCloseFromThePeer();
    void noReconnectAfterAProtocolError();
    void noReconnectAfterA4xxHandshake();
    void givesUpAfterMaxAttempts();
    void backoffGrowsAndIsCapped();
    void queuePolicyKeep();
    void queuePolicyDropOldest();
    void queuePolicyFail();
    void closeWhileReconnecting();
    void connectedSlotsSendBeforeTheBacklog();
    void retryInitialConnect();
    void receiveWaitsAcrossAReconnect();
    void sendFromADisconnectedSlot();

private:
    PythonPeer m_python;
};

void TestWebSocketReconnect::initTestCase()
{
    START_PYTHON_PEER(m_python);
}

void TestWebSocketReconnect::serverRestartReplaysTheQueueInOrder()
{
    TestServer server;
    server.mode = TestServer::Mode::Record;
    QVERIFY(server.listen());
    const quint16 port = server.port();
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url(), fastReconnect(20));
        SignalLog log(&socket);
        co_await socket.open();
        for (const QString &m : numbered(1, 50))
            co_await socket.sendText(m);
        CO_VERIFY(co_await eventually([&] { return server.received.size() == 50; }));

        server.stop(1001); // going away, and nobody listens for a while
        CO_VERIFY(co_await eventually(
            [&] { return socket.state() == AsyncWebSocket::State::Reconnecting; }));
        for (const QString &m : numbered(51, 150))
            co_await socket.sendText(m); // queued
        CO_COMPARE(socket.queuedMessageCount(), 100);
        // The first attempt is refused: the second one is announced.
        CO_VERIFY(co_await eventually([&] { return log.count(QStringLiteral("reconnecting 2")); }));
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Reconnecting);

        CO_VERIFY(server.listen(port));
        CO_VERIFY(co_await eventually([&] { return socket.isOpen(); }));
        CO_COMPARE(socket.queuedMessageCount(), 0);
        for (const QString &m : numbered(151, 200))
            co_await socket.sendText(m);
        // One connection keeps order: a duplicate would arrive before this last message.
        co_await socket.sendText(QStringLiteral("last"));
        CO_VERIFY(co_await eventually([&] {
            return !server.received.isEmpty() && server.received.last() == QStringLiteral("last");
        }));
        // none lost, none twice, in order
        CO_COMPARE(server.received, numbered(1, 200) << QStringLiteral("last"));
        CO_COMPARE(server.connections, 2);
        CO_COMPARE(log.count(QStringLiteral("connected")), 2);
        CO_COMPARE(log.count(QStringLiteral("disconnected 1001")), 1);
        CO_VERIFY(log.count(QStringLiteral("reconnecting 2")) == 1); // the first was refused
        CO_VERIFY(log.errors.isEmpty());
        co_await socket.close();
    }());
}

void TestWebSocketReconnect::resetMidStreamPython()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        // The peer records every message and cuts the connection (no close frame) when the
        // 30th arrives. Messages sent while the socket is down are queued; after the
        // reconnect the peer must have seen 1..100 exactly once each, in order.
        const QUrl url = m_python.url(QStringLiteral("/record/reset-mid-stream?dropat=30"));
        AsyncWebSocket socket(url, fastReconnect());
        SignalLog log(&socket);
        co_await socket.open();
        for (const QString &m : numbered(1, 30))
            co_await socket.sendText(m);
        CO_VERIFY(co_await eventually(
            [&] { return socket.state() == AsyncWebSocket::State::Reconnecting; }));
        CO_COMPARE(socket.closeCode(), 1006);
        for (const QString &m : numbered(31, 80))
            co_await socket.sendText(m);
        CO_VERIFY(co_await eventually([&] { return socket.isOpen(); }));
        for (const QString &m : numbered(81, 100))
            co_await socket.sendText(m);
        co_await socket.sendText(QStringLiteral("dump"));
        const QJsonArray seen
            = QJsonDocument::fromJson((co_await socket.receive(5s)).data()).array();
        QStringList got;
        for (const QJsonValue &v : seen)
            got.append(v.toString());
        CO_COMPARE(got, numbered(1, 100));
        CO_COMPARE(log.lines,
            (QStringList {QStringLiteral("connected"), QStringLiteral("disconnected 1006"),
                QStringLiteral("reconnecting 1"), QStringLiteral("connected")}));
        co_await socket.close();
    }());
}

void TestWebSocketReconnect::goingAwayIsRetried()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url(), fastReconnect());
        SignalLog log(&socket);
        co_await socket.open();
        server.dropClients(1001);
        CO_VERIFY(co_await eventually([&] { return log.count(QStringLiteral("connected")) == 2; }));
        CO_COMPARE(log.lines,
            (QStringList {QStringLiteral("connected"), QStringLiteral("disconnected 1001"),
                QStringLiteral("reconnecting 1"), QStringLiteral("connected")}));
        co_await socket.sendText(QStringLiteral("after"));
        CO_COMPARE((co_await socket.receive(5s)).text(), QStringLiteral("after"));
        co_await socket.close();
    }());
}

void TestWebSocketReconnect::heartbeatLossIsRetried()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options = fastReconnect();
        options.heartbeatInterval = 100ms;
        options.heartbeatTimeout = 150ms;
        AsyncWebSocket socket(m_python.url(QStringLiteral("/silent")), options);
        SignalLog log(&socket);
        co_await socket.open();
        co_await socket.sendText(QStringLiteral("silence")); // this connection stops answering
        CO_VERIFY(
            co_await eventually([&] { return log.count(QStringLiteral("connected")) == 2; }, 5s));
        CO_COMPARE(log.lines,
            (QStringList {QStringLiteral("connected"), QStringLiteral("disconnected 1006"),
                QStringLiteral("reconnecting 1"), QStringLiteral("connected")}));
        co_await socket.sendText(QStringLiteral("still there?"));
        CO_COMPARE((co_await socket.receive(5s)).text(), QStringLiteral("still there?"));
        co_await socket.close();
    }());
}

void TestWebSocketReconnect::noReconnectAfterUserClose()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url(), fastReconnect());
        SignalLog log(&socket);
        co_await socket.open();
        // close() returns once the socket is Closed: a reconnect would have been decided (and
        // announced) by then.
        co_await socket.close(1000);
        co_await eventsFlushed();
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(log.count(QStringLiteral("reconnecting 1")), 0);
        CO_COMPARE(server.connections, 1);
        co_await socket.open();
        co_await socket.close(1001); // a going-away the user asked for is not retried either
        co_await eventsFlushed();
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(log.count(QStringLiteral("reconnecting 1")), 0);
    }());
}

void TestWebSocketReconnect::noReconnectAfterNormalCloseFromThePeer()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url(), fastReconnect());
        SignalLog log(&socket);
        co_await socket.open();
        server.dropClients(1000);
        CO_VERIFY((co_await socket.receive(5s)).isEnd()); // the socket is Closed
        co_await eventsFlushed();
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(log.lines,
            (QStringList {QStringLiteral("connected"), QStringLiteral("disconnected 1000")}));
    }());
}

void TestWebSocketReconnect::noReconnectAfterAProtocolError()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url(), fastReconnect());
        SignalLog log(&socket);
        co_await socket.open();
        server.dropClients(1002);
        const Error e = co_await errorOf(socket.receive(5s));
        CO_COMPARE(e.code(), 1002);
        co_await eventsFlushed();
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(log.lines,
            (QStringList {QStringLiteral("connected"), QStringLiteral("disconnected 1002"),
                QStringLiteral("error 1002")}));
    }());
}

void TestWebSocketReconnect::noReconnectAfterA4xxHandshake()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        // The session's token is read again at the reconnect: revoked meanwhile, the server
        // answers 401, and that ends it.
        QUrl base = m_python.url(QStringLiteral("/"));
        base.setScheme(QStringLiteral("http"));
        AsyncSession session(base);
        session.setBearerToken(QStringLiteral("secret"));
        std::unique_ptr<AsyncWebSocket> socket(
            AsyncWebSocket::fromSession(session, QUrl(QStringLiteral("/auth")), fastReconnect()));
        SignalLog log(socket.get());
        co_await socket->open();
        session.setBearerToken(QStringLiteral("revoked"));
        co_await socket->sendText(QStringLiteral("drop")); // the peer cuts the connection
        const Error e = co_await errorOf(socket->receive(5s));
        CO_VERIFY2(e.message().contains(QLatin1String("gave up reconnecting after 1 attempt:")),
            qPrintable(e.message()));
        CO_VERIFY2(e.message().contains(QLatin1String("HTTP 401")), qPrintable(e.message()));
        co_await eventsFlushed();
        CO_COMPARE(socket->state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(log.lines,
            (QStringList {QStringLiteral("connected"), QStringLiteral("disconnected 1006"),
                QStringLiteral("reconnecting 1"), QStringLiteral("error 1006")}));
    }());
}

void TestWebSocketReconnect::givesUpAfterMaxAttempts()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url(), fastReconnect(3));
        SignalLog log(&socket);
        co_await socket.open();
        co_await socket.sendText(QStringLiteral("before"));
        co_await socket.receive(5s);
        server.stop(0); // gone for good
        CO_VERIFY(co_await eventually(
            [&] { return socket.state() == AsyncWebSocket::State::Reconnecting; }));
        co_await socket.sendText(QStringLiteral("never delivered"));
        const Error e = co_await errorOf(socket.receive(5s));
        CO_COMPARE(e.kind(), Error::Kind::WebSocket);
        CO_COMPARE(e.code(), 1006);
        CO_VERIFY2(e.message().contains(QLatin1String("gave up reconnecting after 3 attempts")),
            qPrintable(e.message()));
        CO_VERIFY2(e.detail().contains(QLatin1String("1 queued message not sent")),
            qPrintable(e.detail()));
        CO_COMPARE(log.lines,
            (QStringList {QStringLiteral("connected"), QStringLiteral("disconnected 1006"),
                QStringLiteral("reconnecting 1"), QStringLiteral("reconnecting 2"),
                QStringLiteral("reconnecting 3"), QStringLiteral("error 1006")}));
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(socket.queuedMessageCount(), 0);
    }());
}

void TestWebSocketReconnect::backoffGrowsAndIsCapped()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options = fastReconnect(6);
        options.reconnect.initialDelay = 10ms;
        options.reconnect.maxDelay = 60ms;
        options.reconnect.jitter = 0.5;
        AsyncWebSocket socket(server.url(), options);
        SignalLog log(&socket);
        co_await socket.open();
        server.stop(0);
        CO_VERIFY(co_await eventually(
            [&] { return socket.state() == AsyncWebSocket::State::Closed; }, 5s));
        // Nominal 10, 20, 40, 60, 60, 60 ms; each drawn from [d/2, d].
        const QList<int> nominal {10, 20, 40, 60, 60, 60};
        CO_COMPARE(log.delays.size(), nominal.size());
        for (qsizetype i = 0; i < nominal.size(); ++i) {
            CO_VERIFY2(log.delays[i] <= nominal[i] && log.delays[i] >= nominal[i] / 2,
                qPrintable(
                    QStringLiteral("attempt %1 waited %2 ms").arg(i + 1).arg(log.delays[i])));
        }
    }());
}

void TestWebSocketReconnect::queuePolicyKeep()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options = fastReconnect();
        options.reconnect.initialDelay = 10s; // stay in Reconnecting
        options.sendQueueSize = 3;
        options.sendQueuePolicy = SendQueuePolicy::Keep;
        AsyncWebSocket socket(server.url(), options);
        co_await socket.open();
        server.dropClients(0);
        CO_VERIFY(co_await eventually(
            [&] { return socket.state() == AsyncWebSocket::State::Reconnecting; }));
        for (const QString &m : numbered(1, 3))
            co_await socket.sendText(m);
        const Error full = co_await errorOf(socket.sendText(QStringLiteral("4")));
        CO_VERIFY2(full.message().contains(QLatin1String("queue is full (3 messages,")),
            qPrintable(full.message()));
        CO_VERIFY(!socket.sendTextMessage(QStringLiteral("5")));
        CO_COMPARE(socket.queuedMessageCount(), 3);
        co_await socket.close();
        CO_COMPARE(socket.queuedMessageCount(), 0); // close drops the queue
    }());
}

void TestWebSocketReconnect::queuePolicyDropOldest()
{
    TestServer server;
    server.mode = TestServer::Mode::Record;
    QVERIFY(server.listen());
    const quint16 port = server.port();
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options = fastReconnect(50);
        options.sendQueueSize = 3;
        options.sendQueuePolicy = SendQueuePolicy::DropOldest;
        AsyncWebSocket socket(server.url(), options);
        co_await socket.open();
        server.stop(0);
        CO_VERIFY(co_await eventually(
            [&] { return socket.state() == AsyncWebSocket::State::Reconnecting; }));
        for (const QString &m : numbered(1, 5))
            co_await socket.sendText(m);
        CO_COMPARE(socket.queuedMessageCount(), 3);
        CO_VERIFY(server.listen(port));
        CO_VERIFY(co_await eventually([&] { return server.received.size() == 3; }));
        CO_COMPARE(server.received, numbered(3, 5));
        co_await socket.close();
    }());
}

void TestWebSocketReconnect::queuePolicyFail()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options = fastReconnect();
        options.reconnect.initialDelay = 10s;
        options.sendQueuePolicy = SendQueuePolicy::Fail;
        AsyncWebSocket socket(server.url(), options);
        co_await socket.open();
        server.dropClients(0);
        CO_VERIFY(co_await eventually(
            [&] { return socket.state() == AsyncWebSocket::State::Reconnecting; }));
        const Error e = co_await errorOf(socket.sendText(QStringLiteral("x")));
        CO_VERIFY2(e.message().contains(QLatin1String("policy is Fail")), qPrintable(e.message()));
        CO_COMPARE(socket.queuedMessageCount(), 0);
        co_await socket.close();
    }());
}

void TestWebSocketReconnect::closeWhileReconnecting()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options = fastReconnect();
        options.reconnect.initialDelay = 200ms;
        AsyncWebSocket socket(server.url(), options);
        SignalLog log(&socket);
        co_await socket.open();
        server.dropClients(0);
        CO_VERIFY(co_await eventually(
            [&] { return socket.state() == AsyncWebSocket::State::Reconnecting; }));
        // "reconnecting 1" came before this: the attempt is due 200 ms after it at the latest.
        const auto due = std::chrono::steady_clock::now() + options.reconnect.initialDelay;
        auto waiting = socket.receive();
        co_await socket.close(4000, QStringLiteral("enough"));
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(socket.closeCode(), 4000);
        const WebSocketMessage end = co_await std::move(waiting);
        CO_VERIFY(end.isEnd());
        // The pending attempt does not happen. Its time must pass (a timer that must not fire
        // has no event to wait for; a busy machine only makes this wait longer) ...
        co_await settle(std::max(0ms,
            std::chrono::ceil<std::chrono::milliseconds>(due - std::chrono::steady_clock::now())));
        // ... and then, however slowly it would travel, an attempt made then would reach the
        // server before a connection opened now: once the server has this one, it must be the
        // second and last.
        AsyncWebSocket probe(server.url());
        co_await probe.open();
        CO_VERIFY(co_await eventually([&] { return server.connections >= 2; }));
        co_await eventsFlushed();
        CO_COMPARE(server.connections, 2);
        co_await probe.close();
        CO_COMPARE(log.lines,
            (QStringList {QStringLiteral("connected"), QStringLiteral("disconnected 1006"),
                QStringLiteral("reconnecting 1")}));
    }());
}

void TestWebSocketReconnect::connectedSlotsSendBeforeTheBacklog()
{
    TestServer server;
    server.mode = TestServer::Mode::Record;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url(), fastReconnect());
        // A re-subscribe from connected() must precede what waited in the queue.
        connect(&socket, &AsyncWebSocket::connected, this,
            [&] { socket.sendTextMessage(QStringLiteral("hello")); });
        co_await socket.open();
        co_await socket.sendText(QStringLiteral("a"));
        CO_VERIFY(co_await eventually([&] { return server.received.size() == 2; }));
        server.dropClients(0);
        CO_VERIFY(co_await eventually(
            [&] { return socket.state() == AsyncWebSocket::State::Reconnecting; }));
        co_await socket.sendText(QStringLiteral("b"));
        co_await socket.sendText(QStringLiteral("c"));
        CO_VERIFY(co_await eventually([&] { return server.received.size() == 5; }));
        CO_COMPARE(server.received,
            (QStringList {QStringLiteral("hello"), QStringLiteral("a"), QStringLiteral("hello"),
                QStringLiteral("b"), QStringLiteral("c")}));
        co_await socket.close();
    }());
}

void TestWebSocketReconnect::retryInitialConnect()
{
    TestServer server;
    QVERIFY(server.listen());
    const quint16 port = server.port();
    server.stop();
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options = fastReconnect(50);
        options.reconnect.retryInitialConnect = true;
        AsyncWebSocket socket(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(port)), options);
        SignalLog log(&socket);
        auto opening = socket.open();
        CO_VERIFY(co_await eventually(
            [&] { return socket.state() == AsyncWebSocket::State::Reconnecting; }));
        CO_VERIFY(socket.sendTextMessage(QStringLiteral("early"))); // queued
        CO_VERIFY(server.listen(port));
        co_await std::move(opening);
        CO_VERIFY(socket.isOpen());
        CO_COMPARE((co_await socket.receive(5s)).text(), QStringLiteral("early"));
        CO_COMPARE(log.count(QStringLiteral("connected")), 1);
        co_await socket.close();
    }());
}

void TestWebSocketReconnect::receiveWaitsAcrossAReconnect()
{
    TestServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url(), fastReconnect());
        co_await socket.open();
        auto waiting = socket.receive(5s); // spans the outage
        server.dropClients(0);
        CO_VERIFY(co_await eventually([&] { return server.connections == 2 && socket.isOpen(); }));
        co_await socket.sendText(QStringLiteral("on the new connection"));
        CO_COMPARE((co_await std::move(waiting)).text(), QStringLiteral("on the new connection"));
        co_await socket.close();
    }());
}

void TestWebSocketReconnect::sendFromADisconnectedSlot()
{
    TestServer server;
    server.mode = TestServer::Mode::Record;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        // Reconnecting: a message sent from disconnected() is queued for the new connection.
        AsyncWebSocket socket(server.url(), fastReconnect());
        QList<bool> accepted;
        connect(&socket, &AsyncWebSocket::disconnected, this,
            [&] { accepted.append(socket.sendTextMessage(QStringLiteral("from the slot"))); });
        co_await socket.open();
        server.dropClients(0);
        CO_VERIFY(co_await eventually([&] { return server.received.size() == 1; }));
        CO_COMPARE(server.received, QStringList {QStringLiteral("from the slot")});
        CO_COMPARE(accepted, QList<bool> {true});
        co_await socket.close();

        // Not reconnecting: refused, and nothing breaks.
        AsyncWebSocket plain(server.url());
        QList<bool> plainAccepted;
        connect(&plain, &AsyncWebSocket::disconnected, this,
            [&] { plainAccepted.append(plain.sendTextMessage(QStringLiteral("x"))); });
        co_await plain.open();
        server.dropClients(0);
        CO_VERIFY(
            co_await eventually([&] { return plain.state() == AsyncWebSocket::State::Closed; }));
        CO_COMPARE(plainAccepted, QList<bool> {false});
    }());
}

QTEST_GUILESS_MAIN(TestWebSocketReconnect)
#include "tst_websocket_reconnect.moc"
