// The WebSocket decisions that need no socket: which endings are errors, which are worth a
// reconnect and how long to wait before the next attempt.
// Pure functions, so the tables are tested on their own (tests/integration/websocket).
#pragma once

#include <Reqivo/reqivoglobal.h>
#include <Reqivo/websocketoptions.h>

#include <QString>

#include <chrono>

namespace Reqivo::WebSocketDetail {

//! How a connection attempt or a connection ended, as the reconnect logic sees it.
enum class Ending {
    CloseCode, //!< a close code (from a close frame, or 1006 for a dropped connection)
    HeartbeatLost, //!< no pong within the deadline
    ConnectFailed, //!< TCP connect, DNS or a drop during the handshake: a retry may work
    ConnectTimedOut, //!< openTimeout passed
    HandshakeRefused, //!< the server answered the upgrade with a non-101 status
    SubprotocolRefused, //!< the server chose a subprotocol that was not offered
    TlsFailed, //!< certificate or TLS handshake failure
    Invalid, //!< bad URL or headers: nothing a retry can change
};

//! True for the close codes a clean end has: 1000, 1001, 1005 (a Close without a code) and the
//! 3000–4999 application codes.
//! Every other ending is reported as an error (WebSocketError, errorOccurred()).
bool isCleanCloseCode(int code) noexcept;

//! True for the close codes a valid client close() may send: 1000, 1001, 3000–4999.
bool isValidUserCloseCode(int code) noexcept;

//! Whether a connection that ended this way is opened again (when reconnects are enabled).
//! \a httpStatus is the status of a refused handshake (0 when unknown).
bool shouldReconnect(Ending ending, int closeCode, int httpStatus = 0) noexcept;

//! \a delay shortened by up to \a jitter of itself: \a unit in [0, 1) picks the point.
std::chrono::milliseconds applyJitter(
    std::chrono::milliseconds delay, double jitter, double unit) noexcept;

//! "1006 abnormal closure" style name for messages.
QString closeCodeName(int code);

} // namespace Reqivo::WebSocketDetail
