// AsyncSession: state and decisions. A request passes through the pipeline's stages (see
// docs/architecture.md): prepare (prepare_p.h: URL, query, fields, Host, credentials, cookies;
// a plain function shared with the WebSocket handshake) → request hooks → redirects (this file's
// run(): one hop after the other, each hop's fields derived again) → the retry policy's attempts
// of one hop (retry.cpp: sendWithRetries()) → one attempt (sendHop():
// serialise, lease a connection, exchange, and retry once on a fresh connection when a reused one
// turned out stale) → exchange.cpp (bytes on the socket and back).
//
// In-flight requests share the session's state through a shared_ptr, so destroying the session
// while they are suspended is safe: the pool is destroyed (aborting their connections) and each
// of them ends with a RequestError instead of touching freed memory.
#include <Reqivo/asyncconnection.h>
#include <Reqivo/asyncsession.h>
#include <Reqivo/cookiejar.h>

#include "asyncsession_p.h"
#include "authstep_p.h"
#include "calltrace_p.h"
#include "exchange_p.h"
#include "http2connection_p.h"
#include "multipartsource_p.h"
#include "prepare_p.h"
#include "redaction_p.h"
#include "proxyroute_p.h"
#include "protocol/requestwriter.h"
#include "redirectpolicy.h"
#include "transport/asyncconnectionpool_p.h"

#include <QCryptographicHash>
#include <QScopeGuard>
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

Protocol::RequestWriter::BodyFraming framingFor(QByteArrayView method, const Body &body)
{
    using Framing = Protocol::RequestWriter::BodyFraming;
    if (!body.isEmpty())
        return body.size() < 0 ? Framing::Chunked : Framing::ContentLength;
    if (method == "POST" || method == "PUT" || method == "PATCH")
        return Framing::ContentLength; // "Content-Length: 0": some servers require it
    return Framing::None;
}

QUrl withoutUserInfo(QUrl url)
{
    url.setUserInfo(QString());
    return url;
}
} // namespace

const SessionCore::Origin &SessionCore::originFor(const QUrl &url, HttpVersion version,
                                                  bool upgrade)
{
    // matches() compares the components in place; no string is built.
    constexpr QUrl::FormattingOptions originOnly = QUrl::RemoveUserInfo | QUrl::RemovePath
            | QUrl::RemoveQuery | QUrl::RemoveFragment;
    if (!m_lastOrigin || version != m_lastOriginVersion || upgrade != m_lastOriginUpgrade
        || !url.matches(m_lastOriginUrl, originOnly)) {
        Origin o{Endpoint::fromUrl(url), Client::hostField(url), {}};
        Transport::ProxyChoice proxy = proxyPolicy.select(url);
        o.endpoint.proxy = std::move(proxy.proxy);
        o.proxyError = std::move(proxy.error);
        // http:// through an HTTP proxy: absolute form, unless the request upgrades (tunnel).
        o.endpoint.absoluteForm = !upgrade;
        if (o.endpoint.tls)
            o.endpoint.tlsOptions = tlsOptions;
        o.endpoint.httpVersion = version;
        m_lastOrigin = std::move(o);
        m_lastOriginUrl = url;
        m_lastOriginVersion = version;
        m_lastOriginUpgrade = upgrade;
    }
    return *m_lastOrigin;
}

HttpVersion SessionCore::versionFor(const QUrl &url, std::optional<HttpVersion> requested) const
{
    if (!http1OnlyHosts.isEmpty() && http1OnlyHosts.contains(url.host().toLower()))
        return HttpVersion::Http1_1;
    return requested.value_or(httpVersion);
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
    // Cancelling may resume a request, which then leaves the list: work on a copy.
    const auto inflight = std::exchange(d->core->inflight, {});
    for (const std::weak_ptr<Client::CancelToken> &weak : inflight) {
        if (const auto token = weak.lock())
            token->cancel();
    }
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

// Credentials are checked here, and a bad value is remembered so that every request fails
// before sending anything (a setter has no error channel of its own).
void AsyncSession::setBasicAuth(const QString &user, const QString &password)
{
    d->core->setAuthorization([&] { return Client::basicAuthorization(user, password); });
}
void AsyncSession::setBearerToken(const QString &token)
{
    d->core->setAuthorization([&] { return Client::bearerAuthorization(token); });
}
void AsyncSession::clearAuth()
{
    d->core->authorization.clear();
    d->core->authorizationError.clear();
    d->core->digest.reset();
}

TlsOptions AsyncSession::tlsOptions() const { return d->core->tlsOptions; }
void AsyncSession::setTlsOptions(const TlsOptions &options)
{
    d->core->tlsOptions = options;
    d->core->forgetEndpoint();
}
HttpVersion AsyncSession::httpVersion() const { return d->core->httpVersion; }
void AsyncSession::setHttpVersion(HttpVersion version)
{
    d->core->httpVersion = version;
    d->core->forgetEndpoint();
}
QStringList AsyncSession::http1OnlyHosts() const { return d->core->http1OnlyHosts; }
void AsyncSession::setHttp1OnlyHosts(const QStringList &hosts)
{
    QStringList lower;
    for (const QString &host : hosts) {
        QString h = host.toLower();
        if (h.startsWith(QLatin1Char('[')) && h.endsWith(QLatin1Char(']')))
            h = h.mid(1, h.size() - 2); // IPv6 as in a URL; QUrl::host() has no brackets
        lower.append(h);
    }
    d->core->http1OnlyHosts = lower;
    d->core->forgetEndpoint();
}
RetryPolicy AsyncSession::retryPolicy() const
{
    return d->core->retryPolicy ? *d->core->retryPolicy : RetryPolicy::none();
}
void AsyncSession::setRetryPolicy(const RetryPolicy &policy)
{
    d->core->retryPolicy = std::make_shared<const RetryPolicy>(policy);
}
QNetworkProxy AsyncSession::proxy() const { return d->core->proxyPolicy.explicitProxy; }
void AsyncSession::setProxy(const QNetworkProxy &proxy)
{
    d->core->proxyPolicy.explicitProxy = proxy;
    d->core->forgetEndpoint();
}
bool AsyncSession::proxyFromEnvironment() const { return d->core->proxyPolicy.fromEnvironment; }
void AsyncSession::setProxyFromEnvironment(bool on)
{
    Transport::ProxyPolicy &policy = d->core->proxyPolicy;
    policy.fromEnvironment = on;
    if (on)
        policy.environment = Transport::ProxyEnvironment::fromProcess();
    d->core->forgetEndpoint();
}
bool AsyncSession::useSystemProxy() const { return d->core->proxyPolicy.useSystem; }
void AsyncSession::setUseSystemProxy(bool on)
{
    d->core->proxyPolicy.useSystem = on;
    d->core->forgetEndpoint();
}
QStringList AsyncSession::noProxy() const { return d->core->proxyPolicy.noProxy; }
void AsyncSession::setNoProxy(const QStringList &hosts)
{
    d->core->proxyPolicy.noProxy = hosts;
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

std::shared_ptr<EventListener> AsyncSession::eventListener() const { return d->core->listener; }
void AsyncSession::setEventListener(std::shared_ptr<EventListener> listener)
{
    d->core->listener = std::move(listener);
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

namespace {

// The Authorization value of a request's own credentials (RequestOptions::credentials); empty
// for Credentials::none(). Bad credentials are a RequestError naming the request's URL.
QByteArray requestAuthorization(const Credentials &credentials, const QUrl &url)
{
    try {
        switch (credentials.scheme) {
        case Credentials::Scheme::None:
            return {};
        case Credentials::Scheme::Digest: // answers a challenge; nothing sent before one
            Client::checkDigestCredentials(credentials.user, credentials.password);
            return {};
        case Credentials::Scheme::Basic:
            return Client::basicAuthorization(credentials.user, credentials.password);
        case Credentials::Scheme::Bearer:
            return Client::bearerAuthorization(credentials.token);
        }
    } catch (const RequestError &e) {
        throw RequestError(e.message(), withoutUserInfo(url));
    }
    return {};
}

// The prepare stage for the HTTP path: URL, then prepareRequest(). Plain, no frame.
Client::Prepared prepareHttp(SessionCore &core, QByteArray method, QUrl url,
                             const RequestOptions &opts, bool decompress)
{
    url = Client::requestUrl(core.baseUrl, std::move(url), opts.query);
    const QString scheme = url.scheme();
    if (!url.isValid() || (scheme != QLatin1String("http") && scheme != QLatin1String("https"))
        || url.host().isEmpty())
        throw RequestError(QStringLiteral("not an http or https URL: \"%1\"")
                                   .arg(withoutUserInfo(url).toString()),
                           withoutUserInfo(url));
    // The request's own credentials replace the session's, even bad ones.
    if (!opts.credentials && !core.authorizationError.isEmpty())
        throw RequestError(core.authorizationError, withoutUserInfo(url));
    Client::PrepareInput in;
    in.method = std::move(method);
    const SessionCore::Origin &origin = core.originFor(url, core.versionFor(url, opts.httpVersion));
    if (!origin.proxyError.isEmpty())
        throw RequestError(origin.proxyError, withoutUserInfo(url));
    in.host = origin.hostHeader;
    in.url = std::move(url);
    in.defaults = core.defaultHeaders;
    in.overrides = opts.headers;
    in.sessionAuthorization = opts.credentials ? requestAuthorization(*opts.credentials, in.url)
                                               : core.authorization;
    in.jar = core.jar.get();
    in.acceptEncoding = decompress;
    if (!opts.body.isEmpty())
        in.contentType = opts.body.contentType();
    return Client::prepareRequest(std::move(in));
}

// What one request's exchanges share: timeouts, limits, cancellation, progress.
Client::ExchangeSettings exchangeSettings(const SessionCore &core, const RequestOptions &opts,
                                          AsyncSessionPrivate::CallControl &control,
                                          bool decompress, bool follow)
{
    Client::ExchangeSettings settings;
    settings.timeout = opts.timeout.value_or(core.timeout);
    settings.limits = opts.limits.value_or(core.limits);
    settings.decompress = decompress;
    settings.stream = opts.stream;
    if (opts.stream)
        settings.keepAlive = core.streamOwner.lock();
    settings.cancel = std::move(control.cancel);
    settings.uploadProgress = std::move(control.uploadProgress);
    settings.downloadProgress = std::move(control.downloadProgress);
    settings.redirectsFollowed = follow;
    settings.httpVersion = opts.httpVersion;
    settings.retry = opts.retry ? std::make_shared<const RetryPolicy>(*opts.retry)
                                : core.retryPolicy;
    if (!Timeout::isNoLimit(settings.timeout.total))
        settings.deadline = Clock::now() + settings.timeout.total;
    return settings;
}

QByteArray serializeHead(const QByteArray &method, const QUrl &url, const Headers &fields,
                         const Body &body, bool absoluteForm)
{
    QByteArray head;
    QString error;
    const QByteArray target = absoluteForm ? Client::absoluteTarget(url)
                                           : Client::requestTarget(url);
    if (!Protocol::RequestWriter::writeHead(head, method, target, fields,
                                            framingFor(method, body),
                                            body.isEmpty() ? 0 : body.size(), &error))
        throw RequestError(error, url);
    return head;
}

} // namespace

// The exchange stage for one hop: serialised and checked before a connection is taken (a
// rejected request sends nothing), then one exchange over HTTP/1.1 or as an HTTP/2 stream. It is
// sent again on a fresh connection once when a reused one failed before any response byte (the
// server probably closed it while idle), if resending is harmless and possible; and, whatever
// the method, when an HTTP/2 server refused the stream (REFUSED_STREAM, or above a GOAWAY's
// last-stream-id: never processed), up to maxRefusals times, if the body can be sent again.
QCoro::Task<Response> AsyncSessionPrivate::sendHop(std::shared_ptr<SessionCore> core,
                                                   QByteArray method, QUrl url, Headers fields,
                                                   Body body, Client::ExchangeSettings settings,
                                                   Client::ExchangeProgress *progressOut)
{
    constexpr int maxRefusals = 3;
    settings.upgradeRequested = fields.contains("upgrade");
    // An upgrade (WebSocket and friends) is an HTTP/1.1 mechanism (RFC 8441 is not used).
    const HttpVersion version = settings.upgradeRequested
            ? HttpVersion::Http1_1
            : core->versionFor(url, settings.httpVersion);
    const bool upgrade = settings.upgradeRequested;
    Client::checkBody(body, url); // a form's files: before anything is sent
    const QByteArray head = serializeHead(
            method, url, fields, body,
            core->originFor(url, version, upgrade).endpoint.usesAbsoluteForm());
    Client::logRequest(core->redactedQueryNames, method, url, fields); // reqivo.http
    core->checkOpen(url);
    const std::shared_ptr<Client::CancelToken> cancel = settings.cancel;
    if (cancel)
        cancel->check(url);
    int refusals = 0;
    bool fresh = false;
    // A CONNECT proxy's 407 that its own credentials did not answer: the session's
    // Authenticator is asked once, and the hop goes again with the credentials it gave.
    std::optional<Endpoint> tunnelAnswered;
    bool tunnelAsked = false;
    while (true) {
        // Valid until the next suspension only (another request may change the session's
        // cached origin): both routes copy it before they first suspend. Not copied here: an
        // Endpoint copy per request costs HTTP/1.1 several percent at 32 requests in flight.
        const Endpoint &endpoint = tunnelAnswered ? *tunnelAnswered
                                                  : core->originFor(url, version, upgrade).endpoint;
        Client::startAttempt(settings);
        Client::WaitBudget connectBudget, acquireBudget;
        Error tunnelError;
        ConnectionLease leased;
        std::shared_ptr<Client::Http2Connection> h2;
        try {
            if (endpoint.offersHttp2()) {
                connectBudget = Client::waitBudget(settings.timeout.connect, settings, url);
                acquireBudget = Client::waitBudget(settings.timeout.poolAcquire, settings, url);
                Client::Http2Route route = co_await Client::routeHttp2(
                        core->pool, endpoint, settings.limits, connectBudget, acquireBudget,
                        cancel, url, fresh);
                h2 = std::move(route.h2);
                leased = std::move(route.lease);
            } else {
                leased = co_await lease(*core, endpoint, url, settings, fresh, &connectBudget,
                                        &acquireBudget);
            }
        } catch (const ConnectTimeout &) {
            Client::rethrowAsTotalTimeout(connectBudget, settings, url);
            throw;
        } catch (const PoolTimeout &) {
            Client::rethrowAsTotalTimeout(acquireBudget, settings, url);
            throw;
        } catch (const NetworkError &e) {
            if (tunnelAsked || !core->authenticator
                || e.error().networkFailure() != Error::NetworkFailure::ProxyAuthenticationRequired
                || endpoint.proxy.type() != QNetworkProxy::HttpProxy)
                throw;
            tunnelAsked = true;
            tunnelError = e.error();
        }
        if (tunnelError) {
            Endpoint retry = endpoint; // copied before the hook suspends
            const Error asked = std::exchange(tunnelError, Error());
            const std::optional<Credentials> given = co_await Client::askForTunnelCredentials(
                    core->authenticator, method, url, asked);
            core->checkOpen(url);
            if (cancel)
                cancel->check(url);
            if (!given)
                asked.raise();
            retry.proxy.setUser(given->user);
            retry.proxy.setPassword(given->password);
            tunnelAnswered = std::move(retry);
            continue;
        }
        core->checkOpen(url);
        if (cancel)
            cancel->check(url);
        if (h2)
            Client::connectionAcquired(settings, h2->transport(), h2->streamsStarted() > 0);
        else
            Client::connectionAcquired(settings, leased.connection(), leased.isReused());
        Client::ExchangeProgress progress;
        bool reused = false;
        std::exception_ptr failure;
        try {
            if (h2) {
                reused = h2->streamsStarted() > 0;
                Response r = co_await Client::runHttp2Exchange(std::move(h2), method, url,
                                                               fields, body, settings, &progress);
                Client::logResponse(core->redactedQueryNames, method, url, r); // reqivo.http
                co_return r;
            }
            reused = leased.isReused();
            Response r = co_await Client::runExchange(std::move(leased), head, body, method, url,
                                                      settings, &progress);
            Client::logResponse(core->redactedQueryNames, method, url, r); // reqivo.http
            co_return r;
        } catch (const NetworkError &) {
            failure = std::current_exception();
        } catch (const ProtocolError &) {
            failure = std::current_exception();
        }
        if (progressOut)
            *progressOut = progress; // for the retry policy (retry.cpp)
        core->checkOpen(url);
        if (cancel)
            cancel->check(url);
        if (progress.refused) {
            // Not a stale connection: the server declined the stream.
            if (refusals == maxRefusals || !body.isReplayable())
                std::rethrow_exception(failure);
            ++refusals;
            continue;
        }
        if (fresh || !reused || progress.responseStarted || !isIdempotent(method)
            || !body.isReplayable())
            std::rethrow_exception(failure);
        fresh = true;
    }
}

// A connection to \a endpoint for \a url: pooled (or a fresh one when \a fresh), within the
// connect and pool-acquire budgets, which go to *connect and *wait for the caller to tell a
// phase's timeout from the end of the total deadline. A plain function handing on the pool's
// task: no frame of its own.
QCoro::Task<ConnectionLease> AsyncSessionPrivate::lease(SessionCore &core,
                                                        const Endpoint &endpoint, const QUrl &url,
                                                        const Client::ExchangeSettings &settings,
                                                        bool fresh, Client::WaitBudget *connect,
                                                        Client::WaitBudget *wait)
{
    *connect = Client::waitBudget(settings.timeout.connect, settings, url);
    *wait = Client::waitBudget(settings.timeout.poolAcquire, settings, url);
    // acquire() copies the endpoint before it first suspends. The request's token ends a wait
    // for a slot or a connect under way at once.
    return AsyncConnectionPoolPrivate::acquireAbortable(*core.pool, endpoint, connect->wait,
                                                        wait->wait, settings.cancel, fresh);
}

// Not a coroutine: without a listener the pipeline's task is handed on as it is.
QCoro::Task<Response> AsyncSessionPrivate::run(std::shared_ptr<SessionCore> core,
                                               QByteArray method, QUrl url, RequestOptions opts,
                                               CallControl control)
{
    // Error messages never carry the URL's secrets (redaction_p.h).
    QStringList redacted = core->redactedQueryNames;
    QUrl requested = url;
    if (!core->listener && !opts.listener)
        return Client::redactingErrors(pipeline(std::move(core), std::move(method), std::move(url),
                                                std::move(opts), std::move(control), nullptr),
                                       std::move(redacted), std::move(requested));
    std::shared_ptr<Client::CallTrace> trace
            = Client::CallTrace::create(core->listener, opts.listener, method, url);
    // The token tells a cancellation from a failure.
    if (!control.cancel)
        control.cancel = std::make_shared<Client::CancelToken>();
    std::shared_ptr<Client::CancelToken> cancel = control.cancel;
    trace->emit(RequestEvent::Type::CallStart);
    QCoro::Task<Response> call = Client::redactingErrors(
            pipeline(std::move(core), std::move(method), std::move(url), std::move(opts),
                     std::move(control), trace),
            std::move(redacted), std::move(requested));
    return traced(std::move(call), std::move(trace), std::move(cancel));
}

// The call's end, failure (its error as the caller gets it, redacted) or cancellation.
QCoro::Task<Response> AsyncSessionPrivate::traced(QCoro::Task<Response> call,
                                                  std::shared_ptr<Client::CallTrace> trace,
                                                  std::shared_ptr<Client::CancelToken> cancel)
{
    std::exception_ptr failure;
    try {
        Response response = co_await std::move(call);
        trace->emit(RequestEvent::Type::CallEnd);
        co_return response;
    } catch (...) {
        failure = std::current_exception();
    }
    RequestEvent &e = trace->event(cancel->isAborted() ? RequestEvent::Type::CallCancelled
                                                      : RequestEvent::Type::CallFailed);
    e.error = Error::fromException(failure);
    trace->emit(e);
    std::rethrow_exception(failure);
}

QCoro::Task<Response> AsyncSessionPrivate::pipeline(std::shared_ptr<SessionCore> core,
                                                    QByteArray method, QUrl url,
                                                    RequestOptions opts, CallControl control,
                                                    std::shared_ptr<Client::CallTrace> trace)
{
    // --- prepare ----------------------------------------------------------------------------
    const bool decompress = opts.decompress.value_or(core->decompress);
    Client::Prepared prepared = prepareHttp(*core, std::move(method), std::move(url), opts,
                                            decompress);
    // --- request hooks: they see the fields as they will be sent ---------------------------
    if (!core->requestHooks.isEmpty()) {
        const QUrl before = prepared.request.url;
        for (const AsyncSession::RequestHook &hook : QList(core->requestHooks))
            co_await hook(prepared.request);
        core->checkOpen(prepared.request.url);
        Client::finishPrepared(prepared, before);
    }

    const bool follow = opts.followRedirects.value_or(core->followRedirects);
    Client::ExchangeSettings settings = exchangeSettings(*core, opts, control, decompress, follow);
    // Every request can be cancelled: by its Reply, its owner (cancelWith) or the session's end.
    if (!settings.cancel)
        settings.cancel = std::make_shared<Client::CancelToken>();
    settings.trace = std::move(trace);
    core->inflight.push_back(settings.cancel);
    // Found by owner, without locking each entry: no atomic operation per request in flight.
    const auto leaveInflight = qScopeGuard([&core, &token = settings.cancel] {
        const auto same = [&token](const std::weak_ptr<Client::CancelToken> &w) {
            return !w.owner_before(token) && !token.owner_before(w);
        };
        const auto it = std::find_if(core->inflight.begin(), core->inflight.end(), same);
        if (it != core->inflight.end()) {
            std::swap(*it, core->inflight.back());
            core->inflight.pop_back();
        }
    });
    // cancelWith(owner): the owner's destruction cancels the request like Reply::abort().
    struct OwnerWatch
    {
        QMetaObject::Connection connection;
        ~OwnerWatch() { QObject::disconnect(connection); }
    } ownerWatch;
    if (opts.owner) {
        const QPointer<const QObject> &owner = *opts.owner;
        if (!owner) {
            settings.cancel->cancel(); // gone before the request started
        } else if (owner->thread() != QThread::currentThread()) {
            throw RequestError(QStringLiteral("RequestOptions::cancelWith(): the owner must live "
                                              "in the session's thread"),
                               prepared.request.url);
        } else {
            ownerWatch.connection = QObject::connect(
                    owner.data(), &QObject::destroyed,
                    [token = settings.cancel] { token->cancel(); });
        }
        settings.cancel->check(prepared.request.url);
    }

    // --- redirects: one hop after the other --------------------------------------------------
    const int maxRedirects = opts.maxRedirects.value_or(core->maxRedirects);
    QByteArray currentMethod = prepared.request.method;
    QUrl currentUrl = prepared.request.url;
    Headers currentFields = prepared.request.headers;
    Body body = opts.body;
    QList<Response> history;
    Client::RedirectTracker tracker(maxRedirects);
    const auto bodyDigest = [](const Body &b) {
        return b.kind() == Body::Kind::Bytes
                ? QCryptographicHash::hash(b.bytes(), QCryptographicHash::Sha1)
                : QByteArray();
    };
    // The original request counts as seen, so a redirect straight back to it is a loop at once.
    // It is registered when the first redirect comes: most requests never need the tracker.
    const QByteArray firstMethod = currentMethod;
    const QUrl firstUrl = currentUrl;
    const QByteArray firstCookie = currentFields.value("cookie").toByteArray();

    Client::AuthContext auth = Client::makeAuthContext(opts.credentials, core->digest,
                                                       core->authenticator, prepared.authOrigin);

    while (true) {
        Response response = co_await sendWithRetries(core, currentMethod, currentUrl,
                                                     currentFields, body, settings);
        core->checkOpen(currentUrl);
        // --- auth step: a 401 (or an HTTP proxy's 407) answered once, see authstep_p.h --------
        if (response.status() == 401 || response.status() == 407) {
            const QNetworkProxy via
                    = Client::absoluteFormProxy(*core, currentUrl, settings.httpVersion);
            if (Client::mayAnswer(response.status(), auth, via)) {
                // The same sending as above, through the retry loop.
                const Client::ResendHop resend = [&](Headers f, const Response &challenged) {
                    Client::traceAuthAnswer(settings, challenged.status(), f);
                    Client::prepareReplay(*core, prepared.jarCookie, f, currentUrl, challenged);
                    return sendWithRetries(core, currentMethod, currentUrl, std::move(f), body,
                                           settings);
                };
                response = co_await Client::authenticate(&auth, currentMethod, currentUrl,
                                                         currentFields, body.isReplayable(), via,
                                                         std::move(response), resend);
                core->checkOpen(currentUrl);
            }
        }
        if (core->keepCookies)
            core->jar->storeFromResponse(currentUrl, response.headers());

        Client::RedirectDecision next;
        if (follow && response.isRedirect()) {
            next = Client::decideRedirect(currentMethod, currentUrl, currentFields,
                                          body.isReplayable(), !body.isEmpty(),
                                          response.status(), response.headers());
        }
        if (next.error) {
            if (const std::shared_ptr<BodyStream> stream = response.bodyStream())
                stream->close();
            next.error.raise();
        }
        if (!next.follow) {
            // A redirect kept back by the exchange is read now, as any other response.
            if (follow && !opts.stream && response.isStreaming()) {
                const QByteArray all = co_await Client::readWholeBody(response.bodyStream());
                core->checkOpen(currentUrl);
                response.setTimings(response.timings()); // the body's end, from the stream
                response.setBody(all);
                response.setBodyStream(nullptr);
            }
            response.setHistory(history);
            for (const AsyncSession::ResponseHook &hook : QList(core->responseHooks))
                response = co_await hook(std::move(response));
            co_return response;
        }
        // Following never waits for the redirect's body: a little is drained for the
        // connection's sake, the rest costs the connection.
        if (const std::shared_ptr<BodyStream> stream = response.bodyStream()) {
            co_await Client::drainRedirectBody(stream);
            core->checkOpen(currentUrl);
        }
        if (history.isEmpty())
            tracker.start(firstMethod, firstUrl, bodyDigest(opts.body), firstCookie);
        const Headers nextFields = Client::hopHeaders(prepared, next.headers, next.url,
                                                      core->jar.get());
        const Error hopError = tracker.addHop(next.method, next.url,
                                              next.dropBody ? QByteArray() : bodyDigest(body),
                                              nextFields.value("cookie").toByteArray());
        if (hopError)
            hopError.raise();

        Response hop = response;
        hop.setBody(QByteArray());
        hop.setBodyStream(nullptr);
        history.append(hop);
        currentMethod = next.method;
        currentUrl = next.url;
        currentFields = nextFields;
        if (next.dropBody)
            body = Body();
        if (Client::CallTrace *t = settings.trace.get()) {
            RequestEvent &e = t->event(RequestEvent::Type::Redirect);
            e.location = withoutUserInfo(currentUrl);
            t->emit(e);
            t->startHop(currentMethod, currentUrl);
        }
    }
}

} // namespace Reqivo
