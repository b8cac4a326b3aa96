// The preparation stage: see prepare_p.h.
#include "prepare_p.h"
#include "decompressor.h"

#include <Reqivo/cookiejar.h>
#include <Reqivo/errors.h>

#include "protocol/requestwriter.h"
#include "redirectpolicy.h"

namespace Reqivo::Client {

namespace {

QUrl withoutUserInfo(QUrl url)
{
    url.setUserInfo(QString());
    return url;
}

bool hasControl(const QString &s)
{
    for (const QChar c : s) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            return true;
    }
    return false;
}

bool isToken68(QByteArrayView s)
{
    // token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    qsizetype i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
            || c == '.' || c == '_' || c == '~' || c == '+' || c == '/')
            ++i;
        else
            break;
    }
    if (i == 0)
        return false;
    while (i < s.size() && s[i] == '=')
        ++i;
    return i == s.size();
}

// Headers with \a host as the first field, then \a rest without any Host.
Headers withHostFirst(QByteArrayView host, const Headers &rest)
{
    Headers out;
    out.reserve(rest.size() + 1, 256);
    out.add("Host", host);
    for (const Headers::Field field : rest) {
        if (!Headers::nameEquals(field.name, "host"))
            out.add(field.name, field.value);
    }
    return out;
}

[[noreturn]] void refuse(const QString &message, const QUrl &url)
{
    throw RequestError(message, withoutUserInfo(url));
}

} // namespace

QByteArray basicAuthorization(const QString &user, const QString &password)
{
    if (user.contains(QLatin1Char(':')))
        throw RequestError(
            QStringLiteral("a Basic auth user-id cannot contain a colon (RFC 7617)"));
    if (hasControl(user) || hasControl(password))
        throw RequestError(
            QStringLiteral("Basic auth credentials cannot contain control characters"));
    return "Basic " + (user + QLatin1Char(':') + password).toUtf8().toBase64();
}

QByteArray bearerAuthorization(const QString &token)
{
    const QByteArray bytes = token.toUtf8();
    if (!isToken68(bytes))
        throw RequestError(QStringLiteral("a Bearer token must be token68: letters, digits and "
                                          "-._~+/ followed by optional '=' (RFC 6750)"));
    return "Bearer " + bytes;
}

QUrl requestUrl(const QUrl &base, QUrl url, const QUrlQuery &query)
{
    if (url.isRelative() && base.isValid())
        url = base.resolved(url);
    if (query.isEmpty())
        return url;
    // QUrlQuery re-encodes on the way out and leaves '+' (a space to form decoders) as it is;
    // encoding each decoded key and value ourselves sends exactly what was given.
    QByteArray encoded = url.query(QUrl::FullyEncoded).toLatin1();
    const auto items = query.queryItems(QUrl::FullyDecoded);
    for (const auto &[key, value] : items) {
        if (!encoded.isEmpty())
            encoded += '&';
        encoded += QUrl::toPercentEncoding(key);
        encoded += '=';
        encoded += QUrl::toPercentEncoding(value);
    }
    url.setQuery(QString::fromLatin1(encoded), QUrl::StrictMode);
    return url;
}

QByteArray requestTarget(const QUrl &url)
{
    QByteArray target = url.path(QUrl::FullyEncoded).toLatin1();
    if (target.isEmpty())
        target = "/";
    if (url.hasQuery())
        target += '?' + url.query(QUrl::FullyEncoded).toLatin1();
    return target;
}

QByteArray hostField(const QUrl &url)
{
    QByteArray host = url.host(QUrl::FullyEncoded).toLatin1();
    if (host.contains(':'))
        host = '[' + host + ']';
    const int port = url.port();
    const QString scheme = url.scheme();
    const bool secure = scheme == QLatin1String("https") || scheme == QLatin1String("wss");
    if (port > 0 && port != (secure ? 443 : 80))
        host += ':' + QByteArray::number(port);
    return host;
}

Headers mergeHeaders(const Headers &defaults, const Headers &overrides)
{
    if (overrides.isEmpty())
        return defaults;
    Headers merged = defaults;
    for (const Headers::Field field : overrides)
        merged.remove(field.name);
    merged.append(overrides);
    return merged;
}

Prepared prepareRequest(PrepareInput in)
{
    Prepared p;
    Headers merged = mergeHeaders(in.defaults, in.overrides);

    // Proxy credentials belong to the proxy's QNetworkProxy: through a CONNECT tunnel (https://,
    // upgrades) a Proxy-Authorization field would reach the origin, and in absolute form the
    // session's authentication step answers the proxy's 407 with them.
    if (merged.contains("proxy-authorization"))
        refuse(QStringLiteral("Proxy-Authorization is not sent as a request header: set the "
                              "credentials on the QNetworkProxy (setProxy())"),
            in.url);
    const QList<QByteArray> hosts = merged.values("host");
    if (hosts.size() > 1)
        refuse(QStringLiteral("the request has %1 Host fields; at most one replaces the "
                              "derived one")
                   .arg(hosts.size()),
            in.url);
    QByteArray host;
    if (hosts.isEmpty()) {
        host = in.host;
        p.derivedHost = host;
    } else {
        host = hosts.first();
        if (host.isEmpty() || !Protocol::RequestWriter::isValidFieldValue(host))
            refuse(QStringLiteral("invalid Host field value"), in.url);
    }

    Headers fields = withHostFirst(host, merged);
    fields.reserve(fields.size() + 4, 256);

    if (!in.url.userInfo().isEmpty()) {
        // http://user:pass@host/ → Basic auth, and the credentials never appear in a URL again.
        if (!fields.contains("authorization")) {
            try {
                fields.add("Authorization",
                    basicAuthorization(
                        in.url.userName(QUrl::FullyDecoded), in.url.password(QUrl::FullyDecoded)));
            } catch (const RequestError &e) {
                refuse(e.message(), in.url);
            }
        }
        in.url = withoutUserInfo(in.url);
    }
    p.authOrigin = in.url;
    if (!in.sessionAuthorization.isEmpty() && !fields.contains("authorization")) {
        fields.add("Authorization", in.sessionAuthorization);
        p.sessionAuthorization = in.sessionAuthorization;
    }
    if (in.jar && !fields.contains("cookie")) {
        p.jarCookie = in.jar->cookieHeaderFor(in.url);
        if (!p.jarCookie.isEmpty())
            fields.add("Cookie", p.jarCookie);
    }
    if (in.acceptEncoding && !fields.contains("accept-encoding"))
        fields.add("Accept-Encoding", Decompressor::acceptEncoding());
    if (!in.contentType.isEmpty() && !fields.contains("content-type"))
        fields.add("Content-Type", in.contentType);

    p.request = PreparedRequest {std::move(in.method), std::move(in.url), std::move(fields)};
    return p;
}

void finishPrepared(Prepared &p, const QUrl &urlBeforeHooks)
{
    PreparedRequest &r = p.request;
    if (!r.url.userInfo().isEmpty())
        r.url = withoutUserInfo(r.url);
    if (r.url != urlBeforeHooks && !isSameOrigin(r.url, urlBeforeHooks)) {
        // A hook sent the request elsewhere: a derived Host follows the URL; credentials
        // follow the request as the hook left them.
        if (!p.derivedHost.isEmpty() && r.headers.value("host") == p.derivedHost) {
            p.derivedHost = hostField(r.url);
            r.headers = withHostFirst(p.derivedHost, r.headers);
        }
        p.authOrigin = r.url;
    }
    const QList<QByteArray> hosts = r.headers.values("host");
    if (hosts.size() != 1)
        refuse(hosts.isEmpty()
                ? QStringLiteral("a request hook removed the Host field")
                : QStringLiteral("a request hook left %1 Host fields").arg(hosts.size()),
            r.url);
    if (r.headers.contains("proxy-authorization"))
        refuse(QStringLiteral("Proxy-Authorization is not sent as a request header: set the "
                              "credentials on the QNetworkProxy (setProxy())"),
            r.url);
}

Headers hopHeaders(Prepared &p, const Headers &decided, const QUrl &url, const CookieJar *jar)
{
    Headers fields = decided;
    // The jar's cookies are chosen again for the new URL (the redirect may have set some).
    if (!p.jarCookie.isEmpty() && fields.value("cookie") == p.jarCookie)
        fields.remove("cookie");
    p.jarCookie.clear();
    if (!fields.contains("host"))
        fields = withHostFirst(hostField(url), fields);
    if (!p.sessionAuthorization.isEmpty() && !fields.contains("authorization")
        && isSameOrigin(url, p.authOrigin))
        fields.add("Authorization", p.sessionAuthorization);
    if (jar && !fields.contains("cookie")) {
        p.jarCookie = jar->cookieHeaderFor(url);
        if (!p.jarCookie.isEmpty())
            fields.add("Cookie", p.jarCookie);
    }
    return fields;
}

} // namespace Reqivo::Client
