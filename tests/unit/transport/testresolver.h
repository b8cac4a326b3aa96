// Host names for the transport tests, resolved inside the test process and never by DNS.
//
// Qt looks names up with getaddrinfo() (QHostInfo, on a thread of its own). A test binary that
// includes this header (in ONE of its source files) defines getaddrinfo() itself; the
// executable's definition comes first in the dynamic linker's search order, so Qt's lookups
// land here. Names under "reqivo.test" (a reserved top-level domain) are answered here:
//
//   *.slow.reqivo.test   the lookup blocks until SlowLookups::release() (or the gate's end):
//                        a name resolution that hangs, deterministically, with no network;
//   *.unknown.reqivo.test  no such name (EAI_NONAME), at once: an unknown host;
//   *.reqivo.test        any other: 127.0.0.1 (for certificates with wildcard names);
//
// and every other name goes to the C library as usual. Only loopback addresses come out.
#pragma once

#include <QtGlobal>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string_view>

#include <dlfcn.h>
#include <netdb.h>

namespace ReqivoTest {

//! The gate slow lookups wait at. One per test: construct it before starting the lookup,
//! ask started() whether Qt's lookup is under way, release() (or let it go out of scope) so
//! the blocked lookup thread ends (it then reports "host not found").
class SlowLookups
{
public:
    SlowLookups()
    {
        std::lock_guard lock(mutex());
        released() = false;
        startedCount() = 0;
    }
    ~SlowLookups() { release(); }
    SlowLookups(const SlowLookups &) = delete;
    SlowLookups &operator=(const SlowLookups &) = delete;

    //! Lookups of a slow name that have reached getaddrinfo() so far.
    int started() const
    {
        std::lock_guard lock(mutex());
        return startedCount();
    }
    void release()
    {
        {
            std::lock_guard lock(mutex());
            released() = true;
        }
        condition().notify_all();
    }

    // Called by getaddrinfo() below.
    static void wait()
    {
        std::unique_lock lock(mutex());
        ++startedCount();
        condition().wait(lock, [] { return released(); });
    }

private:
    static std::mutex &mutex()
    {
        static std::mutex m;
        return m;
    }
    static std::condition_variable &condition()
    {
        static std::condition_variable c;
        return c;
    }
    static bool &released()
    {
        static bool r = true; // no gate: nothing waits
        return r;
    }
    static int &startedCount()
    {
        static int n = 0;
        return n;
    }
};

inline bool endsWith(std::string_view name, std::string_view suffix)
{
    return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix
        && name[name.size() - suffix.size() - 1] == '.';
}

} // namespace ReqivoTest

extern "C" __attribute__((visibility("default"))) int getaddrinfo(
    const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **result)
{
    using Function
        = int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    static const auto next = reinterpret_cast<Function>(dlsym(RTLD_NEXT, "getaddrinfo"));
    if (!next)
        return EAI_SYSTEM;
    if (node) {
        std::string_view name(node);
        if (!name.empty() && name.back() == '.')
            name.remove_suffix(1);
        if (ReqivoTest::endsWith(name, "slow.reqivo.test")) {
            ReqivoTest::SlowLookups::wait();
            return EAI_NONAME;
        }
        if (ReqivoTest::endsWith(name, "unknown.reqivo.test"))
            return EAI_NONAME;
        if (ReqivoTest::endsWith(name, "reqivo.test")) {
            addrinfo loopback {};
            loopback.ai_family = AF_INET;
            loopback.ai_socktype = hints ? hints->ai_socktype : 0;
            loopback.ai_protocol = hints ? hints->ai_protocol : 0;
            loopback.ai_flags = AI_NUMERICHOST;
            return next("127.0.0.1", service, &loopback, result);
        }
    }
    return next(node, service, hints, result);
}
