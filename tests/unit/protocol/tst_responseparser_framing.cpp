// Message framing of responses that have a body, RFC 9112 §6.3 rules 3-8: Transfer-Encoding
// (only a final "chunked" is supported), Content-Length (RFC 9110 §8.6: 1*DIGIT; a list of equal
// values is one value; anything else is unrecoverable), both together (a smuggling signal: error),
// and neither (the body runs until the server closes). Chunked syntax itself is in
// tst_responseparser_chunked.
#include "parserharness.h"

using ParserHarness::addRow;
using ParserHarness::Options;

class TestResponseParserFraming : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void contentLength_data();
    void contentLength() { ParserHarness::verify(); }
    void contentLengthLists_data();
    void contentLengthLists() { ParserHarness::verify(); }
    void transferEncoding_data();
    void transferEncoding() { ParserHarness::verify(); }
    void closeDelimited_data();
    void closeDelimited() { ParserHarness::verify(); }
    void framingAccessors();
};

void TestResponseParserFraming::contentLength_data()
{
    ParserHarness::addColumns();
    addRow("five bytes", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    addRow("zero", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "head 200 OK | fields 1 | end | keep-alive");
    addRow("body bytes that look like a head",
        "HTTP/1.1 200 OK\r\nContent-Length: 19\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
        "head 200 OK | fields 1 | data 'HTTP/1.1 200 OK\\r\\n\\r\\n' | end | keep-alive");
    addRow("leading zeros are still decimal", "HTTP/1.1 200 OK\r\nContent-Length: 005\r\n\r\nhello",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    addRow("OWS around the value", "HTTP/1.1 200 OK\r\nContent-Length: \t5 \r\n\r\nhello",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    addRow("largest qint64 waits for the body",
        "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\nabc",
        "head 200 OK | fields 1 | data 'abc'");
    addRow("body still arriving", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
        "head 200 OK | fields 1 | data 'hel'");
    addRow("EOF before the whole body", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
        "head 200 OK | fields 1 | data 'hel' | error IncompleteBody", {.eof = true});
    addRow("EOF after the whole body", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive", {.eof = true});
    addRow("plus sign", "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
        "error BadContentLength");
    addRow("minus sign", "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello",
        "error BadContentLength");
    addRow("hexadecimal", "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\nhello",
        "error BadContentLength");
    addRow("space between digits", "HTTP/1.1 200 OK\r\nContent-Length: 1 0\r\n\r\nhello",
        "error BadContentLength");
    addRow("decimal point", "HTTP/1.1 200 OK\r\nContent-Length: 5.0\r\n\r\nhello",
        "error BadContentLength");
    addRow("trailing letter", "HTTP/1.1 200 OK\r\nContent-Length: 5a\r\n\r\nhello",
        "error BadContentLength");
    addRow("empty", "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nhello", "error BadContentLength");
    addRow("overflows 64 bits", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "error BadContentLength");
    addRow("one past the largest qint64",
        "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n", "error BadContentLength");
}

void TestResponseParserFraming::contentLengthLists_data()
{
    ParserHarness::addColumns();
    addRow("identical values in one field", "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    addRow("identical values without space",
        "HTTP/1.1 200 OK\r\nContent-Length: 5,5,5\r\n\r\nhello",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    addRow("identical values in two fields",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        "head 200 OK | fields 2 | data 'hello' | end | keep-alive");
    addRow("differing values in one field", "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello",
        "error BadContentLength");
    addRow("differing values in two fields",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        "error BadContentLength");
    addRow("equal numbers spelled differently",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 05\r\n\r\nhello",
        "head 200 OK | fields 2 | data 'hello' | end | keep-alive");
    addRow("valid value next to garbage", "HTTP/1.1 200 OK\r\nContent-Length: 5, x\r\n\r\nhello",
        "error BadContentLength");
    addRow("valid field next to empty field",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length:\r\n\r\nhello",
        "error BadContentLength");
}

void TestResponseParserFraming::transferEncoding_data()
{
    ParserHarness::addColumns();
    addRow("chunked",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    addRow("coding names ignore case",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    addRow("OWS around the coding",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding:  CHUNKED \t\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive");
    addRow("gzip then chunked is unsupported",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "error UnsupportedTransferCoding");
    addRow("gzip and chunked in two fields",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\n",
        "error UnsupportedTransferCoding");
    addRow("chunked not last", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "error UnsupportedTransferCoding");
    // RFC 9112 §6.1: a sender MUST NOT apply chunked more than once.
    addRow("chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        "error UnsupportedTransferCoding");
    addRow("chunked twice in two fields",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        "error UnsupportedTransferCoding");
    addRow("identity (removed in RFC 7230)",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n",
        "error UnsupportedTransferCoding");
    addRow("Content-Length then Transfer-Encoding",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n",
        "error ContentLengthWithTransferEncoding");
    addRow("Transfer-Encoding then Content-Length",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n",
        "error ContentLengthWithTransferEncoding");
    // RFC 9112 §6.1: a server MUST NOT send Transfer-Encoding in an HTTP/1.0 response, and a
    // recipient must treat such framing as faulty: the message went through something that did
    // not understand chunked, so neither its body nor the bytes after it can be trusted.
    addRow("HTTP/1.0 with chunked is refused",
        "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "error TransferEncodingInHttp10");
    addRow("HTTP/1.0 with chunked and keep-alive is refused",
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n",
        "error TransferEncodingInHttp10");
    addRow("HTTP/1.0 with chunked and Content-Length is refused",
        "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello",
        "error TransferEncodingInHttp10");
    addRow("HTTP/1.0 with an unsupported coding is refused",
        "HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello",
        "error TransferEncodingInHttp10");
    addRow("HTTP/1.0 with an empty Transfer-Encoding is refused",
        "HTTP/1.0 200 OK\r\nTransfer-Encoding:\r\n\r\nhello", "error TransferEncodingInHttp10");
    addRow("HTTP/1.0 204 with Transfer-Encoding is refused",
        "HTTP/1.0 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
        "error TransferEncodingInHttp10");
    addRow("HTTP/1.0 HEAD response with Transfer-Encoding is refused",
        "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "error TransferEncodingInHttp10",
        {.method = "HEAD"});
    addRow("HTTP/1.1 after an interim HTTP/1.0 with Transfer-Encoding",
        "HTTP/1.0 100 Continue\r\nTransfer-Encoding: chunked\r\n\r\n"
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "head HTTP/1.0 100 Continue | fields 1 | head 200 OK | fields 1 | end | keep-alive");
}

void TestResponseParserFraming::closeDelimited_data()
{
    ParserHarness::addColumns();
    addRow("HTTP/1.1 without length reads until EOF", "HTTP/1.1 200 OK\r\n\r\nabc\r\ndef",
        "head 200 OK | fields 0 | data 'abc\\r\\ndef' | end | close", {.eof = true});
    addRow("HTTP/1.1 without length before EOF", "HTTP/1.1 200 OK\r\n\r\nabc",
        "head 200 OK | fields 0 | data 'abc'");
    addRow("HTTP/1.0 without length", "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nabc",
        "head HTTP/1.0 200 OK | fields 1 | data 'abc' | end | close", {.eof = true});
    addRow("empty body ended by EOF", "HTTP/1.1 200 OK\r\n\r\n",
        "head 200 OK | fields 0 | end | close", {.eof = true});
    addRow("keep-alive cannot save a close-delimited body",
        "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nabc",
        "head 200 OK | fields 1 | data 'abc' | end | close", {.eof = true});
}

void TestResponseParserFraming::framingAccessors()
{
    using Reqivo::Protocol::ResponseParser;
    {
        ResponseParser p;
        p.receiveData(QByteArrayLiteral("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"));
        QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Head);
        QCOMPARE(p.framing(), ResponseParser::Framing::ContentLength);
        QCOMPARE(p.contentLength(), 5);
        QCOMPARE(p.state(), ResponseParser::State::Body);
        QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Data);
        QCOMPARE(p.bodyBytesReceived(), 3);
        QCOMPARE(p.nextEvent().type, ResponseParser::EventType::NeedData);
    }
    {
        ResponseParser p;
        p.receiveData(QByteArrayLiteral("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
        QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Head);
        QCOMPARE(p.framing(), ResponseParser::Framing::Chunked);
        QCOMPARE(p.contentLength(), -1);
    }
    {
        ResponseParser p;
        p.receiveData(QByteArrayLiteral("HTTP/1.1 200 OK\r\n\r\n"));
        QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Head);
        QCOMPARE(p.framing(), ResponseParser::Framing::UntilClose);
        QCOMPARE(p.contentLength(), -1);
    }
    {
        ResponseParser p;
        p.receiveData(QByteArrayLiteral("HTTP/1.1 204 No Content\r\n\r\n"));
        QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Head);
        QCOMPARE(p.framing(), ResponseParser::Framing::None);
        QCOMPARE(p.nextEvent().type, ResponseParser::EventType::EndOfMessage);
        QCOMPARE(p.state(), ResponseParser::State::Done);
        QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Paused);
    }
}

QTEST_GUILESS_MAIN(TestResponseParserFraming)
#include "tst_responseparser_framing.moc"
