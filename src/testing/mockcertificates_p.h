// Certificates made at run time for MockServer::useTls(): a CA and a leaf for localhost,
// 127.0.0.1 and ::1 that it issued, both with P-256 keys, made in memory with libcrypto.
#pragma once

#include <QSslCertificate>
#include <QSslKey>

namespace Reqivo::Testing::detail {

struct MockCertificates
{
    QSslCertificate ca; //!< the issuer: what clients trust
    QSslCertificate leaf; //!< the server's certificate (SANs localhost, 127.0.0.1, ::1)
    QSslKey leafKey; //!< the leaf's private key
};

//! Makes a new CA and leaf, valid from an hour ago for three days. Null members on failure.
MockCertificates makeMockCertificates();

} // namespace Reqivo::Testing::detail
