// ResponseParser: the sans-I/O, incremental HTTP/1.1 response parser every request goes through.
//
// The h11 model: the caller feeds bytes with receiveData()/receiveEof() and pulls events with
// nextEvent() until it says NeedData. The parser never touches a socket, never throws, never
// allocates per byte and copies body bytes at most once (into its own buffer, and only when the
// caller hands it a view it cannot share). Framing follows RFC 9112 §6.3 exactly; anything the
// RFC does not allow is an error, except the documented leniencies below.
//
// One message cycle:   Head* (1xx interim, zero or more) → Head (final) → Data* → EndOfMessage
// then startNextCycle() for the next response on a reused connection. An Error event is final;
// it can replace the final Head (e.g. Content-Length over Limits::maxBodyBytes), and head()
// then still holds what was parsed. After a 101 or a 2xx to CONNECT, EndOfMessage comes right
// after the Head, state() becomes Upgraded, isReusable() is false and unconsumed() holds the
// first bytes of the new protocol. A 101 is accepted only after setUpgradeRequested(true).
//
// Strictness that is easy to miss (each has a test):
//  * Bytes that cannot begin "HTTP/" are refused as soon as they arrive (TLS or SSH spoken to
//    an http:// URL fails at once, not after a read timeout).
//  * Transfer-Encoding in an HTTP/1.0 response is an error (RFC 9112 §6.1: faulty framing).
//  * Chunked framing needs CRLF after each chunk-size line, after each chunk's data and after
//    each trailer line and the trailer section; a bare LF there is BadLineEnding.
//  * A status code is exactly three digits. One outside 100..599 is not refused: RFC 9110 §15
//    has the client process it like a 5xx, so it is framed like any final response (a 0xx is
//    not interim).
//
// Leniency policy (each has a test):
//  * In the head (status line, field lines, the blank line), a bare LF ends a line like CRLF
//    does (RFC 9112 §2.2 permits it). A bare CR is an error everywhere.
//  * One empty line (CRLF or LF) before a status line is skipped (RFC 9112 §2.2 asks the same
//    of servers before a request line); a second one is an error.
//  * Several Content-Length values (in one field or several) are accepted only when all are the
//    same valid number (RFC 9110 §8.6); any difference is an error.
//  * obs-fold in a field value is replaced by one SP (RFC 9112 §5.2, what a user agent MUST do).
//  * A status line without a reason phrase ("HTTP/1.1 200" or "HTTP/1.1 200 ") is accepted.
#pragma once

#include <Reqivo/headers.h>
#include <Reqivo/limits.h>
#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QVarLengthArray>

namespace Reqivo::Protocol {

//! Why a response was rejected. Stable values: tests and the client layer switch on them.
enum class ParseError {
    None,
    BadStatusLine,       //!< not "HTTP/1.x DDD [reason]", or the first bytes cannot begin "HTTP/"
    UnsupportedVersion,  //!< HTTP/0.9, HTTP/2 or other major versions
    BadHeaderLine,       //!< no colon, whitespace before colon, empty name
    BadHeaderName,       //!< a field name that is not an RFC 9110 token
    BadHeaderValue,      //!< NUL or another control character in a field value
    BadLineEnding,       //!< a bare CR anywhere; a bare LF in chunked framing or trailers
    HeaderTooLarge,      //!< Limits::maxHeaderBytes
    LineTooLong,         //!< Limits::maxLineBytes
    TooManyFields,       //!< Limits::maxFieldCount
    TooManyInterimResponses, //!< Limits::maxInterimResponses
    BadContentLength,    //!< signs, hex, spaces inside, empty, overflow, differing values
    ContentLengthWithTransferEncoding,
    UnsupportedTransferCoding, //!< anything but a final "chunked"
    BadChunkSize,        //!< not 1*HEXDIG, or above 2^56 (no real chunk is that large)
    BadChunkExtension,
    ChunkLineTooLong,    //!< Limits::maxChunkLineBytes
    MissingChunkDelimiter, //!< chunk data not followed by CRLF
    BodyTooLarge,        //!< Limits::maxBodyBytes
    IncompleteHead,      //!< EOF inside the head
    IncompleteBody,      //!< EOF before Content-Length bytes or the last chunk
    ClosedBeforeResponse, //!< EOF before any byte of the response
    TransferEncodingInHttp10, //!< RFC 9112 §6.1: faulty framing in an HTTP/1.0 response
    UnrequestedUpgrade,  //!< a 101 to a request without setUpgradeRequested(true)
};

REQIVO_TESTS_EXPORT QString parseErrorName(ParseError e);

struct ResponseHead
{
    int versionMinor = 1; //!< HTTP/1.<versionMinor>
    int status = 0;
    QByteArray reason;
    Headers headers;

    //! 1xx other than 101: another head follows. 101 Switching Protocols is final, and so is a
    //! code outside 100..599 (0xx included).
    bool isInterim() const noexcept { return status >= 100 && status < 200 && status != 101; }
};

class REQIVO_TESTS_EXPORT ResponseParser
{
public:
    enum class EventType {
        NeedData,     //!< feed more bytes (or EOF)
        Head,         //!< head() holds a response head; isInterim() for 1xx
        Data,         //!< Event::data holds body bytes (de-chunked)
        EndOfMessage, //!< the message is complete; trailers() holds chunked trailers
        Error,        //!< error()/errorMessage() say why; the connection must be closed
        Paused,       //!< after EndOfMessage, until startNextCycle()
    };

    struct Event
    {
        EventType type = EventType::NeedData;
        //! For Data: valid until the next call to any non-const member.
        QByteArrayView data;
    };

    enum class State { Head, Body, Done, Upgraded, Failed };

    explicit ResponseParser(const Limits &limits = {});
    ~ResponseParser();
    ResponseParser(const ResponseParser &) = delete;
    ResponseParser &operator=(const ResponseParser &) = delete;

    //! The largest maxHeaderBytes and maxLineBytes the parser uses: field offsets inside a head
    //! are 32-bit. Larger limits (up to qsizetype's maximum) are clamped to this.
    static constexpr qsizetype maxSectionLimit = 0x7fffffff;

    //! Takes effect for the next line scanned. maxHeaderBytes and maxLineBytes above
    //! maxSectionLimit are clamped to it; limits() returns the limits in effect.
    void setLimits(const Limits &limits);
    const Limits &limits() const noexcept { return m_limits; }

    //! The method of the request this response answers: HEAD has no body; a 2xx to CONNECT
    //! switches protocols. Must be set before the head arrives (defaults to GET).
    void setRequestMethod(QByteArrayView method);
    //! Whether the request this response answers asked to switch protocols (it carried
    //! Upgrade): only then is a 101 accepted; otherwise it fails with UnrequestedUpgrade.
    //! Set it for each request, before the head arrives: startNextCycle() and reset() set it
    //! back to false.
    void setUpgradeRequested(bool requested) noexcept { m_upgradeRequested = requested; }
    bool isUpgradeRequested() const noexcept { return m_upgradeRequested; }

    //! Appends bytes. The QByteArray overload shares instead of copying when nothing is buffered.
    void receiveData(QByteArrayView data);
    void receiveData(const QByteArray &data);
    //! The peer closed its sending side.
    void receiveEof();

    Event nextEvent();

    State state() const noexcept { return m_state; }
    //! The latest head (interim or final).
    const ResponseHead &head() const noexcept { return m_head; }
    const Headers &trailers() const noexcept { return m_trailers; }
    ParseError error() const noexcept { return m_error; }
    QString errorMessage() const { return m_errorMessage; }

    //! The framing the final head chose.
    enum class Framing { None, ContentLength, Chunked, UntilClose };
    Framing framing() const noexcept { return m_framing; }
    //! Content-Length when framing() is ContentLength, else -1.
    qint64 contentLength() const noexcept { return m_contentLength; }
    //! Body bytes delivered so far in this message.
    qint64 bodyBytesReceived() const noexcept { return m_bodyReceived; }
    //! True once any byte of the current response has arrived (the client layer retries a
    //! stale keep-alive connection only when this is false).
    bool hasReceivedAnything() const noexcept
    {
        return m_consumedInCycle > 0 || m_buffer.size() > m_pos;
    }

    //! After EndOfMessage: may the connection carry another request? False for HTTP/1.0
    //! without keep-alive, "Connection: close" and close-delimited bodies.
    bool isReusable() const noexcept;
    //! Begins the next response on the same connection; bytes already received are kept
    //! (pipelined responses). Only valid after EndOfMessage with isReusable().
    bool startNextCycle();
    //! Bytes received beyond the current message (after a 101 or CONNECT, the new protocol's).
    QByteArrayView unconsumed() const noexcept;
    //! \a data (a Data event's bytes) as a QByteArray: the buffer given to receiveData() itself,
    //! shared rather than copied, when the event covers all of it; a copy otherwise.
    QByteArray dataBytes(QByteArrayView data) const;
    //! Forgets everything, including buffered bytes: ready for a new connection.
    void reset();

private:
    // Incremental scanner of a field section (a head with its status line, or chunked
    // trailers). Lines are validated as soon as they are complete, limits as soon as exceeding
    // them is certain, so the same input gives the same events however it is split.
    struct RawField
    {
        // Relative to the section start; a section is at most maxSectionLimit bytes.
        qint32 nameOffset;
        qint32 nameLength;
        qint32 valueOffset;
        qint32 valueEnd;    // raw end: spans continuation lines when folded
        bool folded;
    };
    enum class Scan { NeedData, Complete, Failed };
    Scan scanSection(bool withStatusLine);
    Scan checkStatusLineStart(qsizetype reach);
    bool validateLine(QByteArrayView line, qsizetype lineOffset, bool withStatusLine,
                      bool hasControl);
    bool parseStatusLine(QByteArrayView line, bool hasControl);
    Headers buildFields(qsizetype fieldsStart, qsizetype sectionEnd) const;
    void resetSection();

    Event fail(ParseError e, QString message);
    Event finishHead();
    Event chooseFraming();
    Event parseBody();
    Event parseChunked();
    Event endOfMessage();
    void compact();
    void resetCycle();
    qsizetype available() const noexcept { return m_buffer.size() - m_pos; }
    const char *cursor() const noexcept { return m_buffer.constData() + m_pos; }

    Limits m_limits;
    QByteArray m_buffer;
    qsizetype m_pos = 0;            // first unconsumed byte of m_buffer
    bool m_eof = false;
    bool m_requestIsHead = false;
    bool m_requestIsConnect = false;
    bool m_upgradeRequested = false; // per message cycle
    State m_state = State::Head;
    ParseError m_error = ParseError::None;
    QString m_errorMessage;

    // Per field section (relative to m_pos, which does not move while a section is scanned).
    qsizetype m_scanned = 0;        // start of the first line not yet validated
    qsizetype m_lineCursor = 0;     // how far that line has been searched for its end
    bool m_lineHasControl = false;  // a control byte (other than its line end) was seen in it
    bool m_skippedEmptyLine = false; // the one empty line tolerated before a status line
    int m_lineIndex = 0;
    qsizetype m_fieldsStart = 0;    // end of the status line
    QVarLengthArray<RawField, 32> m_fields;

    // Per message cycle.
    qint64 m_consumedInCycle = 0;
    int m_interimCount = 0;
    bool m_connectionClose = false;
    bool m_keepAlive = false;
    Framing m_framing = Framing::None;
    qint64 m_contentLength = -1;
    qint64 m_remaining = 0;         // body bytes left (ContentLength) or in the current chunk
    qint64 m_bodyReceived = 0;
    enum class ChunkState { Size, Data, DataEnd, Trailers } m_chunkState = ChunkState::Size;
    ResponseHead m_head;
    Headers m_trailers;
};

} // namespace Reqivo::Protocol
