// The reqivo command's issue 14 options that need real peers: --digest against httpbin's
// /digest-auth, --pinnedpubkey against nginx's certificate (right and wrong pins, with and
// without --insecure), https_proxy through a CONNECT proxy, and the TLS phase in the report's
// timings.
#include "clirunner.h"

#include "support/peers.h"
#include "unit/transport/testproxies.h"

#include <QCryptographicHash>
#include <QFile>
#include <QSslCertificate>
#include <QSslKey>
#include <QTest>

using namespace Qt::StringLiterals;
using Run = ReqivoTest::CliRun;

namespace {

// curl's spelling of a certificate's pin: "sha256//" + base64(SHA-256(SubjectPublicKeyInfo)).
QString pinOf(const QString &pemFile)
{
    QFile file(pemFile);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const QList<QSslCertificate> chain = QSslCertificate::fromData(file.readAll());
    if (chain.isEmpty())
        return {};
    const QByteArray spki = chain.first().publicKey().toDer();
    return u"sha256//"_s
        + QString::fromLatin1(
            QCryptographicHash::hash(spki, QCryptographicHash::Sha256).toBase64());
}

const QString wrongPin = u"sha256//"_s + QString::fromLatin1(QByteArray(32, 'x').toBase64());

} // namespace

class TestCliResiliencePeers : public QObject
{
    Q_OBJECT

private:
    QHash<QString, QString> m_nginx;
    QHash<QString, QString> m_httpbin;

    QString nginx(const char *key) const
    {
        return ReqivoTest::peerValue(m_nginx, QString::fromLatin1(key));
    }
    QString small() const { return nginx("NGINX_HTTPS_URL") + u"/small.txt"_s; }

    static Run reqivo(const QStringList &arguments, const QProcessEnvironment &extra = {})
    {
        return ReqivoTest::runReqivo(arguments, {}, 30000, extra);
    }

    static void addModes()
    {
        QTest::addColumn<QStringList>("mode");
        QTest::newRow("async") << QStringList();
        QTest::newRow("sync") << QStringList {u"--sync"_s};
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
        m_httpbin = ReqivoTest::loadPeerEnv(u"httpbin"_s);
        QVERIFY(!pinOf(nginx("NGINX_SERVER_CERT")).isEmpty());
    }

    // --- --digest -------------------------------------------------------------------------

    void digestAnswersTheChallenge_data()
    {
        QTest::addColumn<QStringList>("mode");
        QTest::addColumn<QString>("algorithm");
        for (const char *algorithm : {"MD5", "SHA-256"}) {
            QTest::addRow("async %s", algorithm) << QStringList() << QString::fromLatin1(algorithm);
            QTest::addRow("sync %s", algorithm)
                << QStringList {u"--sync"_s} << QString::fromLatin1(algorithm);
        }
    }

    void digestAnswersTheChallenge()
    {
        QFETCH(QStringList, mode);
        QFETCH(QString, algorithm);
        const QString target = ReqivoTest::peerValue(m_httpbin, u"HTTPBIN_URL"_s)
            + u"/digest-auth/auth/alice/s3cret/"_s + algorithm;
        const Run digest = reqivo(mode
            + QStringList {
                u"--digest"_s, u"-u"_s, u"alice:s3cret"_s, u"--report"_s, u"jsonl"_s, target});
        QCOMPARE(digest.exitCode, 0);
        QCOMPARE(digest.objects().value(0).value("status"_L1).toInt(), 200);

        // -u alone stays pre-emptive Basic, which a Digest endpoint refuses.
        const Run basic = reqivo(
            mode + QStringList {u"-u"_s, u"alice:s3cret"_s, u"--report"_s, u"jsonl"_s, target});
        QCOMPARE(basic.exitCode, 0);
        QCOMPARE(basic.objects().value(0).value("status"_L1).toInt(), 401);

        const Run wrong = reqivo(mode
            + QStringList {
                u"--digest"_s, u"-u"_s, u"alice:wrong"_s, u"--report"_s, u"jsonl"_s, target});
        QCOMPARE(wrong.exitCode, 0);
        QCOMPARE(wrong.objects().value(0).value("status"_L1).toInt(), 401);
    }

    // --- --pinnedpubkey -------------------------------------------------------------------

    void pinnedPublicKey_data()
    {
        QTest::addColumn<QStringList>("mode");
        QTest::addColumn<bool>("insecure");
        QTest::addColumn<bool>("right");
        for (const bool insecure : {false, true}) {
            for (const bool right : {true, false}) {
                const char *name = insecure ? (right ? "insecure right" : "insecure wrong")
                                            : (right ? "right" : "wrong");
                QTest::addRow("async %s", name) << QStringList() << insecure << right;
                QTest::addRow("sync %s", name) << QStringList {u"--sync"_s} << insecure << right;
            }
        }
    }

    void pinnedPublicKey()
    {
        QFETCH(QStringList, mode);
        QFETCH(bool, insecure);
        QFETCH(bool, right);
        const QString leafPin = pinOf(nginx("NGINX_SERVER_CERT"));
        // A backup pin first: any pin of the list may match.
        const QString pins = right ? wrongPin + u';' + leafPin : wrongPin;
        QStringList arguments = mode + QStringList {u"--pinnedpubkey"_s, pins};
        arguments += insecure ? QStringList {u"--insecure"_s}
                              : QStringList {u"--cacert"_s, nginx("NGINX_CA_FILE")};
        const Run run = reqivo(arguments + QStringList {u"--report"_s, u"jsonl"_s, small()});
        QVERIFY(run.finished);
        const QJsonObject o = run.objects().value(0);
        if (right) {
            QCOMPARE(run.exitCode, 0);
            QCOMPARE(o.value("status"_L1).toInt(), 200);
            return;
        }
        QCOMPARE(run.exitCode, 1);
        const QJsonObject error = o.value("error"_L1).toObject();
        QCOMPARE(error.value("type"_L1).toString(), u"TlsError"_s);
        // The presented chain's pins are listed, leaf first, so the right one can be copied.
        const Run plain = reqivo(arguments + QStringList {small()});
        QCOMPARE(plain.exitCode, 1);
        QVERIFY2(plain.err.contains(leafPin.toLatin1()), plain.err.constData());
        QVERIFY2(plain.out.isEmpty(), plain.out.constData());
    }

    // --- https_proxy: CONNECT ---------------------------------------------------------------

    void httpsProxyFromTheEnvironment_data() { addModes(); }
    void httpsProxyFromTheEnvironment()
    {
        QFETCH(QStringList, mode);
        ReqivoTest::HttpConnectProxy proxy;
        QVERIFY(proxy.listen());
        const QString proxyUrl = u"http://127.0.0.1:%1"_s.arg(proxy.port());
        QProcessEnvironment extra;
        extra.insert(u"https_proxy"_s, proxyUrl);
        const Run run
            = reqivo(mode + QStringList {u"--cacert"_s, nginx("NGINX_CA_FILE"), small()}, extra);
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.out, QByteArray("Hello from nginx\n"));
        QCOMPARE(proxy.targets, QStringList {u"127.0.0.1:"_s + nginx("NGINX_HTTPS_PORT")});

        // HTTPS_PROXY in upper case works as well (only HTTP_PROXY is ignored).
        proxy.targets.clear();
        QProcessEnvironment upper;
        upper.insert(u"HTTPS_PROXY"_s, proxyUrl);
        const Run viaUpper
            = reqivo(mode + QStringList {u"--cacert"_s, nginx("NGINX_CA_FILE"), small()}, upper);
        QCOMPARE(viaUpper.exitCode, 0);
        QCOMPARE(proxy.targets.size(), 1);

        // no_proxy exempts the host.
        proxy.targets.clear();
        extra.insert(u"no_proxy"_s, u"127.0.0.1"_s);
        const Run exempt
            = reqivo(mode + QStringList {u"--cacert"_s, nginx("NGINX_CA_FILE"), small()}, extra);
        QCOMPARE(exempt.exitCode, 0);
        QVERIFY(proxy.targets.isEmpty());
    }

    // The user:pass of --proxy answer the CONNECT proxy's 407, Basic or Digest; wrong ones
    // leave the request failed.
    void proxyCredentialsOverConnect_data()
    {
        QTest::addColumn<QStringList>("mode");
        QTest::addColumn<bool>("digest");
        QTest::addColumn<bool>("right");
        for (const bool digest : {false, true}) {
            for (const bool right : {true, false}) {
                const QByteArray name
                    = QByteArray(digest ? "digest" : "basic") + (right ? " right" : " wrong");
                QTest::addRow("async %s", name.constData()) << QStringList() << digest << right;
                QTest::addRow("sync %s", name.constData())
                    << QStringList {u"--sync"_s} << digest << right;
            }
        }
    }

    void proxyCredentialsOverConnect()
    {
        QFETCH(QStringList, mode);
        QFETCH(bool, digest);
        QFETCH(bool, right);
        ReqivoTest::HttpConnectProxy proxy;
        if (digest) {
            proxy.digestUser = "puser";
            proxy.digestPassword = "ppass";
        } else {
            proxy.requiredAuthorization = "Basic " + QByteArray("puser:ppass").toBase64();
        }
        QVERIFY(proxy.listen());
        const QString proxyUrl = u"http://puser:%1@127.0.0.1:%2"_s.arg(
            right ? u"ppass"_s : u"nope"_s, QString::number(proxy.port()));
        const Run run = reqivo(mode
            + QStringList {u"--proxy"_s, proxyUrl, u"--cacert"_s, nginx("NGINX_CA_FILE"),
                u"--report"_s, u"jsonl"_s, small()});
        QVERIFY(run.finished);
        const QJsonObject o = run.objects().value(0);
        QVERIFY2(proxy.challenges >= 1, run.out.constData());
        if (right) {
            QCOMPARE(run.exitCode, 0);
            QCOMPARE(o.value("status"_L1).toInt(), 200);
        } else {
            QCOMPARE(run.exitCode, 1);
            QCOMPARE(o.value("ok"_L1), QJsonValue(false));
        }
    }

    // --- timings over TLS -----------------------------------------------------------------

    void tlsTimingsAreOrdered_data() { addModes(); }
    void tlsTimingsAreOrdered()
    {
        QFETCH(QStringList, mode);
        const Run run = reqivo(mode
            + QStringList {u"--cacert"_s, nginx("NGINX_CA_FILE"), u"--report"_s, u"jsonl"_s,
                small(), small()});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.lines().size(), 2);
        const QJsonObject t = run.objects().at(0).value("timings"_L1).toObject();
        const double connect = t.value("connectMs"_L1).toDouble();
        const double tls = t.value("tlsMs"_L1).toDouble();
        const double ttfb = t.value("ttfbMs"_L1).toDouble();
        const double total = t.value("totalMs"_L1).toDouble();
        QVERIFY2(connect > 0, run.lines().at(0).constData());
        QVERIFY2(t.value("dnsMs"_L1).toDouble() <= connect, run.lines().at(0).constData());
        QVERIFY2(connect <= tls, run.lines().at(0).constData());
        QVERIFY2(tls <= ttfb, run.lines().at(0).constData());
        QVERIFY2(ttfb <= total, run.lines().at(0).constData());

        const QJsonObject reused = run.objects().at(1).value("timings"_L1).toObject();
        QCOMPARE(run.objects().at(1).value("connectionReused"_L1), QJsonValue(true));
        QCOMPARE(reused.value("connectMs"_L1).toDouble(), 0.0);
        QCOMPARE(reused.value("tlsMs"_L1).toDouble(), 0.0);
        QVERIFY2(reused.value("ttfbMs"_L1).toDouble() > 0, run.lines().at(1).constData());
    }
};

QTEST_GUILESS_MAIN(TestCliResiliencePeers)
#include "tst_cli_resilience_peers.moc"
