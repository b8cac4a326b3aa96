// LoopbackServer: the small HTTP/1.1 server the examples embed, so that they run with no network.
//
// A QTcpServer on 127.0.0.1 (a free port) in the caller's thread, answering canned routes. It
// reads one request at a time per connection (head, then a Content-Length body), answers, and
// keeps the connection open for the next one, so the client's keep-alive pool gets used.
// Streamed and slow answers go out from timers, which is why it must share an event loop with
// the client (or run in a thread of its own).
//
//   GET  /json              a small JSON object
//   GET  /redirect/<n>      302 to /redirect/<n-1>, and /redirect/1 to /json
//   GET  /cookies/set?k=v   sets each query pair as a cookie (Set-Cookie, Path=/)
//   GET  /cookies           the Cookie field the client sent, as JSON
//   GET  /bytes/<n>         n bytes with Content-Length, sent in 64 KiB pieces every few ms;
//                           byte i is 'a' + i % 26 (byteAt()), ETag "bytes-<n>"; Range:
//                           bytes=N- (with a matching If-Range, or none) gets a 206 from N on,
//                           or a 416 when N is past the end (resumable downloads)
//   GET  /slow/<ms>         a JSON object after <ms> milliseconds
//   POST /echo              what was sent: method, Content-Type and the body parsed as JSON
//   GET  /items, /items/<id> a list of books and each book's details (the QML app's data)
//   GET  /events            Server-Sent Events "tick 1" to "tick 4" (id 1..4, retry: 200),
//                           from the request's Last-Event-ID + 1; a stream that starts at 1 is
//                           cut after its second event, as a server restart would
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>
#include <QUrlQuery>

#include <algorithm>
#include <cstdio>

namespace Examples {

class LoopbackServer : public QObject
{
public:
    //! Piece size and pace of /bytes: slow enough for a progress bar to move on loopback.
    static constexpr qint64 streamPiece = 64 * 1024;
    static constexpr int streamIntervalMs = 4;
    //! Byte \a offset of every /bytes/<n> body.
    static char byteAt(qint64 offset) { return char('a' + offset % 26); }

    explicit LoopbackServer(QObject *parent = nullptr)
        : QObject(parent)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                socket->setParent(this);
                auto *holder = new BufferHolder(socket);
                connect(socket, &QTcpSocket::readyRead, this,
                    [this, socket, holder] { serve(socket, holder); });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }

    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }
    //! http://127.0.0.1:<port>
    QUrl baseUrl() const
    {
        QUrl url;
        url.setScheme(QStringLiteral("http"));
        url.setHost(QStringLiteral("127.0.0.1"));
        url.setPort(port());
        return url;
    }
    QUrl url(const QString &path) const { return baseUrl().resolved(QUrl(path)); }

    static QJsonArray books()
    {
        static const char *const rows[][3] = {
            {"The Pragmatic Programmer", "Hunt, Thomas", "Practical advice for programmers."},
            {"Structure and Interpretation of Computer Programs", "Abelson, Sussman",
                "Programs as a way of thinking."},
            {"The C++ Programming Language", "Stroustrup", "The language by its designer."},
            {"Design Patterns", "Gamma, Helm, Johnson, Vlissides", "Reusable object designs."},
            {"Refactoring", "Fowler", "Improving the design of existing code."},
        };
        QJsonArray list;
        int id = 1;
        for (const auto &row : rows) {
            list.append(QJsonObject {{QStringLiteral("id"), id++},
                {QStringLiteral("title"), QString::fromUtf8(row[0])},
                {QStringLiteral("author"), QString::fromUtf8(row[1])},
                {QStringLiteral("summary"), QString::fromUtf8(row[2])}});
        }
        return list;
    }

private:
    struct Request
    {
        QByteArray method;
        QByteArray path;
        QUrlQuery query;
        QByteArray cookie;
        QByteArray contentType;
        QByteArray lastEventId;
        QByteArray range;
        QByteArray ifRange;
        QByteArray body;
    };

    static QByteArray head(
        int status, const QByteArray &reason, const QByteArray &fields, qint64 length)
    {
        return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\n" + fields
            + "Content-Length: " + QByteArray::number(length) + "\r\n\r\n";
    }
    static void answer(QTcpSocket *socket, int status, const QByteArray &reason,
        const QByteArray &fields, const QByteArray &body)
    {
        socket->write(head(status, reason, fields, body.size()) + body);
    }
    static void answerJson(QTcpSocket *socket, const QJsonValue &value)
    {
        const QByteArray body = value.isArray()
            ? QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact)
            : QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
        answer(socket, 200, "OK", "Content-Type: application/json\r\n", body);
    }

    // Takes the next whole request out of the socket's buffer, if there is one.
    static bool takeRequest(QTcpSocket *socket, QByteArray &buffer, Request *out)
    {
        buffer += socket->readAll();
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return false;
        const QList<QByteArray> lines = buffer.left(end).split('\n');
        const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
        qint64 length = 0;
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines[i].indexOf(':');
            const QByteArray name = lines[i].left(colon).trimmed().toLower();
            const QByteArray value = lines[i].mid(colon + 1).trimmed();
            if (name == "content-length")
                length = value.toLongLong();
            else if (name == "cookie")
                out->cookie = value;
            else if (name == "content-type")
                out->contentType = value;
            else if (name == "last-event-id")
                out->lastEventId = value;
            else if (name == "range")
                out->range = value;
            else if (name == "if-range")
                out->ifRange = value;
        }
        if (buffer.size() < end + 4 + length)
            return false;
        const QUrl target(QString::fromLatin1(requestLine.value(1)));
        out->method = requestLine.value(0);
        out->path = target.path().toUtf8();
        out->query = QUrlQuery(target);
        out->body = buffer.mid(end + 4, length);
        buffer.remove(0, end + 4 + length);
        return true;
    }
    // The unparsed bytes of one connection; a child of its socket, so they go when it goes.
    struct BufferHolder : QObject
    {
        explicit BufferHolder(QObject *parent)
            : QObject(parent)
        {
        }
        QByteArray bytes;
        bool busy = false; // an answer is still going out from a timer
    };

    void serve(QTcpSocket *socket, BufferHolder *holder)
    {
        Request request;
        while (!holder->busy && takeRequest(socket, holder->bytes, &request))
            route(socket, request, holder);
    }

    // Answers after \a ms, from a timer; the connection takes no new request meanwhile.
    template<typename F>
    void later(QTcpSocket *socket, BufferHolder *holder, int ms, F &&answerNow)
    {
        holder->busy = true;
        QTimer::singleShot(ms, socket, [this, socket, holder, f = std::forward<F>(answerNow)] {
            f();
            holder->busy = false;
            serve(socket, holder);
        });
    }

    void route(QTcpSocket *socket, const Request &r, BufferHolder *holder)
    {
        const QByteArray &p = r.path;
        if (r.method == "GET" && p == "/json") {
            answerJson(socket,
                QJsonObject {
                    {QStringLiteral("greeting"), QStringLiteral("hello from the loopback server")},
                    {QStringLiteral("port"), port()}});
        } else if (r.method == "GET" && p.startsWith("/redirect/")) {
            const int n = p.mid(10).toInt();
            const QByteArray next = n > 1 ? "/redirect/" + QByteArray::number(n - 1) : "/json";
            answer(socket, 302, "Found", "Location: " + next + "\r\n", {});
        } else if (r.method == "GET" && p == "/cookies/set") {
            QByteArray fields;
            QJsonObject set;
            for (const auto &[name, value] : r.query.queryItems(QUrl::FullyEncoded)) {
                fields += "Set-Cookie: " + name.toUtf8() + '=' + value.toUtf8() + "; Path=/\r\n";
                set.insert(name, value);
            }
            answer(socket, 200, "OK", fields + "Content-Type: application/json\r\n",
                QJsonDocument(QJsonObject {{QStringLiteral("set"), set}})
                    .toJson(QJsonDocument::Compact));
        } else if (r.method == "GET" && p == "/cookies") {
            answerJson(
                socket, QJsonObject {{QStringLiteral("cookie"), QString::fromLatin1(r.cookie)}});
        } else if (r.method == "GET" && p.startsWith("/bytes/")) {
            const qint64 total = std::max<qint64>(0, p.mid(7).toLongLong());
            const QByteArray etag = "\"bytes-" + QByteArray::number(total) + '"';
            QByteArray fields = "Content-Type: application/octet-stream\r\nETag: " + etag
                + "\r\nAccept-Ranges: bytes\r\n";
            qint64 from = 0;
            if (r.range.startsWith("bytes=") && r.range.endsWith('-')
                && (r.ifRange.isEmpty() || r.ifRange == etag))
                from = r.range.mid(6, r.range.size() - 7).toLongLong();
            if (from > 0 && from >= total) {
                answer(socket, 416, "Range Not Satisfiable",
                    fields + "Content-Range: bytes */" + QByteArray::number(total) + "\r\n", {});
                return;
            }
            if (from > 0) {
                fields += "Content-Range: bytes " + QByteArray::number(from) + '-'
                    + QByteArray::number(total - 1) + '/' + QByteArray::number(total) + "\r\n";
                socket->write(head(206, "Partial Content", fields, total - from));
            } else {
                socket->write(head(200, "OK", fields, total));
            }
            holder->busy = true;
            auto *timer = new QTimer(socket);
            connect(timer, &QTimer::timeout, socket,
                [this, socket, timer, holder, total, sent = from]() mutable {
                    const qint64 n = std::min(streamPiece, total - sent);
                    QByteArray piece(n, Qt::Uninitialized);
                    for (qint64 i = 0; i < n; ++i)
                        piece[i] = byteAt(sent + i);
                    socket->write(piece);
                    sent += n;
                    if (sent >= total) {
                        timer->stop();
                        timer->deleteLater();
                        holder->busy = false;
                        serve(socket, holder);
                    }
                });
            timer->start(streamIntervalMs);
        } else if (r.method == "GET" && p.startsWith("/slow/")) {
            later(socket, holder, p.mid(6).toInt(), [socket] {
                answerJson(socket, QJsonObject {{QStringLiteral("slow"), true}});
            });
        } else if (r.method == "POST" && p == "/echo") {
            answerJson(socket,
                QJsonObject {{QStringLiteral("method"), QString::fromLatin1(r.method)},
                    {QStringLiteral("contentType"), QString::fromLatin1(r.contentType)},
                    {QStringLiteral("json"), QJsonDocument::fromJson(r.body).object()}});
        } else if (r.method == "GET" && p == "/items") {
            QJsonArray list;
            for (const QJsonValue &book : books()) {
                QJsonObject row = book.toObject();
                row.remove(QStringLiteral("summary"));
                list.append(row);
            }
            answerJson(socket, list);
        } else if (r.method == "GET" && p.startsWith("/items/")) {
            const int id = p.mid(7).toInt();
            const QJsonArray list = books();
            if (id >= 1 && id <= list.size())
                answerJson(socket, list[id - 1]);
            else
                answer(socket, 404, "Not Found", "Content-Type: text/plain\r\n", "no such item\n");
        } else if (r.method == "GET" && p == "/events") {
            // One chunk per event, as an SSE server flushes them.
            const auto chunk = [](const QByteArray &data) {
                return QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n";
            };
            const int first = r.lastEventId.toInt() + 1;
            socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                          "Cache-Control: no-store\r\nTransfer-Encoding: chunked\r\n\r\n");
            socket->write(chunk("retry: 200\n\n"));
            for (int id = first; id <= 4; ++id) {
                const QByteArray n = QByteArray::number(id);
                socket->write(chunk("id: " + n + "\ndata: tick " + n + "\n\n"));
                if (first == 1 && id == 2) {
                    socket->flush();
                    socket->disconnectFromHost(); // cut inside the response: no last chunk
                    return;
                }
            }
            socket->write("0\r\n\r\n");
        } else {
            answer(socket, 404, "Not Found", "Content-Type: text/plain\r\n", "no such route\n");
        }
    }

    QTcpServer m_server;
};

} // namespace Examples
