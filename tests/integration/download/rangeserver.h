// RangeServer: one resource served over HTTP/1.1 by an in-process QTcpServer on 127.0.0.1, with
// ETag and Last-Modified, honouring Range and If-Range as nginx does, and scripted faults: ignore
// Range (200), cut a body off after N bytes, a Content-Range that starts elsewhere than asked.
// Requests are GETs without a body; each is recorded (its fields) for the test to check. It runs
// on the test's thread: the test must spin an event loop (not block) while a client talks to it.
#pragma once

#include <QByteArray>
#include <QCryptographicHash>
#include <QFile>
#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrl>

#include <utility>

namespace DownloadTest {

//! \a size bytes that differ from one offset to the next (and by \a seed), so that a byte in
//! the wrong place shows.
inline QByteArray patternBytes(qint64 size, int seed = 0)
{
    QByteArray out(size, Qt::Uninitialized);
    quint32 x = 2463534242u + quint32(seed) * 7919u;
    for (qint64 i = 0; i < size; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = char(x & 0xff);
    }
    return out;
}

//! One request as the server received it.
struct RangeRequest
{
    QByteArray target;
    QList<std::pair<QByteArray, QByteArray>> fields;

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

class RangeServer
{
public:
    QByteArray content;
    QByteArray etag = "\"v1\"";
    QByteArray lastModified = "Tue, 01 Dec 2026 10:00:00 GMT";
    bool honourRange = true;
    //! Each entry cuts one response (in order) after that many body bytes (closing).
    QList<qint64> cutAfter;
    //! Each entry stalls one response (in order) after that many body bytes: the connection
    //! stays open and nothing more comes.
    QList<qint64> stallAfter;
    //! Added to the start of the Content-Range a 206 announces (a lying server).
    qint64 contentRangeShift = 0;

    explicit RangeServer(QByteArray body)
        : content(std::move(body))
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, &m_server, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                socket->setParent(&m_server);
                QObject::connect(
                    socket, &QTcpSocket::readyRead, socket, [this, socket] { serve(socket); });
                QObject::connect(socket, &QTcpSocket::disconnected, socket, [this, socket] {
                    m_buffers.remove(socket);
                    socket->deleteLater();
                });
            }
        });
        if (!m_server.listen(QHostAddress::LocalHost, 0))
            qFatal("RangeServer: cannot listen on 127.0.0.1");
    }

    QUrl url(const QString &path = QStringLiteral("/file.bin")) const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_server.serverPort()).arg(path));
    }
    const QList<RangeRequest> &requests() const { return m_requests; }

private:
    void serve(QTcpSocket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        qsizetype end;
        while ((end = buffer.indexOf("\r\n\r\n")) >= 0) {
            const QList<QByteArray> lines = buffer.left(end).split('\n');
            buffer.remove(0, end + 4);
            RangeRequest r;
            r.target = lines.value(0).trimmed().split(' ').value(1);
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const qsizetype colon = lines[i].indexOf(':');
                if (colon > 0)
                    r.fields.append({lines[i].left(colon), lines[i].mid(colon + 1).trimmed()});
            }
            m_requests.append(r);
            if (!answer(socket, r)) {
                m_buffers.remove(socket);
                return;
            }
        }
    }

    //! False when the connection was closed.
    bool answer(QTcpSocket *socket, const RangeRequest &r)
    {
        const auto response = [](int status, const QByteArray &reason, const QByteArray &fields,
                                  const QByteArray &body) {
            return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\n" + fields
                + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
        };
        if (r.target != "/file.bin") {
            socket->write(response(404, "Not Found", {}, "no such file\n"));
            return true;
        }
        const QByteArray fields = "ETag: " + etag + "\r\nLast-Modified: " + lastModified
            + "\r\nAccept-Ranges: bytes\r\n";
        const QByteArray range = r.field("range");
        const QByteArray ifRange = r.field("if-range");
        const bool validatorMatches
            = ifRange.isEmpty() || ifRange == etag || ifRange == lastModified;
        qint64 from = -1;
        if (honourRange && validatorMatches && range.startsWith("bytes=") && range.endsWith('-'))
            from = range.mid(6, range.size() - 7).toLongLong();
        const qint64 size = content.size();
        if (from >= size) {
            socket->write(response(416, "Range Not Satisfiable",
                fields + "Content-Range: bytes */" + QByteArray::number(size) + "\r\n", {}));
            return true;
        }
        QByteArray head;
        QByteArray body;
        if (from >= 0) {
            body = content.mid(from);
            const qint64 shown = from + contentRangeShift;
            head = "HTTP/1.1 206 Partial Content\r\n" + fields + "Content-Range: bytes "
                + QByteArray::number(shown) + '-' + QByteArray::number(shown + body.size() - 1)
                + '/' + QByteArray::number(size) + "\r\n";
        } else {
            body = content;
            head = "HTTP/1.1 200 OK\r\n" + fields;
        }
        head += "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n";
        if (!cutAfter.isEmpty()) {
            const qint64 n = cutAfter.takeFirst();
            socket->write(head + body.left(n));
            socket->disconnectFromHost(); // what was written goes out, then FIN
            return false;
        }
        if (!stallAfter.isEmpty()) {
            socket->write(head + body.left(stallAfter.takeFirst()));
            return true;
        }
        socket->write(head + body);
        return true;
    }

    // Destroyed last to first: the server (and its sockets, which may still signal) before
    // what their slots touch.
    QHash<QTcpSocket *, QByteArray> m_buffers;
    QList<RangeRequest> m_requests;
    QTcpServer m_server;
};

//! The SHA-256 of the file at \a path, hex; empty when it cannot be read.
inline QByteArray fileSha256(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash h(QCryptographicHash::Sha256);
    h.addData(&f);
    return h.result().toHex();
}

inline QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

inline bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

} // namespace DownloadTest
