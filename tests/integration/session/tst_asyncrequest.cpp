// AsyncRequest, the one-shot API: each call is its own private session (own connection, no
// cookie memory, nothing shared), yet a streamed response must outlive the call that made it —
// its body is read after send() has returned and the private session is otherwise gone.
#include "faultserver.h"
#include "sessiontest.h"
#include "support/peers.h"

#include <Reqivo/AsyncRequest>
#include <Reqivo/Body>

#include <QCryptographicHash>
#include <QJsonObject>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncRequest;
using Reqivo::Body;
using Reqivo::RequestOptions;
using Reqivo::Response;

namespace {

QUrl httpbinUrl(const QString &path)
{
    static const QUrl base
        = ReqivoTest::peerUrl(ReqivoTest::loadPeerEnv(u"httpbin"_s), u"HTTPBIN_URL"_s);
    return QUrl(base.toString() + path);
}

const QHash<QString, QString> &nginx()
{
    static const QHash<QString, QString> env = ReqivoTest::loadPeerEnv(u"nginx"_s);
    return env;
}

} // namespace

class TestAsyncRequest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void get()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const Outcome o = co_await attempt(AsyncRequest::get(
                httpbinUrl(u"/get?x=1"_s), RequestOptions().header("X-One", "shot")));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            const QJsonObject echo = o.response.json().object();
            CO_COMPARE(echo.value(u"args"_s).toObject().value(u"x"_s).toString(), u"1"_s);
            CO_COMPARE(echo.value(u"headers"_s).toObject().value(u"X-One"_s).toString(), u"shot"_s);
            CO_VERIFY(!o.response.connectionReused());
        }());
    }

    void verbsWithBodies_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::newRow("POST") << QByteArray("POST");
        QTest::newRow("PUT") << QByteArray("PUT");
        QTest::newRow("PATCH") << QByteArray("PATCH");
    }
    void verbsWithBodies()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, method);
            const Body body = Body::fromJson(QJsonObject {{u"n"_s, 7}});
            const QUrl url = httpbinUrl(u"/anything"_s);
            QCoro::Task<Response> task = method == "POST" ? AsyncRequest::post(url, body)
                : method == "PUT"                         ? AsyncRequest::put(url, body)
                                                          : AsyncRequest::patch(url, body);
            const Outcome o = co_await attempt(std::move(task));
            CO_EXPECT_OK(o);
            const QJsonObject echo = o.response.json().object();
            CO_COMPARE(echo.value(u"method"_s).toString(), QString::fromLatin1(method));
            CO_COMPARE(echo.value(u"json"_s).toObject(), (QJsonObject {{u"n"_s, 7}}));
        }());
    }

    // The body is read after send() returned: the private session must stay alive for it.
    void streamedGet_data()
    {
        QTest::addColumn<bool>("fromNginx");
        QTest::newRow("httpbin, chunked") << false;
        QTest::newRow("nginx, 16 MiB with Content-Length") << true;
    }
    void streamedGet()
    {
        RUN_CORO(
            []() -> QCoro::Task<void> {
                QFETCH(bool, fromNginx);
                const QUrl url = fromNginx
                    ? ReqivoTest::peerUrl(nginx(), u"NGINX_HTTP_URL"_s,
                        ReqivoTest::peerValue(nginx(), u"NGINX_LARGE_PATH"_s))
                    : httpbinUrl(u"/stream-bytes/60000?seed=5&chunk_size=4000"_s);
                const qint64 size = fromNginx
                    ? ReqivoTest::peerValue(nginx(), u"NGINX_LARGE_SIZE"_s).toLongLong()
                    : 60000;
                Response r;
                {
                    const Outcome o
                        = co_await attempt(AsyncRequest::get(url, RequestOptions().streaming()));
                    CO_EXPECT_OK(o);
                    r = o.response;
                }
                CO_VERIFY(r.isStreaming());
                // Let anything scheduled for deletion go: one turn of the loop delivers the
                // deferred deletions posted so far.
                co_await ReqivoTest::eventsFlushed();
                QCryptographicHash sha(QCryptographicHash::Sha256);
                qint64 total = 0;
                while (true) {
                    const BytesOutcome piece = co_await attemptBytes(r.readChunk());
                    CO_VERIFY2(piece.ok(), qPrintable(piece.error.toString()));
                    if (piece.bytes.isEmpty())
                        break;
                    total += piece.bytes.size();
                    sha.addData(piece.bytes);
                }
                CO_COMPARE(total, size);
                if (fromNginx)
                    CO_COMPARE(QString::fromLatin1(sha.result().toHex()),
                        ReqivoTest::peerValue(nginx(), u"NGINX_LARGE_SHA256"_s));
            }(),
            120s);
    }

    // readAll() after send() returned buffers the rest, and body() then has it.
    void streamedReadAll()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const Outcome o = co_await attempt(
                AsyncRequest::get(httpbinUrl(u"/stream/5"_s), RequestOptions().streaming()));
            CO_EXPECT_OK(o);
            Response r = o.response;
            const QByteArray all = co_await r.readAll();
            CO_COMPARE(all.count('\n'), qsizetype(5));
            CO_COMPARE(r.body(), all);
        }());
    }

    // No cookie memory: what one call was given is not sent by the next.
    void keepsNoCookies()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const Outcome set
                = co_await attempt(AsyncRequest::get(httpbinUrl(u"/cookies/set?k=v"_s)));
            CO_EXPECT_OK(set);
            CO_COMPARE(set.response.history().size(), qsizetype(1));
            CO_VERIFY(
                set.response.history().first().headers().value("set-cookie").startsWith("k=v"));
            const Outcome later = co_await attempt(AsyncRequest::get(httpbinUrl(u"/cookies"_s)));
            CO_EXPECT_OK(later);
            CO_COMPARE(
                later.response.json().object().value(u"cookies"_s).toObject(), QJsonObject());
        }());
    }

    // Nothing is shared: each call has its own connection, closed when the call is done.
    void eachCallHasItsOwnConnection()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                c.write(httpResponse(200, QByteArray::number(r.connection)));
            });
            const Outcome first = co_await attempt(AsyncRequest::get(server.url()));
            CO_EXPECT_OK(first);
            const Outcome second = co_await attempt(AsyncRequest::get(server.url()));
            CO_EXPECT_OK(second);
            CO_COMPARE(first.response.body(), QByteArray("1"));
            CO_COMPARE(second.response.body(), QByteArray("2"));
            CO_VERIFY(!second.response.connectionReused());
            CO_VERIFY2(co_await waitUntil([&] { return server.openConnections() == 0; }),
                "a one-shot request must not leave its connection open");
        }());
    }

    void errors()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer silent([](ServerConnection &, const ReceivedRequest &) {});
            Reqivo::Timeout t;
            t.read = 200ms;
            const Outcome timeout = co_await attempt(
                AsyncRequest::get(silent.url(), RequestOptions().withTimeout(t)));
            CO_EXPECT_ERROR(timeout, "ReadTimeout");

            const Outcome status
                = co_await attempt(AsyncRequest::get(httpbinUrl(u"/status/503"_s)));
            CO_EXPECT_OK(status);
            CO_COMPARE(status.response.status(), 503);

            const Outcome scheme = co_await attempt(AsyncRequest::get(QUrl(u"ftp://127.0.0.1/"_s)));
            CO_EXPECT_ERROR(scheme, "RequestError");
        }());
    }
};

QTEST_GUILESS_MAIN(TestAsyncRequest)
#include "tst_asyncrequest.moc"
