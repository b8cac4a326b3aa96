// SharedConnectionStore: idle connections parked between threads.
//
// A QObject (and so a socket) lives in one thread. To share keep-alive connections between
// sessions in different threads, an AsyncConnectionPool that has a store does not keep its
// idle connections: it detaches them from its thread (moveToThread(nullptr)) and parks them
// here; any pool, in any thread, may take one and pull it into its own thread. A parked
// connection belongs to no thread and to no pool, so exactly one taker can ever have it: no
// connection is used by two threads at once. While parked nobody watches it; the taker checks
// it (AsyncConnection::isUsableForReuse() peeks at the socket) before using it.
#pragma once

#include <Reqivo/asyncconnection.h>

#include <QHash>
#include <QList>
#include <QMutex>
#include <QString>

#include <chrono>

namespace Reqivo::Transport {

class REQIVO_EXPORT SharedConnectionStore
{
public:
    using Clock = std::chrono::steady_clock;

    SharedConnectionStore() = default;
    //! Deletes every parked connection.
    ~SharedConnectionStore();
    SharedConnectionStore(const SharedConnectionStore &) = delete;
    SharedConnectionStore &operator=(const SharedConnectionStore &) = delete;

    //! Takes ownership of \a connection, which must have no parent and no thread.
    void park(AsyncConnection *connection, Clock::time_point expiry);
    //! The most recently parked unexpired connection for \a key (Endpoint::key()) that the
    //! calling thread parked, or null. Hand-over to another thread is disabled for now: a socket
    //! pulled into another thread sometimes missed its readyRead (see the closing note).
    //! The caller owns it and must pull it into its thread before use.
    AsyncConnection *take(const QString &key);
    //! Deletes every parked connection.
    void clear();

    int parkedCount() const;
    int parkedCount(const QString &key) const;
    //! "shared: http://127.0.0.1:8080 parked=2" (sorted), or "shared: empty".
    QString debugSummary() const;

private:
    struct Parked
    {
        AsyncConnection *connection;
        Clock::time_point expiry;
        const void *parkedBy; // the QThread that parked it
    };
    void dropExpiredLocked(Clock::time_point now, QList<AsyncConnection *> &dead);

    mutable QMutex m_mutex;
    QHash<QString, QList<Parked>> m_parked; // per key, oldest first (LIFO: take from the back)
};

} // namespace Reqivo::Transport
