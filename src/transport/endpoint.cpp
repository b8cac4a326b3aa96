// Endpoint and TlsOptions: parsing, pool keys and the QSslConfiguration for a connection.
#include <Reqivo/endpoint.h>

#include <QCryptographicHash>
#include <QFile>
#include <QHostAddress>

namespace Reqivo {

namespace {

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

bool readFile(const QString &path, QByteArray *data, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(error, QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
    *data = file.readAll();
    return true;
}

// Loading the system store reads a few hundred files, so it is done once per process, and
// only when custom CAs must be combined with it.
const QList<QSslCertificate> &systemCaCertificates()
{
    static const QList<QSslCertificate> certificates = QSslConfiguration::systemCaCertificates();
    return certificates;
}

QString hostForUrl(const QString &host)
{
    // IPv6 literals are bracketed in URLs and in "host:port" strings.
    return host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
}

QString proxyTypeName(QNetworkProxy::ProxyType type)
{
    switch (type) {
    case QNetworkProxy::HttpProxy:
    case QNetworkProxy::HttpCachingProxy:
        return QStringLiteral("http");
    case QNetworkProxy::Socks5Proxy:
        return QStringLiteral("socks5");
    case QNetworkProxy::FtpCachingProxy:
        return QStringLiteral("ftp");
    case QNetworkProxy::NoProxy:
        return QStringLiteral("none");
    case QNetworkProxy::DefaultProxy:
        break;
    }
    return QStringLiteral("default");
}

} // namespace

bool TlsOptions::addCaCertificatesFromFile(const QString &path, QString *error)
{
    QByteArray pem;
    if (!readFile(path, &pem, error))
        return false;
    const QList<QSslCertificate> certificates = QSslCertificate::fromData(pem, QSsl::Pem);
    if (certificates.isEmpty())
        return fail(error, QStringLiteral("no PEM certificate in %1").arg(path));
    caCertificates += certificates;
    return true;
}

bool TlsOptions::setClientCertificateFromFiles(
    const QString &certPath, const QString &keyPath, QString *error)
{
    QByteArray certPem;
    QByteArray keyPem;
    if (!readFile(certPath, &certPem, error) || !readFile(keyPath, &keyPem, error))
        return false;
    const QList<QSslCertificate> certificates = QSslCertificate::fromData(certPem, QSsl::Pem);
    if (certificates.isEmpty())
        return fail(error, QStringLiteral("no PEM certificate in %1").arg(certPath));
    // QSslKey needs the algorithm up front; a PKCS#8 or traditional PEM key parses only with
    // the right one, so try each.
    QSslKey key;
    for (QSsl::KeyAlgorithm algorithm : {QSsl::Rsa, QSsl::Ec, QSsl::Dsa}) {
        key = QSslKey(keyPem, algorithm, QSsl::Pem, QSsl::PrivateKey);
        if (!key.isNull())
            break;
    }
    if (key.isNull())
        return fail(
            error, QStringLiteral("no usable unencrypted PEM private key in %1").arg(keyPath));
    clientCertificate = certificates.first();
    privateKey = key;
    return true;
}

bool TlsOptions::isDefault() const
{
    return verifyPeer && useSystemCaCertificates && caCertificates.isEmpty()
        && clientCertificate.isNull() && privateKey.isNull() && pins.isEmpty();
}

QSslConfiguration TlsOptions::toSslConfiguration() const
{
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    if (!caCertificates.isEmpty() || !useSystemCaCertificates) {
        // Setting the CA list explicitly switches off Qt's on-demand loading of the system
        // store, so when both are wanted the system certificates are listed too.
        QList<QSslCertificate> trusted;
        if (useSystemCaCertificates)
            trusted = systemCaCertificates();
        trusted += caCertificates;
        config.setCaCertificates(trusted);
    }
    config.setPeerVerifyMode(verifyPeer ? QSslSocket::VerifyPeer : QSslSocket::VerifyNone);
    if (!clientCertificate.isNull()) {
        config.setLocalCertificate(clientCertificate);
        config.setPrivateKey(privateKey);
    }
    config.setAllowedNextProtocols({QByteArray(QSslConfiguration::NextProtocolHttp1_1)});
    return config;
}

QByteArray TlsOptions::poolKey() const
{
    if (isDefault())
        return QByteArrayLiteral("default");
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(verifyPeer ? QByteArrayView("v1") : QByteArrayView("v0"));
    hash.addData(useSystemCaCertificates ? QByteArrayView("s1") : QByteArrayView("s0"));
    for (const QSslCertificate &certificate : caCertificates) {
        hash.addData(QByteArrayView("ca"));
        hash.addData(certificate.toDer());
    }
    if (!clientCertificate.isNull()) {
        hash.addData(QByteArrayView("cert"));
        hash.addData(clientCertificate.toDer());
    }
    if (!privateKey.isNull()) {
        // The key only enters the digest; the key string never shows key material.
        hash.addData(QByteArrayView("key"));
        hash.addData(privateKey.toDer());
    }
    for (const CertificatePin &pin : pins) {
        // A pinned connection must not be shared with an unpinned (or differently pinned) one.
        hash.addData(QByteArrayView("pin"));
        hash.addData(pin.hostPattern.toLower().toUtf8());
        for (const QByteArray &digest : pin.sha256) {
            hash.addData(QByteArrayView("="));
            hash.addData(digest);
        }
    }
    return hash.result().toHex().left(32);
}

bool operator==(const TlsOptions &a, const TlsOptions &b)
{
    return a.verifyPeer == b.verifyPeer && a.useSystemCaCertificates == b.useSystemCaCertificates
        && a.caCertificates == b.caCertificates && a.clientCertificate == b.clientCertificate
        && a.privateKey == b.privateKey && a.pins == b.pins;
}

Endpoint Endpoint::fromUrl(const QUrl &url)
{
    Endpoint endpoint;
    const QString scheme = url.scheme().toLower();
    int defaultPort = 0;
    if (scheme == QLatin1String("http") || scheme == QLatin1String("ws")) {
        defaultPort = 80;
    } else if (scheme == QLatin1String("https") || scheme == QLatin1String("wss")) {
        defaultPort = 443;
        endpoint.tls = true;
    } else {
        return endpoint;
    }
    endpoint.host = url.host();
    endpoint.port = quint16(url.port(defaultPort));
    return endpoint;
}

QString Endpoint::toString() const
{
    return (tls ? QStringLiteral("https://") : QStringLiteral("http://")) + hostForUrl(host)
        + QLatin1Char(':') + QString::number(port);
}

QString Endpoint::description() const
{
    QString text = toString();
    if (proxy.type() != QNetworkProxy::DefaultProxy && proxy.type() != QNetworkProxy::NoProxy) {
        text += QStringLiteral(" via %1 proxy %2:%3")
                    .arg(proxyTypeName(proxy.type()), hostForUrl(proxy.hostName()))
                    .arg(proxy.port());
    }
    return text;
}

QString Endpoint::key() const
{
    QString key = toString();
    if (proxy.type() != QNetworkProxy::DefaultProxy) {
        key += QStringLiteral("|proxy=") + proxyTypeName(proxy.type());
        if (proxy.type() != QNetworkProxy::NoProxy) {
            key += QLatin1Char(':') + hostForUrl(proxy.hostName()) + QLatin1Char(':')
                + QString::number(proxy.port());
            if (!proxy.user().isEmpty() || !proxy.password().isEmpty()) {
                // Different credentials must not share a tunnel, but the key is printed in
                // logs: only a digest of them goes in.
                QCryptographicHash hash(QCryptographicHash::Sha256);
                hash.addData(proxy.user().toUtf8());
                hash.addData(QByteArrayView("\0", 1));
                hash.addData(proxy.password().toUtf8());
                key += QLatin1Char('#') + QString::fromLatin1(hash.result().toHex().left(16));
            }
        }
    }
    if (usesAbsoluteForm())
        key += QStringLiteral("|absolute");
    if (tls && !tlsOptions.isDefault())
        key += QStringLiteral("|tls=") + QString::fromLatin1(tlsOptions.poolKey());
    if (offersHttp2())
        key += tls ? QStringLiteral("|h2") : QStringLiteral("|h2c");
    return key;
}

QUrl Endpoint::toUrl() const
{
    QUrl url;
    url.setScheme(tls ? QStringLiteral("https") : QStringLiteral("http"));
    url.setHost(host);
    url.setPort(port);
    return url;
}

bool operator==(const Endpoint &a, const Endpoint &b)
{
    return a.tls == b.tls && a.port == b.port && a.host == b.host && a.proxy == b.proxy
        && (!a.tls || a.tlsOptions == b.tlsOptions) && a.offersHttp2() == b.offersHttp2()
        && a.usesAbsoluteForm() == b.usesAbsoluteForm();
}

QString httpVersionName(HttpVersion version)
{
    switch (version) {
    case HttpVersion::Http1_1:
        return QStringLiteral("1.1");
    case HttpVersion::Http2:
        return QStringLiteral("2");
    case HttpVersion::Http2PriorKnowledge:
        return QStringLiteral("2-prior-knowledge");
    }
    return QStringLiteral("1.1");
}

} // namespace Reqivo
