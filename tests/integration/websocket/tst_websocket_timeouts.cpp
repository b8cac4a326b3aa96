// The timeout convention (timeout.h) on both WebSockets: Timeout::noLimit waits for ever and zero
// does not wait, for receive(), ping(), openTimeout, closeTimeout and the blocking receive();
// an unset heartbeatTimeout is the interval, noLimit never drops the connection for a missing
// pong. Against the scripted raw-TCP server of wsscripted.h, whose timers (not the test) decide
// when it answers.
#include "wsscripted.h"
#include "wstest.h"

#include <Reqivo/asyncwebsocket.h>
#include <Reqivo/errors.h>
#include <Reqivo/websocket.h>

#include <QTimer>

using namespace Reqivo;
using namespace ReqivoTest;
using namespace std::chrono_literals;

namespace {
//! A server's answer to the client's Close: the same code back, then TCP closed, so that a
//! close() at the end of a test does not wait for its closeTimeout.
void answerClose(WsServerConnection *c, const WsClientFrame &f)
{
    if (f.opcode == WsOpcode::Close) {
        c->write(wsclose(f.closeCode()));
        c->close();
    }
}
} // namespace

class TestWebSocketTimeouts : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void receiveNoLimitAndZero();
    void pingNoLimitAndZero();
    void openTimeoutNoLimitAndZero();
    void closeTimeoutNoLimitAndZero();
    void heartbeatTimeoutNoLimit();
    void blockingReceiveNoLimitAndZero();
};

// receive(0) hands out a message already received and otherwise throws ReadTimeout at once;
// receive(Timeout::noLimit), like receive(), waits as long as the server takes.
void TestWebSocketTimeouts::receiveNoLimitAndZero()
{
    WsScriptedServer server;
    server.onFrame = answerClose;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        co_await socket.open();
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer && peer->upgraded);

        const auto none = co_await thrown<ReadTimeout>(socket.receive(0ms));
        CO_VERIFY2(none.has_value(), "receive(0) waited");
        CO_VERIFY(socket.isOpen()); // a timeout leaves the connection usable

        peer->write(wstext("queued"));
        CO_VERIFY(co_await eventually([&] { return socket.pendingMessageCount() == 1; }));
        CO_COMPARE((co_await socket.receive(0ms)).text(), QStringLiteral("queued"));

        QTimer::singleShot(300ms, peer, [peer] { peer->write(wstext("late")); });
        CO_COMPARE((co_await socket.receive(Timeout::noLimit)).text(), QStringLiteral("late"));
        QTimer::singleShot(300ms, peer, [peer] { peer->write(wstext("later")); });
        CO_COMPARE((co_await socket.receive()).text(), QStringLiteral("later"));
        co_await socket.close();
    }());
}

// ping(0) cannot see its pong (it has not even been sent); ping(Timeout::noLimit) waits for a
// pong however late.
void TestWebSocketTimeouts::pingNoLimitAndZero()
{
    WsScriptedServer server;
    int pings = 0;
    server.onFrame = [&pings](WsServerConnection *c, const WsClientFrame &f) {
        answerClose(c, f);
        if (f.opcode != WsOpcode::Ping)
            return;
        ++pings;
        const QByteArray pong = wsframe(WsOpcode::Pong, f.payload);
        QTimer::singleShot(300ms, c, [c, pong] { c->write(pong); });
    };
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        co_await socket.open();
        const auto tooSoon = co_await thrown<ReadTimeout>(socket.ping(0ms));
        CO_VERIFY2(tooSoon.has_value(), "ping(0) waited");
        const std::chrono::microseconds roundTrip = co_await socket.ping(Timeout::noLimit);
        CO_VERIFY(roundTrip > 0us);
        CO_COMPARE(pings, 2);
        co_await socket.close();
    }());
}

// openTimeout zero fails the open at once; Timeout::noLimit waits for a slow server's answer.
void TestWebSocketTimeouts::openTimeoutNoLimitAndZero()
{
    WsScriptedServer server;
    server.respond = [](WsServerConnection *c, const ReceivedRequest &r) {
        const QByteArray answer = ws101(r);
        QTimer::singleShot(300ms, c, [c, answer] { c->write(answer); });
        return QByteArray(); // written later
    };
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions hasty;
        hasty.openTimeout = 0ms;
        AsyncWebSocket refused(server.url(), hasty);
        const auto e = co_await thrown<WebSocketError>(refused.open());
        CO_VERIFY2(e.has_value(), "an open with no time at all succeeded");
        CO_COMPARE(e->error().code(), AsyncWebSocket::AbnormalClosure);
        CO_VERIFY2(e->error().message().contains(QStringLiteral("timed out")),
            qPrintable(e->error().message()));

        WebSocketOptions patient;
        patient.openTimeout = Timeout::noLimit;
        AsyncWebSocket socket(server.url(), patient);
        co_await socket.open();
        CO_VERIFY(socket.isOpen());
        CO_COMPARE(socket.handshakeStatus(), 101);
    }());
}

// closeTimeout zero cuts the connection as soon as the Close is sent; Timeout::noLimit waits
// for the server's Close however late (it is no longer "zero means 5 s").
void TestWebSocketTimeouts::closeTimeoutNoLimitAndZero()
{
    WsScriptedServer server;
    server.onFrame = [](WsServerConnection *c, const WsClientFrame &f) {
        if (f.opcode == WsOpcode::Close && c->id() == 2)
            QTimer::singleShot(300ms, c, [c] { c->write(wsclose(1000, "later")); });
    };
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions hasty;
        hasty.closeTimeout = 0ms;
        AsyncWebSocket cut(server.url(), hasty);
        co_await cut.open();
        co_await cut.close(4001);
        CO_COMPARE(cut.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(cut.closeCode(), 4001); // the server never answered
        WsServerConnection *first = server.connection(0);
        CO_VERIFY(co_await eventually([&] { return first->clientClosed; }));

        WebSocketOptions patient;
        patient.closeTimeout = Timeout::noLimit;
        AsyncWebSocket socket(server.url(), patient);
        co_await socket.open();
        co_await socket.close(4002);
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(socket.closeCode(), 1000); // the server's answer, 300 ms later
        CO_COMPARE(socket.closeReason(), QStringLiteral("later"));
    }());
}

// The server never answers the heartbeat's pings. With heartbeatTimeout Timeout::noLimit the
// connection stays: a message the server sends long after several intervals still arrives on
// it. Unset, the deadline is the interval and the connection is dropped as dead (1006).
void TestWebSocketTimeouts::heartbeatTimeoutNoLimit()
{
    WsScriptedServer server;
    server.onFrame = [](WsServerConnection *c, const WsClientFrame &f) {
        answerClose(c, f);
        if (f.opcode == WsOpcode::Ping && c->framesWithOpcode(WsOpcode::Ping).size() == 1)
            QTimer::singleShot(400ms, c, [c] { c->write(wstext("still here")); });
    };
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.heartbeatInterval = 50ms;
        options.heartbeatTimeout = Timeout::noLimit;
        AsyncWebSocket socket(server.url(), options);
        co_await socket.open();
        const WebSocketMessage m = co_await socket.receive(10s);
        CO_COMPARE(m.text(), QStringLiteral("still here"));
        CO_VERIFY(socket.isOpen());
        // One ping waits for its pong: no new one is sent meanwhile.
        CO_COMPARE(server.connection(0)->framesWithOpcode(WsOpcode::Ping).size(), qsizetype(1));
        co_await socket.close();

        WebSocketOptions unset;
        unset.heartbeatInterval = 50ms;
        CO_VERIFY(!unset.heartbeatTimeout.has_value());
        AsyncWebSocket dropped(server.url(), unset);
        co_await dropped.open();
        const auto e = co_await thrown<WebSocketError>(dropped.receive(10s));
        CO_VERIFY2(e.has_value(), "the unanswered heartbeat did not drop the connection");
        CO_COMPARE(dropped.closeCode(), AsyncWebSocket::AbnormalClosure);
    }());
}

// The blocking twin reads its timeout the same way.
void TestWebSocketTimeouts::blockingReceiveNoLimitAndZero()
{
    WsScriptedServer server; // served by the blocking calls' nested event loop
    server.onFrame = answerClose;
    QVERIFY(server.listen());
    WebSocket socket(server.url());
    socket.open();
    WsServerConnection *peer = server.connection(0);
    QVERIFY(peer && peer->upgraded);
    QVERIFY_THROWS_EXCEPTION(ReadTimeout, socket.receive(0ms));
    QVERIFY(socket.isOpen());
    QTimer::singleShot(300ms, peer, [peer] { peer->write(wstext("late")); });
    QCOMPARE(socket.receive(Timeout::noLimit).text(), QStringLiteral("late"));
    socket.close();
}

QTEST_GUILESS_MAIN(TestWebSocketTimeouts)
#include "tst_websocket_timeouts.moc"
