// Endpoint and TlsOptions: URL parsing, the pool key (what may share a connection), and
// loading certificates from files.
#include "testpeers.h"

#include <Reqivo/endpoint.h>

#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;

using Reqivo::Endpoint;
using Reqivo::TlsOptions;
using namespace ReqivoTest;

class TestEndpoint : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fromUrl_data()
    {
        QTest::addColumn<QUrl>("url");
        QTest::addColumn<bool>("tls");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::addColumn<QString>("string");
        auto row = [](const char *name, const char *url, bool tls, const char *host, int port,
                       const char *string) {
            QTest::newRow(name) << QUrl(QString::fromUtf8(url)) << tls << QString::fromUtf8(host)
                                << port << QString::fromUtf8(string);
        };
        row("http default port", "http://example.com/a?b", false, "example.com", 80,
            "http://example.com:80");
        row("https default port", "https://example.com", true, "example.com", 443,
            "https://example.com:443");
        row("explicit port", "http://127.0.0.1:8080/", false, "127.0.0.1", 8080,
            "http://127.0.0.1:8080");
        row("ws is http", "ws://h/chat", false, "h", 80, "http://h:80");
        row("wss is https", "wss://h:8443/chat", true, "h", 8443, "https://h:8443");
        row("host lower-cased", "HTTPS://Example.COM", true, "example.com", 443,
            "https://example.com:443");
        row("IPv6 literal", "http://[::1]:81/", false, "::1", 81, "http://[::1]:81");
        row("credentials ignored", "https://user:secret@h/", true, "h", 443, "https://h:443");
        row("unknown scheme", "ftp://h/", false, "", 0, "http://:0");
    }

    void fromUrl()
    {
        QFETCH(QUrl, url);
        QFETCH(bool, tls);
        QFETCH(QString, host);
        QFETCH(int, port);
        QFETCH(QString, string);
        const Endpoint endpoint = Endpoint::fromUrl(url);
        QCOMPARE(endpoint.tls, tls);
        QCOMPARE(endpoint.host, host);
        QCOMPARE(int(endpoint.port), port);
        QCOMPARE(endpoint.toString(), string);
        QCOMPARE(endpoint.isValid(), !host.isEmpty());
        QVERIFY(!endpoint.key().contains(QLatin1String("secret")));
        QCOMPARE(endpoint.proxy.type(), QNetworkProxy::DefaultProxy);
    }

    void keySeparatesWhatMustNotShareAConnection()
    {
        const Endpoint base = Endpoint::fromUrl(QUrl(QStringLiteral("https://h/")));
        QCOMPARE(base.key(), QStringLiteral("https://h:443"));

        QList<Endpoint> variants;
        Endpoint e = base;
        e.tls = false;
        variants << e;
        e = base;
        e.port = 8443;
        variants << e;
        e = base;
        e.host = QStringLiteral("h2");
        variants << e;
        e = base;
        e.proxy = QNetworkProxy(QNetworkProxy::NoProxy);
        variants << e;
        e = base;
        e.proxy = QNetworkProxy(QNetworkProxy::HttpProxy, QStringLiteral("127.0.0.1"), 3128);
        variants << e;
        e.proxy.setUser(QStringLiteral("alice"));
        e.proxy.setPassword(QStringLiteral("secret"));
        variants << e;
        e.proxy.setPassword(QStringLiteral("other"));
        variants << e;
        e = base;
        e.proxy = QNetworkProxy(QNetworkProxy::Socks5Proxy, QStringLiteral("127.0.0.1"), 3128);
        variants << e;
        e = base;
        e.tlsOptions.verifyPeer = false;
        variants << e;
        e = base;
        e.tlsOptions = testCaOptions();
        variants << e;
        e.tlsOptions.clientCertificate = certificate("client.pem");
        e.tlsOptions.privateKey = privateKey("client.key");
        variants << e;
        e = base;
        e.httpVersion = Reqivo::HttpVersion::Http2; // ALPN h2: never shared with HTTP/1.1 only
        variants << e;
        e = base;
        e.tls = false;
        e.port = 80;
        e.httpVersion = Reqivo::HttpVersion::Http2PriorKnowledge; // h2c from the first byte
        variants << e;

        QSet<QString> keys {base.key()};
        for (const Endpoint &variant : std::as_const(variants)) {
            QVERIFY2(!keys.contains(variant.key()), qPrintable(variant.key()));
            QVERIFY(variant != base);
            keys.insert(variant.key());
            QVERIFY2(!variant.key().contains(QLatin1String("secret")), qPrintable(variant.key()));
            QVERIFY2(!variant.key().contains(QLatin1String("alice")), qPrintable(variant.key()));
        }
    }

    void keyIgnoresTlsOptionsOfPlainEndpoints()
    {
        Endpoint a = Endpoint::fromUrl(QUrl(QStringLiteral("http://h/")));
        Endpoint b = a;
        b.tlsOptions.verifyPeer = false;
        QCOMPARE(a.key(), b.key());
        QVERIFY(a == b);
    }

    // What the version policy means for a connection, and which policies share one.
    void httpVersionPolicy_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<int>("version");
        QTest::addColumn<bool>("offersHttp2");
        QTest::addColumn<QString>("key");
        using V = Reqivo::HttpVersion;
        QTest::newRow("https, 1.1") << u"https://h/"_s << int(V::Http1_1) << false
                                    << u"https://h:443"_s;
        QTest::newRow("https, 2") << u"https://h/"_s << int(V::Http2) << true
                                  << u"https://h:443|h2"_s;
        QTest::newRow("https, prior knowledge reads as ALPN")
            << u"https://h/"_s << int(V::Http2PriorKnowledge) << true << u"https://h:443|h2"_s;
        QTest::newRow("http, 1.1") << u"http://h/"_s << int(V::Http1_1) << false
                                   << u"http://h:80"_s;
        QTest::newRow("http, 2 needs prior knowledge")
            << u"http://h/"_s << int(V::Http2) << false << u"http://h:80"_s;
        QTest::newRow("http, prior knowledge") << u"http://h/"_s << int(V::Http2PriorKnowledge)
                                               << true << u"http://h:80|h2c"_s;
    }
    void httpVersionPolicy()
    {
        QFETCH(QString, url);
        QFETCH(int, version);
        QFETCH(bool, offersHttp2);
        QFETCH(QString, key);
        Endpoint e = Endpoint::fromUrl(QUrl(url));
        QCOMPARE(e.httpVersion, Reqivo::HttpVersion::Http1_1); // the default
        e.httpVersion = Reqivo::HttpVersion(version);
        QCOMPARE(e.offersHttp2(), offersHttp2);
        QCOMPARE(e.key(), key);
        // Policies that make the same connection compare equal (share a pool key).
        Endpoint plain = Endpoint::fromUrl(QUrl(url));
        QCOMPARE(e == plain, !offersHttp2);
    }

    void keyIsStable()
    {
        Endpoint a = Endpoint::fromUrl(QUrl(QStringLiteral("https://h/")));
        a.tlsOptions = testCaOptions();
        Endpoint b = Endpoint::fromUrl(QUrl(QStringLiteral("https://h/")));
        b.tlsOptions = testCaOptions();
        QCOMPARE(a.key(), b.key());
        QVERIFY(a == b);
        QCOMPARE(a.tlsOptions.poolKey().size(), 32);
        QCOMPARE(TlsOptions().poolKey(), QByteArray("default"));
    }

    void description()
    {
        Endpoint e = Endpoint::fromUrl(QUrl(QStringLiteral("https://h/")));
        QCOMPARE(e.description(), QStringLiteral("https://h:443"));
        e.proxy = QNetworkProxy(QNetworkProxy::Socks5Proxy, QStringLiteral("::1"), 1080,
            QStringLiteral("user"), QStringLiteral("secret"));
        QCOMPARE(e.description(), QStringLiteral("https://h:443 via socks5 proxy [::1]:1080"));
        QCOMPARE(e.toUrl(), QUrl(QStringLiteral("https://h:443")));
    }

    void sslConfiguration()
    {
        TlsOptions options;
        QSslConfiguration config = options.toSslConfiguration();
        QCOMPARE(config.peerVerifyMode(), QSslSocket::VerifyPeer);
        QCOMPARE(config.allowedNextProtocols(), QList<QByteArray> {QByteArray("http/1.1")});
        QVERIFY(config.localCertificate().isNull());

        options = testCaOptions();
        options.verifyPeer = false;
        options.clientCertificate = certificate("client.pem");
        options.privateKey = privateKey("client.key");
        config = options.toSslConfiguration();
        QCOMPARE(config.peerVerifyMode(), QSslSocket::VerifyNone);
        QCOMPARE(config.caCertificates(), QList<QSslCertificate> {certificate("ca.pem")});
        QCOMPARE(config.localCertificate(), certificate("client.pem"));
        QVERIFY(!config.privateKey().isNull());

        // Custom CAs on top of the system store keep the system store.
        options.useSystemCaCertificates = true;
        config = options.toSslConfiguration();
        QVERIFY(config.caCertificates().contains(certificate("ca.pem")));
        QCOMPARE(
            config.caCertificates().size(), QSslConfiguration::systemCaCertificates().size() + 1);
    }

    void loadFromFiles()
    {
        TlsOptions options;
        QString error;
        QVERIFY2(options.addCaCertificatesFromFile(certPath("ca.pem"), &error), qPrintable(error));
        QVERIFY2(
            options.addCaCertificatesFromFile(certPath("other-ca.pem"), &error), qPrintable(error));
        QCOMPARE(options.caCertificates.size(), 2);
        QVERIFY2(options.setClientCertificateFromFiles(
                     certPath("client.pem"), certPath("client.key"), &error),
            qPrintable(error));
        QCOMPARE(options.clientCertificate, certificate("client.pem"));
        QCOMPARE(options.privateKey.algorithm(), QSsl::Ec);
        QVERIFY(!options.isDefault());
    }

    void loadFromFilesFailures()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString garbage = dir.filePath(QStringLiteral("garbage.pem"));
        QFile file(garbage);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("not a certificate\n");
        file.close();

        TlsOptions options;
        QString error;
        QVERIFY(!options.addCaCertificatesFromFile(
            dir.filePath(QStringLiteral("missing.pem")), &error));
        QVERIFY2(error.contains(QLatin1String("missing.pem")), qPrintable(error));
        QVERIFY(!options.addCaCertificatesFromFile(garbage, &error));
        QVERIFY2(error.startsWith(QLatin1String("no PEM certificate")), qPrintable(error));
        QVERIFY(!options.setClientCertificateFromFiles(certPath("client.pem"), garbage, &error));
        QVERIFY2(error.contains(QLatin1String("private key")), qPrintable(error));
        QVERIFY(!options.addCaCertificatesFromFile(garbage)); // error is optional
        QVERIFY(options.isDefault()); // failures change nothing
    }
};

QTEST_GUILESS_MAIN(TestEndpoint)
#include "tst_endpoint.moc"
