// AsyncConnectionPoolPrivate: the I/O side of the pool. PoolState decides; this class carries
// the decisions out (opens, hands out and closes connections, wakes waiting callers).
//
// Ownership: the pool owns idle connections and those it is connecting for a caller; a
// checked-out connection is owned jointly with its lease, and after the pool is gone by the
// lease alone. Waiting callers are PoolWaiter records in their coroutine frames, registered
// here by waiter id. They are always resumed from the event loop, never from inside a pool
// call, so serving a waiter cannot re-enter the pool while it is updating itself.
//
// Threads: the pool and its connections live in one thread. A lease may end in another (the
// last copy of a streamed Response dropped there); it then reaches the pool through its
// LeaseAnchor, under the anchor's mutex: while the pool exists, the hand-back is posted to the
// connection (a Transport::ConnectionCallEvent) and runs in the pool's thread; the pool's
// destructor runs the hand-backs still queued, then, still under the mutex, clears the anchor
// and makes its checked-out connections inert (AsyncConnectionPrivate::makeInert()), so a lease
// that finds the anchor empty may delete its connection wherever it is.
#pragma once

#include "abortsignal_p.h"
#include "asyncconnection_p.h"
#include "poolstate_p.h"
#include "sharedconnectionstore.h"

#include <Reqivo/asyncconnectionpool.h>

#include <QBasicTimer>
#include <QElapsedTimer>
#include <QMutex>
#include <QObject>

#include <coroutine>
#include <memory>
#include <optional>
#include <unordered_map>

namespace Reqivo {

class AsyncConnectionPoolPrivate;

namespace Transport {
//! What a higher layer keeps per pool: the HTTP/2 connections (src/client/http2connection_p.h),
//! each holding a lease for as long as it lives. Created on first use; the pool's clear()
//! closes its idle ones, and the pool destroys it first thing when it goes.
class PoolExtension
{
public:
    virtual ~PoolExtension() = default;
    //! AsyncConnectionPool::clear(): close the connections that carry no request.
    virtual void closeIdle() = 0;
    //! AsyncConnectionPool::statistics(): adds what this layer knows of the origin \a key.
    virtual void addStatistics(const QString &key, PoolOriginStatistics &statistics) const
    {
        Q_UNUSED(key);
        Q_UNUSED(statistics);
    }
};

//! What a lease knows of its pool, safely from any thread (see the header comment).
struct LeaseAnchor
{
    QMutex mutex;
    //! The pool; null once it is destroyed. Written only in the pool's thread, under the mutex.
    AsyncConnectionPoolPrivate *pool = nullptr;
};
} // namespace Transport

class AsyncConnectionPoolPrivate : public QObject, public Transport::IdleObserver
{
public:
    using Millis = std::chrono::milliseconds;
    using PoolState = Transport::PoolState;

    struct PoolWaiter
    {
        enum class State { Waiting, Granted, TimedOut, PoolDestroyed, Aborted };
        std::coroutine_handle<> handle;
        State state = State::Waiting;
        PoolState::Outcome outcome = PoolState::Outcome::Create;
        quint64 slot = 0;
        AsyncConnection *connection = nullptr; //!< for a Reuse grant
        QBasicTimer timer;
        QString summaryAtTimeout; //!< the pool as the caller gave up on it, for the error
    };

    //! A waiting caller: registered as soon as it exists, so a grant that comes before the
    //! coroutine suspends is not lost. co_await untilServed() (the object itself stays put in
    //! the frame; only the small awaiter is handed to the coroutine machinery).
    class SlotWait
    {
    public:
        struct Awaiter
        {
            SlotWait &wait;
            bool await_ready() const noexcept { return wait.await_ready(); }
            void await_suspend(std::coroutine_handle<> handle) { wait.await_suspend(handle); }
            void await_resume() const noexcept { }
        };

        //! While it waits, \a abort (if any) takes the caller out of the queue (State::Aborted).
        SlotWait(AsyncConnectionPoolPrivate *d, quint64 id, Millis timeout,
            std::shared_ptr<Transport::AbortSignal> abort);
        SlotWait(const SlotWait &) = delete;
        SlotWait &operator=(const SlotWait &) = delete;
        ~SlotWait();
        bool await_ready() const noexcept { return m_waiter.state != PoolWaiter::State::Waiting; }
        void await_suspend(std::coroutine_handle<> handle);
        void await_resume() const noexcept { }
        Awaiter untilServed() noexcept { return Awaiter {*this}; }
        const PoolWaiter &waiter() const { return m_waiter; }

    private:
        void abortWait();

        AsyncConnectionPoolPrivate *m_d;
        quint64 m_id;
        Millis m_timeout;
        PoolWaiter m_waiter;
        Transport::AbortScope m_abortScope; // last: its handler uses the members above
    };

    AsyncConnectionPoolPrivate(AsyncConnectionPool *q, const PoolOptions &options);
    ~AsyncConnectionPoolPrivate() override;

    static PoolOptions sanitized(PoolOptions options);
    //! The pool's HTTP/2 side (Transport::PoolExtension), for src/client.
    static std::unique_ptr<Transport::PoolExtension> &http2Of(AsyncConnectionPool &pool)
    {
        return pool.d->m_http2;
    }
    Millis now() const { return Millis(m_clock.elapsed()); }

    //! AsyncConnectionPool::acquire() (\a fresh false) or connectFresh() (\a fresh true) that
    //! \a abort can end at once: while the caller waits for a slot (it leaves the queue) and
    //! while its new connection is being made (name lookup, TCP connect, proxy and TLS
    //! handshakes; the socket is aborted). The call then throws RequestError with detail
    //! "aborted" and the pool's counts are as before it. A null \a abort is acquire() itself.
    //! The entry point for src/client: the public API does not show Transport::AbortSignal.
    static QCoro::Task<ConnectionLease> acquireAbortable(AsyncConnectionPool &pool,
        const Endpoint &endpoint, Millis connectTimeout, Millis acquireTimeout,
        std::shared_ptr<Transport::AbortSignal> abort, bool fresh = false)
    {
        return pool.d->acquire(endpoint, connectTimeout, acquireTimeout, fresh, std::move(abort));
    }

    QCoro::Task<ConnectionLease> acquire(const Endpoint &requested, Millis connectTimeout,
        Millis acquireTimeout, bool fresh, std::shared_ptr<Transport::AbortSignal> abort);
    QCoro::Task<ConnectionLease> connect(const Endpoint &endpoint, quint64 slot,
        Millis connectTimeout, std::shared_ptr<Transport::AbortSignal> abort);
    //! Ends a lease (ConnectionLease::recycle() or discard()), from any thread: see the header
    //! comment.
    static void handBack(std::shared_ptr<Transport::LeaseAnchor> anchor,
        AsyncConnection *connection, quint64 slot, bool recycle, Millis keepAlive);
    void release(quint64 slot, AsyncConnection *connection, Millis keepAlive);
    void discard(quint64 slot, AsyncConnection *connection);
    void idleConnectionLost(quint64 slot) override;

    //! Carries out PoolState's actions: closes slots, hands slots to waiters.
    void apply(PoolState::Actions actions);
    void closeSlots(const std::vector<quint64> &slots);
    void armExpiry(Millis at);
    void teardown();

    void timerEvent(QTimerEvent *event) override;

    AsyncConnectionPool *const q;
    const std::shared_ptr<Transport::LeaseAnchor> m_anchor;
    PoolState m_state;
    //! Endpoint::key() builds several strings; a session asks for the same endpoint over and
    //! over, so the last one's key is kept.
    const QString &keyOf(const Endpoint &endpoint)
    {
        if (!m_keyedEndpoint || !(*m_keyedEndpoint == endpoint)) {
            m_lastKey = endpoint.key();
            m_keyedEndpoint = endpoint;
        }
        return m_lastKey;
    }
    std::optional<Endpoint> m_keyedEndpoint;
    QString m_lastKey;
    PoolState::AliveCheck m_alive;
    //! Where idle connections go instead of m_connections when sessions in several threads
    //! share them (Reqivo::ConnectionPool); null for a pool of its own.
    std::shared_ptr<Transport::SharedConnectionStore> m_store;

    //! A parked connection for \a endpoint pulled into this thread and found usable, or null.
    AsyncConnection *takeParked(const Endpoint &endpoint);
    //! Parks a released connection in m_store (it leaves this pool and this thread).
    void park(quint64 slot, AsyncConnection *connection, Millis keepAlive);
    std::unordered_map<quint64, AsyncConnection *> m_connections;
    //! The HTTP/2 connections of this pool (see Transport::PoolExtension); null until used.
    std::unique_ptr<Transport::PoolExtension> m_http2;
    std::unordered_map<quint64, PoolWaiter *> m_waiters;
    QBasicTimer m_expiryTimer;
    Millis m_expiryAt {0};
    QElapsedTimer m_clock;
};

} // namespace Reqivo
