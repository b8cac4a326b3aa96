// AsyncWebSocket: the public object is a thin handle on AsyncWebSocketPrivate, shared with the
// coroutines it starts (asyncwebsocketcalls.cpp); the state and its changes are in
// asyncwebsocketprivate.cpp.
#include "asyncwebsocket_p.h"

namespace Reqivo {

using namespace WebSocketDetail;

AsyncWebSocket::AsyncWebSocket(QObject *parent)
    : QObject(parent)
    , d(std::make_shared<AsyncWebSocketPrivate>(this))
{
    const std::weak_ptr<AsyncWebSocketPrivate> weak = d;
    QObject::connect(&d->heartbeatTimer, &QTimer::timeout, &d->context, [weak] {
        if (auto p = weak.lock())
            p->heartbeatTick();
    });
    QObject::connect(&d->heartbeatDeadline, &QTimer::timeout, &d->context, [weak] {
        if (auto p = weak.lock())
            p->heartbeatExpired();
    });
}

AsyncWebSocket::AsyncWebSocket(const QUrl &url, const WebSocketOptions &options, QObject *parent)
    : AsyncWebSocket(parent)
{
    d->url = url;
    d->options = options;
}

AsyncWebSocket *AsyncWebSocket::fromSession(
    AsyncSession &session, const QUrl &url, const WebSocketOptions &options, QObject *parent)
{
    auto *socket = new AsyncWebSocket(url, options, parent);
    socket->d->usesSession = true;
    socket->d->session = SessionAccess::coreOf(session);
    if (auto core = socket->d->session.lock())
        socket->d->sessionSettings = SessionAccess::read(*core);
    return socket;
}

AsyncWebSocket::~AsyncWebSocket()
{
    d->q = nullptr;
    d->teardown();
}

QUrl AsyncWebSocket::url() const
{
    return d->url;
}

bool AsyncWebSocket::setUrl(const QUrl &url)
{
    if (d->isActive())
        return false;
    d->url = url;
    d->handshakeUrl = QUrl();
    return true;
}

WebSocketOptions AsyncWebSocket::options() const
{
    return d->options;
}

bool AsyncWebSocket::setOptions(const WebSocketOptions &options)
{
    if (d->isActive())
        return false;
    d->options = options;
    return true;
}

AsyncWebSocket::State AsyncWebSocket::state() const
{
    return d->state;
}

QString AsyncWebSocket::subprotocol() const
{
    return d->subprotocol;
}

int AsyncWebSocket::closeCode() const
{
    return d->closeCode;
}

QString AsyncWebSocket::closeReason() const
{
    return d->closeReason;
}

Error AsyncWebSocket::lastError() const
{
    return d->lastError;
}

qsizetype AsyncWebSocket::queuedMessageCount() const
{
    return qsizetype(d->outgoing.size());
}

qsizetype AsyncWebSocket::pendingMessageCount() const
{
    return qsizetype(d->incoming.size());
}

int AsyncWebSocket::reconnectAttempt() const
{
    return d->reconnectAttempt;
}

int AsyncWebSocket::handshakeStatus() const
{
    return d->handshakeStatus;
}

Headers AsyncWebSocket::handshakeHeaders() const
{
    return d->handshakeHeaders;
}

qint64 AsyncWebSocket::bytesToWrite() const
{
    return d->unsentBytes();
}

QCoro::Task<void> AsyncWebSocket::open()
{
    return AsyncWebSocketPrivate::open(d);
}

QCoro::Task<void> AsyncWebSocket::sendText(QString message)
{
    return AsyncWebSocketPrivate::send(d, {false, std::move(message), {}});
}

QCoro::Task<void> AsyncWebSocket::sendBinary(QByteArray data)
{
    return AsyncWebSocketPrivate::send(d, {true, {}, std::move(data)});
}

QCoro::Task<WebSocketMessage> AsyncWebSocket::receive(std::chrono::milliseconds timeout)
{
    return AsyncWebSocketPrivate::receive(d, timeout);
}

QCoro::Task<std::chrono::microseconds> AsyncWebSocket::ping(std::chrono::milliseconds timeout)
{
    return AsyncWebSocketPrivate::ping(d, timeout);
}

QCoro::Task<void> AsyncWebSocket::close(int code, QString reason)
{
    return AsyncWebSocketPrivate::close(d, code, std::move(reason));
}

bool AsyncWebSocket::sendTextMessage(const QString &message)
{
    Error error = d->submit({false, message, {}}, true);
    if (!error)
        return true;
    d->lastError = error;
    Q_EMIT errorOccurred(error);
    return false;
}

bool AsyncWebSocket::sendBinaryMessage(const QByteArray &data)
{
    Error error = d->submit({true, {}, data}, true);
    if (!error)
        return true;
    d->lastError = error;
    Q_EMIT errorOccurred(error);
    return false;
}

void AsyncWebSocket::abort()
{
    if (d->state == State::Unconnected || d->state == State::Closed)
        return;
    const std::shared_ptr<AsyncWebSocketPrivate> keep = d;
    keep->abortConnection(AbnormalClosure, QStringLiteral("aborted"));
    keep->disposeRetired();
}

} // namespace Reqivo
