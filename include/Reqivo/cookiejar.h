// Reqivo::CookieJar: the session's RFC 6265 cookie store.
//
// Parsing and storage are Qt's (QNetworkCookie, QNetworkCookieJar); this class fills the gaps
// between QNetworkCookieJar and RFC 6265 that matter to an HTTP client:
//   - each Set-Cookie field is parsed on its own, never comma-joined (Expires contains a comma);
//   - the default path is the RFC 6265 §5.1.4 one ("/a/b" sets path "/a", not "/a/");
//   - a cookie whose expiry is now or earlier is never stored and never sent (Max-Age=0 deletes);
//   - replacing a cookie keeps its creation order, so the Cookie header order of §5.4
//     (longer paths first, then earlier creation) is stable;
//   - a Domain attribute is refused for an IP-address host unless it is that address, and a
//     Secure cookie is refused from an http:// response (RFC 6265bis §5.7 step 14);
//   - Secure cookies are only sent over https:// and wss://.
// A cookie without a Domain attribute is host-only (stored without a leading dot); Domain
// attributes naming a public suffix ("com", "co.uk") are refused, as QNetworkCookieJar does.
//
// Nothing a server sends grows the jar without bound (RFC 6265 §6.1, RFC 6265bis §5.6): a cookie
// whose name and value exceed 4096 bytes is ignored, a Path or Domain attribute over 1024 bytes
// is ignored (not the cookie), and a domain keeps at most 50 cookies, the jar at most 3000 (both
// settable). Over a limit, the least recently used cookies go (RFC 6265 §5.3 step 12), expired
// ones before any other; sending a cookie uses it. A response's cookies are stored in one pass
// over the jar, so a server that sends thousands costs the jar linear time.
#pragma once

#include <Reqivo/headers.h>
#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QList>
#include <QNetworkCookie>
#include <QNetworkCookieJar>
#include <QUrl>

#include <memory>

class QIODevice;

namespace Reqivo {

//! The session's RFC 6265 cookie store (AsyncSession::cookieJar()).
//!
//! Parsing and storage are Qt's (QNetworkCookie, QNetworkCookieJar); this class adds what an
//! HTTP client needs of RFC 6265: each Set-Cookie field parsed on its own, the RFC's default
//! path, expired cookies never stored or sent, a stable Cookie header order, Secure cookies
//! only from and to https and wss, public-suffix and IP-address Domain attributes refused.
//! Nothing a server sends grows the jar without bound: oversized cookies and attributes are
//! ignored, and a domain (maxCookiesPerDomain()) and the jar (maxCookies()) keep a bounded
//! number, the least recently used going first. It also works as a QNetworkAccessManager's
//! jar.
class REQIVO_EXPORT CookieJar : public QNetworkCookieJar
{
    Q_OBJECT
public:
    //! RFC 6265bis §5.6: a cookie whose name and value together are longer is ignored whole.
    static constexpr qsizetype maxCookieBytes = 4096;
    //! RFC 6265bis §5.6: a longer Path or Domain attribute is ignored (not the cookie).
    static constexpr qsizetype maxAttributeBytes = 1024;
    //! RFC 6265 §6.1's minimums, as this jar's defaults.
    static constexpr int defaultMaxCookiesPerDomain = 50;
    //! RFC 6265 §6.1's minimum for the whole jar.
    static constexpr int defaultMaxCookies = 3000;

    //! An empty jar with the default limits.
    explicit CookieJar(QObject *parent = nullptr);
    ~CookieJar() override;

    //! Cookies kept per domain (host-only and Domain cookies of one domain together) and in
    //! total. Over a limit, the least recently used cookies go first (RFC 6265 §5.3 step 12;
    //! sending a cookie uses it). A value below 1 is taken as 1; lowering applies at once.
    void setMaxCookiesPerDomain(int count);
    //! The most cookies one domain keeps (defaultMaxCookiesPerDomain unless set).
    int maxCookiesPerDomain() const;
    //! The most cookies the jar keeps in total; see setMaxCookiesPerDomain().
    void setMaxCookies(int count);
    //! The most cookies the jar keeps in total (defaultMaxCookies unless set).
    int maxCookies() const;

    //! Stores the cookies of every Set-Cookie field of a response received from \a url.
    void storeFromResponse(const QUrl &url, const Headers &headers);
    //! The Cookie header value for a request to \a url ("a=1; b=2"), empty when none applies.
    QByteArray cookieHeaderFor(const QUrl &url) const;
    //! Every stored cookie that has not expired, in creation order.
    QList<QNetworkCookie> cookies() const;
    //! Stores \a cookie as if \a url had set it (host-only when it has no domain).
    //! Returns false when the cookie is refused, or when it is an expired one (a deletion).
    bool setCookie(const QNetworkCookie &cookie, const QUrl &url);
    //! Removes every cookie.
    void clear();
    //! Removes session cookies (those without an expiry), as at the end of a browser session.
    void clearSessionCookies();

    //! Writes the non-expired cookies to \a device, one Set-Cookie line each, in creation
    //! order, after a version line. Host-only and domain cookies are told apart on reload.
    bool saveTo(QIODevice *device) const;
    //! Adds the cookies saved by saveTo() (expired ones are skipped). False on a bad file.
    bool loadFrom(QIODevice *device);

    // QNetworkCookieJar overrides, so a CookieJar also works as a QNetworkAccessManager's jar.
    //! The cookies to send to \a url, in RFC 6265 §5.4 order (longer paths first, then older).
    QList<QNetworkCookie> cookiesForUrl(const QUrl &url) const override;
    //! Stores \a cookieList as if \a url had set them; true when any was stored.
    bool setCookiesFromUrl(const QList<QNetworkCookie> &cookieList, const QUrl &url) override;
    //! Stores \a cookie as given, within the jar's limits; true when it was stored.
    bool insertCookie(const QNetworkCookie &cookie) override;

protected:
    //! The RFC 6265 checks of a cookie set by \a url (public suffixes, IP hosts, Secure over
    //! http), on top of QNetworkCookieJar's.
    bool validateCookie(const QNetworkCookie &cookie, const QUrl &url) const override;

private:
    struct Private;
    std::unique_ptr<Private> const d;
};

} // namespace Reqivo
