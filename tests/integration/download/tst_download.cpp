// Resumable downloads (AsyncSession::download() and its other forms) against a scripted range
// server (rangeserver.h: interrupted bodies, Range ignored, lying Content-Range, changed ETag,
// 416) and nginx (real ETag, Last-Modified, Range and If-Range handling, HTTP/2).
#include "rangeserver.h"

#include "support/peers.h"
#include "support/qcorotest.h"

#include <Reqivo/AsyncReqivo>
#include <Reqivo/AsyncSession>
#include <Reqivo/Download>
#include <Reqivo/Reqivo>
#include <Reqivo/Session>

#include <QCoro/QCoroTimer>

#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using DownloadTest::fileSha256;
using DownloadTest::patternBytes;
using DownloadTest::RangeServer;
using DownloadTest::readFile;
using DownloadTest::writeFile;
using Reqivo::DownloadOptions;
using Reqivo::DownloadResult;

namespace {

struct DownloadOutcome
{
    DownloadResult result;
    Reqivo::Error error;
};

QCoro::Task<DownloadOutcome> attemptDownload(QCoro::Task<DownloadResult> task)
{
    DownloadOutcome o;
    try {
        o.result = co_await task;
    } catch (...) {
        o.error = Reqivo::Error::fromException(std::current_exception());
    }
    co_return o;
}

QString part(const QString &file)
{
    return file + u".part"_s;
}
QString meta(const QString &file)
{
    return file + u".part.meta"_s;
}

constexpr qint64 contentSize = 256 * 1024;

} // namespace

class TestDownload : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void freshDownloadWritesTheFileAndNoSideFiles();
    void interruptedDownloadKeepsItsSideFileAndResumes();
    void brokenBodyIsContinuedUnderTheRetryPolicy();
    void serverIgnoringRangeRestartsFromZero();
    void changedEtagRestartsFromZero();
    void completeSideFileAnswered416IsSuccess();
    void mismatchedContentRangeIsAnErrorAndKeepsTheData();
    void foreignPartialFileIsResumedWithoutIfRange();
    void foreignCompleteFileAnswered416IsUnchanged();
    void readTimeoutKeepsTheSideFile();
    void cancelWithOwnerEndsTheBodyToo();
    void errorStatusLeavesEverythingAsItWas();
    void unwritableFileIsAClearError();
    void downloadObjectPausesAndResumesAgainstNginx();
    void downloadObjectAbortRemovesTheSideFile();
    void callbackFormDeliversTheResult();
    void blockingSessionAndFacadesDownloadFromNginx();
    void nginxHonoursIfRangeAcrossRuns();
    void http2DownloadResumes();
};

// --- scripted server ----------------------------------------------------------------------------

void TestDownload::freshDownloadWritesTheFileAndNoSideFiles()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        Reqivo::AsyncSession session;
        const QString file = dir.filePath(u"file.bin"_s);
        QList<qint64> progress;
        const DownloadOutcome o = co_await attemptDownload(session.download(server.url(), file));
        CO_VERIFY2(!o.error, qPrintable(o.error.toString()));
        CO_COMPARE(o.result.status(), 200);
        CO_VERIFY(o.result.isComplete());
        CO_VERIFY(!o.result.resumed);
        CO_COMPARE(o.result.bytesReceived, contentSize);
        CO_COMPARE(o.result.totalSize, contentSize);
        CO_COMPARE(o.result.resumedFrom, qint64(0));
        CO_COMPARE(o.result.response.header("ETag"), QByteArray("\"v1\""));
        CO_VERIFY(o.result.response.body().isEmpty());
        CO_VERIFY(readFile(file) == server.content);
        CO_VERIFY(!QFileInfo::exists(part(file)));
        CO_VERIFY(!QFileInfo::exists(meta(file)));
        // Nothing asked for a range, and no content coding was offered.
        CO_VERIFY(!server.requests().value(0).hasField("range"));
        CO_VERIFY(!server.requests().value(0).hasField("accept-encoding"));
    }());
}

void TestDownload::interruptedDownloadKeepsItsSideFileAndResumes()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        server.cutAfter = {100000};
        Reqivo::AsyncSession session;
        const QString file = dir.filePath(u"file.bin"_s);
        const DownloadOutcome first
            = co_await attemptDownload(session.download(server.url(), file));
        CO_VERIFY2(
            first.error.isA(Reqivo::Error::Kind::Network), qPrintable(first.error.toString()));
        CO_VERIFY(!QFileInfo::exists(file)); // never a partial FILE
        CO_COMPARE(readFile(part(file)), server.content.left(100000));
        CO_VERIFY(readFile(meta(file)).contains("etag: \"v1\""));

        const DownloadOutcome second
            = co_await attemptDownload(session.download(server.url(), file));
        CO_VERIFY2(!second.error, qPrintable(second.error.toString()));
        CO_COMPARE(second.result.status(), 206);
        CO_VERIFY(second.result.resumed);
        CO_VERIFY(second.result.isComplete());
        CO_COMPARE(second.result.resumedFrom, qint64(100000));
        CO_COMPARE(second.result.bytesReceived, contentSize - 100000);
        CO_VERIFY(readFile(file) == server.content);
        CO_VERIFY(!QFileInfo::exists(part(file)));
        CO_VERIFY(!QFileInfo::exists(meta(file)));
        const DownloadTest::RangeRequest resumed = server.requests().last();
        CO_COMPARE(resumed.field("range"), QByteArray("bytes=100000-"));
        CO_COMPARE(resumed.field("if-range"), QByteArray("\"v1\""));
    }());
}

void TestDownload::brokenBodyIsContinuedUnderTheRetryPolicy()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        server.cutAfter = {50000, 70000};
        Reqivo::AsyncSession session;
        Reqivo::RetryPolicy policy = Reqivo::RetryPolicy::attempts(3);
        policy.baseDelay = 0ms;
        session.setRetryPolicy(policy);
        const QString file = dir.filePath(u"file.bin"_s);
        const DownloadOutcome o = co_await attemptDownload(session.download(server.url(), file));
        CO_VERIFY2(!o.error, qPrintable(o.error.toString()));
        CO_VERIFY(o.result.isComplete());
        CO_COMPARE(o.result.bytesReceived, contentSize);
        CO_VERIFY(readFile(file) == server.content);
        CO_COMPARE(server.requests().size(), 3);
        CO_COMPARE(server.requests().at(1).field("range"), QByteArray("bytes=50000-"));
        CO_COMPARE(server.requests().at(2).field("range"), QByteArray("bytes=120000-"));

        // Without attempts to spare, the break is the caller's error.
        server.cutAfter = {1000};
        session.setRetryPolicy(Reqivo::RetryPolicy::none());
        const QString other = dir.filePath(u"other.bin"_s);
        const DownloadOutcome cut = co_await attemptDownload(session.download(server.url(), other));
        CO_VERIFY(cut.error.isA(Reqivo::Error::Kind::Network));
        CO_COMPARE(QFileInfo(part(other)).size(), qint64(1000));
    }());
}

void TestDownload::serverIgnoringRangeRestartsFromZero()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        server.cutAfter = {30000};
        Reqivo::AsyncSession session;
        const QString file = dir.filePath(u"file.bin"_s);
        co_await attemptDownload(session.download(server.url(), file));
        CO_COMPARE(QFileInfo(part(file)).size(), qint64(30000));
        server.honourRange = false;
        const DownloadOutcome o = co_await attemptDownload(session.download(server.url(), file));
        CO_VERIFY2(!o.error, qPrintable(o.error.toString()));
        CO_COMPARE(o.result.status(), 200);
        CO_VERIFY(!o.result.resumed);
        CO_COMPARE(o.result.resumedFrom, qint64(30000));
        CO_COMPARE(o.result.bytesReceived, contentSize);
        CO_VERIFY(readFile(file) == server.content);
        CO_COMPARE(server.requests().last().field("range"), QByteArray("bytes=30000-"));
    }());
}

void TestDownload::changedEtagRestartsFromZero()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        server.cutAfter = {40000};
        Reqivo::AsyncSession session;
        const QString file = dir.filePath(u"file.bin"_s);
        co_await attemptDownload(session.download(server.url(), file));
        // The resource changed: If-Range no longer matches, the server sends all of it.
        server.content = patternBytes(contentSize + 500, 1);
        server.etag = "\"v2\"";
        const DownloadOutcome o = co_await attemptDownload(session.download(server.url(), file));
        CO_VERIFY2(!o.error, qPrintable(o.error.toString()));
        CO_COMPARE(o.result.status(), 200);
        CO_VERIFY(!o.result.resumed);
        CO_VERIFY(readFile(file) == server.content);
        CO_COMPARE(server.requests().last().field("if-range"), QByteArray("\"v1\""));
    }());
}

void TestDownload::completeSideFileAnswered416IsSuccess()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        server.cutAfter = {contentSize - 1};
        Reqivo::AsyncSession session;
        const QString file = dir.filePath(u"file.bin"_s);
        co_await attemptDownload(session.download(server.url(), file));
        // The last byte arrives as if a later write had made it: the side file is complete.
        QFile f(part(file));
        CO_VERIFY(f.open(QIODevice::Append));
        f.write(server.content.right(1));
        f.close();
        const DownloadOutcome o = co_await attemptDownload(session.download(server.url(), file));
        CO_VERIFY2(!o.error, qPrintable(o.error.toString()));
        CO_COMPARE(o.result.status(), 416);
        CO_VERIFY(o.result.isComplete());
        CO_VERIFY(o.result.resumed);
        CO_COMPARE(o.result.bytesReceived, qint64(0));
        CO_VERIFY(readFile(file) == server.content);
        CO_VERIFY(!QFileInfo::exists(part(file)));
    }());
}

void TestDownload::mismatchedContentRangeIsAnErrorAndKeepsTheData()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        server.cutAfter = {60000};
        Reqivo::AsyncSession session;
        const QString file = dir.filePath(u"file.bin"_s);
        co_await attemptDownload(session.download(server.url(), file));
        server.contentRangeShift = -10; // a valid range, from the wrong place
        const DownloadOutcome o = co_await attemptDownload(session.download(server.url(), file));
        CO_COMPARE(o.error.kind(), Reqivo::Error::Kind::InvalidResponse);
        CO_VERIFY2(o.error.message().contains(u"60000"_s), qPrintable(o.error.toString()));
        CO_VERIFY(!QFileInfo::exists(file));
        CO_VERIFY(readFile(part(file)) == server.content.left(60000));
        CO_VERIFY(QFileInfo::exists(meta(file)));
        // Once the server answers right, the same side file completes.
        server.contentRangeShift = 0;
        const DownloadOutcome again
            = co_await attemptDownload(session.download(server.url(), file));
        CO_VERIFY2(!again.error, qPrintable(again.error.toString()));
        CO_VERIFY(readFile(file) == server.content);
    }());
}

void TestDownload::foreignPartialFileIsResumedWithoutIfRange()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        Reqivo::AsyncSession session;
        const QString file = dir.filePath(u"file.bin"_s);
        CO_VERIFY(writeFile(file, server.content.left(12345)));
        const DownloadOutcome o = co_await attemptDownload(
            session.download(server.url(), file, DownloadOptions().withResumeExistingFile()));
        CO_VERIFY2(!o.error, qPrintable(o.error.toString()));
        CO_COMPARE(o.result.status(), 206);
        CO_VERIFY(o.result.resumed);
        CO_COMPARE(o.result.resumedFrom, qint64(12345));
        CO_COMPARE(o.result.bytesReceived, contentSize - 12345);
        CO_VERIFY(readFile(file) == server.content);
        const DownloadTest::RangeRequest r = server.requests().last();
        CO_COMPARE(r.field("range"), QByteArray("bytes=12345-"));
        CO_VERIFY(!r.hasField("if-range"));

        // Without the option, an existing FILE is replaced by a fresh download.
        CO_VERIFY(writeFile(file, "stale"));
        const DownloadOutcome fresh
            = co_await attemptDownload(session.download(server.url(), file));
        CO_COMPARE(fresh.result.status(), 200);
        CO_VERIFY(readFile(file) == server.content);
    }());
}

void TestDownload::foreignCompleteFileAnswered416IsUnchanged()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        Reqivo::AsyncSession session;
        const QString file = dir.filePath(u"file.bin"_s);
        CO_VERIFY(writeFile(file, server.content));
        const QDateTime before = QFileInfo(file).lastModified();
        const DownloadOutcome o = co_await attemptDownload(
            session.download(server.url(), file, DownloadOptions().withResumeExistingFile()));
        CO_VERIFY2(!o.error, qPrintable(o.error.toString()));
        CO_COMPARE(o.result.status(), 416);
        CO_VERIFY(o.result.isComplete());
        CO_COMPARE(o.result.bytesReceived, qint64(0));
        CO_VERIFY(readFile(file) == server.content);
        CO_COMPARE(QFileInfo(file).lastModified(), before);
        CO_VERIFY(!QFileInfo::exists(part(file)));
    }());
}

void TestDownload::readTimeoutKeepsTheSideFile()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        server.stallAfter = {8000};
        Reqivo::AsyncSession session;
        Reqivo::Timeout timeout;
        timeout.read = 300ms;
        session.setTimeout(timeout);
        const QString file = dir.filePath(u"file.bin"_s);
        const DownloadOutcome o = co_await attemptDownload(session.download(server.url(), file));
        CO_COMPARE(o.error.kind(), Reqivo::Error::Kind::ReadTimeout);
        CO_VERIFY(!QFileInfo::exists(file));
        CO_VERIFY(readFile(part(file)) == server.content.left(8000));
        // The next run resumes from there.
        const DownloadOutcome again
            = co_await attemptDownload(session.download(server.url(), file));
        CO_VERIFY2(!again.error, qPrintable(again.error.toString()));
        CO_COMPARE(again.result.resumedFrom, qint64(8000));
        CO_VERIFY(readFile(file) == server.content);
    }());
}

void TestDownload::cancelWithOwnerEndsTheBodyToo()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        server.stallAfter = {20000};
        Reqivo::AsyncSession session;
        const QString file = dir.filePath(u"file.bin"_s);
        auto owner = std::make_unique<QObject>();
        QCoro::Task<DownloadOutcome> running = attemptDownload(session.download(server.url(), file,
            DownloadOptions().withRequestOptions(
                Reqivo::RequestOptions().cancelWith(owner.get()))));
        // The body has started (the stalled server sent its first 20000 bytes) when the owner
        // goes.
        while (QFileInfo(part(file)).size() < 20000)
            co_await QCoro::sleepFor(5ms);
        owner.reset();
        const DownloadOutcome o = co_await std::move(running);
        CO_COMPARE(o.error.kind(), Reqivo::Error::Kind::Request);
        CO_COMPARE(o.error.detail(), u"aborted"_s);
        CO_VERIFY(!QFileInfo::exists(file));
        CO_VERIFY(readFile(part(file)) == server.content.left(20000));
    }());
}

void TestDownload::errorStatusLeavesEverythingAsItWas()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        Reqivo::AsyncSession session;
        const QString file = dir.filePath(u"file.bin"_s);
        CO_VERIFY(writeFile(file, "previous"));
        const DownloadOutcome o
            = co_await attemptDownload(session.download(server.url(u"/missing"_s), file));
        CO_VERIFY2(!o.error, qPrintable(o.error.toString()));
        CO_COMPARE(o.result.status(), 404);
        CO_VERIFY(!o.result.isComplete());
        CO_COMPARE(o.result.response.body(), QByteArray("no such file\n"));
        CO_COMPARE(readFile(file), QByteArray("previous"));
        CO_VERIFY(!QFileInfo::exists(part(file)));
    }());
}

void TestDownload::unwritableFileIsAClearError()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        Reqivo::AsyncSession session;
        const QString file = dir.filePath(u"no-such-dir/file.bin"_s);
        const DownloadOutcome o = co_await attemptDownload(session.download(server.url(), file));
        CO_COMPARE(o.error.kind(), Reqivo::Error::Kind::Request);
        CO_VERIFY2(o.error.message().contains(part(file)), qPrintable(o.error.message()));
        // The connection was not left half-read in the pool: the next request works.
        const DownloadOutcome next
            = co_await attemptDownload(session.download(server.url(), dir.filePath(u"ok"_s)));
        CO_VERIFY2(!next.error, qPrintable(next.error.toString()));
    }());
}

// --- nginx ---------------------------------------------------------------------------------------

void TestDownload::downloadObjectPausesAndResumesAgainstNginx()
{
    const QHash<QString, QString> nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
    const QUrl url = ReqivoTest::peerUrl(nginx, u"NGINX_HTTP_URL"_s, u"/large.bin"_s);
    const QString source = ReqivoTest::peerValue(nginx, u"NGINX_DOCROOT"_s) + u"/large.bin"_s;
    const qint64 size = QFileInfo(source).size();
    QTemporaryDir dir;
    const QString file = dir.filePath(u"large.bin"_s);
    Reqivo::AsyncSession session;
    Reqivo::Download *download = session.startDownload(url, file);
    QSignalSpy states(download, &Reqivo::Download::stateChanged);
    QSignalSpy finished(download, &Reqivo::Download::finished);
    qint64 pausedAt = -1;
    connect(download, &Reqivo::Download::downloadProgress, this,
        [download, &pausedAt](qint64 received, qint64 total) {
            if (pausedAt < 0 && received > 0 && received < total) {
                pausedAt = received;
                download->pause();
            }
        });
    QVERIFY(states.wait(10000));
    QCOMPARE(download->state(), Reqivo::Download::State::Paused);
    QCOMPARE(finished.size(), 0);
    QVERIFY(!QFileInfo::exists(file));
    QCOMPARE(QFileInfo(part(file)).size(), pausedAt);
    QCOMPARE(download->bytesReceived(), pausedAt);
    QCOMPARE(download->totalSize(), size);

    QSignalSpy progress(download, &Reqivo::Download::downloadProgress);
    download->resume();
    QCOMPARE(download->state(), Reqivo::Download::State::Running);
    QVERIFY(finished.wait(20000));
    QCOMPARE(download->state(), Reqivo::Download::State::Finished);
    QVERIFY(!download->error());
    const DownloadResult r = download->result();
    QCOMPARE(r.status(), 206);
    QVERIFY(r.resumed);
    QCOMPARE(r.resumedFrom, pausedAt);
    QCOMPARE(r.bytesReceived, size - pausedAt);
    QCOMPARE(progress.first().at(0).toLongLong(), pausedAt); // the offset comes first
    QCOMPARE(progress.last().at(0).toLongLong(), size);
    QCOMPARE(fileSha256(file), fileSha256(source));
    QVERIFY(!QFileInfo::exists(part(file)));
}

void TestDownload::downloadObjectAbortRemovesTheSideFile()
{
    const QHash<QString, QString> nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
    const QUrl url = ReqivoTest::peerUrl(nginx, u"NGINX_HTTP_URL"_s, u"/large.bin"_s);
    QTemporaryDir dir;
    const QString file = dir.filePath(u"large.bin"_s);
    Reqivo::AsyncSession session;
    Reqivo::Download *download = session.startDownload(url, file);
    QSignalSpy errors(download, &Reqivo::Download::errorOccurred);
    QSignalSpy finished(download, &Reqivo::Download::finished);
    connect(download, &Reqivo::Download::downloadProgress, download, &Reqivo::Download::abort);
    QVERIFY(finished.wait(10000));
    QCOMPARE(download->state(), Reqivo::Download::State::Aborted);
    QCOMPARE(errors.size(), 1);
    QCOMPARE(download->error().detail(), u"aborted"_s);
    QVERIFY(!QFileInfo::exists(file));
    QVERIFY(!QFileInfo::exists(part(file)));
    QVERIFY(!QFileInfo::exists(meta(file)));
    // Paused, then aborted: the side file goes too.
    Reqivo::Download *second = session.startDownload(url, file);
    QSignalSpy secondStates(second, &Reqivo::Download::stateChanged);
    QSignalSpy secondFinished(second, &Reqivo::Download::finished);
    connect(second, &Reqivo::Download::downloadProgress, second, &Reqivo::Download::pause);
    QVERIFY(secondStates.wait(10000));
    QCOMPARE(second->state(), Reqivo::Download::State::Paused);
    QVERIFY(QFileInfo::exists(part(file)));
    second->abort();
    QVERIFY(secondFinished.wait(5000));
    QCOMPARE(second->state(), Reqivo::Download::State::Aborted);
    QVERIFY(!QFileInfo::exists(part(file)));
}

void TestDownload::callbackFormDeliversTheResult()
{
    const QHash<QString, QString> nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
    const QUrl url = ReqivoTest::peerUrl(nginx, u"NGINX_HTTP_URL"_s, u"/small.txt"_s);
    QTemporaryDir dir;
    const QString file = dir.filePath(u"small.txt"_s);
    Reqivo::AsyncSession session;
    QObject context;
    bool called = false;
    DownloadResult got;
    Reqivo::Error error;
    session.download(url, file, {}, &context, [&](const DownloadResult &r, const Reqivo::Error &e) {
        called = true;
        got = r;
        error = e;
    });
    QTRY_VERIFY_WITH_TIMEOUT(called, 10000);
    QVERIFY2(!error, qPrintable(error.toString()));
    QVERIFY(got.isComplete());
    QCOMPARE(readFile(file), QByteArray("Hello from nginx\n"));
}

void TestDownload::blockingSessionAndFacadesDownloadFromNginx()
{
    const QHash<QString, QString> nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
    const QUrl base(ReqivoTest::peerValue(nginx, u"NGINX_HTTP_URL"_s));
    const QString source = ReqivoTest::peerValue(nginx, u"NGINX_DOCROOT"_s) + u"/large.bin"_s;
    const qint64 size = QFileInfo(source).size();
    QTemporaryDir dir;

    // Blocking: a side file left by an earlier run (the first MiB) is resumed.
    const QString file = dir.filePath(u"blocking.bin"_s);
    Reqivo::Session session(base);
    const Reqivo::Response head = session.head(QUrl(u"/large.bin"_s));
    QVERIFY(writeFile(part(file), readFile(source).left(1 << 20)));
    QVERIFY(writeFile(meta(file),
        "reqivo-download 1\nurl: " + base.resolved(QUrl(u"/large.bin"_s)).toEncoded()
            + "\netag: " + head.header("ETag") + "\ntotal: " + QByteArray::number(size) + '\n'));
    const DownloadResult r = session.download(QUrl(u"/large.bin"_s), file);
    QCOMPARE(r.status(), 206);
    QVERIFY(r.resumed);
    QCOMPARE(r.bytesReceived, size - (1 << 20));
    QCOMPARE(fileSha256(file), fileSha256(source));

    // The blocking facade.
    Reqivo::Reqivo api(base);
    const DownloadResult viaFacade = api.download(QUrl(u"/small.txt"_s), dir.filePath(u"a"_s));
    QVERIFY(viaFacade.isComplete());
    QCOMPARE(readFile(dir.filePath(u"a"_s)), QByteArray("Hello from nginx\n"));

    // The coroutine facade.
    RUN_CORO([&]() -> QCoro::Task<> {
        Reqivo::AsyncReqivo async(base);
        const DownloadResult viaAsync
            = co_await async.download(QUrl(u"/small.txt"_s), dir.filePath(u"b"_s));
        CO_VERIFY(viaAsync.isComplete());
        CO_COMPARE(readFile(dir.filePath(u"b"_s)), QByteArray("Hello from nginx\n"));
    }());
}

void TestDownload::nginxHonoursIfRangeAcrossRuns()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        const QHash<QString, QString> nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
        const QUrl url = ReqivoTest::peerUrl(nginx, u"NGINX_HTTP_URL"_s, u"/large.bin"_s);
        const QString source = ReqivoTest::peerValue(nginx, u"NGINX_DOCROOT"_s) + u"/large.bin"_s;
        QTemporaryDir dir;
        const QString file = dir.filePath(u"large.bin"_s);
        Reqivo::AsyncSession session;
        // A side file whose validator nginx no longer has: If-Range fails, nginx sends 200.
        CO_VERIFY(writeFile(part(file), QByteArray(4096, 'x')));
        CO_VERIFY(writeFile(meta(file),
            "reqivo-download 1\nurl: " + url.toEncoded() + "\netag: \"0-stale\"\ntotal: -1\n"));
        const DownloadOutcome o = co_await attemptDownload(session.download(url, file));
        CO_VERIFY2(!o.error, qPrintable(o.error.toString()));
        CO_COMPARE(o.result.status(), 200);
        CO_COMPARE(fileSha256(file), fileSha256(source));
        // Last-Modified alone (no ETag stored) is a validator too: nginx answers 206.
        const qint64 size = QFileInfo(source).size();
        const QString lm = dir.filePath(u"lm.bin"_s);
        CO_VERIFY(writeFile(part(lm), readFile(source).left(1000)));
        CO_VERIFY(writeFile(meta(lm),
            "reqivo-download 1\nurl: " + url.toEncoded()
                + "\nlast-modified: " + o.result.response.header("Last-Modified")
                + "\ntotal: " + QByteArray::number(size) + '\n'));
        const DownloadOutcome viaDate = co_await attemptDownload(session.download(url, lm));
        CO_VERIFY2(!viaDate.error, qPrintable(viaDate.error.toString()));
        CO_COMPARE(viaDate.result.status(), 206);
        CO_COMPARE(viaDate.result.bytesReceived, size - 1000);
        CO_COMPARE(fileSha256(lm), fileSha256(source));
    }());
}

void TestDownload::http2DownloadResumes()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        const QHash<QString, QString> nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
        const QUrl url = ReqivoTest::peerUrl(nginx, u"NGINX_H2_URL"_s, u"/large.bin"_s);
        const QString source = ReqivoTest::peerValue(nginx, u"NGINX_DOCROOT"_s) + u"/large.bin"_s;
        Reqivo::AsyncSession session;
        Reqivo::TlsOptions tls;
        tls.caCertificates
            = QSslCertificate::fromPath(ReqivoTest::peerValue(nginx, u"NGINX_CA_FILE"_s));
        session.setTlsOptions(tls);
        QTemporaryDir dir;
        const QString file = dir.filePath(u"large.bin"_s);
        const Reqivo::Response head = co_await session.head(url);
        CO_COMPARE(head.httpVersion(), u"2"_s);
        CO_VERIFY(writeFile(part(file), readFile(source).left(3 << 20)));
        CO_VERIFY(writeFile(meta(file),
            "reqivo-download 1\nurl: " + url.toEncoded() + "\netag: " + head.header("ETag")
                + "\ntotal: -1\n"));
        const DownloadOutcome o = co_await attemptDownload(session.download(url, file));
        CO_VERIFY2(!o.error, qPrintable(o.error.toString()));
        CO_COMPARE(o.result.status(), 206);
        CO_COMPARE(o.result.response.httpVersion(), u"2"_s);
        CO_VERIFY(o.result.resumed);
        CO_COMPARE(fileSha256(file), fileSha256(source));
    }());
}

QTEST_GUILESS_MAIN(TestDownload)
#include "tst_download.moc"
