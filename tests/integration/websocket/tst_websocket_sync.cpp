// The blocking WebSocket: the same behaviour as AsyncWebSocket through plain calls, on the
// main thread (which also runs the in-process server, inside the nested loop), from a
// std::thread that never ran an event loop, and from a QThread, against both peers.
#include "wstest.h"

#include <Reqivo/session.h>
#include <Reqivo/websocket.h>

#include <QThread>

#include <atomic>
#include <thread>

using namespace Reqivo;
using namespace ReqivoTest;
using namespace std::chrono_literals;

namespace {

//! What a worker thread saw, checked on the main thread afterwards.
struct WorkerReport
{
    std::atomic<bool> done {false};
    QStringList steps;
    QString failure;
};

//! A small conversation through the blocking API: connect, echo text and binary, ping, close.
void converse(const QUrl &url, WorkerReport *report)
{
    try {
        WebSocket socket(url);
        socket.open();
        report->steps.append(QStringLiteral("connected"));
        socket.send(QStringLiteral("hello from a thread"));
        report->steps.append(socket.receive(5s).text());
        socket.send(QByteArray("\x00\x01\x02", 3));
        report->steps.append(QString::number(socket.receive(5s).data().size()));
        socket.ping();
        report->steps.append(QStringLiteral("pong"));
        try {
            socket.receive(50ms);
            report->steps.append(QStringLiteral("no timeout?"));
        } catch (const ReadTimeout &) {
            report->steps.append(QStringLiteral("timeout"));
        }
        socket.close(4000, QStringLiteral("thread done"));
        report->steps.append(QString::number(socket.closeCode()));
    } catch (const std::exception &e) {
        report->failure = QString::fromUtf8(e.what());
    }
    report->done = true;
}

const QStringList expectedConversation {QStringLiteral("connected"),
    QStringLiteral("hello from a thread"), QStringLiteral("3"), QStringLiteral("pong"),
    QStringLiteral("timeout"), QStringLiteral("4000")};

} // namespace

class TestWebSocketSync : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void onTheMainThread();
    void againstPython();
    void fromAStdThread();
    void fromAQThread();
    void fromASession();
    void errorsAreExceptions();
    void endAfterAServerClose();
    void reconnectsDuringACall();
    void destructorClosesPolitely();

private:
    PythonPeer m_python;
};

void TestWebSocketSync::initTestCase()
{
    START_PYTHON_PEER(m_python);
}

void TestWebSocketSync::onTheMainThread()
{
    TestServer server; // served by the nested loop of each blocking call
    QVERIFY(server.listen());
    WorkerReport report;
    converse(server.url(), &report);
    QVERIFY2(report.failure.isEmpty(), qPrintable(report.failure));
    QCOMPARE(report.steps, expectedConversation);
}

void TestWebSocketSync::againstPython()
{
    WorkerReport report;
    converse(m_python.url(QStringLiteral("/echo")), &report);
    QVERIFY2(report.failure.isEmpty(), qPrintable(report.failure));
    QCOMPARE(report.steps, expectedConversation);
}

void TestWebSocketSync::fromAStdThread()
{
    TestServer server; // lives here; the main thread's loop serves it meanwhile
    QVERIFY(server.listen());
    WorkerReport inProcess;
    WorkerReport python;
    std::thread a(converse, server.url(), &inProcess);
    std::thread b(converse, m_python.url(QStringLiteral("/echo")), &python);
    const bool finished = QTest::qWaitFor([&] { return inProcess.done && python.done; }, 30000);
    a.join();
    b.join();
    QVERIFY(finished);
    QVERIFY2(inProcess.failure.isEmpty(), qPrintable(inProcess.failure));
    QCOMPARE(inProcess.steps, expectedConversation);
    QVERIFY2(python.failure.isEmpty(), qPrintable(python.failure));
    QCOMPARE(python.steps, expectedConversation);
}

void TestWebSocketSync::fromAQThread()
{
    TestServer server;
    QVERIFY(server.listen());
    WorkerReport report;
    const QUrl url = server.url();
    QThread *thread = QThread::create([&] { converse(url, &report); });
    thread->start();
    QVERIFY(QTest::qWaitFor([&] { return report.done.load(); }, 30000));
    thread->wait();
    delete thread;
    QVERIFY2(report.failure.isEmpty(), qPrintable(report.failure));
    QCOMPARE(report.steps, expectedConversation);
}

void TestWebSocketSync::fromASession()
{
    QUrl base = m_python.url(QStringLiteral("/"));
    base.setScheme(QStringLiteral("http"));
    Session session(base);
    session.setBearerToken(QStringLiteral("secret"));
    WebSocket socket(session, QUrl(QStringLiteral("/auth")));
    socket.open();
    socket.send(QStringLiteral("authorised"));
    QCOMPARE(socket.receive(5s).text(), QStringLiteral("authorised"));
    socket.close();
    QCOMPARE(socket.state(), WebSocket::State::Closed);
}

void TestWebSocketSync::errorsAreExceptions()
{
    WebSocket refused(m_python.url(QStringLiteral("/auth")));
    try {
        refused.open();
        QFAIL("open() to /auth without a token succeeded");
    } catch (const WebSocketError &e) {
        QCOMPARE(e.error().code(), 401); // the refused handshake's HTTP status
        QVERIFY2(e.message().contains(QLatin1String("HTTP 401")), e.what());
    }
    QCOMPARE(refused.lastError().code(), 401);
    QCOMPARE(refused.closeCode(), 1006);

    WebSocket dropped(m_python.url(QStringLiteral("/echo")));
    dropped.open();
    dropped.send(QStringLiteral("drop"));
    QVERIFY_THROWS_EXCEPTION(WebSocketError, dropped.receive(5s));
    QCOMPARE(dropped.closeCode(), 1006);
    QVERIFY_THROWS_EXCEPTION(WebSocketError, dropped.send(QStringLiteral("after")));
}

void TestWebSocketSync::endAfterAServerClose()
{
    WebSocket socket(m_python.url(QStringLiteral("/close?code=4002&reason=over")));
    socket.open();
    socket.send(QStringLiteral("x"));
    const WebSocketMessage end = socket.receive(5s);
    QVERIFY(end.isEnd());
    QCOMPARE(end.closeCode(), 4002);
    QCOMPARE(end.closeReason(), QStringLiteral("over"));
    socket.close(); // nothing left to close
}

void TestWebSocketSync::reconnectsDuringACall()
{
    TestServer server;
    QVERIFY(server.listen());
    WebSocketOptions options;
    options.reconnect.enabled = true;
    options.reconnect.initialDelay = 20ms;
    WebSocket socket(server.url(), options);
    socket.open();
    server.dropClients(0);
    // The drop is noticed, and the reconnect made, while a blocking call runs.
    QVERIFY_THROWS_EXCEPTION(ReadTimeout, socket.receive(300ms));
    QVERIFY(socket.isOpen());
    QCOMPARE(server.connections, 2);
    socket.send(QStringLiteral("back"));
    QCOMPARE(socket.receive(5s).text(), QStringLiteral("back"));
}

void TestWebSocketSync::destructorClosesPolitely()
{
    TestServer server;
    QVERIFY(server.listen());
    int serverSawCode = 0;
    server.onText = [&](QWebSocket *peer, const QString &) {
        connect(peer, &QWebSocket::disconnected, this,
            [&, peer] { serverSawCode = peer->closeCode(); });
        return false;
    };
    bool loopRan = false;
    {
        WebSocket socket(server.url());
        socket.open();
        socket.send(QStringLiteral("x"));
        socket.receive(5s);
        // Runs at the next event loop iteration: the destructor must not be one.
        QTimer::singleShot(0, this, [&] { loopRan = true; });
    }
    QVERIFY2(!loopRan, "the destructor ran a nested event loop");
    // The Close (1001) was sent without waiting: the server sees it once its loop runs.
    QVERIFY(QTest::qWaitFor([&] { return serverSawCode != 0; }, 5000));
    QCOMPARE(serverSawCode, 1001);
    QVERIFY(loopRan);
}

QTEST_GUILESS_MAIN(TestWebSocketSync)
#include "tst_websocket_sync.moc"
