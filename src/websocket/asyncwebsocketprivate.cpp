// AsyncWebSocketPrivate: the state of one socket and everything that changes it.
//
// Everything that happens to a connection arrives as a codec event (from onReadable()) or a socket
// signal and lands in one of the handlers here, which update the state and wake the coroutines
// waiting for that kind of change (WaitQueue); the coroutines themselves are in
// asyncwebsocketcalls.cpp and only ever look at the state. How a connection ended is decided in
// one place, connectionEnded(): the code this side failed it with, else the server's Close, else
// the user's close() when the server never answered it, else 1006 (ADR 0007).
#include "asyncwebsocket_p.h"

#include "client/asyncsession_p.h"
#include "client/redaction_p.h"
#include "transport/asyncconnection_p.h"

#include <Reqivo/asyncconnection.h>

#include "transport/logcategories_p.h"

#include <Reqivo/redaction.h>

#include <QAbstractSocket>
#include <QLoggingCategory>
#include <QMetaMethod>

#include <algorithm>

namespace Reqivo {

// reqivo.ws (transport/logcategories_p.h); URLs are logged redacted (redaction.h).
const QLoggingCategory &lcWebSocket()
{
    return lcWs();
}

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
    // The last reference can go inside a handler of the connection: never delete it here.
    if (link && link->conn) {
        if (QAbstractSocket *socket = link->conn->socket())
            QObject::disconnect(socket, nullptr, &context, nullptr);
        link->conn->abort();
        link->conn->deleteLater();
    }
    for (const QPointer<AsyncConnection> &conn : std::as_const(retired)) {
        if (conn)
            conn->deleteLater();
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
    if (!link || !link->conn)
        return 0;
    return AsyncConnectionPrivate::get(link->conn)->pendingWriteBytes();
}

Error AsyncWebSocketPrivate::makeError(
    const QString &message, int code, const QString &detail) const
{
    // Never the URL's secrets (redaction.h): the session's query names, else the defaults.
    const std::shared_ptr<SessionCore> core = session.lock();
    const QStringList names = core ? core->redactedQueryNames : defaultRedactedQueryNames();
    const QStringList secrets = Client::urlSecrets(displayUrl(), names);
    return Error(Error::Kind::WebSocket, Client::redactText(message, secrets),
        Client::redactedUrl(displayUrl(), names), Client::redactText(detail, secrets), code);
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

Error AsyncWebSocketPrivate::submit(Outgoing message, bool bounded)
{
    switch (state) {
    case State::Open:
        if (link && link->conn && !link->closeSent) {
            const qint64 unsent = unsentBytes();
            if (bounded && unsent > 0 && unsent + message.size() > options.sendBufferBytes)
                return makeError(QStringLiteral("cannot send: %1 bytes are still waiting to go "
                                                "out (WebSocketOptions::sendBufferBytes is %2); "
                                                "send again after bytesWritten()")
                                     .arg(unsent)
                                     .arg(options.sendBufferBytes),
                    0);
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
        const qint64 byteCapacity = std::max<qint64>(options.sendQueueBytes, 0);
        const qint64 size = message.size();
        if (size > byteCapacity || capacity == 0)
            return makeError(QStringLiteral("cannot send while %1: the message (%2 bytes) is "
                                            "larger than the send queue (%3 messages, %4 bytes)")
                                 .arg(why)
                                 .arg(size)
                                 .arg(capacity)
                                 .arg(byteCapacity),
                closeCode);
        const auto full = [&] {
            return qsizetype(outgoing.size()) >= capacity || outgoingBytes + size > byteCapacity;
        };
        if (full() && options.sendQueuePolicy == SendQueuePolicy::Keep)
            return makeError(QStringLiteral("cannot send while %1: the send queue is full "
                                            "(%2 messages, %3 bytes)")
                                 .arg(why)
                                 .arg(outgoing.size())
                                 .arg(outgoingBytes),
                closeCode);
        while (full() && !outgoing.empty()) {
            outgoingBytes -= outgoing.front().size();
            outgoing.pop_front();
            ++droppedOutgoing;
        }
        outgoingBytes += size;
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
    QByteArray frame;
    if (message.binary)
        link->writer.writeBinary(frame, message.data);
    else
        link->writer.writeText(frame, QStringView(message.text));
    writeFrame(frame);
}

bool AsyncWebSocketPrivate::writeFrame(const QByteArray &frame)
{
    if (!link || !link->conn || !link->conn->socket() || frame.isEmpty())
        return false;
    link->conn->socket()->write(frame);
    return true;
}

// --- the connection ----------------------------------------------------------------------------

void AsyncWebSocketPrivate::attachLink(AsyncConnection *conn)
{
    link = std::make_unique<Link>();
    link->conn = conn;
    link->id = ++connectionId;
    Protocol::WebSocket::Limits limits;
    limits.maxFrameBytes = options.maxFrameSize > 0 ? options.maxFrameSize : -1;
    limits.maxMessageBytes = options.maxMessageSize > 0 ? options.maxMessageSize : -1;
    link->parser.setLimits(limits);
    heartbeatLost = false;
    heartbeatPayload.clear();
    subprotocol.clear();
    handshakeStatus = 0;
    handshakeHeaders.clear();
}

void AsyncWebSocketPrivate::retireLink(bool graceful)
{
    if (!link)
        return;
    stopHeartbeat();
    const std::unique_ptr<Link> gone = std::move(link);
    AsyncConnection *conn = gone->conn;
    if (!conn)
        return;
    QObject::disconnect(conn, nullptr, &context, nullptr);
    if (QAbstractSocket *socket = conn->socket()) {
        QObject::disconnect(socket, nullptr, &context, nullptr);
        if (graceful)
            socket->flush(); // the Close frame goes to the kernel now, even without a loop
    }
    if (graceful)
        conn->close();
    else
        conn->abort();
    conn->deleteLater(); // in case nothing deletes it sooner: see disposeRetired()
    retired.append(QPointer<AsyncConnection>(conn));
}

void AsyncWebSocketPrivate::disposeRetired()
{
    if (dispatchDepth > 0)
        return;
    const QList<QPointer<AsyncConnection>> conns = std::exchange(retired, {});
    for (const QPointer<AsyncConnection> &conn : conns)
        delete conn.data();
}

qint64 AsyncWebSocketPrivate::queuedBytes(const WebSocketMessage &message)
{
    // The memory the message holds, without converting it (data() of a text message would).
    return message.isText() ? qint64(message.text().size()) * qint64(sizeof(QChar))
                            : qint64(message.data().size());
}

bool AsyncWebSocketPrivate::receiveQueueFull() const
{
    return qsizetype(incoming.size()) >= options.receiveQueueSize
        || incomingBytes >= options.receiveQueueBytes;
}

void AsyncWebSocketPrivate::resumeReading()
{
    if (!link || !link->readerPaused || receiveQueueFull())
        return;
    link->readerPaused = false;
    if (link->conn)
        link->conn->setReadBufferLimit(0);
    // Not from inside receive(): its caller is on the stack. The next loop iteration reads on.
    const std::weak_ptr<AsyncWebSocketPrivate> weak = weak_from_this();
    const quint64 id = link->id;
    QMetaObject::invokeMethod(
        &context,
        [weak, id] {
            if (auto d = weak.lock()) {
                d->onReadable(id);
                d->disposeRetired();
            }
        },
        Qt::QueuedConnection);
}

void AsyncWebSocketPrivate::keepIncoming(WebSocketMessage message)
{
    if (options.receiveQueueSize <= 0)
        return;
    if (!receiveUsed && q) {
        // Signal-only code: the message was delivered; keeping it would only fill memory.
        static const QMetaMethod text
            = QMetaMethod::fromSignal(&AsyncWebSocket::textMessageReceived);
        static const QMetaMethod binary
            = QMetaMethod::fromSignal(&AsyncWebSocket::binaryMessageReceived);
        if (q->isSignalConnected(message.isText() ? text : binary))
            return;
    }
    incomingBytes += queuedBytes(message);
    incoming.push_back(std::move(message));
}

void AsyncWebSocketPrivate::onPong(const QByteArray &payload)
{
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
    // An unsolicited pong (RFC 6455 §5.5.3 allows them): nothing to do.
}

void AsyncWebSocketPrivate::onBytesWritten(quint64 id, qint64 bytes)
{
    if (!link || id != link->id)
        return;
    DispatchScope scope(this);
    if (q)
        Q_EMIT q->bytesWritten(bytes);
    if (!writeWaiters.isEmpty() && link && link->id == id && unsentBytes() <= sendHighWater)
        writeWaiters.wakeAll();
}

void AsyncWebSocketPrivate::becameOpen()
{
    reconnectAttempt = 0;
    const quint64 id = link->id;
    const std::weak_ptr<AsyncWebSocketPrivate> weak = weak_from_this();
    if (QAbstractSocket *socket = link->conn ? link->conn->socket() : nullptr) {
        // Each handler holds the state for its duration: a slot may drop the last other
        // reference.
        QObject::connect(socket, &QAbstractSocket::bytesWritten, &context, [weak, id](qint64 n) {
            if (auto d = weak.lock())
                d->onBytesWritten(id, n);
        });
        QObject::connect(socket, &QIODevice::readyRead, &context, [weak, id] {
            if (auto d = weak.lock())
                d->onReadable(id);
        });
        QObject::connect(link->conn, &AsyncConnection::closed, &context, [weak, id] {
            if (auto d = weak.lock())
                d->onTransportClosed(id);
        });
    }
    setState(State::Open);
    qCDebug(lcWebSocket) << "open:" << redactUrl(displayUrl()) << "subprotocol" << subprotocol;
    startHeartbeat();
    if (q)
        Q_EMIT q->connected();
    // Slots of connected() went first (a re-subscribe precedes the backlog); then the queue.
    while (!outgoing.empty() && state == State::Open && link && link->id == id && !destroyed) {
        Outgoing message = std::move(outgoing.front());
        outgoing.pop_front();
        outgoingBytes -= message.size();
        writeNow(message);
    }
    // Bytes that came with the 101 or while the slots ran: read from the event loop, after the
    // caller of open() has carried on.
    if (state == State::Open && link && link->id == id && !destroyed)
        QMetaObject::invokeMethod(
            &context,
            [weak, id] {
                if (auto d = weak.lock()) {
                    d->onReadable(id);
                    d->disposeRetired();
                }
            },
            Qt::QueuedConnection);
}

void AsyncWebSocketPrivate::onReadable(quint64 id)
{
    if (!link || link->id != id || link->reading || link->readerPaused || !link->conn)
        return;
    const std::shared_ptr<AsyncWebSocketPrivate> self = shared_from_this();
    // Called from the socket's own signals: a connection that ends in here is deleted later,
    // never while the socket is still emitting (DispatchScope keeps disposeRetired() off).
    DispatchScope scope(this);
    QAbstractSocket *const socket = link->conn->socket();
    link->reading = true;
    bool ended = false;
    for (;;) {
        if (socket && socket->bytesAvailable() > 0) {
            // read(n) of exactly what is buffered hands over Qt's chunk without a copy.
            link->parser.receiveData(socket->read(socket->bytesAvailable()));
        }
        if (!dispatchEvents(id)) {
            ended = true;
            break;
        }
        if (link->readerPaused) {
            // receive() has not kept up: leave the bytes in the kernel (TCP then slows the
            // server down) until it takes a message.
            if (link->conn)
                link->conn->setReadBufferLimit(AsyncConnection::readBufferBytes);
            break;
        }
        if (!socket || socket->bytesAvailable() == 0)
            break;
    }
    if (!ended && link && link->id == id) {
        link->reading = false;
        if (link->transportClosed && !link->readerPaused) {
            // Everything before the end was read: the connection ended without a Close.
            QString why;
            if (link->conn) {
                const AsyncConnectionPrivate *transport = AsyncConnectionPrivate::get(link->conn);
                if (transport->m_failed)
                    why = transport->m_errorString;
            }
            connectionEnded(id, why);
        }
    }
}

void AsyncWebSocketPrivate::onTransportClosed(quint64 id)
{
    if (!link || link->id != id)
        return;
    link->transportClosed = true;
    // What arrived before the end comes first; onReadable() then ends the connection, now or,
    // when it is on the stack already or paused for receive(), once it has read the rest.
    onReadable(id);
}

// --- received frames ---------------------------------------------------------------------------

bool AsyncWebSocketPrivate::dispatchEvents(quint64 id)
{
    using EventType = Protocol::WebSocket::FrameParser::EventType;
    while (link && link->id == id && !destroyed) {
        if (receiveQueueFull() && options.receiveQueueSize > 0) {
            link->readerPaused = true;
            return true; // resumeReading() goes on once receive() took a message
        }
        Protocol::WebSocket::FrameParser::Event event = link->parser.nextEvent();
        if (event.type == EventType::NeedData)
            return true;
        DispatchScope scope(this);
        onFrameEvent(id, event);
    }
    return false;
}

void AsyncWebSocketPrivate::onFrameEvent(quint64 id, Protocol::WebSocket::FrameParser::Event &event)
{
    using EventType = Protocol::WebSocket::FrameParser::EventType;
    switch (event.type) {
    case EventType::NeedData:
        return;
    case EventType::TextMessage: {
        const QString text = QString::fromUtf8(event.payload);
        event.payload.clear();
        keepIncoming(WebSocketMessage::fromText(text));
        if (q)
            Q_EMIT q->textMessageReceived(text);
        incomingWaiters.wakeAll();
        return;
    }
    case EventType::BinaryMessage: {
        const QByteArray data = std::move(event.payload);
        keepIncoming(WebSocketMessage::fromBinary(data));
        if (q)
            Q_EMIT q->binaryMessageReceived(data);
        incomingWaiters.wakeAll();
        return;
    }
    case EventType::Ping:
        // After our Close only the server's Close matters (RFC 6455 §5.5.1).
        if (!link->closeSent) {
            QByteArray pong;
            link->writer.writePong(pong, event.payload);
            writeFrame(pong);
        }
        return;
    case EventType::Pong:
        onPong(event.payload);
        return;
    case EventType::Close: {
        link->closeReceived = true;
        link->receivedCode = event.closeCode;
        link->receivedReason = QString::fromUtf8(event.closeReason);
        if (!link->closeSent) {
            // Echo the code (RFC 6455 §5.5.1); an empty Close is answered with an empty one.
            QByteArray close;
            if (event.closeCode == Protocol::WebSocket::CloseCode::NoStatus)
                link->writer.writeClose(close);
            else
                link->writer.writeClose(close, event.closeCode);
            link->closeSent = true;
            writeFrame(close);
        }
        connectionEnded(id);
        return;
    }
    case EventType::Error:
        failConnection(link->parser.errorCloseCode(), link->parser.errorMessage());
        return;
    }
}

void AsyncWebSocketPrivate::failConnection(int code, const QString &reason)
{
    if (!link)
        return;
    link->failCode = code;
    link->failReason = reason;
    if (!link->closeSent) {
        QByteArray close;
        // The reason is for people reading a capture: short and within the 123-byte limit.
        QByteArray why = reason.toUtf8();
        if (why.size() > 123)
            why.truncate(123);
        if (!Protocol::Utf8Validator::isValidUtf8(why))
            why.clear();
        link->writer.writeClose(close, quint16(code), QByteArrayView(why));
        link->closeSent = true;
        writeFrame(close);
    }
    connectionEnded(link->id);
}

// // --- the end of a connection
// -------------------------------------------------------------------

void AsyncWebSocketPrivate::connectionEnded(quint64 id, const QString &lostBecause)
{
    if (!link || id != link->id)
        return;
    DispatchScope scope(this);
    int code = AsyncWebSocket::AbnormalClosure;
    QString reason;
    Ending ending = Ending::CloseCode;
    if (heartbeatLost) {
        ending = Ending::HeartbeatLost;
        reason = QStringLiteral("no pong within %1 ms (heartbeat)")
                     .arg(heartbeatDeadlineValue().count());
    } else if (link->failCode) {
        code = link->failCode;
        reason = link->failReason;
    } else if (link->closeReceived) {
        code = link->receivedCode;
        reason = link->receivedReason;
    } else if (userClose) {
        code = userCloseCode;
        reason = userCloseReason;
    } else {
        reason = lostBecause.isEmpty() ? QStringLiteral("connection lost")
                                       : QStringLiteral("connection lost: %1").arg(lostBecause);
    }
    // After a Close exchange (or our failing Close) the frame is flushed and TCP closed; a lost
    // connection is simply dropped.
    retireLink(link->closeSent);
    closeCode = code;
    closeReason = reason;
    pongWaiters.wakeAll();
    writeWaiters.wakeAll();

    qCDebug(lcWebSocket) << "disconnected from" << redactUrl(displayUrl()) << code << reason;
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
    outgoingBytes = 0;
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
    // An open connection ends as any other (disconnected(), with the user's code); an attempt
    // in progress just fails: its coroutine sees run changed.
    if (link && link->open)
        connectionEnded(link->id);
    retireLink(false);
    if (state != State::Closed && state != State::Unconnected)
        finish(code, reason, {});
}

void AsyncWebSocketPrivate::teardown()
{
    // The public object is going: send a Close if open, let the connection go, and wake every
    // waiting coroutine, which then throws. q is already null, so no signal is emitted. Nothing
    // here waits: the Close is handed to the kernel (flush) and TCP closed after it.
    destroyed = true;
    ++run;
    stopHeartbeat();
    disposeRetired(); // connections that already ended; a thread without a loop never deletes later
    if (link) {
        if (link->open && !link->closeSent && link->conn) {
            QByteArray close;
            link->writer.writeClose(close, AsyncWebSocket::GoingAway, QStringView(u"going away"));
            link->closeSent = true;
            writeFrame(close);
        }
        retireLink(link->closeSent);
    }
    if (state != State::Closed && state != State::Unconnected) {
        closeCode = AsyncWebSocket::GoingAway;
        closeReason = QStringLiteral("the WebSocket was destroyed");
    }
    state = State::Closed;
    outgoing.clear();
    outgoingBytes = 0;
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
    return options.heartbeatTimeout.value_or(options.heartbeatInterval);
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
    if (!link || state != State::Open || !heartbeatPayload.isEmpty())
        return; // the previous ping's deadline is still running
    heartbeatPayload = QByteArrayLiteral("reqivo-heartbeat-") + QByteArray::number(++pingCounter);
    if (const ms deadline = heartbeatDeadlineValue(); !Timeout::isNoLimit(deadline))
        heartbeatDeadline.start(deadline);
    QByteArray ping;
    link->writer.writePing(ping, heartbeatPayload);
    writeFrame(ping);
}

void AsyncWebSocketPrivate::heartbeatExpired()
{
    if (!link || state != State::Open)
        return;
    qCDebug(lcWebSocket) << "heartbeat: no pong from" << redactUrl(displayUrl()) << "within"
                         << heartbeatDeadlineValue().count() << "ms";
    heartbeatLost = true;
    connectionEnded(link->id); // the peer is gone: no close handshake to wait for
    disposeRetired();
}

} // namespace Reqivo
