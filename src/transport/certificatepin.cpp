// Certificate pinning: SPKI extraction, pins, host patterns and the chain check. See
// certificatepin.h.
#include "certificatepin.h"

#include <Reqivo/endpoint.h>

#include <QCryptographicHash>
#include <QHostAddress>
#include <QSslConfiguration>
#include <QStringList>

namespace Reqivo {

namespace Transport {

namespace {

// One DER element: tag, where its contents start and where it ends, within its parent.
struct Tlv
{
    quint8 tag = 0;
    qsizetype start = 0;
    qsizetype content = 0;
    qsizetype end = 0;
};

// Reads the element at \a pos, which must end by \a limit. Strict DER: a low tag number,
// definite minimal lengths.
bool readTlv(const QByteArray &der, qsizetype pos, qsizetype limit, Tlv *tlv)
{
    const auto byte = [&der](qsizetype i) { return quint8(der.at(i)); };
    if (pos < 0 || limit > der.size() || pos + 2 > limit)
        return false;
    tlv->start = pos;
    tlv->tag = byte(pos);
    if ((tlv->tag & 0x1f) == 0x1f)
        return false; // high tag numbers never occur in the fields walked here
    const quint8 first = byte(pos + 1);
    pos += 2;
    qsizetype length = first;
    if (first & 0x80) {
        const int count = first & 0x7f;
        if (count == 0 || count > 4 || pos + count > limit || byte(pos) == 0)
            return false; // indefinite, too long, truncated or not minimal
        length = 0;
        for (int i = 0; i < count; ++i)
            length = (length << 8) | byte(pos + i);
        if (length < 0x80)
            return false; // the short form was required
        pos += count;
    }
    if (length > limit - pos)
        return false;
    tlv->content = pos;
    tlv->end = pos + length;
    return true;
}

// The issuer and subject Name and the SubjectPublicKeyInfo of a certificate, as DER:
//   Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
//   TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber INTEGER,
//       signature SEQUENCE, issuer SEQUENCE, validity SEQUENCE, subject SEQUENCE,
//       subjectPublicKeyInfo SEQUENCE, ... }
struct CertificateFields
{
    QByteArray issuer;
    QByteArray subject;
    QByteArray spki;
};

bool parseCertificate(const QByteArray &der, CertificateFields *fields)
{
    constexpr quint8 sequence = 0x30;
    constexpr quint8 integer = 0x02;
    constexpr quint8 explicitVersion = 0xa0;
    Tlv certificate;
    Tlv tbs;
    if (!readTlv(der, 0, der.size(), &certificate) || certificate.tag != sequence
        || certificate.end != der.size())
        return false;
    if (!readTlv(der, certificate.content, certificate.end, &tbs) || tbs.tag != sequence)
        return false;
    Tlv field;
    qsizetype pos = tbs.content;
    const auto next = [&](quint8 tag) {
        if (!readTlv(der, pos, tbs.end, &field) || field.tag != tag)
            return false;
        pos = field.end;
        return true;
    };
    const auto bytes = [&der](const Tlv &tlv) { return der.mid(tlv.start, tlv.end - tlv.start); };
    if (readTlv(der, pos, tbs.end, &field) && field.tag == explicitVersion)
        pos = field.end;
    if (!next(integer) || !next(sequence)) // serialNumber, signature
        return false;
    if (!next(sequence))
        return false;
    fields->issuer = bytes(field);
    if (!next(sequence)) // validity
        return false;
    if (!next(sequence))
        return false;
    fields->subject = bytes(field);
    if (!next(sequence))
        return false;
    fields->spki = bytes(field);
    return true;
}

QByteArray sha256(const QByteArray &data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256);
}

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

// Lower case, one trailing dot and IPv6 brackets removed.
QString normalizedHost(QString host)
{
    host = host.trimmed().toLower();
    if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
        host = host.mid(1, host.size() - 2);
    if (host.endsWith(QLatin1Char('.')))
        host.chop(1);
    return host;
}

bool isIpLiteral(const QString &host, QHostAddress *address = nullptr)
{
    QHostAddress parsed;
    if (!parsed.setAddress(host))
        return false;
    if (address)
        *address = parsed;
    return true;
}

// The system store is read once per process, and only by a check that needs it.
const QList<QSslCertificate> &systemCaCertificates()
{
    static const QList<QSslCertificate> certificates = QSslConfiguration::systemCaCertificates();
    return certificates;
}

} // namespace

QByteArray subjectPublicKeyInfo(const QByteArray &certificateDer)
{
    CertificateFields fields;
    return parseCertificate(certificateDer, &fields) ? fields.spki : QByteArray();
}

QByteArray spkiSha256(const QSslCertificate &certificate)
{
    if (certificate.isNull())
        return {};
    const QByteArray spki = subjectPublicKeyInfo(certificate.toDer());
    return spki.isEmpty() ? QByteArray() : sha256(spki);
}

QString pinToString(const QByteArray &sha256)
{
    return QStringLiteral("sha256//") + QString::fromLatin1(sha256.toBase64());
}

bool parsePins(const QString &spec, QList<QByteArray> *pins, QString *error)
{
    const QLatin1String prefix("sha256//");
    QList<QByteArray> parsed;
    const QStringList entries = spec.split(QLatin1Char(';'));
    for (qsizetype i = 0; i < entries.size(); ++i) {
        const QString entry = entries.at(i).trimmed();
        const QString which = entries.size() > 1
            ? QStringLiteral("pin %1 of %2 (\"%3\")").arg(i + 1).arg(entries.size()).arg(entry)
            : QStringLiteral("pin \"%1\"").arg(entry);
        if (entry.isEmpty())
            return fail(error,
                spec.trimmed().isEmpty()
                    ? QStringLiteral("no pin given: expected sha256//BASE64[;sha256//BASE64...]")
                    : QStringLiteral("empty pin %1 of %2 in \"%3\"")
                          .arg(i + 1)
                          .arg(entries.size())
                          .arg(spec));
        if (!entry.startsWith(prefix, Qt::CaseSensitive))
            return fail(error, which + QStringLiteral(": expected sha256//BASE64"));
        const QByteArray base64 = entry.mid(prefix.size()).toLatin1();
        const auto decoded
            = QByteArray::fromBase64Encoding(base64, QByteArray::AbortOnBase64DecodingErrors);
        if (!decoded || base64.isEmpty())
            return fail(error, which + QStringLiteral(": not valid base64"));
        if (decoded.decoded.size() != 32)
            return fail(error,
                which
                    + QStringLiteral(": a SHA-256 digest has 32 bytes, this one %1")
                          .arg(decoded.decoded.size()));
        parsed << decoded.decoded;
    }
    *pins = parsed;
    return true;
}

bool isValidHostPattern(const QString &pattern, QString *error)
{
    QString host = normalizedHost(pattern);
    if (host.isEmpty())
        return fail(error, QStringLiteral("empty host pattern"));
    if (pattern == QLatin1String("*"))
        return true; // every host, as curl's --pinnedpubkey ("*." is not)
    if (isIpLiteral(host))
        return true;
    if (host.startsWith(QLatin1String("**.")))
        host = host.mid(3);
    else if (host.startsWith(QLatin1String("*.")))
        host = host.mid(2);
    if (host.isEmpty() || host.contains(QLatin1Char('*')))
        return fail(error,
            QStringLiteral("host pattern \"%1\": \"*\" and \"**\" only as the whole first label, "
                           "followed by a domain (\"*.example.com\", \"**.example.com\")")
                .arg(pattern));
    if (host.startsWith(QLatin1Char('.')) || host.contains(QLatin1String("..")))
        return fail(error, QStringLiteral("host pattern \"%1\": empty label").arg(pattern));
    return true;
}

bool hostMatchesPattern(const QString &host, const QString &pattern)
{
    const QString h = normalizedHost(host);
    const QString p = normalizedHost(pattern);
    if (h.isEmpty() || p.isEmpty())
        return false;
    if (pattern == QLatin1String("*"))
        return true;
    QHostAddress hostAddress;
    QHostAddress patternAddress;
    const bool hostIsIp = isIpLiteral(h, &hostAddress);
    if (isIpLiteral(p, &patternAddress))
        return hostIsIp && hostAddress.isEqual(patternAddress, QHostAddress::StrictConversion);
    if (hostIsIp)
        return false; // a name pattern never matches an address
    if (p.startsWith(QLatin1String("**."))) {
        const QStringView domain = QStringView(p).mid(3);
        return h == domain
            || (h.size() > domain.size() + 1 && h.endsWith(domain)
                && h.at(h.size() - domain.size() - 1) == QLatin1Char('.'));
    }
    if (p.startsWith(QLatin1String("*."))) {
        const QStringView domain = QStringView(p).mid(1); // ".example.com"
        if (!h.endsWith(domain) || h.size() == domain.size())
            return false;
        return !QStringView(h).first(h.size() - domain.size()).contains(QLatin1Char('.'));
    }
    return h == p;
}

bool chainMatchesPins(const QList<QSslCertificate> &presented,
    const QList<QSslCertificate> &trusted, const QList<QByteArray> &pins, QString *detail)
{
    QStringList described;
    QByteArray lastIssuer;
    QByteArray lastSubject;
    for (const QSslCertificate &certificate : presented) {
        CertificateFields fields;
        if (!parseCertificate(certificate.toDer(), &fields)) {
            described << QStringLiteral("(unreadable certificate)");
            continue;
        }
        const QByteArray pin = sha256(fields.spki);
        if (pins.contains(pin))
            return true;
        const QStringList names = certificate.subjectInfo(QSslCertificate::CommonName);
        described << pinToString(pin)
                + (names.isEmpty() ? QString() : QStringLiteral(" (CN=%1)").arg(names.first()));
        lastIssuer = fields.issuer;
        lastSubject = fields.subject;
    }
    // The trust anchor verification found: the trusted CA whose subject is the last presented
    // certificate's issuer (unless that certificate is self-issued, so itself the anchor).
    if (!lastIssuer.isEmpty() && lastIssuer != lastSubject) {
        for (const QSslCertificate &certificate : trusted) {
            CertificateFields fields;
            if (parseCertificate(certificate.toDer(), &fields) && fields.subject == lastIssuer
                && pins.contains(sha256(fields.spki)))
                return true;
        }
    }
    if (detail) {
        *detail = QStringLiteral("no certificate of the chain matches a pinned key; the "
                                 "presented chain's pins, leaf first: ")
            + (described.isEmpty() ? QStringLiteral("(no certificate)")
                                   : described.join(QStringLiteral(", ")));
    }
    return false;
}

bool checkPins(const QList<QSslCertificate> &presented, const TlsOptions &options,
    const QString &host, QString *detail)
{
    const QList<QByteArray> pins = options.pinsFor(host);
    if (pins.isEmpty())
        return true;
    if (chainMatchesPins(presented, {}, pins, detail))
        return true;
    if (!options.verifyPeer)
        return false;
    // Only a verified chain ends at a trusted CA; its anchor is looked for only now.
    QList<QSslCertificate> trusted;
    if (options.useSystemCaCertificates)
        trusted = systemCaCertificates();
    trusted += options.caCertificates;
    return chainMatchesPins(presented, trusted, pins, detail);
}

} // namespace Transport

bool TlsOptions::addPins(const QString &hostPattern, const QString &spec, QString *error)
{
    if (!Transport::isValidHostPattern(hostPattern, error))
        return false;
    CertificatePin pin;
    if (!Transport::parsePins(spec, &pin.sha256, error))
        return false;
    pin.hostPattern = hostPattern;
    pins << pin;
    return true;
}

QList<QByteArray> TlsOptions::pinsFor(const QString &host) const
{
    QList<QByteArray> matching;
    for (const CertificatePin &pin : pins) {
        if (!Transport::hostMatchesPattern(host, pin.hostPattern))
            continue;
        for (const QByteArray &digest : pin.sha256) {
            if (!matching.contains(digest))
                matching << digest;
        }
    }
    return matching;
}

} // namespace Reqivo
