// AsyncWebSocket: a QWebSocket per connection, driven from coroutines that hold the socket's
// shared state, plus the reconnect loop, the send queue and the heartbeat around it.
//
// Everything that happens to a connection arrives as a QWebSocket signal and lands in one of
// the on*() handlers, which update the state and wake the coroutines waiting for that kind of
// change (WaitQueue). The coroutines only ever look at the state: open() waits for an attempt
// to be done, receive() for a message or the end, close() for Closed. How a connection ended
// is decided in one place, connectionEnded(): from the close frame if one was exchanged
// (QWebSocket emits aboutToClose() exactly when it sends one), 1006 otherwise.
#include "asyncwebsocket_p.h"

#include "handshake_p.h"

#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QWebSocket>

#include <algorithm>

namespace Reqivo {

Q_LOGGING_CATEGORY(lcWebSocket, "reqivo.websocket", QtInfoMsg)

using namespace WebSocketDetail;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

QString stateName(AsyncWebSocket::State state)
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

//! Time left until \a deadline, or -1 (no limit) when there is none.
milliseconds remaining(std::optional<Clock::time_point> deadline)
{
    if (!deadline)
        return milliseconds(-1);
    const auto left = std::chrono::ceil<milliseconds>(*deadline - Clock::now());
    return std::max(left, milliseconds::zero());
}

std::optional<Clock::time_point> deadlineAfter(milliseconds timeout)
{
    if (timeout < milliseconds::zero())
        return std::nullopt;
    return Clock::now() + timeout;
}

quint64 clampedLimit(qint64 value, quint64 max)
{
    if (value <= 0)
        return max;
    return std::min<quint64>(quint64(value), max);
}

} // namespace

// ============================================================================================
// AsyncWebSocketPrivate
// ============================================================================================

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
        writeNow(message);
        return {};
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

QCoro::Task<void> AsyncWebSocketPrivate::send(
    std::shared_ptr<AsyncWebSocketPrivate> d, Outgoing message)
{
    if (d->destroyed)
        d->throwDestroyed();
    if (Error error = d->submit(std::move(message)))
        error.raise();
    // Backpressure: a sender in a loop must not grow the socket's buffer without bound.
    while (
        !d->destroyed && d->state == State::Open && d->ws && d->ws->bytesToWrite() > sendHighWater)
        co_await d->writeWaiters.wait();
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

QCoro::Task<AsyncWebSocketPrivate::AttemptResult> AsyncWebSocketPrivate::connectOnce(
    std::shared_ptr<AsyncWebSocketPrivate> d)
{
    d->disposeRetired();
    const quint64 myRun = d->run;
    const auto cancelled = [&] { return d->destroyed || d->run != myRun || d->userClose; };
    const auto failure = [&](Ending ending, const QString &message, const QString &detail = {},
                             int httpStatus = 0) {
        AttemptResult r;
        r.ending = ending;
        r.httpStatus = httpStatus;
        r.error = d->makeError(message, AsyncWebSocket::AbnormalClosure, detail);
        return r;
    };

    // --- what the handshake carries: the session's state now, then the options -------------
    std::shared_ptr<SessionCore> core = d->session.lock();
    if (core)
        d->sessionSettings = SessionAccess::read(*core);
    const SessionSettings *s = d->sessionSettings ? &*d->sessionSettings : nullptr;

    QString error;
    const QUrl wsUrl = toWebSocketUrl(s ? s->baseUrl : QUrl(), d->url, &error);
    if (!wsUrl.isValid())
        co_return failure(Ending::Invalid, error);
    QUrl cookieUrl = wsUrl;
    cookieUrl.setUserInfo(QString());
    d->handshakeUrl = cookieUrl;
    PreparedRequest prepared {QByteArray("GET"), wsUrl,
        mergeHeaders(s ? s->defaultHeaders : Headers(), d->options.headers)};
    addCredentials(prepared, s ? s->authorization : QByteArray(),
        core ? SessionAccess::cookieHeaderFor(*core, cookieUrl) : QByteArray());
    core.reset(); // hooks may run for a while; the session may go meanwhile
    if (s) {
        const QList<AsyncSession::RequestHook> hooks = s->requestHooks;
        for (const AsyncSession::RequestHook &hook : hooks) {
            co_await hook(prepared);
            if (cancelled())
                co_return failure(Ending::Invalid, QStringLiteral("the open was cancelled"));
        }
    }
    Handshake handshake;
    if (!buildHandshake(prepared, d->options.subprotocols, &handshake, &error))
        co_return failure(Ending::Invalid, error);
    d->handshakeUrl = handshake.url;

    // --- the socket -------------------------------------------------------------------------
    auto *socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest);
    socket->setMaxAllowedIncomingFrameSize(
        clampedLimit(d->options.maxFrameSize, QWebSocket::maxIncomingFrameSize()));
    socket->setMaxAllowedIncomingMessageSize(
        clampedLimit(d->options.maxMessageSize, QWebSocket::maxIncomingMessageSize()));
    if (handshake.url.scheme() == QLatin1String("wss")) {
        const TlsOptions tls = d->options.tlsOptions.value_or(s ? s->tlsOptions : TlsOptions());
        socket->setSslConfiguration(tls.toSslConfiguration());
    }
    socket->setProxy(
        d->options.proxy.value_or(s ? s->proxy : QNetworkProxy(QNetworkProxy::DefaultProxy)));
    d->attachSocket(socket);
    const quint64 id = d->connectionId;
    socket->open(handshake.request, handshake.options);

    const auto deadline = d->options.openTimeout > milliseconds::zero()
        ? deadlineAfter(d->options.openTimeout)
        : std::nullopt;
    bool timedOut = false;
    while (!d->attempt.done && !cancelled() && d->connectionId == id) {
        if (!co_await d->stateWaiters.wait(remaining(deadline))) {
            timedOut = !d->attempt.done;
            break;
        }
    }

    if (d->connectionId == id && d->attempt.done && d->attempt.ok && !cancelled()) {
        d->subprotocol = d->ws->subprotocol();
        co_return AttemptResult {true, Ending::CloseCode, 0, {}};
    }

    // --- it failed: say why ------------------------------------------------------------------
    const QString detail = d->attempt.errorString;
    if (d->connectionId == id)
        d->retireSocket();
    d->disposeRetired();
    if (cancelled())
        co_return failure(Ending::Invalid, QStringLiteral("the open was cancelled"));
    if (timedOut)
        co_return failure(Ending::ConnectTimedOut,
            QStringLiteral("opening the WebSocket timed out after %1 ms")
                .arg(d->options.openTimeout.count()),
            detail);
    if (d->attempt.tlsFailed)
        co_return failure(Ending::TlsFailed, QStringLiteral("TLS handshake failed"), detail);
    const HandshakeFailure f = classifyHandshakeError(detail);
    switch (f.ending) {
    case Ending::HandshakeRefused:
        if (f.httpStatus >= 200)
            co_return failure(f.ending,
                QStringLiteral("the server refused the WebSocket handshake with "
                               "HTTP %1")
                    .arg(f.httpStatus),
                detail, f.httpStatus);
        co_return failure(f.ending, QStringLiteral("invalid WebSocket handshake answer"), detail);
    case Ending::SubprotocolRefused:
        co_return failure(f.ending,
            QStringLiteral("the server chose a subprotocol that was not offered"), detail);
    case Ending::Invalid:
        co_return failure(f.ending, QStringLiteral("invalid WebSocket request"), detail);
    default:
        break;
    }
    co_return failure(Ending::ConnectFailed,
        QStringLiteral("could not connect the WebSocket")
            + (detail.isEmpty() ? QString() : QStringLiteral(": ") + detail),
        detail);
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

QCoro::Task<void> AsyncWebSocketPrivate::open(std::shared_ptr<AsyncWebSocketPrivate> d)
{
    if (d->destroyed)
        d->throwDestroyed();
    if (d->state == State::Open)
        co_return;
    if (d->state != State::Unconnected && d->state != State::Closed)
        throw WebSocketError(d->makeError(
            QStringLiteral("open() while the WebSocket is %1").arg(stateName(d->state)),
            d->closeCode));

    d->closeCode = 0;
    d->closeReason.clear();
    d->lastError = {};
    d->endedWithError = false;
    d->incoming.clear();
    d->outgoing.clear();
    d->userClose = false;
    d->reconnectAttempt = 0;
    d->warnedIncomingOverflow = false;
    const quint64 myRun = ++d->run;
    d->setState(State::Connecting);

    AttemptResult result = co_await connectOnce(d);
    if (d->destroyed)
        d->throwDestroyed();
    if (result.ok && d->run == myRun) {
        d->becameOpen();
        co_return;
    }
    if (d->run != myRun || d->userClose)
        throw WebSocketError(
            d->makeError(QStringLiteral("the WebSocket was closed before it opened"),
                d->closeCode ? d->closeCode : AsyncWebSocket::AbnormalClosure));

    const ReconnectPolicy &policy = d->options.reconnect;
    if (policy.enabled && policy.retryInitialConnect
        && shouldReconnect(result.ending, AsyncWebSocket::AbnormalClosure, result.httpStatus)) {
        d->closeCode = AsyncWebSocket::AbnormalClosure;
        d->closeReason = result.error.message();
        d->setState(State::Reconnecting);
        const bool opened = co_await reconnect(d, myRun, result.error);
        if (d->destroyed)
            d->throwDestroyed();
        if (opened)
            co_return;
        if (d->lastError)
            d->lastError.raise();
        throw WebSocketError(d->makeError(
            QStringLiteral("the WebSocket was closed before it opened"), d->closeCode));
    }
    d->finish(AsyncWebSocket::AbnormalClosure, result.error.message(), result.error);
    result.error.raise();
}

QCoro::Task<bool> AsyncWebSocketPrivate::reconnect(
    std::shared_ptr<AsyncWebSocketPrivate> d, quint64 myRun, Error lastFailure)
{
    const ReconnectPolicy policy = d->options.reconnect;
    const auto cancelled
        = [&] { return d->destroyed || d->run != myRun || d->state != State::Reconnecting; };
    int attempt = 0;
    while (policy.maxAttempts < 0 || attempt < policy.maxAttempts) {
        ++attempt;
        const milliseconds delay = applyJitter(
            policy.delayFor(attempt), policy.jitter, QRandomGenerator::global()->generateDouble());
        d->reconnectAttempt = attempt;
        qCDebug(lcWebSocket) << "reconnect attempt" << attempt << "in" << delay.count() << "ms to"
                             << d->displayUrl();
        if (d->q)
            Q_EMIT d->q->reconnecting(attempt, int(delay.count()));
        const auto until = Clock::now() + delay;
        while (!cancelled() && Clock::now() < until)
            co_await d->stateWaiters.wait(remaining(until));
        if (cancelled())
            co_return false;

        AttemptResult result = co_await connectOnce(d);
        if (cancelled()) {
            if (result.ok && d->run != myRun && d->ws && d->state != State::Open)
                d->retireSocket();
            co_return false;
        }
        if (result.ok) {
            d->becameOpen();
            co_return true;
        }
        lastFailure = result.error;
        if (!shouldReconnect(result.ending, AsyncWebSocket::AbnormalClosure, result.httpStatus))
            break;
    }

    const QString message
        = QStringLiteral("gave up reconnecting after %1 attempt%2: %3")
              .arg(attempt)
              .arg(attempt == 1 ? QString() : QStringLiteral("s"))
              .arg(lastFailure ? lastFailure.message() : QStringLiteral("no attempt was allowed"));
    d->finish(
        d->closeCode, d->closeReason, d->makeError(message, d->closeCode, lastFailure.detail()));
    co_return false;
}

// --- the end of a connection -------------------------------------------------------------------

void AsyncWebSocketPrivate::connectionEnded(quint64 id)
{
    if (id != connectionId || !ws)
        return;
    if (!attempt.ok) {
        // The attempt ended before the handshake finished: connectOnce() reports it.
        if (!attempt.done) {
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
    if (q)
        Q_EMIT q->disconnected(code, reason);
    if (destroyed || state == State::Closed)
        return; // a slot closed, aborted or destroyed the socket

    const bool retry = !userClose && options.reconnect.enabled && shouldReconnect(ending, code);
    if (retry) {
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
    incomingWaiters.wakeAll();
    stateWaiters.wakeAll();
    pongWaiters.wakeAll();
    writeWaiters.wakeAll();
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
    incomingWaiters.wakeAll();
    stateWaiters.wakeAll();
    pongWaiters.wakeAll();
    writeWaiters.wakeAll();
}

// --- receive, ping, close ------------------------------------------------------------------------

QCoro::Task<WebSocketMessage> AsyncWebSocketPrivate::receive(
    std::shared_ptr<AsyncWebSocketPrivate> d, milliseconds timeout)
{
    if (d->options.receiveQueueSize <= 0)
        throw WebSocketError(d->makeError(
            QStringLiteral("receive() needs WebSocketOptions::receiveQueueSize > 0"), 0));
    const auto deadline = deadlineAfter(timeout);
    while (true) {
        if (!d->incoming.empty()) {
            WebSocketMessage message = std::move(d->incoming.front());
            d->incoming.pop_front();
            co_return message;
        }
        if (d->destroyed)
            d->throwDestroyed();
        if (d->state == State::Closed) {
            if (d->endedWithError)
                d->lastError.raise();
            co_return WebSocketMessage::end(d->closeCode, d->closeReason);
        }
        if (d->state == State::Unconnected)
            throw WebSocketError(d->makeError(QStringLiteral("receive() before open()"), 0));
        if (!co_await d->incomingWaiters.wait(remaining(deadline))) {
            if (!d->incoming.empty())
                continue;
            throw ReadTimeout(
                QStringLiteral("no WebSocket message within %1 ms").arg(timeout.count()),
                d->displayUrl());
        }
    }
}

QCoro::Task<std::chrono::microseconds> AsyncWebSocketPrivate::ping(
    std::shared_ptr<AsyncWebSocketPrivate> d, milliseconds timeout)
{
    if (d->destroyed)
        d->throwDestroyed();
    if (d->state != State::Open || !d->ws)
        throw WebSocketError(d->makeError(
            QStringLiteral("cannot ping: the WebSocket is %1").arg(stateName(d->state)),
            d->closeCode));
    auto pending = std::make_shared<PendingPing>();
    pending->payload = QByteArrayLiteral("reqivo-ping-") + QByteArray::number(++d->pingCounter);
    d->pings.push_back(pending);
    const quint64 id = d->connectionId;
    pending->timer.start();
    d->ws->ping(pending->payload);

    const auto deadline = deadlineAfter(timeout);
    bool timedOut = false;
    while (!pending->roundTrip && !d->destroyed && d->connectionId == id && d->ws
        && d->state == State::Open) {
        if (!co_await d->pongWaiters.wait(remaining(deadline))) {
            timedOut = !pending->roundTrip;
            break;
        }
    }
    d->pings.remove(pending);
    if (pending->roundTrip)
        co_return *pending->roundTrip;
    if (d->destroyed)
        d->throwDestroyed();
    if (timedOut)
        throw ReadTimeout(
            QStringLiteral("no pong within %1 ms").arg(timeout.count()), d->displayUrl());
    throw WebSocketError(d->makeError(QStringLiteral("the connection was lost before the pong"),
        d->closeCode ? d->closeCode : AsyncWebSocket::AbnormalClosure));
}

QCoro::Task<void> AsyncWebSocketPrivate::close(
    std::shared_ptr<AsyncWebSocketPrivate> d, int code, QString reason)
{
    if (!isValidUserCloseCode(code))
        throw WebSocketError(d->makeError(
            QStringLiteral("invalid close code %1: use 1000, 1001 or 3000-4999").arg(code), 0));
    if (reason.toUtf8().size() > 123)
        throw WebSocketError(
            d->makeError(QStringLiteral("the close reason is longer than 123 UTF-8 bytes"), 0));
    if (d->destroyed || d->state == State::Unconnected || d->state == State::Closed)
        co_return;

    if (d->state == State::Connecting || d->state == State::Reconnecting) {
        d->abortConnection(code, reason);
        d->disposeRetired();
        co_return;
    }
    if (d->state == State::Open) {
        d->userClose = true;
        d->userCloseCode = code;
        d->userCloseReason = reason;
        d->setState(State::Closing);
        if (d->ws && d->state == State::Closing) {
            DispatchScope scope(d.get());
            d->ws->close(QWebSocketProtocol::CloseCode(code), reason);
        }
    }
    const auto deadline = deadlineAfter(d->options.closeTimeout > milliseconds::zero()
            ? d->options.closeTimeout
            : WebSocketOptions::defaultCloseTimeout);
    while (!d->destroyed && d->state != State::Closed) {
        if (!co_await d->stateWaiters.wait(remaining(deadline))) {
            // The peer never finished the close handshake: cut the connection.
            d->abortConnection(code, reason);
            break;
        }
    }
    d->disposeRetired();
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

// ============================================================================================
// AsyncWebSocket
// ============================================================================================

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
    Error error = d->submit({false, message, {}});
    if (!error)
        return true;
    d->lastError = error;
    Q_EMIT errorOccurred(error);
    return false;
}

bool AsyncWebSocket::sendBinaryMessage(const QByteArray &data)
{
    Error error = d->submit({true, {}, data});
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
