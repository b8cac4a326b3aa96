// WsEchoServer: an in-process WebSocket echo server on 127.0.0.1 that can be "restarted".
//
// restart() drops every connection without a close frame (the client sees 1006, an abnormal
// closure, as after a crash or a network blip), stops listening, and listens again on the same
// port after a pause: long enough for a reconnecting client to find nobody there at first.
#pragma once

#include <QHostAddress>
#include <QList>
#include <QPointer>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>
#include <QWebSocketServer>

namespace Examples {

class WsEchoServer : public QObject
{
public:
    explicit WsEchoServer(QObject *parent = nullptr)
        : QObject(parent)
        , m_server(QStringLiteral("echo"), QWebSocketServer::NonSecureMode)
    {
        connect(&m_server, &QWebSocketServer::newConnection, this, [this] {
            while (QWebSocket *socket = m_server.nextPendingConnection()) {
                socket->setParent(this);
                m_clients.append(socket);
                connect(socket, &QWebSocket::textMessageReceived, socket,
                    [socket](const QString &m) { socket->sendTextMessage(m); });
                connect(socket, &QWebSocket::binaryMessageReceived, socket,
                    [socket](const QByteArray &m) { socket->sendBinaryMessage(m); });
                connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }

    bool listen(quint16 port = 0) { return m_server.listen(QHostAddress::LocalHost, port); }
    bool isListening() const { return m_server.isListening(); }
    QUrl url() const
    {
        QUrl url;
        url.setScheme(QStringLiteral("ws"));
        url.setHost(QStringLiteral("127.0.0.1"));
        url.setPort(m_port ? m_port : m_server.serverPort());
        url.setPath(QStringLiteral("/echo"));
        return url;
    }

    //! Drops all clients at once, and is back on the same port after \a pauseMs.
    void restart(int pauseMs)
    {
        m_port = m_server.serverPort();
        m_server.close();
        for (const QPointer<QWebSocket> &socket : std::as_const(m_clients)) {
            if (socket)
                socket->abort();
        }
        m_clients.clear();
        QTimer::singleShot(pauseMs, this, [this] { listen(m_port); });
    }

private:
    QWebSocketServer m_server;
    QList<QPointer<QWebSocket>> m_clients;
    quint16 m_port = 0;
};

} // namespace Examples
