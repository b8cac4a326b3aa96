// The QML WebSocket type, driven from QML: each test loads a small document that does
// `import Reqivo` from the build tree, lets it talk to a peer, and checks what the document
// recorded in its own properties. Echo, the bindable status, headers and auth (also through an
// HttpClient's session), subprotocols, reconnect with the send queue, heartbeat loss, close
// codes and reasons, and errors as JS Error objects.
#include "wstest.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QQmlComponent>
#include <QQmlEngine>
#include <QQmlProperty>

#include <memory>

using namespace ReqivoTest;
using namespace std::chrono_literals;

namespace {

constexpr int waitMs = 15000;

// The common part: a WebSocket `ws` with handlers that record into `log`, `texts`, `sizes`.
const QByteArray prelude = R"(
import Reqivo
QtObject {
    id: root
    required property url server
    property var log: []
    property var texts: []
    property var sizes: []
    property var lastError: null
    property int boundStatus: ws.status
    function note(line) { log = log.concat([line]) }
)";

// Tests that do something on connect write their own onConnected (which must note it).
const QByteArray socketHandlers = R"(
        onDisconnected: (code, reason) => root.note("disconnected " + code)
        onReconnecting: (attempt, delay) => root.note("reconnecting " + attempt)
        onErrorOccurred: (error) => { root.lastError = error; root.note("error " + error.code) }
        onTextMessageReceived: (message) => root.texts = root.texts.concat([message])
        onBinaryMessageReceived: (message) => root.sizes = root.sizes.concat([message.byteLength])
)";

} // namespace

class TestWebSocketQml : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void echoAndStatus();
    void headersAuthAndSubprotocol();
    void throughAnHttpClient();
    void reconnectWithQueue();
    void heartbeatLossIsAnError();
    void closeCodesAndReasons();
    void handshakeRefused();
    void invalidCloseCodeIsReported();

private:
    std::unique_ptr<QObject> load(const QByteArray &members, const QUrl &server);
    static QStringList strings(QObject *root, const char *name);

    QQmlEngine *m_engine = nullptr;
    PythonPeer m_python;
};

void TestWebSocketQml::initTestCase()
{
    START_PYTHON_PEER(m_python);
    m_engine = new QQmlEngine(this);
    m_engine->addImportPath(QStringLiteral(REQIVO_QML_IMPORT_DIR));
}

void TestWebSocketQml::cleanupTestCase()
{
    delete m_engine;
    m_engine = nullptr;
}

std::unique_ptr<QObject> TestWebSocketQml::load(const QByteArray &members, const QUrl &server)
{
    QQmlComponent component(m_engine);
    component.setData(prelude + members + "\n}\n",
        QUrl::fromLocalFile(QStringLiteral(REQIVO_QML_IMPORT_DIR "/test.qml")));
    if (!component.isReady()) {
        qWarning().noquote() << component.errorString();
        return nullptr;
    }
    std::unique_ptr<QObject> object(
        component.createWithInitialProperties({{QStringLiteral("server"), server}}));
    if (!object)
        qWarning().noquote() << component.errorString();
    return object;
}

QStringList TestWebSocketQml::strings(QObject *root, const char *name)
{
    return root->property(name).toStringList();
}

void TestWebSocketQml::echoAndStatus()
{
    TestServer server;
    QVERIFY(server.listen());
    auto root = load(R"(
    property WebSocket ws: WebSocket {
        url: root.server
        active: true
)" + socketHandlers
            + R"(
        onConnected: root.note("connected")
        onStatusChanged: {
            root.note("status " + status)
            if (status === WebSocket.Open) {
                sendTextMessage("hello")
                sendBinaryMessage(new Uint8Array([1, 2, 3]).buffer)
            }
        }
    }
)",
        server.url());
    QVERIFY(root);
    QObject *ws = qvariant_cast<QObject *>(root->property("ws"));
    QVERIFY(ws);
    QVERIFY(QTest::qWaitFor([&] { return root->property("sizes").toList().size() == 1; }, waitMs));
    QCOMPARE(strings(root.get(), "texts"), QStringList {QStringLiteral("hello")});
    QCOMPARE(root->property("sizes").toList().first().toInt(), 3);
    const int open = 1; // WebSocket.Open
    QCOMPARE(ws->property("status").toInt(), open);
    QCOMPARE(root->property("boundStatus").toInt(), open);

    QMetaObject::invokeMethod(ws, "close", Q_ARG(int, 4000), Q_ARG(QString, QStringLiteral("bye")));
    QVERIFY(QTest::qWaitFor([&] { return ws->property("status").toInt() == 4; }, waitMs)); // Closed
    QCOMPARE(root->property("boundStatus").toInt(), 4);
    QCOMPARE(ws->property("closeCode").toInt(), 4000);
    QCOMPARE(ws->property("closeReason").toString(), QStringLiteral("bye"));
    QCOMPARE(ws->property("active").toBool(), false);
    // Connecting (0), Open (1), Closing (3), Closed (4).
    QCOMPARE(strings(root.get(), "log"),
        (QStringList {QStringLiteral("status 0"), QStringLiteral("status 1"),
            QStringLiteral("connected"), QStringLiteral("status 3"),
            QStringLiteral("disconnected 4000"), QStringLiteral("status 4")}));

    // active: true again opens again.
    ws->setProperty("active", true);
    QVERIFY(QTest::qWaitFor([&] { return ws->property("status").toInt() == open; }, waitMs));
    ws->setProperty("active", false);
    QVERIFY(QTest::qWaitFor([&] { return ws->property("status").toInt() == 4; }, waitMs));
    QCOMPARE(ws->property("closeCode").toInt(), 1000);
}

void TestWebSocketQml::headersAuthAndSubprotocol()
{
    auto root = load(R"(
    property string headersJson: ""
    property WebSocket ws: WebSocket {
        url: root.server
        active: true
        headers: ({"X-Client": "qml"})
        bearerToken: "secret"
        subprotocols: ["chat.v9", "chat.v2"]
        onTextMessageReceived: (message) => { if (!root.headersJson) root.headersJson = message }
    }
)",
        m_python.url(QStringLiteral("/headers")));
    QVERIFY(root);
    QObject *ws = qvariant_cast<QObject *>(root->property("ws"));
    QVERIFY(QTest::qWaitFor(
        [&] { return !root->property("headersJson").toString().isEmpty(); }, waitMs));
    const QJsonObject headers
        = QJsonDocument::fromJson(root->property("headersJson").toString().toUtf8()).object();
    QCOMPARE(headers.value(QStringLiteral("x-client")).toString(), QStringLiteral("qml"));
    QCOMPARE(
        headers.value(QStringLiteral("authorization")).toString(), QStringLiteral("Bearer secret"));
    QCOMPARE(headers.value(QStringLiteral("sec-websocket-protocol")).toString(),
        QStringLiteral("chat.v9, chat.v2"));
    ws->setProperty("active", false);
    QVERIFY(QTest::qWaitFor([&] { return ws->property("status").toInt() == 4; }, waitMs));

    // Negotiated: the peer at /subprotocol picks chat.v2.
    ws->setProperty("url", m_python.url(QStringLiteral("/subprotocol")));
    ws->setProperty("active", true);
    QVERIFY(QTest::qWaitFor([&] { return ws->property("status").toInt() == 1; }, waitMs));
    QCOMPARE(ws->property("subprotocol").toString(), QStringLiteral("chat.v2"));

    // Basic auth from user and password, when no bearer token is set.
    ws->setProperty("active", false);
    QVERIFY(QTest::qWaitFor([&] { return ws->property("status").toInt() == 4; }, waitMs));
    ws->setProperty("bearerToken", QString());
    ws->setProperty("user", QStringLiteral("ann"));
    ws->setProperty("password", QStringLiteral("pw"));
    root->setProperty("headersJson", QString());
    ws->setProperty("url", m_python.url(QStringLiteral("/headers")));
    ws->setProperty("active", true);
    QVERIFY(QTest::qWaitFor(
        [&] { return !root->property("headersJson").toString().isEmpty(); }, waitMs));
    const QJsonObject basic
        = QJsonDocument::fromJson(root->property("headersJson").toString().toUtf8()).object();
    QCOMPARE(
        basic.value(QStringLiteral("authorization")).toString(), QStringLiteral("Basic YW5uOnB3"));
}

void TestWebSocketQml::throughAnHttpClient()
{
    QUrl base = m_python.url(QStringLiteral("/"));
    base.setScheme(QStringLiteral("http"));
    auto root = load(R"(
    property HttpClient client: HttpClient { baseUrl: root.server; bearerToken: "secret" }
    property WebSocket ws: WebSocket {
        client: root.client
        url: "/auth"
        active: true
)" + socketHandlers
            + R"(
        onConnected: { root.note("connected"); sendTextMessage("via the client's session") }
    }
)",
        base);
    QVERIFY(root);
    QVERIFY(QTest::qWaitFor([&] { return !strings(root.get(), "texts").isEmpty(); }, waitMs));
    QCOMPARE(
        strings(root.get(), "texts"), QStringList {QStringLiteral("via the client's session")});
}

void TestWebSocketQml::reconnectWithQueue()
{
    TestServer server;
    server.mode = TestServer::Mode::Record;
    QVERIFY(server.listen());
    const quint16 port = server.port();
    auto root = load(R"(
    property WebSocket ws: WebSocket {
        url: root.server
        active: true
        autoReconnect: true
        reconnectDelay: 20
        maxReconnectAttempts: -1
)" + socketHandlers
            + R"(
        onConnected: root.note("connected")
    }
)",
        server.url());
    QVERIFY(root);
    QObject *ws = qvariant_cast<QObject *>(root->property("ws"));
    QVERIFY(QTest::qWaitFor([&] { return ws->property("status").toInt() == 1; }, waitMs));
    server.stop(0);
    QVERIFY(QTest::qWaitFor([&] { return ws->property("status").toInt() == 2; }, waitMs));
    QCOMPARE(root->property("boundStatus").toInt(), 2); // Reconnecting
    bool sent = false;
    for (const char *m : {"q1", "q2", "q3"}) {
        QMetaObject::invokeMethod(ws, "sendTextMessage", Q_RETURN_ARG(bool, sent),
            Q_ARG(QString, QString::fromLatin1(m)));
        QVERIFY(sent);
    }
    QVERIFY(server.listen(port));
    QVERIFY(QTest::qWaitFor([&] { return server.received.size() == 3; }, waitMs));
    QCOMPARE(server.received,
        (QStringList {QStringLiteral("q1"), QStringLiteral("q2"), QStringLiteral("q3")}));
    QCOMPARE(ws->property("status").toInt(), 1);
    const QStringList log = strings(root.get(), "log");
    QCOMPARE(log.first(), QStringLiteral("connected"));
    QCOMPARE(log.at(1), QStringLiteral("disconnected 1006"));
    QVERIFY(log.contains(QStringLiteral("reconnecting 1")));
    QCOMPARE(log.last(), QStringLiteral("connected"));
    QCOMPARE(log.count(QStringLiteral("connected")), 2);
}

void TestWebSocketQml::heartbeatLossIsAnError()
{
    auto root = load(R"(
    property WebSocket ws: WebSocket {
        url: root.server
        active: true
        heartbeatInterval: 100
        heartbeatTimeout: 200
)" + socketHandlers
            + R"(
        onConnected: { root.note("connected"); sendTextMessage("silence") }
    }
)",
        m_python.url(QStringLiteral("/silent")));
    QVERIFY(root);
    QObject *ws = qvariant_cast<QObject *>(root->property("ws"));
    QVERIFY(QTest::qWaitFor([&] { return ws->property("status").toInt() == 5; }, waitMs)); // Error
    const QJSValue error = root->property("lastError").value<QJSValue>();
    QCOMPARE(error.property(QStringLiteral("type")).toString(), QStringLiteral("WebSocketError"));
    QCOMPARE(error.property(QStringLiteral("code")).toInt(), 1006);
    QVERIFY(
        error.property(QStringLiteral("message")).toString().contains(QLatin1String("heartbeat")));
    QVERIFY(ws->property("errorString").toString().contains(QLatin1String("heartbeat")));
    QCOMPARE(strings(root.get(), "log"),
        (QStringList {QStringLiteral("connected"), QStringLiteral("disconnected 1006"),
            QStringLiteral("error 1006")}));
}

void TestWebSocketQml::closeCodesAndReasons()
{
    auto root = load(R"(
    property WebSocket ws: WebSocket {
        url: root.server
        active: true
)" + socketHandlers
            + R"(
        onConnected: { root.note("connected"); sendTextMessage("close me") }
    }
)",
        m_python.url(QStringLiteral("/close?code=4003&reason=from%20python")));
    QVERIFY(root);
    QObject *ws = qvariant_cast<QObject *>(root->property("ws"));
    QVERIFY(QTest::qWaitFor([&] { return ws->property("status").toInt() == 4; }, waitMs));
    QCOMPARE(ws->property("closeCode").toInt(), 4003);
    QCOMPARE(ws->property("closeReason").toString(), QStringLiteral("from python"));
    QCOMPARE(ws->property("errorString").toString(), QString());
    QCOMPARE(strings(root.get(), "log"),
        (QStringList {QStringLiteral("connected"), QStringLiteral("disconnected 4003")}));
}

void TestWebSocketQml::handshakeRefused()
{
    auto root = load(R"(
    property WebSocket ws: WebSocket {
        url: root.server
        active: true
        autoReconnect: true
)" + socketHandlers
            + R"(
        onConnected: root.note("connected")
    }
)",
        m_python.url(QStringLiteral("/auth")));
    QVERIFY(root);
    QObject *ws = qvariant_cast<QObject *>(root->property("ws"));
    QVERIFY(QTest::qWaitFor([&] { return ws->property("status").toInt() == 5; }, waitMs));
    const QJSValue error = root->property("lastError").value<QJSValue>();
    QVERIFY(error.isError());
    QVERIFY(error.property(QStringLiteral("message")).toString().contains(QLatin1String("401")));
    QCOMPARE(error.property(QStringLiteral("code")).toInt(), 401); // the HTTP status
    QCOMPARE(strings(root.get(), "log"), QStringList {QStringLiteral("error 401")});
    QCOMPARE(ws->property("active").toBool(), false);
}

void TestWebSocketQml::invalidCloseCodeIsReported()
{
    TestServer server;
    QVERIFY(server.listen());
    auto root = load(R"(
    property WebSocket ws: WebSocket {
        url: root.server
        active: true
)" + socketHandlers
            + R"(
        onConnected: { root.note("connected"); close(1006) }
    }
)",
        server.url());
    QVERIFY(root);
    QVERIFY(QTest::qWaitFor([&] { return strings(root.get(), "log").size() == 2; }, waitMs));
    QCOMPARE(strings(root.get(), "log"),
        (QStringList {QStringLiteral("connected"), QStringLiteral("error 0")}));
    QObject *ws = qvariant_cast<QObject *>(root->property("ws"));
    QCOMPARE(ws->property("status").toInt(), 1); // still open
}

QTEST_GUILESS_MAIN(TestWebSocketQml)
#include "tst_websocket_qml.moc"
