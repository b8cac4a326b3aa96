// In-process peers for the transport tests: scripted TCP/TLS servers on 127.0.0.1 and the
// certificates made by tests/support/make-certs.sh.
//
// Everything runs in the test's own thread and event loop: the client coroutines and the
// servers take turns, so a test reads as a conversation and needs no locking.
#pragma once

#include <Reqivo/endpoint.h>

#include <QFile>
#include <QList>
#include <QPointer>
#include <QSslConfiguration>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QtGlobal>

#include <functional>
#include <memory>

#ifdef Q_OS_UNIX
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace ReqivoTest {

//! Where make-certs.sh put the certificates: $REQIVO_TEST_CERTS, else the build tree's dir.
inline QString certDir()
{
    QString dir = qEnvironmentVariable("REQIVO_TEST_CERTS");
#ifdef REQIVO_TEST_CERTS_DIR
    if (dir.isEmpty())
        dir = QStringLiteral(REQIVO_TEST_CERTS_DIR);
#endif
    return dir;
}

inline QString certPath(const char *name)
{
    return certDir() + QLatin1Char('/') + QLatin1String(name);
}

inline QByteArray readCertFile(const char *name)
{
    QFile file(certPath(name));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read %s: run tests/support/make-certs.sh (the CTest fixture does)",
            qPrintable(file.fileName()));
    return file.readAll();
}

inline QSslCertificate certificate(const char *name)
{
    return QSslCertificate(readCertFile(name), QSsl::Pem);
}

inline QSslKey privateKey(const char *name)
{
    return QSslKey(readCertFile(name), QSsl::Ec, QSsl::Pem, QSsl::PrivateKey);
}

//! Options that trust only the test CA.
inline Reqivo::TlsOptions testCaOptions()
{
    Reqivo::TlsOptions options;
    options.useSystemCaCertificates = false;
    options.caCertificates = {certificate("ca.pem")};
    return options;
}

//! An endpoint on 127.0.0.1, never through a proxy.
inline Reqivo::Endpoint loopbackEndpoint(quint16 port, bool tls = false)
{
    Reqivo::Endpoint endpoint;
    endpoint.tls = tls;
    endpoint.host = QStringLiteral("127.0.0.1");
    endpoint.port = port;
    endpoint.proxy = QNetworkProxy(QNetworkProxy::NoProxy);
    return endpoint;
}

//! Sends a TCP reset instead of a FIN when the socket is closed.
inline void resetOnClose(QAbstractSocket *socket)
{
#ifdef Q_OS_UNIX
    const linger lingerZero {1, 0};
    ::setsockopt(
        int(socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &lingerZero, sizeof lingerZero);
#endif
}

//! A server on 127.0.0.1, port chosen by the kernel. Each accepted socket is handed to the
//! handler (none: the socket just stays open and silent). With listenTls() it is a QSslServer
//! and sockets arrive after their handshake.
class LoopbackServer : public QObject
{
public:
    using Handler = std::function<void(QTcpSocket *)>;

    explicit LoopbackServer(Handler handler = {})
        : m_handler(std::move(handler))
    {
    }
    ~LoopbackServer() override
    {
        if (m_server)
            QObject::disconnect(m_server.get(), nullptr, this, nullptr);
        m_server.reset(); // closes the accepted sockets (its children)
    }

    bool listen() { return setUp(std::make_unique<QTcpServer>()); }

    bool listenTls(const char *cert = "server.pem", const char *key = "server.key",
        bool requireClientCertificate = false)
    {
        auto server = std::make_unique<QSslServer>();
        QSslConfiguration config = QSslConfiguration::defaultConfiguration();
        config.setLocalCertificate(certificate(cert));
        config.setPrivateKey(privateKey(key));
        if (requireClientCertificate) {
            config.setCaCertificates({certificate("ca.pem")});
            config.setPeerVerifyMode(QSslSocket::VerifyPeer);
        } else {
            config.setPeerVerifyMode(QSslSocket::VerifyNone);
        }
        server->setSslConfiguration(config);
        QObject::connect(server.get(), &QSslServer::errorOccurred, this,
            [this](QSslSocket *, QAbstractSocket::SocketError) { ++m_handshakeErrors; });
        return setUp(std::move(server));
    }

    quint16 port() const { return m_server->serverPort(); }
    Reqivo::Endpoint endpoint(bool tls = false) const;

    int acceptedCount() const { return m_accepted; }
    int handshakeErrors() const { return m_handshakeErrors; }
    //! Accepted sockets still open, oldest first (closed ones are deleted).
    QList<QTcpSocket *> sockets() const
    {
        QList<QTcpSocket *> open;
        for (const auto &socket : m_sockets) {
            if (socket)
                open << socket.data();
        }
        return open;
    }
    QTcpSocket *last() const { return m_sockets.isEmpty() ? nullptr : m_sockets.last().data(); }
    QTcpServer *server() const { return m_server.get(); }

    //! Writes back whatever arrives.
    static Handler echo()
    {
        return [](QTcpSocket *socket) {
            const auto bounce = [socket] { socket->write(socket->readAll()); };
            QObject::connect(socket, &QIODevice::readyRead, socket, bounce);
            // A TLS client may have sent before QSslServer handed the socket over.
            if (socket->bytesAvailable() > 0)
                bounce();
        };
    }

    //! Sends \a bytes at once, then (optionally) closes.
    static Handler sendThenClose(QByteArray bytes, bool close = true)
    {
        return [bytes, close](QTcpSocket *socket) {
            socket->write(bytes);
            socket->flush();
            if (close)
                socket->disconnectFromHost();
        };
    }

private:
    bool setUp(std::unique_ptr<QTcpServer> server)
    {
        m_server = std::move(server);
        const auto drain = [this] {
            while (m_server->hasPendingConnections()) {
                QTcpSocket *socket = m_server->nextPendingConnection();
                ++m_accepted;
                m_sockets << QPointer<QTcpSocket>(socket);
                QObject::connect(
                    socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
                if (m_handler)
                    m_handler(socket);
            }
        };
        // Qt 6.4's QSslServer emits newConnection as the handshake starts; the socket itself
        // is queued (pendingConnectionAvailable) once it is encrypted.
        QObject::connect(m_server.get(), &QTcpServer::newConnection, this, drain);
        QObject::connect(m_server.get(), &QTcpServer::pendingConnectionAvailable, this, drain);
        return m_server->listen(QHostAddress::LocalHost, 0);
    }

    Handler m_handler;
    std::unique_ptr<QTcpServer> m_server;
    QList<QPointer<QTcpSocket>> m_sockets;
    int m_accepted = 0;
    int m_handshakeErrors = 0;
};

#ifdef Q_OS_UNIX
//! A listening socket on 127.0.0.1 that never accepts, below Qt so nothing reads from it.
//! Connections wait in the kernel's accept queue; bytes sent to them pile up in the kernel
//! until the window closes (backpressure). With the queue full (fill()), Linux drops further
//! SYNs, so a new connect neither succeeds nor fails: a loopback connect timeout.
class RawListener
{
public:
    explicit RawListener(int backlog)
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0
            || ::listen(m_fd, backlog) != 0
            || ::getsockname(m_fd, reinterpret_cast<sockaddr *>(&address), &length) != 0)
            qFatal("RawListener: cannot listen on 127.0.0.1");
        m_port = ntohs(address.sin_port);
    }
    ~RawListener()
    {
        for (int fd : m_fillers)
            ::close(fd);
        ::close(m_fd);
    }
    RawListener(const RawListener &) = delete;
    RawListener &operator=(const RawListener &) = delete;

    quint16 port() const { return m_port; }
    Reqivo::Endpoint endpoint() const { return loopbackEndpoint(m_port); }
    //! True once the first filler's connection is established (the kernel completed its
    //! handshake, so it occupies the accept queue), waiting up to \a timeoutMs for it.
    bool waitUntilFull(int timeoutMs = 5000) const
    {
        if (m_fillers.isEmpty())
            return false;
        pollfd waitFor {m_fillers.first(), POLLOUT, 0};
        if (::poll(&waitFor, 1, timeoutMs) != 1)
            return false;
        int error = 0;
        socklen_t length = sizeof error;
        return ::getsockopt(m_fillers.first(), SOL_SOCKET, SO_ERROR, &error, &length) == 0
            && error == 0;
    }
    //! Opens \a count non-blocking connections that just sit in the accept queue.
    void fill(int count)
    {
        for (int i = 0; i < count; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            sockaddr_in address {};
            address.sin_family = AF_INET;
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            address.sin_port = htons(m_port);
            ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address);
            m_fillers << fd;
        }
    }

private:
    int m_fd = -1;
    quint16 m_port = 0;
    QList<int> m_fillers;
};
#endif

//! A port on 127.0.0.1 that nothing listens on (it was free a moment ago).
inline quint16 closedPort()
{
    QTcpServer server;
    server.listen(QHostAddress::LocalHost, 0);
    return server.serverPort();
}

inline Reqivo::Endpoint LoopbackServer::endpoint(bool tls) const
{
    return loopbackEndpoint(port(), tls);
}

} // namespace ReqivoTest
