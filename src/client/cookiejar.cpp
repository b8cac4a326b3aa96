// Reqivo::CookieJar: QNetworkCookieJar with the RFC 6265 gaps filled (see cookiejar.h).
//
// The jar's list (QNetworkCookieJar::allCookies()) is kept in creation order; that order is the
// "earlier creation first" tie-break of §5.4, so a replaced cookie keeps its place instead of
// moving to the end. Domains are stored lower-case, host-only cookies without a leading dot and
// domain cookies with one (Qt's convention, kept so QNetworkCookieJar users see what they expect).
// Every change goes through Private::store(): one pass over the list per batch of cookies, with a
// hash of identities and a logical clock of last use for the limits' evictions. Every change
// also goes through Private::changed(), which schedules the autosave.
#include <Reqivo/cookiejar.h>

#include "cookiesfile_p.h"
#include "transport/logcategories_p.h"

#include <QDateTime>
#include <QFile>
#include <QHash>
#include <QHostAddress>
#include <QIODevice>
#include <QSaveFile>
#include <QTimer>

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
            continue; // §5.2.2: a malformed Max-Age is ignored, not the whole cookie
        bool ok = false;
        qint64 seconds = digits.toLongLong(&ok);
        if (!ok)
            seconds = std::numeric_limits<qint64>::max(); // more digits than fit: "forever"
        result = negative ? -seconds : seconds;
    }
    return result;
}

// §5.3 step 11: a cookie replaces one with the same name, domain and path; this is that
// identity as one key. The domain is taken without the host-only marker, so
// "Domain=example.com" replaces a host-only cookie of example.com, as in browsers
// (QNetworkCookie::hasSameIdentifier() would keep both).
QByteArray identityKey(const QNetworkCookie &cookie)
{
    QByteArray key = cookie.name();
    key += '\0';
    key += bareDomain(cookie.domain()).toString().toLower().toUtf8();
    key += '\0';
    key += cookie.path().toUtf8();
    return key;
}

// The domain a cookie counts against for the per-domain limit: host-only and Domain cookies of
// one name together.
QString domainKey(const QNetworkCookie &cookie)
{
    return bareDomain(cookie.domain()).toString().toLower();
}

bool isOversized(const QNetworkCookie &cookie)
{
    return cookie.name().size() + cookie.value().size() > CookieJar::maxCookieBytes;
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

struct CookieJar::Private
{
    int maxPerDomain = defaultMaxCookiesPerDomain;
    int maxTotal = defaultMaxCookies;
    // §5.3 step 12 evicts by last-access time: a logical clock, stamped when a cookie is stored
    // and when it is sent (§5.4 step 3). Keyed by identity; cookies the jar never stamped
    // (setAllCookies() from a subclass) count as oldest, in list order.
    quint64 clock = 0;
    QHash<QByteArray, quint64> lastUse;

    // The autosave: a single-shot timer started by the first change after a write.
    QString autoSavePath;
    SessionCookies autoSaveSessionCookies = SessionCookies::Skip;
    std::chrono::milliseconds autoSaveDelay = defaultAutoSaveDelay;
    QTimer *autoSaveTimer = nullptr; // a child of the jar, made by setAutoSaveFile()
    bool autoSavePending = false;
    QByteArray lastSaved; // the text last written to autoSavePath, not written again

    QList<bool> store(QList<QNetworkCookie> &all, const QList<QNetworkCookie> &incoming);
    void changed();
    // Writes pending changes; false with \a error set when the write failed.
    bool writePending(const CookieJar &jar, CookieFileError *error);
};

void CookieJar::Private::changed()
{
    if (autoSavePath.isEmpty())
        return;
    autoSavePending = true;
    if (!autoSaveTimer->isActive())
        autoSaveTimer->start(autoSaveDelay);
}

namespace {

// QSaveFile: a new file beside the target, renamed over it once complete, so the old file is
// intact until then. The new file is the user's alone (cookies are credentials).
bool writeFileAtomically(const QString &path, const QByteArray &data, CookieFileError *error)
{
    QSaveFile file(path);
    const auto fail = [&](const QString &why) {
        file.cancelWriting();
        if (error) {
            *error = CookieFileError {CookieFileError::Kind::WriteFailed, path, 0, why};
        }
        return false;
    };
    if (!file.open(QIODevice::WriteOnly))
        return fail(file.errorString());
    if (!file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner))
        return fail(file.errorString());
    // flush() before commit(): QSaveFile 6.4 commits a buffered write that fails only when
    // flushed (a full disk) as if it had succeeded.
    if (file.write(data) != data.size() || !file.flush())
        return fail(file.errorString());
    if (!file.commit())
        return fail(file.errorString());
    if (error)
        *error = CookieFileError();
    return true;
}

} // namespace

bool CookieJar::Private::writePending(const CookieJar &jar, CookieFileError *error)
{
    if (!autoSavePending)
        return true;
    autoSavePending = false;
    if (autoSaveTimer)
        autoSaveTimer->stop();
    const QByteArray text = jar.toNetscapeFormat(autoSaveSessionCookies);
    if (text == lastSaved)
        return true;
    if (!writeFileAtomically(autoSavePath, text, error))
        return false;
    lastSaved = text;
    return true;
}

// §5.3 steps 11 and 12 for a batch of cookies, in order, in one pass over the jar: expired
// cookies go, each incoming cookie replaces (in place: §5.4's creation order), deletes or is
// appended through a hash of identities, then the excess of each domain and of the whole jar
// goes, least recently used first. A response with k cookies costs O(n + k), not O(n × k).
// Returns, for each incoming cookie, whether it is in the jar afterwards.
QList<bool> CookieJar::Private::store(
    QList<QNetworkCookie> &all, const QList<QNetworkCookie> &incoming)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    all.removeIf([&](const QNetworkCookie &c) { return isExpired(c, now); });
    const qsizetype capacity = all.size() + incoming.size();
    QList<QByteArray> keys;
    QList<quint64> stamps;
    QList<bool> dead;
    QHash<QByteArray, qsizetype> index;
    keys.reserve(capacity);
    stamps.reserve(capacity);
    dead.reserve(capacity);
    index.reserve(capacity);
    for (const QNetworkCookie &cookie : std::as_const(all)) {
        keys.append(identityKey(cookie));
        stamps.append(lastUse.value(keys.last()));
        dead.append(false);
        index.insert(keys.last(), keys.size() - 1);
    }

    QList<qsizetype> placed(incoming.size(), -1);
    for (qsizetype k = 0; k < incoming.size(); ++k) {
        const QNetworkCookie &cookie = incoming.at(k);
        if (isOversized(cookie))
            continue;
        QByteArray key = identityKey(cookie);
        const auto existing = index.constFind(key);
        if (isExpired(cookie, now)) { // Max-Age=0 or an Expires in the past: a deletion
            if (existing != index.cend()) {
                dead[*existing] = true;
                index.erase(existing);
            }
        } else if (existing != index.cend()) {
            all[*existing] = cookie; // §5.3 step 11.3: keep the old cookie's creation time
            stamps[*existing] = ++clock;
            placed[k] = *existing;
        } else {
            placed[k] = all.size();
            index.insert(key, all.size());
            all.append(cookie);
            keys.append(std::move(key));
            stamps.append(++clock);
            dead.append(false);
        }
    }

    // §5.3 step 12: least recently used first; on a tie (never stamped), created first.
    const auto older = [&stamps](qsizetype a, qsizetype b) {
        return stamps[a] != stamps[b] ? stamps[a] < stamps[b] : a < b;
    };
    const auto evictOldest = [&](QList<qsizetype> &members, qsizetype excess) {
        std::nth_element(members.begin(), members.begin() + (excess - 1), members.end(), older);
        for (qsizetype i = 0; i < excess; ++i)
            dead[members[i]] = true;
    };
    QHash<QString, QList<qsizetype>> byDomain;
    qsizetype live = 0;
    for (qsizetype i = 0; i < all.size(); ++i) {
        if (!dead[i]) {
            byDomain[domainKey(all.at(i))].append(i);
            ++live;
        }
    }
    for (QList<qsizetype> &members : byDomain) {
        if (members.size() > maxPerDomain) {
            live -= members.size() - maxPerDomain;
            evictOldest(members, members.size() - maxPerDomain);
        }
    }
    if (live > maxTotal) {
        QList<qsizetype> members;
        members.reserve(live);
        for (qsizetype i = 0; i < all.size(); ++i) {
            if (!dead[i])
                members.append(i);
        }
        evictOldest(members, live - maxTotal);
    }

    QList<bool> stored(incoming.size(), false);
    for (qsizetype k = 0; k < incoming.size(); ++k)
        stored[k] = placed[k] >= 0 && !dead[placed[k]];
    QList<QNetworkCookie> kept;
    QHash<QByteArray, quint64> uses; // only the cookies kept: the table never outgrows the jar
    kept.reserve(all.size());
    uses.reserve(all.size());
    for (qsizetype i = 0; i < all.size(); ++i) {
        if (dead[i])
            continue;
        kept.append(all.at(i));
        if (stamps[i] != 0)
            uses.insert(keys[i], stamps[i]);
    }
    all = std::move(kept);
    lastUse = std::move(uses);
    return stored;
}

CookieJar::CookieJar(QObject *parent)
    : QNetworkCookieJar(parent)
    , d(std::make_unique<Private>())
{
}

CookieJar::~CookieJar()
{
    // No signal from a destructor: a warning instead.
    CookieFileError error;
    if (!d->writePending(*this, &error))
        qCWarning(lcHttp).noquote() << "cookie jar autosave failed:" << error.toString();
}

void CookieJar::setMaxCookiesPerDomain(int count)
{
    d->maxPerDomain = std::max(count, 1);
    QList<QNetworkCookie> all = allCookies();
    d->store(all, {});
    setAllCookies(all);
    d->changed();
}

int CookieJar::maxCookiesPerDomain() const
{
    return d->maxPerDomain;
}

void CookieJar::setMaxCookies(int count)
{
    d->maxTotal = std::max(count, 1);
    QList<QNetworkCookie> all = allCookies();
    d->store(all, {});
    setAllCookies(all);
    d->changed();
}

int CookieJar::maxCookies() const
{
    return d->maxTotal;
}

void CookieJar::storeFromResponse(const QUrl &url, const Headers &headers)
{
    QList<QNetworkCookie> cookies;
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
        cookies.append(parsed.first());
    }
    if (!cookies.isEmpty())
        setCookiesFromUrl(cookies, url); // the whole response in one pass over the jar
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
    d->lastUse.clear();
    d->changed();
}

void CookieJar::clearSessionCookies()
{
    QList<QNetworkCookie> all = allCookies();
    all.removeIf([](const QNetworkCookie &c) { return c.isSessionCookie(); });
    setAllCookies(all);
    d->changed();
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
    // §5.4 step 3: the cookies sent are used now, which keeps them from eviction the longest.
    for (const QNetworkCookie &cookie : std::as_const(result))
        d->lastUse.insert(identityKey(cookie), ++d->clock);
    return result;
}

bool CookieJar::setCookiesFromUrl(const QList<QNetworkCookie> &cookieList, const QUrl &url)
{
    QList<QNetworkCookie> accepted;
    accepted.reserve(cookieList.size());
    for (QNetworkCookie cookie : cookieList) {
        // RFC 6265bis §5.6: a Path or Domain attribute over 1024 octets is ignored.
        if (cookie.path().toUtf8().size() > maxAttributeBytes)
            cookie.setPath(QString());
        if (cookie.domain().toUtf8().size() > maxAttributeBytes)
            cookie.setDomain(QString());
        // Qt's normalize() would make "/a/" the default path of "/a/b"; §5.2.4 and §5.1.4 say
        // "/a", and a Path attribute not starting with '/' means the default path too.
        if (!cookie.path().startsWith(QLatin1Char('/')))
            cookie.setPath(defaultPath(url));
        cookie.setDomain(cookie.domain().toLower());
        cookie.normalize(url); // no Domain attribute: host-only (the host, no leading dot)
        if (validateCookie(cookie, url))
            accepted.append(cookie);
    }
    if (accepted.isEmpty())
        return false;
    QList<QNetworkCookie> all = allCookies();
    const QList<bool> stored = d->store(all, accepted);
    setAllCookies(all);
    d->changed();
    return stored.contains(true);
}

bool CookieJar::insertCookie(const QNetworkCookie &cookie)
{
    QList<QNetworkCookie> all = allCookies();
    const bool stored = d->store(all, {cookie}).first();
    setAllCookies(all);
    d->changed();
    return stored;
}

bool CookieJar::deleteCookie(const QNetworkCookie &cookie)
{
    const bool deleted = QNetworkCookieJar::deleteCookie(cookie);
    if (deleted)
        d->changed();
    return deleted;
}

bool CookieJar::validateCookie(const QNetworkCookie &cookie, const QUrl &url) const
{
    const QString host = url.host();
    if (host.isEmpty() || (cookie.name().isEmpty() && cookie.value().isEmpty()))
        return false;
    if (isOversized(cookie)) // RFC 6265bis §5.6: over 4096 octets, ignored whole
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
    // Validation happened when the cookies were first stored; only expiry, size and the limits
    // are checked again, for the whole file at once.
    QList<QNetworkCookie> all = allCookies();
    d->store(all, loaded);
    setAllCookies(all);
    d->changed();
    return true;
}

QString CookieFileError::toString() const
{
    if (kind == Kind::NoError)
        return {};
    return line > 0 ? QStringLiteral("%1:%2: %3").arg(fileName, QString::number(line), message)
                    : QStringLiteral("%1: %2").arg(fileName, message);
}

bool CookieJar::loadFromFile(const QString &path, CookieFileError *error)
{
    const auto fail = [&](CookieFileError::Kind kind, qsizetype line, const QString &why) {
        if (error)
            *error = CookieFileError {kind, path, line, why};
        return false;
    };
    QFile file(path);
    if (!file.exists())
        return fail(CookieFileError::Kind::FileNotFound, 0, QStringLiteral("no such file"));
    if (!file.open(QIODevice::ReadOnly))
        return fail(CookieFileError::Kind::ReadFailed, 0, file.errorString());
    const QString tooLarge = QStringLiteral("larger than %1 bytes").arg(maxCookieFileBytes);
    if (file.size() > maxCookieFileBytes)
        return fail(CookieFileError::Kind::TooLarge, 0, tooLarge);
    // Read with the bound too: a pipe or a growing file has no size to trust. (read() allocates
    // what it is asked for, so a regular file is asked for its size, plus one byte to see it
    // did not grow past the bound.)
    const qint64 expected = file.isSequential() ? maxCookieFileBytes : file.size();
    QByteArray text = file.read(std::min(expected, maxCookieFileBytes) + 1);
    if (text.size() > expected && text.size() <= maxCookieFileBytes) // it grew: the rest
        text += file.read(maxCookieFileBytes + 1 - text.size());
    if (file.error() != QFileDevice::NoError)
        return fail(CookieFileError::Kind::ReadFailed, 0, file.errorString());
    if (text.size() > maxCookieFileBytes)
        return fail(CookieFileError::Kind::TooLarge, 0, tooLarge);

    // Everything is checked before anything is stored: never a partial jar.
    const Client::CookiesFile parsed
        = Client::parseCookiesFile(text, QDateTime::currentDateTimeUtc());
    if (parsed.errorLine > 0)
        return fail(CookieFileError::Kind::Malformed, parsed.errorLine, parsed.error);
    for (qsizetype i = 0; i < parsed.cookies.size(); ++i) {
        const QNetworkCookie &cookie = parsed.cookies.at(i);
        if (!cookie.domain().startsWith(QLatin1Char('.')))
            continue;
        // A domain cookie is held to what a server may set: as if a host of that domain had
        // set it over https, so a public suffix (".com", ".co.uk") is refused.
        QUrl from;
        from.setScheme(QStringLiteral("https"));
        from.setHost(QStringLiteral("x") + cookie.domain());
        if (!from.isValid() || from.host().isEmpty())
            return fail(CookieFileError::Kind::Malformed, parsed.lines.at(i),
                QStringLiteral("not a domain: '%1'").arg(cookie.domain().mid(1)));
        if (!validateCookie(cookie, from))
            return fail(CookieFileError::Kind::Malformed, parsed.lines.at(i),
                QStringLiteral("a domain cookie for the public suffix '%1'")
                    .arg(cookie.domain().mid(1)));
    }
    QList<QNetworkCookie> all = allCookies();
    d->store(all, parsed.cookies);
    setAllCookies(all);
    d->changed();
    if (error)
        *error = CookieFileError();
    return true;
}

QByteArray CookieJar::toNetscapeFormat(SessionCookies sessionCookies) const
{
    QByteArray text = Client::cookiesFileHeader();
    const QList<QNetworkCookie> all = cookies();
    for (const QNetworkCookie &cookie : all) {
        if (cookie.isSessionCookie() && sessionCookies == SessionCookies::Skip)
            continue;
        const QByteArray line = Client::cookiesFileLine(cookie);
        if (line.isEmpty())
            continue; // the format cannot hold it
        text += line;
        text += '\n';
    }
    return text;
}

bool CookieJar::saveToFile(
    const QString &path, SessionCookies sessionCookies, CookieFileError *error) const
{
    return writeFileAtomically(path, toNetscapeFormat(sessionCookies), error);
}

void CookieJar::setAutoSaveFile(const QString &path, SessionCookies sessionCookies)
{
    flushAutoSave(); // pending changes belong to the previous file
    d->autoSavePath = path;
    d->autoSaveSessionCookies = sessionCookies;
    d->lastSaved.clear();
    if (!d->autoSaveTimer) {
        d->autoSaveTimer = new QTimer(this);
        d->autoSaveTimer->setSingleShot(true);
        connect(d->autoSaveTimer, &QTimer::timeout, this, &CookieJar::flushAutoSave);
    }
}

QString CookieJar::autoSaveFile() const
{
    return d->autoSavePath;
}

void CookieJar::setAutoSaveDelay(std::chrono::milliseconds delay)
{
    d->autoSaveDelay = std::max(delay, std::chrono::milliseconds(0));
}

std::chrono::milliseconds CookieJar::autoSaveDelay() const
{
    return d->autoSaveDelay;
}

bool CookieJar::flushAutoSave()
{
    CookieFileError error;
    if (d->writePending(*this, &error))
        return true;
    Q_EMIT autoSaveFailed(error);
    return false;
}

} // namespace Reqivo
