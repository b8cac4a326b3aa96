// Certificate pinning end to end (docs/resilience.md): nginx over HTTPS and HTTP/2 with the
// leaf's pin, the CA's pin, a wrong pin (with and without verification), a backup pin and a
// pin for another host; a scripted TLS server proving that a refused connection never carried
// one request byte; a CONNECT tunnel; the blocking Session; and WSS. The pins are the ones
// openssl computed (make-certs.sh writes NAME.pin beside each certificate).
#include "../websocket/wstest.h"
#include "faultserver.h"
#include "sessiontest.h"
#include "support/peers.h"
#include "unit/transport/testproxies.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Session>
#include <Reqivo/asyncconnectionpool.h>
#include <Reqivo/websocket.h>

#include <QNetworkProxy>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Error;

namespace {

QHash<QString, QString> nginxEnv()
{
    return ReqivoTest::loadPeerEnv(u"nginx"_s);
}

//! The pin openssl computed for NAME.pem of the nginx fixture's certificates.
QString pinOf(const QHash<QString, QString> &nginx, const QString &name)
{
    QFile file(ReqivoTest::peerValue(nginx, u"NGINX_CERTS_DIR"_s) + u'/' + name + u".pin"_s);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(file.fileName()));
    return QString::fromLatin1(file.readAll().trimmed());
}

//! Trusts the fixture's CA (or nothing checked, \a verifyPeer false) and pins \a pinNames
//! ("server", "ca", "other-ca", ...) for \a pattern.
Reqivo::TlsOptions pinned(const QHash<QString, QString> &nginx, const QString &pattern,
    const QStringList &pinNames, bool verifyPeer = true)
{
    Reqivo::TlsOptions tls;
    tls.verifyPeer = verifyPeer;
    tls.useSystemCaCertificates = false;
    QString error;
    if (!tls.addCaCertificatesFromFile(ReqivoTest::peerValue(nginx, u"NGINX_CA_FILE"_s), &error))
        qFatal("%s", qPrintable(error));
    QStringList pins;
    for (const QString &name : pinNames)
        pins << pinOf(nginx, name);
    if (!pins.isEmpty() && !tls.addPins(pattern, pins.join(u';'), &error))
        qFatal("%s", qPrintable(error));
    return tls;
}

//! What a pin mismatch must look like: a TlsError (TlsHandshake) naming the host, whose
//! detail lists the presented leaf's pin.
QString mismatchProblem(const Error &error, const QString &leafPin)
{
    if (error.kind() != Error::Kind::Tls)
        return u"expected a TlsError, got "_s + error.toString();
    if (error.networkFailure() != Error::NetworkFailure::TlsHandshake)
        return u"expected NetworkFailure::TlsHandshake, got "_s + error.toString();
    if (!error.message().contains(u"127.0.0.1"_s))
        return u"the message does not name the host: "_s + error.toString();
    if (!error.detail().contains(leafPin))
        return u"the detail does not list the leaf's pin "_s + leafPin + u": "_s + error.toString();
    return {};
}

} // namespace

class TestSessionPinning : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void nginx_data()
    {
        QTest::addColumn<bool>("http2");
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QStringList>("pins");
        QTest::addColumn<bool>("verifyPeer");
        QTest::addColumn<bool>("accepted");
        for (const bool http2 : {false, true}) {
            const char *p = http2 ? "HTTP/2" : "HTTP/1.1";
            QTest::addRow("%s, no pin", p)
                << http2 << u"127.0.0.1"_s << QStringList() << true << true;
            QTest::addRow("%s, the leaf's pin", p)
                << http2 << u"127.0.0.1"_s << QStringList {u"server"_s} << true << true;
            QTest::addRow("%s, the CA's pin (the verified chain's anchor)", p)
                << http2 << u"127.0.0.1"_s << QStringList {u"ca"_s} << true << true;
            QTest::addRow("%s, a wrong pin and a right backup pin", p)
                << http2 << u"127.0.0.1"_s << QStringList {u"other-ca"_s, u"server"_s} << true
                << true;
            QTest::addRow("%s, a wrong pin", p)
                << http2 << u"127.0.0.1"_s << QStringList {u"other-ca"_s} << true << false;
            QTest::addRow("%s, another key of the same CA", p)
                << http2 << u"127.0.0.1"_s << QStringList {u"rsa-server"_s} << true << false;
            QTest::addRow("%s, verification off, the leaf's pin", p)
                << http2 << u"127.0.0.1"_s << QStringList {u"server"_s} << false << true;
            QTest::addRow("%s, verification off, a wrong pin", p)
                << http2 << u"127.0.0.1"_s << QStringList {u"other-ca"_s} << false << false;
            // Unverified, the CA's pin proves nothing: nginx presents only its leaf.
            QTest::addRow("%s, verification off, the CA's pin", p)
                << http2 << u"127.0.0.1"_s << QStringList {u"ca"_s} << false << false;
            QTest::addRow("%s, a wrong pin for another host", p)
                << http2 << u"**.example.com"_s << QStringList {u"other-ca"_s} << true << true;
        }
    }
    void nginx()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(bool, http2);
            QFETCH(QString, pattern);
            QFETCH(QStringList, pins);
            QFETCH(bool, verifyPeer);
            QFETCH(bool, accepted);
            const auto nginx = nginxEnv();
            AsyncSession session;
            session.setHttpVersion(
                http2 ? Reqivo::HttpVersion::Http2 : Reqivo::HttpVersion::Http1_1);
            session.setTlsOptions(pinned(nginx, pattern, pins, verifyPeer));
            const QUrl url = ReqivoTest::peerUrl(
                nginx, http2 ? u"NGINX_H2_URL"_s : u"NGINX_HTTPS_URL"_s, u"/small.txt"_s);
            const Outcome o = co_await attempt(session.get(url));
            if (accepted) {
                CO_EXPECT_OK(o);
                CO_COMPARE(o.response.status(), 200);
                CO_COMPARE(o.response.httpVersion(), http2 ? u"2"_s : u"1.1"_s);
            } else {
                CO_VERIFY2(!o.ok(), "a connection that matches no pin was accepted");
                const QString problem = mismatchProblem(o.error, pinOf(nginx, u"server"_s));
                CO_VERIFY2(problem.isEmpty(), qPrintable(problem));
                CO_COMPARE(session.pool()->totalCount(), 0);
            }
        }());
    }

    // The check runs once the handshake is done and before the connection is handed out: the
    // server sees a handshake and then not one application byte.
    void mismatchSendsNotOneRequestByte_data()
    {
        QTest::addColumn<bool>("verifyPeer");
        QTest::newRow("verification on") << true;
        QTest::newRow("verification off") << false;
    }
    void mismatchSendsNotOneRequestByte()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(bool, verifyPeer);
            const auto nginx = nginxEnv();
            const QSslConfiguration serverTls = nginxServerTls(nginx);
            CO_VERIFY(!serverTls.privateKey().isNull());
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(200, "pinned"));
            });
            server.enableTls(serverTls);
            {
                AsyncSession session;
                session.setTlsOptions(pinned(nginx, u"127.0.0.1"_s, {u"other-ca"_s}, verifyPeer));
                const Outcome o = co_await attempt(session.post(
                    server.httpsUrl(u"/secret"_s), Reqivo::Body::fromBytes("request body")));
                CO_VERIFY2(!o.ok(), "a connection that matches no pin was accepted");
                const QString problem = mismatchProblem(o.error, pinOf(nginx, u"server"_s));
                CO_VERIFY2(problem.isEmpty(), qPrintable(problem));
                CO_COMPARE(server.connectionCount(), 1);
                CO_COMPARE(server.bytesReceived(), qint64(0));
                CO_VERIFY(server.requests().isEmpty());
                CO_COMPARE(session.pool()->totalCount(), 0);
            }
            // The same server with the right pin: the request arrives (the counter counts).
            AsyncSession session;
            session.setTlsOptions(pinned(nginx, u"127.0.0.1"_s, {u"server"_s}, verifyPeer));
            const Outcome o = co_await attempt(session.post(
                server.httpsUrl(u"/secret"_s), Reqivo::Body::fromBytes("request body")));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), QByteArray("pinned"));
            CO_VERIFY(server.bytesReceived() > 0);
            CO_COMPARE(server.requests().size(), qsizetype(1));
        }());
    }

    // Through a CONNECT tunnel the pins apply to the origin's certificate.
    void throughConnectProxy()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const auto nginx = nginxEnv();
            ReqivoTest::HttpConnectProxy proxy;
            CO_VERIFY(proxy.listen());
            const QUrl url = ReqivoTest::peerUrl(nginx, u"NGINX_HTTPS_URL"_s, u"/small.txt"_s);
            AsyncSession session;
            session.setHttpVersion(Reqivo::HttpVersion::Http1_1);
            session.setProxy(QNetworkProxy(QNetworkProxy::HttpProxy, u"127.0.0.1"_s, proxy.port()));
            session.setTlsOptions(pinned(nginx, u"127.0.0.1"_s, {u"other-ca"_s}));
            const Outcome refused = co_await attempt(session.get(url));
            CO_VERIFY2(!refused.ok(), "a connection that matches no pin was accepted");
            const QString problem = mismatchProblem(refused.error, pinOf(nginx, u"server"_s));
            CO_VERIFY2(problem.isEmpty(), qPrintable(problem));
            CO_COMPARE(proxy.targets.size(), qsizetype(1));

            session.setTlsOptions(pinned(nginx, u"127.0.0.1"_s, {u"server"_s}));
            const Outcome o = co_await attempt(session.get(url));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), QByteArray("Hello from nginx\n"));
            CO_COMPARE(proxy.targets.size(), qsizetype(2));
        }());
    }

    void blockingSession()
    {
        const auto nginx = nginxEnv();
        const QUrl url = ReqivoTest::peerUrl(nginx, u"NGINX_HTTPS_URL"_s, u"/small.txt"_s);
        Reqivo::Session session;
        session.setTlsOptions(pinned(nginx, u"127.0.0.1"_s, {u"other-ca"_s}));
        Error error;
        try {
            session.get(url);
        } catch (...) {
            error = Error::fromException(std::current_exception());
        }
        QVERIFY2(!error.isNull(), "a connection that matches no pin was accepted");
        const QString problem = mismatchProblem(error, pinOf(nginx, u"server"_s));
        QVERIFY2(problem.isEmpty(), qPrintable(problem));

        session.setTlsOptions(pinned(nginx, u"127.0.0.1"_s, {u"ca"_s}));
        const Reqivo::Response r = session.get(url);
        QCOMPARE(r.status(), 200);
        QCOMPARE(r.body(), QByteArray("Hello from nginx\n"));
    }

    // WSS runs on the same transport: a mismatch fails the open (a WebSocketError, as every
    // failed open is, carrying the pins) before the upgrade request leaves.
    void webSocketOverTls()
    {
        const auto nginx = nginxEnv();
        ReqivoTest::TestServer server;
        QSslConfiguration serverTls = nginxServerTls(nginx);
        serverTls.setPeerVerifyMode(QSslSocket::VerifyNone);
        server.ssl = serverTls;
        QVERIFY(server.listen());

        Reqivo::Session session;
        session.setTlsOptions(pinned(nginx, u"127.0.0.1"_s, {u"other-ca"_s}));
        {
            const std::unique_ptr<Reqivo::WebSocket> socket = session.webSocket(server.url());
            Error error;
            try {
                socket->open();
            } catch (...) {
                error = Error::fromException(std::current_exception());
            }
            QVERIFY2(!error.isNull(), "a connection that matches no pin was accepted");
            QCOMPARE(error.kind(), Error::Kind::WebSocket);
            QVERIFY2(
                error.detail().contains(pinOf(nginx, u"server"_s)), qPrintable(error.toString()));
            QCOMPARE(server.connections, 0);
        }
        session.setTlsOptions(pinned(nginx, u"127.0.0.1"_s, {u"server"_s}));
        const std::unique_ptr<Reqivo::WebSocket> socket = session.webSocket(server.url());
        socket->open();
        socket->send(u"hello"_s);
        QCOMPARE(socket->receive(5s).text(), u"hello"_s);
        socket->close();
        QCOMPARE(server.connections, 1);
    }
};

QTEST_GUILESS_MAIN(TestSessionPinning)
#include "tst_session_pinning.moc"
