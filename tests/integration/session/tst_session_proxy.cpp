// AsyncSession through proxies: an HTTP proxy (CONNECT and absolute form) and a SOCKS5 proxy on
// loopback (the transport tests' own, from tests/unit/transport/testproxies.h), in front of a
// scripted origin (plain and TLS) and of nginx over TLS. What matters at the session level:
// proxy credentials reach the proxy and never the origin, http:// goes in absolute form and
// https:// through CONNECT, a proxy connection is kept alive like any connection, proxied and
// direct connections never share a pool slot, and the proxy is chosen as curl chooses it from
// the environment (http_proxy, https_proxy, all_proxy, no_proxy), setProxy(), setNoProxy() and
// the system's configuration.
#include "faultserver.h"
#include "sessiontest.h"
#include "support/peers.h"
#include "unit/transport/testproxies.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/asyncconnectionpool.h>

#include <Reqivo/Session>

#include <QNetworkProxy>
#include <QTcpServer>
#include <QTcpSocket>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Endpoint;

namespace {

// The proxy asks for user:s3cret, with Basic (\a digestAlgorithm empty) or Digest.
void requireCredentials(ReqivoTest::HttpConnectProxy &proxy, const QByteArray &digestAlgorithm)
{
    if (digestAlgorithm.isEmpty()) {
        proxy.requiredAuthorization = "Basic " + QByteArray("user:s3cret").toBase64();
    } else {
        proxy.digestUser = "user";
        proxy.digestPassword = "s3cret";
        proxy.digestAlgorithm = digestAlgorithm;
    }
}

void answerWithConnection(ServerConnection &c, const ReceivedRequest &r)
{
    c.write(httpResponse(200, QByteArray::number(r.connection)));
}

const char *const proxyVariables[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
    "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"};

// The proxy variables of one test: cleared, set as asked, and put back as they were at the end.
class ScopedProxyEnvironment
{
public:
    using Variables = QList<std::pair<const char *, QByteArray>>;
    ScopedProxyEnvironment(std::initializer_list<std::pair<const char *, QByteArray>> set)
        : ScopedProxyEnvironment(Variables(set))
    {
    }
    explicit ScopedProxyEnvironment(const Variables &set)
    {
        for (const char *name : proxyVariables) {
            m_saved.append({name, qEnvironmentVariableIsSet(name), qgetenv(name)});
            qunsetenv(name);
        }
        for (const auto &[name, value] : set)
            qputenv(name, value);
    }
    ~ScopedProxyEnvironment()
    {
        for (const Saved &s : m_saved) {
            if (s.set)
                qputenv(s.name, s.value);
            else
                qunsetenv(s.name);
        }
    }
    ScopedProxyEnvironment(const ScopedProxyEnvironment &) = delete;
    ScopedProxyEnvironment &operator=(const ScopedProxyEnvironment &) = delete;

private:
    struct Saved
    {
        const char *name;
        bool set;
        QByteArray value;
    };
    QList<Saved> m_saved;
};

QByteArray proxyAddress(const ReqivoTest::ProxyBase &proxy)
{
    return "127.0.0.1:" + QByteArray::number(proxy.port());
}

Reqivo::TlsOptions trustNginxCa()
{
    Reqivo::TlsOptions tls;
    QString error;
    if (!tls.addCaCertificatesFromFile(
            ReqivoTest::peerValue(ReqivoTest::loadPeerEnv(u"nginx"_s), u"NGINX_CA_FILE"_s), &error))
        qWarning("cannot load the nginx CA: %s", qPrintable(error));
    return tls;
}

// No origin request carries proxy credentials.
bool noProxyCredentialsAt(const FaultServer &origin)
{
    for (const ReceivedRequest &r : origin.requests()) {
        if (r.hasField("proxy-authorization"))
            return false;
    }
    return true;
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
        QTest::newRow("HTTP, absolute form") << int(QNetworkProxy::HttpProxy) << false;
        QTest::newRow("HTTP, absolute form, Basic credentials")
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
            http.keepAliveOn407 = true; // each request is challenged; one connection
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
                // Absolute form with credentials: the answer to the proxy's 407 goes on the
                // connection that carried the 407.
                const bool answered407 = withCredentials && type == QNetworkProxy::HttpProxy;
                CO_COMPARE(o.response.connectionReused(), i > 0 || answered407);
            }
            // One connection to the proxy and one to the origin, kept alive.
            CO_COMPARE(proxy.targets, QStringList {u"127.0.0.1:%1"_s.arg(origin.port())});
            CO_COMPARE(proxy.clientConnections, 1);
            CO_COMPARE(origin.connectionCount(), 1);
            if (type == QNetworkProxy::HttpProxy) {
                // http:// in absolute form (no CONNECT); the origin gets origin-form.
                CO_COMPARE(http.forwarded.size(), qsizetype(3));
                CO_COMPARE(http.forwarded.first(),
                    "GET " + origin.url(u"/via"_s).toEncoded() + " HTTP/1.1");
                for (const ReceivedRequest &r : origin.requests())
                    CO_COMPARE(r.target, QByteArray("/via"));
            }
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

    // http:// (absolute form): the proxy's 407 is the response, as curl has it. https://
    // (CONNECT): the tunnel fails with NetworkFailure::ProxyAuthenticationRequired. Either way
    // the origin is never reached.
    void wrongProxyCredentials_data()
    {
        QTest::addColumn<bool>("https");
        QTest::addColumn<QString>("user");
        QTest::newRow("http://, wrong credentials") << false << u"user"_s;
        QTest::newRow("http://, no credentials") << false << QString();
        QTest::newRow("https://, wrong credentials") << true << u"user"_s;
        QTest::newRow("https://, no credentials") << true << QString();
    }
    void wrongProxyCredentials()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(bool, https);
            QFETCH(QString, user);
            FaultServer origin(answerWithConnection);
            ReqivoTest::HttpConnectProxy proxy;
            CO_VERIFY(proxy.listen());
            proxy.requiredAuthorization = "Basic " + QByteArray("user:right").toBase64();
            AsyncSession session;
            session.setProxy(QNetworkProxy(QNetworkProxy::HttpProxy, u"127.0.0.1"_s, proxy.port(),
                user, user.isEmpty() ? QString() : u"wrong"_s));
            // Built first: GCC 12 mishandles a conditional's temporaries in a co_await.
            const QUrl url = https ? origin.httpsUrl() : origin.url();
            const Outcome o = co_await attempt(session.get(url));
            if (https) {
                CO_EXPECT_ERROR_ISA(o, Network);
                CO_COMPARE(o.error.networkFailure(),
                    Reqivo::Error::NetworkFailure::ProxyAuthenticationRequired);
                CO_VERIFY2(o.error.detail().contains(u"407"_s), qPrintable(o.error.detail()));
                CO_VERIFY(!o.error.toString().contains(u"wrong"_s));
                CO_COMPARE(session.pool()->totalCount(), 0);
            } else {
                CO_EXPECT_OK(o);
                CO_COMPARE(o.response.status(), 407);
            }
            CO_COMPARE(origin.connectionCount(), 0);
        }());
    }

    // A 407 to CONNECT answered with the proxy's credentials, Basic or Digest, whether the
    // proxy keeps the connection or closes it; TLS to the origin inside the tunnel.
    void connectAnsweredWithBasicOrDigest_data()
    {
        QTest::addColumn<QByteArray>("digestAlgorithm"); // empty: Basic
        QTest::addColumn<bool>("keepAlive");
        QTest::newRow("Basic, proxy closes after 407") << QByteArray() << false;
        QTest::newRow("Basic, proxy keeps the connection") << QByteArray() << true;
        QTest::newRow("Digest SHA-256, proxy closes after 407") << QByteArray("SHA-256") << false;
        QTest::newRow("Digest MD5, proxy keeps the connection") << QByteArray("MD5") << true;
    }
    void connectAnsweredWithBasicOrDigest()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, digestAlgorithm);
            QFETCH(bool, keepAlive);
            FaultServer origin(answerWithConnection);
            origin.enableTls(nginxServerTls(ReqivoTest::loadPeerEnv(u"nginx"_s)));
            ReqivoTest::HttpConnectProxy proxy;
            CO_VERIFY(proxy.listen());
            requireCredentials(proxy, digestAlgorithm);
            proxy.keepAliveOn407 = keepAlive;
            AsyncSession session;
            session.setTlsOptions(trustNginxCa());
            session.setProxy(QNetworkProxy(
                QNetworkProxy::HttpProxy, u"127.0.0.1"_s, proxy.port(), u"user"_s, u"s3cret"_s));
            for (int i = 0; i < 2; ++i) {
                const Outcome o = co_await attempt(session.get(origin.httpsUrl(u"/tls"_s)));
                CO_EXPECT_OK(o);
                CO_COMPARE(o.response.body(), QByteArray("1"));
            }
            CO_COMPARE(proxy.challenges, 1); // one tunnel, kept alive
            CO_COMPARE(proxy.clientConnections, keepAlive ? 1 : 2);
            CO_COMPARE(origin.connectionCount(), 1);
            for (const ReceivedRequest &r : origin.requests())
                CO_VERIFY(r.tls);
            CO_VERIFY(noProxyCredentialsAt(origin));
        }());
    }

    // A 407 to CONNECT that the proxy's own credentials (none here) do not answer asks the
    // session's Authenticator once (proxy set, the challenges parsed); its user and password
    // answer the next CONNECT (Basic or Digest, whichever the proxy asks). A declining hook,
    // or one giving something CONNECT cannot carry, leaves the ProxyAuthenticationRequired
    // error; a wrong answer is not asked about again.
    void connectAsksAuthenticator_data()
    {
        QTest::addColumn<QByteArray>("digestAlgorithm"); // empty: Basic
        QTest::addColumn<QString>("answer"); // "right", "wrong", "decline", "bearer"
        QTest::newRow("Basic, right") << QByteArray() << u"right"_s;
        QTest::newRow("Digest SHA-256, right") << QByteArray("SHA-256") << u"right"_s;
        QTest::newRow("Basic, wrong") << QByteArray() << u"wrong"_s;
        QTest::newRow("Basic, declined") << QByteArray() << u"decline"_s;
        QTest::newRow("Basic, a Bearer token") << QByteArray() << u"bearer"_s;
    }
    void connectAsksAuthenticator()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, digestAlgorithm);
            QFETCH(QString, answer);
            FaultServer origin(answerWithConnection);
            origin.enableTls(nginxServerTls(ReqivoTest::loadPeerEnv(u"nginx"_s)));
            ReqivoTest::HttpConnectProxy proxy;
            CO_VERIFY(proxy.listen());
            requireCredentials(proxy, digestAlgorithm);
            AsyncSession session;
            session.setTlsOptions(trustNginxCa());
            session.setProxy(QNetworkProxy(QNetworkProxy::HttpProxy, u"127.0.0.1"_s, proxy.port()));
            QList<Reqivo::AuthRequest> asked;
            session.setAuthenticator([&asked, answer](Reqivo::AuthRequest r) {
                asked.append(r);
                if (answer == u"right"_s)
                    return Reqivo::AuthAnswer::with(
                        Reqivo::Credentials::basic(u"user"_s, u"s3cret"_s));
                if (answer == u"wrong"_s)
                    return Reqivo::AuthAnswer::with(
                        Reqivo::Credentials::basic(u"user"_s, u"nope"_s));
                if (answer == u"bearer"_s)
                    return Reqivo::AuthAnswer::with(Reqivo::Credentials::bearer(u"t"_s));
                return Reqivo::AuthAnswer::decline();
            });
            const QUrl url = origin.httpsUrl(u"/tls"_s);
            const Outcome o = co_await attempt(session.get(url));
            CO_COMPARE(asked.size(), 1);
            CO_VERIFY(asked.first().proxy);
            CO_COMPARE(asked.first().response.status(), 407);
            CO_COMPARE(asked.first().url, url);
            CO_COMPARE(asked.first().challenges.size(), 1);
            CO_VERIFY(asked.first().challenges.first().isScheme(
                    digestAlgorithm.isEmpty() ? "Basic" : "Digest"));
            if (answer == u"right"_s) {
                CO_EXPECT_OK(o);
                CO_COMPARE(o.response.body(), QByteArray("1"));
                CO_COMPARE(origin.connectionCount(), 1);
                CO_VERIFY(noProxyCredentialsAt(origin));
            } else {
                CO_VERIFY(!o.error.isNull());
                CO_COMPARE(o.error.networkFailure(),
                           Reqivo::Error::NetworkFailure::ProxyAuthenticationRequired);
                CO_COMPARE(origin.connectionCount(), 0);
            }
        }());
    }

    // A Digest 407 from a proxy taking http:// in absolute form: answered by the session's
    // authentication step with the proxy's credentials, the uri being the absolute-form target
    // exactly as sent (an empty path is sent as "/").
    void absoluteFormDigest_data()
    {
        QTest::addColumn<QString>("path");
        QTest::newRow("path and query") << u"/digest?a=1"_s;
        QTest::newRow("empty path") << QString();
    }
    void absoluteFormDigest()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QString, path);
            FaultServer origin(answerWithConnection);
            ReqivoTest::HttpConnectProxy proxy;
            CO_VERIFY(proxy.listen());
            proxy.digestUser = "user";
            proxy.digestPassword = "s3cret";
            proxy.keepAliveOn407 = true;
            AsyncSession session;
            session.setProxy(QNetworkProxy(
                QNetworkProxy::HttpProxy, u"127.0.0.1"_s, proxy.port(), u"user"_s, u"s3cret"_s));
            const QUrl url = origin.url(path);
            const Outcome o = co_await attempt(session.get(url));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(proxy.challenges, 1);
            const QByteArray sent = path.isEmpty() ? url.toEncoded() + "/" : url.toEncoded();
            CO_COMPARE(proxy.forwarded.last(), "GET " + sent + " HTTP/1.1");
            CO_VERIFY(noProxyCredentialsAt(origin));
        }());
    }

    // A tunnel that does not open within Timeout::connect is a ConnectTimeout like a TCP
    // connect that does not, and the proxy connection is closed.
    void tunnelConnectTimeout()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QTcpServer silent; // accepts, reads, never answers CONNECT
            CO_VERIFY(silent.listen(QHostAddress::LocalHost, 0));
            QList<QTcpSocket *> accepted;
            QObject::connect(&silent, &QTcpServer::newConnection, &silent, [&] {
                while (QTcpSocket *c = silent.nextPendingConnection())
                    accepted << c;
            });
            AsyncSession session;
            Reqivo::Timeout timeout;
            timeout.connect = 300ms;
            session.setTimeout(timeout);
            session.setProxy(
                QNetworkProxy(QNetworkProxy::HttpProxy, u"127.0.0.1"_s, silent.serverPort()));
            const Outcome o = co_await attempt(session.get(QUrl(u"https://origin.example/"_s)));
            CO_EXPECT_ERROR_ISA(o, ConnectTimeout);
            CO_VERIFY2(o.error.message().contains(u"proxy tunnel not open"_s),
                qPrintable(o.error.message()));
            CO_COMPARE(accepted.size(), qsizetype(1));
            CO_COMPARE(session.pool()->totalCount(), 0);
        }());
    }

    // --- where the proxy comes from ---------------------------------------------------------

    // socks5h:// from the environment: SOCKS5 through Qt's socket, with the URL's credentials.
    void environmentSocks5()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer origin(answerWithConnection);
            ReqivoTest::Socks5Proxy socks;
            CO_VERIFY(socks.listen());
            socks.requiredUser = "user";
            socks.requiredPassword = "pw";
            const ScopedProxyEnvironment env {
                {"all_proxy", "socks5h://user:pw@" + proxyAddress(socks)}};
            AsyncSession session;
            CO_EXPECT_OK(co_await attempt(session.get(origin.url())));
            CO_COMPARE(socks.users, QList<QByteArray> {"user"});
            CO_COMPARE(socks.targets, QStringList {u"127.0.0.1:%1"_s.arg(origin.port())});
        }());
    }

    // http_proxy for http:// (absolute form, credentials from the URL), https_proxy for
    // https:// (CONNECT); upper-case HTTP_PROXY is never read.
    void environmentProxies()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer origin(answerWithConnection);
            FaultServer tlsOrigin(answerWithConnection);
            tlsOrigin.enableTls(nginxServerTls(ReqivoTest::loadPeerEnv(u"nginx"_s)));
            ReqivoTest::HttpConnectProxy forHttp;
            ReqivoTest::HttpConnectProxy forHttps;
            ReqivoTest::HttpConnectProxy upperCase;
            CO_VERIFY(forHttp.listen() && forHttps.listen() && upperCase.listen());
            forHttp.requiredAuthorization = "Basic " + QByteArray("us@r:p:ss").toBase64();
            forHttp.keepAliveOn407 = true;
            const ScopedProxyEnvironment env {
                {"http_proxy", "http://us%40r:p%3Ass@" + proxyAddress(forHttp)},
                {"HTTP_PROXY", "http://" + proxyAddress(upperCase)},
                {"HTTPS_PROXY", proxyAddress(forHttps)}, // host:port, no scheme
            };
            AsyncSession session;
            CO_VERIFY(session.proxyFromEnvironment());
            session.setTlsOptions(trustNginxCa());
            const Outcome plain = co_await attempt(session.get(origin.url(u"/plain"_s)));
            CO_EXPECT_OK(plain);
            CO_COMPARE(forHttp.forwarded,
                QList<QByteArray> {"GET " + origin.url(u"/plain"_s).toEncoded() + " HTTP/1.1"});
            CO_COMPARE(forHttp.authorizations.last(), forHttp.requiredAuthorization);
            CO_VERIFY(noProxyCredentialsAt(origin));
            const Outcome tls = co_await attempt(session.get(tlsOrigin.httpsUrl(u"/tls"_s)));
            CO_EXPECT_OK(tls);
            CO_COMPARE(forHttps.targets, QStringList {u"127.0.0.1:%1"_s.arg(tlsOrigin.port())});
            CO_VERIFY(forHttps.forwarded.isEmpty());
            CO_COMPARE(upperCase.clientConnections, 0);
        }());
    }

    // all_proxy serves both schemes; HTTP_PROXY alone is no proxy at all.
    void allProxyAndUpperCaseHttpProxy()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer origin(answerWithConnection);
            ReqivoTest::HttpConnectProxy proxy;
            CO_VERIFY(proxy.listen());
            {
                const ScopedProxyEnvironment env {{"HTTP_PROXY", proxyAddress(proxy)}};
                AsyncSession session;
                CO_EXPECT_OK(co_await attempt(session.get(origin.url())));
                CO_COMPARE(proxy.clientConnections, 0);
            }
            {
                const ScopedProxyEnvironment env {{"ALL_PROXY", proxyAddress(proxy)}};
                AsyncSession session;
                CO_EXPECT_OK(co_await attempt(session.get(origin.url())));
                CO_COMPARE(proxy.clientConnections, 1);
                CO_COMPARE(proxy.forwarded.size(), qsizetype(1));
            }
        }());
    }

    // Loopback is not special (curl's rule); no_proxy exempts by address, CIDR range or "*",
    // never by port.
    void environmentNoProxy_data()
    {
        QTest::addColumn<QByteArray>("noProxy");
        QTest::addColumn<bool>("proxied");
        QTest::newRow("no no_proxy: loopback proxied too") << QByteArray() << true;
        QTest::newRow("address") << QByteArray("localhost,127.0.0.1") << false;
        QTest::newRow("CIDR range") << QByteArray("10.0.0.0/8, 127.0.0.0/8") << false;
        QTest::newRow("*") << QByteArray("*") << false;
        QTest::newRow("another address") << QByteArray("127.0.0.2") << true;
        QTest::newRow("a port is no rule") << QByteArray("127.0.0.1:1") << true;
        QTest::newRow("a name is not an address") << QByteArray("localhost") << true;
    }
    void environmentNoProxy()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, noProxy);
            QFETCH(bool, proxied);
            FaultServer origin(answerWithConnection);
            ReqivoTest::HttpConnectProxy proxy;
            CO_VERIFY(proxy.listen());
            QList<std::pair<const char *, QByteArray>> vars {{"http_proxy", proxyAddress(proxy)}};
            if (!noProxy.isEmpty())
                vars.append({"NO_PROXY", noProxy});
            const ScopedProxyEnvironment env(vars);
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(origin.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(proxy.clientConnections, proxied ? 1 : 0);
            CO_COMPARE(origin.connectionCount(), 1);
        }());
    }

    // setProxy() beats the environment; setNoProxy() beats both and replaces no_proxy;
    // setProxyFromEnvironment(false) ignores it; the environment is read when the session is
    // made and when the environment is switched on again, not per request.
    void precedence()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer origin(answerWithConnection);
            ReqivoTest::HttpConnectProxy fromEnv;
            ReqivoTest::HttpConnectProxy explicitOne;
            ReqivoTest::HttpConnectProxy later;
            CO_VERIFY(fromEnv.listen() && explicitOne.listen() && later.listen());
            auto env = std::make_unique<ScopedProxyEnvironment>(
                QList<std::pair<const char *, QByteArray>> {
                    {"http_proxy", proxyAddress(fromEnv)}, {"no_proxy", "127.0.0.1"}});
            AsyncSession session;
            // The environment's no_proxy exempts the origin.
            CO_EXPECT_OK(co_await attempt(session.get(origin.url(u"/1"_s))));
            CO_COMPARE(fromEnv.clientConnections, 0);
            // setNoProxy() replaces it: the environment's proxy now applies.
            session.setNoProxy({u"example.com"_s});
            CO_EXPECT_OK(co_await attempt(session.get(origin.url(u"/2"_s))));
            CO_COMPARE(fromEnv.forwarded.size(), qsizetype(1));
            // setProxy() beats the environment.
            session.setProxy(
                QNetworkProxy(QNetworkProxy::HttpProxy, u"127.0.0.1"_s, explicitOne.port()));
            CO_EXPECT_OK(co_await attempt(session.get(origin.url(u"/3"_s))));
            CO_COMPARE(explicitOne.forwarded.size(), qsizetype(1));
            CO_COMPARE(fromEnv.forwarded.size(), qsizetype(1));
            // setNoProxy() beats setProxy().
            session.setNoProxy({u"127.0.0.0/8"_s});
            CO_EXPECT_OK(co_await attempt(session.get(origin.url(u"/4"_s))));
            CO_COMPARE(explicitOne.forwarded.size(), qsizetype(1));
            session.setNoProxy({});
            session.setProxy(QNetworkProxy(QNetworkProxy::DefaultProxy));
            // A change of the environment is not seen until it is read again.
            env.reset();
            const ScopedProxyEnvironment changed {{"http_proxy", proxyAddress(later)}};
            CO_EXPECT_OK(co_await attempt(session.get(origin.url(u"/5"_s))));
            CO_COMPARE(later.clientConnections, 0); // still the old no_proxy: direct
            CO_COMPARE(fromEnv.forwarded.size(), qsizetype(1));
            session.setProxyFromEnvironment(false);
            CO_VERIFY(!session.proxyFromEnvironment());
            CO_EXPECT_OK(co_await attempt(session.get(origin.url(u"/6"_s))));
            CO_COMPARE(later.clientConnections, 0);
            session.setProxyFromEnvironment(true);
            CO_EXPECT_OK(co_await attempt(session.get(origin.url(u"/7"_s))));
            CO_COMPARE(later.forwarded.size(), qsizetype(1));
            CO_COMPARE(fromEnv.forwarded.size(), qsizetype(1));
        }());
    }

    // The system's configuration, opt-in: Debian's Qt asks libproxy, which reads http_proxy
    // when there is no desktop configuration. A name only the proxy knows shows the request
    // went through it.
    void systemProxy()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer origin(answerWithConnection);
            ReqivoTest::HttpConnectProxy proxy;
            CO_VERIFY(proxy.listen());
            proxy.hostAliases.insert(u"origin.test"_s, u"127.0.0.1"_s);
            const ScopedProxyEnvironment env {{"http_proxy", "http://" + proxyAddress(proxy)}};
            AsyncSession session;
            session.setProxyFromEnvironment(false);
            CO_VERIFY(!session.useSystemProxy());
            session.setUseSystemProxy(true);
            CO_VERIFY(session.useSystemProxy());
            QUrl url(u"http://origin.test/system"_s);
            url.setPort(origin.port());
            const Outcome o = co_await attempt(session.get(url));
            CO_EXPECT_OK(o);
            CO_COMPARE(proxy.forwarded, QList<QByteArray> {"GET " + url.toEncoded() + " HTTP/1.1"});
        }());
    }

    // A proxy URL of a scheme this library does not speak: a clear RequestError when a request
    // would use it, and only then.
    void unsupportedProxyScheme()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer origin(answerWithConnection);
            const ScopedProxyEnvironment env {{"https_proxy", "socks4://user:secret@127.0.0.1:1"}};
            AsyncSession session;
            CO_EXPECT_OK(co_await attempt(session.get(origin.url())));
            const Outcome o = co_await attempt(session.get(origin.httpsUrl()));
            CO_EXPECT_ERROR_ISA(o, Request);
            CO_VERIFY(!o.error.isA(Reqivo::Error::Kind::Network));
            CO_VERIFY2(o.error.message().contains(u"socks4"_s), qPrintable(o.error.message()));
            CO_VERIFY(!o.error.toString().contains(u"secret"_s));
            CO_COMPARE(origin.connectionCount(), 1);
        }());
    }

    // The blocking Session chooses the same way (it is the async session underneath).
    void blockingSessionFromEnvironment()
    {
        FaultServer origin(answerWithConnection);
        ReqivoTest::HttpConnectProxy proxy;
        QVERIFY(proxy.listen());
        const ScopedProxyEnvironment env {{"all_proxy", proxyAddress(proxy)}};
        Reqivo::Session session;
        QVERIFY(session.proxyFromEnvironment());
        const Reqivo::Response r = session.get(origin.url(u"/sync"_s));
        QCOMPARE(r.status(), 200);
        QCOMPARE(proxy.forwarded,
            QList<QByteArray> {"GET " + origin.url(u"/sync"_s).toEncoded() + " HTTP/1.1"});
        session.setNoProxy({u"*"_s});
        QCOMPARE(session.noProxy(), QStringList {u"*"_s});
        QCOMPARE(session.get(origin.url(u"/direct"_s)).status(), 200);
        QCOMPARE(proxy.forwarded.size(), qsizetype(1));
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
