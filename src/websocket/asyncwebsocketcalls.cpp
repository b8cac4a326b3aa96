// The coroutines of AsyncWebSocket: open (one attempt, or the reconnect loop), send, receive,
// ping and close. Each takes the shared state by value, so it stays alive while suspended, and
// re-checks the state after every co_await: the socket may have been closed, reopened or
// destroyed meanwhile.
#include "asyncwebsocket_p.h"

#include "client/prepare_p.h"
#include "transport/hostnamecheck.h"
#include "handshake_p.h"

#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QSslSocket>
#include <QWebSocket>

#include <algorithm>

namespace Reqivo {

using namespace WebSocketDetail;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
namespace {

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
    QUrl plainUrl = wsUrl;
    plainUrl.setUserInfo(QString());
    d->handshakeUrl = plainUrl;
    // The same preparation as an HTTP request: Host, defaults < options, credentials, cookies.
    if (s && !s->authorizationError.isEmpty())
        co_return failure(Ending::Invalid, s->authorizationError);
    Client::Prepared ready;
    try {
        Client::PrepareInput in;
        in.method = QByteArray("GET");
        in.url = wsUrl;
        in.host = Client::hostField(wsUrl);
        in.defaults = s ? s->defaultHeaders : Headers();
        in.overrides = d->options.headers;
        in.sessionAuthorization = s ? s->authorization : QByteArray();
        in.jar = core ? core->jar.get() : nullptr;
        ready = Client::prepareRequest(std::move(in));
    } catch (const RequestError &e) {
        co_return failure(Ending::Invalid, e.message());
    }
    PreparedRequest &prepared = ready.request;
    core.reset(); // hooks may run for a while; the session may go meanwhile
    if (s && !s->requestHooks.isEmpty()) {
        const QList<AsyncSession::RequestHook> hooks = s->requestHooks;
        for (const AsyncSession::RequestHook &hook : hooks) {
            Error hookError;
            try {
                co_await hook(prepared);
            } catch (...) {
                hookError = Error::fromException(std::current_exception());
            }
            if (hookError)
                co_return failure(Ending::Invalid,
                    QStringLiteral("a request hook of the session failed: %1")
                        .arg(hookError.message()));
            if (cancelled())
                co_return failure(Ending::Invalid, QStringLiteral("the open was cancelled"));
        }
        try {
            Client::finishPrepared(ready, plainUrl);
        } catch (const RequestError &e) {
            co_return failure(Ending::Invalid, e.message());
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
#ifndef QT_NO_SSL
    if (handshake.url.scheme() == QLatin1String("wss")
        && d->options.tlsOptions.value_or(s ? s->tlsOptions : TlsOptions()).verifyPeer) {
        // Qt 6.4 accepts a CN beside SANs and compares IPs as strings: the name is checked
        // again per RFC 9525 once the TLS handshake is done, before the upgrade request (queued
        // by QWebSocket, sent only after encryption) leaves; a mismatch aborts the socket,
        // dropping that request. QWebSocket's TLS socket is its child.
        if (auto *ssl = socket->findChild<QSslSocket *>()) {
            const QString host = handshake.url.host();
            const std::weak_ptr<AsyncWebSocketPrivate> weak = d;
            QObject::connect(ssl, &QSslSocket::encrypted, socket, [weak, id, ssl, socket, host] {
                QString why;
                if (Transport::certificateMatchesHostName(ssl->peerCertificate(), host, &why))
                    return;
                if (const auto dd = weak.lock(); dd && dd->connectionId == id) {
                    dd->attempt.tlsFailed = true;
                    dd->attempt.errorString
                        = QStringLiteral("host name verification failed: ") + why;
                }
                socket->abort();
            });
        }
    }
#endif

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

} // namespace Reqivo
