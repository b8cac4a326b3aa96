// AsyncEventSource: one loop() coroutine per open() runs the stream (request, read, parse,
// deliver, reconnect); next() waits on the queue it fills. See asynceventsource_p.h.
#include "asynceventsource_p.h"
#include "client/redaction_p.h"

#include <Reqivo/redaction.h>

#include <QLoggingCategory>
#include <QMetaMethod>
#include <QRandomGenerator>
#include <QTimer>

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>

namespace Reqivo {

Q_LOGGING_CATEGORY(lcEventSource, "reqivo.sse", QtInfoMsg)

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

bool isEventStream(const Headers &headers)
{
    QByteArrayView type = headers.value("content-type");
    if (const qsizetype semicolon = type.indexOf(';'); semicolon >= 0)
        type = type.first(semicolon);
    return Headers::nameEquals(type.trimmed(), "text/event-stream");
}

//! Converts the parser's UTF-8 fields; the type and the ID rarely change from one event to the
//! next, so their last conversions are reused.
class EventConverter
{
public:
    ServerSentEvent operator()(const Protocol::EventStreamParser::Event &ev)
    {
        return {convert(ev.eventType, m_typeBytes, m_type), QString::fromUtf8(ev.data),
            convert(ev.id, m_idBytes, m_id)};
    }

private:
    static QString convert(const QByteArray &bytes, QByteArray &lastBytes, QString &last)
    {
        if (bytes != lastBytes || last.isNull()) {
            lastBytes = bytes;
            last = QString::fromUtf8(bytes);
        }
        return last;
    }
    QByteArray m_typeBytes;
    QString m_type;
    QByteArray m_idBytes;
    QString m_id;
};

} // namespace

// --- the private state -------------------------------------------------------------------------

AsyncEventSourcePrivate::AsyncEventSourcePrivate(AsyncEventSource *q)
    : q(q)
{
}

AsyncEventSourcePrivate::~AsyncEventSourcePrivate() = default;

Error AsyncEventSourcePrivate::makeError(Error::Kind kind, const QString &message, int code) const
{
    // Never the URL's secrets: user info and secret query values (redaction.h).
    return Error(kind, message, Client::redactedUrl(url, defaultRedactedQueryNames()), QString(),
        code);
}

bool AsyncEventSourcePrivate::reconnects() const
{
    if (options.reconnect)
        return *options.reconnect;
    return options.method.compare("GET", Qt::CaseInsensitive) == 0;
}

bool AsyncEventSourcePrivate::queueFull() const
{
    return qsizetype(queue.size()) >= std::max<qsizetype>(options.queueSize, 1);
}

AsyncEventSourcePrivate::ms AsyncEventSourcePrivate::backoff(int failuresInRow) const
{
    const double base = double(std::max<ms::rep>(reconnectionTime.count(), 0));
    const double cap = double(std::max<ms::rep>(options.maxReconnectDelay.count(), 0));
    const double growth = options.backoffMultiplier >= 1.0 ? options.backoffMultiplier : 1.0;
    double value = base * std::pow(growth, std::max(failuresInRow - 1, 0));
    if (cap > 0 && value > cap)
        value = cap;
    value = std::min(value, double(std::numeric_limits<int>::max()));
    const double jitter = std::clamp(options.jitter, 0.0, 1.0);
    value *= 1.0 - jitter * QRandomGenerator::global()->generateDouble();
    return ms(static_cast<ms::rep>(value));
}

void AsyncEventSourcePrivate::setState(ReadyState newState)
{
    if (state == newState)
        return;
    state = newState;
    if (q)
        Q_EMIT q->readyStateChanged(newState);
}

void AsyncEventSourcePrivate::deliver(const ServerSentEvent &event)
{
    bool keep = options.queueSize > 0;
    if (keep && !nextUsed && q) {
        // Signal-only code: the event was delivered; keeping it would only fill memory.
        static const QMetaMethod signal = QMetaMethod::fromSignal(&AsyncEventSource::eventReceived);
        keep = !q->isSignalConnected(signal);
    }
    if (keep)
        queue.push_back(event);
    if (q)
        Q_EMIT q->eventReceived(event);
    eventWaiters.wakeAll();
}

void AsyncEventSourcePrivate::cancelTransfer()
{
    requestAnchor.reset(); // a request still on its way is cancelled
    if (streaming) {
        Response body = std::move(*streaming);
        streaming.reset();
        body.close(); // a body being read: its connection is closed, the read fails
    }
}

void AsyncEventSourcePrivate::finish(EndReason why, const Error &error)
{
    running = false;
    reason = why;
    if (error)
        lastError = error;
    setState(ReadyState::Closed);
    if (q) {
        if (error)
            Q_EMIT q->errorOccurred(error, true);
        if (!destroyed)
            Q_EMIT q->closed();
    }
    eventWaiters.wakeAll();
    spaceWaiters.wakeAll();
}

void AsyncEventSourcePrivate::open()
{
    if (destroyed || running)
        return;
    everOpened = true;
    running = true;
    reason = EndReason::None;
    lastError = {};
    status = 0;
    attempt = 0;
    queue.clear();
    nextUsed = false;
    reconnectionTime = options.reconnectionTime;
    lastEventId = options.lastEventId;
    setState(ReadyState::Connecting);
    loop(shared_from_this(), ++run); // detached: it holds the state and ends on its own
}

void AsyncEventSourcePrivate::close()
{
    if (!running)
        return;
    ++run;
    cancelTransfer();
    delayWaiters.wakeAll();
    finish(EndReason::Closed, {});
}

void AsyncEventSourcePrivate::teardown()
{
    destroyed = true;
    ++run;
    cancelTransfer();
    running = false;
    state = ReadyState::Closed;
    // Waiting coroutines resume from the event loop, not inside the destructor of the object
    // their caller may still be looking at. Nothing is posted when nothing waits: a thread that
    // never runs its loop again (a std::thread with a blocking EventSource) would keep it.
    if (eventWaiters.isEmpty() && spaceWaiters.isEmpty() && delayWaiters.isEmpty())
        return;
    QTimer::singleShot(0, &context, [self = shared_from_this()] {
        self->eventWaiters.wakeAll();
        self->spaceWaiters.wakeAll();
        self->delayWaiters.wakeAll();
    });
}

// --- the stream ---------------------------------------------------------------------------------

QCoro::Task<void> AsyncEventSourcePrivate::loop(
    std::shared_ptr<AsyncEventSourcePrivate> d, quint64 myRun)
{
    const auto cancelled = [&] { return d->destroyed || d->run != myRun; };
    using Parser = Protocol::EventStreamParser;
    Parser::Limits limits;
    limits.maxEventBytes = d->options.maxEventBytes > 0 ? d->options.maxEventBytes : -1;
    Parser parser(limits);
    EventConverter toEvent;
    int failuresInRow = 0;

    for (int attemptNo = 0;; ++attemptNo) {
        d->attempt = attemptNo;
        d->setState(ReadyState::Connecting);
        AsyncSession *session = d->session;
        if (!session) {
            d->finish(EndReason::Failed,
                d->makeError(Error::Kind::Request,
                    QStringLiteral("the session of the event source was destroyed")));
            co_return;
        }

        RequestOptions request = d->options.request;
        request.stream = true;
        if (!request.headers.contains("accept"))
            request.headers.set("Accept", "text/event-stream");
        if (!request.headers.contains("cache-control"))
            request.headers.set("Cache-Control", "no-store");
        request.headers.remove("last-event-id");
        if (!d->lastEventId.isEmpty())
            request.headers.set("Last-Event-ID", d->lastEventId);
        // A stream may run for hours: no total deadline, and a read waits as long as the idle
        // timeout allows (for ever by default). Nobody else reads this body: no idle guard.
        Timeout timeout = request.timeout.value_or(session->timeout());
        timeout.read = d->options.idleTimeout;
        timeout.total = Timeout::noLimit;
        timeout.streamIdle = Timeout::noLimit;
        request.timeout = timeout;
        d->requestAnchor = std::make_unique<QObject>();
        request.cancelWith(d->requestAnchor.get());

        Error failure;
        bool fatal = false;
        Response response;
        try {
            response = co_await session->request(d->options.method, d->url, request);
        } catch (...) {
            failure = Error::fromException(std::current_exception());
        }
        if (cancelled())
            co_return;
        d->requestAnchor.reset();

        if (!failure) {
            d->status = response.status();
            if (response.status() == 204) {
                // "No Content": the server says there is no stream; never reconnect.
                response.close();
                d->finish(EndReason::Closed, {});
                co_return;
            }
            if (response.status() != 200) {
                failure = d->makeError(Error::Kind::Status,
                    QStringLiteral("the event stream was answered with HTTP %1")
                        .arg(response.status()),
                    response.status());
                fatal = true;
            } else if (!isEventStream(response.headers())) {
                failure = d->makeError(Error::Kind::Protocol,
                    QStringLiteral("the event stream was answered with Content-Type \"%1\", "
                                   "not text/event-stream")
                        .arg(QString::fromLatin1(response.headers().value("content-type"))));
                fatal = true;
            }
            if (fatal)
                response.close();
        }

        if (!failure) {
            d->streaming = response;
            d->setState(ReadyState::Open);
            if (d->q)
                Q_EMIT d->q->opened();
            if (cancelled())
                co_return;
            parser.resetStream();
            bool done = false;
            while (!done) {
                QByteArray chunk;
                Error readError;
                try {
                    chunk = co_await response.readChunk();
                } catch (...) {
                    readError = Error::fromException(std::current_exception());
                }
                if (cancelled())
                    co_return;
                if (readError) {
                    failure = readError;
                    break;
                }
                if (chunk.isEmpty())
                    parser.receiveEof();
                else
                    parser.receiveData(chunk);
                for (bool more = true; more && !done;) {
                    const Parser::Event ev = parser.nextEvent();
                    switch (ev.type) {
                    case Parser::EventType::NeedData:
                        more = false;
                        break;
                    case Parser::EventType::Retry:
                        d->reconnectionTime = ms(std::min<qint64>(ev.retryMs, INT_MAX));
                        break;
                    case Parser::EventType::End:
                        done = true; // the server ended the response: reconnect (or not) below
                        break;
                    case Parser::EventType::Error:
                        failure = d->makeError(Error::Kind::Protocol, parser.errorMessage());
                        fatal = true;
                        done = true;
                        break;
                    case Parser::EventType::Message: {
                        d->lastEventId = ev.id;
                        const ServerSentEvent event = toEvent(ev);
                        if (d->options.until && d->options.until(event)) {
                            // Done: read the rest (bounded) so the connection can be reused.
                            d->streaming.reset();
                            QTimer guard;
                            guard.setSingleShot(true);
                            Response body = response;
                            QObject::connect(&guard, &QTimer::timeout, &guard,
                                [body]() mutable { body.close(); });
                            guard.start(1000);
                            qint64 drained = 0;
                            while (drained <= 64 * 1024) {
                                QByteArray rest;
                                try {
                                    rest = co_await response.readChunk();
                                } catch (...) {
                                    break;
                                }
                                if (rest.isEmpty())
                                    break;
                                drained += rest.size();
                            }
                            if (drained > 64 * 1024)
                                response.close();
                            if (cancelled())
                                co_return;
                            d->finish(EndReason::Until, {});
                            co_return;
                        }
                        // A stream that delivers is working: the failures in a row start again.
                        // (One that opens and dies at once, again and again, still gives up.)
                        failuresInRow = 0;
                        d->deliver(event);
                        if (cancelled())
                            co_return;
                        while (!cancelled() && d->nextUsed && d->queueFull())
                            co_await d->spaceWaiters.wait();
                        if (cancelled())
                            co_return;
                        break;
                    }
                    }
                }
            }
            d->streaming.reset();
            if (fatal)
                response.close();
        }

        // --- the stream ended: again, or not ---------------------------------------------
        if (fatal || !d->reconnects()) {
            d->finish(failure ? EndReason::Failed : EndReason::Closed, failure);
            co_return;
        }
        ms delay = d->reconnectionTime;
        if (failure) {
            ++failuresInRow;
            const int max = d->options.maxReconnectAttempts;
            if (max >= 0 && failuresInRow > max) {
                Error gaveUp = failure;
                if (max > 0)
                    gaveUp = Error(failure.kind(),
                        QStringLiteral("gave up reconnecting after %1 failed attempt%2: %3")
                            .arg(max)
                            .arg(max == 1 ? QString() : QStringLiteral("s"))
                            .arg(failure.message()),
                        failure.url(), failure.detail(), failure.code());
                d->finish(EndReason::Failed, gaveUp);
                co_return;
            }
            delay = d->backoff(failuresInRow);
            d->lastError = failure;
            if (d->q)
                Q_EMIT d->q->errorOccurred(failure, false);
            if (cancelled())
                co_return;
        }
        d->setState(ReadyState::Connecting);
        qCDebug(lcEventSource) << "reconnecting to" << redactUrl(d->url) << "in" << delay.count()
                               << "ms";
        if (d->q)
            Q_EMIT d->q->reconnecting(attemptNo + 1, int(delay.count()));
        const auto until = Clock::now() + delay;
        while (!cancelled() && Clock::now() < until) {
            const auto left = std::chrono::ceil<milliseconds>(until - Clock::now());
            co_await d->delayWaiters.wait(std::max(left, milliseconds(1)));
        }
        if (cancelled())
            co_return;
    }
}

QCoro::Task<std::optional<ServerSentEvent>> AsyncEventSourcePrivate::next(
    std::shared_ptr<AsyncEventSourcePrivate> d, milliseconds timeout)
{
    const std::optional<Clock::time_point> deadline = timeout < milliseconds::zero()
        ? std::nullopt
        : std::optional<Clock::time_point>(Clock::now() + timeout);
    if (!d->everOpened)
        d->open();
    d->nextUsed = true;
    for (;;) {
        if (!d->queue.empty()) {
            ServerSentEvent event = std::move(d->queue.front());
            d->queue.pop_front();
            d->spaceWaiters.wakeAll();
            co_return event;
        }
        if (d->destroyed)
            throw RequestError(d->makeError(
                Error::Kind::Request, QStringLiteral("the event source was destroyed")));
        if (!d->running) {
            if (d->reason == EndReason::Failed && d->lastError)
                d->lastError.raise();
            co_return std::nullopt;
        }
        if (!deadline) {
            co_await d->eventWaiters.wait();
            continue;
        }
        const auto left = std::chrono::ceil<milliseconds>(*deadline - Clock::now());
        if (left <= milliseconds::zero() || !co_await d->eventWaiters.wait(left)) {
            if (!d->queue.empty() || !d->running)
                continue;
            throw ReadTimeout(QStringLiteral("no event within %1 ms").arg(timeout.count()),
                d->makeError(Error::Kind::ReadTimeout, QString()).url());
        }
    }
}

// --- the public object -------------------------------------------------------------------------

AsyncEventSource::AsyncEventSource(
    const QUrl &url, const EventSourceOptions &options, QObject *parent)
    : QObject(parent)
    , d(std::make_shared<AsyncEventSourcePrivate>(this))
{
    d->url = url;
    d->options = options;
    d->reconnectionTime = options.reconnectionTime;
    d->lastEventId = options.lastEventId;
    d->ownSession = std::make_unique<AsyncSession>();
    d->session = d->ownSession.get();
}

AsyncEventSource *AsyncEventSource::fromSession(
    AsyncSession &session, const QUrl &url, const EventSourceOptions &options, QObject *parent)
{
    auto *source = new AsyncEventSource(url, options, parent);
    source->d->ownSession.reset();
    source->d->session = &session;
    return source;
}

AsyncEventSource::~AsyncEventSource()
{
    d->q = nullptr;
    d->teardown();
}

QUrl AsyncEventSource::url() const
{
    return d->url;
}

EventSourceOptions AsyncEventSource::options() const
{
    return d->options;
}

AsyncEventSource::ReadyState AsyncEventSource::readyState() const
{
    return d->state;
}

QString AsyncEventSource::lastEventId() const
{
    return QString::fromUtf8(d->lastEventId);
}

std::chrono::milliseconds AsyncEventSource::reconnectionTime() const
{
    return d->reconnectionTime;
}

int AsyncEventSource::status() const
{
    return d->status;
}

Error AsyncEventSource::lastError() const
{
    return d->lastError;
}

AsyncEventSource::EndReason AsyncEventSource::endReason() const
{
    return d->reason;
}

int AsyncEventSource::attempt() const
{
    return d->attempt;
}

qsizetype AsyncEventSource::pendingEventCount() const
{
    return qsizetype(d->queue.size());
}

void AsyncEventSource::open()
{
    d->open();
}

QCoro::Task<std::optional<ServerSentEvent>> AsyncEventSource::next()
{
    return AsyncEventSourcePrivate::next(d, Timeout::noLimit);
}

QCoro::Task<std::optional<ServerSentEvent>> AsyncEventSource::next(milliseconds timeout)
{
    return AsyncEventSourcePrivate::next(d, timeout);
}

QCoro::AsyncGenerator<ServerSentEvent> AsyncEventSource::events()
{
    const std::shared_ptr<AsyncEventSourcePrivate> state = d;
    while (true) {
        std::optional<ServerSentEvent> event
            = co_await AsyncEventSourcePrivate::next(state, Timeout::noLimit);
        if (!event)
            co_return;
        co_yield std::move(*event);
    }
}

void AsyncEventSource::close()
{
    const std::shared_ptr<AsyncEventSourcePrivate> keep = d;
    keep->close();
}

} // namespace Reqivo
