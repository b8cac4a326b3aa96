// `reqivo ws` run as a process against two WebSocket peers: wspeer.py (Python websockets) and a
// QWebSocketServer in the test process (wstest.h). The command's stdin is written while it runs
// and closed when the test says so; each step waits for what the command printed, never for a
// time. Checked: stdin lines echoed (CRLF, a last line without a newline, empty lines), --send
// repeatable and stdin then unread, binary messages as base64 in the plain output and in
// --report jsonl, the subprotocol in "open", --reconnect after the server drops the connection
// (reconnecting with attempt and delayMs, then open again, lines written meanwhile sent in
// order), --max-reconnects exhausted (error, exit 1), --max-message-bytes (close 1009), the
// heartbeat against a peer that stops answering, -H, -u and --bearer as the server sees them,
// wss:// with --cacert and --insecure (and without: refused), the environment's proxy, close
// codes and reasons from the server, --help, and bad usage (exit 2).
#include "clirunner.h"

#include "integration/websocket/wsscripted.h"
#include "integration/websocket/wstest.h"
#include "unit/transport/testproxies.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSslCertificate>
#include <QSslKey>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace Qt::StringLiterals;
using namespace ReqivoTest;

namespace {

constexpr int patience = 30000; //!< how long a step may take before the test fails

//! The command running, with its stdin open until closeInput().
class WsCommand
{
public:
    explicit WsCommand(const QStringList &arguments, const QProcessEnvironment &extra = {})
    {
        m_process.setProgram(QStringLiteral(REQIVO_BINARY));
        m_process.setProcessEnvironment(cliEnvironment(extra));
        m_process.setArguments(QStringList {u"ws"_s} + arguments);
        QObject::connect(&m_process, &QProcess::readyReadStandardOutput, &m_process,
            [this] { m_out += m_process.readAllStandardOutput(); });
        m_process.start();
        m_started = m_process.waitForStarted(patience);
    }
    ~WsCommand()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(patience);
        }
    }
    WsCommand(const WsCommand &) = delete;
    WsCommand &operator=(const WsCommand &) = delete;

    bool started() const { return m_started; }
    void write(const QByteArray &bytes) { m_process.write(bytes); }
    void closeInput() { m_process.closeWriteChannel(); }
    const QByteArray &out() const { return m_out; }

    //! Waits until stdout holds \a needle \a count times (false if the command ended first).
    bool waitFor(const QByteArray &needle, int count = 1)
    {
        (void)QTest::qWaitFor(
            [&] {
                return m_out.count(needle) >= count || m_process.state() == QProcess::NotRunning;
            },
            patience);
        m_out += m_process.readAllStandardOutput();
        return m_out.count(needle) >= count;
    }
    //! Waits until \a condition holds (on the test's side: what a server recorded).
    template<typename F>
    bool waitUntil(F condition)
    {
        return QTest::qWaitFor(condition, patience);
    }

    //! Waits for the command to exit and collects what it did.
    CliRun finish()
    {
        CliRun run;
        (void)QTest::qWaitFor([&] { return m_process.state() == QProcess::NotRunning; }, patience);
        if (m_process.state() != QProcess::NotRunning) {
            qWarning("reqivo ws did not finish: %s", m_process.readAllStandardError().constData());
            return run;
        }
        run.finished = m_process.exitStatus() == QProcess::NormalExit;
        run.exitCode = m_process.exitCode();
        m_out += m_process.readAllStandardOutput();
        run.out = m_out;
        run.err = m_process.readAllStandardError();
        return run;
    }

private:
    QProcess m_process;
    QByteArray m_out;
    bool m_started = false;
};

enum class Stdin { Closed, DevNull, File };

//! Runs the command with stdin closed, /dev/null or the file \a path, and waits for its end.
CliRun runWithStdin(const QStringList &arguments, Stdin stdinKind, const QString &path = {})
{
    CliRun run;
    QProcess process;
    process.setProgram(QStringLiteral(REQIVO_BINARY));
    process.setProcessEnvironment(cliEnvironment());
    process.setArguments(QStringList {u"ws"_s} + arguments);
    if (stdinKind == Stdin::Closed)
        process.setChildProcessModifier([] { ::close(0); });
    else
        process.setStandardInputFile(stdinKind == Stdin::File ? path : QProcess::nullDevice());
    process.start();
    if (!process.waitForStarted(patience))
        return run;
    (void)QTest::qWaitFor([&] { return process.state() == QProcess::NotRunning; }, patience);
    if (process.state() != QProcess::NotRunning)
        return run;
    run.finished = process.exitStatus() == QProcess::NormalExit;
    run.exitCode = process.exitCode();
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

QStringList events(const CliRun &run)
{
    QStringList names;
    for (const QJsonObject &o : run.objects())
        names << o.value("event"_L1).toString();
    return names;
}

QJsonObject jsonObject(std::initializer_list<std::pair<QString, QJsonValue>> members)
{
    QJsonObject o;
    for (const auto &[key, value] : members)
        o.insert(key, value);
    return o;
}

QJsonObject closeEvent(int code, const QString &reason = {})
{
    return jsonObject({{u"event"_s, u"close"_s}, {u"code"_s, code}, {u"reason"_s, reason}});
}

} // namespace

class TestCliWs : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void stdinLinesEchoed();
    void stdinLinesExactly();
    void stdinOfEveryKind_data();
    void stdinOfEveryKind();
    void sendIsRepeatable();
    void binaryMessages();
    void subprotocolInOpen();
    void reconnectsAfterADrop();
    void linesWaitWhileReconnecting();
    void maxReconnectsExhausted();
    void maxMessageBytes_data();
    void maxMessageBytes();
    void heartbeatPings();
    void heartbeatFindsADeadPeer();
    void headersAndBasicAuth();
    void bearer();
    void refusedHandshake();
    void wss_data();
    void wss();
    void proxyFromTheEnvironment_data();
    void proxyFromTheEnvironment();
    void closeFromTheServer_data();
    void closeFromTheServer();
    void help();
    void badUsage_data();
    void badUsage();

private:
    QString peer(const QString &path) const { return m_python.url(path).toString(); }
    QString cert(const QString &name) const { return m_certs.filePath(name); }
    QSslConfiguration serverTls() const;

    PythonPeer m_python;
    QTemporaryDir m_certs;
};

void TestCliWs::initTestCase()
{
    START_PYTHON_PEER(m_python);
    QVERIFY2(m_certs.isValid(), qPrintable(m_certs.errorString()));
    QProcess make;
    make.setProcessChannelMode(QProcess::MergedChannels);
    make.start(u"/bin/bash"_s, {QStringLiteral(REQIVO_MAKE_CERTS_SCRIPT), m_certs.path()});
    QVERIFY2(make.waitForFinished(60000), "make-certs.sh did not finish");
    QVERIFY2(make.exitStatus() == QProcess::NormalExit && make.exitCode() == 0,
        make.readAll().constData());
}

QSslConfiguration TestCliWs::serverTls() const
{
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificate(QSslCertificate::fromPath(cert(u"server.pem"_s)).value(0));
    QFile key(cert(u"server.key"_s));
    if (key.open(QIODevice::ReadOnly))
        tls.setPrivateKey(QSslKey(key.readAll(), QSsl::Ec));
    tls.setPeerVerifyMode(QSslSocket::VerifyNone);
    return tls;
}

// Each line is echoed by the Python peer and printed as it arrives; the command closes with
// 1000 once stdin ends (--wait 0: at once).
void TestCliWs::stdinLinesEchoed()
{
    WsCommand ws({u"--wait"_s, u"0"_s, peer(u"/echo"_s)});
    QVERIFY(ws.started());
    ws.write("hello\n");
    QVERIFY2(ws.waitFor("hello\n"), ws.out().constData());
    ws.write("gr\xc3\xbc\xc3\x9f dich\n");
    QVERIFY2(ws.waitFor("dich\n"), ws.out().constData());
    ws.closeInput();
    const CliRun run = ws.finish();
    QVERIFY(run.finished);
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.out, QByteArray("hello\ngr\xc3\xbc\xc3\x9f dich\n"));
    QVERIFY2(run.err.isEmpty(), run.err.constData());
}

// Lines as the server receives them: CRLF and LF both end a line, an empty line is an empty
// message, a last line without a newline is sent at EOF. The QWebSocketServer handles frames in
// order, so everything arrives before the client's Close.
void TestCliWs::stdinLinesExactly()
{
    TestServer server;
    server.mode = TestServer::Mode::Record;
    QVERIFY(server.listen());
    const CliRun run
        = runReqivo({u"ws"_s, u"--wait"_s, u"0"_s, server.url().toString()}, "one\r\ntwo\n\nthree");
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(server.received, (QStringList {u"one"_s, u"two"_s, QString(), u"three"_s}));
    QVERIFY(run.out.isEmpty());

    // Empty stdin: the connection opens and closes cleanly without a message.
    server.received.clear();
    const CliRun empty = runReqivo({u"ws"_s, u"--wait"_s, u"0"_s, server.url().toString()});
    QCOMPARE(empty.exitCode, 0);
    QVERIFY(server.received.isEmpty());
    QCOMPARE(server.connections, 2);
}

void TestCliWs::stdinOfEveryKind_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("closed") << int(Stdin::Closed) << QStringList();
    QTest::newRow("/dev/null") << int(Stdin::DevNull) << QStringList();
    QTest::newRow("a file") << int(Stdin::File) << QStringList {u"from"_s, u"a file"_s};
}

// stdin as a regular file, /dev/null, or not open at all (then no descriptor the command opens
// itself is mistaken for it): read to its end, the connection closed cleanly.
void TestCliWs::stdinOfEveryKind()
{
    QFETCH(int, kind);
    QFETCH(QStringList, expected);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QFile file(dir.filePath(u"input.txt"_s));
    QVERIFY(file.open(QIODevice::WriteOnly));
    QVERIFY(file.write("from\na file\n") > 0);
    file.close();
    TestServer server;
    server.mode = TestServer::Mode::Record;
    QVERIFY(server.listen());
    const CliRun run
        = runWithStdin({u"--report"_s, u"jsonl"_s, u"--wait"_s, u"0"_s, server.url().toString()},
            Stdin(kind), file.fileName());
    QVERIFY(run.finished);
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(events(run), (QStringList {u"open"_s, u"close"_s}));
    QCOMPARE(server.received, expected);
}

void TestCliWs::sendIsRepeatable()
{
    TestServer server;
    server.mode = TestServer::Mode::Record;
    QVERIFY(server.listen());
    const CliRun run = runReqivo({u"ws"_s, u"--send"_s, u"first"_s, u"--send=second"_s, u"--send"_s,
                                     u"third"_s, u"--wait"_s, u"0"_s, server.url().toString()},
        "stdin is not read\n");
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(server.received, (QStringList {u"first"_s, u"second"_s, u"third"_s}));

    // Echoed, in the report.
    TestServer echo;
    QVERIFY(echo.listen());
    const CliRun echoed = runReqivo({u"ws"_s, u"--report"_s, u"jsonl"_s, u"--send"_s, u"a"_s,
        u"--send"_s, u"b"_s, u"--wait"_s, u"0"_s, echo.url().toString()});
    QCOMPARE(echoed.exitCode, 0);
    QCOMPARE(echoed.lines(),
        (QList<QByteArray> {"{\"event\":\"open\",\"subprotocol\":\"\"}",
            "{\"event\":\"message\",\"type\":\"text\",\"data\":\"a\",\"length\":1}",
            "{\"event\":\"message\",\"type\":\"text\",\"data\":\"b\",\"length\":1}",
            "{\"event\":\"close\",\"code\":1000,\"reason\":\"\"}"}));
}

// Binary messages: one base64 line in the plain output; type "binary", base64 data and the
// length in bytes in the report.
void TestCliWs::binaryMessages()
{
    {
        WsCommand ws({u"--report"_s, u"jsonl"_s, u"--wait"_s, u"0"_s, peer(u"/send?bytes=5"_s)});
        QVERIFY(ws.waitFor("\"message\""));
        ws.write("text back\n");
        QVERIFY(ws.waitFor("\"message\"", 2));
        ws.closeInput();
        const CliRun run = ws.finish();
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.lines(),
            (QList<QByteArray> {"{\"event\":\"open\",\"subprotocol\":\"\"}",
                "{\"event\":\"message\",\"type\":\"binary\",\"data\":\"eHh4eHg=\",\"length\":5}",
                "{\"event\":\"message\",\"type\":\"text\",\"data\":\"text back\",\"length\":9}",
                "{\"event\":\"close\",\"code\":1000,\"reason\":\"\"}"}));
    }
    {
        WsCommand ws({u"--wait"_s, u"0"_s, peer(u"/send?bytes=4"_s)});
        QVERIFY(ws.waitFor("eHh4eA==\n"));
        ws.closeInput();
        const CliRun run = ws.finish();
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.out, QByteArray("eHh4eA==\n"));
    }
}

void TestCliWs::subprotocolInOpen()
{
    const CliRun run
        = runReqivo({u"ws"_s, u"--report"_s, u"jsonl"_s, u"--subprotocol"_s, u"chat.v1"_s,
            u"--subprotocol"_s, u"chat.v2"_s, u"--wait"_s, u"0"_s, peer(u"/subprotocol"_s)});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.objects(),
        (QList<QJsonObject> {
            jsonObject({{u"event"_s, u"open"_s}, {u"subprotocol"_s, u"chat.v1"_s}}),
            closeEvent(1000)}));

    // A server that picks one that was not offered fails the handshake.
    const CliRun bad = runReqivo({u"ws"_s, u"--report"_s, u"jsonl"_s, u"--subprotocol"_s,
        u"chat.v1"_s, u"--wait"_s, u"0"_s, peer(u"/badsubprotocol"_s)});
    QCOMPARE(bad.exitCode, 1);
    QCOMPARE(events(bad), QStringList {u"error"_s});
    QCOMPARE(bad.objects().at(0).value("type"_L1).toString(), u"WebSocketError"_s);
    QCOMPARE(bad.objects().at(0).value("code"_L1).toInt(), 1006);
}

// The server cuts every connection: the command reports the close (1006), reconnecting with the
// attempt and its delay (1 s with 20 % jitter), opens again and goes on.
void TestCliWs::reconnectsAfterADrop()
{
    TestServer server;
    QVERIFY(server.listen());
    WsCommand ws({u"--report"_s, u"jsonl"_s, u"--reconnect"_s, u"--wait"_s, u"0"_s,
        server.url().toString()});
    QVERIFY(ws.waitFor("\"open\""));
    QVERIFY(ws.waitUntil([&] { return server.clients.size() == 1; }));
    server.dropClients(0);
    QVERIFY2(ws.waitFor("\"open\"", 2), ws.out().constData());
    ws.write("after\n");
    QVERIFY(ws.waitFor("after"));
    ws.closeInput();
    const CliRun run = ws.finish();
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(events(run),
        (QStringList {
            u"open"_s, u"close"_s, u"reconnecting"_s, u"open"_s, u"message"_s, u"close"_s}));
    const QList<QJsonObject> lines = run.objects();
    QCOMPARE(lines.at(1).value("code"_L1).toInt(), 1006);
    QCOMPARE(lines.at(2).value("attempt"_L1).toInt(), 1);
    const int delay = lines.at(2).value("delayMs"_L1).toInt();
    QVERIFY2(delay >= 800 && delay <= 1000, qPrintable(QString::number(delay)));
    QCOMPARE(lines.at(4).value("data"_L1).toString(), u"after"_s);
    QCOMPARE(lines.at(5), closeEvent(1000));
    QCOMPARE(server.connections, 2);
}

// Lines written while the connection is down wait in order and go out once it is back.
void TestCliWs::linesWaitWhileReconnecting()
{
    TestServer server;
    server.mode = TestServer::Mode::Record;
    QVERIFY(server.listen());
    WsCommand ws({u"--report"_s, u"jsonl"_s, u"--reconnect"_s, u"--wait"_s, u"0"_s,
        server.url().toString()});
    QVERIFY(ws.waitFor("\"open\""));
    ws.write("a\n");
    QVERIFY(ws.waitUntil([&] { return server.received.size() == 1; }));
    server.dropClients(0);
    QVERIFY(ws.waitFor("\"reconnecting\""));
    ws.write("b\nc\n");
    ws.write("d");
    ws.closeInput();
    const CliRun run = ws.finish();
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(server.received, (QStringList {u"a"_s, u"b"_s, u"c"_s, u"d"_s}));
    QCOMPARE(events(run),
        (QStringList {u"open"_s, u"close"_s, u"reconnecting"_s, u"open"_s, u"close"_s}));
}

// The server goes away for good: one attempt is allowed, it is refused, the command gives up
// with an error and exit status 1.
void TestCliWs::maxReconnectsExhausted()
{
    TestServer server;
    QVERIFY(server.listen());
    WsCommand ws(
        {u"--report"_s, u"jsonl"_s, u"--max-reconnects"_s, u"1"_s, server.url().toString()});
    QVERIFY(ws.waitFor("\"open\""));
    QVERIFY(ws.waitUntil([&] { return server.clients.size() == 1; }));
    server.stop(0);
    const CliRun run = ws.finish();
    QCOMPARE(run.exitCode, 1);
    QCOMPARE(events(run), (QStringList {u"open"_s, u"close"_s, u"reconnecting"_s, u"error"_s}));
    const QList<QJsonObject> lines = run.objects();
    QCOMPARE(lines.at(1).value("code"_L1).toInt(), 1006);
    QCOMPARE(lines.at(2).value("attempt"_L1).toInt(), 1);
    QCOMPARE(lines.at(3).value("type"_L1).toString(), u"WebSocketError"_s);
    QCOMPARE(lines.at(3).value("code"_L1).toInt(), 1006);
    QVERIFY(lines.at(3).value("message"_L1).toString().contains(u"1 attempt"_s));

    // A first connect that is refused is retried too, and only with --reconnect.
    QTcpServer closed;
    QVERIFY(closed.listen(QHostAddress::LocalHost));
    const QString nobody = u"ws://127.0.0.1:%1/"_s.arg(closed.serverPort());
    closed.close();
    const CliRun retried
        = runReqivo({u"ws"_s, u"--report"_s, u"jsonl"_s, u"--max-reconnects"_s, u"1"_s, nobody});
    QCOMPARE(retried.exitCode, 1);
    QCOMPARE(events(retried), (QStringList {u"reconnecting"_s, u"error"_s}));
    QCOMPARE(retried.objects().at(1).value("code"_L1).toInt(), 1006);
    const CliRun once = runReqivo({u"ws"_s, u"--report"_s, u"jsonl"_s, nobody});
    QCOMPARE(once.exitCode, 1);
    QCOMPARE(events(once), QStringList {u"error"_s});
}

void TestCliWs::maxMessageBytes_data()
{
    QTest::addColumn<int>("limit");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("1000 bytes, limit 100") << 100 << false;
    QTest::newRow("1000 bytes, limit 999") << 999 << false;
    QTest::newRow("1000 bytes, limit 1000") << 1000 << true;
}

// The peer sends one 1000-byte message (a single frame) on connect.
void TestCliWs::maxMessageBytes()
{
    QFETCH(int, limit);
    QFETCH(bool, accepted);
    WsCommand ws({u"--report"_s, u"jsonl"_s, u"--max-message-bytes"_s, QString::number(limit),
        u"--wait"_s, u"0"_s, peer(u"/send?bytes=1000"_s)});
    if (accepted) {
        QVERIFY(ws.waitFor("\"message\""));
        ws.closeInput();
        const CliRun run = ws.finish();
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(events(run), (QStringList {u"open"_s, u"message"_s, u"close"_s}));
        QCOMPARE(run.objects().at(1).value("length"_L1).toInt(), 1000);
        return;
    }
    const CliRun run = ws.finish(); // stdin stays open: the limit ends the connection
    QCOMPARE(run.exitCode, 1);
    QCOMPARE(events(run), (QStringList {u"open"_s, u"close"_s, u"error"_s}));
    const QList<QJsonObject> lines = run.objects();
    QCOMPARE(lines.at(1).value("code"_L1).toInt(), 1009);
    QCOMPARE(lines.at(2).value("type"_L1).toString(), u"WebSocketError"_s);
    QCOMPARE(lines.at(2).value("code"_L1).toInt(), 1009);
}

// A scripted server that answers pings sees one every --heartbeat seconds, and the connection
// stays up until the command closes it.
void TestCliWs::heartbeatPings()
{
    WsScriptedServer server;
    server.onFrame = [](WsServerConnection *c, const WsClientFrame &f) {
        if (f.opcode == WsOpcode::Ping) {
            c->write(wsframe(WsOpcode::Pong, f.payload));
        } else if (f.isClose()) {
            c->write(wsclose(f.closeCode()));
            c->close();
        }
    };
    QVERIFY(server.listen());
    WsCommand ws({u"--report"_s, u"jsonl"_s, u"--heartbeat"_s, u"0.5"_s, u"--wait"_s, u"0"_s,
        server.url().toString()});
    QVERIFY(ws.waitFor("\"open\""));
    QVERIFY(ws.waitUntil([&] {
        return server.connection(0)
            && server.connection(0)->framesWithOpcode(WsOpcode::Ping).size() >= 2;
    }));
    ws.closeInput();
    const CliRun run = ws.finish();
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(events(run), (QStringList {u"open"_s, u"close"_s}));
    QCOMPARE(run.objects().at(1), closeEvent(1000));
    QCOMPARE(server.connections.size(), 1);
}

// The peer stops reading (and so answering pings) after "silence": the heartbeat's missing
// pong ends the connection as lost.
void TestCliWs::heartbeatFindsADeadPeer()
{
    WsCommand ws({u"--report"_s, u"jsonl"_s, u"--heartbeat"_s, u"1"_s, peer(u"/silent"_s)});
    ws.write("ping me\n");
    QVERIFY(ws.waitFor("ping me"));
    ws.write("silence\n");
    const CliRun run = ws.finish(); // stdin stays open: only the heartbeat can end it
    QCOMPARE(run.exitCode, 1);
    QCOMPARE(events(run), (QStringList {u"open"_s, u"message"_s, u"close"_s, u"error"_s}));
    const QList<QJsonObject> lines = run.objects();
    QCOMPARE(lines.at(2).value("code"_L1).toInt(), 1006);
    QVERIFY2(
        lines.at(2).value("reason"_L1).toString().contains(u"heartbeat"_s), run.out.constData());
    QCOMPARE(lines.at(3).value("code"_L1).toInt(), 1006);
}

// /headers sends the handshake's fields as the first message.
void TestCliWs::headersAndBasicAuth()
{
    WsCommand ws({u"-H"_s, u"X-Trace: abc 123"_s, u"-u"_s, u"user:pw"_s, u"--wait"_s, u"0"_s,
        peer(u"/headers"_s)});
    QVERIFY(ws.waitFor("}\n"));
    ws.closeInput();
    const CliRun run = ws.finish();
    QCOMPARE(run.exitCode, 0);
    const QJsonObject headers = QJsonDocument::fromJson(run.lines().value(0)).object();
    QCOMPARE(headers.value("x-trace"_L1).toString(), u"abc 123"_s);
    QCOMPARE(headers.value("authorization"_L1).toString(),
        u"Basic "_s + QString::fromLatin1(QByteArray("user:pw").toBase64()));
    QVERIFY(headers.value("user-agent"_L1).toString().startsWith(u"reqivo/"_s));
}

// /auth refuses the upgrade without "Authorization: Bearer secret".
void TestCliWs::bearer()
{
    const CliRun run = runReqivo({u"ws"_s, u"-v"_s, u"--report"_s, u"jsonl"_s, u"--bearer"_s,
        u"secret"_s, u"--send"_s, u"hi"_s, u"--wait"_s, u"0"_s, peer(u"/auth"_s)});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(events(run).first(), u"open"_s);
    QCOMPARE(run.objects().last(), closeEvent(1000));
    // -v: the handshake's head on stderr, the token redacted.
    QVERIFY2(run.err.startsWith("> GET " + peer(u"/auth"_s).toUtf8() + '\n'), run.err.constData());
    QVERIFY2(run.err.contains("> Authorization: Bearer <redacted>\n"), run.err.constData());
    QVERIFY2(!run.err.contains("secret"), run.err.constData());
}

// A refused handshake is an error whose code is the HTTP status; nothing was open, so there is
// no close line. Without --report the error goes to stderr and stdout stays empty.
void TestCliWs::refusedHandshake()
{
    const CliRun run = runReqivo(
        {u"ws"_s, u"--report"_s, u"jsonl"_s, u"--bearer"_s, u"wrong"_s, peer(u"/auth"_s)});
    QCOMPARE(run.exitCode, 1);
    QCOMPARE(events(run), QStringList {u"error"_s});
    QCOMPARE(run.objects().at(0).value("type"_L1).toString(), u"WebSocketError"_s);
    QCOMPARE(run.objects().at(0).value("code"_L1).toInt(), 401);

    const CliRun plain = runReqivo({u"ws"_s, peer(u"/status?code=503"_s)});
    QCOMPARE(plain.exitCode, 1);
    QVERIFY(plain.out.isEmpty());
    QVERIFY2(plain.err.startsWith("reqivo ws: WebSocketError: "), plain.err.constData());
}

void TestCliWs::wss_data()
{
    QTest::addColumn<QStringList>("tls");
    QTest::addColumn<bool>("opens");
    QTest::newRow("--cacert") << QStringList {u"--cacert"_s, u"ca.pem"_s} << true;
    QTest::newRow("--insecure") << QStringList {u"--insecure"_s} << true;
    QTest::newRow("untrusted") << QStringList() << false;
    QTest::newRow("--cacert of another CA")
        << QStringList {u"--cacert"_s, u"other-ca.pem"_s} << false;
}

// wss:// against the QWebSocketServer in secure mode, with certificates made at test time.
void TestCliWs::wss()
{
    QFETCH(QStringList, tls);
    QFETCH(bool, opens);
    TestServer server;
    server.ssl = serverTls();
    QVERIFY(server.listen());
    QCOMPARE(server.url().scheme(), u"wss"_s);
    for (QString &argument : tls) {
        if (argument.endsWith(u".pem"_s))
            argument = cert(argument);
    }
    const CliRun run = runReqivo(QStringList {u"ws"_s, u"--report"_s, u"jsonl"_s} + tls
        + QStringList {u"--send"_s, u"secure"_s, u"--wait"_s, u"0"_s, server.url().toString()});
    if (!opens) {
        QCOMPARE(run.exitCode, 1);
        QCOMPARE(events(run), QStringList {u"error"_s});
        QVERIFY2(run.objects().at(0).value("message"_L1).toString().contains(u"TLS"_s),
            run.out.constData());
        QCOMPARE(server.connections, 0);
        return;
    }
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(events(run), (QStringList {u"open"_s, u"message"_s, u"close"_s}));
    QCOMPARE(run.objects().at(1).value("data"_L1).toString(), u"secure"_s);
}

void TestCliWs::proxyFromTheEnvironment_data()
{
    QTest::addColumn<QStringList>("variables");
    QTest::addColumn<bool>("proxied");
    QTest::newRow("http_proxy") << QStringList {u"http_proxy"_s} << true;
    QTest::newRow("all_proxy") << QStringList {u"all_proxy"_s} << true;
    QTest::newRow("https_proxy is for wss") << QStringList {u"https_proxy"_s} << false;
    QTest::newRow("no_proxy") << QStringList {u"http_proxy"_s, u"no_proxy=127.0.0.1"_s} << false;
}

// ws:// reads the environment's proxy as an http:// URL does, through a CONNECT tunnel.
void TestCliWs::proxyFromTheEnvironment()
{
    QFETCH(QStringList, variables);
    QFETCH(bool, proxied);
    TestServer server;
    QVERIFY(server.listen());
    HttpConnectProxy proxy;
    QVERIFY(proxy.listen());
    QProcessEnvironment extra;
    for (const QString &variable : variables) {
        const qsizetype eq = variable.indexOf(u'=');
        if (eq < 0)
            extra.insert(variable, u"http://127.0.0.1:%1"_s.arg(proxy.port()));
        else
            extra.insert(variable.left(eq), variable.mid(eq + 1));
    }
    const CliRun run
        = runReqivo({u"ws"_s, u"--send"_s, u"via"_s, u"--wait"_s, u"0"_s, server.url().toString()},
            {}, patience, extra);
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.out, QByteArray("via\n"));
    QCOMPARE(proxy.targets,
        proxied ? QStringList {u"127.0.0.1:%1"_s.arg(server.port())} : QStringList());
    QCOMPARE(server.connections, 1);
}

void TestCliWs::closeFromTheServer_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<int>("exitCode");
    QTest::newRow("1000") << 1000 << 0;
    QTest::newRow("4001, an application's code") << 4001 << 0;
    QTest::newRow("1011, an error") << 1011 << 1;
}

// /close closes with the code and reason asked for after the first message; the wait is long,
// so the server's close is what ends the command.
void TestCliWs::closeFromTheServer()
{
    QFETCH(int, code);
    QFETCH(int, exitCode);
    const CliRun run = runReqivo({u"ws"_s, u"--report"_s, u"jsonl"_s, u"--send"_s, u"x"_s,
        u"--wait"_s, u"600"_s, peer(u"/close?code=%1&reason=bye+now"_s.arg(code))});
    QVERIFY2(run.exitCode == exitCode, run.err.constData());
    const QList<QJsonObject> lines = run.objects();
    QVERIFY(lines.size() >= 2);
    QCOMPARE(lines.at(1), closeEvent(code, u"bye now"_s));
    if (exitCode == 0) {
        QCOMPARE(lines.size(), qsizetype(2));
    } else {
        QCOMPARE(events(run), (QStringList {u"open"_s, u"close"_s, u"error"_s}));
        QCOMPARE(lines.at(2).value("code"_L1).toInt(), code);
    }
}

void TestCliWs::help()
{
    const CliRun ws = runReqivo({u"ws"_s, u"--help"_s});
    QCOMPARE(ws.exitCode, 0);
    QVERIFY(ws.out.startsWith("Usage: reqivo ws [options] URL\n"));
    for (const char *option : {"--send", "--wait", "--subprotocol", "--reconnect",
             "--max-reconnects", "--heartbeat", "--max-message-bytes", "--report jsonl"})
        QVERIFY2(ws.out.contains(option), option);
    const CliRun main = runReqivo({u"--help"_s});
    QCOMPARE(main.exitCode, 0);
    QVERIFY(main.out.contains("reqivo ws [options] URL"));
}

void TestCliWs::badUsage_data()
{
    QTest::addColumn<QStringList>("arguments");
    const QString u = u"ws://127.0.0.1:1/"_s;
    QTest::newRow("no URL") << QStringList();
    QTest::newRow("two URLs") << QStringList {u, u};
    QTest::newRow("ftp URL") << QStringList {u"ftp://127.0.0.1/"_s};
    QTest::newRow("bad URL") << QStringList {u"ws://[::1/"_s};
    QTest::newRow("--send without text") << QStringList {u, u"--send"_s};
    QTest::newRow("--wait x") << QStringList {u"--wait"_s, u"x"_s, u};
    QTest::newRow("--wait -1") << QStringList {u"--wait"_s, u"-1"_s, u};
    QTest::newRow("--max-reconnects -1") << QStringList {u"--max-reconnects"_s, u"-1"_s, u};
    QTest::newRow("--heartbeat 0") << QStringList {u"--heartbeat"_s, u"0"_s, u};
    QTest::newRow("--max-message-bytes 0") << QStringList {u"--max-message-bytes"_s, u"0"_s, u};
    QTest::newRow("--subprotocol 'a b'") << QStringList {u"--subprotocol"_s, u"a b"_s, u};
    QTest::newRow("--subprotocol twice")
        << QStringList {u"--subprotocol"_s, u"a"_s, u"--subprotocol"_s, u"a"_s, u};
    QTest::newRow("--connect-timeout x") << QStringList {u"--connect-timeout"_s, u"x"_s, u};
    QTest::newRow("-X") << QStringList {u"-X"_s, u"POST"_s, u};
    QTest::newRow("-d") << QStringList {u"-d"_s, u"x"_s, u};
    QTest::newRow("-F") << QStringList {u"-F"_s, u"a=b"_s, u};
    QTest::newRow("-o") << QStringList {u"-o"_s, u"x"_s, u};
    QTest::newRow("--sync") << QStringList {u"--sync"_s, u};
    QTest::newRow("--retry") << QStringList {u"--retry"_s, u"1"_s, u};
    QTest::newRow("--timeout") << QStringList {u"--timeout"_s, u"1"_s, u};
    QTest::newRow("--http2") << QStringList {u"--http2"_s, u};
    QTest::newRow("-H Sec-WebSocket-Protocol")
        << QStringList {u"-H"_s, u"Sec-WebSocket-Protocol: x"_s, u};
    QTest::newRow("-H Upgrade") << QStringList {u"-H"_s, u"Upgrade: h2c"_s, u};
    QTest::newRow("-H without colon") << QStringList {u"-H"_s, u"nocolon"_s, u};
    QTest::newRow("--report xml") << QStringList {u"--report"_s, u"xml"_s, u};
    QTest::newRow("unknown option") << QStringList {u"--frobnicate"_s, u};
}

void TestCliWs::badUsage()
{
    QFETCH(QStringList, arguments);
    const CliRun run = runReqivo(QStringList {u"ws"_s} + arguments);
    QVERIFY(run.finished);
    QCOMPARE(run.exitCode, 2);
    QVERIFY(run.out.isEmpty());
    QVERIFY2(run.err.startsWith("reqivo ws: "), run.err.constData());
    QVERIFY2(run.err.contains("reqivo ws --help"), run.err.constData());
}

QTEST_GUILESS_MAIN(TestCliWs)
#include "tst_cli_ws.moc"
