// HttpClient.cookieFile from QML: cookies loaded from a Netscape cookies.txt file are sent, the
// ones a server sets are saved back (session cookies left out), a missing file is an empty jar
// that the first cookie creates, a malformed file is reported and never overwritten, and a file:
// URL works as a path does.
#include "loopbackserver.h"

#include <QDateTime>
#include <QFile>
#include <QQmlComponent>
#include <QQmlEngine>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using QmlTest::httpResponse;
using QmlTest::LoopbackServer;
using QmlTest::SeenRequest;

namespace {

constexpr int waitMs = 15000;

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeFile(const QString &path, const QByteArray &data)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(data) == data.size();
}

// A server that sets "fresh" (for an hour) and "session" on every response.
LoopbackServer::Handler settingCookies()
{
    return [](QTcpSocket *s, const SeenRequest &) {
        s->write(httpResponse(
            200, "OK", "Set-Cookie: fresh=2; Max-Age=3600\r\nSet-Cookie: session=3\r\n", "ok"));
    };
}

} // namespace

class tst_QmlCookies : public QObject
{
    Q_OBJECT

private:
    QQmlEngine *m_engine = nullptr;
    std::unique_ptr<QTemporaryDir> m_dir;

    //! A QtObject with an HttpClient `client` on \a server whose cookieFile is \a cookieFile,
    //! which GETs "/" once made and sets `status` (or -1 on a rejection).
    std::unique_ptr<QObject> load(const QUrl &server, const QString &cookieFile)
    {
        const QByteArray qml = "import Reqivo\nQtObject {\n"
                               "    required property url server\n"
                               "    required property string file\n"
                               "    property int status: 0\n"
                               "    property HttpClient client: HttpClient {\n"
                               "        baseUrl: server; cookieFile: file }\n"
                               "    Component.onCompleted: client.get(\"/\").then(\n"
                               "        r => { status = r.status }, e => { status = -1 })\n"
                               "}\n";
        QQmlComponent component(m_engine);
        component.setData(
            qml, QUrl::fromLocalFile(QStringLiteral(REQIVO_QML_IMPORT_DIR "/cookies.qml")));
        if (!component.isReady()) {
            qWarning().noquote() << component.errorString();
            return nullptr;
        }
        std::unique_ptr<QObject> object(component.createWithInitialProperties(
            {{QStringLiteral("server"), server}, {QStringLiteral("file"), cookieFile}}));
        if (!object)
            qWarning().noquote() << component.errorString();
        return object;
    }

    QString path(const char *name) const { return m_dir->filePath(QString::fromUtf8(name)); }

private Q_SLOTS:
    void initTestCase()
    {
        m_engine = new QQmlEngine(this);
        m_engine->addImportPath(QStringLiteral(REQIVO_QML_IMPORT_DIR));
    }

    void init()
    {
        QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }

    void loadsSendsAndSaves_data()
    {
        QTest::addColumn<bool>("asUrl");
        QTest::newRow("path") << false;
        QTest::newRow("file: URL") << true;
    }
    void loadsSendsAndSaves()
    {
        QFETCH(bool, asUrl);
        const QString file = path("cookies.txt");
        const QByteArray nextYear
            = QByteArray::number(QDateTime::currentSecsSinceEpoch() + 365 * 24 * 3600);
        QVERIFY(writeFile(file,
            "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t" + nextYear
                + "\tstored\t1\n127.0.0.1\tFALSE\t/\tFALSE\t0\ttemp\t4\nother.test\tFALSE\t/"
                  "\tFALSE\t"
                + nextYear + "\telsewhere\t9\n"));
        LoopbackServer server(settingCookies());
        auto root = load(server.url(), asUrl ? QUrl::fromLocalFile(file).toString() : file);
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("status").toInt(), 200, waitMs);
        QCOMPARE(server.requests().first().field("Cookie"), QByteArray("stored=1; temp=4"));
        QObject *client = root->property("client").value<QObject *>();
        QVERIFY(client);
        QCOMPARE(client->property("cookieFileError").toString(), QString());

        // Saved a second after the change, or when the client goes, whichever comes first.
        root.reset();
        const QByteArray text = readFile(file);
        QVERIFY2(text.contains("\n127.0.0.1\tFALSE\t/\tFALSE\t"), text.constData());
        QVERIFY2(text.contains("\tfresh\t2\n"), text.constData());
        QVERIFY2(text.contains("\tstored\t1\n"), text.constData());
        QVERIFY2(text.contains("\telsewhere\t9\n"), text.constData());
        // Session cookies, the file's own and the server's, are not saved.
        QVERIFY2(!text.contains("\ttemp\t"), text.constData());
        QVERIFY2(!text.contains("\tsession\t"), text.constData());
    }

    void missingFileIsCreated()
    {
        const QString file = path("new.txt");
        LoopbackServer server(settingCookies());
        auto root = load(server.url(), file);
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("status").toInt(), 200, waitMs);
        QCOMPARE(server.requests().first().field("Cookie"), QByteArray());
        QObject *client = root->property("client").value<QObject *>();
        QCOMPARE(client->property("cookieFileError").toString(), QString());
        // The autosave's own timer writes it, with the client still there.
        QTRY_VERIFY_WITH_TIMEOUT(readFile(file).contains("\tfresh\t2\n"), waitMs);
    }

    void malformedFileIsReportedAndKept()
    {
        const QString file = path("bad.txt");
        const QByteArray bad = "127.0.0.1\tFALSE\t/\tFALSE\t0\tok\t1\nnot a cookie line\n";
        QVERIFY(writeFile(file, bad));
        LoopbackServer server(settingCookies());
        QTest::ignoreMessage(QtWarningMsg,
            QRegularExpression(QStringLiteral("cookieFile: .*bad\\.txt:2: expected 7")));
        auto root = load(server.url(), file);
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("status").toInt(), 200, waitMs);
        QCOMPARE(server.requests().first().field("Cookie"), QByteArray()); // nothing loaded
        QObject *client = root->property("client").value<QObject *>();
        QVERIFY(client->property("cookieFileError").toString().contains(u"bad.txt:2: "));
        root.reset();
        QCOMPARE(readFile(file), bad); // never overwritten
    }
};

QTEST_GUILESS_MAIN(tst_QmlCookies)
#include "tst_qml_cookies.moc"
