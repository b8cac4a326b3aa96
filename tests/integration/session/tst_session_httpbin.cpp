// AsyncSession against httpbin (gunicorn, threaded workers) on loopback: what a real server
// receives from us (query, headers, every kind of body and its framing), and what we make of
// what it sends (status codes, cookies, auth, gzip/deflate, streamed and delayed bodies, body
// limits), plus request and response hooks. httpbin echoes requests as JSON, so each test
// checks the wire from the server's side, not only the Response.
//
// Registered twice: tst_session_httpbin over HTTP/1.1, and tst_session_httpbin_h2 over HTTP/2,
// through an nginx with http2 in front of the same httpbin (support/http2mode.h). Every test
// that makes a request checks which protocol answered.
#include "sessiontest.h"
#include "support/http2mode.h"
#include "support/peers.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Body>
#include <Reqivo/CookieJar>

#include <QBuffer>
#include <QJsonArray>
#include <QJsonObject>

#include <cstring>
#include <memory>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::RequestOptions;
using Reqivo::Response;

namespace {

QUrl httpbinUrl()
{
    static const QUrl url
        = ReqivoTest::modePeerUrl(ReqivoTest::loadPeerEnv(u"httpbin"_s), u"HTTPBIN_URL"_s);
    return url;
}

// A session on httpbin: relative URLs go there.
std::unique_ptr<AsyncSession> httpbinSession()
{
    return std::make_unique<AsyncSession>(httpbinUrl());
}

QJsonObject jsonOf(const Response &r)
{
    return r.json().object();
}

// httpbin's echo of a request field ("Content-Length"), or an empty string.
QString echoedHeader(const Response &r, const QString &name)
{
    return jsonOf(r).value(u"headers"_s).toObject().value(name).toString();
}

// A sequential device (a pipe, a socket): its size is unknown, so the body goes out chunked.
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

class TestSessionHttpbin : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { ReqivoTest::trustHttp2PeersByDefault({u"httpbin"_s}); }

    void getWithQueryAndHeaders()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            auto session = httpbinSession();
            session->setDefaultHeader("X-Session", "s");
            RequestOptions opts;
            opts.query.addQueryItem(u"added"_s, u"a b&c"_s);
            opts.header("X-Request", "r");
            const Outcome o = co_await attempt(session->get(QUrl(u"/get?inline=1"_s), opts));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            // HTTP/2 has no reason phrase: reason() is what was sent.
            CO_COMPARE(
                o.response.reason(), ReqivoTest::http2Mode() ? QByteArray() : QByteArray("OK"));
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            CO_VERIFY(o.response.isSuccess());
            CO_COMPARE(o.response.method(), QByteArray("GET"));
            CO_COMPARE(o.response.url().path(), u"/get"_s);
            CO_VERIFY(o.response.elapsed() >= 0ms && o.response.elapsed() < 10s);
            CO_COMPARE(o.response.headers().value("content-type").toByteArray(),
                QByteArray("application/json"));
            const QJsonObject echo = jsonOf(o.response);
            const QJsonObject args = echo.value(u"args"_s).toObject();
            CO_COMPARE(args.value(u"inline"_s).toString(), u"1"_s);
            CO_COMPARE(args.value(u"added"_s).toString(), u"a b&c"_s);
            CO_COMPARE(echoedHeader(o.response, u"X-Session"_s), u"s"_s);
            CO_COMPARE(echoedHeader(o.response, u"X-Request"_s), u"r"_s);
            CO_VERIFY(echoedHeader(o.response, u"User-Agent"_s).startsWith(u"Reqivo"_s));
            CO_COMPARE(
                echoedHeader(o.response, u"Host"_s), u"127.0.0.1:%1"_s.arg(httpbinUrl().port()));
        }());
    }

    // A request header replaces the session default of the same name, whatever its case.
    void requestHeaderOverridesDefault()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            auto session = httpbinSession();
            session->setDefaultHeader("X-Which", "session");
            const Outcome o = co_await attempt(
                session->get(QUrl(u"/headers"_s), RequestOptions().header("x-which", "request")));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            CO_COMPARE(echoedHeader(o.response, u"X-Which"_s), u"request"_s);
        }());
    }

    // Each kind of body as httpbin's /anything saw it: the decoded data, the Content-Type, and
    // the framing (Content-Length when the size is known, chunked otherwise).
    void bodies_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<QString>("contentType");
        QTest::addColumn<bool>("chunked");
        QTest::newRow("bytes") << 0 << u"application/octet-stream"_s << false;
        QTest::newRow("text (UTF-8)") << 1 << u"text/plain; charset=utf-8"_s << false;
        QTest::newRow("JSON") << 2 << u"application/json"_s << false;
        QTest::newRow("form") << 3 << u"application/x-www-form-urlencoded"_s << false;
        QTest::newRow("QBuffer (random access)") << 4 << u"application/octet-stream"_s << false;
        QTest::newRow("sequential device") << 5 << u"application/octet-stream"_s << true;
        QTest::newRow("generator") << 6 << u"application/octet-stream"_s << true;
        QTest::newRow("300 KiB of bytes") << 7 << u"application/octet-stream"_s << false;
    }
    void bodies()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(int, kind);
            QFETCH(QString, contentType);
            QFETCH(bool, chunked);
            const QByteArray big = QByteArray("0123456789abcdef").repeated(300 * 64);
            QBuffer buffer;
            buffer.setData("ignored|device body");
            buffer.open(QIODevice::ReadOnly);
            buffer.seek(8); // the body starts at the device's current position
            SequentialDevice sequential("sequential body");

            Body body;
            QString expectedData;
            switch (kind) {
            case 0:
                body = Body::fromBytes("raw bytes");
                expectedData = u"raw bytes"_s;
                break;
            case 1:
                body = Body::fromText(u"h\u00e9llo \u2713"_s);
                expectedData = u"h\u00e9llo \u2713"_s;
                break;
            case 2:
                body = Body::fromJson(QJsonObject {{u"a"_s, 1}, {u"b"_s, QJsonArray {u"x"_s}}});
                break;
            case 3:
                body = Body::fromForm(QList<std::pair<QString, QString>> {
                    {u"a"_s, u"1"_s}, {u"b c"_s, u"x&y=z \u00e9"_s}});
                expectedData = QString();
                break;
            case 4:
                body = Body::fromDevice(&buffer);
                expectedData = u"device body"_s;
                break;
            case 5:
                body = Body::fromDevice(&sequential);
                expectedData = u"sequential body"_s;
                break;
            case 6:
                body = Body::fromGenerator([]() -> Body::Generator {
                    for (int i = 1; i <= 3; ++i) {
                        co_await QCoro::sleepFor(5ms);
                        co_yield QByteArray("part" + QByteArray::number(i));
                    }
                });
                expectedData = u"part1part2part3"_s;
                break;
            case 7:
                body = Body::fromBytes(big);
                expectedData = QString::fromLatin1(big);
                break;
            }
            auto session = httpbinSession();
            const Outcome o = co_await attempt(session->post(QUrl(u"/anything"_s), body));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            const QJsonObject echo = jsonOf(o.response);
            CO_COMPARE(echo.value(u"method"_s).toString(), u"POST"_s);
            CO_COMPARE(echoedHeader(o.response, u"Content-Type"_s), contentType);
            if (kind == 2) {
                CO_COMPARE(echo.value(u"json"_s).toObject(),
                    (QJsonObject {{u"a"_s, 1}, {u"b"_s, QJsonArray {u"x"_s}}}));
            } else if (kind == 3) {
                const QJsonObject form = echo.value(u"form"_s).toObject();
                CO_COMPARE(form.value(u"a"_s).toString(), u"1"_s);
                CO_COMPARE(form.value(u"b c"_s).toString(), u"x&y=z \u00e9"_s);
            } else {
                CO_COMPARE(echo.value(u"data"_s).toString().size(), expectedData.size());
                CO_COMPARE(echo.value(u"data"_s).toString(), expectedData);
            }
            if (chunked) {
                CO_COMPARE(echoedHeader(o.response, u"Transfer-Encoding"_s), u"chunked"_s);
                CO_COMPARE(echoedHeader(o.response, u"Content-Length"_s), QString());
            } else {
                CO_COMPARE(echoedHeader(o.response, u"Transfer-Encoding"_s), QString());
                CO_VERIFY(!echoedHeader(o.response, u"Content-Length"_s).isEmpty());
            }
            if (kind == 0 || kind == 4 || kind == 7)
                CO_COMPARE(echoedHeader(o.response, u"Content-Length"_s),
                    QString::number(expectedData.size()));
        }());
    }

    void methods_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<bool>("withBody");
        QTest::newRow("PUT") << QByteArray("PUT") << true;
        QTest::newRow("PATCH") << QByteArray("PATCH") << true;
        QTest::newRow("DELETE") << QByteArray("DELETE") << false;
        QTest::newRow("POST without a body sends Content-Length: 0") << QByteArray("POST") << false;
    }
    void methods()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, method);
            QFETCH(bool, withBody);
            auto session = httpbinSession();
            RequestOptions opts;
            if (withBody)
                opts.body = Body::fromText(u"payload"_s);
            const Outcome o
                = co_await attempt(session->request(method, QUrl(u"/anything"_s), opts));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            const QJsonObject echo = jsonOf(o.response);
            CO_COMPARE(echo.value(u"method"_s).toString(), QString::fromLatin1(method));
            CO_COMPARE(echo.value(u"data"_s).toString(), withBody ? u"payload"_s : QString());
            if (method == "POST")
                CO_COMPARE(echoedHeader(o.response, u"Content-Length"_s), u"0"_s);
        }());
    }

    void headAndOptions()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            auto session = httpbinSession();
            const Outcome head = co_await attempt(session->head(QUrl(u"/bytes/1000"_s)));
            CO_EXPECT_OK(head);
            CO_COMPARE(head.response.status(), 200);
            CO_COMPARE(head.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            CO_COMPARE(head.response.body(), QByteArray());
            CO_COMPARE(
                head.response.headers().value("content-length").toByteArray(), QByteArray("1000"));
            const Outcome options = co_await attempt(session->options(QUrl(u"/get"_s)));
            CO_EXPECT_OK(options);
            CO_COMPARE(options.response.status(), 200);
            CO_COMPARE(options.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            CO_VERIFY(options.response.headers().value("allow").contains("GET"));
            // Both went over the one kept-alive connection.
            CO_VERIFY(options.response.connectionReused());
        }());
    }

    // HTTP error statuses are responses; raiseForStatus() turns 4xx/5xx into StatusError.
    void statusCodes_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<bool>("raises");
        QTest::newRow("200") << 200 << false;
        QTest::newRow("201") << 201 << false;
        QTest::newRow("299 is still success") << 299 << false;
        QTest::newRow("404") << 404 << true;
        QTest::newRow("418") << 418 << true;
        QTest::newRow("500") << 500 << true;
        QTest::newRow("503") << 503 << true;
    }
    void statusCodes()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(int, status);
            QFETCH(bool, raises);
            auto session = httpbinSession();
            const Outcome o = co_await attempt(session->get(QUrl(u"/status/%1"_s.arg(status))));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            CO_COMPARE(o.response.status(), status);
            CO_COMPARE(o.response.isSuccess(), status < 300);
            Reqivo::Error raised;
            try {
                o.response.raiseForStatus();
            } catch (const Reqivo::StatusError &e) {
                raised = e.error();
            }
            CO_COMPARE(!raised.isNull(), raises);
            if (raises) {
                CO_COMPARE(raised.typeName(), u"StatusError"_s);
                CO_COMPARE(raised.code(), status);
                CO_VERIFY2(raised.message().contains(QString::number(status)),
                    qPrintable(raised.message()));
                CO_COMPARE(raised.url().path(), u"/status/%1"_s.arg(status));
            }
        }());
    }

    void cookies()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            auto session = httpbinSession();
            // /cookies/set answers 302 to /cookies: the cookie is stored from the redirect and
            // sent on the very next hop.
            const Outcome set = co_await attempt(session->get(QUrl(u"/cookies/set?a=1&b=two"_s)));
            CO_EXPECT_OK(set);
            CO_COMPARE(set.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            CO_COMPARE(set.response.history().size(), qsizetype(1));
            CO_COMPARE(jsonOf(set.response).value(u"cookies"_s).toObject(),
                (QJsonObject {{u"a"_s, u"1"_s}, {u"b"_s, u"two"_s}}));
            CO_COMPARE(session->cookieJar()->cookies().size(), qsizetype(2));

            const Outcome shown = co_await attempt(session->get(QUrl(u"/cookies"_s)));
            CO_EXPECT_OK(shown);
            CO_COMPARE(jsonOf(shown.response).value(u"cookies"_s).toObject(),
                (QJsonObject {{u"a"_s, u"1"_s}, {u"b"_s, u"two"_s}}));

            const Outcome deleted = co_await attempt(session->get(QUrl(u"/cookies/delete?a"_s)));
            CO_EXPECT_OK(deleted);
            CO_COMPARE(jsonOf(deleted.response).value(u"cookies"_s).toObject(),
                (QJsonObject {{u"b"_s, u"two"_s}}));
            CO_COMPARE(session->cookieJar()->cookies().size(), qsizetype(1));
            CO_COMPARE(session->cookieJar()->cookies().first().name(), QByteArray("b"));

            // A Cookie header given by the caller wins over the jar.
            const Outcome manual = co_await attempt(
                session->get(QUrl(u"/cookies"_s), RequestOptions().header("Cookie", "manual=yes")));
            CO_EXPECT_OK(manual);
            CO_COMPARE(jsonOf(manual.response).value(u"cookies"_s).toObject(),
                (QJsonObject {{u"manual"_s, u"yes"_s}}));
        }());
    }

    void basicAuth_data()
    {
        QTest::addColumn<QString>("password");
        QTest::addColumn<int>("status");
        QTest::newRow("right password") << u"p@ss:word"_s << 200;
        QTest::newRow("wrong password") << u"nope"_s << 401;
    }
    void basicAuth()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QString, password);
            QFETCH(int, status);
            auto session = httpbinSession();
            session->setBasicAuth(u"user"_s, password);
            const Outcome o
                = co_await attempt(session->get(QUrl(u"/basic-auth/user/p%40ss%3Aword"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            CO_COMPARE(o.response.status(), status);
            if (status == 200) {
                CO_COMPARE(jsonOf(o.response).value(u"authenticated"_s).toBool(), true);
                CO_COMPARE(jsonOf(o.response).value(u"user"_s).toString(), u"user"_s);
            }
        }());
    }

    // Credentials in the URL become Basic auth and never appear in the response's URL.
    void credentialsInUrl()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QUrl url = httpbinUrl();
            url.setPath(u"/basic-auth/u/pw"_s);
            url.setUserName(u"u"_s);
            url.setPassword(u"pw"_s);
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(url));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            CO_COMPARE(o.response.url().userInfo(), QString());
        }());
    }

    void bearer_data()
    {
        QTest::addColumn<QString>("token");
        QTest::addColumn<int>("status");
        QTest::newRow("with a token") << u"tok-123"_s << 200;
        QTest::newRow("without") << QString() << 401;
    }
    void bearer()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QString, token);
            QFETCH(int, status);
            auto session = httpbinSession();
            if (!token.isEmpty())
                session->setBearerToken(token);
            const Outcome o = co_await attempt(session->get(QUrl(u"/bearer"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            CO_COMPARE(o.response.status(), status);
            if (status == 200)
                CO_COMPARE(jsonOf(o.response).value(u"token"_s).toString(), token);
            session->clearAuth();
            const Outcome cleared = co_await attempt(session->get(QUrl(u"/bearer"_s)));
            CO_EXPECT_OK(cleared);
            CO_COMPARE(cleared.response.status(), 401);
        }());
    }

    void compressedBodies_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("flag");
        QTest::addColumn<QByteArray>("coding");
        QTest::addColumn<QByteArray>("magic");
        QTest::newRow("gzip") << u"/gzip"_s << u"gzipped"_s << QByteArray("gzip")
                              << QByteArray("\x1f\x8b");
        // httpbin's deflate is the zlib format (RFC 1950), which "deflate" means in HTTP.
        QTest::newRow("deflate") << u"/deflate"_s << u"deflated"_s << QByteArray("deflate")
                                 << QByteArray("\x78");
        // Brotli has no magic bytes: the empty prefix matches, the size check still applies.
        QTest::newRow("br") << u"/brotli"_s << u"brotli"_s << QByteArray("br") << QByteArray();
    }
    void compressedBodies()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QString, path);
            QFETCH(QString, flag);
            QFETCH(QByteArray, coding);
            QFETCH(QByteArray, magic);
            auto session = httpbinSession();
            const Outcome decoded = co_await attempt(session->get(QUrl(path)));
            CO_EXPECT_OK(decoded);
            CO_COMPARE(decoded.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            CO_COMPARE(decoded.response.headers().value("content-encoding").toByteArray(), coding);
            CO_COMPARE(jsonOf(decoded.response).value(flag).toBool(), true);
            CO_COMPARE(echoedHeader(decoded.response, u"Accept-Encoding"_s),
                       u"gzip, deflate, br, zstd"_s);

            const Outcome raw = co_await attempt(session->get(QUrl(path), [] {
                RequestOptions o;
                o.decompress = false;
                return o;
            }()));
            CO_EXPECT_OK(raw);
            CO_COMPARE(raw.response.headers().value("content-encoding").toByteArray(), coding);
            CO_VERIFY2(raw.response.body().startsWith(magic),
                raw.response.body().left(8).toHex().constData());
            CO_VERIFY(raw.response.body().size() < decoded.response.body().size());

            session->setDecompress(false);
            const Outcome sessionOff = co_await attempt(session->get(QUrl(path)));
            CO_EXPECT_OK(sessionOff);
            CO_VERIFY(sessionOff.response.body().startsWith(magic));
        }());
    }

    void streamedLines()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            auto session = httpbinSession();
            const Outcome o = co_await attempt(
                session->get(QUrl(u"/stream/20"_s), RequestOptions().streaming()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            Response r = o.response;
            CO_VERIFY(r.isStreaming());
            CO_COMPARE(r.body(), QByteArray());
            CO_COMPARE(r.expectedSize(), qint64(-1)); // chunked: unknown until the end
            QByteArray all;
            int pieces = 0;
            while (true) {
                const QByteArray piece = co_await r.readChunk();
                if (piece.isEmpty())
                    break;
                ++pieces;
                all += piece;
            }
            CO_VERIFY(pieces >= 1);
            const QList<QByteArray> lines = all.trimmed().split('\n');
            CO_COMPARE(lines.size(), qsizetype(20));
            for (int i = 0; i < 20; ++i)
                CO_COMPARE(QJsonDocument::fromJson(lines[i]).object().value(u"id"_s).toInt(), i);
            CO_COMPARE(r.bytesReceived(), qint64(all.size()));
            // Read to the end: the connection went back to the pool. (An HTTP/2 connection is
            // held by the session's HTTP/2 side for its whole life: it stays active, with no
            // stream open, ready for the next request.)
            const Reqivo::Endpoint ep = ReqivoTest::sessionEndpoint(httpbinUrl());
            CO_COMPARE(session->pool()->idleCount(ep), ReqivoTest::http2Mode() ? 0 : 1);
            CO_COMPARE(session->pool()->activeCount(ep), ReqivoTest::http2Mode() ? 1 : 0);
            const Outcome next = co_await attempt(session->get(QUrl(u"/get"_s)));
            CO_EXPECT_OK(next);
            CO_VERIFY(next.response.connectionReused());
            CO_COMPARE(session->pool()->totalCount(), 1);
        }());
    }

    void streamedBytes_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<qint64>("maxChunk");
        QTest::newRow("chunked, readChunk()")
            << u"/stream-bytes/100000?chunk_size=7000&seed=7"_s << qint64(0);
        QTest::newRow("chunked, readChunk(4096)")
            << u"/stream-bytes/100000?seed=7"_s << qint64(4096);
        QTest::newRow("Content-Length, readChunk(1000)")
            << u"/bytes/100000?seed=7"_s << qint64(1000);
    }
    void streamedBytes()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QString, path);
            QFETCH(qint64, maxChunk);
            auto session = httpbinSession();
            const Outcome o
                = co_await attempt(session->get(QUrl(path), RequestOptions().streaming()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            Response r = o.response;
            QByteArray all;
            QByteArray piece;
            do {
                piece = co_await r.readChunk(maxChunk);
                if (maxChunk > 0)
                    CO_VERIFY2(piece.size() <= maxChunk, qPrintable(QString::number(piece.size())));
                all += piece;
            } while (!piece.isEmpty());
            CO_COMPARE(all.size(), qsizetype(100000));
            CO_COMPARE(r.bytesReceived(), qint64(100000));
            // The same bytes, buffered, are identical (seeded): nothing lost or reordered.
            const Outcome buffered = co_await attempt(session->get(QUrl(path)));
            CO_EXPECT_OK(buffered);
            CO_COMPARE(buffered.response.body().size(), qsizetype(100000));
            CO_VERIFY(buffered.response.body() == all);
        }());
    }

    // chunks() hands out the same bytes through a QCoro async generator.
    void streamedWithChunksGenerator()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            auto session = httpbinSession();
            const Outcome o = co_await attempt(
                session->get(QUrl(u"/stream-bytes/50000?seed=3&chunk_size=5000"_s),
                    RequestOptions().streaming()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            Response r = o.response;
            qint64 total = 0;
            auto gen = r.chunks(8192);
            for (auto it = co_await gen.begin(); it != gen.end(); co_await ++it) {
                CO_VERIFY((*it).size() <= 8192);
                CO_VERIFY(!(*it).isEmpty());
                total += (*it).size();
            }
            CO_COMPARE(total, qint64(50000));
        }());
    }

    void delayGivesReadTimeout()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            auto session = httpbinSession();
            Reqivo::Timeout t;
            t.read = 1s;
            session->setTimeout(t);
            const Outcome o = co_await attempt(session->get(QUrl(u"/delay/3"_s)));
            CO_EXPECT_ERROR(o, "ReadTimeout");
            CO_VERIFY2(o.took >= 900ms && o.took < 2800ms,
                qPrintable(u"took %1 ms"_s.arg(o.took.count())));
            // A 2 s delay within a 5 s read timeout is fine.
            t.read = 5s;
            session->setTimeout(t);
            const Outcome slow = co_await attempt(session->get(QUrl(u"/delay/1"_s)));
            CO_EXPECT_OK(slow);
            CO_COMPARE(slow.response.status(), 200);
            CO_COMPARE(slow.response.httpVersion(), ReqivoTest::expectedHttpVersion());
        }());
    }

    // Limits::maxBodyBytes: a longer body is refused, announced (Content-Length) or not (chunked).
    void bodyLimit_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<bool>("stream");
        QTest::newRow("Content-Length over the limit") << u"/bytes/5000"_s << false;
        QTest::newRow("chunked body over the limit")
            << u"/stream-bytes/5000?chunk_size=500"_s << false;
        QTest::newRow("chunked body over the limit, streamed")
            << u"/stream-bytes/5000?chunk_size=500"_s << true;
    }
    void bodyLimit()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QString, path);
            QFETCH(bool, stream);
            auto session = httpbinSession();
            Reqivo::Limits limits;
            limits.maxBodyBytes = 1000;
            session->setLimits(limits);
            Reqivo::Error error;
            qint64 delivered = 0;
            try {
                Response r = co_await session->get(QUrl(path), RequestOptions().streaming(stream));
                if (stream) {
                    while (true) {
                        const QByteArray piece = co_await r.readChunk();
                        if (piece.isEmpty())
                            break;
                        delivered += piece.size();
                    }
                }
            } catch (...) {
                error = Reqivo::Error::fromException(std::current_exception());
            }
            CO_VERIFY2(!error.isNull(), "a body over maxBodyBytes must be refused");
            CO_VERIFY2(error.isA(Reqivo::Error::Kind::Protocol), qPrintable(error.toString()));
            CO_VERIFY2(delivered <= 1000, qPrintable(QString::number(delivered)));
            // Within the limit it is fine.
            const Outcome ok = co_await attempt(session->get(QUrl(u"/bytes/1000"_s)));
            CO_EXPECT_OK(ok);
            CO_COMPARE(ok.response.body().size(), qsizetype(1000));
            CO_COMPARE(ok.response.httpVersion(), ReqivoTest::expectedHttpVersion());
        }());
    }

    void requestHooks()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            auto session = httpbinSession();
            // Plain, then coroutine, then plain: they run in the order added.
            session->addRequestHook(
                [](Reqivo::PreparedRequest &r) { r.headers.set("X-Order", "1"); });
            session->addRequestHook([](Reqivo::PreparedRequest &r) -> QCoro::Task<void> {
                co_await QCoro::sleepFor(5ms);
                r.headers.set("X-Order", r.headers.value("x-order").toByteArray() + ",2");
            });
            session->addRequestHook([](Reqivo::PreparedRequest &r) {
                r.headers.set("X-Order", r.headers.value("x-order").toByteArray() + ",3");
                // A hook may also redirect the request elsewhere and change its method.
                if (r.url.path() == u"/status/500"_s) {
                    r.url.setPath(u"/anything/rewritten"_s);
                    r.method = "PUT";
                }
            });
            const Outcome o = co_await attempt(session->get(QUrl(u"/status/500"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            CO_COMPARE(echoedHeader(o.response, u"X-Order"_s), u"1,2,3"_s);
            CO_COMPARE(jsonOf(o.response).value(u"method"_s).toString(), u"PUT"_s);
            CO_COMPARE(o.response.url().path(), u"/anything/rewritten"_s);

            session->clearHooks();
            const Outcome plain = co_await attempt(session->get(QUrl(u"/status/500"_s)));
            CO_EXPECT_OK(plain);
            CO_COMPARE(plain.response.status(), 500);
        }());
    }

    void responseHooks()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            auto session = httpbinSession();
            auto order = std::make_shared<QStringList>();
            session->addResponseHook([order](Response r) {
                order->append(u"plain:%1 over %2"_s.arg(r.status()).arg(r.httpVersion()));
                return r;
            });
            session->addResponseHook([order](Response r) -> QCoro::Task<Response> {
                co_await QCoro::sleepFor(5ms);
                order->append(u"coroutine:%1"_s.arg(r.status()));
                Response replaced;
                replaced.setStatus(299, "Replaced");
                replaced.setBody("from the hook:" + r.body().left(1));
                replaced.setUrl(r.url());
                co_return replaced;
            });
            session->addResponseHook([order](Response r) {
                order->append(u"last:%1"_s.arg(r.status()));
                return r;
            });
            const Outcome o = co_await attempt(session->get(QUrl(u"/get"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 299);
            CO_COMPARE(o.response.reason(), QByteArray("Replaced"));
            CO_COMPARE(o.response.body(), QByteArray("from the hook:{"));
            CO_COMPARE(*order,
                (QStringList {u"plain:200 over %1"_s.arg(ReqivoTest::expectedHttpVersion()),
                    u"coroutine:200"_s, u"last:299"_s}));
        }());
    }

    // A throwing hook fails the request with its exception, and nothing is sent.
    void throwingRequestHook()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            auto session = httpbinSession();
            session->addRequestHook([](Reqivo::PreparedRequest &r) {
                throw Reqivo::RequestError(u"refused by hook"_s, r.url);
            });
            const Outcome o = co_await attempt(session->get(QUrl(u"/get"_s)));
            CO_EXPECT_ERROR(o, "RequestError");
            CO_COMPARE(o.error.message(), u"refused by hook"_s);
            CO_COMPARE(session->pool()->totalCount(), 0);
        }());
    }

    // Many requests at once through one session (httpbin serves 8 at a time).
    void concurrentRequests()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            auto session = httpbinSession();
            std::vector<QCoro::Task<Response>> tasks;
            for (int i = 0; i < 16; ++i)
                tasks.push_back(session->get(QUrl(u"/anything/%1"_s.arg(i))));
            for (int i = 0; i < 16; ++i) {
                const Outcome o = co_await attempt(std::move(tasks[size_t(i)]));
                CO_EXPECT_OK(o);
                CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
                CO_COMPARE(jsonOf(o.response).value(u"url"_s).toString(),
                    httpbinUrl().toString() + u"/anything/%1"_s.arg(i));
            }
            CO_VERIFY(session->pool()->totalCount() <= 10); // the default maxPerHost
            // Over HTTP/2 all of them are streams of one connection.
            if (ReqivoTest::http2Mode())
                CO_COMPARE(session->pool()->totalCount(), 1);
        }());
    }
};

QTEST_GUILESS_MAIN(TestSessionHttpbin)
#include "tst_session_httpbin.moc"
