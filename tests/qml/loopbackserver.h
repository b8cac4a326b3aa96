// LoopbackServer: an in-process HTTP/1.1 peer on 127.0.0.1 for the QML tests, answering with
// bytes the test writes out in full.
//
// It reads each request (head, then a Content-Length or chunked body) just far enough to record
// it and hand it to the test's handler, which answers through the socket: exact bytes at once,
// bytes in timed pieces, or nothing at all (for timeouts). It runs on the test's thread, which is
// also the QML engine's: tests wait with QTRY_* so that both get the event loop. It is
// Reqivo::Testing's MockServer in scripted mode.
#pragma once

#include <Reqivo/Testing/MockServer>

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
        m_server.setRequestHandler([this](Reqivo::Testing::ScriptedConnection &c,
                                          const Reqivo::Testing::RecordedRequest &r) {
            m_requests.append(SeenRequest{r.method, r.target, r.headers, r.body});
            m_handler(c.socket(), m_requests.last());
        });
        if (!m_server.start())
            qFatal("LoopbackServer: cannot listen on 127.0.0.1");
    }

    QUrl url(const QString &path = QStringLiteral("/")) const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_server.port()).arg(path));
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
    Reqivo::Testing::MockServer m_server; // scripted mode: the handler writes the bytes
    Handler m_handler;
    QList<SeenRequest> m_requests;
};

} // namespace QmlTest
