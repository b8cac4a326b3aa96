// multipart/form-data uploads (Reqivo::Multipart) in every calling style: co_await, the blocking
// Session, a Reply's signals and a callback, against httpbin (a real multipart parser: it checks
// what a server makes of our fields and files) and scripted servers (exact bytes, framing,
// redirects, retries, and files that are missing or change).
//
// Registered twice: tst_session_multipart over HTTP/1.1, and tst_session_multipart_h2 with
// httpbin over HTTP/2 (support/http2mode.h); the scripted servers speak HTTP/1.1 in both.
#include "faultserver.h"
#include "sessiontest.h"
#include "support/http2mode.h"
#include "support/peers.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Body>
#include <Reqivo/Multipart>
#include <Reqivo/Reply>
#include <Reqivo/RetryPolicy>
#include <Reqivo/Session>

#include <QCryptographicHash>
#include <QFile>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>

#include <cstring>
#include <memory>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::Multipart;
using Reqivo::RequestOptions;
using Reqivo::Response;

namespace {

QUrl httpbinUrl()
{
    static const QUrl url
        = ReqivoTest::modePeerUrl(ReqivoTest::loadPeerEnv(u"httpbin"_s), u"HTTPBIN_URL"_s);
    return url;
}

QUrl httpbin(const QString &path)
{
    QUrl url = httpbinUrl();
    url.setPath(path);
    return url;
}

// A pipe: its bytes once, then the end (read() returns -1). Not replayable.
class SequentialDevice : public QIODevice
{
public:
    explicit SequentialDevice(QByteArray data)
        : m_data(std::move(data))
    {
        open(QIODevice::ReadOnly);
    }
    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override { return m_data.size() + QIODevice::bytesAvailable(); }

protected:
    qint64 readData(char *out, qint64 max) override
    {
        if (m_data.isEmpty())
            return -1;
        const qint64 n = std::min<qint64>(max, m_data.size());
        memcpy(out, m_data.constData(), size_t(n));
        m_data.remove(0, n);
        return n;
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    QByteArray m_data;
};

// A producer that hands out its first bytes and then pauses for ever (no data, no end).
class PausingDevice : public QIODevice
{
public:
    explicit PausingDevice(QByteArray data)
        : m_data(std::move(data))
    {
        open(QIODevice::ReadOnly);
    }
    bool isSequential() const override { return true; }

protected:
    qint64 readData(char *out, qint64 max) override
    {
        const qint64 n = std::min<qint64>(max, m_data.size());
        memcpy(out, m_data.constData(), size_t(n));
        m_data.remove(0, n);
        return n;
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    QByteArray m_data;
};

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

// A file of \a size bytes that are not all alike, so that a misplaced block shows.
QByteArray patterned(qsizetype size)
{
    QByteArray out;
    out.reserve(size);
    for (qsizetype i = 0; out.size() < size; ++i)
        out += QByteArray::number(i) + ',';
    out.truncate(size);
    return out;
}

// The form the httpbin tests send: two fields (one UTF-8), a file on disk and one in memory.
struct Fixture
{
    QTemporaryDir dir;
    QString path;
    QByteArray fileBytes = patterned(300 * 1024);
    Multipart form;

    Fixture()
    {
        path = dir.filePath(u"report.txt"_s);
        if (!writeFile(path, fileBytes))
            qFatal("cannot write the test file");
        form.addField(u"title"_s, u"Gr\u00fc\u00dfe"_s)
            .addField(u"count"_s, u"3"_s)
            .addFile(u"doc"_s, path)
            .addBytes(u"note"_s, "in memory", u"note.txt"_s);
    }
};

// What httpbin echoes of the Fixture's form: its fields and files as it parsed them.
bool echoMatches(const QJsonObject &echo, const Fixture &f, QString *why)
{
    const QJsonObject form = echo.value(u"form"_s).toObject();
    const QJsonObject files = echo.value(u"files"_s).toObject();
    const QString type = echo.value(u"headers"_s).toObject().value(u"Content-Type"_s).toString();
    if (form.value(u"title"_s).toString() != u"Gr\u00fc\u00dfe"_s
        || form.value(u"count"_s).toString() != u"3"_s) {
        *why = u"fields: "_s + QString::fromUtf8(QJsonDocument(form).toJson());
        return false;
    }
    if (files.value(u"doc"_s).toString().toLatin1() != f.fileBytes
        || files.value(u"note"_s).toString() != u"in memory"_s) {
        *why = u"files differ"_s;
        return false;
    }
    if (type != QString::fromLatin1(f.form.contentType())) {
        *why = u"Content-Type "_s + type;
        return false;
    }
    return true;
}

} // namespace

class TestSessionMultipart : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { ReqivoTest::trustHttp2PeersByDefault({u"httpbin"_s}); }

    // --- httpbin: the four calling styles ----------------------------------------------------
    void httpbinCoAwait()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            Fixture f;
            AsyncSession session;
            const Body body = Body::fromMultipart(f.form);
            const Outcome o = co_await attempt(session.post(httpbin(u"/post"_s), body));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            QString why;
            const QJsonObject echo = o.response.json().object();
            CO_VERIFY2(echoMatches(echo, f, &why), qPrintable(why));
            // The length was known: sent with Content-Length, not chunked.
            CO_COMPARE(echo.value(u"headers"_s).toObject().value(u"Content-Length"_s).toString(),
                QString::number(body.size()));
        }());
    }

    void httpbinBlocking()
    {
        Fixture f;
        Reqivo::Session session;
        const Response r = session.post(httpbin(u"/post"_s), Body::fromMultipart(f.form));
        QCOMPARE(r.status(), 200);
        QCOMPARE(r.httpVersion(), ReqivoTest::expectedHttpVersion());
        QString why;
        QVERIFY2(echoMatches(r.json().object(), f, &why), qPrintable(why));
    }

    // A Reply reports the upload's progress: never backwards, ending at the body's length.
    void httpbinReplyProgress()
    {
        Fixture f;
        AsyncSession session;
        const Body body = Body::fromMultipart(f.form);
        Reqivo::Reply *reply = session.sendPost(httpbin(u"/post"_s), body);
        QSignalSpy progress(reply, &Reqivo::Reply::uploadProgress);
        QSignalSpy finished(reply, &Reqivo::Reply::finished);
        QVERIFY(finished.wait(30000));
        QVERIFY2(!reply->error(), qPrintable(reply->error().toString()));
        QCOMPARE(reply->response().status(), 200);
        QVERIFY(progress.size() >= 2); // 300 KiB: several blocks
        qint64 last = 0;
        for (const QList<QVariant> &args : std::as_const(progress)) {
            const qint64 sent = args.at(0).toLongLong();
            QVERIFY(sent >= last);
            QCOMPARE(args.at(1).toLongLong(), body.size());
            last = sent;
        }
        QCOMPARE(last, body.size());
        QString why;
        QVERIFY2(echoMatches(reply->response().json().object(), f, &why), qPrintable(why));
        reply->deleteLater();
    }

    void httpbinCallback()
    {
        Fixture f;
        AsyncSession session;
        Response got;
        Reqivo::Error error;
        bool called = false;
        session.request("POST", httpbin(u"/post"_s),
            RequestOptions().withBody(Body::fromMultipart(f.form)), this,
            [&](const Response &r, const Reqivo::Error &e) {
                got = r;
                error = e;
                called = true;
            });
        QTRY_VERIFY_WITH_TIMEOUT(called, 30000);
        QVERIFY2(!error, qPrintable(error.toString()));
        QCOMPARE(got.httpVersion(), ReqivoTest::expectedHttpVersion());
        QString why;
        QVERIFY2(echoMatches(got.json().object(), f, &why), qPrintable(why));
    }

    // A 307 sends the form again, files reopened, to where it points.
    void httpbinRedirect307Replays()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            Fixture f;
            AsyncSession session;
            QUrl url = httpbin(u"/redirect-to"_s);
            url.setQuery(u"url=/post&status_code=307"_s);
            const Outcome o = co_await attempt(session.post(url, Body::fromMultipart(f.form)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.history().size(), 1);
            QString why;
            CO_VERIFY2(echoMatches(o.response.json().object(), f, &why), qPrintable(why));
        }());
    }

    // --- scripted servers: the exact bytes -------------------------------------------------
    void exactBytesWithContentLength()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QTemporaryDir dir;
            const QString path = dir.filePath(u"a \"b\".txt"_s);
            CO_VERIFY(writeFile(path, "hello\n"));
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(200, "ok"));
            });
            Multipart form;
            CO_VERIFY(form.setBoundary("BOUNDARY"));
            form.addField(u"k"_s, u"v"_s).addFile(u"f"_s, path);
            AsyncSession session;
            const Outcome o
                = co_await attempt(session.post(server.url(), Body::fromMultipart(form)));
            CO_EXPECT_OK(o);
            CO_COMPARE(server.requests().size(), 1);
            const ReceivedRequest &r = server.requests().at(0);
            CO_COMPARE(r.method, QByteArray("POST"));
            CO_VERIFY(!r.chunked);
            CO_COMPARE(
                r.field("content-type"), QByteArray("multipart/form-data; boundary=BOUNDARY"));
            const QByteArray expected = "--BOUNDARY\r\n"
                                        "Content-Disposition: form-data; name=\"k\"\r\n"
                                        "\r\n"
                                        "v\r\n"
                                        "--BOUNDARY\r\n"
                                        "Content-Disposition: form-data; name=\"f\"; "
                                        "filename=\"a %22b%22.txt\"\r\n"
                                        "Content-Type: text/plain\r\n"
                                        "\r\n"
                                        "hello\n\r\n"
                                        "--BOUNDARY--\r\n";
            CO_COMPARE(r.body, expected);
            CO_COMPARE(r.field("content-length"), QByteArray::number(expected.size()));
        }());
    }

    // A device of unknown length: the form goes out chunked.
    void sequentialDeviceChunked()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(200, "ok"));
            });
            SequentialDevice device(patterned(200000));
            Multipart form;
            form.addFile(u"pipe"_s, &device, u"pipe.bin"_s);
            const Body body = Body::fromMultipart(form);
            CO_COMPARE(body.size(), -1);
            AsyncSession session;
            const Outcome o = co_await attempt(session.post(server.url(), body));
            CO_EXPECT_OK(o);
            const ReceivedRequest &r = server.requests().at(0);
            CO_VERIFY(r.chunked);
            CO_VERIFY(r.body.contains(
                "\r\n\r\n" + patterned(200000) + "\r\n--" + form.boundary() + "--\r\n"));
        }());
    }

    // A retry sends the whole form again, the file read from its start.
    void retryReplays()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            Fixture f;
            auto count = std::make_shared<int>(0);
            FaultServer server([count](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse((*count)++ == 0 ? 503 : 200, "x"));
            });
            Reqivo::RetryPolicy policy = Reqivo::RetryPolicy::attempts(2);
            policy.retryNonIdempotent = true;
            policy.baseDelay = 1ms;
            policy.jitter = false;
            AsyncSession session;
            const Outcome o = co_await attempt(session.post(
                server.url(), Body::fromMultipart(f.form), RequestOptions().withRetry(policy)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(server.requests().size(), 2);
            CO_COMPARE(server.requests().at(1).body, server.requests().at(0).body);
            CO_VERIFY(server.requests().at(0).body.contains(f.fileBytes));
            CO_COMPARE(server.requests().at(0).body.size(), f.form.size());
        }());
    }

    // A form with a pipe cannot be sent twice: a 307 fails instead of sending half a form.
    void sequentialDeviceRefusedOn307()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(307, {}, "Location: /again\r\n", "Temporary Redirect"));
            });
            SequentialDevice device("once");
            Multipart form;
            form.addField(u"a"_s, u"b"_s).addFile(u"pipe"_s, &device, u"p"_s);
            AsyncSession session;
            const Outcome o
                = co_await attempt(session.post(server.url(), Body::fromMultipart(form)));
            CO_VERIFY(!o.ok());
            CO_VERIFY(o.error.isA(Reqivo::Error::Kind::Request));
            CO_COMPARE(server.requests().size(), 1);
        }());
    }

    // A file that grows or shrinks while it is sent fails the request before the body is
    // complete: the connection closes short of the announced Content-Length, so the server never
    // receives a whole request, let alone one whose length lies.
    void fileChangingWhileSentFails_data()
    {
        QTest::addColumn<bool>("grow");
        QTest::addColumn<QString>("word");
        QTest::newRow("grows") << true << u"grew"_s;
        QTest::newRow("shrinks") << false << u"shrank"_s;
    }
    void fileChangingWhileSentFails()
    {
        QFETCH(bool, grow);
        QFETCH(QString, word);
        QTemporaryDir dir;
        const QString path = dir.filePath(u"changing.bin"_s);
        QVERIFY(writeFile(path, patterned(4 * 1024 * 1024)));
        FaultServer server(
            [](ServerConnection &c, const ReceivedRequest &) { c.write(httpResponse(200, "ok")); });
        Multipart form;
        form.addField(u"a"_s, u"b"_s).addFile(u"f"_s, path);
        AsyncSession session;
        Reqivo::Reply *reply = session.sendPost(server.url(), Body::fromMultipart(form));
        bool changed = false;
        connect(reply, &Reqivo::Reply::uploadProgress, this, [&](qint64 sent, qint64) {
            if (changed || sent == 0)
                return;
            changed = true; // after the first block, long before the file's end
            if (grow) {
                QFile f(path);
                QVERIFY(f.open(QIODevice::Append));
                QCOMPARE(f.write("more"), 4);
            } else {
                QVERIFY(QFile::resize(path, 1024 * 1024));
            }
        });
        QSignalSpy finished(reply, &Reqivo::Reply::finished);
        QVERIFY(finished.wait(30000));
        QVERIFY(changed);
        QVERIFY(reply->error());
        QCOMPARE(reply->error().kind(), Reqivo::Error::Kind::Request);
        QVERIFY2(reply->error().message().contains(word), qPrintable(reply->error().toString()));
        QCOMPARE(server.requests().size(), 0);
        reply->deleteLater();
    }

    // abort() while the form waits for a device that pauses ends the request at once, as an
    // aborted request: against the scripted server, and in the HTTP/2 run as a stream to httpbin.
    void abortWhileDeviceParts()
    {
        FaultServer server(
            [](ServerConnection &c, const ReceivedRequest &) { c.write(httpResponse(200, "ok")); });
        PausingDevice device("the first bytes");
        Multipart form;
        form.addField(u"a"_s, u"b"_s).addFile(u"pipe"_s, &device, u"pipe.bin"_s);
        AsyncSession session;
        const QUrl target = ReqivoTest::http2Mode() ? httpbin(u"/post"_s) : server.url();
        Reqivo::Reply *reply = session.sendPost(target, Body::fromMultipart(form));
        connect(reply, &Reqivo::Reply::uploadProgress, reply, [reply](qint64 sent, qint64) {
            if (sent > 0)
                QMetaObject::invokeMethod(reply, &Reqivo::Reply::abort, Qt::QueuedConnection);
        });
        QSignalSpy finished(reply, &Reqivo::Reply::finished);
        QVERIFY(finished.wait(30000));
        QVERIFY(reply->error());
        QCOMPARE(reply->error().kind(), Reqivo::Error::Kind::Request);
        QCOMPARE(reply->error().detail(), u"aborted"_s);
        QCOMPARE(server.requests().size(), 0);
        reply->deleteLater();
    }

    // A file that is missing (or changed since it was added) fails before anything is sent.
    void unreadableFileSendsNothing()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QTemporaryDir dir;
            const QString path = dir.filePath(u"gone.bin"_s);
            CO_VERIFY(writeFile(path, "12345"));
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(200, "ok"));
            });
            AsyncSession session;

            Multipart missing;
            missing.addField(u"a"_s, u"b"_s).addFile(u"f"_s, dir.filePath(u"never.bin"_s));
            Outcome o = co_await attempt(session.post(server.url(), Body::fromMultipart(missing)));
            CO_EXPECT_ERROR(o, "RequestError");
            CO_VERIFY(o.error.message().contains(u"never.bin"_s));

            Multipart changed;
            changed.addFile(u"f"_s, path);
            CO_VERIFY(writeFile(path, "123456789"));
            o = co_await attempt(session.post(server.url(), Body::fromMultipart(changed)));
            CO_EXPECT_ERROR(o, "RequestError");
            CO_VERIFY(o.error.message().contains(u"gone.bin"_s));

            CO_VERIFY(QFile::remove(path));
            o = co_await attempt(session.post(server.url(), Body::fromMultipart(changed)));
            CO_EXPECT_ERROR(o, "RequestError");
            CO_COMPARE(server.connectionCount(), 0);
        }());
    }
};

QTEST_GUILESS_MAIN(TestSessionMultipart)
#include "tst_session_multipart.moc"
