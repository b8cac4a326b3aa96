// Reqivo::WebSocket: the blocking twin of AsyncWebSocket. Same options, same errors; each call
// runs the async socket to completion in a nested event loop (see docs/threading.md).
//
//   QCoreApplication app(argc, argv);              // must exist; need not be running
//   Reqivo::WebSocket socket(QUrl(u"ws://127.0.0.1:8080/echo"_s));
//   socket.open();
//   socket.send(u"hello"_s);
//   const Reqivo::WebSocketMessage m = socket.receive(std::chrono::seconds(5));
//   socket.close();
//
// Threads: a WebSocket belongs to the thread that created it, which may be a QThread or a
// plain std::thread that never ran an event loop. The socket only makes progress while one of
// its calls runs (or while that thread's own event loop runs): messages that arrive between
// calls wait in the kernel and in the receive queue, and the heartbeat and reconnects happen
// during calls. On the GUI thread it works, but the nested loop delivers other events during
// the call: prefer AsyncWebSocket there.
#pragma once

#include <Reqivo/asyncwebsocket.h>

#include <chrono>
#include <memory>

namespace Reqivo {

class Session;

//! The blocking twin of AsyncWebSocket: the same methods, returning values or throwing.
//!
//!     Reqivo::WebSocket socket(QUrl(u"ws://127.0.0.1:8080/echo"_s));
//!     socket.open();
//!     socket.send(u"hello"_s);
//!     const Reqivo::WebSocketMessage reply = socket.receive(std::chrono::seconds(5));
//!     socket.close();
//!
//! Each call runs the async socket in a nested event loop (docs/threading.md); it works on the
//! main thread, in a QThread and in a std::thread that never ran an event loop. The socket only
//! makes progress while one of its calls runs: messages that arrive in between wait, and the
//! heartbeat and reconnects happen during calls.
class REQIVO_EXPORT WebSocket
{
public:
    using State = AsyncWebSocket::State; //!< As AsyncWebSocket's.

    //! A socket for \a url (ws, wss; http and https are mapped to them), not open yet.
    explicit WebSocket(const QUrl &url, const WebSocketOptions &options = {});
    //! Opens \a url as \a session would (see AsyncWebSocket::fromSession()).
    WebSocket(Session &session, const QUrl &url, const WebSocketOptions &options = {});
    //! Sends a Close with 1001 (going away) on an open connection and lets it go: it runs no
    //! event loop and waits for nothing (the Close is handed to the kernel, then TCP is closed).
    //! Call close() first to wait for the server's answer.
    ~WebSocket();
    WebSocket(const WebSocket &) = delete;
    WebSocket &operator=(const WebSocket &) = delete;

    //! The async socket underneath: state, options and signals live there.
    AsyncWebSocket &async() const;

    //! Connects and completes the handshake (AsyncWebSocket::open()).
    void open();
    //! Sends a text message (AsyncWebSocket::sendText()).
    void send(const QString &text);
    //! Sends a binary message (AsyncWebSocket::sendBinary()).
    void send(const QByteArray &data);
    //! Refused at compile time: text or binary? Say which with a QString or a QByteArray.
    void send(const char *) = delete;
    //! send(const QString &).
    void sendText(const QString &text) { send(text); }
    //! send(const QByteArray &).
    void sendBinary(const QByteArray &data) { send(data); }
    //! The next message, or End after a clean close. Throws ReadTimeout after \a timeout
    //! (Timeout::noLimit, the default: wait for ever; zero: only a message already received),
    //! WebSocketError when the connection failed.
    WebSocketMessage receive(std::chrono::milliseconds timeout = Timeout::noLimit);
    //! Sends a ping and returns the round trip (AsyncWebSocket::ping()).
    std::chrono::microseconds ping(
        std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    //! Closes with \a code and \a reason and waits for the server's Close
    //! (AsyncWebSocket::close()).
    void close(int code = AsyncWebSocket::NormalClosure, const QString &reason = {});

    //! AsyncWebSocket::state().
    State state() const { return async().state(); }
    //! True while messages flow.
    bool isOpen() const { return async().isOpen(); }
    //! AsyncWebSocket::subprotocol().
    QString subprotocol() const { return async().subprotocol(); }
    //! AsyncWebSocket::closeCode().
    int closeCode() const { return async().closeCode(); }
    //! AsyncWebSocket::closeReason().
    QString closeReason() const { return async().closeReason(); }
    //! AsyncWebSocket::lastError().
    Error lastError() const { return async().lastError(); }
    //! See AsyncWebSocket::handshakeStatus(): 101, or the status of a refused handshake.
    int handshakeStatus() const { return async().handshakeStatus(); }

private:
    std::unique_ptr<AsyncWebSocket> m_async;
};

} // namespace Reqivo
