// The reqivo command against the nginx fixture: the options that need a real peer to mean
// anything (TLS trust, --insecure, client certificates, compression, a large download to disk),
// through the async session and through --sync.
#include "clirunner.h"

#include "support/peers.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using Run = ReqivoTest::CliRun;

class TestCliNginx : public QObject
{
    Q_OBJECT

private:
    QHash<QString, QString> m_nginx;
    QTemporaryDir m_dir;

    QString value(const char *key) const
    {
        return ReqivoTest::peerValue(m_nginx, QString::fromLatin1(key));
    }
    QString url(const char *baseKey, const char *path) const
    {
        return value(baseKey) + QString::fromLatin1(path);
    }
    // Every case runs through the async session, then again through the blocking one.
    static void addModes()
    {
        QTest::addColumn<QStringList>("mode");
        QTest::newRow("async") << QStringList();
        QTest::newRow("sync") << QStringList {u"--sync"_s};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
    }

    void httpsTrustsTheGivenCa_data() { addModes(); }
    void httpsTrustsTheGivenCa()
    {
        QFETCH(QStringList, mode);
        const Run run = ReqivoTest::runReqivo(mode
            + QStringList {
                u"--cacert"_s, value("NGINX_CA_FILE"), url("NGINX_HTTPS_URL", "/small.txt")});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.out, QByteArray("Hello from nginx\n"));
    }

    void httpsWithoutTheCaIsATlsError_data() { addModes(); }
    void httpsWithoutTheCaIsATlsError()
    {
        QFETCH(QStringList, mode);
        const Run run = ReqivoTest::runReqivo(
            mode + QStringList {u"--report"_s, u"jsonl"_s, url("NGINX_HTTPS_URL", "/small.txt")});
        QCOMPARE(run.exitCode, 1);
        QCOMPARE(run.objects().value(0).value("error"_L1).toObject().value("type"_L1).toString(),
            u"TlsError"_s);
    }

    void insecureSkipsVerification_data() { addModes(); }
    void insecureSkipsVerification()
    {
        QFETCH(QStringList, mode);
        const Run run = ReqivoTest::runReqivo(
            mode + QStringList {u"--insecure"_s, url("NGINX_HTTPS_URL", "/small.txt")});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.out, QByteArray("Hello from nginx\n"));
    }

    void clientCertificate_data() { addModes(); }
    void clientCertificate()
    {
        QFETCH(QStringList, mode);
        const Run run = ReqivoTest::runReqivo(mode
            + QStringList {u"--cacert"_s, value("NGINX_CA_FILE"), u"--cert"_s,
                value("NGINX_CLIENT_CERT"), u"--key"_s, value("NGINX_CLIENT_KEY"),
                url("NGINX_MTLS_URL", "/whoami")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.contains("CN=reqivo-client"), run.out.constData());

        // Without the certificate the server answers 400: a response, so exit status 0.
        const Run refused = ReqivoTest::runReqivo(mode
            + QStringList {u"--report"_s, u"jsonl"_s, u"--cacert"_s, value("NGINX_CA_FILE"),
                url("NGINX_MTLS_URL", "/whoami")});
        QCOMPARE(refused.exitCode, 0);
        QCOMPARE(refused.objects().value(0).value("status"_L1).toInt(), 400);
    }

    void compressedBodiesAreDecoded_data() { addModes(); }
    void compressedBodiesAreDecoded()
    {
        QFETCH(QStringList, mode);
        const QString target = url("NGINX_HTTP_URL", "/gzip/hello.json");
        const QByteArray json("{\"hello\":\"nginx\",\"n\":1}\n");

        const Run run
            = ReqivoTest::runReqivo(mode + QStringList {u"--report"_s, u"jsonl"_s, target});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = run.objects().value(0);
        QVERIFY(o.value("headers"_L1)
                    .toArray()
                    .contains(QJsonArray {u"Content-Encoding"_s, u"gzip"_s}));
        QCOMPARE(QByteArray::fromBase64(o.value("body"_L1).toString().toLatin1()), json);
        QCOMPARE(o.value("bodyLength"_L1).toInt(), json.size());

        const Run plain = ReqivoTest::runReqivo(
            mode + QStringList {u"--report"_s, u"jsonl"_s, u"--no-compressed"_s, target});
        QCOMPARE(plain.exitCode, 0);
        const QJsonObject p = plain.objects().value(0);
        QVERIFY(!QJsonDocument(p.value("headers"_L1).toArray()).toJson().contains("gzip"));
        QCOMPARE(QByteArray::fromBase64(p.value("body"_L1).toString().toLatin1()), json);
    }

    void largeDownloadToFile_data() { addModes(); }
    void largeDownloadToFile()
    {
        QFETCH(QStringList, mode);
        const QString path
            = m_dir.filePath(u"large-%1.bin"_s.arg(QString::fromLatin1(QTest::currentDataTag())));
        const Run run = ReqivoTest::runReqivo(
            mode + QStringList {u"-o"_s, path, url("NGINX_HTTP_URL", "/large.bin")}, {}, 120000);
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.err.isEmpty(), run.err.constData());
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.size(), value("NGINX_LARGE_SIZE").toLongLong());
        QCryptographicHash sha(QCryptographicHash::Sha256);
        QVERIFY(sha.addData(&file));
        QCOMPARE(QString::fromLatin1(sha.result().toHex()), value("NGINX_LARGE_SHA256"));
    }
};

QTEST_GUILESS_MAIN(TestCliNginx)
#include "tst_cli_nginx.moc"
