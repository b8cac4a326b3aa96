// Reqivo::Multipart: the bytes a form encodes to (RFC 7578, names escaped as browsers escape
// them), the length announced for it, the boundary, content types from QMimeDatabase, and what
// the sender does when a file is missing or changes length.
#include <Reqivo/body.h>
#include <Reqivo/errors.h>
#include <Reqivo/multipart.h>

#include "client/multipartsource_p.h"

#include <QBuffer>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <QCoro/QCoroTask>

using Reqivo::Body;
using Reqivo::Multipart;
using Reqivo::Client::MultipartSource;
using namespace std::chrono_literals;

namespace {

// A pipe: its bytes once, then the end (read() returns -1).
class SequentialDevice : public QIODevice
{
public:
    explicit SequentialDevice(QByteArray data)
        : m_data(std::move(data))
    {
        open(QIODevice::ReadOnly);
    }
    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override { return m_data.size() + QIODevice::bytesAvailable(); }

protected:
    qint64 readData(char *out, qint64 max) override
    {
        if (m_data.isEmpty())
            return -1;
        const qint64 n = std::min<qint64>(max, m_data.size());
        memcpy(out, m_data.constData(), size_t(n));
        m_data.remove(0, n);
        return n;
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    QByteArray m_data;
};

// source.next(), run to its end on the event loop; its exception rethrown here.
QByteArray nextBlock(MultipartSource &source, qint64 maxBytes)
{
    QByteArray block;
    std::exception_ptr error;
    bool done = false;
    const auto run = [&]() -> QCoro::Task<void> {
        try {
            block = co_await source.next(maxBytes, 1000ms);
        } catch (...) {
            error = std::current_exception();
        }
        done = true;
    };
    QCoro::Task<void> task = run();
    while (!done)
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    if (error)
        std::rethrow_exception(error);
    return block;
}

// The whole body, as the sender produces it in blocks of blockBytes.
QByteArray encode(const Multipart &form, qint64 blockBytes = 7)
{
    MultipartSource source(form, QUrl(QStringLiteral("http://example.test/")));
    QByteArray all;
    while (true) {
        const QByteArray block = nextBlock(source, blockBytes);
        if (block.isEmpty())
            return all;
        if (block.size() > blockBytes)
            qFatal("a block larger than asked for");
        all += block;
    }
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

} // namespace

class TestMultipart : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void escapeName_data();
    void escapeName();
    void exactBytes();
    void sizeMatchesEncoding_data();
    void sizeMatchesEncoding();
    void randomBoundary();
    void boundaryRedrawnWhenContained();
    void setBoundary();
    void contentTypes();
    void bodyFromMultipart();
    void replayable();
    void deviceRewoundOnReplay();
    void missingFile();
    void fileChangedSinceAdded();
    void fileGrowsWhileSent();
    void fileShrinksWhileSent();
    void sequentialDeviceEndsEarly();
    void contentTypeWithLineBreak();
    void relativePathResolvedWhenAdded();
};

void TestMultipart::escapeName_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("escaped");
    QTest::newRow("plain") << "photo" << QByteArray("photo");
    QTest::newRow("quote") << "a\"b" << QByteArray("a%22b");
    QTest::newRow("CR LF") << "a\r\nb" << QByteArray("a%0D%0Ab");
    QTest::newRow("percent stays") << "100%.txt" << QByteArray("100%.txt");
    QTest::newRow("raw UTF-8, never filename*") << QString::fromUtf8("résumé 日本.pdf")
                                                << QByteArray("r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5"
                                                              "\xe6\x9c\xac.pdf");
    QTest::newRow("semicolon and backslash stay") << "a;b\\c" << QByteArray("a;b\\c");
}

void TestMultipart::escapeName()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, escaped);
    QCOMPARE(Multipart::escapeName(name), escaped);
}

void TestMultipart::exactBytes()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("notes.txt"));
    QVERIFY(writeFile(path, "file\r\ncontent"));
    QBuffer device;
    device.setData("device bytes");
    QVERIFY(device.open(QIODevice::ReadOnly));

    Multipart form;
    QVERIFY(form.setBoundary("XyZ"));
    form.addField(QStringLiteral("title"), QString::fromUtf8("Été"))
        .addField(QStringLiteral("meta"), "{}", "application/json")
        .addFile(QStringLiteral("doc"), path)
        .addBytes(QStringLiteral("raw"), "abc", QStringLiteral("a\"b.bin"), "application/x-thing")
        .addFile(QStringLiteral("dev"), &device, QStringLiteral("d.dat"), "text/x-d")
        .addField(QStringLiteral("empty"), QString());
    const QByteArray expected = "--XyZ\r\n"
                                "Content-Disposition: form-data; name=\"title\"\r\n"
                                "\r\n"
                                "\xc3\x89t\xc3\xa9\r\n"
                                "--XyZ\r\n"
                                "Content-Disposition: form-data; name=\"meta\"\r\n"
                                "Content-Type: application/json\r\n"
                                "\r\n"
                                "{}\r\n"
                                "--XyZ\r\n"
                                "Content-Disposition: form-data; name=\"doc\"; "
                                "filename=\"notes.txt\"\r\n"
                                "Content-Type: text/plain\r\n"
                                "\r\n"
                                "file\r\ncontent\r\n"
                                "--XyZ\r\n"
                                "Content-Disposition: form-data; name=\"raw\"; "
                                "filename=\"a%22b.bin\"\r\n"
                                "Content-Type: application/x-thing\r\n"
                                "\r\n"
                                "abc\r\n"
                                "--XyZ\r\n"
                                "Content-Disposition: form-data; name=\"dev\"; "
                                "filename=\"d.dat\"\r\n"
                                "Content-Type: text/x-d\r\n"
                                "\r\n"
                                "device bytes\r\n"
                                "--XyZ\r\n"
                                "Content-Disposition: form-data; name=\"empty\"\r\n"
                                "\r\n"
                                "\r\n"
                                "--XyZ--\r\n";
    QCOMPARE(encode(form), expected);
    QCOMPARE(encode(form, 64 * 1024), expected);
    QCOMPARE(form.size(), expected.size());
    QCOMPARE(form.contentType(), QByteArray("multipart/form-data; boundary=XyZ"));
    QCOMPARE(form.count(), 6);
    QVERIFY(form.errorString().isEmpty());
}

void TestMultipart::sizeMatchesEncoding_data()
{
    QTest::addColumn<int>("fields");
    QTest::addColumn<int>("fileBytes");
    QTest::newRow("empty form") << 0 << -1;
    QTest::newRow("one field") << 1 << -1;
    QTest::newRow("an empty file") << 0 << 0;
    QTest::newRow("fields and a file") << 3 << 100000;
}

void TestMultipart::sizeMatchesEncoding()
{
    QFETCH(int, fields);
    QFETCH(int, fileBytes);
    QTemporaryDir dir;
    Multipart form;
    for (int i = 0; i < fields; ++i)
        form.addField(QStringLiteral("f%1").arg(i), QString(i * 10, QLatin1Char('x')));
    if (fileBytes >= 0) {
        const QString path = dir.filePath(QStringLiteral("data.bin"));
        QVERIFY(writeFile(path, QByteArray(fileBytes, 'z')));
        form.addFile(QStringLiteral("file"), path);
    }
    const QByteArray all = encode(form, 4096);
    QCOMPARE(form.size(), all.size());
    QVERIFY(all.endsWith("--" + form.boundary() + "--\r\n"));
}

void TestMultipart::randomBoundary()
{
    const Multipart a;
    const Multipart b;
    QVERIFY(a.boundary() != b.boundary());
    QVERIFY(a.boundary().size() <= 70);
    QVERIFY(QRegularExpression(QStringLiteral("^----ReqivoFormBoundary[0-9A-Za-z]{32}$"))
                .match(QString::fromLatin1(a.boundary()))
                .hasMatch());
}

void TestMultipart::boundaryRedrawnWhenContained()
{
    Multipart form;
    const QByteArray first = form.boundary();
    form.addField(QStringLiteral("evil"), QString::fromLatin1("x" + first + "y"));
    QVERIFY(form.boundary() != first);
    QVERIFY(form.errorString().isEmpty());
    const QByteArray all = encode(form, 4096);
    QCOMPARE(all.count("--" + form.boundary()), 2); // one delimiter, one close
}

void TestMultipart::setBoundary()
{
    Multipart form;
    form.addField(QStringLiteral("a"), QStringLiteral("holds AAA"));
    QVERIFY(!form.setBoundary(""));
    QVERIFY(!form.setBoundary(QByteArray(71, 'a')));
    QVERIFY(!form.setBoundary("ends in space "));
    QVERIFY(!form.setBoundary("bad\r\n"));
    QVERIFY(!form.setBoundary("AAA")); // a part contains it
    QVERIFY(form.boundary().startsWith("----ReqivoFormBoundary"));
    QVERIFY(form.setBoundary("'()+_,-./:=? x"));
    QVERIFY(form.errorString().isEmpty());
    form.addField(QStringLiteral("b"), QStringLiteral("'()+_,-./:=? x"));
    QCOMPARE(form.boundary(), QByteArray("'()+_,-./:=? x")); // the caller's, kept
    QVERIFY(form.errorString().contains(QLatin1String("boundary")));
}

void TestMultipart::contentTypes()
{
    QTemporaryDir dir;
    const QByteArray png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    const QString named = dir.filePath(QStringLiteral("picture.png"));
    const QString sniffed = dir.filePath(QStringLiteral("noextension"));
    QVERIFY(writeFile(named, "not really"));
    QVERIFY(writeFile(sniffed, png));
    Multipart form;
    QVERIFY(form.setBoundary("B"));
    form.addFile(QStringLiteral("a"), named)
        .addFile(QStringLiteral("b"), sniffed)
        .addFile(QStringLiteral("c"), named, "image/x-mine", QStringLiteral("other.png"))
        .addBytes(QStringLiteral("d"), png, QStringLiteral("blob"))
        .addBytes(QStringLiteral("e"), "x", QStringLiteral("t.json"));
    const QByteArray all = encode(form, 4096);
    QVERIFY2(all.contains("name=\"a\"; filename=\"picture.png\"\r\nContent-Type: image/png\r\n"),
        all.constData());
    QVERIFY(all.contains("name=\"b\"; filename=\"noextension\"\r\nContent-Type: image/png\r\n"));
    QVERIFY(all.contains("name=\"c\"; filename=\"other.png\"\r\nContent-Type: image/x-mine\r\n"));
    QVERIFY(all.contains("name=\"d\"; filename=\"blob\"\r\nContent-Type: image/png\r\n"));
    QVERIFY(all.contains("name=\"e\"; filename=\"t.json\"\r\nContent-Type: application/json\r\n"));
}

void TestMultipart::bodyFromMultipart()
{
    Multipart form;
    form.addField(QStringLiteral("a"), QStringLiteral("b"));
    const Body body = Body::fromMultipart(form);
    QCOMPARE(body.kind(), Body::Kind::Multipart);
    QCOMPARE(body.size(), form.size());
    QCOMPARE(body.contentType(), form.contentType());
    QVERIFY(body.multipart());
    QCOMPARE(body.multipart()->boundary(), form.boundary());
    QVERIFY(body.isReplayable());
    // The body keeps its own copy: a later change to the form is not sent.
    form.addField(QStringLiteral("c"), QStringLiteral("d"));
    QCOMPARE(body.multipart()->count(), 1);
    QVERIFY(!Body::fromBytes("x").multipart());
}

void TestMultipart::replayable()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("f"));
    QVERIFY(writeFile(path, "x"));
    QBuffer random;
    random.setData("r");
    QVERIFY(random.open(QIODevice::ReadOnly));
    SequentialDevice sequential("s");

    Multipart form;
    form.addField(QStringLiteral("a"), QStringLiteral("b"))
        .addBytes(QStringLiteral("c"), "d", QStringLiteral("e"))
        .addFile(QStringLiteral("f"), path)
        .addFile(QStringLiteral("g"), &random, QStringLiteral("g"));
    QVERIFY(form.isReplayable());
    QVERIFY(form.size() > 0);
    Multipart withSequential = form;
    withSequential.addFile(QStringLiteral("h"), &sequential, QStringLiteral("h"));
    QVERIFY(!withSequential.isReplayable());
    QCOMPARE(withSequential.size(), -1); // unknown length: sent chunked
    QVERIFY(!Body::fromMultipart(withSequential).isReplayable());
    QCOMPARE(Body::fromMultipart(withSequential).size(), -1);
    Multipart sized;
    sized.addFile(QStringLiteral("h"), &sequential, QStringLiteral("h"), {}, 1);
    QVERIFY(sized.size() > 0);
    QVERIFY(!sized.isReplayable());
}

void TestMultipart::deviceRewoundOnReplay()
{
    QBuffer device;
    device.setData("0123456789");
    QVERIFY(device.open(QIODevice::ReadOnly));
    QVERIFY(device.seek(4));
    Multipart form;
    form.addFile(QStringLiteral("d"), &device, QStringLiteral("d.bin"));
    const QByteArray first = encode(form);
    QVERIFY(first.contains("\r\n\r\n456789\r\n"));
    QCOMPARE(encode(form), first);
    QCOMPARE(form.size(), first.size());
}

void TestMultipart::missingFile()
{
    Multipart form;
    form.addField(QStringLiteral("a"), QStringLiteral("b"));
    form.addFile(QStringLiteral("f"), QStringLiteral("/nonexistent/reqivo-upload.bin"));
    QVERIFY(form.errorString().contains(QLatin1String("/nonexistent/reqivo-upload.bin")));
    try {
        Reqivo::Client::checkBody(Body::fromMultipart(form), QUrl(QStringLiteral("http://h/")));
        QFAIL("a form with a missing file was accepted");
    } catch (const Reqivo::RequestError &e) {
        QCOMPARE(e.kind(), Reqivo::Error::Kind::Request);
        QVERIFY(e.message().contains(QLatin1String("/nonexistent/reqivo-upload.bin")));
    }
}

void TestMultipart::fileChangedSinceAdded()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("f"));
    QVERIFY(writeFile(path, "12345"));
    Multipart form;
    form.addFile(QStringLiteral("f"), path);
    const Body body = Body::fromMultipart(form);
    Reqivo::Client::checkBody(body, QUrl(QStringLiteral("http://h/"))); // as added: fine
    QVERIFY(writeFile(path, "123456"));
    QVERIFY_THROWS_EXCEPTION(
        Reqivo::RequestError, Reqivo::Client::checkBody(body, QUrl(QStringLiteral("http://h/"))));
    QVERIFY(QFile::remove(path));
    QVERIFY_THROWS_EXCEPTION(
        Reqivo::RequestError, Reqivo::Client::checkBody(body, QUrl(QStringLiteral("http://h/"))));
    QVERIFY_THROWS_EXCEPTION(Reqivo::RequestError, encode(form));
}

void TestMultipart::fileGrowsWhileSent()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("f"));
    QVERIFY(writeFile(path, QByteArray(10000, 'a')));
    Multipart form;
    form.addFile(QStringLiteral("f"), path);
    MultipartSource source(form, QUrl(QStringLiteral("http://h/")));
    QByteArray sent = nextBlock(source, 1000);
    QFile grow(path);
    QVERIFY(grow.open(QIODevice::Append));
    QCOMPARE(grow.write("more"), 4);
    grow.close();
    bool thrown = false;
    try {
        while (true) {
            const QByteArray block = nextBlock(source, 1000);
            if (block.isEmpty())
                break;
            sent += block;
        }
    } catch (const Reqivo::RequestError &e) {
        thrown = true;
        QVERIFY(e.message().contains(QLatin1String("grew")));
    }
    QVERIFY(thrown);
    // The file's last block was never handed out: the body cannot look complete.
    QVERIFY(sent.size() < form.size() - 100);
    QVERIFY(!sent.contains("--\r\n"));
}

void TestMultipart::fileShrinksWhileSent()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("f"));
    QVERIFY(writeFile(path, QByteArray(10000, 'a')));
    Multipart form;
    form.addFile(QStringLiteral("f"), path);
    MultipartSource source(form, QUrl(QStringLiteral("http://h/")));
    QVERIFY(!nextBlock(source, 1000).isEmpty());
    QVERIFY(QFile::resize(path, 5000));
    try {
        while (!nextBlock(source, 1000).isEmpty()) { }
        QFAIL("a file that shrank was sent as complete");
    } catch (const Reqivo::RequestError &e) {
        QVERIFY(e.message().contains(QLatin1String("shrank")));
    }
}

void TestMultipart::sequentialDeviceEndsEarly()
{
    SequentialDevice device("short");
    Multipart form;
    form.addFile(QStringLiteral("d"), &device, QStringLiteral("short.bin"), {}, 100);
    try {
        encode(form);
        QFAIL("a device that ended early was sent as complete");
    } catch (const Reqivo::RequestError &e) {
        QVERIFY2(e.message().contains(QLatin1String("\"short.bin\" ended 95 bytes early")),
            qPrintable(e.message()));
    }
}

void TestMultipart::contentTypeWithLineBreak()
{
    Multipart form;
    form.addField(QStringLiteral("a"), "b", "text/plain\r\nX-Injected: 1");
    QVERIFY(!form.errorString().isEmpty());
    QVERIFY_THROWS_EXCEPTION(Reqivo::RequestError,
        Reqivo::Client::checkBody(Body::fromMultipart(form), QUrl(QStringLiteral("http://h/"))));
}

void TestMultipart::relativePathResolvedWhenAdded()
{
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath(QStringLiteral("rel.txt")), "relative"));
    const QString before = QDir::currentPath();
    QVERIFY(QDir::setCurrent(dir.path()));
    Multipart form;
    form.addFile(QStringLiteral("f"), QStringLiteral("rel.txt"));
    QVERIFY(QDir::setCurrent(before));
    QVERIFY(form.errorString().isEmpty());
    QVERIFY(encode(form, 4096).contains("\r\n\r\nrelative\r\n"));
}

QTEST_GUILESS_MAIN(TestMultipart)
#include "tst_multipart.moc"
