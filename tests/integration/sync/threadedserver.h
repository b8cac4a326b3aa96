// ThreadedServer: an in-process HTTP/1.1 peer on 127.0.0.1 that runs in a thread of its own.
//
// The blocking classes spin a nested event loop on the caller's thread; a server living on that
// same thread would only be served while a call is in progress, so a test could not tell a
// blocking call that works from one that merely happens to pump the right events. Here the
// server has its own QThread and event loop (the ready handshake: the constructor returns once
// it listens), and the test thread is free to block, or to run several client threads at once.
//
// Handlers run on the server thread. They answer through a ServerConnection: exact bytes, bytes
// after a delay, a graceful close or a TCP reset. Everything a test reads back (requests,
// counts) is copied out under a mutex, so it is safe to ask from any thread.
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QMutex>
#include <QMutexLocker>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>
#include <QUrl>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <utility>

namespace SyncTest {

struct ReceivedRequest
{
    int connection = 0; //!< 1 for the first connection accepted, 2 for the next, ...
    int indexOnConnection = 0; //!< 0 for the first request on its connection
    QByteArray method;
    QByteArray target;
    QList<std::pair<QByteArray, QByteArray>> fields;
    QByteArray body; //!< de-chunked

    QByteArray field(QByteArrayView name) const
    {
        for (const auto &[n, v] : fields) {
            if (QByteArrayView(n).compare(name, Qt::CaseInsensitive) == 0)
                return v;
        }
        return {};
    }
};

//! "HTTP/1.1 <status> <reason>\r\n<extra>Content-Length: n\r\n\r\n<body>".
inline QByteArray httpResponse(int status, const QByteArray &body = {},
    const QByteArray &extraFields = {}, const QByteArray &reason = "OK")
{
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\n" + extraFields
        + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

//! One accepted connection, used from the server thread only (inside handlers).
class ServerConnection : public QObject
{
public:
    ServerConnection(QTcpSocket *socket, int id)
        : m_socket(socket)
        , m_id(id)
    {
        socket->setParent(this);
    }

    int id() const { return m_id; }
    bool isOpen() const { return m_open; }

    void write(const QByteArray &bytes)
    {
        if (m_open) {
            m_socket->write(bytes);
            m_socket->flush();
        }
    }
    //! Writes \a bytes after \a delay (from the server's event loop), then closes if asked.
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

private:
    friend class ThreadedServer;
    QTcpSocket *m_socket;
    int m_id;
    bool m_open = true;
    int m_requests = 0;
    QByteArray m_buffer;
};

class ThreadedServer
{
public:
    //! Called for each complete request.
    using Handler = std::function<void(ServerConnection &, const ReceivedRequest &)>;
    //! Raw mode: called with every piece of bytes as it arrives, no HTTP parsing at all.
    using RawHandler = std::function<void(ServerConnection &, const QByteArray &)>;

    explicit ThreadedServer(Handler handler)
        : m_handler(std::move(handler))
    {
        start();
    }
    explicit ThreadedServer(RawHandler raw)
        : m_raw(std::move(raw))
    {
        start();
    }
    ~ThreadedServer()
    {
        QMetaObject::invokeMethod(
            m_home,
            [this] {
                m_server->close();
                for (const QPointer<ServerConnection> &c : std::as_const(m_connections)) {
                    if (c)
                        c->m_socket->abort();
                }
                delete m_home; // the server, the connections and their timers with it
            },
            Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait();
    }
    ThreadedServer(const ThreadedServer &) = delete;
    ThreadedServer &operator=(const ThreadedServer &) = delete;

    quint16 port() const { return m_port; }
    QUrl url(const QString &path = QStringLiteral("/")) const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path));
    }

    int connectionCount() const { return m_accepted.load(); }
    int openConnections() const { return m_open.load(); }
    int maxOpenConnections() const { return m_maxOpen.load(); }
    qint64 bytesReceived() const { return m_bytes.load(); }
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
    void start()
    {
        m_thread.setObjectName(QStringLiteral("ThreadedServer"));
        m_thread.start();
        m_home = new QObject;
        m_home->moveToThread(&m_thread);
        QMetaObject::invokeMethod(
            m_home,
            [this] {
                m_server = new QTcpServer(m_home);
                QObject::connect(
                    m_server, &QTcpServer::newConnection, m_home, [this] { accept(); });
                if (!m_server->listen(QHostAddress::LocalHost, 0))
                    qFatal("ThreadedServer: cannot listen on 127.0.0.1: %s",
                        qPrintable(m_server->errorString()));
                m_port = m_server->serverPort();
            },
            Qt::BlockingQueuedConnection);
    }

    void accept()
    {
        while (QTcpSocket *socket = m_server->nextPendingConnection()) {
            auto *c = new ServerConnection(socket, ++m_accepted);
            c->setParent(m_home);
            m_connections.append(c);
            const int open = ++m_open;
            int peak = m_maxOpen.load();
            while (open > peak && !m_maxOpen.compare_exchange_weak(peak, open)) { }
            QObject::connect(socket, &QTcpSocket::readyRead, c, [this, c] { onReadyRead(*c); });
            QObject::connect(socket, &QTcpSocket::disconnected, c, [this, c] { onGone(*c); });
            QObject::connect(socket, &QTcpSocket::errorOccurred, c, [this, c] { onGone(*c); });
            if (socket->bytesAvailable() > 0)
                onReadyRead(*c);
        }
    }

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
        if (m_raw) {
            m_raw(c, bytes);
            return;
        }
        c.m_buffer += bytes;
        ReceivedRequest r;
        while (c.m_open && takeRequest(c.m_buffer, r)) {
            r.connection = c.id();
            r.indexOnConnection = c.m_requests++;
            {
                QMutexLocker lock(&m_mutex);
                m_requests.append(r);
            }
            if (m_handler)
                m_handler(c, r);
        }
    }

    // Parses one complete request off the front of \a buffer; false when more bytes are needed.
    static bool takeRequest(QByteArray &buffer, ReceivedRequest &out)
    {
        const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
        if (headEnd < 0)
            return false;
        ReceivedRequest r;
        const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
        const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
        r.method = requestLine.value(0);
        r.target = requestLine.value(1);
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines[i].indexOf(':');
            if (colon > 0)
                r.fields.append({lines[i].left(colon), lines[i].mid(colon + 1).trimmed()});
        }
        qsizetype pos = headEnd + 4;
        if (r.field("transfer-encoding").toLower().contains("chunked")) {
            while (true) {
                const qsizetype lineEnd = buffer.indexOf("\r\n", pos);
                if (lineEnd < 0)
                    return false;
                bool ok = false;
                const qint64 size = buffer.mid(pos, lineEnd - pos)
                                        .split(';')
                                        .value(0)
                                        .trimmed()
                                        .toLongLong(&ok, 16);
                if (!ok)
                    qFatal("ThreadedServer: bad chunk size line");
                pos = lineEnd + 2;
                if (size == 0) {
                    const qsizetype end = buffer.indexOf("\r\n\r\n", pos - 2);
                    if (end < 0)
                        return false;
                    pos = end + 4;
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

    Handler m_handler;
    RawHandler m_raw;
    QThread m_thread;
    QObject *m_home = nullptr; // lives in m_thread; owns everything below
    QTcpServer *m_server = nullptr;
    QList<QPointer<ServerConnection>> m_connections; // server thread only
    quint16 m_port = 0;
    std::atomic_int m_accepted {0};
    std::atomic_int m_open {0};
    std::atomic_int m_maxOpen {0};
    std::atomic<qint64> m_bytes {0};
    mutable QMutex m_mutex;
    QList<ReceivedRequest> m_requests;
};

//! Answers every request with 200 and "<connection>.<index on connection>", so a body tells
//! which connection carried it.
inline void answerWithWhere(ServerConnection &c, const ReceivedRequest &r)
{
    c.write(httpResponse(
        200, QByteArray::number(r.connection) + '.' + QByteArray::number(r.indexOnConnection)));
}

} // namespace SyncTest
