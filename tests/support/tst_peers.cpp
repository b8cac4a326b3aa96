// The peers as Reqivo's own tests will see them: env files load through support/peers.h, and Qt
// accepts the test certificates (the CA, the server's name and IP, and the client key for mTLS).
// Raw sockets only, so that this test depends on no Reqivo layer above the build itself.
#include "support/peers.h"

#include <QFile>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpSocket>
#include <QtTest>

using namespace Qt::StringLiterals;

namespace {
constexpr int kTimeoutMs = 10000;

// Sends one GET over an open socket and returns the whole response (the server closes).
QByteArray get(QTcpSocket &socket, const QByteArray &path)
{
    socket.write("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    QByteArray response;
    while (socket.state() == QAbstractSocket::ConnectedState && socket.waitForReadyRead(kTimeoutMs))
        response += socket.readAll();
    response += socket.readAll();
    return response;
}

QSslConfiguration trustingTestCa(const QHash<QString, QString> &env,
                                 const QString &caKey = u"NGINX_CA_FILE"_s)
{
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    const auto ca = QSslCertificate::fromPath(ReqivoTest::peerValue(env, caKey));
    if (ca.size() != 1)
        qFatal("the test CA file does not hold exactly one certificate");
    config.setCaCertificates(ca);
    return config;
}
} // namespace

class TestPeers : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void envFilesDescribeRunningPeers()
    {
        const auto nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
        const auto httpbin = ReqivoTest::loadPeerEnv(u"httpbin"_s);
        for (const auto &key : {u"NGINX_HTTP_PORT"_s, u"NGINX_HTTPS_PORT"_s, u"NGINX_H2_PORT"_s,
                                u"NGINX_MTLS_PORT"_s}) {
            bool ok = false;
            const int port = ReqivoTest::peerValue(nginx, key).toInt(&ok);
            QVERIFY2(ok && port > 0 && port < 65536, qPrintable(key));
        }
        QCOMPARE(ReqivoTest::peerUrl(httpbin, u"HTTPBIN_URL"_s).host(), u"127.0.0.1"_s);
        QVERIFY(QFile::exists(ReqivoTest::peerValue(nginx, u"NGINX_DOCROOT"_s) + u"/small.txt"_s));
        QFile large(ReqivoTest::peerValue(nginx, u"NGINX_DOCROOT"_s)
                    + ReqivoTest::peerValue(nginx, u"NGINX_LARGE_PATH"_s));
        QCOMPARE(large.size(), ReqivoTest::peerValue(nginx, u"NGINX_LARGE_SIZE"_s).toLongLong());
    }

    void plainHttp()
    {
        const auto nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
        QTcpSocket socket;
        socket.connectToHost(u"127.0.0.1"_s, ReqivoTest::peerValue(nginx, u"NGINX_HTTP_PORT"_s).toUShort());
        QVERIFY(socket.waitForConnected(kTimeoutMs));
        const QByteArray response = get(socket, "/small.txt");
        QVERIFY2(response.startsWith("HTTP/1.1 200 OK\r\n"), response.constData());
        QVERIFY(response.endsWith("\r\n\r\nHello from nginx\n"));
    }

    void tls_data()
    {
        QTest::addColumn<QString>("peerName");
        QTest::newRow("by IP address") << u"127.0.0.1"_s;
        QTest::newRow("by host name") << u"localhost"_s;
    }
    void tls()
    {
        QFETCH(QString, peerName);
        if (!QSslSocket::supportsSsl())
            QFAIL("Qt has no TLS backend");
        const auto nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
        QSslSocket socket;
        socket.setSslConfiguration(trustingTestCa(nginx));
        socket.connectToHostEncrypted(u"127.0.0.1"_s,
                                      ReqivoTest::peerValue(nginx, u"NGINX_HTTPS_PORT"_s).toUShort(),
                                      peerName);
        QVERIFY2(socket.waitForEncrypted(kTimeoutMs), qPrintable(socket.errorString()));
        QVERIFY(get(socket, "/hello.json").endsWith("{\"hello\":\"nginx\",\"n\":1}\n"));
    }

    void tlsRejectsUnknownCa()
    {
        const auto nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
        QSslSocket socket;
        QSslConfiguration config = QSslConfiguration::defaultConfiguration();
        config.setCaCertificates({}); // trust nothing
        socket.setSslConfiguration(config);
        socket.connectToHostEncrypted(u"127.0.0.1"_s,
                                      ReqivoTest::peerValue(nginx, u"NGINX_HTTPS_PORT"_s).toUShort());
        QVERIFY(!socket.waitForEncrypted(kTimeoutMs));
        QVERIFY(!socket.sslHandshakeErrors().isEmpty());
    }

    void mutualTls()
    {
        const auto nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
        QSslConfiguration config = trustingTestCa(nginx);
        const auto certs = QSslCertificate::fromPath(ReqivoTest::peerValue(nginx, u"NGINX_CLIENT_CERT"_s));
        QCOMPARE(certs.size(), 1);
        QFile keyFile(ReqivoTest::peerValue(nginx, u"NGINX_CLIENT_KEY"_s));
        QVERIFY(keyFile.open(QIODevice::ReadOnly));
        const QSslKey key(&keyFile, QSsl::Ec);
        QVERIFY(!key.isNull());
        config.setLocalCertificate(certs.first());
        config.setPrivateKey(key);

        QSslSocket socket;
        socket.setSslConfiguration(config);
        socket.connectToHostEncrypted(u"127.0.0.1"_s,
                                      ReqivoTest::peerValue(nginx, u"NGINX_MTLS_PORT"_s).toUShort());
        QVERIFY2(socket.waitForEncrypted(kTimeoutMs), qPrintable(socket.errorString()));
        // nginx answers the subject of the certificate it verified: ours.
        const QByteArray response = get(socket, "/whoami");
        const QString cn = certs.first().subjectInfo(QSslCertificate::CommonName).value(0);
        QVERIFY(!cn.isEmpty());
        QVERIFY2(response.contains("CN=" + cn.toUtf8() + ','), response.constData());
    }

    // Which protocol each TLS port agrees to by ALPN when Qt offers it "h2" and "http/1.1" (or
    // only "http/1.1"): the HTTP/2 tests rely on the h2 ports choosing h2, the HTTP/1.1 tests
    // on the HTTPS port never doing so.
    void alpn_data()
    {
        QTest::addColumn<QString>("peer");
        QTest::addColumn<QString>("portKey");
        QTest::addColumn<QString>("caKey");
        QTest::addColumn<QList<QByteArray>>("offered");
        QTest::addColumn<QByteArray>("chosen");
        const QByteArray h2(QSslConfiguration::ALPNProtocolHTTP2);
        const QByteArray http1(QSslConfiguration::NextProtocolHttp1_1);
        const QList<QByteArray> both {h2, http1};
        QTest::newRow("nginx h2 port")
            << u"nginx"_s << u"NGINX_H2_PORT"_s << u"NGINX_CA_FILE"_s << both << h2;
        QTest::newRow("nginx h2 port, http/1.1 only")
            << u"nginx"_s << u"NGINX_H2_PORT"_s << u"NGINX_CA_FILE"_s << QList {http1} << http1;
        QTest::newRow("nginx https port")
            << u"nginx"_s << u"NGINX_HTTPS_PORT"_s << u"NGINX_CA_FILE"_s << both << http1;
        QTest::newRow("nghttpd tls port")
            << u"nghttpd"_s << u"NGHTTPD_TLS_PORT"_s << u"NGHTTPD_CA_FILE"_s << both << h2;
    }
    void alpn()
    {
        QFETCH(QString, peer);
        QFETCH(QString, portKey);
        QFETCH(QString, caKey);
        QFETCH(QList<QByteArray>, offered);
        QFETCH(QByteArray, chosen);
        const auto env = ReqivoTest::loadPeerEnv(peer);
        QSslConfiguration config = trustingTestCa(env, caKey);
        config.setAllowedNextProtocols(offered);
        QSslSocket socket;
        socket.setSslConfiguration(config);
        socket.connectToHostEncrypted(u"127.0.0.1"_s,
                                      ReqivoTest::peerValue(env, portKey).toUShort());
        QVERIFY2(socket.waitForEncrypted(kTimeoutMs), qPrintable(socket.errorString()));
        QCOMPARE(socket.sslConfiguration().nextNegotiatedProtocol(), chosen);
        QCOMPARE(socket.sslConfiguration().nextProtocolNegotiationStatus(),
                 QSslConfiguration::NextProtocolNegotiationNegotiated);
    }

    // nghttpd's cleartext port speaks HTTP/2 only: the client connection preface and an empty
    // SETTINGS frame are answered with the server's SETTINGS frame (type 4 on stream 0).
    void nghttpdCleartextPriorKnowledge()
    {
        const auto nghttpd = ReqivoTest::loadPeerEnv(u"nghttpd"_s);
        QTcpSocket socket;
        socket.connectToHost(u"127.0.0.1"_s,
                             ReqivoTest::peerValue(nghttpd, u"NGHTTPD_PORT"_s).toUShort());
        QVERIFY(socket.waitForConnected(kTimeoutMs));
        socket.write(QByteArray("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                     + QByteArray::fromHex("000000040000000000"));
        QByteArray frames;
        while (frames.size() < 9 && socket.waitForReadyRead(kTimeoutMs))
            frames += socket.readAll();
        QVERIFY2(frames.size() >= 9, frames.toHex().constData());
        QCOMPARE(quint8(frames.at(3)), quint8(4)); // SETTINGS
        QCOMPARE(frames.mid(5, 4), QByteArray(4, '\0')); // stream 0
    }

    void httpbinAnswers()
    {
        const auto httpbin = ReqivoTest::loadPeerEnv(u"httpbin"_s);
        QTcpSocket socket;
        socket.connectToHost(u"127.0.0.1"_s, ReqivoTest::peerValue(httpbin, u"HTTPBIN_PORT"_s).toUShort());
        QVERIFY(socket.waitForConnected(kTimeoutMs));
        const QByteArray response = get(socket, "/status/418");
        QVERIFY2(response.startsWith("HTTP/1.1 418 "), response.constData());
    }
};

QTEST_GUILESS_MAIN(TestPeers)
#include "tst_peers.moc"
