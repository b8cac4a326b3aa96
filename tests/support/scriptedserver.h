// The core of the in-process scripted HTTP/1.1 peers on 127.0.0.1 (FaultServer in
// integration/session, ThreadedServer in integration/sync): every byte and every fault is
// scripted by the test.
//
// They are Reqivo::Testing's MockServer in scripted mode: it takes the connections, parses their
// requests just enough to hand them, complete (head and Content-Length or chunked body), to a
// handler, which answers through the connection (Reqivo::Testing::ScriptedConnection): exact
// bytes, bytes trickled on a timer or written after a delay, a graceful close, or a TCP reset. It
// counts what a test needs to prove pooling and retry behaviour from the outside: connections
// accepted, connections open at once (and the peak), requests and raw bytes received. This file
// adapts it to the tests' handlers and request values; the counters are atomic and the request
// list is copied out under a mutex, so they are safe to read from any thread.
#pragma once

#include <Reqivo/Testing/MockServer>

#include <QByteArray>
#include <QList>
#include <QMutex>
#include <QMutexLocker>
#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

#include "support/kernelack.h" // tests ask the client's side of what the server sent

#include <functional>
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

//! One accepted connection: Reqivo::Testing's ScriptedConnection (exact bytes, writeLater(),
//! trickle(), close(), reset(), writeAcknowledged(), closeAcknowledged()), used from the thread
//! it lives on only (inside handlers).
using ServerConnection = Reqivo::Testing::ScriptedConnection;

//! The ReceivedRequest of a request MockServer recorded.
inline ReceivedRequest toReceivedRequest(const Reqivo::Testing::RecordedRequest &r)
{
    ReceivedRequest out;
    out.connection = r.connectionIndex + 1;
    out.indexOnConnection = r.indexOnConnection;
    out.method = r.method;
    out.target = r.target;
    out.version = r.httpVersion;
    out.head = r.head;
    out.fields = r.headers;
    out.body = r.body;
    out.chunked = r.chunked;
    out.tls = r.tls;
    return out;
}

//! A MockServer in scripted mode, seen as the tests' scripted servers see it: handlers that take
//! a ServerConnection and a ReceivedRequest, the requests kept as ReceivedRequest values, the
//! counters. Every call but the counters and requests() / requestCount() belongs on the
//! server's thread.
class ScriptedConnections
{
public:
    //! Called for each complete request.
    using Handler = std::function<void(ServerConnection &, const ReceivedRequest &)>;
    //! Raw mode: called with every piece of bytes as it arrives, no HTTP parsing at all.
    using RawHandler = Reqivo::Testing::MockServer::RawHandler;
    //! Called for each connection as it is accepted, before it sends anything.
    using AcceptHandler = Reqivo::Testing::MockServer::AcceptHandler;

    struct Options
    {
        const char *name; //!< for messages: "FaultServer"
        bool flushEachWrite = false; //!< ServerConnection::write() flushes at once
        const char *debugVariable = nullptr; //!< when set in the environment, log each request
    };

    //! Puts \a server in scripted mode (before it accepts anything).
    ScriptedConnections(Reqivo::Testing::MockServer &server, Options options)
        : m_server(server)
        , m_options(options)
    {
        setHandler({});
        setAcceptHandler({});
    }
    ScriptedConnections(const ScriptedConnections &) = delete;
    ScriptedConnections &operator=(const ScriptedConnections &) = delete;

    void setHandler(Handler handler)
    {
        m_server.setRequestHandler(
            [this, handler = std::move(handler)](ServerConnection &c,
                                                 const Reqivo::Testing::RecordedRequest &recorded) {
                const ReceivedRequest r = toReceivedRequest(recorded);
                {
                    QMutexLocker lock(&m_mutex);
                    m_requests.append(r);
                }
                if (m_options.debugVariable && qEnvironmentVariableIsSet(m_options.debugVariable))
                    qDebug("%s: connection %d request %d: %s %s", m_options.name, r.connection,
                           r.indexOnConnection, r.method.constData(), r.target.constData());
                if (handler)
                    handler(c, r);
            });
    }
    void setRawHandler(RawHandler raw) { m_server.setRawHandler(std::move(raw)); }
    void setAcceptHandler(AcceptHandler handler)
    {
        m_server.setAcceptHandler([flush = m_options.flushEachWrite,
                                   handler = std::move(handler)](ServerConnection &c) {
            c.setFlushEachWrite(flush);
            if (handler)
                handler(c);
        });
    }

    int connectionCount() const { return m_server.connectionCount(); }
    int openConnections() const { return m_server.openConnectionCount(); }
    int maxOpenConnections() const { return m_server.maxOpenConnectionCount(); }
    qint64 bytesReceived() const { return m_server.bytesReceived(); }
    QList<QPointer<ServerConnection>> connections() const
    {
        return m_server.scriptedConnections();
    }
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
    Reqivo::Testing::MockServer &m_server;
    Options m_options;
    mutable QMutex m_mutex;
    QList<ReceivedRequest> m_requests;
};

} // namespace ReqivoTest
