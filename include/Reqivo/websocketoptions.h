// Reqivo::WebSocketOptions: how a WebSocket connects, what it accepts, and what it does when the
// connection is lost.
//
// Every limit and delay is a named default with the reason beside it. The reconnect policy is
// off by default, as in the seed; when on, a lost connection is retried with exponential backoff
// and jitter, and messages sent in the meantime wait in a bounded queue.
//
//   Reqivo::WebSocketOptions options;
//   options.subprotocols = {u"chat.v2"_s};
//   options.reconnect.enabled = true;                    // 1 s, 2 s, 4 s (± jitter), 3 attempts
//   options.heartbeatInterval = std::chrono::seconds(15); // ping; no pong in 15 s → reconnect
#pragma once

#include <Reqivo/endpoint.h>
#include <Reqivo/headers.h>
#include <Reqivo/reqivoglobal.h>
#include <Reqivo/timeout.h>

#include <QNetworkProxy>
#include <QStringList>

#include <chrono>
#include <optional>

namespace Reqivo {

//! When and how often a lost connection is opened again.
//!
//! Reconnects follow an abnormal closure (1006: the connection dropped without a close frame),
//! a going-away close (1001), a service restart or try-again-later close (1012, 1013) and a
//! missed heartbeat. They never follow a close the user asked for, a normal close (1000) from the
//! peer, a protocol or policy error (1002, 1003, 1007–1011), an application close code
//! (3000–4999), or a handshake the server refused with a 4xx status.
struct REQIVO_EXPORT ReconnectPolicy
{
    using ms = std::chrono::milliseconds; //!< The unit of the delays.
    //! The seed's defaults: 3 attempts, the first after 1 s, each delay twice the previous one.
    static constexpr int defaultMaxAttempts = 3;
    static constexpr ms defaultInitialDelay {1000}; //!< The seed's first delay, 1 s.
    static constexpr double defaultMultiplier = 2.0; //!< The seed's: each delay doubles.
    //! Keeps a long outage from growing the delay past what a user would wait for.
    static constexpr ms defaultMaxDelay {30000};
    //! Spreads clients that lost the same server apart, so they do not all come back at once.
    static constexpr double defaultJitter = 0.2;
    //! maxAttempts value that never gives up.
    static constexpr int unlimited = -1;

    //! Reconnect at all (off by default, as in the seed).
    bool enabled = false;
    //! Attempts per outage; a successful reconnect starts the count again. unlimited: no end.
    int maxAttempts = defaultMaxAttempts;
    ms initialDelay = defaultInitialDelay; //!< The delay before the first attempt.
    double multiplier = defaultMultiplier; //!< Each delay is the previous one times this.
    //! No delay is longer; zero: no cap (yet never more than 2^31 - 1 ms).
    ms maxDelay = defaultMaxDelay;
    //! Each delay is drawn uniformly from [delay × (1 − jitter), delay]; 0 disables it.
    double jitter = defaultJitter;
    //! Also retry a first open() that failed for a reason a retry can fix (refused, timed out,
    //! dropped, 5xx). open() then finishes when an attempt succeeds or the attempts run out.
    bool retryInitialConnect = false;

    //! The delay before attempt \a attempt (1-based) without jitter:
    //! min(maxDelay, initialDelay × multiplier^(attempt − 1)).
    ms delayFor(int attempt) const noexcept;

    //! Equal when every field is.
    friend bool operator==(const ReconnectPolicy &, const ReconnectPolicy &) = default;
};

//! What a send does while the connection is not open (connecting or reconnecting).
enum class SendQueuePolicy {
    Keep, //!< queue it; when the queue is full the send fails and the queue is kept
    DropOldest, //!< queue it; when the queue is full the oldest queued message is dropped
    Fail, //!< queue nothing: the send fails at once
};

//! The settings of an AsyncWebSocket (and of the blocking WebSocket and the QML type):
//! handshake, timeouts, limits, reconnects, heartbeat and both message queues. docs/websocket.md
//! has the whole table with the defaults.
struct REQIVO_EXPORT WebSocketOptions
{
    using ms = std::chrono::milliseconds; //!< The unit of the timeouts and the heartbeat.
    //! The seed's max_frame_size. A peer that sends bigger messages must fragment them, or the
    //! limit must be raised (QWebSocket fragments at 512 KiB; Python websockets does not).
    static constexpr qint64 defaultMaxFrameSize = 10 * 1024 * 1024;
    //! A whole message, fragments included. Bounds the memory one message can take.
    static constexpr qint64 defaultMaxMessageSize = 64 * 1024 * 1024;
    //! How many messages wait for the connection to come back before the queue policy applies.
    static constexpr qsizetype defaultSendQueueSize = 1000;
    //! How many received messages wait for receive() before reading pauses (see below).
    static constexpr qsizetype defaultReceiveQueueSize = 1000;
    //! The bytes those messages may take: one message of the default maximum size.
    static constexpr qint64 defaultReceiveQueueBytes = 64 * 1024 * 1024;
    //! The bytes of the messages waiting for a reconnect.
    static constexpr qint64 defaultSendQueueBytes = 16 * 1024 * 1024;
    //! Unsent bytes on an open connection beyond which sendTextMessage()/sendBinaryMessage()
    //! refuse a message (the coroutine sends wait instead).
    static constexpr qint64 defaultSendBufferBytes = 16 * 1024 * 1024;
    //! A close handshake the peer never finishes is cut after this long.
    static constexpr ms defaultCloseTimeout {5000};

    //! Offered in Sec-WebSocket-Protocol, in order of preference. The server's choice must be
    //! one of them (a different answer fails the handshake); subprotocol() tells which.
    QStringList subprotocols;
    //! Extra handshake headers. They override the session's default headers of the same name.
    //! The handshake's own fields (Host, Upgrade, Connection, Sec-WebSocket-*) are refused.
    Headers headers;
    //! TCP connect, TLS and the HTTP upgrade together. Like every timeout (timeout.h):
    //! Timeout::noLimit waits for ever, zero fails at once.
    ms openTimeout = ms(5000);
    //! close() waits this long for the server's Close, then cuts the connection;
    //! Timeout::noLimit waits for ever, zero cuts it at once.
    ms closeTimeout = defaultCloseTimeout;
    //! Incoming limits; exceeding either closes the connection with 1009 (message too big).
    qint64 maxFrameSize = defaultMaxFrameSize;
    qint64 maxMessageSize = defaultMaxMessageSize; //!< See maxFrameSize.

    //! When and how often a lost connection is reopened (off by default).
    ReconnectPolicy reconnect;

    //! Ping every heartbeatInterval while open. A period, not a timeout: zero (or negative)
    //! means no heartbeat.
    ms heartbeatInterval = ms::zero();
    //! A heartbeat's pong that does not come within heartbeatTimeout means the connection is
    //! dead: it is dropped and, if the policy allows, reopened. Unset: heartbeatInterval.
    //! Timeout::noLimit: a missing pong never drops the connection (the pings still keep it
    //! busy, and one waits for its pong before the next is sent).
    std::optional<ms> heartbeatTimeout;

    //! The queue of messages sent while not open: at most sendQueueSize messages and
    //! sendQueueBytes bytes (a single message larger than that is refused); then the
    //! sendQueuePolicy applies.
    qsizetype sendQueueSize = defaultSendQueueSize;
    qint64 sendQueueBytes = defaultSendQueueBytes; //!< See sendQueueSize.
    SendQueuePolicy sendQueuePolicy = SendQueuePolicy::Keep; //!< See sendQueueSize.
    //! On an open connection: sendTextMessage()/sendBinaryMessage() refuse a message (false and
    //! errorOccurred()) while more than this many bytes are still unsent, so a sender that
    //! outruns the network learns it instead of growing memory; bytesWritten() tells when to
    //! go on. sendText()/sendBinary() wait instead. A message is never refused for its own
    //! size when nothing is waiting to be sent.
    qint64 sendBufferBytes = defaultSendBufferBytes;
    //! Received messages wait for receive() up to receiveQueueSize messages and
    //! receiveQueueBytes bytes; when either is reached, reading from the connection pauses
    //! (TCP then slows the server down) until receive() takes a message: nothing is dropped.
    //! 0 messages keeps none (signal-only use). Messages are not kept at all while a slot is
    //! connected to textMessageReceived()/binaryMessageReceived() and receive() has not been
    //! called since open(): code that uses only the signals never fills the queue.
    qsizetype receiveQueueSize = defaultReceiveQueueSize;
    qint64 receiveQueueBytes = defaultReceiveQueueBytes; //!< See receiveQueueSize.

    //! For wss://. Unset: the session's (fromSession()) or the defaults.
    std::optional<TlsOptions> tlsOptions;
    //! Unset: the session's proxy (fromSession()) or QNetworkProxy::DefaultProxy.
    std::optional<QNetworkProxy> proxy;
};

} // namespace Reqivo
