// The pipeline's first stage: what a request carries before any byte is sent.
//
// Plain functions, no coroutine and no I/O, shared by the HTTP path (AsyncSessionPrivate::run)
// and the WebSocket handshake, so that both send the same fields with the same precedence:
//
//   Host (derived from the URL, or the caller's one Host field in its place)
//   session default headers, overridden name by name by the request's
//   Authorization: from URL user info (Basic), else the session's credentials, which go only to
//                  the origin of the request they were added to (never to a redirect elsewhere)
//   Cookie:        from the session's jar, unless the request set one
//   Accept-Encoding, Content-Type: when the request decodes / has a typed body
//
// Request hooks run after this stage and see exactly these fields; finishPrepared() then refuses
// what the hooks may have broken (a second Host). For redirects,
// hopHeaders() derives the next hop's fields from the decision of decideRedirect().
#pragma once

#include <Reqivo/headers.h>
#include <Reqivo/requestoptions.h>

#include <QByteArray>
#include <QString>
#include <QUrl>
#include <QUrlQuery>

namespace Reqivo {
class CookieJar;
}

namespace Reqivo::Client {

//! "Basic base64(user:password)". Refuses (RequestError) a user-id with a colon (RFC 7617 §2)
//! and control characters in either part.
QByteArray basicAuthorization(const QString &user, const QString &password);
//! "Bearer token". Refuses (RequestError) a token that is not token68 (RFC 6750 §2.1).
QByteArray bearerAuthorization(const QString &token);

//! \a url resolved against \a base when relative, with \a query appended to its query exactly:
//! every key and value is percent-encoded from its decoded form, so '+', '%', '&', '=' and
//! spaces arrive as the values the caller gave.
QUrl requestUrl(const QUrl &base, QUrl url, const QUrlQuery &query);

//! The Host field for \a url: host (IPv6 in brackets) and the port unless it is the scheme's
//! default (http/ws 80, https/wss 443).
QByteArray hostField(const QUrl &url);

//! The origin-form request target of \a url: its encoded path ("/" when empty) and query.
QByteArray requestTarget(const QUrl &url);

//! \a defaults, minus every name \a overrides has, plus \a overrides.
Headers mergeHeaders(const Headers &defaults, const Headers &overrides);

struct PrepareInput
{
    QByteArray method;
    //! Absolute and checked by the caller (scheme, host); may carry user info.
    QUrl url;
    //! The Host field derived from url (the caller may have it cached).
    QByteArray host;
    Headers defaults;
    Headers overrides;
    //! The session's Authorization value; empty: none.
    QByteArray sessionAuthorization;
    //! Cookies come from here unless the request has a Cookie field; null: none.
    const CookieJar *jar = nullptr;
    bool acceptEncoding = false;
    //! The body's type, added unless the request set Content-Type; empty: none.
    QByteArray contentType;
};

//! A prepared request and what later stages need to re-derive fields for another hop.
struct Prepared
{
    PreparedRequest request;
    //! The only origin the session's credentials go to.
    QUrl authOrigin;
    //! The session's Authorization as added here; empty when not added.
    QByteArray sessionAuthorization;
    //! The Cookie value taken from the jar; empty when the request brought its own or none.
    QByteArray jarCookie;
    //! The Host value derived from the URL; empty when the caller set Host.
    QByteArray derivedHost;
};

//! Builds the first hop's request. Throws RequestError for a field the pipeline owns
//! (Proxy-Authorization, several Host fields) or bad credentials in the URL.
Prepared prepareRequest(PrepareInput in);

//! After hooks: a changed origin gets its own derived Host; one Host field and no
//! Proxy-Authorization, else RequestError. Names and values are checked by the writer of each
//! path (RequestWriter::writeHead(), the WebSocket handshake).
void finishPrepared(Prepared &prepared, const QUrl &urlBeforeHooks);

//! The fields of the next hop of a redirect chain: \a decided (decideRedirect()'s headers) with
//! Host, the jar's cookies and the session's credentials derived again for \a url. Updates
//! \a prepared's jarCookie.
Headers hopHeaders(
    Prepared &prepared, const Headers &decided, const QUrl &url, const CookieJar *jar);

} // namespace Reqivo::Client
