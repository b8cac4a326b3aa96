// EventStreamParser: the sans-I/O `text/event-stream` parser (WHATWG HTML, "Server-sent events",
// §9.2.6 "Interpreting an event stream"). QtCore only, no I/O, never throws.
//
// The model of the other parsers: the caller feeds bytes with receiveData()/receiveEof() and
// pulls events with nextEvent() until it says NeedData. The rules, each with a test:
//  * The stream is UTF-8; invalid sequences become U+FFFD exactly as the Encoding Standard's
//    UTF-8 decoder replaces them (maximal subparts). One leading BOM (EF BB BF) is stripped.
//  * Lines end with CRLF, LF or a lone CR, also when the CR and the LF arrive in different reads.
//  * A line starting with ':' is a comment. Otherwise the field name is what precedes the first
//    ':' (the whole line when there is none) and the value what follows it, minus ONE leading
//    space.
//  * `event` sets the event type; `data` appends the value and a LF to the data buffer; `id`
//    sets the last event ID buffer unless the value contains NUL (and it persists across
//    events); `retry` sets the reconnection time when the value is ASCII digits only; any other
//    field is ignored.
//  * An empty line dispatches: the last event ID becomes the buffer's value (even when nothing is
//    dispatched); an empty data buffer dispatches nothing; otherwise the final LF is removed and
//    a Message is reported with the type ("message" when none was set), the data and the last
//    event ID. The type and data buffers are then cleared.
//  * At the end of the stream an incomplete event (and an unterminated line) is discarded.
//  * Limits::maxEventBytes bounds one event: its data buffer plus the line being read. Going over
//    it is an Error event (final), so a stream without line ends cannot grow memory.
// The same bytes give the same events however they are split (tests/unit/protocol checks every
// split; tests/fuzz/fuzz_eventstream.cpp arbitrary ones).
//
// Event fields are UTF-8 QByteArrays (already decoded and repaired): cheap to move, and
// QString::fromUtf8() on them is exact.
#pragma once

#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace Reqivo::Protocol {

class REQIVO_TESTS_EXPORT EventStreamParser
{
public:
    struct Limits
    {
        //! One event's data plus the line being read, in bytes; -1: no limit.
        qint64 maxEventBytes = 16 * 1024 * 1024;
    };

    enum class EventType {
        NeedData, //!< feed more bytes (or receiveEof())
        Message, //!< Event::type/data/id are set
        Retry, //!< a valid `retry` field: Event::retryMs
        End, //!< receiveEof() was called and everything before it was reported
        Error, //!< errorMessage() says why; final
    };

    struct Event
    {
        EventType type = EventType::NeedData;
        QByteArray eventType; //!< Message: "message" unless an `event` field set another
        QByteArray data; //!< Message: the data lines joined with LF
        QByteArray id; //!< Message: the last event ID in effect (may be empty)
        qint64 retryMs = -1; //!< Retry: the new reconnection time
    };

    EventStreamParser();
    explicit EventStreamParser(const Limits &limits);

    void setLimits(const Limits &limits) noexcept { m_limits = limits; }
    const Limits &limits() const noexcept { return m_limits; }

    //! Appends bytes. Ignored after receiveEof() or an error.
    void receiveData(QByteArrayView data);
    //! The same, sharing \a data instead of copying it when nothing is buffered.
    void receiveData(const QByteArray &data);
    //! The stream ended: what is incomplete is discarded and End follows the last event.
    void receiveEof();

    Event nextEvent();

    //! The last event ID string (what a reconnect sends as Last-Event-ID).
    QByteArray lastEventId() const { return m_lastEventId; }
    //! Forgets the buffers of the current stream (not the last event ID): for a reconnect.
    void resetStream();
    bool hasFailed() const noexcept { return m_failed; }
    QString errorMessage() const { return m_errorMessage; }

    //! Appends \a in to \a out decoded as UTF-8 and encoded again: valid sequences unchanged,
    //! each maximal invalid subpart replaced by U+FFFD (EF BF BD), as the Encoding Standard's
    //! decoder does. \a in must end at a character boundary of the stream (a line end does).
    static void appendRepairedUtf8(QByteArray &out, QByteArrayView in);

private:
    //! Handles one complete line; true when it dispatched an event into \a ev.
    bool processLine(QByteArrayView line, Event &ev);
    bool dispatch(Event &ev);
    Event fail(QString message);
    qsizetype available() const noexcept { return m_buffer.size() - m_pos; }

    Limits m_limits;
    QByteArray m_buffer;
    qsizetype m_pos = 0;
    bool m_bomChecked = false; //!< the first bytes were checked for a BOM
    bool m_skipLf = false; //!< the last line ended with CR at the end of a read
    bool m_eof = false;
    bool m_endReported = false;
    bool m_failed = false;
    QString m_errorMessage;
    qint64 m_pendingRetry = -1;

    QByteArray m_eventType;
    QByteArray m_data;
    QByteArray m_lastEventIdBuffer;
    QByteArray m_lastEventId;
};

} // namespace Reqivo::Protocol
