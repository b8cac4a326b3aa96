// AsyncConnection over TLS against in-process QSslServer peers with certificates from
// make-certs.sh: trust, host names, expiry, verification off, mutual TLS, handshake timeout.
#include "support/qcorotest.h"
#include "testpeers.h"

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
