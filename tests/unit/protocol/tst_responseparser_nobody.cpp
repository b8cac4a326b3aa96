// Responses without a body and the ends of a connection, RFC 9112 §6.3 rules 1-2 and §8:
// a response to HEAD, any 1xx, 204 and 304 end at the blank line whatever their framing fields
// say; 1xx heads are interim and the final response follows on the same connection; 101 and a
// 2xx to CONNECT hand the connection to another protocol, so the bytes after the head are not
// HTTP and must be given back untouched. A 101 is accepted only when the request asked for an
// upgrade (RFC 9110 §15.2.2: the server switches to a protocol the client listed in Upgrade);
// otherwise the client could never tell which protocol the bytes after it speak.
// EOF is a normal end only for a close-delimited body.
#include "parserharness.h"

using ParserHarness::addRow;
using ParserHarness::Options;

class TestResponseParserNoBody : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void noBody_data();
    void noBody() { ParserHarness::verify(); }
    void interim_data();
    void interim() { ParserHarness::verify(); }
    void upgrades_data();
    void upgrades() { ParserHarness::verify(); }
    void endOfFile_data();
    void endOfFile() { ParserHarness::verify(); }
    void upgradeIsNotReusable();
    void upgradeRequestIsPerCycle();
    void interimHeadIsReported();
};

void TestResponseParserNoBody::noBody_data()
{
    ParserHarness::addColumns();
    const Options head {.method = "HEAD"};
    addRow("HEAD with Content-Length: 100", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        "head 200 OK | fields 1 | end | keep-alive", head);
    addRow("HEAD with chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "head 200 OK | fields 1 | end | keep-alive", head);
    addRow("HEAD without framing is not close-delimited", "HTTP/1.1 200 OK\r\n\r\n",
        "head 200 OK | fields 0 | end | keep-alive", head);
    addRow("HEAD answered with 404 and a length",
        "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n",
        "head 404 Not Found | fields 1 | end | keep-alive", head);
    addRow("HEAD with Connection: close",
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
        "Connection: close\r\n\r\n",
        "head 200 OK | fields 2 | end | close", head);
    addRow("HEAD method name is case-sensitive", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        "head 200 OK | fields 1 | data 'hi' | end | keep-alive", {.method = "head"});
    addRow("204 ignores Content-Length", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
        "head 204 No Content | fields 1 | end | keep-alive");
    addRow("204 ignores chunked", "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
        "head 204 No Content | fields 1 | end | keep-alive");
    addRow("bytes after a 204 are not its body", "HTTP/1.1 204 No Content\r\n\r\nhello",
        "head 204 No Content | fields 0 | end | keep-alive", {.unconsumed = "hello"});
    addRow("304 ignores Content-Length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
        "head 304 Not Modified | fields 1 | end | keep-alive");
    addRow("304 without framing is not close-delimited", "HTTP/1.1 304 Not Modified\r\n\r\n",
        "head 304 Not Modified | fields 0 | end | keep-alive");
}

void TestResponseParserNoBody::interim_data()
{
    ParserHarness::addColumns();
    addRow("100 Continue then 200",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        "head 100 Continue | fields 0 | head 200 OK | fields 1 | data 'hi' | end | keep-alive");
    addRow("two 100 Continue then 200",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "head 100 Continue | fields 0 | head 100 Continue | fields 0 | head 200 OK | fields 1"
        " | end | keep-alive");
    addRow("103 Early Hints with fields",
        "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>\r\n\r\n"
        "HTTP/1.1 204 No Content\r\n\r\n",
        "head 103 Early Hints | fields 2 | head 204 No Content | fields 0 | end | keep-alive");
    addRow("1xx with a length has no body",
        "HTTP/1.1 102 Processing\r\nContent-Length: 5\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        "head 102 Processing | fields 1 | head 200 OK | fields 1 | data 'hello' | end"
        " | keep-alive");
    addRow("interim then final to HEAD",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        "head 100 Continue | fields 0 | head 200 OK | fields 1 | end | keep-alive",
        {.method = "HEAD"});
    addRow("final response still pending", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200",
        "head 100 Continue | fields 0");
    addRow("bad final after a good interim", "HTTP/1.1 100 Continue\r\n\r\nHTTP/2.0 200 OK\r\n\r\n",
        "head 100 Continue | fields 0 | error UnsupportedVersion");
}

void TestResponseParserNoBody::upgrades_data()
{
    ParserHarness::addColumns();
    addRow("101 gives back the new protocol's bytes",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        "\x81\x05hello",
        "head 101 Switching Protocols | fields 2 | end | close | upgraded",
        {.upgrade = true, .unconsumed = "\x81\x05hello"});
    addRow("101 with nothing after it",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
        "head 101 Switching Protocols | fields 2 | end | close | upgraded", {.upgrade = true});
    addRow("101 ignores Content-Length",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nContent-Length: 3\r\n\r\nabc",
        "head 101 Switching Protocols | fields 2 | end | close | upgraded",
        {.upgrade = true, .unconsumed = "abc"});
    addRow("100 Continue then 101",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\nx",
        "head 100 Continue | fields 0 | head 101 Switching Protocols | fields 1 | end | close"
        " | upgraded",
        {.upgrade = true, .unconsumed = "x"});
    addRow("upgrade asked for, ordinary 200 comes",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        "head 200 OK | fields 1 | data 'hi' | end | keep-alive", {.upgrade = true});
    addRow("101 to a request without Upgrade",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        "\x81\x05hello",
        "error UnrequestedUpgrade");
    addRow("101 without Upgrade after 100 Continue",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n",
        "head 100 Continue | fields 0 | error UnrequestedUpgrade");
    addRow("101 to CONNECT without Upgrade",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", "error UnrequestedUpgrade",
        {.method = "CONNECT"});
    addRow("101 to HEAD without Upgrade", "HTTP/1.1 101 Switching Protocols\r\n\r\n",
        "error UnrequestedUpgrade", {.method = "HEAD"});
    addRow("CONNECT 200 opens a tunnel",
        "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01\x02",
        "head 200 Connection established | fields 0 | end | close | upgraded",
        {.method = "CONNECT", .unconsumed = "\x16\x03\x01\x02"});
    // RFC 9112 §6.3 rule 2: a client MUST ignore framing fields in a 2xx to CONNECT.
    addRow("CONNECT 200 ignores Content-Length",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        "head 200 OK | fields 1 | end | close | upgraded",
        {.method = "CONNECT", .unconsumed = "hello"});
    addRow("CONNECT 407 has an ordinary body",
        "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\nauth",
        "head 407 Proxy Authentication Required | fields 1 | data 'auth' | end | keep-alive",
        {.method = "CONNECT"});
    addRow("CONNECT 100 then 200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\ntunnel",
        "head 100 Continue | fields 0 | head 200 OK | fields 0 | end | close | upgraded",
        {.method = "CONNECT", .unconsumed = "tunnel"});
}

void TestResponseParserNoBody::endOfFile_data()
{
    ParserHarness::addColumns();
    const Options eof {.eof = true};
    addRow("EOF before any byte", "", "error ClosedBeforeResponse", eof);
    addRow("EOF after one byte", "H", "error IncompleteHead", eof);
    addRow("EOF inside the status line", "HTTP/1.1 20", "error IncompleteHead", eof);
    addRow("EOF after the status line", "HTTP/1.1 200 OK\r\n", "error IncompleteHead", eof);
    addRow(
        "EOF inside a field line", "HTTP/1.1 200 OK\r\nContent-Len", "error IncompleteHead", eof);
    addRow("EOF before the blank line", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
        "error IncompleteHead", eof);
    addRow("EOF between CR and LF of the blank line", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r",
        "error IncompleteHead", eof);
    addRow("EOF right after the head", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        "head 200 OK | fields 1 | error IncompleteBody", eof);
    addRow("EOF after an interim response", "HTTP/1.1 100 Continue\r\n\r\n",
        "head 100 Continue | fields 0 | error IncompleteHead", eof);
    addRow("EOF after a complete 204", "HTTP/1.1 204 No Content\r\n\r\n",
        "head 204 No Content | fields 0 | end | keep-alive", eof);
}

void TestResponseParserNoBody::upgradeIsNotReusable()
{
    using Reqivo::Protocol::ResponseParser;
    ResponseParser p;
    p.setUpgradeRequested(true);
    p.receiveData(QByteArrayLiteral("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                    "Connection: Upgrade\r\n\r\nframe"));
    ResponseParser::Event ev = p.nextEvent();
    QCOMPARE(ev.type, ResponseParser::EventType::Head);
    QCOMPARE(p.head().status, 101);
    QVERIFY(!p.head().isInterim()); // 101 is the last head on this connection
    for (int i = 0; i < 3 && ev.type != ResponseParser::EventType::Paused; ++i)
        ev = p.nextEvent();
    QCOMPARE(ev.type, ResponseParser::EventType::Paused);
    QCOMPARE(p.state(), ResponseParser::State::Upgraded);
    QVERIFY(!p.isReusable());
    QVERIFY(!p.startNextCycle());
    // Bytes arriving later belong to the new protocol too.
    p.receiveData(QByteArrayLiteral("+more"));
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Paused);
    QCOMPARE(p.unconsumed(), QByteArrayView("frame+more"));
}

// Whether an upgrade was asked for belongs to one request: startNextCycle() and reset() forget
// it, so a connection reused for a plain request cannot be switched by a stray 101.
void TestResponseParserNoBody::upgradeRequestIsPerCycle()
{
    using Reqivo::Protocol::ParseError;
    using Reqivo::Protocol::ResponseParser;
    const QByteArray ok = QByteArrayLiteral("HTTP/1.1 204 No Content\r\n\r\n");
    const QByteArray switching = QByteArrayLiteral("HTTP/1.1 101 Switching Protocols\r\n\r\n");
    ResponseParser p;
    QVERIFY(!p.isUpgradeRequested());
    p.setUpgradeRequested(true);
    QVERIFY(p.isUpgradeRequested());
    p.receiveData(ok + switching);
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Head);
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::EndOfMessage);
    QVERIFY(p.startNextCycle());
    QVERIFY(!p.isUpgradeRequested());
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Error);
    QCOMPARE(p.error(), ParseError::UnrequestedUpgrade);
    QCOMPARE(p.head().status, 101); // still readable, for the error report

    p.reset();
    p.setUpgradeRequested(true);
    p.reset();
    QVERIFY(!p.isUpgradeRequested());
    p.setUpgradeRequested(true);
    p.receiveData(switching);
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Head);
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::EndOfMessage);
    QCOMPARE(p.state(), ResponseParser::State::Upgraded);
}

void TestResponseParserNoBody::interimHeadIsReported()
{
    using Reqivo::Protocol::ResponseParser;
    ResponseParser p;
    p.receiveData(QByteArrayLiteral("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"));
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Head);
    QVERIFY(p.head().isInterim());
    QCOMPARE(p.head().status, 103);
    QCOMPARE(p.head().headers.value("Link"), QByteArrayView("</a.css>"));
    QCOMPARE(p.state(), ResponseParser::State::Head);
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::NeedData);
}

QTEST_GUILESS_MAIN(TestResponseParserNoBody)
#include "tst_responseparser_nobody.moc"
