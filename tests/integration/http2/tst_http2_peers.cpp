// HTTP/2 through co_await against real servers on loopback: nginx with `http2` on a TLS
// listener (ALPN), and nghttpd for cleartext prior knowledge. What a user does: GETs, many at
// once on one connection, streamed downloads and uploads, decompression, redirects between
// HTTP/2 and HTTP/1.1, the version policy (session, request, per host), cancellation, and
// HTTP/2 through HTTP CONNECT and SOCKS5 tunnels.
#include "integration/session/sessiontest.h"
#include "support/peers.h"
#include "unit/transport/testproxies.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Body>
#include <Reqivo/Reply>
#include <Reqivo/WhenAll>
#include <Reqivo/asyncconnectionpool.h>

#include <QCoro/QCoroSignal>

#include <QBuffer>
#include <QCryptographicHash>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::HttpVersion;
using Reqivo::RequestOptions;
using Reqivo::Response;
using Reqivo::TlsOptions;

namespace {

const QHash<QString, QString> &nginx()
{
    static const QHash<QString, QString> env = ReqivoTest::loadPeerEnv(u"nginx"_s);
    return env;
}
const QHash<QString, QString> &nghttpd()
{
    static const QHash<QString, QString> env = ReqivoTest::loadPeerEnv(u"nghttpd"_s);
    return env;
}
QUrl h2Url(const QString &path)
{
    return ReqivoTest::peerUrl(nginx(), u"NGINX_H2_URL"_s, path);
}
QUrl nginxHttpUrl(const QString &path)
{
    return ReqivoTest::peerUrl(nginx(), u"NGINX_HTTP_URL"_s, path);
}
QUrl nghttpdUrl(const QString &path)
{
    return ReqivoTest::peerUrl(nghttpd(), u"NGHTTPD_URL"_s, path);
}

TlsOptions trusting(const QString &caFile)
{
    TlsOptions tls;
    QString error;
    if (!tls.addCaCertificatesFromFile(caFile, &error))
        qFatal("cannot load the test CA: %s", qPrintable(error));
    return tls;
}

// A session that trusts nginx's test CA.
std::unique_ptr<AsyncSession> nginxSession()
{
    auto session = std::make_unique<AsyncSession>();
    session->setTlsOptions(trusting(ReqivoTest::peerValue(nginx(), u"NGINX_CA_FILE"_s)));
    return session;
}

const QByteArray smallBody("Hello from nginx\n");

QByteArray sha256Hex(const QByteArray &data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

// \a data in pieces of \a size. A plain function: GCC 12 destroys the captures of a coroutine
// lambda twice.
Body::Generator pieces(QByteArray data, qsizetype size)
{
    for (qsizetype at = 0; at < data.size(); at += size)
        co_yield data.mid(at, size);
}

Reqivo::Endpoint h2Endpoint()
{
    Reqivo::Endpoint e = Reqivo::Endpoint::fromUrl(h2Url({}));
    e.tlsOptions = trusting(ReqivoTest::peerValue(nginx(), u"NGINX_CA_FILE"_s));
    e.httpVersion = HttpVersion::Http2;
    return e;
}

} // namespace

class TestHttp2Peers : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void getOverAlpn()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const auto session = nginxSession();
            const Outcome o = co_await attempt(session->get(h2Url(u"/small.txt"_s)));
            CO_VERIFY2(o.ok(), qPrintable(o.describe()));
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.httpVersion(), u"2"_s);
            CO_COMPARE(o.response.body(), smallBody);
            CO_COMPARE(o.response.header("content-type"), QByteArray("text/plain"));
            CO_VERIFY(!o.response.connectionReused());
            // The same connection carries the next request.
            const Outcome again = co_await attempt(session->get(h2Url(u"/hello.json"_s)));
            CO_VERIFY2(again.ok(), qPrintable(again.describe()));
            CO_COMPARE(again.response.httpVersion(), u"2"_s);
            CO_VERIFY(again.response.connectionReused());
            CO_COMPARE(session->pool()->totalCount(), 1);
        }());
    }

    void versionPolicy_data()
    {
        QTest::addColumn<int>("sessionVersion");
        QTest::addColumn<int>("requestVersion"); // -1: none
        QTest::addColumn<bool>("optOut");
        QTest::addColumn<QString>("expected");
        QTest::newRow("default") << int(HttpVersion::Http2) << -1 << false << u"2"_s;
        QTest::newRow("session 1.1") << int(HttpVersion::Http1_1) << -1 << false << u"1.1"_s;
        QTest::newRow("request 1.1") << int(HttpVersion::Http2) << int(HttpVersion::Http1_1)
                                     << false << u"1.1"_s;
        QTest::newRow("request 2 on a 1.1 session")
                << int(HttpVersion::Http1_1) << int(HttpVersion::Http2) << false << u"2"_s;
        QTest::newRow("host opted out") << int(HttpVersion::Http2) << int(HttpVersion::Http2)
                                        << true << u"1.1"_s;
        QTest::newRow("prior knowledge over TLS reads as ALPN")
                << int(HttpVersion::Http2PriorKnowledge) << -1 << false << u"2"_s;
    }
    void versionPolicy()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(int, sessionVersion);
            QFETCH(int, requestVersion);
            QFETCH(bool, optOut);
            QFETCH(QString, expected);
            const auto session = nginxSession();
            session->setHttpVersion(HttpVersion(sessionVersion));
            if (optOut)
                session->setHttp1OnlyHosts({u"127.0.0.1"_s});
            RequestOptions opts;
            if (requestVersion >= 0)
                opts.withHttpVersion(HttpVersion(requestVersion));
            const Outcome o = co_await attempt(session->get(h2Url(u"/small.txt"_s), opts));
            CO_VERIFY2(o.ok(), qPrintable(o.describe()));
            CO_COMPARE(o.response.httpVersion(), expected);
            CO_COMPARE(o.response.body(), smallBody);
        }());
    }

    void cleartextStaysHttp11WithoutPriorKnowledge()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            AsyncSession session; // the default policy offers h2 only by ALPN
            const Outcome o = co_await attempt(session.get(nginxHttpUrl(u"/small.txt"_s)));
            CO_VERIFY2(o.ok(), qPrintable(o.describe()));
            CO_COMPARE(o.response.httpVersion(), u"1.1"_s);
        }());
    }

    void priorKnowledgeToNghttpd()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            AsyncSession session;
            session.setHttpVersion(HttpVersion::Http2PriorKnowledge);
            const QString small = ReqivoTest::peerValue(nghttpd(), u"NGHTTPD_SMALL_PATH"_s);
            const Outcome o = co_await attempt(session.get(nghttpdUrl(small)));
            CO_VERIFY2(o.ok(), qPrintable(o.describe()));
            CO_COMPARE(o.response.httpVersion(), u"2"_s);
            CO_COMPARE(o.response.body(), QByteArray("Hello from nghttpd\n"));
            // Uploads are echoed.
            const QByteArray payload(300 * 1024, 'u');
            // The task is made outside the co_await expression: GCC 12 destroys temporaries
            // made inside one twice.
            auto posting = session.post(nghttpdUrl(u"/echo"_s), Body::fromBytes(payload));
            const Outcome echo = co_await attempt(std::move(posting));
            CO_VERIFY2(echo.ok(), qPrintable(echo.describe()));
            CO_COMPARE(echo.response.body().size(), payload.size());
            CO_VERIFY(echo.response.body() == payload);
            CO_VERIFY(echo.response.connectionReused());
        }());
    }

    void priorKnowledgeToAnHttp11ServerFailsClearly()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            AsyncSession session;
            session.setHttpVersion(HttpVersion::Http2PriorKnowledge);
            const Outcome o = co_await attempt(session.get(nginxHttpUrl(u"/small.txt"_s)));
            CO_VERIFY(!o.ok());
            CO_VERIFY2(o.error.isA(Reqivo::Error::Kind::Protocol)
                               || o.error.isA(Reqivo::Error::Kind::Network),
                       qPrintable(o.describe()));
            // A cleartext request without prior knowledge still works.
            const Outcome h1 = co_await attempt(session.get(
                    nginxHttpUrl(u"/small.txt"_s), RequestOptions().withHttpVersion(HttpVersion::Http2)));
            CO_VERIFY2(h1.ok(), qPrintable(h1.describe()));
        }());
    }

    void manyConcurrentRequestsShareOneConnection()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const auto session = nginxSession();
            std::vector<QCoro::Task<Response>> tasks;
            for (int i = 0; i < 32; ++i)
                tasks.push_back(session->get(h2Url(u"/small.txt"_s)));
            const std::vector<Response> responses = co_await Reqivo::whenAll(std::move(tasks));
            CO_COMPARE(int(responses.size()), 32);
            for (const Response &r : responses) {
                CO_COMPARE(r.httpVersion(), u"2"_s);
                CO_COMPARE(r.body(), smallBody);
            }
            // One TLS connection carried all of them: the others waited for its ALPN answer.
            CO_COMPARE(session->pool()->totalCount(), 1);
            CO_COMPARE(session->pool()->activeCount(h2Endpoint()), 1);
        }());
    }

    void largeDownloadStreamed()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const auto session = nginxSession();
            const QString path = ReqivoTest::peerValue(nginx(), u"NGINX_LARGE_PATH"_s);
            const qint64 size = ReqivoTest::peerValue(nginx(), u"NGINX_LARGE_SIZE"_s).toLongLong();
            const QByteArray sha = ReqivoTest::peerValue(nginx(), u"NGINX_LARGE_SHA256"_s).toLatin1();
            Response r = co_await session->get(h2Url(path), RequestOptions().streaming());
            CO_COMPARE(r.httpVersion(), u"2"_s);
            QCryptographicHash hash(QCryptographicHash::Sha256);
            qint64 total = 0;
            while (true) {
                const QByteArray chunk = co_await r.readChunk();
                if (chunk.isEmpty())
                    break;
                total += chunk.size();
                hash.addData(chunk);
            }
            CO_COMPARE(total, size);
            CO_COMPARE(hash.result().toHex(), sha);
            // That memory stays bounded by the stream's window whatever the body's size is
            // tst_session_nginx_h2's largeFileStreamedWithBoundedMemory.
        }());
    }

    void aStalledReaderBlocksOnlyItsOwnStream()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const auto session = nginxSession();
            const QString path = ReqivoTest::peerValue(nginx(), u"NGINX_LARGE_PATH"_s);
            // A streamed body nobody reads: its window fills and closes.
            Response stalled = co_await session->get(h2Url(path), RequestOptions().streaming());
            CO_COMPARE(stalled.httpVersion(), u"2"_s);
            const QByteArray first = co_await stalled.readChunk();
            CO_VERIFY(!first.isEmpty());
            // Another request on the same connection still gets its answer.
            for (int i = 0; i < 5; ++i) {
                const Outcome o = co_await attempt(session->get(h2Url(u"/small.txt"_s)));
                CO_VERIFY2(o.ok(), qPrintable(o.describe()));
                CO_COMPARE(o.response.body(), smallBody);
                CO_VERIFY(o.response.connectionReused());
            }
            CO_COMPARE(session->pool()->totalCount(), 1);
            // And the stalled one still reads to its end.
            const QByteArray rest = co_await stalled.readAll();
            const qint64 size = ReqivoTest::peerValue(nginx(), u"NGINX_LARGE_SIZE"_s).toLongLong();
            CO_COMPARE(first.size() + rest.size(), size);
        }());
    }

    void uploads_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("bytes") << u"bytes"_s;
        QTest::newRow("device") << u"device"_s;
        QTest::newRow("generator") << u"generator"_s;
    }
    void uploads()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QString, kind);
            const auto session = nginxSession();
            QByteArray payload(3 * 1024 * 1024 + 17, Qt::Uninitialized);
            for (qsizetype i = 0; i < payload.size(); ++i)
                payload[i] = char((i * 131) >> 3);
            QBuffer buffer(&payload);
            buffer.open(QIODevice::ReadOnly);
            Body body;
            if (kind == u"bytes"_s) {
                body = Body::fromBytes(payload);
            } else if (kind == u"device"_s) {
                body = Body::fromDevice(&buffer, payload.size());
            } else {
                body = Body::fromGenerator([payload] { return pieces(payload, 100000); });
            }
            qint64 lastSent = 0;
            Reqivo::Reply *reply
                    = session->send("PUT", h2Url(u"/echo"_s), RequestOptions().withBody(body));
            QObject::connect(reply, &Reqivo::Reply::uploadProgress, reply,
                             [&lastSent](qint64 sent, qint64) { lastSent = sent; });
            co_await qCoro(reply, &Reqivo::Reply::finished);
            Outcome o;
            o.response = reply->response();
            o.error = reply->error();
            delete reply;
            CO_VERIFY2(o.ok(), qPrintable(o.describe()));
            CO_COMPARE(o.response.httpVersion(), u"2"_s);
            CO_COMPARE(o.response.body().size(), payload.size());
            CO_COMPARE(sha256Hex(o.response.body()), sha256Hex(payload));
            CO_COMPARE(lastSent, qint64(payload.size()));
        }());
    }

    void gzipIsDecoded()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const auto session = nginxSession();
            const Outcome o = co_await attempt(session->get(h2Url(u"/gzip/small.txt"_s)));
            CO_VERIFY2(o.ok(), qPrintable(o.describe()));
            CO_COMPARE(o.response.httpVersion(), u"2"_s);
            CO_COMPARE(o.response.header("content-encoding"), QByteArray("gzip"));
            CO_COMPARE(o.response.body(), smallBody);
        }());
    }

    void redirects()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const auto session = nginxSession();
            // h2 → h2 (relative Location).
            const Outcome same = co_await attempt(session->get(h2Url(u"/redirect"_s)));
            CO_VERIFY2(same.ok(), qPrintable(same.describe()));
            CO_COMPARE(same.response.httpVersion(), u"2"_s);
            CO_COMPARE(same.response.body(), smallBody);
            CO_COMPARE(same.response.history().size(), 1);
            // h2 → HTTP/1.1 (an absolute http:// Location).
            const Outcome down = co_await attempt(session->get(h2Url(u"/redirect-absolute"_s)));
            CO_VERIFY2(down.ok(), qPrintable(down.describe()));
            CO_COMPARE(down.response.history().first().httpVersion(), u"2"_s);
            CO_COMPARE(down.response.httpVersion(), u"1.1"_s);
            CO_COMPARE(down.response.body(), smallBody);
            // And back: HTTP/1.1 → h2, through a request hook-free redirect on the h1 port.
            const QUrl back = nginxHttpUrl(u"/redirect"_s);
            const Outcome h1 = co_await attempt(session->get(back));
            CO_VERIFY2(h1.ok(), qPrintable(h1.describe()));
            CO_COMPARE(h1.response.httpVersion(), u"1.1"_s);
            const Outcome again = co_await attempt(session->get(h2Url(u"/small.txt"_s)));
            CO_VERIFY2(again.ok(), qPrintable(again.describe()));
            CO_COMPARE(again.response.httpVersion(), u"2"_s);
            CO_VERIFY(again.response.connectionReused());
        }());
    }

    void cancellingAStreamLeavesTheConnectionUsable()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const auto session = nginxSession();
            const QString path = ReqivoTest::peerValue(nginx(), u"NGINX_LARGE_PATH"_s);
            {
                Response r = co_await session->get(h2Url(path), RequestOptions().streaming());
                CO_COMPARE(r.httpVersion(), u"2"_s);
                const QByteArray first = co_await r.readChunk();
                CO_VERIFY(!first.isEmpty());
            } // dropped unread: RST_STREAM(CANCEL)
            {
                // Aborted while the request waits for its head: the owner goes away.
                auto owner = std::make_unique<QObject>();
                Reqivo::Reply *reply = session->send("GET", h2Url(path),
                                                     RequestOptions().cancelWith(owner.get()));
                reply->abort();
                co_await qCoro(reply, &Reqivo::Reply::finished);
                CO_VERIFY(!reply->error().isNull());
                CO_COMPARE(reply->error().detail(), u"aborted"_s);
                delete reply;
            }
            const Outcome next = co_await attempt(session->get(h2Url(u"/small.txt"_s)));
            CO_VERIFY2(next.ok(), qPrintable(next.describe()));
            CO_VERIFY(next.response.connectionReused());
            CO_COMPARE(session->pool()->totalCount(), 1);
        }());
    }

    void statusWithoutBodyAndHead()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const auto session = nginxSession();
            const Outcome none = co_await attempt(session->get(h2Url(u"/status/204"_s)));
            CO_VERIFY2(none.ok(), qPrintable(none.describe()));
            CO_COMPARE(none.response.status(), 204);
            CO_VERIFY(none.response.body().isEmpty());
            const Outcome head = co_await attempt(session->head(h2Url(u"/small.txt"_s)));
            CO_VERIFY2(head.ok(), qPrintable(head.describe()));
            CO_COMPARE(head.response.header("content-length"), QByteArray("17"));
            CO_VERIFY(head.response.body().isEmpty());
            const Outcome missing = co_await attempt(session->get(h2Url(u"/missing"_s)));
            CO_VERIFY2(missing.ok(), qPrintable(missing.describe()));
            CO_COMPARE(missing.response.status(), 404);
        }());
    }

    void throughProxies_data()
    {
        QTest::addColumn<bool>("socks");
        QTest::newRow("HTTP CONNECT") << false;
        QTest::newRow("SOCKS5") << true;
    }
    void throughProxies()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(bool, socks);
            std::unique_ptr<ReqivoTest::ProxyBase> proxy;
            if (socks)
                proxy = std::make_unique<ReqivoTest::Socks5Proxy>();
            else
                proxy = std::make_unique<ReqivoTest::HttpConnectProxy>();
            CO_VERIFY(proxy->listen());
            const auto session = nginxSession();
            session->setProxy(QNetworkProxy(socks ? QNetworkProxy::Socks5Proxy
                                                  : QNetworkProxy::HttpProxy,
                                            u"127.0.0.1"_s, proxy->port()));
            const Outcome o = co_await attempt(session->get(h2Url(u"/small.txt"_s)));
            CO_VERIFY2(o.ok(), qPrintable(o.describe()));
            CO_COMPARE(o.response.httpVersion(), u"2"_s);
            CO_COMPARE(o.response.body(), smallBody);
            CO_COMPARE(proxy->targets.size(), 1);
        }());
    }
};

QTEST_GUILESS_MAIN(TestHttp2Peers)
#include "tst_http2_peers.moc"
