// AsyncConnectionPoolPrivate: the I/O side of the pool. PoolState decides; this class carries
// the decisions out (opens, hands out and closes connections, wakes waiting callers).
//
// Ownership: the pool owns idle connections and those it is connecting for a caller; a
// checked-out connection is owned jointly with its lease, and after the pool is gone by the
// lease alone. Waiting callers are PoolWaiter records in their coroutine frames, registered
// here by waiter id. They are always resumed from the event loop, never from inside a pool
// call, so serving a waiter cannot re-enter the pool while it is updating itself.
#pragma once

#include "asyncconnection_p.h"
#include "poolstate_p.h"
#include "sharedconnectionstore.h"

#include <Reqivo/asyncconnectionpool.h>

#include <QBasicTimer>
#include <QElapsedTimer>
#include <QObject>

#include <coroutine>
#include <optional>
#include <unordered_map>

namespace Reqivo {

class AsyncConnectionPoolPrivate : public QObject, public Transport::IdleObserver
{
public:
    using Millis = std::chrono::milliseconds;
    using PoolState = Transport::PoolState;

    struct PoolWaiter
    {
        enum class State { Waiting, Granted, TimedOut, PoolDestroyed };
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

        SlotWait(AsyncConnectionPoolPrivate *d, quint64 id, Millis timeout);
        SlotWait(const SlotWait &) = delete;
        SlotWait &operator=(const SlotWait &) = delete;
        ~SlotWait();
        bool await_ready() const noexcept { return m_waiter.state != PoolWaiter::State::Waiting; }
        void await_suspend(std::coroutine_handle<> handle);
        void await_resume() const noexcept { }
        Awaiter untilServed() noexcept { return Awaiter {*this}; }
        const PoolWaiter &waiter() const { return m_waiter; }

    private:
        AsyncConnectionPoolPrivate *m_d;
        quint64 m_id;
        Millis m_timeout;
        PoolWaiter m_waiter;
    };

    AsyncConnectionPoolPrivate(AsyncConnectionPool *q, const PoolOptions &options);
    ~AsyncConnectionPoolPrivate() override;

    static PoolOptions sanitized(PoolOptions options);
    Millis now() const { return Millis(m_clock.elapsed()); }

    QCoro::Task<ConnectionLease> acquire(
        const Endpoint &requested, Millis connectTimeout, Millis acquireTimeout, bool fresh);
    QCoro::Task<ConnectionLease> connect(
        const Endpoint &endpoint, quint64 slot, Millis connectTimeout);
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
    Transport::SharedConnectionStore *m_store = nullptr;

    //! A parked connection for \a endpoint pulled into this thread and found usable, or null.
    AsyncConnection *takeParked(const Endpoint &endpoint);
    //! Parks a released connection in m_store (it leaves this pool and this thread).
    void park(quint64 slot, AsyncConnection *connection, Millis keepAlive);
    std::unordered_map<quint64, AsyncConnection *> m_connections;
    std::unordered_map<quint64, PoolWaiter *> m_waiters;
    QBasicTimer m_expiryTimer;
    Millis m_expiryAt {0};
    QElapsedTimer m_clock;
};

} // namespace Reqivo
