// ResponseParser implementation.
//
// Theory of operation: bytes accumulate in m_buffer; m_pos is the first byte not yet turned
// into an event. While a field section (head or trailers) is incomplete, m_pos stays at its
// start and m_scanned remembers how far lines have been validated, so each byte is looked at a
// bounded number of times whatever the split. Body bytes are handed out as views into m_buffer;
// the buffer is compacted only in receiveData(), never while a view may be held.
// The body framings (Content-Length, chunked, until close) are in responsebody.cpp.
#include "responseparser.h"

#include "charclass_p.h"
#include "parsetext_p.h"

#include <cstring>
#include <limits>

namespace Reqivo::Protocol {

namespace CC = CharClass;

namespace {
// Compact the buffer when this many consumed bytes sit before m_pos (and they are at least half).
constexpr qsizetype compactThreshold = 16 * 1024;
} // namespace

QString parseErrorName(ParseError e)
{
    switch (e) {
    case ParseError::None: return QStringLiteral("None");
    case ParseError::BadStatusLine: return QStringLiteral("BadStatusLine");
    case ParseError::UnsupportedVersion: return QStringLiteral("UnsupportedVersion");
    case ParseError::BadHeaderLine: return QStringLiteral("BadHeaderLine");
    case ParseError::BadHeaderName: return QStringLiteral("BadHeaderName");
    case ParseError::BadHeaderValue: return QStringLiteral("BadHeaderValue");
    case ParseError::BadLineEnding: return QStringLiteral("BadLineEnding");
    case ParseError::HeaderTooLarge: return QStringLiteral("HeaderTooLarge");
    case ParseError::LineTooLong: return QStringLiteral("LineTooLong");
    case ParseError::TooManyFields: return QStringLiteral("TooManyFields");
    case ParseError::TooManyInterimResponses: return QStringLiteral("TooManyInterimResponses");
    case ParseError::BadContentLength: return QStringLiteral("BadContentLength");
    case ParseError::ContentLengthWithTransferEncoding:
        return QStringLiteral("ContentLengthWithTransferEncoding");
    case ParseError::UnsupportedTransferCoding: return QStringLiteral("UnsupportedTransferCoding");
    case ParseError::BadChunkSize: return QStringLiteral("BadChunkSize");
    case ParseError::BadChunkExtension: return QStringLiteral("BadChunkExtension");
    case ParseError::ChunkLineTooLong: return QStringLiteral("ChunkLineTooLong");
    case ParseError::MissingChunkDelimiter: return QStringLiteral("MissingChunkDelimiter");
    case ParseError::BodyTooLarge: return QStringLiteral("BodyTooLarge");
    case ParseError::IncompleteHead: return QStringLiteral("IncompleteHead");
    case ParseError::IncompleteBody: return QStringLiteral("IncompleteBody");
    case ParseError::ClosedBeforeResponse: return QStringLiteral("ClosedBeforeResponse");
    case ParseError::TransferEncodingInHttp10: return QStringLiteral("TransferEncodingInHttp10");
    case ParseError::UnrequestedUpgrade: return QStringLiteral("UnrequestedUpgrade");
    }
    return QString();
}

static_assert(ResponseParser::maxSectionLimit == std::numeric_limits<qint32>::max(),
              "RawField and Headers spans hold section offsets as qint32");

ResponseParser::ResponseParser(const Limits &limits) { setLimits(limits); }

ResponseParser::~ResponseParser() = default;

void ResponseParser::setLimits(const Limits &limits)
{
    m_limits = limits;
    // Offsets inside a section are qint32, and lineStart + maxLineBytes must not overflow.
    m_limits.maxHeaderBytes = qMin(m_limits.maxHeaderBytes, maxSectionLimit);
    m_limits.maxLineBytes = qMin(m_limits.maxLineBytes, maxSectionLimit);
}

void ResponseParser::setRequestMethod(QByteArrayView method)
{
    // Methods are case-sensitive (RFC 9110 §9.1).
    m_requestIsHead = method == QByteArrayView("HEAD");
    m_requestIsConnect = method == QByteArrayView("CONNECT");
}

void ResponseParser::compact()
{
    if (m_pos == 0)
        return;
    if (m_pos == m_buffer.size()) {
        // resize() keeps the capacity: the next read reuses the allocation.
        if (m_buffer.isDetached())
            m_buffer.resize(0);
        else
            m_buffer = QByteArray();
        m_pos = 0;
    } else if (m_pos >= compactThreshold && m_pos * 2 >= m_buffer.size()) {
        m_buffer.remove(0, m_pos);
        m_pos = 0;
    }
}

void ResponseParser::receiveData(QByteArrayView data)
{
    if (data.isEmpty())
        return;
    compact();
    m_buffer.append(data);
}

void ResponseParser::receiveData(const QByteArray &data)
{
    if (data.isEmpty())
        return;
    compact();
    if (m_buffer.isEmpty()) {
        m_buffer = data; // shared, not copied
        m_pos = 0;
    } else {
        m_buffer.append(data);
    }
}

void ResponseParser::receiveEof() { m_eof = true; }

QByteArrayView ResponseParser::unconsumed() const noexcept
{
    return QByteArrayView(cursor(), available());
}

QByteArray ResponseParser::dataBytes(QByteArrayView data) const
{
    if (data.data() == m_buffer.constData() && data.size() == m_buffer.size())
        return m_buffer;
    return data.toByteArray();
}

ResponseParser::Event ResponseParser::fail(ParseError e, QString message)
{
    m_state = State::Failed;
    m_error = e;
    m_errorMessage = std::move(message);
    return {EventType::Error, {}};
}

void ResponseParser::resetSection()
{
    m_scanned = 0;
    m_lineCursor = 0;
    m_lineHasControl = false;
    m_skippedEmptyLine = false;
    m_lineIndex = 0;
    m_fieldsStart = 0;
    m_fields.clear();
}

void ResponseParser::resetCycle()
{
    resetSection();
    m_state = State::Head;
    m_upgradeRequested = false;
    m_consumedInCycle = 0;
    m_interimCount = 0;
    m_connectionClose = false;
    m_keepAlive = false;
    m_framing = Framing::None;
    m_contentLength = -1;
    m_remaining = 0;
    m_bodyReceived = 0;
    m_chunkState = ChunkState::Size;
    m_head = ResponseHead();
    m_trailers = Headers();
}

void ResponseParser::reset()
{
    resetCycle();
    m_buffer.resize(0);
    m_pos = 0;
    m_eof = false;
    m_error = ParseError::None;
    m_errorMessage.clear();
}

bool ResponseParser::isReusable() const noexcept
{
    if (m_state != State::Done || m_connectionClose)
        return false;
    if (m_framing == Framing::UntilClose)
        return false;
    // HTTP/1.1 is persistent by default; HTTP/1.0 only with "Connection: keep-alive".
    return m_head.versionMinor >= 1 || m_keepAlive;
}

bool ResponseParser::startNextCycle()
{
    if (!isReusable())
        return false;
    resetCycle();
    return true;
}

ResponseParser::Event ResponseParser::nextEvent()
{
    switch (m_state) {
    case State::Failed:
        return {EventType::Error, {}};
    case State::Done:
    case State::Upgraded:
        return {EventType::Paused, {}};
    case State::Body:
        return parseBody();
    case State::Head:
        break;
    }
    switch (scanSection(true)) {
    case Scan::Failed:
        return {EventType::Error, {}};
    case Scan::NeedData:
        if (!m_eof)
            return {EventType::NeedData, {}};
        if (!hasReceivedAnything())
            return fail(ParseError::ClosedBeforeResponse,
                        QStringLiteral("connection closed before any response byte arrived"));
        return fail(ParseError::IncompleteHead,
                    QStringLiteral("connection closed in the middle of the response head"));
    case Scan::Complete:
        return finishHead();
    }
    return {EventType::NeedData, {}};
}

// Before the status line is complete: decides from its first bytes whether it can still begin
// "HTTP/", so that a peer speaking another protocol is refused without waiting for a line end.
// Skips the one tolerated empty line. A decision that needs bytes beyond \a reach (where a
// line or head limit is certainly crossed) is left to the limit check, so that whichever is
// certain first wins, however the input was split. Returns NeedData when nothing is decided
// yet or the prefix is good.
ResponseParser::Scan ResponseParser::checkStatusLineStart(qsizetype reach)
{
    static constexpr char name[] = "HTTP/";
    while (true) {
        const char *base = cursor();
        const qsizetype avail = available();
        qsizetype i = 0;
        while (i < 5 && i < avail && base[i] == name[i])
            ++i;
        if (i == 5 || i == avail)
            return Scan::NeedData; // "HTTP/", or a prefix of it so far
        // base[i] cannot continue "HTTP/". A CR decides only with the byte after it.
        qsizetype decidedAt = i + 1;
        qsizetype lineEnd = -1;
        if (base[i] == '\n') {
            lineEnd = i + 1;
        } else if (base[i] == '\r') {
            if (i + 1 == avail)
                return Scan::NeedData;
            decidedAt = i + 2;
            if (base[i + 1] == '\n')
                lineEnd = i + 2;
        }
        if (decidedAt > reach)
            return Scan::NeedData;
        if (lineEnd > 0 && i == 0) {
            if (m_skippedEmptyLine) {
                fail(ParseError::BadStatusLine,
                     QStringLiteral("more than one empty line before the status line"));
                return Scan::Failed;
            }
            m_skippedEmptyLine = true;
            m_pos += lineEnd;
            m_consumedInCycle += lineEnd;
            m_lineCursor = 0;
            m_lineHasControl = false;
            continue;
        }
        if (base[i] == '\r' && lineEnd < 0) {
            fail(ParseError::BadLineEnding, QStringLiteral("bare CR in the status line"));
            return Scan::Failed;
        }
        const QByteArrayView start(base, decidedAt);
        // A TLS record starts with its content type: 22 (handshake) or 21 (alert).
        const bool tls = base[0] == 0x16 || base[0] == 0x15;
        fail(ParseError::BadStatusLine,
             QStringLiteral("not an HTTP/1.x response: it begins with \"%1\"%2")
                     .arg(printable(start),
                          tls ? QStringLiteral(" (a TLS record: does the URL need https?)")
                              : QString()));
        return Scan::Failed;
    }
}

// Validates every complete line not validated yet; stops at the blank line ending the section.
ResponseParser::Scan ResponseParser::scanSection(bool withStatusLine)
{
    const qsizetype lineLimit = m_limits.maxLineBytes;
    const qsizetype sectionLimit = m_limits.maxHeaderBytes;
    if (withStatusLine && m_lineIndex == 0) {
        // The status line starts the section: either limit is certainly crossed when this many
        // bytes have arrived without a line end.
        if (checkStatusLineStart(qMin(lineLimit, sectionLimit)) == Scan::Failed)
            return Scan::Failed;
    }
    const char *base = cursor();
    const qsizetype avail = available();
    // Reports which limit a line starting at \a lineStart crosses first; both are positions
    // relative to the section start, so the answer does not depend on how bytes were split.
    const auto limitError = [&](qsizetype lineStart) {
        const qsizetype lineCross = lineStart + lineLimit;
        const qsizetype sectionCross = sectionLimit;
        if (lineCross <= sectionCross)
            fail(ParseError::LineTooLong,
                 QStringLiteral("a %1 line is longer than %2 bytes")
                         .arg(withStatusLine ? QStringLiteral("head") : QStringLiteral("trailer"))
                         .arg(lineLimit));
        else
            fail(ParseError::HeaderTooLarge,
                 QStringLiteral("the %1 section is larger than %2 bytes")
                         .arg(withStatusLine ? QStringLiteral("head") : QStringLiteral("trailer"))
                         .arg(sectionLimit));
        return Scan::Failed;
    };

    while (true) {
        const qsizetype lineStart = m_scanned;
        // Find the line end and note any control byte on the way, in one pass: a line with no
        // control byte needs no per-character check of its value.
        qsizetype q = qMax(m_lineCursor, lineStart);
        qsizetype newline = -1;
        while (q < avail) {
            q = CC::findControl(base + q, base + avail) - base;
            if (q == avail)
                break;
            if (base[q] == '\n') {
                newline = q; // a bare LF: see the check below for trailers
                break;
            }
            if (base[q] == '\r') {
                if (q + 1 == avail)
                    break; // a CR at the end: wait for the next byte
                if (base[q + 1] == '\n') {
                    newline = q + 1;
                    break;
                }
            }
            m_lineHasControl = true;
            ++q;
        }
        if (newline < 0) {
            m_lineCursor = q;
            // The line ends at least one byte (its LF) after what we have.
            if (avail >= lineStart + lineLimit || avail >= sectionLimit)
                return limitError(lineStart);
            return Scan::NeedData;
        }
        const qsizetype lineEnd = newline + 1;
        if (lineEnd - lineStart > lineLimit || lineEnd > sectionLimit)
            return limitError(lineStart);
        // The bare-LF leniency is for the head only: trailers are part of the chunked framing.
        if (!withStatusLine && (newline == lineStart || base[newline - 1] != '\r')) {
            fail(ParseError::BadLineEnding,
                 QStringLiteral("a trailer line ends with a bare LF, not CRLF"));
            return Scan::Failed;
        }
        const QByteArrayView line = lineContent(base + lineStart, base + newline);
        const bool hasControl = m_lineHasControl;
        m_scanned = lineEnd;
        m_lineCursor = lineEnd;
        m_lineHasControl = false;
        if (line.isEmpty() && !(withStatusLine && m_lineIndex == 0))
            return Scan::Complete;
        if (!validateLine(line, lineStart, withStatusLine, hasControl))
            return Scan::Failed;
        ++m_lineIndex;
        if (withStatusLine && m_lineIndex == 1)
            m_fieldsStart = lineEnd;
    }
}

bool ResponseParser::validateLine(QByteArrayView line, qsizetype lineOffset, bool withStatusLine,
                                  bool hasControl)
{
    if (withStatusLine && m_lineIndex == 0)
        return parseStatusLine(line, hasControl);

    const auto badCrOr = [&](ParseError e, const QString &message) {
        if (hasBareCr(line))
            fail(ParseError::BadLineEnding,
                 QStringLiteral("bare CR in a field line: \"%1\"").arg(printable(line)));
        else
            fail(e, message);
        return false;
    };

    if (CC::isOws(line.front())) {
        // obs-fold: a continuation of the previous field's value (RFC 9112 §5.2).
        if (m_fields.isEmpty())
            return badCrOr(ParseError::BadHeaderLine,
                           QStringLiteral("a continuation line before any field: \"%1\"")
                                   .arg(printable(line)));
        if (hasControl && !CC::all(line, CC::FieldValue))
            return badCrOr(ParseError::BadHeaderValue,
                           QStringLiteral("invalid character in a folded field value: \"%1\"")
                                   .arg(printable(line)));
        RawField &f = m_fields.back();
        f.valueEnd = qint32(lineOffset + line.size());
        f.folded = true;
        return true;
    }

    // Fast path: a token followed by ':'. Anything else is classified on the slow path.
    qsizetype colon = 0;
    while (colon < line.size() && CC::is(line[colon], CC::Token))
        ++colon;
    if (colon == line.size() || line[colon] != ':' || colon == 0) {
        colon = line.indexOf(':');
        if (colon < 0)
            return badCrOr(ParseError::BadHeaderLine,
                           QStringLiteral("a field line without a colon: \"%1\"")
                                   .arg(printable(line)));
        if (colon == 0)
            return badCrOr(ParseError::BadHeaderLine,
                           QStringLiteral("a field line with an empty name: \"%1\"")
                                   .arg(printable(line)));
        const QByteArrayView name = line.first(colon);
        if (CC::isOws(name.back()))
            return badCrOr(ParseError::BadHeaderLine,
                           QStringLiteral("whitespace between field name and colon: \"%1\"")
                                   .arg(printable(line)));
        return badCrOr(ParseError::BadHeaderName,
                       QStringLiteral("invalid character in field name \"%1\"")
                               .arg(printable(name)));
    }
    const QByteArrayView rawValue = line.sliced(colon + 1);
    if (hasControl && !CC::all(rawValue, CC::FieldValue))
        return badCrOr(ParseError::BadHeaderValue,
                       QStringLiteral("invalid character in the value of field \"%1\"")
                               .arg(printable(line.first(colon))));
    if (m_fields.size() >= m_limits.maxFieldCount) {
        fail(ParseError::TooManyFields,
             QStringLiteral("more than %1 fields in the %2")
                     .arg(m_limits.maxFieldCount)
                     .arg(withStatusLine ? QStringLiteral("head") : QStringLiteral("trailers")));
        return false;
    }
    const qsizetype valueStart = lineOffset + colon + 1;
    m_fields.append(RawField{qint32(lineOffset), qint32(colon), qint32(valueStart),
                             qint32(valueStart + rawValue.size()), false});
    return true;
}

namespace {
//! The reason phrase as a QByteArray: the usual phrase of a common status is shared static
//! data, so most responses need no allocation for it.
QByteArray internedReason(int status, QByteArrayView reason)
{
    struct Usual
    {
        int status;
        QByteArrayView phrase;
    };
    static constexpr Usual usual[] = {
        {200, "OK"},    {204, "No Content"},   {206, "Partial Content"}, {301, "Moved Permanently"},
        {302, "Found"}, {304, "Not Modified"}, {404, "Not Found"},
    };
    for (const Usual &u : usual) {
        // The literals live for the whole program: the array may refer to them.
        if (u.status == status && u.phrase == reason)
            return QByteArray::fromRawData(u.phrase.data(), u.phrase.size());
    }
    return reason.toByteArray();
}
} // namespace

bool ResponseParser::parseStatusLine(QByteArrayView line, bool hasControl)
{
    const auto bad = [&](ParseError e, const QString &what) {
        if (hasBareCr(line))
            fail(ParseError::BadLineEnding,
                 QStringLiteral("bare CR in the status line: \"%1\"").arg(printable(line)));
        else
            fail(e, what + QStringLiteral(": \"%1\"").arg(printable(line)));
        return false;
    };
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    // HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3).
    if (line.size() < 12 || !line.startsWith("HTTP/") || !digit(line[5]) || line[6] != '.'
        || !digit(line[7]))
        return bad(ParseError::BadStatusLine, QStringLiteral("not an HTTP/1.x status line"));
    if (line[5] != '1')
        return bad(ParseError::UnsupportedVersion, QStringLiteral("unsupported HTTP version"));
    if (line[8] != ' ' || !digit(line[9]) || !digit(line[10]) || !digit(line[11]))
        return bad(ParseError::BadStatusLine, QStringLiteral("malformed status code"));
    // A code outside 100..599 is invalid, yet RFC 9110 §15 has the client process it like a
    // 5xx rather than refuse it: it is kept, and framed like any final response.
    const int status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    QByteArrayView reason;
    if (line.size() > 12) {
        if (line[12] != ' ')
            return bad(ParseError::BadStatusLine, QStringLiteral("malformed status code"));
        reason = line.sliced(13);
        if (hasControl && !CC::all(reason, CC::FieldValue))
            return bad(ParseError::BadStatusLine, QStringLiteral("invalid character in reason"));
    }
    m_head.versionMinor = line[7] - '0';
    m_head.status = status;
    m_head.reason = internedReason(status, reason);
    return true;
}

Headers ResponseParser::buildFields(qsizetype fieldsStart, qsizetype sectionEnd) const
{
    // One copy of the field lines becomes the Headers arena; fields are spans into it.
    const QByteArray arena(cursor() + fieldsStart, sectionEnd - fieldsStart);
    Headers h = Headers::fromArena(arena, m_fields.size());
    for (const RawField &f : m_fields) {
        const qsizetype nameOffset = f.nameOffset - fieldsStart;
        const QByteArrayView raw(arena.constData() + (f.valueOffset - fieldsStart),
                                 f.valueEnd - f.valueOffset);
        if (!f.folded) {
            const QByteArrayView v = CC::trimmedOws(raw);
            h.addSpan(nameOffset, f.nameLength, v.data() - arena.constData(), v.size());
            continue;
        }
        // Replace each obs-fold (line end + leading whitespace) by one SP.
        QByteArray unfolded;
        unfolded.reserve(raw.size());
        for (qsizetype i = 0; i < raw.size(); ++i) {
            if (raw[i] == '\r' || raw[i] == '\n') {
                while (!unfolded.isEmpty() && CC::isOws(unfolded.back()))
                    unfolded.chop(1);
                while (i < raw.size() && (raw[i] == '\r' || raw[i] == '\n' || CC::isOws(raw[i])))
                    ++i;
                unfolded.append(' ');
                --i;
                continue;
            }
            unfolded.append(raw[i]);
        }
        h.add(QByteArrayView(arena.constData() + nameOffset, f.nameLength),
              CC::trimmedOws(unfolded));
    }
    return h;
}

ResponseParser::Event ResponseParser::finishHead()
{
    const qsizetype headEnd = m_scanned;
    m_head.headers = buildFields(m_fieldsStart, headEnd);
    m_pos += headEnd;
    m_consumedInCycle += headEnd;
    resetSection();

    if (m_head.isInterim()) {
        if (++m_interimCount > m_limits.maxInterimResponses)
            return fail(ParseError::TooManyInterimResponses,
                        QStringLiteral("more than %1 interim (1xx) responses")
                                .arg(m_limits.maxInterimResponses));
        return {EventType::Head, {}};
    }
    return chooseFraming();
}

// RFC 9112 §6.3, in its order.
ResponseParser::Event ResponseParser::chooseFraming()
{
    // Only the client knows which protocols it offered; bytes after a 101 it did not ask for
    // could be anything (RFC 9110 §15.2.2, §7.8).
    if (m_head.status == 101 && !m_upgradeRequested)
        return fail(ParseError::UnrequestedUpgrade,
                    QStringLiteral("101 Switching Protocols to a request that asked for no "
                                   "upgrade"));
    const Headers &h = m_head.headers;
    bool sawContentLength = false, sawTransferEncoding = false;
    qint64 contentLength = -1;
    int chunkedCount = 0;
    for (qsizetype i = 0, n = h.size(); i < n; ++i) {
        const Headers::Field f = h.at(i);
        if (f.name.size() == 14 && CC::equalsLower(f.name, "content-length")) {
            sawContentLength = true;
            // "5", "5, 5" and repeated fields are accepted only when every value agrees.
            QByteArrayView rest = f.value;
            while (true) {
                const qsizetype comma = rest.indexOf(',');
                const QByteArrayView item = CC::trimmedOws(comma < 0 ? rest : rest.first(comma));
                qint64 v = 0;
                if (!CC::parseDecimal(item, &v))
                    return fail(ParseError::BadContentLength,
                                QStringLiteral("invalid Content-Length \"%1\"")
                                        .arg(printable(f.value)));
                if (contentLength >= 0 && v != contentLength)
                    return fail(ParseError::BadContentLength,
                                QStringLiteral("conflicting Content-Length values %1 and %2")
                                        .arg(contentLength)
                                        .arg(v));
                contentLength = v;
                if (comma < 0)
                    break;
                rest = rest.sliced(comma + 1);
            }
        } else if (f.name.size() == 17 && CC::equalsLower(f.name, "transfer-encoding")) {
            // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty (the
            // message passed through something that did not understand it): nothing in it,
            // Content-Length included, says where it ends.
            if (m_head.versionMinor == 0)
                return fail(ParseError::TransferEncodingInHttp10,
                            QStringLiteral("an HTTP/1.0 response with Transfer-Encoding"));
            sawTransferEncoding = true;
            QByteArrayView rest = f.value;
            while (!rest.isEmpty()) {
                const qsizetype comma = rest.indexOf(',');
                const QByteArrayView item = CC::trimmedOws(comma < 0 ? rest : rest.first(comma));
                rest = comma < 0 ? QByteArrayView() : rest.sliced(comma + 1);
                if (item.isEmpty())
                    continue; // empty list elements are allowed (RFC 9110 §5.6.1)
                if (!CC::equalsLower(item, "chunked"))
                    return fail(ParseError::UnsupportedTransferCoding,
                                QStringLiteral("unsupported transfer coding \"%1\"")
                                        .arg(printable(item)));
                ++chunkedCount;
            }
        } else if (f.name.size() == 10 && CC::equalsLower(f.name, "connection")) {
            m_connectionClose = m_connectionClose || CC::listContains(f.value, "close");
            m_keepAlive = m_keepAlive || CC::listContains(f.value, "keep-alive");
        }
    }

    if (sawTransferEncoding && chunkedCount != 1)
        return fail(ParseError::UnsupportedTransferCoding,
                    chunkedCount == 0
                            ? QStringLiteral("Transfer-Encoding without a coding")
                            : QStringLiteral("chunked applied more than once"));
    if (sawTransferEncoding && sawContentLength)
        return fail(ParseError::ContentLengthWithTransferEncoding,
                    QStringLiteral("both Content-Length and Transfer-Encoding are present"));

    const int status = m_head.status;
    m_state = State::Body;
    m_remaining = 0;
    if (status == 101 || (m_requestIsConnect && status >= 200 && status < 300)) {
        m_framing = Framing::None; // the connection now speaks another protocol
    } else if (m_requestIsHead || status == 204 || status == 304) {
        m_framing = Framing::None;
    } else if (sawTransferEncoding) {
        m_framing = Framing::Chunked;
        m_chunkState = ChunkState::Size;
    } else if (sawContentLength) {
        if (m_limits.maxBodyBytes >= 0 && contentLength > m_limits.maxBodyBytes)
            return fail(ParseError::BodyTooLarge,
                        QStringLiteral("Content-Length %1 exceeds the body limit of %2 bytes")
                                .arg(contentLength)
                                .arg(m_limits.maxBodyBytes));
        m_framing = Framing::ContentLength;
        m_contentLength = contentLength;
        m_remaining = contentLength;
    } else {
        m_framing = Framing::UntilClose;
    }
    return {EventType::Head, {}};
}

} // namespace Reqivo::Protocol
