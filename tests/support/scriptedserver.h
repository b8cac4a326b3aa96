// The core of the in-process scripted HTTP/1.1 peers on 127.0.0.1 (FaultServer in
// integration/session, ThreadedServer in integration/sync): every byte and every fault is
// scripted by the test.
//
// ScriptedConnections takes the sockets a server accepts and parses their requests just enough to
// hand them, complete (head and Content-Length or chunked body), to a handler, which answers
// through the ServerConnection: exact bytes, bytes trickled on a timer or written after a delay, a
// graceful close, or a TCP reset. It counts what a test needs to prove pooling and retry behaviour
// from the outside: connections accepted, connections open at once (and the peak), requests and
// raw bytes received. The servers themselves only listen and accept, on the thread they choose:
// handlers run on the thread the connections live on. The counters are atomic and the request
// list is copied out under a mutex, so they are safe to read from any thread.
#pragma once

#include <QByteArray>
#include <QList>
#include <QMutex>
#include <QMutexLocker>
#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

#include "support/kernelack.h"

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <utility>

namespace ReqivoTest {

struct ReceivedRequest
{
    int connection = 0; //!< 1 for the first connection accepted, 2 for the next, ...
    int indexOnConnection = 0; //!< 0 for the first request on its connection
    QByteArray method;
    QByteArray target;
    QByteArray version; //!< "HTTP/1.1"
    QByteArray head; //!< the request line and fields as received, without the blank line
    QList<std::pair<QByteArray, QByteArray>> fields;
    QByteArray body; //!< de-chunked
    bool chunked = false;
    bool tls = false; //!< arrived over TLS (see FaultServer::enableTls())

    QByteArray field(QByteArrayView name) const
    {
        for (const auto &[n, v] : fields) {
            if (QByteArrayView(n).compare(name, Qt::CaseInsensitive) == 0)
                return v;
        }
        return {};
    }
    bool hasField(QByteArrayView name) const
    {
        for (const auto &f : fields) {
            if (QByteArrayView(f.first).compare(name, Qt::CaseInsensitive) == 0)
                return true;
        }
        return false;
    }
};

//! "HTTP/1.1 <status> <reason>\r\n<extra>Content-Length: n\r\n\r\n<body>".
inline QByteArray httpResponse(int status, const QByteArray &body = {},
    const QByteArray &extraFields = {}, const QByteArray &reason = "OK")
{
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\n" + extraFields
        + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

//! Parses one complete request off the front of \a buffer; false when more bytes are needed.
//! \a server names the server in the message of a fatal parse error.
inline bool takeRequest(QByteArray &buffer, ReceivedRequest &out, const char *server)
{
    const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return false;
    ReceivedRequest r;
    const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    r.method = requestLine.value(0);
    r.target = requestLine.value(1);
    r.version = requestLine.value(2);
    r.head = buffer.left(headEnd);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon <= 0)
            continue;
        r.fields.append({lines[i].left(colon), lines[i].mid(colon + 1).trimmed()});
    }
    r.chunked = r.field("transfer-encoding").toLower().contains("chunked");
    qsizetype pos = headEnd + 4;
    if (r.chunked) {
        while (true) {
            const qsizetype lineEnd = buffer.indexOf("\r\n", pos);
            if (lineEnd < 0)
                return false;
            bool ok = false;
            const qint64 size
                = buffer.mid(pos, lineEnd - pos).split(';').value(0).trimmed().toLongLong(&ok, 16);
            if (!ok)
                qFatal("%s: bad chunk size line", server);
            pos = lineEnd + 2;
            if (size == 0) {
                // Trailer section, ended by an empty line.
                while (true) {
                    const qsizetype end = buffer.indexOf("\r\n", pos);
                    if (end < 0)
                        return false;
                    const bool blank = end == pos;
                    pos = end + 2;
                    if (blank)
                        break;
                }
                break;
            }
            if (buffer.size() < pos + size + 2)
                return false;
            r.body += buffer.mid(pos, size);
            pos += size + 2;
        }
    } else {
        const qint64 length = r.field("content-length").toLongLong();
        if (buffer.size() < pos + length)
            return false;
        r.body = buffer.mid(pos, length);
        pos += length;
    }
    buffer.remove(0, pos);
    out = r;
    return true;
}

//! One accepted connection, used from the thread it lives on only (inside handlers).
class ServerConnection : public QObject
{
public:
    ServerConnection(QTcpSocket *socket, int id, bool tls, bool flushEachWrite, QObject *parent)
        : QObject(parent)
        , m_socket(socket)
        , m_id(id)
        , m_tls(tls)
        , m_flushEachWrite(flushEachWrite)
    {
        socket->setParent(this);
    }

    int id() const { return m_id; }
    bool isTls() const { return m_tls; }
    QTcpSocket *socket() const { return m_socket; }
    bool isOpen() const { return m_open; }
    const QByteArray &received() const { return m_received; }

    //! Queues \a bytes, and flushes them at once if the server asked for that.
    void write(const QByteArray &bytes)
    {
        if (m_open) {
            m_socket->write(bytes);
            if (m_flushEachWrite)
                m_socket->flush();
        }
    }
    //! Writes \a bytes after \a delay (from the connection's event loop), then closes if asked.
    void writeLater(QByteArray bytes, std::chrono::milliseconds delay, bool closeAfter = false)
    {
        QTimer::singleShot(delay, this, [this, bytes = std::move(bytes), closeAfter] {
            write(bytes);
            if (closeAfter)
                close();
        });
    }
    //! Graceful close: bytes already written go out, then FIN.
    void close()
    {
        if (m_open)
            m_socket->disconnectFromHost();
    }
    //! Writes \a bytes and returns once the client's kernel acknowledged them (see
    //! acknowledged()): from then on a peek at the client's socket sees them, though nobody there
    //! reads. False if that did not happen within \a timeout.
    bool writeAcknowledged(
        const QByteArray &bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5))
    {
        if (!m_open)
            return false;
        m_socket->write(bytes);
        m_socket->flush();
        return acknowledged(timeout);
    }
    //! Graceful close that returns once the client's kernel acknowledged the FIN (and every byte
    //! before it): from then on a peek at the client's socket sees the close, though nobody there
    //! reads. False if that did not happen within \a timeout.
    bool closeAcknowledged(std::chrono::milliseconds timeout = std::chrono::seconds(5))
    {
        if (!m_open)
            return false;
        m_socket->flush();
        ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
        const bool delivered = acknowledged(timeout);
        m_socket->disconnectFromHost();
        return delivered;
    }
    //! Abortive close: SO_LINGER 0 makes the kernel send RST instead of FIN.
    void reset()
    {
        if (!m_open)
            return;
        m_socket->flush();
        const linger hard {1, 0};
        ::setsockopt(int(m_socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        m_socket->abort();
    }
    //! Writes \a bytes \a step at a time, one piece every \a interval; then closes if asked.
    void trickle(QByteArray bytes, std::chrono::milliseconds interval, qsizetype step = 1,
        bool closeAfter = false)
    {
        auto *timer = new QTimer(this);
        timer->setInterval(interval);
        QObject::connect(timer, &QTimer::timeout, this,
            [this, timer, bytes = std::move(bytes), step, closeAfter]() mutable {
                if (!m_open || bytes.isEmpty()) {
                    timer->deleteLater();
                    timer->stop();
                    if (closeAfter)
                        close();
                    return;
                }
                write(bytes.first(std::min(step, bytes.size())));
                m_socket->flush();
                bytes.remove(0, std::min(step, bytes.size()));
            });
        timer->start();
    }

private:
    // Waits until the peer's kernel acknowledged everything sent, a FIN included (SIOCOUTQ
    // counts it). It blocks this thread: the peer's kernel acknowledges without anyone's event
    // loop, and the client's code must not run before this returns.
    bool acknowledged(std::chrono::milliseconds timeout) const
    {
        return waitUntilPeerAcknowledged(int(m_socket->socketDescriptor()), timeout);
    }

    friend class ScriptedConnections;
    QTcpSocket *m_socket;
    int m_id;
    bool m_tls;
    bool m_flushEachWrite;
    bool m_open = true;
    int m_requests = 0;
    QByteArray m_buffer; // unparsed request bytes
    QByteArray m_received; // everything received
};

//! The connections of one scripted server: adopts accepted sockets, parses, dispatches, counts.
//! Every call but the counters and requests() / requestCount() belongs on the thread the
//! connections live on.
class ScriptedConnections
{
public:
    //! Called for each complete request.
    using Handler = std::function<void(ServerConnection &, const ReceivedRequest &)>;
    //! Raw mode: called with every piece of bytes as it arrives, no HTTP parsing at all.
    using RawHandler = std::function<void(ServerConnection &, const QByteArray &)>;
    //! Called for each connection as it is accepted, before it sends anything.
    using AcceptHandler = std::function<void(ServerConnection &)>;

    struct Options
    {
        const char *name; //!< for messages: "FaultServer"
        bool flushEachWrite = false; //!< ServerConnection::write() flushes at once
        const char *debugVariable = nullptr; //!< when set in the environment, log each request
    };

    explicit ScriptedConnections(Options options)
        : m_options(options)
    {
    }
    ScriptedConnections(const ScriptedConnections &) = delete;
    ScriptedConnections &operator=(const ScriptedConnections &) = delete;

    void setHandler(Handler handler) { m_handler = std::move(handler); }
    void setRawHandler(RawHandler raw) { m_raw = std::move(raw); }
    void setAcceptHandler(AcceptHandler handler) { m_onAccept = std::move(handler); }

    //! Takes over \a socket, just accepted, as a connection that \a parent owns.
    ServerConnection *adopt(QTcpSocket *socket, bool tls, QObject *parent)
    {
        auto *c = new ServerConnection(socket, ++m_accepted, tls, m_options.flushEachWrite, parent);
        m_connections.append(c);
        const int open = ++m_open;
        int peak = m_maxOpen.load();
        while (open > peak && !m_maxOpen.compare_exchange_weak(peak, open)) { }
        QObject::connect(socket, &QTcpSocket::readyRead, c, [this, c] { onReadyRead(*c); });
        QObject::connect(socket, &QTcpSocket::disconnected, c, [this, c] { onGone(*c); });
        QObject::connect(socket, &QTcpSocket::errorOccurred, c, [this, c] { onGone(*c); });
        if (m_onAccept)
            m_onAccept(*c);
        // A client may have written before we connected the signal.
        if (socket->bytesAvailable() > 0)
            onReadyRead(*c);
        return c;
    }

    //! Aborts every connection still there (when the server goes).
    void abortAll()
    {
        for (const QPointer<ServerConnection> &c : std::as_const(m_connections)) {
            if (c)
                c->m_socket->abort();
        }
    }

    int connectionCount() const { return m_accepted.load(); }
    int openConnections() const { return m_open.load(); }
    int maxOpenConnections() const { return m_maxOpen.load(); }
    qint64 bytesReceived() const { return m_bytes.load(); }
    QList<QPointer<ServerConnection>> connections() const { return m_connections; }
    //! The requests so far, by reference: only on the connections' thread.
    const QList<ReceivedRequest> &requestsHere() const { return m_requests; }
    //! A copy of the requests so far, from any thread.
    QList<ReceivedRequest> requests() const
    {
        QMutexLocker lock(&m_mutex);
        return m_requests;
    }
    qsizetype requestCount() const
    {
        QMutexLocker lock(&m_mutex);
        return m_requests.size();
    }

private:
    void onGone(ServerConnection &c)
    {
        if (!c.m_open)
            return;
        c.m_open = false;
        --m_open;
    }

    void onReadyRead(ServerConnection &c)
    {
        const QByteArray bytes = c.m_socket->readAll();
        m_bytes += bytes.size();
        c.m_received += bytes;
        if (m_raw) {
            m_raw(c, bytes);
            return;
        }
        c.m_buffer += bytes;
        ReceivedRequest r;
        while (c.m_open && takeRequest(c.m_buffer, r, m_options.name)) {
            r.connection = c.id();
            r.indexOnConnection = c.m_requests++;
            r.tls = c.m_tls;
            {
                QMutexLocker lock(&m_mutex);
                m_requests.append(r);
            }
            if (m_options.debugVariable && qEnvironmentVariableIsSet(m_options.debugVariable))
                qDebug("%s: connection %d request %d: %s %s", m_options.name, r.connection,
                    r.indexOnConnection, r.method.constData(), r.target.constData());
            if (m_handler)
                m_handler(c, r);
        }
    }

    Options m_options;
    Handler m_handler;
    RawHandler m_raw;
    AcceptHandler m_onAccept;
    QList<QPointer<ServerConnection>> m_connections; // the connections' thread only
    std::atomic_int m_accepted {0};
    std::atomic_int m_open {0};
    std::atomic_int m_maxOpen {0};
    std::atomic<qint64> m_bytes {0};
    mutable QMutex m_mutex;
    QList<ReceivedRequest> m_requests;
};

} // namespace ReqivoTest
