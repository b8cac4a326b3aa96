// ResponseParser, the message body (RFC 9112 §6-7): Content-Length, chunked with its trailer
// section, and reading until the connection closes. Body bytes are handed out as views into
// the parser's buffer (see responseparser.cpp for the buffer's rules). Chunked framing takes
// CRLF only: the head's bare-LF leniency stops at the blank line that ends the head.
#include "responseparser.h"

#include "charclass_p.h"
#include "parsetext_p.h"

namespace Reqivo::Protocol {

namespace CC = CharClass;

namespace {
// Chunk sizes beyond this are not plausible and would overflow the running total.
constexpr qint64 maxChunkSize = qint64(1) << 56;

// chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
// Whitespace is only allowed where the grammar has BWS: never at the end of the line.
bool validChunkExtensions(QByteArrayView ext)
{
    qsizetype i = 0;
    const qsizetype n = ext.size();
    const auto skipBws = [&] {
        while (i < n && CC::isOws(ext[i]))
            ++i;
    };
    const auto token = [&] {
        const qsizetype start = i;
        while (i < n && CC::is(ext[i], CC::Token))
            ++i;
        return i > start;
    };
    const auto quotedString = [&] {
        ++i; // opening quote
        while (i < n) {
            const char c = ext[i];
            if (c == '"') {
                ++i;
                return true;
            }
            if (c == '\\') {
                if (i + 1 >= n || !CC::is(ext[i + 1], CC::FieldValue))
                    return false;
                i += 2;
                continue;
            }
            if (!CC::is(c, CC::FieldValue))
                return false;
            ++i;
        }
        return false;
    };
    while (i < n) {
        skipBws();
        if (i == n || ext[i] != ';')
            return false;
        ++i;
        skipBws();
        if (!token())
            return false;
        const qsizetype afterName = i;
        skipBws();
        if (i < n && ext[i] == '=') {
            ++i;
            skipBws();
            if (i < n && ext[i] == '"' ? !quotedString() : !token())
                return false;
        } else {
            i = afterName; // that whitespace can only precede the next ";"
        }
    }
    return true;
}
} // namespace

ResponseParser::Event ResponseParser::endOfMessage()
{
    const bool upgraded = m_head.status == 101
            || (m_requestIsConnect && m_head.status >= 200 && m_head.status < 300);
    m_state = upgraded ? State::Upgraded : State::Done;
    return {EventType::EndOfMessage, {}};
}

ResponseParser::Event ResponseParser::parseBody()
{
    switch (m_framing) {
    case Framing::None:
        return endOfMessage();
    case Framing::Chunked:
        return parseChunked();
    case Framing::ContentLength: {
        if (m_remaining == 0)
            return endOfMessage();
        const qsizetype take = qsizetype(qMin<qint64>(available(), m_remaining));
        if (take == 0) {
            if (m_eof)
                return fail(ParseError::IncompleteBody,
                            QStringLiteral("connection closed after %1 of %2 body bytes")
                                    .arg(m_bodyReceived)
                                    .arg(m_contentLength));
            return {EventType::NeedData, {}};
        }
        const QByteArrayView data(cursor(), take);
        m_pos += take;
        m_consumedInCycle += take;
        m_remaining -= take;
        m_bodyReceived += take;
        return {EventType::Data, data};
    }
    case Framing::UntilClose: {
        qsizetype take = available();
        if (m_limits.maxBodyBytes >= 0) {
            const qint64 allowed = m_limits.maxBodyBytes - m_bodyReceived;
            if (allowed == 0 && take > 0)
                return fail(ParseError::BodyTooLarge,
                            QStringLiteral("body exceeds the limit of %1 bytes")
                                    .arg(m_limits.maxBodyBytes));
            take = qsizetype(qMin<qint64>(take, allowed));
        }
        if (take == 0)
            return m_eof ? endOfMessage() : Event{EventType::NeedData, {}};
        const QByteArrayView data(cursor(), take);
        m_pos += take;
        m_consumedInCycle += take;
        m_bodyReceived += take;
        return {EventType::Data, data};
    }
    }
    return {EventType::NeedData, {}};
}

ResponseParser::Event ResponseParser::parseChunked()
{
    const auto incomplete = [&] {
        return fail(ParseError::IncompleteBody,
                    QStringLiteral("connection closed inside a chunked body"));
    };
    while (true) {
        switch (m_chunkState) {
        case ChunkState::Size: {
            const char *base = cursor();
            const qsizetype avail = available();
            const qsizetype limit = m_limits.maxChunkLineBytes;
            const char *nl = static_cast<const char *>(
                    std::memchr(base + m_scanned, '\n', size_t(avail - m_scanned)));
            if (!nl) {
                if (avail >= limit)
                    return fail(ParseError::ChunkLineTooLong,
                                QStringLiteral("a chunk-size line is longer than %1 bytes")
                                        .arg(limit));
                m_scanned = avail;
                return m_eof ? incomplete() : Event{EventType::NeedData, {}};
            }
            const qsizetype lineEnd = (nl - base) + 1;
            if (lineEnd > limit)
                return fail(ParseError::ChunkLineTooLong,
                            QStringLiteral("a chunk-size line is longer than %1 bytes").arg(limit));
            if (nl == base || nl[-1] != '\r')
                return fail(ParseError::BadLineEnding,
                            QStringLiteral("a chunk-size line ends with a bare LF, not CRLF"));
            const QByteArrayView line = lineContent(base, nl);
            qsizetype digits = 0;
            qint64 size = 0;
            while (digits < line.size() && CC::is(line[digits], CC::HexDigit)) {
                const char c = line[digits];
                const int v = c <= '9' ? c - '0' : (CC::lower(c) - 'a' + 10);
                if (size > (maxChunkSize >> 4))
                    return fail(ParseError::BadChunkSize,
                                QStringLiteral("chunk size too large: \"%1\"").arg(printable(line)));
                size = size * 16 + v;
                ++digits;
            }
            if (hasBareCr(line))
                return fail(ParseError::BadLineEnding,
                            QStringLiteral("bare CR in a chunk-size line"));
            if (digits == 0)
                return fail(ParseError::BadChunkSize,
                            QStringLiteral("invalid chunk size \"%1\"").arg(printable(line)));
            if (!validChunkExtensions(line.sliced(digits)))
                return fail(ParseError::BadChunkExtension,
                            QStringLiteral("invalid chunk extension \"%1\"").arg(printable(line)));
            m_pos += lineEnd;
            m_consumedInCycle += lineEnd;
            m_scanned = 0;
            if (size == 0) {
                m_chunkState = ChunkState::Trailers;
                resetSection();
                continue;
            }
            if (m_limits.maxBodyBytes >= 0 && m_bodyReceived + size > m_limits.maxBodyBytes)
                return fail(ParseError::BodyTooLarge,
                            QStringLiteral("chunked body exceeds the limit of %1 bytes")
                                    .arg(m_limits.maxBodyBytes));
            m_remaining = size;
            m_chunkState = ChunkState::Data;
            continue;
        }
        case ChunkState::Data: {
            const qsizetype take = qsizetype(qMin<qint64>(available(), m_remaining));
            if (take == 0)
                return m_eof ? incomplete() : Event{EventType::NeedData, {}};
            const QByteArrayView data(cursor(), take);
            m_pos += take;
            m_consumedInCycle += take;
            m_remaining -= take;
            m_bodyReceived += take;
            if (m_remaining == 0)
                m_chunkState = ChunkState::DataEnd;
            return {EventType::Data, data};
        }
        case ChunkState::DataEnd: {
            const qsizetype avail = available();
            if (avail == 0)
                return m_eof ? incomplete() : Event{EventType::NeedData, {}};
            const char *p = cursor();
            if (p[0] == '\n')
                return fail(ParseError::BadLineEnding,
                            QStringLiteral("chunk data is followed by a bare LF, not CRLF"));
            if (p[0] != '\r')
                return fail(ParseError::MissingChunkDelimiter,
                            QStringLiteral("chunk data is not followed by CRLF (more data than "
                                           "the chunk size announced)"));
            if (avail < 2)
                return m_eof ? incomplete() : Event{EventType::NeedData, {}};
            if (p[1] != '\n')
                return fail(ParseError::BadLineEnding, QStringLiteral("bare CR after chunk data"));
            m_pos += 2;
            m_consumedInCycle += 2;
            m_chunkState = ChunkState::Size;
            continue;
        }
        case ChunkState::Trailers: {
            switch (scanSection(false)) {
            case Scan::Failed:
                return {EventType::Error, {}};
            case Scan::NeedData:
                return m_eof ? incomplete() : Event{EventType::NeedData, {}};
            case Scan::Complete:
                break;
            }
            const qsizetype end = m_scanned;
            m_trailers = m_fields.isEmpty() ? Headers() : buildFields(0, end);
            m_pos += end;
            m_consumedInCycle += end;
            resetSection();
            return endOfMessage();
        }
        }
    }
}

} // namespace Reqivo::Protocol
