// Which proxy a request takes: the session's own, the system's, or the environment's as curl
// reads it (http_proxy, HTTPS_PROXY/https_proxy, ALL_PROXY/all_proxy, NO_PROXY/no_proxy), and
// the no_proxy exemptions with curl's matching (lib/noproxy.c). Plain functions and a value
// type, no I/O but the environment snapshot and Qt's system factory: the session asks once per
// origin (SessionCore::originFor() caches the answer).
#pragma once

#include <Reqivo/reqivoglobal.h>

#include <QNetworkProxy>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace Reqivo::Transport {

//! The proxy variables of the environment, resolved as curl resolves them, read once.
struct REQIVO_TESTS_EXPORT ProxyEnvironment
{
    //! For http:// (and ws://): http_proxy only (upper-case HTTP_PROXY is ignored: "httpoxy",
    //! a CGI program gets the request's Proxy field as HTTP_PROXY), else all_proxy, ALL_PROXY.
    QString http;
    //! For https:// (and wss://): https_proxy, HTTPS_PROXY, else all_proxy, ALL_PROXY.
    QString https;
    //! no_proxy, else NO_PROXY.
    QString noProxy;

    //! The current process environment. A variable that is set but empty counts as set (it
    //! hides the ones after it), as curl has it.
    static ProxyEnvironment fromProcess();
};

//! A proxy to use, or why none can be: a proxy URL whose scheme is not supported.
struct ProxyChoice
{
    QNetworkProxy proxy {QNetworkProxy::DefaultProxy};
    QString error; //!< non-empty: a request that would use it fails with RequestError(error)
};

//! A proxy URL as curl accepts it: "host:port", "http://[user:pass@]host[:port]" (an HTTP
//! proxy; curl's default port 1080), "socks5://" (names resolved here) and "socks5h://" (names
//! resolved by the proxy); user and password percent-decoded. Anything else (https://,
//! socks4://, ...) or a URL without a host gives an error naming the variable \a origin.
REQIVO_TESTS_EXPORT ProxyChoice parseProxyUrl(const QString &value, const QString &origin);

//! curl's no_proxy rule (lib/noproxy.c): true when \a host (as in a URL, IPv6 with or without
//! brackets) is exempted by \a list. The list is "*" alone (every host), or comma-separated
//! items with blanks around them: host names that match themselves and every name below them
//! at a label boundary (a leading and a trailing dot ignored), or, for an IP address host, IP
//! addresses with an optional /bits CIDR suffix. Case-insensitive; no port rule (an item with
//! a port matches nothing).
REQIVO_TESTS_EXPORT bool noProxyMatches(const QString &host, QStringView list);

//! A session's proxy policy (AsyncSession::setProxy(), setUseSystemProxy(),
//! setProxyFromEnvironment(), setNoProxy()) and the choice it makes for a URL.
struct REQIVO_TESTS_EXPORT ProxyPolicy
{
    //! setProxy(): anything but DefaultProxy beats the system and the environment.
    QNetworkProxy explicitProxy {QNetworkProxy::DefaultProxy};
    bool useSystem = false;
    bool fromEnvironment = true;
    ProxyEnvironment environment = ProxyEnvironment::fromProcess();
    QStringList noProxy; //!< setNoProxy(): exempts hosts from any proxy

    //! The proxy for \a url (http, https, ws, wss): setNoProxy() exemptions first, then the
    //! explicit proxy, the system's (when on), the environment's (when on, with its no_proxy
    //! when noProxy is empty), else DefaultProxy (Qt's application proxy). An exempted host
    //! gets NoProxy.
    ProxyChoice select(const QUrl &url) const;
};

} // namespace Reqivo::Transport
