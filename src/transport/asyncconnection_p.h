// AsyncConnectionPrivate: the socket, its signal handlers and the coroutines waiting on them.
//
// The one idea: a waiting coroutine is a Waiter record living in its own coroutine frame, and
// the connection holds a pointer to it in one of three slots (connect, read, write). A socket
// signal or timer takes the waiter out of its slot and resumes it directly, so data reaches the
// reader in the same event-loop iteration it arrived in. Resuming runs arbitrary code that may
// delete the connection, so every call out of a handler goes through callOut(), which notices
// that and makes the handler return without touching anything; the socket itself is then
// deleted later, since it is still in the middle of emitting.
//
// Wakes caused by our own calls (close(), abort(), the destructor, or a flush() that fails) are
// queued instead: their callers are still on the stack and must not see the connection change
// or vanish under them. A queued waiter stays in its slot until it runs, so the destructor can
// tell it the connection is gone (Result::Destroyed) and it then touches nothing.
#pragma once

#include <Reqivo/asyncconnection.h>

#include "abortsignal_p.h"

#include <QAbstractSocket>
#include <QBasicTimer>
#include <QEvent>
#include <QList>
#include <QObject>
#include <QSslError>

#include <chrono>
#include <coroutine>
#include <functional>

class QSslSocket;

namespace Reqivo {

namespace Transport {
//! Told by a connection that sits idle in a pool when it can no longer be reused.
class IdleObserver
{
public:
    virtual void idleConnectionLost(quint64 slot) = 0;

protected:
    ~IdleObserver() = default;
};

//! A function to run in a connection's thread: posted to its private object, which runs it
//! (AsyncConnectionPrivate::customEvent()). How a lease released in another thread hands its
//! connection back (AsyncConnectionPoolPrivate::handBack()).
class ConnectionCallEvent : public QEvent
{
public:
    explicit ConnectionCallEvent(std::function<void()> call)
        : QEvent(eventType())
        , call(std::move(call))
    {
    }
    static QEvent::Type eventType()
    {
        static const auto type = QEvent::Type(QEvent::registerEventType());
        return type;
    }
    std::function<void()> call;
};

//! When each phase of a connection's connect ended, and what TLS agreed on: for a request's
//! Timings and its listener's events (docs/observability.md). A phase that did not happen
//! keeps a default (zero) time point.
struct ConnectTimes
{
    std::chrono::steady_clock::time_point start; //!< connect() was called
    std::chrono::steady_clock::time_point dnsEnd; //!< name lookup done (hostFound)
    std::chrono::steady_clock::time_point connectEnd; //!< TCP connected (server or proxy)
    std::chrono::steady_clock::time_point tunnelEnd; //!< proxy tunnel (CONNECT, SOCKS5) up
    std::chrono::steady_clock::time_point tlsEnd; //!< TLS handshake done (and checked)
    QString peer; //!< the address connected to ("127.0.0.1:8443"), proxy included
    QString tlsProtocol; //!< "TLSv1.3", ...
    QString tlsCipher; //!< the cipher suite's name
    QByteArray alpn; //!< the ALPN protocol agreed ("h2", "http/1.1"), empty when none
};
} // namespace Transport

class AsyncConnectionPrivate : public QObject
{
public:
    struct Waiter
    {
        enum class Result { Pending, Woken, TimedOut, Closed, Destroyed };
        std::coroutine_handle<> handle;
        Result result = Result::Pending;
    };

    //! co_await Wait{...}: parks the coroutine in \a slot until a handler wakes it.
    class Wait
    {
    public:
        Wait(AsyncConnectionPrivate *d, Waiter *&slot, QBasicTimer *timer,
            std::chrono::milliseconds timeout) noexcept
            : m_d(d)
            , m_slot(slot)
            , m_timer(timer)
            , m_timeout(timeout)
        {
        }
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> handle) noexcept
        {
            m_waiter.handle = handle;
            m_slot = &m_waiter;
            if (m_timer)
                m_d->armTimer(*m_timer, m_timeout);
        }
        Waiter::Result await_resume() noexcept
        {
            // A queued wake left the waiter in its slot (see the header comment).
            if (m_waiter.result != Waiter::Result::Destroyed && m_slot == &m_waiter)
                m_slot = nullptr;
            return m_waiter.result;
        }

    private:
        AsyncConnectionPrivate *m_d;
        Waiter *&m_slot;
        QBasicTimer *m_timer;
        std::chrono::milliseconds m_timeout;
        Waiter m_waiter;
    };

    explicit AsyncConnectionPrivate(AsyncConnection *q);
    ~AsyncConnectionPrivate() override;

    static AsyncConnectionPrivate *get(AsyncConnection *connection) { return connection->d.get(); }
    //! When the connection's connect phases ended (for Response::timings() and listeners).
    static const Transport::ConnectTimes &connectTimes(AsyncConnection *connection)
    {
        return connection->d->m_times;
    }

    //! AsyncConnection::connectToHost() that \a abort can end at once in every phase (name
    //! lookup, TCP connect, proxy handshake, TLS handshake): the socket is aborted and the call
    //! throws RequestError with detail "aborted" (Transport::throwAborted()). A null \a abort
    //! is connectToHost(). \a dd must be a connection that was never connected.
    static QCoro::Task<void> connectAbortable(AsyncConnectionPrivate *dd, Endpoint endpoint,
        std::chrono::milliseconds timeout, std::shared_ptr<Transport::AbortSignal> abort);
    //! The abort handler of connect(): closes the socket and wakes the connecting coroutine.
    void abortConnect();
    //! The part of connectAbortable() after the socket was told to connect to an HttpProxy
    //! (httpproxytunnel.cpp): waits for TCP, then, unless the endpoint uses absolute form,
    //! opens a CONNECT tunnel (answering a 407 with the proxy's credentials) and starts TLS
    //! in it for a TLS endpoint.
    static QCoro::Task<void> openHttpProxyTunnel(AsyncConnectionPrivate *dd);

    void createSocket();
    void armTimer(QBasicTimer &timer, std::chrono::milliseconds timeout);
    //! Stops every timer (nobody may be waiting): before the connection leaves its thread, since
    //! a timer can only be stopped in the thread that started it.
    void stopTimers()
    {
        m_connectTimer.stop();
        m_readTimer.stop();
        m_writeTimer.stop();
    }
    //! Aborts the connection for good and leaves nothing of this thread pointing at it (no
    //! timer, no socket notifier, no posted event), so that any thread may delete it after:
    //! what a pool does to checked-out connections when it is destroyed.
    void makeInert();
    void customEvent(QEvent *event) override;
    void setReadDeadline(std::chrono::milliseconds timeout);
    qint64 pendingWriteBytes() const;
    bool usable(bool peek) const;
    void findPeekableDescriptor();
    //! Hand-over between threads (Transport::SharedConnectionStore). For a plain TCP connection
    //! straight to its endpoint with nothing buffered either way: a duplicate of its kernel
    //! socket (close-on-exec); -1 for any other. Deleting the connection afterwards closes only
    //! its own descriptor, so the peer sees nothing and the duplicate carries on.
    int duplicateDescriptor() const;
    //! Makes this new, never connected connection the owner of \a descriptor, a connected TCP
    //! socket to \a endpoint (plain, no proxy), in a QTcpSocket of the calling thread; keeps
    //! the \a id and \a useCount of the connection it came from. Owns the descriptor even when
    //! it fails (then it is closed); false when Qt does not accept it.
    bool adoptDescriptor(const Endpoint &endpoint, int descriptor, quint64 id, int useCount);

    // Error reporting: each throws the exception for the current state, if it is an error.
    [[noreturn]] void throwConnectError() const;
    [[noreturn]] void throwClosed(const QString &operation) const;
    [[noreturn]] void throwSocketError(const QString &operation) const;
    void checkWritable() const;
    QString sslErrorDetail() const;

    // Socket signal handlers.
    void onConnected();
    void onEncrypted();
    void onReadyRead();
    void onBytesWritten();
    void onDisconnected();
    void onErrorOccurred(QAbstractSocket::SocketError error);
    void onSslErrors(const QList<QSslError> &errors);

    //! Wakes the waiter in \a slot, directly or queued; false when the connection was
    //! destroyed meanwhile (the caller must return at once).
    bool wake(Waiter *&slot, QBasicTimer *timer, Waiter::Result result, bool queued = false);
    bool wakeAll(Waiter::Result result, bool queued = false);
    //! Runs \a f; false when the connection was destroyed while it ran.
    template<typename F>
    bool callOut(F &&f);
    bool notifyLost();
    bool emitClosed();

    void closeSocket(bool graceful);
    void teardown();

    void timerEvent(QTimerEvent *event) override;

    AsyncConnection *const q;
    QAbstractSocket *m_socket = nullptr;
    QSslSocket *m_ssl = nullptr;
    Endpoint m_endpoint;
    quint64 m_id;
    int m_useCount = 0;

    Waiter *m_connectWaiter = nullptr;
    Waiter *m_readWaiter = nullptr;
    Waiter *m_writeWaiter = nullptr;
    QBasicTimer m_connectTimer;
    //! Read timeouts run on a deadline and a lazily moved timer: a read sets the deadline and
    //! only starts the timer when none is due before it, and when the timer fires early it is
    //! moved to the deadline. A keep-alive loop thus reads the clock per read, but registers a
    //! timer once per timeout period instead of twice per response.
    QBasicTimer m_readTimer;
    std::chrono::steady_clock::time_point m_readDeadline;
    std::chrono::steady_clock::time_point m_readTimerDue;
    bool m_hasReadDeadline = false;
    QBasicTimer m_writeTimer;
    std::chrono::milliseconds m_writeTimeout {0};
    std::chrono::milliseconds m_connectTimeout {0};

    bool m_connected = false; //!< connected (and, for TLS, encrypted)
    bool m_tcpConnected = false; //!< the TCP part of a TLS connect is done
    bool m_eof = false; //!< the peer closed (or reset) the connection
    bool m_closedLocally = false; //!< close() or abort() was called
    bool m_failed = false; //!< a socket error other than the peer closing
    bool m_closedEmitted = false;
    bool m_connectTimedOut = false;
    bool m_connectAborted = false; //!< connect() was ended by its AbortSignal
    bool m_viaHttpProxy = false; //!< the socket goes to an HTTP proxy (openHttpProxyTunnel())
    bool m_tunnelling = false; //!< a CONNECT exchange with the proxy is under way
    QString m_abortedPhase; //!< what the connect was doing then, for the message
    //! Why the certificate does not match the host (RFC 9525); set means the connect failed.
    QString m_hostNameMismatch;
    QString m_pinMismatch; //!< why the certificate pins refused the peer (certificatepin.h)
    bool m_closeNotifyReceived = false; //!< TLS: the peer sent close_notify
    QAbstractSocket::SocketError m_error = QAbstractSocket::UnknownSocketError;
    QString m_errorString;
    QList<QSslError> m_sslErrors;

    int m_peekFd = -1; //!< the kernel socket, when it can be asked directly (see usable())
    int m_inCall = 0; //!< > 0 while one of our own socket calls runs
    bool *m_destroyedFlag = nullptr; //!< set while a callOut() runs; see callOut()

    Transport::IdleObserver *m_idleObserver = nullptr;
    quint64 m_idleSlot = 0;

    Transport::ConnectTimes m_times; //!< see Transport::ConnectTimes
};

} // namespace Reqivo
