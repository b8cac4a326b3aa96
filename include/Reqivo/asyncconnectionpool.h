// Reqivo::AsyncConnectionPool: keep-alive connections shared by the requests of a session.
//
// Connections are kept per Endpoint::key() (scheme, host, port, proxy, TLS settings) and handed
// out last-in first-out, so the warmest connection is reused and the coldest ones age out.
// The pool bounds connections per endpoint and in total; a caller that finds it full waits, in
// arrival order, for a slot, up to its acquire timeout (PoolTimeout). An idle connection is
// closed after maxIdleTime, earlier when the server announced a shorter Keep-Alive timeout, and
// at once if the server closes it or sends bytes nobody asked for.
//
// A checked-out connection is held by a ConnectionLease. Ending the lease gives the slot back:
// recycle() when the response ended cleanly and the connection may be reused, discard()
// otherwise; a lease that is simply destroyed discards. Leases may outlive the pool: they then
// own their connection and recycle() just closes it. A lease may be ended in another thread than
// the pool's (a streamed response dropped there): the connection is then handed back in the
// pool's thread, by an event posted to it, or freed where it is when the pool is gone.
#pragma once

#include <Reqivo/asyncconnection.h>
#include <Reqivo/endpoint.h>
#include <Reqivo/reqivoglobal.h>

#include <QObject>
#include <QPointer>
#include <QString>

#include <QCoroTask>
#include <QList>

#include <chrono>
#include <memory>

namespace Reqivo {

namespace Transport {
class SharedConnectionStore;
struct LeaseAnchor;
} // namespace Transport
class AsyncConnectionPool;
class AsyncConnectionPoolPrivate;

//! A connection checked out of an AsyncConnectionPool. Move-only.
class REQIVO_EXPORT ConnectionLease
{
public:
    //! An empty lease (false in a boolean context).
    ConnectionLease() noexcept = default;
    //! Takes over \a other's connection; \a other is left empty.
    ConnectionLease(ConnectionLease &&other) noexcept;
    //! Discards this lease's connection (if any), then takes over \a other's.
    ConnectionLease &operator=(ConnectionLease &&other) noexcept;
    ConnectionLease(const ConnectionLease &) = delete;
    ConnectionLease &operator=(const ConnectionLease &) = delete;
    //! discard() unless recycle() or discard() was called.
    ~ConnectionLease();

    //! The leased connection; null for an empty lease.
    AsyncConnection *connection() const noexcept { return m_connection; }
    //! connection()->...
    AsyncConnection *operator->() const noexcept { return m_connection; }
    //! True when the connection served an earlier lease (it was idle in the pool).
    bool isReused() const noexcept { return m_reused; }
    //! True when the lease holds a connection.
    explicit operator bool() const noexcept { return m_connection != nullptr; }

    //! Returns the connection to the pool as idle, if it is still usable; closes it otherwise.
    //! \a keepAlive is the server's Keep-Alive timeout when it sent one: the connection then
    //! expires a little before the server would close it (min(maxIdleTime, keepAlive - margin)).
    //! From another thread than the pool's, this happens later, in the pool's thread.
    void recycle(std::chrono::milliseconds keepAlive = std::chrono::milliseconds::zero());
    //! Closes the connection and frees its slot (in the pool's thread, like recycle()).
    void discard();

private:
    friend class AsyncConnectionPoolPrivate;
    ConnectionLease(std::shared_ptr<Transport::LeaseAnchor> anchor, AsyncConnection *connection,
        quint64 slot, bool reused) noexcept;
    void swap(ConnectionLease &other) noexcept;

    //! The pool, as far as any thread can safely know it (see AsyncConnectionPoolPrivate).
    std::shared_ptr<Transport::LeaseAnchor> m_anchor;
    AsyncConnection *m_connection = nullptr;
    quint64 m_slot = 0;
    bool m_reused = false;
};

//! The caps and idle expiry of an AsyncConnectionPool (or a ConnectionPool).
struct PoolOptions
{
    //! The seed's default: 10 connections per endpoint.
    int maxPerHost = 10;
    //! Connections to all endpoints together, idle ones included.
    int maxTotal = 100;
    //! Idle connections older than this are closed (the seed's 30 s). Zero or negative: never
    //! by age (a server's Keep-Alive timeout still applies).
    std::chrono::milliseconds maxIdleTime {30000};
    //! HTTP/2: a connection that has received nothing for this long is checked with a PING
    //! before it carries the next request; when no ACK comes within http2PingTimeout it is
    //! closed and the request goes to a new connection. Timeout::noLimit: never checked.
    std::chrono::milliseconds http2PingAfterIdle {10000};
    //! How long a request waits for that PING's ACK (also bounded by its pool-acquire timeout).
    std::chrono::milliseconds http2PingTimeout {5000};

    //! Equal when every option is.
    friend bool operator==(const PoolOptions &, const PoolOptions &) = default;
};

//! What an AsyncConnectionPool holds and has done for one origin (one Endpoint::key(): scheme,
//! host, port, proxy and TLS settings), from AsyncConnectionPool::statistics(). The first four
//! are counts at the time of the call; opened, reused and closed count from the pool's start.
struct PoolOriginStatistics
{
    //! The origin as debugSummary() shows it: "https://example.com:443", "... via http proxy
    //! p:3128", "... tls=ab12cd34" for non-default TLS options.
    QString origin;
    int idle = 0; //!< Idle connections, ready to be reused.
    //! Connections checked out or connecting; an HTTP/2 connection counts for as long as it
    //! lives, whatever the number of its streams.
    int active = 0;
    //! acquire() calls queued for a slot (requests waiting for a free HTTP/2 stream are not).
    int waiting = 0;
    int http2 = 0; //!< The live HTTP/2 connections among the active ones.
    //! Connections the pool started to open (a connect that failed counts, and as closed).
    qint64 opened = 0;
    //! Requests that were given an existing connection: an idle one, or a further stream on
    //! an HTTP/2 connection.
    qint64 reused = 0;
    qint64 closed = 0; //!< Connections that left the pool, closed for whatever reason.

    //! Equal when every field is.
    friend bool operator==(const PoolOriginStatistics &, const PoolOriginStatistics &) = default;
};

//! Keep-alive connections of one thread, by Endpoint (AsyncSession::pool()).
//!
//! acquire() hands out the most recently used idle connection that is still usable (LIFO), or
//! opens a new one within the caps of PoolOptions, or waits in arrival order for a slot. The
//! ConnectionLease it returns gives the connection back with recycle() or closes it with
//! discard(). Idle connections expire after PoolOptions::maxIdleTime or the server's
//! Keep-Alive timeout.
class REQIVO_EXPORT AsyncConnectionPool : public QObject
{
    Q_OBJECT
public:
    //! An empty pool with \a options.
    explicit AsyncConnectionPool(const PoolOptions &options = {}, QObject *parent = nullptr);
    //! Closes idle connections and aborts checked-out ones (their leases keep the objects and
    //! become independent of the pool). Waiting acquire() calls fail with a NetworkError.
    ~AsyncConnectionPool() override;

    //! A connection to \a endpoint: the most recently used idle one that is still usable, else a
    //! new one when both caps allow (connected within \a connectTimeout, which may throw what
    //! AsyncConnection::connectToHost() throws; a failed connect frees its slot), else waits in
    //! arrival order for a slot. PoolTimeout when none came within \a acquireTimeout.
    //! Timeouts read as timeout.h says: Timeout::noLimit waits for ever, zero not at all.
    [[nodiscard]] QCoro::Task<ConnectionLease> acquire(const Endpoint &endpoint,
        std::chrono::milliseconds connectTimeout, std::chrono::milliseconds acquireTimeout);
    //! Like acquire() but always opens a new connection (an idle one may be closed to make
    //! room). Used to retry once after a reused connection turned out to be stale.
    [[nodiscard]] QCoro::Task<ConnectionLease> connectFresh(const Endpoint &endpoint,
        std::chrono::milliseconds connectTimeout, std::chrono::milliseconds acquireTimeout);

    //! Closes every idle connection.
    void clear();

    //! The pool's caps and idle expiry.
    PoolOptions options() const;
    //! Takes effect for later decisions; idle connections over a lowered cap are closed.
    void setOptions(const PoolOptions &options);

    //! Idle connections to \a endpoint, ready to be handed out.
    int idleCount(const Endpoint &endpoint) const;
    //! Checked out or connecting.
    int activeCount(const Endpoint &endpoint) const;
    //! Connections to all endpoints: idle, checked out or connecting.
    int totalCount() const;
    //! acquire() calls waiting for a slot.
    int waitingCount() const;
    //! Per origin, sorted by PoolOriginStatistics::origin: every origin the pool has opened a
    //! connection to (or queued a caller for) since it was made.
    QList<PoolOriginStatistics> statistics() const;
    //! One line, e.g. "http://127.0.0.1:8080 idle=2 active=1 | total=3/100 waiting=0".
    //! Endpoints are sorted; an empty pool reads "no connections | total=0/100 waiting=0".
    QString debugSummary() const;

    //! Internal (used by Reqivo::ConnectionPool): idle connections are parked in \a store,
    //! where pools in other threads can take them, instead of staying in this pool. The pool
    //! shares ownership of the store, so it stays valid if the ConnectionPool goes first.
    void setSharedStore(std::shared_ptr<Transport::SharedConnectionStore> store);

private:
    friend class ConnectionLease;
    friend class AsyncConnectionPoolPrivate;
    std::unique_ptr<AsyncConnectionPoolPrivate> const d;
};

} // namespace Reqivo
