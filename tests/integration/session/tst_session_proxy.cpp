// AsyncSession through proxies: an HTTP CONNECT proxy and a SOCKS5 proxy on loopback (the
// transport tests' own, from tests/unit/transport/testproxies.h), in front of a scripted origin
// and of nginx over TLS. What matters at the session level: proxy credentials reach the proxy
// and never the origin, a tunnel is kept alive like any connection, and proxied and direct
// connections never share a pool slot.
#include "faultserver.h"
#include "sessiontest.h"
#include "support/peers.h"
#include "unit/transport/testproxies.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/asyncconnectionpool.h>

#include <QNetworkProxy>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Endpoint;

namespace {

void answerWithConnection(ServerConnection &c, const ReceivedRequest &r)
{
    c.write(httpResponse(200, QByteArray::number(r.connection)));
}

} // namespace

class TestSessionProxy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void throughProxy_data()
    {
        QTest::addColumn<int>("type"); // QNetworkProxy::ProxyType
        QTest::addColumn<bool>("withCredentials");
        QTest::newRow("HTTP CONNECT") << int(QNetworkProxy::HttpProxy) << false;
        QTest::newRow("HTTP CONNECT with Basic credentials")
            << int(QNetworkProxy::HttpProxy) << true;
        QTest::newRow("SOCKS5") << int(QNetworkProxy::Socks5Proxy) << false;
        QTest::newRow("SOCKS5 with user and password") << int(QNetworkProxy::Socks5Proxy) << true;
    }
    void throughProxy()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(int, type);
            QFETCH(bool, withCredentials);
            FaultServer origin(answerWithConnection);
            ReqivoTest::HttpConnectProxy http;
            ReqivoTest::Socks5Proxy socks;
            ReqivoTest::ProxyBase &proxy = type == QNetworkProxy::HttpProxy
                ? static_cast<ReqivoTest::ProxyBase &>(http)
                : static_cast<ReqivoTest::ProxyBase &>(socks);
            CO_VERIFY(proxy.listen());
            if (withCredentials) {
                http.requiredAuthorization = "Basic " + QByteArray("user:s3cret").toBase64();
                socks.requiredUser = "user";
                socks.requiredPassword = "s3cret";
            }
            AsyncSession session;
            QNetworkProxy setting(QNetworkProxy::ProxyType(type), u"127.0.0.1"_s, proxy.port());
            if (withCredentials) {
                setting.setUser(u"user"_s);
                setting.setPassword(u"s3cret"_s);
            }
            session.setProxy(setting);

            for (int i = 0; i < 3; ++i) {
                const Outcome o = co_await attempt(session.get(origin.url(u"/via"_s)));
                CO_EXPECT_OK(o);
                CO_COMPARE(o.response.body(), QByteArray("1"));
                CO_COMPARE(o.response.connectionReused(), i > 0);
            }
            // One tunnel, kept alive, to the origin.
            CO_COMPARE(proxy.targets, QStringList {u"127.0.0.1:%1"_s.arg(origin.port())});
            CO_COMPARE(origin.connectionCount(), 1);
            // The origin never sees proxy credentials.
            for (const ReceivedRequest &r : origin.requests())
                CO_VERIFY2(!r.hasField("proxy-authorization"), r.head.constData());
            if (withCredentials && type == QNetworkProxy::HttpProxy)
                // Sent preemptively or after a 407 challenge: either way the tunnel that was
                // opened was authorised with them.
                CO_COMPARE(http.authorizations.last(), http.requiredAuthorization);
            if (withCredentials && type == QNetworkProxy::Socks5Proxy)
                CO_COMPARE(socks.users, QList<QByteArray> {"user"});

            // The same origin without the proxy is another pool entry: a new, direct connection.
            session.setProxy(QNetworkProxy(QNetworkProxy::NoProxy));
            const Outcome direct = co_await attempt(session.get(origin.url(u"/direct"_s)));
            CO_EXPECT_OK(direct);
            CO_COMPARE(direct.response.body(), QByteArray("2"));
            CO_VERIFY(!direct.response.connectionReused());
            CO_COMPARE(proxy.targets.size(), qsizetype(1));
        }());
    }

    void wrongProxyCredentials()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer origin(answerWithConnection);
            ReqivoTest::HttpConnectProxy proxy;
            CO_VERIFY(proxy.listen());
            proxy.requiredAuthorization = "Basic " + QByteArray("user:right").toBase64();
            AsyncSession session;
            session.setProxy(QNetworkProxy(
                QNetworkProxy::HttpProxy, u"127.0.0.1"_s, proxy.port(), u"user"_s, u"wrong"_s));
            const Outcome o = co_await attempt(session.get(origin.url()));
            CO_EXPECT_ERROR_ISA(o, Network);
            CO_COMPARE(origin.connectionCount(), 0);
            CO_COMPARE(session.pool()->totalCount(), 0);
        }());
    }

    // TLS inside the tunnel, end to end with nginx: the proxy relays bytes it cannot read.
    void httpsThroughConnectProxy()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const auto nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
            ReqivoTest::HttpConnectProxy proxy;
            CO_VERIFY(proxy.listen());
            AsyncSession session;
            Reqivo::TlsOptions tls;
            QString error;
            CO_VERIFY2(tls.addCaCertificatesFromFile(
                           ReqivoTest::peerValue(nginx, u"NGINX_CA_FILE"_s), &error),
                qPrintable(error));
            session.setTlsOptions(tls);
            session.setProxy(QNetworkProxy(QNetworkProxy::HttpProxy, u"127.0.0.1"_s, proxy.port()));
            const QUrl url = ReqivoTest::peerUrl(nginx, u"NGINX_HTTPS_URL"_s, u"/small.txt"_s);
            const Outcome o = co_await attempt(session.get(url));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), QByteArray("Hello from nginx\n"));
            CO_COMPARE(proxy.targets,
                QStringList {
                    u"127.0.0.1:"_s + ReqivoTest::peerValue(nginx, u"NGINX_HTTPS_PORT"_s)});
            CO_VERIFY(proxy.relayedUpstream > 0);
        }());
    }
};

QTEST_GUILESS_MAIN(TestSessionProxy)
#include "tst_session_proxy.moc"
