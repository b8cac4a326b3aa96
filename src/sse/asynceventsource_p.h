// AsyncEventSourcePrivate: the state of one AsyncEventSource, shared with its coroutines.
//
// As with AsyncWebSocketPrivate, the public object and every running coroutine (the stream loop,
// next()) hold the state through a shared_ptr, so destroying the AsyncEventSource while they
// are suspended leaves it alive, marked destroyed. One loop() per open() drives the stream:
// request, read, parse, deliver, decide on a reconnect, wait, again. close() and the destructor
// end it by bumping run, cancelling the request and closing the body being read; the loop sees
// run changed after its next resume and returns without touching anything else.
#pragma once

#include <Reqivo/asynceventsource.h>
#include <Reqivo/asyncsession.h>
#include <Reqivo/response.h>

#include "protocol/eventstream.h"
#include "transport/waitqueue_p.h"

#include <QObject>
#include <QPointer>

#include <deque>
#include <memory>
#include <optional>

namespace Reqivo {

class AsyncEventSourcePrivate : public std::enable_shared_from_this<AsyncEventSourcePrivate>
{
public:
    using ReadyState = AsyncEventSource::ReadyState;
    using EndReason = AsyncEventSource::EndReason;
    using ms = std::chrono::milliseconds;

    explicit AsyncEventSourcePrivate(AsyncEventSource *q);
    ~AsyncEventSourcePrivate();

    static QCoro::Task<void> loop(std::shared_ptr<AsyncEventSourcePrivate> d, quint64 myRun);
    //! A negative \a timeout waits for ever.
    static QCoro::Task<std::optional<ServerSentEvent>> next(
        std::shared_ptr<AsyncEventSourcePrivate> d, std::chrono::milliseconds timeout);

    void open();
    void close();
    void teardown();
    void setState(ReadyState state);
    bool reconnects() const;
    bool queueFull() const;
    //! Queues (unless signal-only) and emits one event.
    void deliver(const ServerSentEvent &event);
    //! The stream is over: state Closed, the reason and error kept, closed() emitted.
    void finish(EndReason reason, const Error &error);
    //! Stops the request or the body read in progress (the loop then finds run changed).
    void cancelTransfer();
    ms backoff(int failuresInRow) const;
    Error makeError(Error::Kind kind, const QString &message, int code = 0) const;

    AsyncEventSource *q;
    QUrl url;
    EventSourceOptions options;
    std::unique_ptr<AsyncSession> ownSession;
    QPointer<AsyncSession> session;

    ReadyState state = ReadyState::Closed;
    bool running = false; //!< a loop() is active
    bool everOpened = false;
    bool destroyed = false;
    quint64 run = 0;
    EndReason reason = EndReason::None;
    Error lastError;
    QByteArray lastEventId;
    ms reconnectionTime;
    int status = 0;
    int attempt = 0;

    std::deque<ServerSentEvent> queue;
    bool nextUsed = false; //!< next() was called since open(): events are queued for it

    std::unique_ptr<QObject> requestAnchor; //!< the request's cancelWith() owner
    std::optional<Response> streaming; //!< the body being read

    Transport::WaitQueue eventWaiters; // events and the end
    Transport::WaitQueue spaceWaiters; // room in the queue
    Transport::WaitQueue delayWaiters; // the reconnect delay, cut short by close()
    QObject context;
};

} // namespace Reqivo
