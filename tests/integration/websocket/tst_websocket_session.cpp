// The four ways to open a WebSocket from a session: AsyncSession::webSocket(),
// AsyncReqivo::webSocket(), Session::webSocket() and Reqivo::webSocket(). Each opens a URL
// relative to the base URL (http → ws, https → wss) and the handshake carries the session's
// default headers, its jar's cookies (Secure ones only over wss), Bearer or Basic auth and, for
// wss, its TLS options: checked against a QWebSocketServer, in SecureMode with certificates made
// at test time (tests/support/make-certs.sh) for wss. A CA the session does not trust fails the
// open with a WebSocketError that says TLS, before any handshake reaches the server. The
// session's proxy (HTTP CONNECT or SOCKS5, with or without credentials) carries ws and wss.
#include "wstest.h"

#include "unit/transport/testproxies.h"

// reqivo.h declares the class Reqivo::Reqivo: no `using namespace Reqivo;` in this file.
#include <Reqivo/reqivo.h>

#include <Reqivo/asyncsession.h>

#include <QNetworkCookie>
#include <QNetworkProxy>
#include <QPointer>
#include <QScopeGuard>
#include <QSslCertificate>
#include <QSslKey>
#include <QTemporaryDir>

#include <algorithm>
#include <optional>

using namespace ReqivoTest;
using namespace std::chrono_literals;

namespace {

enum class Entry { AsyncSession, AsyncReqivo, Session, Reqivo };
enum class Auth { Bearer, Basic };

const char *entryName(Entry entry)
{
    switch (entry) {
    case Entry::AsyncSession:
        return "AsyncSession::webSocket";
    case Entry::AsyncReqivo:
        return "AsyncReqivo::webSocket";
    case Entry::Session:
        return "Session::webSocket";
    case Entry::Reqivo:
        return "Reqivo::webSocket";
    }
    return "?";
}

const Entry allEntries[] = {Entry::AsyncSession, Entry::AsyncReqivo, Entry::Session, Entry::Reqivo};

//! What the session is given before the socket is made.
struct Config
{
    QUrl base;
    Auth auth = Auth::Bearer;
    Reqivo::TlsOptions tls;
};

const QByteArray bearerHeader = "Bearer tok-1";
const QByteArray basicHeader = "Basic Ym9iOnB3"; // bob:pw

//! A plain cookie for the base URL and a Secure one (set through https, so the jar takes it),
//! which may only go to wss://.
QString addCookies(Reqivo::CookieJar *jar, const QUrl &base)
{
    QUrl secureOrigin = base;
    secureOrigin.setScheme(QStringLiteral("https"));
    QNetworkCookie secure("ssid", "s3");
    secure.setSecure(true);
    if (!jar->setCookie(QNetworkCookie("sid", "abc"), base))
        return QStringLiteral("the jar refused the plain cookie");
    if (!jar->setCookie(secure, secureOrigin))
        return QStringLiteral("the jar refused the Secure cookie");
    return {};
}

//! AsyncSession or Session: both spell their setters the same way.
template<typename S>
QString configureSession(S &session, const Config &config)
{
    session.setDefaultHeader("X-Default", "from-session");
    if (config.auth == Auth::Bearer)
        session.setBearerToken(QStringLiteral("tok-1"));
    else
        session.setBasicAuth(QStringLiteral("bob"), QStringLiteral("pw"));
    session.setTlsOptions(config.tls);
    return addCookies(session.cookieJar(), config.base);
}

//! AsyncReqivo or Reqivo, through the fluent API.
template<typename F>
QString configureFacade(F &api, const Config &config)
{
    api.header("X-Default", "from-session").tls(config.tls);
    if (config.auth == Auth::Bearer)
        api.bearerToken(QStringLiteral("tok-1"));
    else
        api.basicAuth(QStringLiteral("bob"), QStringLiteral("pw"));
    return addCookies(api.session().cookieJar(), config.base);
}

//! Open, echo one message, close. The error of the call that failed, or a null Error.
QCoro::Task<Reqivo::Error> converseAsync(Reqivo::AsyncWebSocket *socket, QString *echoed)
{
    try {
        co_await socket->open();
        const QString hello = QStringLiteral("hello");
        co_await socket->sendText(hello);
        const Reqivo::WebSocketMessage reply = co_await socket->receive(5s);
        *echoed = reply.text();
        co_await socket->close();
    } catch (...) {
        co_return Reqivo::Error::fromException(std::current_exception());
    }
    co_return Reqivo::Error();
}

Reqivo::Error converseSync(Reqivo::WebSocket &socket, QString *echoed)
{
    try {
        socket.open();
        socket.send(QStringLiteral("hello"));
        *echoed = socket.receive(5s).text();
        socket.close();
    } catch (...) {
        return Reqivo::Error::fromException(std::current_exception());
    }
    return Reqivo::Error();
}

struct Outcome
{
    Reqivo::Error error; //!< of the first call that failed
    QString echoed;
    QString problem; //!< set up or ownership went wrong (not the socket's calls)
};

//! Makes a session (or facade) from \a config, opens \a relative through \a entry and has a
//! short conversation. The in-process server runs meanwhile: the async entries run in
//! runCoroutine()'s loop, the blocking ones in their own nested loops.
Outcome converse(Entry entry, const Config &config, const QUrl &relative)
{
    Outcome out;
    switch (entry) {
    case Entry::AsyncSession: {
        Reqivo::AsyncSession session(config.base);
        out.problem = configureSession(session, config);
        Reqivo::AsyncWebSocket *socket = session.webSocket(relative);
        if (socket->parent() != &session)
            out.problem = QStringLiteral("the socket is not a child of the session");
        out.error = runCoroutine(converseAsync(socket, &out.echoed));
        break;
    }
    case Entry::AsyncReqivo: {
        Reqivo::AsyncReqivo api(config.base);
        out.problem = configureFacade(api, config);
        Reqivo::AsyncWebSocket *socket = api.webSocket(relative);
        if (socket->parent() != &api.session())
            out.problem = QStringLiteral("the socket is not a child of the facade's session");
        out.error = runCoroutine(converseAsync(socket, &out.echoed));
        break;
    }
    case Entry::Session: {
        Reqivo::Session session(config.base);
        out.problem = configureSession(session, config);
        const std::unique_ptr<Reqivo::WebSocket> socket = session.webSocket(relative);
        out.error = converseSync(*socket, &out.echoed);
        break;
    }
    case Entry::Reqivo: {
        Reqivo::Reqivo api(config.base);
        out.problem = configureFacade(api, config);
        const std::unique_ptr<Reqivo::WebSocket> socket = api.webSocket(relative);
        out.error = converseSync(*socket, &out.echoed);
        break;
    }
    }
    return out;
}

} // namespace

class TestWebSocketSession : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void handshakeCarriesTheSession_data();
    void handshakeCarriesTheSession();
    void untrustedCertificateFails_data();
    void untrustedCertificateFails();
    void hostNameCheckedPerRfc9525_data();
    void hostNameCheckedPerRfc9525();
    void optionsReachTheSocket();
    void throughProxy_data();
    void throughProxy();
    void environmentProxy_data();
    void environmentProxy();
    void asyncSocketsBelongToTheSessionOrTheGivenParent();
    void destroyingTheSessionClosesItsSockets();

private:
    QString cert(const QString &name) const { return m_certs.filePath(name); }
    //! The server side of wss://: the CA-signed certificate for 127.0.0.1 and localhost.
    QSslConfiguration serverTls(const QString &name = QStringLiteral("server")) const;
    //! Client options that trust only the CA in \a caFile (empty: the system's CAs only).
    Reqivo::TlsOptions trusting(const QString &caFile) const;

    QTemporaryDir m_certs;
};

void TestWebSocketSession::initTestCase()
{
    QVERIFY2(m_certs.isValid(), qPrintable(m_certs.errorString()));
    QProcess make;
    make.setProcessChannelMode(QProcess::MergedChannels);
    make.start(
        QStringLiteral("/bin/bash"), {QStringLiteral(REQIVO_MAKE_CERTS_SCRIPT), m_certs.path()});
    QVERIFY2(make.waitForFinished(60000), "make-certs.sh did not finish");
    QVERIFY2(make.exitStatus() == QProcess::NormalExit && make.exitCode() == 0,
        make.readAll().constData());
    QVERIFY(!serverTls().privateKey().isNull());
    QVERIFY(!serverTls().localCertificate().isNull());
}

QSslConfiguration TestWebSocketSession::serverTls(const QString &name) const
{
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificate(
        QSslCertificate::fromPath(cert(name + QStringLiteral(".pem"))).value(0));
    QFile key(cert(name + QStringLiteral(".key")));
    if (key.open(QIODevice::ReadOnly))
        tls.setPrivateKey(QSslKey(key.readAll(), QSsl::Ec));
    tls.setPeerVerifyMode(QSslSocket::VerifyNone); // no client certificate asked for
    return tls;
}

Reqivo::TlsOptions TestWebSocketSession::trusting(const QString &caFile) const
{
    Reqivo::TlsOptions tls;
    if (!caFile.isEmpty()) {
        tls.useSystemCaCertificates = false;
        QString error;
        if (!tls.addCaCertificatesFromFile(cert(caFile), &error))
            qFatal("cannot load %s: %s", qPrintable(caFile), qPrintable(error));
    }
    return tls;
}

void TestWebSocketSession::handshakeCarriesTheSession_data()
{
    QTest::addColumn<Entry>("entry");
    QTest::addColumn<Auth>("auth");
    QTest::addColumn<bool>("secure");
    for (const Entry entry : allEntries) {
        for (const bool secure : {false, true}) {
            const char *scheme = secure ? "https → wss" : "http → ws";
            QTest::addRow("%s, %s, Bearer", entryName(entry), scheme)
                << entry << Auth::Bearer << secure;
            QTest::addRow("%s, %s, Basic", entryName(entry), scheme)
                << entry << Auth::Basic << secure;
        }
    }
}

void TestWebSocketSession::handshakeCarriesTheSession()
{
    QFETCH(Entry, entry);
    QFETCH(Auth, auth);
    QFETCH(bool, secure);
    TestServer server;
    if (secure)
        server.ssl = serverTls();
    QVERIFY(server.listen());

    Config config;
    config.base = QUrl(QStringLiteral("%1://127.0.0.1:%2/api/")
                           .arg(secure ? QStringLiteral("https") : QStringLiteral("http"))
                           .arg(server.port()));
    config.auth = auth;
    config.tls = trusting(QStringLiteral("ca.pem"));
    const Outcome out = converse(entry, config, QUrl(QStringLiteral("chat?room=1")));
    QVERIFY2(out.problem.isEmpty(), qPrintable(out.problem));
    QVERIFY2(out.error.isNull(), qPrintable(out.error.toString()));
    QCOMPARE(out.echoed, QStringLiteral("hello"));

    // A SecureMode server only completes a handshake over TLS and a plain one only without:
    // that the conversation worked shows the scheme was mapped.
    QCOMPARE(server.connections, 1);
    const QNetworkRequest &r = server.requests.last();
    QCOMPARE(r.url().path(), QStringLiteral("/api/chat"));
    QCOMPARE(r.url().query(), QStringLiteral("room=1"));
    QCOMPARE(r.rawHeader("X-Default"), QByteArray("from-session"));
    QCOMPARE(r.rawHeader("Authorization"), auth == Auth::Bearer ? bearerHeader : basicHeader);
    const QList<QByteArray> cookies = r.rawHeader("Cookie").split(';');
    QList<QByteArray> names;
    for (const QByteArray &c : cookies)
        names.append(c.trimmed());
    std::sort(names.begin(), names.end());
    const QList<QByteArray> expected
        = secure ? QList<QByteArray> {"sid=abc", "ssid=s3"} : QList<QByteArray> {"sid=abc"};
    QCOMPARE(names, expected);
}

void TestWebSocketSession::untrustedCertificateFails_data()
{
    QTest::addColumn<Entry>("entry");
    QTest::addColumn<QString>("caFile");
    for (const Entry entry : allEntries) {
        QTest::addRow("%s, an unrelated CA only", entryName(entry))
            << entry << QStringLiteral("other-ca.pem");
        QTest::addRow("%s, the system's CAs", entryName(entry)) << entry << QString();
    }
}

void TestWebSocketSession::untrustedCertificateFails()
{
    QFETCH(Entry, entry);
    QFETCH(QString, caFile);
    TestServer server;
    server.ssl = serverTls();
    QVERIFY(server.listen());

    Config config;
    config.base = QUrl(QStringLiteral("https://127.0.0.1:%1/").arg(server.port()));
    config.tls = trusting(caFile);
    const Outcome out = converse(entry, config, QUrl(QStringLiteral("/feed")));
    QVERIFY2(out.problem.isEmpty(), qPrintable(out.problem));
    // The WebSocket API reports every failed open as a WebSocketError (docs/websocket.md):
    // close code 1006, and the message says it was TLS, with the verification error as detail.
    QCOMPARE(out.error.kind(), Reqivo::Error::Kind::WebSocket);
    QCOMPARE(out.error.code(), 1006);
    QVERIFY2(out.error.message().contains(QLatin1String("TLS handshake failed")),
        qPrintable(out.error.toString()));
    QVERIFY2(!out.error.detail().isEmpty(), qPrintable(out.error.toString()));
    QVERIFY(out.echoed.isEmpty());
    QCOMPARE(server.connections, 0);
}

// Qt 6.4 alone accepts these certificates for the host named (it reads the CN beside the SANs
// and compares IPs as strings); the name is checked again per RFC 9525 before the upgrade
// request, with its credentials, leaves.
void TestWebSocketSession::hostNameCheckedPerRfc9525_data()
{
    QTest::addColumn<Entry>("entry");
    QTest::addColumn<QString>("certificate");
    QTest::addColumn<QString>("host");
    for (const Entry entry : allEntries) {
        QTest::addRow("%s, CN matches but the SAN does not", entryName(entry))
            << entry << QStringLiteral("cn-not-san") << QStringLiteral("localhost");
        QTest::addRow("%s, CN only, no SAN", entryName(entry))
            << entry << QStringLiteral("cn-only") << QStringLiteral("localhost");
        QTest::addRow("%s, IP only in the CN", entryName(entry))
            << entry << QStringLiteral("ip-in-cn") << QStringLiteral("127.0.0.1");
        QTest::addRow("%s, IP as a DNS-type SAN", entryName(entry))
            << entry << QStringLiteral("ip-as-dns") << QStringLiteral("127.0.0.1");
    }
}

void TestWebSocketSession::hostNameCheckedPerRfc9525()
{
    QFETCH(Entry, entry);
    QFETCH(QString, certificate);
    QFETCH(QString, host);
    TestServer server;
    server.ssl = serverTls(certificate);
    QVERIFY(server.listen());

    Config config;
    config.base = QUrl(QStringLiteral("https://%1:%2/").arg(host).arg(server.port()));
    config.tls = trusting(QStringLiteral("ca.pem"));
    const Outcome out = converse(entry, config, QUrl(QStringLiteral("/feed")));
    QVERIFY2(out.problem.isEmpty(), qPrintable(out.problem));
    QCOMPARE(out.error.kind(), Reqivo::Error::Kind::WebSocket);
    QVERIFY2(out.error.message().contains(QLatin1String("TLS handshake failed")),
        qPrintable(out.error.toString()));
    QVERIFY2(
        out.error.detail().contains(QLatin1String("host name")), qPrintable(out.error.toString()));
    QVERIFY(out.echoed.isEmpty());
    QCOMPARE(server.connections, 0);
    QVERIFY(server.requests.isEmpty());
}

void TestWebSocketSession::optionsReachTheSocket()
{
    TestServer server;
    server.subprotocols = {QStringLiteral("chat.v2")};
    QVERIFY(server.listen());
    Reqivo::WebSocketOptions options;
    options.subprotocols = {QStringLiteral("chat.v2")};
    options.headers.set("X-Default", "from-options"); // options win over the session
    const QUrl base(QStringLiteral("http://127.0.0.1:%1/").arg(server.port()));

    Reqivo::AsyncReqivo asyncApi(base);
    asyncApi.header("X-Default", "from-session");
    Reqivo::AsyncWebSocket *socket = asyncApi.webSocket(QUrl(QStringLiteral("/a")), options);
    RUN_CORO([&]() -> QCoro::Task<> {
        co_await socket->open();
        CO_COMPARE(socket->subprotocol(), QStringLiteral("chat.v2"));
        co_await socket->close();
    }());
    QCOMPARE(server.requests.last().rawHeader("X-Default"), QByteArray("from-options"));

    Reqivo::Reqivo api(base);
    api.header("X-Default", "from-session");
    const std::unique_ptr<Reqivo::WebSocket> blocking
        = api.webSocket(QUrl(QStringLiteral("/b")), options);
    blocking->open();
    QCOMPARE(blocking->subprotocol(), QStringLiteral("chat.v2"));
    blocking->close();
    QCOMPARE(server.requests.last().url().path(), QStringLiteral("/b"));
    QCOMPARE(server.requests.last().rawHeader("X-Default"), QByteArray("from-options"));
}

void TestWebSocketSession::throughProxy_data()
{
    QTest::addColumn<int>("type"); // QNetworkProxy::ProxyType
    QTest::addColumn<bool>("withCredentials");
    QTest::addColumn<bool>("secure");
    for (const bool secure : {false, true}) {
        const char *scheme = secure ? "wss" : "ws";
        QTest::addRow("%s, HTTP CONNECT", scheme)
            << int(QNetworkProxy::HttpProxy) << false << secure;
        QTest::addRow("%s, HTTP CONNECT with credentials", scheme)
            << int(QNetworkProxy::HttpProxy) << true << secure;
        QTest::addRow("%s, SOCKS5", scheme) << int(QNetworkProxy::Socks5Proxy) << false << secure;
        QTest::addRow("%s, SOCKS5 with user and password", scheme)
            << int(QNetworkProxy::Socks5Proxy) << true << secure;
    }
}

// The session's proxy carries the handshake and the frames: one tunnel to the server, the proxy
// credentials only to the proxy, and for wss the TLS handshake inside the tunnel.
void TestWebSocketSession::throughProxy()
{
    QFETCH(int, type);
    QFETCH(bool, withCredentials);
    QFETCH(bool, secure);
    TestServer server;
    if (secure)
        server.ssl = serverTls();
    QVERIFY(server.listen());
    ReqivoTest::HttpConnectProxy http;
    ReqivoTest::Socks5Proxy socks;
    ReqivoTest::ProxyBase &proxy = type == QNetworkProxy::HttpProxy
        ? static_cast<ReqivoTest::ProxyBase &>(http)
        : static_cast<ReqivoTest::ProxyBase &>(socks);
    QVERIFY(proxy.listen());
    QNetworkProxy setting(
        QNetworkProxy::ProxyType(type), QStringLiteral("127.0.0.1"), proxy.port());
    if (withCredentials) {
        http.requiredAuthorization = "Basic " + QByteArray("user:s3cret").toBase64();
        socks.requiredUser = "user";
        socks.requiredPassword = "s3cret";
        setting.setUser(QStringLiteral("user"));
        setting.setPassword(QStringLiteral("s3cret"));
    }
    Reqivo::AsyncSession session(
        QUrl(QStringLiteral("%1://127.0.0.1:%2/")
                 .arg(secure ? QStringLiteral("https") : QStringLiteral("http"))
                 .arg(server.port())));
    session.setProxy(setting);
    session.setTlsOptions(trusting(QStringLiteral("ca.pem")));
    Reqivo::AsyncWebSocket *socket = session.webSocket(QUrl(QStringLiteral("/via")));
    RUN_CORO([&]() -> QCoro::Task<> {
        co_await socket->open();
        co_await socket->sendText(QStringLiteral("through"));
        CO_COMPARE((co_await socket->receive(5s)).text(), QStringLiteral("through"));
        co_await socket->close();
        CO_COMPARE(socket->closeCode(), 1000);
    }());
    QCOMPARE(proxy.targets, QStringList {QStringLiteral("127.0.0.1:%1").arg(server.port())});
    QCOMPARE(server.connections, 1);
    QVERIFY(server.requests.last().rawHeader("Proxy-Authorization").isEmpty());
    if (withCredentials && type == QNetworkProxy::HttpProxy)
        QCOMPARE(http.authorizations.last(), http.requiredAuthorization);
    if (withCredentials && type == QNetworkProxy::Socks5Proxy)
        QCOMPARE(socks.users, QList<QByteArray> {"user"});
}

void TestWebSocketSession::environmentProxy_data()
{
    QTest::addColumn<bool>("secure");
    QTest::addColumn<bool>("exempt");
    QTest::newRow("ws:// through http_proxy") << false << false;
    QTest::newRow("wss:// through https_proxy") << true << false;
    QTest::newRow("ws:// exempted by no_proxy") << false << true;
}

// A session's socket takes the proxy the environment gives its URL (ws:// as http://, wss:// as
// https://), always through a CONNECT tunnel: an upgrade never goes in absolute form.
void TestWebSocketSession::environmentProxy()
{
    QFETCH(bool, secure);
    QFETCH(bool, exempt);
    TestServer server;
    if (secure)
        server.ssl = serverTls();
    QVERIFY(server.listen());
    ReqivoTest::HttpConnectProxy forHttp;
    ReqivoTest::HttpConnectProxy forHttps;
    QVERIFY(forHttp.listen() && forHttps.listen());
    static const char *const names[] = {"http_proxy", "https_proxy", "no_proxy", "all_proxy",
        "ALL_PROXY", "HTTPS_PROXY", "NO_PROXY"};
    QList<std::pair<const char *, std::optional<QByteArray>>> saved;
    for (const char *name : names) {
        saved.append({name,
            qEnvironmentVariableIsSet(name) ? std::optional(qgetenv(name)) : std::nullopt});
        qunsetenv(name);
    }
    const auto restore = qScopeGuard([&saved] {
        for (const auto &[name, value] : saved) {
            if (value)
                qputenv(name, *value);
            else
                qunsetenv(name);
        }
    });
    qputenv("http_proxy", "127.0.0.1:" + QByteArray::number(forHttp.port()));
    qputenv("https_proxy", "http://127.0.0.1:" + QByteArray::number(forHttps.port()));
    if (exempt)
        qputenv("no_proxy", "127.0.0.0/8");
    Reqivo::AsyncSession session(
        QUrl(QStringLiteral("%1://127.0.0.1:%2/")
                 .arg(secure ? QStringLiteral("https") : QStringLiteral("http"))
                 .arg(server.port())));
    session.setTlsOptions(trusting(QStringLiteral("ca.pem")));
    Reqivo::AsyncWebSocket *socket = session.webSocket(QUrl(QStringLiteral("/env")));
    RUN_CORO([&]() -> QCoro::Task<> {
        co_await socket->open();
        co_await socket->sendText(QStringLiteral("env"));
        CO_COMPARE((co_await socket->receive(5s)).text(), QStringLiteral("env"));
        co_await socket->close();
    }());
    const QStringList tunnel {QStringLiteral("127.0.0.1:%1").arg(server.port())};
    QCOMPARE(forHttp.targets, exempt || secure ? QStringList() : tunnel);
    QCOMPARE(forHttps.targets, secure && !exempt ? tunnel : QStringList());
    QVERIFY(forHttp.forwarded.isEmpty());
    QCOMPARE(forHttp.clientConnections + forHttps.clientConnections, exempt ? 0 : 1);
    QCOMPARE(server.connections, 1);
}

void TestWebSocketSession::asyncSocketsBelongToTheSessionOrTheGivenParent()
{
    const QUrl url(QStringLiteral("ws://127.0.0.1:9/"));
    QObject owner;
    QPointer<Reqivo::AsyncWebSocket> own;
    QPointer<Reqivo::AsyncWebSocket> given;
    {
        Reqivo::AsyncSession session;
        own = session.webSocket(url);
        given = session.webSocket(url, {}, &owner);
        QCOMPARE(own->parent(), &session);
        QCOMPARE(given->parent(), &owner);
    }
    QVERIFY(own.isNull());
    QVERIFY(!given.isNull());
    delete given.data();
    {
        Reqivo::AsyncReqivo api;
        own = api.webSocket(url);
        given = api.webSocket(url, {}, &owner);
        QCOMPARE(own->parent(), &api.session());
        QCOMPARE(given->parent(), &owner);
    }
    QVERIFY(own.isNull());
    QVERIFY(!given.isNull());
}

void TestWebSocketSession::destroyingTheSessionClosesItsSockets()
{
    TestServer server;
    QVERIFY(server.listen());
    auto session = std::make_unique<Reqivo::AsyncSession>(
        QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(server.port())));
    QPointer<Reqivo::AsyncWebSocket> socket = session->webSocket(QUrl(QStringLiteral("/x")));
    RUN_CORO([&]() -> QCoro::Task<> {
        co_await socket->open();
        CO_VERIFY(co_await eventually([&] { return server.clients.size() == 1; }));
    }());
    QWebSocket *peer = server.clients.value(0);
    QVERIFY(peer);
    int peerCloseCode = 0;
    connect(peer, &QWebSocket::disconnected, this, [&] { peerCloseCode = peer->closeCode(); });
    session.reset();
    QVERIFY(socket.isNull());
    QTRY_COMPARE_WITH_TIMEOUT(peerCloseCode, 1001, 5000); // going away
}

QTEST_GUILESS_MAIN(TestWebSocketSession)
#include "tst_websocket_session.moc"
