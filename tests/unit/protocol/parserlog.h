// ParserLog: drives a ResponseParser over a list of input pieces and records what it reported as
// one readable line, e.g. "head 200 OK | fields 1 | data 'hello' | end | keep-alive".
//
// The line is the unit every parser test and fuzz oracle compares, so it must not depend on how
// the bytes were cut: consecutive Data events are coalesced (a body split across reads is still
// one "data" entry), NeedData is not recorded, and reusability is read at EndOfMessage, where
// it is final. Depends on QtCore only, so the libFuzzer targets share it with the Qt Test suite.
#pragma once

#include "protocol/responseparser.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>
#include <QStringList>

namespace ParserLog {

using Reqivo::Protocol::ParseError;
using Reqivo::Protocol::ResponseParser;

//! The enum's own spelling, independent of parseErrorName(), so a change in the parser's
//! human-readable names cannot make two different errors look alike here.
inline QString errorName(ParseError e)
{
    switch (e) {
    case ParseError::None:
        return QStringLiteral("None");
    case ParseError::BadStatusLine:
        return QStringLiteral("BadStatusLine");
    case ParseError::UnsupportedVersion:
        return QStringLiteral("UnsupportedVersion");
    case ParseError::BadHeaderLine:
        return QStringLiteral("BadHeaderLine");
    case ParseError::BadHeaderName:
        return QStringLiteral("BadHeaderName");
    case ParseError::BadHeaderValue:
        return QStringLiteral("BadHeaderValue");
    case ParseError::BadLineEnding:
        return QStringLiteral("BadLineEnding");
    case ParseError::HeaderTooLarge:
        return QStringLiteral("HeaderTooLarge");
    case ParseError::LineTooLong:
        return QStringLiteral("LineTooLong");
    case ParseError::TooManyFields:
        return QStringLiteral("TooManyFields");
    case ParseError::TooManyInterimResponses:
        return QStringLiteral("TooManyInterimResponses");
    case ParseError::BadContentLength:
        return QStringLiteral("BadContentLength");
    case ParseError::ContentLengthWithTransferEncoding:
        return QStringLiteral("ContentLengthWithTransferEncoding");
    case ParseError::UnsupportedTransferCoding:
        return QStringLiteral("UnsupportedTransferCoding");
    case ParseError::BadChunkSize:
        return QStringLiteral("BadChunkSize");
    case ParseError::BadChunkExtension:
        return QStringLiteral("BadChunkExtension");
    case ParseError::ChunkLineTooLong:
        return QStringLiteral("ChunkLineTooLong");
    case ParseError::MissingChunkDelimiter:
        return QStringLiteral("MissingChunkDelimiter");
    case ParseError::BodyTooLarge:
        return QStringLiteral("BodyTooLarge");
    case ParseError::IncompleteHead:
        return QStringLiteral("IncompleteHead");
    case ParseError::IncompleteBody:
        return QStringLiteral("IncompleteBody");
    case ParseError::ClosedBeforeResponse:
        return QStringLiteral("ClosedBeforeResponse");
    case ParseError::TransferEncodingInHttp10:
        return QStringLiteral("TransferEncodingInHttp10");
    case ParseError::UnrequestedUpgrade:
        return QStringLiteral("UnrequestedUpgrade");
    }
    return QStringLiteral("ParseError(%1)").arg(int(e));
}

//! Printable ASCII as is; CR, LF, TAB as \r \n \t; quote, backslash and every other byte as \xNN.
inline QString escaped(QByteArrayView bytes)
{
    QString out;
    out.reserve(bytes.size());
    for (const char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\r')
            out += QLatin1String("\\r");
        else if (c == '\n')
            out += QLatin1String("\\n");
        else if (c == '\t')
            out += QLatin1String("\\t");
        else if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
            out += QLatin1Char(char(c));
        else
            out += QStringLiteral("\\x%1").arg(uint(c), 2, 16, QLatin1Char('0'));
    }
    return out;
}

inline QString fieldList(const Reqivo::Headers &headers)
{
    QStringList parts;
    for (const Reqivo::Headers::Field f : headers)
        parts << escaped(f.name) + QLatin1String(": ") + escaped(f.value);
    return QLatin1Char('[') + parts.join(QLatin1String(", ")) + QLatin1Char(']');
}

struct Options
{
    //! The request method the response answers (HEAD and CONNECT change the framing).
    QByteArray method = QByteArrayLiteral("GET");
    //! Whether the request asked to switch protocols (Upgrade): only then is a 101 acceptable.
    //! Applied to every cycle, as a client would for each request.
    bool upgrade = false;
    //! Whether the peer closes the connection after the input.
    bool eof = false;
    Reqivo::Limits limits = {};
    //! "fields [Name: value, ...]" instead of "fields N".
    bool listFields = false;
    //! Call startNextCycle() after each reusable message and go on parsing (logged as "next").
    bool pipeline = false;
    //! What unconsumed() must hold once a message completed (a tunnel's first bytes, say).
    QByteArray unconsumed = {};
};

struct Outcome
{
    QString log;
    QByteArray unconsumed;
    bool failed = false;
    bool reusable = false;
    //! The last entry is an end of message (or an upgrade), not an error or a pending read.
    bool complete = false;
    QString errorMessage;
};

class Recorder
{
public:
    explicit Recorder(const Options &options)
        : m_options(options)
        , m_parser(options.limits)
    {
        m_parser.setRequestMethod(options.method);
        m_parser.setUpgradeRequested(options.upgrade);
    }

    ResponseParser &parser() { return m_parser; }

    void feed(QByteArrayView piece)
    {
        if (piece.isEmpty())
            return;
        beginPendingCycle();
        m_fed += piece.size();
        m_parser.receiveData(piece);
        drain();
    }
    //! Feeds through the QByteArray overload, which may share \a piece instead of copying it.
    void feedShared(const QByteArray &piece)
    {
        if (piece.isEmpty())
            return;
        beginPendingCycle();
        m_fed += piece.size();
        m_parser.receiveData(piece);
        drain();
    }
    void eof()
    {
        m_parser.receiveEof();
        drain();
    }

    Outcome finish()
    {
        flushData();
        Outcome o;
        o.log = m_entries.join(QLatin1String(" | "));
        o.unconsumed = m_parser.unconsumed().toByteArray();
        o.failed = m_failed;
        o.reusable = m_parser.isReusable();
        o.complete = !m_entries.isEmpty()
            && (m_entries.last() == QLatin1String("keep-alive")
                || m_entries.last() == QLatin1String("close")
                || m_entries.last() == QLatin1String("upgraded"));
        o.errorMessage = m_parser.errorMessage();
        return o;
    }

private:
    void beginPendingCycle()
    {
        if (!m_cyclePending)
            return;
        m_cyclePending = false;
        m_entries << (m_parser.startNextCycle() ? QStringLiteral("next")
                                                : QStringLiteral("next refused"));
        m_parser.setUpgradeRequested(m_options.upgrade); // per request, like a client
    }

    void flushData()
    {
        if (m_data.isEmpty())
            return;
        m_entries << QLatin1String("data '") + escaped(m_data) + QLatin1Char('\'');
        m_data.clear();
    }

    void add(const QString &entry)
    {
        flushData();
        m_entries << entry;
    }

    void drain()
    {
        if (m_failed || m_runaway)
            return;
        // Each event but Data consumes at least a line, and Data at least one byte: more events
        // than this means the parser is spinning without progress.
        const qint64 budget = 4 * m_fed + 64;
        for (;;) {
            if (++m_events > budget) {
                add(QStringLiteral("runaway"));
                m_runaway = true;
                return;
            }
            const ResponseParser::Event ev = m_parser.nextEvent();
            bool stop = false;
            switch (ev.type) {
            case ResponseParser::EventType::NeedData:
                stop = true;
                break;
            case ResponseParser::EventType::Head:
                logHead();
                break;
            case ResponseParser::EventType::Data:
                m_data.append(ev.data.data(), ev.data.size());
                break;
            case ResponseParser::EventType::EndOfMessage:
                add(m_parser.trailers().isEmpty()
                        ? QStringLiteral("end")
                        : QLatin1String("end trailers ") + fieldList(m_parser.trailers()));
                add(m_parser.isReusable() ? QStringLiteral("keep-alive") : QStringLiteral("close"));
                break;
            case ResponseParser::EventType::Error:
                add(QLatin1String("error ") + errorName(m_parser.error()));
                m_failed = true;
                stop = true;
                break;
            case ResponseParser::EventType::Paused:
                stop = true;
                if (m_options.pipeline && m_parser.isReusable()
                    && m_parser.state() != ResponseParser::State::Upgraded) {
                    m_cyclePending = true;
                    if (!m_parser.unconsumed().isEmpty()) {
                        beginPendingCycle();
                        stop = false;
                    }
                }
                break;
            }
            // Logged once, whichever event the switch to the new protocol came with.
            if (!m_upgradeLogged && m_parser.state() == ResponseParser::State::Upgraded) {
                m_upgradeLogged = true;
                add(QStringLiteral("upgraded"));
            }
            if (stop)
                return;
        }
    }

    void logHead()
    {
        const auto &h = m_parser.head();
        QString line = QLatin1String("head ");
        if (h.versionMinor != 1)
            line += QStringLiteral("HTTP/1.%1 ").arg(h.versionMinor);
        line += QString::number(h.status);
        if (!h.reason.isEmpty())
            line += QLatin1Char(' ') + escaped(h.reason);
        add(line);
        add(m_options.listFields ? QLatin1String("fields ") + fieldList(h.headers)
                                 : QStringLiteral("fields %1").arg(h.headers.size()));
    }

    Options m_options;
    ResponseParser m_parser;
    QStringList m_entries;
    QByteArray m_data;
    qint64 m_fed = 0;
    qint64 m_events = 0;
    bool m_failed = false;
    bool m_runaway = false;
    bool m_cyclePending = false;
    bool m_upgradeLogged = false;
};

//! Feeds \a pieces in order (through the view overload), then EOF if the options say so.
inline Outcome run(const QList<QByteArrayView> &pieces, const Options &options)
{
    Recorder r(options);
    for (const QByteArrayView piece : pieces)
        r.feed(piece);
    if (options.eof)
        r.eof();
    return r.finish();
}

inline Outcome runWhole(const QByteArray &input, const Options &options, bool shared)
{
    Recorder r(options);
    if (shared)
        r.feedShared(input);
    else
        r.feed(input);
    if (options.eof)
        r.eof();
    return r.finish();
}

inline Outcome runBytewise(QByteArrayView input, const Options &options)
{
    Recorder r(options);
    for (qsizetype i = 0; i < input.size(); ++i)
        r.feed(input.sliced(i, 1));
    if (options.eof)
        r.eof();
    return r.finish();
}

} // namespace ParserLog
