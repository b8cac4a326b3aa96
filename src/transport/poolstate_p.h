// PoolState: every decision of the connection pool, as bookkeeping with no I/O.
//
// Theory of operation (the httpcore model). The pool's I/O side asks this class what to do and
// then does it: PoolState never touches a socket, a timer or a clock. Connections are "slots"
// (numbers), callers are "waiters" (numbers), time is a number of milliseconds the caller
// passes in. Each operation returns what the I/O side must do next: which slot a caller gets
// (reuse an idle one, or open a new one), which waiters are now served, which idle slots to
// close. That keeps the rules in one place and lets tests drive them with a fake clock and
// assert on summary(), one readable line.
//
// The rules:
//  * Slots of one key form a LIFO stack of idle ones plus a count of active ones (checked out or
//    connecting). The newest idle slot is reused first; expired or dead ones are closed on the way.
//  * A new slot needs count(key) < maxPerHost and total < maxTotal. When only the total cap is in
//    the way, the oldest idle slot of any key is closed to make room; a "fresh" request (never
//    reuse) may also close an idle slot of its own key.
//  * Callers that cannot be served queue in arrival order. Whenever something frees (a release,
//    a removal, an expiry) the queue is walked from the front and every waiter that can now be
//    served is; one that still cannot does not block those behind it that can.
#pragma once

#include <Reqivo/asyncconnectionpool.h>

#include <QString>

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

namespace Reqivo::Transport {

class PoolState
{
public:
    using Millis = std::chrono::milliseconds;
    //! Asked about an idle slot (idle for \a idleFor) just before it is reused; false drops
    //! (and closes) it.
    using AliveCheck = std::function<bool(quint64 slot, Millis idleFor)>;

    enum class Outcome { Reuse, Create, Wait };
    struct Checkout
    {
        Outcome outcome = Outcome::Wait;
        quint64 slot = 0; //!< for Reuse and Create
        quint64 waiter = 0; //!< for Wait
    };
    struct Grant
    {
        quint64 waiter = 0;
        Outcome outcome = Outcome::Reuse; //!< Reuse or Create
        quint64 slot = 0;
    };
    //! What the I/O side must do after a change: serve these waiters, close these idle slots.
    struct Actions
    {
        std::vector<Grant> grants;
        std::vector<quint64> toClose;
        bool isEmpty() const { return grants.empty() && toClose.empty(); }
    };

    explicit PoolState(const PoolOptions &options = {});

    PoolOptions options() const { return m_options; }
    //! Lowered caps close idle slots over them (returned in toClose); raised ones serve waiters.
    Actions setOptions(const PoolOptions &options, Millis now, const AliveCheck &alive = {});

    //! A caller wants a connection for \a key (an Endpoint::key()). Idle slots found dead or
    //! expired on the way are appended to \a toClose.
    Checkout checkout(const QString &key, bool fresh, Millis now, const AliveCheck &alive,
        std::vector<quint64> &toClose);
    //! The waiter gave up (timeout); it is no longer served.
    void cancel(quint64 waiter);

    //! An active slot becomes idle. \a keepAlive > 0 is the server's Keep-Alive timeout. Returns
    //! when the slot expires (Millis::max() for never).
    Millis release(quint64 slot, Millis now, Millis keepAlive = Millis::zero());
    //! A slot is gone (discarded, failed to connect, lost while idle).
    void remove(quint64 slot);
    //! Serves waiters, front to back, with whatever is free now.
    Actions schedule(Millis now, const AliveCheck &alive = {});
    //! Removes idle slots whose time has come.
    std::vector<quint64> expire(Millis now);
    //! Removes every idle slot.
    std::vector<quint64> takeIdle();
    //! Every waiter still queued, front first; the queue is emptied.
    std::vector<quint64> takeWaiters();

    //! The earliest idle expiry, if any slot can expire.
    std::optional<Millis> nextExpiry() const;
    //! The safety margin taken off a server's Keep-Alive timeout: min(1 s, keepAlive / 2).
    static Millis keepAliveMargin(Millis keepAlive);

    bool contains(quint64 slot) const { return m_slots.count(slot) != 0; }
    bool isIdle(quint64 slot) const;
    //! Every slot, idle or not.
    std::vector<quint64> slots() const;
    int idleCount(const QString &key) const;
    int activeCount(const QString &key) const;
    int totalCount() const { return m_total; }
    int waitingCount() const { return int(m_waiters.size()); }
    //! Per key (PoolOriginStatistics::origin holds the key): idle, active, waiting and the
    //! cumulative opened (Create), reused (Reuse) and closed (a slot removed or dropped).
    QList<PoolOriginStatistics> statistics() const;
    //! "http://a:80 idle=1 active=2, http://b:80 idle=0 active=1 | total=4/100 waiting=3"
    QString summary() const;
    //! The readable form of a key for summary(): "http://h:80 via socks5 proxy p:1080
    //! tls=ab12cd34".
    static QString labelForKey(const QString &key);

private:
    struct IdleEntry
    {
        quint64 slot;
        Millis since;
        Millis expiresAt;
    };
    struct Host
    {
        std::vector<IdleEntry> idle; //!< oldest first; reuse pops the back
        int active = 0;
        int count() const { return int(idle.size()) + active; }
    };
    struct Slot
    {
        QString key;
        bool idle = false;
    };
    struct Waiter
    {
        quint64 id;
        QString key;
        bool fresh;
    };
    //! statistics()' cumulative counts of a key; kept after its last slot is gone.
    struct Counters
    {
        qint64 opened = 0;
        qint64 reused = 0;
        qint64 closed = 0;
    };

    std::optional<Grant> tryServe(const QString &key, bool fresh, Millis now,
        const AliveCheck &alive, std::vector<quint64> &toClose);
    void dropIdle(Host &host, std::size_t index, std::vector<quint64> &toClose);
    bool evictOldestIdle(const QString &exceptKey, std::vector<quint64> &toClose);
    void pruneHost(const QString &key);
    void trimToOptions(std::vector<quint64> &toClose);

    PoolOptions m_options;
    std::unordered_map<QString, Host> m_hosts;
    std::unordered_map<quint64, Slot> m_slots;
    std::deque<Waiter> m_waiters;
    std::unordered_map<QString, Counters> m_counters;
    int m_total = 0;
    quint64 m_nextSlot = 1;
    quint64 m_nextWaiter = 1;
};

} // namespace Reqivo::Transport
