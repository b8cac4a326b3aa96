// The QML HttpClient, driven from QML: each test loads a small QML document that does
// `import Reqivo` from the build tree, talks to an in-process loopback server, and leaves what
// it saw in properties that the test then checks. Nothing here calls the C++ types directly:
// if QML cannot reach a behaviour, neither can a user.
#include "loopbackserver.h"

#include <Reqivo/AsyncSession>

#include <QCoreApplication>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QQmlComponent>
#include <QQmlEngine>
#include <QRegularExpression>
#include <QTest>

#include <memory>

using namespace std::chrono_literals;
using QmlTest::httpResponse;
using QmlTest::LoopbackServer;
using QmlTest::SeenRequest;

namespace {

// Long enough for sanitizer builds on a busy machine.
constexpr int waitMs = 15000;

const QByteArray jsonFields = "Content-Type: application/json\r\n";

//! Delivers what is already queued for this thread (its posted events, then one turn of its
//! event loop), for "nothing more happens" checks, instead of waiting a while.
void deliverQueuedEvents()
{
    QCoreApplication::sendPostedEvents();
    QEventLoop loop;
    QTimer::singleShot(0, &loop, &QEventLoop::quit);
    loop.exec();
}

} // namespace

class tst_QmlHttpClient : public QObject
{
    Q_OBJECT

private:
    QQmlEngine *m_engine = nullptr;

    //! A QtObject with a `server` URL, an HttpClient `client` whose baseUrl is it, and \a body.
    std::unique_ptr<QObject> load(const QByteArray &body, const QUrl &server)
    {
        const QByteArray qml = "import Reqivo\nQtObject {\n"
                               "    required property url server\n"
                               "    property HttpClient client: HttpClient { baseUrl: server }\n"
            + body + "\n}\n";
        QQmlComponent component(m_engine);
        component.setData(
            qml, QUrl::fromLocalFile(QStringLiteral(REQIVO_QML_IMPORT_DIR "/test.qml")));
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

private Q_SLOTS:
    void initTestCase()
    {
        m_engine = new QQmlEngine(this);
        m_engine->addImportPath(QStringLiteral(REQIVO_QML_IMPORT_DIR));
    }

    void init()
    {
        // A QML TypeError or an unexpected warning from the module fails the test.
        QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
    }

    void getJsonReadsFieldsInQml()
    {
        LoopbackServer server([](QTcpSocket *s, const SeenRequest &) {
            s->write(httpResponse(200, "OK", jsonFields, R"({"name":"reqivo","tags":["a","b"]})"));
        });
        auto root = load(R"(
            property int status: 0
            property bool ok: false
            property string name
            property string secondTag
            property string contentType
            property string text
            property string method
            Component.onCompleted: client.get("/users/1").then(r => {
                status = r.status; ok = r.ok; name = r.json.name; secondTag = r.json.tags[1]
                contentType = r.headers["content-type"]; text = r.text
            }, e => { status = -1 })
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(root->property("status").toInt() != 0, waitMs);
        QCOMPARE(root->property("status").toInt(), 200);
        QCOMPARE(root->property("ok").toBool(), true);
        QCOMPARE(root->property("name").toString(), QStringLiteral("reqivo"));
        QCOMPARE(root->property("secondTag").toString(), QStringLiteral("b"));
        QCOMPARE(root->property("contentType").toString(), QStringLiteral("application/json"));
        QCOMPARE(root->property("text").toString(),
            QStringLiteral(R"({"name":"reqivo","tags":["a","b"]})"));
        QCOMPARE(server.requests().size(), 1);
        QCOMPARE(server.requests()[0].method, "GET");
        QCOMPARE(server.requests()[0].target, "/users/1");
    }

    void postSendsJsObjectAsJson()
    {
        LoopbackServer server([](QTcpSocket *s, const SeenRequest &) {
            s->write(httpResponse(201, "Created", {}, {}));
        });
        auto root = load(R"(
            property int status: 0
            Component.onCompleted: client.post("/items", {title: "milk", count: 2, done: false,
                                                          tags: ["x"], skipped: undefined})
                                          .then(r => status = r.status, e => status = -1)
        )",
            server.url());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("status").toInt(), 201, waitMs);
        const SeenRequest &r = server.requests().at(0);
        QCOMPARE(r.method, "POST");
        QCOMPARE(r.field("Content-Type"), "application/json");
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(r.body, &error);
        QCOMPARE(error.error, QJsonParseError::NoError);
        QCOMPARE(doc.object(),
            QJsonObject({{QStringLiteral("title"), QStringLiteral("milk")},
                {QStringLiteral("count"), 2}, {QStringLiteral("done"), false},
                {QStringLiteral("tags"), QJsonArray {QStringLiteral("x")}}}));
    }

    void bodyKinds_data()
    {
        QTest::addColumn<QByteArray>("call");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("string is text/plain")
            << QByteArray(R"(client.put("/t", "héllo"))") << QByteArray("text/plain; charset=utf-8")
            << QByteArray("h\xc3\xa9llo");
        QTest::newRow("ArrayBuffer is raw bytes")
            << QByteArray(R"(client.post("/b", new Uint8Array([0, 1, 254, 255]).buffer))")
            << QByteArray("application/octet-stream") << QByteArray("\x00\x01\xfe\xff", 4);
        QTest::newRow("typed array view is the bytes it covers")
            << QByteArray(R"(client.post("/b", new Uint8Array([9, 8, 7, 6]).subarray(1, 3)))")
            << QByteArray("application/octet-stream") << QByteArray("\x08\x07");
        QTest::newRow("array is JSON")
            << QByteArray(R"(client.patch("/a", [1, "two", null]))")
            << QByteArray("application/json") << QByteArray(R"([1,"two",null])");
        QTest::newRow("request() takes the body from options")
            << QByteArray(R"(client.request("post", "/r", {body: {a: 1}}))")
            << QByteArray("application/json") << QByteArray(R"({"a":1})");
        QTest::newRow("explicit Content-Type wins")
            << QByteArray(
                   R"(client.post("/c", "<a/>", {headers: {"Content-Type": "application/xml"}}))")
            << QByteArray("application/xml") << QByteArray("<a/>");
    }
    void bodyKinds()
    {
        QFETCH(QByteArray, call);
        QFETCH(QByteArray, contentType);
        QFETCH(QByteArray, body);
        LoopbackServer server(
            [](QTcpSocket *s, const SeenRequest &) { s->write(httpResponse(200, "OK", {}, {})); });
        auto root = load("property int status: 0\nComponent.onCompleted: " + call
                + ".then(r => status = r.status, e => status = -1)",
            server.url());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("status").toInt(), 200, waitMs);
        QCOMPARE(server.requests().at(0).field("Content-Type"), contentType);
        QCOMPARE(server.requests().at(0).body, body);
    }

    void headersBearerAndQueryAreSent()
    {
        LoopbackServer server([](QTcpSocket *s, const SeenRequest &) {
            s->write(httpResponse(204, "No Content", {}, {}));
        });
        auto root = load(R"(
            property int status: 0
            Component.onCompleted: {
                client.headers = {"X-App": "demo", "Accept": "application/json"}
                client.bearerToken = "t0ken"
                client.get("/search", {headers: {"X-Request": "1", "Accept": "text/csv"},
                                       query: {q: "qt quick", page: 2, tag: ["a", "b"]}})
                      .then(r => status = r.status, e => status = -1)
            }
        )",
            server.url());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("status").toInt(), 204, waitMs);
        const SeenRequest &r = server.requests().at(0);
        QCOMPARE(r.field("X-App"), "demo");
        QCOMPARE(r.field("X-Request"), "1");
        QCOMPARE(r.field("Accept"), "text/csv"); // per-request header wins
        QCOMPARE(r.field("Authorization"), "Bearer t0ken");
        QCOMPARE(r.target, "/search?page=2&q=qt%20quick&tag=a&tag=b");
    }

    void responseHeadersAsJsObject()
    {
        LoopbackServer server([](QTcpSocket *s, const SeenRequest &) {
            s->write(httpResponse(200, "OK",
                "X-Multi: a\r\nSet-Cookie: s=1; Path=/\r\nX-Multi: b\r\n"
                "Set-Cookie: t=2\r\n",
                "hi"));
        });
        auto root = load(R"(
            property string multi
            property string multiByLookup
            property var cookies
            property bool missingIsUndefined: false
            Component.onCompleted: client.get("/h").then(r => {
                multiByLookup = r.header("X-MULTI")
                missingIsUndefined = r.header("X-Missing") === undefined
                cookies = r.headers["set-cookie"]
                multi = r.headers["x-multi"]
            })
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("multi").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("multi").toString(), QStringLiteral("a, b"));
        QCOMPARE(root->property("multiByLookup").toString(), QStringLiteral("a, b"));
        QCOMPARE(root->property("cookies").toStringList(),
            QStringList({QStringLiteral("s=1; Path=/"), QStringLiteral("t=2")}));
        QCOMPARE(root->property("missingIsUndefined").toBool(), true);
    }

    void multiValuedHeadersAreJsArrays()
    {
        LoopbackServer server([](QTcpSocket *s, const SeenRequest &) {
            s->write(httpResponse(
                200, "OK", "Set-Cookie: s=1; Path=/\r\nX-One: 1\r\nSet-Cookie: t=2\r\n", "hi"));
        });
        auto root = load(R"(
            property var checks: null
            Component.onCompleted: client.get("/h").then(r => {
                const viaMap = r.headers["set-cookie"]
                const viaLookup = r.header("SET-COOKIE")
                checks = {
                    mapIsArray: Array.isArray(viaMap),
                    lookupIsArray: Array.isArray(viaLookup),
                    joined: viaMap.join("|"),
                    mapped: viaLookup.map(c => c.split("=")[0]).join(""),
                    single: r.headers["x-one"],
                    sameObject: r.headers === r.headers,
                    headersIsObject: typeof r.headers === "object" && !Array.isArray(r.headers)
                }
            })
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(
            root->property("checks").isValid() && !root->property("checks").isNull(), waitMs);
        const QVariantMap checks = root->property("checks").toMap();
        QCOMPARE(checks.value(QStringLiteral("mapIsArray")).toBool(), true);
        QCOMPARE(checks.value(QStringLiteral("lookupIsArray")).toBool(), true);
        QCOMPARE(
            checks.value(QStringLiteral("joined")).toString(), QStringLiteral("s=1; Path=/|t=2"));
        QCOMPARE(checks.value(QStringLiteral("mapped")).toString(), QStringLiteral("st"));
        QCOMPARE(checks.value(QStringLiteral("single")).toString(), QStringLiteral("1"));
        QCOMPARE(checks.value(QStringLiteral("sameObject")).toBool(), true);
        QCOMPARE(checks.value(QStringLiteral("headersIsObject")).toBool(), true);
    }

    void emptyBodyIsAnEmptyArrayBuffer_data()
    {
        QTest::addColumn<QByteArray>("call");
        QTest::addColumn<QByteArray>("answer");
        QTest::newRow("HEAD") << QByteArray(R"(client.head("/e"))")
                              << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
        QTest::newRow("204") << QByteArray(R"(client.get("/e"))")
                             << QByteArray("HTTP/1.1 204 No Content\r\n\r\n");
        QTest::newRow("200, Content-Length: 0") << QByteArray(
            R"(client.get("/e"))") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    }
    void emptyBodyIsAnEmptyArrayBuffer()
    {
        QFETCH(QByteArray, call);
        QFETCH(QByteArray, answer);
        LoopbackServer server([answer](QTcpSocket *s, const SeenRequest &) { s->write(answer); });
        auto root = load("property var checks: null\nComponent.onCompleted: " + call + R"(
            .then(r => checks = {
                isArrayBuffer: r.body instanceof ArrayBuffer,
                byteLength: r.body.byteLength,
                viewLength: new Uint8Array(r.body).length,
                text: r.text
            })
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(
            root->property("checks").isValid() && !root->property("checks").isNull(), waitMs);
        const QVariantMap checks = root->property("checks").toMap();
        QCOMPARE(checks.value(QStringLiteral("isArrayBuffer")).toBool(), true);
        QCOMPARE(checks.value(QStringLiteral("byteLength")).toInt(), 0);
        QCOMPARE(checks.value(QStringLiteral("viewLength")).toInt(), 0);
        QCOMPARE(checks.value(QStringLiteral("text")).toString(), QString());
    }

    void basicAuthFromUserAndPassword_data()
    {
        QTest::addColumn<QByteArray>("setup");
        QTest::addColumn<QByteArray>("authorization");
        QTest::newRow("user and password")
            << QByteArray(R"(client.user = "ada"; client.password = "p:ss wörd")")
            << "Basic " + QByteArray("ada:p:ss w\xc3\xb6rd").toBase64();
        QTest::newRow("user only")
            << QByteArray(R"(client.user = "ada")") << "Basic " + QByteArray("ada:").toBase64();
        QTest::newRow("bearer token wins")
            << QByteArray(R"(client.user = "ada"; client.password = "x"; client.bearerToken = "t")")
            << QByteArray("Bearer t");
        QTest::newRow("cleared again")
            << QByteArray(R"(client.user = "ada"; client.password = "x"; client.user = "";
                             client.password = "")")
            << QByteArray();
        QTest::newRow("bearer token removed: basic again")
            << QByteArray(
                   R"(client.user = "ada"; client.bearerToken = "t"; client.bearerToken = "")")
            << "Basic " + QByteArray("ada:").toBase64();
    }
    void basicAuthFromUserAndPassword()
    {
        QFETCH(QByteArray, setup);
        QFETCH(QByteArray, authorization);
        LoopbackServer server(
            [](QTcpSocket *s, const SeenRequest &) { s->write(httpResponse(200, "OK", {}, {})); });
        auto root = load(R"(
            property int status: 0
            property var changes: []
            Component.onCompleted: {
                client.userChanged.connect(() => changes.push("user"))
                client.passwordChanged.connect(() => changes.push("password"))
                )"
                + setup + R"(
                client.get("/auth").then(r => status = r.status)
            }
        )",
            server.url());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("status").toInt(), 200, waitMs);
        QCOMPARE(server.requests().at(0).field("Authorization"), authorization);
        QVERIFY(!root->property("changes").toList().isEmpty());
    }

    void redirectHistoryIsListed()
    {
        LoopbackServer server([](QTcpSocket *s, const SeenRequest &r) {
            if (r.target == "/a")
                s->write(httpResponse(301, "Moved Permanently", "Location: /b\r\n", {}));
            else if (r.target == "/b")
                s->write(httpResponse(302, "Found", "Location: /c\r\nX-Hop: b\r\n", {}));
            else
                s->write(httpResponse(200, "OK", {}, "end"));
        });
        auto root = load(R"(
            property var hops: null
            Component.onCompleted: client.get("/a").then(r => {
                hops = {
                    isArray: Array.isArray(r.history),
                    statuses: r.history.map(h => h.status).join(","),
                    paths: r.history.map(h => h.url.toString().replace(/^.*:[0-9]+/, "")).join(","),
                    hopHeader: r.history[1].header("x-hop"),
                    firstLocation: r.history[0].headers["location"],
                    finalPath: r.url.toString().replace(/^.*:[0-9]+/, ""),
                    redirected: r.redirected,
                    nestedEmpty: r.history[0].history.length,
                    same: r.history === r.history
                }
            })
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(
            root->property("hops").isValid() && !root->property("hops").isNull(), waitMs);
        const QVariantMap hops = root->property("hops").toMap();
        QCOMPARE(hops.value(QStringLiteral("isArray")).toBool(), true);
        QCOMPARE(hops.value(QStringLiteral("statuses")).toString(), QStringLiteral("301,302"));
        QCOMPARE(hops.value(QStringLiteral("paths")).toString(), QStringLiteral("/a,/b"));
        QCOMPARE(hops.value(QStringLiteral("hopHeader")).toString(), QStringLiteral("b"));
        QCOMPARE(hops.value(QStringLiteral("firstLocation")).toString(), QStringLiteral("/b"));
        QCOMPARE(hops.value(QStringLiteral("finalPath")).toString(), QStringLiteral("/c"));
        QCOMPARE(hops.value(QStringLiteral("redirected")).toBool(), true);
        QCOMPARE(hops.value(QStringLiteral("nestedEmpty")).toInt(), 0);
        QCOMPARE(hops.value(QStringLiteral("same")).toBool(), true);
    }

    void noRedirectMeansEmptyHistory()
    {
        LoopbackServer server(
            [](QTcpSocket *s, const SeenRequest &) { s->write(httpResponse(200, "OK", {}, "x")); });
        auto root = load(R"(
            property int length: -1
            Component.onCompleted: client.get("/x").then(r => length = Array.isArray(r.history)
                                                                 ? r.history.length : -2)
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(root->property("length").toInt() != -1, waitMs);
        QCOMPARE(root->property("length").toInt(), 0);
    }

    void deleteResourceSendsDelete()
    {
        LoopbackServer server([](QTcpSocket *s, const SeenRequest &) {
            s->write(httpResponse(204, "No Content", {}, {}));
        });
        auto root = load(R"(
            property int status: 0
            property bool noDel: false
            Component.onCompleted: {
                noDel = client.del === undefined
                client.deleteResource("/items/7", {query: {hard: 1}}).then(r => status = r.status)
            }
        )",
            server.url());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("status").toInt(), 204, waitMs);
        QCOMPARE(server.requests().at(0).method, "DELETE");
        QCOMPARE(server.requests().at(0).target, "/items/7?hard=1");
        QCOMPARE(root->property("noDel").toBool(), true);
    }

    void sessionIsReachableFromCpp()
    {
        // What docs/qml.md promises: C++ code holding the HttpClient as a QObject (found by
        // objectName here) reaches its AsyncSession with findChild, with no header of the
        // QML module, and what it sets there applies to the requests QML makes.
        LoopbackServer server(
            [](QTcpSocket *s, const SeenRequest &) { s->write(httpResponse(200, "OK", {}, {})); });
        auto root = load(R"(
            property int status: 0
            function go() { client.get("/s").then(r => status = r.status) }
        )",
            server.url());
        QVERIFY(root);
        auto *client = root->property("client").value<QObject *>();
        QVERIFY(client);
        auto *session
            = client->findChild<Reqivo::AsyncSession *>(QString(), Qt::FindDirectChildrenOnly);
        QVERIFY(session);
        QCOMPARE(client->findChildren<Reqivo::AsyncSession *>().size(), 1);
        session->addRequestHook(
            [](Reqivo::PreparedRequest &r) { r.headers.set("X-From-Cpp", "yes"); });
        QVERIFY(QMetaObject::invokeMethod(root.get(), "go"));
        QTRY_COMPARE_WITH_TIMEOUT(root->property("status").toInt(), 200, waitMs);
        QCOMPARE(server.requests().at(0).field("X-From-Cpp"), "yes");
    }

    void notFoundGoesToTheSuccessCallback()
    {
        LoopbackServer server([](QTcpSocket *s, const SeenRequest &) {
            s->write(httpResponse(404, "Not Found", "Content-Type: text/plain\r\n", "no such"));
        });
        auto root = load(R"(
            property string outcome
            property int status: 0
            property bool ok: true
            property string reason
            property bool jsonIsUndefined: false
            Component.onCompleted: client.get("/missing").then(r => {
                status = r.status; ok = r.ok; reason = r.reason
                jsonIsUndefined = r.json === undefined
                outcome = "fulfilled"
            }, e => outcome = "rejected")
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("outcome").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("outcome").toString(), QStringLiteral("fulfilled"));
        QCOMPARE(root->property("status").toInt(), 404);
        QCOMPARE(root->property("ok").toBool(), false);
        QCOMPARE(root->property("reason").toString(), QStringLiteral("Not Found"));
        QCOMPARE(root->property("jsonIsUndefined").toBool(), true);
    }

    void connectionRefusedIsANetworkError()
    {
        QUrl refused;
        {
            // A port that was free a moment ago: nothing listens there any more.
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            refused = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(probe.serverPort()));
        }
        auto root = load(R"(
            property string outcome
            property string type
            property string message
            property string errorUrl
            property bool isJsError: false
            property string taskErrorType
            property var task
            Component.onCompleted: (task = client.get("/x")).then(r => outcome = "fulfilled", e => {
                type = e.type; message = e.message; errorUrl = e.url
                isJsError = e instanceof Error && e.name === e.type
                            && String(e).startsWith("NetworkError: ")
                taskErrorType = task.error.type
                outcome = "rejected"
            })
        )",
            refused);
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("outcome").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("outcome").toString(), QStringLiteral("rejected"));
        QCOMPARE(root->property("type").toString(), QStringLiteral("NetworkError"));
        QCOMPARE(root->property("taskErrorType").toString(), QStringLiteral("NetworkError"));
        QVERIFY(!root->property("message").toString().isEmpty());
        QVERIFY2(root->property("errorUrl").toString().startsWith(refused.toString()),
            qPrintable(root->property("errorUrl").toString()));
        QCOMPARE(root->property("isJsError").toBool(), true);
    }

    void silentServerIsAReadTimeout_data()
    {
        QTest::addColumn<QByteArray>("setup");
        QTest::addColumn<QByteArray>("options");
        QTest::newRow("client timeout") << QByteArray("client.timeout = 200") << QByteArray("{}");
        QTest::newRow("per-request timeout") << QByteArray() << QByteArray("{timeout: 200}");
    }
    void silentServerIsAReadTimeout()
    {
        QFETCH(QByteArray, setup);
        QFETCH(QByteArray, options);
        LoopbackServer server([](QTcpSocket *, const SeenRequest &) { /* never answers */ });
        auto root = load("property string type\nComponent.onCompleted: {\n" + setup
                + "\nclient.get(\"/slow\", " + options
                + ").then(r => type = \"fulfilled\", e => type = e.type)\n}",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("type").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("type").toString(), QStringLiteral("ReadTimeout"));
    }

    void loadingIsBindable()
    {
        LoopbackServer server([](QTcpSocket *s, const SeenRequest &r) {
            // Two requests run at once; each answers after a short while.
            QTimer::singleShot(r.target == "/a" ? 100ms : 200ms, s,
                [s] { s->write(httpResponse(200, "OK", {}, "x")); });
        });
        auto root = load(R"(
            property bool busy: client.loading
            property var log: []
            property int peak: 0
            property int done: 0
            property int activeAtStart: -1
            onBusyChanged: log.push(busy)
            Component.onCompleted: {
                client.activeRequestsChanged.connect(
                        () => peak = Math.max(peak, client.activeRequests))
                client.get("/a").then(r => done++)
                client.get("/b").then(r => done++)
                activeAtStart = client.activeRequests
            }
        )",
            server.url());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("done").toInt(), 2, waitMs);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("busy").toBool(), false, waitMs);
        QCOMPARE(root->property("activeAtStart").toInt(), 2);
        QCOMPARE(root->property("peak").toInt(), 2);
        QCOMPARE(root->property("log").toList(), QVariantList({true, false}));
    }

    void progressReachesOne()
    {
        const QByteArray payload(64 * 1024, 'p');
        LoopbackServer server([&payload](QTcpSocket *s, const SeenRequest &) {
            LoopbackServer::trickle(s, httpResponse(200, "OK", {}, payload), 8, 30ms);
        });
        auto root = load(R"(
            property var task: null
            property real progress: task ? task.progress : 0
            property var seen: []
            property int progressSignals: 0
            property int bodySize: 0
            onProgressChanged: seen.push(progress)
            Component.onCompleted: {
                task = client.get("/big")
                task.downloadProgress.connect((received, total) => progressSignals++)
                task.then(r => bodySize = r.body.byteLength)
            }
        )",
            server.url());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("bodySize").toInt(), payload.size(), waitMs);
        QCOMPARE(root->property("progress").toDouble(), 1.0);
        QVERIFY(root->property("progressSignals").toInt() >= 2);
        const QVariantList seen = root->property("seen").toList();
        QVERIFY2(std::any_of(seen.cbegin(), seen.cend(),
                     [](const QVariant &p) { return p.toDouble() > 0 && p.toDouble() < 1; }),
            "no progress between 0 and 1 was seen");
        for (qsizetype i = 1; i < seen.size(); ++i)
            QVERIFY(seen[i].toDouble() >= seen[i - 1].toDouble());
    }

    void abortRejectsWithRequestError()
    {
        LoopbackServer server([](QTcpSocket *, const SeenRequest &) { /* never answers */ });
        auto root = load(R"(
            property string type
            property bool running: true
            Component.onCompleted: {
                const task = client.get("/hang")
                task.then(r => type = "fulfilled", e => { type = e.type; running = task.running })
                task.abort()
            }
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("type").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("type").toString(), QStringLiteral("RequestError"));
        QCOMPARE(root->property("running").toBool(), false);
    }

    void abortAllRejectsEveryRunningTask()
    {
        LoopbackServer server([](QTcpSocket *, const SeenRequest &) { /* never answers */ });
        auto root = load(R"(
            property var types: []
            Component.onCompleted: {
                client.get("/one").then(r => types.push("fulfilled"), e => types.push(e.type))
                client.get("/two").then(r => types.push("fulfilled"), e => types.push(e.type))
            }
            function stopAll() { client.abortAll() }
        )",
            server.url());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(server.requests().size(), 2, waitMs);
        QVERIFY(QMetaObject::invokeMethod(root.get(), "stopAll"));
        QTRY_COMPARE_WITH_TIMEOUT(root->property("types").toList().size(), 2, waitMs);
        QCOMPARE(root->property("types").toStringList(),
            QStringList({QStringLiteral("RequestError"), QStringLiteral("RequestError")}));
        QCOMPARE(root->property("client").value<QObject *>()->property("loading").toBool(), false);
    }

    void redirectsFollowTheClientsPolicy_data()
    {
        QTest::addColumn<QByteArray>("options");
        QTest::addColumn<int>("status");
        QTest::addColumn<bool>("redirected");
        QTest::addColumn<QString>("finalPath");
        QTest::newRow("followed by default")
            << QByteArray("{}") << 200 << true << QStringLiteral("/final");
        QTest::newRow("not followed when asked")
            << QByteArray("{followRedirects: false}") << 302 << false << QStringLiteral("/start");
    }
    void redirectsFollowTheClientsPolicy()
    {
        QFETCH(QByteArray, options);
        QFETCH(int, status);
        QFETCH(bool, redirected);
        QFETCH(QString, finalPath);
        LoopbackServer server([](QTcpSocket *s, const SeenRequest &r) {
            if (r.target == "/start")
                s->write(httpResponse(302, "Found", "Location: /final\r\n", {}));
            else
                s->write(httpResponse(200, "OK", {}, "here"));
        });
        auto root = load("property int status: 0\nproperty bool redirected\nproperty string path\n"
                         "Component.onCompleted: client.get(\"/start\", "
                + options
                + ").then(r => { redirected = r.redirected; path = r.url.toString()"
                  ".replace(/^.*:[0-9]+/, \"\"); status = r.status })",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(root->property("status").toInt() != 0, waitMs);
        QCOMPARE(root->property("status").toInt(), status);
        QCOMPARE(root->property("redirected").toBool(), redirected);
        QCOMPARE(root->property("path").toString(), finalPath);
    }

    void taskOutlivesGarbageCollection()
    {
        // The QML side keeps no reference to the task; a collection while the request is in
        // flight must not cancel it. The server holds the answer until the collections are done.
        QPointer<QTcpSocket> held;
        LoopbackServer server([&](QTcpSocket *s, const SeenRequest &) { held = s; });
        auto root = load(R"(
            property string text
            Component.onCompleted: client.get("/gc").then(r => text = r.text)
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(held, waitMs);
        for (int i = 0; i < 3; ++i) {
            m_engine->collectGarbage();
            // What the collector released is deleted now, not at some later turn of the loop.
            QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
        }
        QVERIFY(held);
        held->write(httpResponse(200, "OK", {}, "late"));
        QTRY_COMPARE_WITH_TIMEOUT(
            root->property("text").toString(), QStringLiteral("late"), waitMs);
    }

    void thenAfterSettlingStillCallsBack()
    {
        LoopbackServer server([](QTcpSocket *s, const SeenRequest &) {
            s->write(httpResponse(200, "OK", {}, "ok"));
        });
        auto root = load(R"(
            property var task: null
            property int calls: 0
            property bool calledSynchronously: false
            property bool stateIsFulfilled: false
            Component.onCompleted: task = client.get("/once")
            function late() {
                task.then(r => calls++)
                calledSynchronously = calls > 0
                stateIsFulfilled = task.state === HttpTask.Fulfilled && task.response.status === 200
            }
        )",
            server.url());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(
            root->property("task").value<QObject *>()->property("running").toBool(), false, waitMs);
        QVERIFY(QMetaObject::invokeMethod(root.get(), "late"));
        QTRY_COMPARE_WITH_TIMEOUT(root->property("calls").toInt(), 1, waitMs);
        QCOMPARE(root->property("calledSynchronously").toBool(), false);
        QCOMPARE(root->property("stateIsFulfilled").toBool(), true);
    }

    void badArgumentsThrowTypeError_data()
    {
        QTest::addColumn<QByteArray>("call");
        QTest::newRow("unknown option") << QByteArray(R"(client.get("/x", {header: {}}))");
        QTest::newRow("options not an object") << QByteArray(R"(client.get("/x", 5))");
        QTest::newRow("timeout not a number") << QByteArray(R"(client.get("/x", {timeout: "1s"}))");
        QTest::newRow("body a function") << QByteArray(R"(client.post("/x", function () {}))");
        QTest::newRow("cyclic body") << QByteArray(R"((() => { const o = {}; o.o = o;
                                                              return client.post("/x", o) })())");
    }
    void badArgumentsThrowTypeError()
    {
        QFETCH(QByteArray, call);
        LoopbackServer server([](QTcpSocket *, const SeenRequest &) {});
        auto root = load("property string caught\nComponent.onCompleted: {\n"
                         "try { "
                + call
                + "; caught = \"nothing\" }\n"
                  "catch (e) { caught = (e instanceof TypeError) ? \"TypeError\" : String(e) }\n}",
            server.url());
        QVERIFY(root);
        QCOMPARE(root->property("caught").toString(), QStringLiteral("TypeError"));
        QCOMPARE(
            root->property("client").value<QObject *>()->property("activeRequests").toInt(), 0);
    }

    void unhandledRejectionIsReported()
    {
        LoopbackServer server([](QTcpSocket *s, const SeenRequest &) { s->abort(); });
        auto root = load(R"(
            property bool finished: false
            Component.onCompleted: {
                client.loadingChanged.connect(() => finished = !client.loading)
                client.get("/x").then(r => {})
            }
        )",
            server.url());
        QVERIFY(root);
        QTest::ignoreMessage(QtWarningMsg,
            QRegularExpression(QStringLiteral("^Unhandled HttpTask rejection: \\w+")));
        QTRY_VERIFY_WITH_TIMEOUT(root->property("finished").toBool(), waitMs);
    }

    void destroyingTheClientCancelsWithoutCallbacks()
    {
        bool clientClosed = false;
        QObject context;
        LoopbackServer server([&](QTcpSocket *s, const SeenRequest &) {
            // No answer: the request stays in flight until the client goes.
            connect(s, &QTcpSocket::disconnected, &context, [&] { clientClosed = true; });
        });
        // Declared clients cannot be destroyed from QML: make one the way an app would drop it.
        auto root = load(R"(
            property int callbacks: 0
            property var task: null
            property var other: null
            property Component factory: Component { HttpClient {} }
            Component.onCompleted: {
                other = factory.createObject(null, {baseUrl: server})
                task = other.get("/x").then(r => callbacks++, e => callbacks++)
            }
            function dropClient() { other.destroy() }
        )",
            server.url());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(server.requests().size(), 1, waitMs);
        QVERIFY(QMetaObject::invokeMethod(root.get(), "dropClient"));
        // Destroying the client cancels the request: its connection closes (left running, the
        // request would keep it open)...
        QTRY_VERIFY_WITH_TIMEOUT(clientClosed, waitMs);
        // ...and no callback comes, not even one already queued.
        deliverQueuedEvents();
        QCOMPARE(root->property("callbacks").toInt(), 0);
        auto *task = root->property("task").value<QObject *>();
        QVERIFY(task);
        QCOMPARE(task->property("running").toBool(), false);
    }
};

QTEST_GUILESS_MAIN(tst_QmlHttpClient)
#include "tst_qml_httpclient.moc"
