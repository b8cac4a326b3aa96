// The text/event-stream parser against the WHATWG "Interpreting an event stream" rules, one row
// per rule. Every row runs whole, split at every offset and byte by byte: the events must be the
// same (eventstreamlog.h).
#include "eventstreamlog.h"

#include <QTest>

using namespace EventStreamLog;

class TestEventStream : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void rules_data();
    void rules();
    void lastEventIdWithoutDispatch();
    void limits_data();
    void limits();
    void resetKeepsTheLastEventId();
    void repairedUtf8_data();
    void repairedUtf8();
};

void TestEventStream::rules_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("expected");
    const auto row = [](const char *name, QByteArray input, const char *expected) {
        QTest::newRow(name) << input << QString::fromUtf8(expected);
    };
    row("one event", "data: hello\n\n", "message 'hello' id= | end");
    row("no space after the colon", "data:hello\n\n", "message 'hello' id= | end");
    row("only one leading space is removed", "data:  two\n\n", "message ' two' id= | end");
    row("trailing spaces stay", "data: a  \n\n", "message 'a  ' id= | end");
    row("CRLF line ends", "data: a\r\n\r\n", "message 'a' id= | end");
    row("lone CR line ends", "data: a\r\rdata: b\r\r", "message 'a' id= | message 'b' id= | end");
    row("mixed line ends", "data: a\r\ndata: b\rdata: c\n\r\n", "message 'a\\nb\\nc' id= | end");
    row("CR then LF is one line end", "data: a\r\n\ndata: b\n\n",
        "message 'a' id= | message 'b' id= | end");
    row("data lines are joined with LF", "data: a\ndata: b\ndata: c\n\n",
        "message 'a\\nb\\nc' id= | end");
    row("a data line without a colon is empty data", "data\n\n", "message '' id= | end");
    row("two empty data lines", "data\ndata\n\n", "message '\\n' id= | end");
    row("a colon in the value stays", "data: a: b\n\n", "message 'a: b' id= | end");
    row("comments are ignored", ": hello\ndata: a\n: bye\n\n", "message 'a' id= | end");
    row("a comment alone dispatches nothing", ": keep-alive\n\n", "end");
    row("event sets the type", "event: add\ndata: x\n\n", "add 'x' id= | end");
    row("the type is reset after a dispatch", "event: add\ndata: x\n\ndata: y\n\n",
        "add 'x' id= | message 'y' id= | end");
    row("an empty event field means message", "event:\ndata: x\n\n", "message 'x' id= | end");
    row("the type is reset when nothing was dispatched", "event: add\n\ndata: y\n\n",
        "message 'y' id= | end");
    row("id persists across events", "id: 1\ndata: a\n\ndata: b\n\n",
        "message 'a' id=1 | message 'b' id=1 | end");
    row("id applies to its own event", "data: a\nid: 2\n\n", "message 'a' id=2 | end");
    row("an empty id clears it", "id: 1\ndata: a\n\nid\ndata: b\n\n",
        "message 'a' id=1 | message 'b' id= | end");
    row("an id with NUL is ignored", QByteArray("id: 1\ndata: a\n\nid: x\0y\ndata: b\n\n", 32),
        "message 'a' id=1 | message 'b' id=1 | end");
    row("retry with digits", "retry: 1500\ndata: a\n\n", "retry 1500 | message 'a' id= | end");
    row("retry with leading zeros", "retry: 007\n", "retry 7 | end");
    row("retry with a letter is ignored", "retry: 15x\n", "end");
    row("retry negative is ignored", "retry: -1\n", "end");
    row("retry empty is ignored", "retry:\nretry\n", "end");
    row("retry with a space inside is ignored", "retry: 1 5\n", "end");
    row("retry beyond 64 bits saturates", "retry: 99999999999999999999999\n",
        "retry 9223372036854775807 | end");
    row("unknown fields are ignored", "foo: bar\ndata: a\n\n", "message 'a' id= | end");
    row("field names are case-sensitive", "Data: a\nEVENT: b\n\n", "end");
    row("a field name with a space is unknown", "data : a\n\n", "end");
    row("extra blank lines dispatch nothing", "data: a\n\n\n\n", "message 'a' id= | end");
    row("an incomplete event at the end is discarded", "data: a\n\ndata: b\n",
        "message 'a' id= | end");
    row("an unterminated line at the end is discarded", "data: a\n\ndata: b",
        "message 'a' id= | end");
    row("the end right after a CR", "data: a\r", "end");
    row("a CR at the end of a read is a line end", "data: a\r\r", "message 'a' id= | end");
    row("one leading BOM is stripped",
        "\xef\xbb\xbf"
        "data: a\n\n",
        "message 'a' id= | end");
    row("a second BOM is part of the field name",
        "\xef\xbb\xbf\xef\xbb\xbf"
        "data: a\n\n",
        "end");
    row("a BOM after the start is data",
        "data: \xef\xbb\xbf"
        "a\n\n",
        "message '\\xef\\xbb\\xbfa' id= | end");
    row("a partial BOM is not stripped",
        "\xef\xbb"
        "data: a\n\n",
        "end");
    row("invalid UTF-8 becomes U+FFFD", "data: \xff\n\n", "message '\\xef\\xbf\\xbd' id= | end");
    row("a truncated sequence is one U+FFFD",
        "data: \xe2\x82"
        "a\n\n",
        "message '\\xef\\xbf\\xbda' id= | end");
    row("valid multi-byte text passes", "data: \xce\xba\xe2\x82\xac\xf0\x9f\x98\x80\n\n",
        "message '\\xce\\xba\\xe2\\x82\\xac\\xf0\\x9f\\x98\\x80' id= | end");
    row("event and id are repaired too", "event: \xff\nid: \xc0\ndata: a\n\n",
        "\\xef\\xbf\\xbd 'a' id=\\xef\\xbf\\xbd | end");
    row("LLM-style stream", "data: {\"t\":\"He\"}\n\ndata: {\"t\":\"llo\"}\n\ndata: [DONE]\n\n",
        "message '{\"t\":\"He\"}' id= | message '{\"t\":\"llo\"}' id= | message '[DONE]' id= | "
        "end");
}

void TestEventStream::rules()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, expected);
    const Outcome whole = runWhole(input);
    QCOMPARE(whole.log, expected);
    for (qsizetype at = 0; at <= input.size(); ++at) {
        const Outcome split = runSplitAt(input, at);
        QVERIFY2(split.log == expected,
            qPrintable(QStringLiteral("split at %1: %2").arg(at).arg(split.log)));
    }
    QCOMPARE(runBytewise(input).log, expected);
}

void TestEventStream::lastEventIdWithoutDispatch()
{
    // The last event ID is set at every dispatch point, even when no event is dispatched.
    QCOMPARE(runWhole("id: 7\n\n").lastEventId, QByteArray("7"));
    QCOMPARE(runWhole("id: 7\n\nid: 8\n").lastEventId, QByteArray("7")); // 8 never dispatched
    QCOMPARE(runWhole("data: a\nid: 9\n\n").lastEventId, QByteArray("9"));
}

void TestEventStream::limits_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<qint64>("max");
    QTest::addColumn<QString>("expected");
    QTest::newRow("within") << QByteArray("data: 0123456789\n\n") << qint64(16)
                            << QStringLiteral("message '0123456789' id= | end");
    QTest::newRow("one data line over")
        << QByteArray("data: 0123456789abcdefg\n\n") << qint64(16) << QStringLiteral("error");
    QTest::newRow("many data lines over") << QByteArray("data: 01234\ndata: 56789\ndata: abcde\n\n")
                                          << qint64(16) << QStringLiteral("error");
    QTest::newRow("a line that never ends")
        << QByteArray(100, 'x') << qint64(16) << QStringLiteral("error");
    QTest::newRow("events before the big one still arrive")
        << QByteArray("data: a\n\ndata: 0123456789abcdefg\n\n") << qint64(16)
        << QStringLiteral("message 'a' id= | error");
    QTest::newRow("no limit") << QByteArray("data: 0123456789abcdefg\n\n") << qint64(-1)
                              << QStringLiteral("message '0123456789abcdefg' id= | end");
}

void TestEventStream::limits()
{
    QFETCH(QByteArray, input);
    QFETCH(qint64, max);
    QFETCH(QString, expected);
    const Parser::Limits limits {max};
    QCOMPARE(runWhole(input, limits).log, expected);
    for (qsizetype at = 0; at <= input.size(); ++at)
        QCOMPARE(runSplitAt(input, at, limits).log, expected);
    QCOMPARE(runBytewise(input, limits).log, expected);
}

void TestEventStream::resetKeepsTheLastEventId()
{
    Parser parser;
    parser.receiveData(QByteArray("id: 41\ndata: a\n\nid: 42\ndata: half"));
    QCOMPARE(parser.nextEvent().type, Parser::EventType::Message);
    QCOMPARE(parser.nextEvent().type, Parser::EventType::NeedData);
    QCOMPARE(parser.lastEventId(), QByteArray("41"));
    // A reconnect: the half event is gone, the ID stays, and a new stream may start with a BOM.
    parser.resetStream();
    parser.receiveData(QByteArray("\xef\xbb\xbf"
                                  "data: b\n\n"));
    const Parser::Event ev = parser.nextEvent();
    QCOMPARE(ev.type, Parser::EventType::Message);
    QCOMPARE(ev.data, QByteArray("b"));
    QCOMPARE(ev.id, QByteArray("41"));
}

void TestEventStream::repairedUtf8_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");
    const QByteArray r = "\xef\xbf\xbd";
    // The Encoding Standard's examples of maximal subparts.
    QTest::newRow("ASCII") << QByteArray("abc") << QByteArray("abc");
    QTest::newRow("lone continuation") << QByteArray("\x80") << r;
    QTest::newRow("overlong 2-byte") << QByteArray("\xc0\xaf") << r + r;
    QTest::newRow("overlong 3-byte") << QByteArray("\xe0\x80\xaf") << r + r + r;
    QTest::newRow("surrogate") << QByteArray("\xed\xa0\x80") << r + r + r;
    QTest::newRow("above U+10FFFF") << QByteArray("\xf4\x90\x80\x80") << r + r + r + r;
    QTest::newRow("F5") << QByteArray("\xf5") << r;
    QTest::newRow("truncated 3-byte then ASCII") << QByteArray("\xe2\x82z") << r + "z";
    QTest::newRow("truncated 4-byte at the end") << QByteArray("\xf0\x9f\x98") << r;
    QTest::newRow("valid 4-byte") << QByteArray("\xf0\x9f\x98\x80")
                                  << QByteArray("\xf0\x9f\x98\x80");
    QTest::newRow("two starts") << QByteArray("\xe2\xe2\x82\xac") << r + "\xe2\x82\xac";
}

void TestEventStream::repairedUtf8()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);
    QByteArray out("x");
    Parser::appendRepairedUtf8(out, input);
    QCOMPARE(out, QByteArray("x") + expected);
}

QTEST_APPLESS_MAIN(TestEventStream)
#include "tst_eventstream.moc"
