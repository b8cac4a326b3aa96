// The reqivo command's compression, as the "CLI's exact behaviour" says it: the offer
// is exactly "gzip, deflate, br, zstd" (-v shows it), stacked codings are decoded in order (at
// most three), a corrupt body is an error object in --report jsonl, and a 1 GiB brotli bomb
// fails with the bomb error without taking the process past 128 MiB (peak RSS of the child,
// from getrusage(RUSAGE_CHILDREN); checked in builds without AddressSanitizer, whose shadow
// memory breaks any RSS bound, while the transfer and its error are checked in every build).
//
// nginx serves files compressed here at test time with the Content-Encoding the path names
// (/encoded/<coding>/, tests/support/peers/README.md). Every case runs through the async
// session, then again through --sync.
#include "clirunner.h"

#include "support/codingbodies.h"
#include "support/gzipbomb.h"
#include "support/peers.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <sys/resource.h>

using namespace Qt::StringLiterals;
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

QByteArray sampleText(qsizetype size)
{
    QByteArray text;
    QRandomGenerator random(1515);
    for (int line = 0; text.size() < size; ++line)
        text += "line " + QByteArray::number(line) + ": "
            + QByteArray::number(random.generate() % 1000000) + " decoded by the command\n";
    text.truncate(size);
    return text;
}

// The largest peak RSS of the children reaped so far, in bytes.
qint64 childrenPeakRss()
{
    rusage usage {};
    if (getrusage(RUSAGE_CHILDREN, &usage) != 0)
        qFatal("getrusage failed");
    return qint64(usage.ru_maxrss) * 1024; // Linux: KiB
}

} // namespace

class TestCliCompression : public QObject
{
    Q_OBJECT

private:
    QHash<QString, QString> m_nginx;
    QStringList m_written;
    QByteArray m_text = sampleText(200 * 1024);

    QString fileName(const QString &name) const
    {
        return u"cli-%1-%2"_s.arg(QCoreApplication::applicationPid()).arg(name);
    }
    QString url(const QString &coding, const QString &name) const
    {
        return ReqivoTest::peerValue(m_nginx, u"NGINX_HTTP_URL"_s) + u"/encoded/"_s + coding + u'/'
            + fileName(name);
    }
    void serve(const QString &coding, const QString &name, const QByteArray &body)
    {
        const QString dir
            = ReqivoTest::peerValue(m_nginx, u"NGINX_DOCROOT"_s) + u"/encoded/"_s + coding;
        QVERIFY(QDir().mkpath(dir));
        QFile file(dir + u'/' + fileName(name));
        QVERIFY2(file.open(QIODevice::WriteOnly), qPrintable(file.errorString()));
        QCOMPARE(file.write(body), body.size());
        QVERIFY(file.setPermissions(file.permissions() | QFile::ReadOther));
        m_written.append(file.fileName());
    }
    static void addModes()
    {
        QTest::addColumn<QStringList>("mode");
        QTest::newRow("async") << QStringList();
        QTest::newRow("sync") << QStringList {u"--sync"_s};
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
        const QByteArray gz = ReqivoTest::repeatedGzip(m_text, 1);
        serve(u"gzip,br"_s, u"text"_s, ReqivoTest::brotli(gz));
        serve(u"gzip,zstd,br"_s, u"text"_s, ReqivoTest::brotli(ReqivoTest::zstd(gz)));
        serve(u"zstd"_s, u"text"_s, ReqivoTest::zstd(m_text));
        serve(u"gzip,br,zstd,br"_s, u"text"_s,
            ReqivoTest::brotli(ReqivoTest::zstd(ReqivoTest::brotli(gz))));
        QByteArray corrupt = ReqivoTest::brotli(m_text);
        corrupt[corrupt.size() / 2] = char(corrupt.at(corrupt.size() / 2) ^ 0x5a);
        serve(u"br"_s, u"corrupt"_s, corrupt);
        // 1 GiB of zeros: a few hundred bytes on the wire.
        const QByteArray bomb = ReqivoTest::brotliRepeated(QByteArray(1024 * 1024, '\0'), 1024);
        QVERIFY2(bomb.size() < 4096, qPrintable(QString::number(bomb.size())));
        serve(u"br"_s, u"bomb"_s, bomb);
    }
    void cleanupTestCase()
    {
        for (const QString &path : std::as_const(m_written))
            QFile::remove(path);
    }

    void verboseShowsTheOffer_data() { addModes(); }
    void verboseShowsTheOffer()
    {
        QFETCH(QStringList, mode);
        const Run run
            = ReqivoTest::runReqivo(mode + QStringList {u"-v"_s, url(u"zstd"_s, u"text"_s)});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.err.contains("> Accept-Encoding: gzip, deflate, br, zstd\r\n")
                || run.err.contains("> Accept-Encoding: gzip, deflate, br, zstd\n"),
            run.err.constData());
        QVERIFY(run.out == m_text);

        // --no-compressed offers nothing.
        const Run plain = ReqivoTest::runReqivo(
            mode + QStringList {u"-v"_s, u"--no-compressed"_s, url(u"zstd"_s, u"text"_s)});
        QCOMPARE(plain.exitCode, 0);
        QVERIFY2(!plain.err.contains("Accept-Encoding"), plain.err.constData());
        QVERIFY(plain.out == ReqivoTest::zstd(m_text)); // written as it came
    }

    void stacksAreDecoded_data()
    {
        QTest::addColumn<QStringList>("mode");
        QTest::addColumn<QString>("coding");
        for (const QString &coding : {u"gzip,br"_s, u"gzip,zstd,br"_s}) {
            QTest::addRow("async, %s", qPrintable(coding)) << QStringList() << coding;
            QTest::addRow("sync, %s", qPrintable(coding)) << QStringList {u"--sync"_s} << coding;
        }
    }
    void stacksAreDecoded()
    {
        QFETCH(QStringList, mode);
        QFETCH(QString, coding);
        const Run run = ReqivoTest::runReqivo(
            mode + QStringList {u"--report"_s, u"jsonl"_s, url(coding, u"text"_s)});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = run.objects().value(0);
        QVERIFY2(!o.contains("error"_L1), run.out.constData());
        QVERIFY(
            o.value("headers"_L1).toArray().contains(QJsonArray {u"Content-Encoding"_s, coding}));
        QVERIFY(QByteArray::fromBase64(o.value("body"_L1).toString().toLatin1()) == m_text);
        QCOMPARE(o.value("bodyLength"_L1).toInt(), m_text.size());

        // Plain output: the decoded bytes on stdout.
        const Run plain = ReqivoTest::runReqivo(mode + QStringList {url(coding, u"text"_s)});
        QCOMPARE(plain.exitCode, 0);
        QVERIFY(plain.out == m_text);
    }

    void fourCodingsAreRefused_data() { addModes(); }
    void fourCodingsAreRefused()
    {
        QFETCH(QStringList, mode);
        const Run run = ReqivoTest::runReqivo(
            mode + QStringList {u"--report"_s, u"jsonl"_s, url(u"gzip,br,zstd,br"_s, u"text"_s)});
        QCOMPARE(run.exitCode, 1);
        const QJsonObject error = run.objects().value(0).value("error"_L1).toObject();
        QCOMPARE(error.value("type"_L1).toString(), u"InvalidResponseError"_s);
        QVERIFY2(
            error.value("message"_L1).toString().contains("4 codings"_L1), run.out.constData());
    }

    void corruptBodyIsAnErrorObject_data() { addModes(); }
    void corruptBodyIsAnErrorObject()
    {
        QFETCH(QStringList, mode);
        const Run run = ReqivoTest::runReqivo(
            mode + QStringList {u"--report"_s, u"jsonl"_s, url(u"br"_s, u"corrupt"_s)});
        QCOMPARE(run.exitCode, 1);
        QCOMPARE(run.lines().size(), 1);
        const QJsonObject error = run.objects().value(0).value("error"_L1).toObject();
        QCOMPARE(error.value("type"_L1).toString(), u"InvalidResponseError"_s);
        QVERIFY2(error.value("message"_L1).toString().contains("corrupt br body"_L1),
            run.out.constData());
    }

    void brotliBombStaysBounded_data() { addModes(); }
    void brotliBombStaysBounded()
    {
        QFETCH(QStringList, mode);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString out = dir.filePath(u"bomb.bin"_s);
        const Run run = ReqivoTest::runReqivo(
            mode + QStringList {u"--report"_s, u"jsonl"_s, u"-o"_s, out, url(u"br"_s, u"bomb"_s)},
            {}, 120000);
        QVERIFY(run.finished);
        QCOMPARE(run.exitCode, 1);
        const QJsonObject error = run.objects().value(0).value("error"_L1).toObject();
        QCOMPARE(error.value("type"_L1).toString(), u"InvalidResponseError"_s);
        QVERIFY2(error.value("message"_L1).toString().contains("decompression bomb"_L1),
            run.out.constData());
        // What reached the file stopped near the guard's threshold (10 MiB), far from 1 GiB.
        QVERIFY(QFileInfo(out).size() <= 11 * 1024 * 1024);

        const qint64 peak = childrenPeakRss();
        qInfo("peak RSS of the command so far: %lld KiB", peak / 1024);
        if (!underAsan)
            QVERIFY2(peak < 128 * 1024 * 1024, qPrintable(QString::number(peak)));
    }
};

QTEST_GUILESS_MAIN(TestCliCompression)
#include "tst_cli_compression.moc"
