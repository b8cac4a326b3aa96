// The one-file samples (examples/samples) run as a user would run them, against servers in this
// process: each must print the status line and the body, and exit 0.
#include "loopbackserver.h"
#include "wsechoserver.h"

#include <QProcess>
#include <QTest>

class TestExampleSamples : public QObject
{
    Q_OBJECT
    Examples::LoopbackServer m_http;
    Examples::WsEchoServer m_ws;

    // Runs \a program while this thread's event loop serves it.
    void run(const QString &program, const QStringList &args, int *exitCode, QByteArray *out)
    {
        QProcess process;
        process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        process.start(program, args);
        QVERIFY2(process.waitForStarted(), qPrintable(program));
        QTRY_VERIFY_WITH_TIMEOUT(process.state() == QProcess::NotRunning, 30'000);
        *exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        *out = process.readAllStandardOutput();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_http.listen());
        QVERIFY(m_ws.listen());
    }

    void httpSamples_data()
    {
        QTest::addColumn<QString>("program");
        QTest::newRow("co_await") << QStringLiteral(SAMPLE_COROUTINE);
        QTest::newRow("blocking") << QStringLiteral(SAMPLE_BLOCKING);
        QTest::newRow("signals") << QStringLiteral(SAMPLE_SIGNALS);
    }
    void httpSamples()
    {
        QFETCH(QString, program);
        int exitCode = -2;
        QByteArray out;
        run(program, {m_http.url(QStringLiteral("/json")).toString()}, &exitCode, &out);
        QCOMPARE(exitCode, 0);
        QVERIFY2(out.startsWith("200 OK\n"), out.constData());
        QVERIFY2(out.contains("hello from the loopback server"), out.constData());
    }
    void httpSampleReportsStatus()
    {
        int exitCode = -2;
        QByteArray out;
        run(QStringLiteral(SAMPLE_BLOCKING), {m_http.url(QStringLiteral("/nowhere")).toString()},
            &exitCode, &out);
        QCOMPARE(exitCode, 1);
        QVERIFY2(out.startsWith("404 Not Found\n"), out.constData());
    }
    void webSocketSample()
    {
        int exitCode = -2;
        QByteArray out;
        run(QStringLiteral(SAMPLE_WEBSOCKET), {m_ws.url().toString(), QStringLiteral("ping?")},
            &exitCode, &out);
        QCOMPARE(exitCode, 0);
        QCOMPARE(out, QByteArray("received: ping?\n"));
    }
};

QTEST_GUILESS_MAIN(TestExampleSamples)
#include "tst_example_samples.moc"
