// reqivo -C - -o FILE, as the issue specifies it, run as a process against a scripted range
// server (tests/integration/download/rangeserver.h) and nginx: side files while incomplete, a
// rerun resumes with Range and If-Range, a foreign partial FILE is resumed from its size
// without If-Range, 200 restarts, 416 complete is success with FILE unchanged, a mismatched
// Content-Range is an error with the data intact; the report's status is the last response's
// and bodyLength the bytes received in this run.
#include "clirunner.h"

#include "integration/download/rangeserver.h"
#include "support/peers.h"

#include <QCryptographicHash>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/resource.h>

// AddressSanitizer's shadow memory makes RSS meaningless: its builds run the transfer and the
// checksum, and leave the bound to the others.
#if defined(__SANITIZE_ADDRESS__)
#define REQIVO_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REQIVO_TEST_ASAN 1
#endif
#endif

using namespace Qt::StringLiterals;
using DownloadTest::fileSha256;
using DownloadTest::patternBytes;
using DownloadTest::RangeServer;
using DownloadTest::readFile;
using DownloadTest::writeFile;
using ReqivoTest::runReqivo;

namespace {
constexpr qint64 contentSize = 300 * 1000;

//! The largest peak RSS of the children waited for so far, in bytes.
qint64 childrenPeakRss()
{
    rusage usage {};
    if (getrusage(RUSAGE_CHILDREN, &usage) != 0)
        qFatal("getrusage failed");
    return qint64(usage.ru_maxrss) * 1024; // Linux: KiB
}

//! SHA-256 of \a path's first \a length bytes (all of it when -1).
QByteArray sha256(const QString &path, qint64 length = -1)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash h(QCryptographicHash::Sha256);
    qint64 left = length < 0 ? f.size() : length;
    while (left > 0) {
        const QByteArray piece = f.read(std::min<qint64>(left, 1 << 20));
        if (piece.isEmpty())
            break;
        h.addData(piece);
        left -= piece.size();
    }
    return h.result().toHex();
}
} // namespace

class TestCliResume : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void interruptedRunLeavesSideFilesAndRerunResumes();
    void rerunWithSyncResumesToo();
    void foreignPartialFileIsResumedWithoutIfRange();
    void serverIgnoringRangeRestartsFromZero();
    void completeFileAnswered416IsUnchanged();
    void mismatchedContentRangeIsAnErrorWithDataIntact();
    void badUsageSendsNothing_data();
    void badUsageSendsNothing();
    void nginxForeignPartialFile();
    void largeResumedDownloadStaysSmallInMemory();
};

void TestCliResume::interruptedRunLeavesSideFilesAndRerunResumes()
{
    QTemporaryDir dir;
    RangeServer server(patternBytes(contentSize));
    server.cutAfter = {123456};
    const QString file = dir.filePath(u"out.bin"_s);
    const QString url = server.url().toString();
    const ReqivoTest::CliRun first
        = runReqivo({u"-C"_s, u"-"_s, u"-o"_s, file, u"--report"_s, u"jsonl"_s, url});
    QVERIFY(first.finished);
    QCOMPARE(first.exitCode, 1);
    QCOMPARE(first.objects().value(0).value(u"ok"_s).toBool(true), false);
    QVERIFY(!QFileInfo::exists(file));
    QVERIFY(readFile(file + u".part"_s) == server.content.left(123456));
    QVERIFY(readFile(file + u".part.meta"_s).contains("etag: \"v1\""));

    const ReqivoTest::CliRun second
        = runReqivo({u"-C"_s, u"-"_s, u"-o"_s, file, u"--report"_s, u"jsonl"_s, url});
    QCOMPARE(second.exitCode, 0);
    const QJsonObject report = second.objects().value(0);
    QCOMPARE(report.value(u"status"_s).toInt(), 206);
    QCOMPARE(report.value(u"bodyLength"_s).toInteger(), contentSize - 123456);
    QVERIFY(readFile(file) == server.content);
    QVERIFY(!QFileInfo::exists(file + u".part"_s));
    QVERIFY(!QFileInfo::exists(file + u".part.meta"_s));
    QCOMPARE(server.requests().last().field("range"), QByteArray("bytes=123456-"));
    QCOMPARE(server.requests().last().field("if-range"), QByteArray("\"v1\""));
}

void TestCliResume::rerunWithSyncResumesToo()
{
    QTemporaryDir dir;
    RangeServer server(patternBytes(contentSize));
    server.cutAfter = {1000};
    const QString file = dir.filePath(u"out.bin"_s);
    const QString url = server.url().toString();
    QCOMPARE(runReqivo({u"--sync"_s, u"-C"_s, u"-"_s, u"-o"_s, file, url}).exitCode, 1);
    const ReqivoTest::CliRun second
        = runReqivo({u"--sync"_s, u"-C"_s, u"-"_s, u"-o"_s, file, u"--report"_s, u"jsonl"_s, url});
    QCOMPARE(second.exitCode, 0);
    QCOMPARE(second.objects().value(0).value(u"status"_s).toInt(), 206);
    QCOMPARE(second.objects().value(0).value(u"bodyLength"_s).toInteger(), contentSize - 1000);
    QVERIFY(readFile(file) == server.content);
}

void TestCliResume::foreignPartialFileIsResumedWithoutIfRange()
{
    QTemporaryDir dir;
    RangeServer server(patternBytes(contentSize));
    const QString file = dir.filePath(u"out.bin"_s);
    QVERIFY(writeFile(file, server.content.left(777)));
    const ReqivoTest::CliRun run = runReqivo(
        {u"-C"_s, u"-"_s, u"-o"_s, file, u"--report"_s, u"jsonl"_s, server.url().toString()});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.objects().value(0).value(u"status"_s).toInt(), 206);
    QCOMPARE(run.objects().value(0).value(u"bodyLength"_s).toInteger(), contentSize - 777);
    QVERIFY(readFile(file) == server.content);
    QCOMPARE(server.requests().last().field("range"), QByteArray("bytes=777-"));
    QVERIFY(!server.requests().last().hasField("if-range"));
}

void TestCliResume::serverIgnoringRangeRestartsFromZero()
{
    QTemporaryDir dir;
    RangeServer server(patternBytes(contentSize));
    server.honourRange = false;
    const QString file = dir.filePath(u"out.bin"_s);
    QVERIFY(writeFile(file, QByteArray(5000, 'z'))); // not even the right bytes
    const ReqivoTest::CliRun run = runReqivo(
        {u"-C"_s, u"-"_s, u"-o"_s, file, u"--report"_s, u"jsonl"_s, server.url().toString()});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.objects().value(0).value(u"status"_s).toInt(), 200);
    QCOMPARE(run.objects().value(0).value(u"bodyLength"_s).toInteger(), contentSize);
    QVERIFY(readFile(file) == server.content);
}

void TestCliResume::completeFileAnswered416IsUnchanged()
{
    QTemporaryDir dir;
    RangeServer server(patternBytes(contentSize));
    const QString file = dir.filePath(u"out.bin"_s);
    QVERIFY(writeFile(file, server.content));
    const QDateTime before = QFileInfo(file).lastModified();
    const ReqivoTest::CliRun run = runReqivo(
        {u"-C"_s, u"-"_s, u"-o"_s, file, u"--report"_s, u"jsonl"_s, server.url().toString()});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.objects().value(0).value(u"status"_s).toInt(), 416);
    QCOMPARE(run.objects().value(0).value(u"bodyLength"_s).toInteger(), 0);
    QVERIFY(readFile(file) == server.content);
    QCOMPARE(QFileInfo(file).lastModified(), before);
    QVERIFY(!QFileInfo::exists(file + u".part"_s));
}

void TestCliResume::mismatchedContentRangeIsAnErrorWithDataIntact()
{
    QTemporaryDir dir;
    RangeServer server(patternBytes(contentSize));
    server.cutAfter = {20000};
    const QString file = dir.filePath(u"out.bin"_s);
    const QString url = server.url().toString();
    QCOMPARE(runReqivo({u"-C"_s, u"-"_s, u"-o"_s, file, url}).exitCode, 1);
    server.contentRangeShift = -1;
    const ReqivoTest::CliRun run
        = runReqivo({u"-C"_s, u"-"_s, u"-o"_s, file, u"--report"_s, u"jsonl"_s, url});
    QCOMPARE(run.exitCode, 1);
    const QJsonObject error = run.objects().value(0).value(u"error"_s).toObject();
    QCOMPARE(error.value(u"type"_s).toString(), u"InvalidResponseError"_s);
    QVERIFY(!QFileInfo::exists(file));
    QVERIFY(readFile(file + u".part"_s) == server.content.left(20000));
    // Without --report the error goes to stderr.
    const ReqivoTest::CliRun plain = runReqivo({u"-C"_s, u"-"_s, u"-o"_s, file, url});
    QCOMPARE(plain.exitCode, 1);
    QVERIFY2(plain.err.contains("InvalidResponseError"), plain.err.constData());
    QVERIFY(readFile(file + u".part"_s) == server.content.left(20000));
}

void TestCliResume::badUsageSendsNothing_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArray>("message");
    QTest::newRow("no -o") << QStringList {u"-C"_s, u"-"_s} << QByteArray("needs -o FILE");
    QTest::newRow("offset") << QStringList {u"-C"_s, u"100"_s, u"-o"_s, u"{FILE}"_s}
                            << QByteArray("only '-C -'");
    QTest::newRow("stdout") << QStringList {u"-C"_s, u"-"_s, u"-o"_s, u"-"_s}
                            << QByteArray("cannot continue stdout");
    QTest::newRow("body") << QStringList {u"-C"_s, u"-"_s, u"-o"_s, u"{FILE}"_s, u"-d"_s, u"x"_s}
                          << QByteArray("GET");
}

void TestCliResume::badUsageSendsNothing()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArray, message);
    QTemporaryDir dir;
    RangeServer server(patternBytes(100));
    arguments.replaceInStrings(u"{FILE}"_s, dir.filePath(u"out.bin"_s));
    arguments.append(server.url().toString());
    const ReqivoTest::CliRun run = runReqivo(arguments);
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains(message), run.err.constData());
    QCOMPARE(server.requests().size(), 0);
    QVERIFY(!QFileInfo::exists(dir.filePath(u"out.bin"_s)));
}

void TestCliResume::nginxForeignPartialFile()
{
    const QHash<QString, QString> nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
    const QUrl url = ReqivoTest::peerUrl(nginx, u"NGINX_HTTP_URL"_s, u"/large.bin"_s);
    const QString source = ReqivoTest::peerValue(nginx, u"NGINX_DOCROOT"_s) + u"/large.bin"_s;
    const qint64 size = QFileInfo(source).size();
    QTemporaryDir dir;
    const QString file = dir.filePath(u"large.bin"_s);
    QVERIFY(writeFile(file, readFile(source).left(2 << 20)));
    const ReqivoTest::CliRun run
        = runReqivo({u"-C"_s, u"-"_s, u"-o"_s, file, u"--report"_s, u"jsonl"_s, url.toString()});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.objects().value(0).value(u"status"_s).toInt(), 206);
    QCOMPARE(run.objects().value(0).value(u"bodyLength"_s).toInteger(), size - (2 << 20));
    QCOMPARE(fileSha256(file), fileSha256(source));
    // Complete now: the next run is a 416 and leaves it as it is.
    const ReqivoTest::CliRun again
        = runReqivo({u"-C"_s, u"-"_s, u"-o"_s, file, u"--report"_s, u"jsonl"_s, url.toString()});
    QCOMPARE(again.exitCode, 0);
    QCOMPARE(again.objects().value(0).value(u"status"_s).toInt(), 416);
    QCOMPARE(again.objects().value(0).value(u"bodyLength"_s).toInteger(), 0);
    QCOMPARE(fileSha256(file), fileSha256(source));
}

void TestCliResume::largeResumedDownloadStaysSmallInMemory()
{
    // A 512 MiB sparse file in nginx's docroot, with real data at scattered offsets; the first
    // 100 MiB of it already in FILE, as another tool left it; the rest is resumed.
    const QHash<QString, QString> nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
    const QString name = u"resume-%1.bin"_s.arg(QCoreApplication::applicationPid());
    const QString source = ReqivoTest::peerValue(nginx, u"NGINX_DOCROOT"_s) + u'/' + name;
    const auto removeSource = qScopeGuard([&source] { QFile::remove(source); });
    constexpr qint64 size = qint64(512) << 20;
    constexpr qint64 prefix = qint64(100) << 20;
    {
        QFile f(source);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        QVERIFY(f.resize(size));
        for (qint64 at = 4093; at < size; at += qint64(37) << 20) {
            QVERIFY(f.seek(at));
            QVERIFY(f.write(patternBytes(64 * 1024, int(at % 1000))) == 64 * 1024);
        }
        QVERIFY(f.seek(size - 10));
        QVERIFY(f.write("0123456789") == 10);
        f.setPermissions(f.permissions() | QFileDevice::ReadOther);
    }
    QTemporaryDir dir;
    const QString file = dir.filePath(u"large.bin"_s);
    {
        QFile in(source);
        QFile out(file);
        QVERIFY(in.open(QIODevice::ReadOnly) && out.open(QIODevice::WriteOnly));
        for (qint64 done = 0; done < prefix; done += 1 << 20)
            QVERIFY(out.write(in.read(1 << 20)) == 1 << 20);
    }
    const QUrl url = ReqivoTest::peerUrl(nginx, u"NGINX_HTTP_URL"_s, u"/"_s + name);
    const ReqivoTest::CliRun run = runReqivo(
        {u"-C"_s, u"-"_s, u"-o"_s, file, u"--report"_s, u"jsonl"_s, url.toString()}, {}, 240000);
    QVERIFY2(run.finished, run.err.constData());
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.objects().value(0).value(u"status"_s).toInt(), 206);
    QCOMPARE(run.objects().value(0).value(u"bodyLength"_s).toInteger(), size - prefix);
    QCOMPARE(QFileInfo(file).size(), size);
    QCOMPARE(sha256(file), sha256(source));
    const qint64 peak = childrenPeakRss();
    qInfo("peak RSS of the reqivo processes: %lld KiB", peak / 1024);
#ifndef REQIVO_TEST_ASAN
    QVERIFY2(peak < (qint64(64) << 20), qPrintable(u"peak RSS %1 KiB"_s.arg(peak / 1024)));
#endif
}

QTEST_GUILESS_MAIN(TestCliResume)
#include "tst_cli_resume.moc"
