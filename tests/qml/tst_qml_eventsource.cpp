// The QML EventSource type, driven from QML: each test loads a small document that does
// `import Reqivo` from the build tree, points an EventSource at ssepeer.py (started by the test
// on a free loopback port) and checks what the document recorded: events in order with type,
// data and lastEventId, readyState transitions, reconnects with Last-Event-ID, a POST with a
// JSON body, 204, wrong status and type, the idle timeout, close() and active, auth headers
// (also through an HttpClient's session), and that nothing is queued in C++.
#include "integration/sse/ssetest.h"
#include "qmltestsupport.h"

#include <Reqivo/asynceventsource.h>
#include <Reqivo/asyncsession.h>

#include <QJSValue>
#include <QJsonArray>
#include <QJsonObject>
#include <QQmlComponent>
#include <QQmlEngine>
#include <QTest>

#include <memory>

using namespace ReqivoTest;

namespace {

// `es` records into the root: `log` (state changes, signals), `events` ("type:data:id"),
// `errors` (the JS Error values). closeAfter: close() from onMessage once that many arrived.
const QByteArray prelude = R"(
import Reqivo
QtObject {
    id: root
    required property url server
    property var log: []
    property var events: []
    property var errors: []
    property int closeAfter: -1
    property int boundState: es.readyState
    function note(line) { log = log.concat([line]) }
    property HttpClient client: HttpClient { baseUrl: root.server; bearerToken: "fromclient" }
    property EventSource es: EventSource {
        onReadyStateChanged: root.note("state " + readyState)
        onOpened: root.note("opened")
        onMessage: (event) => {
            root.events = root.events.concat([event.type + ":" + event.data + ":" + event.lastEventId])
            if (root.events.length === root.closeAfter)
                close()
        }
        onError: (error) => {
            root.errors = root.errors.concat([error])
            root.note("error " + error.type + " " + error.fatal)
        }
        onReconnecting: (attempt, delay) => root.note("reconnecting " + attempt)
        onClosed: root.note("closed")
)";

QStringList strings(const QObject *root, const char *name)
{
    return root->property(name).toStringList();
}

QJSValue firstError(const QObject *root)
{
    return root->property("errors").value<QJSValue>().property(0);
}

} // namespace

class TestQmlEventSource : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void eventsInOrder_data();
    void eventsInOrder();
    void reconnectResumesWithLastEventId();
    void postWithJsonBody_data();
    void postWithJsonBody();
    void noContentEndsWithoutReconnect();
    void refusedStreamIsFatal_data();
    void refusedStreamIsFatal();
    void idleTimeout();
    void closeStops();
    void activeFalseClosesAndOpenReopens();
    void authHeaders_data();
    void authHeaders();
    void throughAnHttpClient_data();
    void throughAnHttpClient();
    void reconnectDefaultFollowsMethod();
    void badBodyIsReported();

private:
    //! \a members go into the EventSource, \a rootMembers into the root object.
    std::unique_ptr<QObject> load(const QByteArray &members, const QByteArray &rootMembers = {});
    //! The requests the peer saw whose path contains \a tag.
    QJsonArray requests(const QString &tag);
    static bool logHas(const QObject *root, const QString &line)
    {
        return strings(root, "log").contains(line);
    }

    QQmlEngine *m_engine = nullptr;
    SsePeer m_peer;
};

void TestQmlEventSource::initTestCase()
{
    START_SSE_PEER(m_peer);
    m_engine = QmlTest::newEngine(this);
}

void TestQmlEventSource::cleanupTestCase()
{
    delete m_engine;
    m_engine = nullptr;
}

std::unique_ptr<QObject> TestQmlEventSource::load(
    const QByteArray &members, const QByteArray &rootMembers)
{
    QQmlComponent component(m_engine);
    component.setData(prelude + members + "\n    }\n" + rootMembers + "\n}\n",
        QUrl::fromLocalFile(QStringLiteral(REQIVO_QML_IMPORT_DIR "/test.qml")));
    if (!component.isReady()) {
        qWarning().noquote() << component.errorString();
        return nullptr;
    }
    std::unique_ptr<QObject> object(component.createWithInitialProperties(
        {{QStringLiteral("server"), m_peer.url(QStringLiteral("/"))}}));
    if (!object)
        qWarning().noquote() << component.errorString();
    return object;
}

QJsonArray TestQmlEventSource::requests(const QString &tag)
{
    Reqivo::AsyncSession session;
    const QJsonArray all = runCoroutine(m_peer.log(session));
    QJsonArray matching;
    for (const QJsonValue &entry : all) {
        if (entry.toObject().value(QStringLiteral("path")).toString().contains(tag))
            matching.append(entry);
    }
    return matching;
}

void TestQmlEventSource::eventsInOrder_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<QString>("type");
    QTest::newRow("message") << QByteArray("n=3&tag=order") << QStringLiteral("message");
    QTest::newRow("named type") << QByteArray("n=3&type=tick&tag=typed") << QStringLiteral("tick");
    QTest::newRow("gzip, comments")
        << QByteArray("n=3&gzip=1&comment=1&tag=gzip") << QStringLiteral("message");
}

void TestQmlEventSource::eventsInOrder()
{
    QFETCH(QByteArray, query);
    QFETCH(QString, type);
    auto root = load(R"(
        url: root.server + "events?)"
            + query + R"("
        reconnect: false
        active: true
)",
        "    property int openValue: EventSource.Open");
    QVERIFY(root);
    QObject *es = qvariant_cast<QObject *>(root->property("es"));
    QVERIFY(es);
    QTRY_VERIFY_WITH_TIMEOUT(logHas(root.get(), QStringLiteral("closed")), QmlTest::waitMs);

    QCOMPARE(strings(root.get(), "events"),
        (QStringList {type + QStringLiteral(":event 1:1"), type + QStringLiteral(":event 2:2"),
            type + QStringLiteral(":event 3:3")}));
    // Closed (2) → Connecting (0) → Open (1) → Closed (2), as JavaScript's values.
    QCOMPARE(strings(root.get(), "log"),
        (QStringList {QStringLiteral("state 0"), QStringLiteral("state 1"),
            QStringLiteral("opened"), QStringLiteral("state 2"), QStringLiteral("closed")}));
    QCOMPARE(root->property("openValue").toInt(), 1);
    QCOMPARE(es->property("readyState").toInt(), 2);
    QCOMPARE(root->property("boundState").toInt(), 2);
    QCOMPARE(es->property("lastEventId").toString(), QStringLiteral("3"));
    QCOMPARE(es->property("status").toInt(), 200);
    QCOMPARE(es->property("active").toBool(), false);
    QVERIFY(root->property("errors").toList().isEmpty());

    // Signals only: the C++ stream keeps no queue for a next() that QML never calls.
    auto *source = es->findChild<Reqivo::AsyncEventSource *>();
    QVERIFY(source);
    QCOMPARE(source->options().queueSize, 0);
    QCOMPARE(source->pendingEventCount(), 0);
}

void TestQmlEventSource::reconnectResumesWithLastEventId()
{
    // Each response has two events and a retry of 20 ms; reconnecting is on by default for GET.
    auto root = load(R"(
        url: root.server + "events?n=2&retry=20&tag=resume"
        active: true
)");
    QVERIFY(root);
    root->setProperty("closeAfter", 6);
    QObject *es = qvariant_cast<QObject *>(root->property("es"));
    QVERIFY(es->property("reconnect").toBool());
    QTRY_VERIFY_WITH_TIMEOUT(logHas(root.get(), QStringLiteral("closed")), QmlTest::waitMs);

    QStringList expected;
    for (int i = 1; i <= 6; ++i)
        expected << QStringLiteral("message:event %1:%1").arg(i);
    QCOMPARE(strings(root.get(), "events"), expected);
    QCOMPARE(strings(root.get(), "log"),
        (QStringList {QStringLiteral("state 0"), QStringLiteral("state 1"),
            QStringLiteral("opened"), QStringLiteral("state 0"), QStringLiteral("reconnecting 1"),
            QStringLiteral("state 1"), QStringLiteral("opened"), QStringLiteral("state 0"),
            QStringLiteral("reconnecting 2"), QStringLiteral("state 1"), QStringLiteral("opened"),
            QStringLiteral("state 2"), QStringLiteral("closed")}));
    QCOMPARE(es->property("lastEventId").toString(), QStringLiteral("6"));

    const QJsonArray seen = requests(QStringLiteral("tag=resume"));
    QCOMPARE(seen.size(), 3);
    QVERIFY(seen[0].toObject().value(QStringLiteral("lastEventId")).isNull());
    QCOMPARE(
        seen[1].toObject().value(QStringLiteral("lastEventId")).toString(), QStringLiteral("2"));
    QCOMPARE(
        seen[2].toObject().value(QStringLiteral("lastEventId")).toString(), QStringLiteral("4"));
    QCOMPARE(seen[0].toObject().value(QStringLiteral("accept")).toString(),
        QStringLiteral("text/event-stream"));
}

void TestQmlEventSource::postWithJsonBody_data()
{
    QTest::addColumn<QByteArray>("until");
    QTest::addColumn<QString>("tag");
    QTest::addColumn<bool>("doneDelivered");
    // until ends the stream at [DONE] although the server keeps it open for a while.
    QTest::newRow("until [DONE]") << QByteArray("\"[DONE]\"") << QStringLiteral("chat-until")
                                  << false;
    // Without it, the server's end ends the stream: a POST is not resent unasked.
    QTest::newRow("server ends") << QByteArray("\"\"") << QStringLiteral("chat-end") << true;
}

void TestQmlEventSource::postWithJsonBody()
{
    QFETCH(QByteArray, until);
    QFETCH(QString, tag);
    QFETCH(bool, doneDelivered);
    const QByteArray linger = doneDelivered ? "0" : "60000";
    auto root = load(R"(
        url: root.server + "chat?linger=)"
        + linger + "&tag=" + tag.toUtf8() + R"("
        method: "post"
        body: ({prompt: "tokens arrive in order"})
        until: )"
        + until + R"(
        active: true
)");
    QVERIFY(root);
    QObject *es = qvariant_cast<QObject *>(root->property("es"));
    QCOMPARE(es->property("reconnect").toBool(), false);
    QTRY_VERIFY_WITH_TIMEOUT(logHas(root.get(), QStringLiteral("closed")), QmlTest::waitMs);

    QStringList expected;
    for (const char *word : {"tokens", "arrive", "in", "order"})
        expected << QStringLiteral("message:{\"t\": \"%1\"}:").arg(QLatin1String(word));
    if (doneDelivered)
        expected << QStringLiteral("message:[DONE]:");
    QCOMPARE(strings(root.get(), "events"), expected);
    QCOMPARE(strings(root.get(), "log"),
        (QStringList {QStringLiteral("state 0"), QStringLiteral("state 1"),
            QStringLiteral("opened"), QStringLiteral("state 2"), QStringLiteral("closed")}));
    QVERIFY(root->property("errors").toList().isEmpty());

    const QJsonArray seen = requests(tag);
    QCOMPARE(seen.size(), 1);
    const QJsonObject request = seen[0].toObject();
    QCOMPARE(request.value(QStringLiteral("method")).toString(), QStringLiteral("POST"));
    QCOMPARE(request.value(QStringLiteral("body")).toString(),
        QStringLiteral(R"({"prompt":"tokens arrive in order"})"));
    QVERIFY(request.value(QStringLiteral("contentType"))
                .toString()
                .startsWith(QLatin1String("application/json")));
}

void TestQmlEventSource::noContentEndsWithoutReconnect()
{
    // GET reconnects by default, but 204 means "no stream": the end, with no error.
    auto root = load(R"(
        url: root.server + "status?code=204&tag=nocontent"
        active: true
)");
    QVERIFY(root);
    QObject *es = qvariant_cast<QObject *>(root->property("es"));
    QVERIFY(es->property("reconnect").toBool());
    QTRY_VERIFY_WITH_TIMEOUT(logHas(root.get(), QStringLiteral("closed")), QmlTest::waitMs);
    QCOMPARE(strings(root.get(), "log"),
        (QStringList {
            QStringLiteral("state 0"), QStringLiteral("state 2"), QStringLiteral("closed")}));
    QCOMPARE(es->property("readyState").toInt(), 2);
    QCOMPARE(es->property("status").toInt(), 204);
    QCOMPARE(es->property("active").toBool(), false);
    QVERIFY(root->property("errors").toList().isEmpty());
    // Closed means the stream is over: no reconnect is pending.
    auto *source = es->findChild<Reqivo::AsyncEventSource *>();
    QVERIFY(source);
    QCOMPARE(source->readyState(), Reqivo::AsyncEventSource::ReadyState::Closed);
    QCOMPARE(source->endReason(), Reqivo::AsyncEventSource::EndReason::Closed);
    QCOMPARE(requests(QStringLiteral("tag=nocontent")).size(), 1);
}

void TestQmlEventSource::refusedStreamIsFatal_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QString>("type");
    QTest::addColumn<int>("code");
    QTest::newRow("wrong type") << QByteArray("wrongtype") << QStringLiteral("ProtocolError") << 0;
    QTest::newRow("500") << QByteArray("status?code=500") << QStringLiteral("StatusError") << 500;
}

void TestQmlEventSource::refusedStreamIsFatal()
{
    QFETCH(QByteArray, path);
    QFETCH(QString, type);
    QFETCH(int, code);
    auto root = load(R"(
        url: root.server + ")"
        + path + R"("
        active: true
)");
    QVERIFY(root);
    QTRY_VERIFY_WITH_TIMEOUT(logHas(root.get(), QStringLiteral("closed")), QmlTest::waitMs);
    QCOMPARE(strings(root.get(), "log"),
        (QStringList {QStringLiteral("state 0"), QStringLiteral("state 2"),
            QStringLiteral("error %1 true").arg(type), QStringLiteral("closed")}));
    const QJSValue error = firstError(root.get());
    QVERIFY(error.isError());
    QCOMPARE(error.property(QStringLiteral("type")).toString(), type);
    QCOMPARE(error.property(QStringLiteral("name")).toString(), type);
    QCOMPARE(error.property(QStringLiteral("fatal")).toBool(), true);
    QCOMPARE(error.property(QStringLiteral("code")).toInt(), code);
    QVERIFY(!error.property(QStringLiteral("message")).toString().isEmpty());
    QVERIFY(strings(root.get(), "events").isEmpty());
}

void TestQmlEventSource::idleTimeout()
{
    // /silent sends a head and then nothing: the idle timeout ends it (no reconnect asked for).
    auto root = load(R"(
        url: root.server + "silent?tag=idle"
        idleTimeout: 300
        reconnect: false
        active: true
)");
    QVERIFY(root);
    QTRY_VERIFY_WITH_TIMEOUT(logHas(root.get(), QStringLiteral("closed")), QmlTest::waitMs);
    QCOMPARE(strings(root.get(), "log"),
        (QStringList {QStringLiteral("state 0"), QStringLiteral("state 1"),
            QStringLiteral("opened"), QStringLiteral("state 2"),
            QStringLiteral("error ReadTimeout true"), QStringLiteral("closed")}));
}

void TestQmlEventSource::closeStops()
{
    // A long stream, closed from onMessage after two events: nothing more arrives.
    auto root = load(R"(
        url: root.server + "events?n=100&interval=20&tag=stop"
        active: true
)");
    QVERIFY(root);
    root->setProperty("closeAfter", 2);
    QObject *es = qvariant_cast<QObject *>(root->property("es"));
    QTRY_VERIFY_WITH_TIMEOUT(logHas(root.get(), QStringLiteral("closed")), QmlTest::waitMs);
    QCOMPARE(es->property("readyState").toInt(), 2);
    QCOMPARE(es->property("active").toBool(), false);
    QmlTest::deliverQueuedEvents();
    QCOMPARE(strings(root.get(), "events"),
        (QStringList {QStringLiteral("message:event 1:1"), QStringLiteral("message:event 2:2")}));
    QCOMPARE(strings(root.get(), "log").count(QStringLiteral("closed")), 1);
    QVERIFY(root->property("errors").toList().isEmpty());
    auto *source = es->findChild<Reqivo::AsyncEventSource *>();
    QVERIFY(source);
    QCOMPARE(source->readyState(), Reqivo::AsyncEventSource::ReadyState::Closed);
}

void TestQmlEventSource::activeFalseClosesAndOpenReopens()
{
    auto root = load(R"(
        url: root.server + "events?n=1&interval=20&tag=reopen"
        reconnect: false
)");
    QVERIFY(root);
    QObject *es = qvariant_cast<QObject *>(root->property("es"));
    // Not active: nothing opens on its own.
    QmlTest::deliverQueuedEvents();
    QCOMPARE(es->property("readyState").toInt(), 2);
    QVERIFY(strings(root.get(), "log").isEmpty());

    es->setProperty("url", m_peer.url(QStringLiteral("/silent?tag=reopen")));
    es->setProperty("active", true);
    QTRY_VERIFY_WITH_TIMEOUT(logHas(root.get(), QStringLiteral("opened")), QmlTest::waitMs);
    QCOMPARE(root->property("boundState").toInt(), 1);
    es->setProperty("active", false);
    // close() takes effect at once.
    QCOMPARE(es->property("readyState").toInt(), 2);
    QCOMPARE(root->property("boundState").toInt(), 2);
    QVERIFY(logHas(root.get(), QStringLiteral("closed")));

    // open() again, with the settings as they are now.
    es->setProperty("url", m_peer.url(QStringLiteral("/events?n=2&tag=reopen")));
    root->setProperty("log", QVariantList());
    QVERIFY(QMetaObject::invokeMethod(es, "open"));
    QCOMPARE(es->property("active").toBool(), true);
    QTRY_VERIFY_WITH_TIMEOUT(logHas(root.get(), QStringLiteral("closed")), QmlTest::waitMs);
    QCOMPARE(strings(root.get(), "events"),
        (QStringList {QStringLiteral("message:event 1:1"), QStringLiteral("message:event 2:2")}));
    QCOMPARE(strings(root.get(), "log"),
        (QStringList {QStringLiteral("state 0"), QStringLiteral("state 1"),
            QStringLiteral("opened"), QStringLiteral("state 2"), QStringLiteral("closed")}));
    QCOMPARE(requests(QStringLiteral("tag=reopen")).size(), 2);
}

void TestQmlEventSource::authHeaders_data()
{
    QTest::addColumn<QByteArray>("members");
    QTest::addColumn<QString>("tag");
    QTest::addColumn<QString>("authorization");
    QTest::newRow("bearer") << QByteArray("bearerToken: \"tok123\"")
                            << QStringLiteral("auth-bearer") << QStringLiteral("Bearer tok123");
    QTest::newRow("basic") << QByteArray("user: \"ada\"; password: \"p:w\"")
                           << QStringLiteral("auth-basic")
                           << QStringLiteral("Basic ")
            + QString::fromLatin1(QByteArray("ada:p:w").toBase64());
    QTest::newRow("bearer wins") << QByteArray("bearerToken: \"t\"; user: \"u\"; password: \"p\"")
                                 << QStringLiteral("auth-both") << QStringLiteral("Bearer t");
    QTest::newRow("header") << QByteArray("headers: ({Authorization: \"Custom x\"})")
                            << QStringLiteral("auth-header") << QStringLiteral("Custom x");
}

void TestQmlEventSource::authHeaders()
{
    QFETCH(QByteArray, members);
    QFETCH(QString, tag);
    QFETCH(QString, authorization);
    auto root = load("        url: root.server + \"events?n=1&tag=" + tag.toUtf8()
        + "\"\n        reconnect: false\n        " + members + "\n        active: true\n");
    QVERIFY(root);
    QTRY_VERIFY_WITH_TIMEOUT(logHas(root.get(), QStringLiteral("closed")), QmlTest::waitMs);
    QCOMPARE(strings(root.get(), "events"), QStringList {QStringLiteral("message:event 1:1")});
    const QJsonArray seen = requests(tag);
    QCOMPARE(seen.size(), 1);
    QCOMPARE(seen[0].toObject().value(QStringLiteral("authorization")).toString(), authorization);
}

void TestQmlEventSource::throughAnHttpClient_data()
{
    QTest::addColumn<QByteArray>("members");
    QTest::addColumn<QString>("tag");
    QTest::addColumn<QString>("authorization");
    QTest::newRow("client's auth")
        << QByteArray() << QStringLiteral("client-auth") << QStringLiteral("Bearer fromclient");
    QTest::newRow("own token wins") << QByteArray("bearerToken: \"own\"")
                                    << QStringLiteral("client-own") << QStringLiteral("Bearer own");
}

void TestQmlEventSource::throughAnHttpClient()
{
    // A URL relative to the client's baseUrl, with the client's auth unless it has its own.
    QFETCH(QByteArray, members);
    QFETCH(QString, tag);
    QFETCH(QString, authorization);
    auto root = load("        client: root.client\n        url: \"/events?n=2&tag=" + tag.toUtf8()
        + "\"\n        reconnect: false\n        " + members + "\n        active: true\n");
    QVERIFY(root);
    QTRY_VERIFY_WITH_TIMEOUT(logHas(root.get(), QStringLiteral("closed")), QmlTest::waitMs);
    QCOMPARE(strings(root.get(), "events"),
        (QStringList {QStringLiteral("message:event 1:1"), QStringLiteral("message:event 2:2")}));
    const QJsonArray seen = requests(tag);
    QCOMPARE(seen.size(), 1);
    QCOMPARE(seen[0].toObject().value(QStringLiteral("authorization")).toString(), authorization);
}

void TestQmlEventSource::reconnectDefaultFollowsMethod()
{
    // Unset, reconnect is on for GET only; set, it stays; undefined resets it.
    auto root = load("        url: root.server + \"events\"\n",
        R"(
    function check() {
        const seen = [es.reconnect]
        es.method = "post"; seen.push(es.reconnect)
        es.reconnect = true; seen.push(es.reconnect)
        es.method = "GET"; es.reconnect = false; seen.push(es.reconnect)
        es.method = "POST"; es.reconnect = undefined; seen.push(es.reconnect)
        es.method = "get"; seen.push(es.reconnect)
        return seen.join(" ")
    }
)");
    QVERIFY(root);
    QVariant seen;
    QVERIFY(QMetaObject::invokeMethod(root.get(), "check", Q_RETURN_ARG(QVariant, seen)));
    QCOMPARE(seen.toString(), QStringLiteral("true false true false false true"));
    QVERIFY(strings(root.get(), "log").isEmpty()); // nothing opened
}

void TestQmlEventSource::badBodyIsReported()
{
    // A body that is not a string, bytes or JSON: an error, and nothing is sent.
    auto root = load(R"(
        url: root.server + "chat?tag=badbody"
        method: "POST"
)",
        R"(
    function start() { es.body = root; es.open() }
)");
    QVERIFY(root);
    QObject *es = qvariant_cast<QObject *>(root->property("es"));
    QVERIFY(QMetaObject::invokeMethod(root.get(), "start"));
    QCOMPARE(strings(root.get(), "log"),
        (QStringList {QStringLiteral("error RequestError true"), QStringLiteral("closed")}));
    QCOMPARE(es->property("readyState").toInt(), 2);
    QCOMPARE(es->property("active").toBool(), false);
    QVERIFY(firstError(root.get())
                .property(QStringLiteral("message"))
                .toString()
                .contains(QLatin1String("EventSource.body")));
    QCOMPARE(requests(QStringLiteral("tag=badbody")).size(), 0);
}

QTEST_MAIN(TestQmlEventSource)
#include "tst_qml_eventsource.moc"
