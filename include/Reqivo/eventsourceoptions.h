// Reqivo::ServerSentEvent and Reqivo::EventSourceOptions: what a Server-Sent Events stream
// delivers and how it is opened and reopened (see asynceventsource.h). A header of their own so
// that the sessions can declare eventSource() without the whole client class.
#pragma once

#include <Reqivo/requestoptions.h>
#include <Reqivo/timeout.h>

#include <QByteArray>
#include <QMetaType>
#include <QString>

#include <chrono>
#include <functional>
#include <optional>

namespace Reqivo {

//! One dispatched event.
struct REQIVO_EXPORT ServerSentEvent
{
    //! "message" unless the server set another with an `event:` field.
    QString type;
    //! The `data:` lines of the event joined with "\n".
    QString data;
    //! The last event ID in effect when the event was dispatched (empty when none).
    QString lastEventId;

    //! Equal when type, data and last event ID are.
    friend bool operator==(const ServerSentEvent &, const ServerSentEvent &) = default;
};

//! How an AsyncEventSource (or the blocking EventSource) opens its stream and reconnects.
struct REQIVO_EXPORT EventSourceOptions
{
    using ms = std::chrono::milliseconds; //!< The unit of the delays and the idle timeout.
    //! The spec's suggestion for the initial reconnection time.
    static constexpr ms defaultReconnectionTime {3000};
    //! Consecutive failures wait longer and longer, never longer than this.
    static constexpr ms defaultMaxReconnectDelay {60000};
    //! One event's data (and the line being read).
    static constexpr qint64 defaultMaxEventBytes = 16 * 1024 * 1024;
    //! Events waiting for next() before reading pauses.
    static constexpr qsizetype defaultQueueSize = 1000;
    //! maxReconnectAttempts value that never gives up.
    static constexpr int unlimited = -1;

    //! The request: GET unless set; body and headers in \a request.
    QByteArray method = "GET";
    //! Headers, body, query, auth, limits, decompression for the request. Accept:
    //! text/event-stream and Cache-Control: no-store are added unless set here; the timeouts
    //! are the session's except that a read never times out unless idleTimeout is set.
    RequestOptions request;
    //! Unset: reconnect for GET, not for any other method.
    std::optional<bool> reconnect;
    //! The initial reconnection time; a `retry:` field from the server replaces it.
    ms reconnectionTime = defaultReconnectionTime;
    //! After the first failure in a row, the delay is reconnectionTime × multiplier^(n−1), at
    //! most maxReconnectDelay, shortened by up to jitter of itself.
    double backoffMultiplier = 2.0;
    ms maxReconnectDelay = defaultMaxReconnectDelay; //!< See backoffMultiplier.
    double jitter = 0.2; //!< See backoffMultiplier; 0: every client waits the same.
    //! Consecutive failed attempts before giving up; unlimited: never.
    int maxReconnectAttempts = unlimited;
    //! No byte at all (comments count) for this long means the stream is lost; negative (the
    //! default, Timeout::noLimit): no limit.
    ms idleTimeout = Timeout::noLimit;
    //! Sent as Last-Event-ID on the first request too (empty: none).
    QByteArray lastEventId;
    //! When it returns true for a message, the stream ends cleanly (that message is not
    //! delivered) and the rest of the response is read so its connection can be reused.
    std::function<bool(const ServerSentEvent &)> until;
    //! Events kept for next(): when reached, reading pauses until next() takes one. Signal-only
    //! code keeps none (see AsyncEventSource).
    qsizetype queueSize = defaultQueueSize;
    //! The most bytes one event's data (and the line being read) may take; more is a
    //! ProtocolError that ends the stream.
    qint64 maxEventBytes = defaultMaxEventBytes;
};

} // namespace Reqivo

Q_DECLARE_METATYPE(Reqivo::ServerSentEvent)
