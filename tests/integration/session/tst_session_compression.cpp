// The br and zstd content codings and stacks of codings, decoded through every calling style
// (co_await buffered and streamed, blocking Session buffered and streamed, Reply signals, a
// callback) against nginx serving files compressed here at test time with the Content-Encoding
// the path names (/encoded/<coding>/, tests/support/peers/README.md). Corrupt bodies, a stack of
// four codings and bombs of each coding end in the documented errors.
//
// Registered twice: tst_session_compression over HTTP/1.1 and tst_session_compression_h2 over
// nginx's HTTP/2 listener (support/http2mode.h); every response checks which protocol answered.
#include "sessiontest.h"
#include "support/codingbodies.h"
#include "support/gzipbomb.h"
#include "support/http2mode.h"
#include "support/peers.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Reply>
#include <Reqivo/Session>

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QSignalSpy>

using namespace Qt::StringLiterals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Limits;
using Reqivo::Reply;
using Reqivo::RequestOptions;
using Reqivo::Response;
using Reqivo::Session;
using ReqivoTest::Outcome;

namespace {

const QHash<QString, QString> &nginx()
{
    static const QHash<QString, QString> env = ReqivoTest::loadPeerEnv(u"nginx"_s);
    return env;
}

// Text that compresses like real pages do.
QByteArray sampleText(qsizetype size)
{
    QByteArray text;
    QRandomGenerator random(15);
    for (int line = 0; text.size() < size; ++line)
        text += "line " + QByteArray::number(line) + ": "
            + QByteArray::number(random.generate() % 1000000) + " compressed, then stacked\n";
    text.truncate(size);
    return text;
}

const QByteArray &payload()
{
    static const QByteArray text = sampleText(300 * 1024);
    return text;
}

// This process's files under the docroot: the HTTP/1.1 and HTTP/2 runs may run at once.
QString fileName(const QString &name)
{
    return u"%1-%2"_s.arg(QCoreApplication::applicationPid()).arg(name);
}

QString encodedPath(const QString &coding, const QString &name)
{
    return u"/encoded/%1/%2"_s.arg(coding, fileName(name));
}

QUrl encodedUrl(const QString &coding, const QString &name)
{
    return ReqivoTest::modePeerUrl(nginx(), u"NGINX_HTTP_URL"_s, encodedPath(coding, name));
}

QByteArray gzip(const QByteArray &data)
{
    return ReqivoTest::repeatedGzip(data, 1);
}

// The stacks served: the coding in the path ("gzip,br") and the body with them applied.
struct Served
{
    QString coding;
    QString name;
    QByteArray body;
};

QList<Served> servedFiles()
{
    const QByteArray &text = payload();
    const QByteArray zeros(1024 * 1024, '\0');
    return {
        {u"br"_s, u"text"_s, ReqivoTest::brotli(text)},
        {u"zstd"_s, u"text"_s, ReqivoTest::zstd(text)},
        {u"gzip,br"_s, u"text"_s, ReqivoTest::brotli(gzip(text))},
        {u"gzip,zstd,br"_s, u"text"_s, ReqivoTest::brotli(ReqivoTest::zstd(gzip(text)))},
        {u"gzip,br,zstd,br"_s, u"text"_s,
            ReqivoTest::brotli(ReqivoTest::zstd(ReqivoTest::brotli(gzip(text))))},
        {u"br"_s, u"corrupt"_s, ReqivoTest::brotli(text).left(100) + QByteArray(500, 'x')},
        {u"zstd"_s, u"corrupt"_s, QByteArray("not zstd at all, not even its magic number")},
        {u"br"_s, u"bomb"_s, ReqivoTest::brotliRepeated(zeros, 256)},
        {u"zstd"_s, u"bomb"_s, ReqivoTest::zstdRepeated(zeros, 256)},
        {u"gzip,br"_s, u"bomb"_s, ReqivoTest::brotli(ReqivoTest::repeatedGzip(zeros, 256))},
    };
}

QString errorDescription(const Reqivo::Error &error)
{
    return u"%1 (%2): %3"_s.arg(error.typeName(), error.detail(), error.message());
}

} // namespace

class TestSessionCompression : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        ReqivoTest::trustHttp2PeersByDefault({u"nginx"_s});
        const QString docroot = ReqivoTest::peerValue(nginx(), u"NGINX_DOCROOT"_s);
        for (const Served &served : servedFiles()) {
            const QString dir = docroot + u"/encoded/"_s + served.coding;
            QVERIFY(QDir().mkpath(dir));
            QFile file(dir + u'/' + fileName(served.name));
            QVERIFY2(file.open(QIODevice::WriteOnly), qPrintable(file.errorString()));
            QCOMPARE(file.write(served.body), served.body.size());
            QVERIFY(file.setPermissions(file.permissions() | QFile::ReadOther));
            m_written.append(file.fileName());
        }
    }
    void cleanupTestCase()
    {
        for (const QString &path : std::as_const(m_written))
            QFile::remove(path);
    }

    void decoded_data()
    {
        QTest::addColumn<QString>("coding");
        QTest::newRow("br") << u"br"_s;
        QTest::newRow("zstd") << u"zstd"_s;
        QTest::newRow("gzip, br") << u"gzip,br"_s;
        QTest::newRow("gzip, zstd, br") << u"gzip,zstd,br"_s;
    }

    void decoded()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QString, coding);
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(encodedUrl(coding, u"text"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            CO_COMPARE(
                o.response.headers().value("content-encoding").toByteArray(), coding.toLatin1());
            CO_COMPARE(o.response.body().size(), payload().size());
            CO_VERIFY(o.response.body() == payload());
        }());
    }

    void decodedStreamed_data() { decoded_data(); }
    void decodedStreamed()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QString, coding);
            AsyncSession session;
            const Outcome o = co_await attempt(
                session.get(encodedUrl(coding, u"text"_s), RequestOptions().streaming()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            Response response = o.response;
            QByteArray all;
            int chunks = 0;
            for (;;) {
                const QByteArray chunk = co_await response.readChunk(10000);
                if (chunk.isEmpty())
                    break;
                CO_VERIFY(chunk.size() <= 10000);
                all += chunk;
                ++chunks;
            }
            CO_VERIFY(chunks > 1);
            CO_VERIFY(all == payload());
        }());
    }

    void decodedBlocking_data() { decoded_data(); }
    void decodedBlocking()
    {
        QFETCH(QString, coding);
        Session session;
        const Response buffered = session.get(encodedUrl(coding, u"text"_s));
        QCOMPARE(buffered.httpVersion(), ReqivoTest::expectedHttpVersion());
        QVERIFY(buffered.body() == payload());

        Response streamed
            = session.get(encodedUrl(coding, u"text"_s), RequestOptions().streaming());
        QByteArray all;
        for (QByteArray chunk; !(chunk = Session::readChunk(streamed, 4096)).isEmpty();)
            all += chunk;
        QVERIFY(all == payload());
    }

    void decodedByReply_data() { decoded_data(); }
    void decodedByReply()
    {
        QFETCH(QString, coding);
        AsyncSession session;
        // Streaming: the body is read from the Reply as it arrives.
        Reply *reply = session.sendGet(encodedUrl(coding, u"text"_s), RequestOptions().streaming());
        QByteArray all;
        connect(reply, &Reply::readyRead, this, [&] { all += reply->readAll(); });
        QSignalSpy finished(reply, &Reply::finished);
        QVERIFY(finished.wait(30000));
        all += reply->readAll();
        QVERIFY2(reply->error().isNull(), qPrintable(errorDescription(reply->error())));
        QCOMPARE(reply->response().httpVersion(), ReqivoTest::expectedHttpVersion());
        QVERIFY(all == payload());
        delete reply;
    }

    void decodedByCallback_data() { decoded_data(); }
    void decodedByCallback()
    {
        QFETCH(QString, coding);
        AsyncSession session;
        Response response;
        Reqivo::Error error;
        bool called = false;
        session.request("GET", encodedUrl(coding, u"text"_s), {}, this,
            [&](const Response &r, const Reqivo::Error &e) {
                response = r;
                error = e;
                called = true;
            });
        QTRY_VERIFY_WITH_TIMEOUT(called, 30000);
        QVERIFY2(error.isNull(), qPrintable(errorDescription(error)));
        QCOMPARE(response.httpVersion(), ReqivoTest::expectedHttpVersion());
        QVERIFY(response.body() == payload());
    }

    void refused_data()
    {
        QTest::addColumn<QString>("coding");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("detail");
        QTest::addColumn<QString>("messagePart");
        QTest::addColumn<qint64>("maxBodyBytes");
        QTest::newRow("corrupt br") << u"br"_s << u"corrupt"_s << u"Content-Encoding"_s
                                    << u"corrupt br body"_s << qint64(-1);
        QTest::newRow("corrupt zstd") << u"zstd"_s << u"corrupt"_s << u"Content-Encoding"_s
                                      << u"corrupt zstd body"_s << qint64(-1);
        QTest::newRow("4 codings") << u"gzip,br,zstd,br"_s << u"text"_s << u"Content-Encoding"_s
                                   << u"4 codings"_s << qint64(-1);
        QTest::newRow("br bomb") << u"br"_s << u"bomb"_s << u"DecompressionBomb"_s
                                 << u"decompression bomb"_s << qint64(-1);
        QTest::newRow("zstd bomb") << u"zstd"_s << u"bomb"_s << u"DecompressionBomb"_s
                                   << u"decompression bomb"_s << qint64(-1);
        QTest::newRow("gzip, br bomb") << u"gzip,br"_s << u"bomb"_s << u"DecompressionBomb"_s
                                       << u"decompression bomb"_s << qint64(-1);
        QTest::newRow("br bomb, body limit")
            << u"br"_s << u"bomb"_s << u"BodyTooLarge"_s << u"1048576"_s << qint64(1024 * 1024);
        QTest::newRow("zstd bomb, body limit")
            << u"zstd"_s << u"bomb"_s << u"BodyTooLarge"_s << u"1048576"_s << qint64(1024 * 1024);
    }

    void refused()
    {
        QFETCH(QString, coding);
        QFETCH(QString, name);
        QFETCH(QString, detail);
        QFETCH(QString, messagePart);
        QFETCH(qint64, maxBodyBytes);
        Limits limits;
        limits.maxBodyBytes = maxBodyBytes;
        const QUrl url = encodedUrl(coding, name);
        const auto check = [&](const Reqivo::Error &error, const char *style) {
            QVERIFY2(!error.isNull(), style);
            QCOMPARE(error.typeName(), u"InvalidResponseError"_s);
            QCOMPARE(error.detail(), detail);
            QVERIFY2(error.message().contains(messagePart), qPrintable(error.message()));
        };
        // co_await, buffered and streamed.
        RUN_CORO([&]() -> QCoro::Task<void> {
            AsyncSession session;
            session.setLimits(limits);
            const Outcome o = co_await attempt(session.get(url));
            check(o.error, "co_await");
            if (QTest::currentTestFailed())
                co_return;
            Reqivo::Error streamError;
            try {
                Response response = co_await session.get(url, RequestOptions().streaming());
                while (!(co_await response.readChunk()).isEmpty()) { }
            } catch (...) {
                streamError = Reqivo::Error::fromException(std::current_exception());
            }
            check(streamError, "streamed");
            // The connection did not go back to the pool in an unknown state: the next request
            // on the session works.
            const Outcome next = co_await attempt(session.get(encodedUrl(u"br"_s, u"text"_s)));
            CO_EXPECT_OK(next);
            CO_VERIFY(next.response.body() == payload());
        }());
        if (QTest::currentTestFailed())
            return;
        // Blocking.
        Session blocking;
        blocking.setLimits(limits);
        Reqivo::Error blockingError;
        try {
            (void)blocking.get(url);
        } catch (...) {
            blockingError = Reqivo::Error::fromException(std::current_exception());
        }
        check(blockingError, "blocking");
        if (QTest::currentTestFailed())
            return;
        // Signals.
        AsyncSession session;
        session.setLimits(limits);
        Reply *reply = session.sendGet(url);
        QSignalSpy finished(reply, &Reply::finished);
        QVERIFY(finished.wait(30000));
        check(reply->error(), "Reply");
        delete reply;
    }

private:
    QStringList m_written;
};

QTEST_MAIN(TestSessionCompression)
#include "tst_session_compression.moc"
