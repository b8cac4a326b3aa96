// Limits (include/Reqivo/limits.h): each holds at exactly its value, fails one byte past it, and
// fails as soon as exceeding it is certain, without waiting for the rest of the line, head or
// body. A limit that waits for the line end to measure the line can be made to buffer without
// bound by a server that never sends one.
#include "parserharness.h"

#include <limits>

using ParserHarness::addRow;
using ParserHarness::Options;

namespace {
Options withLimits(const Reqivo::Limits &limits, bool eof = false)
{
    return Options {.eof = eof, .limits = limits};
}

// 25 bytes, line end included.
constexpr char status204[] = "HTTP/1.1 204 No Content\r\n";
} // namespace

class TestResponseParserLimits : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void lines_data();
    void lines() { ParserHarness::verify(); }
    void heads_data();
    void heads() { ParserHarness::verify(); }
    void interimResponses_data();
    void interimResponses() { ParserHarness::verify(); }
    void bodies_data();
    void bodies() { ParserHarness::verify(); }
    void chunkLines_data();
    void chunkLines() { ParserHarness::verify(); }
    void hugeLimits_data();
    void hugeLimits() { ParserHarness::verify(); }
    void hugeLimitsAreClamped();
    void refusedHeadIsStillReadable();
    void defaults();
};

void TestResponseParserLimits::lines_data()
{
    ParserHarness::addColumns();
    const QByteArray status = status204;
    addRow("status line exactly at the limit", status + "\r\n",
        "head 204 No Content | fields 0 | end | keep-alive", withLimits({.maxLineBytes = 25}));
    addRow("status line one byte over", status + "\r\n", "error LineTooLong",
        withLimits({.maxLineBytes = 24}));
    addRow("status line with bare LF at the limit", "HTTP/1.1 204 No Content\n\n",
        "head 204 No Content | fields 0 | end | keep-alive", withLimits({.maxLineBytes = 24}));
    addRow("status line over before its end arrives", "HTTP/1.1 200 " + QByteArray(100, 'a'),
        "error LineTooLong", withLimits({.maxLineBytes = 32}));
    // "X-Long: " + 17 + CRLF = 27 bytes.
    addRow("field line exactly at the limit",
        status + "X-Long: " + QByteArray(17, 'a') + "\r\n\r\n",
        "head 204 No Content | fields 1 | end | keep-alive", withLimits({.maxLineBytes = 27}));
    addRow("field line one byte over", status + "X-Long: " + QByteArray(18, 'a') + "\r\n\r\n",
        "error LineTooLong", withLimits({.maxLineBytes = 27}));
    addRow("field line over before its end arrives", status + "X-Long: " + QByteArray(200, 'a'),
        "error LineTooLong", withLimits({.maxLineBytes = 64}));
}

void TestResponseParserLimits::heads_data()
{
    ParserHarness::addColumns();
    const QByteArray head38 = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    addRow("head exactly at the limit", head38, "head 200 OK | fields 1 | end | keep-alive",
        withLimits({.maxHeaderBytes = 38}));
    addRow(
        "head one byte over", head38, "error HeaderTooLarge", withLimits({.maxHeaderBytes = 37}));
    QByteArray endless = QByteArrayLiteral("HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 20; ++i)
        endless += "X-Filler: " + QByteArray::number(i) + "\r\n";
    addRow("head over before its end arrives", endless, "error HeaderTooLarge",
        withLimits({.maxHeaderBytes = 128}));
    addRow("fields exactly at the limit", QByteArray(status204) + "A: 1\r\nB: 2\r\n\r\n",
        "head 204 No Content | fields 2 | end | keep-alive", withLimits({.maxFieldCount = 2}));
    addRow("one field too many", QByteArray(status204) + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n",
        "error TooManyFields", withLimits({.maxFieldCount = 2}));
    addRow("no fields allowed and none sent", QByteArray(status204) + "\r\n",
        "head 204 No Content | fields 0 | end | keep-alive", withLimits({.maxFieldCount = 0}));
    addRow("no fields allowed and one sent", QByteArray(status204) + "A: 1\r\n\r\n",
        "error TooManyFields", withLimits({.maxFieldCount = 0}));
    addRow("too many trailer fields",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
        "A: 1\r\nB: 2\r\n\r\n",
        "head 200 OK | fields 1 | data 'hello' | error TooManyFields",
        withLimits({.maxFieldCount = 1}));
    addRow("trailer line too long",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Trailer: "
            + QByteArray(40, 'a') + "\r\n\r\n",
        "head 200 OK | fields 1 | error LineTooLong", withLimits({.maxLineBytes = 32}));
}

void TestResponseParserLimits::interimResponses_data()
{
    ParserHarness::addColumns();
    const QByteArray c100 = "HTTP/1.1 100 Continue\r\n\r\n";
    const QByteArray final200 = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    addRow("interim responses exactly at the limit", c100 + c100 + final200,
        "head 100 Continue | fields 0 | head 100 Continue | fields 0 | head 200 OK | fields 1"
        " | end | keep-alive",
        withLimits({.maxInterimResponses = 2}));
    addRow("one interim response too many", c100 + c100 + c100 + final200,
        "head 100 Continue | fields 0 | head 100 Continue | fields 0"
        " | error TooManyInterimResponses",
        withLimits({.maxInterimResponses = 2}));
    addRow("no interim response allowed", c100 + final200, "error TooManyInterimResponses",
        withLimits({.maxInterimResponses = 0}));
    // 101 ends the HTTP exchange: it is the last response, not one before the final one.
    addRow("101 is not counted as interim",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
        "head 101 Switching Protocols | fields 1 | end | close | upgraded",
        Options {.upgrade = true, .limits = {.maxInterimResponses = 0}});
}

void TestResponseParserLimits::bodies_data()
{
    ParserHarness::addColumns();
    // A declared length over the limit is certain at the head: the head itself is refused.
    addRow("Content-Length over the limit", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        "error BodyTooLarge", withLimits({.maxBodyBytes = 4}));
    addRow("Content-Length exactly at the limit",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive",
        withLimits({.maxBodyBytes = 5}));
    addRow("zero allowed and zero sent", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "head 200 OK | fields 1 | end | keep-alive", withLimits({.maxBodyBytes = 0}));
    addRow("HEAD response length is not a body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        "head 200 OK | fields 1 | end | keep-alive",
        Options {.method = "HEAD", .limits = {.maxBodyBytes = 10}});
    addRow("304 length is not a body", "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n",
        "head 304 Not Modified | fields 1 | end | keep-alive", withLimits({.maxBodyBytes = 10}));
    // A chunk whose size would cross the limit is refused at its size line.
    addRow("chunked over the limit",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n"
        "0\r\n\r\n",
        "head 200 OK | fields 1 | data 'hello' | error BodyTooLarge",
        withLimits({.maxBodyBytes = 8}));
    addRow("chunked exactly at the limit",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nwor\r\n"
        "0\r\n\r\n",
        "head 200 OK | fields 1 | data 'hellowor' | end | keep-alive",
        withLimits({.maxBodyBytes = 8}));
    addRow("one huge chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffff\r\nab",
        "head 200 OK | fields 1 | error BodyTooLarge", withLimits({.maxBodyBytes = 8}));
    // Without a declared length the limit is only known to be crossed at the byte that does it.
    addRow("close-delimited over the limit", "HTTP/1.1 200 OK\r\n\r\nhello world",
        "head 200 OK | fields 0 | data 'hello wo' | error BodyTooLarge",
        withLimits({.maxBodyBytes = 8}));
    addRow("close-delimited exactly at the limit", "HTTP/1.1 200 OK\r\n\r\nhellowor",
        "head 200 OK | fields 0 | data 'hellowor' | end | close",
        withLimits({.maxBodyBytes = 8}, true));
}

void TestResponseParserLimits::chunkLines_data()
{
    ParserHarness::addColumns();
    const QByteArray head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    addRow("chunk line under the limit", head + "5;a=b\r\nhello\r\n0\r\n\r\n",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive",
        withLimits({.maxChunkLineBytes = 16}));
    addRow("chunk line with long extensions", head + "5;" + QByteArray(40, 'a') + "\r\nhello",
        "head 200 OK | fields 1 | error ChunkLineTooLong", withLimits({.maxChunkLineBytes = 16}));
    addRow("chunk line over before its end arrives", head + "5;" + QByteArray(40, 'a'),
        "head 200 OK | fields 1 | error ChunkLineTooLong", withLimits({.maxChunkLineBytes = 16}));
    addRow("chunk size of endless zeros", head + QByteArray(100, '0'),
        "head 200 OK | fields 1 | error ChunkLineTooLong", withLimits({.maxChunkLineBytes = 16}));
}

// Field offsets inside a head are 32-bit: limits above 2^31 - 1 bytes are clamped to it, and a
// limit as large as qsizetype allows must not overflow the parser's arithmetic.
void TestResponseParserLimits::hugeLimits_data()
{
    ParserHarness::addColumns();
    constexpr qsizetype most = std::numeric_limits<qsizetype>::max();
    const QByteArray response = "HTTP/1.1 200 OK\r\nA: 1\r\nContent-Length: 2\r\n\r\nhi";
    const char *parsed = "head 200 OK | fields 2 | data 'hi' | end | keep-alive";
    addRow("largest line limit", response, parsed, withLimits({.maxLineBytes = most}));
    addRow("largest head limit", response, parsed, withLimits({.maxHeaderBytes = most}));
    addRow("largest line and head limits", response, parsed,
        withLimits({.maxHeaderBytes = most, .maxLineBytes = most}));
    addRow("4 GiB limits", response, parsed,
        withLimits({.maxHeaderBytes = qsizetype(1) << 32, .maxLineBytes = qsizetype(1) << 32}));
    addRow("largest limits, chunked trailers",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nT: 1\r\nU: 2\r\n\r\n",
        "head 200 OK | fields 1 | data 'hi' | end trailers [T: 1, U: 2] | keep-alive",
        withLimits({.maxHeaderBytes = most, .maxLineBytes = most}));
}

void TestResponseParserLimits::hugeLimitsAreClamped()
{
    using Reqivo::Protocol::ResponseParser;
    constexpr qsizetype most = std::numeric_limits<qsizetype>::max();
    constexpr qsizetype clamp = ResponseParser::maxSectionLimit;
    QCOMPARE(clamp, qsizetype(std::numeric_limits<qint32>::max()));

    ResponseParser p({.maxHeaderBytes = qsizetype(3) << 30, .maxLineBytes = most});
    QCOMPARE(p.limits().maxHeaderBytes, clamp);
    QCOMPARE(p.limits().maxLineBytes, clamp);
    p.setLimits({.maxHeaderBytes = most, .maxLineBytes = clamp + 1, .maxFieldCount = 7});
    QCOMPARE(p.limits().maxHeaderBytes, clamp);
    QCOMPARE(p.limits().maxLineBytes, clamp);
    QCOMPARE(p.limits().maxFieldCount, 7);
    // At or below the clamp, and every other limit, are kept as given.
    const Reqivo::Limits exact {.maxHeaderBytes = clamp,
        .maxLineBytes = 100,
        .maxBodyBytes = std::numeric_limits<qint64>::max(),
        .maxChunkLineBytes = most};
    p.setLimits(exact);
    QCOMPARE(p.limits(), exact);
}

// The client reports which response was too large; head() still says what the head was.
void TestResponseParserLimits::refusedHeadIsStillReadable()
{
    using Reqivo::Protocol::ResponseParser;
    ResponseParser p({.maxBodyBytes = 1024});
    p.receiveData(QByteArrayLiteral("HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n"));
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Error);
    QCOMPARE(p.error(), Reqivo::Protocol::ParseError::BodyTooLarge);
    QCOMPARE(p.head().status, 200);
    QCOMPARE(p.head().headers.value("Content-Length"), QByteArrayView("1048576"));
    QVERIFY2(p.errorMessage().contains(QLatin1String("1048576")), qPrintable(p.errorMessage()));
}

// The documented defaults, which the client layer and the docs rely on.
void TestResponseParserLimits::defaults()
{
    const Reqivo::Limits l;
    QCOMPARE(l.maxHeaderBytes, 8192);
    QCOMPARE(l.maxLineBytes, 8192);
    QCOMPARE(l.maxFieldCount, 100);
    QCOMPARE(l.maxBodyBytes, -1);
    QVERIFY(l.maxInterimResponses > 0);
    QVERIFY(l.maxChunkLineBytes > 0);
    Reqivo::Protocol::ResponseParser p;
    QCOMPARE(p.limits(), l);
    p.setLimits({.maxFieldCount = 3});
    QCOMPARE(p.limits().maxFieldCount, 3);

    // A head of exactly 100 fields, the default maximum, is accepted.
    QByteArray head = status204;
    for (int i = 0; i < 100; ++i)
        head += "F" + QByteArray::number(i) + ": v\r\n";
    head += "\r\n";
    p.setLimits({});
    p.receiveData(head);
    QCOMPARE(p.nextEvent().type, Reqivo::Protocol::ResponseParser::EventType::Head);
    QCOMPARE(p.head().headers.size(), 100);
}

QTEST_GUILESS_MAIN(TestResponseParserLimits)
#include "tst_responseparser_limits.moc"
