// How long each phase of a response's final attempt took, in the shape of curl's
// CURLINFO_*_TIME_T. See docs/observability.md.
#pragma once

#include <Reqivo/reqivoglobal.h>

#include <chrono>

namespace Reqivo {

//! Cumulative times from the start of the final attempt (after redirects and retries), as
//! curl reports them: each phase's end, measured from the same start, so that
//! dns ≤ connect ≤ tls ≤ ttfb ≤ total over the phases that happened. A phase that did not
//! happen is zero: the three connection phases on a reused connection, dns for an IP
//! address literal, tls for cleartext. Zero everywhere on a default-constructed value.
struct REQIVO_EXPORT Timings
{
    //! Waiting for a pool slot (or an HTTP/2 stream) ended: CURLINFO_QUEUE_TIME_T.
    std::chrono::microseconds queue{0};
    //! Name lookup done: CURLINFO_NAMELOOKUP_TIME_T.
    std::chrono::microseconds dns{0};
    //! TCP connected (to the server, or to the proxy): CURLINFO_CONNECT_TIME_T.
    std::chrono::microseconds connect{0};
    //! A proxy tunnel (CONNECT or SOCKS5) established; zero without one.
    std::chrono::microseconds proxyTunnel{0};
    //! TLS handshake done: CURLINFO_APPCONNECT_TIME_T.
    std::chrono::microseconds tls{0};
    //! The request (head and body) written: CURLINFO_PRETRANSFER_TIME_T is its start.
    std::chrono::microseconds requestSent{0};
    //! The response's first byte: CURLINFO_STARTTRANSFER_TIME_T (time to first byte).
    std::chrono::microseconds ttfb{0};
    //! The response's body read to its end (for a streamed body: when it was): TOTAL_TIME_T.
    std::chrono::microseconds total{0};
    //! The final attempt went over a reused connection.
    bool reusedConnection = false;

    //! Equal when every field is.
    friend bool operator==(const Timings &, const Timings &) = default;
};

} // namespace Reqivo
