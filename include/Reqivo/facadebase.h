// FacadeBase: the fluent configuration shared by the two facades, AsyncReqivo and Reqivo.
// Both sessions (AsyncSession, Session) spell their setters the same way, so one template
// serves both and no setter is written twice.
#pragma once

#include <Reqivo/endpoint.h>
#include <Reqivo/headers.h>
#include <Reqivo/limits.h>
#include <Reqivo/timeout.h>

#include <QNetworkProxy>
#include <QString>
#include <QUrl>

#include <utility>

namespace Reqivo {

template<typename Derived, typename SessionType>
class FacadeBase
{
public:
    //! The session underneath, for everything the fluent API does not cover.
    SessionType &session() { return *m_session; }
    const SessionType &session() const { return *m_session; }

    Derived &bearerToken(const QString &token)
    {
        m_session->setBearerToken(token);
        return self();
    }
    Derived &basicAuth(const QString &user, const QString &password)
    {
        m_session->setBasicAuth(user, password);
        return self();
    }
    Derived &header(QByteArrayView name, QByteArrayView value)
    {
        m_session->setDefaultHeader(name, value);
        return self();
    }
    Derived &timeout(const Timeout &t)
    {
        m_session->setTimeout(t);
        return self();
    }
    Derived &limits(const Limits &l)
    {
        m_session->setLimits(l);
        return self();
    }
    Derived &followRedirects(bool on, int max = 30)
    {
        m_session->setFollowRedirects(on);
        m_session->setMaxRedirects(max);
        return self();
    }
    Derived &tls(const TlsOptions &options)
    {
        m_session->setTlsOptions(options);
        return self();
    }
    Derived &proxy(const QNetworkProxy &p)
    {
        m_session->setProxy(p);
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
    //! Closes idle connections (the seed's close()); the facade stays usable.
    void close() { m_session->closeIdleConnections(); }

protected:
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

    std::unique_ptr<SessionType> m_session;

private:
    Derived &self() { return static_cast<Derived &>(*this); }
};

} // namespace Reqivo
