// SessionAccess: the one place the WebSocket layer reads an AsyncSession's private state.
//
// AsyncSession keeps its settings in a shared SessionCore (client/asyncsession_p.h) and has no
// public getter for the Authorization value it sends. A socket made by fromSession() keeps a
// weak reference to that core and reads it again at every (re)connect, so a token or a cookie
// renewed between two connections is the one the next handshake carries.
#pragma once

#include <Reqivo/asyncsession.h>
#include <Reqivo/cookiejar.h>

#include "client/asyncsession_p.h"

#include <QList>
#include <QNetworkProxy>

#include <memory>

namespace Reqivo::WebSocketDetail {

//! The session state a handshake needs, copied out of the core.
struct SessionSettings
{
    QUrl baseUrl;
    Headers defaultHeaders;
    QByteArray authorization; // "Basic ..." / "Bearer ..."; empty: none
    QString authorizationError; // why the session's credentials were refused; empty: they weren't
    TlsOptions tlsOptions;
    //! The session's proxy policy: the proxy of a handshake's URL (ws:// as http://, wss:// as
    //! https://) is chosen from it, always through a tunnel.
    Transport::ProxyPolicy proxyPolicy;
    QList<AsyncSession::RequestHook> requestHooks;
};

class SessionAccess
{
public:
    static std::weak_ptr<SessionCore> coreOf(AsyncSession &session)
    {
        return AsyncSessionPrivate::coreOf(&session);
    }

    static SessionSettings read(const SessionCore &core)
    {
        SessionSettings s;
        s.baseUrl = core.baseUrl;
        s.defaultHeaders = core.defaultHeaders;
        s.authorization = core.authorization;
        s.authorizationError = core.authorizationError;
        s.tlsOptions = core.tlsOptions;
        s.proxyPolicy = core.proxyPolicy;
        s.requestHooks = core.requestHooks;
        return s;
    }
};

} // namespace Reqivo::WebSocketDetail
