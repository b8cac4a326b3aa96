// Download (QML) against the download tests' scripted range server
// (tests/integration/download/rangeserver.h): a download cut off fails and keeps its side file,
// resume() continues it with Range and If-Range; pause() mid-transfer and resume(); abort()
// removes the side files; a filePath that is not a file fails at once.
#include "qmltestsupport.h"

#include "integration/download/rangeserver.h"

#include <Reqivo/errors.h>

#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using DownloadTest::patternBytes;
using DownloadTest::RangeServer;
using DownloadTest::readFile;

namespace {
constexpr qint64 contentSize = 512 * 1024;
}

//! A slot for old-style connections to the QML object's signals.
class Slot : public QObject
{
    Q_OBJECT
public:
    explicit Slot(std::function<void()> f)
        : m_f(std::move(f))
    {
    }
public Q_SLOTS:
    void call() { m_f(); }

private:
    std::function<void()> m_f;
};

class tst_QmlDownload : public QObject
{
    Q_OBJECT

private:
    QQmlEngine *m_engine = nullptr;

    //! The QtObject with `client` and a Download `download` for \a server's file into \a file.
    std::unique_ptr<QObject> load(const RangeServer &server, const QString &file)
    {
        const QByteArray body = "id: root\n"
                                "property Download download: Download {\n"
                                "    client: root.client\n"
                                "    url: \"/file.bin\"\n"
                                "    filePath: \""
            + QUrl::fromLocalFile(file).toEncoded() + "\"\n}\n";
        return QmlTest::load(m_engine, body, server.url(u"/"_s));
    }
    static QObject *downloadOf(const std::unique_ptr<QObject> &root)
    {
        return root->property("download").value<QObject *>();
    }

private Q_SLOTS:
    void initTestCase() { m_engine = QmlTest::newEngine(this); }

    void cutOffThenResumed()
    {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        server.cutAfter = {100000};
        const QString file = dir.filePath(u"file.bin"_s);
        const std::unique_ptr<QObject> root = load(server, file);
        QVERIFY(root);
        QObject *download = downloadOf(root);
        QCOMPARE(download->property("state").toString(), u"idle"_s);
        QSignalSpy finished(download, SIGNAL(finished()));
        QSignalSpy errors(download, SIGNAL(errorOccurred(Reqivo::Error)));
        QVERIFY(QMetaObject::invokeMethod(download, "start"));
        QCOMPARE(download->property("state").toString(), u"running"_s);
        QVERIFY(finished.wait(QmlTest::waitMs));
        QCOMPARE(download->property("state").toString(), u"failed"_s);
        QCOMPARE(errors.size(), 1);
        const Reqivo::Error error = download->property("error").value<Reqivo::Error>();
        QVERIFY2(error.kind() == Reqivo::Error::Kind::Network, qPrintable(error.toString()));
        QVERIFY(!QFileInfo::exists(file));
        QCOMPARE(QFileInfo(file + u".part"_s).size(), qint64(100000));

        QVERIFY(QMetaObject::invokeMethod(download, "resume"));
        QVERIFY(finished.wait(QmlTest::waitMs));
        QCOMPARE(download->property("state").toString(), u"finished"_s);
        QCOMPARE(download->property("status").toInt(), 206);
        QVERIFY(download->property("complete").toBool());
        QVERIFY(download->property("resumed").toBool());
        QCOMPARE(download->property("bytesThisRun").toDouble(), double(contentSize - 100000));
        QCOMPARE(download->property("progress").toDouble(), 1.0);
        QVERIFY(readFile(file) == server.content);
        QCOMPARE(server.requests().last().field("if-range"), QByteArray("\"v1\""));
    }

    void pausedMidTransferAndResumed()
    {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        const QString file = dir.filePath(u"file.bin"_s);
        const std::unique_ptr<QObject> root = load(server, file);
        QVERIFY(root);
        QObject *download = downloadOf(root);
        QSignalSpy finished(download, SIGNAL(finished()));
        double pausedAt = -1;
        Slot onProgress([download, &pausedAt] {
            const double got = download->property("bytesReceived").toDouble();
            if (pausedAt < 0 && got > 0 && got < contentSize) {
                pausedAt = got;
                QMetaObject::invokeMethod(download, "pause");
            }
        });
        QVERIFY(connect(download, SIGNAL(progressChanged()), &onProgress, SLOT(call())));
        Slot onState([download, &pausedAt, this] {
            if (download->property("state").toString() == u"paused"_s)
                m_pausedSeen
                    = QFileInfo(download->property("filePath").toUrl().toLocalFile() + u".part"_s)
                          .size()
                    == qint64(pausedAt);
        });
        QVERIFY(connect(download, SIGNAL(stateChanged()), &onState, SLOT(call())));
        m_pausedSeen = false;
        QVERIFY(QMetaObject::invokeMethod(download, "start"));
        QTRY_VERIFY_WITH_TIMEOUT(
            download->property("state").toString() == u"paused"_s, QmlTest::waitMs);
        QVERIFY(m_pausedSeen);
        QCOMPARE(finished.size(), 0);
        QVERIFY(!QFileInfo::exists(file));

        QVERIFY(QMetaObject::invokeMethod(download, "resume"));
        QVERIFY(finished.wait(QmlTest::waitMs));
        QCOMPARE(download->property("state").toString(), u"finished"_s);
        QCOMPARE(download->property("status").toInt(), 206);
        QCOMPARE(download->property("bytesThisRun").toDouble(), contentSize - pausedAt);
        QVERIFY(readFile(file) == server.content);
    }

    void abortRemovesTheSideFiles()
    {
        QTemporaryDir dir;
        RangeServer server(patternBytes(contentSize));
        server.cutAfter = {5000};
        const QString file = dir.filePath(u"file.bin"_s);
        const std::unique_ptr<QObject> root = load(server, file);
        QVERIFY(root);
        QObject *download = downloadOf(root);
        QSignalSpy finished(download, SIGNAL(finished()));
        QVERIFY(QMetaObject::invokeMethod(download, "start"));
        QVERIFY(finished.wait(QmlTest::waitMs));
        QVERIFY(QFileInfo::exists(file + u".part"_s));
        QVERIFY(QMetaObject::invokeMethod(download, "abort"));
        QVERIFY(finished.wait(QmlTest::waitMs));
        QCOMPARE(download->property("state").toString(), u"aborted"_s);
        QVERIFY(!QFileInfo::exists(file + u".part"_s));
        QVERIFY(!QFileInfo::exists(file + u".part.meta"_s));
    }

    void notAFileFailsAtOnce()
    {
        RangeServer server(patternBytes(100));
        const QByteArray body = "id: root\n"
                                "property Download download: Download {\n"
                                "    client: root.client; url: \"/file.bin\"\n"
                                "    filePath: \"http://example.com/x\"\n}\n";
        const std::unique_ptr<QObject> root = QmlTest::load(m_engine, body, server.url(u"/"_s));
        QVERIFY(root);
        QObject *download = downloadOf(root);
        QSignalSpy finished(download, SIGNAL(finished()));
        QVERIFY(QMetaObject::invokeMethod(download, "start"));
        QVERIFY(finished.wait(QmlTest::waitMs));
        QCOMPARE(download->property("state").toString(), u"failed"_s);
        QVERIFY(
            download->property("error").value<Reqivo::Error>().message().contains(u"file: URL"_s));
        QCOMPARE(server.requests().size(), 0);
    }

private:
    bool m_pausedSeen = false;
};

QTEST_GUILESS_MAIN(tst_QmlDownload)
#include "tst_qml_download.moc"
