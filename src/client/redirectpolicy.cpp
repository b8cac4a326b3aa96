// Redirect decisions and loop detection (see redirectpolicy.h for the rules).
#include "redirectpolicy.h"

#include <Reqivo/redaction.h>

#include <QString>

namespace Reqivo::Client {

namespace {

// Fields that describe the body; they go when the body goes (Fetch's "request-body-header
// names" plus the framing fields the session would recompute anyway).
constexpr QByteArrayView bodyFields[] = {
    "Content-Type",
    "Content-Length",
    "Content-Encoding",
    "Content-Language",
    "Content-Location",
    "Transfer-Encoding",
};

// Fields that carry credentials or name the old origin; they never cross to another origin.
constexpr QByteArrayView originBoundFields[] = {
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "Host",
};

bool methodIs(const QByteArray &method, QByteArrayView name)
{
    // Fetch normalises the standard methods' case; so does the redirect rewrite.
    return QByteArrayView(method).compare(name, Qt::CaseInsensitive) == 0;
}

QString schemeOf(const QUrl &url)
{
    return url.scheme().toLower();
}

// The Location field as a URL, or an invalid QUrl when it is absent or not a URL. Several
// Location fields with different values make \a ambiguous true: the caller refuses the response.
QUrl locationOf(const Headers &responseHeaders, bool *ambiguous)
{
    *ambiguous = false;
    const QList<QByteArray> values = responseHeaders.values("Location");
    if (values.isEmpty())
        return {};
    const QByteArray value = values.first().trimmed();
    for (const QByteArray &other : values) {
        if (other.trimmed() != value) {
            *ambiguous = true;
            return {};
        }
    }
    if (value.isEmpty())
        return {};
    // Servers put raw UTF-8 and stray spaces in Location; TolerantMode percent-encodes them
    // the way browsers do.
    return QUrl(QString::fromUtf8(value), QUrl::TolerantMode);
}

RedirectDecision refuse(Error::Kind kind, const QString &message, const QUrl &url)
{
    RedirectDecision decision;
    decision.error = Error(kind, message, url);
    return decision;
}

// The identity of a request URL for loop detection: no fragment (never sent), the default
// port spelled the same way as no port, "." and ".." segments resolved.
QByteArray canonicalUrl(const QUrl &url)
{
    QUrl canonical = url.adjusted(QUrl::RemoveFragment | QUrl::NormalizePathSegments);
    canonical.setScheme(canonical.scheme().toLower());
    if (canonical.port() == defaultPort(canonical.scheme()))
        canonical.setPort(-1);
    return canonical.toEncoded(QUrl::FullyEncoded);
}

// For messages: never credentials, no fragment (it is not part of any request), and the
// values of secret query parameters redacted (redaction.h; the session's own list is applied
// to the request's URLs when the error leaves the session).
QString displayUrl(const QUrl &url)
{
    return redactUrl(url.adjusted(QUrl::RemoveUserInfo | QUrl::RemoveFragment));
}

} // namespace

int defaultPort(const QString &scheme)
{
    if (scheme == QLatin1String("http") || scheme == QLatin1String("ws"))
        return 80;
    if (scheme == QLatin1String("https") || scheme == QLatin1String("wss"))
        return 443;
    return -1;
}

bool isFollowableRedirect(int status) noexcept
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool isSameOrigin(const QUrl &a, const QUrl &b)
{
    const QString schemeA = schemeOf(a);
    const QString schemeB = schemeOf(b);
    return schemeA == schemeB && a.host().compare(b.host(), Qt::CaseInsensitive) == 0
        && a.port(defaultPort(schemeA)) == b.port(defaultPort(schemeB));
}

RedirectDecision decideRedirect(const QByteArray &method, const QUrl &currentUrl,
    const Headers &requestHeaders, bool bodyReplayable, bool hasBody, int status,
    const Headers &responseHeaders)
{
    if (!isFollowableRedirect(status))
        return {};
    bool ambiguous = false;
    const QUrl location = locationOf(responseHeaders, &ambiguous);
    if (ambiguous) {
        // RFC 9110 §10.2.2 allows one Location; two different ones leave no safe choice.
        return refuse(Error::Kind::InvalidResponse,
            QStringLiteral("the %1 response has several Location fields with different "
                           "values; not following it")
                .arg(status),
            currentUrl);
    }
    if (!location.isValid())
        return {}; // nothing to follow: the 3xx response is the answer

    QUrl target = currentUrl.resolved(location);
    if (!location.hasFragment() && currentUrl.hasFragment())
        target.setFragment(currentUrl.fragment(QUrl::FullyEncoded));

    const QString scheme = schemeOf(target);
    if (scheme != QLatin1String("http") && scheme != QLatin1String("https")) {
        return refuse(Error::Kind::Request,
            QStringLiteral("refusing to follow a %1 redirect to a %2 URL: only http "
                           "and https are followed")
                .arg(status)
                .arg(scheme.isEmpty() ? QStringLiteral("scheme-less") : scheme),
            target);
    }
    if (target.host().isEmpty() || !target.isValid()) {
        return refuse(Error::Kind::Request,
            QStringLiteral("refusing to follow a %1 redirect to a URL without a host").arg(status),
            target);
    }

    RedirectDecision decision;
    decision.follow = true;
    decision.url = target;
    decision.method = method;
    decision.headers = requestHeaders;

    const bool isHead = methodIs(method, "HEAD");
    bool toGet = false;
    if (status == 303)
        toGet = !isHead;
    else if (status == 301 || status == 302)
        toGet = methodIs(method, "POST") || methodIs(method, "PUT") || methodIs(method, "PATCH");
    if (toGet) {
        decision.method = QByteArrayLiteral("GET");
        decision.dropBody = true;
    } else if (hasBody && !bodyReplayable) {
        return refuse(Error::Kind::Request,
            QStringLiteral("cannot resend a streamed body on a %1 redirect: %2 %3 "
                           "keeps its body, and this one cannot be replayed")
                .arg(status)
                .arg(QString::fromLatin1(method), displayUrl(target)),
            target);
    }
    if (decision.dropBody) {
        for (const QByteArrayView name : bodyFields)
            decision.headers.remove(name);
    }
    if (!isSameOrigin(currentUrl, target)) {
        for (const QByteArrayView name : originBoundFields)
            decision.headers.remove(name);
    }
    return decision;
}

RedirectTracker::RedirectTracker(int maxRedirects)
    : m_maxRedirects(qMax(0, maxRedirects))
{
}

bool RedirectTracker::record(const QByteArray &method, const QUrl &url,
    const QByteArray &bodyDigest, const QByteArray &cookieHeader)
{
    m_hops.append(url);
    // Length-prefixed parts, so no choice of bytes in one part can mimic another part.
    QByteArray identity;
    for (const QByteArray &part : {method.toUpper(), canonicalUrl(url), bodyDigest, cookieHeader}) {
        identity += QByteArray::number(part.size());
        identity += ':';
        identity += part;
    }
    if (m_seen.contains(identity))
        return false;
    m_seen.insert(identity);
    return true;
}

void RedirectTracker::start(const QByteArray &method, const QUrl &url, const QByteArray &bodyDigest,
    const QByteArray &cookieHeader)
{
    record(method, url, bodyDigest, cookieHeader);
}

Error RedirectTracker::addHop(const QByteArray &method, const QUrl &url,
    const QByteArray &bodyDigest, const QByteArray &cookieHeader)
{
    ++m_redirects;
    if (!record(method, url, bodyDigest, cookieHeader)) {
        return Error(Error::Kind::RedirectLoop,
            QStringLiteral("redirect loop: %1 %2 was already requested in this chain "
                           "with the same body and cookies")
                .arg(QString::fromLatin1(method), displayUrl(url)),
            url);
    }
    if (m_redirects > m_maxRedirects) {
        return Error(Error::Kind::TooManyRedirects,
            QStringLiteral("exceeded %1 redirects (last: %2)")
                .arg(m_maxRedirects)
                .arg(displayUrl(url)),
            url);
    }
    return {};
}

} // namespace Reqivo::Client
