// The redirect policy (seed ADR-016 with the corrections of issue #3): which responses are
// followed, with which method, body, URL and fields, and how a chain is bounded.
#include "client/redirectpolicy.h"

#include <QTest>

using Reqivo::Error;
using Reqivo::Headers;
using namespace Reqivo::Client;

namespace {

QUrl url(const char *s)
{
    return QUrl(QString::fromUtf8(s));
}

Headers location(const char *target)
{
    return Headers {{"Location", target}};
}

// What a typical request carries: credentials, cookies, a body and its description.
Headers requestFields()
{
    return Headers {{"Accept", "application/json"}, {"Authorization", "Bearer secret"},
        {"Proxy-Authorization", "Basic cHJveHk6cHc="}, {"Cookie", "sid=1"},
        {"Content-Type", "application/json"}, {"Content-Length", "7"}, {"X-Trace", "abc"}};
}

QByteArrayList names(const Headers &headers)
{
    QByteArrayList result;
    for (const Headers::Field field : headers)
        result.append(field.name.toByteArray());
    return result;
}

} // namespace

class TestRedirectPolicy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void methodRewrite_data();
    void methodRewrite();
    void bodyFieldsFollowTheBody();
    void originChange_data();
    void originChange();
    void isSameOrigin_data();
    void isSameOrigin();
    void locationResolution_data();
    void locationResolution();
    void unusableLocation_data();
    void unusableLocation();
    void conflictingLocations();
    void nonHttpScheme_data();
    void nonHttpScheme();
    void nonReplayableBody_data();
    void nonReplayableBody();
    void tooManyRedirects_data();
    void tooManyRedirects();
    void zeroRedirectsAllowed();
    void loops_data();
    void loops();
    void loopBackToUnrecordedOriginal();
};

void TestRedirectPolicy::methodRewrite_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<bool>("follow");
    QTest::addColumn<QByteArray>("nextMethod");
    QTest::addColumn<bool>("dropBody");
    const QByteArray methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (const int status : {301, 302, 303, 307, 308}) {
        for (const QByteArray &method : methods) {
            QByteArray next = method;
            bool drop = false;
            const bool seedRewrites = method == "POST" || method == "PUT" || method == "PATCH";
            if ((status == 301 || status == 302) && seedRewrites) {
                next = "GET";
                drop = true;
            } else if (status == 303 && method != "HEAD") {
                next = "GET";
                drop = true;
            }
            QTest::addRow("%d %s -> %s%s", status, method.constData(), next.constData(),
                drop ? " without body" : "")
                << status << method << true << next << drop;
        }
    }
    // Not redirects this policy follows: the response is the answer.
    for (const int status : {200, 201, 300, 304, 305, 306, 309, 399, 404}) {
        QTest::addRow("%d GET not followed", status)
            << status << QByteArray("GET") << false << QByteArray() << false;
    }
    QTest::newRow("lower-case post on 302 -> GET")
        << 302 << QByteArray("post") << true << QByteArray("GET") << true;
    QTest::newRow("extension method on 303 -> GET")
        << 303 << QByteArray("PROPFIND") << true << QByteArray("GET") << true;
    QTest::newRow("extension method on 307 kept")
        << 307 << QByteArray("PROPFIND") << true << QByteArray("PROPFIND") << false;
}

void TestRedirectPolicy::methodRewrite()
{
    QFETCH(int, status);
    QFETCH(QByteArray, method);
    QFETCH(bool, follow);
    QFETCH(QByteArray, nextMethod);
    QFETCH(bool, dropBody);
    const bool hasBody = method != "GET" && method != "HEAD";
    const RedirectDecision d = decideRedirect(
        method, url("https://api.test/a"), requestFields(), true, hasBody, status, location("/b"));
    QCOMPARE(d.follow, follow);
    QVERIFY2(d.error.isNull(), qPrintable(d.error.toString()));
    if (!follow)
        return;
    QCOMPARE(d.method, nextMethod);
    QCOMPARE(d.dropBody, dropBody);
    QCOMPARE(d.url, url("https://api.test/b"));
    // Same origin: credentials and cookies stay.
    QCOMPARE(d.headers.value("Authorization"), QByteArrayView("Bearer secret"));
    QCOMPARE(d.headers.value("Cookie"), QByteArrayView("sid=1"));
    QCOMPARE(d.headers.contains("Content-Type"), !dropBody);
    QCOMPARE(d.headers.contains("Content-Length"), !dropBody);
}

void TestRedirectPolicy::bodyFieldsFollowTheBody()
{
    Headers fields = requestFields();
    fields.add("Content-Encoding", "gzip");
    fields.add("Content-Language", "en");
    fields.add("Content-Location", "/doc");
    fields.add("Transfer-Encoding", "chunked");
    const RedirectDecision dropped = decideRedirect(
        "POST", url("http://h.test/form"), fields, true, true, 303, location("/done"));
    QCOMPARE(names(dropped.headers),
        (QByteArrayList {"Accept", "Authorization", "Proxy-Authorization", "Cookie", "X-Trace"}));

    const RedirectDecision kept = decideRedirect(
        "POST", url("http://h.test/form"), fields, true, true, 308, location("/v2"));
    QCOMPARE(kept.headers, fields);
    QVERIFY(!kept.dropBody);
}

void TestRedirectPolicy::originChange_data()
{
    QTest::addColumn<QUrl>("from");
    QTest::addColumn<QByteArray>("to");
    QTest::addColumn<bool>("crossOrigin");
    auto row = [](const char *name, const char *from, const char *to, bool cross) {
        QTest::newRow(name) << url(from) << QByteArray(to) << cross;
    };
    row("relative path, same origin", "https://a.test/x", "/y", false);
    row("absolute URL, same origin", "https://a.test/x", "https://a.test/y", false);
    row("host name case differs only", "https://a.test/x", "https://A.TEST/y", false);
    row("explicit default port http", "http://a.test/x", "http://a.test:80/y", false);
    row("explicit default port https", "https://a.test:443/x", "https://a.test/y", false);
    row("other host", "https://a.test/x", "https://b.test/y", true);
    row("subdomain is another origin", "https://a.test/x", "https://www.a.test/y", true);
    row("other port", "http://a.test:8080/x", "http://a.test:8081/y", true);
    row("default port to explicit other port", "https://a.test/x", "https://a.test:8443/y", true);
    row("https to http on the same host", "https://a.test/x", "http://a.test/y", true);
    row("http to https on the same host", "http://a.test/x", "https://a.test/y", true);
    row("scheme-relative to another host", "https://a.test/x", "//b.test/y", true);
    row("IP address vs name", "http://127.0.0.1/x", "http://localhost/y", true);
}

void TestRedirectPolicy::originChange()
{
    QFETCH(QUrl, from);
    QFETCH(QByteArray, to);
    QFETCH(bool, crossOrigin);
    Headers fields = requestFields();
    fields.add("Host", "a.test");
    const RedirectDecision d
        = decideRedirect("GET", from, fields, true, false, 302, location(to.constData()));
    QVERIFY(d.follow);
    for (const char *name : {"Authorization", "Proxy-Authorization", "Cookie", "Host"})
        QVERIFY2(d.headers.contains(name) == !crossOrigin, name);
    // Everything else is kept either way.
    QCOMPARE(d.headers.value("Accept"), QByteArrayView("application/json"));
    QCOMPARE(d.headers.value("X-Trace"), QByteArrayView("abc"));
    QCOMPARE(Reqivo::Client::isSameOrigin(from, d.url), !crossOrigin);
}

void TestRedirectPolicy::isSameOrigin_data()
{
    QTest::addColumn<QUrl>("a");
    QTest::addColumn<QUrl>("b");
    QTest::addColumn<bool>("same");
    QTest::newRow("identical") << url("http://h/") << url("http://h/") << true;
    QTest::newRow("paths, queries and fragments do not matter")
        << url("http://h/a?b#c") << url("http://h/z") << true;
    QTest::newRow("user info does not matter") << url("http://u:p@h/") << url("http://h/") << true;
    QTest::newRow("http default port") << url("http://h:80/") << url("http://h/") << true;
    QTest::newRow("https default port") << url("https://h/") << url("https://h:443/") << true;
    QTest::newRow("scheme case") << url("HTTP://h/") << url("http://h/") << true;
    QTest::newRow("http:443 is not https") << url("http://h:443/") << url("https://h/") << false;
    QTest::newRow("different port") << url("http://h:1/") << url("http://h:2/") << false;
    QTest::newRow("different host") << url("http://h/") << url("http://g/") << false;
    QTest::newRow("IPv6 same") << url("http://[::1]:80/") << url("http://[::1]/") << true;
}

void TestRedirectPolicy::isSameOrigin()
{
    QFETCH(QUrl, a);
    QFETCH(QUrl, b);
    QFETCH(bool, same);
    QCOMPARE(Reqivo::Client::isSameOrigin(a, b), same);
    QCOMPARE(Reqivo::Client::isSameOrigin(b, a), same);
}

void TestRedirectPolicy::locationResolution_data()
{
    QTest::addColumn<QUrl>("from");
    QTest::addColumn<QByteArray>("location");
    QTest::addColumn<QUrl>("expected");
    auto row = [](const char *name, const char *from, const char *loc, const char *expected) {
        QTest::newRow(name) << url(from) << QByteArray(loc) << url(expected);
    };
    row("absolute", "http://h.test/a/b", "http://other.test/x?y=1", "http://other.test/x?y=1");
    row("absolute path", "http://h.test/a/b", "/c", "http://h.test/c");
    row("relative path", "http://h.test/a/b", "c", "http://h.test/a/c");
    row("dot segments", "http://h.test/a/b/c", "../d", "http://h.test/a/d");
    row("query only", "http://h.test/a/b?old=1", "?new=2", "http://h.test/a/b?new=2");
    row("scheme-relative", "https://h.test/a", "//cdn.test/lib.js", "https://cdn.test/lib.js");
    row("port kept for relative", "http://h.test:8080/a", "/b", "http://h.test:8080/b");
    row("surrounding whitespace trimmed", "http://h.test/a", "  /b  ", "http://h.test/b");
    row("raw UTF-8 percent-encoded", "http://h.test/", "/caf\xc3\xa9", "http://h.test/caf%C3%A9");
    row("space percent-encoded", "http://h.test/", "/a b", "http://h.test/a%20b");
    // RFC 9110 §10.2.2: a Location without a fragment inherits the original one.
    row("fragment inherited", "http://h.test/a#section-2", "/b", "http://h.test/b#section-2");
    row("fragment inherited across origins", "http://h.test/a#top", "https://o.test/z",
        "https://o.test/z#top");
    row("Location's own fragment wins", "http://h.test/a#old", "/b#new", "http://h.test/b#new");
    row("no fragment anywhere", "http://h.test/a", "/b", "http://h.test/b");
}

void TestRedirectPolicy::locationResolution()
{
    QFETCH(QUrl, from);
    QFETCH(QByteArray, location);
    QFETCH(QUrl, expected);
    const RedirectDecision d
        = decideRedirect("GET", from, {}, true, false, 301, ::location(location.constData()));
    QVERIFY2(d.follow, qPrintable(d.error.toString()));
    QCOMPARE(d.url, expected);
    QCOMPARE(d.url.toEncoded(), expected.toEncoded());
}

void TestRedirectPolicy::unusableLocation_data()
{
    QTest::addColumn<Headers>("response");
    QTest::newRow("no Location") << Headers {{"Content-Length", "0"}};
    QTest::newRow("empty Location") << location("");
    QTest::newRow("blank Location") << location("   ");
    QTest::newRow("unparsable Location (bad IPv6 literal)") << location("http://[::1/x");
    QTest::newRow("unparsable Location (bad port)") << location("http://h.test:99999999/");
    QTest::newRow("two equal Location fields, both blank") << Headers {{"Location", " "}, {"Location", ""}};
}

void TestRedirectPolicy::unusableLocation()
{
    QFETCH(Headers, response);
    for (const int status : {301, 302, 303, 307, 308}) {
        const RedirectDecision d
            = decideRedirect("GET", url("http://h.test/"), {}, true, false, status, response);
        QVERIFY(!d.follow);
        QVERIFY2(d.error.isNull(), qPrintable(d.error.toString())); // the 3xx is the answer
    }
}

void TestRedirectPolicy::conflictingLocations()
{
    // RFC 9110 §10.2.2 allows one Location: two different ones are an invalid response and
    // nothing is followed.
    const Headers twice {{"Location", "/a"}, {"Location", "/b"}};
    for (const int status : {301, 302, 303, 307, 308}) {
        const RedirectDecision d
            = decideRedirect("GET", url("http://h.test/"), {}, true, false, status, twice);
        QVERIFY(!d.follow);
        QCOMPARE(d.error.kind(), Error::Kind::InvalidResponse);
    }
    // The same value twice is one Location.
    const RedirectDecision same = decideRedirect("GET", url("http://h.test/"), {}, true, false,
        302, Headers {{"Location", "/a"}, {"Location", " /a"}});
    QVERIFY(same.follow);
    QCOMPARE(same.url, url("http://h.test/a"));
}

void TestRedirectPolicy::nonHttpScheme_data()
{
    QTest::addColumn<QByteArray>("location");
    QTest::newRow("ftp") << QByteArray("ftp://files.test/x");
    QTest::newRow("file") << QByteArray("file:///etc/passwd");
    QTest::newRow("javascript") << QByteArray("javascript:alert(1)");
    QTest::newRow("data") << QByteArray("data:text/html,hi");
    QTest::newRow("mailto") << QByteArray("mailto:a@b.test");
    QTest::newRow("ws") << QByteArray("ws://h.test/socket");
    QTest::newRow("unknown scheme") << QByteArray("myapp://callback?code=1");
    QTest::newRow("http without a host") << QByteArray("http:///path");
}

void TestRedirectPolicy::nonHttpScheme()
{
    QFETCH(QByteArray, location);
    const RedirectDecision d = decideRedirect("GET", url("https://h.test/"), requestFields(), true,
        false, 302, ::location(location.constData()));
    QVERIFY(!d.follow);
    // Refusing is the client's policy, not a fault of the response: a RequestError.
    QCOMPARE(d.error.kind(), Error::Kind::Request);
    QVERIFY2(d.error.message().contains(QLatin1String("302")), qPrintable(d.error.message()));
}

void TestRedirectPolicy::nonReplayableBody_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<bool>("fails");
    QTest::newRow("307 POST keeps the body: fails") << 307 << QByteArray("POST") << true;
    QTest::newRow("308 PUT keeps the body: fails") << 308 << QByteArray("PUT") << true;
    QTest::newRow("301 DELETE keeps the body: fails") << 301 << QByteArray("DELETE") << true;
    QTest::newRow("303 POST drops the body: follows") << 303 << QByteArray("POST") << false;
    QTest::newRow("302 PATCH drops the body: follows") << 302 << QByteArray("PATCH") << false;
    QTest::newRow("301 POST drops the body: follows") << 301 << QByteArray("POST") << false;
}

void TestRedirectPolicy::nonReplayableBody()
{
    QFETCH(int, status);
    QFETCH(QByteArray, method);
    QFETCH(bool, fails);
    const RedirectDecision d = decideRedirect(method, url("http://h.test/upload"), requestFields(),
        false, true, status, location("/elsewhere"));
    QCOMPARE(d.follow, !fails);
    if (fails) {
        QCOMPARE(d.error.kind(), Error::Kind::Request);
        QVERIFY2(d.error.message().contains(QLatin1String("cannot resend a streamed body")),
            qPrintable(d.error.message()));
        QCOMPARE(d.error.url(), url("http://h.test/elsewhere"));
    } else {
        QVERIFY(d.error.isNull());
        QVERIFY(d.dropBody);
    }
    // Without a body there is nothing to replay: every case follows.
    const RedirectDecision noBody = decideRedirect(
        method, url("http://h.test/upload"), {}, false, false, status, location("/elsewhere"));
    QVERIFY(noBody.follow);
}

void TestRedirectPolicy::tooManyRedirects_data()
{
    QTest::addColumn<bool>("withStart");
    QTest::newRow("original request recorded with start()") << true;
    QTest::newRow("only redirects recorded") << false;
}

void TestRedirectPolicy::tooManyRedirects()
{
    QFETCH(bool, withStart);
    RedirectTracker tracker(3);
    if (withStart)
        tracker.start("GET", url("http://h.test/0"), {});
    QCOMPARE(tracker.redirectCount(), 0); // the original request is not a redirect
    for (const char *target : {"http://h.test/1", "http://h.test/2", "http://h.test/3"})
        QVERIFY(tracker.addHop("GET", url(target), {}).isNull());
    QCOMPARE(tracker.redirectCount(), 3);
    const Error error = tracker.addHop("GET", url("http://user:pw@h.test/4"), {});
    QCOMPARE(error.kind(), Error::Kind::TooManyRedirects);
    QVERIFY2(error.message().contains(QLatin1String("3 redirects")), qPrintable(error.message()));
    QVERIFY2(
        error.message().contains(QLatin1String("http://h.test/4")), qPrintable(error.message()));
    QVERIFY2(!error.toString().contains(QLatin1String("pw")), qPrintable(error.toString()));
    QCOMPARE(tracker.hops().size(), withStart ? 5 : 4);
    QCOMPARE(tracker.hops().first(), url(withStart ? "http://h.test/0" : "http://h.test/1"));
}

void TestRedirectPolicy::zeroRedirectsAllowed()
{
    RedirectTracker tracker(0);
    tracker.start("GET", url("http://h.test/"), {});
    QCOMPARE(
        tracker.addHop("GET", url("http://h.test/next"), {}).kind(), Error::Kind::TooManyRedirects);
}

// A hop: method, URL, body digest, Cookie header.
struct Hop
{
    QByteArray method;
    QByteArray url;
    QByteArray body;
    QByteArray cookie;
};
using Chain = QList<Hop>;
Q_DECLARE_METATYPE(Chain)

void TestRedirectPolicy::loops_data()
{
    QTest::addColumn<Chain>("chain");
    QTest::addColumn<int>("loopAt"); // index of the hop flagged, -1: none
    QTest::newRow("self-redirect")
        << Chain {{"GET", "http://h/a", {}, {}}, {"GET", "http://h/a", {}, {}}} << 1;
    QTest::newRow("A -> B -> A with nothing changed") << Chain {{"GET", "http://h/a", {}, {}},
        {"GET", "http://h/b", {}, {}}, {"GET", "http://h/a", {}, {}}}
                                                      << 2;
    QTest::newRow("login round trip: B sets a cookie, A is asked again") << Chain {
        {"GET", "http://app/login", {}, {}}, {"GET", "http://sso/auth", {}, {}},
        {"GET", "http://app/login", {}, "session=1"}} << -1;
    QTest::newRow("login round trip: back to A with a ticket") << Chain {
        {"GET", "http://app/login", {}, {}}, {"GET", "http://sso/auth", {}, {}},
        {"GET", "http://app/login?ticket=ST-1", {}, {}}} << -1;
    QTest::newRow("round trip, then the same round trip again is a loop")
        << Chain {{"GET", "http://app/login", {}, {}}, {"GET", "http://sso/auth", {}, {}},
               {"GET", "http://app/login", {}, "session=1"}, {"GET", "http://sso/auth", {}, {}}}
        << 3;
    QTest::newRow("POST A -> 303 GET A is a new request")
        << Chain {{"POST", "http://h/form", "sha:1", {}}, {"GET", "http://h/form", {}, {}}} << -1;
    QTest::newRow("307 resend with another body is a new request") << Chain {
        {"POST", "http://h/a", "sha:1", {}}, {"POST", "http://h/b", "sha:1", {}},
        {"POST", "http://h/a", "sha:2", {}}} << -1;
    QTest::newRow("307 resend with the same body loops") << Chain {
        {"POST", "http://h/a", "sha:1", {}}, {"POST", "http://h/b", "sha:1", {}},
        {"POST", "http://h/a", "sha:1", {}}} << 2;
    QTest::newRow("fragment is not part of the request")
        << Chain {{"GET", "http://h/a#x", {}, {}}, {"GET", "http://h/a#y", {}, {}}} << 1;
    QTest::newRow("default port spelled out is the same URL")
        << Chain {{"GET", "http://h/a", {}, {}}, {"GET", "http://h:80/a", {}, {}}} << 1;
    QTest::newRow("other port is another URL")
        << Chain {{"GET", "http://h/a", {}, {}}, {"GET", "http://h:81/a", {}, {}}} << -1;
    QTest::newRow("http and https are different")
        << Chain {{"GET", "http://h/a", {}, {}}, {"GET", "https://h/a", {}, {}}} << -1;
    QTest::newRow("cookie dropped again is the old request") << Chain {
        {"GET", "http://h/a", {}, {}}, {"GET", "http://h/b", {}, "c=1"},
        {"GET", "http://h/a", {}, {}}} << 2;
}

void TestRedirectPolicy::loops()
{
    QFETCH(Chain, chain);
    QFETCH(int, loopAt);
    RedirectTracker tracker(30);
    for (int i = 0; i < chain.size(); ++i) {
        const Hop &hop = chain.at(i);
        const QUrl hopUrl(QString::fromLatin1(hop.url));
        // The first hop is the original request; the others are redirect targets.
        Error error;
        if (i == 0)
            tracker.start(hop.method, hopUrl, hop.body, hop.cookie);
        else
            error = tracker.addHop(hop.method, hopUrl, hop.body, hop.cookie);
        if (i == loopAt) {
            QCOMPARE(error.kind(), Error::Kind::RedirectLoop);
            QVERIFY2(error.message().contains(hopUrl.adjusted(QUrl::RemoveFragment).toString()),
                qPrintable(error.message()));
            return;
        }
        QVERIFY2(
            error.isNull(), qPrintable(QStringLiteral("hop %1: %2").arg(i).arg(error.toString())));
    }
    QCOMPARE(loopAt, -1);
}

void TestRedirectPolicy::loopBackToUnrecordedOriginal()
{
    // Without start(), A -> B -> A is not known to be a cycle until B comes round again.
    RedirectTracker tracker(30);
    QVERIFY(tracker.addHop("GET", url("http://h/b"), {}).isNull());
    QVERIFY(tracker.addHop("GET", url("http://h/a"), {}).isNull());
    const Error error = tracker.addHop("GET", url("http://h/b"), {});
    QCOMPARE(error.kind(), Error::Kind::RedirectLoop);
    QVERIFY2(
        error.message().contains(QLatin1String("GET http://h/b")), qPrintable(error.message()));
}

QTEST_GUILESS_MAIN(TestRedirectPolicy)
#include "tst_redirectpolicy.moc"
