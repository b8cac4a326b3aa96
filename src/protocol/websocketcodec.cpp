// WebSocket codec implementation (see websocketcodec.h for the rules).
//
// Theory of operation: received bytes accumulate in m_buffer and m_pos is the first one not yet
// used. A frame header is examined byte by byte as it arrives, in a fixed order (byte 0's
// checks, byte 1's, the first length byte's, then the whole header's), so an error is the same
// however the input is cut. Payload bytes are moved out of m_buffer as soon as they arrive
// (into the message being assembled, or the control frame's payload), unmasked and, for text,
// validated on the way; m_buffer therefore never holds more than one header plus one read.
#include "websocketcodec.h"

#include <QRandomGenerator>
#include <QStringEncoder>

#include <cstring>
#include <limits>
#include <utility>

namespace Reqivo::Protocol {

// ---- Utf8Validator ----------------------------------------------------------------------------

bool Utf8Validator::feed(QByteArrayView bytes) noexcept
{
    if (!m_valid)
        return false;
    const auto *p = reinterpret_cast<const quint8 *>(bytes.data());
    const auto *const end = p + bytes.size();
    while (p < end) {
        if (m_need == 0) {
            // ASCII runs, eight bytes at a time.
            while (end - p >= 8) {
                quint64 word;
                std::memcpy(&word, p, 8);
                if (word & 0x8080808080808080ull)
                    break;
                p += 8;
            }
            if (p == end)
                break;
            const quint8 b = *p++;
            if (b < 0x80)
                continue;
            // RFC 3629 §4: the lead byte fixes the length and the range of the first
            // continuation byte, which excludes overlongs (E0, F0), surrogates (ED) and code
            // points above U+10FFFF (F4).
            if (b >= 0xc2 && b <= 0xdf) {
                m_need = 1;
            } else if (b >= 0xe0 && b <= 0xef) {
                m_need = 2;
                if (b == 0xe0)
                    m_lo = 0xa0;
                else if (b == 0xed)
                    m_hi = 0x9f;
            } else if (b >= 0xf0 && b <= 0xf4) {
                m_need = 3;
                if (b == 0xf0)
                    m_lo = 0x90;
                else if (b == 0xf4)
                    m_hi = 0x8f;
            } else {
                m_valid = false; // 80-C1 (continuation or overlong lead), F5-FF
                return false;
            }
        } else {
            const quint8 b = *p++;
            if (b < m_lo || b > m_hi) {
                m_valid = false;
                return false;
            }
            --m_need;
            m_lo = 0x80;
            m_hi = 0xbf;
        }
    }
    return true;
}

bool Utf8Validator::isValidUtf8(QByteArrayView bytes) noexcept
{
    Utf8Validator v;
    return v.feed(bytes) && v.isComplete();
}

namespace WebSocket {

// ---- Shared -----------------------------------------------------------------------------------

bool isValidReceivedCloseCode(quint16 code) noexcept
{
    // RFC 6455 §7.4.1 and the IANA registry (§11.7): 1004 is reserved, 1005/1006/1015 are for
    // reporting only, 1016-2999 are unassigned; 3000-4999 belong to libraries and applications.
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
        || (code >= 3000 && code <= 4999);
}

QString errorName(Error e)
{
    switch (e) {
    case Error::None:
        return QStringLiteral("None");
    case Error::ReservedBits:
        return QStringLiteral("ReservedBits");
    case Error::UnknownOpcode:
        return QStringLiteral("UnknownOpcode");
    case Error::MaskedFrame:
        return QStringLiteral("MaskedFrame");
    case Error::UnmaskedFrame:
        return QStringLiteral("UnmaskedFrame");
    case Error::FragmentedControl:
        return QStringLiteral("FragmentedControl");
    case Error::ControlTooLong:
        return QStringLiteral("ControlTooLong");
    case Error::LengthMsbSet:
        return QStringLiteral("LengthMsbSet");
    case Error::UnexpectedContinuation:
        return QStringLiteral("UnexpectedContinuation");
    case Error::ExpectedContinuation:
        return QStringLiteral("ExpectedContinuation");
    case Error::FrameTooLarge:
        return QStringLiteral("FrameTooLarge");
    case Error::MessageTooLarge:
        return QStringLiteral("MessageTooLarge");
    case Error::InvalidUtf8:
        return QStringLiteral("InvalidUtf8");
    case Error::BadClosePayload:
        return QStringLiteral("BadClosePayload");
    case Error::BadCloseCode:
        return QStringLiteral("BadCloseCode");
    case Error::BadCloseReason:
        return QStringLiteral("BadCloseReason");
    }
    return QString();
}

quint16 errorCloseCode(Error e) noexcept
{
    switch (e) {
    case Error::None:
        return 0;
    case Error::FrameTooLarge:
    case Error::MessageTooLarge:
        return CloseCode::TooBig;
    case Error::InvalidUtf8:
    case Error::BadCloseReason:
        return CloseCode::InvalidPayload;
    default:
        return CloseCode::ProtocolError;
    }
}

void applyMask(char *data, qsizetype size, const quint8 mask[4], qint64 offset) noexcept
{
    auto *p = reinterpret_cast<quint8 *>(data);
    qsizetype i = 0;
    unsigned k = unsigned(offset & 3);
    // Bring the key to phase 0, then XOR eight bytes at a time.
    while (i < size && k != 0) {
        p[i++] ^= mask[k];
        k = (k + 1) & 3;
    }
    quint8 wide[8];
    for (int j = 0; j < 8; ++j)
        wide[j] = mask[j & 3];
    quint64 key;
    std::memcpy(&key, wide, 8);
    for (; size - i >= 8; i += 8) {
        quint64 word;
        std::memcpy(&word, p + i, 8);
        word ^= key;
        std::memcpy(p + i, &word, 8);
    }
    for (k = 0; i < size; ++i, ++k)
        p[i] ^= mask[k & 3];
}

namespace {
bool isControl(Opcode op) noexcept
{
    return quint8(op) >= 0x8;
}
bool isKnownOpcode(quint8 op) noexcept
{
    return op <= 0x2 || (op >= 0x8 && op <= 0xa);
}
// Compact the buffer when this many consumed bytes sit before m_pos (and they are at least half).
constexpr qsizetype compactThreshold = 16 * 1024;
constexpr qint64 maxControlPayload = 125;
// With no limits set, the most one QByteArray is asked to hold (keeps sizes far from overflow).
constexpr qint64 maxHoldable = std::numeric_limits<qsizetype>::max() / 4;
FrameParser::Event errorEvent()
{
    FrameParser::Event ev;
    ev.type = FrameParser::EventType::Error;
    return ev;
}
} // namespace

// ---- FrameParser ------------------------------------------------------------------------------

FrameParser::FrameParser(Role role, const Limits &limits)
    : m_role(role)
    , m_limits(limits)
{
}

void FrameParser::reset()
{
    const Role role = m_role;
    const Limits limits = m_limits;
    *this = FrameParser(role, limits);
}

bool FrameParser::isInsideMessage() const noexcept
{
    return m_state == State::Open && (m_inFrame || m_messageOpen || available() > 0);
}

void FrameParser::receiveData(QByteArrayView data)
{
    if (m_state != State::Open || data.isEmpty())
        return;
    if (m_pos == m_buffer.size()) {
        m_buffer.clear();
        m_pos = 0;
    } else if (m_pos >= compactThreshold && m_pos * 2 >= m_buffer.size()) {
        m_buffer.remove(0, m_pos);
        m_pos = 0;
    }
    m_buffer.append(data.data(), data.size());
}

void FrameParser::receiveData(const QByteArray &data)
{
    if (m_state != State::Open || data.isEmpty())
        return;
    if (m_pos == m_buffer.size()) {
        m_buffer = data;
        m_pos = 0;
        return;
    }
    receiveData(QByteArrayView(data));
}

void FrameParser::consume(qsizetype n)
{
    m_pos += n;
    if (m_pos == m_buffer.size()) {
        m_buffer.clear();
        m_pos = 0;
    }
}

FrameParser::Event FrameParser::fail(Error e, QString message)
{
    m_state = State::Failed;
    m_error = e;
    m_errorMessage = std::move(message);
    m_buffer.clear();
    m_pos = 0;
    m_message.clear();
    m_control.clear();
    return errorEvent();
}

FrameParser::Event FrameParser::nextEvent()
{
    if (m_state == State::Failed)
        return errorEvent();
    if (m_state == State::Closed)
        return Event {};
    Event ev;
    for (;;) {
        Step step;
        if (m_inFrame)
            step = parsePayload(ev);
        else if (available() > 0)
            step = parseHeader(ev);
        else
            step = Step::NeedData;
        if (step == Step::NeedData)
            return Event {};
        if (step == Step::Event)
            return ev;
    }
}

FrameParser::Step FrameParser::parseHeader(Event &ev)
{
    const auto *p = reinterpret_cast<const quint8 *>(m_buffer.constData() + m_pos);
    const qsizetype avail = available();

    // Byte 0: FIN, RSV1-3, opcode.
    const quint8 b0 = p[0];
    if (b0 & 0x70) {
        ev = fail(Error::ReservedBits,
            QStringLiteral("reserved bits 0x%1 set without an extension")
                .arg((b0 >> 4) & 7, 0, 16));
        return Step::Event;
    }
    const quint8 op = b0 & 0x0f;
    if (!isKnownOpcode(op)) {
        ev = fail(Error::UnknownOpcode, QStringLiteral("unknown opcode %1").arg(op));
        return Step::Event;
    }
    const auto opcode = Opcode(op);
    const bool fin = b0 & 0x80;
    if (isControl(opcode) && !fin) {
        ev = fail(Error::FragmentedControl, QStringLiteral("a control frame without FIN"));
        return Step::Event;
    }
    if (opcode == Opcode::Continuation && !m_messageOpen) {
        ev = fail(Error::UnexpectedContinuation,
            QStringLiteral("a continuation frame with no message to continue"));
        return Step::Event;
    }
    if ((opcode == Opcode::Text || opcode == Opcode::Binary) && m_messageOpen) {
        ev = fail(Error::ExpectedContinuation,
            QStringLiteral("a new data frame while a fragmented message is open"));
        return Step::Event;
    }
    if (avail < 2)
        return Step::NeedData;

    // Byte 1: MASK, the 7-bit length.
    const quint8 b1 = p[1];
    const bool masked = b1 & 0x80;
    if (m_role == Role::Client && masked) {
        ev = fail(Error::MaskedFrame, QStringLiteral("a masked frame from the server"));
        return Step::Event;
    }
    if (m_role == Role::Server && !masked) {
        ev = fail(Error::UnmaskedFrame, QStringLiteral("an unmasked frame from the client"));
        return Step::Event;
    }
    const quint8 len7 = b1 & 0x7f;
    if (isControl(opcode) && len7 > maxControlPayload) {
        ev = fail(Error::ControlTooLong, QStringLiteral("a control frame longer than 125 bytes"));
        return Step::Event;
    }
    const qsizetype lengthBytes = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    if (lengthBytes == 8 && avail >= 3 && (p[2] & 0x80)) {
        ev = fail(Error::LengthMsbSet,
            QStringLiteral("the most significant bit of a 64-bit length is set"));
        return Step::Event;
    }
    const qsizetype headerBytes = 2 + lengthBytes + (masked ? 4 : 0);
    if (avail < 2 + lengthBytes)
        return Step::NeedData;

    qint64 length = len7;
    if (lengthBytes > 0) {
        quint64 v = 0;
        for (qsizetype i = 0; i < lengthBytes; ++i)
            v = (v << 8) | p[2 + i];
        length = qint64(v); // below 2^63: the MSB was checked
    }
    // Limits, before a payload byte is buffered.
    if (m_limits.maxFrameBytes >= 0 && length > m_limits.maxFrameBytes) {
        ev = fail(Error::FrameTooLarge,
            QStringLiteral("a frame of %1 bytes exceeds the limit of %2")
                .arg(length)
                .arg(m_limits.maxFrameBytes));
        return Step::Event;
    }
    if (!isControl(opcode) && m_limits.maxMessageBytes >= 0) {
        const qint64 sofar = opcode == Opcode::Continuation ? m_message.size() : 0;
        if (length > m_limits.maxMessageBytes - sofar) {
            ev = fail(Error::MessageTooLarge,
                QStringLiteral("a message of more than %1 bytes exceeds the limit of %2")
                    .arg(sofar + length)
                    .arg(m_limits.maxMessageBytes));
            return Step::Event;
        }
    }
    if (!isControl(opcode) && length > maxHoldable - m_message.size()) {
        // Only reachable with no limits: a QByteArray cannot hold it.
        ev = fail(Error::MessageTooLarge,
            QStringLiteral("a message of more than %1 bytes cannot be held").arg(length));
        return Step::Event;
    }
    if (avail < headerBytes)
        return Step::NeedData;

    m_masked = masked;
    if (masked)
        std::memcpy(m_mask, p + 2 + lengthBytes, 4);
    m_fin = fin;
    m_opcode = opcode;
    m_frameLength = length;
    m_frameRead = 0;
    m_inFrame = true;
    if (isControl(opcode)) {
        m_control.clear();
    } else if (opcode != Opcode::Continuation) {
        m_messageOpen = true;
        m_messageOpcode = opcode;
        m_message.clear();
        m_utf8.reset();
    }
    consume(headerBytes);
    return m_frameLength == 0 ? finishFrame(ev) : Step::Continue;
}

FrameParser::Step FrameParser::parsePayload(Event &ev)
{
    const qsizetype n = qsizetype(qMin<qint64>(available(), m_frameLength - m_frameRead));
    if (n == 0)
        return Step::NeedData;
    QByteArray &target = isControl(m_opcode) ? m_control : m_message;
    const qsizetype at = target.size();
    target.append(m_buffer.constData() + m_pos, n);
    if (m_masked)
        applyMask(target.data() + at, n, m_mask, m_frameRead);
    m_frameRead += n;
    consume(n);
    if (!isControl(m_opcode) && m_messageOpcode == Opcode::Text
        && !m_utf8.feed(QByteArrayView(target).sliced(at, n))) {
        ev = fail(Error::InvalidUtf8, QStringLiteral("a text message that is not UTF-8"));
        return Step::Event;
    }
    if (m_frameRead < m_frameLength)
        return Step::NeedData;
    return finishFrame(ev);
}

FrameParser::Step FrameParser::finishFrame(Event &ev)
{
    m_inFrame = false;
    switch (m_opcode) {
    case Opcode::Ping:
    case Opcode::Pong:
        ev.type = m_opcode == Opcode::Ping ? EventType::Ping : EventType::Pong;
        ev.payload = std::exchange(m_control, QByteArray());
        return Step::Event;
    case Opcode::Close: {
        const QByteArray payload = std::exchange(m_control, QByteArray());
        if (payload.size() == 1) {
            ev = fail(Error::BadClosePayload, QStringLiteral("a Close payload of one byte"));
            return Step::Event;
        }
        quint16 code = CloseCode::NoStatus;
        if (payload.size() >= 2) {
            code = quint16((quint8(payload[0]) << 8) | quint8(payload[1]));
            if (!isValidReceivedCloseCode(code)) {
                ev = fail(Error::BadCloseCode,
                    QStringLiteral("close code %1 is not valid on the wire").arg(code));
                return Step::Event;
            }
            if (!Utf8Validator::isValidUtf8(QByteArrayView(payload).sliced(2))) {
                ev = fail(
                    Error::BadCloseReason, QStringLiteral("a close reason that is not UTF-8"));
                return Step::Event;
            }
        }
        ev.type = EventType::Close;
        ev.closeCode = code;
        ev.closeReason = payload.size() > 2 ? payload.sliced(2) : QByteArray();
        ev.payload = payload;
        m_state = State::Closed;
        m_buffer.clear();
        m_pos = 0;
        m_message.clear();
        return Step::Event;
    }
    case Opcode::Continuation:
    case Opcode::Text:
    case Opcode::Binary:
        break;
    }
    if (!m_fin)
        return Step::Continue;
    if (m_messageOpcode == Opcode::Text && !m_utf8.isComplete()) {
        ev = fail(
            Error::InvalidUtf8, QStringLiteral("a text message that ends inside a UTF-8 sequence"));
        return Step::Event;
    }
    m_messageOpen = false;
    ev.type = m_messageOpcode == Opcode::Text ? EventType::TextMessage : EventType::BinaryMessage;
    ev.payload = std::exchange(m_message, QByteArray());
    return Step::Event;
}

// ---- FrameWriter ------------------------------------------------------------------------------

FrameWriter::FrameWriter(Role role)
    : m_role(role)
{
}

quint32 FrameWriter::nextMask()
{
    if (m_maskSource)
        return m_maskSource();
    // One read of the system CSPRNG per batch of keys rather than one per frame: a message
    // written in small fragments would otherwise cost a system call per frame.
    if (m_keyIndex == keyBatch) {
        QRandomGenerator::system()->fillRange(m_keys, keyBatch);
        m_keyIndex = 0;
    }
    return m_keys[m_keyIndex++];
}

bool FrameWriter::writeFrame(QByteArray &out, Opcode opcode, QByteArrayView payload, bool fin)
{
    if (!isKnownOpcode(quint8(opcode)))
        return false;
    if (isControl(opcode) && (!fin || payload.size() > maxControlPayload))
        return false;
    const bool masked = m_role == Role::Client;
    const qint64 length = payload.size();
    char header[maxHeaderBytes];
    qsizetype h = 0;
    header[h++] = char((fin ? 0x80 : 0x00) | quint8(opcode));
    const char maskBit = masked ? char(0x80) : char(0);
    if (length <= 125) {
        header[h++] = char(maskBit | char(length));
    } else if (length <= 0xffff) {
        header[h++] = char(maskBit | 126);
        header[h++] = char(length >> 8);
        header[h++] = char(length);
    } else {
        header[h++] = char(maskBit | 127);
        for (int shift = 56; shift >= 0; shift -= 8)
            header[h++] = char(quint64(length) >> shift);
    }
    quint8 mask[4] = {};
    if (masked) {
        const quint32 key = nextMask();
        mask[0] = quint8(key >> 24);
        mask[1] = quint8(key >> 16);
        mask[2] = quint8(key >> 8);
        mask[3] = quint8(key);
        std::memcpy(header + h, mask, 4);
        h += 4;
    }
    const qsizetype at = out.size();
    // Grow geometrically: an exact reserve per frame would copy \a out once per fragment.
    const qsizetype needed = at + h + payload.size();
    if (out.capacity() < needed)
        out.reserve(qMax(needed, 2 * out.capacity()));
    out.append(header, h);
    out.append(payload.data(), payload.size());
    if (masked)
        applyMask(out.data() + at + h, payload.size(), mask, 0);
    return true;
}

bool FrameWriter::writeMessage(
    QByteArray &out, Opcode opcode, QByteArrayView data, qsizetype fragmentSize)
{
    if (fragmentSize <= 0 || data.size() <= fragmentSize)
        return writeFrame(out, opcode, data, true);
    const qsizetype frames = (data.size() + fragmentSize - 1) / fragmentSize;
    out.reserve(out.size() + data.size() + frames * maxHeaderBytes);
    Opcode op = opcode;
    for (qsizetype at = 0; at < data.size(); at += fragmentSize) {
        const qsizetype n = qMin(fragmentSize, data.size() - at);
        writeFrame(out, op, data.sliced(at, n), at + n == data.size());
        op = Opcode::Continuation;
    }
    return true;
}

bool FrameWriter::writeText(QByteArray &out, QByteArrayView utf8, qsizetype fragmentSize)
{
    if (!Utf8Validator::isValidUtf8(utf8))
        return false;
    return writeMessage(out, Opcode::Text, utf8, fragmentSize);
}

bool FrameWriter::writeText(QByteArray &out, QStringView text, qsizetype fragmentSize)
{
    // QString's UTF-8 conversion replaces lone surrogates, so the bytes are always valid.
    const qsizetype most = text.size() * 3; // UTF-8 bytes per UTF-16 unit, at most
    if ((fragmentSize > 0 && most > fragmentSize) || most > 0xffff)
        return writeMessage(out, Opcode::Text, text.toUtf8(), fragmentSize);
    // One frame with a short header (at most 4 + 4 bytes): encode straight into \a out after
    // room for the header, then write the header in front, without a temporary UTF-8 copy.
    const qsizetype at = out.size();
    constexpr qsizetype room = 8;
    out.resize(at + room + most);
    char *const start = out.data() + at + room;
    QStringEncoder utf8(QStringConverter::Utf8);
    const qsizetype length = utf8.appendToBuffer(start, text) - start;
    char header[room];
    qsizetype h = 0;
    header[h++] = char(0x80 | quint8(Opcode::Text));
    const bool masked = m_role == Role::Client;
    const char maskBit = masked ? char(0x80) : char(0);
    if (length <= 125) {
        header[h++] = char(maskBit | char(length));
    } else {
        header[h++] = char(maskBit | 126);
        header[h++] = char(length >> 8);
        header[h++] = char(length);
    }
    quint8 mask[4] = {};
    if (masked) {
        const quint32 key = nextMask();
        mask[0] = quint8(key >> 24);
        mask[1] = quint8(key >> 16);
        mask[2] = quint8(key >> 8);
        mask[3] = quint8(key);
        std::memcpy(header + h, mask, 4);
        h += 4;
    }
    char *const frame = out.data() + at;
    std::memmove(frame + h, start, size_t(length));
    std::memcpy(frame, header, size_t(h));
    out.resize(at + h + length);
    if (masked)
        applyMask(frame + h, length, mask, 0);
    return true;
}

bool FrameWriter::writeBinary(QByteArray &out, QByteArrayView data, qsizetype fragmentSize)
{
    return writeMessage(out, Opcode::Binary, data, fragmentSize);
}

bool FrameWriter::writePing(QByteArray &out, QByteArrayView payload)
{
    return writeFrame(out, Opcode::Ping, payload, true);
}

bool FrameWriter::writePong(QByteArray &out, QByteArrayView payload)
{
    return writeFrame(out, Opcode::Pong, payload, true);
}

bool FrameWriter::writeClose(QByteArray &out)
{
    return writeFrame(out, Opcode::Close, {}, true);
}

bool FrameWriter::writeClose(QByteArray &out, quint16 code, QByteArrayView reasonUtf8)
{
    if (!isSendableCloseCode(code) || reasonUtf8.size() > maxControlPayload - 2
        || !Utf8Validator::isValidUtf8(reasonUtf8))
        return false;
    char payload[maxControlPayload];
    payload[0] = char(code >> 8);
    payload[1] = char(code);
    if (!reasonUtf8.isEmpty())
        std::memcpy(payload + 2, reasonUtf8.data(), size_t(reasonUtf8.size()));
    return writeFrame(out, Opcode::Close, QByteArrayView(payload, 2 + reasonUtf8.size()), true);
}

bool FrameWriter::writeClose(QByteArray &out, quint16 code, QStringView reason)
{
    return writeClose(out, code, QByteArrayView(reason.toUtf8()));
}

} // namespace WebSocket
} // namespace Reqivo::Protocol
