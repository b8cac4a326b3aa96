// Reqivo::Session: the blocking twin of AsyncSession. Same state, same options, same errors;
// each call runs the async core to completion in a nested event loop (see docs/threading.md).
//
//   QCoreApplication app(argc, argv);          // must exist; need not be running
//   Reqivo::Session session(QUrl(u"http://127.0.0.1:8080"_s));
//   Reqivo::Response r = session.get(QUrl(u"/users/1"_s));   // throws on failure
//
// Threads: a Session belongs to the thread that created it (like a QObject) and may be used
// from a QThread or a plain std::thread, with or without a running event loop. Sessions in
// different threads can share connections through one Reqivo::ConnectionPool.
// On the GUI thread it works, but the nested loop delivers events (timers, queued signals)
// during the call: prefer AsyncSession or Reply signals there. A blocking call started from a
// slot that such a nested loop invoked is refused with a ReqivoError.
#pragma once

#include <Reqivo/asyncsession.h>
#include <Reqivo/connectionpool.h>
#include <Reqivo/eventsource.h>
#include <Reqivo/websocket.h>

#include <memory>

namespace Reqivo {

//! The blocking twin of AsyncSession: the same settings, options and errors, with each call
//! run to completion in a nested event loop (docs/threading.md).
//!
//!     QCoreApplication app(argc, argv);          // must exist; need not be running
//!     Reqivo::Session session(QUrl(u"http://127.0.0.1:8080"_s));
//!     const Reqivo::Response r = session.get(QUrl(u"/users/1"_s));   // throws on failure
//!
//! A Session belongs to the thread that created it and works in a QThread or a plain
//! std::thread, with or without a running event loop; sessions in different threads can share
//! connections through one ConnectionPool. On the GUI thread the nested loop delivers events
//! during the call: prefer AsyncSession or Reply there.
class REQIVO_EXPORT Session
{
public:
    //! A session without a base URL.
    Session();
    //! A session whose relative request URLs are resolved against \a baseUrl.
    explicit Session(const QUrl &baseUrl);
    //! Shares keep-alive connections through \a pool with sessions in other threads. The pool
    //! must outlive the session.
    explicit Session(ConnectionPool *pool, const QUrl &baseUrl = {});
    //! Destroys the AsyncSession underneath, which closes its connections.
    ~Session();
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;

    //! The async session underneath: every setting lives there.
    AsyncSession &async() const;

    //! @{
    //! The same setting as on AsyncSession (of the same name), which async() holds.
    QUrl baseUrl() const { return async().baseUrl(); }
    void setBaseUrl(const QUrl &url) { async().setBaseUrl(url); }
    Headers defaultHeaders() const { return async().defaultHeaders(); }
    void setDefaultHeaders(const Headers &h) { async().setDefaultHeaders(h); }
    void setDefaultHeader(QByteArrayView name, QByteArrayView value)
    {
        async().setDefaultHeader(name, value);
    }
    Timeout timeout() const { return async().timeout(); }
    void setTimeout(const Timeout &t) { async().setTimeout(t); }
    Limits limits() const { return async().limits(); }
    void setLimits(const Limits &l) { async().setLimits(l); }
    bool followRedirects() const { return async().followRedirects(); }
    void setFollowRedirects(bool on) { async().setFollowRedirects(on); }
    int maxRedirects() const { return async().maxRedirects(); }
    void setMaxRedirects(int max) { async().setMaxRedirects(max); }
    bool decompress() const { return async().decompress(); }
    void setDecompress(bool on) { async().setDecompress(on); }
    void setBasicAuth(const QString &user, const QString &password)
    {
        async().setBasicAuth(user, password);
    }
    void setBearerToken(const QString &token) { async().setBearerToken(token); }
    void clearAuth() { async().clearAuth(); }
    void setDigestAuth(const QString &user, const QString &password)
    {
        async().setDigestAuth(user, password);
    }
    //! AsyncSession::setAuthenticator(): the function (or coroutine) runs inside the blocking
    //! call's event loop.
    template<typename F>
    void setAuthenticator(F &&authenticator)
    {
        async().setAuthenticator(std::forward<F>(authenticator));
    }
    void clearAuthenticator() { async().clearAuthenticator(); }
    RetryPolicy retryPolicy() const { return async().retryPolicy(); }
    void setRetryPolicy(const RetryPolicy &policy) { async().setRetryPolicy(policy); }
    TlsOptions tlsOptions() const { return async().tlsOptions(); }
    void setTlsOptions(const TlsOptions &o) { async().setTlsOptions(o); }
    QNetworkProxy proxy() const { return async().proxy(); }
    void setProxy(const QNetworkProxy &p) { async().setProxy(p); }
    bool proxyFromEnvironment() const { return async().proxyFromEnvironment(); }
    void setProxyFromEnvironment(bool on) { async().setProxyFromEnvironment(on); }
    bool useSystemProxy() const { return async().useSystemProxy(); }
    void setUseSystemProxy(bool on) { async().setUseSystemProxy(on); }
    QStringList noProxy() const { return async().noProxy(); }
    void setNoProxy(const QStringList &hosts) { async().setNoProxy(hosts); }
    HttpVersion httpVersion() const { return async().httpVersion(); }
    void setHttpVersion(HttpVersion v) { async().setHttpVersion(v); }
    QStringList http1OnlyHosts() const { return async().http1OnlyHosts(); }
    void setHttp1OnlyHosts(const QStringList &hosts) { async().setHttp1OnlyHosts(hosts); }
    CookieJar *cookieJar() const { return async().cookieJar(); }
    template<typename F>
    void addRequestHook(F &&hook)
    {
        async().addRequestHook(std::forward<F>(hook));
    }
    template<typename F>
    void addResponseHook(F &&hook)
    {
        async().addResponseHook(std::forward<F>(hook));
    }
    void clearHooks() { async().clearHooks(); }
    std::shared_ptr<EventListener> eventListener() const { return async().eventListener(); }
    void setEventListener(std::shared_ptr<EventListener> listener)
    {
        async().setEventListener(std::move(listener));
    }
    QStringList redactedQueryParameters() const { return async().redactedQueryParameters(); }
    void setRedactedQueryParameters(const QStringList &names)
    {
        async().setRedactedQueryParameters(names);
    }
    void closeIdleConnections() { async().closeIdleConnections(); }
    //! @}

    //! Sends a request with \a method and returns its response, or throws (the errors of
    //! AsyncSession::request()). A relative \a url is resolved against baseUrl().
    Response request(const QByteArray &method, const QUrl &url, const RequestOptions &opts = {});
    //! @{
    //! request() with the method the name says; the overloads with a Body send it.
    Response get(const QUrl &url, const RequestOptions &opts = {});
    Response head(const QUrl &url, const RequestOptions &opts = {});
    Response options(const QUrl &url, const RequestOptions &opts = {});
    Response deleteResource(const QUrl &url, const RequestOptions &opts = {});
    Response post(const QUrl &url, const RequestOptions &opts = {});
    Response put(const QUrl &url, const RequestOptions &opts = {});
    Response patch(const QUrl &url, const RequestOptions &opts = {});
    Response post(const QUrl &url, const Body &body, const RequestOptions &opts = {});
    Response put(const QUrl &url, const Body &body, const RequestOptions &opts = {});
    Response patch(const QUrl &url, const Body &body, const RequestOptions &opts = {});
    //! @}

    //! AsyncSession::download(), blocking: GETs \a url into \a filePath through a side file,
    //! resuming what an earlier run left (docs/downloads.md). Throws on failure.
    DownloadResult download(const QUrl &url, const QString &filePath,
                            const DownloadOptions &opts = {});

    //! A blocking WebSocket that opens \a url as this session would send a request there:
    //! relative to baseUrl() (http → ws, https → wss), with the default headers, the jar's
    //! cookies, Basic or Bearer auth, request hooks, TLS options and proxy, read again at every
    //! (re)connect (see AsyncSession::webSocket()). Not opened yet: call open() on it.
    //! Use it in the session's thread; if it outlives the session, it keeps the last settings
    //! read.
    std::unique_ptr<WebSocket> webSocket(const QUrl &url, const WebSocketOptions &options = {});

    //! A blocking Server-Sent Events stream of \a url sent as this session sends requests (see
    //! AsyncSession::eventSource()). Use it in the session's thread, and not after the session
    //! is gone.
    std::unique_ptr<EventSource> eventSource(
        const QUrl &url, const EventSourceOptions &options = {});

    //! @{
    //! Blocking twins of Response's streaming calls, for streamed responses.
    static QByteArray readChunk(Response &response, qint64 maxBytes = 0);
    static QByteArray readAll(Response &response);
    //! @}

private:
    std::unique_ptr<AsyncSession> m_async;
};

} // namespace Reqivo
