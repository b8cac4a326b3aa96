// WebSocket (QML): Reqivo's AsyncWebSocket for QML, beyond Qt's own WebSocket type: handshake
// headers and auth (or a whole HttpClient's session), subprotocols, auto-reconnect with a send
// queue, heartbeat, close code and reason, and a bindable status.
//
//   import Reqivo
//   WebSocket {
//       id: feed
//       url: "wss://example.com/feed"
//       bearerToken: settings.token
//       subprotocols: ["feed.v2"]
//       autoReconnect: true
//       heartbeatInterval: 15000
//       active: true
//       onTextMessageReceived: (message) => model.append(JSON.parse(message))
//       onErrorOccurred: (error) => console.warn(error.type, error.code, error.message)
//   }
//
// Settings apply at the next open. `active: true` opens (once the component is complete) and
// `active: false` closes; active turns false by itself when the socket ends. Messages arrive
// only through the signals (nothing is buffered for later). No WebSocket logic lives here: every
// call goes to Reqivo::AsyncWebSocket.
#pragma once

#include <Reqivo/asyncwebsocket.h>

#include <QJSValue>
#include <QObject>
#include <QPointer>
#include <QProperty>
#include <QQmlParserStatus>
#include <QStringList>
#include <QUrl>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

namespace Reqivo::Qml {

class HttpClient;

class QmlWebSocket : public QObject, public QQmlParserStatus
{
    Q_OBJECT
    QML_NAMED_ELEMENT(WebSocket)
    Q_INTERFACES(QQmlParserStatus)
    Q_MOC_INCLUDE("httpclient.h")

    //! ws://, wss://, or (with a client) http(s):// or a URL relative to the client's base URL.
    Q_PROPERTY(QUrl url READ url WRITE setUrl NOTIFY urlChanged)
    //! True opens, false closes; turns false when the socket ends.
    Q_PROPERTY(bool active READ isActive WRITE setActive NOTIFY activeChanged)
    Q_PROPERTY(Status status READ status NOTIFY statusChanged BINDABLE bindableStatus)
    //! Open as this HttpClient's session would: its base URL, headers, cookies, auth, TLS, proxy.
    Q_PROPERTY(Reqivo::Qml::HttpClient *client READ client WRITE setClient NOTIFY clientChanged)
    //! Extra handshake headers: {name: value}.
    Q_PROPERTY(QVariantMap headers READ headers WRITE setHeaders NOTIFY headersChanged)
    //! "Authorization: Bearer <token>"; wins over user/password and the client's auth.
    Q_PROPERTY(QString bearerToken READ bearerToken WRITE setBearerToken NOTIFY bearerTokenChanged)
    //! Basic auth, when both are set (and no bearer token is).
    Q_PROPERTY(QString user READ user WRITE setUser NOTIFY userChanged)
    Q_PROPERTY(QString password READ password WRITE setPassword NOTIFY passwordChanged)
    Q_PROPERTY(
        QStringList subprotocols READ subprotocols WRITE setSubprotocols NOTIFY subprotocolsChanged)
    //! The subprotocol the server chose.
    Q_PROPERTY(QString subprotocol READ subprotocol NOTIFY subprotocolChanged)
    Q_PROPERTY(
        bool autoReconnect READ autoReconnect WRITE setAutoReconnect NOTIFY autoReconnectChanged)
    //! Attempts per outage; -1: unlimited. Default 3.
    Q_PROPERTY(int maxReconnectAttempts READ maxReconnectAttempts WRITE setMaxReconnectAttempts
            NOTIFY maxReconnectAttemptsChanged)
    //! Milliseconds before the first attempt; doubled per attempt up to maxReconnectDelay.
    Q_PROPERTY(
        int reconnectDelay READ reconnectDelay WRITE setReconnectDelay NOTIFY reconnectDelayChanged)
    Q_PROPERTY(int maxReconnectDelay READ maxReconnectDelay WRITE setMaxReconnectDelay NOTIFY
            maxReconnectDelayChanged)
    //! Milliseconds between pings; 0: no heartbeat. heartbeatTimeout 0: the interval.
    Q_PROPERTY(int heartbeatInterval READ heartbeatInterval WRITE setHeartbeatInterval NOTIFY
            heartbeatIntervalChanged)
    Q_PROPERTY(int heartbeatTimeout READ heartbeatTimeout WRITE setHeartbeatTimeout NOTIFY
            heartbeatTimeoutChanged)
    Q_PROPERTY(int openTimeout READ openTimeout WRITE setOpenTimeout NOTIFY openTimeoutChanged)
    Q_PROPERTY(
        qint64 maxFrameSize READ maxFrameSize WRITE setMaxFrameSize NOTIFY maxFrameSizeChanged)
    Q_PROPERTY(qint64 maxMessageSize READ maxMessageSize WRITE setMaxMessageSize NOTIFY
            maxMessageSizeChanged)
    Q_PROPERTY(
        int sendQueueSize READ sendQueueSize WRITE setSendQueueSize NOTIFY sendQueueSizeChanged)
    Q_PROPERTY(QueuePolicy sendQueuePolicy READ sendQueuePolicy WRITE setSendQueuePolicy NOTIFY
            sendQueuePolicyChanged)
    Q_PROPERTY(int closeCode READ closeCode NOTIFY closed)
    Q_PROPERTY(QString closeReason READ closeReason NOTIFY closed)
    //! The last error's message; empty when none.
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorStringChanged)
    Q_PROPERTY(int reconnectAttempt READ reconnectAttempt NOTIFY reconnectAttemptChanged)

public:
    enum Status { Connecting, Open, Reconnecting, Closing, Closed, Error };
    Q_ENUM(Status)
    enum QueuePolicy { QueueKeep, QueueDropOldest, QueueFail };
    Q_ENUM(QueuePolicy)

    explicit QmlWebSocket(QObject *parent = nullptr);
    ~QmlWebSocket() override;

    void classBegin() override { }
    void componentComplete() override;

    QUrl url() const { return m_url; }
    void setUrl(const QUrl &url);
    bool isActive() const { return m_active; }
    void setActive(bool active);
    Status status() const { return m_status; }
    QBindable<Status> bindableStatus() { return &m_status; }
    HttpClient *client() const { return m_client; }
    void setClient(HttpClient *client);
    QVariantMap headers() const { return m_headers; }
    void setHeaders(const QVariantMap &headers);
    QString bearerToken() const { return m_bearerToken; }
    void setBearerToken(const QString &token);
    QString user() const { return m_user; }
    void setUser(const QString &user);
    QString password() const { return m_password; }
    void setPassword(const QString &password);
    QStringList subprotocols() const { return m_options.subprotocols; }
    void setSubprotocols(const QStringList &protocols);
    QString subprotocol() const;
    bool autoReconnect() const { return m_options.reconnect.enabled; }
    void setAutoReconnect(bool on);
    int maxReconnectAttempts() const { return m_options.reconnect.maxAttempts; }
    void setMaxReconnectAttempts(int attempts);
    int reconnectDelay() const { return int(m_options.reconnect.initialDelay.count()); }
    void setReconnectDelay(int milliseconds);
    int maxReconnectDelay() const { return int(m_options.reconnect.maxDelay.count()); }
    void setMaxReconnectDelay(int milliseconds);
    int heartbeatInterval() const { return int(m_options.heartbeatInterval.count()); }
    void setHeartbeatInterval(int milliseconds);
    //! QML's 0 is "unset" (the interval) for heartbeatTimeout and "no limit" for openTimeout.
    int heartbeatTimeout() const
    {
        return int(m_options.heartbeatTimeout.value_or(std::chrono::milliseconds::zero()).count());
    }
    void setHeartbeatTimeout(int milliseconds);
    int openTimeout() const
    {
        return Timeout::isNoLimit(m_options.openTimeout) ? 0 : int(m_options.openTimeout.count());
    }
    void setOpenTimeout(int milliseconds);
    qint64 maxFrameSize() const { return m_options.maxFrameSize; }
    void setMaxFrameSize(qint64 bytes);
    qint64 maxMessageSize() const { return m_options.maxMessageSize; }
    void setMaxMessageSize(qint64 bytes);
    int sendQueueSize() const { return int(m_options.sendQueueSize); }
    void setSendQueueSize(int size);
    QueuePolicy sendQueuePolicy() const;
    void setSendQueuePolicy(QueuePolicy policy);
    int closeCode() const;
    QString closeReason() const;
    QString errorString() const { return m_error.message(); }
    int reconnectAttempt() const;

    //! True when sent, or queued while (re)connecting; false (and errorOccurred) when refused.
    Q_INVOKABLE bool sendTextMessage(const QString &message);
    Q_INVOKABLE bool sendBinaryMessage(const QByteArray &message);
    Q_INVOKABLE void open();
    Q_INVOKABLE void close(int code = AsyncWebSocket::NormalClosure, const QString &reason = {});
    //! Drops the connection without a close handshake; no reconnect follows.
    Q_INVOKABLE void abort();
    //! Sends a ping; pongReceived() tells the round trip.
    Q_INVOKABLE void ping();

    //! The socket underneath (null before the first open), for C++ code.
    AsyncWebSocket *socket() const { return m_socket; }

Q_SIGNALS:
    void urlChanged();
    void activeChanged();
    void statusChanged();
    void clientChanged();
    void headersChanged();
    void bearerTokenChanged();
    void userChanged();
    void passwordChanged();
    void subprotocolsChanged();
    void subprotocolChanged();
    void autoReconnectChanged();
    void maxReconnectAttemptsChanged();
    void reconnectDelayChanged();
    void maxReconnectDelayChanged();
    void heartbeatIntervalChanged();
    void heartbeatTimeoutChanged();
    void openTimeoutChanged();
    void maxFrameSizeChanged();
    void maxMessageSizeChanged();
    void sendQueueSizeChanged();
    void sendQueuePolicyChanged();
    void errorStringChanged();
    void reconnectAttemptChanged();

    void connected();
    //! The connection ended or was lost (a reconnect may follow).
    void disconnected(int code, const QString &reason);
    //! The socket ended for good: closeCode and closeReason tell how.
    void closed();
    void reconnecting(int attempt, int delay);
    void textMessageReceived(const QString &message);
    void binaryMessageReceived(const QByteArray &message);
    void pongReceived(double roundTripMs);
    //! A JS Error with type, message, url, code (the close code) and detail.
    void errorOccurred(const QJSValue &error);

private:
    void ensureSocket();
    void updateStatus();
    void reportError(const Reqivo::Error &error);
    WebSocketOptions effectiveOptions() const;

    QPointer<AsyncWebSocket> m_socket;
    QPointer<HttpClient> m_client;
    HttpClient *m_socketClient = nullptr; // the client m_socket was made for
    QUrl m_url;
    bool m_active = false;
    bool m_complete = false;
    QVariantMap m_headers;
    QString m_bearerToken;
    QString m_user;
    QString m_password;
    WebSocketOptions m_options;
    Reqivo::Error m_error;
    Q_OBJECT_BINDABLE_PROPERTY_WITH_ARGS(
        QmlWebSocket, Status, m_status, Closed, &QmlWebSocket::statusChanged)
};

} // namespace Reqivo::Qml
