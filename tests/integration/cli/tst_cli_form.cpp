// reqivo -F: multipart/form-data fields as curl spells them. Against a scripted server, the exact
// bytes (no Content-Type on text fields, QMimeDatabase's or ;type='s on files, names as raw UTF-8
// with '"', CR and LF escaped, never filename*=) and bad usage (a missing file, -F with -d, a
// malformed field: exit 2, nothing sent); against httpbin, what a real multipart parser makes of
// it; and a 1 GiB upload to tests/support/peers/multipartsink.py, which hashes the file part as
// it streams in: the sha256 matches and the command's peak RSS stays under 64 MiB (peak RSS of
// the child from getrusage(RUSAGE_CHILDREN), checked in builds without AddressSanitizer, whose
// shadow memory breaks any RSS bound; the transfer and its hash are checked in every build).
#include "clirunner.h"
#include "scriptserver.h"

#include "support/peers.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <sys/resource.h>

using namespace Qt::StringLiterals;
using ReqivoTest::ScriptServer;
using Run = ReqivoTest::CliRun;

#if defined(__SANITIZE_ADDRESS__)
#define REQIVO_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REQIVO_TEST_ASAN 1
#endif
#endif

namespace {

#ifdef REQIVO_TEST_ASAN
constexpr bool underAsan = true;
#else
constexpr bool underAsan = false;
#endif

qint64 childrenPeakRss()
{
    rusage usage {};
    if (getrusage(RUSAGE_CHILDREN, &usage) != 0)
        qFatal("getrusage failed");
    return qint64(usage.ru_maxrss) * 1024; // Linux: KiB
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

// The boundary of a multipart/form-data Content-Type.
QByteArray boundaryOf(const QByteArray &contentType)
{
    const QByteArray prefix = "multipart/form-data; boundary=";
    return contentType.startsWith(prefix) ? contentType.mid(prefix.size()) : QByteArray();
}

} // namespace

class TestCliForm : public QObject
{
    Q_OBJECT

private:
    ScriptServer m_server;
    QTemporaryDir m_dir;

    QString url(const char *path) const { return QString::fromLatin1(m_server.baseUrl() + path); }
    QString file(const QString &name, const QByteArray &bytes)
    {
        const QString path = m_dir.filePath(name);
        if (!writeFile(path, bytes))
            qFatal("cannot write %s", qPrintable(path));
        return path;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(QFile::exists(QStringLiteral(REQIVO_BINARY)));
        QVERIFY(m_server.listen());
        m_server.script("/form", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }

    // Text fields and files, exactly as sent: POST, Content-Length, the parts in order.
    void exactBytes()
    {
        const QString notes = file(u"notes.txt"_s, "plain\n");
        const QString utf8 = file(u"r\u00e9sum\u00e9.bin"_s, QByteArray("\0\1\2", 3));
        const qsizetype before = m_server.requests().size();
        const Run run = ReqivoTest::runReqivo({u"-F"_s, u"title=Gr\u00fc\u00dfe & more"_s, u"-F"_s,
            u"doc=@"_s + notes, u"-F"_s, u"cv=@"_s + utf8, u"-F"_s, u"empty="_s, url("/form")});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.out, QByteArray("ok"));
        QCOMPARE(m_server.requests().size(), before + 1);
        const ScriptServer::Request &r = m_server.requests().last();
        QCOMPARE(r.method, QByteArray("POST"));
        const QByteArray b = boundaryOf(r.field("content-type"));
        QVERIFY2(!b.isEmpty(), r.field("content-type").constData());
        const QByteArray expected = "--" + b
            + "\r\n"
              "Content-Disposition: form-data; name=\"title\"\r\n\r\n"
              "Gr\xc3\xbc\xc3\x9f"
              "e & more\r\n"
              "--"
            + b
            + "\r\n"
              "Content-Disposition: form-data; name=\"doc\"; filename=\"notes.txt\"\r\n"
              "Content-Type: text/plain\r\n\r\n"
              "plain\n\r\n"
              "--"
            + b
            + "\r\n"
              "Content-Disposition: form-data; name=\"cv\"; "
              "filename=\"r\xc3\xa9sum\xc3\xa9.bin\"\r\n"
              "Content-Type: application/octet-stream\r\n\r\n"
            + QByteArray("\0\1\2", 3)
            + "\r\n"
              "--"
            + b
            + "\r\n"
              "Content-Disposition: form-data; name=\"empty\"\r\n\r\n"
              "\r\n"
              "--"
            + b + "--\r\n";
        QCOMPARE(r.body, expected);
        QCOMPARE(r.field("content-length"), QByteArray::number(expected.size()));
        QVERIFY(!r.body.contains("filename*"));
    }

    // ;type= and ;filename= (quoted, with '"', CR and LF escaped as browsers do); -X wins.
    void typeAndFileName()
    {
        const QString picture = file(u"picture.png"_s, QByteArray("\x89PNG\r\n\x1a\n", 8));
        const QString data = file(u"data.bin"_s, "x");
        const qsizetype before = m_server.requests().size();
        const Run run = ReqivoTest::runReqivo({u"-X"_s, u"PUT"_s, u"-F"_s, u"p=@"_s + picture,
            u"-F"_s, u"d=@%1;type=application/x-thing;filename=\"a\\\"b\r\nc.txt\""_s.arg(data),
            u"-F"_s, u"na\"me=v"_s, url("/form")});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(m_server.requests().size(), before + 1);
        const ScriptServer::Request &r = m_server.requests().last();
        QCOMPARE(r.method, QByteArray("PUT"));
        QVERIFY2(r.body.contains("name=\"p\"; filename=\"picture.png\"\r\n"
                                 "Content-Type: image/png\r\n\r\n"),
            r.body.constData());
        QVERIFY(r.body.contains("name=\"d\"; filename=\"a%22b%0D%0Ac.txt\"\r\n"
                                "Content-Type: application/x-thing\r\n\r\nx\r\n"));
        QVERIFY(r.body.contains("Content-Disposition: form-data; name=\"na%22me\"\r\n\r\nv\r\n"));
    }

    // Bad usage: exit 2 with the reason (the file named), and nothing sent.
    void badUsage_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        const QString missing = QDir::tempPath() + u"/reqivo-no-such-upload.bin"_s;
        QTest::newRow("missing file")
            << QStringList {u"-F"_s, u"f=@"_s + missing} << u"cannot read "_s + missing;
        QTest::newRow("a directory") << QStringList {u"-F"_s, u"f=@"_s + QDir::tempPath()}
                                     << u"cannot read "_s + QDir::tempPath();
        QTest::newRow("-F with -d")
            << QStringList {u"-F"_s, u"a=b"_s, u"-d"_s, u"x"_s} << u"-F cannot be used with -d"_s;
        QTest::newRow("-F with --json") << QStringList {u"-F"_s, u"a=b"_s, u"--json"_s, u"{}"_s}
                                        << u"-F cannot be used with -d or --json"_s;
        QTest::newRow("-F with -C -")
                << QStringList {u"-F"_s, u"a=b"_s, u"-C"_s, u"-"_s, u"-o"_s,
                                QDir::tempPath() + u"/reqivo-form-resume.out"_s}
                << u"-C - downloads with GET"_s;
        QTest::newRow("no '='") << QStringList {u"-F"_s, u"novalue"_s} << u"bad -F 'novalue'"_s;
        QTest::newRow("no name") << QStringList {u"-F"_s, u"=v"_s} << u"bad -F '=v'"_s;
        QTest::newRow("unknown parameter")
            << QStringList {u"-F"_s, u"f=@/etc/hostname;size=3"_s} << u"unknown parameter 'size'"_s;
        QTest::newRow("unterminated quote")
            << QStringList {u"-F"_s, u"f=@\"/etc/hostname"_s} << u"bad -F"_s;
    }

    void badUsage()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const qsizetype before = m_server.requests().size();
        const Run run = ReqivoTest::runReqivo(arguments << url("/form"));
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(QString::fromUtf8(run.err).contains(message), run.err.constData());
        QVERIFY(run.out.isEmpty());
        QCOMPARE(m_server.requests().size(), before);
    }

    // httpbin (a real multipart parser) reads the fields and the file back.
    void httpbin()
    {
        const QHash<QString, QString> env = ReqivoTest::loadPeerEnv(u"httpbin"_s);
        const QString target = ReqivoTest::peerValue(env, u"HTTPBIN_URL"_s) + u"/post"_s;
        const QString notes = file(u"httpbin.txt"_s, "line one\nline two\n");
        const Run run = ReqivoTest::runReqivo(
            {u"-F"_s, u"who=\u00e9t\u00e9"_s, u"-F"_s, u"upload=@"_s + notes, target});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject echo = QJsonDocument::fromJson(run.out).object();
        QCOMPARE(echo.value(u"form"_s).toObject().value(u"who"_s).toString(), u"\u00e9t\u00e9"_s);
        QCOMPARE(echo.value(u"files"_s).toObject().value(u"upload"_s).toString(),
            u"line one\nline two\n"_s);
        QVERIFY(echo.value(u"headers"_s)
                    .toObject()
                    .value(u"Content-Type"_s)
                    .toString()
                    .startsWith(u"multipart/form-data; boundary="_s));
    }

    // 1 GiB through -F: the server's sha256 of the file part is the file's, and the command
    // never held more than 64 MiB.
    void oneGibibyte()
    {
        constexpr qint64 size = qint64(1) << 30;
        const QString path = m_dir.filePath(u"big.bin"_s);
        QByteArray fileHash;
        {
            // Sparse, with real data at scattered offsets (and at both ends).
            QFile big(path);
            QVERIFY(big.open(QIODevice::ReadWrite | QIODevice::Truncate));
            QVERIFY(big.resize(size));
            QRandomGenerator random(15);
            QByteArray block(64 * 1024, Qt::Uninitialized);
            const QList<qint64> offsets {
                0, 12345, 1 << 20, 300000017, 512 * 1024 * 1024 + 3, size - qint64(block.size())};
            for (const qint64 offset : offsets) {
                random.fillRange(
                    reinterpret_cast<quint32 *>(block.data()), block.size() / int(sizeof(quint32)));
                QVERIFY(big.seek(offset));
                QCOMPARE(big.write(block), qint64(block.size()));
            }
            QVERIFY(big.flush());
            QVERIFY(big.seek(0));
            QCryptographicHash hash(QCryptographicHash::Sha256);
            QVERIFY(hash.addData(&big));
            fileHash = hash.result().toHex();
        }
        const auto removeBig = qScopeGuard([&path] { QFile::remove(path); });

        QProcess sink;
        sink.setProgram(u"/usr/bin/python3"_s);
        sink.setArguments({QStringLiteral(REQIVO_MULTIPART_SINK)});
        sink.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        sink.start();
        QVERIFY(sink.waitForStarted());
        while (!sink.canReadLine())
            QVERIFY2(sink.waitForReadyRead(30000), "multipartsink.py did not start");
        const QByteArray line = sink.readLine().trimmed();
        QVERIFY2(line.startsWith("PORT "), line.constData());
        const QString target
            = u"http://127.0.0.1:%1/upload"_s.arg(QString::fromLatin1(line.mid(5)));
        const auto stopSink = qScopeGuard([&sink] {
            sink.closeWriteChannel();
            if (!sink.waitForFinished(10000))
                sink.kill();
            sink.waitForFinished();
        });

        const Run run = ReqivoTest::runReqivo(
            {u"-F"_s, u"kind=big"_s, u"-F"_s, u"file=@"_s + path, target}, {}, 240000);
        const qint64 peak = childrenPeakRss(); // before the sink ends: only reqivo's runs so far
        QVERIFY2(run.finished, run.err.constData());
        QCOMPARE(run.exitCode, 0);
        const QJsonObject echo = QJsonDocument::fromJson(run.out).object();
        QVERIFY2(!echo.isEmpty(), run.out.constData());
        QCOMPARE(echo.value(u"chunked"_s).toBool(), false);
        const QJsonArray parts = echo.value(u"parts"_s).toArray();
        QCOMPARE(parts.size(), 2);
        const QJsonObject part = parts.at(1).toObject();
        QCOMPARE(part.value(u"name"_s).toString(), u"file"_s);
        QCOMPARE(part.value(u"filename"_s).toString(), u"big.bin"_s);
        QCOMPARE(qint64(part.value(u"size"_s).toDouble()), size);
        QCOMPARE(part.value(u"sha256"_s).toString().toLatin1(), fileHash);
        if (!underAsan)
            QVERIFY2(peak < 64 * 1024 * 1024,
                qPrintable(u"peak RSS %1 MiB"_s.arg(peak / (1024 * 1024))));
    }
};

QTEST_GUILESS_MAIN(TestCliForm)
#include "tst_cli_form.moc"
