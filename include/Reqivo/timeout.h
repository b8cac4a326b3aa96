// Reqivo::Timeout: how long each phase of a request may take, and the one timeout convention of
// the whole library.
//
// The convention. Every timeout Reqivo takes (the fields below, AsyncConnection's connect, read
// and write, AsyncConnectionPool::acquire(), WebSocketOptions::openTimeout, closeTimeout and
// heartbeatTimeout, receive() and ping() of AsyncWebSocket and of the blocking WebSocket) is a
// std::chrono duration read the same way:
//   - a positive duration bounds the wait;
//   - Timeout::noLimit (any negative duration) means no limit: it waits for ever;
//   - zero means no wait: what can complete at once does, anything that would have to wait
//     fails at once with its timeout error (receive(0) returns a message already received or
//     throws ReadTimeout).
// This is how Qt's and QCoro's waits read their argument (QIODevice::waitForReadyRead(-1),
// QDeadlineTimer::Forever). It is not QNetworkRequest::setTransferTimeout()'s, where 0 turns the
// timeout off: write Timeout::noLimit for that. Durations that bound no wait keep their own
// meaning, said where they are declared (PoolOptions::maxIdleTime, ReconnectPolicy's delays,
// WebSocketOptions::heartbeatInterval).
//
// The phases. connect, read and write bound a single wait (no progress for that long fails,
// however long the transfer takes as a whole); poolAcquire bounds the wait for a free
// connection when the pool is full; streamIdle bounds how long a streamed response body may sit
// unread (its connection holds a pool slot meanwhile). total is a deadline for the whole
// request, redirects included, measured from when it started; it is not set unless asked for
// (withTotal(), or the field), so a long download that keeps making progress is never cut. A
// request that passes its total deadline fails with a TimeoutError (not one of its subclasses)
// whose message names the deadline, e.g. "the request exceeded its total deadline of 5000 ms
// (Timeout::total)", and whose detail() is "total".
#pragma once

#include <Reqivo/reqivoglobal.h>

#include <chrono>

namespace Reqivo {

//! How long each phase of a request may take, for a session (AsyncSession::setTimeout()) or one
//! request (RequestOptions::withTimeout()).
//!
//! Every timeout of the library reads the same way: a positive duration bounds the wait,
//! Timeout::noLimit (any negative duration) waits for ever, zero does not wait (what can complete
//! at once does, anything else fails at once). connect, read and write bound a single wait, so a
//! long transfer that keeps making progress is never cut; total, unset unless asked for
//! (withTotal()), is a deadline for the whole request, redirects included, and its expiry is a
//! TimeoutError whose detail() is "total".
//!
//!     session.setTimeout(Reqivo::Timeout::all(10s).withTotal(2min));
struct Timeout
{
    using ms = std::chrono::milliseconds; //!< The unit of every field.
    //! "No limit" for every timeout of the library (see the header comment). Any negative
    //! duration means the same; compare with isNoLimit().
    static constexpr ms noLimit {-1};
    //! The seed's default: 5 seconds for every phase.
    static constexpr ms defaultValue {5000};
    //! A streamed body's default: long enough for a reader that does work between reads.
    static constexpr ms defaultStreamIdle {60000};

    ms connect = defaultValue; //!< Name lookup, TCP connect, proxy and TLS handshakes.
    ms read = defaultValue; //!< The longest wait for the next bytes of the response.
    ms write = defaultValue; //!< The longest wait for the request's next bytes to be sent.
    ms total = noLimit; //!< no overall deadline unless asked for
    ms poolAcquire = defaultValue; //!< The wait for a free connection when the pool is full.
    //! A streamed body not read for this long has its connection closed (the next read throws
    //! ReadTimeout), so that a forgotten Response cannot hold a pool slot for ever.
    ms streamIdle = defaultStreamIdle;

    //! True when \a timeout means "no limit" (Timeout::noLimit or any negative duration).
    static constexpr bool isNoLimit(ms timeout) noexcept { return timeout < ms::zero(); }

    //! One number for connect, read, write and poolAcquire, like the seed's `timeout=5` read
    //! as requests and httpx read it: a bound on each wait, not on the whole request, so total
    //! stays unset (add withTotal() for a deadline). streamIdle keeps its default unless
    //! \a value is noLimit.
    static constexpr Timeout all(ms value) noexcept
    {
        Timeout t;
        t.connect = t.read = t.write = t.poolAcquire = value;
        if (isNoLimit(value))
            t.streamIdle = noLimit;
        return t;
    }
    //! No limit anywhere: every phase, the stream and the total are noLimit.
    static constexpr Timeout none() noexcept { return all(noLimit); }

    //! This Timeout with a total deadline of \a value for the whole request (redirects
    //! included): `Timeout::all(5s).withTotal(2min)`.
    constexpr Timeout withTotal(ms value) const noexcept
    {
        Timeout t = *this;
        t.total = value;
        return t;
    }

    //! Equal when every phase is.
    friend bool operator==(const Timeout &, const Timeout &) = default;
};

} // namespace Reqivo
