// AsyncSession: state and decisions. request() prepares the request once (URL, merged headers,
// hooks), then loops over redirect hops; each hop derives its wire headers (Host, auth, cookies,
// Accept-Encoding, Content-Type), validates and serialises the head before touching the pool,
// and runs one exchange, retried once on a fresh connection when a reused one turned out stale.
// A hop runs inside the request coroutine itself: each coroutine level costs a frame and a
// continuation allocation per request.
//
// In-flight requests share the session's state through a shared_ptr, so destroying the session
// while they are suspended is safe: the pool is destroyed (aborting their connections) and each
// of them ends with a RequestError instead of touching freed memory.
#include <Reqivo/asyncconnection.h>
#include <Reqivo/asyncsession.h>
#include <Reqivo/cookiejar.h>

#include "asyncsession_p.h"
#include "exchange_p.h"
#include "protocol/requestwriter.h"
#include "redirectpolicy.h"

#include <QCryptographicHash>
#include <QThread>

namespace Reqivo {

using namespace std::chrono;
using Client::Clock;

namespace {
bool isIdempotent(QByteArrayView method)
{
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT"
            || method == "DELETE" || method == "TRACE";
}

QByteArray hostHeader(const QUrl &url)
{
    QByteArray host = url.host(QUrl::FullyEncoded).toLatin1();
    if (host.contains(':'))
        host = '[' + host + ']';
    const int port = url.port();
    const int defaultPort = url.scheme() == QLatin1String("https") ? 443 : 80;
    if (port > 0 && port != defaultPort)
        host += ':' + QByteArray::number(port);
    return host;
}

Protocol::RequestWriter::BodyFraming framingFor(QByteArrayView method, const Body &body)
{
    using Framing = Protocol::RequestWriter::BodyFraming;
    if (!body.isEmpty())
        return body.size() < 0 ? Framing::Chunked : Framing::ContentLength;
    if (method == "POST" || method == "PUT" || method == "PATCH")
        return Framing::ContentLength; // "Content-Length: 0": some servers require it
    return Framing::None;
}

QByteArray requestTarget(const QUrl &url)
{
    QByteArray target = url.path(QUrl::FullyEncoded).toLatin1();
    if (target.isEmpty())
        target = "/";
    if (url.hasQuery())
        target += '?' + url.query(QUrl::FullyEncoded).toLatin1();
    return target;
}

QUrl withoutUserInfo(QUrl url)
{
    url.setUserInfo(QString());
    return url;
}
} // namespace

const SessionCore::Origin &SessionCore::originFor(const QUrl &url)
{
    // matches() compares the components in place; no string is built.
    constexpr QUrl::FormattingOptions originOnly = QUrl::RemoveUserInfo | QUrl::RemovePath
            | QUrl::RemoveQuery | QUrl::RemoveFragment;
    if (!m_lastOrigin || !url.matches(m_lastOriginUrl, originOnly)) {
        Origin o{Endpoint::fromUrl(url), hostHeader(url)};
        o.endpoint.proxy = proxy;
        if (o.endpoint.tls)
            o.endpoint.tlsOptions = tlsOptions;
        m_lastOrigin = std::move(o);
        m_lastOriginUrl = url;
    }
    return *m_lastOrigin;
}

AsyncSession::AsyncSession(QObject *parent) : AsyncSession(nullptr, true, parent) { }

AsyncSession::AsyncSession(const QUrl &baseUrl, QObject *parent) : AsyncSession(parent)
{
    setBaseUrl(baseUrl);
}

AsyncSession::AsyncSession(AsyncConnectionPool *sharedPool, bool keepCookies, QObject *parent)
    : QObject(parent)
    , d(new AsyncSessionPrivate)
{
    SessionCore &c = *d->core;
    if (sharedPool) {
        c.pool = sharedPool;
    } else {
        c.ownedPool = std::make_unique<AsyncConnectionPool>();
        c.pool = c.ownedPool.get();
    }
    c.jar = std::make_unique<CookieJar>();
    c.keepCookies = keepCookies;
    c.defaultHeaders.add("User-Agent", QByteArray("Reqivo-Qt/") + versionString());
    c.defaultHeaders.add("Accept", "*/*");
}

AsyncSession::~AsyncSession()
{
    // Requests still suspended hold the core; they wake up to aborted connections, see
    // `closed` and end with a RequestError.
    d->core->closed = true;
    d->core->ownedPool.reset();
    d->core->pool = nullptr;
}

QUrl AsyncSession::baseUrl() const { return d->core->baseUrl; }
void AsyncSession::setBaseUrl(const QUrl &url) { d->core->baseUrl = url; }
Headers AsyncSession::defaultHeaders() const { return d->core->defaultHeaders; }
void AsyncSession::setDefaultHeaders(const Headers &headers) { d->core->defaultHeaders = headers; }
void AsyncSession::setDefaultHeader(QByteArrayView name, QByteArrayView value)
{
    d->core->defaultHeaders.set(name, value);
}
Timeout AsyncSession::timeout() const { return d->core->timeout; }
void AsyncSession::setTimeout(const Timeout &timeout) { d->core->timeout = timeout; }
Limits AsyncSession::limits() const { return d->core->limits; }
void AsyncSession::setLimits(const Limits &limits) { d->core->limits = limits; }
bool AsyncSession::followRedirects() const { return d->core->followRedirects; }
void AsyncSession::setFollowRedirects(bool follow) { d->core->followRedirects = follow; }
int AsyncSession::maxRedirects() const { return d->core->maxRedirects; }
void AsyncSession::setMaxRedirects(int max) { d->core->maxRedirects = max; }
bool AsyncSession::decompress() const { return d->core->decompress; }
void AsyncSession::setDecompress(bool on) { d->core->decompress = on; }

void AsyncSession::setBasicAuth(const QString &user, const QString &password)
{
    d->core->authorization = "Basic " + (user + QLatin1Char(':') + password).toUtf8().toBase64();
}
void AsyncSession::setBearerToken(const QString &token)
{
    d->core->authorization = "Bearer " + token.toUtf8();
}
void AsyncSession::clearAuth() { d->core->authorization.clear(); }

TlsOptions AsyncSession::tlsOptions() const { return d->core->tlsOptions; }
void AsyncSession::setTlsOptions(const TlsOptions &options)
{
    d->core->tlsOptions = options;
    d->core->forgetEndpoint();
}
QNetworkProxy AsyncSession::proxy() const { return d->core->proxy; }
void AsyncSession::setProxy(const QNetworkProxy &proxy)
{
    d->core->proxy = proxy;
    d->core->forgetEndpoint();
}
CookieJar *AsyncSession::cookieJar() const { return d->core->jar.get(); }
AsyncConnectionPool *AsyncSession::pool() const { return d->core->pool.data(); }

void AsyncSession::addRequestHookImpl(RequestHook hook)
{
    d->core->requestHooks.append(std::move(hook));
}
void AsyncSession::addResponseHookImpl(ResponseHook hook)
{
    d->core->responseHooks.append(std::move(hook));
}
void AsyncSession::clearHooks()
{
    d->core->requestHooks.clear();
    d->core->responseHooks.clear();
}

void AsyncSession::setStreamOwner(std::weak_ptr<void> owner)
{
    d->core->streamOwner = std::move(owner);
}

void AsyncSession::closeIdleConnections()
{
    if (d->core->pool)
        d->core->pool->clear();
}

QCoro::Task<Response> AsyncSession::request(QByteArray method, QUrl url, RequestOptions opts)
{
    return AsyncSessionPrivate::run(d->core, std::move(method), std::move(url), std::move(opts));
}

QCoro::Task<Response> AsyncSession::get(QUrl url, RequestOptions opts)
{
    return request(QByteArrayLiteral("GET"), std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncSession::head(QUrl url, RequestOptions opts)
{
    return request(QByteArrayLiteral("HEAD"), std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncSession::options(QUrl url, RequestOptions opts)
{
    return request(QByteArrayLiteral("OPTIONS"), std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncSession::deleteResource(QUrl url, RequestOptions opts)
{
    return request(QByteArrayLiteral("DELETE"), std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncSession::post(QUrl url, RequestOptions opts)
{
    return request(QByteArrayLiteral("POST"), std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncSession::put(QUrl url, RequestOptions opts)
{
    return request(QByteArrayLiteral("PUT"), std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncSession::patch(QUrl url, RequestOptions opts)
{
    return request(QByteArrayLiteral("PATCH"), std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncSession::post(QUrl url, Body body, RequestOptions opts)
{
    opts.body = std::move(body);
    return request(QByteArrayLiteral("POST"), std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncSession::put(QUrl url, Body body, RequestOptions opts)
{
    opts.body = std::move(body);
    return request(QByteArrayLiteral("PUT"), std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncSession::patch(QUrl url, Body body, RequestOptions opts)
{
    opts.body = std::move(body);
    return request(QByteArrayLiteral("PATCH"), std::move(url), std::move(opts));
}

QCoro::Task<Response> AsyncSessionPrivate::run(std::shared_ptr<SessionCore> core,
                                               QByteArray method, QUrl url, RequestOptions opts,
                                               CallControl control)
{
    // --- the URL --------------------------------------------------------------------------
    if (url.isRelative() && core->baseUrl.isValid())
        url = core->baseUrl.resolved(url);
    if (!opts.query.isEmpty()) {
        QUrlQuery q(url);
        for (const auto &[k, v] : opts.query.queryItems(QUrl::FullyDecoded))
            q.addQueryItem(k, v);
        url.setQuery(q);
    }
    const QString scheme = url.scheme();
    if (!url.isValid() || (scheme != QLatin1String("http") && scheme != QLatin1String("https"))
        || url.host().isEmpty())
        throw RequestError(QStringLiteral("not an http or https URL: \"%1\"")
                                   .arg(withoutUserInfo(url).toString()),
                           url);

    // --- headers: session defaults, overridden name by name by the request's ---------------
    PreparedRequest prepared{std::move(method), url, core->defaultHeaders};
    for (qsizetype i = 0; i < opts.headers.size(); ++i) {
        const QByteArrayView name = opts.headers.nameAt(i);
        bool first = true;
        for (qsizetype j = 0; j < i; ++j) {
            if (Headers::nameEquals(opts.headers.nameAt(j), name)) {
                first = false;
                break;
            }
        }
        if (first)
            prepared.headers.remove(name);
    }
    prepared.headers.append(opts.headers);
    if (!url.userInfo().isEmpty() && !prepared.headers.contains("authorization")) {
        // http://user:pass@host/ → Basic auth, and the credentials never appear in a URL again.
        prepared.headers.add("Authorization",
                             "Basic "
                                     + (url.userName(QUrl::FullyDecoded) + QLatin1Char(':')
                                        + url.password(QUrl::FullyDecoded))
                                               .toUtf8()
                                               .toBase64());
        prepared.url = withoutUserInfo(url);
    }
    for (const AsyncSession::RequestHook &hook : QList(core->requestHooks))
        co_await hook(prepared);
    core->checkOpen(prepared.url);

    Client::ExchangeSettings settings;
    settings.timeout = opts.timeout.value_or(core->timeout);
    settings.limits = opts.limits.value_or(core->limits);
    settings.decompress = opts.decompress.value_or(core->decompress);
    settings.stream = opts.stream;
    if (opts.stream)
        settings.keepAlive = core->streamOwner.lock();
    settings.cancel = std::move(control.cancel);
    // cancelWith(owner): the owner's destruction cancels the request like Reply::abort().
    struct OwnerWatch
    {
        QMetaObject::Connection connection;
        ~OwnerWatch() { QObject::disconnect(connection); }
    } ownerWatch;
    if (opts.owner) {
        const QPointer<const QObject> &owner = *opts.owner;
        if (!settings.cancel)
            settings.cancel = std::make_shared<Client::CancelToken>();
        if (!owner) {
            settings.cancel->cancel(); // gone before the request started
        } else if (owner->thread() != QThread::currentThread()) {
            throw RequestError(QStringLiteral("RequestOptions::cancelWith(): the owner must live "
                                              "in the session's thread"),
                               prepared.url);
        } else {
            ownerWatch.connection = QObject::connect(
                    owner.data(), &QObject::destroyed,
                    [token = settings.cancel] { token->cancel(); });
        }
        settings.cancel->check(prepared.url);
    }
    settings.uploadProgress = std::move(control.uploadProgress);
    settings.downloadProgress = std::move(control.downloadProgress);
    if (settings.timeout.total > milliseconds::zero())
        settings.deadline = Clock::now() + settings.timeout.total;
    const bool follow = opts.followRedirects.value_or(core->followRedirects);
    const int maxRedirects = opts.maxRedirects.value_or(core->maxRedirects);

    QByteArray currentMethod = prepared.method;
    QUrl currentUrl = prepared.url;
    Headers currentHeaders = prepared.headers;
    Body body = opts.body;
    // Session credentials go only to the origin the request was made for.
    const QUrl authOrigin = currentUrl;
    const bool sendSessionAuth = !core->authorization.isEmpty()
            && !currentHeaders.contains("authorization");
    QList<Response> history;
    Client::RedirectTracker tracker(maxRedirects);
    const auto bodyDigest = [](const Body &b) {
        return b.kind() == Body::Kind::Bytes
                ? QCryptographicHash::hash(b.bytes(), QCryptographicHash::Sha1)
                : QByteArray();
    };
    const auto cookieFor = [&](const Headers &h, const QUrl &u) {
        const QByteArrayView own = h.value("cookie");
        return own.isEmpty() ? core->jar->cookieHeaderFor(u) : own.toByteArray();
    };
    // The original request counts as seen, so a redirect straight back to it is a loop at once.
    // It is registered when the first redirect comes: most requests never need the tracker.
    const QByteArray firstMethod = currentMethod;
    const QUrl firstUrl = currentUrl;
    QByteArray firstCookie;

    while (true) {
        // The wire fields, built once: Host first, then the request's, then derived ones.
        Headers wire;
        wire.reserve(currentHeaders.size() + 6, 256);
        wire.add("Host", core->originFor(currentUrl).hostHeader);
        wire.append(currentHeaders);
        if (sendSessionAuth && Client::isSameOrigin(currentUrl, authOrigin))
            wire.add("Authorization", core->authorization);
        if (!wire.contains("cookie")) {
            const QByteArray cookies = core->jar->cookieHeaderFor(currentUrl);
            if (!cookies.isEmpty())
                wire.add("Cookie", cookies);
        }
        if (history.isEmpty())
            firstCookie = wire.value("cookie").toByteArray();
        if (settings.decompress && !wire.contains("accept-encoding"))
            wire.add("Accept-Encoding", "gzip, deflate");
        if (!body.isEmpty() && !wire.contains("content-type") && !body.contentType().isEmpty())
            wire.add("Content-Type", body.contentType());

        // --- one exchange ------------------------------------------------------------------
        // Validated and serialised before a connection is taken: a rejected request sends
        // nothing. Written out here rather than in a coroutine of its own: every coroutine
        // level costs a frame and a continuation allocation per request.
        QByteArray head;
        {
            QString error;
            if (!Protocol::RequestWriter::writeHead(head, currentMethod,
                                                    requestTarget(currentUrl), wire,
                                                    framingFor(currentMethod, body),
                                                    body.isEmpty() ? 0 : body.size(), &error))
                throw RequestError(error, currentUrl);
        }
        core->checkOpen(currentUrl);
        if (settings.cancel)
            settings.cancel->check(currentUrl);
        // acquire() copies the endpoint before it first suspends.
        ConnectionLease lease = co_await core->pool->acquire(
                core->originFor(currentUrl).endpoint,
                Client::waitBudget(settings.timeout.connect, settings.deadline, currentUrl),
                Client::waitBudget(settings.timeout.poolAcquire, settings.deadline, currentUrl));
        core->checkOpen(currentUrl);
        const bool reused = lease.isReused();
        Client::ExchangeProgress progress;
        std::exception_ptr failure;
        std::optional<Response> received;
        try {
            received = co_await Client::runExchange(std::move(lease), head, body, currentMethod,
                                                    currentUrl, settings, &progress);
        } catch (const NetworkError &) {
            failure = std::current_exception();
        } catch (const ProtocolError &) {
            failure = std::current_exception();
        } catch (const ReadTimeout &) {
            // A stale connection can also look like one that never answers; never retried.
            throw;
        }
        if (failure) {
            // A reused connection that failed before any response byte arrived was probably
            // closed by the server while idle: retry once on a fresh one, if resending is
            // harmless and possible.
            core->checkOpen(currentUrl);
            if (settings.cancel)
                settings.cancel->check(currentUrl);
            if (!reused || progress.responseStarted || !isIdempotent(currentMethod)
                || !body.isReplayable())
                std::rethrow_exception(failure);
            ConnectionLease fresh = co_await core->pool->connectFresh(
                    core->originFor(currentUrl).endpoint,
                    Client::waitBudget(settings.timeout.connect, settings.deadline, currentUrl),
                    Client::waitBudget(settings.timeout.poolAcquire, settings.deadline,
                                       currentUrl));
            core->checkOpen(currentUrl);
            Client::ExchangeProgress again;
            received = co_await Client::runExchange(std::move(fresh), head, body, currentMethod,
                                                    currentUrl, settings, &again);
        }
        Response response = std::move(*received);
        core->checkOpen(currentUrl);
        if (core->keepCookies)
            core->jar->storeFromResponse(currentUrl, response.headers());

        if (!follow || !response.isRedirect()) {
            response.setHistory(history);
            for (const AsyncSession::ResponseHook &hook : QList(core->responseHooks))
                response = co_await hook(std::move(response));
            co_return response;
        }

        const Client::RedirectDecision next = Client::decideRedirect(
                currentMethod, currentUrl, currentHeaders, body.isReplayable(), !body.isEmpty(),
                response.status(), response.headers());
        if (next.error)
            next.error.raise();
        if (!next.follow) {
            response.setHistory(history);
            for (const AsyncSession::ResponseHook &hook : QList(core->responseHooks))
                response = co_await hook(std::move(response));
            co_return response;
        }
        // The redirect's own body is read (and dropped) so its connection can be reused.
        if (response.isStreaming()) {
            co_await response.readAll();
            core->checkOpen(currentUrl);
        }
        if (history.isEmpty())
            tracker.start(firstMethod, firstUrl, bodyDigest(opts.body), firstCookie);
        const Error hopError = tracker.addHop(next.method, next.url,
                                              next.dropBody ? QByteArray() : bodyDigest(body),
                                              cookieFor(next.headers, next.url));
        if (hopError)
            hopError.raise();

        Response hop = response;
        hop.setBody(QByteArray());
        hop.setBodyStream(nullptr);
        history.append(hop);
        currentMethod = next.method;
        currentUrl = next.url;
        currentHeaders = next.headers;
        if (next.dropBody)
            body = Body();
    }
}

} // namespace Reqivo
