// AsyncSession redirects, per the seed's ADR-016 with the corrections of the client issue:
// chains and history() against httpbin, the method and body rules per status (RFC 9110 §15.4),
// hop limits, schemes that are not followed, credentials and cookies dropped when the origin
// (scheme, host, port) changes, and loop detection that flags true cycles but lets a login
// round trip A→B→A through. A scripted server plays the parts httpbin cannot.
#include "faultserver.h"
#include "sessiontest.h"
#include "support/peers.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Body>
#include <Reqivo/CookieJar>

#include <QBuffer>
#include <QFile>
#include <QJsonObject>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>

#include <memory>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::RequestOptions;
using Reqivo::Response;

namespace {

QUrl httpbinUrl(const QString &pathAndQuery = {})
{
    static const QUrl base
        = ReqivoTest::peerUrl(ReqivoTest::loadPeerEnv(u"httpbin"_s), u"HTTPBIN_URL"_s);
    return QUrl(base.toString() + pathAndQuery);
}

// /redirect-to?url=<target>&status_code=<status> on httpbin.
QUrl redirectTo(const QString &target, int status = 302)
{
    return httpbinUrl(u"/redirect-to?url=%1&status_code=%2"_s.arg(
        QString::fromLatin1(QUrl::toPercentEncoding(target)), QString::number(status)));
}

QJsonObject jsonOf(const Response &r)
{
    return r.json().object();
}

QString echoedHeader(const Response &r, const QString &name)
{
    return jsonOf(r).value(u"headers"_s).toObject().value(name).toString();
}

// Answers every request with its own head, so a test can read what was sent.
void echoHead(ServerConnection &c, const ReceivedRequest &r)
{
    QByteArray head = r.method + ' ' + r.target + "\r\n";
    for (const auto &[name, value] : r.fields)
        head += name.toLower() + ": " + value + "\r\n";
    c.write(httpResponse(200, head, "Content-Type: text/plain\r\n"));
}

} // namespace

class TestSessionRedirects : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void chainsAndHistory_data()
    {
        QTest::addColumn<QString>("start");
        QTest::addColumn<QStringList>("hops");
        QTest::newRow("/redirect/3")
            << u"/redirect/3"_s
            << QStringList {u"/redirect/3"_s, u"/relative-redirect/2"_s, u"/relative-redirect/1"_s};
        QTest::newRow("/relative-redirect/3")
            << u"/relative-redirect/3"_s
            << QStringList {
                   u"/relative-redirect/3"_s, u"/relative-redirect/2"_s, u"/relative-redirect/1"_s};
        QTest::newRow("/absolute-redirect/2")
            << u"/absolute-redirect/2"_s
            << QStringList {u"/absolute-redirect/2"_s, u"/absolute-redirect/1"_s};
    }
    void chainsAndHistory()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QString, start);
            QFETCH(QStringList, hops);
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(httpbinUrl(start)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.url(), httpbinUrl(u"/get"_s));
            CO_COMPARE(
                jsonOf(o.response).value(u"url"_s).toString(), httpbinUrl(u"/get"_s).toString());
            const QList<Response> history = o.response.history();
            CO_COMPARE(history.size(), hops.size());
            for (qsizetype i = 0; i < history.size(); ++i) {
                CO_COMPARE(history[i].status(), 302);
                CO_COMPARE(history[i].url(), httpbinUrl(hops[i]));
                CO_COMPARE(history[i].method(), QByteArray("GET"));
                CO_COMPARE(history[i].body(), QByteArray());
                CO_VERIFY(history[i].headers().contains("location"));
            }
            // Every hop went over the same kept-alive connection.
            CO_COMPARE(session.pool()->totalCount(), 1);
        }());
    }

    // RFC 9110 §15.4.2-15.4.9 as the seed applies them: 301/302 turn POST/PUT/PATCH into GET
    // and drop the body, 303 turns anything but HEAD into GET, 307/308 keep method and body.
    void methodAndBodyRules_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("expectedMethod");
        QTest::addColumn<bool>("keepsBody");
        const QByteArray post("POST"), get("GET");
        QTest::newRow("POST 301 → GET") << post << 301 << get << false;
        QTest::newRow("POST 302 → GET") << post << 302 << get << false;
        QTest::newRow("POST 303 → GET") << post << 303 << get << false;
        QTest::newRow("POST 307 keeps POST and body") << post << 307 << post << true;
        QTest::newRow("POST 308 keeps POST and body") << post << 308 << post << true;
        QTest::newRow("PUT 302 → GET") << QByteArray("PUT") << 302 << get << false;
        QTest::newRow("PATCH 301 → GET") << QByteArray("PATCH") << 301 << get << false;
        QTest::newRow("PUT 303 → GET") << QByteArray("PUT") << 303 << get << false;
        QTest::newRow("PUT 307 keeps PUT") << QByteArray("PUT") << 307 << QByteArray("PUT") << true;
        QTest::newRow("DELETE 302 keeps DELETE")
            << QByteArray("DELETE") << 302 << QByteArray("DELETE") << false;
        QTest::newRow("GET 308 keeps GET") << get << 308 << get << false;
    }
    void methodAndBodyRules()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, method);
            QFETCH(int, status);
            QFETCH(QByteArray, expectedMethod);
            QFETCH(bool, keepsBody);
            const bool hasBody = method != "GET" && method != "DELETE";
            RequestOptions opts;
            if (hasBody)
                opts.body = Body::fromJson(QJsonObject {{u"k"_s, u"v"_s}});
            AsyncSession session;
            const Outcome o = co_await attempt(
                session.request(method, redirectTo(u"/anything"_s, status), opts));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.method(), expectedMethod);
            CO_COMPARE(o.response.history().size(), qsizetype(1));
            CO_COMPARE(o.response.history().first().status(), status);
            CO_COMPARE(o.response.history().first().method(), method);
            const QJsonObject echo = jsonOf(o.response);
            CO_COMPARE(echo.value(u"method"_s).toString(), QString::fromLatin1(expectedMethod));
            if (keepsBody) {
                CO_COMPARE(echo.value(u"json"_s).toObject(), (QJsonObject {{u"k"_s, u"v"_s}}));
                CO_COMPARE(echoedHeader(o.response, u"Content-Type"_s), u"application/json"_s);
            } else {
                CO_COMPARE(echo.value(u"data"_s).toString(), QString());
                // A dropped body takes its framing and content fields with it.
                CO_COMPARE(echoedHeader(o.response, u"Content-Type"_s), QString());
                CO_COMPARE(echoedHeader(o.response, u"Transfer-Encoding"_s), QString());
                CO_VERIFY2(echoedHeader(o.response, u"Content-Length"_s).isEmpty()
                        || echoedHeader(o.response, u"Content-Length"_s) == u"0"_s,
                    qPrintable(echoedHeader(o.response, u"Content-Length"_s)));
            }
        }());
    }

    // A body that cannot be replayed is never silently resent: a 307/308 fails instead.
    void unreplayableBodyIsNotResent()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            AsyncSession session;
            const Body body
                = Body::fromGenerator([]() -> Body::Generator { co_yield QByteArray("once"); });
            const Outcome o = co_await attempt(session.post(redirectTo(u"/anything"_s, 307), body));
            CO_EXPECT_ERROR_ISA(o, Request);
            // ... while a 303 simply drops it.
            const Outcome see
                = co_await attempt(session.post(redirectTo(u"/anything"_s, 303), body));
            CO_EXPECT_OK(see);
            CO_COMPARE(jsonOf(see.response).value(u"method"_s).toString(), u"GET"_s);
        }());
    }

    // A random-access device body is rewound and sent again after a 307.
    void deviceBodyReplayedAfter307()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QBuffer buffer;
            buffer.setData("head|device payload");
            buffer.open(QIODevice::ReadOnly);
            buffer.seek(5);
            AsyncSession session;
            const Outcome o = co_await attempt(
                session.post(redirectTo(u"/anything"_s, 307), Body::fromDevice(&buffer)));
            CO_EXPECT_OK(o);
            CO_COMPARE(jsonOf(o.response).value(u"method"_s).toString(), u"POST"_s);
            CO_COMPARE(jsonOf(o.response).value(u"data"_s).toString(), u"device payload"_s);
        }());
    }

    // Timeout::total covers the whole chain, not each hop.
    void totalDeadlineCoversTheChain()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                const int hop = r.target.mid(1).toInt();
                QTimer::singleShot(150ms, &c, [&c, hop] {
                    c.write(httpResponse(
                        302, {}, "Location: /" + QByteArray::number(hop + 1) + "\r\n", "Found"));
                });
            });
            AsyncSession session;
            Reqivo::Timeout t;
            t.read = 1s;
            t.total = 500ms;
            session.setTimeout(t);
            const Outcome o = co_await attempt(session.get(server.url(u"/0"_s)));
            CO_EXPECT_ERROR_ISA(o, Timeout);
            CO_VERIFY2(o.took >= 450ms && o.took < 1000ms,
                qPrintable(u"took %1 ms"_s.arg(o.took.count())));
            CO_VERIFY2(server.requests().size() >= 3 && server.requests().size() <= 4,
                qPrintable(QString::number(server.requests().size())));
        }());
    }

    void hopLimits()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            AsyncSession session;
            CO_COMPARE(session.maxRedirects(), 30);
            session.setMaxRedirects(2);
            const Outcome over = co_await attempt(session.get(httpbinUrl(u"/redirect/3"_s)));
            CO_EXPECT_ERROR(over, "TooManyRedirects");

            session.setMaxRedirects(3);
            const Outcome exact = co_await attempt(session.get(httpbinUrl(u"/redirect/3"_s)));
            CO_EXPECT_OK(exact);
            CO_COMPARE(exact.response.history().size(), qsizetype(3));

            RequestOptions one;
            one.maxRedirects = 1;
            const Outcome perRequest
                = co_await attempt(session.get(httpbinUrl(u"/redirect/2"_s), one));
            CO_EXPECT_ERROR(perRequest, "TooManyRedirects");
        }());
    }

    void notFollowing()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            AsyncSession session;
            session.setFollowRedirects(false);
            const Outcome o = co_await attempt(session.get(httpbinUrl(u"/redirect/1"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 302);
            CO_VERIFY(o.response.isRedirect());
            CO_VERIFY(!o.response.isSuccess());
            CO_COMPARE(o.response.headers().value("location").toByteArray(), QByteArray("/get"));
            CO_COMPARE(o.response.history().size(), qsizetype(0));
            CO_COMPARE(o.response.url(), httpbinUrl(u"/redirect/1"_s));

            // The per-request option wins over the session's.
            session.setFollowRedirects(true);
            RequestOptions noFollow;
            noFollow.followRedirects = false;
            const Outcome perRequest
                = co_await attempt(session.get(httpbinUrl(u"/redirect/1"_s), noFollow));
            CO_EXPECT_OK(perRequest);
            CO_COMPARE(perRequest.response.status(), 302);
        }());
    }

    // Only http and https targets are followed (no file:, ftp:, javascript:, data:).
    void nonHttpTargetIsAnError_data()
    {
        QTest::addColumn<QString>("target");
        QTest::newRow("ftp") << u"ftp://127.0.0.1/file"_s;
        QTest::newRow("file") << u"file:///etc/passwd"_s;
        QTest::newRow("javascript") << u"javascript:alert(1)"_s;
        QTest::newRow("data") << u"data:text/plain,hi"_s;
    }
    void nonHttpTargetIsAnError()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QString, target);
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(redirectTo(target)));
            CO_EXPECT_ERROR_ISA(o, Request);
            CO_VERIFY2(!o.error.isA(Reqivo::Error::Kind::Network)
                    && !o.error.isA(Reqivo::Error::Kind::Timeout),
                qPrintable(o.error.toString()));
        }());
    }

    // Origin = (scheme, host, port). Authorization and Cookie go only to the origin they were
    // meant for; the jar's cookies are re-derived for each hop. (Proxy-Authorization is never a
    // request field: proxies are tunnels here, see tst_session_pipeline.)
    void credentialsStayWithTheirOrigin_data()
    {
        QTest::addColumn<int>("target"); // 0 same origin, 1 other host name, 2 other port
        QTest::addColumn<bool>("sessionAuth"); // else an explicit Authorization header
        QTest::newRow("same origin, session auth") << 0 << true;
        QTest::newRow("same origin, explicit header") << 0 << false;
        QTest::newRow("localhost instead of 127.0.0.1, session auth") << 1 << true;
        QTest::newRow("localhost instead of 127.0.0.1, explicit header") << 1 << false;
        QTest::newRow("other port, session auth") << 2 << true;
        QTest::newRow("other port, explicit header") << 2 << false;
    }
    void credentialsStayWithTheirOrigin()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(int, target);
            QFETCH(bool, sessionAuth);
            FaultServer otherPort(echoHead);
            AsyncSession session;
            // A host-only cookie for 127.0.0.1:httpbin.
            CO_EXPECT_OK(co_await attempt(session.get(httpbinUrl(u"/cookies/set?jar=1"_s))));
            RequestOptions opts;
            if (sessionAuth)
                session.setBasicAuth(u"user"_s, u"secret"_s);
            else
                opts.header("Authorization", "Bearer secret-token");

            QString url;
            switch (target) {
            case 0:
                url = httpbinUrl(u"/headers"_s).toString();
                break;
            case 1:
                url = u"http://localhost:%1/headers"_s.arg(httpbinUrl().port());
                break;
            case 2:
                url = otherPort.url(u"/headers"_s).toString();
                break;
            }
            const Outcome o = co_await attempt(session.get(redirectTo(url), opts));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.url().toString(), url);
            QString authorization, cookie;
            if (target == 2) {
                const ReceivedRequest &seen = otherPort.requests().last();
                authorization = QString::fromLatin1(seen.field("authorization"));
                cookie = QString::fromLatin1(seen.field("cookie"));
            } else {
                authorization = echoedHeader(o.response, u"Authorization"_s);
                cookie = echoedHeader(o.response, u"Cookie"_s);
            }
            if (target == 0) {
                CO_VERIFY2(!authorization.isEmpty(), "same origin keeps Authorization");
            } else {
                CO_COMPARE(authorization, QString());
            }
            // The jar decides cookies per hop: a host-only cookie of 127.0.0.1 is not sent to
            // localhost, but it is sent to another port of 127.0.0.1 (RFC 6265 §8.5: cookies
            // are not isolated by port).
            CO_COMPARE(cookie, target == 1 ? QString() : u"jar=1"_s);
        }());
    }

    // A Cookie header the caller wrote is meant for the first origin only.
    void explicitCookieHeaderStaysWithItsOrigin_data()
    {
        QTest::addColumn<bool>("sameOrigin");
        QTest::newRow("same origin") << true;
        QTest::newRow("other port") << false;
    }
    void explicitCookieHeaderStaysWithItsOrigin()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(bool, sameOrigin);
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                if (r.target == "/start")
                    c.write(httpResponse(302, {}, "Location: /end\r\n", "Found"));
                else
                    echoHead(c, r);
            });
            FaultServer other(echoHead);
            AsyncSession session;
            const QUrl target = sameOrigin ? server.url(u"/start"_s)
                                           : redirectTo(other.url(u"/end"_s).toString());
            const Outcome o = co_await attempt(
                session.get(target, RequestOptions().header("Cookie", "manual=1")));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.history().size(), qsizetype(1));
            const ReceivedRequest &last = (sameOrigin ? server : other).requests().last();
            CO_COMPARE(last.target, QByteArray("/end"));
            CO_COMPARE(last.field("cookie"), sameOrigin ? QByteArray("manual=1") : QByteArray());
        }());
    }

    // The scheme alone makes another origin (the correction to ADR-016): one server on
    // one port answers TLS and plain HTTP, and redirects from one to the other.
    void schemeChangeOnTheSameHostAndPort_data()
    {
        QTest::addColumn<bool>("fromTls");
        QTest::newRow("https → http") << true;
        QTest::newRow("http → https") << false;
    }
    void schemeChangeOnTheSameHostAndPort()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(bool, fromTls);
            const auto nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
            const QSslConfiguration serverTls = nginxServerTls(nginx);
            CO_VERIFY(!serverTls.privateKey().isNull());

            FaultServer server;
            server.enableTls(serverTls);
            const QUrl start = fromTls ? server.httpsUrl(u"/start"_s) : server.url(u"/start"_s);
            const QUrl end = fromTls ? server.url(u"/end"_s) : server.httpsUrl(u"/end"_s);
            server.setHandler([end](ServerConnection &c, const ReceivedRequest &r) {
                if (r.target == "/start")
                    c.write(httpResponse(302, {},
                        "Set-Cookie: plain=1; Path=/\r\nSet-Cookie: sec=1; Path=/; Secure\r\n"
                        "Location: "
                            + end.toEncoded() + "\r\n",
                        "Found"));
                else
                    c.write(httpResponse(200, "ok"));
            });
            AsyncSession session;
            Reqivo::TlsOptions tls;
            CO_VERIFY(
                tls.addCaCertificatesFromFile(ReqivoTest::peerValue(nginx, u"NGINX_CA_FILE"_s)));
            session.setTlsOptions(tls);
            session.setBasicAuth(u"user"_s, u"secret"_s);
            const Outcome o = co_await attempt(session.get(start));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.url(), end);
            CO_COMPARE(server.requests().size(), qsizetype(2));
            const ReceivedRequest &first = server.requests().at(0);
            const ReceivedRequest &second = server.requests().at(1);
            CO_COMPARE(first.tls, fromTls);
            CO_COMPARE(second.tls, !fromTls);
            CO_VERIFY2(!first.field("authorization").isEmpty(), first.head.constData());
            CO_COMPARE(second.field("authorization"), QByteArray());
            // Cookies follow RFC 6265, not origins: "plain" goes to either scheme; "sec" only
            // over TLS, and it is refused outright when an http:// response sets it.
            CO_COMPARE(second.field("cookie"), QByteArray("plain=1"));
        }());
    }

    // A true cycle (the same request again) is flagged at once...
    void redirectLoop_data()
    {
        QTest::addColumn<QByteArray>("start");
        QTest::newRow("self") << QByteArray("/self");
        QTest::newRow("A → B → A") << QByteArray("/a");
    }
    void redirectLoop()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, start);
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                const QByteArray to = r.target == "/a" ? "/b" : r.target == "/b" ? "/a" : "/self";
                c.write(httpResponse(302, {}, "Location: " + to + "\r\n", "Found"));
            });
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url(QString::fromLatin1(start))));
            CO_EXPECT_ERROR(o, "RedirectLoopError");
            CO_VERIFY2(server.requests().size() <= 3,
                qPrintable(QString::number(server.requests().size())));
        }());
    }

    // ... but a login round trip A → login → A, where the second visit to A carries the cookie
    // the login set, is a different request and must succeed.
    void loginRoundTripIsNotALoop()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                if (r.target == "/app" && r.field("cookie") != "session=ok")
                    c.write(httpResponse(302, {}, "Location: /login\r\n", "Found"));
                else if (r.target == "/login")
                    c.write(httpResponse(
                        302, {}, "Set-Cookie: session=ok; Path=/\r\nLocation: /app\r\n", "Found"));
                else
                    c.write(httpResponse(200, "welcome"));
            });
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url(u"/app"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), QByteArray("welcome"));
            CO_COMPARE(o.response.history().size(), qsizetype(2));
            CO_COMPARE(o.response.history().at(0).url().path(), u"/app"_s);
            CO_COMPARE(o.response.history().at(1).url().path(), u"/login"_s);
            CO_COMPARE(server.requests().size(), qsizetype(3));
        }());
    }

    void locationResolution_data()
    {
        QTest::addColumn<QByteArray>("location");
        QTest::addColumn<QString>("expectedTarget");
        QTest::newRow("relative path") << QByteArray("next?x=1") << u"/dir/next?x=1"_s;
        QTest::newRow("dot segments") << QByteArray("../up") << u"/up"_s;
        QTest::newRow("absolute path") << QByteArray("/root") << u"/root"_s;
        QTest::newRow("query only") << QByteArray("?q=2") << u"/dir/page?q=2"_s;
        QTest::newRow("fragment is not sent") << QByteArray("/frag#part") << u"/frag"_s;
    }
    void locationResolution()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, location);
            QFETCH(QString, expectedTarget);
            FaultServer server([location](ServerConnection &c, const ReceivedRequest &r) {
                if (r.target == "/dir/page")
                    c.write(httpResponse(301, {}, "Location: " + location + "\r\n", "Moved"));
                else
                    c.write(httpResponse(200, r.target));
            });
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url(u"/dir/page"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(QString::fromLatin1(o.response.body()), expectedTarget);
        }());
    }

    // A 3xx without Location is a final response (RFC 9110 §15.4: nothing to follow).
    void redirectWithoutLocation()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(302, "nowhere", {}, "Found"));
            });
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 302);
            CO_COMPARE(o.response.body(), QByteArray("nowhere"));
            CO_VERIFY(!o.response.isRedirect());
            CO_COMPARE(o.response.history().size(), qsizetype(0));
        }());
    }
};

QTEST_GUILESS_MAIN(TestSessionRedirects)
#include "tst_session_redirects.moc"
