// Certificate pinning's pure parts (certificatepin.h): curl's pin spelling, host patterns, the
// SPKI digest against openssl's (make-certs.sh writes NAME.pin with the openssl CLI), the chain
// rule, and TlsOptions::addPins()/pinsFor() with the pool key. The handshakes are in
// tests/integration/session/tst_session_pinning.
#include "testpeers.h"
#include "transport/certificatepin.h"

#include <Reqivo/endpoint.h>

#include <QCryptographicHash>
#include <QTest>

using namespace Qt::Literals::StringLiterals;
using namespace Reqivo::Transport;
using ReqivoTest::certificate;

namespace {

QString opensslPin(const char *name)
{
    const QByteArray fileName = QByteArray(name) + ".pin";
    return QString::fromLatin1(ReqivoTest::readCertFile(fileName.constData()).trimmed());
}

QByteArray digestOf(const char *name)
{
    QList<QByteArray> pins;
    if (!parsePins(opensslPin(name), &pins) || pins.size() != 1)
        qFatal("unreadable pin file for %s", name);
    return pins.first();
}

} // namespace

class TestCertificatePin : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parsesCurlSpelling_data()
    {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<int>("count"); // -1: rejected
        QTest::addColumn<QString>("errorPart");
        const QString a = u"sha256//"_s + QString::fromLatin1(QByteArray(32, 'a').toBase64());
        const QString b = u"sha256//"_s + QString::fromLatin1(QByteArray(32, 'b').toBase64());
        QTest::newRow("one") << a << 1 << QString();
        QTest::newRow("two") << a + u';' + b << 2 << QString();
        QTest::newRow("spaces around entries") << u" "_s + a + u" ; "_s + b << 2 << QString();
        QTest::newRow("empty") << QString() << -1 << u"no pin given"_s;
        QTest::newRow("blank") << u"  "_s << -1 << u"no pin given"_s;
        QTest::newRow("trailing separator") << a + u';' << -1 << u"empty pin 2 of 2"_s;
        QTest::newRow("no prefix") << QString::fromLatin1(QByteArray(32, 'a').toBase64()) << -1
                                   << u"expected sha256//BASE64"_s;
        QTest::newRow("sha1 prefix")
            << u"sha1//"_s + QString::fromLatin1(QByteArray(20, 'a').toBase64()) << -1
            << u"expected sha256//BASE64"_s;
        QTest::newRow("upper-case prefix") << a.toUpper() << -1 << u"expected sha256//"_s;
        QTest::newRow("not base64") << u"sha256//!!!!"_s << -1 << u"not valid base64"_s;
        QTest::newRow("nothing after prefix") << u"sha256//"_s << -1 << u"not valid base64"_s;
        QTest::newRow("16 bytes") << u"sha256//"_s
                + QString::fromLatin1(QByteArray(16, 'a').toBase64())
                                  << -1 << u"32 bytes, this one 16"_s;
        QTest::newRow("second bad") << a + u";sha256//xyz"_s << -1 << u"pin 2 of 2"_s;
    }
    void parsesCurlSpelling()
    {
        QFETCH(QString, spec);
        QFETCH(int, count);
        QFETCH(QString, errorPart);
        QList<QByteArray> pins {QByteArray("untouched")};
        QString error;
        const bool ok = parsePins(spec, &pins, &error);
        QCOMPARE(ok, count >= 0);
        if (ok) {
            QCOMPARE(pins.size(), count);
            for (const QByteArray &pin : pins)
                QCOMPARE(pin.size(), 32);
            QVERIFY(error.isEmpty());
        } else {
            QVERIFY2(error.contains(errorPart), qPrintable(error));
            QCOMPARE(pins, QList<QByteArray> {QByteArray("untouched")});
        }
    }

    void hostPatterns_data()
    {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QString>("host");
        QTest::addColumn<bool>("matches");
        QTest::newRow("exact") << u"example.com"_s << u"example.com"_s << true;
        QTest::newRow("exact, case") << u"Example.COM"_s << u"EXAMPLE.com"_s << true;
        QTest::newRow("exact, trailing dot") << u"example.com"_s << u"example.com."_s << true;
        QTest::newRow("exact, not a subdomain") << u"example.com"_s << u"a.example.com"_s << false;
        QTest::newRow("exact, not a suffix") << u"example.com"_s << u"myexample.com"_s << false;
        QTest::newRow("* one label") << u"*.example.com"_s << u"a.example.com"_s << true;
        QTest::newRow("* case") << u"*.example.com"_s << u"A.Example.Com"_s << true;
        QTest::newRow("* not two") << u"*.example.com"_s << u"a.b.example.com"_s << false;
        QTest::newRow("* not itself") << u"*.example.com"_s << u"example.com"_s << false;
        QTest::newRow("* not a suffix") << u"*.example.com"_s << u"aexample.com"_s << false;
        QTest::newRow("** one label") << u"**.example.com"_s << u"a.example.com"_s << true;
        QTest::newRow("** two labels") << u"**.example.com"_s << u"a.b.example.com"_s << true;
        QTest::newRow("** itself") << u"**.example.com"_s << u"example.com"_s << true;
        QTest::newRow("** not a suffix") << u"**.example.com"_s << u"myexample.com"_s << false;
        QTest::newRow("** other domain") << u"**.example.com"_s << u"example.org"_s << false;
        QTest::newRow("every host: name") << u"*"_s << u"a.b.example.com"_s << true;
        QTest::newRow("every host: address") << u"*"_s << u"127.0.0.1"_s << true;
        QTest::newRow("every host: IPv6") << u"*"_s << u"::1"_s << true;
        QTest::newRow("IPv4") << u"127.0.0.1"_s << u"127.0.0.1"_s << true;
        QTest::newRow("IPv4 other") << u"127.0.0.1"_s << u"127.0.0.2"_s << false;
        QTest::newRow("IPv6 spellings") << u"::1"_s << u"[0:0:0:0:0:0:0:1]"_s << true;
        QTest::newRow("IPv6 bracketed pattern") << u"[::1]"_s << u"::1"_s << true;
        QTest::newRow("name pattern, IP host") << u"**.0.0.1"_s << u"127.0.0.1"_s << false;
        QTest::newRow("IP pattern, name host") << u"127.0.0.1"_s << u"localhost"_s << false;
        QTest::newRow("localhost") << u"localhost"_s << u"localhost"_s << true;
    }
    void hostPatterns()
    {
        QFETCH(QString, pattern);
        QFETCH(QString, host);
        QFETCH(bool, matches);
        QVERIFY(isValidHostPattern(pattern));
        QCOMPARE(hostMatchesPattern(host, pattern), matches);
    }

    void invalidHostPatterns_data()
    {
        QTest::addColumn<QString>("pattern");
        QTest::newRow("empty") << QString();
        QTest::newRow("star dot") << u"*."_s;
        QTest::newRow("partial wildcard") << u"f*.example.com"_s;
        QTest::newRow("inner wildcard") << u"a.*.example.com"_s;
        QTest::newRow("triple star") << u"***.example.com"_s;
        QTest::newRow("empty label") << u"a..example.com"_s;
        QTest::newRow("leading dot") << u".example.com"_s;
    }
    void invalidHostPatterns()
    {
        QFETCH(QString, pattern);
        QString error;
        QVERIFY(!isValidHostPattern(pattern, &error));
        QVERIFY(!error.isEmpty());
        Reqivo::TlsOptions options;
        QVERIFY(!options.addPins(pattern, opensslPin("server"), &error));
        QVERIFY(options.pins.isEmpty());
    }

    // The digest is openssl's for every key type (the SPKI comes from an ASN.1 walk, not
    // from QSslKey, which knows no Ed25519).
    void spkiDigestIsOpenssls_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("EC P-256 leaf") << u"server"_s;
        QTest::newRow("EC P-256 CA") << u"ca"_s;
        QTest::newRow("RSA 2048 leaf") << u"rsa-server"_s;
        QTest::newRow("Ed25519 leaf") << u"ed25519-server"_s;
        QTest::newRow("unrelated CA") << u"other-ca"_s;
    }
    void spkiDigestIsOpenssls()
    {
        QFETCH(QString, name);
        const QByteArray file = name.toLatin1() + ".pem";
        const QSslCertificate cert = certificate(file.constData());
        QVERIFY(!cert.isNull());
        QCOMPARE(pinToString(spkiSha256(cert)), opensslPin(name.toLatin1().constData()));
    }

    void malformedCertificatesHaveNoPin()
    {
        const QByteArray der = certificate("server.pem").toDer();
        QVERIFY(!subjectPublicKeyInfo(der).isEmpty());
        QVERIFY(subjectPublicKeyInfo({}).isEmpty());
        QVERIFY(subjectPublicKeyInfo(der.left(der.size() - 1)).isEmpty()); // truncated
        QVERIFY(subjectPublicKeyInfo(der + '\0').isEmpty()); // trailing byte
        QVERIFY(subjectPublicKeyInfo(der.left(40)).isEmpty());
        QByteArray indefinite = der;
        indefinite[1] = char(0x80);
        QVERIFY(subjectPublicKeyInfo(indefinite).isEmpty());
        QVERIFY(subjectPublicKeyInfo(QByteArray(300, '\x30')).isEmpty());
        QVERIFY(spkiSha256(QSslCertificate()).isEmpty());
    }

    void chainRule()
    {
        const QSslCertificate server = certificate("server.pem");
        const QSslCertificate ca = certificate("ca.pem");
        const QSslCertificate otherCa = certificate("other-ca.pem");
        const QByteArray serverPin = digestOf("server");
        const QByteArray caPin = digestOf("ca");
        const QByteArray otherPin = digestOf("other-ca");
        QString detail;
        // The leaf's pin, alone or beside a backup pin.
        QVERIFY(chainMatchesPins({server}, {}, {serverPin}, &detail));
        QVERIFY(chainMatchesPins({server}, {}, {otherPin, serverPin}, &detail));
        // An issuer presented in the chain.
        QVERIFY(chainMatchesPins({server, ca}, {}, {caPin}, &detail));
        // The trusted CA that issued the last presented certificate.
        QVERIFY(chainMatchesPins({server}, {otherCa, ca}, {caPin}, &detail));
        // ... but not a trusted CA that did not.
        QVERIFY(!chainMatchesPins({server}, {ca, otherCa}, {otherPin}, &detail));
        // No anchor given (verification off): only the presented chain counts.
        QVERIFY(!chainMatchesPins({server}, {}, {caPin}, &detail));
        QVERIFY2(detail.contains(opensslPin("server")), qPrintable(detail));
        QVERIFY2(!detail.contains(opensslPin("ca")), qPrintable(detail));
        // The detail lists the presented chain's pins, leaf first.
        QVERIFY(!chainMatchesPins({server, ca}, {}, {otherPin}, &detail));
        const qsizetype leafAt = detail.indexOf(opensslPin("server"));
        const qsizetype caAt = detail.indexOf(opensslPin("ca"));
        QVERIFY2(leafAt >= 0 && caAt > leafAt, qPrintable(detail));
        QVERIFY(!chainMatchesPins({}, {ca}, {caPin}, &detail));
    }

    void addPinsAndPinsFor()
    {
        Reqivo::TlsOptions options;
        QString error;
        const QString both = opensslPin("server") + u';' + opensslPin("ca");
        QVERIFY2(options.addPins(u"**.example.com"_s, both, &error), qPrintable(error));
        QVERIFY2(options.addPins(u"api.example.com"_s, opensslPin("other-ca"), &error),
            qPrintable(error));
        QVERIFY2(
            options.addPins(u"*.example.com"_s, opensslPin("server"), &error), qPrintable(error));
        QCOMPARE(options.pins.size(), 3);
        QCOMPARE(options.pins.first().hostPattern, u"**.example.com"_s);
        QCOMPARE(options.pinsFor(u"example.com"_s),
            (QList<QByteArray> {digestOf("server"), digestOf("ca")}));
        // Every matching pattern's pins, each once.
        QCOMPARE(options.pinsFor(u"API.example.com"_s),
            (QList<QByteArray> {digestOf("server"), digestOf("ca"), digestOf("other-ca")}));
        QVERIFY(options.pinsFor(u"example.org"_s).isEmpty());
        // A malformed spec changes nothing.
        QVERIFY(!options.addPins(u"example.org"_s, u"sha256//no!pe"_s, &error));
        QVERIFY(error.contains(u"base64"_s));
        QCOMPARE(options.pins.size(), 3);
    }

    void pinsArePartOfTheOptions()
    {
        Reqivo::TlsOptions plain;
        Reqivo::TlsOptions pinned;
        QVERIFY(pinned.addPins(u"localhost"_s, opensslPin("server")));
        QVERIFY(plain.isDefault());
        QVERIFY(!pinned.isDefault());
        QVERIFY(plain != pinned);
        QVERIFY(plain.poolKey() != pinned.poolKey());
        Reqivo::TlsOptions samePins;
        QVERIFY(samePins.addPins(u"localhost"_s, opensslPin("server")));
        QVERIFY(samePins == pinned);
        QCOMPARE(samePins.poolKey(), pinned.poolKey());
        Reqivo::TlsOptions otherPins;
        QVERIFY(otherPins.addPins(u"localhost"_s, opensslPin("ca")));
        QVERIFY(otherPins != pinned);
        QVERIFY(otherPins.poolKey() != pinned.poolKey());
        Reqivo::TlsOptions otherHost;
        QVERIFY(otherHost.addPins(u"example.com"_s, opensslPin("server")));
        QVERIFY(otherHost.poolKey() != pinned.poolKey());

        Reqivo::Endpoint a = Reqivo::Endpoint::fromUrl(QUrl(u"https://localhost/"_s));
        Reqivo::Endpoint b = a;
        b.tlsOptions = pinned;
        QVERIFY(a.key() != b.key());
        QVERIFY(a != b);
        // The key never shows a pin, only a digest of the options.
        QVERIFY(!b.key().contains(opensslPin("server").mid(8)));
    }
};

QTEST_GUILESS_MAIN(TestCertificatePin)
#include "tst_certificatepin.moc"
