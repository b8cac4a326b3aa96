// A scripted raw-TCP WebSocket server for exact-frame tests, in the test's own thread on
// 127.0.0.1, written without the library's codec so that it judges the client from outside:
//
//  * it reads the client's HTTP upgrade request and answers with whatever the test scripts —
//    by default a correct 101 whose Sec-WebSocket-Accept is computed from the request's key —
//    then writes the exact frame bytes a test builds by hand (wsframe(), wsclose(), ...; server
//    frames are unmasked unless a test masks one on purpose);
//  * it records every byte the client sends after its upgrade request and decodes it with an
//    independent RFC 6455 §5.2 reader into WsClientFrame values: whether the mask bit was set,
//    the masking key, the unmasked payload, and whether the length used the shortest form;
//  * it can stop reading (so the client's writes back up), close or reset the TCP connection,
//    and tells whether the client closed its side.
//
//   WsScriptedServer server;
//   server.onFrame = [](WsServerConnection *c, const WsClientFrame &f) {
//       if (f.opcode == WsOpcode::Close)
//           c->close(); // the server closes TCP once the client answered its Close
//   };
//   QVERIFY(server.listen());
//   ... co_await socket.open();
//   server.connection(0)->write(wsclose(1000, "bye"));
#pragma once

#include "support/scriptedserver.h" // ReceivedRequest, takeRequest(), httpResponse()

#include <QByteArray>
#include <QCryptographicHash>
#include <QHostAddress>
#include <QList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>

#include <chrono>
#include <functional>
#include <utility>

namespace ReqivoTest {

namespace WsOpcode {
inline constexpr int Continuation = 0x0;
inline constexpr int Text = 0x1;
inline constexpr int Binary = 0x2;
inline constexpr int Close = 0x8;
inline constexpr int Ping = 0x9;
inline constexpr int Pong = 0xA;
} // namespace WsOpcode

// --- server frames, built byte by byte --------------------------------------------------------

//! The frame header's length part: 7-bit up to 125, 16-bit up to 65535, else 64-bit.
inline QByteArray wsLengthBytes(quint64 length, bool maskBit = false)
{
    const char mask = maskBit ? char(0x80) : char(0);
    QByteArray out;
    if (length <= 125) {
        out.append(char(mask | char(length)));
    } else if (length <= 0xffff) {
        out.append(char(mask | 126));
        out.append(char((length >> 8) & 0xff));
        out.append(char(length & 0xff));
    } else {
        out.append(char(mask | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            out.append(char((length >> shift) & 0xff));
    }
    return out;
}

//! One unmasked frame: FIN (\a fin), RSV bits (\a rsv, 0-7: RSV1 = 4, RSV2 = 2, RSV3 = 1),
//! \a opcode, \a payload.
inline QByteArray wsframe(int opcode, QByteArrayView payload, bool fin = true, int rsv = 0)
{
    QByteArray out;
    out.append(char((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)));
    out += wsLengthBytes(quint64(payload.size()));
    out += payload;
    return out;
}

//! One frame with the mask bit set, as only a client may send it.
inline QByteArray wsMaskedFrame(
    int opcode, QByteArrayView payload, QByteArrayView key = "\x37\xfa\x21\x3d", bool fin = true)
{
    QByteArray out;
    out.append(char((fin ? 0x80 : 0) | (opcode & 0x0f)));
    out += wsLengthBytes(quint64(payload.size()), true);
    out += key.first(4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        out.append(char(payload[i] ^ key[i % 4]));
    return out;
}

inline QByteArray wstext(QByteArrayView utf8, bool fin = true)
{
    return wsframe(WsOpcode::Text, utf8, fin);
}
inline QByteArray wsbinary(QByteArrayView data, bool fin = true)
{
    return wsframe(WsOpcode::Binary, data, fin);
}
inline QByteArray wscontinuation(QByteArrayView data, bool fin = true)
{
    return wsframe(WsOpcode::Continuation, data, fin);
}

//! The payload of a Close frame: the code in network byte order, then the reason.
inline QByteArray wsClosePayload(int code, QByteArrayView reason = {})
{
    QByteArray out;
    out.append(char((code >> 8) & 0xff));
    out.append(char(code & 0xff));
    out += reason;
    return out;
}

//! A Close frame with \a code and \a reason.
inline QByteArray wsclose(int code, QByteArrayView reason = {})
{
    return wsframe(WsOpcode::Close, wsClosePayload(code, reason));
}

//! RFC 6455 §4.2.2: base64(SHA-1(key + GUID)).
inline QByteArray wsAcceptFor(QByteArrayView key)
{
    QByteArray input = key.toByteArray();
    input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    return QCryptographicHash::hash(input, QCryptographicHash::Sha1).toBase64();
}

//! \a response with every "{accept}" replaced by the Sec-WebSocket-Accept value for \a request.
inline QByteArray wsFillAccept(QByteArray response, const ReceivedRequest &request)
{
    return response.replace("{accept}", wsAcceptFor(request.field("sec-websocket-key")));
}

//! A correct 101 for \a request, with \a extraFields ("Name: value\r\n" lines) before the end.
inline QByteArray ws101(const ReceivedRequest &request, const QByteArray &extraFields = {})
{
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: "
        + wsAcceptFor(request.field("sec-websocket-key")) + "\r\n" + extraFields + "\r\n";
}

// --- client frames, read independently --------------------------------------------------------

struct WsClientFrame
{
    bool fin = false;
    int rsv = 0; //!< RSV1 = 4, RSV2 = 2, RSV3 = 1
    int opcode = 0;
    bool masked = false;
    QByteArray maskKey; //!< 4 bytes when masked
    QByteArray payload; //!< unmasked
    int lengthBits = 7; //!< the length form used: 7, 16 or 64
    bool minimalLength = true; //!< RFC 6455 §5.2: "the minimal number of bytes MUST be used"

    bool isClose() const { return opcode == WsOpcode::Close; }
    //! The code of a Close frame; 1005 (none present) when its payload is empty.
    int closeCode() const
    {
        if (payload.size() < 2)
            return 1005;
        return (int(quint8(payload[0])) << 8) | int(quint8(payload[1]));
    }
    QByteArray closeReason() const { return payload.mid(2); }
};

//! Reads frames off a byte stream as they complete; keeps a partial frame for the next feed().
class WsClientDecoder
{
public:
    //! Appends \a bytes and returns the frames they completed.
    QList<WsClientFrame> feed(QByteArrayView bytes)
    {
        m_buffer += bytes;
        QList<WsClientFrame> frames;
        qsizetype pos = 0;
        for (;;) {
            const qsizetype available = m_buffer.size() - pos;
            if (available < 2)
                break;
            const auto byte = [&](qsizetype i) { return quint8(m_buffer[pos + i]); };
            WsClientFrame frame;
            frame.fin = (byte(0) & 0x80) != 0;
            frame.rsv = (byte(0) >> 4) & 7;
            frame.opcode = byte(0) & 0x0f;
            frame.masked = (byte(1) & 0x80) != 0;
            quint64 length = byte(1) & 0x7f;
            qsizetype header = 2;
            if (length == 126) {
                header = 4;
                frame.lengthBits = 16;
            } else if (length == 127) {
                header = 10;
                frame.lengthBits = 64;
            }
            if (available < header)
                break;
            if (header > 2) {
                length = 0;
                for (qsizetype i = 2; i < header; ++i)
                    length = (length << 8) | byte(i);
                frame.minimalLength = header == 4 ? length > 125 : length > 0xffff;
            }
            const qsizetype keyAt = header;
            if (frame.masked)
                header += 4;
            if (quint64(available) < quint64(header) + length)
                break;
            if (frame.masked)
                frame.maskKey = m_buffer.mid(pos + keyAt, 4);
            frame.payload = m_buffer.mid(pos + header, qsizetype(length));
            if (frame.masked) {
                for (qsizetype i = 0; i < frame.payload.size(); ++i)
                    frame.payload[i] = char(frame.payload[i] ^ frame.maskKey[i % 4]);
            }
            frames.append(frame);
            pos += header + qsizetype(length);
        }
        m_buffer.remove(0, pos);
        return frames;
    }
    //! Bytes of a frame not complete yet.
    qsizetype pendingBytes() const { return m_buffer.size(); }

private:
    QByteArray m_buffer;
};

// --- the server ---------------------------------------------------------------------------------

class WsScriptedServer;

//! One accepted TCP connection. Lives as long as its server.
class WsServerConnection : public QObject
{
public:
    WsServerConnection(QTcpSocket *socket, int id, WsScriptedServer *server);

    int id() const { return m_id; }
    QTcpSocket *socket() const { return m_socket; }

    //! Writes \a bytes at once (one write, flushed).
    void write(const QByteArray &bytes)
    {
        if (m_socket->state() != QAbstractSocket::ConnectedState)
            return;
        m_socket->write(bytes);
        m_socket->flush();
    }
    //! Writes \a pieces one at a time, each flushed in its own turn of the event loop \a gap
    //! apart, so that the client most likely reads each on its own; the outcome of a test must
    //! not depend on whether it does. \a done runs after the last piece.
    void trickle(QList<QByteArray> pieces,
        std::chrono::milliseconds gap = std::chrono::milliseconds(1),
        std::function<void()> done = {})
    {
        if (pieces.isEmpty()) {
            if (done)
                done();
            return;
        }
        write(pieces.takeFirst());
        QTimer::singleShot(gap, this, [this, pieces = std::move(pieces), gap, done]() mutable {
            trickle(std::move(pieces), gap, std::move(done));
        });
    }
    //! Graceful close: what was written goes out, then FIN.
    void close()
    {
        m_closedByServer = true;
        m_socket->disconnectFromHost();
    }
    //! TCP reset.
    void abort()
    {
        m_closedByServer = true;
        m_socket->abort();
    }
    //! Stops reading: the socket's buffer is kept small and nothing is taken from it, so the
    //! kernel's buffers fill and the client's writes back up.
    void pauseReading()
    {
        m_paused = true;
        m_socket->setReadBufferSize(1024);
    }
    //! Reads again, including what waited meanwhile.
    void resumeReading()
    {
        m_paused = false;
        m_socket->setReadBufferSize(0);
        readAvailable();
    }

    //! The client's upgrade (or plain HTTP) requests on this connection, in order.
    QList<ReceivedRequest> requests;
    //! Every byte the client sent after its first request head (upgrade or not).
    QByteArray bytesAfterRequest;
    //! The frames decoded from those bytes, in order.
    QList<WsClientFrame> frames;
    //! True when this connection answered its upgrade request with a 101.
    bool upgraded = false;
    //! True once the client closed or reset the TCP connection (not the server).
    bool clientClosed = false;
    //! True once the TCP connection is gone, whoever ended it.
    bool disconnected = false;

    QList<WsClientFrame> framesWithOpcode(int opcode) const
    {
        QList<WsClientFrame> out;
        for (const WsClientFrame &f : frames) {
            if (f.opcode == opcode)
                out.append(f);
        }
        return out;
    }
    bool sawClose() const { return !framesWithOpcode(WsOpcode::Close).isEmpty(); }

private:
    void readAvailable();
    void decode(const QByteArray &bytes);

    QTcpSocket *m_socket;
    int m_id;
    WsScriptedServer *m_server;
    QByteArray m_head; // request bytes not parsed yet
    WsClientDecoder m_decoder;
    bool m_paused = false;
    bool m_closedByServer = false;
};

class WsScriptedServer : public QObject
{
public:
    explicit WsScriptedServer(QObject *parent = nullptr)
        : QObject(parent)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                auto *connection
                    = new WsServerConnection(socket, int(connections.size()) + 1, this);
                connections.append(connection);
            }
        });
    }

    bool listen() { return m_server.listen(QHostAddress::LocalHost); }
    void stopListening() { m_server.close(); }
    quint16 port() const { return m_server.serverPort(); }
    QUrl url(const QString &pathAndQuery = QStringLiteral("/")) const
    {
        return QUrl(QStringLiteral("ws://127.0.0.1:%1%2").arg(port()).arg(pathAndQuery));
    }
    QUrl httpUrl(const QString &pathAndQuery = QStringLiteral("/")) const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port()).arg(pathAndQuery));
    }

    //! The \a index'th accepted connection (0-based), or null.
    WsServerConnection *connection(qsizetype index) const { return connections.value(index); }

    //! The answer to a request (the upgrade request, or a plain HTTP request on a connection
    //! that was not upgraded). Empty: no answer at all. Unset: a correct 101 for an upgrade
    //! request (with extraFields101), a 200 with an empty body for anything else. A handler
    //! that writes the answer itself (trickle()) returns nothing; its connection then does not
    //! count as upgraded and decodes no frames.
    std::function<QByteArray(WsServerConnection *, const ReceivedRequest &)> respond;
    //! Added to the default 101.
    QByteArray extraFields101;
    //! Runs right after a 101 was written, before anything the client sends next is read.
    std::function<void(WsServerConnection *)> onUpgraded;
    //! Runs for every frame the client sends, once it is recorded in the connection's frames.
    std::function<void(WsServerConnection *, const WsClientFrame &)> onFrame;

    //! Every connection accepted, in order (owned by the server).
    QList<WsServerConnection *> connections;
    //! Every request received, over all connections, in order.
    QList<ReceivedRequest> requests;

    QByteArray answer(WsServerConnection *connection, const ReceivedRequest &request) const
    {
        if (respond)
            return respond(connection, request);
        if (request.hasField("upgrade"))
            return ws101(request, extraFields101);
        return httpResponse(200);
    }

private:
    QTcpServer m_server;
};

inline WsServerConnection::WsServerConnection(QTcpSocket *socket, int id, WsScriptedServer *server)
    : QObject(server)
    , m_socket(socket)
    , m_id(id)
    , m_server(server)
{
    socket->setParent(this);
    connect(socket, &QTcpSocket::readyRead, this, [this] {
        if (!m_paused)
            readAvailable();
    });
    connect(socket, &QTcpSocket::disconnected, this, [this] {
        disconnected = true;
        if (!m_closedByServer)
            clientClosed = true;
    });
    if (socket->bytesAvailable() > 0)
        readAvailable();
}

inline void WsServerConnection::readAvailable()
{
    const QByteArray bytes = m_socket->readAll();
    if (bytes.isEmpty())
        return;
    if (upgraded) {
        bytesAfterRequest += bytes;
        decode(bytes);
        return;
    }
    if (!requests.isEmpty())
        bytesAfterRequest += bytes;
    m_head += bytes;
    ReceivedRequest request;
    while (!upgraded && takeRequest(m_head, request, "WsScriptedServer")) {
        request.connection = m_id;
        request.indexOnConnection = int(requests.size());
        if (requests.isEmpty())
            bytesAfterRequest += m_head; // what came right behind the first request's head
        requests.append(request);
        m_server->requests.append(request);
        const QByteArray response = m_server->answer(this, request);
        if (!response.isEmpty())
            write(response);
        if (response.startsWith("HTTP/1.1 101 ")) {
            upgraded = true;
            if (m_server->onUpgraded)
                m_server->onUpgraded(this);
        }
    }
    if (upgraded && !m_head.isEmpty())
        decode(std::exchange(m_head, {}));
}

inline void WsServerConnection::decode(const QByteArray &bytes)
{
    const QList<WsClientFrame> done = m_decoder.feed(bytes);
    for (const WsClientFrame &frame : done) {
        frames.append(frame);
        if (m_server->onFrame)
            m_server->onFrame(this, frame);
    }
}

//! Frames with an index in their payload ("#7 " + filler), so a lost or reordered one shows.
inline QByteArray numberedPayload(int index, qsizetype size)
{
    QByteArray payload = "#" + QByteArray::number(index) + ' ';
    payload.reserve(size);
    while (payload.size() < size)
        payload.append(char('a' + (payload.size() + index) % 26));
    return payload.left(qMax(size, qsizetype(0)));
}

} // namespace ReqivoTest
