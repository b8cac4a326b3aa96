// FaultServer: an in-process HTTP/1.1 peer on 127.0.0.1 whose every byte and every fault is
// scripted by the test.
//
// It parses requests just enough to hand them, complete (head and Content-Length or chunked
// body), to a handler, which answers through the ServerConnection: exact bytes, bytes trickled
// on a timer, a graceful close, or a TCP reset. It counts what a test needs to prove pooling
// and retry behaviour from the outside: connections accepted, connections open at once (and the
// peak), requests and raw bytes received. With enableTls() it speaks TLS and plain HTTP on the
// same port (it peeks at the first byte: 0x16 opens a TLS handshake), so one server can be two
// origins that differ by scheme only. It runs on the test's thread, so the test must wait with
// co_await (never block) while a client talks to it.
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPointer>
#include <QSocketNotifier>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <utility>

namespace SessionTest {

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

class ServerConnection : public QObject
{
public:
    ServerConnection(QTcpSocket *socket, int id, QObject *parent)
        : QObject(parent)
        , m_socket(socket)
        , m_id(id)
    {
        socket->setParent(this);
    }

    int id() const { return m_id; }
    bool isTls() const { return m_tls; }
    QTcpSocket *socket() const { return m_socket; }
    bool isOpen() const { return m_open; }
    const QByteArray &received() const { return m_received; }

    void write(const QByteArray &bytes)
    {
        if (m_open)
            m_socket->write(bytes);
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
    friend class FaultServer;
    QTcpSocket *m_socket;
    int m_id;
    bool m_tls = false;
    bool m_open = true;
    int m_requests = 0;
    QByteArray m_buffer; // unparsed request bytes
    QByteArray m_received; // everything received
};

// A QTcpServer that hands over raw descriptors, so FaultServer can look before choosing a socket.
class DescriptorListener : public QTcpServer
{
public:
    std::function<void(qintptr)> onIncoming;

protected:
    void incomingConnection(qintptr descriptor) override { onIncoming(descriptor); }
};

class FaultServer : public QObject
{
public:
    using Handler = std::function<void(ServerConnection &, const ReceivedRequest &)>;
    using AcceptHandler = std::function<void(ServerConnection &)>;

    explicit FaultServer(Handler handler = {})
        : m_handler(std::move(handler))
    {
        m_server.onIncoming = [this](qintptr descriptor) { incoming(descriptor); };
        if (!m_server.listen(QHostAddress::LocalHost, 0))
            qFatal(
                "FaultServer: cannot listen on 127.0.0.1: %s", qPrintable(m_server.errorString()));
    }
    ~FaultServer() override
    {
        m_server.close();
        for (ServerConnection *c : std::as_const(m_connections)) {
            if (c)
                c->m_socket->abort();
        }
    }

    void setHandler(Handler handler) { m_handler = std::move(handler); }
    //! Called for each connection as it is accepted, before it sends anything.
    void setAcceptHandler(AcceptHandler handler) { m_onAccept = std::move(handler); }

    //! Also answer TLS on the same port, with \a config (local certificate and key).
    void enableTls(const QSslConfiguration &config)
    {
        m_tlsConfig = config;
        m_tlsEnabled = true;
    }

    quint16 port() const { return m_server.serverPort(); }
    QUrl url(const QString &path = QStringLiteral("/")) const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port()).arg(path));
    }
    QUrl httpsUrl(const QString &path = QStringLiteral("/")) const
    {
        return QUrl(QStringLiteral("https://127.0.0.1:%1%2").arg(port()).arg(path));
    }

    int connectionCount() const { return m_accepted; }
    int openConnections() const { return m_open; }
    int maxOpenConnections() const { return m_maxOpen; }
    const QList<ReceivedRequest> &requests() const { return m_requests; }
    qint64 bytesReceived() const { return m_bytesReceived; }
    QList<QPointer<ServerConnection>> connections() const { return m_connections; }

private:
    void incoming(qintptr descriptor)
    {
        if (!m_tlsEnabled) {
            auto *socket = new QTcpSocket;
            socket->setSocketDescriptor(descriptor);
            adopt(socket, false);
            return;
        }
        // Wait for the first byte and peek at it: a TLS record starts with 0x16 (handshake).
        auto *notifier = new QSocketNotifier(descriptor, QSocketNotifier::Read, this);
        QObject::connect(notifier, &QSocketNotifier::activated, this, [this, notifier, descriptor] {
            notifier->setEnabled(false);
            notifier->deleteLater();
            char first = 0;
            if (::recv(int(descriptor), &first, 1, MSG_PEEK) != 1) {
                ::close(int(descriptor));
                return;
            }
            if (first != 0x16) {
                auto *socket = new QTcpSocket;
                socket->setSocketDescriptor(descriptor);
                adopt(socket, false);
                return;
            }
            auto *socket = new QSslSocket;
            socket->setSocketDescriptor(descriptor);
            socket->setSslConfiguration(m_tlsConfig);
            adopt(socket, true);
            socket->startServerEncryption();
        });
    }

    void adopt(QTcpSocket *socket, bool tls)
    {
        auto *c = new ServerConnection(socket, ++m_accepted, this);
        c->m_tls = tls;
        m_connections.append(c);
        m_maxOpen = std::max(m_maxOpen, ++m_open);
        QObject::connect(socket, &QTcpSocket::readyRead, c, [this, c] { onReadyRead(*c); });
        QObject::connect(socket, &QTcpSocket::disconnected, c, [this, c] { onGone(*c); });
        QObject::connect(socket, &QTcpSocket::errorOccurred, c, [this, c] { onGone(*c); });
        if (m_onAccept)
            m_onAccept(*c);
        // A client may have written before we connected the signal.
        if (socket->bytesAvailable() > 0)
            onReadyRead(*c);
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
        m_bytesReceived += bytes.size();
        c.m_received += bytes;
        c.m_buffer += bytes;
        ReceivedRequest r;
        while (c.m_open && takeRequest(c.m_buffer, r)) {
            r.connection = c.id();
            r.indexOnConnection = c.m_requests++;
            r.tls = c.m_tls;
            m_requests.append(r);
            if (qEnvironmentVariableIsSet("FAULTSERVER_DEBUG"))
                qDebug("FaultServer: connection %d request %d: %s %s", r.connection,
                    r.indexOnConnection, r.method.constData(), r.target.constData());
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
        r.version = requestLine.value(2);
        r.head = buffer.left(headEnd);
        qint64 length = 0;
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
                const qint64 size = buffer.mid(pos, lineEnd - pos)
                                        .split(';')
                                        .value(0)
                                        .trimmed()
                                        .toLongLong(&ok, 16);
                if (!ok)
                    qFatal("FaultServer: bad chunk size line");
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
            length = r.field("content-length").toLongLong();
            if (buffer.size() < pos + length)
                return false;
            r.body = buffer.mid(pos, length);
            pos += length;
        }
        buffer.remove(0, pos);
        out = r;
        return true;
    }

    DescriptorListener m_server;
    QSslConfiguration m_tlsConfig;
    bool m_tlsEnabled = false;
    Handler m_handler;
    AcceptHandler m_onAccept;
    QList<QPointer<ServerConnection>> m_connections;
    QList<ReceivedRequest> m_requests;
    int m_accepted = 0;
    int m_open = 0;
    int m_maxOpen = 0;
    qint64 m_bytesReceived = 0;
};

} // namespace SessionTest
