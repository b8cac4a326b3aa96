// RequestWriter: the exact bytes of a request head and of chunked bodies, and, above all, what
// it refuses. A method, target or field that could end a line early or smuggle a second
// message (RFC 9112 §11.2, request smuggling; RFC 9110 §5.5, CR/LF/NUL in values) must be
// rejected before a byte is written: the output is compared with its previous content, not
// just checked for the offending bytes.
#include "protocol/requestwriter.h"

#include <QTest>

#include <cstddef>

using Reqivo::Headers;
using Reqivo::Protocol::RequestWriter;
using Framing = RequestWriter::BodyFraming;

Q_DECLARE_METATYPE(RequestWriter::BodyFraming)

namespace {
//! Bytes of a string literal, embedded NULs included.
template<std::size_t N>
QByteArray bytes(const char (&s)[N])
{
    return QByteArray(s, qsizetype(N - 1));
}

Headers fields(std::initializer_list<std::pair<QByteArray, QByteArray>> list)
{
    Headers h;
    for (const auto &[name, value] : list)
        h.add(name, value);
    return h;
}
} // namespace

class TestRequestWriter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void writeHead_data();
    void writeHead();
    void emptyFieldValue();
    void rejections_data();
    void rejections();
    void appendChunk_data();
    void appendChunk();
    void appendLastChunk();
    void invalidTrailersAppendNothing_data();
    void invalidTrailersAppendNothing();
    void isToken_data();
    void isToken();
    void isValidFieldValue_data();
    void isValidFieldValue();
    void isValidTarget_data();
    void isValidTarget();
};

void TestRequestWriter::writeHead_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<Headers>("headers");
    QTest::addColumn<Framing>("framing");
    QTest::addColumn<qint64>("contentLength");
    QTest::addColumn<QByteArray>("expected");

    const Headers host = fields({{"Host", "example.com"}});
    QTest::newRow("GET with two fields")
        << QByteArray("GET") << QByteArray("/")
        << fields({{"Host", "example.com"}, {"Accept", "*/*"}}) << Framing::None << qint64(-1)
        << QByteArray("GET / HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
    QTest::newRow("GET without fields")
        << QByteArray("GET") << QByteArray("/x?y=1") << Headers() << Framing::None << qint64(-1)
        << QByteArray("GET /x?y=1 HTTP/1.1\r\n\r\n");
    QTest::newRow("POST with Content-Length")
        << QByteArray("POST") << QByteArray("/submit")
        << fields({{"Host", "h"}, {"Content-Type", "text/plain"}}) << Framing::ContentLength
        << qint64(5)
        << QByteArray("POST /submit HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\n"
                      "Content-Length: 5\r\n\r\n");
    QTest::newRow("POST with an empty body says so")
        << QByteArray("POST") << QByteArray("/") << host << Framing::ContentLength << qint64(0)
        << QByteArray("POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\r\n");
    QTest::newRow("length beyond 32 bits")
        << QByteArray("PUT") << QByteArray("/big") << host << Framing::ContentLength
        << qint64(1234567890123)
        << QByteArray(
               "PUT /big HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1234567890123\r\n\r\n");
    QTest::newRow("PUT chunked")
        << QByteArray("PUT") << QByteArray("/upload") << host << Framing::Chunked << qint64(-1)
        << QByteArray(
               "PUT /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n");
    QTest::newRow("no framing ignores the length argument")
        << QByteArray("DELETE") << QByteArray("/item/1") << host << Framing::None << qint64(99)
        << QByteArray("DELETE /item/1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
    QTest::newRow("OPTIONS asterisk-form")
        << QByteArray("OPTIONS") << QByteArray("*") << host << Framing::None << qint64(-1)
        << QByteArray("OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n");
    QTest::newRow("CONNECT authority-form")
        << QByteArray("CONNECT") << QByteArray("example.com:443")
        << fields({{"Host", "example.com:443"}}) << Framing::None << qint64(-1)
        << QByteArray("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    QTest::newRow("absolute-form through a proxy")
        << QByteArray("GET") << QByteArray("http://example.com/a?b=c%20d") << host << Framing::None
        << qint64(-1)
        << QByteArray("GET http://example.com/a?b=c%20d HTTP/1.1\r\nHost: example.com\r\n\r\n");
    QTest::newRow("extension method")
        << QByteArray("M-SEARCH") << QByteArray("*") << Headers() << Framing::None << qint64(-1)
        << QByteArray("M-SEARCH * HTTP/1.1\r\n\r\n");
    QTest::newRow("duplicates kept in order")
        << QByteArray("GET") << QByteArray("/")
        << fields({{"Accept", "a/b"}, {"X-Other", "1"}, {"accept", "c/d"}}) << Framing::None
        << qint64(-1)
        << QByteArray("GET / HTTP/1.1\r\nAccept: a/b\r\nX-Other: 1\r\naccept: c/d\r\n\r\n");
    QTest::newRow("tab and obs-text inside values")
        << QByteArray("GET") << QByteArray("/") << fields({{"X-A", "a\tb"}, {"X-B", "caf\xe9"}})
        << Framing::None << qint64(-1)
        << QByteArray("GET / HTTP/1.1\r\nX-A: a\tb\r\nX-B: caf\xe9\r\n\r\n");
}

void TestRequestWriter::writeHead()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(Headers, headers);
    QFETCH(Framing, framing);
    QFETCH(qint64, contentLength);
    QFETCH(QByteArray, expected);

    QByteArray out = QByteArrayLiteral("earlier bytes|");
    QString error;
    QVERIFY2(RequestWriter::writeHead(out, method, target, headers, framing, contentLength, &error),
        qPrintable(error));
    QCOMPARE(out, QByteArrayLiteral("earlier bytes|") + expected);
    QVERIFY(error.isEmpty());
}

// RFC 9110 §5.5: a field value may be empty. Whether a SP follows the colon is the writer's
// choice; both spellings mean the same field.
void TestRequestWriter::emptyFieldValue()
{
    QByteArray out;
    QString error;
    QVERIFY(RequestWriter::writeHead(
        out, "GET", "/", fields({{"X-Empty", ""}}), Framing::None, -1, &error));
    QVERIFY2(
        out == "GET / HTTP/1.1\r\nX-Empty:\r\n\r\n" || out == "GET / HTTP/1.1\r\nX-Empty: \r\n\r\n",
        out.constData());
}

void TestRequestWriter::rejections_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<Headers>("headers");
    QTest::addColumn<Framing>("framing");
    QTest::addColumn<qint64>("contentLength");
    QTest::addColumn<QString>("mentions");

    const auto row = [](const char *name, const QByteArray &method, const QByteArray &target,
                         const Headers &headers, const char *mentions,
                         Framing framing = Framing::None, qint64 length = -1) {
        QTest::newRow(name) << method << target << headers << framing << length
                            << QString::fromLatin1(mentions);
    };
    const Headers ok = fields({{"Host", "h"}});
    row("method with a space", "GE T", "/", ok, "method");
    row("empty method", "", "/", ok, "method");
    row("method with CRLF", "GET\r\n", "/", ok, "method");
    row("method with a separator", "G(ET", "/", ok, "method");
    row("method with a slash", "GET/1.1", "/", ok, "method");
    row("non-ASCII method", "G\xc3\x89T", "/", ok, "method");
    row("empty target", "GET", "", ok, "target");
    row("space in target", "GET", "/a b", ok, "target");
    row("tab in target", "GET", "/a\tb", ok, "target");
    row("CRLF in target", "GET", "/a\r\nX-Injected: 1", ok, "target");
    row("NUL in target", "GET", bytes("/a\0b"), ok, "target");
    row("DEL in target", "GET", "/a\x7f", ok, "target");
    row("non-ASCII in target", "GET", "/caf\xc3\xa9", ok, "target");
    row("space in a name", "GET", "/", fields({{"Bad Name", "x"}}), "name");
    row("colon in a name", "GET", "/", fields({{"x:y", "z"}}), "name");
    row("empty name", "GET", "/", fields({{"", "z"}}), "name");
    row("CRLF in a name", "GET", "/", fields({{"X\r\nInjected", "1"}}), "name");
    row("NUL in a name", "GET", "/", fields({{bytes("X\0Y"), "1"}}), "name");
    row("non-ASCII name", "GET", "/", fields({{"N\xc3\xa4me", "1"}}), "name");
    row("CRLF in a value", "GET", "/", fields({{"X-Evil", "a\r\nInjected: 1"}}), "value");
    row("LF in a value", "GET", "/", fields({{"X-Evil", "a\nb"}}), "value");
    row("CR in a value", "GET", "/", fields({{"X-Evil", "a\rb"}}), "value");
    row("NUL in a value", "GET", "/", fields({{"X-Evil", bytes("a\0b")}}), "value");
    row("control in a value", "GET", "/", fields({{"X-Evil", "a\x01z"}}), "value");
    row("DEL in a value", "GET", "/", fields({{"X-Evil", "a\x7f"}}), "value");
    row("leading space in a value", "GET", "/", fields({{"X-Evil", " a"}}), "value");
    row("trailing tab in a value", "GET", "/", fields({{"X-Evil", "a\t"}}), "value");
    row("bad field after good ones", "GET", "/",
        fields({{"Host", "h"}, {"Accept", "*/*"}, {"X-Evil", "a\r\n"}}), "value");
    row("user Content-Length", "POST", "/", fields({{"Content-Length", "5"}}), "Content-Length",
        Framing::ContentLength, 5);
    row("user content-length in lower case", "POST", "/", fields({{"content-length", "5"}}),
        "Content-Length");
    row("user Transfer-Encoding", "POST", "/", fields({{"Transfer-Encoding", "chunked"}}),
        "Transfer-Encoding", Framing::Chunked);
    row("negative Content-Length", "POST", "/", ok, "length", Framing::ContentLength, -1);
}

void TestRequestWriter::rejections()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, target);
    QFETCH(Headers, headers);
    QFETCH(Framing, framing);
    QFETCH(qint64, contentLength);
    QFETCH(QString, mentions);

    const QByteArray before = QByteArrayLiteral("GET /previous HTTP/1.1\r\n\r\n");
    QByteArray out = before;
    QString error;
    QVERIFY(
        !RequestWriter::writeHead(out, method, target, headers, framing, contentLength, &error));
    QCOMPARE(out, before);
    QVERIFY2(error.contains(mentions, Qt::CaseInsensitive),
        qPrintable(QStringLiteral("message \"%1\" should mention %2").arg(error, mentions)));

    // Without somewhere to put the message the request is refused all the same.
    QVERIFY(
        !RequestWriter::writeHead(out, method, target, headers, framing, contentLength, nullptr));
    QCOMPARE(out, before);
}

void TestRequestWriter::appendChunk_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QByteArray>("sizeLine");

    QTest::newRow("five bytes") << QByteArray("hello") << QByteArray("5");
    QTest::newRow("one byte") << QByteArray("x") << QByteArray("1");
    QTest::newRow("sixteen bytes") << QByteArray(16, 'a') << QByteArray("10");
    QTest::newRow("twenty-six bytes") << QByteArray(26, 'b') << QByteArray("1a");
    QTest::newRow("one MiB") << QByteArray(1 << 20, 'c') << QByteArray("100000");
    QTest::newRow("binary with CRLF and NUL") << bytes("\r\n\0\r\n") << QByteArray("5");
}

void TestRequestWriter::appendChunk()
{
    QFETCH(QByteArray, data);
    QFETCH(QByteArray, sizeLine);

    QByteArray out = QByteArrayLiteral("prefix|");
    RequestWriter::appendChunk(out, data);
    QVERIFY(out.startsWith("prefix|"));
    const QByteArray chunk = out.sliced(7);
    const qsizetype lineEnd = chunk.indexOf("\r\n");
    QVERIFY(lineEnd > 0);
    // Hex digits may be written in either case (RFC 9112 §7.1: HEXDIG is case-insensitive).
    QCOMPARE(chunk.first(lineEnd).toLower(), sizeLine);
    QCOMPARE(chunk.sliced(lineEnd + 2), data + "\r\n");
}

void TestRequestWriter::appendLastChunk()
{
    QByteArray out = QByteArrayLiteral("5\r\nhello\r\n");
    RequestWriter::appendChunk(out, QByteArrayView());
    QCOMPARE(out, QByteArrayLiteral("5\r\nhello\r\n")); // an empty chunk would end the body

    QVERIFY(RequestWriter::appendLastChunk(out));
    QCOMPARE(out, QByteArrayLiteral("5\r\nhello\r\n0\r\n\r\n"));

    QByteArray withTrailers;
    QString error;
    QVERIFY(RequestWriter::appendLastChunk(
        withTrailers, fields({{"X-Checksum", "abc"}, {"X-Count", "2"}}), &error));
    QCOMPARE(withTrailers, QByteArrayLiteral("0\r\nX-Checksum: abc\r\nX-Count: 2\r\n\r\n"));
    QVERIFY(error.isEmpty());
}

void TestRequestWriter::invalidTrailersAppendNothing_data()
{
    QTest::addColumn<Headers>("trailers");
    QTest::newRow("bad name") << fields({{"Bad Name", "1"}});
    QTest::newRow("CRLF in a name") << fields({{"X\r\n", "1"}});
    QTest::newRow("empty name") << fields({{"", "1"}});
    QTest::newRow("CRLF in a value") << fields({{"X-Sum", "1\r\n\r\nGET / HTTP/1.1"}});
    QTest::newRow("bad field after a good one") << fields({{"X-Ok", "1"}, {"X-Sum", bytes("\0")}});
}

void TestRequestWriter::invalidTrailersAppendNothing()
{
    QFETCH(Headers, trailers);
    QByteArray out = QByteArrayLiteral("5\r\nhello\r\n");
    QString error;
    QVERIFY(!RequestWriter::appendLastChunk(out, trailers, &error));
    QCOMPARE(out, QByteArrayLiteral("5\r\nhello\r\n"));
    QVERIFY(!error.isEmpty());
    QVERIFY(!RequestWriter::appendLastChunk(out, trailers, nullptr));
    QCOMPARE(out, QByteArrayLiteral("5\r\nhello\r\n"));
}

void TestRequestWriter::isToken_data()
{
    QTest::addColumn<QByteArray>("s");
    QTest::addColumn<bool>("valid");
    QTest::newRow("GET") << QByteArray("GET") << true;
    QTest::newRow("every tchar") << QByteArray("!#$%&'*+-.^_`|~09azAZ") << true;
    QTest::newRow("empty") << QByteArray() << false;
    QTest::newRow("space") << QByteArray("a b") << false;
    QTest::newRow("colon") << QByteArray("x:y") << false;
    QTest::newRow("slash") << QByteArray("a/b") << false;
    QTest::newRow("braces") << QByteArray("a{}") << false;
    QTest::newRow("quote") << QByteArray("a\"b") << false;
    QTest::newRow("DEL") << QByteArray("a\x7f") << false;
    QTest::newRow("NUL") << bytes("a\0") << false;
    QTest::newRow("UTF-8") << QByteArray("\xc3\xa9") << false;
}

void TestRequestWriter::isToken()
{
    QFETCH(QByteArray, s);
    QFETCH(bool, valid);
    QCOMPARE(RequestWriter::isToken(s), valid);
}

void TestRequestWriter::isValidFieldValue_data()
{
    QTest::addColumn<QByteArray>("s");
    QTest::addColumn<bool>("valid");
    QTest::newRow("empty") << QByteArray() << true;
    QTest::newRow("words") << QByteArray("text/html; charset=utf-8") << true;
    QTest::newRow("inner tab") << QByteArray("a\tb") << true;
    QTest::newRow("obs-text") << QByteArray("caf\xe9") << true;
    QTest::newRow("leading space") << QByteArray(" a") << false;
    QTest::newRow("trailing space") << QByteArray("a ") << false;
    QTest::newRow("leading tab") << QByteArray("\ta") << false;
    QTest::newRow("CR") << QByteArray("a\rb") << false;
    QTest::newRow("LF") << QByteArray("a\nb") << false;
    QTest::newRow("NUL") << bytes("a\0b") << false;
    QTest::newRow("SOH") << QByteArray("a\x01") << false;
    QTest::newRow("DEL") << QByteArray("a\x7f") << false;
}

void TestRequestWriter::isValidFieldValue()
{
    QFETCH(QByteArray, s);
    QFETCH(bool, valid);
    QCOMPARE(RequestWriter::isValidFieldValue(s), valid);
}

void TestRequestWriter::isValidTarget_data()
{
    QTest::addColumn<QByteArray>("s");
    QTest::addColumn<bool>("valid");
    QTest::newRow("root") << QByteArray("/") << true;
    QTest::newRow("path and query") << QByteArray("/a/b?c=d&e=%20") << true;
    QTest::newRow("asterisk") << QByteArray("*") << true;
    QTest::newRow("absolute") << QByteArray("http://example.com:8080/p") << true;
    QTest::newRow("authority") << QByteArray("example.com:443") << true;
    QTest::newRow("empty") << QByteArray() << false;
    QTest::newRow("space") << QByteArray("/a b") << false;
    QTest::newRow("tab") << QByteArray("/a\tb") << false;
    QTest::newRow("CRLF") << QByteArray("/\r\n") << false;
    QTest::newRow("NUL") << bytes("/\0") << false;
    QTest::newRow("DEL") << QByteArray("/\x7f") << false;
    QTest::newRow("non-ASCII") << QByteArray("/\x80") << false;
}

void TestRequestWriter::isValidTarget()
{
    QFETCH(QByteArray, s);
    QFETCH(bool, valid);
    QCOMPARE(RequestWriter::isValidTarget(s), valid);
}

QTEST_GUILESS_MAIN(TestRequestWriter)
#include "tst_requestwriter.moc"
