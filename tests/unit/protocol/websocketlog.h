// WebSocketLog: drives a WebSocket::FrameParser over input pieces and records its events as one
// readable line, e.g. "text 'hi' | ping '' | close 1000 'bye'" or "error InvalidUtf8 1007".
//
// The line is what the codec's unit tables and its fuzz oracle compare, so it depends only on
// the bytes, never on how they were cut. QtCore only: the libFuzzer target shares it.
// Also here: builders of raw frames with exact bytes, for the tables.
#pragma once

#include "protocol/websocketcodec.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringList>

namespace WebSocketLog {

namespace WS = Reqivo::Protocol::WebSocket;
using WS::FrameParser;

//! Printable ASCII as is; every other byte, quote and backslash as \xNN. Long payloads are
//! summarised by size and a checksum so a row's expectation stays readable.
inline QString escaped(QByteArrayView bytes)
{
    if (bytes.size() > 64) {
        quint32 h = 2166136261u;
        for (const char c : bytes)
            h = (h ^ quint8(c)) * 16777619u;
        return QStringLiteral("<%1 bytes %2>").arg(bytes.size()).arg(h, 8, 16, QLatin1Char('0'));
    }
    QString out;
    for (const char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
            out += QLatin1Char(char(c));
        else
            out += QStringLiteral("\\x%1").arg(uint(c), 2, 16, QLatin1Char('0'));
    }
    return out;
}

//! The enum's own spelling, independent of WS::errorName().
inline QString logName(WS::Error e)
{
    switch (e) {
    case WS::Error::None:
        return QStringLiteral("None");
    case WS::Error::ReservedBits:
        return QStringLiteral("ReservedBits");
    case WS::Error::UnknownOpcode:
        return QStringLiteral("UnknownOpcode");
    case WS::Error::MaskedFrame:
        return QStringLiteral("MaskedFrame");
    case WS::Error::UnmaskedFrame:
        return QStringLiteral("UnmaskedFrame");
    case WS::Error::FragmentedControl:
        return QStringLiteral("FragmentedControl");
    case WS::Error::ControlTooLong:
        return QStringLiteral("ControlTooLong");
    case WS::Error::LengthMsbSet:
        return QStringLiteral("LengthMsbSet");
    case WS::Error::UnexpectedContinuation:
        return QStringLiteral("UnexpectedContinuation");
    case WS::Error::ExpectedContinuation:
        return QStringLiteral("ExpectedContinuation");
    case WS::Error::FrameTooLarge:
        return QStringLiteral("FrameTooLarge");
    case WS::Error::MessageTooLarge:
        return QStringLiteral("MessageTooLarge");
    case WS::Error::InvalidUtf8:
        return QStringLiteral("InvalidUtf8");
    case WS::Error::BadClosePayload:
        return QStringLiteral("BadClosePayload");
    case WS::Error::BadCloseCode:
        return QStringLiteral("BadCloseCode");
    case WS::Error::BadCloseReason:
        return QStringLiteral("BadCloseReason");
    }
    return QStringLiteral("Error(%1)").arg(int(e));
}

struct Options
{
    WS::Role role = WS::Role::Client;
    WS::Limits limits = {};
};

struct Outcome
{
    QString log;
    bool failed = false;
    QString errorMessage;
    //! A frame or a fragmented message was left incomplete (only meaningful without a Close).
    bool insideMessage = false;
};

class Recorder
{
public:
    explicit Recorder(const Options &options = {})
        : m_parser(options.role, options.limits)
    {
    }

    FrameParser &parser() { return m_parser; }

    void feed(QByteArrayView piece)
    {
        if (piece.isEmpty())
            return;
        m_fed += piece.size();
        m_parser.receiveData(piece);
        drain();
    }

    //! Feeds through the QByteArray overload, which may share \a piece instead of copying it.
    void feedShared(const QByteArray &piece)
    {
        if (piece.isEmpty())
            return;
        m_fed += piece.size();
        m_parser.receiveData(piece);
        drain();
    }

    Outcome finish()
    {
        Outcome o;
        o.log = m_entries.join(QLatin1String(" | "));
        o.failed = m_parser.state() == FrameParser::State::Failed;
        o.errorMessage = m_parser.errorMessage();
        o.insideMessage = m_parser.isInsideMessage();
        return o;
    }

private:
    void drain()
    {
        if (m_stopped)
            return;
        // Every event but NeedData consumes at least a two-byte header, and each feed ends with
        // one NeedData: more calls than this means no progress.
        const qint64 budget = 2 * m_fed + 8;
        for (;;) {
            if (++m_events > budget) {
                m_entries << QStringLiteral("runaway");
                m_stopped = true;
                return;
            }
            const FrameParser::Event ev = m_parser.nextEvent();
            switch (ev.type) {
            case FrameParser::EventType::NeedData:
                return;
            case FrameParser::EventType::TextMessage:
                m_entries << QLatin1String("text '") + escaped(ev.payload) + QLatin1Char('\'');
                break;
            case FrameParser::EventType::BinaryMessage:
                m_entries << QLatin1String("binary '") + escaped(ev.payload) + QLatin1Char('\'');
                break;
            case FrameParser::EventType::Ping:
                m_entries << QLatin1String("ping '") + escaped(ev.payload) + QLatin1Char('\'');
                break;
            case FrameParser::EventType::Pong:
                m_entries << QLatin1String("pong '") + escaped(ev.payload) + QLatin1Char('\'');
                break;
            case FrameParser::EventType::Close:
                m_entries << QStringLiteral("close %1 '%2'")
                                 .arg(ev.closeCode)
                                 .arg(escaped(ev.closeReason));
                m_stopped = true;
                return;
            case FrameParser::EventType::Error:
                m_entries << QStringLiteral("error %1 %2")
                                 .arg(logName(m_parser.error()))
                                 .arg(m_parser.errorCloseCode());
                m_stopped = true;
                return;
            }
        }
    }

    FrameParser m_parser;
    QStringList m_entries;
    qint64 m_fed = 0;
    qint64 m_events = 0;
    bool m_stopped = false;
};

inline Outcome runWhole(QByteArrayView input, const Options &options = {})
{
    Recorder r(options);
    r.feed(input);
    return r.finish();
}

//! Whole, through the sharing overload.
inline Outcome runWholeShared(const QByteArray &input, const Options &options = {})
{
    Recorder r(options);
    r.feedShared(input);
    return r.finish();
}

//! Split in two: the first piece shared, the second copied.
inline Outcome runSplit(const QByteArray &input, qsizetype at, const Options &options = {})
{
    Recorder r(options);
    r.feedShared(input.first(at));
    r.feed(QByteArrayView(input).sliced(at));
    return r.finish();
}

inline Outcome runBytewise(QByteArrayView input, const Options &options = {})
{
    Recorder r(options);
    for (qsizetype i = 0; i < input.size(); ++i)
        r.feed(input.sliced(i, 1));
    return r.finish();
}

// ---- Raw frame builders ----

//! First-byte values: FIN plus opcode.
enum : quint8 {
    Cont = 0x00,
    Text = 0x01,
    Binary = 0x02,
    Fin = 0x80,
    TextFin = 0x81,
    BinaryFin = 0x82,
    ContFin = 0x80,
    CloseFin = 0x88,
    PingFin = 0x89,
    PongFin = 0x8a,
};

enum class LengthForm { Minimal, Bits16, Bits64 };

//! One frame with exact bytes: \a b0 is the first byte as sent; \a mask, if given, is the
//! 4-byte key (the payload is masked with it and the MASK bit set).
inline QByteArray frame(quint8 b0, QByteArrayView payload, LengthForm form = LengthForm::Minimal,
    QByteArrayView mask = {})
{
    QByteArray out;
    out.append(char(b0));
    const quint8 maskBit = mask.isEmpty() ? 0 : 0x80;
    const quint64 n = quint64(payload.size());
    if (form == LengthForm::Minimal)
        form = n <= 125   ? LengthForm::Minimal
            : n <= 0xffff ? LengthForm::Bits16
                          : LengthForm::Bits64;
    if (form == LengthForm::Minimal) {
        out.append(char(maskBit | n));
    } else if (form == LengthForm::Bits16) {
        out.append(char(maskBit | 126));
        out.append(char(n >> 8));
        out.append(char(n));
    } else {
        out.append(char(maskBit | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            out.append(char(n >> shift));
    }
    out.append(mask.data(), mask.size());
    const qsizetype at = out.size();
    out.append(payload.data(), payload.size());
    for (qsizetype i = 0; i < payload.size() && !mask.isEmpty(); ++i)
        out[at + i] = char(out[at + i] ^ mask[i % 4]);
    return out;
}

//! A Close payload: the code in network order, then the reason bytes.
inline QByteArray closePayload(quint16 code, QByteArrayView reason = {})
{
    QByteArray out;
    out.append(char(code >> 8));
    out.append(char(code));
    out.append(reason.data(), reason.size());
    return out;
}

} // namespace WebSocketLog
