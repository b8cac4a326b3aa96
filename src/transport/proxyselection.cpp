// Proxy selection: the environment as curl reads it, no_proxy as curl matches it, the system's
// configuration through Qt. See proxyselection.h.
#include "proxyselection.h"

#include <QHostAddress>
#include <QNetworkProxyFactory>
#include <QNetworkProxyQuery>

#include <optional>

namespace Reqivo::Transport {

namespace {

std::optional<QString> variable(const char *name)
{
    if (!qEnvironmentVariableIsSet(name))
        return std::nullopt;
    return qEnvironmentVariable(name);
}

template<typename... Names>
QString firstSet(const char *name, Names... rest)
{
    if (std::optional<QString> value = variable(name))
        return *value;
    if constexpr (sizeof...(rest) > 0)
        return firstSet(rest...);
    else
        return {};
}

bool isBlank(QChar c)
{
    return c == QLatin1Char(' ') || c == QLatin1Char('\t');
}

// curl compares with inet_pton(AF_INET): four dotted decimal parts, nothing shorter.
std::optional<quint32> parseIpv4(QStringView text)
{
    const QList<QStringView> parts = text.split(QLatin1Char('.'));
    if (parts.size() != 4)
        return std::nullopt;
    quint32 address = 0;
    for (QStringView part : parts) {
        if (part.isEmpty() || part.size() > 3)
            return std::nullopt;
        for (QChar c : part) {
            if (c < QLatin1Char('0') || c > QLatin1Char('9'))
                return std::nullopt;
        }
        const uint value = part.toUInt();
        if (value > 255)
            return std::nullopt;
        address = (address << 8) | value;
    }
    return address;
}

std::optional<Q_IPV6ADDR> parseIpv6(QStringView text)
{
    if (!text.contains(QLatin1Char(':')))
        return std::nullopt;
    QHostAddress address;
    if (!address.setAddress(text.toString()) || address.protocol() != QAbstractSocket::IPv6Protocol)
        return std::nullopt;
    return address.toIPv6Address();
}

// The /bits of an item; 0 (curl's default: the whole address) when there is none. A value
// that is not a number reads as atoi() does: its leading digits, or 0.
uint cidrBits(QStringView item, QStringView *address)
{
    const qsizetype slash = item.indexOf(QLatin1Char('/'));
    if (slash < 0) {
        *address = item;
        return 0;
    }
    *address = item.left(slash);
    uint bits = 0;
    for (QChar c : item.mid(slash + 1)) {
        if (c < QLatin1Char('0') || c > QLatin1Char('9') || bits > 1000)
            break;
        bits = bits * 10 + uint(c.unicode() - '0');
    }
    return bits;
}

bool matchesIpv4(quint32 host, QStringView item)
{
    QStringView network;
    const uint bits = cidrBits(item, &network);
    const std::optional<quint32> check = parseIpv4(network);
    if (!check || bits > 32)
        return false;
    if (bits == 0 || bits == 32)
        return host == *check;
    const quint32 mask = 0xffffffffu << (32 - bits);
    return ((host ^ *check) & mask) == 0;
}

bool matchesIpv6(const Q_IPV6ADDR &host, QStringView item)
{
    QStringView network;
    uint bits = cidrBits(item, &network);
    const std::optional<Q_IPV6ADDR> check = parseIpv6(network);
    if (!check || bits > 128)
        return false;
    if (bits == 0)
        bits = 128;
    const uint bytes = bits / 8;
    const uint rest = bits % 8;
    for (uint i = 0; i < bytes; ++i) {
        if (host[i] != (*check)[i])
            return false;
    }
    if (rest) {
        const quint8 mask = quint8(0xff << (8 - rest));
        if ((host[bytes] ^ (*check)[bytes]) & mask)
            return false;
    }
    return true;
}

bool matchesName(QStringView name, QStringView item)
{
    if (item.endsWith(QLatin1Char('.')))
        item.chop(1);
    if (item.startsWith(QLatin1Char('.')))
        item = item.mid(1);
    if (item.size() == name.size())
        return item.compare(name, Qt::CaseInsensitive) == 0;
    if (item.size() < name.size()) {
        return name.at(name.size() - item.size() - 1) == QLatin1Char('.')
            && name.right(item.size()).compare(item, Qt::CaseInsensitive) == 0;
    }
    return false;
}

QString schemeForProxy(const QUrl &url)
{
    const QString scheme = url.scheme().toLower();
    if (scheme == QLatin1String("https") || scheme == QLatin1String("wss"))
        return QStringLiteral("https");
    return QStringLiteral("http");
}

} // namespace

ProxyEnvironment ProxyEnvironment::fromProcess()
{
    ProxyEnvironment environment;
    environment.http = firstSet("http_proxy", "all_proxy", "ALL_PROXY");
    environment.https = firstSet("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY");
    environment.noProxy = firstSet("no_proxy", "NO_PROXY");
    return environment;
}

ProxyChoice parseProxyUrl(const QString &value, const QString &origin)
{
    ProxyChoice choice;
    const QString text = value.trimmed();
    const qsizetype separator = text.indexOf(QLatin1String("://"));
    const QString scheme = separator < 0 ? QStringLiteral("http") : text.left(separator).toLower();
    QNetworkProxy proxy;
    if (scheme == QLatin1String("http")) {
        proxy.setType(QNetworkProxy::HttpProxy);
    } else if (scheme == QLatin1String("socks5") || scheme == QLatin1String("socks5h")) {
        proxy.setType(QNetworkProxy::Socks5Proxy);
        if (scheme == QLatin1String("socks5")) // names are resolved here, not by the proxy
            proxy.setCapabilities(proxy.capabilities() & ~QNetworkProxy::HostNameLookupCapability);
    } else {
        choice.error = QStringLiteral("unsupported proxy scheme \"%1\" in %2 (supported: http, "
                                      "socks5, socks5h)")
                           .arg(scheme, origin);
        return choice;
    }
    const QUrl url(separator < 0 ? QStringLiteral("http://") + text : text, QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty()) {
        choice.error = QStringLiteral("not a proxy URL in %1 (a host is needed)").arg(origin);
        return choice;
    }
    proxy.setHostName(url.host());
    proxy.setPort(quint16(url.port(1080))); // curl's default proxy port, for every scheme
    proxy.setUser(url.userName(QUrl::FullyDecoded));
    proxy.setPassword(url.password(QUrl::FullyDecoded));
    choice.proxy = proxy;
    return choice;
}

bool noProxyMatches(const QString &host, QStringView list)
{
    if (host.isEmpty() || list.isEmpty())
        return false;
    if (list == QLatin1String("*"))
        return true;
    QStringView name = host;
    if (name.startsWith(QLatin1Char('[')) && name.endsWith(QLatin1Char(']')))
        name = name.mid(1, name.size() - 2);
    const std::optional<quint32> ipv4 = parseIpv4(name);
    const std::optional<Q_IPV6ADDR> ipv6 = ipv4 ? std::nullopt : parseIpv6(name);
    if (!ipv4 && !ipv6 && name.endsWith(QLatin1Char('.')))
        name.chop(1);

    qsizetype p = 0;
    const qsizetype n = list.size();
    while (p < n) {
        while (p < n && isBlank(list.at(p)))
            ++p;
        const qsizetype start = p;
        while (p < n && !isBlank(list.at(p)) && list.at(p) != QLatin1Char(','))
            ++p;
        const QStringView item = list.mid(start, p - start);
        if (!item.isEmpty()) {
            const bool match = ipv4 ? matchesIpv4(*ipv4, item)
                : ipv6              ? matchesIpv6(*ipv6, item)
                                    : matchesName(name, item);
            if (match)
                return true;
        }
        while (p < n && isBlank(list.at(p)))
            ++p;
        if (p >= n || list.at(p) != QLatin1Char(','))
            break; // curl: anything but a comma after an item ends the list
        while (p < n && list.at(p) == QLatin1Char(','))
            ++p;
    }
    return false;
}

ProxyChoice ProxyPolicy::select(const QUrl &url) const
{
    const QString host = url.host();
    if (!noProxy.isEmpty()) {
        if (noProxy.contains(QStringLiteral("*"))
            || noProxyMatches(host, noProxy.join(QLatin1Char(','))))
            return {QNetworkProxy(QNetworkProxy::NoProxy), {}};
    }
    if (explicitProxy.type() != QNetworkProxy::DefaultProxy)
        return {explicitProxy, {}};
    const QString scheme = schemeForProxy(url);
    if (useSystem) {
        QUrl query = url;
        query.setScheme(scheme);
        const QList<QNetworkProxy> proxies
            = QNetworkProxyFactory::systemProxyForQuery(QNetworkProxyQuery(query));
        for (const QNetworkProxy &proxy : proxies) {
            // The first one this library can use: a connection tries no list.
            if (proxy.type() == QNetworkProxy::NoProxy || proxy.type() == QNetworkProxy::HttpProxy
                || proxy.type() == QNetworkProxy::Socks5Proxy)
                return {proxy, {}};
        }
        return {QNetworkProxy(QNetworkProxy::NoProxy), {}};
    }
    if (fromEnvironment) {
        const bool https = scheme == QLatin1String("https");
        const QString &value = https ? environment.https : environment.http;
        if (value.trimmed().isEmpty())
            return {};
        if (noProxy.isEmpty() && noProxyMatches(host, environment.noProxy))
            return {QNetworkProxy(QNetworkProxy::NoProxy), {}};
        return parseProxyUrl(value,
            https ? QStringLiteral("https_proxy/HTTPS_PROXY or all_proxy/ALL_PROXY")
                  : QStringLiteral("http_proxy or all_proxy/ALL_PROXY"));
    }
    return {};
}

} // namespace Reqivo::Transport
