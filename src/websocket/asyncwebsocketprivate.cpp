// AsyncWebSocketPrivate: the state of one socket and everything that changes it.
//
// Everything that happens to a connection arrives as a QWebSocket signal and lands in one of
// the on*() handlers, which update the state and wake the coroutines waiting for that kind of
// change (WaitQueue); the coroutines themselves are in asyncwebsocketcalls.cpp and only ever
// look at the state. How a connection ended is decided in one place, connectionEnded(): from
// the close frame if one was exchanged, 1006 otherwise (see ADR 0003 for how that is read).
#include "asyncwebsocket_p.h"

#include <QLoggingCategory>
#include <QWebSocket>

#include <algorithm>

namespace Reqivo {

Q_LOGGING_CATEGORY(lcWebSocket, "reqivo.websocket", QtInfoMsg)

using namespace WebSocketDetail;

QString AsyncWebSocketPrivate::stateName(State state)
{
    switch (state) {
    case AsyncWebSocket::State::Unconnected:
        return QStringLiteral("unconnected");
    case AsyncWebSocket::State::Connecting:
        return QStringLiteral("connecting");
    case AsyncWebSocket::State::Open:
        return QStringLiteral("open");
    case AsyncWebSocket::State::Reconnecting:
        return QStringLiteral("reconnecting");
    case AsyncWebSocket::State::Closing:
        return QStringLiteral("closing");
    case AsyncWebSocket::State::Closed:
        return QStringLiteral("closed");
    }
    return {};
}

AsyncWebSocketPrivate::AsyncWebSocketPrivate(AsyncWebSocket *q)
    : q(q)
{
    heartbeatDeadline.setSingleShot(true);
}

AsyncWebSocketPrivate::~AsyncWebSocketPrivate()
{
    // The last reference can go inside a QWebSocket signal: never delete a socket here.
    if (ws) {
        QObject::disconnect(ws, nullptr, &context, nullptr);
        ws->abort();
        ws->deleteLater();
    }
}

bool AsyncWebSocketPrivate::isActive() const
{
    return state == State::Connecting || state == State::Open || state == State::Reconnecting
        || state == State::Closing;
}

QUrl AsyncWebSocketPrivate::displayUrl() const
{
    if (handshakeUrl.isValid())
        return handshakeUrl;
    QUrl clean = url;
    clean.setUserInfo(QString());
    return clean;
}

qint64 AsyncWebSocketPrivate::unsentBytes() const
{
    return ws ? ws->bytesToWrite() : 0;
}

Error AsyncWebSocketPrivate::makeError(
    const QString &message, int code, const QString &detail) const
{
    return Error(Error::Kind::WebSocket, message, displayUrl(), detail, code);
}

void AsyncWebSocketPrivate::throwDestroyed() const
{
    throw WebSocketError(makeError(QStringLiteral("the WebSocket was destroyed"), 1001));
}

void AsyncWebSocketPrivate::setState(State newState)
{
    if (state == newState)
        return;
    state = newState;
    if (q)
        Q_EMIT q->stateChanged(newState);
    stateWaiters.wakeAll();
}

// --- sending ---------------------------------------------------------------------------------

Error AsyncWebSocketPrivate::submit(Outgoing message)
{
    switch (state) {
    case State::Open:
        if (ws) {
            writeNow(message);
            return {};
        }
        // A slot of disconnected(): the connection is gone, the state not yet updated.
        if (!reconnectPending)
            return makeError(QStringLiteral("cannot send: the connection was lost"), closeCode);
        [[fallthrough]];
    case State::Connecting:
    case State::Reconnecting: {
        const QString why = state == State::Connecting ? QStringLiteral("connecting")
                                                       : QStringLiteral("reconnecting");
        if (options.sendQueuePolicy == SendQueuePolicy::Fail)
            return makeError(QStringLiteral("cannot send while %1 (the send queue policy is "
                                            "Fail)")
                                 .arg(why),
                closeCode);
        const qsizetype capacity = std::max<qsizetype>(options.sendQueueSize, 0);
        if (qsizetype(outgoing.size()) >= capacity) {
            if (options.sendQueuePolicy == SendQueuePolicy::Keep || capacity == 0)
                return makeError(QStringLiteral("cannot send while %1: the send queue is full "
                                                "(%2 messages)")
                                     .arg(why)
                                     .arg(capacity),
                    closeCode);
            outgoing.pop_front();
            ++droppedOutgoing;
        }
        outgoing.push_back(std::move(message));
        return {};
    }
    case State::Unconnected:
    case State::Closing:
    case State::Closed:
        break;
    }
    return makeError(
        QStringLiteral("cannot send: the WebSocket is %1").arg(stateName(state)), closeCode);
}

void AsyncWebSocketPrivate::writeNow(const Outgoing &message)
{
    if (message.binary)
        ws->sendBinaryMessage(message.data);
    else
        ws->sendTextMessage(message.text);
}

// --- opening ---------------------------------------------------------------------------------

void AsyncWebSocketPrivate::attachSocket(QWebSocket *socket)
{
    ws = socket;
    const quint64 id = ++connectionId;
    attempt = {};
    closeFrameSeen = false;
    abortingLocally = false;
    heartbeatLost = false;
    heartbeatPayload.clear();
    subprotocol.clear();
    const std::weak_ptr<AsyncWebSocketPrivate> weak = weak_from_this();
    // Each handler holds the state for its duration: a slot may drop the last other reference.
    QObject::connect(socket, &QWebSocket::connected, &context, [weak, id] {
        if (auto d = weak.lock())
            d->onConnected(id);
    });
    QObject::connect(socket, &QWebSocket::disconnected, &context, [weak, id] {
        if (auto d = weak.lock()) {
            DispatchScope scope(d.get());
            d->connectionEnded(id);
        }
    });
    QObject::connect(socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), &context,
        [weak, id](QAbstractSocket::SocketError error) {
            if (auto d = weak.lock())
                d->onSocketError(id, error);
        });
    QObject::connect(socket, &QWebSocket::aboutToClose, &context, [weak, id] {
        if (auto d = weak.lock())
            d->onAboutToClose(id);
    });
    QObject::connect(
        socket, &QWebSocket::textMessageReceived, &context, [weak, id](const QString &message) {
            if (auto d = weak.lock())
                d->onTextMessage(id, message);
        });
    QObject::connect(socket, &QWebSocket::binaryMessageReceived, &context,
        [weak, id](const QByteArray &message) {
            if (auto d = weak.lock())
                d->onBinaryMessage(id, message);
        });
    QObject::connect(
        socket, &QWebSocket::pong, &context, [weak, id](quint64, const QByteArray &payload) {
            if (auto d = weak.lock())
                d->onPong(id, payload);
        });
    QObject::connect(socket, &QWebSocket::bytesWritten, &context, [weak, id](qint64) {
        if (auto d = weak.lock())
            d->onBytesWritten(id);
    });
#ifndef QT_NO_SSL
    QObject::connect(
        socket, &QWebSocket::sslErrors, &context, [weak, id](const QList<QSslError> &errors) {
            auto d = weak.lock();
            if (!d || id != d->connectionId)
                return;
            d->attempt.tlsFailed = true;
            QStringList texts;
            for (const QSslError &e : errors)
                texts.append(e.errorString());
            d->attempt.errorString = texts.join(QStringLiteral("; "));
        });
#endif
}

void AsyncWebSocketPrivate::retireSocket()
{
    if (!ws)
        return;
    QObject::disconnect(ws, nullptr, &context, nullptr);
    // A socket in ClosingState is still writing its close frame: let it finish.
    if (ws->state() != QAbstractSocket::UnconnectedState
        && ws->state() != QAbstractSocket::ClosingState)
        ws->abort();
    ws->deleteLater(); // in case nothing deletes it sooner: see disposeRetired()
    retired.append(QPointer<QWebSocket>(ws));
    ws = nullptr;
    stopHeartbeat();
}

void AsyncWebSocketPrivate::disposeRetired()
{
    if (dispatchDepth > 0)
        return;
    const QList<QPointer<QWebSocket>> sockets = std::exchange(retired, {});
    for (const QPointer<QWebSocket> &socket : sockets)
        delete socket.data();
}

void AsyncWebSocketPrivate::onConnected(quint64 id)
{
    if (id != connectionId || attempt.done)
        return;
    DispatchScope scope(this);
    attempt.done = true;
    attempt.ok = true;
    stateWaiters.wakeAll();
}

void AsyncWebSocketPrivate::onSocketError(quint64 id, QAbstractSocket::SocketError)
{
    if (id != connectionId || !ws)
        return;
    DispatchScope scope(this);
    if (!attempt.done) {
        if (!attempt.tlsFailed || attempt.errorString.isEmpty())
            attempt.errorString = ws->errorString();
        attempt.done = true;
        attempt.ok = false;
        stateWaiters.wakeAll();
    }
    // On an open connection the error is followed by disconnected(), handled there.
}

void AsyncWebSocketPrivate::onAboutToClose(quint64 id)
{
    // QWebSocket emits this when it sends a close frame (ours, or the answer to the peer's), and
    // forwards it from its TCP socket when that is closed here. A connection the peer cut
    // (FIN or RST) emits nothing.
    if (id == connectionId && attempt.ok && !abortingLocally)
        closeFrameSeen = true;
}

void AsyncWebSocketPrivate::keepIncoming(WebSocketMessage message)
{
    if (options.receiveQueueSize <= 0)
        return;
    incoming.push_back(std::move(message));
    if (qsizetype(incoming.size()) > options.receiveQueueSize) {
        incoming.pop_front();
        if (!warnedIncomingOverflow) {
            warnedIncomingOverflow = true;
            qCWarning(lcWebSocket).noquote()
                << "receive queue full:" << options.receiveQueueSize
                << "messages were not taken by receive(); dropping the oldest. Set "
                   "WebSocketOptions::receiveQueueSize to 0 when only the signals are used.";
        }
    }
}

void AsyncWebSocketPrivate::onTextMessage(quint64 id, const QString &message)
{
    if (id != connectionId)
        return;
    DispatchScope scope(this);
    keepIncoming(WebSocketMessage::fromText(message));
    if (q)
        Q_EMIT q->textMessageReceived(message);
    incomingWaiters.wakeAll();
}

void AsyncWebSocketPrivate::onBinaryMessage(quint64 id, const QByteArray &message)
{
    if (id != connectionId)
        return;
    DispatchScope scope(this);
    keepIncoming(WebSocketMessage::fromBinary(message));
    if (q)
        Q_EMIT q->binaryMessageReceived(message);
    incomingWaiters.wakeAll();
}

void AsyncWebSocketPrivate::onPong(quint64 id, const QByteArray &payload)
{
    if (id != connectionId)
        return;
    DispatchScope scope(this);
    if (!heartbeatPayload.isEmpty() && payload == heartbeatPayload) {
        heartbeatPayload.clear();
        heartbeatDeadline.stop();
        return;
    }
    for (const std::shared_ptr<PendingPing> &ping : pings) {
        if (ping->payload == payload && !ping->roundTrip) {
            ping->roundTrip = std::chrono::microseconds(ping->timer.nsecsElapsed() / 1000);
            if (q)
                Q_EMIT q->pongReceived(qint64(ping->roundTrip->count()));
            pongWaiters.wakeAll();
            return;
        }
    }
}

void AsyncWebSocketPrivate::onBytesWritten(quint64 id)
{
    if (id != connectionId || writeWaiters.isEmpty() || !ws || ws->bytesToWrite() > sendHighWater)
        return;
    DispatchScope scope(this);
    writeWaiters.wakeAll();
}

void AsyncWebSocketPrivate::becameOpen()
{
    reconnectAttempt = 0;
    setState(State::Open);
    startHeartbeat();
    if (q)
        Q_EMIT q->connected();
    // Slots of connected() went first (a re-subscribe precedes the backlog); then the queue.
    while (!outgoing.empty() && state == State::Open && ws && !destroyed) {
        Outgoing message = std::move(outgoing.front());
        outgoing.pop_front();
        writeNow(message);
    }
}

// --- the end of a connection -------------------------------------------------------------------

void AsyncWebSocketPrivate::connectionEnded(quint64 id)
{
    if (id != connectionId || !ws)
        return;
    if (!attempt.ok) {
        // The attempt ended before the handshake finished: connectOnce() reports it.
        if (!attempt.done) {
            if (!attempt.tlsFailed || attempt.errorString.isEmpty())
                attempt.errorString = ws->errorString().isEmpty()
                    ? QStringLiteral("the connection closed during the handshake")
                    : ws->errorString();
            attempt.done = true;
        }
        stateWaiters.wakeAll();
        return;
    }

    int code = AsyncWebSocket::AbnormalClosure;
    QString reason;
    Ending ending = Ending::CloseCode;
    if (heartbeatLost) {
        ending = Ending::HeartbeatLost;
        reason = QStringLiteral("no pong within %1 ms (heartbeat)")
                     .arg(heartbeatDeadlineValue().count());
    } else if (closeFrameSeen) {
        code = int(ws->closeCode());
        reason = ws->closeReason();
    } else if (userClose) {
        code = userCloseCode;
        reason = userCloseReason;
    } else {
        reason = ws->errorString().isEmpty()
            ? QStringLiteral("connection lost")
            : QStringLiteral("connection lost: %1").arg(ws->errorString());
    }
    retireSocket();
    closeCode = code;
    closeReason = reason;
    pongWaiters.wakeAll();
    writeWaiters.wakeAll();

    qCDebug(lcWebSocket) << "disconnected from" << displayUrl() << code << reason;
    const auto retrying
        = [&] { return !userClose && options.reconnect.enabled && shouldReconnect(ending, code); };
    reconnectPending = retrying(); // sends from disconnected() slots are queued then
    if (q)
        Q_EMIT q->disconnected(code, reason);
    reconnectPending = false;
    if (destroyed || state == State::Closed)
        return; // a slot closed, aborted or destroyed the socket

    if (retrying()) {
        setState(State::Reconnecting);
        const quint64 myRun = ++run;
        // Detached: it owns a reference to the state and ends on its own.
        reconnect(shared_from_this(), myRun, makeError(reason, code));
        return;
    }
    Error error;
    if (!userClose && (!isCleanCloseCode(code) || heartbeatLost))
        error = makeError(
            QStringLiteral("the WebSocket connection ended: %1").arg(closeCodeName(code))
                + (reason.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(reason)),
            code);
    finish(code, reason, error);
}

void AsyncWebSocketPrivate::finish(int code, const QString &reason, Error error)
{
    stopHeartbeat();
    closeCode = code;
    closeReason = reason;
    const qsizetype unsent = qsizetype(outgoing.size());
    outgoing.clear();
    if (error) {
        if (unsent > 0)
            error = Error(error.kind(), error.message(), error.url(),
                (error.detail().isEmpty() ? QString() : error.detail() + QStringLiteral("; "))
                    + QStringLiteral("%1 queued message%2 not sent")
                          .arg(unsent)
                          .arg(unsent == 1 ? QString() : QStringLiteral("s")),
                error.code());
        lastError = error;
        endedWithError = true;
    }
    reconnectAttempt = 0;
    setState(State::Closed);
    if (error && q)
        Q_EMIT q->errorOccurred(error);
    wakeEveryone();
}

void AsyncWebSocketPrivate::abortConnection(int code, const QString &reason)
{
    userClose = true;
    userCloseCode = code;
    userCloseReason = reason;
    ++run;
    if (ws) {
        if (attempt.ok) {
            // connectionEnded() reports it; closeFrameSeen stays false, so the user's values win.
            DispatchScope scope(this);
            abortingLocally = true;
            ws->abort();
        }
        if (ws)
            retireSocket();
    }
    if (state != State::Closed && state != State::Unconnected)
        finish(code, reason, {});
}

void AsyncWebSocketPrivate::teardown()
{
    // The public object is going: close politely if open, and wake every waiting coroutine,
    // which then throws. q is already null, so no signal is emitted.
    destroyed = true;
    ++run;
    stopHeartbeat();
    disposeRetired(); // sockets that already ended; a thread without a loop never deletes later
    if (ws) {
        QObject::disconnect(ws, nullptr, &context, nullptr);
        if (ws->state() == QAbstractSocket::ConnectedState && attempt.ok)
            ws->close(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("going away"));
        retireSocket(); // deleted by the event loop, after its close frame is written
    }
    if (state != State::Closed && state != State::Unconnected) {
        closeCode = AsyncWebSocket::GoingAway;
        closeReason = QStringLiteral("the WebSocket was destroyed");
    }
    state = State::Closed;
    outgoing.clear();
    // Waiting coroutines are resumed from the event loop, not from inside the destructor of the
    // object their caller may still be looking at. They hold the state alive until then.
    if (incomingWaiters.isEmpty() && stateWaiters.isEmpty() && pongWaiters.isEmpty()
        && writeWaiters.isEmpty())
        return;
    QTimer::singleShot(0, &context, [self = shared_from_this()] { self->wakeEveryone(); });
}

void AsyncWebSocketPrivate::wakeEveryone()
{
    incomingWaiters.wakeAll();
    stateWaiters.wakeAll();
    pongWaiters.wakeAll();
    writeWaiters.wakeAll();
}

// --- heartbeat -----------------------------------------------------------------------------------

AsyncWebSocketPrivate::ms AsyncWebSocketPrivate::heartbeatDeadlineValue() const
{
    return options.heartbeatTimeout > ms::zero() ? options.heartbeatTimeout
                                                 : options.heartbeatInterval;
}

void AsyncWebSocketPrivate::startHeartbeat()
{
    heartbeatPayload.clear();
    heartbeatDeadline.stop();
    if (options.heartbeatInterval <= ms::zero())
        return;
    heartbeatTimer.start(options.heartbeatInterval);
}

void AsyncWebSocketPrivate::stopHeartbeat()
{
    heartbeatTimer.stop();
    heartbeatDeadline.stop();
    heartbeatPayload.clear();
}

void AsyncWebSocketPrivate::heartbeatTick()
{
    if (!ws || state != State::Open || !heartbeatPayload.isEmpty())
        return; // the previous ping's deadline is still running
    heartbeatPayload = QByteArrayLiteral("reqivo-heartbeat-") + QByteArray::number(++pingCounter);
    heartbeatDeadline.start(heartbeatDeadlineValue());
    ws->ping(heartbeatPayload);
}

void AsyncWebSocketPrivate::heartbeatExpired()
{
    if (!ws || state != State::Open)
        return;
    qCDebug(lcWebSocket) << "heartbeat: no pong from" << displayUrl() << "within"
                         << heartbeatDeadlineValue().count() << "ms";
    heartbeatLost = true;
    const quint64 id = connectionId;
    {
        DispatchScope scope(this);
        abortingLocally = true;
        ws->abort(); // the peer is gone: no close handshake to wait for
    }
    connectionEnded(id); // in case abort() did not report it (it normally does, at once)
    disposeRetired();
}

} // namespace Reqivo
