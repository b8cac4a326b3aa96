// Field lines, RFC 9112 §5 and RFC 9110 §5: field-line = field-name ":" OWS field-value OWS.
// The name is a token and nothing may sit between it and the colon (§5.1: smuggling vector);
// the value is VCHAR / obs-text with SP and HTAB inside, trimmed of OWS; obs-fold is replaced
// by one SP (§5.2), except on the first line, where it would continue the status line (§2.2).
// Every row lists the fields the parser kept, so trimming and unfolding are visible.
#include "parserharness.h"

using ParserHarness::addRow;
using ParserHarness::bytes;
using ParserHarness::Options;

namespace {
const Options listed {.listFields = true};
}

class TestResponseParserFields : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void names_data();
    void names() { ParserHarness::verify(); }
    void values_data();
    void values() { ParserHarness::verify(); }
    void folding_data();
    void folding() { ParserHarness::verify(); }
    void lineEndings_data();
    void lineEndings() { ParserHarness::verify(); }
    void lookupIsCaseInsensitive();
};

void TestResponseParserFields::names_data()
{
    ParserHarness::addColumns();
    addRow("name case preserved", "HTTP/1.1 204 No Content\r\ncontent-TYPE: text/plain\r\n\r\n",
        "head 204 No Content | fields [content-TYPE: text/plain] | end | keep-alive", listed);
    addRow("every tchar accepted", "HTTP/1.1 204 No Content\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n",
        "head 204 No Content | fields [!#$%&\\x27*+-.^_`|~09azAZ: v] | end | keep-alive", listed);
    addRow("duplicates kept in arrival order",
        "HTTP/1.1 204 No Content\r\nSet-Cookie: a=1\r\nVary: Accept\r\n"
        "Set-Cookie: b=2; Path=/\r\n\r\n",
        "head 204 No Content | fields [Set-Cookie: a=1, Vary: Accept, Set-Cookie: b=2; Path=/]"
        " | end | keep-alive",
        listed);
    addRow("space before colon", "HTTP/1.1 204 No Content\r\nServer : x\r\n\r\n",
        "error BadHeaderLine", listed);
    addRow("tab before colon", "HTTP/1.1 204 No Content\r\nServer\t: x\r\n\r\n",
        "error BadHeaderLine", listed);
    addRow("no colon", "HTTP/1.1 204 No Content\r\nNoColonHere\r\n\r\n", "error BadHeaderLine",
        listed);
    addRow(
        "empty name", "HTTP/1.1 204 No Content\r\n: value\r\n\r\n", "error BadHeaderLine", listed);
    addRow("space inside name", "HTTP/1.1 204 No Content\r\nBad Name: x\r\n\r\n",
        "error BadHeaderName", listed);
    addRow("parenthesis in name", "HTTP/1.1 204 No Content\r\nX(y): z\r\n\r\n",
        "error BadHeaderName", listed);
    addRow("quote in name", "HTTP/1.1 204 No Content\r\nX\"y: z\r\n\r\n", "error BadHeaderName",
        listed);
    addRow("slash in name", "HTTP/1.1 204 No Content\r\nContent/Type: x\r\n\r\n",
        "error BadHeaderName", listed);
    addRow("DEL in name", "HTTP/1.1 204 No Content\r\nX\x7f: y\r\n\r\n", "error BadHeaderName",
        listed);
    addRow("NUL in name", bytes("HTTP/1.1 204 No Content\r\nX\0Y: z\r\n\r\n"),
        "error BadHeaderName", listed);
    addRow("UTF-8 in name", "HTTP/1.1 204 No Content\r\nN\xc3\xa4me: x\r\n\r\n",
        "error BadHeaderName", listed);
}

void TestResponseParserFields::values_data()
{
    ParserHarness::addColumns();
    addRow("OWS trimmed on both sides", "HTTP/1.1 204 No Content\r\nX: \t a b \t \r\n\r\n",
        "head 204 No Content | fields [X: a b] | end | keep-alive", listed);
    addRow("no space after colon", "HTTP/1.1 204 No Content\r\nX:y\r\n\r\n",
        "head 204 No Content | fields [X: y] | end | keep-alive", listed);
    addRow("empty value", "HTTP/1.1 204 No Content\r\nX:\r\nY: 1\r\n\r\n",
        "head 204 No Content | fields [X: , Y: 1] | end | keep-alive", listed);
    addRow("whitespace-only value", "HTTP/1.1 204 No Content\r\nX: \t \r\n\r\n",
        "head 204 No Content | fields [X: ] | end | keep-alive", listed);
    addRow("colons inside value", "HTTP/1.1 204 No Content\r\nLocation: http://h:80/a:b\r\n\r\n",
        "head 204 No Content | fields [Location: http://h:80/a:b] | end | keep-alive", listed);
    addRow("tab inside value", "HTTP/1.1 204 No Content\r\nX: a\tb\r\n\r\n",
        "head 204 No Content | fields [X: a\\tb] | end | keep-alive", listed);
    addRow("obs-text in value", "HTTP/1.1 204 No Content\r\nX: caf\xe9 \xff\r\n\r\n",
        "head 204 No Content | fields [X: caf\\xe9 \\xff] | end | keep-alive", listed);
    addRow("NUL in value", bytes("HTTP/1.1 204 No Content\r\nX: a\0b\r\n\r\n"),
        "error BadHeaderValue", listed);
    addRow("SOH in value", "HTTP/1.1 204 No Content\r\nX: a\x01z\r\n\r\n", "error BadHeaderValue",
        listed);
    addRow("ESC in value", "HTTP/1.1 204 No Content\r\nX: a\x1b[0m\r\n\r\n", "error BadHeaderValue",
        listed);
    addRow("DEL in value", "HTTP/1.1 204 No Content\r\nX: a\x7fz\r\n\r\n", "error BadHeaderValue",
        listed);
    // A CR not followed by LF is a bare CR wherever it is (the leniency policy).
    addRow("CR inside value", "HTTP/1.1 204 No Content\r\nX: a\rb\r\n\r\n", "error BadLineEnding",
        listed);
}

void TestResponseParserFields::folding_data()
{
    ParserHarness::addColumns();
    addRow("obs-fold becomes one SP", "HTTP/1.1 204 No Content\r\nX: a\r\n b\r\nY: c\r\n\r\n",
        "head 204 No Content | fields [X: a b, Y: c] | end | keep-alive", listed);
    // obs-fold = OWS CRLF RWS: the whitespace on both sides of the line break is part of it.
    addRow("obs-fold swallows the OWS around it",
        "HTTP/1.1 204 No Content\r\nX: a \r\n\t  b\r\n\r\n",
        "head 204 No Content | fields [X: a b] | end | keep-alive", listed);
    addRow("several folds", "HTTP/1.1 204 No Content\r\nX: a\r\n b\r\n\tc\r\n\r\n",
        "head 204 No Content | fields [X: a b c] | end | keep-alive", listed);
    addRow("fold right after the colon", "HTTP/1.1 204 No Content\r\nX:\r\n b\r\n\r\n",
        "head 204 No Content | fields [X: b] | end | keep-alive", listed);
    addRow("fold with bare LF", "HTTP/1.1 204 No Content\nX: a\n b\n\n",
        "head 204 No Content | fields [X: a b] | end | keep-alive", listed);
    addRow("fold on the first field line", "HTTP/1.1 204 No Content\r\n X: y\r\n\r\n",
        "error BadHeaderLine", listed);
    addRow("tab fold on the first field line", "HTTP/1.1 204 No Content\r\n\tX: y\r\n\r\n",
        "error BadHeaderLine", listed);
}

void TestResponseParserFields::lineEndings_data()
{
    ParserHarness::addColumns();
    addRow("bare LF everywhere", "HTTP/1.1 200 OK\nContent-Length: 2\nX: y\n\nhi",
        "head 200 OK | fields [Content-Length: 2, X: y] | data 'hi' | end | keep-alive", listed);
    addRow("CRLF and LF mixed", "HTTP/1.1 200 OK\r\nContent-Length: 2\nX: y\r\n\nhi",
        "head 200 OK | fields [Content-Length: 2, X: y] | data 'hi' | end | keep-alive", listed);
    addRow("bare LF blank line after CRLF fields", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\nhi",
        "head 200 OK | fields [Content-Length: 2] | data 'hi' | end | keep-alive", listed);
    addRow("LF CR LF is not a blank line", "HTTP/1.1 204 No Content\r\nX: y\n\rZ: w\r\n\r\n",
        "error BadLineEnding", listed);
}

// Lookups in a parsed head ignore case; the Headers API itself is covered by tst_headers.
void TestResponseParserFields::lookupIsCaseInsensitive()
{
    using Reqivo::Protocol::ResponseParser;
    ResponseParser p;
    p.receiveData(QByteArrayLiteral("HTTP/1.1 204 No Content\r\nETAG: \"x\"\r\n"
                                    "set-cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n"));
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Head);
    const Reqivo::Headers &h = p.head().headers;
    QCOMPARE(h.value("ETag"), QByteArrayView("\"x\""));
    QCOMPARE(h.values("SET-COOKIE"), (QList<QByteArray> {"a=1", "b=2"}));
    QCOMPARE(h.nameAt(1), QByteArrayView("set-cookie"));
}

QTEST_GUILESS_MAIN(TestResponseParserFields)
#include "tst_responseparser_fields.moc"
