// AsyncConnectionPool: PoolState's decisions carried out on real connections.
#include "asyncconnectionpool_p.h"
#include "logcategories_p.h"

#include <Reqivo/errors.h>
#include <Reqivo/timeout.h>

#include <QAbstractSocket>
#include <QCoreApplication>
#include <QLoggingCategory>
#include <QMutexLocker>
#include <QPointer>
#include <QThread>
#include <QTimer>
#include <QTimerEvent>

#include <algorithm>
#include <climits>

namespace Reqivo {

namespace {


void resumeLater(std::coroutine_handle<> handle)
{
    QTimer::singleShot(0, [handle] { handle.resume(); });
}

int clampedMillis(std::chrono::milliseconds value)
{
    return int(std::clamp<std::chrono::milliseconds::rep>(value.count(), 0, INT_MAX));
}

} // namespace

// --- ConnectionLease ---------------------------------------------------------------------------

ConnectionLease::ConnectionLease(std::shared_ptr<Transport::LeaseAnchor> anchor,
    AsyncConnection *connection, quint64 slot, bool reused) noexcept
    : m_anchor(std::move(anchor))
    , m_connection(connection)
    , m_slot(slot)
    , m_reused(reused)
{
}

ConnectionLease::ConnectionLease(ConnectionLease &&other) noexcept
{
    swap(other);
}

ConnectionLease &ConnectionLease::operator=(ConnectionLease &&other) noexcept
{
    if (this != &other) {
        ConnectionLease old(std::move(*this));
        swap(other);
    }
    return *this;
}

ConnectionLease::~ConnectionLease()
{
    if (m_connection)
        discard();
}

void ConnectionLease::swap(ConnectionLease &other) noexcept
{
    m_anchor.swap(other.m_anchor);
    std::swap(m_connection, other.m_connection);
    std::swap(m_slot, other.m_slot);
    std::swap(m_reused, other.m_reused);
}

void ConnectionLease::recycle(std::chrono::milliseconds keepAlive)
{
    if (AsyncConnection *const connection = std::exchange(m_connection, nullptr)) {
        AsyncConnectionPoolPrivate::handBack(
            std::exchange(m_anchor, {}), connection, m_slot, true, keepAlive);
    }
}

void ConnectionLease::discard()
{
    if (AsyncConnection *const connection = std::exchange(m_connection, nullptr)) {
        AsyncConnectionPoolPrivate::handBack(std::exchange(m_anchor, {}), connection, m_slot, false,
            std::chrono::milliseconds::zero());
    }
}

// --- AsyncConnectionPoolPrivate ------------------------------------------------------------------

AsyncConnectionPoolPrivate::SlotWait::SlotWait(AsyncConnectionPoolPrivate *d, quint64 id,
    Millis timeout, std::shared_ptr<Transport::AbortSignal> abort)
    : m_d(d)
    , m_id(id)
    , m_timeout(timeout)
    , m_abortScope(std::move(abort), [this] { abortWait(); })
{
    d->m_waiters.emplace(id, &m_waiter);
}

void AsyncConnectionPoolPrivate::SlotWait::abortWait()
{
    // Only a caller still queued leaves the queue here (while it is, the pool exists); one
    // already served, timed out or told the pool is gone sees the abort when it resumes.
    if (m_waiter.state != PoolWaiter::State::Waiting)
        return;
    m_waiter.timer.stop();
    m_d->m_waiters.erase(m_id);
    m_d->m_state.cancel(m_id);
    m_waiter.state = PoolWaiter::State::Aborted;
    if (m_waiter.handle)
        resumeLater(m_waiter.handle);
}

AsyncConnectionPoolPrivate::SlotWait::~SlotWait()
{
    // Still registered only if the coroutine never waited (an exception on the way).
    if (m_waiter.state == PoolWaiter::State::Waiting) {
        m_d->m_waiters.erase(m_id);
        m_d->m_state.cancel(m_id);
    }
}

void AsyncConnectionPoolPrivate::SlotWait::await_suspend(std::coroutine_handle<> handle)
{
    m_waiter.handle = handle;
    if (!Timeout::isNoLimit(m_timeout)) // zero: no wait, it times out at the next loop turn
        m_waiter.timer.start(clampedMillis(m_timeout), m_d);
}

AsyncConnectionPoolPrivate::AsyncConnectionPoolPrivate(
    AsyncConnectionPool *q, const PoolOptions &options)
    : q(q)
    , m_anchor(std::make_shared<Transport::LeaseAnchor>())
    , m_state(sanitized(options))
{
    m_anchor->pool = this;
    // Every reuse asks the kernel (one non-blocking peek): a blocking caller runs no event
    // loop between requests, so a FIN that arrived a moment ago is known only to the kernel,
    // and a non-idempotent request must never be sent on such a connection.
    m_alive = [this](quint64 slot, Millis) {
        auto it = m_connections.find(slot);
        return it != m_connections.end() && it->second->d->usable(true);
    };
    m_clock.start();
}

AsyncConnectionPoolPrivate::~AsyncConnectionPoolPrivate() = default;

PoolOptions AsyncConnectionPoolPrivate::sanitized(PoolOptions options)
{
    // A cap below one would make every acquire() wait for ever.
    options.maxPerHost = std::max(1, options.maxPerHost);
    options.maxTotal = std::max(1, options.maxTotal);
    return options;
}

QCoro::Task<ConnectionLease> AsyncConnectionPoolPrivate::acquire(const Endpoint &requested,
    Millis connectTimeout, Millis acquireTimeout, bool fresh,
    std::shared_ptr<Transport::AbortSignal> abort)
{
    // `requested` is only used before this coroutine first suspends (QCoro tasks start at once,
    // so the caller's argument is still alive then); a path that waits copies it first. The
    // pool may be destroyed during a wait: `pool` tells, and nothing of it is touched after a
    // wait without checking.
    const QPointer<AsyncConnectionPool> pool(q);
    if (Transport::isAborted(abort)) {
        Transport::throwAborted(
            QStringLiteral("waiting for a connection to %1").arg(requested.description()),
            requested.toUrl());
    }
    std::vector<quint64> toClose;
    const PoolState::Checkout checkout
        = m_state.checkout(keyOf(requested), fresh, now(), m_alive, toClose);
    if (!toClose.empty()) {
        closeSlots(toClose);
        apply(m_state.schedule(now(), m_alive));
    }

    PoolState::Outcome outcome = checkout.outcome;
    quint64 slot = checkout.slot;
    if (outcome == PoolState::Outcome::Wait) {
        const Endpoint endpoint = requested;
        SlotWait wait(this, checkout.waiter, acquireTimeout, abort);
        qCDebug(lcPool) << "waiting for a connection:" << m_state.summary();
        co_await wait.untilServed();
        const PoolWaiter &waiter = wait.waiter();
        if (waiter.state == PoolWaiter::State::Aborted) {
            Transport::throwAborted(
                QStringLiteral("waiting for a connection to %1").arg(endpoint.description()),
                endpoint.toUrl());
        }
        if (waiter.state == PoolWaiter::State::TimedOut) {
            throw PoolTimeout(QStringLiteral("no connection to %1 became available within %2 ms")
                                  .arg(endpoint.description())
                                  .arg(acquireTimeout.count()),
                endpoint.toUrl(), waiter.summaryAtTimeout);
        }
        if (waiter.state == PoolWaiter::State::PoolDestroyed || !pool) {
            // If it was served before the pool died, the connection is ours to delete.
            delete waiter.connection;
            throw NetworkError(QStringLiteral("the connection pool was destroyed while waiting "
                                              "for a connection to %1")
                                   .arg(endpoint.description()),
                endpoint.toUrl());
        }
        outcome = waiter.outcome;
        slot = waiter.slot;
        if (Transport::isAborted(abort)) {
            // Served, then aborted before it could resume: the slot goes back.
            if (outcome == PoolState::Outcome::Reuse) {
                release(slot, waiter.connection, Millis::zero());
            } else {
                m_state.remove(slot);
                apply(m_state.schedule(now(), m_alive));
            }
            Transport::throwAborted(
                QStringLiteral("waiting for a connection to %1").arg(endpoint.description()),
                endpoint.toUrl());
        }
        if (outcome == PoolState::Outcome::Create) {
            if (AsyncConnection *parked = fresh ? nullptr : takeParked(endpoint)) {
                m_connections.emplace(slot, parked);
                parked->markUsed();
                co_return ConnectionLease(m_anchor, parked, slot, true);
            }
            co_return co_await connect(endpoint, slot, connectTimeout, std::move(abort));
        }
    } else if (outcome == PoolState::Outcome::Create) {
        if (AsyncConnection *parked = fresh ? nullptr : takeParked(requested)) {
            m_connections.emplace(slot, parked);
            parked->markUsed();
            co_return ConnectionLease(m_anchor, parked, slot, true);
        }
        co_return co_await connect(requested, slot, connectTimeout, std::move(abort));
    }

    AsyncConnection *const connection = m_connections.at(slot);
    connection->d->m_idleObserver = nullptr;
    connection->markUsed();
    qCDebug(lcPool) << "reusing idle connection" << connection->id() << "to"
                    << connection->d->m_endpoint.description();
    co_return ConnectionLease(m_anchor, connection, slot, true);
}

QCoro::Task<ConnectionLease> AsyncConnectionPoolPrivate::connect(const Endpoint &endpoint,
    quint64 slot, Millis connectTimeout, std::shared_ptr<Transport::AbortSignal> abort)
{
    // `endpoint` is used before the first suspension only (the connect copies it).
    const QPointer<AsyncConnectionPool> pool(q);
    auto *const connection = new AsyncConnection;
    m_connections.emplace(slot, connection);
    connection->markUsed();
    try {
        co_await AsyncConnectionPrivate::connectAbortable(
            connection->d.get(), endpoint, connectTimeout, std::move(abort));
    } catch (...) {
        if (pool) {
            m_connections.erase(slot);
            m_state.remove(slot);
            delete connection;
            apply(m_state.schedule(now(), m_alive));
        } else {
            delete connection;
        }
        throw;
    }
    if (!pool) {
        const Endpoint where = connection->endpoint();
        delete connection;
        throw NetworkError(
            QStringLiteral("the connection pool was destroyed while connecting to %1")
                .arg(where.description()),
            where.toUrl());
    }
    qCDebug(lcPool) << "new connection" << connection->id() << "to"
                    << connection->endpoint().description();
    co_return ConnectionLease(m_anchor, connection, slot, false);
}

void AsyncConnectionPoolPrivate::handBack(std::shared_ptr<Transport::LeaseAnchor> anchor,
    AsyncConnection *connection, quint64 slot, bool recycle, Millis keepAlive)
{
    if (connection->thread() == QThread::currentThread()) {
        // The pool's thread, the only one that changes anchor->pool: no lock needed.
        AsyncConnectionPoolPrivate *const pool = anchor ? anchor->pool : nullptr;
        if (!pool)
            delete connection; // the pool is gone: the lease owned it
        else if (recycle)
            pool->release(slot, connection, keepAlive);
        else
            pool->discard(slot, connection);
        return;
    }
    // Another thread: the connection's socket notifiers and timers, and the pool's state,
    // belong to the pool's thread, so the hand-back is posted there.
    if (anchor) {
        const QMutexLocker lock(&anchor->mutex);
        if (anchor->pool) {
            QCoreApplication::postEvent(connection->d.get(),
                new Transport::ConnectionCallEvent([anchor, connection, slot, recycle, keepAlive] {
                    handBack(anchor, connection, slot, recycle, keepAlive);
                }));
            return;
        }
    }
    // The pool is gone and left the connection inert (teardown()): nothing of its thread
    // refers to it any more.
    delete connection;
}

void AsyncConnectionPoolPrivate::release(
    quint64 slot, AsyncConnection *connection, Millis keepAlive)
{
    auto it = m_connections.find(slot);
    if (it == m_connections.end() || it->second != connection || m_state.isIdle(slot)) {
        delete connection; // not ours (cannot happen through a lease)
        return;
    }
    if (!connection->d->usable(false)) {
        qCDebug(lcPool) << "connection" << connection->id() << "released unusable: closing";
        discard(slot, connection);
        return;
    }
    qCDebug(lcPool) << "connection" << connection->id() << "released, idle";
    if (m_store) {
        park(slot, connection, keepAlive);
        return;
    }
    const Millis at = now();
    const Millis expiresAt = m_state.release(slot, at, keepAlive);
    connection->d->m_idleObserver = this;
    connection->d->m_idleSlot = slot;
    armExpiry(expiresAt);
    if (m_state.waitingCount() > 0)
        apply(m_state.schedule(at, m_alive));
}

AsyncConnection *AsyncConnectionPoolPrivate::takeParked(const Endpoint &endpoint)
{
    if (!m_store)
        return nullptr;
    const QString key = endpoint.key();
    while (const Transport::SharedConnectionStore::Taken taken = m_store->take(key)) {
        AsyncConnection *parked = taken.connection;
        if (!parked) {
            // A kernel socket, from any thread: a new QTcpSocket of this thread takes it on.
            parked = new AsyncConnection;
            if (!parked->d->adoptDescriptor(endpoint, taken.descriptor, taken.id, taken.useCount)) {
                delete parked;
                continue;
            }
        } else {
            // An object this thread parked (TLS or proxied), with no thread now: pull it in.
            parked->moveToThread(thread());
            // Setting the read buffer size re-enables the read notifier of a connected socket
            // (public API, no I/O), in case the move left it off.
            if (QAbstractSocket *socket = parked->socket()) {
                const qint64 size = socket->readBufferSize();
                socket->setReadBufferSize(size + 1);
                socket->setReadBufferSize(size);
            }
        }
        if (parked->d->usable(true)) {
            qCDebug(lcPool) << "connection" << parked->id() << "taken from the shared store";
            return parked;
        }
        delete parked; // closed or spoken to by the server while parked
    }
    return nullptr;
}

void AsyncConnectionPoolPrivate::park(quint64 slot, AsyncConnection *connection, Millis keepAlive)
{
    m_connections.erase(slot);
    m_state.remove(slot);
    connection->d->m_idleObserver = nullptr;
    Millis lifetime = m_state.options().maxIdleTime;
    if (lifetime <= Millis::zero())
        lifetime = Millis(std::chrono::hours(24));
    if (keepAlive > Millis::zero())
        lifetime = std::min(lifetime, keepAlive - PoolState::keepAliveMargin(keepAlive));
    const auto expiry = Transport::SharedConnectionStore::Clock::now() + lifetime;
    connection->d->stopTimers();
    const int descriptor = connection->d->duplicateDescriptor();
    if (descriptor >= 0) {
        // Plain TCP: only the kernel socket is parked, for any thread. The connection is
        // deleted first (its socket closes its own descriptor and unregisters its notifiers),
        // so this thread's event loop never sees the socket again once another may use it.
        const QString key = connection->endpoint().key();
        const quint64 id = connection->id();
        const int useCount = connection->useCount();
        delete connection;
        m_store->parkDescriptor(key, descriptor, id, useCount, expiry);
    } else {
        connection->setParent(nullptr);
        connection->moveToThread(nullptr);
        m_store->park(connection, expiry);
    }
    if (m_state.waitingCount() > 0)
        apply(m_state.schedule(now(), m_alive));
}

void AsyncConnectionPoolPrivate::discard(quint64 slot, AsyncConnection *connection)
{
    auto it = m_connections.find(slot);
    if (it != m_connections.end() && it->second == connection) {
        m_connections.erase(it);
        m_state.remove(slot);
    }
    connection->d->m_idleObserver = nullptr;
    delete connection;
    if (m_state.waitingCount() > 0)
        apply(m_state.schedule(now(), m_alive));
}

void AsyncConnectionPoolPrivate::idleConnectionLost(quint64 slot)
{
    if (!m_state.isIdle(slot))
        return;
    qCDebug(lcPool) << "idle connection lost (closed by peer or unsolicited bytes):" << slot;
    m_state.remove(slot);
    closeSlots({slot});
    if (m_state.waitingCount() > 0)
        apply(m_state.schedule(now(), m_alive));
}

void AsyncConnectionPoolPrivate::closeSlots(const std::vector<quint64> &slots)
{
    for (const quint64 slot : slots) {
        auto it = m_connections.find(slot);
        if (it == m_connections.end())
            continue;
        AsyncConnection *const connection = it->second;
        m_connections.erase(it);
        connection->d->m_idleObserver = nullptr;
        delete connection;
    }
}

void AsyncConnectionPoolPrivate::apply(PoolState::Actions actions)
{
    closeSlots(actions.toClose);
    for (const PoolState::Grant &grant : actions.grants) {
        auto it = m_waiters.find(grant.waiter);
        if (it == m_waiters.end()) {
            // Cannot happen: PoolState only serves registered waiters. Give the slot back.
            if (grant.outcome == PoolState::Outcome::Reuse)
                m_state.release(grant.slot, now());
            else
                m_state.remove(grant.slot);
            continue;
        }
        PoolWaiter *const waiter = it->second;
        m_waiters.erase(it);
        waiter->timer.stop();
        waiter->state = PoolWaiter::State::Granted;
        waiter->outcome = grant.outcome;
        waiter->slot = grant.slot;
        if (grant.outcome == PoolState::Outcome::Reuse) {
            waiter->connection = m_connections.at(grant.slot);
            waiter->connection->d->m_idleObserver = nullptr;
        }
        if (waiter->handle)
            resumeLater(waiter->handle);
    }
}

void AsyncConnectionPoolPrivate::armExpiry(Millis at)
{
    if (at == Millis::max())
        return;
    // One timer for the whole pool, aimed at the earliest expiry; most releases expire later
    // than it and leave it alone.
    if (m_expiryTimer.isActive() && m_expiryAt <= at)
        return;
    m_expiryAt = at;
    m_expiryTimer.start(clampedMillis(at - now()), this);
}

void AsyncConnectionPoolPrivate::timerEvent(QTimerEvent *event)
{
    const int id = event->timerId();
    if (id == m_expiryTimer.timerId()) {
        m_expiryTimer.stop();
        const Millis at = now();
        const std::vector<quint64> expired = m_state.expire(at);
        if (!expired.empty())
            qCDebug(lcPool) << "closing" << expired.size() << "expired idle connection(s)";
        closeSlots(expired);
        if (m_state.waitingCount() > 0)
            apply(m_state.schedule(at, m_alive));
        if (const auto next = m_state.nextExpiry())
            armExpiry(*next);
        return;
    }
    for (auto it = m_waiters.begin(); it != m_waiters.end(); ++it) {
        PoolWaiter *const waiter = it->second;
        if (waiter->timer.timerId() != id)
            continue;
        waiter->timer.stop();
        waiter->summaryAtTimeout = m_state.summary();
        m_state.cancel(it->first);
        m_waiters.erase(it);
        waiter->state = PoolWaiter::State::TimedOut;
        resumeLater(waiter->handle);
        return;
    }
    QObject::timerEvent(event);
}

void AsyncConnectionPoolPrivate::teardown()
{
    m_expiryTimer.stop();
    // The HTTP/2 connections end their streams and give their leases back while the pool can
    // still take them.
    m_http2.reset();
    // Under the anchor's lock, so that no lease in another thread posts a hand-back or deletes
    // its connection while this runs (see the header comment).
    const QMutexLocker lock(&m_anchor->mutex);
    // Hand-backs posted by leases that ended in other threads run now, while the pool can
    // still take their connections back.
    std::vector<AsyncConnection *> leased;
    for (const auto &[slot, connection] : m_connections) {
        if (!m_state.isIdle(slot))
            leased.push_back(connection);
    }
    for (AsyncConnection *connection : leased) {
        QCoreApplication::sendPostedEvents(
            connection->d.get(), Transport::ConnectionCallEvent::eventType());
    }
    m_anchor->pool = nullptr;

    for (const auto &[id, waiter] : m_waiters) {
        waiter->timer.stop();
        waiter->state = PoolWaiter::State::PoolDestroyed;
        if (waiter->handle)
            resumeLater(waiter->handle);
    }
    m_waiters.clear();
    const auto connections = std::exchange(m_connections, {});
    for (const auto &[slot, connection] : connections) {
        connection->d->m_idleObserver = nullptr;
        if (m_state.isIdle(slot))
            delete connection;
        else
            connection->d->makeInert(); // its lease (or the coroutine connecting it) owns it now
    }
}

// --- AsyncConnectionPool -------------------------------------------------------------------------

AsyncConnectionPool::AsyncConnectionPool(const PoolOptions &options, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<AsyncConnectionPoolPrivate>(this, options))
{
}

AsyncConnectionPool::~AsyncConnectionPool()
{
    d->teardown();
}

QCoro::Task<ConnectionLease> AsyncConnectionPool::acquire(const Endpoint &endpoint,
    std::chrono::milliseconds connectTimeout, std::chrono::milliseconds acquireTimeout)
{
    return d->acquire(endpoint, connectTimeout, acquireTimeout, false, {});
}

QCoro::Task<ConnectionLease> AsyncConnectionPool::connectFresh(const Endpoint &endpoint,
    std::chrono::milliseconds connectTimeout, std::chrono::milliseconds acquireTimeout)
{
    return d->acquire(endpoint, connectTimeout, acquireTimeout, true, {});
}

void AsyncConnectionPool::clear()
{
    if (d->m_http2)
        d->m_http2->closeIdle();
    d->closeSlots(d->m_state.takeIdle());
    if (d->m_state.waitingCount() > 0)
        d->apply(d->m_state.schedule(d->now(), d->m_alive));
}

PoolOptions AsyncConnectionPool::options() const
{
    return d->m_state.options();
}

void AsyncConnectionPool::setOptions(const PoolOptions &options)
{
    d->apply(d->m_state.setOptions(
        AsyncConnectionPoolPrivate::sanitized(options), d->now(), d->m_alive));
}

int AsyncConnectionPool::idleCount(const Endpoint &endpoint) const
{
    return d->m_state.idleCount(endpoint.key());
}

int AsyncConnectionPool::activeCount(const Endpoint &endpoint) const
{
    return d->m_state.activeCount(endpoint.key());
}

int AsyncConnectionPool::totalCount() const
{
    return d->m_state.totalCount();
}

int AsyncConnectionPool::waitingCount() const
{
    return d->m_state.waitingCount();
}

void AsyncConnectionPool::setSharedStore(std::shared_ptr<Transport::SharedConnectionStore> store)
{
    d->m_store = std::move(store);
}

QList<PoolOriginStatistics> AsyncConnectionPool::statistics() const
{
    QList<PoolOriginStatistics> all = d->m_state.statistics();
    for (PoolOriginStatistics &s : all) {
        if (d->m_http2)
            d->m_http2->addStatistics(s.origin, s);
        s.origin = Transport::PoolState::labelForKey(s.origin);
    }
    std::sort(all.begin(), all.end(),
        [](const PoolOriginStatistics &a, const PoolOriginStatistics &b) {
            return a.origin < b.origin;
        });
    return all;
}

QString AsyncConnectionPool::debugSummary() const
{
    return d->m_state.summary();
}

} // namespace Reqivo
