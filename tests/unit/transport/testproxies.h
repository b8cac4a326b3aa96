// Tiny in-process proxies on 127.0.0.1 for the transport tests: an HTTP CONNECT proxy and a
// SOCKS5 proxy (RFC 1928, with RFC 1929 username/password when asked to require it). Each
// records what the client asked for, then relays bytes both ways. Only loopback targets are
// ever dialled: anything else is refused.
#pragma once

#include <QCryptographicHash>
#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrl>
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
            while (QTcpSocket *client = m_server.nextPendingConnection()) {
                ++clientConnections;
                accept(client);
            }
        });
    }
    ~ProxyBase() override { QObject::disconnect(&m_server, nullptr, this, nullptr); }

    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }
    //! "host:port" of every tunnel the proxy opened (or refused), in order.
    QStringList targets;
    //! Host names the proxy dials as another (e.g. "origin.test" -> "127.0.0.1"), so that a
    //! test can use a name that no resolver knows; still only loopback is dialled.
    QHash<QString, QString> hostAliases;
    //! Connections accepted from clients.
    int clientConnections = 0;
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
        const QString dialled = hostAliases.value(host, host);
        if (!isLoopback(dialled)) {
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
        upstream->connectToHost(dialled, port);
    }

    QTcpServer m_server;
};

//! HTTP/1.1 proxy: CONNECT tunnels, and absolute-form requests ("GET http://host:port/x") that
//! it forwards to the origin in origin-form without Proxy-Authorization (and relays the answer).
//! With credentials set it answers 407 until the client sends a matching Proxy-Authorization:
//! Basic (requiredAuthorization) or Digest (digestUser/digestPassword, RFC 7616 qop=auth).
class HttpConnectProxy : public ProxyBase
{
public:
    QByteArray requiredAuthorization; //!< e.g. "Basic dXNlcjpwYXNz"; empty: no auth
    //! Digest instead: the 407 challenges with Digest (digestAlgorithm) and the proxy accepts
    //! an answer computed with these. Empty user: no Digest.
    QByteArray digestUser;
    QByteArray digestPassword;
    QByteArray digestAlgorithm = "SHA-256"; //!< or "MD5"
    QByteArray digestNonce = "5b8a1f0d2c"; //!< the nonce every challenge carries
    //! A 407 keeps the connection (with a small body) instead of closing it.
    bool keepAliveOn407 = false;
    QList<QByteArray> authorizations; //!< Proxy-Authorization values seen (empty if absent)
    //! The request line of every absolute-form request forwarded, in order.
    QList<QByteArray> forwarded;
    int challenges = 0; //!< 407s sent

protected:
    struct Client
    {
        QByteArray buffer;
        bool tunnel = false;
        QHash<QString, QTcpSocket *> upstreams; //!< "host:port" of absolute-form origins
    };

    static QByteArray fieldValue(const QList<QByteArray> &lines, QByteArrayView name)
    {
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines.at(i).trimmed();
            const qsizetype colon = line.indexOf(':');
            if (colon > 0 && line.left(colon).trimmed().toLower() == name)
                return line.mid(colon + 1).trimmed();
        }
        return {};
    }

    static QHash<QByteArray, QByteArray> digestParams(QByteArray value)
    {
        QHash<QByteArray, QByteArray> params;
        value = value.mid(value.indexOf(' ') + 1);
        qsizetype i = 0;
        while (i < value.size()) {
            while (i < value.size() && (value.at(i) == ' ' || value.at(i) == ','))
                ++i;
            const qsizetype eq = value.indexOf('=', i);
            if (eq < 0)
                break;
            const QByteArray name = value.mid(i, eq - i).trimmed().toLower();
            i = eq + 1;
            QByteArray v;
            if (i < value.size() && value.at(i) == '"') {
                const qsizetype close = value.indexOf('"', i + 1);
                v = value.mid(i + 1, close - i - 1);
                i = close + 1;
            } else {
                qsizetype comma = value.indexOf(',', i);
                if (comma < 0)
                    comma = value.size();
                v = value.mid(i, comma - i).trimmed();
                i = comma;
            }
            params.insert(name, v);
        }
        return params;
    }

    bool digestMatches(
        const QByteArray &method, const QByteArray &target, const QByteArray &authorization) const
    {
        if (!authorization.startsWith("Digest "))
            return false;
        const QHash<QByteArray, QByteArray> p = digestParams(authorization);
        const auto algorithm = digestAlgorithm.toUpper() == "MD5" ? QCryptographicHash::Md5
                                                                  : QCryptographicHash::Sha256;
        const auto h = [algorithm](const QByteArray &data) {
            return QCryptographicHash::hash(data, algorithm).toHex();
        };
        if (p.value("username") != digestUser || p.value("realm") != "reqivo-test"
            || p.value("nonce") != digestNonce || p.value("qop") != "auth"
            || p.value("uri") != target) // the request-target as sent
            return false;
        const QByteArray ha1 = h(digestUser + ':' + "reqivo-test" + ':' + digestPassword);
        const QByteArray ha2 = h(method + ':' + p.value("uri"));
        const QByteArray expected = h(ha1 + ':' + digestNonce + ':' + p.value("nc") + ':'
            + p.value("cnonce") + ":auth:" + ha2);
        return p.value("response") == expected;
    }

    bool authorized(
        const QByteArray &method, const QByteArray &target, const QByteArray &authorization) const
    {
        if (!digestUser.isEmpty())
            return digestMatches(method, target, authorization);
        return requiredAuthorization.isEmpty() || authorization == requiredAuthorization;
    }

    void challenge(QTcpSocket *client)
    {
        ++challenges;
        const QByteArray scheme = digestUser.isEmpty() ? QByteArray("Basic realm=\"reqivo-test\"")
                                                       : "Digest realm=\"reqivo-test\", nonce=\""
                + digestNonce + "\", qop=\"auth\", algorithm=" + digestAlgorithm;
        if (keepAliveOn407) {
            client->write("HTTP/1.1 407 Proxy Authentication Required\r\n"
                          "Proxy-Authenticate: "
                + scheme + "\r\nContent-Length: 13\r\n\r\nauthenticate!");
            return;
        }
        client->write("HTTP/1.1 407 Proxy Authentication Required\r\n"
                      "Proxy-Authenticate: "
            + scheme + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        client->disconnectFromHost();
    }

    void forward(QTcpSocket *client, Client &state, const QList<QByteArray> &lines,
        const QList<QByteArray> &request, const QByteArray &body)
    {
        forwarded << lines.value(0).trimmed();
        const QUrl url(QString::fromLatin1(request.at(1)));
        const QString host = url.host();
        const quint16 port = quint16(url.port(80));
        QByteArray target = url.path(QUrl::FullyEncoded).toLatin1();
        if (target.isEmpty())
            target = "/";
        if (url.hasQuery())
            target += '?' + url.query(QUrl::FullyEncoded).toLatin1();
        QByteArray head = request.at(0) + ' ' + target + ' ' + request.at(2) + "\r\n";
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines.at(i).trimmed();
            const QByteArray lower = line.toLower();
            if (line.isEmpty() || lower.startsWith("proxy-authorization:")
                || lower.startsWith("proxy-connection:"))
                continue;
            head += line + "\r\n";
        }
        head += "\r\n";
        const QString key = host + QLatin1Char(':') + QString::number(port);
        QTcpSocket *upstream = state.upstreams.value(key);
        if (!upstream) {
            targets << key;
            const QString dialled = hostAliases.value(host, host);
            if (!isLoopback(dialled)) {
                ++refused;
                client->write("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
                return;
            }
            upstream = new QTcpSocket(client);
            state.upstreams.insert(key, upstream);
            QObject::connect(upstream, &QIODevice::readyRead, client,
                [=] { client->write(upstream->readAll()); });
            QObject::connect(upstream, &QAbstractSocket::disconnected, client,
                [=] { client->disconnectFromHost(); });
            upstream->connectToHost(dialled, port); // writes wait in Qt's buffer meanwhile
        }
        relayedUpstream += head.size() + body.size();
        upstream->write(head + body);
    }

    void accept(QTcpSocket *client) override
    {
        auto state = std::make_shared<Client>();
        QObject::connect(client, &QIODevice::readyRead, client, [=, this] {
            if (state->tunnel)
                return; // the tunnel's relay reads it
            state->buffer += client->readAll();
            for (;;) {
                const qsizetype end = state->buffer.indexOf("\r\n\r\n");
                if (end < 0)
                    return;
                const QList<QByteArray> lines = state->buffer.left(end).split('\n');
                const qsizetype length = fieldValue(lines, "content-length").toLongLong();
                if (state->buffer.size() < end + 4 + length)
                    return;
                const QByteArray body = state->buffer.mid(end + 4, length);
                state->buffer.remove(0, end + 4 + length);
                const QList<QByteArray> request = lines.value(0).trimmed().split(' ');
                const QByteArray authorization = fieldValue(lines, "proxy-authorization");
                authorizations << authorization;
                const bool isConnect = request.size() == 3 && request.at(0) == "CONNECT";
                const bool isAbsolute = request.size() == 3 && request.at(1).startsWith("http://");
                if (!isConnect && !isAbsolute) {
                    client->write("HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\n\r\n");
                    client->disconnectFromHost();
                    return;
                }
                if (!authorized(request.at(0), request.at(1), authorization)) {
                    challenge(client);
                    if (!keepAliveOn407)
                        return;
                    continue;
                }
                if (isAbsolute) {
                    forward(client, *state, lines, request, body);
                    continue;
                }
                state->tunnel = true;
                const QByteArray target = request.at(1);
                const qsizetype colon = target.lastIndexOf(':');
                QString host = QString::fromLatin1(target.left(colon));
                if (host.startsWith(QLatin1Char('[')))
                    host = host.mid(1, host.size() - 2);
                const quint16 port = target.mid(colon + 1).toUShort();
                Q_ASSERT(state->buffer.isEmpty()); // clients wait for the 200 before sending
                openTunnel(client, host, port, [client](bool ok) {
                    if (!ok) {
                        client->write("HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n");
                        client->disconnectFromHost();
                        return;
                    }
                    client->write("HTTP/1.1 200 Connection established\r\n\r\n");
                });
                return;
            }
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
