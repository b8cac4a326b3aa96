// SharedConnectionStore: idle connections parked between threads.
//
// A QObject (and so a socket) lives in one thread. To share keep-alive connections between
// sessions in different threads, an AsyncConnectionPool that has a store does not keep its
// idle connections: it parks them here, and any pool that needs the same endpoint takes one.
// A parked connection belongs to no pool, and take() hands it to exactly one taker under the
// mutex, so no connection is ever used by two threads at once. While parked nobody watches
// it; the taker asks the kernel (a non-blocking peek) before using it.
//
// Two kinds of parked connection:
//
// - A plain TCP connection straight to its endpoint is parked as its kernel socket alone (a
//   duplicated descriptor; the QTcpSocket that had it is closed in its own thread, which
//   sends nothing to the peer). Any thread may take it and wrap it in a new QTcpSocket of its
//   own: no Qt object ever changes thread, so nothing of the old thread's event loop can
//   reach the new owner.
// - A TLS or proxied connection cannot be rebuilt from a descriptor (the TLS session or the
//   proxy engine lives in the socket object). It is parked as the AsyncConnection itself,
//   moved to no thread, and only the thread that parked it takes it back. Handing such an
//   object to another thread is what lost readyRead: a connection is released from inside
//   its socket's readyRead, and Qt's QAbstractSocketPrivate::canReadNotification(), still on
//   the parking thread's stack, re-enables the read notifier after the slot returns; on an
//   object that has just left the thread that marks the notifier enabled without registering
//   it anywhere, and a taker's own re-enable is then a no-op (docs/threading.md).
#pragma once

#include <Reqivo/asyncconnection.h>

#include <QHash>
#include <QList>
#include <QMutex>
#include <QString>

#include <chrono>

namespace Reqivo::Transport {

class REQIVO_TESTS_EXPORT SharedConnectionStore
{
public:
    using Clock = std::chrono::steady_clock;

    //! What take() hands out: either a connection object (same thread only) or a kernel
    //! socket with the identity of the connection that had it; neither when nothing fits.
    struct Taken
    {
        AsyncConnection *connection = nullptr;
        int descriptor = -1;
        quint64 id = 0; //!< the connection's id, kept across the hand-over (logs, tests)
        int useCount = 0;

        explicit operator bool() const { return connection || descriptor >= 0; }
    };

    SharedConnectionStore() = default;
    //! Closes every parked connection.
    ~SharedConnectionStore();
    SharedConnectionStore(const SharedConnectionStore &) = delete;
    SharedConnectionStore &operator=(const SharedConnectionStore &) = delete;

    //! Takes ownership of \a connection, which must have no parent and no thread. Only the
    //! calling thread will get it back from take().
    void park(AsyncConnection *connection, Clock::time_point expiry);
    //! Takes ownership of \a descriptor, a connected TCP socket for \a key (Endpoint::key())
    //! that no Qt object uses any more. Any thread may take it.
    void parkDescriptor(
        const QString &key, int descriptor, quint64 id, int useCount, Clock::time_point expiry);
    //! The most recently parked unexpired connection for \a key that the calling thread may
    //! have: any descriptor, or a connection object this thread parked. The caller owns it: it
    //! pulls an object into its thread, wraps a descriptor in a socket (or closes it).
    Taken take(const QString &key);
    //! Closes every parked connection.
    void clear();

    int parkedCount() const;
    int parkedCount(const QString &key) const;
    //! "shared: http://127.0.0.1:8080 parked=2" (sorted), or "shared: empty".
    QString debugSummary() const;

private:
    struct Parked
    {
        Taken taken;
        Clock::time_point expiry;
        const void *parkedBy; // the QThread that parked it (matters for objects only)
    };
    void dropExpiredLocked(Clock::time_point now, QList<Taken> &dead);
    static void dispose(const QList<Taken> &dead);

    mutable QMutex m_mutex;
    QHash<QString, QList<Parked>> m_parked; // per key, oldest first (LIFO: take from the back)
};

} // namespace Reqivo::Transport
