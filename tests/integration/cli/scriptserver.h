// An in-process HTTP/1.1 peer on 127.0.0.1 that answers each path with exact, scripted bytes.
//
// It reads requests just well enough to record them (request line, fields, Content-Length body)
// and then writes the script for the path verbatim, so tests control every byte the client sees:
// duplicate fields, chunked framing, a body cut short by a close. Connections stay open between
// requests (keep-alive) unless the script says otherwise. A path can have a sequence of scripts
// (one per request, the last one repeated), and a request in absolute form
// ("GET http://host/path", as sent to an HTTP proxy) is answered by its path, so the server
// also stands for a forward proxy. It runs on the test's thread: the
// test must spin an event loop (not block) while a client talks to it.
#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QTcpServer>
#include <QTcpSocket>

#include <algorithm>
#include <memory>
#include <utility>

namespace ReqivoTest {

class ScriptServer
{
public:
    struct Script
    {
        QByteArray bytes; //!< written verbatim; "{PORT}" is replaced by the server's port
        bool closeAfter = false; //!< close the connection once the bytes are written
    };

    struct Request
    {
        int connection = 0; //!< 1 for the first connection accepted, 2 for the next, ...
        QByteArray method;
        QByteArray target;
        QList<std::pair<QByteArray, QByteArray>> fields;
        QByteArray body;

        QByteArray field(QByteArrayView name) const
        {
            for (const auto &[n, v] : fields) {
                if (n.compare(name, Qt::CaseInsensitive) == 0)
                    return v;
            }
            return {};
        }
    };

    ScriptServer()
    {
        QObject::connect(&m_server, &QTcpServer::newConnection, &m_server, [this] { accept(); });
    }

    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }
    QByteArray baseUrl() const { return "http://127.0.0.1:" + QByteArray::number(port()); }

    void script(const QByteArray &path, QByteArray bytes, bool closeAfter = false)
    {
        m_scripts.insert(path, {Script {std::move(bytes), closeAfter}});
    }
    //! One script per request to \a path, in order; the last one answers any further request.
    //! reset() starts the sequence again.
    void scriptSequence(const QByteArray &path, QList<Script> scripts)
    {
        m_scripts.insert(path, std::move(scripts));
    }

    const QList<Request> &requests() const { return m_requests; }
    int connectionCount() const { return m_connections; }
    void reset()
    {
        m_requests.clear();
        m_connections = 0;
        m_served.clear();
    }

private:
    void accept()
    {
        while (QTcpSocket *socket = m_server.nextPendingConnection()) {
            const int id = ++m_connections;
            auto buffer = std::make_shared<QByteArray>();
            QObject::connect(socket, &QTcpSocket::readyRead, socket, [this, socket, id, buffer] {
                buffer->append(socket->readAll());
                serve(socket, id, *buffer);
            });
            QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        }
    }

    // Answers every complete request in \a buffer, in order.
    void serve(QTcpSocket *socket, int id, QByteArray &buffer)
    {
        for (;;) {
            const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
            if (headEnd < 0)
                return;
            Request request;
            request.connection = id;
            const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
            const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
            request.method = requestLine.value(0);
            request.target = requestLine.value(1);
            qint64 length = 0;
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const qsizetype colon = lines[i].indexOf(':');
                if (colon <= 0)
                    continue;
                request.fields.append({lines[i].left(colon), lines[i].mid(colon + 1).trimmed()});
                if (request.fields.last().first.compare("Content-Length", Qt::CaseInsensitive) == 0)
                    length = request.fields.last().second.toLongLong();
            }
            if (buffer.size() < headEnd + 4 + length)
                return; // the body is still on its way
            request.body = buffer.mid(headEnd + 4, length);
            buffer.remove(0, headEnd + 4 + length);
            m_requests.append(request);

            QByteArray path = request.target;
            if (path.startsWith("http://") || path.startsWith("https://")) {
                const qsizetype slash = path.indexOf('/', path.indexOf("://") + 3);
                path = slash < 0 ? QByteArray("/") : path.mid(slash);
            }
            const qsizetype query = path.indexOf('?');
            if (query >= 0)
                path.truncate(query);
            const auto it = m_scripts.constFind(path);
            if (it == m_scripts.cend() || it->isEmpty()) {
                socket->write("HTTP/1.1 500 No Script\r\nContent-Length: 0\r\n\r\n");
                continue;
            }
            const int served = m_served[path]++;
            const Script &script = it->at(std::min<qsizetype>(served, it->size() - 1));
            QByteArray bytes = script.bytes;
            bytes.replace("{PORT}", QByteArray::number(port()));
            socket->write(bytes);
            if (script.closeAfter) {
                socket->disconnectFromHost();
                return;
            }
        }
    }

    QTcpServer m_server;
    QHash<QByteArray, QList<Script>> m_scripts;
    QHash<QByteArray, int> m_served;
    QList<Request> m_requests;
    int m_connections = 0;
};

} // namespace ReqivoTest
