// RFC 9525 host-name matching; see hostnamecheck.h for the rules.
#include "hostnamecheck.h"

#include <QMultiMap>
#include <QSslCertificate>
#include <QUrl>

namespace Reqivo::Transport {

namespace {

constexpr qsizetype listedEntries = 8; // how many entries a mismatch message names

QString withoutTrailingDot(QString name)
{
    if (name.endsWith(QLatin1Char('.')))
        name.chop(1);
    return name;
}

// The host as compared: lower-case A-labels, no trailing dot; empty when it is not a usable
// DNS name.
QString referenceName(const QString &host)
{
    const QString name = withoutTrailingDot(host);
    if (name.isEmpty() || name.startsWith(QLatin1Char('.')) || name.endsWith(QLatin1Char('.'))
        || name.contains(QLatin1Char('*')))
        return {};
    const QByteArray ace = QUrl::toAce(name);
    if (ace.isEmpty())
        return {};
    return QString::fromLatin1(ace).toLower();
}

bool isPrintableAscii(QStringView text)
{
    for (const QChar c : text) {
        if (c.unicode() <= 0x20 || c.unicode() >= 0x7f)
            return false;
    }
    return true;
}

bool dnsNameMatches(const QString &presentedEntry, const QString &reference)
{
    // A dNSName is an IA5String; anything else is no name we could match.
    const QString presented = withoutTrailingDot(presentedEntry).toLower();
    if (presented.isEmpty() || !isPrintableAscii(presented))
        return false;
    if (!presented.contains(QLatin1Char('*')))
        return presented == reference;
    // "*" only as the whole left-most label, followed by at least two labels of its own.
    if (!presented.startsWith(QLatin1String("*.")))
        return false;
    const QStringView rest = QStringView(presented).mid(2);
    if (rest.contains(QLatin1Char('*')) || rest.startsWith(QLatin1Char('.'))
        || !rest.contains(QLatin1Char('.')))
        return false;
    const qsizetype dot = reference.indexOf(QLatin1Char('.'));
    if (dot <= 0)
        return false; // the wildcard stands for exactly one non-empty label
    return QStringView(reference).mid(dot + 1) == rest;
}

QHostAddress withoutScope(QHostAddress address)
{
    address.setScopeId(QString());
    return address;
}

QString listed(const QStringList &entries)
{
    if (entries.isEmpty())
        return QStringLiteral("none");
    QString text
        = entries.first(std::min(entries.size(), listedEntries)).join(QStringLiteral(", "));
    if (entries.size() > listedEntries)
        text += QStringLiteral(", ... (%1 in all)").arg(entries.size());
    return text;
}

QString listed(const QList<QHostAddress> &addresses)
{
    QStringList entries;
    for (const QHostAddress &address : addresses)
        entries << address.toString();
    return listed(entries);
}

} // namespace

bool hostNameMatches(const QString &host, const QStringList &dnsNames,
    const QList<QHostAddress> &ipAddresses, QString *why)
{
    const auto fail = [why](const QString &reason) {
        if (why)
            *why = reason;
        return false;
    };
    if (dnsNames.isEmpty() && ipAddresses.isEmpty()) {
        return fail(QStringLiteral(
            "the certificate has no DNS or IP subjectAltName; its subject common name is not "
            "consulted (RFC 9525)"));
    }

    QString literal = host;
    if (literal.startsWith(QLatin1Char('[')) && literal.endsWith(QLatin1Char(']')))
        literal = literal.mid(1, literal.size() - 2);
    QHostAddress address;
    if (address.setAddress(literal)) {
        const QHostAddress wanted = withoutScope(address);
        for (const QHostAddress &presented : ipAddresses) {
            if (withoutScope(presented).isEqual(wanted, QHostAddress::StrictConversion))
                return true;
        }
        return fail(QStringLiteral("the IP address %1 is not among the certificate's IP "
                                   "subjectAltNames (IP: %2); DNS names and the common name "
                                   "never match an address (DNS: %3)")
                        .arg(wanted.toString(), listed(ipAddresses), listed(dnsNames)));
    }

    const QString reference = referenceName(host);
    if (reference.isEmpty())
        return fail(QStringLiteral("\"%1\" is not a host name a certificate can match").arg(host));
    for (const QString &presented : dnsNames) {
        if (dnsNameMatches(presented, reference))
            return true;
    }
    return fail(QStringLiteral("the host name %1 matches none of the certificate's DNS "
                               "subjectAltNames (DNS: %2)")
                    .arg(reference, listed(dnsNames)));
}

bool certificateMatchesHostName(
    const QSslCertificate &certificate, const QString &host, QString *why)
{
    if (certificate.isNull()) {
        if (why)
            *why = QStringLiteral("the server presented no certificate");
        return false;
    }
    const QMultiMap<QSsl::AlternativeNameEntryType, QString> names
        = certificate.subjectAlternativeNames();
    const QStringList dnsNames = names.values(QSsl::DnsEntry);
    QList<QHostAddress> ipAddresses;
    for (const QString &text : names.values(QSsl::IpAddressEntry)) {
        QHostAddress address;
        if (address.setAddress(text))
            ipAddresses << address;
    }
    return hostNameMatches(host, dnsNames, ipAddresses, why);
}

} // namespace Reqivo::Transport
