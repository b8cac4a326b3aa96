// The status line, RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ].
// HTTP-version is case-sensitive "HTTP/" DIGIT "." DIGIT (§2.3); status-code is exactly three
// digits; reason-phrase is HTAB / SP / VCHAR / obs-text. A code outside 100..599 is invalid but
// not refused: RFC 9110 §15 has the client process it like a 5xx, so the parser frames it like
// any final response (a 0xx is not an interim 1xx). Leniencies here: a missing reason phrase,
// with or without the SP before it, and one empty line before the status line.
// A peer that does not speak HTTP (TLS on an http:// URL, SSH) is refused as soon as its first
// bytes cannot begin "HTTP/", without waiting for a line end that may never come.
#include "parserharness.h"

using ParserHarness::addRow;
using ParserHarness::bytes;
using ParserHarness::Options;

class TestResponseParserStatusLine : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void versions_data();
    void versions() { ParserHarness::verify(); }
    void statusCodes_data();
    void statusCodes() { ParserHarness::verify(); }
    void spacing_data();
    void spacing() { ParserHarness::verify(); }
    void reasonPhrases_data();
    void reasonPhrases() { ParserHarness::verify(); }
    void notHttp_data();
    void notHttp() { ParserHarness::verify(); }
    void leadingEmptyLine_data();
    void leadingEmptyLine() { ParserHarness::verify(); }
    void headFields();
};

void TestResponseParserStatusLine::versions_data()
{
    ParserHarness::addColumns();
    addRow("HTTP/1.1", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "head 200 OK | fields 1 | end | keep-alive");
    addRow("HTTP/1.0 (not persistent by default)", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "head HTTP/1.0 200 OK | fields 1 | end | close");
    // RFC 9110 §2.5: a higher minor version of a major one we speak is understood as 1.1.
    addRow("HTTP/1.2 treated like 1.1", "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n",
        "head HTTP/1.2 200 OK | fields 1 | end | keep-alive");
    addRow("HTTP/2.0 rejected", "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "error UnsupportedVersion");
    addRow("HTTP/3.0 rejected", "HTTP/3.0 200 OK\r\n\r\n", "error UnsupportedVersion");
    addRow("HTTP/0.9 rejected", "HTTP/0.9 200 OK\r\n\r\n", "error UnsupportedVersion");
    addRow("lowercase http name", "http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "error BadStatusLine");
    addRow("mixed-case http name", "Http/1.1 200 OK\r\n\r\n", "error BadStatusLine");
    addRow("version without minor", "HTTP/1 200 OK\r\n\r\n", "error BadStatusLine");
    addRow("two-digit minor version", "HTTP/1.10 200 OK\r\n\r\n", "error BadStatusLine");
    addRow("non-digit minor version", "HTTP/1.x 200 OK\r\n\r\n", "error BadStatusLine");
    addRow("no version at all", "200 OK\r\n\r\n", "error BadStatusLine");
    addRow("not HTTP at all", "SSH-2.0-OpenSSH_9.2\r\n\r\n", "error BadStatusLine");
    addRow("ICY (Shoutcast) status line", "ICY 200 OK\r\n\r\n", "error BadStatusLine");
}

void TestResponseParserStatusLine::statusCodes_data()
{
    ParserHarness::addColumns();
    addRow("lowest valid 100 is interim", "HTTP/1.1 100 Continue\r\n\r\n",
        "head 100 Continue | fields 0");
    addRow("404 with body", "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope",
        "head 404 Not Found | fields 1 | data 'nope' | end | keep-alive");
    addRow("highest valid 599", "HTTP/1.1 599 Network Timeout\r\nContent-Length: 0\r\n\r\n",
        "head 599 Network Timeout | fields 1 | end | keep-alive");
    addRow("unregistered but valid 299", "HTTP/1.1 299 Whatever\r\nContent-Length: 0\r\n\r\n",
        "head 299 Whatever | fields 1 | end | keep-alive");
    addRow("two digits", "HTTP/1.1 20 OK\r\n\r\n", "error BadStatusLine");
    addRow("four digits", "HTTP/1.1 2000 OK\r\n\r\n", "error BadStatusLine");
    addRow("letter inside", "HTTP/1.1 2x0 OK\r\n\r\n", "error BadStatusLine");
    addRow("signed", "HTTP/1.1 +20 OK\r\n\r\n", "error BadStatusLine");
    // Outside 100..599: delivered like a final response (the client treats it as a 5xx).
    addRow("below range 099 is final, not interim",
        "HTTP/1.1 099 Low\r\nContent-Length: 2\r\n\r\nhi",
        "head 99 Low | fields 1 | data 'hi' | end | keep-alive");
    addRow("zero 000 without length reads until EOF", "HTTP/1.1 000 Zero\r\n\r\nbody",
        "head 0 Zero | fields 0 | data 'body' | end | close", {.eof = true});
    addRow("above range 600", "HTTP/1.1 600 High\r\nContent-Length: 0\r\n\r\n",
        "head 600 High | fields 1 | end | keep-alive");
    addRow("above range 999 chunked",
        "HTTP/1.1 999 High\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
        "head 999 High | fields 1 | data 'hi' | end | keep-alive");
    addRow("0xx to HEAD has no body", "HTTP/1.1 050 Odd\r\nContent-Length: 5\r\n\r\n",
        "head 50 Odd | fields 1 | end | keep-alive", {.method = "HEAD"});
    addRow("0xx does not count as interim", "HTTP/1.1 001 One\r\nContent-Length: 0\r\n\r\n",
        "head 1 One | fields 1 | end | keep-alive", {.limits = {.maxInterimResponses = 0}});
    addRow("missing status", "HTTP/1.1 OK\r\n\r\n", "error BadStatusLine");
    addRow("fullwidth digits (UTF-8)", "HTTP/1.1 \xef\xbc\x92\xef\xbc\x90\xef\xbc\x90 OK\r\n\r\n",
        "error BadStatusLine");
}

void TestResponseParserStatusLine::spacing_data()
{
    ParserHarness::addColumns();
    addRow("two spaces after version", "HTTP/1.1  200 OK\r\n\r\n", "error BadStatusLine");
    addRow("tab after version", "HTTP/1.1\t200 OK\r\n\r\n", "error BadStatusLine");
    addRow("leading space", " HTTP/1.1 200 OK\r\n\r\n", "error BadStatusLine");
    addRow("no space between status and reason", "HTTP/1.1 200OK\r\n\r\n", "error BadStatusLine");
    addRow("version only", "HTTP/1.1\r\n\r\n", "error BadStatusLine");
    addRow("version and space only", "HTTP/1.1 \r\n\r\n", "error BadStatusLine");
    addRow("no reason and no space (lenient)", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
        "head 200 | fields 1 | end | keep-alive");
    addRow("empty reason after space", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
        "head 200 | fields 1 | end | keep-alive");
    addRow("bare LF ends the status line", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
        "head 200 OK | fields 1 | end | keep-alive");
    addRow("bare CR ends the status line", "HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n",
        "error BadLineEnding");
    addRow("NUL in version", bytes("HTTP/1.1\0 200 OK\r\n\r\n"), "error BadStatusLine");
}

// Refused at the first byte that cannot begin "HTTP/": none of these inputs has a line end or
// EOF, so a parser that waits for the line would report nothing at all.
void TestResponseParserStatusLine::notHttp_data()
{
    ParserHarness::addColumns();
    addRow("TLS ClientHello record on an http URL",
        bytes("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), "error BadStatusLine");
    addRow("TLS alert record", bytes("\x15\x03\x03\x00\x02\x02\x46"), "error BadStatusLine");
    addRow("one TLS byte is enough", bytes("\x16"), "error BadStatusLine");
    addRow("SSH banner without its line end", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3",
        "error BadStatusLine");
    addRow("SMTP greeting", "220 mail.example.org ESMTP", "error BadStatusLine");
    addRow("lowercase http without a line end", "http/1.1 200 OK", "error BadStatusLine");
    addRow("wrong fifth byte", "HTTPS/1.1 200 OK", "error BadStatusLine");
    addRow("NUL first", bytes("\0HTTP/1.1 200 OK"), "error BadStatusLine");
    addRow("leading space without a line end", " HTTP/1.1 200 OK", "error BadStatusLine");
    addRow("line ends inside the name", "HTT\r\n", "error BadStatusLine");
    addRow("line ends inside the name with LF", "HT\n", "error BadStatusLine");
    addRow("bare CR at the first byte", "\rHTTP/1.1 200 OK", "error BadLineEnding");
    addRow("bare CR inside the name", "HT\rTP/1.1 200 OK", "error BadLineEnding");
    // A prefix of "HTTP/" may still become a response: wait.
    addRow("one byte of HTTP/ waits", "H", "");
    addRow("HTTP/ waits", "HTTP/", "");
    addRow("an unfinished status line waits", "HTTP/1.1 20", "");
    addRow("a CR after a good prefix waits", "HTTP\r", "");
    addRow("EOF after a good prefix", "HTTP/1.", "error IncompleteHead", {.eof = true});
    addRow("garbage after an interim response", "HTTP/1.1 100 Continue\r\n\r\n\x16\x03\x01",
        "head 100 Continue | fields 0 | error BadStatusLine");
    // The prefix decision never pre-empts a limit that is crossed first, and vice versa.
    addRow("line limit crossed before the bad byte", "HTTX/1.1 200 OK", "error LineTooLong",
        {.limits = {.maxLineBytes = 3}});
    addRow("bad byte at the line limit", "HTX/1.1 200 OK", "error BadStatusLine",
        {.limits = {.maxLineBytes = 3}});
    addRow("line end past the line limit", "HT\r\n", "error LineTooLong",
        {.limits = {.maxLineBytes = 3}});
}

// RFC 9112 §2.2 has a server ignore at least one empty line before a request; the parser does the
// same before a status line (a stray CRLF after a body is a common server bug), exactly once.
void TestResponseParserStatusLine::leadingEmptyLine_data()
{
    ParserHarness::addColumns();
    addRow("one CRLF before the status line", "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "head 200 OK | fields 1 | end | keep-alive");
    addRow("one LF before the status line", "\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "head 200 OK | fields 1 | end | keep-alive");
    addRow("one empty line waits for the status line", "\r\n", "");
    addRow(
        "two CRLF", "\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "error BadStatusLine");
    addRow("CRLF then LF", "\r\n\nHTTP/1.1 200 OK\r\n\r\n", "error BadStatusLine");
    addRow("two LF without anything after them", "\n\n", "error BadStatusLine");
    addRow("empty line then TLS", bytes("\r\n\x16\x03\x01"), "error BadStatusLine");
    addRow("empty line then a bare CR", "\r\n\rHTTP/1.1 200 OK\r\n\r\n", "error BadLineEnding");
    addRow("line of spaces is not empty", " \r\nHTTP/1.1 200 OK\r\n\r\n", "error BadStatusLine");
    addRow("EOF after the empty line", "\r\n", "error IncompleteHead", {.eof = true});
    addRow("one empty line before each head",
        "\r\nHTTP/1.1 100 Continue\r\n\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        "head 100 Continue | fields 0 | head 204 No Content | fields 0 | end | keep-alive");
    // The head limits count from the status line: the skipped line is not part of the head.
    addRow("empty line not counted in the head limit",
        "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "head 200 OK | fields 1 | end | keep-alive", {.limits = {.maxHeaderBytes = 38}});
}

void TestResponseParserStatusLine::reasonPhrases_data()
{
    ParserHarness::addColumns();
    addRow("spaces inside reason", "HTTP/1.1 404 Not  Found Here\r\nContent-Length: 0\r\n\r\n",
        "head 404 Not  Found Here | fields 1 | end | keep-alive");
    addRow("tab inside reason", "HTTP/1.1 200 OK\tfine\r\nContent-Length: 0\r\n\r\n",
        "head 200 OK\\tfine | fields 1 | end | keep-alive");
    addRow("obs-text (Latin-1) reason kept as bytes",
        "HTTP/1.1 200 D\xe9j\xe0 vu\r\nContent-Length: 0\r\n\r\n",
        "head 200 D\\xe9j\\xe0 vu | fields 1 | end | keep-alive");
    addRow("UTF-8 reason kept as bytes",
        "HTTP/1.1 200 \xc3\x87"
        "a va\r\nContent-Length: 0\r\n\r\n",
        "head 200 \\xc3\\x87a va | fields 1 | end | keep-alive");
    addRow("reason that looks like a field", "HTTP/1.1 200 X: y\r\nContent-Length: 0\r\n\r\n",
        "head 200 X: y | fields 1 | end | keep-alive");
    addRow("control character in reason", "HTTP/1.1 200 O\x01K\r\n\r\n", "error BadStatusLine");
    addRow("DEL in reason", "HTTP/1.1 200 O\x7fK\r\n\r\n", "error BadStatusLine");
    addRow("NUL in reason", bytes("HTTP/1.1 200 O\0K\r\n\r\n"), "error BadStatusLine");
}

// The head event's fields, beyond what the log shows.
void TestResponseParserStatusLine::headFields()
{
    using Reqivo::Protocol::ResponseParser;
    ResponseParser p;
    p.receiveData(QByteArrayLiteral("HTTP/1.0 418 I'm a teapot\r\nContent-Length: 3\r\n\r\ntea"));
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Head);
    QCOMPARE(p.head().versionMinor, 0);
    QCOMPARE(p.head().status, 418);
    QCOMPARE(p.head().reason, QByteArrayLiteral("I'm a teapot"));
    QVERIFY(!p.head().isInterim());
    QCOMPARE(p.head().headers.value("content-length"), QByteArrayView("3"));
    QCOMPARE(p.framing(), ResponseParser::Framing::ContentLength);
    QCOMPARE(p.contentLength(), 3);
    QVERIFY(p.hasReceivedAnything());
}

QTEST_GUILESS_MAIN(TestResponseParserStatusLine)
#include "tst_responseparser_statusline.moc"
