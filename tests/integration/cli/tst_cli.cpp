// The reqivo command, checked from outside: the built binary run with QProcess against a scripted
// in-process server on 127.0.0.1.
//
// The server writes exact bytes (duplicate fields, chunked framing, a redirect, a body cut short)
// and records what it received, so each test states both what the command printed (the
// --report jsonl line, byte for byte where it can be) and what went over the wire.
#include "clirunner.h"
#include "scriptserver.h"

#include <QFile>
#include <QJsonArray>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using ReqivoTest::ScriptServer;
using Run = ReqivoTest::CliRun;

namespace {

QByteArray bigBody()
{
    QByteArray body;
    body.reserve(1024 * 1024 + 123);
    for (int i = 0; body.size() < 1024 * 1024 + 123; ++i)
        body.append(char('a' + i % 26)).append(char(i % 251));
    return body.left(1024 * 1024 + 123);
}

QJsonArray pair(const char *name, const char *value)
{
    return QJsonArray {QString::fromLatin1(name), QString::fromLatin1(value)};
}

} // namespace

class TestCli : public QObject
{
    Q_OBJECT

private:
    ScriptServer m_server;
    QTemporaryDir m_dir;

    QString url(const char *path) const { return QString::fromLatin1(m_server.baseUrl() + path); }

    Run reqivo(const QStringList &arguments, const QByteArray &input = {})
    {
        return ReqivoTest::runReqivo(arguments, input);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(QFile::exists(QStringLiteral(REQIVO_BINARY)));
        QVERIFY(m_server.listen());
        m_server.script("/cookies",
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain\r\n"
            "Set-Cookie: a=1; Path=/\r\n"
            "X-Dup: one\r\n"
            "Set-Cookie: b=2; Path=/\r\n"
            "X-Dup: two\r\n"
            "Content-Length: 5\r\n"
            "\r\n"
            "hello");
        m_server.script("/redirect",
            "HTTP/1.1 301 Moved Permanently\r\n"
            "Location: /final\r\n"
            "Content-Length: 0\r\n"
            "\r\n");
        m_server.script("/final",
            "HTTP/1.1 200 OK\r\n"
            "Content-Length: 5\r\n"
            "\r\n"
            "final");
        m_server.script("/chunked",
            "HTTP/1.1 200 OK\r\n"
            "Transfer-Encoding: chunked\r\n"
            "\r\n"
            "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n");
        m_server.script("/missing",
            "HTTP/1.1 404 Not Found\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 4\r\n"
            "\r\n"
            "nope");
        m_server.script("/truncated",
            "HTTP/1.1 200 OK\r\n"
            "Content-Length: 100\r\n"
            "\r\n"
            "0123456789",
            /*closeAfter=*/true);
        m_server.script("/echo",
            "HTTP/1.1 200 OK\r\n"
            "Content-Length: 2\r\n"
            "\r\n"
            "ok");
        m_server.script("/big",
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: application/octet-stream\r\n"
            "Content-Length: "
                + QByteArray::number(bigBody().size()) + "\r\n\r\n" + bigBody());
    }

    void init() { m_server.reset(); }

    // --- the report ------------------------------------------------------------------------

    void reportLineIsExactlyAsSpecified()
    {
        const Run run = reqivo({u"--report"_s, u"jsonl"_s, url("/chunked")});
        QVERIFY(run.finished);
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.lines().size(), 1);
        const QString expected = u"{\"url\":\"%1\",\"ok\":true,\"status\":200,\"reason\":\"OK\","
                                 "\"httpVersion\":\"1.1\",\"headers\":[[\"Transfer-Encoding\","
                                 "\"chunked\"]],\"body\":\"V2lraXBlZGlh\",\"bodyLength\":9,"
                                 "\"finalUrl\":\"%1\",\"history\":[],\"connectionReused\":false,"
                                 "\"elapsedMs\":"_s.arg(url("/chunked"));
        // Then the attempts and the phases' times (numbers, fractions allowed), in this order.
        const QRegularExpression exact(u'^' + QRegularExpression::escape(expected)
            + u"\\d+,\"attempts\":1,\"timings\":\\{\"dnsMs\":[0-9.e-]+,\"connectMs\":[0-9.e-]+,"
              "\"tlsMs\":[0-9.e-]+,\"ttfbMs\":[0-9.e-]+,\"totalMs\":[0-9.e-]+\\}\\}$"_s);
        QVERIFY2(exact.match(QString::fromUtf8(run.lines().at(0))).hasMatch(),
            run.lines().at(0).constData());
        QVERIFY2(run.err.isEmpty(), run.err.constData());
    }

    void reportKeepsHeaderOrderAndDuplicates()
    {
        const Run run = reqivo({u"--report"_s, u"jsonl"_s, url("/cookies")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = run.objects().value(0);
        const QJsonArray expected {pair("Content-Type", "text/plain"),
            pair("Set-Cookie", "a=1; Path=/"), pair("X-Dup", "one"),
            pair("Set-Cookie", "b=2; Path=/"), pair("X-Dup", "two"), pair("Content-Length", "5")};
        QCOMPARE(o.value("headers"_L1).toArray(), expected);
        QCOMPARE(o.value("body"_L1).toString(), u"aGVsbG8="_s);
        QCOMPARE(o.value("bodyLength"_L1).toInt(), 5);
        QCOMPARE(o.value("status"_L1).toInt(), 200);
        QCOMPARE(o.value("ok"_L1).toBool(), true);
    }

    void redirectChainIsInHistory()
    {
        const Run run = reqivo({u"--report"_s, u"jsonl"_s, url("/redirect")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = run.objects().value(0);
        QCOMPARE(o.value("url"_L1).toString(), url("/redirect"));
        QCOMPARE(o.value("status"_L1).toInt(), 200);
        QCOMPARE(o.value("body"_L1).toString(), u"ZmluYWw="_s);
        QCOMPARE(o.value("finalUrl"_L1).toString(), url("/final"));
        const QJsonArray history {QJsonObject {{"status"_L1, 301}, {"url"_L1, url("/redirect")}}};
        QCOMPARE(o.value("history"_L1).toArray(), history);
        QVERIFY(run.lines().at(0).contains("\"history\":[{\"status\":301,\"url\":"));
    }

    void noFollowReturnsTheRedirect()
    {
        const Run run = reqivo({u"--report"_s, u"jsonl"_s, u"--no-follow"_s, url("/redirect")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = run.objects().value(0);
        QCOMPARE(o.value("status"_L1).toInt(), 301);
        QCOMPARE(o.value("finalUrl"_L1).toString(), url("/redirect"));
        QCOMPARE(o.value("history"_L1).toArray(), QJsonArray());
        QCOMPARE(m_server.requests().size(), 1);
    }

    void tooManyRedirectsIsAnError()
    {
        const Run run
            = reqivo({u"--report"_s, u"jsonl"_s, u"--max-redirects"_s, u"0"_s, url("/redirect")});
        QCOMPARE(run.exitCode, 1);
        const QJsonObject o = run.objects().value(0);
        QCOMPARE(o.value("ok"_L1), QJsonValue(false));
        QCOMPARE(o.value("error"_L1).toObject().value("type"_L1).toString(), u"TooManyRedirects"_s);
    }

    void secondUrlReusesTheConnection()
    {
        const Run run = reqivo({u"--report"_s, u"jsonl"_s, url("/cookies"), url("/chunked")});
        QCOMPARE(run.exitCode, 0);
        const QList<QJsonObject> objects = run.objects();
        QCOMPARE(objects.size(), 2);
        QCOMPARE(objects[0].value("connectionReused"_L1), QJsonValue(false));
        QCOMPARE(objects[1].value("connectionReused"_L1), QJsonValue(true));
        QCOMPARE(objects[1].value("body"_L1).toString(), u"V2lraXBlZGlh"_s);
        QCOMPARE(m_server.connectionCount(), 1);
    }

    void errorStatusIsAResponse()
    {
        const Run run = reqivo({u"--report"_s, u"jsonl"_s, url("/missing")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = run.objects().value(0);
        QCOMPARE(o.value("ok"_L1), QJsonValue(true));
        QCOMPARE(o.value("status"_L1).toInt(), 404);
        QCOMPARE(o.value("reason"_L1).toString(), u"Not Found"_s);
        QCOMPARE(o.value("body"_L1).toString(), u"bm9wZQ=="_s);
    }

    void closedMidBodyIsAnErrorAndExitOne()
    {
        const Run run = reqivo(
            {u"--report"_s, u"jsonl"_s, url("/cookies"), url("/truncated"), url("/final")});
        QVERIFY(run.finished);
        QCOMPARE(run.exitCode, 1);
        QCOMPARE(run.lines().size(), 3);
        const QString errorLine = QString::fromUtf8(run.lines().at(1));
        const QRegularExpression shape(
            u"^\\{\"url\":\"%1\",\"ok\":false,\"error\":\\{\"type\":\"([A-Za-z]+)\","
            "\"message\":\".+\"\\},\"attempts\":1\\}$"_s.arg(
                QRegularExpression::escape(url("/truncated"))));
        const auto match = shape.match(errorLine);
        QVERIFY2(match.hasMatch(), qPrintable(errorLine));
        const QStringList bodyCutShort {
            u"ProtocolError"_s, u"InvalidResponseError"_s, u"NetworkError"_s};
        QVERIFY2(bodyCutShort.contains(match.captured(1)), qPrintable(errorLine));
        // The URLs before and after the failure still got their responses.
        QCOMPARE(run.objects()[0].value("ok"_L1), QJsonValue(true));
        QCOMPARE(run.objects()[2].value("body"_L1).toString(), u"ZmluYWw="_s);
    }

    void refusedConnectionIsANetworkError()
    {
        QTcpServer closed;
        QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
        const QString target = u"http://127.0.0.1:%1/"_s.arg(closed.serverPort());
        closed.close();
        const Run run = reqivo({u"--report"_s, u"jsonl"_s, target});
        QCOMPARE(run.exitCode, 1);
        const QJsonObject error = run.objects().value(0).value("error"_L1).toObject();
        QCOMPARE(error.value("type"_L1).toString(), u"NetworkError"_s);
        QVERIFY(!error.value("message"_L1).toString().isEmpty());
    }

    // --- plain output and files ---------------------------------------------------------------

    void bodyGoesToStdout()
    {
        const Run run = reqivo({url("/cookies"), url("/chunked")});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.out, QByteArray("helloWikipedia"));
        QVERIFY2(run.err.isEmpty(), run.err.constData());
    }

    void outputFileIsStreamedToDisk()
    {
        const QString path = m_dir.filePath(u"big.bin"_s);
        const Run run = reqivo({u"-o"_s, path, url("/big")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.isEmpty());
        // stderr is a pipe here, not a terminal: no progress bar.
        QVERIFY2(run.err.isEmpty(), run.err.constData());
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), bigBody());
    }

    void outputFileWithReport()
    {
        const QString path = m_dir.filePath(u"report.bin"_s);
        const Run run = reqivo({u"--report"_s, u"jsonl"_s, u"-o"_s, path, url("/big")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = run.objects().value(0);
        QCOMPARE(o.value("body"_L1).toString(), QString());
        QCOMPARE(o.value("bodyLength"_L1).toInteger(), bigBody().size());
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.size(), bigBody().size());
    }

    void oneOutputFilePerUrl()
    {
        const QString a = m_dir.filePath(u"a.txt"_s), b = m_dir.filePath(u"b.txt"_s);
        const Run run = reqivo({u"-o"_s, a, u"-o"_s, b, url("/cookies"), url("/final")});
        QCOMPARE(run.exitCode, 0);
        QFile fa(a), fb(b);
        QVERIFY(fa.open(QIODevice::ReadOnly) && fb.open(QIODevice::ReadOnly));
        QCOMPARE(fa.readAll(), QByteArray("hello"));
        QCOMPARE(fb.readAll(), QByteArray("final"));
    }

    void verbosePrintsHeadsOnStderr()
    {
        const Run run = reqivo({u"-v"_s, url("/cookies")});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.out, QByteArray("hello"));
        QVERIFY2(
            run.err.contains("> GET " + m_server.baseUrl() + "/cookies\n"), run.err.constData());
        QVERIFY2(run.err.contains("< HTTP/1.1 200 OK\n"), run.err.constData());
        // Every field, in order; cookie values are secrets (redacted).
        QVERIFY2(run.err.contains("< Set-Cookie: a=<redacted>; Path=/\n< X-Dup: one\n"
                                  "< Set-Cookie: b=<redacted>; Path=/\n"),
            run.err.constData());
    }

    // --- what goes over the wire --------------------------------------------------------------

    void dataFromFileIsSentExactly()
    {
        const QByteArray data("line one\r\nline two\n\0binary\xff tail", 32);
        const QString path = m_dir.filePath(u"data.bin"_s);
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(data);
        file.close();
        const Run run = reqivo({u"-d"_s, u'@' + path, url("/echo")});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.out, QByteArray("ok"));
        QCOMPARE(m_server.requests().size(), 1);
        const auto &request = m_server.requests().at(0);
        QCOMPARE(request.method, QByteArray("POST"));
        QCOMPARE(request.body, data);
        QCOMPARE(request.field("Content-Type"), QByteArray("application/x-www-form-urlencoded"));
        QCOMPARE(request.field("Content-Length"), QByteArray::number(data.size()));
    }

    void dataFromStdin()
    {
        const QByteArray data("from=stdin&x=1\n");
        const Run run = reqivo({u"-X"_s, u"PUT"_s, u"-d"_s, u"@-"_s, url("/echo")}, data);
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(m_server.requests().size(), 1);
        QCOMPARE(m_server.requests().at(0).method, QByteArray("PUT"));
        QCOMPARE(m_server.requests().at(0).body, data);
    }

    void jsonBody()
    {
        const Run run = reqivo({u"--json"_s, u"{\"a\":[1,2],\"b\":\"é\"}"_s, url("/echo")});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(m_server.requests().size(), 1);
        const auto &request = m_server.requests().at(0);
        QCOMPARE(request.method, QByteArray("POST"));
        QCOMPARE(request.body, QByteArray("{\"a\":[1,2],\"b\":\"\xc3\xa9\"}"));
        QCOMPARE(request.field("Content-Type"), QByteArray("application/json"));
        QCOMPARE(request.field("Accept"), QByteArray("application/json"));
    }

    void headersMethodAndBasicAuth()
    {
        const Run run = reqivo({u"-X"_s, u"DELETE"_s, u"-H"_s, u"X-One: 1"_s, u"-H"_s,
            u"X-Two:  two words "_s, u"-u"_s, u"user:pa:ss"_s, url("/echo")});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(m_server.requests().size(), 1);
        const auto &request = m_server.requests().at(0);
        QCOMPARE(request.method, QByteArray("DELETE"));
        QCOMPARE(request.field("X-One"), QByteArray("1"));
        QCOMPARE(request.field("X-Two"), QByteArray("two words"));
        QCOMPARE(request.field("Authorization"), "Basic " + QByteArray("user:pa:ss").toBase64());
    }

    void bearerToken()
    {
        const Run run = reqivo({u"--bearer"_s, u"t0k3n"_s, url("/echo")});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(m_server.requests().value(0).field("Authorization"), QByteArray("Bearer t0k3n"));
    }

    void noCompressedSendsNoAcceptEncoding()
    {
        QCOMPARE(reqivo({url("/echo")}).exitCode, 0);
        QVERIFY(m_server.requests().value(0).field("Accept-Encoding").contains("gzip"));
        m_server.reset();
        QCOMPARE(reqivo({u"--compressed"_s, u"--no-compressed"_s, url("/echo")}).exitCode, 0);
        QVERIFY(!m_server.requests().value(0).field("Accept-Encoding").contains("gzip"));
    }

    // --- usage ----------------------------------------------------------------------------------

    void badUsageExitsTwo_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::newRow("no URL") << QStringList {u"--report"_s, u"jsonl"_s};
        QTest::newRow("unknown option")
            << QStringList {u"--frobnicate"_s, u"http://127.0.0.1:1/"_s};
        QTest::newRow("unknown report format")
            << QStringList {u"--report"_s, u"xml"_s, u"http://127.0.0.1:1/"_s};
        QTest::newRow("header without colon")
            << QStringList {u"-H"_s, u"NoColon"_s, u"http://127.0.0.1:1/"_s};
        QTest::newRow("negative max redirects")
            << QStringList {u"--max-redirects"_s, u"-1"_s, u"http://127.0.0.1:1/"_s};
        QTest::newRow("timeout not a number")
            << QStringList {u"--timeout"_s, u"soon"_s, u"http://127.0.0.1:1/"_s};
        QTest::newRow("cert without key")
            << QStringList {u"--cert"_s, u"/nonexistent.pem"_s, u"http://127.0.0.1:1/"_s};
        QTest::newRow("missing cacert file")
            << QStringList {u"--cacert"_s, u"/nonexistent/ca.pem"_s, u"http://127.0.0.1:1/"_s};
        QTest::newRow("data and json")
            << QStringList {u"-d"_s, u"a"_s, u"--json"_s, u"{}"_s, u"http://127.0.0.1:1/"_s};
        QTest::newRow("missing data file")
            << QStringList {u"-d"_s, u"@/nonexistent/file"_s, u"http://127.0.0.1:1/"_s};
        QTest::newRow("unwritable output")
            << QStringList {u"-o"_s, u"/nonexistent/dir/out"_s, u"http://127.0.0.1:1/"_s};
        QTest::newRow("two -o for three URLs") << QStringList {u"-o"_s, u"a"_s, u"-o"_s, u"b"_s,
            u"http://127.0.0.1:1/a"_s, u"http://127.0.0.1:1/b"_s, u"http://127.0.0.1:1/c"_s};
        QTest::newRow("bad proxy")
            << QStringList {u"--proxy"_s, u"ftp://x:1"_s, u"http://127.0.0.1:1/"_s};
        QTest::newRow("invalid URL") << QStringList {u"http://"_s};
    }

    void badUsageExitsTwo()
    {
        QFETCH(QStringList, arguments);
        const Run run = reqivo(arguments);
        QVERIFY(run.finished);
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.out.isEmpty(), run.out.constData());
        QVERIFY(run.err.startsWith("reqivo: "));
        QCOMPARE(m_server.requests().size(), 0);
    }

    // --- --sync: the blocking Session gives the same results --------------------------------

    void syncGivesTheSameReport()
    {
        const QStringList urls {
            url("/cookies"), url("/redirect"), url("/chunked"), url("/truncated")};
        const Run async = reqivo(QStringList {u"--report"_s, u"jsonl"_s} + urls);
        const Run sync = reqivo(QStringList {u"--sync"_s, u"--report"_s, u"jsonl"_s} + urls);
        QVERIFY(sync.finished);
        QCOMPARE(sync.exitCode, 1);
        QCOMPARE(sync.exitCode, async.exitCode);
        // Identical lines but for the times.
        static const QRegularExpression elapsed(u"\"elapsedMs\":\\d+"_s);
        static const QRegularExpression timings(u"\"timings\":\\{[^}]*\\}"_s);
        const auto timeless = [](const QByteArray &out) {
            return QString::fromUtf8(out)
                .replace(elapsed, u"\"elapsedMs\":0"_s)
                .replace(timings, u"\"timings\":{}"_s);
        };
        QCOMPARE(timeless(sync.out), timeless(async.out));
        QCOMPARE(sync.objects().value(2).value("connectionReused"_L1), QJsonValue(true));
    }

    void syncStreamsToFile()
    {
        const QString path = m_dir.filePath(u"sync.bin"_s);
        const Run run = reqivo({u"--sync"_s, u"-o"_s, path, url("/big")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.err.isEmpty(), run.err.constData());
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), bigBody());
    }

    void helpAndVersion()
    {
        const Run help = reqivo({u"--help"_s});
        QCOMPARE(help.exitCode, 0);
        QVERIFY(help.out.contains("--report"));
        QVERIFY(help.out.contains("--max-redirects"));
        const Run version = reqivo({u"--version"_s});
        QCOMPARE(version.exitCode, 0);
        QVERIFY2(version.out.startsWith("reqivo 0."), version.out.constData());
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
