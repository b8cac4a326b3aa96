// Tiny in-process proxies on 127.0.0.1 for the transport tests: an HTTP CONNECT proxy and a
// SOCKS5 proxy (RFC 1928, with RFC 1929 username/password when asked to require it). Each
// records what the client asked for, then relays bytes both ways. Only loopback targets are
// ever dialled: anything else is refused.
#pragma once

#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QtEndian>

#include <functional>
#include <memory>

namespace ReqivoTest {

class ProxyBase : public QObject
{
public:
    ProxyBase()
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *client = m_server.nextPendingConnection())
                accept(client);
        });
    }
    ~ProxyBase() override { QObject::disconnect(&m_server, nullptr, this, nullptr); }

    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }
    //! "host:port" of every tunnel the proxy opened (or refused), in order.
    QStringList targets;
    //! Bytes relayed from clients to targets.
    qint64 relayedUpstream = 0;
    int refused = 0;

protected:
    virtual void accept(QTcpSocket *client) = 0;

    static bool isLoopback(const QString &host)
    {
        return host == QLatin1String("localhost") || QHostAddress(host).isLoopback();
    }

    //! Dials \a host:\a port and, once connected, calls \a ready; then relays both ways.
    void openTunnel(
        QTcpSocket *client, const QString &host, quint16 port, std::function<void(bool ok)> ready)
    {
        targets << host + QLatin1Char(':') + QString::number(port);
        if (!isLoopback(host)) {
            ++refused;
            ready(false);
            return;
        }
        auto *upstream = new QTcpSocket(client);
        QObject::connect(upstream, &QAbstractSocket::connected, client, [=, this] {
            ready(true);
            QObject::connect(client, &QIODevice::readyRead, upstream, [=, this] {
                const QByteArray data = client->readAll();
                relayedUpstream += data.size();
                upstream->write(data);
            });
            QObject::connect(upstream, &QIODevice::readyRead, client,
                [=] { client->write(upstream->readAll()); });
            QObject::connect(upstream, &QAbstractSocket::disconnected, client,
                [=] { client->disconnectFromHost(); });
            QObject::connect(client, &QAbstractSocket::disconnected, upstream,
                [=] { upstream->disconnectFromHost(); });
        });
        QObject::connect(
            upstream, &QAbstractSocket::errorOccurred, client, [=](QAbstractSocket::SocketError) {
                if (upstream->state() != QAbstractSocket::ConnectedState)
                    ready(false);
            });
        upstream->connectToHost(host, port);
    }

    QTcpServer m_server;
};

//! HTTP/1.1 CONNECT proxy. With credentials set it answers 407 until the client sends a
//! matching "Proxy-Authorization: Basic".
class HttpConnectProxy : public ProxyBase
{
public:
    QByteArray requiredAuthorization; //!< e.g. "Basic dXNlcjpwYXNz"; empty: no auth
    QList<QByteArray> authorizations; //!< Proxy-Authorization values seen (empty if absent)

protected:
    void accept(QTcpSocket *client) override
    {
        auto buffer = std::make_shared<QByteArray>();
        QObject::connect(client, &QIODevice::readyRead, client, [=, this] {
            *buffer += client->readAll();
            const qsizetype end = buffer->indexOf("\r\n\r\n");
            if (end < 0)
                return;
            QObject::disconnect(client, &QIODevice::readyRead, client, nullptr);
            const QByteArray head = buffer->left(end);
            [[maybe_unused]] const QByteArray rest = buffer->mid(end + 4);
            const QList<QByteArray> lines = head.split('\n');
            const QList<QByteArray> request = lines.value(0).trimmed().split(' ');
            QByteArray authorization;
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const QByteArray line = lines.at(i).trimmed();
                if (line.toLower().startsWith("proxy-authorization:"))
                    authorization = line.mid(20).trimmed();
            }
            authorizations << authorization;
            if (request.size() != 3 || request.at(0) != "CONNECT") {
                client->write("HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\n\r\n");
                client->disconnectFromHost();
                return;
            }
            if (!requiredAuthorization.isEmpty() && authorization != requiredAuthorization) {
                client->write("HTTP/1.1 407 Proxy Authentication Required\r\n"
                              "Proxy-Authenticate: Basic realm=\"reqivo-test\"\r\n"
                              "Content-Length: 0\r\nConnection: close\r\n\r\n");
                client->disconnectFromHost();
                return;
            }
            const QByteArray target = request.at(1);
            const qsizetype colon = target.lastIndexOf(':');
            QString host = QString::fromLatin1(target.left(colon));
            if (host.startsWith(QLatin1Char('[')))
                host = host.mid(1, host.size() - 2);
            const quint16 port = target.mid(colon + 1).toUShort();
            Q_ASSERT(rest.isEmpty()); // clients wait for the 200 before sending
            openTunnel(client, host, port, [client](bool ok) {
                if (!ok) {
                    client->write("HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n");
                    client->disconnectFromHost();
                    return;
                }
                client->write("HTTP/1.1 200 Connection established\r\n\r\n");
            });
        });
    }
};

//! SOCKS5 proxy: CONNECT only; no-auth, or username/password when credentials are set.
class Socks5Proxy : public ProxyBase
{
public:
    QByteArray requiredUser;
    QByteArray requiredPassword;
    QList<QByteArray> users; //!< usernames clients authenticated with
    QList<int> addressTypes; //!< ATYP of each request: 1 IPv4, 3 domain name, 4 IPv6
    QList<QByteArray> offeredMethods; //!< the methods byte string of each greeting

protected:
    void accept(QTcpSocket *client) override
    {
        enum class Step { Greeting, Auth, Request, Relaying };
        auto step = std::make_shared<Step>(Step::Greeting);
        auto buffer = std::make_shared<QByteArray>();
        auto fail = [client](const QByteArray &reply) {
            client->write(reply);
            client->disconnectFromHost();
        };
        QObject::connect(client, &QIODevice::readyRead, client, [=, this] {
            if (*step == Step::Relaying)
                return; // the tunnel's own relay handles it
            *buffer += client->readAll();
            auto have = [&](qsizetype n) { return buffer->size() >= n; };
            auto byte = [&](qsizetype i) { return quint8(buffer->at(i)); };
            for (;;) {
                switch (*step) {
                case Step::Greeting: {
                    if (!have(2) || !have(2 + byte(1)))
                        return;
                    const QByteArray methods = buffer->mid(2, byte(1));
                    offeredMethods << methods;
                    buffer->remove(0, 2 + byte(1));
                    // Without required credentials, a client that only offers
                    // username/password gets it, and any credentials pass.
                    const bool wantAuth = !requiredUser.isEmpty() || !methods.contains('\x00');
                    const char method = wantAuth ? '\x02' : '\x00';
                    if (!methods.contains(method))
                        return fail(QByteArray("\x05\xff", 2));
                    client->write(QByteArray("\x05", 1) + method);
                    *step = wantAuth ? Step::Auth : Step::Request;
                    break;
                }
                case Step::Auth: {
                    if (!have(2) || !have(2 + byte(1) + 1))
                        return;
                    const int userLength = byte(1);
                    const int passwordLength = byte(2 + userLength);
                    if (!have(3 + userLength + passwordLength))
                        return;
                    const QByteArray user = buffer->mid(2, userLength);
                    const QByteArray password = buffer->mid(3 + userLength, passwordLength);
                    buffer->remove(0, 3 + userLength + passwordLength);
                    users << user;
                    if (!requiredUser.isEmpty()
                        && (user != requiredUser || password != requiredPassword))
                        return fail(QByteArray("\x01\x01", 2));
                    client->write(QByteArray("\x01\x00", 2));
                    *step = Step::Request;
                    break;
                }
                case Step::Request: {
                    if (!have(5))
                        return;
                    const int type = byte(3);
                    qsizetype addressLength = type == 1 ? 4 : type == 4 ? 16 : 1 + byte(4);
                    if (!have(4 + addressLength + 2))
                        return;
                    QString host;
                    if (type == 1) {
                        host = QHostAddress(qFromBigEndian<quint32>(buffer->constData() + 4))
                                   .toString();
                    } else if (type == 4) {
                        host = QHostAddress(
                            reinterpret_cast<const quint8 *>(buffer->constData() + 4))
                                   .toString();
                    } else {
                        host = QString::fromLatin1(buffer->mid(5, byte(4)));
                    }
                    const quint16 port
                        = qFromBigEndian<quint16>(buffer->constData() + 4 + addressLength);
                    addressTypes << type;
                    const bool connectCommand = byte(1) == 1;
                    buffer->remove(0, 4 + addressLength + 2);
                    if (!connectCommand)
                        return fail(QByteArray("\x05\x07\x00\x01\0\0\0\0\0\0", 10));
                    *step = Step::Relaying;
                    openTunnel(client, host, port, [client, fail](bool ok) {
                        if (!ok)
                            return fail(QByteArray("\x05\x05\x00\x01\0\0\0\0\0\0", 10));
                        client->write(QByteArray("\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x00", 10));
                    });
                    return;
                }
                case Step::Relaying:
                    return;
                }
            }
        });
    }
};

} // namespace ReqivoTest
