// Private parts of AsyncSession shared with Reply: the session state that in-flight requests
// hold on to, and the request coroutine with the controls a Reply adds.
#pragma once

#include <Reqivo/asyncsession.h>
#include <Reqivo/cookiejar.h>
#include <Reqivo/errors.h>

#include "exchange_p.h"

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
    TlsOptions tlsOptions;
    QNetworkProxy proxy{QNetworkProxy::DefaultProxy};
    QList<AsyncSession::RequestHook> requestHooks;
    QList<AsyncSession::ResponseHook> responseHooks;
    std::unique_ptr<CookieJar> jar;
    bool keepCookies = true;
    // Owned here, or borrowed (AsyncRequest); null once the session is gone.
    QPointer<AsyncConnectionPool> pool;
    std::unique_ptr<AsyncConnectionPool> ownedPool;
    std::weak_ptr<void> streamOwner;
    bool closed = false;

    //! The endpoint of the last request, reused while scheme, host, port, proxy and TLS options
    //! stay the same: building one costs several allocations (TLS option defaults).
    Endpoint endpointFor(const QUrl &url)
    {
        if (!m_lastEndpoint || url.scheme() != m_lastScheme || url.host() != m_lastHost
            || url.port() != m_lastPort) {
            Endpoint e = Endpoint::fromUrl(url);
            e.proxy = proxy;
            if (e.tls)
                e.tlsOptions = tlsOptions;
            m_lastEndpoint = std::move(e);
            m_lastScheme = url.scheme();
            m_lastHost = url.host();
            m_lastPort = url.port();
        }
        return *m_lastEndpoint;
    }
    void forgetEndpoint() { m_lastEndpoint.reset(); }

    std::optional<Endpoint> m_lastEndpoint;
    QString m_lastScheme;
    QString m_lastHost;
    int m_lastPort = -1;

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

    static QCoro::Task<Response> run(std::shared_ptr<SessionCore> core, QByteArray method,
                                     QUrl url, RequestOptions opts, CallControl control = {});
    static QCoro::Task<Response> sendHop(std::shared_ptr<SessionCore> core,
                                         const QByteArray &method, const QUrl &url,
                                         const Headers &headers, const Body &body,
                                         const Client::ExchangeSettings &settings);
};

} // namespace Reqivo
