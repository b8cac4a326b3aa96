// HttpTask as a promise, driven from QML: then() returns a new task settled by its callback's
// result, thrown errors reject the chain, returned tasks and thenables are followed, catch()
// and finally() exist, and callbacks run once, from the event loop. Every check reads what
// the QML code recorded; the C++ types are never called directly.
#include "loopbackserver.h"
#include "qmltestsupport.h"

#include <QPointer>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTest>

using QmlTest::httpResponse;
using QmlTest::isSet;
using QmlTest::LoopbackServer;
using QmlTest::SeenRequest;
using QmlTest::waitMs;

namespace {

//! Answers every request with 200 and the request's path (without the leading '/') as body.
void echoPath(QTcpSocket *s, const SeenRequest &r)
{
    s->write(httpResponse(200, "OK", {}, r.target.mid(1)));
}

//! A URL where nothing listens: a port that was free a moment ago.
QUrl refusedUrl()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        qFatal("cannot listen on a loopback port");
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(probe.serverPort()));
}

} // namespace

class tst_QmlHttpTask : public QObject
{
    Q_OBJECT

private:
    QQmlEngine *m_engine = nullptr;

    std::unique_ptr<QObject> load(const QByteArray &body, const QUrl &server)
    {
        return QmlTest::load(m_engine, body, server);
    }

private Q_SLOTS:
    void initTestCase() { m_engine = QmlTest::newEngine(this); }

    void init()
    {
        // An unhandled rejection, a QML TypeError or any other warning fails the test.
        QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
    }

    void thenReturnsANewTaskResolvedWithTheCallbacksValue()
    {
        LoopbackServer server(echoPath);
        auto root = load(R"(
            property var log: []
            property bool distinct: false
            property bool chainedIsTask: false
            property bool notCalledYet: false
            Component.onCompleted: {
                const request = client.get("/abcd")
                const first = request.then(r => r.text.length)
                distinct = first !== request
                chainedIsTask = typeof first.then === "function" && first.running
                first.then(n => n * 2)
                     .then(n => { log.push(n); return "three" })
                     .then(s => log.push(s))
                notCalledYet = log.length === 0
            }
        )",
            server.url());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("log").toList().size(), 2, waitMs);
        QCOMPARE(root->property("log").toList(), QVariantList({8, QStringLiteral("three")}));
        QCOMPARE(root->property("distinct").toBool(), true);
        QCOMPARE(root->property("chainedIsTask").toBool(), true);
        QCOMPARE(root->property("notCalledYet").toBool(), true);
    }

    void chainedTaskStateFollowsItsCallback()
    {
        LoopbackServer server(echoPath);
        auto root = load(R"(
            property var chained: null
            property var seen: null
            Component.onCompleted: {
                chained = client.get("/v").then(r => ({from: r.text}))
                chained.then(v => seen = {
                    state: chained.state === HttpTask.Fulfilled,
                    running: chained.running,
                    value: chained.value.from,
                    responseIsNull: chained.response === null,
                    method: chained.method,
                    progress: chained.progress
                })
            }
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(isSet(root.get(), "seen"), waitMs);
        const QVariantMap seen = root->property("seen").toMap();
        QCOMPARE(seen.value(QStringLiteral("state")).toBool(), true);
        QCOMPARE(seen.value(QStringLiteral("running")).toBool(), false);
        QCOMPARE(seen.value(QStringLiteral("value")).toString(), QStringLiteral("v"));
        QCOMPARE(seen.value(QStringLiteral("responseIsNull")).toBool(), true);
        QCOMPARE(seen.value(QStringLiteral("method")).toString(), QStringLiteral("GET"));
        QCOMPARE(seen.value(QStringLiteral("progress")).toDouble(), 1.0);
    }

    void thrownErrorIsCaughtByALaterCatch_data()
    {
        QTest::addColumn<QByteArray>("thrower");
        QTest::addColumn<QString>("caught");
        QTest::newRow("Error") << QByteArray(R"(r => { throw new Error("boom") })")
                               << QStringLiteral("Error: boom");
        QTest::newRow("string") << QByteArray(R"(r => { throw "plain" })")
                                << QStringLiteral("plain");
        QTest::newRow("TypeError from a bug")
            << QByteArray(R"(r => r.nothing.deeper)") << QStringLiteral("TypeError");
        QTest::newRow("undefined")
            << QByteArray(R"(r => { throw undefined })") << QStringLiteral("undefined");
    }
    void thrownErrorIsCaughtByALaterCatch()
    {
        QFETCH(QByteArray, thrower);
        QFETCH(QString, caught);
        LoopbackServer server(echoPath);
        auto root = load(R"(
            property string caught
            property var skipped: []
            property string after
            Component.onCompleted: client.get("/x")
                .then()"
                + thrower + R"()
                .then(v => skipped.push("then"))
                .then(v => skipped.push("then again"), undefined)
                .catch(e => { caught = String(e).startsWith("TypeError") ? "TypeError" : String(e)
                              return "recovered" })
                .then(v => after = v)
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("after").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("caught").toString(), caught);
        QCOMPARE(root->property("after").toString(), QStringLiteral("recovered"));
        QCOMPARE(root->property("skipped").toList(), QVariantList());
    }

    void returnedErrorObjectIsAValueNotARejection()
    {
        LoopbackServer server(echoPath);
        auto root = load(R"(
            property string outcome
            Component.onCompleted: client.get("/x")
                .then(r => new Error("just a value"))
                .then(v => outcome = "fulfilled: " + v.message, e => outcome = "rejected")
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("outcome").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("outcome").toString(), QStringLiteral("fulfilled: just a value"));
    }

    void requestErrorIsCaughtDownTheChain()
    {
        auto root = load(R"(
            property string type
            property var skipped: []
            Component.onCompleted: client.get("/x")
                .then(r => skipped.push("first"))
                .then(r => skipped.push("second"))
                .catch(e => type = e.type)
        )",
            refusedUrl());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("type").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("type").toString(), QStringLiteral("NetworkError"));
        QCOMPARE(root->property("skipped").toList(), QVariantList());
    }

    void returnedHttpTaskIsFollowed()
    {
        LoopbackServer server(echoPath);
        auto root = load(R"(
            property string text
            property var order: []
            Component.onCompleted: client.get("/first")
                .then(r => { order.push(r.text); return client.get("/second-after-" + r.text) })
                .then(r => { order.push("got response"); text = r.text })
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("text").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("text").toString(), QStringLiteral("second-after-first"));
        QCOMPARE(root->property("order").toStringList(),
            QStringList({QStringLiteral("first"), QStringLiteral("got response")}));
        QCOMPARE(server.requests().size(), 2);
    }

    void returnedRejectedTaskRejectsTheChain()
    {
        const QUrl refused = refusedUrl();
        LoopbackServer server(echoPath);
        auto root = load(R"(
            property url refused
            property string type
            Component.onCompleted: client.get("/ok")
                .then(r => client.get(refused))
                .then(r => type = "fulfilled", e => type = e.type)
        )",
            server.url());
        QVERIFY(root);
        root->setProperty("refused", refused);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("type").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("type").toString(), QStringLiteral("NetworkError"));
    }

    void returnedThenablesAreFollowed_data()
    {
        QTest::addColumn<QByteArray>("callback");
        QTest::addColumn<QString>("outcome");
        QTest::newRow("JS Promise")
            << QByteArray("r => Promise.resolve(r.text + '!')") << QStringLiteral("ok:p!");
        QTest::newRow("rejected JS Promise")
            << QByteArray("r => Promise.reject('no')") << QStringLiteral("error:no");
        QTest::newRow("custom thenable")
            << QByteArray("r => ({then: (ok, fail) => ok(42)})") << QStringLiteral("ok:42");
        QTest::newRow("thenable calling back twice: the first wins") << QByteArray(
            "r => ({then: (ok, fail) => { ok(1); fail(2); ok(3) }})") << QStringLiteral("ok:1");
        QTest::newRow("thenable that throws after resolving")
            << QByteArray("r => ({then: (ok, fail) => { ok('kept'); throw 'ignored' }})")
            << QStringLiteral("ok:kept");
        QTest::newRow("thenable that throws")
            << QByteArray("r => ({then: (ok, fail) => { throw 'bad thenable' }})")
            << QStringLiteral("error:bad thenable");
        QTest::newRow("object whose then is not a function")
            << QByteArray("r => ({then: 5})") << QStringLiteral("ok:[object Object]");
    }
    void returnedThenablesAreFollowed()
    {
        QFETCH(QByteArray, callback);
        QFETCH(QString, outcome);
        LoopbackServer server(echoPath);
        auto root = load("property string outcome\nComponent.onCompleted: client.get(\"/p\")\n"
                         ".then("
                + callback + ")\n.then(v => outcome = \"ok:\" + v, e => outcome = \"error:\" + e)",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("outcome").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("outcome").toString(), outcome);
    }

    void aTaskWorksWithJsPromises()
    {
        LoopbackServer server(echoPath);
        auto root = load(R"(
            property string joined
            Component.onCompleted: Promise.all([client.get("/a"), client.get("/b").then(r => r)])
                .then(rs => joined = rs.map(r => r.text).join("+"))
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("joined").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("joined").toString(), QStringLiteral("a+b"));
    }

    void resolvingWithItselfIsATypeError()
    {
        LoopbackServer server(echoPath);
        auto root = load(R"(
            property string outcome
            property var chained: null
            Component.onCompleted: {
                chained = client.get("/x").then(r => chained)
                chained.catch(e => outcome = e instanceof TypeError ? "TypeError" : String(e))
            }
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("outcome").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("outcome").toString(), QStringLiteral("TypeError"));
    }

    void thenOnASettledTaskCallsBackLaterAndChains()
    {
        LoopbackServer server(echoPath);
        auto root = load(R"(
            property var task: null
            property var log: []
            property bool calledSynchronously: true
            Component.onCompleted: task = client.get("/done")
            function late() {
                task.then(r => { log.push(r.text); return r.status })
                    .then(s => log.push(s))
                task.then(r => log.push("second"))
                calledSynchronously = log.length > 0
            }
        )",
            server.url());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(
            root->property("task").value<QObject *>()->property("running").toBool(), false, waitMs);
        QVERIFY(QMetaObject::invokeMethod(root.get(), "late"));
        QCOMPARE(root->property("calledSynchronously").toBool(), false);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("log").toList().size(), 3, waitMs);
        // As with JS promises: both callbacks of the settled task first, then the chained one.
        QCOMPARE(root->property("log").toList(),
            QVariantList({QStringLiteral("done"), QStringLiteral("second"), 200}));
    }

    void rejectedSettledTaskCallsCatchLater()
    {
        auto root = load(R"(
            property var task: null
            property string type
            Component.onCompleted: {
                task = client.get("/x")
                task.errorOccurred.connect(e => {}) // handled: no unhandled-rejection warning
            }
            function late() { task.catch(e => type = e.type) }
        )",
            refusedUrl());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(
            root->property("task").value<QObject *>()->property("running").toBool(), false, waitMs);
        QVERIFY(QMetaObject::invokeMethod(root.get(), "late"));
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("type").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("type").toString(), QStringLiteral("NetworkError"));
    }

    void callbacksRunOnce()
    {
        LoopbackServer server(echoPath);
        auto root = load(R"(
            property int fulfilled: 0
            property int rejected: 0
            property int finallies: 0
            property bool done: false
            Component.onCompleted: {
                const task = client.get("/once")
                task.then(r => fulfilled++, e => rejected++)
                task.catch(e => rejected++)
                task.finally(() => finallies++)
                    .then(r => client.get("/later"))
                    .then(r => done = true)
            }
        )",
            server.url());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(root->property("done").toBool(), waitMs);
        QmlTest::deliverQueuedEvents();
        QCOMPARE(root->property("fulfilled").toInt(), 1);
        QCOMPARE(root->property("rejected").toInt(), 0);
        QCOMPARE(root->property("finallies").toInt(), 1);
    }

    void finallyPassesTheOutcomeThrough()
    {
        auto root = load(R"(
            property var log: []
            Component.onCompleted: client.get("/x")
                .finally(() => log.push("finally"))
                .then(r => log.push("fulfilled"), e => log.push("passed " + e.type))
        )",
            refusedUrl());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("log").toList().size(), 2, waitMs);
        QCOMPARE(root->property("log").toStringList(),
            QStringList({QStringLiteral("finally"), QStringLiteral("passed NetworkError")}));
    }

    void unhandledRejectionAtTheEndOfAChainIsReported()
    {
        LoopbackServer server(echoPath);
        auto root = load(R"(
            property bool thrown: false
            Component.onCompleted: client.get("/x").then(r => { thrown = true; throw new Error("lost") })
        )",
            server.url());
        QVERIFY(root);
        QTest::ignoreMessage(QtWarningMsg,
            QRegularExpression(QStringLiteral("^Unhandled HttpTask rejection: Error: lost")));
        QTRY_VERIFY_WITH_TIMEOUT(root->property("thrown").toBool(), waitMs);
        QmlTest::deliverQueuedEvents();
    }

    void rejectionHandledLaterInTheChainIsNotReported()
    {
        // failOnWarning (init) fails this test on any "Unhandled" warning.
        auto root = load(R"(
            property string type
            Component.onCompleted: client.get("/x").then(r => r).then(r => r).catch(e => type = e.type)
        )",
            refusedUrl());
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("type").toString().isEmpty(), waitMs);
        QmlTest::deliverQueuedEvents();
    }

    void abortOfAChainedTaskAbortsTheRequest()
    {
        LoopbackServer server([](QTcpSocket *, const SeenRequest &) { /* never answers */ });
        auto root = load(R"(
            property string type
            property var chained: null
            Component.onCompleted: {
                chained = client.get("/hang").then(r => "fulfilled")
                chained.catch(e => type = e.type)
            }
            function stop() { chained.abort() }
        )",
            server.url());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(server.requests().size(), 1, waitMs);
        QVERIFY(QMetaObject::invokeMethod(root.get(), "stop"));
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("type").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("type").toString(), QStringLiteral("RequestError"));
    }

    void chainSurvivesGarbageCollection()
    {
        // Nothing in QML refers to any task of the chain while either request is in flight;
        // the server holds each answer until the collections are done.
        QList<QPointer<QTcpSocket>> held;
        LoopbackServer server([&](QTcpSocket *s, const SeenRequest &) { held.append(s); });
        auto root = load(R"(
            property string text
            Component.onCompleted: client.get("/gc")
                .then(r => client.get("/next-" + r.text))
                .then(r => r.text.toUpperCase())
                .then(t => text = t)
        )",
            server.url());
        QVERIFY(root);
        const auto collect = [this] {
            for (int i = 0; i < 3; ++i) {
                m_engine->collectGarbage();
                // What the collector released is deleted now, not at a later turn of the loop.
                QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
            }
        };
        QTRY_COMPARE_WITH_TIMEOUT(held.size(), 1, waitMs);
        collect();
        QVERIFY(held[0]);
        held[0]->write(httpResponse(200, "OK", {}, "late"));
        // The second request comes from a callback; the chain now waits on a task that only
        // the chain refers to.
        QTRY_COMPARE_WITH_TIMEOUT(held.size(), 2, waitMs);
        collect();
        QVERIFY(held[1]);
        QCOMPARE(server.requests().at(1).target, "/next-late");
        held[1]->write(httpResponse(200, "OK", {}, "second"));
        QTRY_COMPARE_WITH_TIMEOUT(
            root->property("text").toString(), QStringLiteral("SECOND"), waitMs);
    }

    void destroyingTheClientEndsTheChainWithoutCallbacks()
    {
        LoopbackServer server([](QTcpSocket *, const SeenRequest &) { /* never answers */ });
        auto root = load(R"(
            property int callbacks: 0
            property var chained: null
            property var other: null
            property Component factory: Component { HttpClient {} }
            Component.onCompleted: {
                other = factory.createObject(null, {baseUrl: server})
                chained = other.get("/x").then(r => callbacks++).catch(e => callbacks++)
            }
            function dropClient() { other.destroy() }
        )",
            server.url());
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(server.requests().size(), 1, waitMs);
        QVERIFY(QMetaObject::invokeMethod(root.get(), "dropClient"));
        auto *chained = root->property("chained").value<QObject *>();
        QVERIFY(chained);
        QTRY_COMPARE_WITH_TIMEOUT(chained->property("running").toBool(), false, waitMs);
        QmlTest::deliverQueuedEvents();
        QCOMPARE(root->property("callbacks").toInt(), 0);
    }
};

QTEST_GUILESS_MAIN(tst_QmlHttpTask)
#include "tst_qml_httptask.moc"
