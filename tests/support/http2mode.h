// A suite run again over HTTP/2. The same test binary is registered a second time in CMake with
// reqivo_add_http2_rerun(<test>) (tests/support/http2mode.cmake), as <test>_h2, whose environment
// has REQIVO_TEST_HTTP2=1. In that mode a suite's peer URLs name the peers' HTTP/2 listeners
// (TLS, "h2" by ALPN) instead of their plain HTTP ports, and the CAs that sign those listeners are
// trusted by sessions that have no TLS settings of their own. Each test that makes a request
// then checks Response::httpVersion() against expectedHttpVersion(), so a re-run proves which
// protocol it used; the few expectations that depend on the protocol (connection counts, what a
// server sees of the framing) ask http2Mode().
//
// Without REQIVO_TEST_HTTP2 everything here is the identity: a suite runs as it always did.
#pragma once

#include "support/peers.h"

#include <Reqivo/endpoint.h>
#include <Reqivo/httpversion.h>

#include <QSslCertificate>
#include <QSslConfiguration>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <QtGlobal>

namespace ReqivoTest {

//! True when the suite runs over HTTP/2 (REQIVO_TEST_HTTP2=1 in its environment).
inline bool http2Mode()
{
    static const bool on = qEnvironmentVariable("REQIVO_TEST_HTTP2") == QLatin1String("1");
    return on;
}

//! What Response::httpVersion() says for the suite's requests: "2" or "1.1".
inline QString expectedHttpVersion()
{
    return http2Mode() ? QStringLiteral("2") : QStringLiteral("1.1");
}

//! The env key of the base URL to use for \a key in this mode: over HTTP/2 the plain HTTP and
//! HTTP/1.1-only HTTPS listeners become the HTTP/2 one of the same server (HTTPBIN_URL:
//! HTTPBIN_H2_URL; NGINX_HTTP_URL and NGINX_HTTPS_URL: NGINX_H2_URL, which has the same
//! certificate as NGINX_HTTPS_URL). Any other key (NGINX_MTLS_URL: no HTTP/2) is itself.
inline QString modeUrlKey(const QString &key)
{
    if (!http2Mode())
        return key;
    if (key == QLatin1String("HTTPBIN_URL"))
        return QStringLiteral("HTTPBIN_H2_URL");
    if (key == QLatin1String("NGINX_HTTP_URL") || key == QLatin1String("NGINX_HTTPS_URL"))
        return QStringLiteral("NGINX_H2_URL");
    return key;
}

//! peerUrl() through modeUrlKey(): the same server and path, over the mode's protocol.
inline QUrl modePeerUrl(
    const QHash<QString, QString> &env, const QString &baseKey, const QString &path = {})
{
    return peerUrl(env, modeUrlKey(baseKey), path);
}

//! The pool's endpoint for requests to \a url from a session with default settings (HTTP/2
//! offered by ALPN over TLS, default TLS options), for idleCount() and activeCount().
inline Reqivo::Endpoint sessionEndpoint(const QUrl &url)
{
    Reqivo::Endpoint endpoint = Reqivo::Endpoint::fromUrl(url);
    endpoint.httpVersion = Reqivo::HttpVersion::Http2;
    return endpoint;
}

namespace Detail {
inline QSslConfiguration &untrustingDefault()
{
    static QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    return config;
}
inline QSslConfiguration &trustingDefault()
{
    static QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    return config;
}
} // namespace Detail

//! In HTTP/2 mode: trusts the CAs of \a peers' HTTP/2 listeners ("httpbin", "nginx") in Qt's
//! default TLS configuration, which sessions without TLS settings of their own use, so that a
//! suite's requests reach the TLS listeners unchanged. Call it from initTestCase(). Does
//! nothing in HTTP/1.1 mode. Aborts when a CA cannot be read.
inline void trustHttp2PeersByDefault(const QStringList &peers)
{
    if (!http2Mode())
        return;
    Detail::untrustingDefault(); // kept as it was, for UntrustedDefaultScope
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    // Setting the list switches off Qt's on-demand loading of the system store: list it too.
    QList<QSslCertificate> trusted = QSslConfiguration::systemCaCertificates();
    trusted += config.caCertificates();
    for (const QString &peer : peers) {
        const QString key = peer.toUpper() + QStringLiteral("_CA_FILE");
        const QString file = peerValue(loadPeerEnv(peer), key);
        const QList<QSslCertificate> ca = QSslCertificate::fromPath(file);
        if (ca.isEmpty())
            qFatal("cannot read the CA of %s from %s", qPrintable(peer), qPrintable(file));
        trusted += ca;
    }
    config.setCaCertificates(trusted);
    QSslConfiguration::setDefaultConfiguration(config);
    Detail::trustingDefault() = config;
}

//! For a test that expects a certificate to be refused by default TLS options: while it lives,
//! Qt's default configuration is the one trustHttp2PeersByDefault() found, and the trusting one
//! comes back when it ends. Nothing happens in HTTP/1.1 mode.
class UntrustedDefaultScope
{
public:
    UntrustedDefaultScope()
    {
        if (http2Mode())
            QSslConfiguration::setDefaultConfiguration(Detail::untrustingDefault());
    }
    ~UntrustedDefaultScope()
    {
        if (http2Mode())
            QSslConfiguration::setDefaultConfiguration(Detail::trustingDefault());
    }
    UntrustedDefaultScope(const UntrustedDefaultScope &) = delete;
    UntrustedDefaultScope &operator=(const UntrustedDefaultScope &) = delete;
};

} // namespace ReqivoTest
