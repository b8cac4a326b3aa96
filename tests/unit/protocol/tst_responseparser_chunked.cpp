// Chunked transfer coding, RFC 9112 §7.1:
//   chunked-body = *chunk last-chunk trailer-section CRLF
//   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   chunk-ext    = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )
// Extensions are validated and ignored; trailer fields are parsed like header fields and kept
// in trailers(). Every CRLF of the chunked framing must be a CRLF: the bare-LF leniency of the
// head does not extend here, since a framing byte read two ways is how a body is smuggled. The
// last test checks that the cost is linear in the number of chunks.
#include "parserharness.h"

#include <QElapsedTimer>

using ParserHarness::addRow;
using ParserHarness::Options;

namespace {
//! A chunked 200 response with \a body appended to its head.
QByteArray chunked(const QByteArray &body)
{
    return QByteArrayLiteral("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") + body;
}
} // namespace

class TestResponseParserChunked : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sizes_data();
    void sizes() { ParserHarness::verify(); }
    void extensions_data();
    void extensions() { ParserHarness::verify(); }
    void delimiters_data();
    void delimiters() { ParserHarness::verify(); }
    void trailers_data();
    void trailers() { ParserHarness::verify(); }
    void endOfInput_data();
    void endOfInput() { ParserHarness::verify(); }
    void millionOneByteChunks_data();
    void millionOneByteChunks();
};

void TestResponseParserChunked::sizes_data()
{
    ParserHarness::addColumns();
    addRow("one chunk", chunked("5\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    addRow("several chunks coalesce", chunked("5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | data 'hello world' | end | keep-alive");
    addRow("no chunk before the last", chunked("0\r\n\r\n"),
        "head 200 OK | fields 1 | end | keep-alive");
    addRow("uppercase hex", chunked("A\r\n0123456789\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | data '0123456789' | end | keep-alive");
    addRow("lowercase hex", chunked("a\r\n0123456789\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | data '0123456789' | end | keep-alive");
    addRow("leading zeros", chunked("0005\r\nhello\r\n000\r\n\r\n"),
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    addRow("chunk data holding CRLF", chunked("6\r\nab\r\ncd\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | data 'ab\\r\\ncd' | end | keep-alive");
    addRow("chunk data holding a fake last chunk", chunked("5\r\n0\r\n\r\n\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | data '0\\r\\n\\r\\n' | end | keep-alive");
    addRow("not hex", chunked("g\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadChunkSize");
    // The size is the valid "0"; what follows it is neither BWS nor ';'.
    addRow("0x prefix", chunked("0x5\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadChunkExtension");
    addRow("negative", chunked("-5\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadChunkSize");
    addRow("leading space", chunked(" 5\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadChunkSize");
    addRow("missing size", chunked("\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadChunkSize");
    addRow("size overflows 64 bits", chunked("10000000000000000\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadChunkSize");
    addRow("size overflows qint64", chunked("8000000000000000\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadChunkSize");
    // Sizes are capped far above anything real (2^56) so the running total cannot overflow.
    addRow("largest plausible size waits for data", chunked("ffffffffffffff\r\nhello"),
        "head 200 OK | fields 1 | data 'hello'");
    addRow("implausible size below qint64", chunked("7fffffffffffffff\r\nhello"),
        "head 200 OK | fields 1 | error BadChunkSize");
}

void TestResponseParserChunked::extensions_data()
{
    ParserHarness::addColumns();
    addRow("name only", chunked("5;last-modified\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    addRow("token value", chunked("5;name=value\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    addRow("quoted value with ; and escapes",
        chunked("5;n=\"a;b \\\"c\\\" \\\\\"\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    addRow("several extensions with BWS", chunked("5 ; a ; b = c\t;d=\"\"\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    addRow("extension on the last chunk", chunked("5\r\nhello\r\n0;done=yes\r\n\r\n"),
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    // BWS belongs to an extension: it may only be followed by ";" (or surround "="), so
    // whitespace that ends the line is outside the grammar.
    addRow("whitespace after the size", chunked("5 \r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadChunkExtension");
    addRow("tab after the last chunk size", chunked("5\r\nhello\r\n0\t\r\n\r\n"),
        "head 200 OK | fields 1 | data 'hello' | error BadChunkExtension");
    addRow("whitespace after an extension", chunked("5;a=b \r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadChunkExtension");
    addRow("empty extension name", chunked("5;=v\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadChunkExtension");
    addRow("semicolon alone", chunked("5;\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadChunkExtension");
    addRow("missing value after =", chunked("5;a=\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadChunkExtension");
    addRow("unterminated quoted value", chunked("5;a=\"open\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadChunkExtension");
    addRow("control character in extension", chunked("5;a=\x01\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadChunkExtension");
    addRow("non-token name", chunked("5;a@b=c\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadChunkExtension");
}

void TestResponseParserChunked::delimiters_data()
{
    ParserHarness::addColumns();
    addRow("bare LF everywhere", chunked("5\nhello\n0\n\n"),
        "head 200 OK | fields 1 | error BadLineEnding");
    addRow("bare LF after the size line", chunked("5\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadLineEnding");
    addRow("bare LF after an extension", chunked("5;a=b\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadLineEnding");
    addRow("bare LF after data only", chunked("5\r\nhello\n0\r\n\r\n"),
        "head 200 OK | fields 1 | data 'hello' | error BadLineEnding");
    addRow("bare LF after the last chunk", chunked("5\r\nhello\r\n0\n\r\n"),
        "head 200 OK | fields 1 | data 'hello' | error BadLineEnding");
    addRow("bare LF ends the body", chunked("5\r\nhello\r\n0\r\n\n"),
        "head 200 OK | fields 1 | data 'hello' | error BadLineEnding");
    addRow("LF inside chunk data is data", chunked("3\r\na\nb\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | data 'a\\nb' | end | keep-alive");
    addRow("head with bare LF, chunks with CRLF",
        "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\r\nhello\r\n0\r\n\r\n",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    addRow("CR at the end of the input waits", chunked("5\r\nhello\r"),
        "head 200 OK | fields 1 | data 'hello'");
    // The data is delivered as it arrives, so the error can only come after it.
    addRow("data longer than the size", chunked("5\r\nhelloX\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | data 'hello' | error MissingChunkDelimiter");
    addRow("data shorter than the size", chunked("5\r\nhel\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | data 'hel\\r\\n' | error MissingChunkDelimiter");
    addRow("CR without LF after data", chunked("5\r\nhello\rX0\r\n\r\n"),
        "head 200 OK | fields 1 | data 'hello' | error BadLineEnding");
    addRow("bare CR ends the size line", chunked("5\rhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | error BadLineEnding");
}

void TestResponseParserChunked::trailers_data()
{
    ParserHarness::addColumns();
    addRow("trailers kept apart from the head",
        chunked("5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum:  42 \r\n\r\n"),
        "head 200 OK | fields 1 | data 'hello' | end trailers [Expires: never, X-Sum: 42]"
        " | keep-alive");
    addRow("trailers with bare LF", chunked("0\r\nX: y\n\r\n"),
        "head 200 OK | fields 1 | error BadLineEnding");
    addRow("bare LF after a good trailer", chunked("0\r\nX: y\r\n\n"),
        "head 200 OK | fields 1 | error BadLineEnding");
    addRow("bare LF in a folded trailer", chunked("0\r\nX: y\r\n z\n\r\n"),
        "head 200 OK | fields 1 | error BadLineEnding");
    // The limits are still checked first, in the order the bytes arrive.
    addRow("trailer line over the limit before its bare LF",
        chunked("0\r\nX-Trailer: " + QByteArray(40, 'a') + "\n\r\n"),
        "head 200 OK | fields 1 | error LineTooLong", {.limits = {.maxLineBytes = 32}});
    addRow("trailer without colon", chunked("0\r\nNoColon\r\n\r\n"),
        "head 200 OK | fields 1 | error BadHeaderLine");
    addRow("trailer with space before colon", chunked("0\r\nX : y\r\n\r\n"),
        "head 200 OK | fields 1 | error BadHeaderLine");
    addRow("trailer with bad name", chunked("0\r\nX(y): z\r\n\r\n"),
        "head 200 OK | fields 1 | error BadHeaderName");
    addRow("trailer with control in value", chunked("0\r\nX: a\x02z\r\n\r\n"),
        "head 200 OK | fields 1 | error BadHeaderValue");
}

void TestResponseParserChunked::endOfInput_data()
{
    ParserHarness::addColumns();
    addRow("last chunk without the final CRLF waits", chunked("5\r\nhello\r\n0\r\n"),
        "head 200 OK | fields 1 | data 'hello'");
    addRow("EOF inside chunk data", chunked("5\r\nhel"),
        "head 200 OK | fields 1 | data 'hel' | error IncompleteBody", {.eof = true});
    addRow("EOF inside the size line", chunked("5\r\nhello\r\n1"),
        "head 200 OK | fields 1 | data 'hello' | error IncompleteBody", {.eof = true});
    addRow("EOF before the last chunk", chunked("5\r\nhello\r\n"),
        "head 200 OK | fields 1 | data 'hello' | error IncompleteBody", {.eof = true});
    addRow("EOF before the final CRLF", chunked("5\r\nhello\r\n0\r\n"),
        "head 200 OK | fields 1 | data 'hello' | error IncompleteBody", {.eof = true});
    addRow("EOF inside the trailers", chunked("0\r\nX: y\r\n"),
        "head 200 OK | fields 1 | error IncompleteBody", {.eof = true});
    addRow("EOF after the whole body", chunked("5\r\nhello\r\n0\r\n\r\n"),
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive", {.eof = true});
}

// A million one-byte chunks must cost a million times one chunk: no rescanning of the buffer
// from its start, no quadratic compaction. Not timed (CI machines vary); a quadratic parser
// would take hours here and hit the test timeout.
void TestResponseParserChunked::millionOneByteChunks_data()
{
    QTest::addColumn<qsizetype>("readSize");
    QTest::newRow("whole body in one read") << qsizetype(0);
    QTest::newRow("16 KiB reads") << qsizetype(16384);
}

void TestResponseParserChunked::millionOneByteChunks()
{
    using Reqivo::Protocol::ResponseParser;
    QFETCH(qsizetype, readSize);
    constexpr int chunks = 1'000'000;
    QByteArray body;
    body.reserve(chunks * 6 + 5);
    for (int i = 0; i < chunks; ++i)
        body.append("1\r\na\r\n", 6);
    body.append("0\r\n\r\n", 5);
    const QByteArray input = chunked(body);
    if (readSize == 0)
        readSize = input.size();

    QElapsedTimer timer;
    timer.start();
    ResponseParser p;
    qint64 dataBytes = 0;
    bool ended = false;
    for (qsizetype at = 0; at < input.size() && !ended; at += readSize) {
        p.receiveData(QByteArrayView(input).sliced(at, qMin(readSize, input.size() - at)));
        for (;;) {
            const ResponseParser::Event ev = p.nextEvent();
            if (ev.type == ResponseParser::EventType::Data) {
                QVERIFY(ev.data.size() > 0);
                QCOMPARE(ev.data.count('a'), ev.data.size());
                dataBytes += ev.data.size();
            } else if (ev.type == ResponseParser::EventType::EndOfMessage) {
                ended = true;
                break;
            } else if (ev.type != ResponseParser::EventType::Head) {
                QCOMPARE(ev.type, ResponseParser::EventType::NeedData);
                break;
            }
        }
    }
    QVERIFY(ended);
    QCOMPARE(dataBytes, qint64(chunks));
    QCOMPARE(p.bodyBytesReceived(), qint64(chunks));
    QVERIFY(p.unconsumed().isEmpty());
    qDebug("a million one-byte chunks: %lld ms", qint64(timer.elapsed()));
}

QTEST_GUILESS_MAIN(TestResponseParserChunked)
#include "tst_responseparser_chunked.moc"
