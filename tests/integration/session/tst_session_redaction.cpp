// No secret in any log line or error message (docs/observability.md, "Logs and redaction").
//
// One run does what an application does with secrets: Basic, Bearer and Digest against httpbin,
// cookies set by the server and sent back, user info in a URL, token and api_key query values,
// proxy credentials (Basic in absolute form, Digest on a CONNECT tunnel to nginx over TLS), a
// WebSocket with a bearer token and an access_token in its URL, a blocking Session, and requests
// that fail with the secrets in their URLs. Every reqivo.* category is enabled at debug level
// and every line is captured (qInstallMessageHandler), and so is every error's text: none may
// contain a secret, in any spelling (raw, percent-encoded, base64 of user:password). The test
// also checks the lines it expects are there, so a silent logger cannot pass it.
#include "../websocket/wstest.h"
#include "faultserver.h"
#include "sessiontest.h"
#include "support/peers.h"
#include "unit/transport/testproxies.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Session>
#include <Reqivo/eventsource.h>
#include <Reqivo/redaction.h>
#include <Reqivo/websocket.h>

#include <QLoggingCategory>
#include <QMutex>
#include <QNetworkProxy>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Error;

namespace {

// Each secret is unique in the run, so finding it anywhere is a leak.
const QString basicUser = u"basicUser7f3"_s;
const QString basicPassword = u"basicPass-0x1b"_s;
const QString bearerToken = u"bearerTok-0x2c"_s;
const QString digestUser = u"digestUser9e"_s;
const QString cookieValue = u"cookieVal-0x4e"_s;
const QString urlUser = u"urlUser5a"_s;
const QString urlPassword = u"urlPass-0x5f"_s;
const QString queryToken = u"queryTok-0x6a"_s;
const QString queryApiKey = u"apiKey-0x7b"_s;
const QString customSecret = u"custom-0x7c"_s;
const QString proxyUser = u"proxyUser8c"_s;
const QString proxyPassword = u"proxyPass-0x8d"_s;
const QString proxyDigestPassword = u"proxyDigest-0x8e"_s;
const QString wsBearer = u"wsBearer-0x9f"_s;
const QString wsToken = u"wsTok-0xa1"_s;
const QString errorPassword = u"errPass-0xb2"_s;
const QString errorToken = u"errTok-0xc3"_s;
const QString syncToken = u"syncTok-0xd4"_s;

QStringList secrets()
{
    QStringList values {basicPassword, bearerToken, cookieValue, urlPassword, queryToken,
        queryApiKey, customSecret, proxyPassword, proxyDigestPassword, wsBearer, wsToken,
        errorPassword, errorToken, syncToken};
    // Credentials also travel as base64 of user:password.
    const auto base64 = [](const QString &user, const QString &password) {
        return QString::fromLatin1((user + u':' + password).toUtf8().toBase64());
    };
    values << base64(basicUser, basicPassword) << base64(urlUser, urlPassword)
           << base64(proxyUser, proxyPassword) << base64(urlUser, errorPassword);
    QStringList all = values;
    for (const QString &value : values)
        all << QString::fromLatin1(QUrl::toPercentEncoding(value));
    all.removeDuplicates();
    return all;
}

// Everything printed through Qt's logging while the run lasts.
QMutex s_linesMutex;
QStringList s_lines;
QtMessageHandler s_previous = nullptr;

void capture(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    {
        const QMutexLocker lock(&s_linesMutex);
        s_lines << QString::fromLatin1(context.category ? context.category : "default") + u": "_s
                + message;
    }
    if (type == QtFatalMsg && s_previous)
        s_previous(type, context, message);
}

QStringList linesOf(const char *category)
{
    const QMutexLocker lock(&s_linesMutex);
    QStringList found;
    const QString prefix = QString::fromLatin1(category) + u": "_s;
    for (const QString &line : std::as_const(s_lines)) {
        if (line.startsWith(prefix))
            found << line;
    }
    return found;
}

} // namespace

class TestSessionRedaction : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        // As QT_LOGGING_RULES="reqivo.*=true" would.
        QLoggingCategory::setFilterRules(u"reqivo.*=true"_s);
        s_previous = qInstallMessageHandler(capture);
    }
    void cleanupTestCase() { qInstallMessageHandler(s_previous); }

    void noSecretInAnyLogLineOrError()
    {
        QStringList errors; // every error's toString(), message, detail and URL
        const auto keep = [&errors](const Error &e) {
            errors << e.toString() << e.message() << e.detail() << e.url().toString()
                   << e.url().toString(QUrl::FullyEncoded);
        };
        RUN_CORO(runAsync(keep));
        runBlocking(keep);
        runWebSocket(keep);
        QCOMPARE(errors.size() % 5, 0);
        QVERIFY2(errors.size() == 6 * 5, "the failing requests did not fail");

        const QStringList lines = [] {
            const QMutexLocker lock(&s_linesMutex);
            return s_lines;
        }();
        // The lines are there...
        const QStringList http = linesOf("reqivo.http");
        const auto has = [&http](const QString &what) {
            return std::any_of(http.cbegin(), http.cend(),
                [&what](const QString &line) { return line.contains(what); });
        };
        QVERIFY2(http.size() > 50, qPrintable(u"only %1 reqivo.http lines"_s.arg(http.size())));
        for (const QString &expected :
            {u"Authorization: Basic <redacted>"_s, u"Authorization: Bearer <redacted>"_s,
                u"Authorization: Digest <redacted>"_s, u"Proxy-Authorization: Basic <redacted>"_s,
                u"Cookie: sessionid=<redacted>"_s, u"Set-Cookie: sessionid=<redacted>"_s,
                u"token=<redacted>"_s, u"api_key=<redacted>"_s, u"session_key=<redacted>"_s,
                u"sessionid=<redacted>"_s, u"Location: http://127.0.0.1"_s}) {
            QVERIFY2(has(expected), qPrintable(u"no reqivo.http line shows "_s + expected));
        }
        for (const QString &line : lines)
            QVERIFY2(
                !line.contains(u"response=\""_s), qPrintable(u"a Digest answer in: "_s + line));
        QVERIFY2(!linesOf("reqivo.pool").isEmpty(), "no reqivo.pool line");
        QVERIFY2(!linesOf("reqivo.tls").isEmpty(), "no reqivo.tls line");
        QVERIFY2(!linesOf("reqivo.ws").isEmpty(), "no reqivo.ws line");
        // ... and none shows a secret, nor does any error.
        const QStringList all = secrets();
        for (const QString &text : lines + errors) {
            for (const QString &secret : all) {
                QVERIFY2(!text.contains(secret),
                    qPrintable(u"secret \"%1\" in: %2"_s.arg(secret, text)));
            }
        }
    }

private:
    template<typename Keep>
    QCoro::Task<void> runAsync(Keep keep)
    {
        const auto httpbin = ReqivoTest::loadPeerEnv(u"httpbin"_s);
        const auto nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
        const QUrl base(ReqivoTest::peerValue(httpbin, u"HTTPBIN_URL"_s));
        const auto url
            = [&base](const QString &pathAndQuery) { return base.resolved(QUrl(pathAndQuery)); };

        AsyncSession session;
        session.setProxy(QNetworkProxy(QNetworkProxy::NoProxy));
        session.setRedactedQueryParameters(
            Reqivo::defaultRedactedQueryNames() << u"session_key"_s << u"sessionid"_s);

        // Basic, Bearer, Digest.
        session.setBasicAuth(basicUser, basicPassword);
        // Not /basic-auth/user/password: httpbin takes the password in the path. /headers
        // echoes the Authorization field, so the body shows the credentials did go out.
        const QUrl basicUrl = url(u"/headers"_s);
        const QUrl bearerUrl = url(u"/bearer"_s);
        const QUrl setCookieUrl = url(u"/cookies/set?sessionid=%1"_s.arg(cookieValue));
        const QUrl cookiesUrl = url(u"/cookies"_s);
        const QUrl proxiedUrl = url(u"/get?token=%1"_s.arg(queryToken));
        const QUrl statusUrl = url(u"/status/401?api_key=%1"_s.arg(errorToken));
        Outcome o = co_await attempt(session.get(basicUrl));
        CO_EXPECT_OK(o);
        CO_VERIFY(
            o.response.body().contains((basicUser + u':' + basicPassword).toUtf8().toBase64()));
        session.setBearerToken(bearerToken);
        o = co_await attempt(session.get(bearerUrl));
        CO_EXPECT_OK(o);
        CO_COMPARE(o.response.status(), 200);
        session.clearAuth();
        // httpbin takes the expected password in its path, which the logs show: for Digest the
        // check is that the answer (Authorization: Digest ...) is redacted, response= and all.
        const QUrl digestUrl = url(u"/digest-auth/auth/%1/pw-d/SHA-256"_s.arg(digestUser));
        session.setDigestAuth(digestUser, u"pw-d"_s);
        o = co_await attempt(session.get(digestUrl));
        CO_EXPECT_OK(o);
        CO_COMPARE(o.response.status(), 200);
        session.clearAuth();

        // Cookies: set by the server (Set-Cookie), sent back (Cookie). The query that sets it
        // names a parameter the session was told to redact.
        o = co_await attempt(session.get(setCookieUrl));
        CO_EXPECT_OK(o);
        o = co_await attempt(session.get(cookiesUrl));
        CO_EXPECT_OK(o);
        CO_VERIFY(o.response.body().contains(cookieValue.toUtf8()));

        // User info in the URL, secret query values (default names and the session's own).
        QUrl withUserInfo = url(u"/get?token=%1&api_key=%2&session_key=%3&page=2"_s.arg(
            queryToken, queryApiKey, customSecret));
        withUserInfo.setUserName(urlUser);
        withUserInfo.setPassword(urlPassword);
        o = co_await attempt(session.get(withUserInfo));
        CO_EXPECT_OK(o);
        CO_VERIFY(o.response.body().contains(queryToken.toUtf8())); // it did reach the server

        // Proxy credentials: Basic in absolute form (http://), Digest on a CONNECT tunnel.
        {
            ReqivoTest::HttpConnectProxy proxy;
            CO_VERIFY(proxy.listen());
            proxy.requiredAuthorization
                = "Basic " + (proxyUser + u':' + proxyPassword).toUtf8().toBase64();
            AsyncSession proxied;
            proxied.setProxy(QNetworkProxy(
                QNetworkProxy::HttpProxy, u"127.0.0.1"_s, proxy.port(), proxyUser, proxyPassword));
            o = co_await attempt(proxied.get(proxiedUrl));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
        }
        {
            ReqivoTest::HttpConnectProxy proxy;
            CO_VERIFY(proxy.listen());
            proxy.digestUser = proxyUser.toUtf8();
            proxy.digestPassword = proxyDigestPassword.toUtf8();
            AsyncSession proxied;
            Reqivo::TlsOptions tls;
            CO_VERIFY(
                tls.addCaCertificatesFromFile(ReqivoTest::peerValue(nginx, u"NGINX_CA_FILE"_s)));
            proxied.setTlsOptions(tls);
            proxied.setProxy(QNetworkProxy(QNetworkProxy::HttpProxy, u"127.0.0.1"_s, proxy.port(),
                proxyUser, proxyDigestPassword));
            QUrl secure = ReqivoTest::peerUrl(nginx, u"NGINX_HTTPS_URL"_s, u"/small.txt"_s);
            secure.setQuery(u"access_token="_s + queryToken);
            o = co_await attempt(proxied.get(secure));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
        }

        // Failures with secrets in the URL: refused, a redirect to a closed port, a 401 raised.
        const quint16 closed = [] {
            QTcpServer server;
            server.listen(QHostAddress::LocalHost, 0);
            return server.serverPort();
        }();
        QUrl refused(u"http://127.0.0.1:%1/x?token=%2&sig=%2"_s.arg(closed).arg(errorToken));
        refused.setUserName(urlUser);
        refused.setPassword(errorPassword);
        o = co_await attempt(session.get(refused));
        CO_VERIFY(!o.ok());
        keep(o.error);
        // A redirect (its Location logged too) to a closed port.
        const QByteArray target = refused.toEncoded(QUrl::RemoveUserInfo);
        FaultServer redirector([target](ServerConnection &c, const ReceivedRequest &) {
            c.write("HTTP/1.1 302 Found\r\nLocation: " + target + "\r\nContent-Length: 0\r\n\r\n");
        });
        const QUrl redirecting = redirector.url(u"/go?token=%1"_s.arg(errorToken));
        o = co_await attempt(session.get(redirecting));
        CO_VERIFY(!o.ok());
        keep(o.error);
        o = co_await attempt(session.get(statusUrl));
        CO_EXPECT_OK(o);
        try {
            o.response.raiseForStatus();
            CO_VERIFY2(false, "raiseForStatus() did not throw");
        } catch (const Reqivo::ReqivoError &e) {
            keep(e.error());
        }
    }

    template<typename Keep>
    void runBlocking(Keep keep)
    {
        const auto httpbin = ReqivoTest::loadPeerEnv(u"httpbin"_s);
        Reqivo::Session session;
        session.setProxy(QNetworkProxy(QNetworkProxy::NoProxy));
        session.setBearerToken(bearerToken);
        const QUrl base(ReqivoTest::peerValue(httpbin, u"HTTPBIN_URL"_s));
        const Reqivo::Response r
            = session.get(base.resolved(QUrl(u"/get?refresh_token=%1"_s.arg(syncToken))));
        QCOMPARE(r.status(), 200);
        try {
            session.get(QUrl(u"http://127.0.0.1:1/?password=%1"_s.arg(syncToken)));
            QFAIL("a request to port 1 succeeded");
        } catch (const Reqivo::ReqivoError &e) {
            keep(e.error());
        }
        // An event stream that cannot connect, with a token in its URL.
        Reqivo::EventSourceOptions options;
        options.maxReconnectAttempts = 0;
        const std::unique_ptr<Reqivo::EventSource> events = session.eventSource(
            QUrl(u"http://127.0.0.1:1/events?token=%1"_s.arg(syncToken)), options);
        try {
            events->next();
            QFAIL("an event stream from port 1 gave an event");
        } catch (const Reqivo::ReqivoError &e) {
            keep(e.error());
        }
    }

    template<typename Keep>
    void runWebSocket(Keep keep)
    {
        ReqivoTest::TestServer server;
        QVERIFY(server.listen());
        Reqivo::Session session;
        session.setProxy(QNetworkProxy(QNetworkProxy::NoProxy));
        session.setBearerToken(wsBearer);
        QUrl url = server.url(u"/feed"_s);
        url.setQuery(u"access_token="_s + wsToken);
        {
            const std::unique_ptr<Reqivo::WebSocket> socket = session.webSocket(url);
            socket->open();
            socket->send(u"hello"_s);
            QCOMPARE(socket->receive(5s).text(), u"hello"_s);
            socket->close();
        }
        QCOMPARE(server.requests.last().rawHeader("Authorization"),
            "Bearer " + wsBearer.toUtf8()); // it did carry the token
        // A failed open with the token in its URL.
        QUrl refused(u"ws://127.0.0.1:1/feed?token=%1"_s.arg(errorToken));
        const std::unique_ptr<Reqivo::WebSocket> socket = session.webSocket(refused);
        try {
            socket->open();
            QFAIL("a WebSocket to port 1 opened");
        } catch (const Reqivo::ReqivoError &e) {
            keep(e.error());
        }
    }
};

QTEST_GUILESS_MAIN(TestSessionRedaction)
#include "tst_session_redaction.moc"
