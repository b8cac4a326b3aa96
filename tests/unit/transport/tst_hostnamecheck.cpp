// Transport::hostNameMatches(): RFC 9525 host-name matching as data, no certificates needed.
// The integration side (real certificates and handshakes) is in tst_asyncconnection_tls.
#include "transport/hostnamecheck.h"

#include <QSslCertificate>
#include <QTest>

using Reqivo::Transport::certificateMatchesHostName;
using Reqivo::Transport::hostNameMatches;
using namespace Qt::Literals::StringLiterals;

class TestHostNameCheck : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void matches_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<QStringList>("dns");
        QTest::addColumn<QStringList>("ips");
        QTest::addColumn<bool>("expected");

        const QStringList none;
        // DNS names
        QTest::newRow("exact") << u"example.com"_s << QStringList {u"example.com"_s} << none
                               << true;
        QTest::newRow("second entry")
            << u"www.example.com"_s << QStringList {u"example.com"_s, u"www.example.com"_s} << none
            << true;
        QTest::newRow("case-insensitive host")
            << u"WWW.Example.COM"_s << QStringList {u"www.example.com"_s} << none << true;
        QTest::newRow("case-insensitive entry")
            << u"www.example.com"_s << QStringList {u"WWW.EXAMPLE.COM"_s} << none << true;
        QTest::newRow("trailing dot on host")
            << u"example.com."_s << QStringList {u"example.com"_s} << none << true;
        QTest::newRow("trailing dot on entry")
            << u"example.com"_s << QStringList {u"example.com."_s} << none << true;
        QTest::newRow("other name")
            << u"example.com"_s << QStringList {u"example.org"_s} << none << false;
        QTest::newRow("suffix is not a match")
            << u"notexample.com"_s << QStringList {u"example.com"_s} << none << false;
        QTest::newRow("parent is not a match")
            << u"a.example.com"_s << QStringList {u"example.com"_s} << none << false;
        QTest::newRow("empty entry") << u"example.com"_s << QStringList {u""_s} << none << false;
        QTest::newRow("IDN host in A-labels")
            << QString::fromUtf8("b\xc3\xbc"
                                 "cher.example")
            << QStringList {u"xn--bcher-kva.example"_s} << none << true;

        // Wildcards
        const QStringList wild {u"*.example.com"_s};
        QTest::newRow("wildcard one label") << u"a.example.com"_s << wild << none << true;
        QTest::newRow("wildcard upper-case host") << u"A.EXAMPLE.com"_s << wild << none << true;
        QTest::newRow("wildcard does not match the bare domain")
            << u"example.com"_s << wild << none << false;
        QTest::newRow("wildcard does not match two labels")
            << u"a.b.example.com"_s << wild << none << false;
        QTest::newRow("wildcard needs a non-empty label")
            << u".example.com"_s << wild << none << false;
        QTest::newRow("partial label wildcard f*")
            << u"foo.example.com"_s << QStringList {u"f*.example.com"_s} << none << false;
        QTest::newRow("partial label wildcard *o")
            << u"foo.example.com"_s << QStringList {u"*o.example.com"_s} << none << false;
        QTest::newRow("wildcard not left-most")
            << u"a.b.example.com"_s << QStringList {u"a.*.example.com"_s} << none << false;
        QTest::newRow("wildcard over a public suffix")
            << u"example.com"_s << QStringList {u"*.com"_s} << none << false;
        QTest::newRow("lone wildcard") << u"localhost"_s << QStringList {u"*"_s} << none << false;
        QTest::newRow("two wildcards")
            << u"a.b.example.com"_s << QStringList {u"*.*.example.com"_s} << none << false;
        QTest::newRow("wildcard host never matches literally")
            << u"*.example.com"_s << wild << none << false;

        // IP literals
        QTest::newRow("IPv4 in IP SAN") << u"127.0.0.1"_s << QStringList {u"localhost"_s}
                                        << QStringList {u"127.0.0.1"_s} << true;
        QTest::newRow("IPv4 only as a DNS SAN") << u"127.0.0.1"_s << QStringList {u"127.0.0.1"_s}
                                                << QStringList {u"10.0.0.1"_s} << false;
        QTest::newRow("IPv4 only as a DNS SAN, no IP SAN")
            << u"127.0.0.1"_s << QStringList {u"127.0.0.1"_s} << none << false;
        QTest::newRow("IPv4 other address")
            << u"127.0.0.2"_s << none << QStringList {u"127.0.0.1"_s} << false;
        QTest::newRow("IPv6 in IP SAN") << u"::1"_s << none << QStringList {u"::1"_s} << true;
        QTest::newRow("IPv6 bracketed") << u"[::1]"_s << none << QStringList {u"::1"_s} << true;
        QTest::newRow("IPv6 written differently")
            << u"2001:db8:0:0:0:0:0:1"_s << none << QStringList {u"2001:db8::1"_s} << true;
        QTest::newRow("IPv6 upper-case")
            << u"2001:DB8::1"_s << none << QStringList {u"2001:db8::1"_s} << true;
        QTest::newRow("IPv6 scope id ignored")
            << u"fe80::1%1"_s << none << QStringList {u"fe80::1"_s} << true;
        QTest::newRow("IPv4-mapped IPv6 is not the IPv4 address")
            << u"::ffff:127.0.0.1"_s << none << QStringList {u"127.0.0.1"_s} << false;
        QTest::newRow("IPv4 is not its IPv4-mapped IPv6 form")
            << u"127.0.0.1"_s << none << QStringList {u"::ffff:127.0.0.1"_s} << false;
        QTest::newRow("DNS host never matches an IP SAN")
            << u"localhost"_s << none << QStringList {u"127.0.0.1"_s} << false;

        // No SAN at all: nothing matches (the CN is never consulted).
        QTest::newRow("no SAN") << u"localhost"_s << none << none << false;
        QTest::newRow("no SAN, IP host") << u"127.0.0.1"_s << none << none << false;
    }

    void matches()
    {
        QFETCH(QString, host);
        QFETCH(QStringList, dns);
        QFETCH(QStringList, ips);
        QFETCH(bool, expected);
        QList<QHostAddress> addresses;
        for (const QString &ip : std::as_const(ips)) {
            QHostAddress address;
            QVERIFY2(address.setAddress(ip), qPrintable(ip));
            addresses << address;
        }
        QString why;
        QCOMPARE(hostNameMatches(host, dns, addresses, &why), expected);
        QCOMPARE(why.isEmpty(), expected); // a mismatch always says why
        // The reason is optional.
        QCOMPARE(hostNameMatches(host, dns, addresses), expected);
    }

    void reasons()
    {
        QString why;
        QVERIFY(!hostNameMatches(QStringLiteral("localhost"), {}, {}, &why));
        QVERIFY2(why.contains(QLatin1String("no DNS or IP subjectAltName"))
                && why.contains(QLatin1String("common name is not consulted")),
            qPrintable(why));
        QVERIFY(!hostNameMatches(QStringLiteral("127.0.0.1"), {QStringLiteral("127.0.0.1")},
            {QHostAddress(QStringLiteral("::1"))}, &why));
        QCOMPARE(why,
            QStringLiteral("the IP address 127.0.0.1 is not among the certificate's IP "
                           "subjectAltNames (IP: ::1); DNS names and the common name never "
                           "match an address (DNS: 127.0.0.1)"));
        QVERIFY(!hostNameMatches(QStringLiteral("a.example.com"),
            {QStringLiteral("example.com"), QStringLiteral("f*.example.com")}, {}, &why));
        QCOMPARE(why,
            QStringLiteral("the host name a.example.com matches none of the certificate's DNS "
                           "subjectAltNames (DNS: example.com, f*.example.com)"));
        QStringList many;
        for (int i = 0; i < 20; ++i)
            many << QStringLiteral("h%1.example").arg(i);
        QVERIFY(!hostNameMatches(QStringLiteral("x.example"), many, {}, &why));
        QVERIFY2(why.endsWith(QLatin1String("h7.example, ... (20 in all))")), qPrintable(why));
    }

    void nullCertificateMatchesNothing()
    {
        QString why;
        QVERIFY(!certificateMatchesHostName(QSslCertificate(), QStringLiteral("localhost"), &why));
        QCOMPARE(why, QStringLiteral("the server presented no certificate"));
    }
};

QTEST_GUILESS_MAIN(TestHostNameCheck)
#include "tst_hostnamecheck.moc"
