// Http2Connection, Http2Origin, Http2Registry and routeHttp2(): see http2connection_p.h.
#include "http2connection_p.h"

#include <Reqivo/errors.h>
#include <Reqivo/timeout.h>

#include "transport/asyncconnection_p.h"

#include <QAbstractSocket>
#include <QTimerEvent>
#include <QLoggingCategory>

namespace Reqivo::Client {

using namespace std::chrono;
using Protocol::Http2::ClientSession;
using Protocol::Http2::StreamError;

namespace {
Q_LOGGING_CATEGORY(lcHttp2, "reqivo.http2", QtWarningMsg)

// The session's output goes to the socket while less than this waits there; bytesWritten
// brings the rest. Bounds what a large upload keeps in Qt's write buffer.
constexpr qint64 writeHighWater = 512 * 1024;
// What onReadable() hands the session at a time.
constexpr qint64 readPieceBytes = 128 * 1024;
// Writes up to this size are handed to the kernel at once (see flush()).
constexpr qint64 smallWriteBytes = 16 * 1024;

// Posts \a f to run from the event loop of the calling thread.
template<typename F>
void post(F f)
{
    QTimer::singleShot(0, std::move(f));
}
} // namespace

// --- Http2Origin -------------------------------------------------------------------------------

void Http2Origin::postWake()
{
    // Nobody waits: whoever comes next looks at the state before waiting.
    if (wakePosted || changed.isEmpty())
        return;
    wakePosted = true;
    // The origin is shared with every waiter; the posted call keeps it alive.
    post([self = shared_from_this()] {
        self->wakePosted = false;
        self->changed.wakeAll();
    });
}

// --- Http2Connection ---------------------------------------------------------------------------

Http2Connection::Http2Connection(ConnectionLease lease, const Limits &limits,
                                 const PoolOptions &options, std::shared_ptr<Http2Origin> origin)
    : m_lease(std::move(lease))
    , m_conn(m_lease.connection())
    , m_socket(m_conn ? m_conn->socket() : nullptr)
    , m_session(limits)
    , m_options(options)
    , m_origin(std::move(origin))
    , m_lastFrame(Clock::now())
{
    if (m_conn) {
        m_endpoint = m_conn->endpoint();
        m_id = m_conn->id();
        m_conn->setReadBufferLimit(0);
    }
    m_idleTimer.setSingleShot(true);
}

Http2Connection::~Http2Connection()
{
    // Every stream is held by its exchange, which holds this connection: none is left waiting.
    if (m_lease.connection()) {
        QObject::disconnect(m_lease.connection(), nullptr, &m_context, nullptr);
        if (m_socket)
            QObject::disconnect(m_socket, nullptr, &m_context, nullptr);
        // Never deleted here: this may run inside one of the socket's own signals.
        post([lease = std::make_shared<ConnectionLease>(std::move(m_lease))] {
            lease->discard();
        });
    }
}

void Http2Connection::start()
{
    if (!m_conn || !m_socket || !m_conn->isOpen()) {
        die(QStringLiteral("the connection closed before HTTP/2 started"), false);
        return;
    }
    const std::weak_ptr<Http2Connection> weak = weak_from_this();
    QObject::connect(m_socket, &QIODevice::readyRead, &m_context, [weak] {
        if (auto self = weak.lock())
            self->inSignal([&] { self->onReadable(); });
    });
    QObject::connect(m_socket, &QIODevice::bytesWritten, &m_context, [weak] {
        if (auto self = weak.lock())
            self->inSignal([&] { self->onBytesWritten(); });
    });
    QObject::connect(m_conn, &AsyncConnection::closed, &m_context, [weak] {
        if (auto self = weak.lock())
            self->inSignal([&] { self->onTransportClosed(); });
    });
    QObject::connect(&m_idleTimer, &QTimer::timeout, &m_context, [weak] {
        if (auto self = weak.lock()) {
            self->inSignal([&] {
                if (self->m_streams.empty() && !self->m_dead) {
                    qCDebug(lcHttp2) << "connection" << self->m_id << "idle: closing";
                    self->m_session.goAway();
                    self->flush();
                    self->die(QStringLiteral("the HTTP/2 connection was idle"), false);
                }
            });
        }
    });
    qCDebug(lcHttp2) << "connection" << m_id << "to" << m_endpoint.description()
                     << "speaks HTTP/2";
    flush(); // the preface
    if (m_socket->bytesAvailable() > 0)
        onReadable(); // the server's SETTINGS may have come with the handshake
    armIdleTimer();
}

bool Http2Connection::hasCapacity() const
{
    return !m_dead && m_session.canOpenStream()
        && quint32(m_streams.size()) < m_session.remoteMaxConcurrentStreams();
}

bool Http2Connection::needsLivenessCheck() const
{
    if (m_dead || !m_streams.empty() || Timeout::isNoLimit(m_options.http2PingAfterIdle))
        return false;
    return Clock::now() - m_lastFrame >= m_options.http2PingAfterIdle;
}

void Http2Connection::startLivenessCheck()
{
    if (m_pingPending || m_dead)
        return;
    m_pingPending = true;
    m_session.ping("reqivo-p");
    requestFlush();
}

void Http2Connection::failLivenessCheck()
{
    if (m_dead)
        return;
    qCDebug(lcHttp2) << "connection" << m_id << "did not answer a PING: closing";
    die(QStringLiteral("the server did not answer an HTTP/2 PING"), false);
}

std::shared_ptr<Http2Stream> Http2Connection::open(const ClientSession::Request &request,
                                                   QString *error)
{
    if (m_dead) {
        *error = m_failureMessage;
        return nullptr;
    }
    const qint32 id = m_session.submitRequest(request, error);
    if (id <= 0)
        return nullptr;
    auto stream = std::make_shared<Http2Stream>();
    stream->id = id;
    m_streams.emplace(id, stream);
    ++m_streamsStarted;
    m_idleTimer.stop();
    requestFlush();
    return stream;
}

void Http2Connection::appendBody(Http2Stream &stream, const QByteArray &data)
{
    if (stream.closed || m_dead)
        return;
    stream.bodyWanted = false;
    m_session.appendBody(stream.id, data);
    requestFlush();
}

void Http2Connection::endBody(Http2Stream &stream)
{
    if (stream.closed || m_dead)
        return;
    m_session.endBody(stream.id);
    requestFlush();
}

qint64 Http2Connection::queuedBodyBytes(const Http2Stream &stream) const
{
    return stream.closed ? 0 : m_session.queuedBodyBytes(stream.id);
}

void Http2Connection::consume(Http2Stream &stream, qint64 bytes)
{
    if (m_dead || bytes <= 0)
        return;
    m_session.consume(stream.id, bytes);
    requestFlush();
}

void Http2Connection::cancel(Http2Stream &stream, quint32 code, bool aborted)
{
    if (aborted && stream.failure == Http2Stream::Failure::None && !stream.ended)
        stream.failure = Http2Stream::Failure::Aborted;
    if (!stream.closed) {
        stream.closed = true;
        if (!m_dead) {
            m_session.resetStream(stream.id, code);
            requestFlush();
        }
    }
    const auto it = m_streams.find(stream.id);
    if (it != m_streams.end()) {
        const std::shared_ptr<Http2Stream> kept = it->second;
        streamClosed(stream.id);
        wake(kept);
    }
}

void Http2Connection::release(Http2Stream &stream)
{
    if (!stream.closed) {
        cancel(stream, Protocol::Http2::Cancel, false);
        return;
    }
    if (m_streams.count(stream.id))
        streamClosed(stream.id);
}

void Http2Connection::armDeadline(Http2Stream &stream, milliseconds timeout)
{
    stream.timedOut = false;
    stream.hasDeadline = true;
    stream.deadline = Clock::now() + timeout;
    m_deadlines.arm(stream.deadline);
}

void Http2Connection::DeadlineTimer::arm(Clock::time_point at)
{
    if (m_timer.isActive() && m_due <= at)
        return; // it fires first and moves itself to what is due then
    m_due = at;
    const auto wait = std::max(milliseconds::zero(), ceil<milliseconds>(at - Clock::now()));
    m_timer.start(int(std::min<milliseconds::rep>(wait.count(), INT_MAX)), this);
}

void Http2Connection::DeadlineTimer::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_timer.timerId()) {
        QObject::timerEvent(event);
        return;
    }
    m_timer.stop();
    if (auto self = m_c->weak_from_this().lock())
        self->inSignal([&] { self->onDeadline(); });
}

void Http2Connection::onDeadline()
{
    const Clock::time_point now = Clock::now();
    std::optional<Clock::time_point> next;
    std::vector<std::shared_ptr<Http2Stream>> expired;
    for (const auto &[id, stream] : m_streams) {
        if (!stream->hasDeadline)
            continue;
        if (stream->changed.isEmpty()) {
            stream->hasDeadline = false; // nobody waits any more
        } else if (stream->deadline <= now) {
            stream->hasDeadline = false;
            stream->timedOut = true;
            expired.push_back(stream);
        } else if (!next || stream->deadline < *next) {
            next = stream->deadline;
        }
    }
    if (next)
        m_deadlines.arm(*next);
    for (const std::shared_ptr<Http2Stream> &stream : expired)
        wake(stream);
}

void Http2Connection::shutdown(const QString &why)
{
    if (m_dead)
        return;
    m_session.goAway();
    flush();
    die(why, false);
}

void Http2Connection::onReadable()
{
    if (m_dead || m_reading > 0 || !m_socket)
        return;
    const std::shared_ptr<Http2Connection> self = shared_from_this();
    ++m_reading;
    bool failed = false;
    while (!m_dead && m_socket && m_socket->bytesAvailable() > 0) {
        // In pieces: what one read brings for a stream becomes one buffer, and buffers much
        // larger than this cost page faults and copies as they grow.
        const QByteArray bytes = m_socket->read(std::min<qint64>(m_socket->bytesAvailable(),
                                                                 readPieceBytes));
        m_lastFrame = Clock::now();
        if (!m_session.receive(bytes)) {
            failed = true;
            break;
        }
        dispatch(); // each piece's data apart (a stream's end may end the connection)
    }
    --m_reading;
    if (m_dead)
        return;
    dispatch();
    flush();
    if (failed) {
        qCDebug(lcHttp2) << "connection" << m_id << "failed:" << m_session.errorMessage();
        die(m_session.errorMessage(), true);
    } else if (m_eof) {
        onTransportClosed();
    }
}

void Http2Connection::onBytesWritten()
{
    if (m_dead)
        return;
    const std::shared_ptr<Http2Connection> self = shared_from_this();
    ++m_inBytesWritten;
    flush();
    --m_inBytesWritten;
}

void Http2Connection::onTransportClosed()
{
    if (m_dead)
        return;
    m_eof = true;
    if (m_reading > 0)
        return; // onReadable() finishes first and comes back here
    if (m_socket && m_socket->bytesAvailable() > 0) {
        onReadable();
        return;
    }
    const std::shared_ptr<Http2Connection> self = shared_from_this();
    m_session.receiveEof();
    dispatch();
    QString why = QStringLiteral("the server closed the HTTP/2 connection");
    if (m_conn) {
        const AsyncConnectionPrivate *transport = AsyncConnectionPrivate::get(m_conn);
        if (transport->m_failed && !transport->m_errorString.isEmpty())
            why += QStringLiteral(" (") + transport->m_errorString + QLatin1Char(')');
    }
    die(why, false);
}

void Http2Connection::dispatch()
{
    while (m_session.hasEvents()) {
        ClientSession::Event e = m_session.nextEvent();
        using Type = ClientSession::EventType;
        if (e.type == Type::None)
            break;
        if (e.type == Type::GoAway || e.type == Type::Settings || e.type == Type::PingAck) {
            if (e.type == Type::PingAck)
                m_pingPending = false;
            if (e.type == Type::GoAway)
                qCDebug(lcHttp2) << "connection" << m_id << "GOAWAY last stream"
                                 << e.lastStreamId
                                 << Protocol::Http2::errorCodeName(e.errorCode);
            if (m_origin)
                m_origin->postWake();
            continue;
        }
        const auto it = m_streams.find(e.stream);
        if (it == m_streams.end())
            continue; // a stream we cancelled
        const std::shared_ptr<Http2Stream> stream = it->second;
        switch (e.type) {
        case Type::Head:
            stream->heads.push_back(std::move(e.head));
            break;
        case Type::Data:
            stream->buffered += e.data.size();
            stream->chunks.append(std::move(e.data));
            break;
        case Type::Trailers:
            stream->trailers = std::move(e.head.headers);
            break;
        case Type::End:
            stream->ended = true;
            stream->closed = true;
            streamClosed(stream->id);
            break;
        case Type::Reset:
            stream->closed = true;
            stream->streamError = e.streamError;
            stream->errorCode = e.errorCode;
            if (e.streamError == StreamError::RefusedByGoAway
                || (e.streamError == StreamError::ResetByPeer
                    && e.errorCode == Protocol::Http2::RefusedStream)) {
                stream->failure = Http2Stream::Failure::Refused;
            } else if (e.streamError == StreamError::ConnectionError) {
                stream->failure = Http2Stream::Failure::Connection;
                stream->connectionProtocolError = m_session.hasFailed();
                stream->connectionError = m_session.hasFailed()
                        ? m_session.errorMessage()
                        : QStringLiteral("the HTTP/2 connection ended");
            } else {
                stream->failure = Http2Stream::Failure::Stream;
            }
            streamClosed(stream->id);
            break;
        case Type::BodyWanted:
            stream->bodyWanted = true;
            break;
        default:
            break;
        }
        wake(stream);
    }
}

void Http2Connection::requestFlush()
{
    // Inside a signal, the requests it resumes write together when they are done: one TLS
    // record and one system call for all of them, as curl does.
    if (m_signalDepth > 0)
        m_flushPending = true;
    else
        flush();
}

void Http2Connection::flush()
{
    m_flushPending = false;
    if (m_dead || !m_socket)
        return;
    qint64 wrote = 0;
    while (m_session.wantsWrite() && m_socket->bytesToWrite() < writeHighWater) {
        const QByteArray out = m_session.takeOutput(writeHighWater);
        if (out.isEmpty())
            break;
        m_socket->write(out);
        wrote += out.size();
    }
    // Small writes (a request's HEADERS, WINDOW_UPDATE, PING) go to the kernel now: QSslSocket
    // would otherwise wait for the next turn of the event loop when written to from inside its
    // own signals. Not bulk data, and not from inside bytesWritten: flushing there keeps the
    // socket from announcing the next bytesWritten, and the upload would stall.
    if (wrote > 0 && wrote <= smallWriteBytes && m_inBytesWritten == 0) {
        m_socket->flush();
        // A TLS socket's flush also decrypts what has arrived, and inside its own readyRead it
        // does not announce that again: read it from the event loop.
        if (m_socket && m_socket->bytesAvailable() > 0 && !m_readPosted) {
            m_readPosted = true;
            post([weak = weak_from_this()] {
                if (auto self = weak.lock()) {
                    self->m_readPosted = false;
                    self->inSignal([&] { self->onReadable(); });
                }
            });
        }
    }
    if (m_session.hasEvents() && m_reading == 0)
        dispatch(); // BodyWanted from takeOutput()
}

void Http2Connection::streamClosed(qint32 id)
{
    m_streams.erase(id);
    if (m_origin)
        m_origin->postWake(); // a stream slot is free
    if (m_streams.empty() && !m_dead) {
        if (!m_session.canOpenStream()) {
            // GOAWAY received or sent, or ids used up: nothing more will come this way.
            die(QStringLiteral("the HTTP/2 connection is going away"), false);
            return;
        }
        armIdleTimer();
    }
}

void Http2Connection::armIdleTimer()
{
    if (m_dead || !m_streams.empty())
        return;
    const milliseconds idle = m_options.maxIdleTime;
    if (idle > milliseconds::zero())
        m_idleTimer.start(int(std::min<milliseconds::rep>(idle.count(), INT_MAX)));
}

void Http2Connection::die(const QString &why, bool protocol)
{
    if (m_dead)
        return;
    m_dead = true;
    m_failureMessage = why;
    m_protocolFailure = protocol;
    m_idleTimer.stop();
    m_deadlines.stop();
    const std::shared_ptr<Http2Connection> self = shared_from_this();
    // Whatever is still open fails with the connection.
    const auto streams = std::exchange(m_streams, {});
    for (const auto &[id, stream] : streams) {
        if (!stream->closed) {
            stream->closed = true;
            stream->failure = Http2Stream::Failure::Connection;
            stream->connectionError = why;
            stream->connectionProtocolError = protocol;
        }
        wake(stream);
    }
    if (m_socket) {
        m_socket->flush(); // the GOAWAY, if one is queued
        QObject::disconnect(m_socket, nullptr, &m_context, nullptr);
    }
    if (m_conn) {
        QObject::disconnect(m_conn, nullptr, &m_context, nullptr);
        m_conn->abort();
    }
    // The connection goes now: nothing is left for an event loop that may never run again.
    // Inside one of its socket's signals, the transport deletes the socket later (inSignal()).
    m_lease.discard();
    m_conn = nullptr;
    m_socket = nullptr;
    if (m_origin) {
        auto &list = m_origin->connections;
        list.erase(std::remove(list.begin(), list.end(), self), list.end());
        m_origin->postWake();
    }
}

void Http2Connection::wake(const std::shared_ptr<Http2Stream> &stream)
{
    if (stream->changed.isEmpty())
        return; // its exchange is not waiting: it looks at the stream before it waits
    m_toWake.push_back(stream);
    // Inside a signal, inSignal() resumes them when the handler is done; otherwise the caller
    // is on the stack and they are resumed from the event loop.
    if (m_wakePosted || m_signalDepth > 0)
        return;
    m_wakePosted = true;
    post([weak = weak_from_this()] {
        if (auto self = weak.lock())
            self->runWakes();
    });
}

void Http2Connection::runWakes()
{
    m_wakePosted = false;
    while (!m_toWake.empty()) {
        const auto streams = std::exchange(m_toWake, {});
        for (const std::shared_ptr<Http2Stream> &stream : streams)
            stream->changed.wakeAll();
    }
}

// --- Http2Registry -----------------------------------------------------------------------------

Http2Registry::~Http2Registry()
{
    for (const auto &[key, origin] : m_origins) {
        origin->closed = true;
        const auto connections = origin->connections;
        for (const std::shared_ptr<Http2Connection> &connection : connections)
            connection->shutdown(QStringLiteral("the connection pool was destroyed"));
        origin->postWake();
    }
}

Http2Registry &Http2Registry::of(AsyncConnectionPool &pool)
{
    std::unique_ptr<Transport::PoolExtension> &slot = AsyncConnectionPoolPrivate::http2Of(pool);
    if (!slot)
        slot = std::make_unique<Http2Registry>();
    return static_cast<Http2Registry &>(*slot);
}

std::shared_ptr<Http2Origin> Http2Registry::origin(const QString &key)
{
    std::shared_ptr<Http2Origin> &origin = m_origins[key];
    if (!origin) {
        origin = std::make_shared<Http2Origin>();
        origin->key = key;
    }
    return origin;
}

void Http2Registry::closeIdle()
{
    for (const auto &[key, origin] : m_origins) {
        const auto connections = origin->connections;
        for (const std::shared_ptr<Http2Connection> &connection : connections) {
            if (connection->openStreams() == 0)
                connection->shutdown(QStringLiteral("idle connections were closed"));
        }
    }
}

void Http2Registry::addStatistics(const QString &key, PoolOriginStatistics &statistics) const
{
    const auto it = m_origins.find(key);
    if (it == m_origins.end())
        return;
    for (const std::shared_ptr<Http2Connection> &connection : it->second->connections)
        statistics.http2 += connection->isAlive() ? 1 : 0;
    statistics.reused += it->second->streamsReused;
}

// --- routeHttp2 --------------------------------------------------------------------------------

namespace {

[[noreturn]] void throwPoolGone(const QUrl &url)
{
    throw RequestError(QStringLiteral("the session was destroyed during the request"), url);
}

// The best live connection with a free stream: the one carrying the most streams (fewer
// connections stay busy), skipping those whose PING is out.
std::shared_ptr<Http2Connection> pickConnection(const Http2Origin &origin)
{
    std::shared_ptr<Http2Connection> best;
    for (const std::shared_ptr<Http2Connection> &c : origin.connections) {
        if (!c->hasCapacity() || c->livenessCheckPending())
            continue;
        if (!best || c->openStreams() > best->openStreams())
            best = c;
    }
    return best;
}

} // namespace

QCoro::Task<Http2Route> routeHttp2(QPointer<AsyncConnectionPool> pool, Endpoint endpoint,
                                   Limits limits, WaitBudget connect, WaitBudget wait,
                                   std::shared_ptr<CancelToken> cancel, QUrl url, bool fresh)
{
    if (!pool)
        throwPoolGone(url);
    const std::shared_ptr<Http2Origin> origin = Http2Registry::of(*pool).origin(endpoint.key());
    const Clock::time_point waitStart = Clock::now();
    const auto waitLeft = [&]() -> milliseconds {
        if (Timeout::isNoLimit(wait.wait))
            return Timeout::noLimit;
        const auto spent = duration_cast<milliseconds>(Clock::now() - waitStart);
        return std::max(milliseconds::zero(), wait.wait - spent);
    };
    // Waits for a change at the origin (or \a limit), within the pool-acquire budget.
    const auto waitForChange = [&](milliseconds limit) -> QCoro::Task<bool> {
        milliseconds left = waitLeft();
        if (!Timeout::isNoLimit(limit) && (Timeout::isNoLimit(left) || limit < left))
            left = limit;
        if (left == milliseconds::zero() && !Timeout::isNoLimit(left))
            co_return false;
        // The request's abort wakes the wait at once.
        if (cancel)
            cancel->setHandler([origin] { origin->postWake(); });
        const bool woken = co_await origin->changed.wait(left);
        if (cancel) {
            cancel->clearHandler();
            cancel->check(url);
        }
        co_return woken;
    };
    const auto poolTimeout = [&]() {
        throw PoolTimeout(QStringLiteral("no HTTP/2 stream to %1 became free within %2 ms "
                                         "(Timeout::poolAcquire)")
                                  .arg(endpoint.description())
                                  .arg(wait.wait.count()),
                          url);
    };

    while (true) {
        if (cancel)
            cancel->check(url);
        if (origin->closed || !pool)
            throwPoolGone(url);
        if (!fresh) {
            if (std::shared_ptr<Http2Connection> c = pickConnection(*origin)) {
                if (!c->needsLivenessCheck()) {
                    ++origin->streamsReused;
                    Http2Route route;
                    route.h2 = std::move(c);
                    co_return route;
                }
                // Idle for long: a PING must come back before a request goes out on it.
                c->startLivenessCheck();
                const auto deadline = Clock::now() + pool->options().http2PingTimeout;
                while (c->isAlive() && c->livenessCheckPending()) {
                    const auto left = ceil<milliseconds>(deadline - Clock::now());
                    if (left <= milliseconds::zero()) {
                        c->failLivenessCheck(); // a new connection follows
                        break;
                    }
                    if (!co_await waitForChange(left) && waitLeft() == milliseconds::zero())
                        poolTimeout();
                }
                if (c->isAlive() && !c->livenessCheckPending() && c->hasCapacity()) {
                    ++origin->streamsReused;
                    Http2Route route;
                    route.h2 = std::move(c);
                    co_return route;
                }
                continue;
            }
            if (!origin->connections.empty() || origin->negotiating) {
                // Every stream is taken, or the first connection is still negotiating.
                bool busy = origin->negotiating;
                for (const std::shared_ptr<Http2Connection> &c : origin->connections)
                    busy = busy || c->acceptsStreams();
                if (busy) {
                    if (!co_await waitForChange(Timeout::noLimit))
                        poolTimeout();
                    continue;
                }
            }
        }
        // A connection of our own: while it negotiates, the others wait for its answer.
        const bool negotiator = !origin->negotiating && !origin->http1;
        if (negotiator)
            origin->negotiating = true;
        ConnectionLease lease;
        try {
            lease = co_await AsyncConnectionPoolPrivate::acquireAbortable(
                    *pool, endpoint, connect.wait, waitLeft(), cancel, fresh);
        } catch (...) {
            if (negotiator) {
                origin->negotiating = false;
                origin->postWake();
            }
            throw;
        }
        if (negotiator) {
            origin->negotiating = false;
            origin->postWake();
        }
        if (origin->closed || !pool)
            throwPoolGone(url);
        AsyncConnection *c = lease.connection();
        if (c && c->isHttp2()) {
            origin->http1 = false;
            PoolOptions options = pool->options();
            auto h2 = std::make_shared<Http2Connection>(std::move(lease), limits, options, origin);
            origin->connections.push_back(h2);
            h2->start();
            if (!h2->isAlive())
                continue;
            Http2Route route;
            route.h2 = std::move(h2);
            co_return route;
        }
        if (c && !lease.isReused())
            origin->http1 = true; // the server chose HTTP/1.1 in ALPN
        Http2Route route;
        route.lease = std::move(lease);
        co_return route;
    }
}

} // namespace Reqivo::Client
