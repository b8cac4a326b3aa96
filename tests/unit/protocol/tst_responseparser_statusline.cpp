// The status line, RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ].
// HTTP-version is case-sensitive "HTTP/" DIGIT "." DIGIT (§2.3); status-code is exactly three
// digits in 100..599 (RFC 9110 §15); reason-phrase is HTAB / SP / VCHAR / obs-text. The parser's
// one leniency here is a missing reason phrase, with or without the SP before it.
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
    addRow("below range 099", "HTTP/1.1 099 Low\r\n\r\n", "error BadStatusLine");
    addRow("zero 000", "HTTP/1.1 000 Zero\r\n\r\n", "error BadStatusLine");
    addRow("above range 600", "HTTP/1.1 600 High\r\n\r\n", "error BadStatusLine");
    addRow("above range 999", "HTTP/1.1 999 High\r\n\r\n", "error BadStatusLine");
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
    addRow("empty first line", "\r\nHTTP/1.1 200 OK\r\n\r\n", "error BadStatusLine");
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
