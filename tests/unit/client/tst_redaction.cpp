// Redaction (redaction.h, client/redaction_p.h): URLs, field values, whole heads and errors as
// data. That no secret reaches a log line or an error of a real run is tst_session_redaction.
#include "client/redaction_p.h"

#include <Reqivo/redaction.h>

#include <QTest>

using namespace Qt::Literals::StringLiterals;
using Reqivo::Error;

class TestRedaction : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaultNames()
    {
        QCOMPARE(Reqivo::defaultRedactedQueryNames(),
            (QStringList {u"token"_s, u"access_token"_s, u"refresh_token"_s, u"api_key"_s,
                u"apikey"_s, u"password"_s, u"secret"_s, u"signature"_s, u"sig"_s}));
        QCOMPARE(Reqivo::redactedMarker(), QByteArray("<redacted>"));
    }

    void urls_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QStringList>("names"); // empty: the defaults
        QTest::addColumn<QString>("expected");
        const QStringList defaults;
        QTest::newRow("nothing secret") << u"https://example.com/a/b?q=1&page=2#top"_s << defaults
                                        << u"https://example.com/a/b?q=1&page=2#top"_s;
        QTest::newRow("user info") << u"https://alice:s3cret@example.com/x"_s << defaults
                                   << u"https://<redacted>@example.com/x"_s;
        QTest::newRow("user only") << u"http://alice@example.com:8080/"_s << defaults
                                   << u"http://<redacted>@example.com:8080/"_s;
        QTest::newRow("token") << u"https://example.com/x?token=abc123&q=1"_s << defaults
                               << u"https://example.com/x?token=<redacted>&q=1"_s;
        QTest::newRow("every default name")
            << u"https://h/?token=1&access_token=2&refresh_token=3&api_key=4&apikey=5&password=6&"
               "secret=7&signature=8&sig=9&keep=10"_s
            << defaults
            << u"https://h/?token=<redacted>&access_token=<redacted>&refresh_token=<redacted>&"
               "api_key=<redacted>&apikey=<redacted>&password=<redacted>&secret=<redacted>&"
               "signature=<redacted>&sig=<redacted>&keep=10"_s;
        QTest::newRow("names are case-insensitive")
            << u"https://h/?API_KEY=abc&Token=def"_s << defaults
            << u"https://h/?API_KEY=<redacted>&Token=<redacted>"_s;
        QTest::newRow("a percent-encoded name")
            << u"https://h/?%74oken=abc"_s << defaults << u"https://h/?token=<redacted>"_s;
        QTest::newRow("repeated") << u"https://h/?sig=a&sig=b"_s << defaults
                                  << u"https://h/?sig=<redacted>&sig=<redacted>"_s;
        QTest::newRow("encoded value") << u"https://h/?token=a%26b%3Dc&x=1"_s << defaults
                                       << u"https://h/?token=<redacted>&x=1"_s;
        QTest::newRow("no value") << u"https://h/?token&token="_s << defaults
                                  << u"https://h/?token&token="_s;
        QTest::newRow("similar names are not secret")
            << u"https://h/?tokens=1&my_token=2&sigma=3"_s << defaults
            << u"https://h/?tokens=1&my_token=2&sigma=3"_s;
        QTest::newRow("fragment parameters")
            << u"https://h/cb#access_token=abc&state=1"_s << defaults
            << u"https://h/cb#access_token=<redacted>&state=1"_s;
        QTest::newRow("own names replace the defaults")
            << u"https://h/?token=1&session=2"_s << QStringList {u"Session"_s}
            << u"https://h/?token=1&session=<redacted>"_s;
        QTest::newRow("everything") << u"wss://u:p@h:9/ws?Token=t&x=1"_s << defaults
                                    << u"wss://<redacted>@h:9/ws?Token=<redacted>&x=1"_s;
    }
    void urls()
    {
        QFETCH(QString, url);
        QFETCH(QStringList, names);
        QFETCH(QString, expected);
        const QUrl parsed(url);
        QVERIFY(parsed.isValid());
        const QString shown
            = names.isEmpty() ? Reqivo::redactUrl(parsed) : Reqivo::redactUrl(parsed, names);
        QCOMPARE(shown, expected);
    }

    void fieldValues_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("Basic") << QByteArray("Authorization") << QByteArray("Basic dXNlcjpwYXNz")
                               << QByteArray("Basic <redacted>");
        QTest::newRow("Bearer") << QByteArray("authorization") << QByteArray("Bearer abc.def.ghi")
                                << QByteArray("Bearer <redacted>");
        QTest::newRow("Digest")
            << QByteArray("AUTHORIZATION")
            << QByteArray(R"(Digest username="u", realm="r", nonce="n", response="abc")")
            << QByteArray("Digest <redacted>");
        QTest::newRow("no scheme")
            << QByteArray("Authorization") << QByteArray("justatoken") << QByteArray("<redacted>");
        QTest::newRow("Proxy-Authorization")
            << QByteArray("Proxy-Authorization") << QByteArray("Basic cHJveHk6cHc=")
            << QByteArray("Basic <redacted>");
        QTest::newRow("Cookie") << QByteArray("Cookie") << QByteArray("sid=abc; theme=dark")
                                << QByteArray("sid=<redacted>; theme=<redacted>");
        QTest::newRow("Cookie without a name") << QByteArray("cookie") << QByteArray("lonely;a=1;;")
                                               << QByteArray("<redacted>; a=<redacted>");
        QTest::newRow("Set-Cookie")
            << QByteArray("Set-Cookie") << QByteArray("sid=abc; Path=/; HttpOnly; Secure")
            << QByteArray("sid=<redacted>; Path=/; HttpOnly; Secure");
        QTest::newRow("Set-Cookie, value only")
            << QByteArray("set-cookie") << QByteArray("sid=abc") << QByteArray("sid=<redacted>");
        QTest::newRow("Location") << QByteArray("Location")
                                  << QByteArray("https://u:p@h/next?token=abc&x=1")
                                  << QByteArray("https://<redacted>@h/next?token=<redacted>&x=1");
        QTest::newRow("relative Location") << QByteArray("location") << QByteArray("/next?sig=abc")
                                           << QByteArray("/next?sig=<redacted>");
        QTest::newRow("Content-Location")
            << QByteArray("Content-Location") << QByteArray("/doc?api_key=k1")
            << QByteArray("/doc?api_key=<redacted>");
        QTest::newRow("other fields unchanged")
            << QByteArray("Accept") << QByteArray("*/*") << QByteArray("*/*");
        QTest::newRow("a name that only starts the same")
            << QByteArray("Authorization-Hint") << QByteArray("Basic x") << QByteArray("Basic x");
    }
    void fieldValues()
    {
        QFETCH(QByteArray, name);
        QFETCH(QByteArray, value);
        QFETCH(QByteArray, expected);
        QCOMPARE(Reqivo::redactFieldValue(name, value), expected);
    }

    void wholeHeads()
    {
        const Reqivo::Headers fields {{"Host", "h"}, {"Authorization", "Bearer tok"},
            {"Cookie", "a=1; b=2"}, {"Set-Cookie", "c=3; Path=/"}, {"Set-Cookie", "d=4"},
            {"X-Trace", "7"}};
        const Reqivo::Headers shown = Reqivo::redactHeaders(fields);
        QCOMPARE(shown.size(), fields.size());
        const Reqivo::Headers expected {{"Host", "h"}, {"Authorization", "Bearer <redacted>"},
            {"Cookie", "a=<redacted>; b=<redacted>"}, {"Set-Cookie", "c=<redacted>; Path=/"},
            {"Set-Cookie", "d=<redacted>"}, {"X-Trace", "7"}};
        QCOMPARE(shown, expected);
    }

    void errors()
    {
        const QStringList names = Reqivo::defaultRedactedQueryNames();
        const QUrl request(u"https://bob:hunter22@h/path?token=tok-123&api_key=key%20456&x=1"_s);
        Error error(Error::Kind::ReadTimeout,
            u"no data from https://h/path?token=tok-123&api_key=key%20456&x=1 for bob"_s,
            QUrl(u"https://h/path?token=tok-123&api_key=key%20456&x=1"_s),
            u"detail with key 456 and hunter22"_s, 7);
        error.setAttempts(2);
        const Error redacted = Reqivo::Client::redactError(error, names, request);
        QCOMPARE(redacted.kind(), error.kind());
        QCOMPARE(redacted.code(), 7);
        QCOMPARE(redacted.attempts(), 2);
        const QString all = redacted.toString();
        for (const char *secret : {"tok-123", "key%20456", "key 456", "hunter22"})
            QVERIFY2(!all.contains(QLatin1String(secret)), qPrintable(all));
        QVERIFY2(all.contains(u"token=<redacted>"_s), qPrintable(all));
        QVERIFY2(all.contains(u"x=1"_s), qPrintable(all));
        QCOMPARE(
            redacted.url().query(QUrl::FullyDecoded), u"token=<redacted>&api_key=<redacted>&x=1"_s);

        // Nothing secret: the same error.
        const Error plain(Error::Kind::Network, u"refused"_s, QUrl(u"https://h/p?q=1"_s));
        QCOMPARE(Reqivo::Client::redactError(plain, names, QUrl(u"https://h/p?q=1"_s)), plain);
    }
};

QTEST_GUILESS_MAIN(TestRedaction)
#include "tst_redaction.moc"
