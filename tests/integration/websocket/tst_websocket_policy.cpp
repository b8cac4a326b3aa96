// The WebSocket decisions that need no peer, as tables: which endings are clean, which are
// retried, the backoff, how the handshake is assembled from a URL, a session's state and the
// options, and which answers to it pass RFC 6455 §4.1.
#include "client/prepare_p.h"
#include "websocket/closepolicy_p.h"
#include "websocket/handshake_p.h"

#include <Reqivo/websocketmessage.h>
#include <Reqivo/websocketoptions.h>

#include <QTest>

#include <limits>

using namespace Reqivo;
using namespace Reqivo::WebSocketDetail;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(Reqivo::WebSocketDetail::Ending)

class TestWebSocketPolicy : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void cleanCloseCodes_data();
    void cleanCloseCodes();
    void reconnectDecision_data();
    void reconnectDecision();
    void backoff_data();
    void backoff();
    void backoffBeyondTheCeiling_data();
    void backoffBeyondTheCeiling();
    void jitterStaysWithinItsBand();
    void webSocketUrl_data();
    void webSocketUrl();
    void headersMergeNameByName();
    void credentials();
    void handshakeRefuses_data();
    void handshakeRefuses();
    void handshakeJoinsRepeatedFields();
    void handshakeKeyAndAccept();
    void handshakeAnswer_data();
    void handshakeAnswer();
    void messageValues();
};

void TestWebSocketPolicy::cleanCloseCodes_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<bool>("clean");
    QTest::newRow("1000 normal") << 1000 << true;
    QTest::newRow("1001 going away") << 1001 << true;
    QTest::newRow("1002 protocol error") << 1002 << false;
    QTest::newRow("1006 abnormal") << 1006 << false;
    QTest::newRow("1009 too big") << 1009 << false;
    QTest::newRow("1011 internal error") << 1011 << false;
    QTest::newRow("2999 reserved") << 2999 << false;
    QTest::newRow("3000 first application code") << 3000 << true;
    QTest::newRow("4999 last application code") << 4999 << true;
    QTest::newRow("5000 out of range") << 5000 << false;
}

void TestWebSocketPolicy::cleanCloseCodes()
{
    QFETCH(int, code);
    QFETCH(bool, clean);
    QCOMPARE(isCleanCloseCode(code), clean);
    QCOMPARE(isValidUserCloseCode(code), clean);
}

void TestWebSocketPolicy::reconnectDecision_data()
{
    QTest::addColumn<Ending>("ending");
    QTest::addColumn<int>("code");
    QTest::addColumn<int>("status");
    QTest::addColumn<bool>("retry");
    QTest::newRow("1006 dropped") << Ending::CloseCode << 1006 << 0 << true;
    QTest::newRow("1001 going away") << Ending::CloseCode << 1001 << 0 << true;
    QTest::newRow("1012 service restart") << Ending::CloseCode << 1012 << 0 << true;
    QTest::newRow("1013 try again later") << Ending::CloseCode << 1013 << 0 << true;
    QTest::newRow("1000 normal close from the peer") << Ending::CloseCode << 1000 << 0 << false;
    QTest::newRow("1002 protocol error") << Ending::CloseCode << 1002 << 0 << false;
    QTest::newRow("1003 unsupported data") << Ending::CloseCode << 1003 << 0 << false;
    QTest::newRow("1007 bad payload") << Ending::CloseCode << 1007 << 0 << false;
    QTest::newRow("1008 policy violation") << Ending::CloseCode << 1008 << 0 << false;
    QTest::newRow("1009 message too big") << Ending::CloseCode << 1009 << 0 << false;
    QTest::newRow("1011 internal error") << Ending::CloseCode << 1011 << 0 << false;
    QTest::newRow("4000 application") << Ending::CloseCode << 4000 << 0 << false;
    QTest::newRow("heartbeat lost") << Ending::HeartbeatLost << 1006 << 0 << true;
    QTest::newRow("connect refused") << Ending::ConnectFailed << 1006 << 0 << true;
    QTest::newRow("open timed out") << Ending::ConnectTimedOut << 1006 << 0 << true;
    QTest::newRow("handshake 401") << Ending::HandshakeRefused << 1006 << 401 << false;
    QTest::newRow("handshake 403") << Ending::HandshakeRefused << 1006 << 403 << false;
    QTest::newRow("handshake 404") << Ending::HandshakeRefused << 1006 << 404 << false;
    QTest::newRow("handshake 302") << Ending::HandshakeRefused << 1006 << 302 << false;
    QTest::newRow("handshake 503") << Ending::HandshakeRefused << 1006 << 503 << true;
    QTest::newRow("handshake garbage") << Ending::HandshakeRefused << 1006 << 0 << false;
    QTest::newRow("subprotocol refused") << Ending::SubprotocolRefused << 1006 << 0 << false;
    QTest::newRow("TLS failed") << Ending::TlsFailed << 1006 << 0 << false;
    QTest::newRow("invalid request") << Ending::Invalid << 1006 << 0 << false;
}

void TestWebSocketPolicy::reconnectDecision()
{
    QFETCH(Ending, ending);
    QFETCH(int, code);
    QFETCH(int, status);
    QFETCH(bool, retry);
    QCOMPARE(shouldReconnect(ending, code, status), retry);
}

void TestWebSocketPolicy::backoff_data()
{
    QTest::addColumn<int>("attempt");
    QTest::addColumn<qint64>("expectedMs");
    // The seed's defaults: 1 s doubled per attempt, capped at 30 s.
    QTest::newRow("attempt 1") << 1 << qint64(1000);
    QTest::newRow("attempt 2") << 2 << qint64(2000);
    QTest::newRow("attempt 3") << 3 << qint64(4000);
    QTest::newRow("attempt 5") << 5 << qint64(16000);
    QTest::newRow("attempt 6 capped") << 6 << qint64(30000);
    QTest::newRow("attempt 1000 capped, no overflow") << 1000 << qint64(30000);
    QTest::newRow("attempt 0 treated as 1") << 0 << qint64(1000);
}

void TestWebSocketPolicy::backoff()
{
    QFETCH(int, attempt);
    QFETCH(qint64, expectedMs);
    const ReconnectPolicy policy;
    QCOMPARE(policy.enabled, false);
    QCOMPARE(policy.maxAttempts, 3);
    QCOMPARE(qint64(policy.delayFor(attempt).count()), expectedMs);
}

void TestWebSocketPolicy::backoffBeyondTheCeiling_data()
{
    QTest::addColumn<qint64>("initialMs");
    QTest::addColumn<double>("multiplier");
    QTest::addColumn<qint64>("maxDelayMs"); // 0: no cap
    QTest::addColumn<int>("attempt");
    QTest::addColumn<qint64>("expectedMs");
    // Every delay fits an int of milliseconds (about 24.8 days): what a QTimer and the
    // reconnecting(int attempt, int delayMs) signal carry. Nothing past it is cast or truncated.
    const qint64 ceiling = std::numeric_limits<int>::max();
    QTest::newRow("no cap, attempt 10") << qint64(1000) << 2.0 << qint64(0) << 10 << qint64(512000);
    QTest::newRow("no cap, attempt 22: just under the ceiling")
        << qint64(1000) << 2.0 << qint64(0) << 22 << qint64(2097152000);
    QTest::newRow("no cap, attempt 23: past an int")
        << qint64(1000) << 2.0 << qint64(0) << 23 << ceiling;
    QTest::newRow("no cap, attempt 70: past LLONG_MAX ms")
        << qint64(1000) << 2.0 << qint64(0) << 70 << ceiling;
    QTest::newRow("no cap, attempt 2000: infinite")
        << qint64(1000) << 2.0 << qint64(0) << 2000 << ceiling;
    QTest::newRow("cap of a year, attempt 60")
        << qint64(1000) << 2.0 << qint64(365) * 24 * 3600 * 1000 << 60 << ceiling;
    QTest::newRow("cap under the ceiling, attempt 2000")
        << qint64(1000) << 2.0 << qint64(30000) << 2000 << qint64(30000);
    QTest::newRow("initial delay of a year")
        << qint64(365) * 24 * 3600 * 1000 << 1.0 << qint64(0) << 1 << ceiling;
    QTest::newRow("NaN multiplier: no growth")
        << qint64(1000) << std::numeric_limits<double>::quiet_NaN() << qint64(0) << 5
        << qint64(1000);
    QTest::newRow("infinite multiplier, capped")
        << qint64(1000) << std::numeric_limits<double>::infinity() << qint64(30000) << 2
        << qint64(30000);
    QTest::newRow("infinite multiplier, no cap")
        << qint64(1000) << std::numeric_limits<double>::infinity() << qint64(0) << 2 << ceiling;
    QTest::newRow("no initial delay, attempt 2000")
        << qint64(0) << 2.0 << qint64(0) << 2000 << qint64(0);
    QTest::newRow("negative cap means none") << qint64(1000) << 2.0 << qint64(-5) << 40 << ceiling;
}

void TestWebSocketPolicy::backoffBeyondTheCeiling()
{
    QFETCH(qint64, initialMs);
    QFETCH(double, multiplier);
    QFETCH(qint64, maxDelayMs);
    QFETCH(int, attempt);
    QFETCH(qint64, expectedMs);
    ReconnectPolicy policy;
    policy.maxAttempts = ReconnectPolicy::unlimited;
    policy.initialDelay = std::chrono::milliseconds(initialMs);
    policy.multiplier = multiplier;
    policy.maxDelay = std::chrono::milliseconds(maxDelayMs);
    const qint64 delay = policy.delayFor(attempt).count();
    QCOMPARE(delay, expectedMs);
    // What the reconnect loop emits: the jittered delay as an int, never truncated.
    const auto jittered = applyJitter(policy.delayFor(attempt), 0.2, 0.5);
    QCOMPARE(qint64(int(jittered.count())), qint64(jittered.count()));
}

void TestWebSocketPolicy::jitterStaysWithinItsBand()
{
    QCOMPARE(applyJitter(1000ms, 0.2, 0.0), 1000ms);
    QCOMPARE(applyJitter(1000ms, 0.2, 0.5), 900ms);
    QCOMPARE(applyJitter(1000ms, 0.2, 0.999999), 800ms);
    QCOMPARE(applyJitter(1000ms, 0.0, 0.7), 1000ms);
    QCOMPARE(applyJitter(1000ms, 5.0, 1.0), 0ms); // clamped to the whole delay
    QCOMPARE(applyJitter(1000ms, -1.0, 0.5), 1000ms);
}

void TestWebSocketPolicy::webSocketUrl_data()
{
    QTest::addColumn<QString>("base");
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("expected"); // empty: refused
    QTest::newRow("ws as is") << QString() << "ws://h/a"
                              << "ws://h/a";
    QTest::newRow("wss as is") << QString() << "wss://h:8443/a?b=c"
                               << "wss://h:8443/a?b=c";
    QTest::newRow("http becomes ws") << QString() << "http://h/a"
                                     << "ws://h/a";
    QTest::newRow("https becomes wss") << QString() << "https://h/a"
                                       << "wss://h/a";
    QTest::newRow("relative to an http base") << "http://h:8080/api/"
                                              << "chat"
                                              << "ws://h:8080/api/chat";
    QTest::newRow("absolute path on an https base") << "https://h/api/"
                                                    << "/feed"
                                                    << "wss://h/feed";
    QTest::newRow("absolute URL ignores the base") << "https://h/"
                                                   << "ws://other/x"
                                                   << "ws://other/x";
    QTest::newRow("relative without base") << QString() << "/chat" << QString();
    QTest::newRow("ftp refused") << QString() << "ftp://h/x" << QString();
    QTest::newRow("no host refused") << QString() << "ws:///x" << QString();
}

void TestWebSocketPolicy::webSocketUrl()
{
    QFETCH(QString, base);
    QFETCH(QString, url);
    QFETCH(QString, expected);
    QString error;
    const QUrl result = toWebSocketUrl(QUrl(base), QUrl(url), &error);
    if (expected.isEmpty()) {
        QVERIFY(!result.isValid());
        QVERIFY(!error.isEmpty());
    } else {
        QCOMPARE(result.toString(), expected);
    }
}

void TestWebSocketPolicy::headersMergeNameByName()
{
    const Headers defaults {{"User-Agent", "Reqivo"}, {"X-A", "1"}, {"X-A", "2"}, {"X-B", "b"}};
    const Headers overrides {{"x-a", "3"}, {"X-C", "c"}};
    const Headers merged = Reqivo::Client::mergeHeaders(defaults, overrides);
    const Headers expected {{"User-Agent", "Reqivo"}, {"X-B", "b"}, {"x-a", "3"}, {"X-C", "c"}};
    QCOMPARE(merged, expected);
}

// The handshake is prepared like an HTTP request (client/prepare_p.h).
void TestWebSocketPolicy::credentials()
{
    using Reqivo::Client::PrepareInput;
    const auto prepare = [](QUrl url, Headers overrides, QByteArray session) {
        PrepareInput in;
        in.method = "GET";
        in.url = url;
        in.host = Reqivo::Client::hostField(url);
        in.overrides = std::move(overrides);
        in.sessionAuthorization = std::move(session);
        return Reqivo::Client::prepareRequest(std::move(in)).request;
    };
    // URL user info wins over the session's auth, and leaves the URL.
    const PreparedRequest r
        = prepare(QUrl(QStringLiteral("ws://alice:s3cret@h/x")), {}, "Bearer session");
    QCOMPARE(r.url.toString(), QStringLiteral("ws://h/x"));
    QCOMPARE(r.headers.value("authorization"), QByteArrayView("Basic YWxpY2U6czNjcmV0"));
    QCOMPARE(r.headers.values("authorization").size(), 1);
    QCOMPARE(r.headers.nameAt(0), QByteArrayView("Host"));
    QCOMPARE(r.headers.valueAt(0), QByteArrayView("h"));

    // The session's auth when the headers have none; an explicit header is left alone.
    const PreparedRequest s = prepare(QUrl(QStringLiteral("wss://h:444/x")), {}, "Bearer session");
    QCOMPARE(s.headers.value("authorization"), QByteArrayView("Bearer session"));
    QCOMPARE(s.headers.value("host"), QByteArrayView("h:444"));
    QVERIFY(!s.headers.contains("cookie"));
    const PreparedRequest t = prepare(QUrl(QStringLiteral("ws://h/x")),
        {{"Authorization", "Bearer mine"}, {"Cookie", "b=2"}}, "Bearer session");
    QCOMPARE(t.headers.value("authorization"), QByteArrayView("Bearer mine"));
    QCOMPARE(t.headers.value("cookie"), QByteArrayView("b=2"));

    // The prepared Host is the one sent, first and once.
    Handshake h;
    QString error;
    QVERIFY2(buildHandshake(s, {}, "a2V5", &h, &error), qPrintable(error));
    QVERIFY2(h.request.startsWith("GET /x HTTP/1.1\r\nHost: h:444\r\n"), h.request.constData());
    QCOMPARE(h.request.count("Host:"), 1);
    // A caller's Host replaces the derived one, as for HTTP requests.
    const PreparedRequest u
        = prepare(QUrl(QStringLiteral("ws://h/x")), {{"Host", "other.example"}}, {});
    QVERIFY2(buildHandshake(u, {}, "a2V5", &h, &error), qPrintable(error));
    QVERIFY2(
        h.request.startsWith("GET /x HTTP/1.1\r\nHost: other.example\r\n"), h.request.constData());
    QCOMPARE(h.request.count("Host:"), 1);
}

void TestWebSocketPolicy::handshakeRefuses_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QStringList>("subprotocols");
    QTest::addColumn<QString>("errorPart");
    const QString ok = QStringLiteral("ws://h/");
    QTest::newRow("ftp scheme refused")
        << "ftp://h/" << QByteArray("X-A") << QByteArray("1") << QStringList() << "not a ws";
    QTest::newRow("CRLF in a value") << ok << QByteArray("X-A") << QByteArray("1\r\nX-Evil: 1")
                                     << QStringList() << "invalid value";
    QTest::newRow("LF in a value")
        << ok << QByteArray("X-A") << QByteArray("1\nX") << QStringList() << "invalid value";
    QTest::newRow("NUL in a value")
        << ok << QByteArray("X-A") << QByteArray("1\0x", 3) << QStringList() << "invalid value";
    QTest::newRow("space in a name")
        << ok << QByteArray("X A") << QByteArray("1") << QStringList() << "invalid header name";
    QTest::newRow("colon in a name")
        << ok << QByteArray("X:A") << QByteArray("1") << QStringList() << "invalid header name";
    QTest::newRow("Connection is the handshake's")
        << ok << QByteArray("Connection") << QByteArray("close") << QStringList() << "itself";
    QTest::newRow("Sec-WebSocket-Extensions is the handshake's")
        << ok << QByteArray("Sec-WebSocket-Extensions") << QByteArray("permessage-deflate")
        << QStringList() << "itself";
    QTest::newRow("Upgrade is the handshake's")
        << ok << QByteArray("upgrade") << QByteArray("x") << QStringList() << "itself";
    QTest::newRow("Sec-WebSocket-Key is the handshake's")
        << ok << QByteArray("Sec-WebSocket-Key") << QByteArray("x") << QStringList() << "itself";
    QTest::newRow("subprotocols go through the options")
        << ok << QByteArray("Sec-WebSocket-Protocol") << QByteArray("x") << QStringList()
        << "WebSocketOptions::subprotocols";
    QTest::newRow("subprotocol with a space")
        << ok << QByteArray("X-A") << QByteArray("1") << QStringList {QStringLiteral("a b")}
        << "invalid subprotocol";
    QTest::newRow("subprotocol with a comma")
        << ok << QByteArray("X-A") << QByteArray("1") << QStringList {QStringLiteral("a,b")}
        << "invalid subprotocol";
    QTest::newRow("empty subprotocol") << ok << QByteArray("X-A") << QByteArray("1")
                                       << QStringList {QString()} << "invalid subprotocol";
    QTest::newRow("subprotocol twice")
        << ok << QByteArray("X-A") << QByteArray("1")
        << QStringList {QStringLiteral("a"), QStringLiteral("a")} << "offered twice";
}

void TestWebSocketPolicy::handshakeRefuses()
{
    QFETCH(QString, url);
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, value);
    QFETCH(QStringList, subprotocols);
    QFETCH(QString, errorPart);
    PreparedRequest r {"GET", QUrl(url), {}};
    r.headers.add(name, value);
    Handshake h;
    QString error;
    QVERIFY(!buildHandshake(r, subprotocols, "a2V5", &h, &error));
    QVERIFY2(error.contains(errorPart), qPrintable(error));
    QVERIFY(h.request.isEmpty());
}

void TestWebSocketPolicy::handshakeJoinsRepeatedFields()
{
    PreparedRequest r {"GET", QUrl(QStringLiteral("http://h:81/chat?room=1")),
        {{"Host", "h:81"}, {"X-List", "a"}, {"Cookie", "a=1"}, {"x-list", "b"}, {"Cookie", "b=2"}}};
    Handshake h;
    QString error;
    QVERIFY2(buildHandshake(r, {QStringLiteral("chat.v2"), QStringLiteral("chat.v1")},
                 "dGhlIHNhbXBsZSBub25jZQ==", &h, &error),
        qPrintable(error));
    QCOMPARE(h.url.toString(), QStringLiteral("ws://h:81/chat?room=1"));
    QCOMPARE(h.offered, (QStringList {QStringLiteral("chat.v2"), QStringLiteral("chat.v1")}));
    // The exact request: Host, the handshake's fields, then the prepared ones, joined by name.
    QCOMPARE(h.request,
        QByteArray("GET /chat?room=1 HTTP/1.1\r\n"
                   "Host: h:81\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: chat.v2, chat.v1\r\n"
                   "X-List: a, b\r\n"
                   "Cookie: a=1; b=2\r\n"
                   "\r\n"));
}

void TestWebSocketPolicy::handshakeKeyAndAccept()
{
    // RFC 6455 §1.3's example.
    QCOMPARE(
        handshakeAccept("dGhlIHNhbXBsZSBub25jZQ=="), QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    const QByteArray a = makeHandshakeKey();
    const QByteArray b = makeHandshakeKey();
    QCOMPARE(QByteArray::fromBase64(a).size(), 16);
    QCOMPARE(a.size(), 24);
    QVERIFY(a != b);
}

void TestWebSocketPolicy::handshakeAnswer_data()
{
    QTest::addColumn<Headers>("headers");
    QTest::addColumn<QStringList>("offered");
    QTest::addColumn<QString>("chosen"); // the subprotocol, or refused
    QTest::addColumn<QString>("problemPart");
    const QByteArray accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    const QString refused = QStringLiteral("<refused>");
    const QStringList none;
    const QStringList two {QStringLiteral("a"), QStringLiteral("b")};
    const auto ok = [&](std::initializer_list<std::pair<QByteArrayView, QByteArrayView>> extra) {
        Headers h {
            {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", accept}};
        for (const auto &[n, v] : extra)
            h.add(n, v);
        return h;
    };
    QTest::newRow("plain") << ok({}) << none << QString(QLatin1String("")) << QString();
    QTest::newRow("Upgrade in another case") << Headers {{"upgrade", "WebSocket"},
        {"connection", "upgrade"}, {"sec-websocket-accept", accept}}
                                             << none << QString(QLatin1String("")) << QString();
    QTest::newRow("Connection as a token list") << Headers {{"Upgrade", "websocket"},
        {"Connection", "keep-alive, Upgrade"}, {"Sec-WebSocket-Accept", accept}}
                                                << none << QString(QLatin1String("")) << QString();
    QTest::newRow("Connection in two fields") << Headers {{"Upgrade", "websocket"},
        {"Connection", "keep-alive"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", accept}}
                                              << none << QString(QLatin1String("")) << QString();
    QTest::newRow("subprotocol chosen")
        << ok({{"Sec-WebSocket-Protocol", "b"}}) << two << QStringLiteral("b") << QString();
    QTest::newRow("no Upgrade") << Headers {{"Connection", "Upgrade"},
        {"Sec-WebSocket-Accept", accept}}
                                << none << refused << QStringLiteral("no Upgrade");
    QTest::newRow("Upgrade h2c") << Headers {{"Upgrade", "h2c"}, {"Connection", "Upgrade"},
        {"Sec-WebSocket-Accept", accept}}
                                 << none << refused << QStringLiteral("not websocket");
    QTest::newRow("no Connection")
        << Headers {{"Upgrade", "websocket"}, {"Sec-WebSocket-Accept", accept}} << none << refused
        << QStringLiteral("no Connection");
    QTest::newRow("Connection without upgrade")
        << Headers {{"Upgrade", "websocket"}, {"Connection", "keep-alive"},
               {"Sec-WebSocket-Accept", accept}}
        << none << refused << QStringLiteral("does not name upgrade");
    QTest::newRow("no Accept") << Headers {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}}
                               << none << refused << QStringLiteral("no Sec-WebSocket-Accept");
    QTest::newRow("wrong Accept") << Headers {{"Upgrade", "websocket"}, {"Connection", "Upgrade"},
        {"Sec-WebSocket-Accept", "AAAA"}}
                                  << none << refused << QStringLiteral("does not match");
    QTest::newRow("two Accepts") << ok({{"Sec-WebSocket-Accept", accept}}) << none << refused
                                 << QStringLiteral("2 Sec-WebSocket-Accept");
    QTest::newRow("extension never offered")
        << ok({{"Sec-WebSocket-Extensions", "permessage-deflate"}}) << none << refused
        << QStringLiteral("permessage-deflate");
    QTest::newRow("subprotocol not offered")
        << ok({{"Sec-WebSocket-Protocol", "c"}}) << two << refused << QStringLiteral("not offered");
    QTest::newRow("subprotocol when none offered") << ok({{"Sec-WebSocket-Protocol", "a"}}) << none
                                                   << refused << QStringLiteral("none was offered");
    QTest::newRow("two subprotocols")
        << ok({{"Sec-WebSocket-Protocol", "a"}, {"Sec-WebSocket-Protocol", "b"}}) << two << refused
        << QStringLiteral("not offered");
    QTest::newRow("subprotocol list") << ok({{"Sec-WebSocket-Protocol", "a, b"}}) << two << refused
                                      << QStringLiteral("not offered");
}

void TestWebSocketPolicy::handshakeAnswer()
{
    QFETCH(Headers, headers);
    QFETCH(QStringList, offered);
    QFETCH(QString, chosen);
    QFETCH(QString, problemPart);
    Handshake h;
    h.key = "dGhlIHNhbXBsZSBub25jZQ==";
    h.offered = offered;
    QString subprotocol = QStringLiteral("unset");
    QString problem;
    const bool ok = checkHandshakeAnswer(headers, h, &subprotocol, &problem);
    QCOMPARE(ok, chosen != QLatin1String("<refused>"));
    if (ok)
        QCOMPARE(subprotocol, chosen);
    else
        QVERIFY2(problem.contains(problemPart), qPrintable(problem));
}

void TestWebSocketPolicy::messageValues()
{
    const WebSocketMessage text = WebSocketMessage::fromText(QStringLiteral("héllo"));
    QVERIFY(text.isText());
    QCOMPARE(text.data(), QStringLiteral("héllo").toUtf8());
    const WebSocketMessage bin = WebSocketMessage::fromBinary(QByteArray("\x01\x02", 2));
    QVERIFY(bin.isBinary());
    QCOMPARE(bin.data(), QByteArray("\x01\x02", 2));
    const WebSocketMessage end = WebSocketMessage::end(4000, QStringLiteral("bye"));
    QVERIFY(end.isEnd());
    QCOMPARE(end.closeCode(), 4000);
    QCOMPARE(end.closeReason(), QStringLiteral("bye"));
    QVERIFY(end.text().isEmpty());
    QVERIFY(WebSocketMessage().isEnd());
    QCOMPARE(text.closeReason(), QString());
}

QTEST_GUILESS_MAIN(TestWebSocketPolicy)
#include "tst_websocket_policy.moc"
