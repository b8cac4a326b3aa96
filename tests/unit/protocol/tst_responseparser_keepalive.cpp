// Connection persistence, RFC 9112 §9.3: HTTP/1.1 persists unless "close" is a Connection
// option; HTTP/1.0 persists only with the "keep-alive" option; a close-delimited body can never
// be followed by anything. isReusable() is what the pool trusts before putting a connection
// back, so a wrong "yes" would hand the next request a connection the server is closing.
// Then pipelining: bytes of the next response that arrived with this one are kept across
// startNextCycle(), and the cycle API refuses to be driven out of order.
#include "parserharness.h"

#include <QSet>

using ParserHarness::addRow;
using ParserHarness::Options;
using Reqivo::Protocol::ParseError;
using Reqivo::Protocol::ResponseParser;

namespace {
const Options pipelined {.pipeline = true};

QByteArray drainData(ResponseParser &p, ResponseParser::EventType *last)
{
    QByteArray data;
    for (;;) {
        const ResponseParser::Event ev = p.nextEvent();
        if (ev.type == ResponseParser::EventType::Data) {
            data += ev.data.toByteArray();
            continue;
        }
        if (ev.type == ResponseParser::EventType::Head)
            continue;
        *last = ev.type;
        return data;
    }
}
} // namespace

class TestResponseParserKeepAlive : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void persistence_data();
    void persistence() { ParserHarness::verify(); }
    void pipelining_data();
    void pipelining() { ParserHarness::verify(); }
    void startNextCycleTooEarlyIsRefused();
    void resetForgetsEverything();
    void startNextCycleResetsTheMessageState();
    void methodChangesBetweenCycles();
    void idleConnectionClosedBeforeNextResponse();
    void sharedInputIsNotAliased();
    void errorIsFinal();
    void errorNamesAreDistinct();
};

void TestResponseParserKeepAlive::persistence_data()
{
    ParserHarness::addColumns();
    addRow("HTTP/1.1 persists by default", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "head 200 OK | fields 1 | end | keep-alive");
    addRow("HTTP/1.1 chunked persists",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "head 200 OK | fields 1 | end | keep-alive");
    addRow("Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        "head 200 OK | fields 2 | end | close");
    addRow("Connection: CLOSE ignores case",
        "HTTP/1.1 200 OK\r\nConnection: CLOSE\r\nContent-Length: 0\r\n\r\n",
        "head 200 OK | fields 2 | end | close");
    addRow("close among other options",
        "HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n",
        "head 200 OK | fields 2 | end | close");
    addRow("close in a second Connection field",
        "HTTP/1.1 200 OK\r\nConnection: Upgrade\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        "head 200 OK | fields 3 | end | close");
    addRow("closed is not close",
        "HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n",
        "head 200 OK | fields 2 | end | keep-alive");
    addRow("close with chunked",
        "HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "head 200 OK | fields 2 | end | close");
    addRow("HTTP/1.0 does not persist by default", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        "head HTTP/1.0 200 OK | fields 1 | end | close");
    addRow("HTTP/1.0 with keep-alive persists",
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi",
        "head HTTP/1.0 200 OK | fields 2 | data 'hi' | end | keep-alive");
    addRow("HTTP/1.0 keep-alive ignores case",
        "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n",
        "head HTTP/1.0 200 OK | fields 2 | end | keep-alive");
    addRow("HTTP/1.0 keep-alive and close",
        "HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n",
        "head HTTP/1.0 200 OK | fields 2 | end | close");
    addRow("HTTP/1.0 Keep-Alive field is not the option",
        "HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n",
        "head HTTP/1.0 200 OK | fields 2 | end | close");
    addRow("HTTP/1.0 keep-alive without a length",
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nuntil close",
        "head HTTP/1.0 200 OK | fields 1 | data 'until close' | end | close", {.eof = true});
}

void TestResponseParserKeepAlive::pipelining_data()
{
    ParserHarness::addColumns();
    addRow("two responses in one buffer",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nworld",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive | next"
        " | head 200 OK | fields 1 | data 'world' | end | keep-alive",
        pipelined);
    addRow("three framings in a row",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\nT: 1\r\n\r\n"
        "HTTP/1.1 304 Not Modified\r\n\r\n",
        "head 200 OK | fields 1 | data 'a' | end | keep-alive | next"
        " | head 200 OK | fields 1 | data 'b' | end trailers [T: 1] | keep-alive | next"
        " | head 304 Not Modified | fields 0 | end | keep-alive",
        pipelined);
    addRow("interim response inside the second cycle",
        "HTTP/1.1 204 No Content\r\n\r\n"
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
        "head 204 No Content | fields 0 | end | keep-alive | next"
        " | head 100 Continue | fields 0 | head 201 Created | fields 1 | data 'ok' | end"
        " | keep-alive",
        pipelined);
    addRow("nothing after Connection: close is parsed",
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        "HTTP/1.1 200 OK\r\n\r\n",
        "head 200 OK | fields 2 | end | close",
        Options {.pipeline = true, .unconsumed = "HTTP/1.1 200 OK\r\n\r\n"});
    addRow("malformed second response", "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 2000 OK\r\n\r\n",
        "head 204 No Content | fields 0 | end | keep-alive | next | error BadStatusLine",
        pipelined);
    // A stray CRLF after a body (a common server bug) is the one tolerated empty line.
    addRow("CRLF between two responses",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nworld",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive | next"
        " | head 200 OK | fields 1 | data 'world' | end | keep-alive",
        pipelined);
    addRow("two CRLF between two responses",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nworld",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive | next | error BadStatusLine",
        pipelined);
    addRow("body longer than its Content-Length",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello world",
        "head 200 OK | fields 1 | data 'hello' | end | keep-alive | next | error BadStatusLine",
        pipelined);
    addRow("a 101 on a reused connection that asked for no upgrade",
        "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n",
        "head 204 No Content | fields 0 | end | keep-alive | next | error UnrequestedUpgrade",
        pipelined);
    addRow("second response ended by EOF",
        "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n\r\nrest",
        "head 204 No Content | fields 0 | end | keep-alive | next"
        " | head 200 OK | fields 0 | data 'rest' | end | close",
        Options {.eof = true, .pipeline = true});
}

void TestResponseParserKeepAlive::startNextCycleTooEarlyIsRefused()
{
    ResponseParser p;
    QVERIFY(!p.startNextCycle()); // nothing received yet
    p.receiveData(QByteArrayLiteral("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"));
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Head);
    QVERIFY(!p.startNextCycle()); // in the middle of the body
    // A refused call changes nothing: the message goes on where it was.
    p.receiveData(QByteArrayLiteral("lo"));
    ResponseParser::EventType last;
    QCOMPARE(drainData(p, &last), QByteArrayLiteral("hello"));
    QCOMPARE(last, ResponseParser::EventType::EndOfMessage);
    QVERIFY(p.isReusable());
}

// reset() is for a new connection: nothing of the old one may leak into the next response.
void TestResponseParserKeepAlive::resetForgetsEverything()
{
    ResponseParser p({.maxFieldCount = 5});
    p.setRequestMethod("HEAD");
    p.receiveData(QByteArrayLiteral("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"));
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Error);
    p.reset();
    QCOMPARE(p.state(), ResponseParser::State::Head);
    QCOMPARE(p.error(), ParseError::None);
    QVERIFY(!p.hasReceivedAnything());
    QCOMPARE(p.limits().maxFieldCount, 5);
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::NeedData);

    // Half a response, then a new connection: its buffered bytes are gone.
    p.setRequestMethod("GET");
    p.receiveData(QByteArrayLiteral("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"));
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Head);
    p.reset();
    QVERIFY(p.unconsumed().isEmpty());
    p.setRequestMethod("GET");
    p.receiveData(QByteArrayLiteral("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"));
    ResponseParser::EventType last;
    QCOMPARE(drainData(p, &last), QByteArrayLiteral("hi"));
    QCOMPARE(last, ResponseParser::EventType::EndOfMessage);
    QCOMPARE(p.bodyBytesReceived(), 2);
}

void TestResponseParserKeepAlive::startNextCycleResetsTheMessageState()
{
    ResponseParser p;
    p.receiveData(QByteArrayLiteral("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    "3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"));
    ResponseParser::EventType last;
    QCOMPARE(drainData(p, &last), QByteArrayLiteral("abc"));
    QCOMPARE(last, ResponseParser::EventType::EndOfMessage);
    QCOMPARE(p.state(), ResponseParser::State::Done);
    QCOMPARE(p.trailers().size(), 1);
    QCOMPARE(p.bodyBytesReceived(), 3);
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Paused);
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Paused);

    QVERIFY(p.startNextCycle());
    QCOMPARE(p.state(), ResponseParser::State::Head);
    QVERIFY(!p.hasReceivedAnything());
    QCOMPARE(p.bodyBytesReceived(), 0);
    QVERIFY(p.trailers().isEmpty());
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::NeedData);

    p.receiveData(QByteArrayLiteral("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"));
    QVERIFY(p.hasReceivedAnything());
    QCOMPARE(drainData(p, &last), QByteArrayLiteral("hi"));
    QCOMPARE(last, ResponseParser::EventType::EndOfMessage);
    QVERIFY(p.trailers().isEmpty());
    QCOMPARE(p.framing(), ResponseParser::Framing::ContentLength);
}

void TestResponseParserKeepAlive::methodChangesBetweenCycles()
{
    ResponseParser p;
    p.setRequestMethod("GET");
    p.receiveData(QByteArrayLiteral("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
                                    "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                                    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"));
    ResponseParser::EventType last;
    QCOMPARE(drainData(p, &last), QByteArrayLiteral("hi"));
    QCOMPARE(last, ResponseParser::EventType::EndOfMessage);

    QVERIFY(p.startNextCycle());
    p.setRequestMethod("HEAD");
    QCOMPARE(drainData(p, &last), QByteArray());
    QCOMPARE(last, ResponseParser::EventType::EndOfMessage);
    QCOMPARE(p.head().headers.value("Content-Length"), QByteArrayView("100"));

    QVERIFY(p.startNextCycle());
    p.setRequestMethod("GET");
    QCOMPARE(drainData(p, &last), QByteArrayLiteral("abc"));
    QCOMPARE(last, ResponseParser::EventType::EndOfMessage);
    QVERIFY(p.unconsumed().isEmpty());
}

// The pool tells a stale connection from a broken response by this error: a server closing an
// idle keep-alive connection must read as ClosedBeforeResponse, not as a truncated response.
void TestResponseParserKeepAlive::idleConnectionClosedBeforeNextResponse()
{
    ResponseParser p;
    p.receiveData(QByteArrayLiteral("HTTP/1.1 204 No Content\r\n\r\n"));
    ResponseParser::EventType last;
    drainData(p, &last);
    QCOMPARE(last, ResponseParser::EventType::EndOfMessage);
    QVERIFY(p.startNextCycle());
    p.receiveEof();
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Error);
    QCOMPARE(p.error(), ParseError::ClosedBeforeResponse);
    QVERIFY(!p.hasReceivedAnything());
}

// The QByteArray overload may keep a reference to the caller's buffer instead of copying it;
// implicit sharing must then protect it from the caller's later writes.
void TestResponseParserKeepAlive::sharedInputIsNotAliased()
{
    ResponseParser p;
    QByteArray buffer = QByteArrayLiteral("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    p.receiveData(buffer);
    buffer.fill('X');
    buffer.clear();
    ResponseParser::EventType last;
    QCOMPARE(drainData(p, &last), QByteArrayLiteral("hello"));
    QCOMPARE(last, ResponseParser::EventType::EndOfMessage);
    QCOMPARE(p.head().status, 200);
}

void TestResponseParserKeepAlive::errorIsFinal()
{
    ResponseParser p;
    p.receiveData(QByteArrayLiteral("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"));
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Error);
    QCOMPARE(p.error(), ParseError::BadContentLength);
    QVERIFY(!p.errorMessage().isEmpty());
    const QString message = p.errorMessage();
    for (int i = 0; i < 5; ++i)
        QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Error);
    p.receiveData(QByteArrayLiteral("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    p.receiveEof();
    QCOMPARE(p.nextEvent().type, ResponseParser::EventType::Error);
    QCOMPARE(p.error(), ParseError::BadContentLength);
    QCOMPARE(p.errorMessage(), message);
    QCOMPARE(p.state(), ResponseParser::State::Failed);
    QVERIFY(!Reqivo::Protocol::parseErrorName(ParseError::BadContentLength).isEmpty());
}

// Logs and the client's messages show these names; two errors must never read alike.
void TestResponseParserKeepAlive::errorNamesAreDistinct()
{
    QSet<QString> seen;
    for (int e = int(ParseError::None); e <= int(ParseError::UnrequestedUpgrade); ++e) {
        const QString name = Reqivo::Protocol::parseErrorName(ParseError(e));
        QVERIFY2(!name.isEmpty() || e == int(ParseError::None), qPrintable(QString::number(e)));
        QVERIFY2(!seen.contains(name), qPrintable(name));
        seen.insert(name);
    }
}

QTEST_GUILESS_MAIN(TestResponseParserKeepAlive)
#include "tst_responseparser_keepalive.moc"
