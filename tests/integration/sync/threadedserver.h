// ThreadedServer: an in-process HTTP/1.1 peer on 127.0.0.1 that runs in a thread of its own.
//
// The blocking classes spin a nested event loop on the caller's thread; a server living on that
// same thread would only be served while a call is in progress, so a test could not tell a
// blocking call that works from one that merely happens to pump the right events. Here the
// server has its own QThread and event loop (the ready handshake: the constructor returns once
// it listens), and the test thread is free to block, or to run several client threads at once.
//
// Handlers run on the server thread. They answer through a ServerConnection: exact bytes, bytes
// after a delay, a graceful close or a TCP reset; every write is flushed at once. Everything a
// test reads back (requests, counts) is copied out under a mutex, so it is safe to ask from any
// thread. It is Reqivo::Testing's MockServer in scripted mode, adapted by
// support/scriptedserver.h (shared with the session tests' FaultServer); this file is its thread.
#pragma once

#include "support/scriptedserver.h"

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QTcpSocket>
#include <QThread>
#include <QUrl>

#include <utility>

namespace SyncTest {

using ReqivoTest::httpResponse;
using ReqivoTest::ReceivedRequest;
using ReqivoTest::ServerConnection;

class ThreadedServer
{
public:
    //! Called for each complete request.
    using Handler = ReqivoTest::ScriptedConnections::Handler;
    //! Raw mode: called with every piece of bytes as it arrives, no HTTP parsing at all.
    using RawHandler = ReqivoTest::ScriptedConnections::RawHandler;

    explicit ThreadedServer(Handler handler)
    {
        m_connections.setHandler(std::move(handler));
        start();
    }
    explicit ThreadedServer(RawHandler raw)
    {
        m_connections.setRawHandler(std::move(raw));
        start();
    }
    ~ThreadedServer()
    {
        // The server, the connections and their timers go on the server thread.
        QMetaObject::invokeMethod(
            m_server, [this] { delete m_server; }, Qt::BlockingQueuedConnection);
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

    int connectionCount() const { return m_connections.connectionCount(); }
    int openConnections() const { return m_connections.openConnections(); }
    int maxOpenConnections() const { return m_connections.maxOpenConnections(); }
    qint64 bytesReceived() const { return m_connections.bytesReceived(); }
    QList<ReceivedRequest> requests() const { return m_connections.requests(); }
    qsizetype requestCount() const { return m_connections.requestCount(); }

private:
    void start()
    {
        m_thread.setObjectName(QStringLiteral("ThreadedServer"));
        m_thread.start();
        m_server->moveToThread(&m_thread);
        QMetaObject::invokeMethod(
            m_server,
            [this] {
                if (!m_server->start())
                    qFatal("ThreadedServer: cannot listen on 127.0.0.1");
                m_port = m_server->port();
            },
            Qt::BlockingQueuedConnection);
    }

    // Lives in m_thread once started: the connections, their handlers and what they received.
    Reqivo::Testing::MockServer *m_server = new Reqivo::Testing::MockServer;
    ReqivoTest::ScriptedConnections m_connections {*m_server, {"ThreadedServer", true}};
    QThread m_thread;
    quint16 m_port = 0;
};

//! Answers every request with 200 and "<connection>.<index on connection>", so a body tells
//! which connection carried it.
inline void answerWithWhere(ServerConnection &c, const ReceivedRequest &r)
{
    c.write(httpResponse(
        200, QByteArray::number(r.connection) + '.' + QByteArray::number(r.indexOnConnection)));
}

} // namespace SyncTest
