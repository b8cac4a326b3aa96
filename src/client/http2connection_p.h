// HTTP/2 in the client layer: the connections a pool keeps per origin, the streams they carry,
// and how a request finds one.
//
// Http2Connection drives one Protocol::Http2::ClientSession over one pooled AsyncConnection,
// whose lease it holds for its whole life (the pool counts it as one active connection). It
// reads from the socket's readyRead signal straight into the session, writes the session's
// output as the socket drains (bytesWritten), and turns session events into the state of its
// streams. Requests woken by a socket signal are resumed when the handler is done, still inside
// the signal (as HTTP/1.1 reads are): a resumed request may do anything, including destroying
// the session or the pool; the transport then deletes the emitting socket later (inSignal()).
// Requests woken from elsewhere (an abort, another request) are resumed from the event loop,
// since their waker is on the stack.
//
// Http2Origin is what requests to one pool key share: its live HTTP/2 connections, whether a
// first connection is still negotiating (ALPN), whether the server answered with HTTP/1.1, and
// a wait queue woken whenever any of that changes (a stream ends, a connection dies, SETTINGS
// or a PING ACK arrive). route() waits on it: while the first TLS connection to an origin is
// negotiating, further requests wait for its answer instead of opening more connections; when
// every stream the server allows is taken, requests queue (bounded by Timeout::poolAcquire)
// rather than opening a second connection.
#pragma once

#include <Reqivo/asyncconnection.h>
#include <Reqivo/asyncconnectionpool.h>
#include <Reqivo/endpoint.h>
#include <Reqivo/headers.h>
#include <Reqivo/limits.h>

#include "exchange_p.h"
#include "protocol/http2session.h"
#include "transport/asyncconnection_p.h"
#include "transport/asyncconnectionpool_p.h"
#include "transport/waitqueue_p.h"

#include <QBasicTimer>
#include <QObject>
#include <QTimer>

#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

namespace Reqivo::Client {

class Http2Connection;

//! One request's stream: what the connection received for it, and how it ended.
struct Http2Stream
{
    enum class Failure { None, Stream, Refused, Connection, Aborted };

    qint32 id = 0;
    std::deque<Protocol::ResponseHead> heads; //!< received, not yet taken (interim and final)
    QList<QByteArray> chunks; //!< body bytes received, not yet taken
    qint64 buffered = 0;
    Headers trailers;
    bool ended = false; //!< END_STREAM arrived: chunks hold the rest of the body
    bool closed = false; //!< no more events will come
    Failure failure = Failure::None;
    Protocol::Http2::StreamError streamError = Protocol::Http2::StreamError::None;
    quint32 errorCode = 0;
    QString connectionError; //!< for Failure::Connection: why the connection ended
    bool connectionProtocolError = false; //!< the connection ended by a protocol violation
    bool bodyWanted = false; //!< the session wants more request body
    //! The deadline of the wait in progress (Http2Connection::armDeadline()).
    Clock::time_point deadline;
    bool hasDeadline = false;
    bool timedOut = false; //!< the deadline passed while the exchange waited
    Transport::WaitQueue changed;
};

//! What the HTTP/2 requests to one pool key share (see the header comment).
struct Http2Origin : std::enable_shared_from_this<Http2Origin>
{
    QString key;
    std::vector<std::shared_ptr<Http2Connection>> connections;
    bool negotiating = false; //!< a first connection is being made and its ALPN is unknown
    bool http1 = false; //!< the last connection made for this key chose HTTP/1.1
    bool closed = false; //!< the pool is gone
    //! Requests given a stream on an existing connection (AsyncConnectionPool::statistics()).
    qint64 streamsReused = 0;
    Transport::WaitQueue changed;

    //! Wakes the waiters from the event loop (never inside the caller).
    void postWake();
    bool wakePosted = false;
};

class Http2Connection final : public std::enable_shared_from_this<Http2Connection>
{
public:
    Http2Connection(ConnectionLease lease, const Limits &limits, const PoolOptions &options,
                    std::shared_ptr<Http2Origin> origin);
    ~Http2Connection();
    Http2Connection(const Http2Connection &) = delete;
    Http2Connection &operator=(const Http2Connection &) = delete;

    //! Connects the socket's signals and sends the preface; call once, right after creation.
    void start();

    bool isAlive() const { return !m_dead; }
    //! Alive, not going away, and below the server's stream limit.
    bool hasCapacity() const;
    //! Alive and not going away (its streams may all be taken).
    bool acceptsStreams() const { return !m_dead && m_session.canOpenStream(); }
    int openStreams() const { return int(m_streams.size()); }
    //! Requests this connection has carried (the first one is not "reused").
    int streamsStarted() const { return m_streamsStarted; }
    quint64 id() const { return m_id; }
    //! The connection the session runs on.
    AsyncConnection *transport() const { return m_conn; }
    const Endpoint &endpoint() const { return m_endpoint; }

    //! Idle for pingAfterIdle or longer: a PING must confirm the peer before the next request.
    bool needsLivenessCheck() const;
    //! Sends that PING (once); the origin is woken when its ACK arrives.
    void startLivenessCheck();
    bool livenessCheckPending() const { return m_pingPending; }
    //! The PING went unanswered: the connection is closed, its streams fail.
    void failLivenessCheck();

    //! Opens a stream; null (with \a error) when the session cannot.
    std::shared_ptr<Http2Stream> open(const Protocol::Http2::ClientSession::Request &request,
                                      QString *error);
    void appendBody(Http2Stream &stream, const QByteArray &data);
    void endBody(Http2Stream &stream);
    qint64 queuedBodyBytes(const Http2Stream &stream) const;
    //! The user took \a bytes of the stream's body: its window opens.
    void consume(Http2Stream &stream, qint64 bytes);
    //! Ends the stream from our side: RST_STREAM(\a code) unless it has closed; it is then
    //! failed with Failure::Aborted (when \a aborted) and leaves the connection.
    void cancel(Http2Stream &stream, quint32 code, bool aborted);
    //! The exchange is done with the stream (ended or failed): it leaves the connection.
    void release(Http2Stream &stream);
    //! Sets the stream's Http2Stream::timedOut and wakes it if it is still waiting \a timeout
    //! from now. One timer serves every stream (no timer per wait): it is moved lazily, like
    //! the transport's read deadline.
    void armDeadline(Http2Stream &stream, std::chrono::milliseconds timeout);
    //! GOAWAY, fail every stream, close: the pool is going or clear() was called for an idle
    //! connection.
    void shutdown(const QString &why);

    //! Why the connection failed (for a stream's error), and whether by a protocol violation.
    QString failureMessage() const { return m_failureMessage; }
    bool failedByProtocol() const { return m_protocolFailure; }

private:
    void onReadable();
    void onBytesWritten();
    void onTransportClosed();
    void dispatch();
    void flush();
    //! flush() now, or at the end of the signal being handled (see inSignal()).
    void requestFlush();
    void streamClosed(qint32 id);
    void die(const QString &why, bool protocol);
    void wake(const std::shared_ptr<Http2Stream> &stream);
    void runWakes();
    //! Runs \a handler for one of the socket's (or the idle timer's) signals, then resumes the
    //! requests it woke: in the same turn of the event loop, as HTTP/1.1 reads do. While the
    //! signal runs (the resumed requests included), the connection is never deleted, only
    //! handed back later: the socket is still emitting.
    template<typename F>
    void inSignal(F &&handler)
    {
        // Deleting the connection in here (die(), or a pool destroyed by a resumed request)
        // must leave the emitting socket alive: the transport's own handlers have the same
        // flag for the same reason (AsyncConnectionPrivate::callOut()).
        // Chained like callOut()'s: when the transport's own callOut() is further up the stack
        // (its closed() signal), it learns of a deletion from us.
        bool destroyed = false;
        AsyncConnectionPrivate *transport = m_conn ? AsyncConnectionPrivate::get(m_conn) : nullptr;
        bool *const outer = transport ? std::exchange(transport->m_destroyedFlag, &destroyed)
                                      : nullptr;
        ++m_signalDepth;
        handler();
        if (m_signalDepth == 1) {
            while (!m_toWake.empty() || m_flushPending) {
                runWakes();
                if (m_flushPending && !m_dead)
                    flush(); // may queue wakes (BodyWanted): the loop resumes them too
                m_flushPending = false;
            }
        }
        --m_signalDepth;
        if (!transport)
            return;
        if (destroyed) {
            if (outer)
                *outer = true;
        } else {
            transport->m_destroyedFlag = outer;
        }
    }
    void armIdleTimer();
    void onDeadline();
    //! The one timer of the streams' deadlines.
    class DeadlineTimer final : public QObject
    {
    public:
        explicit DeadlineTimer(Http2Connection *c) : m_c(c) { }
        void arm(Clock::time_point at);
        void stop() { m_timer.stop(); }

    protected:
        void timerEvent(QTimerEvent *event) override;

    private:
        Http2Connection *m_c;
        QBasicTimer m_timer;
        Clock::time_point m_due;
    };

    ConnectionLease m_lease;
    AsyncConnection *m_conn = nullptr;
    QAbstractSocket *m_socket = nullptr;
    Endpoint m_endpoint;
    quint64 m_id = 0;
    Protocol::Http2::ClientSession m_session;
    PoolOptions m_options;
    std::shared_ptr<Http2Origin> m_origin;
    std::unordered_map<qint32, std::shared_ptr<Http2Stream>> m_streams;
    std::vector<std::shared_ptr<Http2Stream>> m_toWake;
    bool m_wakePosted = false;
    int m_signalDepth = 0; //!< > 0 while inSignal() runs
    bool m_readPosted = false; //!< flush() found bytes nobody will announce
    bool m_flushPending = false; //!< requestFlush() inside a signal
    int m_inBytesWritten = 0; //!< > 0 while onBytesWritten() runs
    QObject m_context; //!< signal connections and posted calls; dies with the connection
    QTimer m_idleTimer;
    DeadlineTimer m_deadlines {this};
    Clock::time_point m_lastFrame;
    int m_streamsStarted = 0;
    int m_reading = 0;
    bool m_dead = false;
    bool m_protocolFailure = false;
    bool m_pingPending = false;
    bool m_eof = false;
    QString m_failureMessage;
};

//! The HTTP/2 side of one pool: its origins. Lives in the pool (Transport::PoolExtension).
class Http2Registry final : public Transport::PoolExtension
{
public:
    ~Http2Registry() override;
    static Http2Registry &of(AsyncConnectionPool &pool);
    std::shared_ptr<Http2Origin> origin(const QString &key);
    void closeIdle() override;
    void addStatistics(const QString &key, PoolOriginStatistics &statistics) const override;

private:
    std::unordered_map<QString, std::shared_ptr<Http2Origin>> m_origins;
};

//! Where route() sends a request: an HTTP/2 connection, or an HTTP/1.1 lease.
struct Http2Route
{
    std::shared_ptr<Http2Connection> h2;
    ConnectionLease lease;
};

//! Finds the connection for a request to \a endpoint (which offers HTTP/2): a live HTTP/2
//! connection with a free stream, or the connection made for it, which becomes an HTTP/2
//! connection when the server chose h2 and is handed back as an HTTP/1.1 lease otherwise.
//! Waits (within \a wait, the pool-acquire budget) while the origin's first connection
//! negotiates, while every stream is taken, and while an idle connection's PING is out; the
//! connect uses \a connect. \a fresh: never an idle HTTP/1.1 connection (the stale retry).
//! Throws PoolTimeout, ConnectTimeout, what connecting throws, and RequestError("aborted").
QCoro::Task<Http2Route> routeHttp2(QPointer<AsyncConnectionPool> pool, Endpoint endpoint,
                                   Limits limits, WaitBudget connect, WaitBudget wait,
                                   std::shared_ptr<CancelToken> cancel, QUrl url, bool fresh);

//! One request as one stream of \a connection: sends the request (fields as prepared: the
//! Host field becomes :authority) and \a body, reads the response like runExchange().
//! A stream the server refused (REFUSED_STREAM, or above a GOAWAY's last-stream-id) throws
//! NetworkError with progress->refused set: it was never processed and may be sent again.
QCoro::Task<Response> runHttp2Exchange(std::shared_ptr<Http2Connection> connection,
                                       QByteArray method, QUrl url, Headers fields, Body body,
                                       ExchangeSettings settings, ExchangeProgress *progress);

} // namespace Reqivo::Client
