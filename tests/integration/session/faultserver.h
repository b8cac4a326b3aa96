// FaultServer: an in-process HTTP/1.1 peer on 127.0.0.1 whose every byte and every fault is
// scripted by the test.
//
// It parses requests just enough to hand them, complete (head and Content-Length or chunked
// body), to a handler, which answers through the ServerConnection: exact bytes, bytes trickled
// on a timer, a graceful close, or a TCP reset. It counts what a test needs to prove pooling
// and retry behaviour from the outside: connections accepted, connections open at once (and the
// peak), requests and raw bytes received. With enableTls() it speaks TLS and plain HTTP on the
// same port (it peeks at the first byte: 0x16 opens a TLS handshake), so one server can be two
// origins that differ by scheme only. It runs on the test's thread, so the test must wait with
// co_await (never block) while a client talks to it.
//
// It is Reqivo::Testing's MockServer in scripted mode, adapted by support/scriptedserver.h
// (shared with the sync tests' ThreadedServer); this file keeps it on the test's thread.
// FAULTSERVER_DEBUG=1 in the environment logs each request.
#pragma once

#include "support/peers.h"

#include <QFile>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>

#include "support/scriptedserver.h"

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPointer>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>
#include <QUrl>

#include <functional>
#include <utility>

namespace SessionTest {

using ReqivoTest::httpResponse;
using ReqivoTest::ReceivedRequest;
using ReqivoTest::ServerConnection;

class FaultServer : public QObject
{
public:
    using Handler = ReqivoTest::ScriptedConnections::Handler;
    using AcceptHandler = ReqivoTest::ScriptedConnections::AcceptHandler;

    explicit FaultServer(Handler handler = {})
    {
        m_connections.setHandler(std::move(handler));
        if (!m_server.start())
            qFatal("FaultServer: cannot listen on 127.0.0.1");
    }

    void setHandler(Handler handler) { m_connections.setHandler(std::move(handler)); }
    //! Called for each connection as it is accepted, before it sends anything.
    void setAcceptHandler(AcceptHandler handler)
    {
        m_connections.setAcceptHandler(std::move(handler));
    }

    //! Also answer TLS on the same port, with \a config (local certificate and key).
    void enableTls(const QSslConfiguration &config)
    {
        m_server.useTls(config, Reqivo::Testing::MockServer::TlsMode::TlsOrPlain);
    }

    quint16 port() const { return m_server.port(); }
    QUrl url(const QString &path = QStringLiteral("/")) const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port()).arg(path));
    }
    QUrl httpsUrl(const QString &path = QStringLiteral("/")) const
    {
        return QUrl(QStringLiteral("https://127.0.0.1:%1%2").arg(port()).arg(path));
    }

    int connectionCount() const { return m_connections.connectionCount(); }
    int openConnections() const { return m_connections.openConnections(); }
    int maxOpenConnections() const { return m_connections.maxOpenConnections(); }
    const QList<ReceivedRequest> &requests() const { return m_connections.requestsHere(); }
    qint64 bytesReceived() const { return m_connections.bytesReceived(); }
    QList<QPointer<ServerConnection>> connections() const { return m_connections.connections(); }

private:
    Reqivo::Testing::MockServer m_server;
    ReqivoTest::ScriptedConnections m_connections {
        m_server, {"FaultServer", false, "FAULTSERVER_DEBUG"}};
};

//! A server-side TLS configuration with the nginx fixture's certificate for 127.0.0.1 and
//! localhost (the test must use the nginx peer); a null private key if it could not be read.
inline QSslConfiguration nginxServerTls(const QHash<QString, QString> &nginx)
{
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificate(
        QSslCertificate::fromPath(ReqivoTest::peerValue(nginx, QStringLiteral("NGINX_SERVER_CERT")))
            .value(0));
    QFile keyFile(
        ReqivoTest::peerValue(nginx, QStringLiteral("NGINX_CERTS_DIR")) + QStringLiteral("/server.key"));
    if (keyFile.open(QIODevice::ReadOnly))
        tls.setPrivateKey(QSslKey(keyFile.readAll(), QSsl::Ec));
    return tls;
}

} // namespace SessionTest
