// Reqivo::Reply moving real volumes against nginx and httpbin: downloadProgress up to the total
// of nginx's 16 MiB file, uploadProgress for big bodies (bytes, a QBuffer, a sequential device
// of unknown size), readyRead() + readAll() reassembling the exact bytes (sha256 against
// NGINX_LARGE_SHA256), and abort() or deletion in the middle of the download leaving no active
// connection in the pool.
//
// Registered twice: tst_reply_transfer over HTTP/1.1, and tst_reply_transfer_h2 over HTTP/2
// (support/http2mode.h): nginx's h2 listener and the nginx with http2 in front of httpbin. Every
// request checks which protocol answered. Over HTTP/2 an aborted or deleted request resets its
// stream and leaves the connection to the next request instead of closing it.
#include "replytest.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/asyncconnectionpool.h>

#include <QBuffer>

#include <cstring>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace ReplyTest;
using namespace SyncTest;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::Reply;
using Reqivo::RequestOptions;
using Reqivo::Response;

namespace {

QUrl largeUrl()
{
    return nginxUrl(nginxValue(u"NGINX_LARGE_PATH"_s));
}
qint64 largeSize()
{
    return nginxValue(u"NGINX_LARGE_SIZE"_s).toLongLong();
}
QByteArray largeSha()
{
    return nginxValue(u"NGINX_LARGE_SHA256"_s).toLatin1();
}

const QString emptyPool = u"no connections | total=0/100 waiting=0"_s;

// The pool once an aborted download is gone: HTTP/1.1 closed its connection; over HTTP/2 the
// stream was reset and nginx's connection stays, with no stream open.
QString poolAfterAbort()
{
    if (!ReqivoTest::http2Mode())
        return emptyPool;
    return u"%1 h2 idle=0 active=1 | total=1/100 waiting=0"_s.arg(
        nginxUrl({}).adjusted(QUrl::RemovePath).toString());
}

// A pipe-like device: its size is unknown, so the body goes out chunked.
class SequentialDevice : public QIODevice
{
public:
    explicit SequentialDevice(QByteArray data)
        : m_data(std::move(data))
    {
        open(QIODevice::ReadOnly);
    }
    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override
    {
        return m_data.size() - m_pos + QIODevice::bytesAvailable();
    }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        if (m_pos == m_data.size())
            return -1; // the end: QIODevice's "no more data"
        const qint64 n = std::min(maxSize, qint64(m_data.size()) - m_pos);
        std::memcpy(data, m_data.constData() + m_pos, size_t(n));
        m_pos += n;
        return n;
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    QByteArray m_data;
    qint64 m_pos = 0;
};

} // namespace

class TestReplyTransfer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { ReqivoTest::trustHttp2PeersByDefault({u"nginx"_s, u"httpbin"_s}); }

    void downloadProgressReachesTheTotal()
    {
        AsyncSession session;
        ReplyWatch watch(session.sendGet(largeUrl()));
        QVERIFY(watch.waitForOutcome(60s));
        EXPECT_FINISHED(watch);
        QCOMPARE(watch.response.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(watch.response.body().size(), qsizetype(largeSize()));
        QCOMPARE(sha256Hex(watch.response.body()), largeSha());
        QVERIFY2(watch.download.size() > 10, qPrintable(QString::number(watch.download.size())));
        QVERIFY(isMonotonic(watch.download, largeSize()));
        QCOMPARE(watch.download.last(), std::make_pair(largeSize(), largeSize()));
        // Every progress signal came before finished().
        QCOMPARE(watch.events.last(), u"finished"_s);
    }

    // A chunked (gzip on the fly) body has no known total: -1, as QNetworkReply reports it.
    void downloadProgressWithoutKnownTotal()
    {
        AsyncSession session;
        ReplyWatch watch(session.sendGet(
            nginxUrl(u"/gzip/hello.json"_s), RequestOptions().header("Accept-Encoding", "gzip")));
        QVERIFY(watch.waitForOutcome());
        EXPECT_FINISHED(watch);
        QCOMPARE(watch.response.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(watch.response.body(), QByteArray("{\"hello\":\"nginx\",\"n\":1}\n"));
        QVERIFY(!watch.download.isEmpty());
        QVERIFY(isMonotonic(watch.download, -1));
    }

    void uploadProgress_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<qint64>("expectedTotal");
        constexpr qint64 size = 3 * 1024 * 1024;
        QTest::newRow("bytes") << u"bytes"_s << size;
        QTest::newRow("QBuffer") << u"buffer"_s << size;
        QTest::newRow("sequential device, size unknown") << u"sequential"_s << qint64(-1);
    }
    void uploadProgress()
    {
        QFETCH(QString, kind);
        QFETCH(qint64, expectedTotal);
        const QByteArray data(3 * 1024 * 1024, 'u');
        QBuffer buffer;
        buffer.setData(data);
        QVERIFY(buffer.open(QIODevice::ReadOnly));
        SequentialDevice pipe(data);
        Body body;
        if (kind == u"bytes"_s)
            body = Body::fromBytes(data, "text/plain");
        else if (kind == u"buffer"_s)
            body = Body::fromDevice(&buffer, -1, "text/plain");
        else
            body = Body::fromDevice(&pipe, -1, "text/plain");
        AsyncSession session;
        // httpbin echoes what it received as JSON; nginx's /echo takes the upload of unknown size
        // and answers it. (Not /discard: over HTTP/2 nginx answers that one at once and resets
        // the stream with NO_ERROR, which rightly ends the upload early.)
        const QUrl url
            = kind == u"sequential"_s ? nginxUrl(u"/echo"_s) : httpbinUrl(u"/anything"_s);
        ReplyWatch watch(session.sendPost(url, body));
        QVERIFY(watch.waitForOutcome(60s));
        EXPECT_FINISHED(watch);
        QCOMPARE(watch.response.status(), 200);
        QCOMPARE(watch.response.httpVersion(), ReqivoTest::expectedHttpVersion());
        if (kind == u"sequential"_s)
            QVERIFY(watch.response.body() == data);
        else
            QCOMPARE(
                jsonOf(watch.response).value(u"data"_s).toString().size(), qsizetype(data.size()));
        QVERIFY(!watch.upload.isEmpty());
        QVERIFY(isMonotonic(watch.upload, expectedTotal));
        QCOMPARE(watch.upload.last().first, qint64(data.size()));
        if (kind != u"bytes"_s) // a device is sent block by block
            QVERIFY2(watch.upload.size() > 4, qPrintable(QString::number(watch.upload.size())));
        // Upload progress comes before the response.
        QCOMPARE(watch.events.last(), u"finished"_s);
    }

    // Streaming mode on 16 MiB: readyRead() + readAll() give the exact bytes; the Response
    // holds no copy of them.
    void streamedDownloadReassemblesTheBytes()
    {
        AsyncSession session;
        Reply *reply = session.sendGet(largeUrl(), RequestOptions().streaming());
        ReplyWatch watch(reply);
        QVERIFY(watch.waitForOutcome(60s));
        EXPECT_FINISHED(watch);
        QCOMPARE(watch.response.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(watch.streamed.size(), qsizetype(largeSize()));
        QCOMPARE(sha256Hex(watch.streamed), largeSha());
        QVERIFY2(watch.readyReads > 10, qPrintable(QString::number(watch.readyReads)));
        QVERIFY(watch.response.body().isEmpty());
        QCOMPARE(watch.download.last(), std::make_pair(largeSize(), largeSize()));
        QCOMPARE(reply->bytesAvailable(), qint64(0));
        // Read to its end: the connection went back to the pool (over HTTP/2 the session's
        // HTTP/2 side holds it, active, with no stream open).
        const Reqivo::Endpoint ep = ReqivoTest::sessionEndpoint(largeUrl());
        QCOMPARE(session.pool()->idleCount(ep), ReqivoTest::http2Mode() ? 0 : 1);
        QCOMPARE(session.pool()->activeCount(ep), ReqivoTest::http2Mode() ? 1 : 0);
    }

    // abort() once a megabyte has arrived: RequestError("aborted"), no finished(), and the
    // aborted connection is closed, not left active or idle in the pool (over HTTP/2 the
    // stream is reset and the connection carries the next request).
    void abortMidDownload_data()
    {
        QTest::addColumn<bool>("streaming");
        QTest::newRow("buffered") << false;
        QTest::newRow("streaming") << true;
    }
    void abortMidDownload()
    {
        QFETCH(bool, streaming);
        AsyncSession session;
        Reply *reply = session.sendGet(largeUrl(), RequestOptions().streaming(streaming));
        ReplyWatch watch(reply);
        bool aborted = false;
        connect(reply, &Reply::downloadProgress, this, [&](qint64 got, qint64) {
            if (got >= 1024 * 1024 && !aborted) {
                aborted = true;
                reply->abort();
            }
        });
        QVERIFY(watch.waitForOutcome(60s));
        QVERIFY(aborted);
        EXPECT_ERROR_SIGNAL(watch, "RequestError");
        if (streaming) // buffered, nothing is announced before the whole body is there
            QCOMPARE(watch.metaDataResponse.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(watch.error.detail(), u"aborted"_s);
        QVERIFY2(watch.download.last().first < largeSize(), "the whole file arrived anyway");
        // waitForOutcome() delivered what was queued behind the error: still one outcome, and
        // the aborted connection is already gone.
        QCOMPARE(watch.outcomes(), 1);
        QCOMPARE(session.pool()->debugSummary(), poolAfterAbort());
        ReplyWatch next(session.sendGet(nginxUrl(u"/small.txt"_s)));
        QVERIFY(next.waitForOutcome());
        EXPECT_FINISHED(next);
        QCOMPARE(next.response.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(next.response.connectionReused(), ReqivoTest::http2Mode());
        // A whole request later, nothing more came from the aborted one (the watch's destructor
        // checks again at the end).
        QCOMPARE(watch.outcomes(), 1);
    }

    // Deleting the reply mid-download: silence, no crash, the connection is closed (over
    // HTTP/2 the stream is reset and the connection carries the next request).
    void deleteMidDownload()
    {
        AsyncSession session;
        QPointer<Reply> reply = session.sendGet(largeUrl());
        ReplyWatch watch(reply);
        QVERIFY(QTest::qWaitFor(
            [&] { return !watch.download.isEmpty() && watch.download.last().first > 512 * 1024; },
            20000));
        delete reply.data();
        const int seen = int(watch.download.size());
        // The request, cancelled, ends on its own and closes the connection (neither kept
        // active nor handed back idle); nothing reached the watch meanwhile.
        QVERIFY(waitUntil([&] { return session.pool()->debugSummary() == poolAfterAbort(); }));
        flushEvents();
        QCOMPARE(int(watch.download.size()), seen);
        QCOMPARE(watch.outcomes(), 0);
        QCOMPARE(session.pool()->debugSummary(), poolAfterAbort());
        // The session goes on, on a new connection; by its end, still nothing from the deleted
        // reply.
        ReplyWatch next(session.sendGet(nginxUrl(u"/small.txt"_s)));
        QVERIFY(next.waitForOutcome());
        EXPECT_FINISHED(next);
        QCOMPARE(next.response.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(next.response.connectionReused(), ReqivoTest::http2Mode());
        QCOMPARE(int(watch.download.size()), seen);
        QCOMPARE(watch.outcomes(), 0);
    }
};

QTEST_GUILESS_MAIN(TestReplyTransfer)
#include "tst_reply_transfer.moc"
