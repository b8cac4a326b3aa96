// FacadeBase: the fluent configuration shared by the two facades, AsyncReqivo and Reqivo.
// Both sessions (AsyncSession, Session) spell their setters the same way, so one template
// serves both and no setter is written twice.
#pragma once

#include <Reqivo/download.h>
#include <Reqivo/endpoint.h>
#include <Reqivo/headers.h>
#include <Reqivo/limits.h>
#include <Reqivo/retrypolicy.h>
#include <Reqivo/timeout.h>

#include <QNetworkProxy>
#include <QString>
#include <QUrl>

#include <memory>
#include <utility>

namespace Reqivo {

class EventListener;

//! The fluent configuration shared by the facades AsyncReqivo and Reqivo (\a SessionType
//! AsyncSession or Session): each setter changes the session and returns the facade, so calls
//! chain: `api.bearerToken(token).header("Accept", "application/json").get(url)`.
template<typename Derived, typename SessionType>
class FacadeBase
{
public:
    //! The session underneath, for everything the fluent API does not cover.
    SessionType &session() { return *m_session; }
    //! The session underneath (const).
    const SessionType &session() const { return *m_session; }

    //! The session's setBearerToken().
    Derived &bearerToken(const QString &token)
    {
        m_session->setBearerToken(token);
        return self();
    }
    //! The session's setBasicAuth().
    Derived &basicAuth(const QString &user, const QString &password)
    {
        m_session->setBasicAuth(user, password);
        return self();
    }
    //! The session's setDefaultHeader(): sent with every request.
    Derived &header(QByteArrayView name, QByteArrayView value)
    {
        m_session->setDefaultHeader(name, value);
        return self();
    }
    //! The session's setTimeout().
    Derived &timeout(const Timeout &t)
    {
        m_session->setTimeout(t);
        return self();
    }
    //! The session's setLimits().
    Derived &limits(const Limits &l)
    {
        m_session->setLimits(l);
        return self();
    }
    //! The session's setFollowRedirects() and setMaxRedirects().
    Derived &followRedirects(bool on, int max = 30)
    {
        m_session->setFollowRedirects(on);
        m_session->setMaxRedirects(max);
        return self();
    }
    //! The session's setDigestAuth().
    Derived &digestAuth(const QString &user, const QString &password)
    {
        m_session->setDigestAuth(user, password);
        return self();
    }
    //! The session's setAuthenticator(): a plain function or a coroutine taking AuthRequest.
    template<typename F>
    Derived &authenticator(F &&f)
    {
        m_session->setAuthenticator(std::forward<F>(f));
        return self();
    }
    //! The session's setRetryPolicy().
    Derived &retry(const RetryPolicy &policy)
    {
        m_session->setRetryPolicy(policy);
        return self();
    }
    //! The session's setEventListener().
    Derived &eventListener(std::shared_ptr<EventListener> listener)
    {
        m_session->setEventListener(std::move(listener));
        return self();
    }
    //! The session's setTlsOptions().
    Derived &tls(const TlsOptions &options)
    {
        m_session->setTlsOptions(options);
        return self();
    }
    //! The session's setProxy().
    Derived &proxy(const QNetworkProxy &p)
    {
        m_session->setProxy(p);
        return self();
    }
    //! The session's setHttpVersion().
    Derived &httpVersion(HttpVersion version)
    {
        m_session->setHttpVersion(version);
        return self();
    }
    //! A pre-request hook: a plain function or a coroutine taking PreparedRequest &.
    template<typename F>
    Derived &onRequest(F &&hook)
    {
        m_session->addRequestHook(std::forward<F>(hook));
        return self();
    }
    //! A post-response hook: a plain function or a coroutine taking and returning a Response.
    template<typename F>
    Derived &onResponse(F &&hook)
    {
        m_session->addResponseHook(std::forward<F>(hook));
        return self();
    }
    //! The session's download(): \a url into the file \a filePath, resumable (a task to
    //! co_await on AsyncReqivo, a DownloadResult on Reqivo; docs/downloads.md).
    auto download(const QUrl &url, const QString &filePath, const DownloadOptions &opts = {})
    {
        return m_session->download(url, filePath, opts);
    }
    //! Closes idle connections (the seed's close()); the facade stays usable.
    void close() { m_session->closeIdleConnections(); }

protected:
    //! Takes \a session and gives it the base URL, timeout, default headers and limits.
    FacadeBase(std::unique_ptr<SessionType> session, const QUrl &baseUrl, const Timeout &t,
               const Headers &headers, const Limits &l)
        : m_session(std::move(session))
    {
        m_session->setBaseUrl(baseUrl);
        m_session->setTimeout(t);
        m_session->setLimits(l);
        for (const Headers::Field f : headers)
            m_session->setDefaultHeader(f.name, f.value);
    }

    std::unique_ptr<SessionType> m_session; //!< The session, owned by the facade.

private:
    Derived &self() { return static_cast<Derived &>(*this); }
};

} // namespace Reqivo
