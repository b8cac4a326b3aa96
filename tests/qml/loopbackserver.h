// LoopbackServer: an in-process HTTP/1.1 peer on 127.0.0.1 for the QML tests, answering with
// bytes the test writes out in full.
//
// It reads each request (head, then a Content-Length body) just far enough to record it and
// hand it to the test's handler, which answers through the socket: exact bytes at once, bytes
// in timed pieces, or nothing at all (for timeouts). It runs on the test's thread, which is
// also the QML engine's: tests wait with QTRY_* so that both get the event loop.
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>

#include <chrono>
#include <functional>
#include <memory>
#include <utility>

namespace QmlTest {

struct SeenRequest
{
    QByteArray method;
    QByteArray target;
    QList<std::pair<QByteArray, QByteArray>> fields;
    QByteArray body;

    QByteArray field(QByteArrayView name) const
    {
        for (const auto &[n, v] : fields) {
            if (QByteArrayView(n).compare(name, Qt::CaseInsensitive) == 0)
                return v;
        }
        return {};
    }
};

//! "HTTP/1.1 <status> <reason>\r\n<fields>Content-Length: n\r\n\r\n<body>".
inline QByteArray httpResponse(
    int status, const QByteArray &reason, const QByteArray &fields, const QByteArray &body)
{
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason + "\r\n" + fields
        + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

class LoopbackServer : public QObject
{
public:
    using Handler = std::function<void(QTcpSocket *, const SeenRequest &)>;

    explicit LoopbackServer(Handler handler)
        : m_handler(std::move(handler))
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] { accept(); });
        if (!m_server.listen(QHostAddress::LocalHost, 0))
            qFatal("LoopbackServer: cannot listen: %s", qPrintable(m_server.errorString()));
    }

    QUrl url(const QString &path = QStringLiteral("/")) const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_server.serverPort()).arg(path));
    }
    const QList<SeenRequest> &requests() const { return m_requests; }

    //! Writes \a bytes in \a pieces parts, one every \a interval.
    static void trickle(
        QTcpSocket *socket, const QByteArray &bytes, int pieces, std::chrono::milliseconds interval)
    {
        const qsizetype step = (bytes.size() + pieces - 1) / pieces;
        for (int i = 0; i < pieces; ++i) {
            QTimer::singleShot(interval * i, socket, [socket, part = bytes.mid(i * step, step)] {
                socket->write(part);
                socket->flush();
            });
        }
    }

private:
    void accept()
    {
        while (QTcpSocket *socket = m_server.nextPendingConnection()) {
            socket->setParent(this);
            auto buffer = std::make_shared<QByteArray>();
            connect(socket, &QTcpSocket::readyRead, socket, [this, socket, buffer] {
                buffer->append(socket->readAll());
                while (takeRequest(socket, *buffer)) { }
            });
            connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        }
    }

    // One complete request off the front of \a buffer, handed to the handler; false if the
    // buffer does not hold one yet.
    bool takeRequest(QTcpSocket *socket, QByteArray &buffer)
    {
        const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
        if (headEnd < 0)
            return false;
        SeenRequest r;
        const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
        const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
        r.method = requestLine.value(0);
        r.target = requestLine.value(1);
        qsizetype length = 0;
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines[i].indexOf(':');
            if (colon <= 0)
                continue;
            r.fields.append({lines[i].left(colon).trimmed(), lines[i].mid(colon + 1).trimmed()});
            if (r.fields.last().first.compare("content-length", Qt::CaseInsensitive) == 0)
                length = r.fields.last().second.toLongLong();
        }
        if (buffer.size() < headEnd + 4 + length)
            return false;
        r.body = buffer.mid(headEnd + 4, length);
        buffer.remove(0, headEnd + 4 + length);
        m_requests.append(r);
        m_handler(socket, r);
        return true;
    }

    QTcpServer m_server;
    Handler m_handler;
    QList<SeenRequest> m_requests;
};

} // namespace QmlTest
