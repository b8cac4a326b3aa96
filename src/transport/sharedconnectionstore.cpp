// SharedConnectionStore: a mutex around a LIFO list per endpoint key. Connections are closed
// outside the lock: a parked object has no thread and a parked descriptor no object, so any
// thread may close either.
#include "sharedconnectionstore.h"

#include <QMutexLocker>
#include <QThread>

#include <algorithm>

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

namespace Reqivo::Transport {

SharedConnectionStore::~SharedConnectionStore()
{
    clear();
}

void SharedConnectionStore::dispose(const QList<Taken> &dead)
{
    for (const Taken &t : dead) {
        delete t.connection;
#ifdef Q_OS_UNIX
        if (t.descriptor >= 0)
            ::close(t.descriptor); // the peer sees an ordinary close (FIN)
#endif
    }
}

void SharedConnectionStore::dropExpiredLocked(Clock::time_point now, QList<Taken> &dead)
{
    for (auto it = m_parked.begin(); it != m_parked.end();) {
        QList<Parked> &list = it.value();
        list.removeIf([&](const Parked &p) {
            if (p.expiry > now)
                return false;
            dead.append(p.taken);
            return true;
        });
        it = list.isEmpty() ? m_parked.erase(it) : std::next(it);
    }
}

void SharedConnectionStore::park(AsyncConnection *connection, Clock::time_point expiry)
{
    Q_ASSERT(!connection->parent());
    QList<Taken> dead;
    {
        QMutexLocker lock(&m_mutex);
        dropExpiredLocked(Clock::now(), dead);
        Taken taken;
        taken.connection = connection;
        m_parked[connection->endpoint().key()].append(
            Parked {taken, expiry, QThread::currentThread()});
    }
    dispose(dead);
}

void SharedConnectionStore::parkDescriptor(
    const QString &key, int descriptor, quint64 id, int useCount, Clock::time_point expiry)
{
    Q_ASSERT(descriptor >= 0);
    QList<Taken> dead;
    {
        QMutexLocker lock(&m_mutex);
        dropExpiredLocked(Clock::now(), dead);
        Taken taken;
        taken.descriptor = descriptor;
        taken.id = id;
        taken.useCount = useCount;
        m_parked[key].append(Parked {taken, expiry, QThread::currentThread()});
    }
    dispose(dead);
}

SharedConnectionStore::Taken SharedConnectionStore::take(const QString &key)
{
    QList<Taken> dead;
    Taken found;
    {
        QMutexLocker lock(&m_mutex);
        dropExpiredLocked(Clock::now(), dead);
        auto it = m_parked.find(key);
        if (it != m_parked.end()) {
            const void *self = QThread::currentThread();
            for (qsizetype i = it->size() - 1; i >= 0; --i) {
                const Parked &p = it->at(i);
                if (p.taken.descriptor >= 0 || p.parkedBy == self) {
                    found = it->takeAt(i).taken;
                    break;
                }
            }
            if (it->isEmpty())
                m_parked.erase(it);
        }
    }
    dispose(dead);
    return found;
}

void SharedConnectionStore::clear()
{
    QList<Taken> dead;
    {
        QMutexLocker lock(&m_mutex);
        for (const QList<Parked> &list : std::as_const(m_parked)) {
            for (const Parked &p : list)
                dead.append(p.taken);
        }
        m_parked.clear();
    }
    dispose(dead);
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
