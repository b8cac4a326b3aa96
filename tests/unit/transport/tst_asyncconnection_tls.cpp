// AsyncConnection over TLS against in-process QSslServer peers with certificates from
// make-certs.sh: trust, host names (Qt's check and RFC 9525's stricter one), expiry,
// verification off, mutual TLS, handshake timeout, how a TLS stream ended.
#include "support/qcorotest.h"
#include "testpeers.h"
#include "testresolver.h" // *.reqivo.test is 127.0.0.1 in this process

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

} // namespace

class TestAsyncConnectionTls : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        if (!QSslSocket::supportsSsl())
            QFAIL("Qt has no TLS backend here");
    }

    void echoOverTls_data()
    {
        QTest::addColumn<QString>("host");
        QTest::newRow("IP SAN") << QStringLiteral("127.0.0.1");
        QTest::newRow("DNS SAN") << QStringLiteral("localhost");
    }

    void echoOverTls()
    {
        QFETCH(QString, host);
        LoopbackServer server(LoopbackServer::echo());
        QVERIFY(server.listenTls());
        RUN_CORO([&]() -> QCoro::Task<> {
            Reqivo::Endpoint endpoint = server.endpoint(true);
            endpoint.host = host;
            endpoint.tlsOptions = testCaOptions();
            AsyncConnection connection;
            co_await connection.connectToHost(endpoint, 5s);
            CO_VERIFY(connection.isOpen());
            CO_VERIFY(connection.isEncrypted());
            CO_VERIFY(co_await eventually([&] { return server.acceptedCount() == 1; }));
            co_await connection.write("over tls", 5s);
            CO_COMPARE(co_await readAtLeast(connection, 8), QByteArray("over tls"));
            CO_VERIFY(connection.isUsableForReuse());
        }());
    }

    void largeTransferOverTls()
    {
        LoopbackServer server(LoopbackServer::echo());
        QVERIFY(server.listenTls());
        RUN_CORO([&]() -> QCoro::Task<> {
            Reqivo::Endpoint endpoint = server.endpoint(true);
            endpoint.tlsOptions = testCaOptions();
            AsyncConnection connection;
            co_await connection.connectToHost(endpoint, 5s);
            QByteArray payload(3 * 1024 * 1024, Qt::Uninitialized);
            for (qsizetype i = 0; i < payload.size(); ++i)
                payload[i] = char(i * 7);
            // Reader and writer run side by side: the echo needs its output drained.
            auto reader = readAtLeast(connection, payload.size());
            co_await connection.write(payload, 5s);
            CO_VERIFY(co_await reader == payload);
        }());
    }

    void certificateFailures_data()
    {
        QTest::addColumn<QByteArray>("cert");
        QTest::addColumn<QString>("host");
        QTest::addColumn<QString>("expectedError");
        QTest::newRow("untrusted CA") << QByteArray("other-server") << QStringLiteral("127.0.0.1")
                                      << QStringLiteral("issuer certificate");
        QTest::newRow("wrong host") << QByteArray("wronghost") << QStringLiteral("127.0.0.1")
                                    << QStringLiteral("host name did not match");
        QTest::newRow("expired") << QByteArray("expired") << QStringLiteral("localhost")
                                 << QStringLiteral("expired");
    }

    void certificateFailures()
    {
        QFETCH(QByteArray, cert);
        QFETCH(QString, host);
        QFETCH(QString, expectedError);
        LoopbackServer server;
        QVERIFY(server.listenTls((cert + ".pem").constData(), (cert + ".key").constData()));
        RUN_CORO([&]() -> QCoro::Task<> {
            Reqivo::Endpoint endpoint = server.endpoint(true);
            endpoint.host = host;
            endpoint.tlsOptions = testCaOptions();
            AsyncConnection connection;
            const auto error
                = co_await thrown<Reqivo::TlsError>(connection.connectToHost(endpoint, 5s));
            CO_VERIFY2(error, "verification must fail");
            CO_COMPARE(error->kind(), Reqivo::Error::Kind::Tls);
            CO_COMPARE(error->message(),
                QStringLiteral("TLS handshake with https://%1:%2 failed")
                    .arg(host)
                    .arg(server.port()));
            CO_VERIFY2(error->error().detail().contains(expectedError, Qt::CaseInsensitive),
                qPrintable(error->error().detail()));
            CO_VERIFY(!connection.isOpen());
            // A TlsError is a NetworkError to callers that do not care which.
            CO_VERIFY(error->error().isA(Reqivo::Error::Kind::Network));
        }());
    }

    // Qt 6.4 accepts the first rows' certificates on its own (CN consulted although SANs
    // exist, IP literals compared as strings, partial-label wildcards); Reqivo refuses them
    // after the handshake, before a byte of application data.
    void hostNameVerification_data()
    {
        QTest::addColumn<QByteArray>("cert");
        QTest::addColumn<QString>("host");
        QTest::addColumn<bool>("verify");
        QTest::addColumn<bool>("accepted");
        QTest::addColumn<QString>("reason"); // in the detail, when Reqivo's check refuses

        QTest::newRow("CN matches, SAN does not")
            << QByteArray("cn-not-san") << QStringLiteral("localhost") << true << false
            << QStringLiteral("the host name localhost matches none of the certificate's DNS "
                              "subjectAltNames (DNS: other.invalid)");
        QTest::newRow("no SAN, CN matches")
            << QByteArray("cn-only") << QStringLiteral("localhost") << true << false
            << QStringLiteral("the certificate has no DNS or IP subjectAltName; its subject "
                              "common name is not consulted (RFC 9525)");
        QTest::newRow("IP only in the CN")
            << QByteArray("ip-in-cn") << QStringLiteral("127.0.0.1") << true << false
            << QStringLiteral("the certificate has no DNS or IP subjectAltName; its subject "
                              "common name is not consulted (RFC 9525)");
        QTest::newRow("IP in a DNS-type SAN")
            << QByteArray("ip-as-dns") << QStringLiteral("127.0.0.1") << true << false
            << QStringLiteral("the IP address 127.0.0.1 is not among the certificate's IP "
                              "subjectAltNames (IP: none); DNS names and the common name never "
                              "match an address (DNS: 127.0.0.1)");
        QTest::newRow("partial-label wildcard")
            << QByteArray("partial-wildcard") << QStringLiteral("foo.wild.reqivo.test") << true
            << false
            << QStringLiteral("the host name foo.wild.reqivo.test matches none of the "
                              "certificate's DNS subjectAltNames (DNS: f*.wild.reqivo.test)");
        QTest::newRow("IP SAN") << QByteArray("server") << QStringLiteral("127.0.0.1") << true
                                << true << QString();
        QTest::newRow("DNS SAN") << QByteArray("server") << QStringLiteral("localhost") << true
                                 << true << QString();
        QTest::newRow("DNS SAN, other case")
            << QByteArray("server") << QStringLiteral("LocalHost") << true << true << QString();
        QTest::newRow("wildcard, one label")
            << QByteArray("wildcard") << QStringLiteral("a.wild.reqivo.test") << true << true
            << QString();
        QTest::newRow("wildcard, other case")
            << QByteArray("wildcard") << QStringLiteral("Abc.Wild.Reqivo.Test") << true << true
            << QString();
        // Refused by Qt already; the detail is Qt's.
        QTest::newRow("wildcard, bare domain")
            << QByteArray("wildcard") << QStringLiteral("wild.reqivo.test") << true << false
            << QString();
        QTest::newRow("wildcard, two labels")
            << QByteArray("wildcard") << QStringLiteral("a.b.wild.reqivo.test") << true << false
            << QString();
        // Verification off: no name check either.
        QTest::newRow("no SAN, verification off")
            << QByteArray("cn-only") << QStringLiteral("localhost") << false << true << QString();
        QTest::newRow("IP in a DNS-type SAN, verification off")
            << QByteArray("ip-as-dns") << QStringLiteral("127.0.0.1") << false << true << QString();
    }

    void hostNameVerification()
    {
        QFETCH(QByteArray, cert);
        QFETCH(QString, host);
        QFETCH(bool, verify);
        QFETCH(bool, accepted);
        QFETCH(QString, reason);
        QByteArray received; // application bytes the server got
        LoopbackServer server([&received](QTcpSocket *socket) {
            const auto take = [socket, &received] {
                const QByteArray data = socket->readAll();
                received += data;
                socket->write(data);
            };
            QObject::connect(socket, &QIODevice::readyRead, socket, take);
            if (socket->bytesAvailable() > 0)
                take();
        });
        QVERIFY(server.listenTls((cert + ".pem").constData(), (cert + ".key").constData()));
        RUN_CORO([&]() -> QCoro::Task<> {
            Reqivo::Endpoint endpoint = server.endpoint(true);
            endpoint.host = host;
            endpoint.tlsOptions = testCaOptions();
            endpoint.tlsOptions.verifyPeer = verify;
            AsyncConnection connection;
            if (accepted) {
                co_await connection.connectToHost(endpoint, 5s);
                co_await connection.write("hello", 5s);
                CO_COMPARE(co_await readAtLeast(connection, 5), QByteArray("hello"));
                co_return;
            }
            const auto error
                = co_await thrown<Reqivo::TlsError>(connection.connectToHost(endpoint, 5s));
            CO_VERIFY2(error, "the certificate must be refused");
            CO_COMPARE(error->message(),
                QStringLiteral("TLS handshake with https://%1:%2 failed")
                    .arg(host)
                    .arg(server.port()));
            if (!reason.isEmpty())
                CO_COMPARE(error->error().detail(),
                    QStringLiteral("host name verification failed: ") + reason);
            CO_VERIFY(!connection.isOpen());
            CO_VERIFY(!connection.isUsableForReuse());
            // Closed before anything was sent: the server sees the end and no data.
            CO_VERIFY(co_await eventually([&] { return server.sockets().isEmpty(); }));
            CO_COMPARE(received, QByteArray());
        }());
    }

    // Whether the peer ended the TLS stream with close_notify or just closed TCP: the one
    // thing that tells a complete close-delimited body from a truncated one.
    void howATlsStreamEnded_data()
    {
        QTest::addColumn<QString>("ending");
        QTest::addColumn<bool>("withoutCloseNotify");
        QTest::newRow("close_notify, then FIN") << QStringLiteral("close_notify") << false;
        QTest::newRow("FIN without close_notify") << QStringLiteral("fin") << true;
        QTest::newRow("reset without close_notify") << QStringLiteral("reset") << true;
    }

    void howATlsStreamEnded()
    {
        QFETCH(QString, ending);
        QFETCH(bool, withoutCloseNotify);
        LoopbackServer server(LoopbackServer::sendThenClose("body", false));
        QVERIFY(server.listenTls());
        RUN_CORO([&]() -> QCoro::Task<> {
            Reqivo::Endpoint endpoint = server.endpoint(true);
            endpoint.tlsOptions = testCaOptions();
            AsyncConnection connection;
            co_await connection.connectToHost(endpoint, 5s);
            CO_COMPARE(co_await readAtLeast(connection, 4), QByteArray("body"));
            CO_VERIFY(!connection.endedWithoutCloseNotify()); // not ended yet
            CO_VERIFY(server.last());
            auto *peer = static_cast<QSslSocket *>(server.last());
            if (ending == QLatin1String("close_notify")) {
                peer->disconnectFromHost(); // TLS shutdown: close_notify, then FIN
            } else {
                if (ending == QLatin1String("reset"))
                    resetOnClose(peer);
                peer->abort(); // the TCP connection only
            }
            CO_COMPARE(co_await connection.read(5s), QByteArray()); // end of stream
            CO_COMPARE(connection.endedWithoutCloseNotify(), withoutCloseNotify);
            CO_VERIFY(!connection.isUsableForReuse());
        }());
    }

    void plainTcpHasNoCloseNotify()
    {
        LoopbackServer server(LoopbackServer::sendThenClose("body"));
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection;
            co_await connection.connectToHost(server.endpoint(), 5s);
            CO_COMPARE(co_await readAtLeast(connection, 5), QByteArray("body"));
            CO_VERIFY(!connection.isOpen());
            CO_VERIFY(!connection.endedWithoutCloseNotify());
        }());
    }

    void systemStoreDoesNotTrustTheTestCa()
    {
        LoopbackServer server;
        QVERIFY(server.listenTls());
        RUN_CORO([&]() -> QCoro::Task<> {
            AsyncConnection connection; // default options: system CAs only
            const auto error = co_await thrown<Reqivo::TlsError>(
                connection.connectToHost(server.endpoint(true), 5s));
            CO_VERIFY(error);
        }());
    }

    void verificationOffAcceptsAnything_data()
    {
        QTest::addColumn<QByteArray>("cert");
        QTest::newRow("untrusted CA") << QByteArray("other-server");
        QTest::newRow("wrong host") << QByteArray("wronghost");
        QTest::newRow("expired") << QByteArray("expired");
    }

    void verificationOffAcceptsAnything()
    {
        QFETCH(QByteArray, cert);
        LoopbackServer server(LoopbackServer::echo());
        QVERIFY(server.listenTls((cert + ".pem").constData(), (cert + ".key").constData()));
        RUN_CORO([&]() -> QCoro::Task<> {
            Reqivo::Endpoint endpoint = server.endpoint(true);
            endpoint.tlsOptions.verifyPeer = false;
            AsyncConnection connection;
            co_await connection.connectToHost(endpoint, 5s);
            CO_VERIFY(connection.isEncrypted());
            co_await connection.write("insecure", 5s);
            CO_COMPARE(co_await readAtLeast(connection, 8), QByteArray("insecure"));
        }());
    }

    void mutualTlsWithClientCertificate()
    {
        LoopbackServer server(LoopbackServer::echo());
        QVERIFY(server.listenTls("server.pem", "server.key", true));
        RUN_CORO([&]() -> QCoro::Task<> {
            Reqivo::Endpoint endpoint = server.endpoint(true);
            endpoint.tlsOptions = testCaOptions();
            QString error;
            CO_VERIFY2(endpoint.tlsOptions.setClientCertificateFromFiles(
                           certPath("client.pem"), certPath("client.key"), &error),
                qPrintable(error));
            AsyncConnection connection;
            co_await connection.connectToHost(endpoint, 5s);
            co_await connection.write("mutual", 5s);
            CO_COMPARE(co_await readAtLeast(connection, 6), QByteArray("mutual"));
            CO_VERIFY(co_await eventually([&] { return server.last() != nullptr; }));
            CO_COMPARE(static_cast<QSslSocket *>(server.last())->peerCertificate(),
                certificate("client.pem"));
        }());
    }

    void mutualTlsWithoutClientCertificateFails()
    {
        LoopbackServer server(LoopbackServer::echo());
        QVERIFY(server.listenTls("server.pem", "server.key", true));
        RUN_CORO([&]() -> QCoro::Task<> {
            Reqivo::Endpoint endpoint = server.endpoint(true);
            endpoint.tlsOptions = testCaOptions();
            AsyncConnection connection;
            // With TLS 1.3 the client finishes its side of the handshake before the server
            // has looked at (the absence of) its certificate, so the refusal may arrive as a
            // failed connect or on the first read. Either way: a NetworkError, never data.
            std::optional<Reqivo::NetworkError> error
                = co_await thrown<Reqivo::NetworkError>(connection.connectToHost(endpoint, 5s));
            if (!error) {
                co_await connection.write("hello?", 5s);
                try {
                    const QByteArray data = co_await connection.read(5s);
                    CO_VERIFY2(data.isEmpty(), "the server must not answer");
                    error = Reqivo::NetworkError(QStringLiteral("closed"));
                } catch (const Reqivo::NetworkError &e) {
                    error = e;
                }
            }
            CO_VERIFY(error);
            CO_VERIFY(!connection.isUsableForReuse());
            CO_VERIFY(server.handshakeErrors() >= 1);
            CO_COMPARE(server.acceptedCount(), 0);
        }());
    }

    void handshakeThatNeverCompletesIsAConnectTimeout()
    {
        LoopbackServer server; // plain TCP: accepts, never speaks TLS
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            Reqivo::Endpoint endpoint = server.endpoint(true);
            endpoint.tlsOptions = testCaOptions();
            AsyncConnection connection;
            QElapsedTimer clock;
            clock.start();
            const auto error = co_await thrown<Reqivo::ConnectTimeout>(
                connection.connectToHost(endpoint, 300ms));
            CO_VERIFY(error);
            CO_VERIFY(clock.elapsed() >= 250);
            CO_COMPARE(error->message(),
                QStringLiteral("connecting to https://127.0.0.1:%1 timed out after 300 ms (TLS "
                               "handshake not finished)")
                    .arg(server.port()));
            CO_VERIFY(!connection.isOpen());
        }());
    }

    void plainPeerAnsweringGarbageIsATlsError()
    {
        LoopbackServer server(LoopbackServer::sendThenClose("HTTP/1.1 400 Bad Request\r\n\r\n"));
        QVERIFY(server.listen());
        RUN_CORO([&]() -> QCoro::Task<> {
            Reqivo::Endpoint endpoint = server.endpoint(true);
            endpoint.tlsOptions = testCaOptions();
            AsyncConnection connection;
            const auto error
                = co_await thrown<Reqivo::TlsError>(connection.connectToHost(endpoint, 5s));
            CO_VERIFY(error);
        }());
    }
};

QTEST_GUILESS_MAIN(TestAsyncConnectionTls)
#include "tst_asyncconnection_tls.moc"
