// Reqivo::EventSource: the blocking twin of AsyncEventSource. Same options, same errors; each
// call runs the async stream in a nested event loop (see docs/threading.md).
//
//   Reqivo::EventSource events(QUrl(u"http://127.0.0.1:8080/feed"_s));
//   while (const auto e = events.next(std::chrono::seconds(30)))
//       std::printf("%s\n", qPrintable(e->data));
//
// The stream only makes progress while a call runs (or while the thread's own event loop
// runs): events that arrive in between wait in the kernel and in the queue.
#pragma once

#include <Reqivo/asynceventsource.h>

#include <chrono>
#include <memory>
#include <optional>

namespace Reqivo {

class Session;

//! The blocking twin of AsyncEventSource: the same options and errors, each call running the
//! async stream in a nested event loop (docs/threading.md).
//!
//!     Reqivo::EventSource events(QUrl(u"http://127.0.0.1:8080/feed"_s));
//!     while (const auto e = events.next(std::chrono::seconds(30)))
//!         std::printf("%s\n", qPrintable(e->data));
//!
//! The stream only makes progress while a call runs (or while the thread's own event loop
//! runs): events that arrive in between wait in the kernel and in the queue.
class REQIVO_EXPORT EventSource
{
public:
    using ReadyState = AsyncEventSource::ReadyState; //!< As AsyncEventSource's.

    //! A stream for \a url through a session of its own, not opened until next().
    explicit EventSource(const QUrl &url, const EventSourceOptions &options = {});
    //! Opens \a url as \a session would (see AsyncEventSource::fromSession()).
    EventSource(Session &session, const QUrl &url, const EventSourceOptions &options = {});
    //! Ends the stream without waiting for anything (no event loop runs).
    ~EventSource();
    EventSource(const EventSource &) = delete;
    EventSource &operator=(const EventSource &) = delete;

    //! The async stream underneath: state, options and signals live there.
    AsyncEventSource &async() const;

    //! The next event (the first call opens the stream); std::nullopt once it ended cleanly.
    //! Throws the error that ended it, or ReadTimeout when no event came within \a timeout
    //! (the stream goes on; Timeout::noLimit waits for ever, zero only takes an event already
    //! received).
    std::optional<ServerSentEvent> next(
        std::chrono::milliseconds timeout = Timeout::noLimit);
    //! Ends the stream; events already received are still returned by next().
    void close();

    //! AsyncEventSource::readyState().
    ReadyState readyState() const { return async().readyState(); }
    //! AsyncEventSource::lastEventId().
    QString lastEventId() const { return async().lastEventId(); }
    //! AsyncEventSource::status().
    int status() const { return async().status(); }
    //! AsyncEventSource::lastError().
    Error lastError() const { return async().lastError(); }

private:
    std::unique_ptr<AsyncEventSource> m_async;
};

} // namespace Reqivo
