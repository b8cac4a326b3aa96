// Reqivo::Body: what each factory sends (bytes, content type, length) and whether it can be
// sent twice. Forms follow the application/x-www-form-urlencoded serializer: UTF-8, spaces as
// '+', everything outside the RFC 3986 unreserved set percent-encoded.
#include <Reqivo/body.h>

#include <QBuffer>
#include <QJsonArray>
#include <QJsonObject>
#include <QTest>

#include <QCoro/QCoroTask>

#include <memory>

using Reqivo::Body;

namespace {

// A device that refuses to seek, like a socket or a pipe.
class SequentialBuffer : public QBuffer
{
public:
    using QBuffer::QBuffer;
    bool isSequential() const override { return true; }
};

QCoro::Task<> collect(Body::Generator generator, QList<QByteArray> *out)
{
    QCORO_FOREACH(const QByteArray &chunk, generator)
    {
        out->append(chunk);
    }
}

Body::Generator countTo(int n)
{
    for (int i = 1; i <= n; ++i)
        co_yield QByteArray::number(i);
}

} // namespace

class TestBody : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void empty();
    void bytes();
    void text_data();
    void text();
    void json_data();
    void json();
    void form_data();
    void form();
    void formFromQuery_data();
    void formFromQuery();
    void device_data();
    void device();
    void sequentialDevice();
    void destroyedDevice();
    void nullDevice();
    void generator();
};

void TestBody::empty()
{
    const Body body;
    QCOMPARE(body.kind(), Body::Kind::Empty);
    QVERIFY(body.isEmpty());
    QCOMPARE(body.size(), 0);
    QVERIFY(body.contentType().isEmpty());
    QVERIFY(body.isReplayable());
}

void TestBody::bytes()
{
    const Body body = Body::fromBytes(QByteArray("\x00\x01\x02", 3), "application/x-thing");
    QCOMPARE(body.kind(), Body::Kind::Bytes);
    QCOMPARE(body.size(), 3);
    QCOMPARE(body.bytes(), QByteArray("\x00\x01\x02", 3));
    QCOMPARE(body.contentType(), QByteArray("application/x-thing"));
    QVERIFY(body.isReplayable());
    QVERIFY(!body.isEmpty());

    const Body plain = Body::fromBytes(QByteArray());
    QCOMPARE(plain.kind(), Body::Kind::Bytes); // an explicit empty payload still has a type
    QCOMPARE(plain.size(), 0);
    QCOMPARE(plain.contentType(), QByteArray("application/octet-stream"));
}

void TestBody::text_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QByteArray>("utf8");
    QTest::newRow("ASCII") << QStringLiteral("hello") << QByteArray("hello");
    QTest::newRow("Latin-1 range encoded as UTF-8")
        << QStringLiteral("caf\u00e9") << QByteArray("caf\xc3\xa9");
    QTest::newRow("BMP beyond Latin-1")
        << QStringLiteral("\u20ac5") << QByteArray("\xe2\x82\xac\x35");
    QTest::newRow("astral plane (surrogate pair)")
        << QString::fromUtf8("\xf0\x9f\x98\x80") << QByteArray("\xf0\x9f\x98\x80");
    QTest::newRow("empty") << QString() << QByteArray();
}

void TestBody::text()
{
    QFETCH(QString, text);
    QFETCH(QByteArray, utf8);
    const Body body = Body::fromText(text);
    QCOMPARE(body.kind(), Body::Kind::Bytes);
    QCOMPARE(body.bytes(), utf8);
    QCOMPARE(body.size(), utf8.size());
    QCOMPARE(body.contentType(), QByteArray("text/plain; charset=utf-8"));
    QVERIFY(body.isReplayable());
    QCOMPARE(Body::fromText(text, "text/csv").contentType(), QByteArray("text/csv"));
}

void TestBody::json_data()
{
    QTest::addColumn<int>("form"); // 0 document, 1 object, 2 array
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("document") << 0 << QByteArray(R"({"a":1,"b":[true,null]})");
    QTest::newRow("object") << 1 << QByteArray(R"({"a":1,"b":[true,null]})");
    QTest::newRow("array") << 2 << QByteArray(R"([1,"two",{"x":"\u00e9"}])");
}

void TestBody::json()
{
    QFETCH(int, form);
    QFETCH(QByteArray, expected);
    const QJsonObject object {
        {QStringLiteral("a"), 1}, {QStringLiteral("b"), QJsonArray {true, QJsonValue::Null}}};
    const QJsonArray array {
        1, QStringLiteral("two"), QJsonObject {{QStringLiteral("x"), QStringLiteral("\u00e9")}}};
    Body body;
    switch (form) {
    case 0:
        body = Body::fromJson(QJsonDocument(object));
        break;
    case 1:
        body = Body::fromJson(object);
        break;
    default:
        body = Body::fromJson(array);
        break;
    }
    QCOMPARE(body.contentType(), QByteArray("application/json"));
    // Compact: no whitespace at all; non-ASCII stays UTF-8.
    QCOMPARE(body.bytes(), QJsonDocument::fromJson(expected).toJson(QJsonDocument::Compact));
    QVERIFY(!body.bytes().contains(' ') && !body.bytes().contains('\n'));
    QCOMPARE(body.size(), body.bytes().size());
    QVERIFY(body.isReplayable());
}

using Fields = QList<std::pair<QString, QString>>;

void TestBody::form_data()
{
    QTest::addColumn<Fields>("fields");
    QTest::addColumn<QByteArray>("expected");
    auto row = [](const char *name, Fields fields, const char *expected) {
        QTest::newRow(name) << fields << QByteArray(expected);
    };
    const auto s = [](const char *utf8) { return QString::fromUtf8(utf8); };
    row("no fields", {}, "");
    row("one field", {{s("a"), s("1")}}, "a=1");
    row("fields kept in order", {{s("b"), s("2")}, {s("a"), s("1")}}, "b=2&a=1");
    row("duplicate names kept", {{s("a"), s("1")}, {s("a"), s("2")}}, "a=1&a=2");
    row("space becomes plus", {{s("q"), s("hello world")}}, "q=hello+world");
    row("space in name", {{s("first name"), s("x")}}, "first+name=x");
    row("literal plus encoded", {{s("sum"), s("1+1")}}, "sum=1%2B1");
    row("separators encoded", {{s("a&b=c"), s("d&e=f")}}, "a%26b%3Dc=d%26e%3Df");
    row("percent encoded", {{s("p"), s("100%")}}, "p=100%25");
    row("already-encoded text encoded again", {{s("p"), s("%20")}}, "p=%2520");
    row("unreserved kept", {{s("AZaz09"), s("-._~")}}, "AZaz09=-._~");
    row("sub-delims encoded", {{s("x"), s("!$'()*,;")}}, "x=%21%24%27%28%29%2A%2C%3B");
    row("gen-delims encoded", {{s("x"), s(":/?#[]@")}}, "x=%3A%2F%3F%23%5B%5D%40");
    row("line breaks encoded", {{s("x"), s("a\r\nb")}}, "x=a%0D%0Ab");
    row("UTF-8 two-byte", {{s("caf\xc3\xa9"), s("cr\xc3\xa8me")}}, "caf%C3%A9=cr%C3%A8me");
    row("UTF-8 four-byte", {{s("e"), s("\xf0\x9f\x98\x80")}}, "e=%F0%9F%98%80");
    row("empty value", {{s("a"), QString()}}, "a=");
    row("empty name", {{QString(), s("x")}}, "=x");
}

void TestBody::form()
{
    QFETCH(Fields, fields);
    QFETCH(QByteArray, expected);
    const Body body = Body::fromForm(fields);
    QCOMPARE(body.bytes(), expected);
    QCOMPARE(body.size(), expected.size());
    QCOMPARE(body.contentType(), QByteArray("application/x-www-form-urlencoded"));
    QVERIFY(body.isReplayable());
}

void TestBody::formFromQuery_data()
{
    QTest::addColumn<QUrlQuery>("query");
    QTest::addColumn<QByteArray>("expected");
    QUrlQuery simple;
    simple.addQueryItem(QStringLiteral("a"), QStringLiteral("1"));
    simple.addQueryItem(QStringLiteral("b"), QStringLiteral("x y"));
    QTest::newRow("items in order, space as plus") << simple << QByteArray("a=1&b=x+y");

    QUrlQuery delimiters;
    delimiters.addQueryItem(QStringLiteral("k&"), QStringLiteral("v=w"));
    QTest::newRow("delimiters inside items encoded") << delimiters << QByteArray("k%26=v%3Dw");

    // QUrlQuery keeps '+' literal (it is not a space there), so it is sent as %2B.
    QUrlQuery plus(QStringLiteral("a=1+2&b=%C3%A9"));
    QTest::newRow("parsed query: plus literal, UTF-8 decoded then re-encoded")
        << plus << QByteArray("a=1%2B2&b=%C3%A9");
    QTest::newRow("empty query") << QUrlQuery() << QByteArray();
}

void TestBody::formFromQuery()
{
    QFETCH(QUrlQuery, query);
    QFETCH(QByteArray, expected);
    const Body body = Body::fromForm(query);
    QCOMPARE(body.bytes(), expected);
    QCOMPARE(body.contentType(), QByteArray("application/x-www-form-urlencoded"));
}

void TestBody::device_data()
{
    QTest::addColumn<qint64>("startPos");
    QTest::addColumn<qint64>("givenSize");
    QTest::addColumn<qint64>("expectedSize");
    // The buffer holds 10 bytes.
    QTest::newRow("from the start, size from the device") << 0LL << -1LL << 10LL;
    QTest::newRow("from the middle, size is what remains") << 4LL << -1LL << 6LL;
    QTest::newRow("at the end, nothing remains") << 10LL << -1LL << 0LL;
    QTest::newRow("explicit size wins") << 0LL << 3LL << 3LL;
    QTest::newRow("explicit zero size") << 2LL << 0LL << 0LL;
}

void TestBody::device()
{
    QFETCH(qint64, startPos);
    QFETCH(qint64, givenSize);
    QFETCH(qint64, expectedSize);
    QByteArray data("0123456789");
    QBuffer buffer(&data);
    QVERIFY(buffer.open(QIODevice::ReadOnly));
    QVERIFY(buffer.seek(startPos));
    const Body body = Body::fromDevice(&buffer, givenSize, "text/plain");
    QCOMPARE(body.kind(), Body::Kind::Device);
    QCOMPARE(body.device(), &buffer);
    QCOMPARE(body.size(), expectedSize);
    QCOMPARE(body.devicePosition(), startPos);
    QCOMPARE(body.contentType(), QByteArray("text/plain"));
    QVERIFY(body.isReplayable()); // random-access: rewound to devicePosition() for a resend
    QCOMPARE(buffer.pos(), startPos); // making the body does not read or move the device
}

void TestBody::sequentialDevice()
{
    SequentialBuffer buffer;
    buffer.setData("streamed");
    QVERIFY(buffer.open(QIODevice::ReadOnly));
    const Body body = Body::fromDevice(&buffer);
    QCOMPARE(body.kind(), Body::Kind::Device);
    QCOMPARE(body.size(), -1); // unknown: sent chunked
    QVERIFY(!body.isReplayable());
    QCOMPARE(body.contentType(), QByteArray("application/octet-stream"));

    const Body sized = Body::fromDevice(&buffer, 8);
    QCOMPARE(sized.size(), 8); // a known length: sent with Content-Length, still not replayable
    QVERIFY(!sized.isReplayable());
}

void TestBody::destroyedDevice()
{
    auto buffer = std::make_unique<QBuffer>();
    QVERIFY(buffer->open(QIODevice::ReadOnly));
    const Body body = Body::fromDevice(buffer.get());
    QVERIFY(body.isReplayable());
    buffer.reset();
    QCOMPARE(body.device(), nullptr);
    QVERIFY(!body.isReplayable());
}

void TestBody::nullDevice()
{
    const Body body = Body::fromDevice(nullptr);
    QCOMPARE(body.kind(), Body::Kind::Empty);
    QCOMPARE(body.size(), 0);
}

void TestBody::generator()
{
    int calls = 0;
    const Body body = Body::fromGenerator(
        [&calls] {
            ++calls;
            return countTo(3);
        },
        "text/event-stream");
    QCOMPARE(body.kind(), Body::Kind::Generator);
    QCOMPARE(body.size(), -1);
    QVERIFY(!body.isReplayable());
    QCOMPARE(body.contentType(), QByteArray("text/event-stream"));
    QCOMPARE(calls, 0); // nothing runs until the body is sent

    // The generator never suspends, so the (eager) task runs to completion right here.
    QList<QByteArray> chunks;
    auto task = collect(body.generatorFactory()(), &chunks);
    QVERIFY(task.isReady());
    QCOMPARE(calls, 1);
    QCOMPARE(chunks, (QList<QByteArray> {"1", "2", "3"}));

    QCOMPARE(Body::fromGenerator({}).kind(), Body::Kind::Empty);
}

QTEST_GUILESS_MAIN(TestBody)
#include "tst_body.moc"
