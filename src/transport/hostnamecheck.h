// Transport host-name verification per RFC 9525, applied on top of Qt's own check.
//
// Qt 6.4 (QTlsPrivate::isMatchingHostname) accepts a certificate whose subject common name
// matches even when the certificate lists subjectAltNames, compares an IP-literal host as a
// string against the CN and DNS-type entries, and accepts a wildcard at the end of a partial
// first label ("f*.example.com"). These functions are the stricter rule every TLS connection
// of Reqivo is held to once Qt's handshake has succeeded:
//
//  * only subjectAltName entries count (DNS-ID and IP-ID); the CN is never consulted, so a
//    certificate with no DNS or IP entry matches nothing;
//  * an IP-literal host (IPv4, or IPv6 with or without brackets) matches only an iPAddress
//    entry, compared as addresses (both 4 or both 16 octets, scope id ignored);
//  * a DNS host matches only a dNSName entry, case-insensitively, after IDNA (A-label) folding
//    of the host and with one trailing dot ignored on either side;
//  * a wildcard is only "*" as the whole left-most label and stands for exactly one non-empty
//    label ("*.example.com" matches "a.example.com", not "example.com" or "a.b.example.com");
//    "*.com" (one label after the wildcard) and any other use of "*" match nothing.
//
// AsyncConnection applies certificateMatchesHostName() when a handshake completes and
// verification is on; the WebSocket layer can apply the same function to its socket.
#pragma once

#include <QHostAddress>
#include <QList>
#include <QString>
#include <QStringList>

class QSslCertificate;

namespace Reqivo::Transport {

//! RFC 9525 match of \a host (as in a URL: a DNS name, an IPv4 literal or an IPv6 literal with
//! or without brackets) against a certificate's subjectAltName \a dnsNames and \a ipAddresses.
//! On mismatch, \a why (when given) receives a one-line reason naming the entries.
bool hostNameMatches(const QString &host, const QStringList &dnsNames,
    const QList<QHostAddress> &ipAddresses, QString *why = nullptr);

//! hostNameMatches() against the dNSName and iPAddress subjectAltName entries of \a certificate.
//! A null certificate matches nothing.
bool certificateMatchesHostName(
    const QSslCertificate &certificate, const QString &host, QString *why = nullptr);

} // namespace Reqivo::Transport
