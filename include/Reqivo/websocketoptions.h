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
    using ms = std::chrono::milliseconds;
    //! The seed's defaults: 3 attempts, the first after 1 s, each delay twice the previous one.
    static constexpr int defaultMaxAttempts = 3;
    static constexpr ms defaultInitialDelay {1000};
    static constexpr double defaultMultiplier = 2.0;
    //! Keeps a long outage from growing the delay past what a user would wait for.
    static constexpr ms defaultMaxDelay {30000};
    //! Spreads clients that lost the same server apart, so they do not all come back at once.
    static constexpr double defaultJitter = 0.2;
    //! maxAttempts value that never gives up.
    static constexpr int unlimited = -1;

    bool enabled = false;
    //! Attempts per outage; a successful reconnect starts the count again. unlimited: no end.
    int maxAttempts = defaultMaxAttempts;
    ms initialDelay = defaultInitialDelay;
    double multiplier = defaultMultiplier;
    ms maxDelay = defaultMaxDelay;
    //! Each delay is drawn uniformly from [delay × (1 − jitter), delay]; 0 disables it.
    double jitter = defaultJitter;
    //! Also retry a first open() that failed for a reason a retry can fix (refused, timed out,
    //! dropped, 5xx). open() then finishes when an attempt succeeds or the attempts run out.
    bool retryInitialConnect = false;

    //! The delay before attempt \a attempt (1-based) without jitter:
    //! min(maxDelay, initialDelay × multiplier^(attempt − 1)).
    ms delayFor(int attempt) const noexcept;

    friend bool operator==(const ReconnectPolicy &, const ReconnectPolicy &) = default;
};

//! What a send does while the connection is not open (connecting or reconnecting).
enum class SendQueuePolicy {
    Keep, //!< queue it; when the queue is full the send fails and the queue is kept
    DropOldest, //!< queue it; when the queue is full the oldest queued message is dropped
    Fail, //!< queue nothing: the send fails at once
};

struct REQIVO_EXPORT WebSocketOptions
{
    using ms = std::chrono::milliseconds;
    //! The seed's max_frame_size. A peer that sends bigger messages must fragment them, or the
    //! limit must be raised (QWebSocket fragments at 512 KiB; Python websockets does not).
    static constexpr qint64 defaultMaxFrameSize = 10 * 1024 * 1024;
    //! A whole message, fragments included. Bounds the memory one message can take.
    static constexpr qint64 defaultMaxMessageSize = 64 * 1024 * 1024;
    //! How many messages wait for the connection to come back before the queue policy applies.
    static constexpr qsizetype defaultSendQueueSize = 1000;
    //! How many received messages wait for receive(); older ones are dropped beyond it.
    static constexpr qsizetype defaultReceiveQueueSize = 1000;
    //! A close handshake the peer never finishes is cut after this long.
    static constexpr ms defaultCloseTimeout {5000};

    //! Offered in Sec-WebSocket-Protocol, in order of preference. The server's choice must be
    //! one of them (a different answer fails the handshake); subprotocol() tells which.
    QStringList subprotocols;
    //! Extra handshake headers. They override the session's default headers of the same name.
    //! The handshake's own fields (Host, Upgrade, Connection, Sec-WebSocket-*) are refused.
    Headers headers;
    //! TCP connect, TLS and the HTTP upgrade together. Zero or negative: no limit.
    ms openTimeout = ms(5000);
    ms closeTimeout = defaultCloseTimeout;
    //! Incoming limits; exceeding either closes the connection with 1009 (message too big).
    qint64 maxFrameSize = defaultMaxFrameSize;
    qint64 maxMessageSize = defaultMaxMessageSize;

    ReconnectPolicy reconnect;

    //! Ping every heartbeatInterval while open (zero: no heartbeat). A pong that does not come
    //! within heartbeatTimeout (zero: the interval) means the connection is dead: it is
    //! dropped and, if the policy allows, reopened.
    ms heartbeatInterval = ms::zero();
    ms heartbeatTimeout = ms::zero();

    qsizetype sendQueueSize = defaultSendQueueSize;
    SendQueuePolicy sendQueuePolicy = SendQueuePolicy::Keep;
    //! Received messages are kept for receive() up to this many; 0 keeps none (signal-only use).
    qsizetype receiveQueueSize = defaultReceiveQueueSize;

    //! For wss://. Unset: the session's (fromSession()) or the defaults.
    std::optional<TlsOptions> tlsOptions;
    //! Unset: the session's proxy (fromSession()) or QNetworkProxy::DefaultProxy.
    std::optional<QNetworkProxy> proxy;
};

} // namespace Reqivo
