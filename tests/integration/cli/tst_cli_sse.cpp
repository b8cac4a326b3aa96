// `reqivo sse` run as a process against ssepeer.py (tests/integration/sse): the --report jsonl
// lines exactly as the contract gives them (open, message, reconnecting, error, end, always end
// last), the reconnect defaults per method, --until, --max-events, --max-reconnects,
// --last-event-id, --idle-timeout, the plain output, and the exit statuses 0, 1 and 2.
#include "clirunner.h"

#include "integration/sse/ssetest.h"

#include <QJsonObject>
#include <QTest>

using namespace ReqivoTest;

class TestCliSse : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { START_SSE_PEER(m_peer); }
    void reportLines();
    void reconnectsResumeFromLastEventId();
    void postUntilDone();
    void failures_data();
    void failures();
    void noContentIsAClosedEnd();
    void givesUpAfterMaxReconnects();
    void lastEventIdOnTheFirstRequest();
    void plainOutput();
    void badUsage_data();
    void badUsage();

private:
    QString url(const QString &pathAndQuery) const { return m_peer.url(pathAndQuery).toString(); }
    SsePeer m_peer;
};

void TestCliSse::reportLines()
{
    const CliRun run
        = runReqivo({QStringLiteral("sse"), QStringLiteral("--report"), QStringLiteral("jsonl"),
            QStringLiteral("--no-reconnect"), url(QStringLiteral("/events?n=2&type=tick"))});
    QVERIFY(run.finished);
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.lines(),
        (QList<QByteArray> {QByteArray("{\"event\":\"open\",\"url\":\"")
                + url(QStringLiteral("/events?n=2&type=tick")).toUtf8()
                + "\",\"status\":200,\"attempt\":0}",
            "{\"event\":\"message\",\"type\":\"tick\",\"data\":\"event 1\",\"id\":\"1\"}",
            "{\"event\":\"message\",\"type\":\"tick\",\"data\":\"event 2\",\"id\":\"2\"}",
            "{\"event\":\"end\",\"reason\":\"closed\"}"}));
}

void TestCliSse::reconnectsResumeFromLastEventId()
{
    // GET reconnects by default; each response is cut after one event.
    const CliRun run
        = runReqivo({QStringLiteral("sse"), QStringLiteral("--report"), QStringLiteral("jsonl"),
            QStringLiteral("--retry-ms"), QStringLiteral("10"), QStringLiteral("--max-events"),
            QStringLiteral("3"), url(QStringLiteral("/events?n=3&drop=1"))});
    QCOMPARE(run.exitCode, 0);
    const QList<QJsonObject> lines = run.objects();
    QStringList data;
    int opens = 0;
    int reconnects = 0;
    for (const QJsonObject &o : lines) {
        const QString event = o.value(QLatin1String("event")).toString();
        if (event == QLatin1String("message"))
            data << o.value(QLatin1String("data")).toString();
        if (event == QLatin1String("open"))
            QCOMPARE(o.value(QLatin1String("attempt")).toInt(), opens++);
        if (event == QLatin1String("reconnecting")) {
            ++reconnects;
            QCOMPARE(o.value(QLatin1String("attempt")).toInt(), reconnects);
            QCOMPARE(o.value(QLatin1String("lastEventId")).toString(), QString::number(reconnects));
        }
        if (event == QLatin1String("error"))
            QCOMPARE(o.value(QLatin1String("fatal")).toBool(), false);
    }
    QCOMPARE(data,
        (QStringList {
            QStringLiteral("event 1"), QStringLiteral("event 2"), QStringLiteral("event 3")}));
    QCOMPARE(reconnects, 2);
    QCOMPARE(lines.last(),
        (QJsonObject {{QStringLiteral("event"), QStringLiteral("end")},
            {QStringLiteral("reason"), QStringLiteral("max-events")}}));
}

void TestCliSse::postUntilDone()
{
    const CliRun run = runReqivo({QStringLiteral("sse"), QStringLiteral("--report"),
        QStringLiteral("jsonl"), QStringLiteral("--json"), QStringLiteral("{\"prompt\":\"a b\"}"),
        QStringLiteral("--until"), QStringLiteral("[DONE]"), url(QStringLiteral("/chat"))});
    QCOMPARE(run.exitCode, 0);
    const QList<QJsonObject> lines = run.objects();
    QCOMPARE(lines.size(), qsizetype(4));
    QCOMPARE(lines.at(1).value(QLatin1String("data")).toString(), QStringLiteral("{\"t\": \"a\"}"));
    QCOMPARE(lines.at(2).value(QLatin1String("data")).toString(), QStringLiteral("{\"t\": \"b\"}"));
    QCOMPARE(lines.at(3).value(QLatin1String("reason")).toString(), QStringLiteral("until"));
}

void TestCliSse::failures_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("type");
    QTest::newRow("500") << QStringLiteral("/status?code=500") << QStringLiteral("StatusError");
    QTest::newRow("wrong type") << QStringLiteral("/wrongtype") << QStringLiteral("ProtocolError");
}

void TestCliSse::failures()
{
    QFETCH(QString, path);
    QFETCH(QString, type);
    const CliRun run = runReqivo(
        {QStringLiteral("sse"), QStringLiteral("--report"), QStringLiteral("jsonl"), url(path)});
    QCOMPARE(run.exitCode, 1);
    const QList<QJsonObject> lines = run.objects();
    QCOMPARE(lines.size(), qsizetype(2));
    QCOMPARE(lines.at(0).value(QLatin1String("event")).toString(), QStringLiteral("error"));
    QCOMPARE(lines.at(0).value(QLatin1String("type")).toString(), type);
    QCOMPARE(lines.at(0).value(QLatin1String("fatal")).toBool(), true);
    QCOMPARE(lines.at(1).value(QLatin1String("reason")).toString(), QStringLiteral("failed"));
}

void TestCliSse::noContentIsAClosedEnd()
{
    const CliRun run = runReqivo({QStringLiteral("sse"), QStringLiteral("--report"),
        QStringLiteral("jsonl"), url(QStringLiteral("/status?code=204"))});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.lines(), QList<QByteArray> {"{\"event\":\"end\",\"reason\":\"closed\"}"});
}

void TestCliSse::givesUpAfterMaxReconnects()
{
    const CliRun run = runReqivo({QStringLiteral("sse"), QStringLiteral("--report"),
        QStringLiteral("jsonl"), QStringLiteral("--idle-timeout"), QStringLiteral("0.2"),
        QStringLiteral("--max-reconnects"), QStringLiteral("1"), QStringLiteral("--retry-ms"),
        QStringLiteral("10"), url(QStringLiteral("/silent"))});
    QCOMPARE(run.exitCode, 1);
    const QList<QJsonObject> lines = run.objects();
    QStringList events;
    for (const QJsonObject &o : lines)
        events << o.value(QLatin1String("event")).toString();
    QCOMPARE(events,
        (QStringList {QStringLiteral("open"), QStringLiteral("error"),
            QStringLiteral("reconnecting"), QStringLiteral("open"), QStringLiteral("error"),
            QStringLiteral("end")}));
    QCOMPARE(lines.at(1).value(QLatin1String("type")).toString(), QStringLiteral("ReadTimeout"));
    QCOMPARE(lines.at(1).value(QLatin1String("fatal")).toBool(), false);
    QCOMPARE(lines.at(4).value(QLatin1String("fatal")).toBool(), true);
    QCOMPARE(lines.at(5).value(QLatin1String("reason")).toString(), QStringLiteral("failed"));
}

void TestCliSse::lastEventIdOnTheFirstRequest()
{
    const CliRun run
        = runReqivo({QStringLiteral("sse"), QStringLiteral("--report"), QStringLiteral("jsonl"),
            QStringLiteral("--no-reconnect"), QStringLiteral("--last-event-id"),
            QStringLiteral("41"), url(QStringLiteral("/events?n=1"))});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.objects().at(1).value(QLatin1String("id")).toString(), QStringLiteral("42"));
}

void TestCliSse::plainOutput()
{
    const CliRun run = runReqivo({QStringLiteral("sse"), QStringLiteral("--no-reconnect"),
        url(QStringLiteral("/events?n=2&type=tick"))});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.out, QByteArray("event: tick\nevent 1\nevent: tick\nevent 2\n"));
}

void TestCliSse::badUsage_data()
{
    QTest::addColumn<QStringList>("arguments");
    const QString u = QStringLiteral("http://127.0.0.1:1/");
    QTest::newRow("no URL") << QStringList {QStringLiteral("sse")};
    QTest::newRow("two URLs") << QStringList {QStringLiteral("sse"), u, u};
    QTest::newRow("--max-events x") << QStringList {
        QStringLiteral("sse"), QStringLiteral("--max-events"), QStringLiteral("x"), u};
    QTest::newRow("--max-events 0") << QStringList {
        QStringLiteral("sse"), QStringLiteral("--max-events"), QStringLiteral("0"), u};
    QTest::newRow("--retry-ms -1") << QStringList {
        QStringLiteral("sse"), QStringLiteral("--retry-ms"), QStringLiteral("-1"), u};
    QTest::newRow("--idle-timeout 0") << QStringList {
        QStringLiteral("sse"), QStringLiteral("--idle-timeout"), QStringLiteral("0"), u};
    QTest::newRow("-o") << QStringList {
        QStringLiteral("sse"), QStringLiteral("-o"), QStringLiteral("x"), u};
    QTest::newRow("unknown option")
        << QStringList {QStringLiteral("sse"), QStringLiteral("--frobnicate"), u};
}

void TestCliSse::badUsage()
{
    QFETCH(QStringList, arguments);
    const CliRun run = runReqivo(arguments);
    QVERIFY(run.finished);
    QCOMPARE(run.exitCode, 2);
    QVERIFY(run.out.isEmpty());
}

QTEST_GUILESS_MAIN(TestCliSse)
#include "tst_cli_sse.moc"
