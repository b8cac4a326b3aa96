// The private hand-off between MockServer (accepting, TLS, HTTP/1.1, recording) and the protocol
// handlers that take a connection over: the HTTP/2 connection handler (mockhttp2*.cpp) and the
// WebSocket script player (mockwebsocket*.cpp). Not installed.
//
// Lifetime and threading (every handler follows them):
// - A handler lives on the server's thread. It is a QObject created with `parent` (an object the
//   server owns) and takes ownership of `socket` (socket->setParent(handler)); its timers are its
//   children.
// - When its connection ends (the peer closes, a fault closes it, the script ends) the handler
//   calls deleteLater() on itself; the socket goes with it.
// - The server deletes every handler still alive on stop() and in its destructor, BEFORE the
//   MockServerCore goes away: a handler's destructor must not call the core, emit signals, or
//   write to the socket (abort() is fine).
// - MockServerCore calls are synchronous and may run user code (a dispatcher, slots connected to
//   requestReceived): a handler must not assume its state is unchanged across respond(), but the
//   handler itself is never deleted from inside respond() (deletion is deferred to the event
//   loop by stop()).
#pragma once

#include <Reqivo/Testing/mockserver.h>

#include <QByteArray>

class QObject;
class QTcpSocket;

namespace Reqivo::Testing::detail {

//! What the server offers the protocol handlers.
class MockServerCore
{
public:
    virtual ~MockServerCore() = default;

    //! Records \a request, numbers it (sets sequenceNumber; the caller fills every other field:
    //! method, target, httpVersion ("HTTP/2" for HTTP/2), headers, body, chunked, tls,
    //! connectionIndex, indexOnConnection), emits requestReceived() and returns the answer: from
    //! the dispatcher, else the queue, else the default response (404).
    virtual MockResponse respond(RecordedRequest request) = 0;
    //! Records a WebSocket message received from a client and emits
    //! webSocketMessageReceived().
    virtual void recordMessage(RecordedMessage message) = 0;
    //! Allocates the next connection index (0, 1, 2, ...; also counted by connectionCount()).
    //! The server already allocated one for every connection it hands over (see
    //! MockConnectionInfo); this is for connections a handler would open by itself.
    virtual int allocateConnectionIndex() = 0;
    //! The protocols the server was configured with.
    virtual MockServer::Protocols protocols() const = 0;
};

//! The connection a handler takes over.
struct MockConnectionInfo
{
    int connectionIndex = 0; //!< as RecordedRequest::connectionIndex
    bool tls = false; //!< the socket is a QSslSocket, already encrypted (handshake done)
};

//! HTTP/2 (implemented in mockhttp2*.cpp). Called when a TLS connection negotiated "h2" by ALPN
//! (alreadyRead: bytes read after the handshake, usually empty), or when a cleartext connection
//! starts with the HTTP/2 client preface and the protocols allow h2c (alreadyRead: every byte
//! read so far, the preface included, not consumed). The handler sends its SETTINGS, serves every
//! stream through core.respond() (requests recorded with httpVersion "HTTP/2", indexOnConnection
//! in stream order), applies the response's faults as far as HTTP/2 allows, and follows the
//! lifetime rules above. Returns the handler (already parented to \a parent).
QObject *createHttp2Handler(MockServerCore &core, QTcpSocket *socket, MockConnectionInfo info,
    QByteArray alreadyRead, QObject *parent);

//! WebSocket (implemented in mockwebsocket*.cpp). Called for an HTTP/1.1 upgrade request (already
//! recorded and answered through core.respond(): \a request is the recorded request, \a response
//! the answer, whose webSocketScript() is set). Nothing has been written to the socket yet: the
//! player validates the request, writes the 101 head (Upgrade, Connection, Sec-WebSocket-Accept,
//! Sec-WebSocket-Protocol when script.subprotocol() is set, then response.headers()), after
//! response.headDelay() when set, then plays the script, recording the client's messages with
//! core.recordMessage() (connectionIndex = info.connectionIndex). \a alreadyRead: bytes received
//! after the request's head (frames the client sent early). Follows the lifetime rules above.
QObject *createWebSocketPlayer(MockServerCore &core, QTcpSocket *socket, MockConnectionInfo info,
    RecordedRequest request, MockResponse response, QByteArray alreadyRead, QObject *parent);

} // namespace Reqivo::Testing::detail
