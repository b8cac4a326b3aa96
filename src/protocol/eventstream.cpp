// EventStreamParser: see eventstream.h for the rules. The hot path is one memchr for the line end
// (and one for a CR before it), a field-name comparison and an append; text that is all ASCII,
// the usual case, is never decoded.
#include "eventstream.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace Reqivo::Protocol {

namespace {

const QByteArray &messageType()
{
    static const QByteArray type = QByteArrayLiteral("message");
    return type;
}

bool isAscii(QByteArrayView bytes) noexcept
{
    const char *p = bytes.data();
    qsizetype n = bytes.size();
    for (; n >= 8; p += 8, n -= 8) {
        quint64 word;
        std::memcpy(&word, p, 8);
        if (word & 0x8080808080808080ull)
            return false;
    }
    for (; n > 0; ++p, --n) {
        if (quint8(*p) & 0x80)
            return false;
    }
    return true;
}

void appendText(QByteArray &out, QByteArrayView value)
{
    if (isAscii(value))
        out.append(value);
    else
        EventStreamParser::appendRepairedUtf8(out, value);
}

QByteArray text(QByteArrayView value)
{
    QByteArray out;
    appendText(out, value);
    return out;
}

} // namespace

EventStreamParser::EventStreamParser()
    : EventStreamParser(Limits())
{
}

EventStreamParser::EventStreamParser(const Limits &limits)
    : m_limits(limits)
{
}

void EventStreamParser::appendRepairedUtf8(QByteArray &out, QByteArrayView in)
{
    // The Encoding Standard's UTF-8 decoder, emitting the bytes of each valid sequence unchanged
    // and U+FFFD for each error; a byte that breaks a sequence is looked at again on its own.
    static constexpr char replacement[] = "\xef\xbf\xbd";
    const auto *p = reinterpret_cast<const quint8 *>(in.data());
    const qsizetype n = in.size();
    out.reserve(out.size() + n);
    int needed = 0;
    int seen = 0;
    quint8 lower = 0x80;
    quint8 upper = 0xbf;
    qsizetype start = 0; // first byte of the sequence in progress
    for (qsizetype i = 0; i < n; ++i) {
        const quint8 b = p[i];
        if (needed == 0) {
            if (b <= 0x7f) {
                out.append(char(b));
            } else if (b >= 0xc2 && b <= 0xdf) {
                needed = 1;
                start = i;
            } else if (b >= 0xe0 && b <= 0xef) {
                if (b == 0xe0)
                    lower = 0xa0;
                if (b == 0xed)
                    upper = 0x9f;
                needed = 2;
                start = i;
            } else if (b >= 0xf0 && b <= 0xf4) {
                if (b == 0xf0)
                    lower = 0x90;
                if (b == 0xf4)
                    upper = 0x8f;
                needed = 3;
                start = i;
            } else {
                out.append(replacement, 3);
            }
            continue;
        }
        if (b < lower || b > upper) {
            needed = seen = 0;
            lower = 0x80;
            upper = 0xbf;
            out.append(replacement, 3);
            --i; // this byte starts again
            continue;
        }
        lower = 0x80;
        upper = 0xbf;
        if (++seen == needed) {
            out.append(in.data() + start, i - start + 1);
            needed = seen = 0;
        }
    }
    if (needed != 0)
        out.append(replacement, 3); // the input ended inside a sequence
}

void EventStreamParser::receiveData(QByteArrayView data)
{
    if (m_eof || m_failed || data.isEmpty())
        return;
    if (m_pos > 0) {
        m_buffer.remove(0, m_pos);
        m_pos = 0;
    }
    m_buffer.append(data);
}

void EventStreamParser::receiveData(const QByteArray &data)
{
    if (m_eof || m_failed || data.isEmpty())
        return;
    if (m_pos >= m_buffer.size()) {
        m_buffer = data; // shared, not copied
        m_pos = 0;
        return;
    }
    receiveData(QByteArrayView(data));
}

void EventStreamParser::receiveEof()
{
    m_eof = true;
}

void EventStreamParser::resetStream()
{
    m_buffer.clear();
    m_pos = 0;
    m_bomChecked = false;
    m_skipLf = false;
    m_eof = false;
    m_endReported = false;
    m_failed = false;
    m_errorMessage.clear();
    m_eventType.clear();
    m_data.clear();
    m_lastEventIdBuffer = m_lastEventId;
}

EventStreamParser::Event EventStreamParser::fail(QString message)
{
    m_failed = true;
    m_errorMessage = std::move(message);
    m_buffer.clear();
    m_pos = 0;
    m_data.clear();
    Event ev;
    ev.type = EventType::Error;
    return ev;
}

EventStreamParser::Event EventStreamParser::nextEvent()
{
    Event ev;
    if (m_failed) {
        ev.type = EventType::Error;
        return ev;
    }
    const qint64 max = m_limits.maxEventBytes;
    for (;;) {
        if (!m_bomChecked) {
            // A BOM may arrive a byte at a time: decide once three bytes are in (or the end).
            static constexpr char bom[] = "\xef\xbb\xbf";
            const qsizetype n = available();
            qsizetype k = 0;
            while (k < n && k < 3 && m_buffer.at(m_pos + k) == bom[k])
                ++k;
            if (k == 3)
                m_pos += 3;
            if (k == 3 || k < n || m_eof)
                m_bomChecked = true;
            else
                return ev; // NeedData: every byte so far may still be a BOM
        }
        if (m_skipLf && available() > 0) {
            if (m_buffer.at(m_pos) == '\n')
                ++m_pos;
            m_skipLf = false;
        }
        const char *const begin = m_buffer.constData() + m_pos;
        const qsizetype n = available();
        const auto *lf
            = static_cast<const char *>(n > 0 ? std::memchr(begin, '\n', size_t(n)) : nullptr);
        const qsizetype beforeLf = lf ? qsizetype(lf - begin) : n;
        const auto *cr = static_cast<const char *>(
            beforeLf > 0 ? std::memchr(begin, '\r', size_t(beforeLf)) : nullptr);
        qsizetype end = 0;
        qsizetype consumed = 0;
        if (cr) {
            end = qsizetype(cr - begin);
            if (end + 1 < n) {
                consumed = end + (begin[end + 1] == '\n' ? 2 : 1);
            } else {
                consumed = end + 1; // a LF in the next read belongs to this CR
                m_skipLf = true;
            }
        } else if (lf) {
            end = beforeLf;
            consumed = end + 1;
        } else {
            // No complete line.
            if (max >= 0 && qint64(n) + qint64(m_data.size()) > max)
                return fail(
                    QStringLiteral("an event of the stream is larger than %1 bytes").arg(max));
            if (!m_eof)
                return ev;
            // The end: an unterminated line and an undispatched event are discarded.
            m_buffer.clear();
            m_pos = 0;
            m_data.clear();
            m_eventType.clear();
            if (!m_endReported) {
                m_endReported = true;
                ev.type = EventType::End;
            }
            return ev;
        }
        if (max >= 0 && qint64(end) + qint64(m_data.size()) > max)
            return fail(QStringLiteral("an event of the stream is larger than %1 bytes").arg(max));
        const QByteArrayView line(begin, end);
        m_pos += consumed;
        if (m_pos >= m_buffer.size()) {
            // Everything is read: the next receiveData() can share its array. The line's bytes
            // stay alive in this copy until processLine() is done with them.
            const QByteArray keep = std::exchange(m_buffer, QByteArray());
            m_pos = 0;
            if (processLine(line, ev))
                return ev;
            continue;
        }
        if (processLine(line, ev))
            return ev;
    }
}

bool EventStreamParser::processLine(QByteArrayView line, Event &ev)
{
    if (line.isEmpty())
        return dispatch(ev);
    if (line.front() == ':')
        return false; // a comment
    QByteArrayView field = line;
    QByteArrayView value;
    if (const qsizetype colon = line.indexOf(':'); colon >= 0) {
        field = line.first(colon);
        value = line.sliced(colon + 1);
        if (!value.isEmpty() && value.front() == ' ')
            value = value.sliced(1);
    }
    if (field == "data") {
        // One allocation for the value and its LF (appending them apart would grow twice), and
        // geometric growth over many lines.
        const qsizetype needed = m_data.size() + value.size() + 1;
        if (m_data.capacity() < needed)
            m_data.reserve(std::max(needed, 2 * m_data.capacity()));
        appendText(m_data, value);
        m_data.append('\n');
    } else if (field == "event") {
        m_eventType = text(value);
    } else if (field == "id") {
        if (!value.contains('\0'))
            m_lastEventIdBuffer = text(value);
    } else if (field == "retry") {
        if (value.isEmpty())
            return false;
        qint64 ms = 0;
        for (const char c : value) {
            if (c < '0' || c > '9')
                return false;
            const int digit = c - '0';
            if (ms > (std::numeric_limits<qint64>::max() - digit) / 10)
                ms = std::numeric_limits<qint64>::max(); // saturate: "for ever" is what it says
            else
                ms = ms * 10 + digit;
        }
        ev.type = EventType::Retry;
        ev.retryMs = ms;
        return true;
    }
    return false;
}

bool EventStreamParser::dispatch(Event &ev)
{
    m_lastEventId = m_lastEventIdBuffer;
    if (m_data.isEmpty()) {
        m_eventType.clear();
        return false;
    }
    m_data.chop(1); // the LF after the last data line
    ev.type = EventType::Message;
    ev.eventType = m_eventType.isEmpty() ? messageType() : std::exchange(m_eventType, QByteArray());
    ev.data = std::exchange(m_data, QByteArray());
    ev.id = m_lastEventId;
    m_eventType.clear();
    return true;
}

} // namespace Reqivo::Protocol
