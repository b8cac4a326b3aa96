// Reqivo::CookieJar against RFC 6265: which cookies are stored from a response and which are
// sent back, in which order. Each row replays Set-Cookie fields received from URLs, then asks
// for the Cookie header of a request URL.
#include <Reqivo/cookiejar.h>

#include <QBuffer>
#include <QDateTime>
#include <QTest>

using Reqivo::CookieJar;
using Reqivo::Headers;

namespace {

// "URL Set-Cookie-value": a response from URL carrying that one Set-Cookie field.
using Steps = QStringList;

QUrl url(const char *s)
{
    return QUrl(QString::fromUtf8(s));
}

void replay(CookieJar &jar, const Steps &steps)
{
    for (const QString &step : steps) {
        const qsizetype space = step.indexOf(QLatin1Char(' '));
        const QUrl from(step.left(space));
        Headers headers;
        headers.add("Set-Cookie", step.mid(space + 1).toUtf8());
        jar.storeFromResponse(from, headers);
    }
}

// A jar whose protected list can be seeded directly, to hold a cookie that expired while stored.
class SeedableJar : public CookieJar
{
public:
    using CookieJar::allCookies;
    using CookieJar::setAllCookies;
};

const char pastDate[] = "Wed, 21 Oct 2015 07:28:00 GMT";

} // namespace

class TestCookieJar : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void matching_data();
    void matching();
    void multipleSetCookieFields();
    void otherFieldsIgnored();
    void ordering();
    void replacementKeepsCreationOrder();
    void cookiesListsOnlyLiveOnes();
    void setCookieApi();
    void clear();
    void saveAndLoad();
    void loadRejectsForeignData();
    void cookieSizeLimit_data();
    void cookieSizeLimit();
    void longAttributesIgnored();
    void perDomainLimitEvictsLeastRecentlyUsed();
    void expiredCookiesGoFirst();
    void totalLimitEvictsLeastRecentlyUsed();
    void hostileFlood();
    void limitsAreSettable();
};

void TestCookieJar::matching_data()
{
    QTest::addColumn<Steps>("steps");
    QTest::addColumn<QUrl>("request");
    QTest::addColumn<QByteArray>("expected");
    auto row = [](const char *name, Steps steps, const char *request, const char *expected) {
        QTest::newRow(name) << steps << url(request) << QByteArray(expected);
    };
    const auto s = [](const char *text) { return QString::fromUtf8(text); };
    const QString past = QString::fromLatin1(pastDate);

    // --- domain: host-only vs Domain= (§5.3 steps 4-6, §5.1.3) ------------------------------
    row("host-only cookie sent to its host", {s("http://example.com/ a=1")}, "http://example.com/",
        "a=1");
    row("host-only cookie not sent to a subdomain", {s("http://example.com/ a=1")},
        "http://www.example.com/", "");
    row("host-only cookie of a subdomain not sent to the parent",
        {s("http://www.example.com/ a=1")}, "http://example.com/", "");
    row("Domain cookie sent to a subdomain", {s("http://example.com/ a=1; Domain=example.com")},
        "http://deep.www.example.com/", "a=1");
    row("Domain cookie sent to the domain itself",
        {s("http://www.example.com/ a=1; Domain=example.com")}, "http://example.com/", "a=1");
    row("Domain with a leading dot is the same",
        {s("http://example.com/ a=1; Domain=.example.com")}, "http://www.example.com/", "a=1");
    row("Domain compared without case", {s("http://www.example.com/ a=1; Domain=EXAMPLE.Com")},
        "http://WWW.example.COM/", "a=1");
    row("Domain cookie not sent to a look-alike host",
        {s("http://example.com/ a=1; Domain=example.com")}, "http://badexample.com/", "");
    row("Domain naming another site refused", {s("http://example.com/ a=1; Domain=other.com")},
        "http://other.com/", "");
    row("Domain naming a subdomain of the host refused",
        {s("http://example.com/ a=1; Domain=www.example.com")}, "http://www.example.com/", "");
    row("public suffix Domain=com refused", {s("http://example.com/ a=1; Domain=com")},
        "http://example.com/", "");
    row("public suffix Domain=com not sent to other sites",
        {s("http://example.com/ a=1; Domain=com")}, "http://other.com/", "");
    row("public suffix Domain=co.uk refused", {s("http://shop.example.co.uk/ a=1; Domain=co.uk")},
        "http://shop.example.co.uk/", "");
    row("registrable domain under co.uk accepted",
        {s("http://shop.example.co.uk/ a=1; Domain=example.co.uk")}, "http://www.example.co.uk/",
        "a=1");
    row("private public suffix (github.io) refused",
        {s("http://me.github.io/ a=1; Domain=github.io")}, "http://you.github.io/", "");
    row("IPv4 host gets a host-only cookie", {s("http://127.0.0.1:8080/ a=1")},
        "http://127.0.0.1:9090/", "a=1");
    row("IPv4 Domain suffix refused", {s("http://10.1.2.3/ a=1; Domain=2.3")}, "http://10.1.2.3/",
        "");
    row("IPv4 cookie not sent to another address", {s("http://10.1.2.3/ a=1")}, "http://10.1.2.4/",
        "");
    row("IPv6 host", {s("http://[::1]/ a=1")}, "http://[::1]:81/x", "a=1");
    row("port does not matter (§8.5)", {s("http://example.com:8080/ a=1")},
        "http://example.com:9999/", "a=1");

    // --- path (§5.1.4) -------------------------------------------------------------------
    row("default path is the request's directory", {s("http://h.test/docs/page a=1")},
        "http://h.test/docs/other", "a=1");
    row("default path matches the directory itself", {s("http://h.test/docs/page a=1")},
        "http://h.test/docs", "a=1");
    row("default path does not match the parent", {s("http://h.test/docs/page a=1")},
        "http://h.test/", "");
    row("default path does not match a longer name", {s("http://h.test/docs/page a=1")},
        "http://h.test/docsextra", "");
    row("default path of a top-level resource is /", {s("http://h.test/page a=1")},
        "http://h.test/anything/else", "a=1");
    row("Path matches below it", {s("http://h.test/ a=1; Path=/docs")}, "http://h.test/docs/x/y",
        "a=1");
    row("Path matches only on a segment boundary", {s("http://h.test/ a=1; Path=/docs")},
        "http://h.test/docsx", "");
    row("Path with a trailing slash", {s("http://h.test/ a=1; Path=/docs/")},
        "http://h.test/docs/x", "a=1");
    row("Path with a trailing slash needs it", {s("http://h.test/ a=1; Path=/docs/")},
        "http://h.test/docs", "");
    row("Path not starting with / means the default path",
        {s("http://h.test/app/login a=1; Path=docs")}, "http://h.test/other", "");
    row("Path / matches everything", {s("http://h.test/deep/page a=1; Path=/")}, "http://h.test/",
        "a=1");
    row("empty request path is /", {s("http://h.test/ a=1")}, "http://h.test", "a=1");
    row("query does not affect path matching", {s("http://h.test/ a=1; Path=/p")},
        "http://h.test/p?x=/q", "a=1");

    // --- Secure -------------------------------------------------------------------------
    row("Secure cookie sent over https", {s("https://h.test/ a=1; Secure")}, "https://h.test/",
        "a=1");
    row("Secure cookie never sent over http", {s("https://h.test/ a=1; Secure")}, "http://h.test/",
        "");
    row("Secure cookie sent over wss", {s("https://h.test/ a=1; Secure")}, "wss://h.test/", "a=1");
    row("Secure cookie from an http response refused", {s("http://h.test/ a=1; Secure")},
        "https://h.test/", "");
    row("non-Secure cookie from https sent over http", {s("https://h.test/ a=1")}, "http://h.test/",
        "a=1");

    // --- expiry (§5.2.1, §5.2.2, §5.3 step 11) -----------------------------------------
    row("Max-Age=0 deletes a stored cookie",
        {s("http://h.test/ a=1"), s("http://h.test/ b=2"), s("http://h.test/ a=1; Max-Age=0")},
        "http://h.test/", "b=2");
    row("Max-Age=0 alone stores nothing", {s("http://h.test/ a=1; Max-Age=0")}, "http://h.test/",
        "");
    row("negative Max-Age deletes", {s("http://h.test/ a=1"), s("http://h.test/ a=1; Max-Age=-1")},
        "http://h.test/", "");
    row("Expires in the past deletes",
        {s("http://h.test/ a=1"), s("http://h.test/ a=x; Expires=") + past}, "http://h.test/", "");
    row("deletion must name the same path",
        {s("http://h.test/ a=1; Path=/"), s("http://h.test/ a=1; Path=/x; Max-Age=0")},
        "http://h.test/x", "a=1");
    row("Max-Age in the future keeps the cookie", {s("http://h.test/ a=1; Max-Age=3600")},
        "http://h.test/", "a=1");
    row("Max-Age wins over a later past Expires",
        {s("http://h.test/ a=1; Max-Age=3600; Expires=") + past}, "http://h.test/", "a=1");
    row("Max-Age wins over an earlier past Expires",
        {s("http://h.test/ a=1; Expires=") + past + s("; Max-Age=3600")}, "http://h.test/", "a=1");
    row("Max-Age=0 wins over a future Expires",
        {s("http://h.test/ a=1"),
            s("http://h.test/ a=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT; max-age=0")},
        "http://h.test/", "");
    row("malformed Max-Age ignored, not the cookie", {s("http://h.test/ a=1; Max-Age=soon")},
        "http://h.test/", "a=1");
    row("huge Max-Age does not overflow",
        {s("http://h.test/ a=1; Max-Age=99999999999999999999999")}, "http://h.test/", "a=1");

    // --- replacement (§5.3 step 11) -------------------------------------------------------
    row("same name, domain and path replaces the value",
        {s("http://h.test/ a=1"), s("http://h.test/ a=2")}, "http://h.test/", "a=2");
    row("Domain cookie replaces the host-only one of the same host",
        {s("http://example.com/ a=1"), s("http://example.com/ a=2; Domain=example.com")},
        "http://example.com/", "a=2");
    row("same name on different paths kept apart",
        {s("http://h.test/ a=1; Path=/"), s("http://h.test/ a=2; Path=/x")}, "http://h.test/x/y",
        "a=2; a=1");
    row("values sent verbatim", {s("http://h.test/ token=\"a b=c\"")}, "http://h.test/",
        "token=\"a b=c\"");
}

void TestCookieJar::matching()
{
    QFETCH(Steps, steps);
    QFETCH(QUrl, request);
    QFETCH(QByteArray, expected);
    CookieJar jar;
    replay(jar, steps);
    QCOMPARE(jar.cookieHeaderFor(request), expected);
    // The QNetworkCookieJar interface agrees with the header.
    QCOMPARE(jar.cookiesForUrl(request).isEmpty(), expected.isEmpty());
}

void TestCookieJar::multipleSetCookieFields()
{
    // Each field is parsed alone: the comma inside Expires never splits a cookie, and a field
    // is never comma-joined with the next.
    Headers headers;
    headers.add("Content-Type", "text/html");
    headers.add("Set-Cookie", "session=abc; Path=/; Expires=Fri, 01 Jan 2100 00:00:00 GMT");
    headers.add("set-cookie", "theme=dark");
    headers.add("SET-COOKIE", "lang=en; Expires=Sat, 02 Jan 2100 00:00:00 GMT; HttpOnly");
    CookieJar jar;
    jar.storeFromResponse(url("http://h.test/"), headers);
    QCOMPARE(jar.cookies().size(), 3);
    QCOMPARE(
        jar.cookieHeaderFor(url("http://h.test/")), QByteArray("session=abc; theme=dark; lang=en"));
    const QNetworkCookie session = jar.cookies().first();
    QCOMPARE(session.expirationDate(), QDateTime(QDate(2100, 1, 1), QTime(0, 0), Qt::UTC));
}

void TestCookieJar::otherFieldsIgnored()
{
    Headers headers;
    headers.add("Set-Cookie2", "old=1");
    headers.add("Cookie", "sent=1");
    headers.add("X-Set-Cookie", "nope=1");
    headers.add("Set-Cookie", "="); // neither name nor value
    headers.add("Set-Cookie", "novalue"); // no '=': ignored (RFC 6265 §5.2 step 2)
    CookieJar jar;
    jar.storeFromResponse(url("http://h.test/"), headers);
    QVERIFY(jar.cookies().isEmpty());
    QCOMPARE(jar.cookieHeaderFor(url("http://h.test/")), QByteArray());
}

void TestCookieJar::ordering()
{
    // §5.4 step 2: longer paths first; equal paths in creation order.
    CookieJar jar;
    replay(jar,
        {QStringLiteral("http://h.test/ first=1; Path=/"),
            QStringLiteral("http://h.test/ deep=2; Path=/a/b"),
            QStringLiteral("http://h.test/ second=3; Path=/"),
            QStringLiteral("http://h.test/ mid=4; Path=/a"),
            QStringLiteral("http://h.test/ mid2=5; Path=/a")});
    QCOMPARE(jar.cookieHeaderFor(url("http://h.test/a/b/c")),
        QByteArray("deep=2; mid=4; mid2=5; first=1; second=3"));
    QCOMPARE(jar.cookieHeaderFor(url("http://h.test/a")),
        QByteArray("mid=4; mid2=5; first=1; second=3"));
    QCOMPARE(jar.cookieHeaderFor(url("http://h.test/z")), QByteArray("first=1; second=3"));
}

void TestCookieJar::replacementKeepsCreationOrder()
{
    CookieJar jar;
    replay(jar,
        {QStringLiteral("http://h.test/ a=1"), QStringLiteral("http://h.test/ b=2"),
            QStringLiteral("http://h.test/ c=3")});
    replay(jar, {QStringLiteral("http://h.test/ a=9")});
    QCOMPARE(jar.cookieHeaderFor(url("http://h.test/")), QByteArray("a=9; b=2; c=3"));
    // A deleted and re-created cookie is new: it goes last.
    replay(jar,
        {QStringLiteral("http://h.test/ a=0; Max-Age=0"), QStringLiteral("http://h.test/ a=5")});
    QCOMPARE(jar.cookieHeaderFor(url("http://h.test/")), QByteArray("b=2; c=3; a=5"));
}

void TestCookieJar::cookiesListsOnlyLiveOnes()
{
    SeedableJar jar;
    QNetworkCookie live("live", "1");
    live.setDomain(QStringLiteral("h.test"));
    live.setPath(QStringLiteral("/"));
    QNetworkCookie stale("stale", "1");
    stale.setDomain(QStringLiteral("h.test"));
    stale.setPath(QStringLiteral("/"));
    stale.setExpirationDate(QDateTime::currentDateTimeUtc().addSecs(-1)); // expired while stored
    jar.setAllCookies({stale, live});
    QCOMPARE(jar.cookies().size(), 1);
    QCOMPARE(jar.cookies().first().name(), QByteArray("live"));
    QCOMPARE(jar.cookieHeaderFor(url("http://h.test/")), QByteArray("live=1"));
    // The next change to the jar drops the expired one for good.
    QVERIFY(jar.setCookie(QNetworkCookie("new", "1"), url("http://h.test/")));
    QCOMPARE(jar.allCookies().size(), 2);
}

void TestCookieJar::setCookieApi()
{
    CookieJar jar;
    // No domain: host-only for the URL's host; no path: the URL's default path.
    QVERIFY(jar.setCookie(QNetworkCookie("a", "1"), url("https://api.example.com/v1/users")));
    const QNetworkCookie stored = jar.cookies().first();
    QCOMPARE(stored.domain(), QStringLiteral("api.example.com"));
    QCOMPARE(stored.path(), QStringLiteral("/v1"));
    QCOMPARE(jar.cookieHeaderFor(url("https://api.example.com/v1/x")), QByteArray("a=1"));
    QCOMPARE(jar.cookieHeaderFor(url("https://www.example.com/v1/x")), QByteArray());

    QNetworkCookie wide("b", "2");
    wide.setDomain(QStringLiteral("example.com"));
    QVERIFY(jar.setCookie(wide, url("https://api.example.com/")));
    QCOMPARE(jar.cookieHeaderFor(url("https://www.example.com/")), QByteArray("b=2"));

    QNetworkCookie foreign("c", "3");
    foreign.setDomain(QStringLiteral("other.org"));
    QVERIFY(!jar.setCookie(foreign, url("https://api.example.com/")));

    QNetworkCookie expired("a", "gone");
    expired.setPath(QStringLiteral("/v1"));
    expired.setExpirationDate(QDateTime::currentDateTimeUtc().addDays(-1));
    QVERIFY(!jar.setCookie(expired, url("https://api.example.com/v1/users"))); // a deletion
    QCOMPARE(jar.cookieHeaderFor(url("https://api.example.com/v1/x")), QByteArray("b=2"));
}

void TestCookieJar::clear()
{
    CookieJar jar;
    replay(jar,
        {QStringLiteral("http://h.test/ a=1"), QStringLiteral("http://h.test/ b=2; Max-Age=100")});
    jar.clearSessionCookies();
    QCOMPARE(jar.cookieHeaderFor(url("http://h.test/")), QByteArray("b=2"));
    jar.clear();
    QVERIFY(jar.cookies().isEmpty());
    QCOMPARE(jar.cookieHeaderFor(url("http://h.test/")), QByteArray());
}

void TestCookieJar::saveAndLoad()
{
    CookieJar jar;
    replay(jar,
        {QStringLiteral("http://example.com/app/x host=1"),
            QStringLiteral("http://example.com/ wide=2; Domain=example.com; Max-Age=3600"),
            QStringLiteral("https://example.com/ sec=3; Secure; HttpOnly; SameSite=Strict"),
            QStringLiteral("http://[::1]:8080/ v6=4"),
            QStringLiteral("http://h.test/ gone=5; Max-Age=0")});
    QBuffer file;
    QVERIFY(file.open(QIODevice::ReadWrite));
    QVERIFY(jar.saveTo(&file));
    QVERIFY(file.seek(0));

    CookieJar loaded;
    QVERIFY(loaded.loadFrom(&file));
    const QList<QNetworkCookie> before = jar.cookies();
    const QList<QNetworkCookie> after = loaded.cookies();
    QCOMPARE(after.size(), 4);
    for (qsizetype i = 0; i < after.size(); ++i) {
        QCOMPARE(after[i].name(), before[i].name());
        QCOMPARE(after[i].domain(), before[i].domain());
        QCOMPARE(after[i].path(), before[i].path());
        QCOMPARE(after[i].isSecure(), before[i].isSecure());
        QCOMPARE(after[i].isHttpOnly(), before[i].isHttpOnly());
        QCOMPARE(after[i].isSessionCookie(), before[i].isSessionCookie());
        QCOMPARE(after[i].sameSitePolicy(), before[i].sameSitePolicy());
    }
    // Host-only stays host-only; the rest behaves as before.
    QCOMPARE(loaded.cookieHeaderFor(url("http://www.example.com/app/x")), QByteArray("wide=2"));
    QCOMPARE(loaded.cookieHeaderFor(url("https://example.com/app/y")),
        QByteArray("host=1; wide=2; sec=3"));
    QCOMPARE(loaded.cookieHeaderFor(url("http://[::1]/")), QByteArray("v6=4"));
}

void TestCookieJar::loadRejectsForeignData()
{
    QBuffer file;
    file.setData("a=1; domain=example.com\n");
    QVERIFY(file.open(QIODevice::ReadOnly));
    CookieJar jar;
    QVERIFY(!jar.loadFrom(&file));
    QVERIFY(jar.cookies().isEmpty());
    QVERIFY(!jar.loadFrom(nullptr));
}

void TestCookieJar::cookieSizeLimit_data()
{
    QTest::addColumn<int>("nameBytes");
    QTest::addColumn<int>("valueBytes");
    QTest::addColumn<bool>("stored");
    // RFC 6265 §6.1: at least 4096 bytes per cookie; RFC 6265bis §5.6: name and value together
    // at most 4096 octets, a longer one is ignored whole.
    QTest::newRow("4096 bytes of value") << 1 << 4095 << true;
    QTest::newRow("4096 bytes, half name") << 2048 << 2048 << true;
    QTest::newRow("4097 bytes of value") << 1 << 4096 << false;
    QTest::newRow("4097 bytes of name") << 4097 << 0 << false;
    QTest::newRow("a megabyte") << 1 << 1024 * 1024 << false;
}

void TestCookieJar::cookieSizeLimit()
{
    QFETCH(int, nameBytes);
    QFETCH(int, valueBytes);
    QFETCH(bool, stored);
    const QByteArray name(nameBytes, 'n');
    const QByteArray value(valueBytes, 'v');
    CookieJar jar;
    Headers headers;
    headers.add("Set-Cookie", name + '=' + value + "; Path=/; Max-Age=3600; Secure; HttpOnly");
    jar.storeFromResponse(url("https://h.test/"), headers);
    QCOMPARE(jar.cookies().size(), stored ? 1 : 0);
    // The same through the QNetworkCookieJar interface.
    CookieJar other;
    QCOMPARE(other.setCookie(QNetworkCookie(name, value), url("https://h.test/")), stored);
    QCOMPARE(other.insertCookie(QNetworkCookie(name, value)), stored);
}

void TestCookieJar::longAttributesIgnored()
{
    // RFC 6265bis §5.6: an attribute value over 1024 octets is ignored, not the cookie.
    const QString longPath = QStringLiteral("/") + QString(1100, u'p');
    CookieJar jar;
    replay(jar, {QStringLiteral("http://h.test/dir/page a=1; Path=") + longPath});
    QCOMPARE(jar.cookies().size(), 1);
    QCOMPARE(jar.cookies().first().path(), QStringLiteral("/dir")); // the default path
    // A Domain that long is no DNS name (QNetworkCookie's parser already drops it from a
    // Set-Cookie field); given through the API, it is ignored: the cookie is host-only.
    QNetworkCookie wide("b", "2");
    wide.setDomain(QString(1100, u'd') + QStringLiteral(".h.test"));
    QVERIFY(jar.setCookie(wide, url("http://www.h.test/")));
    QCOMPARE(jar.cookies().size(), 2);
    QCOMPARE(jar.cookies().last().domain(), QStringLiteral("www.h.test"));
}

void TestCookieJar::perDomainLimitEvictsLeastRecentlyUsed()
{
    // RFC 6265 §5.3 step 12 and §6.1: at least 50 per domain; the excess goes by least recent
    // use (§5.4 step 3: sending a cookie uses it).
    CookieJar jar;
    QCOMPARE(jar.maxCookiesPerDomain(), 50);
    Steps steps;
    for (int i = 0; i < 50; ++i)
        steps << QStringLiteral("http://h.test/ c%1=1; Path=/p%1").arg(i);
    replay(jar, steps);
    QCOMPARE(jar.cookies().size(), 50);
    QCOMPARE(jar.cookieHeaderFor(url("http://h.test/p0")), QByteArray("c0=1")); // c0 used
    replay(jar, {QStringLiteral("http://h.test/ new=1")});
    QCOMPARE(jar.cookies().size(), 50);
    // c1 was the least recently used; c0 was just sent.
    QCOMPARE(jar.cookieHeaderFor(url("http://h.test/p1")), QByteArray("new=1"));
    QCOMPARE(jar.cookieHeaderFor(url("http://h.test/p0")), QByteArray("c0=1; new=1"));
    // Replacing a cookie is a use too, and keeps the count.
    replay(jar,
        {QStringLiteral("http://h.test/ c2=2; Path=/p2"), QStringLiteral("http://h.test/ x=1")});
    QCOMPARE(jar.cookies().size(), 50);
    QCOMPARE(jar.cookieHeaderFor(url("http://h.test/p2")), QByteArray("c2=2; new=1; x=1"));
    QCOMPARE(jar.cookieHeaderFor(url("http://h.test/p3")), QByteArray("new=1; x=1")); // c3 went
    // Host-only and Domain cookies of one domain share its limit; other domains are untouched.
    replay(jar, {QStringLiteral("http://other.test/ o=1")});
    replay(jar, {QStringLiteral("http://www.h.test/ d=1; Domain=h.test")});
    QCOMPARE(jar.cookies().size(), 51);
    QCOMPARE(jar.cookieHeaderFor(url("http://other.test/")), QByteArray("o=1"));
}

void TestCookieJar::expiredCookiesGoFirst()
{
    SeedableJar jar;
    QList<QNetworkCookie> seeded;
    for (int i = 0; i < 50; ++i) {
        QNetworkCookie c(QByteArray("c") + QByteArray::number(i), "1");
        c.setDomain(QStringLiteral("h.test"));
        c.setPath(QStringLiteral("/"));
        if (i == 30) // expired while stored
            c.setExpirationDate(QDateTime::currentDateTimeUtc().addSecs(-1));
        seeded << c;
    }
    jar.setAllCookies(seeded);
    QVERIFY(jar.setCookie(QNetworkCookie("new", "1"), url("http://h.test/")));
    const QList<QNetworkCookie> all = jar.allCookies();
    QCOMPARE(all.size(), 50);
    QCOMPARE(all.first().name(), QByteArray("c0")); // no live cookie had to go
    QCOMPARE(all.last().name(), QByteArray("new"));
    QVERIFY(std::none_of(
        all.begin(), all.end(), [](const QNetworkCookie &c) { return c.name() == "c30"; }));
}

void TestCookieJar::totalLimitEvictsLeastRecentlyUsed()
{
    // 3000 cookies in total (§6.1): 61 sites of 50 cookies each, one response per site.
    CookieJar jar;
    QCOMPARE(jar.maxCookies(), 3000);
    for (int site = 0; site < 61; ++site) {
        Headers headers;
        for (int i = 0; i < 50; ++i)
            headers.add("Set-Cookie", "c" + QByteArray::number(i) + "=1");
        if (site == 2)
            jar.cookieHeaderFor(url("http://s0.test/")); // site 0 used: site 1 is now the oldest
        jar.storeFromResponse(QUrl(QStringLiteral("http://s%1.test/").arg(site)), headers);
    }
    QCOMPARE(jar.cookies().size(), 3000);
    QCOMPARE(jar.cookiesForUrl(url("http://s0.test/")).size(), 50);
    QCOMPARE(jar.cookiesForUrl(url("http://s1.test/")).size(), 0);
    QCOMPARE(jar.cookiesForUrl(url("http://s2.test/")).size(), 50);
    QCOMPARE(jar.cookiesForUrl(url("http://s60.test/")).size(), 50);
}

void TestCookieJar::hostileFlood()
{
    // A server that sets thousands of cookies keeps 50, the last ones it sent; the jar does the
    // work once per response, not once per cookie over the whole jar.
    CookieJar jar;
    Headers headers;
    for (int i = 0; i < 20000; ++i)
        headers.add("Set-Cookie", "k" + QByteArray::number(i) + "=" + QByteArray(100, 'v'));
    jar.storeFromResponse(url("http://evil.test/"), headers);
    QCOMPARE(jar.cookies().size(), 50);
    QCOMPARE(jar.cookies().first().name(), QByteArray("k19950"));
    QCOMPARE(jar.cookies().last().name(), QByteArray("k19999"));
    // Many hosts of the same server: the total limit holds.
    for (int host = 0; host < 100; ++host) {
        Headers many;
        for (int i = 0; i < 100; ++i)
            many.add("Set-Cookie", "k" + QByteArray::number(i) + "=1");
        jar.storeFromResponse(QUrl(QStringLiteral("http://h%1.evil.test/").arg(host)), many);
    }
    QCOMPARE(jar.cookies().size(), 3000);
}

void TestCookieJar::limitsAreSettable()
{
    CookieJar jar;
    jar.setMaxCookiesPerDomain(3);
    jar.setMaxCookies(4);
    replay(jar,
        {QStringLiteral("http://a.test/ a1=1"), QStringLiteral("http://a.test/ a2=1"),
            QStringLiteral("http://a.test/ a3=1"), QStringLiteral("http://a.test/ a4=1"),
            QStringLiteral("http://b.test/ b1=1"), QStringLiteral("http://b.test/ b2=1")});
    QCOMPARE(jar.cookieHeaderFor(url("http://a.test/")), QByteArray("a3=1; a4=1"));
    QCOMPARE(jar.cookieHeaderFor(url("http://b.test/")), QByteArray("b1=1; b2=1"));
    // Lowering a limit applies at once; a limit below 1 is taken as 1.
    jar.setMaxCookies(0);
    QCOMPARE(jar.maxCookies(), 1);
    QCOMPARE(jar.cookies().size(), 1);
    QCOMPARE(jar.cookieHeaderFor(url("http://b.test/")), QByteArray("b2=1"));
}

QTEST_GUILESS_MAIN(TestCookieJar)
#include "tst_cookiejar.moc"
