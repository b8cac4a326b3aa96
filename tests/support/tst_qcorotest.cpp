// The coroutine test harness itself (support/qcorotest.h), observed from outside: a test whose
// coroutine never finishes must end the whole process when RUN_CORO's watchdog fires, naming the
// test, rather than fail and go on to the next test while the coroutine is still suspended on
// the dead test's locals (a later resumption would then crash inside an unrelated test).
//
// The test runs its own binary as a child process, whose Qt Test object has a test that hangs
// and one after it.
#include "support/qcorotest.h"

#include <QCoreApplication>
#include <QProcess>

#include <chrono>
#include <cstdio>
#include <cstring>

#include <sys/resource.h>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

// The child's tests: the first one's coroutine waits for an hour; the second one must not run.
class HangingTests : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hangs()
    {
        int local = 1;
        RUN_CORO(
            [&]() -> QCoro::Task<> {
                co_await QCoro::sleepFor(1h);
                ++local; // what a late resumption would touch
            }(),
            200ms);
        std::fprintf(stdout, "MARK hangs returned\n");
        std::fflush(stdout);
    }
    void runsAfterwards()
    {
        std::fprintf(stdout, "MARK the next test ran\n");
        std::fflush(stdout);
    }
};

} // namespace

class TestQCoroTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aFiredWatchdogAbortsTheProcess()
    {
        QProcess child;
        // It aborts on purpose: no core file.
        child.setChildProcessModifier([] {
            const rlimit none {0, 0};
            ::setrlimit(RLIMIT_CORE, &none);
        });
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(u"QTEST_DISABLE_STACK_DUMP"_s, u"1"_s);
        child.setProcessEnvironment(env);
        child.start(QCoreApplication::applicationFilePath(), {u"--child"_s});
        QVERIFY2(child.waitForFinished(60000), "the child did not finish within 60 s");
        const QString out = QString::fromUtf8(child.readAllStandardOutput());
        const QString err = QString::fromUtf8(child.readAllStandardError());
        const QString all = u"exit %1 (%2)\n--- stdout ---\n%3--- stderr ---\n%4"_s.arg(
            QString::number(child.exitCode()),
            child.exitStatus() == QProcess::NormalExit ? u"normal"_s : u"crash"_s, out, err);
        QVERIFY2(child.exitStatus() == QProcess::CrashExit, qPrintable(all));
        QVERIFY2(!out.contains(u"MARK"_s), qPrintable(all));
        // The message names the test and the time it was given.
        const QString text = out + err;
        QVERIFY2(text.contains(u"RUN_CORO watchdog"_s), qPrintable(all));
        QVERIFY2(text.contains(u"test function hangs()"_s), qPrintable(all));
        QVERIFY2(text.contains(u"200 ms"_s), qPrintable(all));
    }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc == 2 && std::strcmp(argv[1], "--child") == 0) {
        HangingTests child;
        return QTest::qExec(&child, 1, argv);
    }
    TestQCoroTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_qcorotest.moc"
