// FormData from QML: a declared FormData and one made by HttpClient.formData(), sent as the body
// of post() and put() to an in-process loopback server, which checks the multipart/form-data
// bytes (text fields without a Content-Type, files read from file: URLs with the type and file
// name given or guessed); upload progress ends at the body's length; a file that cannot be read
// makes appendFile() return false and the request fail before anything is sent.
#include "loopbackserver.h"

#include <QFile>
#include <QQmlComponent>
#include <QQmlEngine>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using QmlTest::httpResponse;
using QmlTest::LoopbackServer;
using QmlTest::SeenRequest;

namespace {

// Long enough for sanitizer builds on a busy machine.
constexpr int waitMs = 15000;

QByteArray boundaryOf(const QByteArray &contentType)
{
    const QByteArray prefix = "multipart/form-data; boundary=";
    return contentType.startsWith(prefix) ? contentType.mid(prefix.size()) : QByteArray();
}

} // namespace

class tst_QmlFormData : public QObject
{
    Q_OBJECT

private:
    QQmlEngine *m_engine = nullptr;
    QTemporaryDir m_dir;

    //! A QtObject with `server` and `file` (a file: URL), an HttpClient `client`, and \a body.
    std::unique_ptr<QObject> load(const QByteArray &body, const QUrl &server, const QUrl &file)
    {
        const QByteArray qml = "import Reqivo\nQtObject {\n"
                               "    required property url server\n"
                               "    required property url file\n"
                               "    property HttpClient client: HttpClient { baseUrl: server }\n"
            + body + "\n}\n";
        QQmlComponent component(m_engine);
        component.setData(
            qml, QUrl::fromLocalFile(QStringLiteral(REQIVO_QML_IMPORT_DIR "/test.qml")));
        if (!component.isReady()) {
            qWarning().noquote() << component.errorString();
            return nullptr;
        }
        std::unique_ptr<QObject> object(component.createWithInitialProperties(
            {{QStringLiteral("server"), server}, {QStringLiteral("file"), file}}));
        if (!object)
            qWarning().noquote() << component.errorString();
        return object;
    }

    QUrl writeFile(const QString &name, const QByteArray &bytes)
    {
        QFile f(m_dir.filePath(name));
        if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
            qFatal("cannot write %s", qPrintable(f.fileName()));
        return QUrl::fromLocalFile(f.fileName());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_engine = new QQmlEngine(this);
        m_engine->addImportPath(QStringLiteral(REQIVO_QML_IMPORT_DIR));
    }

    // A declared FormData: fields and a file with its type and name given, with progress.
    void declaredFormData()
    {
        LoopbackServer server([](QTcpSocket *s, const SeenRequest &) {
            s->write(httpResponse(200, "OK", {}, "done"));
        });
        const QByteArray content(200 * 1024, 'z');
        const QUrl file = writeFile(QStringLiteral("photo.jpg"), content);
        auto root = load(R"(
            property int status: 0
            property bool added: false
            property double lastSent: -1
            property double lastTotal: -2
            property bool backwards: false
            property double size: form.size
            property FormData form: FormData { }
            Component.onCompleted: {
                form.append("title", "Gr\u00fc\u00dfe")
                form.append("count", 3)
                added = form.appendFile("photo", file, {type: "image/x-test", filename: "a\u0022b.jpg"})
                const task = client.post("/upload", form)
                task.uploadProgress.connect((sent, total) => {
                    if (sent < lastSent)
                        backwards = true
                    lastSent = sent
                    lastTotal = total
                })
                task.then(r => status = r.status, e => status = -1)
            }
        )",
            server.url(), file);
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("status").toInt(), 200, waitMs);
        QVERIFY(root->property("added").toBool());
        QCOMPARE(server.requests().size(), 1);
        const SeenRequest &r = server.requests().at(0);
        QCOMPARE(r.method, "POST");
        const QByteArray b = boundaryOf(r.field("Content-Type"));
        QVERIFY2(!b.isEmpty(), r.field("Content-Type").constData());
        const QByteArray expected = "--" + b
            + "\r\n"
              "Content-Disposition: form-data; name=\"title\"\r\n\r\n"
              "Gr\xc3\xbc\xc3\x9f"
              "e\r\n"
              "--"
            + b
            + "\r\n"
              "Content-Disposition: form-data; name=\"count\"\r\n\r\n"
              "3\r\n"
              "--"
            + b
            + "\r\n"
              "Content-Disposition: form-data; name=\"photo\"; filename=\"a%22b.jpg\"\r\n"
              "Content-Type: image/x-test\r\n\r\n"
            + content + "\r\n--" + b + "--\r\n";
        QCOMPARE(r.body, expected);
        QCOMPARE(r.field("Content-Length"), QByteArray::number(expected.size()));
        QCOMPARE(root->property("size").toDouble(), double(expected.size()));
        QCOMPARE(root->property("lastSent").toDouble(), double(expected.size()));
        QCOMPARE(root->property("lastTotal").toDouble(), double(expected.size()));
        QVERIFY(!root->property("backwards").toBool());
    }

    // client.formData() from JavaScript, sent with put(); the type comes from QMimeDatabase.
    void formDataFromClient()
    {
        LoopbackServer server([](QTcpSocket *s, const SeenRequest &) {
            s->write(httpResponse(201, "Created", {}, {}));
        });
        const QUrl file = writeFile(QStringLiteral("notes.txt"), "some notes\n");
        auto root = load(R"(
            property int status: 0
            property int count: 0
            Component.onCompleted: {
                const form = client.formData()
                form.append("k", "v")
                form.appendFile("notes", file)
                count = form.count
                client.put("/put", form).then(r => status = r.status, e => status = -1)
            }
        )",
            server.url(), file);
        QVERIFY(root);
        QTRY_COMPARE_WITH_TIMEOUT(root->property("status").toInt(), 201, waitMs);
        QCOMPARE(root->property("count").toInt(), 2);
        const SeenRequest &r = server.requests().at(0);
        QCOMPARE(r.method, "PUT");
        QVERIFY(r.body.contains("Content-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n"));
        QVERIFY2(r.body.contains("Content-Disposition: form-data; name=\"notes\"; "
                                 "filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\n"
                                 "some notes\n\r\n"),
            r.body.constData());
    }

    // A missing file: appendFile() says so at once, and the request fails without sending.
    void missingFileFailsBeforeSending()
    {
        LoopbackServer server(
            [](QTcpSocket *s, const SeenRequest &) { s->write(httpResponse(200, "OK", {}, {})); });
        const QUrl missing = QUrl::fromLocalFile(m_dir.filePath(QStringLiteral("missing.bin")));
        auto root = load(R"(
            property string error
            property string errorType
            property bool added: true
            property string formError
            property FormData form: FormData { }
            Component.onCompleted: {
                form.append("a", "b")
                added = form.appendFile("f", file)
                formError = form.errorString
                client.post("/x", form).then(r => error = "response",
                                             e => { errorType = e.type; error = e.message })
            }
        )",
            server.url(), missing);
        QVERIFY(root);
        QTRY_VERIFY_WITH_TIMEOUT(!root->property("error").toString().isEmpty(), waitMs);
        QVERIFY(!root->property("added").toBool());
        QVERIFY(root->property("formError").toString().contains(QStringLiteral("missing.bin")));
        QCOMPARE(root->property("errorType").toString(), QStringLiteral("RequestError"));
        QVERIFY(root->property("error").toString().contains(QStringLiteral("missing.bin")));
        QCOMPARE(server.requests().size(), 0);
    }
};

QTEST_GUILESS_MAIN(tst_QmlFormData)
#include "tst_qml_formdata.moc"
