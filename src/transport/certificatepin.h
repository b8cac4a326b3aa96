// Certificate pinning (docs/resilience.md): SPKI SHA-256 pins, host patterns, curl's
// "sha256//BASE64[;sha256//BASE64...]" spelling, and the check AsyncConnection runs once a TLS
// handshake has completed, before any request byte is sent.
//
//  * A pin is the SHA-256 of a certificate's SubjectPublicKeyInfo DER, the same value as
//    `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256`.
//    The SPKI is taken from the certificate's DER by a strict ASN.1 walk, so every key type
//    (RSA, EC, Ed25519, ...) has a pin, whether or not QSslKey understands it.
//  * Host patterns: "example.com" (that host), "*.example.com" (exactly one label below it),
//    "**.example.com" (any depth below it, and example.com itself); case-insensitive, one
//    trailing dot ignored; an IP literal matches only the same address.
//  * A connection is accepted when any certificate of the chain matches a pin (OkHttp's rule).
//    The chain is the one the server presented and, when verification is on, the trusted CA
//    that issued its last certificate (servers rarely send their root, and verification has
//    proved the chain ends there). With verification off only the presented chain counts.
#pragma once

#include <QByteArray>
#include <QList>
#include <QSslCertificate>
#include <QString>

namespace Reqivo {
struct TlsOptions;
}

namespace Reqivo::Transport {

//! The SubjectPublicKeyInfo DER of the certificate whose DER is \a certificateDer; empty when
//! the DER is not a well-formed X.509 certificate.
QByteArray subjectPublicKeyInfo(const QByteArray &certificateDer);

//! The pin of \a certificate: SHA-256 of its SubjectPublicKeyInfo (32 bytes); empty for a null
//! or malformed certificate.
QByteArray spkiSha256(const QSslCertificate &certificate);

//! \a sha256 as curl and the error details spell it: "sha256//BASE64".
QString pinToString(const QByteArray &sha256);

//! Parses curl's --pinnedpubkey spelling, "sha256//BASE64[;sha256//BASE64...]", into 32-byte
//! digests. False with a reason in \a error (when given) for an empty list, an entry without
//! the "sha256//" prefix, invalid base64 or a digest that is not 32 bytes.
bool parsePins(const QString &spec, QList<QByteArray> *pins, QString *error = nullptr);

//! True when \a pattern is a usable host pattern (see the file comment); otherwise false with a
//! reason in \a error.
bool isValidHostPattern(const QString &pattern, QString *error = nullptr);

//! True when \a host (as in a URL; IPv6 with or without brackets) matches \a pattern.
bool hostMatchesPattern(const QString &host, const QString &pattern);

//! The pin check of a handshake: true when some certificate of \a presented (leaf first) or,
//! when \a trusted is given, the CA among \a trusted that issued the last presented
//! certificate, has one of \a pins. On mismatch \a detail (when given) receives the presented
//! chain's pins, leaf first, as "sha256//B64 (subject), ...".
bool chainMatchesPins(const QList<QSslCertificate> &presented,
    const QList<QSslCertificate> &trusted, const QList<QByteArray> &pins,
    QString *detail = nullptr);

//! The check AsyncConnection runs after a handshake: true when \a options pin nothing for
//! \a host, or when chainMatchesPins() accepts \a presented (with the trusted CAs of
//! \a options, system store included, as anchors only when verifyPeer is on).
bool checkPins(const QList<QSslCertificate> &presented, const TlsOptions &options,
    const QString &host, QString *detail = nullptr);

} // namespace Reqivo::Transport
