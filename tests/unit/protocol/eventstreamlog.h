// What the event-stream parser reported for some input, as one comparable string, and the
// split-invariance oracle: the unit tables (tst_eventstream.cpp) and the fuzz target
// (tests/fuzz/fuzz_eventstream.cpp) both use it.
#pragma once

#include "protocol/eventstream.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <functional>

namespace EventStreamLog {

using Parser = Reqivo::Protocol::EventStreamParser;

inline QString escaped(const QByteArray &bytes)
{
    QString out;
    for (const char c : bytes) {
        const auto u = quint8(c);
        if (u == '\\')
            out += QStringLiteral("\\\\");
        else if (u == '\n')
            out += QStringLiteral("\\n");
        else if (u < 0x20 || u >= 0x7f)
            out += QStringLiteral("\\x%1").arg(u, 2, 16, QLatin1Char('0'));
        else
            out += QLatin1Char(c);
    }
    return out;
}

struct Outcome
{
    QString log; //!< events joined with " | "
    QByteArray lastEventId;
    bool failed = false;
};

//! Feeds \a pieces in order, pulling events after each, then the end of the stream.
inline Outcome run(const QList<QByteArray> &pieces, Parser::Limits limits = Parser::Limits())
{
    Parser parser(limits);
    QStringList entries;
    bool done = false;
    const auto pull = [&] {
        while (!done) {
            const Parser::Event ev = parser.nextEvent();
            switch (ev.type) {
            case Parser::EventType::NeedData:
                return;
            case Parser::EventType::Message:
                entries << QStringLiteral("%1 '%2' id=%3")
                               .arg(escaped(ev.eventType), escaped(ev.data), escaped(ev.id));
                break;
            case Parser::EventType::Retry:
                entries << QStringLiteral("retry %1").arg(ev.retryMs);
                break;
            case Parser::EventType::End:
                entries << QStringLiteral("end");
                done = true;
                return;
            case Parser::EventType::Error:
                entries << QStringLiteral("error");
                done = true;
                return;
            }
        }
    };
    for (const QByteArray &piece : pieces) {
        parser.receiveData(piece);
        pull();
    }
    parser.receiveEof();
    pull();
    return {entries.join(QStringLiteral(" | ")), parser.lastEventId(), parser.hasFailed()};
}

inline Outcome runWhole(const QByteArray &input, Parser::Limits limits = Parser::Limits())
{
    return run({input}, limits);
}

inline Outcome runSplitAt(
    const QByteArray &input, qsizetype at, Parser::Limits limits = Parser::Limits())
{
    return run({input.first(at), input.sliced(at)}, limits);
}

inline Outcome runBytewise(const QByteArray &input, Parser::Limits limits = Parser::Limits())
{
    QList<QByteArray> pieces;
    for (const char c : input)
        pieces << QByteArray(1, c);
    return run(pieces, limits);
}

} // namespace EventStreamLog
