// AsyncSession messages, both ways, byte-exact: the request head Reqivo writes (request line,
// Host, defaults, framing fields, no "Connection: close" — the seed's defect), URLs resolved
// against the base URL, and what a Response makes of a status line, repeated fields, charsets,
// JSON and compressed bodies (including a decompression bomb).
#include "faultserver.h"
#include "sessiontest.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Body>
#include <Reqivo/CookieJar>

#include <QJsonArray>
#include <QJsonObject>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::RequestOptions;
using Reqivo::Response;

namespace {

// The zlib stream ("deflate" in HTTP) of \a data: qCompress() minus its 4-byte length prefix.
QByteArray deflate(const QByteArray &data)
{
    return qCompress(data, 9).mid(4);
}

} // namespace

class TestSessionMessages : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void requestHead_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<bool>("withBody");
        QTest::addColumn<QByteArray>("contentLength"); // empty: none sent
        QTest::newRow("GET") << QByteArray("GET") << false << QByteArray();
        QTest::newRow("HEAD") << QByteArray("HEAD") << false << QByteArray();
        QTest::newRow("DELETE") << QByteArray("DELETE") << false << QByteArray();
        QTest::newRow("POST without a body") << QByteArray("POST") << false << QByteArray("0");
        QTest::newRow("PUT with a body") << QByteArray("PUT") << true << QByteArray("4");
    }
    void requestHead()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, method);
            QFETCH(bool, withBody);
            QFETCH(QByteArray, contentLength);
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(200, "ok"));
            });
            AsyncSession session;
            RequestOptions opts;
            if (withBody)
                opts.body = Body::fromBytes("data", "text/x-test");
            const Outcome o = co_await attempt(
                session.request(method, server.url(u"/p/a%20th?q=1&r=%C3%A9"_s), opts));
            CO_EXPECT_OK(o);
            CO_COMPARE(server.requests().size(), qsizetype(1));
            const ReceivedRequest &r = server.requests().first();
            CO_COMPARE(r.method, method);
            CO_COMPARE(r.target, QByteArray("/p/a%20th?q=1&r=%C3%A9"));
            CO_COMPARE(r.version, QByteArray("HTTP/1.1"));
            CO_COMPARE(r.field("host"), "127.0.0.1:" + QByteArray::number(server.port()));
            CO_VERIFY2(
                r.field("user-agent").startsWith("Reqivo"), r.field("user-agent").constData());
            CO_COMPARE(r.field("accept"), QByteArray("*/*"));
            CO_COMPARE(r.field("accept-encoding"), QByteArray("gzip, deflate, br, zstd"));
            // Keep-alive is HTTP/1.1's default: asking for close would defeat the pool.
            CO_VERIFY2(!r.field("connection").toLower().contains("close"), r.head.constData());
            CO_COMPARE(r.field("content-length"), contentLength);
            CO_VERIFY(!r.hasField("transfer-encoding"));
            CO_COMPARE(
                r.field("content-type"), withBody ? QByteArray("text/x-test") : QByteArray());
            CO_COMPARE(r.body, withBody ? QByteArray("data") : QByteArray());
            // Exactly one Host field (RFC 9112 §3.2), sent first (RFC 9110 §7.2 SHOULD).
            CO_COMPARE(r.head.toLower().count("\r\nhost:"), qsizetype(1));
            CO_VERIFY2(r.fields.first().first.toLower() == "host", r.head.constData());
        }());
    }

    // Relative URLs resolve against the base URL with QUrl (RFC 3986 §5).
    void baseUrlResolution_data()
    {
        QTest::addColumn<QString>("base");
        QTest::addColumn<QString>("relative");
        QTest::addColumn<QByteArray>("target");
        QTest::newRow("relative path")
            << u"/api/v1/"_s << u"users/7"_s << QByteArray("/api/v1/users/7");
        QTest::newRow("absolute path") << u"/api/v1/"_s << u"/root"_s << QByteArray("/root");
        QTest::newRow("dot-dot") << u"/api/v1/"_s << u"../v2/x"_s << QByteArray("/api/v2/x");
        QTest::newRow("base without a trailing slash")
            << u"/api/v1"_s << u"users"_s << QByteArray("/api/users");
        QTest::newRow("query only")
            << u"/api/v1/list"_s << u"?page=2"_s << QByteArray("/api/v1/list?page=2");
    }
    void baseUrlResolution()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QString, base);
            QFETCH(QString, relative);
            QFETCH(QByteArray, target);
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                c.write(httpResponse(200, r.target));
            });
            AsyncSession session(server.url(base));
            CO_COMPARE(session.baseUrl(), server.url(base));
            const Outcome o = co_await attempt(session.get(QUrl(relative)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), target);
            CO_COMPARE(o.response.url(), server.url(QString::fromLatin1(target)));
            // An absolute URL ignores the base.
            FaultServer other([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(200, "other"));
            });
            const Outcome absolute = co_await attempt(session.get(other.url(u"/x"_s)));
            CO_EXPECT_OK(absolute);
            CO_COMPARE(absolute.response.body(), QByteArray("other"));
        }());
    }

    void statusLine_data()
    {
        QTest::addColumn<QByteArray>("statusLine");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("reason");
        QTest::addColumn<QString>("version");
        QTest::newRow("HTTP/1.1 200 OK")
            << QByteArray("HTTP/1.1 200 OK") << 200 << QByteArray("OK") << u"1.1"_s;
        QTest::newRow("HTTP/1.0") << QByteArray("HTTP/1.0 200 OK") << 200 << QByteArray("OK")
                                  << u"1.0"_s;
        QTest::newRow("reason with spaces") << QByteArray("HTTP/1.1 404 Not Found Here") << 404
                                            << QByteArray("Not Found Here") << u"1.1"_s;
        QTest::newRow("empty reason")
            << QByteArray("HTTP/1.1 200 ") << 200 << QByteArray() << u"1.1"_s;
        QTest::newRow("unregistered status")
            << QByteArray("HTTP/1.1 599 Custom") << 599 << QByteArray("Custom") << u"1.1"_s;
    }
    void statusLine()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, statusLine);
            QFETCH(int, status);
            QFETCH(QByteArray, reason);
            QFETCH(QString, version);
            FaultServer server([statusLine](ServerConnection &c, const ReceivedRequest &) {
                c.write(statusLine + "\r\nContent-Length: 2\r\n\r\nhi");
            });
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), status);
            CO_COMPARE(o.response.reason(), reason);
            CO_COMPARE(o.response.httpVersion(), version);
            CO_COMPARE(o.response.body(), QByteArray("hi"));
        }());
    }

    // Fields as received: order and repetitions kept (Set-Cookie cannot be comma-joined).
    void fieldsKeptAsReceived()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(
                    "HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Expires=Wed, 21 Oct 2065 07:28:00 GMT\r\n"
                    "X-Dup: one\r\nSet-Cookie: b=2\r\nx-dup:  two  \r\nContent-Length: 0\r\n\r\n");
            });
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            const Reqivo::Headers &h = o.response.headers();
            CO_COMPARE(h.size(), qsizetype(5));
            CO_COMPARE(h.values("set-cookie"),
                (QList<QByteArray> {"a=1; Expires=Wed, 21 Oct 2065 07:28:00 GMT", "b=2"}));
            CO_COMPARE(h.values("X-DUP"), (QList<QByteArray> {"one", "two"}));
            CO_COMPARE(h.nameAt(3).toByteArray(), QByteArray("x-dup"));
            CO_COMPARE(session.cookieJar()->cookies().size(), qsizetype(2));
        }());
    }

    void textCharset_data()
    {
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("text");
        QTest::newRow("no Content-Type: UTF-8")
            << QByteArray() << QByteArray("caf\xc3\xa9") << u"caf\u00e9"_s;
        QTest::newRow("charset=utf-8") << QByteArray("text/plain; charset=utf-8")
                                       << QByteArray("caf\xc3\xa9") << u"caf\u00e9"_s;
        QTest::newRow("charset=ISO-8859-1") << QByteArray("text/plain; charset=ISO-8859-1")
                                            << QByteArray("caf\xe9") << u"caf\u00e9"_s;
        QTest::newRow("quoted charset") << QByteArray("text/html; charset=\"latin1\"")
                                        << QByteArray("caf\xe9") << u"caf\u00e9"_s;
        QTest::newRow("unknown charset: UTF-8") << QByteArray("text/plain; charset=x-nonsense")
                                                << QByteArray("caf\xc3\xa9") << u"caf\u00e9"_s;
    }
    void textCharset()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, contentType);
            QFETCH(QByteArray, bytes);
            QFETCH(QString, text);
            FaultServer server([=](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(200, bytes,
                    contentType.isEmpty() ? QByteArray()
                                          : "Content-Type: " + contentType + "\r\n"));
            });
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.text(), text);
        }());
    }

    void json()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                c.write(httpResponse(200, r.target == "/good" ? "{\"a\":[1,2]}" : "{\"a\":",
                    "Content-Type: application/json\r\n"));
            });
            AsyncSession session;
            const Outcome good = co_await attempt(session.get(server.url(u"/good"_s)));
            CO_EXPECT_OK(good);
            CO_COMPARE(good.response.json().object().value(u"a"_s).toArray().size(), qsizetype(2));
            const Outcome bad = co_await attempt(session.get(server.url(u"/bad"_s)));
            CO_EXPECT_OK(bad);
            Reqivo::Error error;
            try {
                (void)bad.response.json();
            } catch (const Reqivo::ReqivoError &e) {
                error = e.error();
            }
            CO_COMPARE(error.typeName(), u"InvalidResponseError"_s);
        }());
    }

    // The server takes 200 ms to answer: elapsed() covers it.
    void elapsedCoversTheWait()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                QTimer::singleShot(200ms, &c, [&c] { c.write(httpResponse(200, "late")); });
            });
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_VERIFY2(o.response.elapsed() >= 180ms && o.response.elapsed() <= o.took + 5ms,
                qPrintable(QString::number(o.response.elapsed().count())));
        }());
    }

    void compressedBodies_data()
    {
        QTest::addColumn<QByteArray>("coding");
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QByteArray>("expected"); // empty: an error
        const QByteArray text = QByteArray("compress me ").repeated(1000);
        QTest::newRow("deflate") << QByteArray("deflate") << deflate(text) << text;
        QTest::newRow("deflate, upper-case coding")
            << QByteArray("DEFLATE") << deflate(text) << text;
        QTest::newRow("corrupt deflate")
            << QByteArray("deflate") << QByteArray("not zlib at all") << QByteArray();
        QTest::newRow("truncated deflate")
            << QByteArray("deflate") << deflate(text).chopped(10) << QByteArray();
        QTest::newRow("corrupt gzip")
            << QByteArray("gzip") << QByteArray("\x1f\x8bnot really") << QByteArray();
    }
    void compressedBodies()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, coding);
            QFETCH(QByteArray, bytes);
            QFETCH(QByteArray, expected);
            FaultServer server([=](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(200, bytes, "Content-Encoding: " + coding + "\r\n"));
            });
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url()));
            if (expected.isEmpty()) {
                CO_EXPECT_ERROR(o, "InvalidResponseError");
            } else {
                CO_EXPECT_OK(o);
                CO_COMPARE(o.response.body(), expected);
            }
        }());
    }

    // 16 MiB of zeros deflate to about 16 KiB: with a ratio limit of 100 the decoder must stop
    // long before it has inflated the lot.
    void decompressionBombRefused()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const QByteArray bomb = deflate(QByteArray(16 * 1024 * 1024, '\0'));
            CO_VERIFY(bomb.size() < 64 * 1024);
            FaultServer server([bomb](ServerConnection &c, const ReceivedRequest &r) {
                if (r.target == "/next")
                    c.write(httpResponse(200, "fine"));
                else
                    c.write(httpResponse(200, bomb, "Content-Encoding: deflate\r\n"));
            });
            AsyncSession session;
            Reqivo::Limits limits;
            limits.maxDecompressionRatio = 100;
            session.setLimits(limits);
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_ERROR_ISA(o, Protocol);
            // Streaming hits the same wall, after at most a bounded amount of output.
            const Outcome streamed
                = co_await attempt(session.get(server.url(), RequestOptions().streaming()));
            qint64 delivered = 0;
            Reqivo::Error error = streamed.error;
            if (streamed.ok()) {
                Response r = streamed.response;
                while (true) {
                    const BytesOutcome piece = co_await attemptBytes(r.readChunk());
                    if (!piece.ok()) {
                        error = piece.error;
                        break;
                    }
                    if (piece.bytes.isEmpty())
                        break;
                    delivered += piece.bytes.size();
                }
            }
            CO_VERIFY2(error.isA(Reqivo::Error::Kind::Protocol), qPrintable(error.toString()));
            CO_VERIFY2(delivered < 8 * 1024 * 1024, qPrintable(QString::number(delivered)));
            // The session goes on.
            const Outcome next = co_await attempt(session.get(server.url(u"/next"_s)));
            CO_EXPECT_OK(next);
            CO_COMPARE(next.response.body(), QByteArray("fine"));
        }());
    }
};

QTEST_GUILESS_MAIN(TestSessionMessages)
#include "tst_session_messages.moc"
