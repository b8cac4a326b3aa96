// Whether the peer's kernel has acknowledged everything sent on a socket, a FIN included
// (SIOCOUTQ counts unacknowledged bytes and the FIN). From then on the peer's kernel holds the
// bytes or the close, and a recv(MSG_PEEK) there sees them though nobody reads that socket: how
// tests make "the server closed while the client sat idle" happen without timing.
#pragma once

#include <chrono>
#include <thread>

#include <linux/sockios.h>
#include <sys/ioctl.h>

namespace ReqivoTest {

//! True once nothing sent on \a fd awaits the peer's acknowledgement.
inline bool peerAcknowledgedAll(int fd)
{
    int unacknowledged = 0;
    return ::ioctl(fd, SIOCOUTQ, &unacknowledged) == 0 && unacknowledged == 0;
}

//! Blocks this thread (no event loop runs: the peer's kernel acknowledges by itself) until
//! peerAcknowledgedAll(\a fd), polling every millisecond; false after \a timeout.
inline bool waitUntilPeerAcknowledged(int fd, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!peerAcknowledgedAll(fd)) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

} // namespace ReqivoTest
