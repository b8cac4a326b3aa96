// RangeServer: one resource served over HTTP/1.1 by an in-process FaultServer, with ETag and
// Last-Modified, honouring Range and If-Range as nginx does, and scripted faults: ignore Range
// (200), cut a body off after N bytes, a Content-Range that starts elsewhere than asked.
#pragma once

#include "integration/session/faultserver.h"

#include <QByteArray>
#include <QCryptographicHash>
#include <QList>

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

class RangeServer
{
public:
    QByteArray content;
    QByteArray etag = "\"v1\"";
    QByteArray lastModified = "Tue, 01 Dec 2026 10:00:00 GMT";
    bool honourRange = true;
    //! Each entry cuts one response (in order) after that many body bytes (closing).
    QList<qint64> cutAfter;
    //! Added to the start of the Content-Range a 206 announces (a lying server).
    qint64 contentRangeShift = 0;
    //! Sent with every answer.
    QByteArray extraFields;

    explicit RangeServer(QByteArray body) : content(std::move(body))
    {
        server.setHandler([this](SessionTest::ServerConnection &c,
                                 const SessionTest::ReceivedRequest &r) { answer(c, r); });
    }

    QUrl url(const QString &path = QStringLiteral("/file.bin")) const { return server.url(path); }
    const QList<SessionTest::ReceivedRequest> &requests() const { return server.requests(); }

    SessionTest::FaultServer server;

private:
    void answer(SessionTest::ServerConnection &c, const SessionTest::ReceivedRequest &r)
    {
        if (r.target != "/file.bin") {
            c.write(SessionTest::httpResponse(404, "no such file\n", {}, "Not Found"));
            return;
        }
        QByteArray fields = "ETag: " + etag + "\r\nLast-Modified: " + lastModified
                + "\r\nAccept-Ranges: bytes\r\n" + extraFields;
        const QByteArray range = r.field("range");
        const QByteArray ifRange = r.field("if-range");
        const bool validatorMatches
                = ifRange.isEmpty() || ifRange == etag || ifRange == lastModified;
        qint64 from = -1;
        if (honourRange && validatorMatches && range.startsWith("bytes=") && range.endsWith('-'))
            from = range.mid(6, range.size() - 7).toLongLong();
        const qint64 size = content.size();
        QByteArray head;
        QByteArray body;
        if (from >= size) {
            c.write(SessionTest::httpResponse(
                    416, {}, fields + "Content-Range: bytes */" + QByteArray::number(size) + "\r\n",
                    "Range Not Satisfiable"));
            return;
        }
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
            c.write(head + body.left(n));
            c.close();
            return;
        }
        c.write(head + body);
    }
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
