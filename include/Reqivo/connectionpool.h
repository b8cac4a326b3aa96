// Reqivo::ConnectionPool: keep-alive connections shared by sessions in different threads.
//
//   Reqivo::ConnectionPool shared;                  // outlives every session that uses it
//   std::thread t([&] { Reqivo::Session s(&shared); s.get(url); });
//
// Each Session keeps its own pool for the connections it is using (a QObject, and so a socket,
// lives in one thread); when a request ends, the keep-alive connection is parked here, and the
// next Session that needs the same endpoint, in any thread, takes it. Parking and taking are
// guarded by a mutex and a parked connection belongs to nobody, so no connection is ever used
// by two threads at once. A plain HTTP connection moves between threads as its kernel socket
// (the taking thread wraps it in a socket of its own); a TLS or proxied connection is reused
// only by the thread that parked it (docs/threading.md). Idle connections expire after
// PoolOptions::maxIdleTime (or the server's Keep-Alive timeout); the taker asks the kernel
// whether the server closed a parked connection or sent on it, and then opens a new one.
#pragma once

#include <Reqivo/asyncconnectionpool.h>

#include <memory>

namespace Reqivo {

//! Keep-alive connections shared by Session objects in different threads.
//!
//!     Reqivo::ConnectionPool shared;                  // outlives every session that uses it
//!     std::thread t([&] { Reqivo::Session s(&shared); s.get(url); });
//!
//! Each Session keeps its own pool for the connections it is using; when a request ends, the
//! keep-alive connection is parked here, and the next Session that needs the same endpoint, in
//! any thread, takes it. Parking and taking hold a mutex, so no connection is ever used by two
//! threads at once. A plain HTTP connection moves between threads as its kernel socket; a TLS
//! or proxied connection is reused only by the thread that parked it (docs/threading.md).
class REQIVO_EXPORT ConnectionPool
{
public:
    //! An empty pool; \a options' idle expiry applies to parked connections.
    explicit ConnectionPool(const PoolOptions &options = {});
    //! Closes every parked connection. Best destroyed after the sessions that use it; sessions
    //! still attached then keep working (their pools share the parking place with each other
    //! until the last of them ends).
    ~ConnectionPool();
    ConnectionPool(const ConnectionPool &) = delete;
    ConnectionPool &operator=(const ConnectionPool &) = delete;

    //! The options the pool was made with.
    PoolOptions options() const;
    //! Idle connections waiting to be reused, in all threads.
    int idleCount() const;
    //! "shared: http://127.0.0.1:8080 parked=2", or "shared: empty".
    QString debugSummary() const;
    //! Closes every idle connection.
    void clear();

    //! Internal: makes \a pool (a session's, in the calling thread) park and take here.
    void attach(AsyncConnectionPool *pool) const;

private:
    PoolOptions m_options;
    //! Shared with every attached pool (AsyncConnectionPool::setSharedStore()).
    std::shared_ptr<Transport::SharedConnectionStore> m_store;
};

} // namespace Reqivo
