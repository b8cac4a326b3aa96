// The Netscape cookies.txt format: see cookiesfile_p.h.
//
// Reading and writing share one line parser: a line is written only when it reads back as the
// same cookie, so a saved jar always loads.
#include "cookiesfile_p.h"

#include <Reqivo/cookiejar.h>

#include <QHostAddress>
#include <QUrl>

#include <algorithm>
#include <optional>

using namespace Qt::StringLiterals;

namespace Reqivo::Client {

namespace {

constexpr QByteArrayView httpOnlyPrefix = "#HttpOnly_";
// 9999-12-31T23:59:59Z: later expiries are capped (QDateTime's range is far larger, but no
// cookie needs more).
constexpr qint64 latestExpiry = 253402300799;

bool isControl(char c)
{
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

// A field shown in a message: at most 40 bytes (the line holds no control characters by then).
QString shown(QByteArrayView field)
{
    QString text = QString::fromUtf8(field.first(std::min<qsizetype>(field.size(), 40)));
    if (field.size() > 40)
        text += u"..."_s;
    return text;
}

std::optional<bool> parseFlag(QByteArrayView field)
{
    if (field.compare("TRUE", Qt::CaseInsensitive) == 0)
        return true;
    if (field.compare("FALSE", Qt::CaseInsensitive) == 0)
        return false;
    return std::nullopt;
}

QString domainFromFile(QByteArrayView field)
{
    if (field.startsWith('[') && field.endsWith(']')) // an IPv6 address as URLs spell it
        field = field.sliced(1, field.size() - 2);
    if (const QString ip = QString::fromLatin1(field); !QHostAddress(ip).isNull())
        return ip.toLower();
    const bool ascii = std::all_of(
        field.begin(), field.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (!ascii)
        return QString::fromUtf8(field).toLower();
    const QByteArray bytes = field.toByteArray();
    QString domain = QUrl::fromAce(bytes); // "xn--" labels back to Unicode, as QUrl::host() has
    if (domain.isEmpty())
        domain = QString::fromLatin1(bytes);
    return domain.toLower();
}

QByteArray domainForFile(const QString &domain)
{
    if (!QHostAddress(domain).isNull())
        return domain.toLatin1();
    const QByteArray ace = QUrl::toAce(domain);
    return ace.isEmpty() ? domain.toUtf8() : ace;
}

// One non-blank, non-comment line (the "#HttpOnly_" prefix still on it) → a cookie, or the
// reason it is not one. \a expired tells a well-formed cookie that expired at or before \a now.
QString parseLine(QByteArrayView line, const QDateTime &now, QNetworkCookie *cookie, bool *expired)
{
    if (line.size() > CookieJar::maxCookieFileLineBytes)
        return u"line longer than %1 bytes"_s.arg(CookieJar::maxCookieFileLineBytes);
    for (const char c : line) {
        if (isControl(c))
            return u"control character 0x%1 in the line"_s.arg(
                static_cast<unsigned char>(c), 2, 16, QLatin1Char('0'));
    }
    const bool httpOnly = line.startsWith(httpOnlyPrefix);
    if (httpOnly)
        line = line.sliced(httpOnlyPrefix.size());
    if (line.startsWith("Set-Cookie:"))
        return u"a Set-Cookie header line, not a cookies.txt line"_s;

    QList<QByteArrayView> fields;
    for (qsizetype start = 0;;) {
        const qsizetype tab = line.indexOf('\t', start);
        fields.append(line.sliced(start, (tab < 0 ? line.size() : tab) - start));
        if (tab < 0)
            break;
        start = tab + 1;
    }
    const qsizetype given = fields.size();
    // curl's leniencies: a third field reading TRUE or FALSE means the path is missing, and a
    // line ending after the name has an empty value.
    if (fields.size() >= 3 && (fields.at(2) == "TRUE" || fields.at(2) == "FALSE"))
        fields.insert(2, QByteArrayView("/"));
    if (fields.size() == 6)
        fields.append(QByteArrayView());
    if (fields.size() != 7)
        return u"expected 7 tab-separated fields (domain, include-subdomains, path, secure, "
               "expiry, name, value), found %1"_s.arg(given);

    QByteArrayView domainField = fields.at(0);
    const std::optional<bool> subdomains = parseFlag(fields.at(1));
    QByteArrayView path = fields.at(2);
    const std::optional<bool> secure = parseFlag(fields.at(3));
    const QByteArrayView expiry = fields.at(4);
    const QByteArrayView name = fields.at(5);
    const QByteArrayView value = fields.at(6);

    if (domainField.startsWith('.'))
        domainField = domainField.sliced(1);
    if (domainField.isEmpty())
        return u"empty domain"_s;
    if (domainField.startsWith('#') || domainField.contains(' ') || domainField.contains('/')
        || domainField.contains(';'))
        return u"not a domain: '%1'"_s.arg(shown(domainField));
    if (domainField.size() > CookieJar::maxAttributeBytes)
        return u"domain longer than %1 bytes"_s.arg(CookieJar::maxAttributeBytes);
    if (!subdomains)
        return u"include-subdomains must be TRUE or FALSE, not '%1'"_s.arg(shown(fields.at(1)));
    if (path.size() > CookieJar::maxAttributeBytes)
        return u"path longer than %1 bytes"_s.arg(CookieJar::maxAttributeBytes);
    if (!secure)
        return u"secure must be TRUE or FALSE, not '%1'"_s.arg(shown(fields.at(3)));
    if (expiry.isEmpty() || !std::all_of(expiry.begin(), expiry.end(), isDigit))
        return u"expiry must be seconds since 1970 (0 for a session cookie), not '%1'"_s.arg(
            shown(expiry));
    if (name.isEmpty() && value.isEmpty())
        return u"a cookie with neither name nor value"_s;
    if (name.contains('=') || name.contains(';'))
        return u"'=' or ';' in the cookie name '%1'"_s.arg(shown(name));
    const bool quoted = value.size() >= 2 && value.startsWith('"') && value.endsWith('"');
    if (value.contains(';') && !quoted)
        return u"';' in the value of cookie '%1'"_s.arg(shown(name));
    if (name.size() + value.size() > CookieJar::maxCookieBytes)
        return u"cookie '%1' longer than %2 bytes (name and value)"_s.arg(
            shown(name), QString::number(CookieJar::maxCookieBytes));

    const QString domain = domainFromFile(domainField);
    const bool isIp = !QHostAddress(domain).isNull();
    if (!path.startsWith('/'))
        path = "/"; // as curl does

    bool ok = false;
    qint64 seconds = expiry.toLongLong(&ok);
    if (!ok || seconds > latestExpiry)
        seconds = latestExpiry; // more digits than fit: "forever", capped

    QNetworkCookie c(name.toByteArray(), value.toByteArray());
    // The jar's form: a domain cookie has a leading dot, a host-only one (and any IP address,
    // which only matches itself) none.
    c.setDomain(*subdomains && !isIp ? u'.' + domain : domain);
    c.setPath(QString::fromUtf8(path));
    c.setSecure(*secure);
    c.setHttpOnly(httpOnly);
    if (seconds != 0)
        c.setExpirationDate(QDateTime::fromSecsSinceEpoch(seconds, Qt::UTC));
    *expired = seconds != 0 && c.expirationDate() <= now;
    *cookie = std::move(c);
    return {};
}

} // namespace

CookiesFile parseCookiesFile(QByteArrayView text, const QDateTime &now)
{
    CookiesFile out;
    if (text.startsWith("\xEF\xBB\xBF")) // a UTF-8 byte order mark, as some exporters write
        text = text.sliced(3);
    qsizetype lineNumber = 0;
    for (qsizetype pos = 0; pos < text.size();) {
        ++lineNumber;
        const qsizetype newline = text.indexOf('\n', pos);
        const qsizetype end = newline < 0 ? text.size() : newline;
        QByteArrayView line = text.sliced(pos, end - pos);
        pos = end + 1;
        if (line.endsWith('\r'))
            line.chop(1);
        while (!line.isEmpty() && (line.front() == ' ' || line.front() == '\t'))
            line = line.sliced(1);
        if (line.isEmpty() || (line.startsWith('#') && !line.startsWith(httpOnlyPrefix))) {
            if (line.size() > CookieJar::maxCookieFileLineBytes) {
                out.errorLine = lineNumber;
                out.error = u"line longer than %1 bytes"_s.arg(CookieJar::maxCookieFileLineBytes);
                return out;
            }
            continue; // blank or a comment
        }
        QNetworkCookie cookie;
        bool expired = false;
        const QString error = parseLine(line, now, &cookie, &expired);
        if (!error.isEmpty()) {
            out.errorLine = lineNumber;
            out.error = error;
            return out;
        }
        if (expired)
            continue;
        out.cookies.append(std::move(cookie));
        out.lines.append(lineNumber);
    }
    return out;
}

QByteArray cookiesFileHeader()
{
    return QByteArrayLiteral("# Netscape HTTP Cookie File\n"
                             "# https://curl.se/docs/http-cookies.html\n"
                             "# Written by Reqivo. Edit at your own risk.\n\n");
}

QByteArray cookiesFileLine(const QNetworkCookie &cookie)
{
    const QString domain = cookie.domain();
    const bool subdomains = domain.startsWith(u'.');
    QByteArray line;
    if (cookie.isHttpOnly())
        line += httpOnlyPrefix;
    if (subdomains)
        line += '.';
    line += domainForFile(subdomains ? domain.mid(1) : domain);
    line += subdomains ? "\tTRUE\t" : "\tFALSE\t";
    line += cookie.path().isEmpty() ? QByteArray("/") : cookie.path().toUtf8();
    line += cookie.isSecure() ? "\tTRUE\t" : "\tFALSE\t";
    line += cookie.isSessionCookie()
        ? QByteArray("0")
        : QByteArray::number(
            std::clamp<qint64>(cookie.expirationDate().toSecsSinceEpoch(), 1, latestExpiry));
    line += '\t';
    line += cookie.name();
    line += '\t';
    line += cookie.value();

    // Written only when it reads back, as a file of its own, as the same cookie.
    if (line.contains('\n'))
        return {};
    const CookiesFile read
        = parseCookiesFile(line + '\n', QDateTime::fromSecsSinceEpoch(0, Qt::UTC));
    if (read.errorLine != 0 || read.cookies.size() != 1)
        return {};
    const QNetworkCookie &back = read.cookies.first();
    const QString path = cookie.path().isEmpty() ? u"/"_s : cookie.path();
    if (back.name() != cookie.name() || back.value() != cookie.value() || back.domain() != domain
        || back.path() != path)
        return {};
    return line;
}

} // namespace Reqivo::Client
