// The pipeline's auth step (authstep.cpp): a hop's 401 (or 407 from an HTTP proxy that got the
// request in absolute form) answered once, then the hop sent again.
//
//   401: the request's or the session's Digest credentials answer a Digest challenge (only for
//        the origin they were given for), else the Authenticator hook is asked.
//   407: the proxy's credentials (QNetworkProxy user and password) answer Basic or Digest, else
//        the Authenticator hook is asked (AuthRequest::proxy).
//
// With several challenges the first supported one is answered. The hop is sent again once with
// the answer; a second 401/407 is returned as it is, except a Digest answer refused with
// stale=true (the nonce expired), answered once more with the new nonce. A body that cannot be
// replayed is never sent again: the 401 is returned. Before the replay the 401's body has been
// read (buffered) or is drained (streamed). An answer goes to that hop only: later hops (a
// redirect, even to the same origin) are answered again if they are challenged.
#pragma once

#include <Reqivo/authenticator.h>
#include <Reqivo/body.h>
#include <Reqivo/headers.h>
#include <Reqivo/requestoptions.h>
#include <Reqivo/response.h>

#include "protocol/httpauth.h"

#include <QByteArray>
#include <QNetworkProxy>
#include <QUrl>

#include <functional>
#include <optional>

#include <qcorotask.h>

namespace Reqivo {
struct SessionCore;
}

namespace Reqivo::Client {

//! What one request's auth step works with, set up once per request by the pipeline.
struct AuthContext
{
    //! The Digest credentials (the request's own, else the session's); unset: none.
    std::optional<Credentials> digest;
    //! The only origin the Digest credentials are sent to.
    QUrl digestOrigin;
    //! The session's hook; empty: none. Not used for a request with Credentials::none().
    Authenticator authenticator;
    //! The Digest state of the server's and of the proxy's protection space.
    Protocol::Auth::DigestState serverDigest;
    Protocol::Auth::DigestState proxyDigest;
};

//! Refuses (RequestError) Digest credentials with control characters.
void checkDigestCredentials(const QString &user, const QString &password);

//! The AuthContext of a request with \a requestCredentials (RequestOptions::credentials) in a
//! session with \a sessionDigest (setDigestAuth()) and \a authenticator, first sent to \a origin.
AuthContext makeAuthContext(const std::optional<Credentials> &requestCredentials,
    const std::optional<Credentials> &sessionDigest, const Authenticator &authenticator,
    const QUrl &origin);

//! True when \a status may need the auth step at all (401, 407) and \a ctx can answer.
inline bool mayAnswer(int status, const AuthContext &ctx, const QNetworkProxy &proxy)
{
    if (status == 401)
        return ctx.digest || ctx.authenticator;
    if (status == 407)
        return proxy.type() == QNetworkProxy::HttpProxy
            && (!proxy.user().isEmpty() || ctx.authenticator);
    return false;
}

//! Sends the hop again with \a fields (through the retry loop around sendHop()), after
//! prepareReplay() for \a challenged, the response being answered.
using ResendHop = std::function<QCoro::Task<Response>(Headers fields, const Response &challenged)>;

//! Before a replay: \a challenged's cookies stored (when the session keeps cookies) and the jar's
//! Cookie field chosen again for \a url (httpbin's Digest needs the cookies of its 401).
//! \a jarCookie is the Cookie value the jar gave the hop (Prepared::jarCookie), updated.
void prepareReplay(SessionCore &core, QByteArray &jarCookie, Headers &fields, const QUrl &url,
    const Response &challenged);

//! The HTTP proxy a request to \a url goes through in absolute form (http:// through an HTTP
//! proxy), whose 407 the auth step answers; NoProxy otherwise.
QNetworkProxy absoluteFormProxy(
    SessionCore &core, const QUrl &url, std::optional<HttpVersion> version);

//! The auth step for one hop whose answer was \a response: returns the response to use (the
//! replay's, or \a response itself). \a proxy is the proxy the hop went through when it was an
//! HTTP proxy taking the request in absolute form (NoProxy otherwise: a 407 is then not
//! answered). \a ctx must outlive the call.
QCoro::Task<Response> authenticate(AuthContext *ctx, QByteArray method, QUrl url, Headers fields,
    bool replayable, QNetworkProxy proxy, Response response, ResendHop resend);

//! A CONNECT proxy's 407 that the proxy's own credentials did not answer (\a error: a
//! NetworkError with NetworkFailure::ProxyAuthenticationRequired, whose detail carries the
//! challenges: Transport::challengeDetail()): asks \a authenticator (AuthRequest::proxy set,
//! the response a 407 with the Proxy-Authenticate fields) and returns the user and password it
//! gives (Basic or Digest credentials; the transport answers the next CONNECT with them), or
//! nullopt when it declines or answers with anything else (fields cannot be added to CONNECT).
QCoro::Task<std::optional<Credentials>> askForTunnelCredentials(Authenticator authenticator,
    QByteArray method, QUrl url, Error error);

} // namespace Reqivo::Client
