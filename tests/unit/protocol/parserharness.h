// ParserHarness: the Qt Test side of the response parser tables.
//
// A row is raw wire bytes, the request method and options, and the event log the parser must
// produce (see parserlog.h). verify() feeds the row in every way a socket could deliver it and
// requires the same log each time:
//   (a) whole, through the sharing QByteArray overload and through the view overload;
//   (b) split into two pieces at every byte offset;
//   (c) one byte at a time;
//   (d) whole with stray bytes appended, for messages that end without EOF: the log must not
//       change and the stray bytes must be left in unconsumed(), since they belong to whatever
//       comes next on the connection.
// An incremental parser that works on whole buffers but not on a boundary at byte 17 is the
// classic bug this catches; each row is short so every split costs almost nothing.
#pragma once

#include "parserlog.h"

#include <QTest>

#include <cstddef>

Q_DECLARE_METATYPE(ParserLog::Options)

namespace ParserHarness {

using ParserLog::Options;
using ParserLog::Outcome;

//! Bytes of a string literal, embedded NULs included.
template<std::size_t N>
QByteArray bytes(const char (&s)[N])
{
    return QByteArray(s, qsizetype(N - 1));
}

inline void addColumns()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("log");
    QTest::addColumn<Options>("options");
}

inline void addRow(
    const char *name, const QByteArray &input, const char *log, const Options &options = {})
{
    QTest::newRow(name) << input << QString::fromUtf8(log) << options;
}

template<std::size_t N>
void addRow(const char *name, const char (&input)[N], const char *log, const Options &options = {})
{
    addRow(name, bytes(input), log, options);
}

inline QByteArray describe(const QString &mode, const Outcome &got, const QString &expected)
{
    return (mode + QLatin1String("\n   got: ") + got.log + QLatin1String("\n  want: ") + expected)
        .toUtf8();
}

//! An Error is final: it repeats on every later call, whatever is fed afterwards.
inline void verifyErrorIsSticky(const QByteArray &input, const Options &options)
{
    ParserLog::Recorder r(options);
    r.feedShared(input);
    if (options.eof)
        r.eof();
    auto &p = r.parser();
    QCOMPARE(p.state(), ParserLog::ResponseParser::State::Failed);
    QVERIFY(!p.isReusable());
    QVERIFY(!p.startNextCycle());
    p.receiveData(QByteArrayLiteral("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    QCOMPARE(p.nextEvent().type, ParserLog::ResponseParser::EventType::Error);
    p.receiveEof();
    QCOMPARE(p.nextEvent().type, ParserLog::ResponseParser::EventType::Error);
    QCOMPARE(p.nextEvent().type, ParserLog::ResponseParser::EventType::Error);
}

//! Runs the current row in every feeding mode. Call it as the last statement of a test slot.
inline void verify()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, log);
    QFETCH(Options, options);

    const Outcome whole = ParserLog::runWhole(input, options, true);
    QVERIFY2(whole.log == log, describe(QStringLiteral("whole input"), whole, log).constData());
    if (whole.failed) {
        QVERIFY2(!whole.errorMessage.isEmpty(), "an error must come with a message");
        QVERIFY(!whole.reusable);
        verifyErrorIsSticky(input, options);
        if (QTest::currentTestFailed())
            return;
    } else if (whole.complete) {
        QCOMPARE(whole.unconsumed, options.unconsumed);
    }

    const Outcome view = ParserLog::runWhole(input, options, false);
    QVERIFY2(
        view.log == log, describe(QStringLiteral("whole input as a view"), view, log).constData());
    QCOMPARE(view.unconsumed, whole.unconsumed);

    for (qsizetype at = 1; at < input.size(); ++at) {
        // The first piece goes through the sharing overload and the second through the copying
        // one, so a parser that holds on to a shared buffer while appending is exercised too.
        ParserLog::Recorder r(options);
        r.feedShared(input.first(at));
        r.feed(QByteArrayView(input).sliced(at));
        if (options.eof)
            r.eof();
        const Outcome split = r.finish();
        const QString mode = QStringLiteral("split at byte %1").arg(at);
        QVERIFY2(split.log == log, describe(mode, split, log).constData());
        QVERIFY2(
            split.unconsumed == whole.unconsumed, qPrintable(mode + QLatin1String(": unconsumed")));
    }

    const Outcome bytewise = ParserLog::runBytewise(input, options);
    QVERIFY2(bytewise.log == log,
        describe(QStringLiteral("one byte at a time"), bytewise, log).constData());
    QCOMPARE(bytewise.unconsumed, whole.unconsumed);

    if (!whole.complete || options.pipeline)
        return;
    Options withoutEof = options;
    withoutEof.eof = false;
    if (ParserLog::runWhole(input, withoutEof, true).log != log)
        return; // the message is delimited by EOF: appended bytes would be part of it
    const QByteArray stray = QByteArrayLiteral("\x00stray bytes\r\n\r\n");
    const Outcome extra = ParserLog::runWhole(input + stray, options, true);
    QVERIFY2(extra.log == log,
        describe(QStringLiteral("with stray bytes after it"), extra, log).constData());
    QCOMPARE(extra.unconsumed, whole.unconsumed + stray);
}

} // namespace ParserHarness
