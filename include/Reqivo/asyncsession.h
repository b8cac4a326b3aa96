// Reqivo::AsyncSession: the async-first HTTP client. Every other calling style (blocking
// Session, Reply signals, QML) goes through it.
//
// A session holds state and makes the decisions: base URL, default headers, cookies, auth,
// hooks, redirects, timeouts and limits; it drives the sans-I/O parser over connections from
// its pool, and returns a connection to the pool only when a response ended cleanly and
// keep-alive allows it. Destroying the session cancels its requests: awaiting callers get a
// RequestError and every connection is closed.
//
//   Reqivo::AsyncSession session(QUrl(u"https://api.example.com"_s));
//   Reqivo::Response r = co_await session.get(QUrl(u"/users/1"_s));
//   qDebug() << r.status() << r.readJson().value_or(QJsonDocument());
//
// Three ways to send, with one name per verb (get, head, options, deleteResource, post, put,
// patch; DELETE is deleteResource because `delete` is a keyword):
//   - co_await session.get(url)          a coroutine (QCoro::Task, [[nodiscard]]: co_await it)
//   - session.sendGet(url)               a running Reqivo::Reply*, for signals and slots
//   - session.request(method, url, opts, context, callback)   a callback
// Several requests at once from a coroutine: start them all, then co_await Reqivo::whenAll()
// (<Reqivo/WhenAll>).
#pragma once

#include <Reqivo/asyncconnectionpool.h>
#include <Reqivo/authenticator.h>
#include <Reqivo/download.h>
#include <Reqivo/endpoint.h>
#include <Reqivo/reply.h>
#include <Reqivo/requestoptions.h>
#include <Reqivo/response.h>
#include <Reqivo/retrypolicy.h>
#include <Reqivo/eventsourceoptions.h>
#include <Reqivo/websocketoptions.h>

#include <QNetworkProxy>
#include <QObject>
#include <QUrl>

#include <QCoro/QCoroTask>

#include <functional>
#include <memory>
#include <type_traits>

class QNetworkCookieJar;

namespace Reqivo {

class AsyncEventSource;
class EventListener;
class AsyncWebSocket;
class CookieJar;
class AsyncSessionPrivate;

//! The async-first HTTP client: every other calling style (Session, Reply, QML) goes through
//! it.
//!
//!     Reqivo::AsyncSession session(QUrl(u"https://api.example.com"_s));
//!     const Reqivo::Response r = co_await session.get(QUrl(u"/users/1"_s));
//!
//! A session holds the state (base URL, default headers, cookies, auth, hooks, redirects,
//! timeouts, limits, TLS, proxy) and a pool of keep-alive connections. Three ways to send, one
//! name per verb: `co_await get(url)` (a coroutine that throws the ReqivoError hierarchy),
//! `sendGet(url)` (a running Reply for signals and slots), and request() with a context and a
//! callback. Destroying the session ends its requests at once, in whatever phase: awaiting
//! callers get a RequestError and every connection is closed. It belongs to the thread that
//! created it.
class REQIVO_EXPORT AsyncSession : public QObject
{
    Q_OBJECT
public:
    //! A request hook as stored: a coroutine that may change the prepared request.
    using RequestHook = std::function<QCoro::Task<void>(PreparedRequest &)>;
    //! A response hook as stored: a coroutine that returns the response, or a replacement.
    using ResponseHook = std::function<QCoro::Task<Response>(Response)>;

    //! A session without a base URL, with the defaults (Timeout, Limits, 30 redirects).
    explicit AsyncSession(QObject *parent = nullptr);
    //! A session whose relative request URLs are resolved against \a baseUrl.
    explicit AsyncSession(const QUrl &baseUrl, QObject *parent = nullptr);
    //! Ends every request of the session at once (they fail with RequestError) and closes its
    //! connections.
    ~AsyncSession() override;

    // --- state ----------------------------------------------------------------------------
    //! @{
    //! The URL relative request URLs are resolved against (QUrl::resolved()); empty: none.
    QUrl baseUrl() const;
    void setBaseUrl(const QUrl &url);
    //! @}
    //! Sent with every request (per-request headers of the same name win).
    Headers defaultHeaders() const;
    //! @{
    //! Replaces the default headers, or sets one of them (replacing any of that name).
    void setDefaultHeaders(const Headers &headers);
    void setDefaultHeader(QByteArrayView name, QByteArrayView value);
    //! @}
    //! @{
    //! The timeouts of every request (RequestOptions::timeout overrides them per request).
    Timeout timeout() const;
    void setTimeout(const Timeout &timeout);
    //! @}
    //! @{
    //! What a peer may make a response hold (RequestOptions::limits per request).
    Limits limits() const;
    void setLimits(const Limits &limits);
    //! @}
    //! @{
    //! Whether redirects are followed (on by default, as in the seed).
    bool followRedirects() const;
    void setFollowRedirects(bool follow);
    //! @}
    //! Seed default: 30.
    int maxRedirects() const;
    //! Sets maxRedirects(); more redirects in a chain fail with TooManyRedirects.
    void setMaxRedirects(int max);
    //! @{
    //! Whether gzip, deflate, br and zstd are asked for and decoded, stacks of up to three
    //! codings included (on by default; docs/compression.md).
    bool decompress() const;
    void setDecompress(bool on);
    //! @}

    //! Credentials for the origin of each request (never sent to another origin a redirect
    //! leads to). They are checked here: a Basic user-id with a colon, control characters, or a
    //! Bearer token that is not token68 (RFC 6750) make every request fail with RequestError
    //! before anything is sent, until valid credentials or clearAuth() replace them.
    void setBasicAuth(const QString &user, const QString &password);
    //! "Authorization: Bearer \a token" on every request to the request's origin; see
    //! setBasicAuth().
    void setBearerToken(const QString &token);
    //! No credentials from now on.
    void clearAuth();
    //! Answers HTTP Digest challenges (RFC 7616) with \a user and \a password: nothing is sent
    //! until the server asks. Origin-bound like setBasicAuth().
    void setDigestAuth(const QString &user, const QString &password);

    //! Called on a 401 (and a 407 from a proxy) that the session's own credentials did not
    //! answer: a plain function returning AuthAnswer or a coroutine returning
    //! QCoro::Task<AuthAnswer>, given an AuthRequest. The request is sent again once with the
    //! answer (see authenticator.h). An empty function removes it.
    template<typename F>
    void setAuthenticator(F &&authenticator)
    {
        using R = std::invoke_result_t<F &, AuthRequest>;
        if constexpr (std::is_same_v<R, QCoro::Task<AuthAnswer>>) {
            setAuthenticatorImpl(Authenticator(std::forward<F>(authenticator)));
        } else {
            setAuthenticatorImpl([f = std::forward<F>(authenticator)](AuthRequest r) mutable
                                         -> QCoro::Task<AuthAnswer> { co_return f(std::move(r)); });
        }
    }
    //! Removes the authenticator: a 401 nothing else answers is returned.
    void clearAuthenticator() { setAuthenticatorImpl({}); }

    //! @{
    //! The retry policy of every request (RequestOptions::retry overrides it). The default,
    //! RetryPolicy::none(), retries nothing beyond a stale connection (see retrypolicy.h).
    RetryPolicy retryPolicy() const;
    void setRetryPolicy(const RetryPolicy &policy);
    //! @}

    //! @{
    //! How TLS connections are verified, and the client certificate.
    TlsOptions tlsOptions() const;
    void setTlsOptions(const TlsOptions &options);
    //! @}
    //! @{
    //! The proxy of every connection; anything but QNetworkProxy::DefaultProxy (the default)
    //! beats the system's and the environment's (QNetworkProxy::NoProxy: always direct). An
    //! HttpProxy takes http:// requests in absolute form and https:// (and upgrades) through
    //! CONNECT, its user and password answering a 407 with Basic or Digest; they never reach
    //! the origin. With none set and neither the system's nor the environment's proxy in use,
    //! Qt's application proxy applies (QNetworkProxy::applicationProxy()).
    QNetworkProxy proxy() const;
    void setProxy(const QNetworkProxy &proxy);
    //! @}
    //! @{
    //! Proxies from the environment, as curl reads them (http_proxy, HTTPS_PROXY/https_proxy,
    //! ALL_PROXY/all_proxy, NO_PROXY/no_proxy; upper-case HTTP_PROXY is ignored): on by
    //! default, used while setProxy() has not set one. Read when the session is created and
    //! again when this is switched on (not per request). Loopback is not special: 127.0.0.1
    //! is proxied unless no_proxy exempts it. A proxy URL of another scheme than http://,
    //! socks5:// or socks5h:// fails the requests that would use it (RequestError). See
    //! docs/resilience.md.
    bool proxyFromEnvironment() const;
    void setProxyFromEnvironment(bool on);
    //! @}
    //! @{
    //! The system's proxy configuration (QNetworkProxyFactory::systemProxyForQuery(), PAC
    //! through libproxy on Linux), per URL, when no proxy was set: off by default; when on, it
    //! replaces the environment's.
    bool useSystemProxy() const;
    void setUseSystemProxy(bool on);
    //! @}
    //! @{
    //! Hosts that never go through a proxy, whichever set it, with curl's no_proxy matching
    //! (a list item "*", a host name or domain suffix with or without a leading dot, an IP
    //! address or CIDR range; ports are not compared). Empty by default, when the
    //! environment's NO_PROXY/no_proxy applies to the environment's proxies; when set, it
    //! replaces the environment's list.
    QStringList noProxy() const;
    void setNoProxy(const QStringList &hosts);
    //! @}
    //! @{
    //! The HTTP version policy (docs/http2.md). HttpVersion::Http2, the default: HTTPS
    //! requests offer HTTP/2 in ALPN and use it when the server agrees; http:// requests use
    //! HTTP/1.1. HttpVersion::Http1_1: HTTP/1.1 only. HttpVersion::Http2PriorKnowledge: http://
    //! requests speak HTTP/2 from the first byte. RequestOptions::httpVersion overrides it.
    HttpVersion httpVersion() const;
    void setHttpVersion(HttpVersion version);
    //! @}
    //! @{
    //! Hosts (as in the URL, compared case-insensitively) that get HTTP/1.1 whatever the
    //! policy: the per-host opt-out for a server whose HTTP/2 misbehaves.
    QStringList http1OnlyHosts() const;
    void setHttp1OnlyHosts(const QStringList &hosts);
    //! @}

    //! The session's cookie jar (RFC 6265: domain, path, expiry, Secure, host-only).
    CookieJar *cookieJar() const;
    //! The session's connection pool (for its options and counts).
    AsyncConnectionPool *pool() const;

    //! Hooks run in the order added. A request hook may change method, URL and headers; a
    //! response hook may replace the response. Plain functions and coroutines both work.
    template<typename F>
    void addRequestHook(F &&hook)
    {
        using R = std::invoke_result_t<F &, PreparedRequest &>;
        if constexpr (std::is_same_v<R, QCoro::Task<void>>) {
            addRequestHookImpl(RequestHook(std::forward<F>(hook)));
        } else {
            addRequestHookImpl([h = std::forward<F>(hook)](PreparedRequest &r) mutable
                                       -> QCoro::Task<void> {
                h(r);
                co_return;
            });
        }
    }
    //! See addRequestHook(): \a hook takes a Response and returns it, or a replacement.
    template<typename F>
    void addResponseHook(F &&hook)
    {
        using R = std::invoke_result_t<F &, Response>;
        if constexpr (std::is_same_v<R, QCoro::Task<Response>>) {
            addResponseHookImpl(ResponseHook(std::forward<F>(hook)));
        } else {
            addResponseHookImpl([h = std::forward<F>(hook)](Response r) mutable
                                        -> QCoro::Task<Response> { co_return h(std::move(r)); });
        }
    }
    //! Removes every request and response hook.
    void clearHooks();

    //! @{
    //! Told of every request's events (eventlistener.h), together with the request's own
    //! listener (RequestOptions::listener). Null: none, which costs nothing.
    std::shared_ptr<EventListener> eventListener() const;
    void setEventListener(std::shared_ptr<EventListener> listener);
    //! @}
    //! @{
    //! Query parameters whose values logs, -v output and error messages show as \<redacted\>
    //! (names compared case-insensitively). Default: redaction.h's defaultRedactedQueryNames().
    QStringList redactedQueryParameters() const;
    void setRedactedQueryParameters(const QStringList &names);
    //! @}

    // --- requests -------------------------------------------------------------------------
    //! Relative URLs are resolved against baseUrl(). Throws the seed's exceptions. Each returns
    //! a task that is already running (QCoro tasks start at once); dropping it does not cancel
    //! the request, hence [[nodiscard]]: co_await it (RequestOptions::cancelWith() ties a
    //! request to an object's life).
    [[nodiscard]] QCoro::Task<Response> request(
        QByteArray method, QUrl url, RequestOptions opts = {});
    //! @{
    //! request() with the method the name says: GET, HEAD, OPTIONS, DELETE, POST, PUT, PATCH.
    [[nodiscard]] QCoro::Task<Response> get(QUrl url, RequestOptions opts = {});
    [[nodiscard]] QCoro::Task<Response> head(QUrl url, RequestOptions opts = {});
    [[nodiscard]] QCoro::Task<Response> options(QUrl url, RequestOptions opts = {});
    [[nodiscard]] QCoro::Task<Response> deleteResource(QUrl url, RequestOptions opts = {});
    [[nodiscard]] QCoro::Task<Response> post(QUrl url, RequestOptions opts = {});
    [[nodiscard]] QCoro::Task<Response> put(QUrl url, RequestOptions opts = {});
    [[nodiscard]] QCoro::Task<Response> patch(QUrl url, RequestOptions opts = {});
    //! @}
    //! @{
    //! Verb shortcuts with a body.
    [[nodiscard]] QCoro::Task<Response> post(QUrl url, Body body, RequestOptions opts = {});
    [[nodiscard]] QCoro::Task<Response> put(QUrl url, Body body, RequestOptions opts = {});
    [[nodiscard]] QCoro::Task<Response> patch(QUrl url, Body body, RequestOptions opts = {});
    //! @}

    // --- signals and slots ----------------------------------------------------------------
    //! Starts a request and returns its Reply (parented to \a parent, or to the session).
    //! See reply.h: it never throws. One send* form per verb of the coroutine API.
    Reply *send(QByteArray method, QUrl url, RequestOptions opts = {}, QObject *parent = nullptr);
    //! @{
    //! send() with the method the name says, parented to the session.
    Reply *sendGet(QUrl url, RequestOptions opts = {});
    Reply *sendHead(QUrl url, RequestOptions opts = {});
    Reply *sendOptions(QUrl url, RequestOptions opts = {});
    Reply *sendDeleteResource(QUrl url, RequestOptions opts = {});
    Reply *sendPost(QUrl url, Body body, RequestOptions opts = {});
    Reply *sendPut(QUrl url, Body body, RequestOptions opts = {});
    Reply *sendPatch(QUrl url, Body body, RequestOptions opts = {});
    //! @}

    //! What request() with a context calls: the response and a null Error, or a null Response
    //! and the error.
    using Callback = std::function<void(const Response &, const Error &)>;
    //! Calls \a callback with the response (and a null Error) or with the error, but only while
    //! \a context lives; the callback runs in \a context's thread. A null \a context is
    //! refused: nothing is sent, and the callback gets a RequestError (detail "no context").
    void request(QByteArray method, QUrl url, RequestOptions opts, const QObject *context,
                 Callback callback);

    // --- downloads (download.h, docs/downloads.md) -------------------------------------------
    //! GETs \a url into the file \a filePath, through a side file (FILE.part) that replaces
    //! it only once the whole resource is in and verified; resumes what an earlier run left
    //! with Range and If-Range. A status that does not deliver the resource (404, ...) is a
    //! result, not an error; failures (network, timeouts, a Content-Range that does not match,
    //! a file that cannot be written) throw and keep the side file for the next run.
    [[nodiscard]] QCoro::Task<DownloadResult> download(QUrl url, QString filePath,
                                                       DownloadOptions opts = {});
    //! download() as a running Download object with signals, pause() and resume(), parented to
    //! \a parent, or to the session.
    Download *startDownload(QUrl url, QString filePath, DownloadOptions opts = {},
                            QObject *parent = nullptr);
    //! download() with a callback, called once with the result (and a null Error) or the error,
    //! only while \a context lives and in its thread (as request() with a callback).
    void download(QUrl url, QString filePath, DownloadOptions opts, const QObject *context,
                  DownloadCallback callback);

    // --- WebSocket ------------------------------------------------------------------------
    //! A WebSocket that opens \a url as this session would send a request there: relative to
    //! baseUrl() (http → ws, https → wss), with the default headers, the jar's cookies, Basic or
    //! Bearer auth, request hooks, TLS options and proxy, all read again at every (re)connect
    //! (see AsyncWebSocket::fromSession()). Not opened yet: co_await open() on it. Parented to
    //! \a parent, or to the session.
    AsyncWebSocket *webSocket(
        const QUrl &url, const WebSocketOptions &options = {}, QObject *parent = nullptr);

    // --- Server-Sent Events ---------------------------------------------------------------
    //! A Server-Sent Events stream of \a url sent as this session sends requests (base URL,
    //! headers, cookies, auth, hooks, TLS, proxy, decompression; see AsyncEventSource::
    //! fromSession()). Not opened yet: co_await next() or call open(). Parented to \a parent,
    //! or to the session.
    AsyncEventSource *eventSource(
        const QUrl &url, const EventSourceOptions &options = {}, QObject *parent = nullptr);

    //! Closes idle connections; requests in flight go on.
    void closeIdleConnections();

protected:
    //! For AsyncRequest and the sync twins: a session over a caller-owned pool (nullptr: its
    //! own), optionally forgetting cookies between requests.
    AsyncSession(AsyncConnectionPool *sharedPool, bool keepCookies, QObject *parent);
    //! Streamed bodies keep \a owner alive until they are done (for sessions owned by a call).
    void setStreamOwner(std::weak_ptr<void> owner);

private:
    void addRequestHookImpl(RequestHook hook);
    void addResponseHookImpl(ResponseHook hook);
    void setAuthenticatorImpl(Authenticator authenticator);
    std::unique_ptr<AsyncSessionPrivate> const d;
    friend class AsyncSessionPrivate;
};

} // namespace Reqivo
