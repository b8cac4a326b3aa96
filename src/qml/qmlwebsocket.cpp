// WebSocket (QML): properties become WebSocketOptions at open(); AsyncWebSocket's signals
// become QML signals and a bindable status.
#include "qmlwebsocket.h"

#include "httpclient.h"
#include "jsconvert_p.h"

#include <QQmlEngine>

namespace Reqivo::Qml {

QmlWebSocket::QmlWebSocket(QObject *parent)
    : QObject(parent)
{
    // Signals only: a QML socket keeps nothing for a receive() that QML never calls.
    m_options.receiveQueueSize = 0;
}

QmlWebSocket::~QmlWebSocket()
{
    if (m_socket) {
        m_socket->disconnect(this);
        delete m_socket.data(); // closes with 1001 (going away) if open
    }
}

void QmlWebSocket::componentComplete()
{
    m_complete = true;
    if (m_active)
        open();
}

// --- properties ---------------------------------------------------------------------------------

namespace {
template<typename T, typename Signal>
void assign(QmlWebSocket *self, T &member, const T &value, Signal signal)
{
    if (member == value)
        return;
    member = value;
    Q_EMIT(self->*signal)();
}
} // namespace

void QmlWebSocket::setUrl(const QUrl &value)
{
    assign(this, m_url, value, &QmlWebSocket::urlChanged);
}
void QmlWebSocket::setHeaders(const QVariantMap &value)
{
    assign(this, m_headers, value, &QmlWebSocket::headersChanged);
}
void QmlWebSocket::setBearerToken(const QString &value)
{
    assign(this, m_bearerToken, value, &QmlWebSocket::bearerTokenChanged);
}
void QmlWebSocket::setUser(const QString &value)
{
    assign(this, m_user, value, &QmlWebSocket::userChanged);
}
void QmlWebSocket::setPassword(const QString &value)
{
    assign(this, m_password, value, &QmlWebSocket::passwordChanged);
}
void QmlWebSocket::setSubprotocols(const QStringList &value)
{
    assign(this, m_options.subprotocols, value, &QmlWebSocket::subprotocolsChanged);
}
void QmlWebSocket::setAutoReconnect(bool value)
{
    assign(this, m_options.reconnect.enabled, value, &QmlWebSocket::autoReconnectChanged);
}
void QmlWebSocket::setMaxReconnectAttempts(int value)
{
    assign(
        this, m_options.reconnect.maxAttempts, value, &QmlWebSocket::maxReconnectAttemptsChanged);
}
void QmlWebSocket::setMaxFrameSize(qint64 value)
{
    assign(this, m_options.maxFrameSize, value, &QmlWebSocket::maxFrameSizeChanged);
}
void QmlWebSocket::setMaxMessageSize(qint64 value)
{
    assign(this, m_options.maxMessageSize, value, &QmlWebSocket::maxMessageSizeChanged);
}

namespace {
template<typename Signal>
void setMilliseconds(
    QmlWebSocket *self, std::chrono::milliseconds &member, int value, Signal signal)
{
    if (member.count() == value)
        return;
    member = std::chrono::milliseconds(value);
    Q_EMIT(self->*signal)();
}
} // namespace

void QmlWebSocket::setReconnectDelay(int ms)
{
    setMilliseconds(
        this, m_options.reconnect.initialDelay, ms, &QmlWebSocket::reconnectDelayChanged);
}
void QmlWebSocket::setMaxReconnectDelay(int ms)
{
    setMilliseconds(
        this, m_options.reconnect.maxDelay, ms, &QmlWebSocket::maxReconnectDelayChanged);
}
void QmlWebSocket::setHeartbeatInterval(int ms)
{
    setMilliseconds(this, m_options.heartbeatInterval, ms, &QmlWebSocket::heartbeatIntervalChanged);
}
void QmlWebSocket::setHeartbeatTimeout(int ms)
{
    if (ms == heartbeatTimeout())
        return;
    m_options.heartbeatTimeout
        = ms > 0 ? std::optional(std::chrono::milliseconds(ms)) : std::nullopt;
    Q_EMIT heartbeatTimeoutChanged();
}
void QmlWebSocket::setOpenTimeout(int ms)
{
    if (ms == openTimeout())
        return;
    m_options.openTimeout = ms > 0 ? std::chrono::milliseconds(ms) : Timeout::noLimit;
    Q_EMIT openTimeoutChanged();
}

void QmlWebSocket::setSendQueueSize(int size)
{
    if (m_options.sendQueueSize == size)
        return;
    m_options.sendQueueSize = size;
    Q_EMIT sendQueueSizeChanged();
}

QmlWebSocket::QueuePolicy QmlWebSocket::sendQueuePolicy() const
{
    switch (m_options.sendQueuePolicy) {
    case SendQueuePolicy::Keep:
        return QueueKeep;
    case SendQueuePolicy::DropOldest:
        return QueueDropOldest;
    case SendQueuePolicy::Fail:
        return QueueFail;
    }
    return QueueKeep;
}

void QmlWebSocket::setSendQueuePolicy(QueuePolicy policy)
{
    if (sendQueuePolicy() == policy)
        return;
    switch (policy) {
    case QueueKeep:
        m_options.sendQueuePolicy = SendQueuePolicy::Keep;
        break;
    case QueueDropOldest:
        m_options.sendQueuePolicy = SendQueuePolicy::DropOldest;
        break;
    case QueueFail:
        m_options.sendQueuePolicy = SendQueuePolicy::Fail;
        break;
    }
    Q_EMIT sendQueuePolicyChanged();
}

void QmlWebSocket::setClient(HttpClient *client)
{
    if (m_client == client)
        return;
    m_client = client;
    Q_EMIT clientChanged();
}

void QmlWebSocket::setActive(bool active)
{
    if (m_active == active)
        return;
    m_active = active;
    Q_EMIT activeChanged();
    if (!m_complete)
        return;
    if (active)
        open();
    else
        close();
}

QString QmlWebSocket::subprotocol() const
{
    return m_socket ? m_socket->subprotocol() : QString();
}

int QmlWebSocket::closeCode() const
{
    return m_socket ? m_socket->closeCode() : 0;
}

QString QmlWebSocket::closeReason() const
{
    return m_socket ? m_socket->closeReason() : QString();
}

int QmlWebSocket::reconnectAttempt() const
{
    return m_socket ? m_socket->reconnectAttempt() : 0;
}

// --- the socket
// -----------------------------------------------------------------------------------

WebSocketOptions QmlWebSocket::effectiveOptions() const
{
    WebSocketOptions options = m_options;
    options.headers = headersFromMap(m_headers);
    if (!m_bearerToken.isEmpty())
        options.headers.set("Authorization", "Bearer " + m_bearerToken.toUtf8());
    else if (!m_user.isEmpty() || !m_password.isEmpty())
        options.headers.set("Authorization",
            "Basic " + (m_user + QLatin1Char(':') + m_password).toUtf8().toBase64());
    return options;
}

void QmlWebSocket::ensureSocket()
{
    HttpClient *client = m_client.data();
    if (m_socket && m_socketClient == client)
        return;
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->deleteLater(); // it may be inside one of its own signals
    }
    m_socketClient = client;
    AsyncWebSocket *socket = client && client->session()
        ? AsyncWebSocket::fromSession(*client->session(), m_url, {}, this)
        : new AsyncWebSocket(this);
    m_socket = socket;

    connect(socket, &AsyncWebSocket::stateChanged, this, [this] {
        updateStatus();
        Q_EMIT reconnectAttemptChanged();
    });
    connect(socket, &AsyncWebSocket::connected, this, [this] {
        Q_EMIT subprotocolChanged();
        Q_EMIT connected();
    });
    connect(socket, &AsyncWebSocket::disconnected, this, &QmlWebSocket::disconnected);
    connect(socket, &AsyncWebSocket::reconnecting, this, [this](int attempt, int delay) {
        Q_EMIT reconnectAttemptChanged();
        Q_EMIT reconnecting(attempt, delay);
    });
    connect(socket, &AsyncWebSocket::textMessageReceived, this, &QmlWebSocket::textMessageReceived);
    connect(
        socket, &AsyncWebSocket::binaryMessageReceived, this, &QmlWebSocket::binaryMessageReceived);
    connect(socket, &AsyncWebSocket::pongReceived, this,
        [this](qint64 us) { Q_EMIT pongReceived(double(us) / 1000.0); });
    connect(socket, &AsyncWebSocket::errorOccurred, this, &QmlWebSocket::reportError);
}

void QmlWebSocket::updateStatus()
{
    const AsyncWebSocket::State state
        = m_socket ? m_socket->state() : AsyncWebSocket::State::Unconnected;
    Status status = Closed;
    switch (state) {
    case AsyncWebSocket::State::Unconnected:
        status = Closed;
        break;
    case AsyncWebSocket::State::Connecting:
        status = Connecting;
        break;
    case AsyncWebSocket::State::Open:
        status = Open;
        break;
    case AsyncWebSocket::State::Reconnecting:
        status = Reconnecting;
        break;
    case AsyncWebSocket::State::Closing:
        status = Closing;
        break;
    case AsyncWebSocket::State::Closed:
        status = m_socket->lastError() ? Error : Closed;
        break;
    }
    m_status = status;
    if (state == AsyncWebSocket::State::Closed) {
        Q_EMIT closed();
        if (m_active) {
            m_active = false;
            Q_EMIT activeChanged();
        }
    }
}

void QmlWebSocket::reportError(const Reqivo::Error &error)
{
    m_error = error;
    Q_EMIT errorStringChanged();
    if (QQmlEngine *engine = qmlEngine(this))
        Q_EMIT errorOccurred(errorToJs(engine, error));
}

void QmlWebSocket::open()
{
    ensureSocket();
    const AsyncWebSocket::State state = m_socket->state();
    if (state != AsyncWebSocket::State::Unconnected && state != AsyncWebSocket::State::Closed)
        return;
    m_socket->setUrl(m_url);
    m_socket->setOptions(effectiveOptions());
    if (!m_error.isNull()) {
        m_error = {};
        Q_EMIT errorStringChanged();
    }
    if (!m_active) {
        m_active = true;
        Q_EMIT activeChanged();
    }
    // Failures arrive through errorOccurred(); the task is not awaited.
    (void)m_socket->open();
}

void QmlWebSocket::close(int code, const QString &reason)
{
    if (code != AsyncWebSocket::NormalClosure && code != AsyncWebSocket::GoingAway
        && (code < 3000 || code > 4999)) {
        reportError(Reqivo::Error(Reqivo::Error::Kind::WebSocket,
            QStringLiteral("invalid close code %1: use 1000, 1001 or "
                           "3000-4999")
                .arg(code),
            m_url));
        return;
    }
    if (m_socket)
        (void)m_socket->close(code, reason); // not awaited: the end arrives through the signals
}

void QmlWebSocket::abort()
{
    if (m_socket)
        m_socket->abort();
}

void QmlWebSocket::ping()
{
    if (m_socket && m_socket->isOpen())
        (void)m_socket->ping(); // pongReceived() reports it; a timeout is dropped with the task
}

bool QmlWebSocket::sendTextMessage(const QString &message)
{
    if (!m_socket) {
        reportError(Reqivo::Error(Reqivo::Error::Kind::WebSocket,
            QStringLiteral("cannot send: the WebSocket is not open"), m_url));
        return false;
    }
    return m_socket->sendTextMessage(message);
}

bool QmlWebSocket::sendBinaryMessage(const QByteArray &message)
{
    if (!m_socket) {
        reportError(Reqivo::Error(Reqivo::Error::Kind::WebSocket,
            QStringLiteral("cannot send: the WebSocket is not open"), m_url));
        return false;
    }
    return m_socket->sendBinaryMessage(message);
}

} // namespace Reqivo::Qml
