#include <Reqivo/Endpoint>

void useEndpoint()
{
    Reqivo::Endpoint e = Reqivo::Endpoint::fromUrl(QUrl());
    e.tlsOptions.caCertificates.append(QSslCertificate());
    Q_UNUSED(e.proxy.type());
    Q_UNUSED(e.key().size());
}
