// Reqivo::AsyncConnection: one TCP or TLS byte stream, driven with co_await.
//
// It moves bytes and knows nothing of HTTP: connect (directly or through an HTTP CONNECT or
// SOCKS5 proxy), write, read whatever has arrived, close. Every wait has a timeout and every
// failure is one of Reqivo's exceptions naming the endpoint.
//
// The fast paths never suspend: read() returns bytes that are already buffered at once, and
// write() hands data to the kernel at once (flush) and only waits when more than
// writeHighWaterMark bytes are still queued. When a coroutine does wait, it is resumed straight
// from the socket's signal, not through a queued event, so a keep-alive request costs no extra
// trip round the event loop.
//
// Like any QObject it belongs to one thread. An idle connection (nothing pending) can be handed
// to another thread with moveToThread(): its socket and timers go along.
#pragma once

#include <Reqivo/endpoint.h>
#include <Reqivo/reqivoglobal.h>
#include <Reqivo/timeout.h>

#include <QByteArray>
#include <QObject>

#include <QCoroTask>

#include <chrono>
#include <memory>

class QAbstractSocket;

namespace Reqivo {

class AsyncConnectionPrivate;

//! One TCP or TLS byte stream, driven with co_await: the transport under every request.
//!
//! It moves bytes and knows nothing of HTTP: connect (directly or through an HTTP CONNECT or
//! SOCKS5 proxy), write, read whatever has arrived, close. Every wait has a timeout and every
//! failure is one of Reqivo's exceptions naming the endpoint. read() returns buffered bytes at
//! once and write() waits only past writeHighWaterMark. Like any QObject it belongs to one
//! thread; an idle connection can be moved to another with moveToThread(). Connection is its
//! blocking twin; sessions get theirs from an AsyncConnectionPool.
class REQIVO_EXPORT AsyncConnection : public QObject
{
    Q_OBJECT
public:
    //! write() completes without waiting while fewer bytes than this are queued.
    static constexpr qint64 writeHighWaterMark = 1024 * 1024;
    //! The read-buffer bound for streamed bodies (see setReadBufferLimit()).
    static constexpr qint64 readBufferBytes = 64 * 1024;

    //! Not connected yet: co_await connectToHost().
    explicit AsyncConnection(QObject *parent = nullptr);
    //! Aborts the socket. A coroutine still waiting in connectToHost(), read() or write() is
    //! resumed later (from the event loop) with a NetworkError.
    ~AsyncConnection() override;

    //! Connects, and for a TLS endpoint completes the handshake, within \a timeout (every
    //! timeout here reads as timeout.h says: Timeout::noLimit waits for ever, zero not at all).
    //! Throws ConnectTimeout, TlsError (handshake or certificate failure; detail() lists the
    //! certificate errors) or NetworkError. Can be called once.
    //!
    //! With TlsOptions::verifyPeer on, the certificate must also name the endpoint's host by
    //! RFC 9525's rules, stricter than Qt's own check: only subjectAltName entries count (never
    //! the subject's common name), an IP address matches only an iPAddress entry, a wildcard
    //! only as the whole left-most label. Otherwise: TlsError, and the connection is closed
    //! before anything was sent on it.
    [[nodiscard]] QCoro::Task<void> connectToHost(
        const Endpoint &endpoint, std::chrono::milliseconds timeout);

    //! Queues \a data and flushes it to the kernel at once. Completes immediately while fewer
    //! than writeHighWaterMark bytes remain queued; otherwise waits until the queue drains below
    //! it. Throws WriteTimeout when no byte could be sent for \a timeout, NetworkError when the
    //! connection is closed or fails.
    [[nodiscard]] QCoro::Task<void> write(
        const QByteArray &data, std::chrono::milliseconds timeout);

    //! The bytes that have arrived; waits for some when none are buffered. An empty array means
    //! end of stream: the peer closed the connection (Qt reports a TCP reset the same way).
    //! Throws ReadTimeout when nothing arrives within \a timeout (the connection stays open),
    //! NetworkError/TlsError on socket errors or after close()/abort().
    [[nodiscard]] QCoro::Task<QByteArray> read(std::chrono::milliseconds timeout);

    //! Bounds how many received bytes may wait inside the process (0: no bound, the default).
    //! With a bound, a reader slower than the network leaves the rest in the kernel and TCP
    //! flow control slows the sender, so a streamed download's memory stays bounded however
    //! large the body is. Not the default: Qt then re-arms its read notifier on every read,
    //! which costs more than a small request's whole parse.
    void setReadBufferLimit(qint64 bytes);

    //! Graceful close: queued bytes are still sent. Waiting coroutines get a NetworkError.
    void close();
    //! Immediate close: queued bytes are dropped.
    void abort();

    //! Connected, not closed by us and no end of stream seen.
    bool isOpen() const;
    //! isOpen(), nothing unread, no error, and the peer has neither closed the connection nor
    //! sent bytes nobody asked for. For direct connections the kernel is asked too (one
    //! non-blocking peek), which catches what the event loop has not delivered yet: anything
    //! readable there, a FIN or any byte (for TLS: any record, e.g. a close_notify alert),
    //! makes the connection unusable.
    bool isUsableForReuse() const;
    //! True when the connection is TLS (the endpoint's tls).
    bool isEncrypted() const;
    //! After read() returned end of stream on a TLS connection: true when the peer ended it
    //! without a close_notify alert (a bare TCP FIN or a reset), so a body delimited by the
    //! close may have been cut short by anyone on the path. False for plain TCP, when
    //! close_notify came first, and while the stream has not ended.
    bool endedWithoutCloseNotify() const;
    //! True when the connection speaks HTTP/2: the server chose "h2" in ALPN, or the endpoint
    //! is plain TCP with HttpVersion::Http2PriorKnowledge. False before it is connected.
    bool isHttp2() const;

    //! Where the connection goes (set by connectToHost()).
    const Endpoint &endpoint() const;
    //! Unique for the life of the process, for logs and tests.
    quint64 id() const;
    //! How many times the connection has been handed out (the pool calls markUsed()).
    int useCount() const;
    //! Counts one more use (useCount()); the pool calls it when it hands the connection out.
    void markUsed();

    //! The underlying QTcpSocket or QSslSocket (null before connectToHost()), for the WebSocket
    //! layer and diagnostics. Do not delete it or read from it while a read() is pending.
    QAbstractSocket *socket() const;

Q_SIGNALS:
    //! An established connection was closed by the peer or failed (not by close()/abort()).
    //! Emitted before any waiting read()/write() resumes; once per connection.
    void closed();

private:
    friend class AsyncConnectionPrivate;
    friend class AsyncConnectionPoolPrivate;
    std::unique_ptr<AsyncConnectionPrivate> const d;
};

} // namespace Reqivo
