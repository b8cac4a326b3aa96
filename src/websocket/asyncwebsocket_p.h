// AsyncWebSocketPrivate: the state of one AsyncWebSocket, shared with its running coroutines.
//
// The public object holds it through a shared_ptr, and so does every coroutine of the socket
// (open, receive, the reconnect loop, ...): destroying the AsyncWebSocket while one of them is
// suspended leaves the state alive, marks it destroyed and wakes the coroutine, which then
// throws instead of touching freed memory. Signals are emitted through q, which is null once
// the public object is gone.
//
// One QWebSocket per connection attempt: a reconnect never reuses a socket whose close code,
// error string or buffers belong to the previous connection. A QWebSocket that ended is never
// deleted while one of its own signals is being delivered (dispatchDepth > 0): a slot or a
// coroutine resumed from there may do anything, including ending the socket.
#pragma once

#include <Reqivo/asyncwebsocket.h>

#include "closepolicy_p.h"
#include "sessionaccess_p.h"
#include "waitqueue_p.h"

#include <QAbstractSocket>
#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <deque>
#include <list>
#include <memory>
#include <optional>

class QWebSocket;

namespace Reqivo {

Q_DECLARE_LOGGING_CATEGORY(lcWebSocket)

class AsyncWebSocketPrivate : public std::enable_shared_from_this<AsyncWebSocketPrivate>
{
public:
    using State = AsyncWebSocket::State;
    using Ending = WebSocketDetail::Ending;
    using ms = std::chrono::milliseconds;

    //! Above this many unsent bytes, sendText()/sendBinary() wait for the socket to drain.
    static constexpr qint64 sendHighWater = 4 * 1024 * 1024;

    explicit AsyncWebSocketPrivate(AsyncWebSocket *q);
    ~AsyncWebSocketPrivate();
    AsyncWebSocketPrivate(const AsyncWebSocketPrivate &) = delete;
    AsyncWebSocketPrivate &operator=(const AsyncWebSocketPrivate &) = delete;

    struct Outgoing
    {
        bool binary = false;
        QString text;
        QByteArray data;
    };

    struct AttemptResult
    {
        bool ok = false;
        Ending ending = Ending::ConnectFailed;
        int httpStatus = 0;
        Error error;
    };

    struct PendingPing
    {
        QByteArray payload;
        QElapsedTimer timer;
        std::optional<std::chrono::microseconds> roundTrip;
    };

    // --- coroutines: each holds the state alive while suspended ---------------------------
    static QCoro::Task<void> open(std::shared_ptr<AsyncWebSocketPrivate> d);
    static QCoro::Task<void> send(std::shared_ptr<AsyncWebSocketPrivate> d, Outgoing message);
    static QCoro::Task<WebSocketMessage> receive(
        std::shared_ptr<AsyncWebSocketPrivate> d, ms timeout);
    static QCoro::Task<std::chrono::microseconds> ping(
        std::shared_ptr<AsyncWebSocketPrivate> d, ms timeout);
    static QCoro::Task<void> close(
        std::shared_ptr<AsyncWebSocketPrivate> d, int code, QString reason);
    static QCoro::Task<AttemptResult> connectOnce(std::shared_ptr<AsyncWebSocketPrivate> d);
    //! Runs while the state is Reconnecting and \a run is current; true when open again.
    static QCoro::Task<bool> reconnect(
        std::shared_ptr<AsyncWebSocketPrivate> d, quint64 run, Error lastFailure);

    // --- decisions and state changes ----------------------------------------------------------
    static QString stateName(State state);
    bool isActive() const;
    void setState(State state);
    Error submit(Outgoing message);
    void writeNow(const Outgoing &message);
    void becameOpen();
    void connectionEnded(quint64 id);
    void finish(int code, const QString &reason, Error error);
    void abortConnection(int code, const QString &reason);
    void teardown();
    void wakeEveryone();
    Error makeError(const QString &message, int code, const QString &detail = {}) const;
    [[noreturn]] void throwDestroyed() const;
    QUrl displayUrl() const;
    qint64 unsentBytes() const;

    // --- the QWebSocket of the current attempt or connection ---------------------------------
    void attachSocket(QWebSocket *socket);
    void retireSocket();
    void disposeRetired();
    void onConnected(quint64 id);
    void onSocketError(quint64 id, QAbstractSocket::SocketError error);
    void onAboutToClose(quint64 id);
    void onTextMessage(quint64 id, const QString &message);
    void onBinaryMessage(quint64 id, const QByteArray &message);
    void onPong(quint64 id, const QByteArray &payload);
    void onBytesWritten(quint64 id);
    void keepIncoming(WebSocketMessage message);

    // --- heartbeat ------------------------------------------------------------------------------
    void startHeartbeat();
    void stopHeartbeat();
    void heartbeatTick();
    void heartbeatExpired();
    ms heartbeatDeadlineValue() const;

    //! Counts the frames of QWebSocket signal delivery on the stack.
    struct DispatchScope
    {
        explicit DispatchScope(AsyncWebSocketPrivate *d)
            : m_d(d)
        {
            ++m_d->dispatchDepth;
        }
        ~DispatchScope() { --m_d->dispatchDepth; }
        DispatchScope(const DispatchScope &) = delete;
        DispatchScope &operator=(const DispatchScope &) = delete;
        AsyncWebSocketPrivate *m_d;
    };

    AsyncWebSocket *q;
    QUrl url;
    WebSocketOptions options;
    bool usesSession = false;
    std::weak_ptr<SessionCore> session;
    std::optional<WebSocketDetail::SessionSettings> sessionSettings; // last read
    QUrl handshakeUrl; // the ws/wss URL of the last attempt, without user info

    State state = State::Unconnected;
    bool destroyed = false;
    QString subprotocol;
    int closeCode = 0;
    QString closeReason;
    Error lastError;
    bool endedWithError = false;
    int handshakeStatus = 0;
    Headers handshakeHeaders;

    // The connection, or the attempt in progress.
    QWebSocket *ws = nullptr;
    quint64 connectionId = 0;
    struct Attempt
    {
        bool done = false;
        bool ok = false;
        bool tlsFailed = false;
        QString errorString;
    } attempt;
    bool closeFrameSeen = false;
    //! Set before this side aborts the TCP connection (whose close also emits aboutToClose()).
    bool abortingLocally = false;
    bool heartbeatLost = false;
    //! While disconnected() is emitted for a connection that will be reopened.
    bool reconnectPending = false;
    bool userClose = false;
    int userCloseCode = 1000;
    QString userCloseReason;
    QList<QPointer<QWebSocket>> retired;
    int dispatchDepth = 0;
    //! Bumped to cancel the reconnect loop and the open() in progress.
    quint64 run = 0;
    int reconnectAttempt = 0;

    std::deque<WebSocketMessage> incoming;
    bool warnedIncomingOverflow = false;
    std::deque<Outgoing> outgoing;
    quint64 droppedOutgoing = 0;

    QTimer heartbeatTimer;
    QTimer heartbeatDeadline;
    QByteArray heartbeatPayload; // outstanding heartbeat ping; empty: none
    quint64 pingCounter = 0;
    std::list<std::shared_ptr<PendingPing>> pings;

    WebSocketDetail::WaitQueue incomingWaiters; // messages and the end
    WebSocketDetail::WaitQueue stateWaiters; // attempt results, state changes, delays
    WebSocketDetail::WaitQueue pongWaiters;
    WebSocketDetail::WaitQueue writeWaiters;

    //! Context of the connections to the QWebSocket's signals.
    QObject context;
};

} // namespace Reqivo
