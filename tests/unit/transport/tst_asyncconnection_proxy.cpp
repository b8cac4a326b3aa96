// AsyncConnection through proxies: HTTP CONNECT and SOCKS5, with and without credentials, plain
// and TLS, checked against in-process proxies that record the target they were asked for.
#include "support/qcorotest.h"
#include "testpeers.h"
#include "testproxies.h"

#include <Reqivo/asyncconnection.h>
#include <Reqivo/errors.h>

#include <QTest>

using namespace std::chrono_literals;
using namespace ReqivoTest;
using Reqivo::AsyncConnection;

namespace {

QCoro::Task<QByteArray> readAtLeast(AsyncConnection &connection, qsizetype size)
{
    QByteArray data;
    while (data.size() < size) {
        const QByteArray chunk = co_await connection.read(5s);
        if (chunk.isEmpty())
            break;
        data += chunk;
    }
    co_return data;
}

QNetworkProxy proxy(QNetworkProxy::ProxyType type, quint16 port, const QString &user = {},
    const QString &password = {})
{
    return QNetworkProxy(type, QStringLiteral("127.0.0.1"), port, user, password);
}

// Connects to \a endpoint, checks an echo round trip through it.
QCoro::Task<void> echoThrough(const Reqivo::Endpoint &endpoint, const QByteArray &message)
{
    AsyncConnection connection;
    co_await connection.connectToHost(endpoint, 5s);
    co_await connection.write(message, 5s);
    const QByteArray echoed = co_await readAtLeast(connection, message.size());
    if (echoed != message)
        throw std::runtime_error("echo through the proxy came back wrong: " + echoed.toStdString());
}

} // namespace

class TestAsyncConnectionProxy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void httpConnectTunnel()
    {
        LoopbackServer target(LoopbackServer::echo());
        QVERIFY(target.listen());
        HttpConnectProxy http;
        QVERIFY(http.listen());
        Reqivo::Endpoint endpoint = target.endpoint();
        endpoint.proxy = proxy(QNetworkProxy::HttpProxy, http.port());
        RUN_CORO(echoThrough(endpoint, "through a CONNECT tunnel"));
        QCOMPARE(http.targets, QStringList {QStringLiteral("127.0.0.1:%1").arg(target.port())});
        QCOMPARE(http.relayedUpstream, qint64(24));
        QCOMPARE(http.authorizations, QList<QByteArray> {QByteArray()});
        QCOMPARE(target.acceptedCount(), 1);
    }

    void httpConnectWithCredentials()
    {
        LoopbackServer target(LoopbackServer::echo());
        QVERIFY(target.listen());
        HttpConnectProxy http;
        http.requiredAuthorization = "Basic " + QByteArray("user:s3cret").toBase64();
        QVERIFY(http.listen());
        Reqivo::Endpoint endpoint = target.endpoint();
        endpoint.proxy = proxy(QNetworkProxy::HttpProxy, http.port(), QStringLiteral("user"),
            QStringLiteral("s3cret"));
        RUN_CORO(echoThrough(endpoint, "authenticated"));
        // Credentials are sent once the proxy asks for them (407), then the tunnel opens.
        QVERIFY(http.authorizations.contains(http.requiredAuthorization));
        QCOMPARE(http.authorizations.last(), http.requiredAuthorization);
        QCOMPARE(target.acceptedCount(), 1);
    }

    // A 407 to CONNECT is answered once with the proxy's credentials, Basic or Digest (the
    // scheme the proxy asks for), on the same connection when the proxy keeps it, else on a
    // new one.
    void connectAnswers407_data()
    {
        QTest::addColumn<QByteArray>("digestAlgorithm"); // empty: Basic
        QTest::addColumn<bool>("keepAlive");
        QTest::newRow("Basic, proxy closes after 407") << QByteArray() << false;
        QTest::newRow("Basic, proxy keeps the connection") << QByteArray() << true;
        QTest::newRow("Digest SHA-256, proxy closes after 407") << QByteArray("SHA-256") << false;
        QTest::newRow("Digest SHA-256, proxy keeps the connection")
            << QByteArray("SHA-256") << true;
        QTest::newRow("Digest MD5, proxy keeps the connection") << QByteArray("MD5") << true;
    }
    void connectAnswers407()
    {
        QFETCH(QByteArray, digestAlgorithm);
        QFETCH(bool, keepAlive);
        LoopbackServer target(LoopbackServer::echo());
        QVERIFY(target.listen());
        HttpConnectProxy http;
        if (digestAlgorithm.isEmpty()) {
            http.requiredAuthorization = "Basic " + QByteArray("user:s3cret").toBase64();
        } else {
            http.digestUser = "user";
            http.digestPassword = "s3cret";
            http.digestAlgorithm = digestAlgorithm;
        }
        http.keepAliveOn407 = keepAlive;
        QVERIFY(http.listen());
        Reqivo::Endpoint endpoint = target.endpoint();
        endpoint.proxy = proxy(QNetworkProxy::HttpProxy, http.port(), QStringLiteral("user"),
            QStringLiteral("s3cret"));
        RUN_CORO(echoThrough(endpoint, "answered"));
        QCOMPARE(http.challenges, 1);
        QCOMPARE(http.authorizations.size(), qsizetype(2));
        QCOMPARE(http.authorizations.first(), QByteArray());
        QVERIFY2(http.authorizations.last().startsWith(
                     digestAlgorithm.isEmpty() ? QByteArray("Basic ") : QByteArray("Digest ")),
            http.authorizations.last().constData());
        QCOMPARE(http.clientConnections, keepAlive ? 1 : 2);
        QCOMPARE(target.acceptedCount(), 1);
    }

    // What a failed tunnel says in Error::code(): 407 left unanswered (its detail: the status
    // line and the challenges, which the session's Authenticator is asked with), or another
    // refusal.
    void tunnelFailureCodes_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<QString>("password");
        QTest::addColumn<int>("failure"); // Error::NetworkFailure
        QTest::addColumn<QString>("detail");
        using F = Reqivo::Error::NetworkFailure;
        QTest::newRow("407, no credentials")
            << QStringLiteral("127.0.0.1") << QString() << int(F::ProxyAuthenticationRequired)
            << QStringLiteral("HTTP/1.1 407 Proxy Authentication Required\n"
                              "Proxy-Authenticate: Basic realm=\"reqivo-test\"");
        QTest::newRow("407, wrong credentials")
            << QStringLiteral("127.0.0.1") << QStringLiteral("wrong")
            << int(F::ProxyAuthenticationRequired)
            << QStringLiteral("HTTP/1.1 407 Proxy Authentication Required\n"
                              "Proxy-Authenticate: Basic realm=\"reqivo-test\"");
        QTest::newRow("502 from the proxy")
            << QStringLiteral("unreachable.invalid") << QStringLiteral("right")
            << int(F::ProxyFailure) << QStringLiteral("HTTP/1.1 502 Bad Gateway");
    }
    void tunnelFailureCodes()
    {
        QFETCH(QString, host);
        QFETCH(QString, password);
        QFETCH(int, failure);
        QFETCH(QString, detail);
        HttpConnectProxy http;
        http.requiredAuthorization = "Basic " + QByteArray("user:right").toBase64();
        QVERIFY(http.listen());
        Reqivo::Endpoint endpoint;
        endpoint.host = host;
        endpoint.port = 9;
        endpoint.proxy = proxy(QNetworkProxy::HttpProxy, http.port(),
            password.isEmpty() ? QString() : QStringLiteral("user"), password);
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            const auto error
                = co_await thrown<Reqivo::NetworkError>(connection.connectToHost(endpoint, 5s));
            CO_VERIFY(error);
            CO_COMPARE(int(error->error().networkFailure()), failure);
            CO_COMPARE(error->error().detail(), detail);
            CO_VERIFY(!connection.isOpen());
        }());
    }

    // Absolute form: no CONNECT, the connection goes to the proxy, which forwards each request
    // to its origin in origin-form without Proxy-Authorization.
    void absoluteFormEndpoint()
    {
        LoopbackServer target(LoopbackServer::echo());
        QVERIFY(target.listen());
        HttpConnectProxy http;
        QVERIFY(http.listen());
        Reqivo::Endpoint endpoint = target.endpoint();
        endpoint.proxy = proxy(
            QNetworkProxy::HttpProxy, http.port(), QStringLiteral("user"), QStringLiteral("pw"));
        endpoint.absoluteForm = true;
        endpoint.httpVersion = Reqivo::HttpVersion::Http2PriorKnowledge;
        QVERIFY(endpoint.usesAbsoluteForm());
        QVERIFY(!endpoint.offersHttp2());
        QVERIFY(endpoint.key().contains(QLatin1String("|absolute")));
        Reqivo::Endpoint tunnelled = endpoint;
        tunnelled.absoluteForm = false;
        QVERIFY(tunnelled.key() != endpoint.key());
        QVERIFY(tunnelled != endpoint);
        const QByteArray url = "http://127.0.0.1:" + QByteArray::number(target.port()) + "/x?y";
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            co_await connection.connectToHost(endpoint, 5s);
            co_await connection.write(
                "GET " + url + " HTTP/1.1\r\nHost: h\r\nProxy-Authorization: Basic eA==\r\n\r\n",
                5s);
            const QByteArray expected = "GET /x?y HTTP/1.1\r\nHost: h\r\n\r\n";
            const QByteArray echoed = co_await readAtLeast(connection, expected.size());
            CO_COMPARE(echoed, expected);
        }());
        QCOMPARE(http.forwarded, QList<QByteArray> {"GET " + url + " HTTP/1.1"});
        QCOMPARE(target.acceptedCount(), 1);
    }

    void proxyRefusesCredentials_data()
    {
        QTest::addColumn<QNetworkProxy::ProxyType>("type");
        QTest::addColumn<QString>("password");
        QTest::newRow("http, none given") << QNetworkProxy::HttpProxy << QString();
        QTest::newRow("http, wrong") << QNetworkProxy::HttpProxy << QStringLiteral("wrong-pass");
        QTest::newRow("socks5, none given") << QNetworkProxy::Socks5Proxy << QString();
        QTest::newRow("socks5, wrong")
            << QNetworkProxy::Socks5Proxy << QStringLiteral("wrong-pass");
    }

    void proxyRefusesCredentials()
    {
        QFETCH(QNetworkProxy::ProxyType, type);
        QFETCH(QString, password);
        LoopbackServer target(LoopbackServer::echo());
        QVERIFY(target.listen());
        HttpConnectProxy http;
        http.requiredAuthorization = "Basic " + QByteArray("user:right-pass").toBase64();
        Socks5Proxy socks;
        socks.requiredUser = "user";
        socks.requiredPassword = "right-pass";
        QVERIFY(http.listen());
        QVERIFY(socks.listen());
        Reqivo::Endpoint endpoint = target.endpoint();
        endpoint.proxy = proxy(type, type == QNetworkProxy::HttpProxy ? http.port() : socks.port(),
            password.isEmpty() ? QString() : QStringLiteral("user"), password);
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            const auto error
                = co_await thrown<Reqivo::NetworkError>(connection.connectToHost(endpoint, 5s));
            CO_VERIFY(error);
            CO_COMPARE(error->kind(), Reqivo::Error::Kind::Network);
            CO_VERIFY2(error->message().startsWith(QStringLiteral(
                           "proxy error while connecting to http://127.0.0.1:%1 via ")
                                                       .arg(target.port())),
                qPrintable(error->message()));
            // Messages name the proxy, never the credentials.
            const QString everything = error->error().toString() + error->error().detail();
            CO_VERIFY2(!everything.contains(QLatin1String("pass")), qPrintable(everything));
        }());
        QCOMPARE(target.acceptedCount(), 0);
    }

    void socks5_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<QString>("user");
        QTest::addColumn<int>("addressType");
        QTest::newRow("IPv4, no auth") << QStringLiteral("127.0.0.1") << QString() << 1;
        QTest::newRow("IPv4, username/password")
            << QStringLiteral("127.0.0.1") << QStringLiteral("alice") << 1;
        QTest::newRow("name resolved by the proxy")
            << QStringLiteral("localhost") << QString() << 3;
    }

    void socks5()
    {
        QFETCH(QString, host);
        QFETCH(QString, user);
        QFETCH(int, addressType);
        LoopbackServer target(LoopbackServer::echo());
        QVERIFY(target.listen());
        Socks5Proxy socks;
        socks.requiredUser = user.toUtf8();
        socks.requiredPassword = "pw";
        QVERIFY(socks.listen());
        Reqivo::Endpoint endpoint = target.endpoint();
        endpoint.host = host;
        endpoint.proxy = proxy(QNetworkProxy::Socks5Proxy, socks.port(), user,
            user.isEmpty() ? QString() : QStringLiteral("pw"));
        RUN_CORO(echoThrough(endpoint, "through SOCKS5"));
        QCOMPARE(socks.targets, QStringList {QStringLiteral("%1:%2").arg(host).arg(target.port())});
        QCOMPARE(socks.addressTypes, QList<int> {addressType});
        QCOMPARE(
            socks.users, user.isEmpty() ? QList<QByteArray> {} : QList<QByteArray> {user.toUtf8()});
        QCOMPARE(socks.relayedUpstream, qint64(14));
        QCOMPARE(target.acceptedCount(), 1);
    }

    void tlsThroughProxies_data()
    {
        QTest::addColumn<QNetworkProxy::ProxyType>("type");
        QTest::newRow("HTTP CONNECT") << QNetworkProxy::HttpProxy;
        QTest::newRow("SOCKS5") << QNetworkProxy::Socks5Proxy;
    }

    void tlsThroughProxies()
    {
        QFETCH(QNetworkProxy::ProxyType, type);
        LoopbackServer target(LoopbackServer::echo());
        QVERIFY(target.listenTls());
        HttpConnectProxy http;
        Socks5Proxy socks;
        QVERIFY(http.listen());
        QVERIFY(socks.listen());
        Reqivo::Endpoint endpoint = target.endpoint(true);
        endpoint.tlsOptions = testCaOptions();
        endpoint.proxy = proxy(type, type == QNetworkProxy::HttpProxy ? http.port() : socks.port());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            co_await connection.connectToHost(endpoint, 5s);
            CO_VERIFY(connection.isEncrypted());
            co_await connection.write("tls in a tunnel", 5s);
            CO_COMPARE(co_await readAtLeast(connection, 15), QByteArray("tls in a tunnel"));
        }());
        const QStringList expected {QStringLiteral("127.0.0.1:%1").arg(target.port())};
        QCOMPARE(type == QNetworkProxy::HttpProxy ? http.targets : socks.targets, expected);
    }

    void unreachableProxy()
    {
        LoopbackServer target(LoopbackServer::echo());
        QVERIFY(target.listen());
        Reqivo::Endpoint endpoint = target.endpoint();
        endpoint.proxy = proxy(QNetworkProxy::Socks5Proxy, closedPort());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            const auto error
                = co_await thrown<Reqivo::NetworkError>(connection.connectToHost(endpoint, 5s));
            CO_VERIFY(error);
            CO_VERIFY2(error->message().contains(QLatin1String("via socks5 proxy 127.0.0.1:")),
                qPrintable(error->message()));
        }());
        QCOMPARE(target.acceptedCount(), 0);
    }
};

QTEST_GUILESS_MAIN(TestAsyncConnectionProxy)
#include "tst_asyncconnection_proxy.moc"
