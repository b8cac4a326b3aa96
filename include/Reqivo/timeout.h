// Reqivo::Timeout: how long each phase of a request may take.
//
// connect, read and write bound a single wait (no progress for that long fails); total is a
// deadline for the whole request including redirects, measured from when it started;
// poolAcquire bounds the wait for a free connection when the pool is full; streamIdle bounds how
// long a streamed response body may sit unread (its connection holds a pool slot meanwhile). A
// zero or negative value means "no limit" for that phase.
#pragma once

#include <Reqivo/reqivoglobal.h>

#include <chrono>

namespace Reqivo {

struct Timeout
{
    using ms = std::chrono::milliseconds;
    //! The seed's default: 5 seconds for every phase.
    static constexpr ms defaultValue{5000};

    ms connect = defaultValue;
    ms read = defaultValue;
    ms write = defaultValue;
    ms total = ms::zero(); //!< no overall deadline unless asked for
    ms poolAcquire = defaultValue;
    //! A streamed body not read for this long has its connection closed (the next read throws
    //! ReadTimeout), so that a forgotten Response cannot hold a pool slot for ever.
    ms streamIdle = std::chrono::seconds(60);

    //! One number for every phase, like the seed's `timeout=5` (total included); streamIdle
    //! keeps its default unless \a value is "no limit".
    static constexpr Timeout all(ms value) noexcept
    {
        Timeout t{value, value, value, value, value};
        if (value <= ms::zero())
            t.streamIdle = value;
        return t;
    }
    static constexpr Timeout none() noexcept { return all(ms::zero()); }

    friend bool operator==(const Timeout &, const Timeout &) = default;
};

} // namespace Reqivo
