// AsyncWebSocketPrivate: the state of one AsyncWebSocket, shared with its running coroutines.
//
// The public object holds it through a shared_ptr, and so does every coroutine of the socket
// (open, receive, the reader, the reconnect loop, ...): destroying the AsyncWebSocket while one
// of them is suspended leaves the state alive, marks it destroyed and wakes the coroutine, which
// then throws instead of touching freed memory. Signals are emitted through q, which is null once
// the public object is gone.
//
// The engine: one Link per connection attempt, an AsyncConnection (TCP or TLS, through the
// proxy) with the sans-I/O RFC 6455 codec on it. connectOnce() writes the upgrade request and
// checks the answer; once open, the socket's readyRead feeds the codec straight from the signal
// (onReadable()), and each event goes to the handlers here. Writes go straight into the
// connection's socket: frames are encoded by the codec and queued there, so sending never waits
// except for backpressure. A reconnect never reuses a Link: a new connection starts with a fresh
// codec. A connection that ended is never deleted while a handler of ours is on the stack
// (dispatchDepth > 0): a slot or a coroutine resumed from there may do anything, including
// ending the socket.
#pragma once

#include <Reqivo/asyncwebsocket.h>

#include "closepolicy_p.h"
#include "handshake_p.h"
#include "protocol/websocketcodec.h"
#include "sessionaccess_p.h"
#include "transport/waitqueue_p.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <deque>
#include <list>
#include <memory>
#include <optional>

namespace Reqivo {

class AsyncConnection;

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
        qint64 size() const { return binary ? data.size() : text.size() * 2; }
    };

    //! One connection: the transport and the codec's state on it.
    struct Link
    {
        QPointer<AsyncConnection> conn;
        quint64 id = 0;
        Protocol::WebSocket::FrameParser parser;
        Protocol::WebSocket::FrameWriter writer {Protocol::WebSocket::Role::Client};
        bool open = false; //!< the handshake succeeded
        bool closeSent = false;
        bool closeReceived = false;
        int receivedCode = 0;
        QString receivedReason;
        //! This side failed the connection (a protocol error, a limit): the code it sent.
        int failCode = 0;
        QString failReason;
        bool readerPaused = false; //!< the receive queue is full
        bool reading = false; //!< onReadable() is on the stack
        bool transportClosed = false; //!< seen once the buffered bytes are read
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
    //! \a bounded: refuse when more than sendBufferBytes are unsent (the signal/slot sends).
    Error submit(Outgoing message, bool bounded);
    void writeNow(const Outgoing &message);
    //! Queues \a frame on the connection; false when there is none.
    bool writeFrame(const QByteArray &frame);
    void becameOpen();
    //! Reads what the connection \a id has, and hands the codec's events to the handlers until
    //! it needs more bytes, reading pauses or the connection ends.
    void onReadable(quint64 id);
    //! The transport ended (FIN, reset, error): after the bytes still buffered, the connection.
    void onTransportClosed(quint64 id);
    //! Handles the codec's events until it needs data; false when the connection ended.
    bool dispatchEvents(quint64 id);
    void onFrameEvent(quint64 id, Protocol::WebSocket::FrameParser::Event &event);
    //! Fails the connection from this side (RFC 6455 §7.1.7): sends \a code, then ends it.
    void failConnection(int code, const QString &reason);
    bool receiveQueueFull() const;
    static qint64 queuedBytes(const WebSocketMessage &message);
    void resumeReading();
    void connectionEnded(quint64 id, const QString &lostBecause = {});
    void finish(int code, const QString &reason, Error error);
    void abortConnection(int code, const QString &reason);
    void teardown();
    void wakeEveryone();
    Error makeError(const QString &message, int code, const QString &detail = {}) const;
    [[noreturn]] void throwDestroyed() const;
    QUrl displayUrl() const;
    qint64 unsentBytes() const;

    // --- the connection of the current attempt or connection ---------------------------------
    void attachLink(AsyncConnection *conn);
    //! Lets the connection go: \a graceful flushes what is queued (a Close) and closes, else
    //! aborts. Deleted later (disposeRetired()).
    void retireLink(bool graceful);
    void disposeRetired();
    void onPong(const QByteArray &payload);
    void onBytesWritten(quint64 id, qint64 bytes);
    void keepIncoming(WebSocketMessage message);

    // --- heartbeat ------------------------------------------------------------------------------
    void startHeartbeat();
    void stopHeartbeat();
    void heartbeatTick();
    void heartbeatExpired();
    ms heartbeatDeadlineValue() const;

    //! Counts our handlers on the stack.
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
    std::unique_ptr<Link> link;
    quint64 connectionId = 0;
    bool heartbeatLost = false;
    //! While disconnected() is emitted for a connection that will be reopened.
    bool reconnectPending = false;
    bool userClose = false;
    int userCloseCode = 1000;
    QString userCloseReason;
    QList<QPointer<AsyncConnection>> retired;
    int dispatchDepth = 0;
    //! Bumped to cancel the reconnect loop and the open() in progress.
    quint64 run = 0;
    int reconnectAttempt = 0;

    std::deque<WebSocketMessage> incoming;
    qint64 incomingBytes = 0;
    //! receive() was called since open(): messages are kept even with slots connected.
    bool receiveUsed = false;
    std::deque<Outgoing> outgoing;
    qint64 outgoingBytes = 0;
    quint64 droppedOutgoing = 0;

    QTimer heartbeatTimer;
    QTimer heartbeatDeadline;
    QByteArray heartbeatPayload; // outstanding heartbeat ping; empty: none
    quint64 pingCounter = 0;
    std::list<std::shared_ptr<PendingPing>> pings;

    Transport::WaitQueue incomingWaiters; // messages and the end
    Transport::WaitQueue stateWaiters; // attempt results, state changes, delays
    Transport::WaitQueue pongWaiters;
    Transport::WaitQueue writeWaiters;

    //! Context of the connections to the sockets' signals.
    QObject context;
};

} // namespace Reqivo
