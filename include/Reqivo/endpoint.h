// Reqivo::Endpoint and Reqivo::TlsOptions: where a connection goes and how it is secured.
//
// An Endpoint is everything that decides whether two requests may share a connection: scheme
// (plain or TLS), host, port, proxy and, for TLS, the trust and client-certificate settings.
// key() folds all of that into one string, and the connection pool keys its idle lists on it,
// so two endpoints with different proxies or different CA sets never share a socket. Secrets
// (proxy passwords, private keys) only enter the key as part of a digest.
#pragma once

#include <Reqivo/httpversion.h>
#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QList>
#include <QNetworkProxy>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QString>
#include <QUrl>

namespace Reqivo {

//! SPKI SHA-256 pins for the hosts matching hostPattern (docs/resilience.md): a TLS connection
//! to such a host is accepted only when some certificate of the chain the server presented has
//! one of the pins (OkHttp's rule, so an intermediate's pin works), checked after the usual
//! verification (and with verifyPeer off too) and before any request byte is sent. Pin a
//! backup key too: a server that rotates to an unpinned key is unreachable until the app is
//! updated.
struct REQIVO_EXPORT CertificatePin
{
    //! "example.com" (that host only), "*.example.com" (one label below it),
    //! "**.example.com" (any depth below it, and example.com itself), "*" (every host, names
    //! and addresses: curl's --pinnedpubkey). Case-insensitive.
    QString hostPattern;
    //! SHA-256 digests (32 bytes each) of SubjectPublicKeyInfo DER.
    QList<QByteArray> sha256;

    //! Equal when the pattern and the digests (in order) are.
    friend bool operator==(const CertificatePin &, const CertificatePin &) = default;
};

//! How a TLS connection is secured: trust (system CAs, extra CAs, verification) and the client
//! certificate for mutual TLS. Part of an Endpoint, so connections with different TLS options
//! are never shared. Set them on a session with AsyncSession::setTlsOptions().
struct REQIVO_EXPORT TlsOptions
{
    //! Verify the server's certificate chain and host name. Off only when asked for. The host
    //! name is checked by Qt and then by RFC 9525's stricter rule: only subjectAltName entries
    //! count (never the subject's common name), an IP address matches only an iPAddress entry,
    //! and a wildcard only as the whole left-most label ("*.example.com").
    bool verifyPeer = true;
    //! Trust the operating system's CA store (in addition to caCertificates).
    bool useSystemCaCertificates = true;
    //! Extra trusted CAs; with useSystemCaCertificates off, the only trusted ones.
    QList<QSslCertificate> caCertificates;
    //! Client certificate and its key, for servers that ask for one (mutual TLS).
    QSslCertificate clientCertificate;
    QSslKey privateKey; //!< The client certificate's private key.
    //! Certificate pins (see CertificatePin); none by default.
    QList<CertificatePin> pins;
    //! Adds a pin for \a hostPattern from curl's --pinnedpubkey spelling,
    //! "sha256//BASE64[;sha256//BASE64...]". False (and \a error) for a malformed one.
    bool addPins(const QString &hostPattern, const QString &spec, QString *error = nullptr);
    //! The pins of \a host (every pin of every matching pattern); empty when none applies.
    QList<QByteArray> pinsFor(const QString &host) const;

    //! Adds every PEM certificate in \a path to caCertificates. On failure returns false,
    //! leaves the options unchanged and puts the reason in \a error.
    bool addCaCertificatesFromFile(const QString &path, QString *error = nullptr);
    //! Loads the client certificate (first PEM certificate of \a certPath) and its unencrypted
    //! PEM private key (RSA, EC or DSA) from \a keyPath.
    bool setClientCertificateFromFiles(
        const QString &certPath, const QString &keyPath, QString *error = nullptr);

    //! True when nothing differs from the defaults (system CAs, verification on, no client
    //! certificate): such connections can use Qt's default configuration as is.
    bool isDefault() const;
    //! The configuration a QSslSocket is given for these options (ALPN "http/1.1").
    QSslConfiguration toSslConfiguration() const;
    //! A stable digest of the options, used in Endpoint::key(); "default" for the defaults.
    QByteArray poolKey() const;
};

//! Equal when every field is (certificates and keys compared by content).
REQIVO_EXPORT bool operator==(const TlsOptions &a, const TlsOptions &b);
//! Not operator==().
inline bool operator!=(const TlsOptions &a, const TlsOptions &b)
{
    return !(a == b);
}

//! Where a connection goes and how: scheme (plain or TLS), host, port, proxy and TLS options.
//!
//! Everything that decides whether two requests may share a connection: key() folds it into
//! one string, and the connection pool keeps its idle connections by that key, so two
//! endpoints with different proxies or different CA sets never share a socket. Secrets (proxy
//! passwords, private keys) enter the key only as part of a digest.
struct REQIVO_EXPORT Endpoint
{
    bool tls = false; //!< TLS (https, wss) or plain TCP (http, ws).
    QString host; //!< Host name or IP address, as in the URL (IPv6 without brackets).
    quint16 port = 0; //!< TCP port; 0 makes the endpoint invalid.
    //! QNetworkProxy::DefaultProxy follows QNetworkProxy::applicationProxy(); an HttpProxy is
    //! used as a CONNECT tunnel (opened by the library, answering a 407 with the proxy's user
    //! and password, Basic or Digest), a Socks5Proxy as SOCKS5 (with user/password when set).
    QNetworkProxy proxy = QNetworkProxy(QNetworkProxy::DefaultProxy);
    //! With a plain endpoint (tls false) and an HttpProxy: no tunnel, the connection goes to
    //! the proxy and carries requests in absolute form (RFC 9112 §3.2.2), which is how the
    //! session sends http:// requests through an HTTP proxy. Ignored otherwise. Part of the
    //! pool key ("|absolute"); such an endpoint never offers HTTP/2.
    bool absoluteForm = false;
    //! Only used when tls is true.
    TlsOptions tlsOptions;
    //! Which HTTP versions a connection offers. HttpVersion::Http2 over TLS: ALPN offers "h2"
    //! before "http/1.1" (AsyncConnection::isHttp2() tells what the server chose); ignored for
    //! plain TCP. HttpVersion::Http2PriorKnowledge on plain TCP: the connection speaks HTTP/2
    //! from the first byte; over TLS it reads as Http2. Http1_1 (the default): ALPN offers only
    //! "http/1.1". Part of the pool key ("|h2", "|h2c"): connections of different policies are
    //! never shared.
    HttpVersion httpVersion = HttpVersion::Http1_1;

    //! http, https, ws and wss URLs, with their default ports when the URL has none.
    //! Any other scheme gives an endpoint with an empty host (isValid() is false).
    static Endpoint fromUrl(const QUrl &url);

    //! True when the endpoint has a host and a port.
    bool isValid() const { return !host.isEmpty() && port != 0; }
    //! The pool key: "https://host:443", then "|proxy=..." when a proxy is set, "|tls=..."
    //! when the TLS options are not the defaults, and "|h2" or "|h2c" when the endpoint offers
    //! HTTP/2 (httpVersion). Contains no credentials.
    QString key() const;
    //! "https://host:443" (IPv6 hosts in brackets), for messages and logs.
    QString toString() const;
    //! toString() plus " via <proxy type> proxy host:port" when a proxy is set.
    QString description() const;
    //! The endpoint as a URL (no path), for Reqivo::Error::url().
    QUrl toUrl() const;
    //! True when requests go to an HTTP proxy in absolute form (see absoluteForm).
    bool usesAbsoluteForm() const
    {
        return absoluteForm && !tls && proxy.type() == QNetworkProxy::HttpProxy;
    }
    //! True when connections to this endpoint offer HTTP/2: TLS with httpVersion Http2 or
    //! Http2PriorKnowledge (ALPN), or plain TCP with Http2PriorKnowledge.
    bool offersHttp2() const
    {
        if (usesAbsoluteForm())
            return false;
        return tls ? httpVersion != HttpVersion::Http1_1
                   : httpVersion == HttpVersion::Http2PriorKnowledge;
    }
};

//! Equal when every field is, proxy and TLS options included.
REQIVO_EXPORT bool operator==(const Endpoint &a, const Endpoint &b);
//! Not operator==().
inline bool operator!=(const Endpoint &a, const Endpoint &b)
{
    return !(a == b);
}

} // namespace Reqivo
