// The seed's single entry points, Reqivo (blocking) and AsyncReqivo (coroutines), against
// httpbin: what the constructor is given (base URL, timeout, default headers, limits) takes
// effect, the fluent chain (bearerToken, basicAuth, header, timeout, followRedirects, onRequest,
// onResponse with plain and coroutine hooks in the order added) is what httpbin receives, and
// close() closes idle connections while the facade stays usable.
//
// Every test body is written once, as a template over the facade type; fetch() is the only
// place where the two calling styles differ.
//
// Registered twice: tst_facades over HTTP/1.1, and tst_facades_h2 over HTTP/2 through the nginx
// with http2 in front of httpbin (support/http2mode.h). Each test checks which protocol
// answered.
#include "support/qcorotest.h"
#include "synctest.h"

#include <Reqivo/Reqivo>

#include <QCoroTimer>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SyncTest;
using Reqivo::Headers;
using Reqivo::Limits;
using Reqivo::RequestOptions;
using Reqivo::Response;
using Reqivo::Timeout;

namespace {

Response fetch(Reqivo::Reqivo &api, const QUrl &url, const RequestOptions &opts = {})
{
    return api.get(url, opts);
}
Response fetch(Reqivo::AsyncReqivo &api, const QUrl &url, const RequestOptions &opts = {})
{
    return ReqivoTest::runCoroutine(api.get(url, opts));
}
Response post(Reqivo::Reqivo &api, const QUrl &url, const Reqivo::Body &body)
{
    return api.post(url, body);
}
Response post(Reqivo::AsyncReqivo &api, const QUrl &url, const Reqivo::Body &body)
{
    return ReqivoTest::runCoroutine(api.post(url, body));
}

Reqivo::AsyncConnectionPool *poolOf(Reqivo::Reqivo &api)
{
    return api.session().async().pool();
}
Reqivo::AsyncConnectionPool *poolOf(Reqivo::AsyncReqivo &api)
{
    return api.session().pool();
}

template<typename Api>
void constructorArgumentsTakeEffect()
{
    Timeout timeout;
    timeout.read = 700ms;
    Limits limits;
    limits.maxBodyBytes = 1000;
    Api api(
        httpbinUrl(), timeout, Headers {{"X-From-Constructor", "yes"}, {"X-Second", "2"}}, limits);
    QCOMPARE(api.session().baseUrl(), httpbinUrl());
    QCOMPARE(api.session().timeout(), timeout);
    QCOMPARE(api.session().limits(), limits);

    // Base URL and headers.
    const Response r = fetch(api, QUrl(u"/headers"_s));
    QCOMPARE(r.status(), 200);
    QCOMPARE(r.httpVersion(), ReqivoTest::expectedHttpVersion());
    QCOMPARE(r.url(), httpbinUrl(u"/headers"_s));
    QCOMPARE(echoedHeader(r, u"X-From-Constructor"_s), u"yes"_s);
    QCOMPARE(echoedHeader(r, u"X-Second"_s), u"2"_s);
    // The session's own defaults are still there.
    QVERIFY(echoedHeader(r, u"User-Agent"_s).startsWith(u"Reqivo-Qt/"_s));
    // Timeout.
    const Outcome slow = attempt([&] { return fetch(api, QUrl(u"/delay/2"_s)); });
    EXPECT_ERROR(slow, "ReadTimeout");
    QVERIFY2(slow.took < 1900ms, qPrintable(QString::number(slow.took.count())));
    // Limits.
    const Outcome big = attempt([&] { return fetch(api, QUrl(u"/bytes/5000"_s)); });
    QVERIFY2(!big.ok() && big.error.isA(Reqivo::Error::Kind::Protocol), qPrintable(big.describe()));
    const Outcome small = attempt([&] { return fetch(api, QUrl(u"/bytes/500"_s)); });
    EXPECT_OK(small);
    QCOMPARE(small.response.body().size(), qsizetype(500));
}

template<typename Api>
void fluentChain()
{
    Api api(httpbinUrl());
    auto order = std::make_shared<QStringList>();
    Api &same
        = api.bearerToken(u"t0k3n"_s)
              .header("X-Fluent", "1")
              .timeout(Timeout::all(10s))
              .onRequest([](Reqivo::PreparedRequest &r) { r.headers.set("X-Order", "plain"); })
              .onRequest([](Reqivo::PreparedRequest &r) -> QCoro::Task<void> {
                  co_await QCoro::sleepFor(5ms);
                  r.headers.set("X-Order", r.headers.value("x-order").toByteArray() + ",coroutine");
              })
              .onRequest([](Reqivo::PreparedRequest &r) {
                  r.headers.set("X-Order", r.headers.value("x-order").toByteArray() + ",last");
              })
              .onResponse([order](Response r) {
                  order->append(u"plain:%1"_s.arg(r.status()));
                  return r;
              })
              .onResponse([order](Response r) -> QCoro::Task<Response> {
                  co_await QCoro::sleepFor(5ms);
                  order->append(u"coroutine:%1"_s.arg(r.status()));
                  Headers h = r.headers();
                  h.set("X-Seen-By", "hook");
                  r.setHeaders(h);
                  co_return r;
              })
              .onResponse([order](Response r) {
                  order->append(u"last:"_s
                      + QString::fromLatin1(r.headers().value("x-seen-by").toByteArray()));
                  return r;
              });
    QCOMPARE(&same, &api);
    QCOMPARE(api.session().timeout(), Timeout::all(10s));

    const Response r = fetch(api, QUrl(u"/headers"_s));
    QCOMPARE(r.status(), 200);
    QCOMPARE(r.httpVersion(), ReqivoTest::expectedHttpVersion());
    QCOMPARE(echoedHeader(r, u"Authorization"_s), u"Bearer t0k3n"_s);
    QCOMPARE(echoedHeader(r, u"X-Fluent"_s), u"1"_s);
    QCOMPARE(echoedHeader(r, u"X-Order"_s), u"plain,coroutine,last"_s);
    QCOMPARE(r.headers().value("x-seen-by").toByteArray(), QByteArray("hook"));
    QCOMPARE(*order, (QStringList {u"plain:200"_s, u"coroutine:200"_s, u"last:hook"_s}));

    // The bearer token really authenticates; basicAuth() replaces it.
    QCOMPARE(fetch(api, QUrl(u"/bearer"_s)).status(), 200);
    api.basicAuth(u"bob"_s, u"pa:ss"_s);
    const Response basic = fetch(api, QUrl(u"/headers"_s));
    QCOMPARE(echoedHeader(basic, u"Authorization"_s),
        u"Basic "_s + QString::fromLatin1(QByteArray("bob:pa:ss").toBase64()));
    QCOMPARE(fetch(api, QUrl(u"/basic-auth/bob/pa:ss"_s)).status(), 200);
    // (httpbin's /bearer accepts any Authorization, so the header itself is what tells.)

    // header() replaces a default of the same name.
    api.header("X-Fluent", "2");
    QCOMPARE(echoedHeader(fetch(api, QUrl(u"/headers"_s)), u"X-Fluent"_s), u"2"_s);
    // Verbs with bodies go through the same session.
    const Response posted = post(api, QUrl(u"/post"_s), Reqivo::Body::fromText(u"hi"_s));
    QCOMPARE(jsonOf(posted).value(u"data"_s).toString(), u"hi"_s);
    QCOMPARE(echoedHeader(posted, u"X-Order"_s), u"plain,coroutine,last"_s);
}

template<typename Api>
void redirectsAndClose()
{
    Api api(httpbinUrl());
    api.followRedirects(false);
    QCOMPARE(fetch(api, QUrl(u"/redirect/2"_s)).status(), 302);
    api.followRedirects(true, 1);
    EXPECT_ERROR(attempt([&] { return fetch(api, QUrl(u"/redirect/2"_s)); }), "TooManyRedirects");
    api.followRedirects(true);
    const Response followed = fetch(api, QUrl(u"/redirect/2"_s));
    QCOMPARE(followed.history().size(), qsizetype(2));
    QCOMPARE(followed.httpVersion(), ReqivoTest::expectedHttpVersion());

    // close(): idle connections are closed, the facade stays usable.
    QVERIFY(fetch(api, QUrl(u"/get"_s)).connectionReused());
    QVERIFY(poolOf(api)->totalCount() >= 1);
    api.close();
    QCOMPARE(poolOf(api)->totalCount(), 0);
    const Response after = fetch(api, QUrl(u"/get"_s));
    QCOMPARE(after.status(), 200);
    QCOMPARE(after.httpVersion(), ReqivoTest::expectedHttpVersion());
    QVERIFY(!after.connectionReused());
}

} // namespace

class TestFacades : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { ReqivoTest::trustHttp2PeersByDefault({u"httpbin"_s}); }

    void constructorArguments_data() { rows(); }
    void constructorArguments()
    {
        QFETCH(bool, blocking);
        if (blocking)
            constructorArgumentsTakeEffect<Reqivo::Reqivo>();
        else
            constructorArgumentsTakeEffect<Reqivo::AsyncReqivo>();
    }

    void fluentConfiguration_data() { rows(); }
    void fluentConfiguration()
    {
        QFETCH(bool, blocking);
        if (blocking)
            fluentChain<Reqivo::Reqivo>();
        else
            fluentChain<Reqivo::AsyncReqivo>();
    }

    void redirectsAndCloseIdle_data() { rows(); }
    void redirectsAndCloseIdle()
    {
        QFETCH(bool, blocking);
        if (blocking)
            redirectsAndClose<Reqivo::Reqivo>();
        else
            redirectsAndClose<Reqivo::AsyncReqivo>();
    }

    // Defaults: no base URL (absolute URLs only), the seed's 5 s timeout, the seed's limits.
    void defaults()
    {
        Reqivo::Reqivo api;
        QCOMPARE(api.session().baseUrl(), QUrl());
        QCOMPARE(api.session().timeout(), Timeout {});
        QCOMPARE(api.session().limits(), Limits {});
        QCOMPARE(api.session().maxRedirects(), 30);
        const Response r = api.get(httpbinUrl(u"/get"_s));
        QCOMPARE(r.status(), 200);
        QCOMPARE(r.httpVersion(), ReqivoTest::expectedHttpVersion());
        const Reqivo::Error relative = errorOf([&] { api.get(QUrl(u"/get"_s)); });
        QCOMPARE(relative.typeName(), u"RequestError"_s);
    }

private:
    static void rows()
    {
        QTest::addColumn<bool>("blocking");
        QTest::newRow("Reqivo") << true;
        QTest::newRow("AsyncReqivo") << false;
    }
};

QTEST_GUILESS_MAIN(TestFacades)
#include "tst_facades.moc"
