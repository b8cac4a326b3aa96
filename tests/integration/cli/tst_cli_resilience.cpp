// The reqivo command's resilience and visibility options (issue 14), checked from outside against
// scripted loopback servers: --retry and --retry-max-time with the total --timeout, "attempts"
// and "timings" in --report jsonl, -v's redaction of secrets, proxies from the environment with
// --proxy and --noproxy, and the usage errors of the new options.
//
// The command runs with a controlled environment (clirunner.h drops every *_proxy variable of
// the test's own environment) so that only the proxy variables a test sets are seen.
#include "clirunner.h"
#include "scriptserver.h"

#include <QJsonArray>
#include <QTcpServer>
#include <QTest>

using namespace Qt::StringLiterals;
using ReqivoTest::ScriptServer;
using Run = ReqivoTest::CliRun;

namespace {

QByteArray status(int code, const QByteArray &extra = {}, const QByteArray &body = "ok")
{
    return "HTTP/1.1 " + QByteArray::number(code) + " Status\r\n" + extra
        + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

// A loopback port nothing listens on: bound, then closed.
quint16 closedPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = server.serverPort();
    server.close();
    return port;
}

} // namespace

class TestCliResilience : public QObject
{
    Q_OBJECT

private:
    ScriptServer m_server;
    ScriptServer m_proxy; //!< answers requests in absolute form, as a forward proxy does

    QString url(const char *path) const { return QString::fromLatin1(m_server.baseUrl() + path); }
    QString proxyUrl() const { return QString::fromLatin1(m_proxy.baseUrl()); }

    static Run reqivo(const QStringList &arguments, const QProcessEnvironment &extra = {})
    {
        return ReqivoTest::runReqivo(arguments, {}, 30000, extra);
    }

    static void addModes()
    {
        QTest::addColumn<QStringList>("mode");
        QTest::newRow("async") << QStringList();
        QTest::newRow("sync") << QStringList {u"--sync"_s};
    }

    static QJsonObject only(const Run &run)
    {
        if (run.lines().size() != 1)
            qWarning("expected one report line: %s%s", run.out.constData(), run.err.constData());
        return run.objects().value(0);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_server.listen());
        QVERIFY(m_proxy.listen());
        m_server.script("/final", status(200, {}, "final"));
        m_proxy.script("/final", status(200, {}, "proxied"));
    }

    void init()
    {
        m_server.reset();
        m_proxy.reset();
    }

    // --- --retry ------------------------------------------------------------------------------

    void retryAfterA503_data() { addModes(); }
    void retryAfterA503()
    {
        QFETCH(QStringList, mode);
        m_server.scriptSequence("/flaky", {{status(503)}, {status(200, {}, "second")}});
        const Run run = reqivo(
            mode + QStringList {u"--retry"_s, u"2"_s, u"--report"_s, u"jsonl"_s, url("/flaky")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = only(run);
        QCOMPARE(o.value("status"_L1).toInt(), 200);
        QCOMPARE(
            o.value("body"_L1).toString(), QString::fromLatin1(QByteArray("second").toBase64()));
        QCOMPARE(o.value("attempts"_L1), QJsonValue(2));
        QCOMPARE(m_server.requests().size(), 2);
    }

    void noRetryWithoutTheOption()
    {
        m_server.scriptSequence("/flaky", {{status(503)}, {status(200)}});
        const Run run = reqivo({u"--report"_s, u"jsonl"_s, url("/flaky")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = only(run);
        QCOMPARE(o.value("status"_L1).toInt(), 503);
        QCOMPARE(o.value("attempts"_L1), QJsonValue(1));
        QCOMPARE(m_server.requests().size(), 1);
    }

    // N retries: N + 1 attempts, then the last response is returned as it is.
    void retriesAreBounded()
    {
        m_server.scriptSequence("/down", {{status(502, "Retry-After: 0\r\n")}});
        const Run run = reqivo({u"--retry"_s, u"2"_s, u"--report"_s, u"jsonl"_s, url("/down")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = only(run);
        QCOMPARE(o.value("status"_L1).toInt(), 502);
        QCOMPARE(o.value("attempts"_L1), QJsonValue(3));
        QCOMPARE(m_server.requests().size(), 3);
    }

    // Retry-After above the 60 s default maximum: the response is returned at once (the run
    // would not finish within runReqivo's 30 s otherwise).
    void longRetryAfterIsReturnedAtOnce()
    {
        m_server.scriptSequence("/busy", {{status(503, "Retry-After: 120\r\n")}, {status(200)}});
        const Run run = reqivo({u"--retry"_s, u"3"_s, u"--report"_s, u"jsonl"_s, url("/busy")});
        QVERIFY(run.finished);
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = only(run);
        QCOMPARE(o.value("status"_L1).toInt(), 503);
        QCOMPARE(o.value("attempts"_L1), QJsonValue(1));
        QCOMPARE(m_server.requests().size(), 1);
    }

    // A Retry-After the limit allows replaces the backoff.
    void shortRetryAfterIsHonoured()
    {
        m_server.scriptSequence("/slow", {{status(429, "Retry-After: 1\r\n")}, {status(200)}});
        const Run run = reqivo({u"--retry"_s, u"1"_s, u"--report"_s, u"jsonl"_s, url("/slow")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = only(run);
        QCOMPARE(o.value("status"_L1).toInt(), 200);
        QCOMPARE(o.value("attempts"_L1), QJsonValue(2));
    }

    // --retry-max-time: no backoff runs past it, so a wait that would end after it is not made.
    void retryMaxTimeBoundsTheRetries()
    {
        m_server.scriptSequence("/busy", {{status(503, "Retry-After: 5\r\n")}, {status(200)}});
        const Run run = reqivo({u"--retry"_s, u"3"_s, u"--retry-max-time"_s, u"2"_s, u"--report"_s,
            u"jsonl"_s, url("/busy")});
        QVERIFY(run.finished);
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = only(run);
        QCOMPARE(o.value("status"_L1).toInt(), 503);
        QCOMPARE(o.value("attempts"_L1), QJsonValue(1));
        QCOMPARE(m_server.requests().size(), 1);
    }

    // The total --timeout spans every attempt and every sleep: it ends a backoff with a
    // TimeoutError that still says how many attempts were made.
    void timeoutDuringBackoffIsATimeoutError_data() { addModes(); }
    void timeoutDuringBackoffIsATimeoutError()
    {
        QFETCH(QStringList, mode);
        m_server.scriptSequence("/busy", {{status(503, "Retry-After: 20\r\n")}, {status(200)}});
        const Run run = reqivo(mode
            + QStringList {u"--retry"_s, u"3"_s, u"--timeout"_s, u"1"_s, u"--report"_s, u"jsonl"_s,
                url("/busy")});
        QVERIFY(run.finished);
        QCOMPARE(run.exitCode, 1);
        const QJsonObject o = only(run);
        QCOMPARE(o.value("ok"_L1), QJsonValue(false));
        QCOMPARE(o.value("error"_L1).toObject().value("type"_L1).toString(), u"TimeoutError"_s);
        QCOMPARE(o.value("attempts"_L1), QJsonValue(1));
        QCOMPARE(m_server.requests().size(), 1);
    }

    // A refused connection is retried; the error object counts the attempts.
    void refusedConnectionIsRetried()
    {
        const quint16 port = closedPort();
        QVERIFY(port != 0);
        const QString target = u"http://127.0.0.1:%1/"_s.arg(port);
        const Run once = reqivo({u"--report"_s, u"jsonl"_s, target});
        QCOMPARE(once.exitCode, 1);
        QCOMPARE(
            only(once).value("error"_L1).toObject().value("type"_L1).toString(), u"NetworkError"_s);
        QCOMPARE(only(once).value("attempts"_L1), QJsonValue(1));

        const Run retried = reqivo({u"--retry"_s, u"2"_s, u"--report"_s, u"jsonl"_s, target});
        QCOMPARE(retried.exitCode, 1);
        QCOMPARE(only(retried).value("ok"_L1), QJsonValue(false));
        QCOMPARE(only(retried).value("attempts"_L1), QJsonValue(3));
    }

    // Only idempotent methods, or a request with an Idempotency-Key, are retried.
    void postIsRetriedOnlyWithAnIdempotencyKey()
    {
        m_server.scriptSequence("/flaky", {{status(503)}, {status(200)}});
        const Run post = reqivo(
            {u"--retry"_s, u"2"_s, u"-d"_s, u"x=1"_s, u"--report"_s, u"jsonl"_s, url("/flaky")});
        QCOMPARE(post.exitCode, 0);
        QCOMPARE(only(post).value("status"_L1).toInt(), 503);
        QCOMPARE(only(post).value("attempts"_L1), QJsonValue(1));
        QCOMPARE(m_server.requests().size(), 1);

        m_server.reset();
        const Run keyed = reqivo({u"--retry"_s, u"2"_s, u"-d"_s, u"x=1"_s, u"-H"_s,
            u"Idempotency-Key: k-1"_s, u"--report"_s, u"jsonl"_s, url("/flaky")});
        QCOMPARE(keyed.exitCode, 0);
        QCOMPARE(only(keyed).value("status"_L1).toInt(), 200);
        QCOMPARE(only(keyed).value("attempts"_L1), QJsonValue(2));
        QCOMPARE(m_server.requests().size(), 2);
        QCOMPARE(m_server.requests().at(1).body, QByteArray("x=1"));
    }

    // attempts counts the tries of the final hop, after a redirect.
    void attemptsCountTheFinalHop()
    {
        m_server.script("/hop", status(302, "Location: /flaky\r\n", {}));
        m_server.scriptSequence("/flaky", {{status(503)}, {status(200)}});
        const Run run = reqivo({u"--retry"_s, u"2"_s, u"--report"_s, u"jsonl"_s, url("/hop")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = only(run);
        QCOMPARE(o.value("status"_L1).toInt(), 200);
        QCOMPARE(o.value("attempts"_L1), QJsonValue(2));
        QCOMPARE(o.value("history"_L1).toArray().size(), 1);
    }

    // --- timings ----------------------------------------------------------------------------

    // Cumulative milliseconds of the final attempt: dns ≤ connect ≤ ttfb ≤ total over the phases
    // that happened (no TLS here, no name lookup for an IP literal); on a reused connection the
    // connection phases are 0.
    void timingsArePresentAndOrdered_data() { addModes(); }
    void timingsArePresentAndOrdered()
    {
        QFETCH(QStringList, mode);
        const Run run
            = reqivo(mode + QStringList {u"--report"_s, u"jsonl"_s, url("/final"), url("/final")});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.lines().size(), 2);
        for (int i = 0; i < 2; ++i) {
            const QJsonObject o = run.objects().at(i);
            // Appended after the existing keys, in this order.
            QVERIFY2(run.lines().at(i).contains("\"attempts\":1,\"timings\":{\"dnsMs\":"),
                run.lines().at(i).constData());
            const QJsonObject t = o.value("timings"_L1).toObject();
            const QStringList keys {
                u"dnsMs"_s, u"connectMs"_s, u"tlsMs"_s, u"ttfbMs"_s, u"totalMs"_s};
            double last = 0;
            for (const QString &key : keys) {
                QVERIFY2(t.value(key).isDouble(), qPrintable(key));
                const double value = t.value(key).toDouble();
                QVERIFY2(value >= 0, qPrintable(key));
                if (value == 0)
                    continue; // a phase that did not happen
                QVERIFY2(value >= last, run.lines().at(i).constData());
                last = value;
            }
            QCOMPARE(t.value("tlsMs"_L1).toDouble(), 0.0); // cleartext
            QVERIFY2(t.value("ttfbMs"_L1).toDouble() > 0, run.lines().at(i).constData());
            QVERIFY2(t.value("totalMs"_L1).toDouble() >= t.value("ttfbMs"_L1).toDouble(),
                run.lines().at(i).constData());
        }
        const QJsonObject first = run.objects().at(0).value("timings"_L1).toObject();
        QVERIFY2(first.value("connectMs"_L1).toDouble() > 0, run.lines().at(0).constData());
        QCOMPARE(run.objects().at(1).value("connectionReused"_L1), QJsonValue(true));
        const QJsonObject reused = run.objects().at(1).value("timings"_L1).toObject();
        QCOMPARE(reused.value("dnsMs"_L1).toDouble(), 0.0);
        QCOMPARE(reused.value("connectMs"_L1).toDouble(), 0.0);
        QCOMPARE(reused.value("tlsMs"_L1).toDouble(), 0.0);
    }

    // --- -v redaction -------------------------------------------------------------------------

    void verboseRedactsSecrets_data() { addModes(); }
    void verboseRedactsSecrets()
    {
        QFETCH(QStringList, mode);
        m_server.script(
            "/secret", status(200, "Set-Cookie: session=cookie-out-secret; Path=/; HttpOnly\r\n"));
        const QString target = u"http://url-user:url-pass-secret@127.0.0.1:%1/secret"
                               "?token=query-token-secret&page=2"_s.arg(m_server.port());
        const Run run = reqivo(mode
            + QStringList {u"-v"_s, u"-u"_s, u"user:basic-pass-secret"_s, u"-H"_s,
                u"Cookie: a=cookie-in-secret; b=other-secret"_s, u"-H"_s, u"X-Trace: kept"_s,
                target});
        QCOMPARE(run.exitCode, 0);
        const QByteArray err = run.err;
        for (const QByteArray &secret : {QByteArray("basic-pass-secret"),
                 QByteArray("user:basic-pass-secret").toBase64(), QByteArray("cookie-in-secret"),
                 QByteArray("other-secret"), QByteArray("cookie-out-secret"),
                 QByteArray("url-pass-secret"), QByteArray("query-token-secret")})
            QVERIFY2(!err.contains(secret), (secret + " in:\n" + err).constData());
        // Every field is still there, its value replaced.
        QVERIFY2(err.contains("> Authorization: Basic <redacted>\n"), err.constData());
        QVERIFY2(err.contains("> Cookie: a=<redacted>; b=<redacted>\n"), err.constData());
        QVERIFY2(err.contains("> X-Trace: kept\n"), err.constData());
        QVERIFY2(
            err.contains("< Set-Cookie: session=<redacted>; Path=/; HttpOnly\n"), err.constData());
        QVERIFY2(err.contains("page=2"), err.constData());
        // The secrets did go to the server.
        QCOMPARE(m_server.requests().size(), 1);
        QVERIFY(m_server.requests().at(0).target.contains("query-token-secret"));
    }

    void verboseRedactsBearer()
    {
        const Run run = reqivo({u"-v"_s, u"--bearer"_s, u"bearer-token-secret"_s, url("/final")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(!run.err.contains("bearer-token-secret"), run.err.constData());
        QVERIFY2(run.err.contains("> Authorization: Bearer <redacted>\n"), run.err.constData());
    }

    // Error messages on stderr carry no secret of the URL either.
    void errorMessagesAreRedacted()
    {
        const quint16 port = closedPort();
        QVERIFY(port != 0);
        const Run run = reqivo(
            {u"http://u:url-pass-secret@127.0.0.1:%1/x?api_key=key-secret&sig=sig-secret"_s.arg(
                port)});
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.startsWith("reqivo: "), run.err.constData());
        for (const char *secret : {"url-pass-secret", "key-secret", "sig-secret"})
            QVERIFY2(!run.err.contains(secret), run.err.constData());
    }

    // --- proxies from the environment -----------------------------------------------------

    void proxyFromTheEnvironment_data()
    {
        QTest::addColumn<QStringList>("options");
        QTest::addColumn<QStringList>("variables"); // name, value, name, value, ...
        QTest::addColumn<bool>("proxied");
        const QString proxy = u"PROXY"_s; // replaced by the test proxy's URL
        QTest::newRow("http_proxy")
            << QStringList() << QStringList {u"http_proxy"_s, proxy} << true;
        QTest::newRow("HTTP_PROXY ignored")
            << QStringList() << QStringList {u"HTTP_PROXY"_s, proxy} << false;
        QTest::newRow("ALL_PROXY") << QStringList() << QStringList {u"ALL_PROXY"_s, proxy} << true;
        QTest::newRow("all_proxy") << QStringList() << QStringList {u"all_proxy"_s, proxy} << true;
        QTest::newRow("https_proxy is for https")
            << QStringList() << QStringList {u"https_proxy"_s, proxy} << false;
        QTest::newRow("NO_PROXY host")
            << QStringList() << QStringList {u"http_proxy"_s, proxy, u"NO_PROXY"_s, u"127.0.0.1"_s}
            << false;
        QTest::newRow("no_proxy CIDR")
            << QStringList()
            << QStringList {u"http_proxy"_s, proxy, u"no_proxy"_s, u"example.com, 127.0.0.0/8"_s}
            << false;
        QTest::newRow("no_proxy star")
            << QStringList() << QStringList {u"http_proxy"_s, proxy, u"no_proxy"_s, u"*"_s}
            << false;
        QTest::newRow("no_proxy other host")
            << QStringList()
            << QStringList {u"http_proxy"_s, proxy, u"no_proxy"_s, u"example.com"_s} << true;
        QTest::newRow("--noproxy") << QStringList {u"--noproxy"_s, u"127.0.0.1"_s}
                                   << QStringList {u"http_proxy"_s, proxy} << false;
        QTest::newRow("--noproxy replaces no_proxy")
            << QStringList {u"--noproxy"_s, u"example.com"_s}
            << QStringList {u"http_proxy"_s, proxy, u"no_proxy"_s, u"127.0.0.1"_s} << true;
        QTest::newRow("--proxy beats the environment")
            << QStringList {u"--proxy"_s, proxy}
            << QStringList {u"http_proxy"_s, u"http://127.0.0.1:1"_s} << true;
        QTest::newRow("no_proxy exempts from --proxy")
            << QStringList {u"--proxy"_s, proxy} << QStringList {u"no_proxy"_s, u"127.0.0.1"_s}
            << false;
        QTest::newRow("--noproxy exempts from --proxy")
            << QStringList {u"--proxy"_s, proxy, u"--noproxy"_s, u"*"_s} << QStringList() << false;
    }

    void proxyFromTheEnvironment()
    {
        QFETCH(QStringList, options);
        QFETCH(QStringList, variables);
        QFETCH(bool, proxied);
        options.replaceInStrings(u"PROXY"_s, proxyUrl());
        QProcessEnvironment extra;
        for (qsizetype i = 0; i + 1 < variables.size(); i += 2)
            extra.insert(
                variables.at(i), QString(variables.at(i + 1)).replace(u"PROXY"_s, proxyUrl()));
        const Run run = reqivo(options + QStringList {url("/final")}, extra);
        QVERIFY2(run.finished, run.err.constData());
        QCOMPARE(run.exitCode, 0);
        if (proxied) {
            QCOMPARE(run.out, QByteArray("proxied"));
            QCOMPARE(m_proxy.requests().size(), 1);
            // Absolute form, as an HTTP proxy is asked.
            QCOMPARE(m_proxy.requests().at(0).target, m_server.baseUrl() + "/final");
            QCOMPARE(m_server.requests().size(), 0);
        } else {
            QCOMPARE(run.out, QByteArray("final"));
            QCOMPARE(m_proxy.requests().size(), 0);
            QCOMPARE(m_server.requests().size(), 1);
            QCOMPARE(m_server.requests().at(0).target, QByteArray("/final"));
        }
    }

    // The credentials of --proxy http://user:pass@host:port answer the proxy's 407; they never
    // reach the origin (the proxy here is the last hop, so what it received is what was sent).
    void proxyCredentialsAnswerA407()
    {
        m_proxy.scriptSequence("/auth",
            {{status(407, "Proxy-Authenticate: Basic realm=\"proxy\"\r\n", {})},
                {status(200, {}, "through")}});
        const QString proxy = u"http://puser:ppass@127.0.0.1:%1"_s.arg(m_proxy.port());
        const Run run
            = reqivo({u"-v"_s, u"--proxy"_s, proxy, u"--report"_s, u"jsonl"_s, url("/auth")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = only(run);
        QCOMPARE(o.value("status"_L1).toInt(), 200);
        // -v never shows the proxy credentials.
        QVERIFY2(run.err.contains("< HTTP/1.1 200"), run.err.constData());
        QVERIFY2(!run.err.contains("ppass"), run.err.constData());
        QVERIFY2(!run.err.contains(QByteArray("puser:ppass").toBase64()), run.err.constData());
        QVERIFY(!m_proxy.requests().isEmpty());
        QCOMPARE(m_proxy.requests().last().field("Proxy-Authorization"),
            "Basic " + QByteArray("puser:ppass").toBase64());
        QVERIFY(m_proxy.requests().last().field("Authorization").isEmpty());
    }

    // --- usage --------------------------------------------------------------------------------

    void badUsageExitsTwo_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::newRow("--retry word") << QStringList {u"--retry"_s, u"many"_s};
        QTest::newRow("--retry negative") << QStringList {u"--retry"_s, u"-1"_s};
        QTest::newRow("--retry-max-time word")
            << QStringList {u"--retry"_s, u"1"_s, u"--retry-max-time"_s, u"soon"_s};
        QTest::newRow("--digest without -u") << QStringList {u"--digest"_s};
        QTest::newRow("--pinnedpubkey no prefix") << QStringList {u"--pinnedpubkey"_s, u"AAAA"_s};
        QTest::newRow("--pinnedpubkey bad base64")
            << QStringList {u"--pinnedpubkey"_s, u"sha256//not*base64"_s};
        QTest::newRow("--pinnedpubkey wrong length")
            << QStringList {u"--pinnedpubkey"_s, u"sha256//AAAA"_s};
    }

    void badUsageExitsTwo()
    {
        QFETCH(QStringList, arguments);
        const Run run = reqivo(arguments + QStringList {url("/final")});
        QVERIFY(run.finished);
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.out.isEmpty(), run.out.constData());
        QVERIFY2(run.err.startsWith("reqivo: "), run.err.constData());
        QCOMPARE(m_server.requests().size(), 0);
    }

    void helpNamesTheNewOptions()
    {
        const Run help = reqivo({u"--help"_s});
        QCOMPARE(help.exitCode, 0);
        for (const char *option :
            {"--retry ", "--retry-max-time", "--digest", "--pinnedpubkey", "--noproxy"})
            QVERIFY2(help.out.contains(option), option);
    }
};

QTEST_GUILESS_MAIN(TestCliResilience)
#include "tst_cli_resilience.moc"
