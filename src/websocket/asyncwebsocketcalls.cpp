// The coroutines of AsyncWebSocket: open (one attempt, or the reconnect loop), send, receive,
// ping and close. Each takes the shared state by value, so it stays alive while suspended, and
// re-checks the state after every co_await: the socket may have been closed, reopened or
// destroyed meanwhile.
#include "asyncwebsocket_p.h"

#include <Reqivo/redaction.h>

#include "client/prepare_p.h"
#include "handshake_p.h"
#include "protocol/responseparser.h"
#include "transport/asyncconnection_p.h"

#include <Reqivo/asyncconnection.h>
#include <Reqivo/cookiejar.h>

#include <QLoggingCategory>
#include <QRandomGenerator>

#include <algorithm>

namespace Reqivo {

using namespace WebSocketDetail;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
namespace {

//! Time left until \a deadline, or Timeout::noLimit when there is none (timeout.h).
milliseconds remaining(std::optional<Clock::time_point> deadline)
{
    if (!deadline)
        return Timeout::noLimit;
    const auto left = std::chrono::ceil<milliseconds>(*deadline - Clock::now());
    return std::max(left, milliseconds::zero());
}

std::optional<Clock::time_point> deadlineAfter(milliseconds timeout)
{
    if (Timeout::isNoLimit(timeout))
        return std::nullopt;
    return Clock::now() + timeout;
}

QString statusText(int status, const QByteArray &reason)
{
    return reason.isEmpty() ? QString::number(status)
                            : QStringLiteral("%1 %2").arg(status).arg(QString::fromLatin1(reason));
}

} // namespace
QCoro::Task<void> AsyncWebSocketPrivate::send(
    std::shared_ptr<AsyncWebSocketPrivate> d, Outgoing message)
{
    if (d->destroyed)
        d->throwDestroyed();
    if (Error error = d->submit(std::move(message), false))
        error.raise();
    // Backpressure: a sender in a loop must not grow the socket's buffer without bound.
    while (!d->destroyed && d->state == State::Open && d->link && d->unsentBytes() > sendHighWater)
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
    if (!buildHandshake(prepared, d->options.subprotocols, makeHandshakeKey(), &handshake, &error))
        co_return failure(Ending::Invalid, error);
    d->handshakeUrl = handshake.url;

    // --- the connection: TCP or TLS, through the proxy ---------------------------------------
    Endpoint endpoint = Endpoint::fromUrl(handshake.url);
    if (d->options.proxy) {
        endpoint.proxy = *d->options.proxy;
    } else if (s) {
        const Transport::ProxyChoice proxy = s->proxyPolicy.select(handshake.url);
        if (!proxy.error.isEmpty())
            co_return failure(Ending::Invalid, proxy.error);
        endpoint.proxy = proxy.proxy;
    }
    if (endpoint.tls)
        endpoint.tlsOptions = d->options.tlsOptions.value_or(s ? s->tlsOptions : TlsOptions());
    const QPointer<AsyncConnection> conn = new AsyncConnection();
    d->attachLink(conn);
    const quint64 id = d->link->id;
    const auto current = [&] { return !cancelled() && conn && d->link && d->link->id == id; };
    const auto deadline = deadlineAfter(d->options.openTimeout);

    Protocol::ResponseParser answer;
    answer.setUpgradeRequested(true);
    Error transportError;
    QString problem;
    try {
        co_await conn->connectToHost(endpoint, remaining(deadline));
        if (current())
            co_await conn->write(handshake.request, remaining(deadline));
        while (current() && answer.state() == Protocol::ResponseParser::State::Head) {
            const QByteArray bytes = co_await conn->read(remaining(deadline));
            if (!current())
                break;
            if (bytes.isEmpty())
                answer.receiveEof();
            else
                answer.receiveData(bytes);
            for (bool more = true; more;) {
                const auto event = answer.nextEvent();
                switch (event.type) {
                case Protocol::ResponseParser::EventType::Error:
                    problem = answer.errorMessage();
                    more = false;
                    break;
                case Protocol::ResponseParser::EventType::NeedData:
                    more = false;
                    break;
                default:
                    // Interim heads (100, 103) are skipped; the final head ends the loop.
                    more = answer.state() == Protocol::ResponseParser::State::Head;
                    break;
                }
            }
            if (!problem.isEmpty())
                break;
            if (bytes.isEmpty() && answer.state() == Protocol::ResponseParser::State::Head) {
                problem = QStringLiteral("the connection closed before the handshake answer");
                break;
            }
        }
    } catch (...) {
        transportError = Error::fromException(std::current_exception());
    }

    // --- what came back -----------------------------------------------------------------------
    if (cancelled() || !d->link || d->link->id != id) {
        if (d->link && d->link->id == id)
            d->retireLink(false);
        d->disposeRetired();
        co_return failure(Ending::Invalid, QStringLiteral("the open was cancelled"));
    }
    const auto fail = [&](Ending ending, const QString &message, const QString &detail = {},
                          int httpStatus = 0, int code = AsyncWebSocket::AbnormalClosure) {
        d->retireLink(false);
        d->disposeRetired();
        AttemptResult r = failure(ending, message, detail, httpStatus);
        if (code != AsyncWebSocket::AbnormalClosure)
            r.error = d->makeError(message, code, detail);
        return r;
    };
    if (transportError) {
        const QString detail = transportError.message();
        if (transportError.isA(Error::Kind::Timeout))
            co_return fail(Ending::ConnectTimedOut,
                QStringLiteral("opening the WebSocket timed out after %1 ms")
                    .arg(d->options.openTimeout.count()),
                detail);
        if (transportError.isA(Error::Kind::Tls))
            co_return fail(Ending::TlsFailed,
                QStringLiteral("TLS handshake failed: %1").arg(detail), transportError.detail());
        co_return fail(Ending::ConnectFailed,
            QStringLiteral("could not connect the WebSocket: %1").arg(detail),
            transportError.detail());
    }
    if (!problem.isEmpty())
        co_return fail(Ending::HandshakeRefused,
            QStringLiteral("invalid answer to the WebSocket handshake: %1").arg(problem), problem);

    const Protocol::ResponseHead &head = answer.head();
    d->handshakeStatus = head.status;
    d->handshakeHeaders = head.headers;
    // Cookies set by the answer count, whatever its status (the session's jar, as for HTTP).
    if (const std::shared_ptr<SessionCore> owner = d->session.lock(); owner && owner->jar)
        owner->jar->storeFromResponse(handshake.url, head.headers);
    if (head.status != 101)
        co_return fail(Ending::HandshakeRefused,
            QStringLiteral("the server refused the WebSocket handshake with HTTP %1")
                .arg(statusText(head.status, head.reason)),
            {}, head.status, head.status);
    QString chosen;
    if (!checkHandshakeAnswer(head.headers, handshake, &chosen, &problem))
        co_return fail(Ending::HandshakeRefused,
            QStringLiteral("invalid answer to the WebSocket handshake: %1").arg(problem), problem);

    // Open: bytes that came with the 101 are the first frames.
    d->link->open = true;
    d->subprotocol = chosen;
    const QByteArrayView early = answer.unconsumed();
    if (!early.isEmpty())
        d->link->parser.receiveData(early);
    co_return AttemptResult {true, Ending::CloseCode, 101, {}};
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
    d->incomingBytes = 0;
    d->receiveUsed = false;
    d->outgoing.clear();
    d->outgoingBytes = 0;
    d->userClose = false;
    d->reconnectAttempt = 0;
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
                             << redactUrl(d->displayUrl());
        if (d->q)
            Q_EMIT d->q->reconnecting(attempt, int(delay.count()));
        const auto until = Clock::now() + delay;
        while (!cancelled() && Clock::now() < until)
            co_await d->stateWaiters.wait(remaining(until));
        if (cancelled())
            co_return false;

        AttemptResult result = co_await connectOnce(d);
        if (cancelled()) {
            if (result.ok && d->run != myRun && d->link && d->state != State::Open)
                d->retireLink(false);
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
    d->receiveUsed = true;
    while (true) {
        if (!d->incoming.empty()) {
            WebSocketMessage message = std::move(d->incoming.front());
            d->incoming.pop_front();
            d->incomingBytes -= queuedBytes(message);
            d->resumeReading();
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
    if (d->state != State::Open || !d->link || d->link->closeSent)
        throw WebSocketError(d->makeError(
            QStringLiteral("cannot ping: the WebSocket is %1").arg(stateName(d->state)),
            d->closeCode));
    auto pending = std::make_shared<PendingPing>();
    pending->payload = QByteArrayLiteral("reqivo-ping-") + QByteArray::number(++d->pingCounter);
    d->pings.push_back(pending);
    const quint64 id = d->link->id;
    pending->timer.start();
    QByteArray frame;
    d->link->writer.writePing(frame, pending->payload);
    d->writeFrame(frame);

    const auto deadline = deadlineAfter(timeout);
    bool timedOut = false;
    while (!pending->roundTrip && !d->destroyed && d->link && d->link->id == id
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
        if (d->link && d->state == State::Closing && !d->link->closeSent) {
            QByteArray frame;
            d->link->writer.writeClose(frame, quint16(code), QStringView(reason));
            d->link->closeSent = true;
            d->writeFrame(frame);
        }
    }
    const auto deadline = deadlineAfter(d->options.closeTimeout);
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
