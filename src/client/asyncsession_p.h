// Private parts of AsyncSession shared with Reply: the session state that in-flight requests
// hold on to, and the request coroutine with the controls a Reply adds.
#pragma once

#include <Reqivo/asyncsession.h>
#include <Reqivo/cookiejar.h>
#include <Reqivo/errors.h>
#include <Reqivo/redaction.h>

#include "exchange_p.h"
#include "transport/proxyselection.h"
#include "retry_p.h"

#include <QPointer>

#include <memory>
#include <optional>

namespace Reqivo {

//! The seed's default.
constexpr int defaultMaxRedirects = 30;

struct SessionCore
{
    QUrl baseUrl;
    Headers defaultHeaders;
    Timeout timeout;
    Limits limits;
    bool followRedirects = true;
    int maxRedirects = defaultMaxRedirects;
    bool decompress = true;
    QByteArray authorization; // "Basic ..." / "Bearer ..."; empty: none
    //! setDigestAuth(): answers Digest challenges (authstep.cpp); unset: none.
    std::optional<Credentials> digest;
    Authenticator authenticator; //!< setAuthenticator(); empty: none
    //! Why the credentials last set were refused; every request fails with it until replaced.
    QString authorizationError;
    TlsOptions tlsOptions;
    //! setProxy() (explicitProxy), the system and the environment, setNoProxy(): which proxy
    //! each origin takes (transport/proxyselection.h). The environment is read here, when the
    //! session is created.
    Transport::ProxyPolicy proxyPolicy;
    HttpVersion httpVersion = HttpVersion::Http2;
    QStringList http1OnlyHosts; // lower case
    QList<AsyncSession::RequestHook> requestHooks;
    QList<AsyncSession::ResponseHook> responseHooks;
    std::shared_ptr<EventListener> listener; //!< setEventListener(); null: none
    //! setRedactedQueryParameters(): query values hidden in logs and errors (redaction.h).
    QStringList redactedQueryNames = defaultRedactedQueryNames();
    std::unique_ptr<CookieJar> jar;
    bool keepCookies = true;
    //! setRetryPolicy(); null: none (RetryPolicy::none()).
    std::shared_ptr<const RetryPolicy> retryPolicy;
    //! The per-host retry budgets of the session's requests (retry.cpp).
    Client::RetryBudgets retryBudgets;
    // Owned here, or borrowed (AsyncRequest); null once the session is gone.
    QPointer<AsyncConnectionPool> pool;
    std::unique_ptr<AsyncConnectionPool> ownedPool;
    std::weak_ptr<void> streamOwner;
    bool closed = false;
    //! The requests in flight: destroying the session cancels each of them, in whatever phase
    //! it is (a borrowed pool outlives the session; an upload may wait on its device).
    std::vector<std::weak_ptr<Client::CancelToken>> inflight;

    //! What a request needs of its URL's origin: the pool's endpoint and the Host field.
    struct Origin
    {
        Endpoint endpoint;
        QByteArray hostHeader;
        //! Why the proxy chosen for it cannot be used (an unsupported scheme in a proxy
        //! variable): a request fails with RequestError(proxyError). Empty: no problem.
        QString proxyError;
    };
    //! The origin of the last request, reused while scheme, host and port stay the same (and
    //! the proxy and TLS options, which forgetEndpoint() resets): building an endpoint costs
    //! several allocations (TLS option defaults), the Host field a few more.
    //! With \a upgrade (a request asking to switch protocols), a plain origin behind an HTTP
    //! proxy is reached through a CONNECT tunnel instead of in absolute form.
    const Origin &originFor(const QUrl &url, HttpVersion version, bool upgrade = false);
    //! The policy a request to \a url with \a requested (its own, if any) gets.
    HttpVersion versionFor(const QUrl &url, std::optional<HttpVersion> requested) const;
    void forgetEndpoint() { m_lastOrigin.reset(); }

    std::optional<Origin> m_lastOrigin;
    QUrl m_lastOriginUrl;
    HttpVersion m_lastOriginVersion = HttpVersion::Http1_1;
    bool m_lastOriginUpgrade = false;

    //! Sets the credentials \a build returns, or remembers why it threw.
    template<typename F>
    void setAuthorization(F build)
    {
        authorization.clear();
        authorizationError.clear();
        digest.reset();
        try {
            authorization = build();
        } catch (const RequestError &e) {
            authorizationError = e.message();
        }
    }

    void checkOpen(const QUrl &url) const
    {
        if (closed || !pool)
            throw RequestError(QStringLiteral("the session was destroyed during the request"),
                               url);
    }
};

class AsyncSessionPrivate
{
public:
    std::shared_ptr<SessionCore> core = std::make_shared<SessionCore>();

    //! What a Reply adds to a request: a way to abort it and progress callbacks.
    struct CallControl
    {
        std::shared_ptr<Client::CancelToken> cancel;
        Client::ProgressCallback uploadProgress;
        Client::ProgressCallback downloadProgress;
    };

    static std::shared_ptr<SessionCore> coreOf(const AsyncSession *session)
    {
        return session->d->core;
    }

    //! The request pipeline (see docs/architecture.md).
    static QCoro::Task<Response> run(std::shared_ptr<SessionCore> core, QByteArray method,
                                     QUrl url, RequestOptions opts, CallControl control = {});

private:
    //! run() with \a trace (null: no listener), which run() creates when a listener is set.
    static QCoro::Task<Response> pipeline(std::shared_ptr<SessionCore> core, QByteArray method,
                                          QUrl url, RequestOptions opts, CallControl control,
                                          std::shared_ptr<Client::CallTrace> trace);
    //! Awaits \a call (run() told \a trace of its start) and tells \a trace of its end,
    //! failure or cancellation (\a cancel aborted).
    static QCoro::Task<Response> traced(QCoro::Task<Response> call,
                                        std::shared_ptr<Client::CallTrace> trace,
                                        std::shared_ptr<Client::CancelToken> cancel);
    //! One hop under settings.retry (retry.cpp): sendHop() until the policy says stop. The
    //! response's attempts(), or the error's, counts the tries.
    static QCoro::Task<Response> sendWithRetries(std::shared_ptr<SessionCore> core,
                                                 QByteArray method, QUrl url, Headers fields,
                                                 Body body, Client::ExchangeSettings settings);

    //! One attempt of a hop; how far a failed exchange got goes to *progress when given.
    static QCoro::Task<Response> sendHop(std::shared_ptr<SessionCore> core, QByteArray method,
                                         QUrl url, Headers fields, Body body,
                                         Client::ExchangeSettings settings,
                                         Client::ExchangeProgress *progress = nullptr);
    static QCoro::Task<ConnectionLease> lease(SessionCore &core, const Endpoint &endpoint,
                                              const QUrl &url,
                                              const Client::ExchangeSettings &settings,
                                              bool fresh, Client::WaitBudget *connect,
                                              Client::WaitBudget *wait);
};

} // namespace Reqivo
