// The QML HttpClient decodes br, zstd and stacked codings like every other calling style: a QML
// document does `import Reqivo` from the build tree and fetches files that nginx serves with the
// Content-Encoding their path names (/encoded/<coding>/, written here at test time), and a
// corrupt body rejects the task with the error class and detail a QML user can check.
#include "support/codingbodies.h"
#include "support/gzipbomb.h"
#include "support/peers.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QQmlComponent>
#include <QQmlEngine>
#include <QRegularExpression>
#include <QTest>

#include <memory>

using namespace Qt::StringLiterals;

namespace {

constexpr int waitMs = 30000;

QByteArray sampleText()
{
    QByteArray text;
    for (int line = 0; text.size() < 100 * 1024; ++line)
        text += "line " + QByteArray::number(line) + ": decoded for QML, "
            + QByteArray::number(line * 7919 % 1000) + "\n";
    return text;
}

} // namespace

class tst_QmlCompression : public QObject
{
    Q_OBJECT

private:
    QQmlEngine *m_engine = nullptr;
    QHash<QString, QString> m_nginx;
    QStringList m_written;
    const QByteArray m_text = sampleText();

    QString fileName(const QString &name) const
    {
        return u"qml-%1-%2"_s.arg(QCoreApplication::applicationPid()).arg(name);
    }
    void serve(const QString &coding, const QString &name, const QByteArray &body)
    {
        const QString dir
            = ReqivoTest::peerValue(m_nginx, u"NGINX_DOCROOT"_s) + u"/encoded/"_s + coding;
        QVERIFY(QDir().mkpath(dir));
        QFile file(dir + u'/' + fileName(name));
        QVERIFY2(file.open(QIODevice::WriteOnly), qPrintable(file.errorString()));
        QCOMPARE(file.write(body), body.size());
        QVERIFY(file.setPermissions(file.permissions() | QFile::ReadOther));
        m_written.append(file.fileName());
    }
    //! A QtObject with an HttpClient `client` whose baseUrl is nginx, and \a body.
    std::unique_ptr<QObject> load(const QByteArray &body)
    {
        const QByteArray qml = "import Reqivo\nQtObject {\n"
                               "    required property url server\n"
                               "    property HttpClient client: HttpClient { baseUrl: server }\n"
            + body + "\n}\n";
        QQmlComponent component(m_engine);
        component.setData(
            qml, QUrl::fromLocalFile(QStringLiteral(REQIVO_QML_IMPORT_DIR "/test.qml")));
        if (!component.isReady()) {
            qWarning().noquote() << component.errorString();
            return nullptr;
        }
        const QUrl server(ReqivoTest::peerValue(m_nginx, u"NGINX_HTTP_URL"_s));
        std::unique_ptr<QObject> object(
            component.createWithInitialProperties({{QStringLiteral("server"), server}}));
        if (!object)
            qWarning().noquote() << component.errorString();
        return object;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_engine = new QQmlEngine(this);
        m_engine->addImportPath(QStringLiteral(REQIVO_QML_IMPORT_DIR));
        m_nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
        serve(u"br"_s, u"text"_s, ReqivoTest::brotli(m_text));
        serve(u"zstd"_s, u"text"_s, ReqivoTest::zstd(m_text));
        serve(u"gzip,br"_s, u"text"_s, ReqivoTest::brotli(ReqivoTest::repeatedGzip(m_text, 1)));
        serve(u"br"_s, u"corrupt"_s, QByteArray("this is not brotli data at all"));
    }
    void cleanupTestCase()
    {
        for (const QString &path : std::as_const(m_written))
            QFile::remove(path);
    }

    void init()
    {
        // A QML TypeError or an unexpected warning from the module fails the test.
        QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
    }

    void decoded_data()
    {
        QTest::addColumn<QString>("coding");
        QTest::newRow("br") << u"br"_s;
        QTest::newRow("zstd") << u"zstd"_s;
        QTest::newRow("gzip, br") << u"gzip,br"_s;
    }
    void decoded()
    {
        QFETCH(QString, coding);
        auto root = load(R"(
            property string path
            property int status: 0
            property string text
            property string encoding
            function start() {
                client.get(path).then(r => {
                    text = r.text; encoding = r.headers["content-encoding"]; status = r.status
                }, e => { status = -1 })
            }
        )");
        QVERIFY(root);
        root->setProperty("path", u"/encoded/%1/%2"_s.arg(coding, fileName(u"text"_s)));
        QMetaObject::invokeMethod(root.get(), "start");
        QTRY_VERIFY_WITH_TIMEOUT(root->property("status").toInt() != 0, waitMs);
        QCOMPARE(root->property("status").toInt(), 200);
        QCOMPARE(root->property("encoding").toString(), coding);
        QCOMPARE(root->property("text").toString().toUtf8(), m_text);
    }

    void corruptBodyRejects()
    {
        auto root = load(R"(
            property string path
            property string errorType
            property string detail
            function start() {
                client.get(path).then(r => { errorType = "resolved" },
                                      e => { errorType = e.type; detail = e.detail })
            }
        )");
        QVERIFY(root);
        root->setProperty("path", u"/encoded/br/%1"_s.arg(fileName(u"corrupt"_s)));
        QMetaObject::invokeMethod(root.get(), "start");
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("errorType").toString().isEmpty(), waitMs);
        QCOMPARE(root->property("errorType").toString(), u"InvalidResponseError"_s);
        QCOMPARE(root->property("detail").toString(), u"Content-Encoding"_s);
    }
};

QTEST_GUILESS_MAIN(tst_QmlCompression)
#include "tst_qml_compression.moc"
