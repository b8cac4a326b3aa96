// What a blocking call checks about the process it runs in, observed from outside: the test
// runs its own binary as a child process in a situation a test function cannot create inside an
// application that already exists —
//   * no QCoreApplication at all: every blocking class refuses with a ReqivoError;
//   * a QGuiApplication (offscreen): the first blocking call on the GUI thread prints the
//     one-time warning naming the re-entrancy hazard, exactly once, and never for a worker
//     thread;
//   * the application (or a QThread) is told to quit while a blocking call's nested loop runs:
//     the call must still end with a response or an exception, never with garbage or a crash.
// In-process it checks that a plain QCoreApplication's main thread gets no such warning.
#include "synctest.h"
#include "threadedserver.h"

#include <Reqivo/Connection>
#include <Reqivo/Request>
#include <Reqivo/Session>

#include <QCoreApplication>
#include <QFileInfo>
#include <QGuiApplication>
#include <QProcess>
#include <QSemaphore>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <thread>

#include <unistd.h>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SyncTest;
using Reqivo::Response;
using Reqivo::Session;

namespace {

const char warningText[] = "blocks the GUI thread in a nested event loop";

void say(const QString &line)
{
    std::fprintf(stdout, "%s\n", qPrintable(line));
    std::fflush(stdout);
}
void mark(const char *line)
{
    std::fprintf(stderr, "MARK %s\n", line);
    std::fflush(stderr);
}

QString outcomeLine(const Outcome &o)
{
    return o.ok()
        ? u"response %1 %2"_s.arg(o.response.status()).arg(QString::fromLatin1(o.response.body()))
        : u"error %1: %2"_s.arg(o.error.typeName(), o.error.message());
}

// --- the child processes ------------------------------------------------------------------------

int childWithoutApplication()
{
    const QUrl url(u"http://127.0.0.1:9/"_s); // never contacted: the check comes first
    Session session;
    say(u"Session::get "_s + errorOf([&] { session.get(url); }).toString());
    say(u"Request::get "_s + errorOf([&] { Reqivo::Request::get(url); }).toString());
    Reqivo::Connection connection;
    say(u"Connection::connectToHost "_s + errorOf([&] {
        connection.connectToHost(Reqivo::Endpoint::fromUrl(url), 1s);
    }).toString());
    Response none;
    say(u"Session::readChunk "_s + errorOf([&] { Session::readChunk(none); }).toString());
    return 0;
}

int childGuiWarning(int argc, char **argv)
{
    QGuiApplication app(argc, argv);
    ThreadedServer server(answerWithWhere);
    // A worker thread of a GUI program is no GUI thread: no warning for it.
    std::thread worker([&] {
        Session session;
        say(u"worker "_s + outcomeLine(attempt([&] { return session.get(server.url()); })));
    });
    worker.join();
    mark("worker done");
    Session session;
    say(u"gui 1 "_s + outcomeLine(attempt([&] { return session.get(server.url()); })));
    mark("gui call 1 done");
    say(u"gui 2 "_s + outcomeLine(attempt([&] { return session.get(server.url()); })));
    mark("gui call 2 done");
    return 0;
}

// A scripted server for the quit tests: it answers "/fast" at once, and holds "/slow" until
// releaseSlow(), so a test can act while the slow call certainly waits in its nested loop.
class QuitTestServer
{
public:
    QuitTestServer()
        : m_server([this](ServerConnection &c, const ReceivedRequest &r) {
            if (r.target != "/slow") {
                c.write(httpResponse(200, r.target.mid(1)));
                return;
            }
            m_slow = &c;
            m_slowArrived.release();
        })
    {
    }
    QUrl url(const QString &path) const { return m_server.url(path); }
    //! Waits (blocking this thread) until "/slow" has arrived.
    bool waitForSlow() { return m_slowArrived.tryAcquire(1, 10000); }
    //! Answers the held "/slow" (after waitForSlow()), from any thread.
    void releaseSlow()
    {
        QMetaObject::invokeMethod(m_slow, [c = m_slow] { c->write(httpResponse(200, "slow")); });
    }

private:
    QSemaphore m_slowArrived;
    ServerConnection *m_slow = nullptr; // set on the server thread before m_slowArrived
    ThreadedServer m_server;
};

// A console program whose blocking calls run in a slot of the running QCoreApplication::exec();
// the application is asked to quit while the first call waits for its response.
int childQuitDuringCall(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QuitTestServer server;
    Session session;
    QTimer::singleShot(0, &app, [&] {
        say(u"first "_s
            + outcomeLine(attempt([&] { return session.get(server.url(u"/slow"_s)); })));
        say(u"second "_s
            + outcomeLine(attempt([&] { return session.get(server.url(u"/fast"_s)); })));
    });
    // The server thread tells the main thread, whose nested loop runs the call, to quit; only
    // then is the response sent.
    std::thread releaser([&] {
        if (!server.waitForSlow()) {
            say(u"the slow request never arrived"_s);
            QMetaObject::invokeMethod(&app, &QCoreApplication::quit);
            return;
        }
        QMetaObject::invokeMethod(&app, [&] {
            QCoreApplication::quit();
            server.releaseSlow();
        });
    });
    app.exec();
    releaser.join();
    return 0;
}

// QThread::wait() returns once the thread's run() is over, but Qt's threads are detached: the
// thread itself still runs its thread-local destructors afterwards, OpenSSL's among them (a
// Session sets up Qt's TLS backend, and OpenSSL frees its per-thread random generators there).
// A process that returns from main() at once can be checked by LeakSanitizer before they ran,
// which reports their memory as leaked. So wait until the kernel no longer lists the thread.
bool waitUntilThreadGone(pid_t tid)
{
    const QString task = u"/proc/self/task/%1"_s.arg(tid);
    return QTest::qWaitFor([&] { return !QFileInfo::exists(task); }, 10000);
}

// The same with QThread::quit() on a worker thread whose slot is inside a blocking call.
int childThreadQuitDuringCall(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QuitTestServer server;
    QThread thread;
    auto *context = new QObject;
    context->moveToThread(&thread);
    QObject::connect(&thread, &QThread::finished, context, &QObject::deleteLater);
    thread.start();
    std::atomic<pid_t> workerTid {0};
    QMetaObject::invokeMethod(context, [&] {
        workerTid = ::gettid();
        Session session;
        say(u"first "_s
            + outcomeLine(attempt([&] { return session.get(server.url(u"/slow"_s)); })));
        say(u"second "_s
            + outcomeLine(attempt([&] { return session.get(server.url(u"/fast"_s)); })));
    });
    // Quit only once the slot runs and its call waits: a quit before the thread's exec() starts
    // would end the thread without running the slot at all.
    if (!server.waitForSlow()) {
        say(u"the slow request never arrived"_s);
        thread.quit();
        thread.wait(QDeadlineTimer(10000));
        return 3;
    }
    thread.quit();
    server.releaseSlow();
    if (!thread.wait(QDeadlineTimer(10000))) {
        say(u"the thread did not end"_s);
        return 3;
    }
    if (!waitUntilThreadGone(workerTid)) {
        say(u"the thread did not exit"_s);
        return 3;
    }
    return 0;
}

struct ChildResult
{
    int exitCode = -1;
    QProcess::ExitStatus exitStatus = QProcess::CrashExit;
    QString out;
    QString err;
    QString describe() const
    {
        return u"exit %1 (%2)\n--- stdout ---\n%3--- stderr ---\n%4"_s.arg(exitCode).arg(
            exitStatus == QProcess::NormalExit ? u"normal"_s : u"crash"_s, out, err);
    }
};

ChildResult runChild(const QString &mode)
{
    QProcess child;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"QT_QPA_PLATFORM"_s, u"offscreen"_s);
    env.insert(u"QT_FORCE_STDERR_LOGGING"_s, u"1"_s);
    child.setProcessEnvironment(env);
    child.start(QCoreApplication::applicationFilePath(), {u"--child"_s, mode});
    ChildResult r;
    if (!child.waitForFinished(60000)) {
        child.kill();
        child.waitForFinished();
        r.err = u"(the child did not finish within 60 s) "_s;
    }
    r.exitCode = child.exitCode();
    r.exitStatus = child.exitStatus();
    r.out = QString::fromUtf8(child.readAllStandardOutput());
    r.err += QString::fromUtf8(child.readAllStandardError());
    return r;
}

QtMessageHandler s_previous = nullptr;
QStringList s_warnings;
void collectWarnings(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (type == QtWarningMsg)
        s_warnings.append(message);
    s_previous(type, context, message);
}

} // namespace

class TestSyncEnvironment : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void withoutApplicationEveryBlockingCallRefuses()
    {
        const ChildResult r = runChild(u"no-app"_s);
        QVERIFY2(r.exitStatus == QProcess::NormalExit && r.exitCode == 0, qPrintable(r.describe()));
        const QStringList lines = r.out.split(u'\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), qsizetype(4));
        for (const QString &line : lines) {
            QVERIFY2(line.contains(u" ReqivoError: "_s), qPrintable(line));
            QVERIFY2(line.contains(u"QCoreApplication"_s), qPrintable(line));
        }
        QVERIFY(lines.at(0).startsWith(u"Session::get ReqivoError: Reqivo::Session::request()"_s));
        QVERIFY(lines.at(1).startsWith(u"Request::get ReqivoError: Reqivo::Request::send()"_s));
    }

    void guiThreadWarnsExactlyOnce()
    {
        const ChildResult r = runChild(u"gui-warning"_s);
        QVERIFY2(r.exitStatus == QProcess::NormalExit && r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.out.contains(u"worker response 200 1.0"_s), qPrintable(r.describe()));
        QVERIFY2(r.out.contains(u"gui 1 response 200 2.0"_s), qPrintable(r.describe()));
        QVERIFY2(r.out.contains(u"gui 2 response 200 2.1"_s), qPrintable(r.describe()));
        QCOMPARE(r.err.count(QLatin1String(warningText)), qsizetype(1));
        const qsizetype warning = r.err.indexOf(QLatin1String(warningText));
        QVERIFY2(warning > r.err.indexOf(u"MARK worker done"_s), qPrintable(r.err));
        QVERIFY2(warning < r.err.indexOf(u"MARK gui call 1 done"_s), qPrintable(r.err));
        // It names the hazard and what to use instead.
        const QString text = r.err.mid(warning - 200, 700);
        QVERIFY2(text.contains(u"re-entrancy"_s), qPrintable(text));
        QVERIFY2(text.contains(u"co_await"_s), qPrintable(text));
        QVERIFY2(text.contains(u"Reqivo::Session::request()"_s), qPrintable(text));
    }

    void consoleApplicationGetsNoWarning()
    {
        ThreadedServer server(answerWithWhere);
        s_warnings.clear();
        s_previous = qInstallMessageHandler(collectWarnings);
        Session session;
        const Outcome first = attempt([&] { return session.get(server.url()); });
        const Outcome second = attempt([&] { return session.get(server.url()); });
        qInstallMessageHandler(s_previous);
        EXPECT_OK(first);
        EXPECT_OK(second);
        for (const QString &w : std::as_const(s_warnings))
            QVERIFY2(!w.contains(QLatin1String(warningText)), qPrintable(w));
    }

    // QCoreApplication::quit() (or QThread::quit()) ends every event loop of the thread, the
    // blocking call's nested one included, and makes later loops on that thread return at once
    // until the outer exec() is left. The call must still end with a response or an exception —
    // never return from a loop whose coroutine is still running.
    void quitDuringACall_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::newRow("QCoreApplication::quit() on the main thread") << u"quit-during-call"_s;
        QTest::newRow("QThread::quit() on a worker thread") << u"thread-quit-during-call"_s;
    }
    void quitDuringACall()
    {
        QFETCH(QString, mode);
        const ChildResult r = runChild(mode);
        QVERIFY2(r.exitStatus == QProcess::NormalExit && r.exitCode == 0, qPrintable(r.describe()));
        const QStringList lines = r.out.split(u'\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), qsizetype(2));
        QVERIFY2(lines.at(0) == u"first response 200 slow"_s
                || lines.at(0).startsWith(u"first error "_s),
            qPrintable(r.describe()));
        // The thread is quitting: the next call may be refused, but must not misbehave.
        QVERIFY2(lines.at(1) == u"second response 200 fast"_s
                || lines.at(1).startsWith(u"second error "_s),
            qPrintable(r.describe()));
    }
};

int main(int argc, char **argv)
{
    if (argc == 3 && std::strcmp(argv[1], "--child") == 0) {
        const QByteArray mode(argv[2]);
        if (mode == "no-app")
            return childWithoutApplication();
        if (mode == "gui-warning")
            return childGuiWarning(argc, argv);
        if (mode == "quit-during-call")
            return childQuitDuringCall(argc, argv);
        if (mode == "thread-quit-during-call")
            return childThreadQuitDuringCall(argc, argv);
        return 2;
    }
    QCoreApplication app(argc, argv);
    TestSyncEnvironment test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_sync_environment.moc"
