// Http2::ClientSession: the sans-I/O HTTP/2 client side of one connection, on libnghttp2.
//
// Bytes in (receive()), bytes out (takeOutput()), events out (nextEvent()): no socket, no event
// loop, no Qt Network, no exceptions. The client layer drives it exactly like ResponseParser:
// feed what the socket read, pull events, write what takeOutput() returns. One session is one
// connection; each request is a stream, named by its stream id.
//
// Responses map onto the HTTP/1.1 types: a Head event carries a Protocol::ResponseHead (status,
// empty reason, lower-case field names as HTTP/2 sends them, versionMinor 0 meaning "2"), Data
// events the body bytes, a Trailers event a trailer section, End the end of the stream. 1xx
// interim heads come as Head events too (ResponseHead::isInterim()).
//
// Flow control (the classic pitfall is a 64 KiB window): the connection window is opened to
// Settings::connectionWindowBytes at once and given back as soon as DATA arrives, so that one
// stream never starves the others; each stream's window is Settings::streamWindowBytes and is
// given back only when the user consumes the data (consume()), so a streamed reader that stops
// reading stops its own stream only. What one stream buffers is thus bounded by its window.
//
// Limits: Limits::maxHeaderBytes bounds a header (or trailer) section's decoded size (name and
// value lengths plus 32 per field, pseudo-fields included, RFC 9113 §6.5.2; it is also sent as
// SETTINGS_MAX_HEADER_LIST_SIZE), Limits::maxFieldCount its field count (pseudo-fields not
// counted); a section beyond either resets that stream (Reset event, StreamError::HeaderTooLarge
// / TooManyFields). More than Limits::maxInterimResponses 1xx heads reset the stream as
// BadMessage. Limits::maxBodyBytes: exactly that many body bytes are delivered, then the stream
// is reset (BodyTooLarge), however the DATA was cut. Protocol violations by the server (bad
// frames, HPACK errors, DATA beyond a window, CONTINUATION/PING/SETTINGS floods, a header
// section far beyond the limits) end the whole session: receive() returns false and
// errorMessage() says why; every open stream then gets a Reset event with
// StreamError::ConnectionError. A GOAWAY from the server is not such a failure: streams above
// its last-stream-id get Reset/RefusedByGoAway at once, the others go on until they end or the
// connection closes (receive() keeps returning true; hasFailed() is true when its code is not
// NO_ERROR).
//
// Memory: what the events of one stream hold is bounded by its window (Data events of a stream
// are merged while they wait), SETTINGS and GOAWAY events are coalesced while they wait,
// PingAck events come only for ping(), and the ACKs libnghttp2 queues for the server's PINGs and
// SETTINGS are bounded (a flood of them is a connection error).
#pragma once

#include "responseparser.h"

#include <Reqivo/headers.h>
#include <Reqivo/limits.h>
#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <memory>

namespace Reqivo::Protocol::Http2 {

//! RFC 9113 §7 error codes (as they travel in RST_STREAM and GOAWAY).
enum ErrorCode : quint32 {
    NoError = 0x0,
    ProtocolErrorCode = 0x1,
    InternalError = 0x2,
    FlowControlError = 0x3,
    SettingsTimeout = 0x4,
    StreamClosed = 0x5,
    FrameSizeError = 0x6,
    RefusedStream = 0x7,
    Cancel = 0x8,
    CompressionError = 0x9,
    ConnectError = 0xa,
    EnhanceYourCalm = 0xb,
    InadequateSecurity = 0xc,
    Http11Required = 0xd,
};

//! "PROTOCOL_ERROR", "REFUSED_STREAM", ... ; "0x1f" for unknown codes.
REQIVO_TESTS_EXPORT QString errorCodeName(quint32 code);

//! Why a stream ended without End.
enum class StreamError {
    None,
    ResetByPeer,     //!< the server sent RST_STREAM (Event::errorCode says which)
    ResetLocally,    //!< resetStream() was called
    HeaderTooLarge,  //!< Limits::maxHeaderBytes (the stream was reset with PROTOCOL_ERROR)
    TooManyFields,   //!< Limits::maxFieldCount
    BadMessage,      //!< a malformed response (RFC 9113 §8.1.1: bad pseudo-headers,
                     //!< Content-Length not matching the DATA, ...), reset by nghttp2
    BodyTooLarge,    //!< Limits::maxBodyBytes exceeded (the stream was reset with CANCEL)
    RefusedByGoAway, //!< the stream id is above a GOAWAY's last-stream-id: never processed
    ConnectionError, //!< the session failed (error()) or the peer closed the connection
};

struct Settings
{
    //! Our SETTINGS_INITIAL_WINDOW_SIZE: how much one stream may buffer unread.
    qint32 streamWindowBytes = 4 * 1024 * 1024;
    //! The connection's receive window (a WINDOW_UPDATE on stream 0 right after the preface).
    qint32 connectionWindowBytes = 64 * 1024 * 1024;
    //! The largest frame payload we accept (SETTINGS_MAX_FRAME_SIZE; clamped to 16384 ..
    //! 16777215, and sent only when not 16384). Server push is always off
    //! (SETTINGS_ENABLE_PUSH 0).
    qint32 maxFrameBytes = 16384;
    //! A BodyWanted event is queued when a stream's queued body falls below this.
    qint64 bodyLowWaterBytes = 256 * 1024;
};

class REQIVO_TESTS_EXPORT ClientSession
{
public:
    enum class EventType {
        None,      //!< nothing pending
        Head,      //!< Event::head (interim or final) of Event::stream
        Data,      //!< Event::data: body bytes of Event::stream
        Trailers,  //!< Event::head.headers: the stream's trailer section (End follows)
        End,       //!< the stream's response is complete (END_STREAM received)
        Reset,     //!< the stream ended without End: Event::streamError, Event::errorCode
        GoAway,    //!< Event::lastStreamId, Event::errorCode, Event::data = debug data
        PingAck,   //!< the ACK of ping(); Event::data = its 8 bytes
        Settings,  //!< the peer's SETTINGS were applied (remoteMaxConcurrentStreams() etc.)
        BodyWanted, //!< Event::stream's queued body fell below Settings::bodyLowWaterBytes
                    //!< (emitted by takeOutput()): the client may appendBody() more
    };

    struct Event
    {
        EventType type = EventType::None;
        qint32 stream = 0;
        ResponseHead head;
        QByteArray data;
        StreamError streamError = StreamError::None;
        quint32 errorCode = NoError;
        qint32 lastStreamId = 0;
    };

    //! A request's pseudo-header fields and the rest (already validated by the caller's
    //! request preparation; connection-specific fields are dropped here, RFC 9113 §8.2.2:
    //! Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade, Host (it becomes
    //! :authority when authority is empty), and TE unless it is "trailers". Names are sent in
    //! lower case.
    struct Request
    {
        QByteArray method;
        QByteArray scheme;    //!< "https" or "http"
        QByteArray authority; //!< host[:port]; empty: taken from the Host field
        QByteArray path;      //!< origin-form target ("/" at least); empty for CONNECT
        Headers fields;
        //! The body is given with appendBody()/endBody(); false sends END_STREAM with the
        //! HEADERS frame.
        bool hasBody = false;
    };

    explicit ClientSession(const Limits &limits = {}, const Settings &settings = {});
    ~ClientSession();
    ClientSession(const ClientSession &) = delete;
    ClientSession &operator=(const ClientSession &) = delete;

    //! False if libnghttp2 could not set the session up (out of memory); errorMessage() says
    //! why.
    bool isValid() const;

    //! Opens a stream for \a request: its HEADERS go out with the next takeOutput(). Returns
    //! the stream id (> 0), or 0 when it cannot (session failed or going away, stream ids
    //! exhausted, a field nghttp2 refuses); \a error says why.
    qint32 submitRequest(const Request &request, QString *error = nullptr);

    //! Queues request body bytes of \a stream; they go out as flow control allows.
    void appendBody(qint32 stream, const QByteArray &data);
    //! No more body: END_STREAM goes out after the queued bytes.
    void endBody(qint32 stream);
    //! Body bytes queued for \a stream and not yet taken out by takeOutput().
    qint64 queuedBodyBytes(qint32 stream) const;

    //! The user consumed \a bytes of \a stream's body: its window opens by that much (a
    //! WINDOW_UPDATE goes out once enough is consumed).
    void consume(qint32 stream, qint64 bytes);

    //! Sends RST_STREAM(\a code) for \a stream; its queued body is dropped and no event of it
    //! follows (not even Reset). Harmless for a stream that has ended.
    void resetStream(qint32 stream, quint32 code = Cancel);

    //! Sends a PING with \a payload (8 bytes; shorter is zero-padded); a PingAck event follows.
    void ping(QByteArrayView payload);
    //! Sends GOAWAY(NO_ERROR): no new streams; open ones finish.
    void goAway();

    //! Feeds bytes read from the connection. False when the session failed (a connection
    //! error): errorMessage() says why, Reset events for every open stream are queued, and
    //! takeOutput() holds the GOAWAY to send before closing.
    bool receive(QByteArrayView bytes);
    //! The connection ended (EOF): every open stream gets Reset/ConnectionError.
    void receiveEof();

    //! What to write to the connection now (may be empty). At most \a maxBytes plus one frame.
    //! It may queue events too (pull them as after receive()): BodyWanted, and the Reset of a
    //! stream whose RST_STREAM libnghttp2 queued for a malformed response without saying so
    //! (DATA beyond the Content-Length), which comes as that RST_STREAM is written.
    QByteArray takeOutput(qint64 maxBytes = 1024 * 1024);
    bool wantsWrite() const;

    //! Pops the next event (EventType::None when there is none). BodyWanted events are queued
    //! by takeOutput() for a stream whose body is not ended, once after each appendBody() (and
    //! once after submitRequest()), when what is queued is below Settings::bodyLowWaterBytes.
    Event nextEvent();
    bool hasEvents() const;

    //! The peer's SETTINGS_MAX_CONCURRENT_STREAMS (100 until its SETTINGS arrive, as RFC 9113
    //! recommends assuming; 0x7fffffff when it sets none).
    quint32 remoteMaxConcurrentStreams() const;
    //! Streams submitted and not yet closed by libnghttp2 (a stream whose response ended is
    //! still open while its request body goes out, and a reset one until its RST_STREAM does).
    int openStreams() const;
    //! Whether a new stream may be opened: not failed, no GOAWAY sent or received, ids left.
    bool canOpenStream() const;
    bool hasReceivedGoAway() const;

    //! Set once a connection error happened (ours or the peer's GOAWAY with an error); not by
    //! receiveEof() alone.
    bool hasFailed() const;
    //! Why the session failed: a sentence for the error message; and its RFC 9113 code (for a
    //! connection error found here, the code of the GOAWAY that takeOutput() holds).
    QString errorMessage() const;
    quint32 errorCode() const;

    //! The connection preface (client magic + SETTINGS + WINDOW_UPDATE) is queued by the
    //! constructor: the first takeOutput() returns it.

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Reqivo::Protocol::Http2
