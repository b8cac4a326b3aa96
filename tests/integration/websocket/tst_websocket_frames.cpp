// AsyncWebSocket judged frame by frame against RFC 6455, on the model of the Autobahn
// fuzzingserver's cases 1-10: a scripted raw-TCP server (wsscripted.h) writes exact frame bytes
// built here by hand and decodes every byte the client sends back, with no WebSocket code of the
// library or of Qt on the server's side.
//
// Covered: every payload length form; failing the connection (1002 protocol error, 1007 invalid
// UTF-8, 1009 too big) with a masked Close of that code, a TCP close, the error on every
// channel and no reconnect; UTF-8 split across fragments and TCP writes; close codes and the
// close handshake in both directions; pings and pongs; frames after a Close; masking; bytes that
// come with the 101; backpressure on receiving and on sending.
#include "wsscripted.h"
#include "wstest.h"

#include <Reqivo/asyncwebsocket.h>
#include <Reqivo/errors.h>

#include <QSet>

#include <memory>

using namespace Reqivo;
using namespace ReqivoTest;
using namespace std::chrono_literals;

namespace {

constexpr qsizetype KiB = 1024;
constexpr qsizetype MiB = 1024 * 1024;

//! \a fragments as one message: the first frame \a opcode, the rest continuations, FIN last.
QByteArray fragmented(int opcode, const QByteArrayList &fragments)
{
    QByteArray out;
    for (qsizetype i = 0; i < fragments.size(); ++i) {
        out += wsframe(
            i == 0 ? opcode : WsOpcode::Continuation, fragments[i], i == fragments.size() - 1);
    }
    return out;
}

QByteArray bytesOf(std::initializer_list<int> bytes)
{
    QByteArray out;
    for (int b : bytes)
        out.append(char(b));
    return out;
}

//! Text and binary messages a socket delivers through its signals.
struct MessageLog
{
    explicit MessageLog(AsyncWebSocket *socket)
    {
        QObject::connect(socket, &AsyncWebSocket::textMessageReceived, &context,
            [this](const QString &m) { texts.append(m); });
        QObject::connect(socket, &AsyncWebSocket::binaryMessageReceived, &context,
            [this](const QByteArray &m) { binaries.append(m); });
    }
    QObject context;
    QStringList texts;
    QByteArrayList binaries;
};

//! How many connections the server accepted before a probe connection made now: a reconnect
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

//! Writes \a wire to the client while a receive() waits, then checks that the client failed the
//! connection with \a code: receive() throws WebSocketError(code), errorOccurred(code) once,
//! closeCode() == code, Closed, a masked Close with that code is the only frame the client sent,
//! the client closed TCP by itself (the server does not answer the Close) without waiting for a
//! close timeout, and no reconnect follows though the policy is on.
QCoro::Task<> expectFailure(
    AsyncWebSocket *socket, SignalLog *log, WsScriptedServer *server, QByteArray wire, int code)
{
    WsServerConnection *peer = server->connection(0);
    CO_VERIFY(peer && peer->upgraded);
    auto receiving = socket->receive(10s);
    peer->write(wire);
    const std::optional<WebSocketError> e = co_await thrown<WebSocketError>(std::move(receiving));
    CO_VERIFY2(e.has_value(), "receive() did not throw");
    CO_COMPARE(e->error().kind(), Error::Kind::WebSocket);
    CO_COMPARE(e->error().code(), code);

    // The close timeout is 5 s: a client that waits for it before closing TCP fails here.
    CO_VERIFY(co_await eventually([&] { return peer->clientClosed; }, 3s));
    CO_COMPARE(peer->frames.size(), qsizetype(1));
    const WsClientFrame close = peer->frames.first();
    CO_COMPARE(close.opcode, WsOpcode::Close);
    CO_VERIFY(close.masked);
    CO_VERIFY(close.fin);
    CO_COMPARE(close.rsv, 0);
    CO_COMPARE(close.closeCode(), code);

    CO_COMPARE(socket->state(), AsyncWebSocket::State::Closed);
    CO_COMPARE(socket->closeCode(), code);
    CO_COMPARE(log->errors.size(), qsizetype(1));
    CO_COMPARE(log->errors.first().kind(), Error::Kind::WebSocket);
    CO_COMPARE(log->errors.first().code(), code);

    co_await eventsFlushed();
    CO_COMPARE(log->count(QStringLiteral("reconnecting 1")), 0);
    CO_COMPARE(co_await connectionsBeforeProbe(server), 1);
    CO_COMPARE(socket->state(), AsyncWebSocket::State::Closed);
}

WebSocketOptions failingOptions()
{
    WebSocketOptions options;
    options.reconnect.enabled = true; // none of these endings is retried
    options.reconnect.retryInitialConnect = true;
    options.reconnect.initialDelay = 0ms;
    options.reconnect.jitter = 0;
    return options;
}

} // namespace

class TestWebSocketFrames : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void payloadLengths_data();
    void payloadLengths();
    void failsTheConnection_data();
    void failsTheConnection();
    void validUtf8InChops_data();
    void validUtf8InChops();
    void sizeLimits_data();
    void sizeLimits();
    void serverCloseCodes_data();
    void serverCloseCodes();
    void serverEmptyCloseIs1005();
    void pingAnsweredWithIdenticalPong_data();
    void pingAnsweredWithIdenticalPong();
    void unsolicitedPongIgnored();
    void framesAfterCloseIgnored();
    void clientCloseDeliversWhatCameBeforeTheServersClose();
    void clientCloseTimesOutWithoutAnswer();
    void clientFramesMaskedWithFreshKeys();
    void bytesWithThe101AreTheFirstMessage();
    void receiveQueueBackpressureDropsNothing_data();
    void receiveQueueBackpressureDropsNothing();
    void signalOnlyUseKeepsNoQueue();
    void sendBufferBackpressure();
};

// --- payload lengths (Autobahn 1.1, 1.2) -------------------------------------------------------

void TestWebSocketFrames::payloadLengths_data()
{
    QTest::addColumn<bool>("text");
    QTest::addColumn<qsizetype>("length");
    QTest::addColumn<bool>("split"); // header bytes and payload in separate TCP writes
    const qsizetype lengths[] = {0, 125, 126, 127, 128, 65535, 65536, 3 * MiB + 17};
    for (bool split : {false, true}) {
        for (bool text : {true, false}) {
            for (qsizetype length : lengths) {
                const QByteArray tag = QByteArray(text ? "text " : "binary ")
                    + QByteArray::number(length) + (split ? " split" : "");
                QTest::newRow(tag.constData()) << text << length << split;
            }
        }
    }
}

void TestWebSocketFrames::payloadLengths()
{
    QFETCH(bool, text);
    QFETCH(qsizetype, length);
    QFETCH(bool, split);
    WsScriptedServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        MessageLog messages(&socket);
        co_await socket.open();
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer && peer->upgraded);

        const QByteArray payload
            = text ? textPattern(length).toUtf8() : ReqivoTest::pattern(length);
        const QByteArray frame = wsframe(text ? WsOpcode::Text : WsOpcode::Binary, payload);
        // The length form on the wire is the one under test.
        const int lengthByte = quint8(frame[1]) & 0x7f;
        CO_COMPARE(lengthByte, length <= 125 ? int(length) : length <= 0xffff ? 126 : 127);

        auto receiving = socket.receive(20s); // waiting before the frame is written
        if (split) {
            const qsizetype header = frame.size() - payload.size();
            QByteArrayList pieces;
            for (qsizetype i = 0; i < header; ++i)
                pieces.append(frame.mid(i, 1));
            pieces.append(payload.left(payload.size() / 2));
            pieces.append(payload.mid(payload.size() / 2));
            peer->trickle(pieces);
        } else {
            peer->write(frame);
        }
        const WebSocketMessage message = co_await std::move(receiving);
        if (text) {
            CO_VERIFY(message.isText());
            CO_COMPARE(message.text().size(), length);
            CO_VERIFY(message.text() == QString::fromUtf8(payload));
            CO_COMPARE(messages.texts.size(), qsizetype(1));
            CO_VERIFY(messages.texts.first() == QString::fromUtf8(payload));
        } else {
            CO_VERIFY(message.isBinary());
            CO_COMPARE(message.data().size(), length);
            CO_VERIFY(message.data() == payload);
            CO_COMPARE(messages.binaries.size(), qsizetype(1));
            CO_VERIFY(messages.binaries.first() == payload);
        }
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Open);
        CO_VERIFY(peer->frames.isEmpty()); // nothing to answer
    }());
}

// --- failing the connection: 1002, 1007, 1009 ------------------------------------------------

void TestWebSocketFrames::failsTheConnection_data()
{
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<int>("code");
    QTest::addColumn<QByteArray>("before"); // a valid message, received before the wire bytes
    const auto row
        = [](const char *name, int code, const QByteArray &wire, const QByteArray &before = {}) {
              QTest::newRow(name) << wire << code << before;
          };

    // Autobahn 1.x edge and 9.x: a 64-bit length must have its most significant bit clear.
    // Nothing follows the header: the client must not wait for 2^63 bytes.
    row("1002 64-bit length with MSB set", 1002, bytesOf({0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}));
    row("1002 64-bit length with MSB set, text", 1002,
        bytesOf({0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
    // RFC 6455 §5.1: a client MUST close the connection on a masked frame.
    row("1002 masked text frame", 1002, wsMaskedFrame(WsOpcode::Text, "Hello"));
    row("1002 masked ping", 1002, wsMaskedFrame(WsOpcode::Ping, "p"));
    // Autobahn 3: RSV bits without a negotiated extension.
    row("1002 RSV1 text", 1002, wsframe(WsOpcode::Text, "Hello", true, 4));
    row("1002 RSV2 text", 1002, wsframe(WsOpcode::Text, "Hello", true, 2));
    row("1002 RSV3 text", 1002, wsframe(WsOpcode::Text, "Hello", true, 1));
    row("1002 RSV1+RSV3 binary", 1002, wsframe(WsOpcode::Binary, "\x01", true, 5));
    row("1002 RSV all ping", 1002, wsframe(WsOpcode::Ping, "", true, 7));
    // Autobahn 4: reserved opcodes, empty and with a payload.
    for (int opcode : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
        row(qPrintable(QStringLiteral("1002 reserved opcode %1").arg(opcode)), 1002,
            wsframe(opcode, ""));
    }
    row("1002 reserved opcode 5 with payload", 1002, wsframe(5, "reserved"));
    row("1002 reserved opcode 11 after a text", 1002, wsframe(11, "x"), wstext("Hello"));
    // Autobahn 5.1, 5.2, 2.5: control frames are never fragmented and carry at most 125 bytes.
    row("1002 ping without FIN", 1002, wsframe(WsOpcode::Ping, "", false));
    row("1002 pong without FIN", 1002, wsframe(WsOpcode::Pong, "x", false));
    row("1002 close without FIN", 1002, wsframe(WsOpcode::Close, wsClosePayload(1000), false));
    row("1002 ping with 126 bytes", 1002, wsframe(WsOpcode::Ping, QByteArray(126, 'p')));
    row("1002 pong with 126 bytes", 1002, wsframe(WsOpcode::Pong, QByteArray(126, 'p')));
    row("1002 close with 126 bytes", 1002,
        wsframe(WsOpcode::Close, wsClosePayload(1000, QByteArray(124, 'r'))));
    // Autobahn 5.x: continuations and data frames out of place.
    row("1002 continuation with no message open", 1002, wscontinuation("orphan"));
    row("1002 continuation without FIN, no message open", 1002, wscontinuation("orphan", false));
    row("1002 continuation after a complete message", 1002, wscontinuation("late"), wstext("done"));
    row("1002 text while a text is open", 1002, wstext("frag", false) + wstext("new"));
    row("1002 binary while a text is open", 1002, wstext("frag", false) + wsbinary("new"));
    row("1002 text while a binary is open", 1002, wsbinary("frag", false) + wstext("new", false));
    // Autobahn 7.3, 7.9: close payloads and codes.
    row("1002 close with a 1-byte payload", 1002, wsframe(WsOpcode::Close, "\x03"));
    for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
        row(qPrintable(QStringLiteral("1002 close code %1").arg(code)), 1002, wsclose(code));
    }
    row("1002 close code 1006 with a reason", 1002, wsclose(1006, "lost"));

    // Autobahn 6: invalid UTF-8 in a text message, in one frame or in fragments.
    const auto utf8Row = [&row](const char *name, const QByteArrayList &fragments) {
        row(name, 1007, fragmented(WsOpcode::Text, fragments));
    };
    utf8Row("1007 overlong 2-byte", {bytesOf({0xc0, 0xaf})});
    utf8Row("1007 overlong 3-byte", {bytesOf({0xe0, 0x80, 0xaf})});
    utf8Row("1007 overlong 4-byte", {bytesOf({0xf0, 0x80, 0x80, 0xaf})});
    utf8Row("1007 overlong NUL", {bytesOf({0xc0, 0x80})});
    utf8Row("1007 surrogate U+D800", {bytesOf({0xed, 0xa0, 0x80})});
    utf8Row("1007 surrogate U+DFFF", {bytesOf({0xed, 0xbf, 0xbf})});
    utf8Row("1007 surrogate pair", {bytesOf({0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80})});
    utf8Row("1007 above U+10FFFF", {bytesOf({0xf4, 0x90, 0x80, 0x80})});
    utf8Row("1007 lead byte F5", {bytesOf({0xf5, 0x80, 0x80, 0x80})});
    utf8Row("1007 byte FF", {QByteArray("ab") + bytesOf({0xff})});
    utf8Row("1007 stray continuation byte", {QByteArray("a") + bytesOf({0x80}) + "b"});
    utf8Row("1007 truncated at message end", {QByteArray("abc") + bytesOf({0xce})});
    utf8Row("1007 truncated 3-byte at message end", {bytesOf({0xe2, 0x82})});
    utf8Row("1007 truncated at the end of a fragmented message",
        {QByteArray("abc"), bytesOf({0xf0, 0x9f, 0x98})});
    utf8Row("1007 truncated, then an empty last fragment", {bytesOf({0xce}), QByteArray()});
    utf8Row("1007 invalid in the second fragment",
        {QByteArray("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"), bytesOf({0xed, 0xa0, 0x80})});
    utf8Row("1007 surrogate split across fragments", {bytesOf({0xed}), bytesOf({0xa0, 0x80})});
    utf8Row("1007 fails before the message ends", {bytesOf({0xc0, 0xaf}), QByteArray("more")});
    row("1007 text with invalid UTF-8 and no FIN", 1007,
        wstext(bytesOf({0xf8, 0x88, 0x80, 0x80, 0x80}), false));
    // Autobahn 7.5: a Close reason must be UTF-8 too.
    row("1007 close reason invalid UTF-8", 1007,
        wsclose(1000, bytesOf({0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xed, 0xa0, 0x80})));
    row("1007 close reason truncated", 1007, wsclose(1000, bytesOf({0xce})));

    // Limits are checked before anything is allocated: a header announcing 1 TiB fails at once.
    row("1009 64-bit length of 1 TiB, nothing following", 1009,
        bytesOf({0x82, 0x7f, 0, 0, 0x01, 0, 0, 0, 0, 0}));
}

void TestWebSocketFrames::failsTheConnection()
{
    QFETCH(QByteArray, wire);
    QFETCH(int, code);
    QFETCH(QByteArray, before);
    WsScriptedServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url(), failingOptions());
        SignalLog log(&socket);
        co_await socket.open();
        if (!before.isEmpty()) {
            auto first = socket.receive(5s);
            server.connection(0)->write(before);
            CO_VERIFY(!(co_await std::move(first)).isEnd());
        }
        co_await expectFailure(&socket, &log, &server, wire, code);
    }());
}

// --- valid UTF-8 in chops (Autobahn 6.2-6.4, 6.x valid rows) -----------------------------------

void TestWebSocketFrames::validUtf8InChops_data()
{
    QTest::addColumn<QByteArrayList>("fragments");
    QTest::addColumn<bool>("trickled"); // each frame in its own TCP write

    const QByteArray kosme("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"); // κόσμε
    QByteArrayList bytewise;
    for (char c : kosme)
        bytewise.append(QByteArray(1, c));
    const QByteArray emoji("\xf0\x9f\x98\x80"); // U+1F600

    for (bool trickled : {false, true}) {
        const auto row = [trickled](const char *name, const QByteArrayList &fragments) {
            const QByteArray tag = QByteArray(name) + (trickled ? ", separate writes" : "");
            QTest::newRow(tag.constData()) << fragments << trickled;
        };
        row("kosme in one frame", {kosme});
        row("kosme byte by byte", bytewise);
        row("emoji 1+3", {emoji.left(1), emoji.mid(1)});
        row("emoji 2+2", {emoji.left(2), emoji.mid(2)});
        row("emoji 3+1", {emoji.left(3), emoji.mid(3)});
        row("text, emoji split, text",
            {QByteArray("Hello ") + emoji.left(2), emoji.mid(2) + " world"});
        row("empty fragments around a split character",
            {QByteArray(), kosme.left(1), QByteArray(), kosme.mid(1), QByteArray()});
    }
    const auto row = [](const char *name, const QByteArray &text) {
        QTest::newRow(name) << QByteArrayList {text} << false;
    };
    row("U+0000", QByteArray("a\0b", 3));
    row("U+007F U+0080 U+07FF U+0800", bytesOf({0x7f, 0xc2, 0x80, 0xdf, 0xbf, 0xe0, 0xa0, 0x80}));
    row("U+D7FF U+E000", bytesOf({0xed, 0x9f, 0xbf, 0xee, 0x80, 0x80}));
    row("U+FFFD U+FFFF", bytesOf({0xef, 0xbf, 0xbd, 0xef, 0xbf, 0xbf}));
    row("U+10000 U+10FFFF", bytesOf({0xf0, 0x90, 0x80, 0x80, 0xf4, 0x8f, 0xbf, 0xbf}));
}

void TestWebSocketFrames::validUtf8InChops()
{
    QFETCH(QByteArrayList, fragments);
    QFETCH(bool, trickled);
    WsScriptedServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        MessageLog messages(&socket);
        co_await socket.open();
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer && peer->upgraded);
        const QString expected = QString::fromUtf8(fragments.join());
        auto receiving = socket.receive(10s);
        if (trickled) {
            QByteArrayList frames;
            for (qsizetype i = 0; i < fragments.size(); ++i) {
                frames.append(wsframe(i == 0 ? WsOpcode::Text : WsOpcode::Continuation,
                    fragments[i], i == fragments.size() - 1));
            }
            peer->trickle(frames);
        } else {
            peer->write(fragmented(WsOpcode::Text, fragments));
        }
        const WebSocketMessage message = co_await std::move(receiving);
        CO_VERIFY(message.isText());
        CO_COMPARE(message.text(), expected);
        CO_COMPARE(messages.texts, QStringList {expected});
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Open);
        CO_VERIFY(socket.lastError().isNull());
        CO_VERIFY(peer->frames.isEmpty()); // no Close
    }());
}

// --- size limits: 1009 -------------------------------------------------------------------------

void TestWebSocketFrames::sizeLimits_data()
{
    QTest::addColumn<QByteArray>("accepted"); // within the limits: must arrive
    QTest::addColumn<QByteArray>("rejected");
    const qint64 frameLimit = 1000;
    QTest::newRow("frame one byte over maxFrameSize")
        << wsbinary(QByteArray(frameLimit, 'a')) << wsbinary(QByteArray(frameLimit + 1, 'b'));
    QTest::newRow("text frame over maxFrameSize")
        << wstext(QByteArray(frameLimit, 'a')) << wstext(QByteArray(70000, 'b'));
    QTest::newRow("continuation frame over maxFrameSize")
        << fragmented(WsOpcode::Binary, {QByteArray(frameLimit, 'a'), QByteArray(frameLimit, 'a')})
        << (wsbinary(QByteArray(10, 'b'), false) + wscontinuation(QByteArray(frameLimit + 1, 'b')));
    QTest::newRow("header announcing more than maxFrameSize, nothing following")
        << wsbinary(QByteArray(frameLimit, 'a')) << bytesOf({0x82, 0x7e, 0x03, 0xe9});
    // maxMessageSize 2500: three fragments of 1000 pass the frame limit, not the message limit.
    QTest::newRow("fragments over maxMessageSize")
        << fragmented(WsOpcode::Text,
               {QByteArray(frameLimit, 'a'), QByteArray(frameLimit, 'a'), QByteArray(500, 'a')})
        << fragmented(WsOpcode::Text,
               {QByteArray(frameLimit, 'b'), QByteArray(frameLimit, 'b'), QByteArray(501, 'b')});
}

void TestWebSocketFrames::sizeLimits()
{
    QFETCH(QByteArray, accepted);
    QFETCH(QByteArray, rejected);
    WsScriptedServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options = failingOptions();
        options.maxFrameSize = 1000;
        options.maxMessageSize = 2500;
        AsyncWebSocket socket(server.url(), options);
        SignalLog log(&socket);
        co_await socket.open();
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer && peer->upgraded);
        auto first = socket.receive(5s);
        peer->write(accepted);
        const WebSocketMessage message = co_await std::move(first);
        CO_VERIFY(!message.isEnd());
        CO_VERIFY(message.data().size() >= 1000);
        co_await expectFailure(&socket, &log, &server, rejected, 1009);
    }());
}

// --- close codes from the server (Autobahn 7.7, 7.9, 7.1.6) ------------------------------------

void TestWebSocketFrames::serverCloseCodes_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<bool>("clean"); // receive() returns End; otherwise it throws the code
    for (int code : {1000, 1001, 3000, 3999, 4000, 4999})
        QTest::newRow(qPrintable(QString::number(code))) << code << QByteArray("bye") << true;
    for (int code : {1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014})
        QTest::newRow(qPrintable(QString::number(code))) << code << QByteArray("bye") << false;
    QTest::newRow("1000 without a reason") << 1000 << QByteArray() << true;
    QTest::newRow("1000 with a 123-byte reason") << 1000 << QByteArray(123, 'r') << true;
    QTest::newRow("1000 with a UTF-8 reason")
        << 1000 << QByteArray("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5") << true;
}

void TestWebSocketFrames::serverCloseCodes()
{
    QFETCH(int, code);
    QFETCH(QByteArray, reason);
    QFETCH(bool, clean);
    WsScriptedServer server;
    // RFC 6455 §7.1.1: the server closes TCP once the close handshake is done.
    server.onFrame = [](WsServerConnection *c, const WsClientFrame &f) {
        if (f.isClose())
            c->close();
    };
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        SignalLog log(&socket);
        co_await socket.open();
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer && peer->upgraded);
        auto receiving = socket.receive(5s);
        peer->write(wsclose(code, reason));
        if (clean) {
            const WebSocketMessage end = co_await std::move(receiving);
            CO_VERIFY(end.isEnd());
            CO_COMPARE(end.closeCode(), code);
            CO_COMPARE(end.closeReason(), QString::fromUtf8(reason));
        } else {
            const std::optional<WebSocketError> e
                = co_await thrown<WebSocketError>(std::move(receiving));
            CO_VERIFY2(e.has_value(), "receive() did not throw");
            CO_COMPARE(e->error().code(), code);
        }
        // The answer echoes the code, masked.
        CO_VERIFY(co_await eventually([&] { return peer->sawClose(); }));
        CO_COMPARE(peer->frames.size(), qsizetype(1));
        const WsClientFrame answer = peer->frames.first();
        CO_VERIFY(answer.masked);
        CO_VERIFY(answer.fin);
        CO_COMPARE(answer.closeCode(), code);
        CO_VERIFY(
            co_await eventually([&] { return socket.state() == AsyncWebSocket::State::Closed; }));
        CO_COMPARE(socket.closeCode(), code);
        CO_COMPARE(socket.closeReason(), QString::fromUtf8(reason));
        CO_COMPARE(log.count(QStringLiteral("disconnected %1").arg(code)), 1);
    }());
}

void TestWebSocketFrames::serverEmptyCloseIs1005()
{
    WsScriptedServer server;
    server.onFrame = [](WsServerConnection *c, const WsClientFrame &f) {
        if (f.isClose())
            c->close();
    };
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        SignalLog log(&socket);
        co_await socket.open();
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer && peer->upgraded);
        auto receiving = socket.receive(5s);
        peer->write(wsframe(WsOpcode::Close, QByteArray()));
        const WebSocketMessage end = co_await std::move(receiving);
        CO_VERIFY(end.isEnd());
        CO_COMPARE(end.closeCode(), 1005);
        // 1005 is never on the wire: the answer is an empty Close too.
        CO_VERIFY(co_await eventually([&] { return peer->sawClose(); }));
        CO_COMPARE(peer->frames.size(), qsizetype(1));
        CO_VERIFY(peer->frames.first().masked);
        CO_COMPARE(peer->frames.first().payload, QByteArray());
        CO_VERIFY(
            co_await eventually([&] { return socket.state() == AsyncWebSocket::State::Closed; }));
        CO_COMPARE(socket.closeCode(), 1005);
        CO_COMPARE(socket.closeReason(), QString());
        CO_VERIFY(socket.lastError().isNull());
        CO_COMPARE(log.lines,
            (QStringList {QStringLiteral("connected"), QStringLiteral("disconnected 1005")}));
    }());
}

// --- pings and pongs (Autobahn 2, 5.6-5.8) -----------------------------------------------------

void TestWebSocketFrames::pingAnsweredWithIdenticalPong_data()
{
    QTest::addColumn<QByteArray>("pingPayload");
    QTest::addColumn<bool>("betweenFragments");
    QTest::addColumn<bool>("trickled");
    QTest::newRow("empty") << QByteArray() << false << false;
    QTest::newRow("125 binary bytes") << ReqivoTest::pattern(125) << false << false;
    QTest::newRow("between two fragments") << QByteArray("ping!") << true << false;
    QTest::newRow("between two fragments, separate writes") << QByteArray("ping!") << true << true;
    QTest::newRow("125 bytes between two fragments") << ReqivoTest::pattern(125) << true << false;
}

void TestWebSocketFrames::pingAnsweredWithIdenticalPong()
{
    QFETCH(QByteArray, pingPayload);
    QFETCH(bool, betweenFragments);
    QFETCH(bool, trickled);
    WsScriptedServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        MessageLog messages(&socket);
        co_await socket.open();
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer && peer->upgraded);
        QByteArrayList pieces;
        if (betweenFragments)
            pieces.append(wstext("Hello, ", false));
        pieces.append(wsframe(WsOpcode::Ping, pingPayload));
        if (betweenFragments)
            pieces.append(wscontinuation("world"));
        else
            pieces.append(wstext("after the ping"));
        auto receiving = socket.receive(5s);
        if (trickled)
            peer->trickle(pieces);
        else
            peer->write(pieces.join());
        const WebSocketMessage message = co_await std::move(receiving);
        CO_COMPARE(message.text(),
            betweenFragments ? QStringLiteral("Hello, world") : QStringLiteral("after the ping"));
        CO_COMPARE(messages.texts.size(), qsizetype(1));

        CO_VERIFY(co_await eventually([&] { return !peer->frames.isEmpty(); }));
        CO_COMPARE(peer->frames.size(), qsizetype(1));
        const WsClientFrame pong = peer->frames.first();
        CO_COMPARE(pong.opcode, WsOpcode::Pong);
        CO_VERIFY(pong.masked);
        CO_VERIFY(pong.fin);
        CO_COMPARE(pong.rsv, 0);
        CO_COMPARE(pong.payload, pingPayload);
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Open);
    }());
}

void TestWebSocketFrames::unsolicitedPongIgnored()
{
    WsScriptedServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        SignalLog log(&socket);
        int pongs = 0;
        connect(&socket, &AsyncWebSocket::pongReceived, &socket, [&](qint64) { ++pongs; });
        co_await socket.open();
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer && peer->upgraded);
        auto receiving = socket.receive(5s);
        peer->write(wsframe(WsOpcode::Pong, "unsolicited") + wsframe(WsOpcode::Pong, "")
            + wstext("after the pongs"));
        CO_COMPARE((co_await std::move(receiving)).text(), QStringLiteral("after the pongs"));
        co_await eventsFlushed();
        CO_COMPARE(pongs, 0);
        CO_VERIFY(peer->frames.isEmpty()); // nothing answered, nothing closed
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Open);
        CO_COMPARE(log.lines, QStringList {QStringLiteral("connected")});
    }());
}

// --- after a Close -----------------------------------------------------------------------------

void TestWebSocketFrames::framesAfterCloseIgnored()
{
    WsScriptedServer server;
    server.onFrame = [](WsServerConnection *c, const WsClientFrame &f) {
        if (f.isClose())
            c->close();
    };
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        MessageLog messages(&socket);
        co_await socket.open();
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer && peer->upgraded);
        auto receiving = socket.receive(5s);
        peer->write(wstext("before") + wsclose(1000, "done") + wstext("after the close")
            + wsbinary("late") + wsframe(WsOpcode::Ping, "late ping"));
        CO_COMPARE((co_await std::move(receiving)).text(), QStringLiteral("before"));
        const WebSocketMessage end = co_await socket.receive(5s);
        CO_VERIFY(end.isEnd());
        CO_COMPARE(end.closeCode(), 1000);
        CO_VERIFY(
            co_await eventually([&] { return socket.state() == AsyncWebSocket::State::Closed; }));
        co_await eventsFlushed();
        CO_COMPARE(messages.texts, QStringList {QStringLiteral("before")});
        CO_VERIFY(messages.binaries.isEmpty());
        CO_COMPARE(socket.pendingMessageCount(), qsizetype(0));
        CO_VERIFY((co_await socket.receive(1s)).isEnd());
        // Only the Close answer, no pong for the late ping.
        CO_COMPARE(peer->frames.size(), qsizetype(1));
        CO_COMPARE(peer->frames.first().closeCode(), 1000);
        CO_COMPARE(socket.closeCode(), 1000);
    }());
}

void TestWebSocketFrames::clientCloseDeliversWhatCameBeforeTheServersClose()
{
    WsScriptedServer server;
    // On the client's Close: two more messages, and the server's own Close only when the test
    // says so.
    server.onFrame = [](WsServerConnection *c, const WsClientFrame &f) {
        if (f.isClose())
            c->write(wstext("one") + wstext("two"));
    };
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        SignalLog log(&socket);
        co_await socket.open();
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer && peer->upgraded);
        auto closing = socket.close(4100, QStringLiteral("see you"));
        CO_VERIFY(co_await eventually([&] { return peer->sawClose(); }));
        const WsClientFrame close = peer->frames.first();
        CO_COMPARE(close.opcode, WsOpcode::Close);
        CO_VERIFY(close.masked);
        CO_COMPARE(close.closeCode(), 4100);
        CO_COMPARE(close.closeReason(), QByteArray("see you"));

        // Still closing: what the server sent before its Close arrives.
        CO_COMPARE((co_await socket.receive(5s)).text(), QStringLiteral("one"));
        CO_COMPARE((co_await socket.receive(5s)).text(), QStringLiteral("two"));
        CO_VERIFY(!closing.isReady()); // close() waits for the server's Close
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closing);
        CO_VERIFY(!peer->disconnected);

        auto ending = socket.receive(5s);
        peer->write(wsclose(1000, "ok"));
        peer->close();
        co_await std::move(closing);
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        const WebSocketMessage end = co_await std::move(ending);
        CO_VERIFY(end.isEnd());
        // The server's Close tells how it ended.
        CO_COMPARE(socket.closeCode(), 1000);
        CO_COMPARE(socket.closeReason(), QStringLiteral("ok"));
        CO_COMPARE(end.closeCode(), 1000);
        CO_COMPARE(peer->frames.size(), qsizetype(1)); // one Close, not a second one
        CO_COMPARE(log.count(QStringLiteral("disconnected 1000")), 1);
        CO_VERIFY(log.errors.isEmpty());
    }());
}

void TestWebSocketFrames::clientCloseTimesOutWithoutAnswer()
{
    WsScriptedServer server; // reads, never answers a Close, never closes
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.closeTimeout = 300ms;
        AsyncWebSocket socket(server.url(), options);
        co_await socket.open();
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer && peer->upgraded);
        co_await socket.close(4001, QStringLiteral("no answer expected"));
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Closed);
        CO_COMPARE(socket.closeCode(), 4001);
        CO_VERIFY(co_await eventually([&] { return peer->clientClosed; }));
        CO_COMPARE(peer->frames.size(), qsizetype(1));
        CO_VERIFY(peer->frames.first().masked);
        CO_COMPARE(peer->frames.first().closeCode(), 4001);
        CO_COMPARE(peer->frames.first().closeReason(), QByteArray("no answer expected"));
    }());
}

// --- what the client sends ---------------------------------------------------------------------

void TestWebSocketFrames::clientFramesMaskedWithFreshKeys()
{
    WsScriptedServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        co_await socket.open();
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer && peer->upgraded);
        for (int i = 0; i < 20; ++i) {
            const QString message = QStringLiteral("message %1 κόσμε").arg(i);
            co_await socket.sendText(message);
        }
        const qsizetype sizes[] = {0, 125, 126, 65535, 65536, 70000};
        for (qsizetype size : sizes) {
            const QByteArray data = ReqivoTest::pattern(size);
            co_await socket.sendBinary(data);
        }
        const qsizetype expected = 20 + std::size(sizes);
        CO_VERIFY(co_await eventually([&] { return peer->frames.size() >= expected; }));
        CO_COMPARE(peer->frames.size(), expected);
        QSet<QByteArray> keys;
        for (int i = 0; i < 20; ++i) {
            const WsClientFrame &f = peer->frames[i];
            CO_VERIFY(f.masked);
            CO_VERIFY(f.fin);
            CO_COMPARE(f.rsv, 0);
            CO_COMPARE(f.opcode, WsOpcode::Text);
            CO_COMPARE(QString::fromUtf8(f.payload), QStringLiteral("message %1 κόσμε").arg(i));
            keys.insert(f.maskKey);
        }
        // Twenty keys from a CSPRNG: all equal never; even two equal has odds of 1 in 2^25.
        CO_VERIFY2(keys.size() >= 19, qPrintable(QString::number(keys.size())));
        for (qsizetype i = 0; i < qsizetype(std::size(sizes)); ++i) {
            const WsClientFrame &f = peer->frames[20 + i];
            CO_VERIFY(f.masked);
            CO_COMPARE(f.opcode, WsOpcode::Binary);
            CO_COMPARE(f.payload, ReqivoTest::pattern(sizes[i]));
            CO_VERIFY2(f.minimalLength, qPrintable(QString::number(sizes[i])));
            CO_COMPARE(f.lengthBits, sizes[i] <= 125 ? 7 : sizes[i] <= 0xffff ? 16 : 64);
        }
    }());
}

void TestWebSocketFrames::bytesWithThe101AreTheFirstMessage()
{
    WsScriptedServer server;
    server.respond = [](WsServerConnection *, const ReceivedRequest &request) {
        return ws101(request) + wstext("first") + wsbinary("second");
    };
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        co_await socket.open();
        const WebSocketMessage first = co_await socket.receive(5s);
        CO_VERIFY(first.isText());
        CO_COMPARE(first.text(), QStringLiteral("first"));
        const WebSocketMessage second = co_await socket.receive(5s);
        CO_VERIFY(second.isBinary());
        CO_COMPARE(second.data(), QByteArray("second"));
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Open);
    }());
}

// --- backpressure --------------------------------------------------------------------------------

void TestWebSocketFrames::receiveQueueBackpressureDropsNothing_data()
{
    QTest::addColumn<qsizetype>("queueSize");
    QTest::addColumn<qint64>("queueBytes");
    // Either bound holds the queue at two 64 KiB messages.
    QTest::newRow("receiveQueueSize 2")
        << qsizetype(2) << WebSocketOptions::defaultReceiveQueueBytes;
    QTest::newRow("receiveQueueBytes 100 KiB")
        << WebSocketOptions::defaultReceiveQueueSize << qint64(100 * KiB);
}

void TestWebSocketFrames::receiveQueueBackpressureDropsNothing()
{
    QFETCH(qsizetype, queueSize);
    QFETCH(qint64, queueBytes);
    WsScriptedServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.receiveQueueSize = queueSize;
        options.receiveQueueBytes = queueBytes;
        AsyncWebSocket socket(server.url(), options);
        SignalLog log(&socket);
        co_await socket.open();
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer && peer->upgraded);
        constexpr int count = 50;
        constexpr qsizetype size = 64 * KiB;
        QByteArray all;
        for (int i = 0; i < count; ++i)
            all += wsbinary(numberedPayload(i, size));
        peer->write(all);
        // The queue fills; then reading pauses instead of dropping, failing or growing.
        CO_VERIFY(co_await eventually([&] { return socket.pendingMessageCount() >= 2; }));
        co_await eventsFlushed();
        co_await eventsFlushed();
        CO_COMPARE(socket.pendingMessageCount(), qsizetype(2));
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Open);
        for (int i = 0; i < count; ++i) {
            const WebSocketMessage message = co_await socket.receive(5s);
            CO_VERIFY2(message.isBinary(), qPrintable(QString::number(i)));
            CO_VERIFY2(message.data() == numberedPayload(i, size),
                qPrintable(QStringLiteral("message %1 is %2")
                               .arg(i)
                               .arg(QString::fromLatin1(message.data().left(8)))));
            co_await eventsFlushed();
            CO_VERIFY2(socket.pendingMessageCount() <= 2,
                qPrintable(QString::number(socket.pendingMessageCount())));
        }
        CO_COMPARE(socket.pendingMessageCount(), qsizetype(0));
        CO_VERIFY(log.errors.isEmpty());
        CO_VERIFY(peer->frames.isEmpty());
    }());
}

void TestWebSocketFrames::signalOnlyUseKeepsNoQueue()
{
    WsScriptedServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncWebSocket socket(server.url());
        QStringList texts;
        connect(&socket, &AsyncWebSocket::textMessageReceived, &socket,
            [&](const QString &m) { texts.append(m); });
        co_await socket.open();
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer && peer->upgraded);
        QByteArray all;
        QStringList expected;
        for (int i = 0; i < 20; ++i) {
            all += wstext(numberedPayload(i, 100));
            expected.append(QString::fromLatin1(numberedPayload(i, 100)));
        }
        peer->write(all);
        CO_VERIFY(co_await eventually([&] { return texts.size() >= 20; }));
        CO_COMPARE(texts, expected);
        CO_COMPARE(socket.pendingMessageCount(), qsizetype(0));
    }());
}

void TestWebSocketFrames::sendBufferBackpressure()
{
    WsScriptedServer server;
    QVERIFY(server.listen());
    RUN_CORO([&]() -> QCoro::Task<> {
        WebSocketOptions options;
        options.sendBufferBytes = 64 * KiB;
        AsyncWebSocket socket(server.url(), options);
        SignalLog log(&socket);
        qint64 written = 0;
        connect(&socket, &AsyncWebSocket::bytesWritten, &socket,
            [&](qint64 bytes) { written += bytes; });
        co_await socket.open();
        WsServerConnection *peer = server.connection(0);
        CO_VERIFY(peer && peer->upgraded);
        peer->pauseReading();

        const auto message
            = [](int i) { return QString::fromLatin1(numberedPayload(i, 64 * KiB)); };
        int accepted = 0;
        bool refused = false;
        // The kernel's buffers take a few MiB at most; then the client's own buffer grows.
        for (int i = 0; i < 1000 && !refused; ++i) {
            if (socket.sendTextMessage(message(accepted))) {
                ++accepted;
                co_await eventsFlushed(); // let the socket hand what it can to the kernel
            } else {
                refused = true;
            }
        }
        CO_VERIFY2(refused, "the send buffer never filled");
        CO_VERIFY(socket.bytesToWrite() > 0);
        CO_COMPARE(log.errors.size(), qsizetype(1));
        CO_COMPARE(socket.state(), AsyncWebSocket::State::Open);

        written = 0;
        peer->resumeReading();
        CO_VERIFY(co_await eventually([&] { return written > 0; }));
        CO_VERIFY(co_await eventually([&] { return socket.bytesToWrite() == 0; }, 10s));
        CO_VERIFY(socket.sendTextMessage(message(accepted)));
        ++accepted;
        // Every accepted message arrives whole and in order; the refused one never left.
        CO_VERIFY(co_await eventually([&] { return peer->frames.size() >= accepted; }, 10s));
        CO_COMPARE(peer->frames.size(), qsizetype(accepted));
        for (int i = 0; i < accepted; ++i) {
            const WsClientFrame &f = peer->frames[i];
            CO_VERIFY(f.masked);
            CO_VERIFY2(f.payload == message(i).toLatin1(), qPrintable(QString::number(i)));
        }
        CO_COMPARE(log.errors.size(), qsizetype(1));
    }());
}

QTEST_GUILESS_MAIN(TestWebSocketFrames)
#include "tst_websocket_frames.moc"
