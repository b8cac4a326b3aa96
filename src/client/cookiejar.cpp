// Reqivo::CookieJar: QNetworkCookieJar with the RFC 6265 gaps filled (see cookiejar.h).
//
// The jar's list (QNetworkCookieJar::allCookies()) is kept in creation order; that order is the
// "earlier creation first" tie-break of §5.4, so a replaced cookie keeps its place instead of
// moving to the end. Domains are stored lower-case, host-only cookies without a leading dot and
// domain cookies with one (Qt's convention, kept so QNetworkCookieJar users see what they expect).
#include <Reqivo/cookiejar.h>

#include <QDateTime>
#include <QHostAddress>
#include <QIODevice>

#include <algorithm>
#include <limits>
#include <optional>

namespace Reqivo {

namespace {

// The first line of a file written by saveTo(); anything else is refused by loadFrom().
constexpr QByteArrayView saveFileMagic = "# Reqivo cookie jar v1";

bool isIpAddress(const QString &host)
{
    return !QHostAddress(host).isNull();
}

bool isSecureScheme(const QUrl &url)
{
    const QString scheme = url.scheme();
    return scheme.compare(QLatin1String("https"), Qt::CaseInsensitive) == 0
        || scheme.compare(QLatin1String("wss"), Qt::CaseInsensitive) == 0;
}

// The request path as sent on the wire: servers name cookie paths in that form.
QString requestPath(const QUrl &url)
{
    const QString path = url.path(QUrl::FullyEncoded);
    return path.isEmpty() ? QStringLiteral("/") : path;
}

// RFC 6265 §5.1.4 default-path: the request path up to, not including, its rightmost '/'.
QString defaultPath(const QUrl &url)
{
    const QString path = url.path(QUrl::FullyEncoded);
    if (!path.startsWith(QLatin1Char('/')))
        return QStringLiteral("/");
    const qsizetype lastSlash = path.lastIndexOf(QLatin1Char('/'));
    if (lastSlash <= 0)
        return QStringLiteral("/");
    return path.left(lastSlash);
}

// RFC 6265 §5.1.4 path-match.
bool pathMatches(const QString &requestPath, const QString &cookiePath)
{
    if (requestPath == cookiePath)
        return true;
    if (!requestPath.startsWith(cookiePath))
        return false;
    return cookiePath.endsWith(QLatin1Char('/')) || requestPath.at(cookiePath.size()) == u'/';
}

// RFC 6265 §5.1.3 domain-match, with the host-only flag encoded as "no leading dot".
bool domainMatches(const QString &host, const QString &cookieDomain)
{
    if (!cookieDomain.startsWith(QLatin1Char('.')))
        return host.compare(cookieDomain, Qt::CaseInsensitive) == 0;
    const QStringView bare = QStringView(cookieDomain).mid(1);
    if (host.compare(bare, Qt::CaseInsensitive) == 0)
        return true;
    // A suffix match is only meaningful for names; "1.2.3.4" must not match ".3.4".
    return host.endsWith(cookieDomain, Qt::CaseInsensitive) && !isIpAddress(host);
}

QStringView bareDomain(const QString &domain)
{
    return domain.startsWith(QLatin1Char('.')) ? QStringView(domain).mid(1) : QStringView(domain);
}

// §5.3 step 11: a cookie replaces one with the same name, domain and path. The domain is
// compared without the host-only marker, so "Domain=example.com" replaces a host-only cookie
// of example.com, as in browsers (QNetworkCookie::hasSameIdentifier() would keep both).
bool sameIdentifier(const QNetworkCookie &a, const QNetworkCookie &b)
{
    return a.name() == b.name() && a.path() == b.path()
        && bareDomain(a.domain()).compare(bareDomain(b.domain()), Qt::CaseInsensitive) == 0;
}

bool isExpired(const QNetworkCookie &cookie, const QDateTime &now)
{
    return !cookie.isSessionCookie() && cookie.expirationDate() <= now;
}

// RFC 6265 §5.2.2: the last well-formed Max-Age attribute, in seconds. Qt applies Max-Age and
// Expires in the order they appear; the RFC says Max-Age wins whatever the order.
std::optional<qint64> maxAgeAttribute(QByteArrayView field)
{
    std::optional<qint64> result;
    qsizetype start = field.indexOf(';');
    while (start >= 0) {
        const qsizetype end = field.indexOf(';', start + 1);
        const QByteArrayView attribute
            = field.sliced(start + 1, (end < 0 ? field.size() : end) - start - 1);
        start = end;
        const qsizetype eq = attribute.indexOf('=');
        if (eq < 0)
            continue;
        if (attribute.first(eq).trimmed().compare("max-age", Qt::CaseInsensitive) != 0)
            continue;
        const QByteArrayView value = attribute.sliced(eq + 1).trimmed();
        const bool negative = value.startsWith('-');
        const QByteArrayView digits = negative ? value.sliced(1) : value;
        const auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
        if (digits.isEmpty() || !std::all_of(digits.begin(), digits.end(), isDigit))
            continue; // §5.2.2: a malformed Max-Age is ignored, not the whole cookie // §5.2.2: ignore the attribute, not the cookie
        bool ok = false;
        qint64 seconds = digits.toLongLong(&ok);
        if (!ok)
            seconds = std::numeric_limits<qint64>::max(); // more digits than fit: "forever"
        result = negative ? -seconds : seconds;
    }
    return result;
}

QDateTime expiryForMaxAge(qint64 seconds)
{
    if (seconds <= 0)
        return QDateTime::fromMSecsSinceEpoch(0, Qt::UTC); // "the earliest representable time"
    // Cap far-future expiries (QDateTime overflows well beyond any cookie's useful life).
    constexpr qint64 hundredYears = qint64(100) * 366 * 24 * 3600;
    return QDateTime::currentDateTimeUtc().addSecs(qMin(seconds, hundredYears));
}

} // namespace

CookieJar::CookieJar(QObject *parent)
    : QNetworkCookieJar(parent)
{
}

CookieJar::~CookieJar() = default;

void CookieJar::storeFromResponse(const QUrl &url, const Headers &headers)
{
    for (const Headers::Field field : headers) {
        if (!Headers::nameEquals(field.name, "set-cookie"))
            continue;
        // One field at a time: parseCookies() never sees two cookies joined by a comma.
        // A field cannot hold a line break, which is parseCookies()'s only separator.
        const QByteArray value = field.value.toByteArray();
        if (value.contains('\n') || value.contains('\r'))
            continue;
        QList<QNetworkCookie> parsed = QNetworkCookie::parseCookies(value);
        if (parsed.size() != 1)
            continue;
        if (const auto maxAge = maxAgeAttribute(field.value))
            parsed.first().setExpirationDate(expiryForMaxAge(*maxAge));
        setCookiesFromUrl(parsed, url);
    }
}

QByteArray CookieJar::cookieHeaderFor(const QUrl &url) const
{
    QByteArray header;
    const QList<QNetworkCookie> matching = cookiesForUrl(url);
    for (const QNetworkCookie &cookie : matching) {
        if (!header.isEmpty())
            header += "; ";
        // RFC 6265bis §5.8.3: a nameless cookie is sent as its value alone.
        if (!cookie.name().isEmpty()) {
            header += cookie.name();
            header += '=';
        }
        header += cookie.value();
    }
    return header;
}

QList<QNetworkCookie> CookieJar::cookies() const
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QList<QNetworkCookie> result = allCookies();
    result.removeIf([&](const QNetworkCookie &c) { return isExpired(c, now); });
    return result;
}

bool CookieJar::setCookie(const QNetworkCookie &cookie, const QUrl &url)
{
    return setCookiesFromUrl({cookie}, url);
}

void CookieJar::clear()
{
    setAllCookies({});
}

void CookieJar::clearSessionCookies()
{
    QList<QNetworkCookie> all = allCookies();
    all.removeIf([](const QNetworkCookie &c) { return c.isSessionCookie(); });
    setAllCookies(all);
}

QList<QNetworkCookie> CookieJar::cookiesForUrl(const QUrl &url) const
{
    QList<QNetworkCookie> result;
    const QList<QNetworkCookie> all = allCookies();
    if (all.isEmpty())
        return result; // the common case: no URL work at all
    const QString host = url.host();
    if (host.isEmpty())
        return result;
    const QString path = requestPath(url);
    const bool secure = isSecureScheme(url);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const QNetworkCookie &cookie : all) {
        if (isExpired(cookie, now) || (cookie.isSecure() && !secure))
            continue;
        if (!domainMatches(host, cookie.domain()) || !pathMatches(path, cookie.path()))
            continue;
        result.append(cookie);
    }
    // §5.4 step 2: longer paths first; stable, so creation order (the list's) breaks ties.
    std::stable_sort(
        result.begin(), result.end(), [](const QNetworkCookie &a, const QNetworkCookie &b) {
            return a.path().size() > b.path().size();
        });
    return result;
}

bool CookieJar::setCookiesFromUrl(const QList<QNetworkCookie> &cookieList, const QUrl &url)
{
    bool added = false;
    for (QNetworkCookie cookie : cookieList) {
        // Qt's normalize() would make "/a/" the default path of "/a/b"; §5.2.4 and §5.1.4 say
        // "/a", and a Path attribute not starting with '/' means the default path too.
        if (!cookie.path().startsWith(QLatin1Char('/')))
            cookie.setPath(defaultPath(url));
        cookie.setDomain(cookie.domain().toLower());
        cookie.normalize(url); // no Domain attribute: host-only (the host, no leading dot)
        if (validateCookie(cookie, url) && insertCookie(cookie))
            added = true;
    }
    return added;
}

bool CookieJar::insertCookie(const QNetworkCookie &cookie)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QList<QNetworkCookie> all = allCookies();
    // Expired cookies are dropped whenever the jar changes, so it does not grow without bound.
    all.removeIf([&](const QNetworkCookie &c) { return isExpired(c, now); });
    const auto existing = std::find_if(
        all.begin(), all.end(), [&](const QNetworkCookie &c) { return sameIdentifier(c, cookie); });
    const bool deletion = isExpired(cookie, now); // Max-Age=0 or an Expires in the past
    if (deletion) {
        if (existing != all.end())
            all.erase(existing);
    } else if (existing != all.end()) {
        *existing = cookie; // §5.3 step 11.3: keep the old cookie's creation time
    } else {
        all.append(cookie);
    }
    setAllCookies(all);
    return !deletion;
}

bool CookieJar::validateCookie(const QNetworkCookie &cookie, const QUrl &url) const
{
    const QString host = url.host();
    if (host.isEmpty() || (cookie.name().isEmpty() && cookie.value().isEmpty()))
        return false;
    // RFC 6265bis §5.7 step 14: only a secure origin may set a Secure cookie.
    if (cookie.isSecure() && !isSecureScheme(url))
        return false;
    const QString domain = cookie.domain();
    if (isIpAddress(host)) // §5.1.3: an IP address only domain-matches itself
        return bareDomain(domain).compare(host, Qt::CaseInsensitive) == 0;
    // §5.3 step 6: the request host must domain-match the Domain attribute. (Qt also accepts a
    // Domain that is a subdomain of the host, which would let a.com set cookies for x.a.com.)
    if (!domainMatches(host, domain))
        return false;
    // Public suffixes ("com", "co.uk", "github.io") are Qt's call: its table, its rules.
    return QNetworkCookieJar::validateCookie(cookie, url);
}

bool CookieJar::saveTo(QIODevice *device) const
{
    if (!device || !device->isWritable())
        return false;
    // One line per cookie: the domain, a tab, then the cookie in Set-Cookie form without its
    // domain. Set-Cookie form alone would lose the host-only flag and IPv6 hosts.
    QByteArray out = saveFileMagic.toByteArray() + '\n';
    const QList<QNetworkCookie> all = cookies();
    for (QNetworkCookie cookie : all) {
        const QString domain = cookie.domain();
        cookie.setDomain(QString());
        out += domain.toUtf8() + '\t' + cookie.toRawForm(QNetworkCookie::Full) + '\n';
    }
    return device->write(out) == out.size();
}

bool CookieJar::loadFrom(QIODevice *device)
{
    if (!device || !device->isReadable())
        return false;
    const QByteArray data = device->readAll();
    const QList<QByteArray> lines = data.split('\n');
    if (lines.isEmpty() || lines.first().trimmed() != saveFileMagic)
        return false;
    QList<QNetworkCookie> loaded;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines.at(i);
        if (line.trimmed().isEmpty())
            continue;
        const qsizetype tab = line.indexOf('\t');
        if (tab <= 0)
            return false;
        QList<QNetworkCookie> parsed = QNetworkCookie::parseCookies(line.sliced(tab + 1));
        if (parsed.size() != 1)
            return false;
        parsed.first().setDomain(QString::fromUtf8(line.first(tab)).toLower());
        loaded.append(parsed.first());
    }
    // Validation happened when the cookies were first stored; only expiry is checked again.
    for (const QNetworkCookie &cookie : std::as_const(loaded))
        insertCookie(cookie);
    return true;
}

} // namespace Reqivo
