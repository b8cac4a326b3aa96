// PoolState: the pool's rules as pure bookkeeping. See poolstate_p.h for the theory.
#include "poolstate_p.h"

#include <QStringList>

#include <algorithm>

namespace Reqivo::Transport {

namespace {
constexpr auto never = PoolState::Millis::max();
} // namespace

PoolState::PoolState(const PoolOptions &options)
    : m_options(options)
{
}

PoolState::Millis PoolState::keepAliveMargin(Millis keepAlive)
{
    // Servers close at their timeout measured from their own last byte, which left a little
    // before we recorded the release; a reused connection racing the server's close costs a
    // retry, so stop early: a second for typical timeouts, half of very short ones.
    return std::min(Millis(1000), keepAlive / 2);
}

void PoolState::pruneHost(const QString &key)
{
    auto it = m_hosts.find(key);
    if (it != m_hosts.end() && it->second.count() == 0)
        m_hosts.erase(it);
}

void PoolState::dropIdle(Host &host, std::size_t index, std::vector<quint64> &toClose)
{
    const quint64 slot = host.idle[index].slot;
    host.idle.erase(host.idle.begin() + std::ptrdiff_t(index));
    if (const auto it = m_slots.find(slot); it != m_slots.end()) {
        ++m_counters[it->second.key].closed;
        m_slots.erase(it);
    }
    --m_total;
    toClose.push_back(slot);
}

bool PoolState::evictOldestIdle(const QString &exceptKey, std::vector<quint64> &toClose)
{
    // The oldest idle slot is the front of some host's stack; close the oldest of those.
    auto victim = m_hosts.end();
    for (auto it = m_hosts.begin(); it != m_hosts.end(); ++it) {
        if (it->first == exceptKey || it->second.idle.empty())
            continue;
        if (victim == m_hosts.end()
            || it->second.idle.front().since < victim->second.idle.front().since)
            victim = it;
    }
    if (victim == m_hosts.end())
        return false;
    dropIdle(victim->second, 0, toClose);
    if (victim->second.count() == 0)
        m_hosts.erase(victim);
    return true;
}

std::optional<PoolState::Grant> PoolState::tryServe(const QString &key, bool fresh, Millis now,
    const AliveCheck &alive, std::vector<quint64> &toClose)
{
    auto found = m_hosts.find(key);
    if (!fresh && found != m_hosts.end()) {
        Host &h = found->second;
        while (!h.idle.empty()) {
            const IdleEntry entry = h.idle.back();
            if (entry.expiresAt <= now || (alive && !alive(entry.slot, now - entry.since))) {
                dropIdle(h, h.idle.size() - 1, toClose);
                continue;
            }
            h.idle.pop_back();
            ++h.active;
            m_slots[entry.slot].idle = false;
            ++m_counters[key].reused;
            return Grant {0, Outcome::Reuse, entry.slot};
        }
    }

    if (found != m_hosts.end() && found->second.count() >= m_options.maxPerHost) {
        // At the per-host cap only a fresh request may go on, by replacing one of its own idle
        // connections.
        if (!fresh || found->second.idle.empty()) {
            pruneHost(key);
            return std::nullopt;
        }
        dropIdle(found->second, 0, toClose);
    }
    if (m_total >= m_options.maxTotal && !evictOldestIdle(key, toClose)) {
        if (!fresh || found == m_hosts.end() || found->second.idle.empty()) {
            pruneHost(key);
            return std::nullopt;
        }
        dropIdle(found->second, 0, toClose);
    }
    const quint64 slot = m_nextSlot++;
    Host &h = m_hosts[key];
    ++h.active;
    ++m_total;
    m_slots.emplace(slot, Slot {key, false});
    ++m_counters[key].opened;
    return Grant {0, Outcome::Create, slot};
}

PoolState::Checkout PoolState::checkout(const QString &key, bool fresh, Millis now,
    const AliveCheck &alive, std::vector<quint64> &toClose)
{
    // Every change that frees something ends with schedule(), so whatever is free now is of no
    // use to the callers already queued: serving the newcomer at once overtakes nobody.
    if (auto grant = tryServe(key, fresh, now, alive, toClose))
        return Checkout {grant->outcome, grant->slot, 0};
    const quint64 id = m_nextWaiter++;
    m_waiters.push_back(Waiter {id, key, fresh});
    return Checkout {Outcome::Wait, 0, id};
}

void PoolState::cancel(quint64 waiter)
{
    auto it = std::find_if(
        m_waiters.begin(), m_waiters.end(), [waiter](const Waiter &w) { return w.id == waiter; });
    if (it != m_waiters.end())
        m_waiters.erase(it);
}

PoolState::Millis PoolState::release(quint64 slot, Millis now, Millis keepAlive)
{
    auto it = m_slots.find(slot);
    if (it == m_slots.end() || it->second.idle)
        return never;
    Millis expiresAt = m_options.maxIdleTime > Millis::zero() ? now + m_options.maxIdleTime : never;
    if (keepAlive > Millis::zero())
        expiresAt = std::min(expiresAt, now + keepAlive - keepAliveMargin(keepAlive));
    it->second.idle = true;
    Host &h = m_hosts[it->second.key];
    --h.active;
    h.idle.push_back(IdleEntry {slot, now, expiresAt});
    return expiresAt;
}

void PoolState::remove(quint64 slot)
{
    auto it = m_slots.find(slot);
    if (it == m_slots.end())
        return;
    const QString key = it->second.key;
    auto hostIt = m_hosts.find(key);
    if (hostIt != m_hosts.end()) {
        Host &h = hostIt->second;
        if (it->second.idle) {
            auto idle = std::find_if(h.idle.begin(), h.idle.end(),
                [slot](const IdleEntry &e) { return e.slot == slot; });
            if (idle != h.idle.end())
                h.idle.erase(idle);
        } else {
            --h.active;
        }
    }
    m_slots.erase(it);
    --m_total;
    ++m_counters[key].closed;
    pruneHost(key);
}

PoolState::Actions PoolState::schedule(Millis now, const AliveCheck &alive)
{
    Actions actions;
    for (auto it = m_waiters.begin(); it != m_waiters.end();) {
        if (auto grant = tryServe(it->key, it->fresh, now, alive, actions.toClose)) {
            grant->waiter = it->id;
            actions.grants.push_back(*grant);
            it = m_waiters.erase(it);
        } else {
            ++it;
        }
    }
    return actions;
}

std::vector<quint64> PoolState::expire(Millis now)
{
    std::vector<quint64> toClose;
    for (auto it = m_hosts.begin(); it != m_hosts.end();) {
        Host &h = it->second;
        for (std::size_t i = 0; i < h.idle.size();) {
            if (h.idle[i].expiresAt <= now)
                dropIdle(h, i, toClose);
            else
                ++i;
        }
        if (h.count() == 0)
            it = m_hosts.erase(it);
        else
            ++it;
    }
    return toClose;
}

std::vector<quint64> PoolState::takeIdle()
{
    std::vector<quint64> toClose;
    for (auto it = m_hosts.begin(); it != m_hosts.end();) {
        while (!it->second.idle.empty())
            dropIdle(it->second, it->second.idle.size() - 1, toClose);
        if (it->second.count() == 0)
            it = m_hosts.erase(it);
        else
            ++it;
    }
    return toClose;
}

std::vector<quint64> PoolState::takeWaiters()
{
    std::vector<quint64> ids;
    ids.reserve(m_waiters.size());
    for (const Waiter &w : m_waiters)
        ids.push_back(w.id);
    m_waiters.clear();
    return ids;
}

void PoolState::trimToOptions(std::vector<quint64> &toClose)
{
    for (auto it = m_hosts.begin(); it != m_hosts.end();) {
        Host &h = it->second;
        while (!h.idle.empty() && h.count() > m_options.maxPerHost)
            dropIdle(h, 0, toClose);
        if (h.count() == 0)
            it = m_hosts.erase(it);
        else
            ++it;
    }
    while (m_total > m_options.maxTotal && evictOldestIdle(QString(), toClose)) { }
}

PoolState::Actions PoolState::setOptions(
    const PoolOptions &options, Millis now, const AliveCheck &alive)
{
    m_options = options;
    std::vector<quint64> trimmed;
    trimToOptions(trimmed);
    Actions actions = schedule(now, alive);
    actions.toClose.insert(actions.toClose.begin(), trimmed.begin(), trimmed.end());
    return actions;
}

std::optional<PoolState::Millis> PoolState::nextExpiry() const
{
    std::optional<Millis> earliest;
    for (const auto &[key, h] : m_hosts) {
        for (const IdleEntry &e : h.idle) {
            if (e.expiresAt != never && (!earliest || e.expiresAt < *earliest))
                earliest = e.expiresAt;
        }
    }
    return earliest;
}

bool PoolState::isIdle(quint64 slot) const
{
    auto it = m_slots.find(slot);
    return it != m_slots.end() && it->second.idle;
}

std::vector<quint64> PoolState::slots() const
{
    std::vector<quint64> all;
    all.reserve(m_slots.size());
    for (const auto &[slot, info] : m_slots)
        all.push_back(slot);
    std::sort(all.begin(), all.end());
    return all;
}

int PoolState::idleCount(const QString &key) const
{
    auto it = m_hosts.find(key);
    return it == m_hosts.end() ? 0 : int(it->second.idle.size());
}

int PoolState::activeCount(const QString &key) const
{
    auto it = m_hosts.find(key);
    return it == m_hosts.end() ? 0 : it->second.active;
}

QString PoolState::labelForKey(const QString &key)
{
    // Endpoint::key() is "origin|proxy=type:host:port#digest|tls=digest"; the digests are noise
    // to a reader except as a way to tell TLS settings apart.
    const QStringList parts = key.split(QLatin1Char('|'));
    QString label = parts.value(0);
    for (qsizetype i = 1; i < parts.size(); ++i) {
        const QString &part = parts.at(i);
        if (part.startsWith(QLatin1String("proxy="))) {
            QString proxy = part.mid(6);
            proxy.truncate(proxy.indexOf(QLatin1Char('#')) < 0 ? proxy.size()
                                                               : proxy.indexOf(QLatin1Char('#')));
            const qsizetype colon = proxy.indexOf(QLatin1Char(':'));
            if (proxy == QLatin1String("none"))
                continue; // the usual meaning anyway; only the key needs to tell it apart
            if (colon < 0)
                label += QStringLiteral(" proxy=") + proxy;
            else
                label += QStringLiteral(" via %1 proxy %2")
                             .arg(proxy.left(colon), proxy.mid(colon + 1));
        } else if (part.startsWith(QLatin1String("tls="))) {
            label += QStringLiteral(" tls=") + part.mid(4, 8);
        } else {
            label += QLatin1Char(' ') + part;
        }
    }
    return label;
}

QList<PoolOriginStatistics> PoolState::statistics() const
{
    std::unordered_map<QString, PoolOriginStatistics> byKey;
    for (const auto &[key, counters] : m_counters) {
        PoolOriginStatistics &s = byKey[key];
        s.opened = counters.opened;
        s.reused = counters.reused;
        s.closed = counters.closed;
    }
    for (const auto &[key, host] : m_hosts) {
        PoolOriginStatistics &s = byKey[key];
        s.idle = int(host.idle.size());
        s.active = host.active;
    }
    for (const Waiter &w : m_waiters)
        ++byKey[w.key].waiting;
    QList<PoolOriginStatistics> out;
    out.reserve(qsizetype(byKey.size()));
    for (auto &[key, s] : byKey) {
        s.origin = key;
        out.append(std::move(s));
    }
    std::sort(out.begin(), out.end(), [](const PoolOriginStatistics &a,
                                          const PoolOriginStatistics &b) {
        return a.origin < b.origin;
    });
    return out;
}

QString PoolState::summary() const
{
    QStringList hosts;
    for (const auto &[key, h] : m_hosts) {
        hosts << QStringLiteral("%1 idle=%2 active=%3")
                     .arg(labelForKey(key))
                     .arg(h.idle.size())
                     .arg(h.active);
    }
    hosts.sort();
    const QString head
        = hosts.isEmpty() ? QStringLiteral("no connections") : hosts.join(QStringLiteral(", "));
    return QStringLiteral("%1 | total=%2/%3 waiting=%4")
        .arg(head)
        .arg(m_total)
        .arg(m_options.maxTotal)
        .arg(m_waiters.size());
}

} // namespace Reqivo::Transport
