// reqivo -b and -c against httpbin (/cookies/set logs in with session cookies, /cookies shows
// what arrived), through AsyncSession and --sync: a login in one run carries into the next, the
// file is replaced atomically and private, a missing -b file is an empty jar, a malformed one is
// bad usage with nothing sent, NAME=VALUE strings, and files shared with curl both ways.
#include "clirunner.h"

#include "support/peers.h"

#include <QDir>
#include <QFile>
#include <QJsonObject>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <sys/stat.h>
#include <unistd.h>

using namespace Qt::StringLiterals;
using Run = ReqivoTest::CliRun;

namespace {

QJsonObject cookiesOf(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object().value(u"cookies"_s).toObject();
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

ino_t inodeOf(const QString &path)
{
    struct stat st
    {
    };
    return ::stat(QFile::encodeName(path).constData(), &st) == 0 ? st.st_ino : 0;
}

mode_t modeOf(const QString &path)
{
    struct stat st
    {
    };
    return ::stat(QFile::encodeName(path).constData(), &st) == 0 ? (st.st_mode & 0777) : 0;
}

} // namespace

class TestCliCookies : public QObject
{
    Q_OBJECT

private:
    QHash<QString, QString> m_httpbin;
    std::unique_ptr<QTemporaryDir> m_dir;

    QString url(const QString &path) const
    {
        return ReqivoTest::peerValue(m_httpbin, u"HTTPBIN_URL"_s) + path;
    }
    QString file(const char *name) const { return m_dir->filePath(QString::fromUtf8(name)); }

    static Run reqivo(const QStringList &mode, const QStringList &arguments)
    {
        return ReqivoTest::runReqivo(mode + arguments);
    }

    static void addModes()
    {
        QTest::addColumn<QStringList>("mode");
        QTest::newRow("async") << QStringList();
        QTest::newRow("sync") << QStringList {u"--sync"_s};
    }

private Q_SLOTS:
    void initTestCase() { m_httpbin = ReqivoTest::loadPeerEnv(u"httpbin"_s); }

    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }

    void loginCarriesOver_data() { addModes(); }
    void loginCarriesOver()
    {
        QFETCH(QStringList, mode);
        const QString jar = file("jar.txt");
        // Run 1 logs in: /cookies/set sets session cookies and redirects to /cookies.
        Run run = reqivo(mode, {u"-c"_s, jar, url(u"/cookies/set?session=abc&user=me"_s)});
        QVERIFY2(run.finished && run.exitCode == 0, run.err.constData());
        QCOMPARE(
            cookiesOf(run.out), (QJsonObject {{u"session"_s, u"abc"_s}, {u"user"_s, u"me"_s}}));
        const QByteArray text = readFile(jar);
        QVERIFY2(text.startsWith("# Netscape HTTP Cookie File\n"), text.constData());
        QVERIFY2(
            text.contains("\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tabc\n"), text.constData());
        QCOMPARE(modeOf(jar), mode_t(0600));

        // Run 2 is still logged in, and logs "user" out; the file is replaced, not rewritten.
        // A second name for the old file: replaced (a new file renamed over it), the old file
        // keeps its contents under that name, and the two are different files.
        const QString old = file("old.txt");
        QVERIFY(
            ::link(QFile::encodeName(jar).constData(), QFile::encodeName(old).constData()) == 0);
        run = reqivo(mode, {u"-b"_s, jar, u"-c"_s, jar, url(u"/cookies/delete?user"_s)});
        QVERIFY2(run.finished && run.exitCode == 0, run.err.constData());
        QCOMPARE(cookiesOf(run.out), (QJsonObject {{u"session"_s, u"abc"_s}}));
        QVERIFY(inodeOf(jar) != inodeOf(old));
        QCOMPARE(readFile(old), text);
        QVERIFY(!readFile(jar).contains("\tuser\t"));

        // Run 3 reads only.
        run = reqivo(mode, {u"-b"_s, jar, url(u"/cookies"_s)});
        QVERIFY2(run.finished && run.exitCode == 0, run.err.constData());
        QCOMPARE(cookiesOf(run.out), (QJsonObject {{u"session"_s, u"abc"_s}}));
    }

    void jarWrittenWithoutCookies()
    {
        // -c writes the file even when the jar is empty, as curl does (header only).
        const QString jar = file("empty.txt");
        const Run run = reqivo({}, {u"-c"_s, jar, url(u"/cookies"_s)});
        QVERIFY2(run.finished && run.exitCode == 0, run.err.constData());
        QVERIFY(readFile(jar).startsWith("# Netscape HTTP Cookie File\n"));
        QVERIFY(!readFile(jar).contains("127.0.0.1"));
    }

    void missingFileIsAnEmptyJar_data() { addModes(); }
    void missingFileIsAnEmptyJar()
    {
        QFETCH(QStringList, mode);
        const Run run = reqivo(mode, {u"-b"_s, file("none.txt"), url(u"/cookies"_s)});
        QVERIFY2(run.finished && run.exitCode == 0, run.err.constData());
        QCOMPARE(cookiesOf(run.out), QJsonObject());
        QVERIFY(!QFile::exists(file("none.txt")));
    }

    void malformedFileIsBadUsage()
    {
        // A server that must see no connection at all.
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost));
        const QString bad = file("bad.txt");
        {
            QFile f(bad);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("# Netscape HTTP Cookie File\n"
                    "127.0.0.1\tFALSE\t/\tFALSE\t0\tgood\t1\n"
                    "127.0.0.1\tFALSE\t/\tMAYBE\t0\tbad\t2\n");
        }
        const Run run
            = reqivo({}, {u"-b"_s, bad, u"http://127.0.0.1:%1/"_s.arg(server.serverPort())});
        QVERIFY(run.finished);
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains(QFile::encodeName(bad) + ":3: secure must be TRUE or FALSE"),
            run.err.constData());
        QVERIFY(run.out.isEmpty());
        // The command has exited: a connection it made would be queued already. (A zero wait
        // polls once.)
        QVERIFY(!server.waitForNewConnection(0));
    }

    void unreadableFileIsBadUsage()
    {
        const Run run = reqivo({}, {u"-b"_s, m_dir->path(), url(u"/cookies"_s)});
        QVERIFY(run.finished);
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains("cannot read cookies from"), run.err.constData());
    }

    void nameValueStrings_data() { addModes(); }
    void nameValueStrings()
    {
        QFETCH(QStringList, mode);
        const QString jar = file("jar.txt");
        const Run run = reqivo(
            mode, {u"-b"_s, u"a=1; b=two"_s, u"-b"_s, u"c=3"_s, u"-c"_s, jar, url(u"/cookies"_s)});
        QVERIFY2(run.finished && run.exitCode == 0, run.err.constData());
        QCOMPARE(cookiesOf(run.out),
            (QJsonObject {{u"a"_s, u"1"_s}, {u"b"_s, u"two"_s}, {u"c"_s, u"3"_s}}));
        QVERIFY(readFile(jar).contains("\n127.0.0.1\tFALSE\t/\tFALSE\t0\tb\ttwo\n"));

        const Run bad = reqivo(mode, {u"-b"_s, u"a=1; flag"_s, url(u"/cookies"_s)});
        QCOMPARE(bad.exitCode, 2);
        QVERIFY2(bad.err.contains("-b: 'flag' is not NAME=VALUE"), bad.err.constData());
    }

    void badJarOptions()
    {
        Run run = reqivo({}, {u"-c"_s, u"-"_s, url(u"/cookies"_s)});
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains("-c -"), run.err.constData());
        // A file that cannot be written is reported; the transfer itself succeeded.
        run = reqivo({}, {u"-c"_s, file("no/such/dir/jar.txt"), url(u"/cookies/set?a=1"_s)});
        QVERIFY(run.finished);
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.err.contains("cannot write cookies to"), run.err.constData());
    }

    void sharedWithCurl()
    {
        const QString jar = file("jar.txt");
        // curl logs in, reqivo carries on and writes the file, curl reads it.
        QProcess curl;
        curl.start(
            u"curl"_s, {u"-sS"_s, u"--fail"_s, u"-c"_s, jar, url(u"/cookies/set?from=curl"_s)});
        QVERIFY(curl.waitForFinished(30000));
        QCOMPARE(curl.exitCode(), 0);

        Run run = reqivo({}, {u"-b"_s, jar, u"-c"_s, jar, url(u"/cookies/set?from2=reqivo"_s)});
        QVERIFY2(run.finished && run.exitCode == 0, run.err.constData());
        QCOMPARE(
            cookiesOf(run.out), (QJsonObject {{u"from"_s, u"curl"_s}, {u"from2"_s, u"reqivo"_s}}));

        curl.start(u"curl"_s, {u"-sS"_s, u"--fail"_s, u"-b"_s, jar, url(u"/cookies"_s)});
        QVERIFY(curl.waitForFinished(30000));
        QCOMPARE(curl.exitCode(), 0);
        QCOMPARE(cookiesOf(curl.readAllStandardOutput()),
            (QJsonObject {{u"from"_s, u"curl"_s}, {u"from2"_s, u"reqivo"_s}}));
    }
};

QTEST_GUILESS_MAIN(TestCliCookies)
#include "tst_cli_cookies.moc"
