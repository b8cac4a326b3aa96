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

    // curl's --http1.1, --http2 (the default: ALPN) and --http2-prior-knowledge; the last one
    // given wins. httpVersion in the report says which was used; -v prints "< HTTP/2 200".
    void httpVersionOptions_data()
    {
        QTest::addColumn<QStringList>("mode");
        QTest::addColumn<QStringList>("options");
        QTest::addColumn<QString>("baseKey");
        QTest::addColumn<QString>("expected");
        for (const QStringList &mode : {QStringList(), QStringList {u"--sync"_s}}) {
            const QString m = mode.isEmpty() ? u"async"_s : u"sync"_s;
            QTest::addRow("%s, default, h2 listener", qPrintable(m))
                << mode << QStringList() << u"NGINX_H2_URL"_s << u"2"_s;
            QTest::addRow("%s, --http2", qPrintable(m))
                << mode << QStringList {u"--http2"_s} << u"NGINX_H2_URL"_s << u"2"_s;
            QTest::addRow("%s, --http1.1", qPrintable(m))
                << mode << QStringList {u"--http1.1"_s} << u"NGINX_H2_URL"_s << u"1.1"_s;
            QTest::addRow("%s, --http1.1 then --http2", qPrintable(m))
                << mode << QStringList {u"--http1.1"_s, u"--http2"_s} << u"NGINX_H2_URL"_s
                << u"2"_s;
            QTest::addRow("%s, default, HTTP/1.1-only listener", qPrintable(m))
                << mode << QStringList() << u"NGINX_HTTPS_URL"_s << u"1.1"_s;
            QTest::addRow("%s, --http2 over cleartext stays 1.1", qPrintable(m))
                << mode << QStringList {u"--http2"_s} << u"NGINX_HTTP_URL"_s << u"1.1"_s;
        }
    }
    void httpVersionOptions()
    {
        QFETCH(QStringList, mode);
        QFETCH(QStringList, options);
        QFETCH(QString, baseKey);
        QFETCH(QString, expected);
        const Run run = ReqivoTest::runReqivo(mode + options
            + QStringList {u"--report"_s, u"jsonl"_s, u"--cacert"_s, value("NGINX_CA_FILE"),
                value(baseKey.toLatin1().constData()) + u"/small.txt"_s});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject o = run.objects().value(0);
        QCOMPARE(o.value("httpVersion"_L1).toString(), expected);
        QCOMPARE(QByteArray::fromBase64(o.value("body"_L1).toString().toLatin1()),
            QByteArray("Hello from nginx\n"));
    }

    void priorKnowledge_data() { addModes(); }
    void priorKnowledge()
    {
        QFETCH(QStringList, mode);
        const QHash<QString, QString> nghttpd = ReqivoTest::loadPeerEnv(u"nghttpd"_s);
        const QString target = ReqivoTest::peerValue(nghttpd, u"NGHTTPD_URL"_s)
            + ReqivoTest::peerValue(nghttpd, u"NGHTTPD_SMALL_PATH"_s);
        const Run run = ReqivoTest::runReqivo(mode
            + QStringList {u"--http2-prior-knowledge"_s, u"--report"_s, u"jsonl"_s, target});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.objects().value(0).value("httpVersion"_L1).toString(), u"2"_s);
        // Verbose output names the version as curl does.
        const Run verbose = ReqivoTest::runReqivo(
            mode + QStringList {u"--http2-prior-knowledge"_s, u"-v"_s, target});
        QCOMPARE(verbose.exitCode, 0);
        QVERIFY2(verbose.err.contains("< HTTP/2 200"), verbose.err.constData());
        QCOMPARE(verbose.out, QByteArray("Hello from nghttpd\n"));
        // Without it, the same server cannot be spoken to over HTTP/1.1.
        const Run h1 = ReqivoTest::runReqivo(
            mode + QStringList {u"--http1.1"_s, u"--report"_s, u"jsonl"_s, target});
        QCOMPARE(h1.exitCode, 1);
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
