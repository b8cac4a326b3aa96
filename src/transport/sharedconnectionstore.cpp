// SharedConnectionStore: a mutex around a LIFO list per endpoint key. Connections are deleted
// outside the lock: a parked connection has no thread, so any thread may delete it.
#include "sharedconnectionstore.h"

#include <QMutexLocker>
#include <QThread>

#include <algorithm>

namespace Reqivo::Transport {

SharedConnectionStore::~SharedConnectionStore() { clear(); }

void SharedConnectionStore::dropExpiredLocked(Clock::time_point now,
                                              QList<AsyncConnection *> &dead)
{
    for (auto it = m_parked.begin(); it != m_parked.end();) {
        QList<Parked> &list = it.value();
        list.removeIf([&](const Parked &p) {
            if (p.expiry > now)
                return false;
            dead.append(p.connection);
            return true;
        });
        it = list.isEmpty() ? m_parked.erase(it) : std::next(it);
    }
}

void SharedConnectionStore::park(AsyncConnection *connection, Clock::time_point expiry)
{
    Q_ASSERT(!connection->parent());
    QList<AsyncConnection *> dead;
    {
        QMutexLocker lock(&m_mutex);
        dropExpiredLocked(Clock::now(), dead);
        m_parked[connection->endpoint().key()].append(
                Parked{connection, expiry, QThread::currentThread()});
    }
    qDeleteAll(dead);
}

AsyncConnection *SharedConnectionStore::take(const QString &key)
{
    QList<AsyncConnection *> dead;
    AsyncConnection *found = nullptr;
    {
        QMutexLocker lock(&m_mutex);
        dropExpiredLocked(Clock::now(), dead);
        auto it = m_parked.find(key);
        if (it != m_parked.end()) {
            const void *self = QThread::currentThread();
            for (qsizetype i = it->size() - 1; i >= 0; --i) {
                if (it->at(i).parkedBy == self) {
                    found = it->takeAt(i).connection;
                    break;
                }
            }
            if (it->isEmpty())
                m_parked.erase(it);
        }
    }
    qDeleteAll(dead);
    return found;
}

void SharedConnectionStore::clear()
{
    QList<AsyncConnection *> dead;
    {
        QMutexLocker lock(&m_mutex);
        for (const QList<Parked> &list : std::as_const(m_parked)) {
            for (const Parked &p : list)
                dead.append(p.connection);
        }
        m_parked.clear();
    }
    qDeleteAll(dead);
}

int SharedConnectionStore::parkedCount() const
{
    QMutexLocker lock(&m_mutex);
    int n = 0;
    for (const QList<Parked> &list : m_parked)
        n += int(list.size());
    return n;
}

int SharedConnectionStore::parkedCount(const QString &key) const
{
    QMutexLocker lock(&m_mutex);
    return int(m_parked.value(key).size());
}

QString SharedConnectionStore::debugSummary() const
{
    QMutexLocker lock(&m_mutex);
    if (m_parked.isEmpty())
        return QStringLiteral("shared: empty");
    QStringList parts;
    for (auto it = m_parked.cbegin(); it != m_parked.cend(); ++it) {
        const QString display = it.key().section(QLatin1Char('|'), 0, 0);
        parts.append(QStringLiteral("%1 parked=%2").arg(display).arg(it->size()));
    }
    std::sort(parts.begin(), parts.end());
    return QStringLiteral("shared: ") + parts.join(QStringLiteral(", "));
}

} // namespace Reqivo::Transport
