// Reqivo::AsyncWebSocket: a WebSocket client for co_await and for signal/slot code.
//
// It speaks RFC 6455 itself (src/protocol/websocketcodec.h), over the same transport as HTTP
// requests: the opening handshake is an HTTP/1.1 request built by the session's preparation
// stage (base URL, headers, cookies, Basic/Bearer auth, hooks, TLS options, proxy) and its answer
// is checked by RFC 6455 §4.1. On top of the protocol it adds what applications otherwise write
// around a socket: co_await receive() next to the signals, reconnects with backoff and a bounded
// send queue that survives them, a heartbeat with a pong deadline, frame and message limits,
// backpressure both ways, and close codes turned into Reqivo errors.
//
//   Reqivo::AsyncWebSocket socket(QUrl(u"ws://127.0.0.1:8080/chat"_s));
//   co_await socket.open();
//   co_await socket.sendText(u"hello"_s);
//   const Reqivo::WebSocketMessage reply = co_await socket.receive();
//   co_await socket.close();
//
// Errors: coroutines throw WebSocketError and ReadTimeout when receive() or ping() waited longer
// than asked (the connection stays usable after a timeout). Timeouts read as timeout.h says:
// Timeout::noLimit waits for ever, zero does not wait. A WebSocketError's Error::code() is
// the HTTP status when the server refused the opening handshake (100-599: 401, 503, ...; see
// handshakeStatus()), otherwise a close code (1000-4999): the one received, the one sent when
// this side failed the connection (1002 protocol error, 1007 invalid UTF-8, 1009 too big), or
// 1006 when the connection was lost or could not be opened. Signal/slot code gets
// errorOccurred(Reqivo::Error) instead and may call open()/close() without awaiting them; the
// coroutines are [[nodiscard]], so say so: `(void)socket.open();`.
//
// receive() returns the next message (buffered ones first), or WebSocketMessage::End once the
// connection closed cleanly (1000, 1001, 1005 — a Close without a code — or an application
// code 3000–4999). Other endings —
// a lost connection, a protocol error, a limit exceeded, reconnects that ran out — throw.
//
// An AsyncWebSocket belongs to the thread that created it. Destroying it closes the connection
// with 1001 (going away); coroutines still waiting on it throw WebSocketError.
#pragma once

#include <Reqivo/errors.h>
#include <Reqivo/websocketmessage.h>
#include <Reqivo/websocketoptions.h>

#include <QObject>
#include <QUrl>

#include <QCoro/QCoroTask>

#include <chrono>
#include <memory>

namespace Reqivo {

class AsyncSession;
class AsyncWebSocketPrivate;

//! A WebSocket client (RFC 6455) for co_await and for signal/slot code.
//!
//!     Reqivo::AsyncWebSocket socket(QUrl(u"ws://127.0.0.1:8080/chat"_s));
//!     co_await socket.open();
//!     co_await socket.sendText(u"hello"_s);
//!     const Reqivo::WebSocketMessage reply = co_await socket.receive();
//!     co_await socket.close();
//!
//! It runs on Reqivo's own codec over the same transport as HTTP requests; the opening
//! handshake goes through the session's request preparation (AsyncSession::webSocket()). On top
//! of the protocol: receive() next to the signals, reconnects with backoff and a bounded send
//! queue that survives them, a heartbeat, frame and message limits, backpressure both ways, and
//! close codes turned into errors. Coroutines throw WebSocketError (Error::code(): the HTTP
//! status of a refused handshake, else a close code) and ReadTimeout; signal/slot code gets
//! errorOccurred(). It belongs to the thread that created it; destroying it closes the
//! connection with 1001. docs/websocket.md has the details.
class REQIVO_EXPORT AsyncWebSocket : public QObject
{
    Q_OBJECT
    //! Where the socket is in its life (state()).
    Q_PROPERTY(Reqivo::AsyncWebSocket::State state READ state NOTIFY stateChanged)
    //! The URL it opens (url()).
    Q_PROPERTY(QUrl url READ url)
    //! The subprotocol the server chose (subprotocol()).
    Q_PROPERTY(QString subprotocol READ subprotocol NOTIFY connected)
    //! How the connection ended (closeCode()).
    Q_PROPERTY(int closeCode READ closeCode NOTIFY disconnected)
    //! The reason given with the close code (closeReason()).
    Q_PROPERTY(QString closeReason READ closeReason NOTIFY disconnected)
public:
    //! Where the socket is in its life.
    enum class State {
        Unconnected, //!< not opened yet
        Connecting, //!< open() is in progress
        Open, //!< messages flow
        Reconnecting, //!< the connection was lost; waiting for or making the next attempt
        Closing, //!< close() was called; the close handshake is in progress
        Closed, //!< ended: closeCode(), closeReason() and lastError() tell how
    };
    Q_ENUM(State)

    //! Close codes (RFC 6455 §7.4.1) used by the API.
    static constexpr int NormalClosure = 1000;
    static constexpr int GoingAway = 1001; //!< Going away (what a destroyed socket sends).
    static constexpr int ProtocolErrorCode = 1002; //!< A frame broke the protocol.
    //! The connection was lost or could not be opened (never sent on the wire).
    static constexpr int AbnormalClosure = 1006;
    static constexpr int MessageTooBig = 1009; //!< A frame or message over the limits.

    //! A socket without a URL yet: setUrl() before open().
    explicit AsyncWebSocket(QObject *parent = nullptr);
    //! A socket for \a url (ws, wss; http and https are mapped to them), not open yet.
    explicit AsyncWebSocket(
        const QUrl &url, const WebSocketOptions &options = {}, QObject *parent = nullptr);
    //! A socket that opens \a url as \a session would send a request there: relative to its
    //! base URL (http → ws, https → wss), with its default headers, cookies, Basic/Bearer auth,
    //! request hooks, TLS options and proxy, all read again at every (re)connect. Options set
    //! in \a options win over the session's. The session must live in the same thread; if it
    //! is destroyed first, the last settings read are kept.
    static AsyncWebSocket *fromSession(AsyncSession &session, const QUrl &url,
        const WebSocketOptions &options = {}, QObject *parent = nullptr);
    ~AsyncWebSocket() override;

    //! The URL the socket opens.
    QUrl url() const;
    //! Both only take effect at the next open(); they are refused (false) while active.
    bool setUrl(const QUrl &url);
    //! The socket's options.
    WebSocketOptions options() const;
    //! See setUrl(): takes effect at the next open(); refused (false) while active.
    bool setOptions(const WebSocketOptions &options);

    //! Where the socket is in its life; stateChanged() tells each change.
    State state() const;
    //! True in State::Open.
    bool isOpen() const { return state() == State::Open; }
    //! The subprotocol the server chose; empty when none was offered or chosen.
    QString subprotocol() const;
    //! How the connection ended (or, while reconnecting, how it was lost); 0 before that.
    int closeCode() const;
    //! The reason that came with closeCode() (may be empty).
    QString closeReason() const;
    //! The error that ended the connection or that the last call reported; null otherwise.
    Error lastError() const;
    //! Messages waiting for the connection to come back.
    qsizetype queuedMessageCount() const;
    //! Received messages waiting for receive().
    qsizetype pendingMessageCount() const;
    //! The attempt in progress while Reconnecting, else 0.
    int reconnectAttempt() const;
    //! Bytes handed to a send but not yet written to the network (the connection's, not the
    //! reconnect queue's).
    qint64 bytesToWrite() const;

    //! The HTTP status of the last opening handshake's answer: 101 when it succeeded, the
    //! server's status when it refused (401, 503, ...), 0 when no answer came (connect, TLS or
    //! timeout failures). The same value is Error::code() of a refused handshake's error.
    int handshakeStatus() const;
    //! The header fields of that answer (empty when none came).
    Headers handshakeHeaders() const;

    // --- coroutines -----------------------------------------------------------------------
    //! Connects and completes the handshake. Throws WebSocketError (code 1006) when that fails
    //! or takes longer than openTimeout; the error says why (HTTP status of a refused handshake,
    //! subprotocol mismatch, TLS, network).
    [[nodiscard]] QCoro::Task<void> open();
    //! Sends one message. While reconnecting it is queued (see SendQueuePolicy) and this
    //! returns at once; while open it returns when the socket has taken the bytes, waiting
    //! only when more than a few MiB are still unsent. Throws WebSocketError when refused.
    [[nodiscard]] QCoro::Task<void> sendText(QString message);
    //! Sends one binary message; see sendText().
    [[nodiscard]] QCoro::Task<void> sendBinary(QByteArray data);
    //! The next message (see the header comment), waiting at most \a timeout for one:
    //! Timeout::noLimit (the default) waits for ever; zero returns a message already received
    //! or throws ReadTimeout at once.
    [[nodiscard]] QCoro::Task<WebSocketMessage> receive(
        std::chrono::milliseconds timeout = Timeout::noLimit);
    //! Sends a ping and returns the time until its pong. Throws ReadTimeout when none came
    //! within \a timeout (Timeout::noLimit: no limit), WebSocketError when not open or when the
    //! connection was lost meanwhile.
    [[nodiscard]] QCoro::Task<std::chrono::microseconds> ping(
        std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    //! Closes with \a code (1000, 1001 or 3000–4999) and \a reason (at most 123 UTF-8 bytes)
    //! and waits for the server's Close, up to WebSocketOptions::closeTimeout; messages the
    //! server sent before its Close are still delivered. closeCode() is then the code of the
    //! server's Close (1005 when it had none), or \a code when the server never answered.
    //! Stops reconnecting; drops queued messages.
    [[nodiscard]] QCoro::Task<void> close(int code = NormalClosure, QString reason = {});

    // --- signal/slot code -----------------------------------------------------------------
    //! Like sendText()/sendBinary() without waiting: true when sent or queued; false (and
    //! errorOccurred()) when refused.
    bool sendTextMessage(const QString &message);
    //! See sendTextMessage().
    bool sendBinaryMessage(const QByteArray &data);

public Q_SLOTS:
    //! Drops the connection at once, without a close handshake, and stops reconnecting.
    void abort();

Q_SIGNALS:
    //! state() changed to \a state.
    void stateChanged(Reqivo::AsyncWebSocket::State state);
    //! The handshake succeeded: after open(), and after every successful reconnect. Messages
    //! queued while reconnecting are sent right after this signal, in the order of the sends.
    void connected();
    //! The connection ended or was lost (a reconnect may follow).
    void disconnected(int code, const QString &reason);
    //! Attempt \a attempt (1-based) starts after \a delayMs milliseconds.
    void reconnecting(int attempt, int delayMs);
    //! A text message arrived (see WebSocketOptions::receiveQueueSize for how this and
    //! receive() share messages).
    void textMessageReceived(const QString &message);
    //! A binary message arrived.
    void binaryMessageReceived(const QByteArray &message);
    //! \a bytes of sent messages reached the network; bytesToWrite() is what is left.
    void bytesWritten(qint64 bytes);
    //! A pong answered a ping() (not the heartbeat's), after \a roundTripUs microseconds.
    void pongReceived(qint64 roundTripUs);
    //! Something failed (a refused send, a lost connection, a refused handshake); the same
    //! value as lastError().
    void errorOccurred(const Reqivo::Error &error);

private:
    std::shared_ptr<AsyncWebSocketPrivate> d;
    friend class AsyncWebSocketPrivate;
};

} // namespace Reqivo
