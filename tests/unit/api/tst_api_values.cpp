// The value API a Qt developer reaches for first: owning header accessors beside the view-based
// Headers::value(), "absent" as std::nullopt, JSON without exceptions (as QRestReply::readJson),
// and a fluent RequestOptions setter for every field. No network: Responses are built by hand,
// as a response hook would.
#include <Reqivo/RequestOptions>
#include <Reqivo/Response>

#include <QJsonArray>
#include <QJsonObject>
#include <QTest>

#include <optional>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using Reqivo::Credentials;
using Reqivo::Headers;
using Reqivo::RequestOptions;
using Reqivo::Response;

Q_DECLARE_METATYPE(std::optional<QByteArray>)
Q_DECLARE_METATYPE(Reqivo::Credentials)

namespace {

Response responseWith(const Headers &headers, const QByteArray &body = {})
{
    Response r;
    r.setStatus(200, "OK");
    r.setHeaders(headers);
    r.setBody(body);
    return r;
}

} // namespace

class TestApiValues : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // --- Headers::get ---------------------------------------------------------------------------
    void headersGet_data()
    {
        QTest::addColumn<Headers>("headers");
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<std::optional<QByteArray>>("expected");
        const Headers h {{"Content-Type", "text/plain"}, {"X-Empty", ""}, {"Set-Cookie", "a=1"},
            {"Set-Cookie", "b=2"}};
        QTest::newRow("present") << h << QByteArray("Content-Type")
                                 << std::optional<QByteArray>("text/plain");
        QTest::newRow("case-insensitive")
            << h << QByteArray("content-TYPE") << std::optional<QByteArray>("text/plain");
        QTest::newRow("present, empty value")
            << h << QByteArray("X-Empty") << std::optional<QByteArray>(QByteArray());
        QTest::newRow("repeated: the first")
            << h << QByteArray("set-cookie") << std::optional<QByteArray>("a=1");
        QTest::newRow("absent") << h << QByteArray("ETag") << std::optional<QByteArray>();
        QTest::newRow("empty Headers")
            << Headers() << QByteArray("ETag") << std::optional<QByteArray>();
    }
    void headersGet()
    {
        QFETCH(Headers, headers);
        QFETCH(QByteArray, name);
        QFETCH(std::optional<QByteArray>, expected);
        const std::optional<QByteArray> got = headers.get(name);
        QCOMPARE(got.has_value(), expected.has_value());
        if (expected)
            QCOMPARE(*got, *expected);
    }

    void headersGetOwnsItsBytes()
    {
        std::optional<QByteArray> kept;
        {
            Headers h {{"ETag", "\"v1\""}};
            kept = h.get("etag");
            h.set("ETag", "\"v2-longer-than-before\""); // rewrites the arena
        } // and destroys it
        QCOMPARE(kept, std::optional<QByteArray>("\"v1\""));
    }

    // --- Response::header -----------------------------------------------------------------------
    void responseHeader()
    {
        const Response r = responseWith({{"Content-Type", "application/json"}, {"X-Empty", ""},
            {"Vary", "Accept"}, {"Vary", "Origin"}});
        QCOMPARE(r.header("content-type"), QByteArray("application/json"));
        QCOMPARE(r.header("Vary"), QByteArray("Accept")); // the first, like Headers::value()
        QVERIFY(r.header("X-Empty").isEmpty());
        QVERIFY(r.header("ETag").isEmpty()); // absent: empty (headers().get() tells them apart)
        QVERIFY(r.headers().get("X-Empty").has_value());
        QVERIFY(!r.headers().get("ETag").has_value());
    }

    void responseHeaderOnATemporary()
    {
        // The QNetworkReply::rawHeader() reflex: ask a temporary Response and keep the answer.
        // value() would hand out a view into the temporary's arena, dead at the ';'.
        const QByteArray type
            = responseWith({{"Content-Type", "text/html"}}).header("Content-Type");
        const std::optional<QByteArray> etag
            = responseWith({{"ETag", "\"abc\""}}).headers().get("ETag");
        QByteArray filler(4096, 'x'); // reuses the freed memory, if anything still pointed there
        QCOMPARE(type, QByteArray("text/html"));
        QCOMPARE(etag, std::optional<QByteArray>("\"abc\""));
        QVERIFY(!filler.isEmpty());
    }

    // --- Response::readJson ---------------------------------------------------------------------
    void readJson_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("valid");
        QTest::newRow("object") << QByteArray(R"({"name":"Ada"})") << true;
        QTest::newRow("array") << QByteArray("[1,2,3]") << true;
        QTest::newRow("html") << QByteArray("<html></html>") << false;
        QTest::newRow("cut short") << QByteArray(R"({"a":)") << false;
        QTest::newRow("trailing garbage") << QByteArray(R"({"a":1} x)") << false;
        QTest::newRow("empty body") << QByteArray() << false;
    }
    void readJson()
    {
        QFETCH(QByteArray, body);
        QFETCH(bool, valid);
        const Response r = responseWith({{"Content-Type", "application/json"}}, body);
        QJsonParseError reference;
        const QJsonDocument expected = QJsonDocument::fromJson(body, &reference);

        QJsonParseError parseError;
        parseError.error = QJsonParseError::MissingObject; // overwritten either way
        parseError.offset = -1;
        const std::optional<QJsonDocument> doc = r.readJson(&parseError);
        QCOMPARE(doc.has_value(), valid);
        QCOMPARE(parseError.error, reference.error); // Qt's own verdict, passed on
        QCOMPARE(parseError.offset, reference.offset);
        if (valid) {
            QCOMPARE(parseError.error, QJsonParseError::NoError);
            QCOMPARE(*doc, expected);
        } else {
            QVERIFY(parseError.error != QJsonParseError::NoError);
            // json(), the throwing twin, refuses the same bodies.
            QVERIFY_THROWS_EXCEPTION(Reqivo::InvalidResponseError, r.json());
        }
        // Without an error pointer: the same answer, and nothing thrown.
        QCOMPARE(r.readJson().has_value(), valid);
    }

    void readJsonOnANullResponse()
    {
        QJsonParseError e;
        QVERIFY(!Response().readJson(&e).has_value());
        QVERIFY(e.error != QJsonParseError::NoError);
    }

    // --- RequestOptions: one fluent setter per field
    // ----------------------------------------------
    void fluentSettersSetTheirField()
    {
        Reqivo::Limits limits;
        limits.maxBodyBytes = 1234;
        const Reqivo::Timeout timeout = Reqivo::Timeout::all(7s);
        QObject owner;
        const RequestOptions o = RequestOptions()
                                     .header("A", "1")
                                     .header("A", "2")
                                     .withBody(Reqivo::Body::fromText(u"hi"_s))
                                     .queryItem(u"page"_s, u"2"_s)
                                     .queryItem(u"page"_s, u"3"_s)
                                     .withTimeout(timeout)
                                     .withLimits(limits)
                                     .withFollowRedirects(false)
                                     .withMaxRedirects(3)
                                     .withDecompress(false)
                                     .streaming()
                                     .cancelWith(&owner)
                                     .bearerToken(u"t0k3n"_s);
        QCOMPARE(o.headers.values("a"), (QList<QByteArray> {"1", "2"}));
        QCOMPARE(o.body.bytes(), QByteArray("hi"));
        QCOMPARE(o.query.allQueryItemValues(u"page"_s), (QStringList {u"2"_s, u"3"_s}));
        QVERIFY(o.timeout.has_value());
        QCOMPARE(o.timeout->connect, timeout.connect);
        QCOMPARE(o.limits, std::optional<Reqivo::Limits>(limits));
        QCOMPARE(o.followRedirects, std::optional<bool>(false));
        QCOMPARE(o.maxRedirects, std::optional<int>(3));
        QCOMPARE(o.decompress, std::optional<bool>(false));
        QVERIFY(o.stream);
        QVERIFY(o.owner.has_value());
        QCOMPARE(o.owner->data(), &owner);
        QCOMPARE(o.credentials, std::optional<Credentials>(Credentials::bearer(u"t0k3n"_s)));
    }

    void fluentSettersReplace()
    {
        QUrlQuery query;
        query.addQueryItem(u"q"_s, u"a b"_s);
        RequestOptions o;
        o.header("Old", "x").queryItem(u"old"_s, u"1"_s);
        o.withHeaders(Headers {{"New", "y"}}).withQuery(query);
        QVERIFY(!o.headers.contains("Old"));
        QCOMPARE(o.headers.get("new"), std::optional<QByteArray>("y"));
        QVERIFY(!o.query.hasQueryItem(u"old"_s));
        QCOMPARE(o.query.queryItemValue(u"q"_s), u"a b"_s);
        // Booleans default to "on" when called without an argument.
        o.withFollowRedirects(false).withDecompress(false).streaming(false);
        o.withFollowRedirects().withDecompress();
        QCOMPARE(o.followRedirects, std::optional<bool>(true));
        QCOMPARE(o.decompress, std::optional<bool>(true));
        QVERIFY(!o.stream);
    }

    void credentialsSetters_data()
    {
        QTest::addColumn<int>("which");
        QTest::addColumn<Credentials>("expected");
        QTest::newRow("basicAuth") << 0 << Credentials::basic(u"ada"_s, u"s3cret"_s);
        QTest::newRow("bearerToken") << 1 << Credentials::bearer(u"abc.def"_s);
        QTest::newRow("withoutAuth") << 2 << Credentials::none();
        QTest::newRow("withCredentials") << 3 << Credentials::basic(u"u"_s, u""_s);
    }
    void credentialsSetters()
    {
        QFETCH(int, which);
        QFETCH(Credentials, expected);
        RequestOptions o;
        QVERIFY(!o.credentials.has_value()); // unset: the session's
        switch (which) {
        case 0:
            o.basicAuth(u"ada"_s, u"s3cret"_s);
            break;
        case 1:
            o.bearerToken(u"abc.def"_s);
            break;
        case 2:
            o.withoutAuth();
            break;
        default:
            o.withCredentials(Credentials::basic(u"u"_s, u""_s));
        }
        QCOMPARE(o.credentials, std::optional<Credentials>(expected));
        // The last setter wins.
        o.withoutAuth();
        QCOMPARE(o.credentials->scheme, Credentials::Scheme::None);
    }

    void settersReturnTheSameObject()
    {
        RequestOptions o;
        QObject owner;
        QCOMPARE(&o.header("a", "b"), &o);
        QCOMPARE(&o.withHeaders({}), &o);
        QCOMPARE(&o.withBody({}), &o);
        QCOMPARE(&o.queryItem(u"a"_s, u"b"_s), &o);
        QCOMPARE(&o.withQuery({}), &o);
        QCOMPARE(&o.withTimeout({}), &o);
        QCOMPARE(&o.withLimits({}), &o);
        QCOMPARE(&o.withFollowRedirects(), &o);
        QCOMPARE(&o.withMaxRedirects(1), &o);
        QCOMPARE(&o.withDecompress(), &o);
        QCOMPARE(&o.streaming(), &o);
        QCOMPARE(&o.cancelWith(&owner), &o);
        QCOMPARE(&o.withCredentials({}), &o);
        QCOMPARE(&o.basicAuth(u"a"_s, u"b"_s), &o);
        QCOMPARE(&o.bearerToken(u"t"_s), &o);
        QCOMPARE(&o.withoutAuth(), &o);
    }
};

QTEST_GUILESS_MAIN(TestApiValues)
#include "tst_api_values.moc"
