// Redirect policy: the seed's ADR-016 with the corrections of issue #3, as pure functions.
//
// decideRedirect() looks at one response and says whether and how to follow it; the session
// does the I/O. RedirectTracker watches a whole chain for too many hops and for true cycles.
//
// Rules of decideRedirect():
//   - Only 301, 302, 303, 307 and 308 with a usable Location are followed. Several Location
//     fields with different values are an InvalidResponseError (nothing followed). No Location, or one
//     that is not a URL, means the response is returned as it is (follow = false, no error).
//   - Location is resolved against the current URL (QUrl::resolved); a Location without a
//     fragment inherits the current URL's fragment (RFC 9110 §10.2.2).
//   - Only http and https targets are followed. Any other scheme is a RequestError (a client
//     policy refusal, not a malformed response, so not InvalidResponseError).
//   - 301/302: POST, PUT and PATCH become GET without a body (the seed's rule; browsers do it
//     for POST). 303: everything but HEAD becomes GET without a body. 307/308 keep the method
//     and the body. When the body is dropped, so are the fields that describe it
//     (Content-Type, Content-Length, Content-Encoding, Content-Language, Content-Location,
//     Transfer-Encoding).
//   - A kept body must be replayable; otherwise the decision is a RequestError instead of a
//     silent resend of half a stream.
//   - When the origin (scheme, host, port; default ports normalised) changes, including
//     https→http on the same host, Authorization, Proxy-Authorization, Cookie and Host are
//     dropped. The session then adds the cookies its jar holds for the new URL.
#pragma once

#include <Reqivo/errors.h>
#include <Reqivo/headers.h>
#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QList>
#include <QSet>
#include <QUrl>

namespace Reqivo::Client {

struct REQIVO_TESTS_EXPORT RedirectDecision
{
    //! True: send the next request described below.
    bool follow = false;
    //! The next request's method.
    QByteArray method;
    //! True: send the next request without a body (and without the fields describing it).
    bool dropBody = false;
    //! The next request's URL (it may carry a fragment, which is never sent on the wire).
    QUrl url;
    //! The next request's fields: the current request's, minus what the rules above drop.
    Headers headers;
    //! Set when the redirect must not be followed and the request fails instead.
    Error error;
};

//! True for the statuses decideRedirect() may follow: 301, 302, 303, 307, 308.
REQIVO_TESTS_EXPORT bool isFollowableRedirect(int status) noexcept;

//! The default port of \a scheme: 80 for http and ws, 443 for https and wss, -1 otherwise.
int defaultPort(const QString &scheme);

//! Same origin per RFC 6454: scheme, host and port, with the scheme's default port filled in.
REQIVO_TESTS_EXPORT bool isSameOrigin(const QUrl &a, const QUrl &b);

//! Decides what to do with a response of \a status and \a responseHeaders to a request
//! \a method \a currentUrl with \a requestHeaders (and a body when \a hasBody).
REQIVO_TESTS_EXPORT RedirectDecision decideRedirect(const QByteArray &method,
    const QUrl &currentUrl, const Headers &requestHeaders, bool bodyReplayable, bool hasBody,
    int status, const Headers &responseHeaders);

//! Counts the redirects of a chain and detects true cycles.
//!
//! A request's identity is (method, URL without fragment, body digest, Cookie header). Seeing
//! an identity a second time in one chain is a RedirectLoopError at once: the server answered
//! that exact request before with a redirect, and nothing the client sends has changed, so
//! following it again can only go round the same way. A legitimate round trip A → B → A is not
//! a loop, because something changed on the way back: B set a cookie (so A's Cookie header
//! differs) or added a parameter (A?ticket=…, a different URL). The seed's rule ("a URL seen
//! twice") is therefore kept for identical requests and relaxed only where the request
//! differs. The hop count still bounds any chain, cyclic or not.
//!
//! Use: start() with the original request (optional, but without it a cycle back to the
//! original is caught one hop later), then addHop() for each redirect target before it is sent.
class REQIVO_TESTS_EXPORT RedirectTracker
{
public:
    //! \a maxRedirects: redirects that may be followed (the seed's default is 30).
    explicit RedirectTracker(int maxRedirects);

    //! Records the original request of the chain. It is not a redirect, so it is not counted.
    //! \a cookieHeader is the Cookie field the request carries (the jar's state for it).
    void start(const QByteArray &method, const QUrl &url, const QByteArray &bodyDigest,
        const QByteArray &cookieHeader = {});
    //! Records a redirect about to be followed to \a url. Returns RedirectLoopError for an
    //! identity already recorded, TooManyRedirects when this is redirect maxRedirects + 1, a
    //! null Error otherwise.
    Error addHop(const QByteArray &method, const QUrl &url, const QByteArray &bodyDigest,
        const QByteArray &cookieHeader = {});

    //! The URLs recorded so far, in order (the original request's first when start() was used).
    QList<QUrl> hops() const { return m_hops; }
    //! Redirects recorded by addHop() so far.
    int redirectCount() const noexcept { return m_redirects; }
    int maxRedirects() const noexcept { return m_maxRedirects; }

private:
    //! Records \a url and its identity; false when the identity was already recorded.
    bool record(const QByteArray &method, const QUrl &url, const QByteArray &bodyDigest,
        const QByteArray &cookieHeader);

    int m_maxRedirects;
    int m_redirects = 0;
    QList<QUrl> m_hops;
    QSet<QByteArray> m_seen;
};

} // namespace Reqivo::Client
