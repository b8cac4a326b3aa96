// The two peers of the WebSocket tests, both on loopback:
//
//  * TestServer: a QWebSocketServer in the test's own thread, with the knobs a test needs
//    (echo or record, subprotocols, see the handshake requests, drop or close every client,
//    stop and listen again on the same port; wss:// when given a TLS configuration);
//  * PythonPeer: tests/integration/websocket/wspeer.py (Python websockets), an independent
//    implementation started by the test on a free port and killed after it. If it cannot
//    start — python3 or its websockets module missing — the test fails; it never skips.
#pragma once

#include "support/qcorotest.h"

#include <Reqivo/asyncwebsocket.h>
#include <Reqivo/errors.h>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QMetaEnum>
#include <QNetworkRequest>
#include <QProcess>
#include <QSslConfiguration>
#include <QTest>
#include <QUrl>
#include <QWebSocket>
#include <QWebSocketServer>

#include <functional>
#include <memory>
#include <optional>

namespace ReqivoTest {

class TestServer : public QObject
{
    Q_OBJECT
public:
    enum class Mode { Echo, Record, Silent };

    explicit TestServer(QObject *parent = nullptr)
        : QObject(parent)
    {
    }
    ~TestServer() override { stop(); }

    bool listen(quint16 port = 0)
    {
        m_server = std::make_unique<QWebSocketServer>(QStringLiteral("reqivo-test"),
            ssl ? QWebSocketServer::SecureMode : QWebSocketServer::NonSecureMode);
        if (ssl)
            m_server->setSslConfiguration(*ssl);
        m_server->setSupportedSubprotocols(subprotocols);
        if (!m_server->listen(QHostAddress::LocalHost, port))
            return false;
        m_port = m_server->serverPort();
        connect(m_server.get(), &QWebSocketServer::newConnection, this, [this] {
            while (QWebSocket *socket = m_server->nextPendingConnection())
                accept(socket);
        });
        return true;
    }

    //! Stops listening and ends every client: with a close frame (\a code), or by cutting the
    //! TCP connection when \a code is 0.
    void stop(int code = 1001)
    {
        const QList<QWebSocket *> sockets = std::exchange(clients, {});
        for (QWebSocket *socket : sockets) {
            socket->disconnect(this);
            if (code)
                socket->close(QWebSocketProtocol::CloseCode(code), QStringLiteral("server stop"));
            else
                socket->abort();
            socket->deleteLater();
        }
        m_server.reset();
    }

    //! Ends every client as stop() does, but keeps listening.
    void dropClients(int code = 0)
    {
        const QList<QWebSocket *> sockets = std::exchange(clients, {});
        for (QWebSocket *socket : sockets) {
            socket->disconnect(this);
            if (code)
                socket->close(QWebSocketProtocol::CloseCode(code), QStringLiteral("dropped"));
            else
                socket->abort();
            socket->deleteLater();
        }
    }

    quint16 port() const { return m_port; }
    QUrl url(const QString &path = QStringLiteral("/")) const
    {
        return QUrl(QStringLiteral("%1://127.0.0.1:%2%3")
                        .arg(ssl ? QStringLiteral("wss") : QStringLiteral("ws"))
                        .arg(m_port)
                        .arg(path));
    }

    Mode mode = Mode::Echo;
    //! Set before listen(): serve wss:// (QWebSocketServer::SecureMode) with this configuration.
    std::optional<QSslConfiguration> ssl;
    QStringList subprotocols;
    //! Called for every text message before the mode's own handling; true: handled.
    std::function<bool(QWebSocket *, const QString &)> onText;
    QList<QWebSocket *> clients;
    QList<QNetworkRequest> requests; //!< every accepted handshake, in order
    QStringList received; //!< Record mode: every text message, across connections
    int connections = 0;

private:
    void accept(QWebSocket *socket)
    {
        ++connections;
        requests.append(socket->request());
        clients.append(socket);
        socket->setParent(this);
        socket->setMaxAllowedIncomingMessageSize(64 * 1024 * 1024);
        socket->setMaxAllowedIncomingFrameSize(64 * 1024 * 1024);
        connect(socket, &QWebSocket::textMessageReceived, this, [this, socket](const QString &m) {
            if (onText && onText(socket, m))
                return;
            switch (mode) {
            case Mode::Echo:
                socket->sendTextMessage(m);
                break;
            case Mode::Record:
                received.append(m);
                break;
            case Mode::Silent:
                break;
            }
        });
        connect(
            socket, &QWebSocket::binaryMessageReceived, this, [this, socket](const QByteArray &m) {
                if (mode == Mode::Echo)
                    socket->sendBinaryMessage(m);
            });
        connect(socket, &QWebSocket::disconnected, this, [this, socket] {
            clients.removeOne(socket);
            socket->deleteLater();
        });
    }

    std::unique_ptr<QWebSocketServer> m_server;
    quint16 m_port = 0;
};

//! wspeer.py under /usr/bin/python3, for the lifetime of the object.
class PythonPeer
{
public:
    PythonPeer() = default;
    ~PythonPeer()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }
    PythonPeer(const PythonPeer &) = delete;
    PythonPeer &operator=(const PythonPeer &) = delete;

    //! Starts the peer and reads its port. False (and \a error) when it cannot.
    bool start(QString *error)
    {
        const QString python = QStringLiteral("/usr/bin/python3");
        m_process.setProgram(python);
        m_process.setArguments({QStringLiteral(REQIVO_WS_PEER_SCRIPT)});
        m_process.setProcessChannelMode(QProcess::SeparateChannels);
        m_process.start();
        if (!m_process.waitForStarted(10000)) {
            *error = QStringLiteral("cannot start %1: %2").arg(python, m_process.errorString());
            return false;
        }
        QElapsedTimer timer;
        timer.start();
        while (!m_process.canReadLine() && timer.elapsed() < 20000
            && m_process.state() == QProcess::Running)
            m_process.waitForReadyRead(200);
        const QByteArray line = m_process.readLine().trimmed();
        bool ok = false;
        m_port = line.toUShort(&ok);
        if (!ok || m_port == 0) {
            m_process.waitForFinished(2000);
            *error = QStringLiteral("the Python websockets peer did not start (is the Debian "
                                    "package python3-websockets installed?): %1")
                         .arg(QString::fromLocal8Bit(m_process.readAllStandardError()));
            return false;
        }
        return true;
    }

    QUrl url(const QString &path) const
    {
        return QUrl(QStringLiteral("ws://127.0.0.1:%1%2").arg(m_port).arg(path));
    }

private:
    QProcess m_process;
    quint16 m_port = 0;
};

//! A QByteArray of \a size bytes that is not all the same byte, so that a shifted or dropped
//! piece shows up in a comparison.
inline QByteArray pattern(qsizetype size)
{
    QByteArray data(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        data[i] = char((i * 31 + i / 251) & 0xff);
    return data;
}

inline QString textPattern(qsizetype size)
{
    QString text(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        text[i] = QChar(u'a' + char16_t(i % 26));
    return text;
}

//! The error \a task throws, or a null Error when it succeeds.
template<typename T>
QCoro::Task<Reqivo::Error> errorOf(QCoro::Task<T> task)
{
    try {
        co_await task;
    } catch (...) {
        co_return Reqivo::Error::fromException(std::current_exception());
    }
    co_return Reqivo::Error();
}

//! Records what an AsyncWebSocket emits, as readable lines ("connected", "disconnected 1006",
//! "reconnecting 1", "error 1006", "state Open"), for order checks.
class SignalLog : public QObject
{
    Q_OBJECT
public:
    explicit SignalLog(Reqivo::AsyncWebSocket *socket, bool withStates = false)
    {
        using S = Reqivo::AsyncWebSocket;
        connect(socket, &S::connected, this, [this] { lines.append(QStringLiteral("connected")); });
        connect(socket, &S::disconnected, this, [this](int code, const QString &) {
            lines.append(QStringLiteral("disconnected %1").arg(code));
        });
        connect(socket, &S::reconnecting, this, [this](int attempt, int delay) {
            lines.append(QStringLiteral("reconnecting %1").arg(attempt));
            delays.append(delay);
        });
        connect(socket, &S::errorOccurred, this, [this](const Reqivo::Error &e) {
            lines.append(QStringLiteral("error %1").arg(e.code()));
            errors.append(e);
        });
        if (withStates) {
            connect(socket, &S::stateChanged, this, [this](S::State state) {
                lines.append(QStringLiteral("state %1")
                                 .arg(QString::fromLatin1(
                                     QMetaEnum::fromType<S::State>().valueToKey(int(state)))));
            });
        }
    }
    QStringList lines;
    QList<int> delays;
    QList<Reqivo::Error> errors;
    int count(const QString &line) const { return int(lines.count(line)); }
};

} // namespace ReqivoTest

//! Starts a PythonPeer into \a peer or fails the test.
#define START_PYTHON_PEER(peer)                                                                    \
    do {                                                                                           \
        QString error_;                                                                            \
        if (!(peer).start(&error_))                                                                \
            QFAIL(qPrintable(error_));                                                             \
    } while (false)
