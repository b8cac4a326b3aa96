// WebSocket codec: the sans-I/O RFC 6455 framing layer (QtCore only, no I/O, never throws).
//
// WebSocket::FrameParser turns received bytes into whole messages and control frames; the
// caller feeds bytes with receiveData() and pulls events with nextEvent() until it says
// NeedData, the same model as ResponseParser. WebSocket::FrameWriter appends frames for a
// message or a control frame to a QByteArray. Utf8Validator is the incremental validator both
// use. None of them knows about sockets, the handshake or the close handshake's timing: the
// engine above does (it answers a Ping with writePong(), a Close with its own Close, an Error
// with writeClose(errorCloseCode()), and ignores what follows).
//
// Parser rules (a client parses the server's frames; Role::Server parses a client's):
//  * Payload lengths in all three forms (7-bit, 16-bit, 64-bit). The 64-bit form's most
//    significant bit must be 0 (RFC 6455 §5.2). A length in a longer form than needed (say 5 in
//    the 16-bit form) is ACCEPTED: RFC 6455's "minimal number of bytes MUST be used" binds
//    the sender and asks nothing of the receiver, Python websockets (10.x) accepts it too
//    (QWebSocket refuses it), and it costs nothing: the limits below bound it anyway. Control
//    frames are the exception (next rule).
//  * Limits are checked as soon as the length field is complete, before any payload byte is
//    buffered: a frame over maxFrameBytes (control frames included), or a data frame that
//    would take its message over maxMessageBytes, fails with 1009. A limit of -1 means none.
//    Messages are delivered whole, never in pieces, so maxMessageBytes bounds the memory.
//  * Masking: a client must fail on a masked frame from the server (§5.1); a server on an
//    unmasked one. RSV1-3 must be 0 (no extension is ever negotiated). Opcodes 3-7 and 11-15
//    are errors.
//  * Control frames (Close, Ping, Pong): payload at most 125 bytes, so its length must be in
//    the 7-bit form (a 16-bit length on a control frame fails at once), FIN set; they may
//    arrive between the fragments of a message and are reported at once.
//  * Fragmentation: a continuation with no message open, or a new Text/Binary while one is
//    open, is an error. Fragments are reassembled; a message is reported when its final frame
//    is complete.
//  * Text is validated by an incremental UTF-8 validator as its bytes arrive, however they are
//    split into frames and receiveData() calls: the error (1007) comes as soon as a sequence is
//    certainly invalid (overlongs, surrogates, above U+10FFFF, stray continuation bytes), and a
//    message ending inside a character is invalid.
//  * Close: an empty payload is reported as code 1005 (never valid on the wire); one byte is
//    an error; otherwise the code must be 1000-1003, 1007-1014 or 3000-4999 (1012-1014 are
//    IANA-registered and sent by real servers; 1004, 1005, 1006, 1015 and the rest are
//    errors, 1002) and the reason valid UTF-8 (else 1007). After a Close event the parser
//    reports nothing more: later bytes are ignored (§5.5.1).
//  * Every error is final and carries the close code the endpoint should send: 1002 (protocol
//    error), 1007 (invalid payload) or 1009 (too big).
// The same bytes give the same events however they are split (tests/unit/protocol checks every
// split; tests/fuzz/fuzz_websocket.cpp checks arbitrary ones).
//
// Writer rules: a client's frames are always masked with a fresh 4-byte key from
// QRandomGenerator::system(), read in batches of 32 keys (a key source can be injected for
// tests); a server's never are.
// Lengths use the minimal form. Messages can be fragmented into frames of at most N payload
// bytes. Ping/Pong payloads are at most 125 bytes; a Close carries nothing or a sendable code
// (never 1005, 1006 or 1015) and a UTF-8 reason of at most 123 bytes. Invalid input writes
// nothing and returns false.
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringView>

#include <functional>

namespace Reqivo::Protocol {

//! Incremental UTF-8 validator (RFC 3629): feed bytes in any pieces; it fails at the first byte
//! that makes the input certainly invalid.
class Utf8Validator
{
public:
    //! Validates \a bytes as the continuation of everything fed so far. Returns false as soon as
    //! the input is invalid; it then stays invalid until reset().
    bool feed(QByteArrayView bytes) noexcept;
    //! True when no character is left unfinished (and nothing invalid was seen).
    bool isComplete() const noexcept { return m_valid && m_need == 0; }
    bool isValid() const noexcept { return m_valid; }
    void reset() noexcept { *this = Utf8Validator(); }

    //! Whole-buffer check: valid and complete.
    static bool isValidUtf8(QByteArrayView bytes) noexcept;

private:
    quint8 m_need = 0; // continuation bytes still expected
    quint8 m_lo = 0x80; // bounds of the next continuation byte
    quint8 m_hi = 0xbf;
    bool m_valid = true;
};

namespace WebSocket {

enum class Opcode : quint8 {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xa,
};

//! Which end of the connection this codec is: a Client masks what it writes and refuses masked
//! frames; a Server (test peers) the other way round.
enum class Role { Client, Server };

//! Close codes used by the codec (RFC 6455 §7.4.1).
namespace CloseCode {
constexpr quint16 Normal = 1000;
constexpr quint16 ProtocolError = 1002;
constexpr quint16 NoStatus = 1005; //!< reported for an empty Close; never sent
constexpr quint16 Abnormal = 1006; //!< the connection dropped without a Close; never sent
constexpr quint16 InvalidPayload = 1007;
constexpr quint16 TooBig = 1009;
} // namespace CloseCode

//! May \a code appear in a received Close frame?
bool isValidReceivedCloseCode(quint16 code) noexcept;
//! May this endpoint send \a code? The same set: 1005, 1006 and 1015 never go on the wire.
inline bool isSendableCloseCode(quint16 code) noexcept
{
    return isValidReceivedCloseCode(code);
}

//! Why the received frames were refused. Stable values: tests switch on them.
enum class Error {
    None,
    ReservedBits, //!< RSV1-3 set with no extension negotiated (1002)
    UnknownOpcode, //!< opcodes 3-7, 11-15 (1002)
    MaskedFrame, //!< a masked frame from the server, client role (1002)
    UnmaskedFrame, //!< an unmasked frame from a client, server role (1002)
    FragmentedControl, //!< a control frame without FIN (1002)
    ControlTooLong, //!< a control frame payload over 125 bytes (1002)
    LengthMsbSet, //!< the 64-bit length's most significant bit is set (1002)
    UnexpectedContinuation, //!< a continuation frame with no message open (1002)
    ExpectedContinuation, //!< a Text/Binary frame while a fragmented message is open (1002)
    FrameTooLarge, //!< maxFrameBytes (1009)
    MessageTooLarge, //!< maxMessageBytes (1009)
    InvalidUtf8, //!< text that is not UTF-8 (1007)
    BadClosePayload, //!< a Close payload of one byte (1002)
    BadCloseCode, //!< a close code not allowed on the wire (1002)
    BadCloseReason, //!< a close reason that is not UTF-8 (1007)
};

QString errorName(Error e);
//! The close code an endpoint sends when failing with \a e (0 for None).
quint16 errorCloseCode(Error e) noexcept;

struct Limits
{
    //! One frame's payload; -1 = no limit.
    qint64 maxFrameBytes = 10 * 1024 * 1024;
    //! One message's payload, all fragments together; -1 = no limit.
    qint64 maxMessageBytes = 64 * 1024 * 1024;
};

class FrameParser
{
public:
    enum class EventType {
        NeedData, //!< feed more bytes
        TextMessage, //!< Event::payload is a whole message, valid UTF-8
        BinaryMessage, //!< Event::payload is a whole message
        Ping, //!< Event::payload: at most 125 bytes
        Pong,
        Close, //!< Event::closeCode (1005 for none) and closeReason (UTF-8); final
        Error, //!< error() says why, errorCloseCode() what to send; final
    };

    struct Event
    {
        EventType type = EventType::NeedData;
        QByteArray payload;
        quint16 closeCode = 0; //!< Close only
        QByteArray closeReason; //!< Close only, valid UTF-8
    };

    enum class State { Open, Closed, Failed };

    explicit FrameParser(Role role = Role::Client, const Limits &limits = {});

    //! Takes effect from the next frame header.
    void setLimits(const Limits &limits) noexcept { m_limits = limits; }
    const Limits &limits() const noexcept { return m_limits; }
    Role role() const noexcept { return m_role; }

    //! Appends bytes. Bytes after a Close or an error are ignored.
    void receiveData(QByteArrayView data);
    //! The same, sharing \a data instead of copying it when nothing is buffered (the usual
    //! case: each read is consumed by the events it completes).
    void receiveData(const QByteArray &data);
    Event nextEvent();

    State state() const noexcept { return m_state; }
    Error error() const noexcept { return m_error; }
    //! The close code to send after an error (1002, 1007 or 1009); 0 without an error.
    quint16 errorCloseCode() const noexcept { return WebSocket::errorCloseCode(m_error); }
    QString errorMessage() const { return m_errorMessage; }
    //! True while a frame or a fragmented message is incomplete (an EOF now loses data).
    bool isInsideMessage() const noexcept;
    //! Forgets everything: ready for a new connection.
    void reset();

private:
    enum class Step { NeedData, Continue, Event };
    Step parseHeader(Event &ev);
    Step parsePayload(Event &ev);
    Step finishFrame(Event &ev);
    Event fail(Error e, QString message);
    void consume(qsizetype n);
    qsizetype available() const noexcept { return m_buffer.size() - m_pos; }

    Role m_role;
    Limits m_limits;
    QByteArray m_buffer;
    qsizetype m_pos = 0;
    State m_state = State::Open;
    Error m_error = Error::None;
    QString m_errorMessage;

    // The frame being read (valid once m_inFrame).
    bool m_inFrame = false;
    bool m_fin = false;
    Opcode m_opcode = Opcode::Continuation;
    bool m_masked = false;
    quint8 m_mask[4] = {};
    qint64 m_frameLength = 0;
    qint64 m_frameRead = 0;
    QByteArray m_control; // a control frame's payload

    // The data message being assembled.
    bool m_messageOpen = false;
    Opcode m_messageOpcode = Opcode::Text;
    QByteArray m_message;
    Utf8Validator m_utf8;
};

class FrameWriter
{
public:
    //! Returns a masking key (its 4 bytes in network order). Default: QRandomGenerator::system().
    using MaskSource = std::function<quint32()>;

    explicit FrameWriter(Role role = Role::Client);
    //! For tests: deterministic keys. An empty function restores the CSPRNG.
    void setMaskSource(MaskSource source) { m_maskSource = std::move(source); }
    Role role() const noexcept { return m_role; }

    //! Appends one frame to \a out. Control frames must have \a fin and at most 125 bytes; no
    //! check of UTF-8 or of fragment order is made here (the message writers below do).
    bool writeFrame(QByteArray &out, Opcode opcode, QByteArrayView payload, bool fin = true);
    //! A whole message as one frame, or as frames of at most \a fragmentSize payload bytes
    //! (0: one frame). Text must be valid UTF-8; fragments may cut a character.
    bool writeText(QByteArray &out, QByteArrayView utf8, qsizetype fragmentSize = 0);
    bool writeText(QByteArray &out, QStringView text, qsizetype fragmentSize = 0);
    bool writeBinary(QByteArray &out, QByteArrayView data, qsizetype fragmentSize = 0);
    bool writePing(QByteArray &out, QByteArrayView payload = {});
    bool writePong(QByteArray &out, QByteArrayView payload = {});
    //! A Close with no payload (the peer will report 1005).
    bool writeClose(QByteArray &out);
    //! A Close with \a code (sendable) and a UTF-8 \a reason of at most 123 bytes.
    bool writeClose(QByteArray &out, quint16 code, QByteArrayView reasonUtf8 = {});
    bool writeClose(QByteArray &out, quint16 code, QStringView reason);

    //! The largest frame header: 2 + 8 (length) + 4 (mask).
    static constexpr qsizetype maxHeaderBytes = 14;

private:
    bool writeMessage(QByteArray &out, Opcode opcode, QByteArrayView data, qsizetype fragmentSize);
    quint32 nextMask();

    static constexpr int keyBatch = 32;

    Role m_role;
    MaskSource m_maskSource;
    quint32 m_keys[keyBatch] = {};
    int m_keyIndex = keyBatch;
};

//! XORs \a data in place with the 4-byte \a mask, starting at mask byte \a offset % 4.
void applyMask(char *data, qsizetype size, const quint8 mask[4], qint64 offset = 0) noexcept;

} // namespace WebSocket
} // namespace Reqivo::Protocol
