// Reqivo::AsyncEventSource: a Server-Sent Events client (text/event-stream) for co_await and for
// signal/slot code.
//
// It opens the stream as a request of its session (base URL, headers, cookies, auth, hooks, TLS,
// proxy, decompression), with any method and body — a POST with a JSON body is the LLM case —
// and parses it by the WHATWG rules (src/protocol/eventstream.h). Reconnection follows the spec:
// after the stream ends, the next request goes out after the reconnection time (3 s, replaced by
// the server's `retry:`), carrying `Last-Event-ID`; HTTP 204, a status other than 200 or a
// Content-Type other than text/event-stream end it for good. What the spec leaves open is
// decided here: consecutive failures back off exponentially with jitter up to a cap and a maximum
// number of attempts; reconnecting is on by default for GET only (a POST is never resent
// unasked); a stream has an idle timeout, never a total one (it may run for hours).
//
//   Reqivo::AsyncEventSource events(QUrl(u"http://127.0.0.1:8080/feed"_s));
//   while (const std::optional<Reqivo::ServerSentEvent> e = co_await events.next())
//       qDebug() << e->type << e->data;
//
// Errors: next() throws the error that ended the stream (RequestError and its subclasses for
// the request, StatusError for a status other than 200, ProtocolError for a wrong Content-Type
// or an event over the size limit) once the reconnect policy gave up or no reconnect applies;
// signal/slot code gets errorOccurred() for every failure, with fatal() telling whether a
// reconnect follows.
#pragma once

#include <Reqivo/errors.h>
#include <Reqivo/eventsourceoptions.h>
#include <Reqivo/requestoptions.h>

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QUrl>

#include <QCoro/QCoroAsyncGenerator>
#include <QCoro/QCoroTask>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace Reqivo {

class AsyncSession;
class AsyncEventSourcePrivate;

//! A Server-Sent Events client (text/event-stream) for co_await and for signal/slot code.
//!
//!     Reqivo::AsyncEventSource events(QUrl(u"http://127.0.0.1:8080/feed"_s));
//!     while (const std::optional<Reqivo::ServerSentEvent> e = co_await events.next())
//!         qDebug() << e->type << e->data;
//!
//! The stream is a request of its session, with any method and body (EventSourceOptions), parsed
//! by the WHATWG rules. After the stream ends, it reconnects after the reconnection time with
//! Last-Event-ID, backing off on consecutive failures (by default for GET only); HTTP 204, a
//! status other than 200 or another Content-Type end it for good. next() throws the error that
//! ended the stream; signal/slot code gets errorOccurred() for every failure.
class REQIVO_EXPORT AsyncEventSource : public QObject
{
    Q_OBJECT
    //! Connecting, open or closed (readyState()).
    Q_PROPERTY(
        Reqivo::AsyncEventSource::ReadyState readyState READ readyState NOTIFY readyStateChanged)
    //! The stream's URL (url()).
    Q_PROPERTY(QUrl url READ url CONSTANT)
    //! The last event ID (lastEventId()).
    Q_PROPERTY(QString lastEventId READ lastEventId)
public:
    //! The values of the JavaScript EventSource's readyState.
    enum class ReadyState { Connecting = 0, Open = 1, Closed = 2 };
    Q_ENUM(ReadyState)
    //! Why the stream ended (reason()).
    enum class EndReason { None, Closed, Until, Failed };
    Q_ENUM(EndReason)

    //! A stream opened through a session of its own (default settings).
    explicit AsyncEventSource(
        const QUrl &url, const EventSourceOptions &options = {}, QObject *parent = nullptr);
    //! A stream opened as \a session would send the request (relative to its base URL, with its
    //! headers, cookies, auth, hooks, TLS and proxy). The session must outlive the stream's use;
    //! if it is destroyed first, the stream fails.
    static AsyncEventSource *fromSession(AsyncSession &session, const QUrl &url,
        const EventSourceOptions &options = {}, QObject *parent = nullptr);
    //! Ends the stream (its request is cancelled); waiting coroutines throw.
    ~AsyncEventSource() override;

    //! The stream's URL.
    QUrl url() const;
    //! The options the stream was made with.
    EventSourceOptions options() const;
    //! Connecting, open or closed; readyStateChanged() tells each change.
    ReadyState readyState() const;
    //! The last event ID (sent as Last-Event-ID when reconnecting).
    QString lastEventId() const;
    //! The current reconnection time (the option, or the server's last `retry:`).
    std::chrono::milliseconds reconnectionTime() const;
    //! The HTTP status of the latest response (0 before one came).
    int status() const;
    //! The error that ended the stream or the latest failure; null otherwise.
    Error lastError() const;
    //! Why the stream ended; None while it runs.
    EndReason endReason() const;
    //! Connection attempts after the first (0 until a reconnect).
    int attempt() const;
    //! Events waiting for next().
    qsizetype pendingEventCount() const;

    //! Starts the stream (a no-op while it runs); returns at once. Events then arrive through
    //! eventReceived() and next().
    void open();
    //! The next event; opens the stream when it was not opened yet. std::nullopt once the
    //! stream ended cleanly (closed by the server with no reconnect, close(), until or the
    //! queue drained after that); throws the error that ended it otherwise.
    [[nodiscard]] QCoro::Task<std::optional<ServerSentEvent>> next();
    //! The same, throwing ReadTimeout when no event came within \a timeout (the stream goes
    //! on; Timeout::noLimit waits for ever, zero only takes an event already received).
    [[nodiscard]] QCoro::Task<std::optional<ServerSentEvent>> next(
        std::chrono::milliseconds timeout);
    //! Every event until the stream ends (as next()).
    [[nodiscard]] QCoro::AsyncGenerator<ServerSentEvent> events();

public Q_SLOTS:
    //! Ends the stream at once: a request in progress is cancelled, no reconnect follows.
    //! Events already queued are still returned by next().
    void close();

Q_SIGNALS:
    //! readyState() changed to \a state.
    void readyStateChanged(Reqivo::AsyncEventSource::ReadyState state);
    //! A response with status 200 and text/event-stream arrived (also after each reconnect).
    void opened();
    //! An event was dispatched (see EventSourceOptions::queueSize for how this and next()
    //! share events).
    void eventReceived(const Reqivo::ServerSentEvent &event);
    //! Attempt \a attempt (1-based) starts after \a delayMs milliseconds.
    void reconnecting(int attempt, int delayMs);
    //! A failure; \a fatal is true when no reconnect follows.
    void errorOccurred(const Reqivo::Error &error, bool fatal);
    //! The stream ended (endReason() says how); emitted once per open().
    void closed();

private:
    std::shared_ptr<AsyncEventSourcePrivate> d;
    friend class AsyncEventSourcePrivate;
};

} // namespace Reqivo

