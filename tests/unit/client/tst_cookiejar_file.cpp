// Reqivo::CookieJar's Netscape cookies.txt files: loadFromFile(), saveToFile(),
// toNetscapeFormat() and the autosave. Every field read and written, curl's leniencies, each
// malformed line named with its number, the size bounds, never a partial jar, the atomic and
// private replacement of the file, session cookies left out unless asked, and when the autosave
// writes. (Interoperability with curl itself: tests/integration/session/tst_cookiefile_peers.)
#include <Reqivo/cookiejar.h>

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <memory>
#include <sys/resource.h>
#include <sys/stat.h>

using namespace Qt::StringLiterals;
using Reqivo::CookieFileError;
using Reqivo::CookieJar;
using Reqivo::Headers;

namespace {

void setCookie(CookieJar &jar, const char *url, const char *setCookie)
{
    Headers headers;
    headers.add("Set-Cookie", setCookie);
    jar.storeFromResponse(QUrl(QString::fromUtf8(url)), headers);
}

QByteArray header(CookieJar &jar, const char *url)
{
    return jar.cookieHeaderFor(QUrl(QString::fromUtf8(url)));
}

bool writeFile(const QString &path, const QByteArray &data)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(data) == data.size();
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// An expiry one year from now, as text and as the seconds it stands for.
qint64 nextYear()
{
    return QDateTime::currentSecsSinceEpoch() + 365 * 24 * 3600;
}

QByteArray num(qint64 n)
{
    return QByteArray::number(n);
}

// Some valid cookies, loaded first to show that a bad file leaves the jar as it was.
void seed(CookieJar &jar)
{
    setCookie(jar, "http://seed.test/", "s1=1; Max-Age=3600");
    setCookie(jar, "http://seed.test/", "s2=2");
}

struct FsizeLimit
{
    rlimit old {};
    explicit FsizeLimit(rlim_t bytes)
    {
        getrlimit(RLIMIT_FSIZE, &old);
        std::signal(SIGXFSZ, SIG_IGN); // a write past the limit fails with EFBIG instead
        rlimit lower = old;
        lower.rlim_cur = bytes;
        setrlimit(RLIMIT_FSIZE, &lower);
    }
    ~FsizeLimit()
    {
        setrlimit(RLIMIT_FSIZE, &old);
        std::signal(SIGXFSZ, SIG_DFL);
    }
};

} // namespace

class TestCookieJarFile : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void readsEveryField();
    void curlLeniencies();
    void writesEveryField();
    void roundTrip();
    void idnDomainsInAce();
    void sessionCookiesLeftOutUnlessAsked();
    void expiredCookiesSkipped();
    void malformedLines_data();
    void malformedLines();
    void publicSuffixDomainRefused();
    void oversizedLine();
    void oversizedFile();
    void missingAndUnreadableFiles();
    void fileLargerThanItsSize();
    void jarLimitsApply();
    void loadReplacesSameCookie();
    void saveIsPrivateAndReplacesAtomically();
    void failedSaveKeepsOldFile();
    void unwritableCookiesLeftOut();
    void autoSaveCoalescesChanges();
    void autoSaveOnDestruction();
    void autoSaveFlushAndFailure();
    void autoSaveSkipsUnchangedText();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QString path(const char *name) const { return m_dir->filePath(QString::fromUtf8(name)); }
};

void TestCookieJarFile::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestCookieJarFile::readsEveryField()
{
    const QByteArray exp = num(nextYear());
    const QByteArray text = "# Netscape HTTP Cookie File\n"
                            "# https://curl.se/docs/http-cookies.html\n"
                            "\n"
                            "example.com\tFALSE\t/\tFALSE\t0\thost\t1\n"
                            ".example.com\tTRUE\t/app\tFALSE\t"
        + exp
        + "\twide\t2\n"
          "#HttpOnly_example.com\tFALSE\t/\tTRUE\t"
        + exp
        + "\tsec\t3\n"
          "# a comment\n"
          "   \n"
          "127.0.0.1\tFALSE\t/\tFALSE\t0\tip\t4\n";
    QVERIFY(writeFile(path("c.txt"), text));

    CookieJar jar;
    CookieFileError error;
    QVERIFY2(jar.loadFromFile(path("c.txt"), &error), qPrintable(error.toString()));
    QVERIFY(!error);
    const QList<QNetworkCookie> cookies = jar.cookies();
    QCOMPARE(cookies.size(), 4);

    const QNetworkCookie &host = cookies.at(0);
    QCOMPARE(host.name(), QByteArray("host"));
    QCOMPARE(host.value(), QByteArray("1"));
    QCOMPARE(host.domain(), u"example.com"_s); // host-only: no leading dot
    QCOMPARE(host.path(), u"/"_s);
    QVERIFY(host.isSessionCookie());
    QVERIFY(!host.isSecure());
    QVERIFY(!host.isHttpOnly());

    const QNetworkCookie &wide = cookies.at(1);
    QCOMPARE(wide.domain(), u".example.com"_s);
    QCOMPARE(wide.path(), u"/app"_s);
    QCOMPARE(wide.expirationDate().toSecsSinceEpoch(), exp.toLongLong());

    const QNetworkCookie &sec = cookies.at(2);
    QVERIFY(sec.isSecure());
    QVERIFY(sec.isHttpOnly());
    QCOMPARE(sec.domain(), u"example.com"_s);

    QCOMPARE(cookies.at(3).domain(), u"127.0.0.1"_s);

    // They behave as the server's own would.
    QCOMPARE(header(jar, "http://example.com/app/x"), QByteArray("wide=2; host=1"));
    QCOMPARE(header(jar, "http://www.example.com/app"), QByteArray("wide=2"));
    QCOMPARE(header(jar, "http://www.example.com/"), QByteArray());
    QCOMPARE(header(jar, "https://example.com/"), QByteArray("host=1; sec=3"));
    QCOMPARE(header(jar, "http://127.0.0.1:8080/"), QByteArray("ip=4"));
}

void TestCookieJarFile::curlLeniencies()
{
    // CRLF line ends, a byte order mark, leading blanks, flags in any case, a missing path (the
    // third field a flag), an empty value with or without the trailing tab, a path not starting
    // with '/', and a domain cookie with a flag of TRUE but no leading dot.
    const QByteArray text = "\xEF\xBB\xBFh.test\tfalse\t/\tfalse\t0\ta\t1\r\n"
                            "  \th.test\tFALSE\tFALSE\t0\tnopath\tv\r\n"
                            "h.test\tFALSE\t/\tFALSE\t0\tempty\t\n"
                            "h.test\tFALSE\t/\tFALSE\t0\tempty2\n"
                            "h.test\tFALSE\trelative\tFALSE\t0\trel\tr\n"
                            "d.test\tTRUE\t/\tFALSE\t0\tdom\td\n";
    QVERIFY(writeFile(path("c.txt"), text));
    CookieJar jar;
    CookieFileError error;
    QVERIFY2(jar.loadFromFile(path("c.txt"), &error), qPrintable(error.toString()));
    const QList<QNetworkCookie> cookies = jar.cookies();
    QCOMPARE(cookies.size(), 6);
    QCOMPARE(cookies.at(0).name(), QByteArray("a"));
    QCOMPARE(cookies.at(0).domain(), u"h.test"_s);
    QCOMPARE(cookies.at(1).name(), QByteArray("nopath"));
    QCOMPARE(cookies.at(1).path(), u"/"_s);
    QCOMPARE(cookies.at(1).value(), QByteArray("v"));
    QCOMPARE(cookies.at(2).value(), QByteArray());
    QCOMPARE(cookies.at(3).name(), QByteArray("empty2"));
    QCOMPARE(cookies.at(3).value(), QByteArray());
    QCOMPARE(cookies.at(4).path(), u"/"_s);
    QCOMPARE(cookies.at(5).domain(), u".d.test"_s);
    QCOMPARE(header(jar, "http://sub.d.test/"), QByteArray("dom=d"));
}

void TestCookieJarFile::writesEveryField()
{
    CookieJar jar;
    setCookie(jar, "http://example.com/app/x", "host=1; Max-Age=3600");
    setCookie(jar, "http://example.com/", "wide=2; Domain=example.com; Max-Age=3600; HttpOnly");
    setCookie(jar, "https://example.com/", "sec=3; Secure; Path=/p; Max-Age=3600");
    setCookie(jar, "http://example.com/", "session=4");
    setCookie(jar, "http://example.com/", "blank=");
    const auto expiry = [&jar](const char *name) {
        for (const QNetworkCookie &c : jar.cookies()) {
            if (c.name() == name)
                return num(c.expirationDate().toSecsSinceEpoch());
        }
        return QByteArray();
    };
    const QByteArray expected = "# Netscape HTTP Cookie File\n"
                                "# https://curl.se/docs/http-cookies.html\n"
                                "# Written by Reqivo. Edit at your own risk.\n"
                                "\n"
                                "example.com\tFALSE\t/app\tFALSE\t"
        + expiry("host")
        + "\thost\t1\n"
          "#HttpOnly_.example.com\tTRUE\t/\tFALSE\t"
        + expiry("wide")
        + "\twide\t2\n"
          "example.com\tFALSE\t/p\tTRUE\t"
        + expiry("sec") + "\tsec\t3\n";
    QCOMPARE(jar.toNetscapeFormat(), expected);
    QCOMPARE(jar.toNetscapeFormat(CookieJar::SessionCookies::Keep),
        expected
            + "example.com\tFALSE\t/\tFALSE\t0\tsession\t4\n"
              "example.com\tFALSE\t/\tFALSE\t0\tblank\t\n");
}

void TestCookieJarFile::roundTrip()
{
    CookieJar jar;
    setCookie(jar, "http://example.com/app/x", "host=1; Max-Age=3600");
    setCookie(jar, "http://example.com/", "wide=2; Domain=example.com; Max-Age=7200; HttpOnly");
    setCookie(jar, "https://example.com/", "sec=3; Secure; Path=/p; Max-Age=3600");
    setCookie(jar, "http://[::1]:8080/", "v6=4; Max-Age=3600");
    setCookie(jar, "http://example.com/", "session=5");
    setCookie(jar, "http://example.com/", "quoted=\"a;b c\"; Max-Age=3600");
    CookieFileError error;
    QVERIFY2(jar.saveToFile(path("c.txt"), CookieJar::SessionCookies::Keep, &error),
        qPrintable(error.toString()));

    CookieJar loaded;
    QVERIFY2(loaded.loadFromFile(path("c.txt"), &error), qPrintable(error.toString()));
    const QList<QNetworkCookie> before = jar.cookies();
    const QList<QNetworkCookie> after = loaded.cookies();
    QCOMPARE(after.size(), before.size());
    for (qsizetype i = 0; i < after.size(); ++i) {
        QCOMPARE(after[i].name(), before[i].name());
        QCOMPARE(after[i].value(), before[i].value());
        QCOMPARE(after[i].domain(), before[i].domain());
        QCOMPARE(after[i].path(), before[i].path());
        QCOMPARE(after[i].isSecure(), before[i].isSecure());
        QCOMPARE(after[i].isHttpOnly(), before[i].isHttpOnly());
        QCOMPARE(after[i].isSessionCookie(), before[i].isSessionCookie());
        if (!before[i].isSessionCookie()) // the file keeps whole seconds
            QCOMPARE(after[i].expirationDate().toSecsSinceEpoch(),
                before[i].expirationDate().toSecsSinceEpoch());
    }
    QCOMPARE(loaded.cookieHeaderFor(QUrl(u"http://[::1]/"_s)), QByteArray("v6=4"));
    // Saved again, the text is the same.
    QCOMPARE(loaded.toNetscapeFormat(CookieJar::SessionCookies::Keep),
        jar.toNetscapeFormat(CookieJar::SessionCookies::Keep));
}

void TestCookieJarFile::idnDomainsInAce()
{
    CookieJar jar;
    jar.setCookie(QNetworkCookie("n", "v"), QUrl(u"http://bücher.example/"_s));
    QVERIFY(jar.toNetscapeFormat(CookieJar::SessionCookies::Keep)
                .contains("\nxn--bcher-kva.example\tFALSE\t/\tFALSE\t0\tn\tv\n"));
    QVERIFY(jar.saveToFile(path("c.txt"), CookieJar::SessionCookies::Keep));
    CookieJar loaded;
    QVERIFY(loaded.loadFromFile(path("c.txt")));
    QCOMPARE(loaded.cookieHeaderFor(QUrl(u"http://bücher.example/"_s)), QByteArray("n=v"));
}

void TestCookieJarFile::sessionCookiesLeftOutUnlessAsked()
{
    CookieJar jar;
    setCookie(jar, "http://h.test/", "kept=1; Max-Age=3600");
    setCookie(jar, "http://h.test/", "session=2");
    QVERIFY(jar.saveToFile(path("skip.txt")));
    QVERIFY(jar.saveToFile(path("keep.txt"), CookieJar::SessionCookies::Keep));
    CookieJar skip;
    QVERIFY(skip.loadFromFile(path("skip.txt")));
    QCOMPARE(header(skip, "http://h.test/"), QByteArray("kept=1"));
    CookieJar keep;
    QVERIFY(keep.loadFromFile(path("keep.txt")));
    QCOMPARE(header(keep, "http://h.test/"), QByteArray("kept=1; session=2"));
    QVERIFY(readFile(path("keep.txt")).contains("h.test\tFALSE\t/\tFALSE\t0\tsession\t2\n"));
}

void TestCookieJarFile::expiredCookiesSkipped()
{
    const QByteArray past = num(QDateTime::currentSecsSinceEpoch() - 10);
    QVERIFY(writeFile(path("c.txt"),
        "h.test\tFALSE\t/\tFALSE\t" + past + "\told\t1\n" + "h.test\tFALSE\t/\tFALSE\t1\tepoch\t1\n"
            + "h.test\tFALSE\t/\tFALSE\t" + num(nextYear()) + "\tnew\t2\n"
            + "h.test\tFALSE\t/\tFALSE\t99999999999999999999999\tforever\t3\n"));
    CookieJar jar;
    QVERIFY(jar.loadFromFile(path("c.txt")));
    QCOMPARE(header(jar, "http://h.test/"), QByteArray("new=2; forever=3"));
}

void TestCookieJarFile::malformedLines_data()
{
    QTest::addColumn<QByteArray>("badLine");
    QTest::addColumn<QString>("message");
    const QByteArray t = "\t";
    QTest::newRow("too few fields")
        << QByteArray("h.test\tFALSE\t/\tFALSE\t0") << u"expected 7 tab-separated fields"_s;
    QTest::newRow("too many fields")
        << QByteArray("h.test\tFALSE\t/\tFALSE\t0\ta\tb\tc") << u"found 8"_s;
    QTest::newRow("space separated") << QByteArray("h.test FALSE / FALSE 0 a b") << u"found 1"_s;
    // Leading blanks (tabs too) are skipped, as curl does: the line shifts left.
    QTest::newRow("empty domain") << QByteArray("\tFALSE\t/\tFALSE\t0\ta\t1")
                                  << u"include-subdomains must be TRUE or FALSE, not '/'"_s;
    QTest::newRow("dot only") << QByteArray(".\tTRUE\t/\tFALSE\t0\ta\t1") << u"empty domain"_s;
    QTest::newRow("domain with space")
        << QByteArray("h test\tFALSE\t/\tFALSE\t0\ta\t1") << u"not a domain"_s;
    QTest::newRow("bad subdomain flag") << QByteArray("h.test\tYES\t/\tFALSE\t0\ta\t1")
                                        << u"include-subdomains must be TRUE or FALSE"_s;
    QTest::newRow("bad secure flag")
        << QByteArray("h.test\tFALSE\t/\t1\t0\ta\t1") << u"secure must be TRUE or FALSE, not '1'"_s;
    QTest::newRow("negative expiry") << QByteArray("h.test\tFALSE\t/\tFALSE\t-5\ta\t1")
                                     << u"expiry must be seconds since 1970"_s;
    QTest::newRow("date expiry") << QByteArray("h.test\tFALSE\t/\tFALSE\t2030-01-01\ta\t1")
                                 << u"not '2030-01-01'"_s;
    QTest::newRow("empty expiry") << QByteArray("h.test\tFALSE\t/\tFALSE\t\ta\t1")
                                  << u"expiry must be"_s;
    QTest::newRow("no name nor value")
        << QByteArray("h.test\tFALSE\t/\tFALSE\t0\t\t") << u"neither name nor value"_s;
    QTest::newRow("= in name") << QByteArray("h.test\tFALSE\t/\tFALSE\t0\ta=b\t1")
                               << u"in the cookie name"_s;
    QTest::newRow("; in value") << QByteArray("h.test\tFALSE\t/\tFALSE\t0\ta\t1; admin=1")
                                << u"';' in the value of cookie 'a'"_s;
    QTest::newRow("NUL byte") << QByteArray("h.test\tFALSE\t/\tFALSE\t0\ta\t1") + '\0' + "x"
                              << u"control character 0x00"_s;
    QTest::newRow("CR inside") << QByteArray("h.test\tFALSE\t/\tFALSE\t0\ta\t1\rX: y")
                               << u"control character 0x0d"_s;
    QTest::newRow("Set-Cookie line")
        << QByteArray("Set-Cookie: a=1; Domain=h.test") << u"Set-Cookie header line"_s;
    // It would be written as a comment line.
    QTest::newRow("domain starting with #")
        << QByteArray("#HttpOnly_#h.test\tFALSE\t/\tFALSE\t0\ta\t1") << u"not a domain"_s;
    QTest::newRow("HttpOnly prefix alone") << QByteArray("#HttpOnly_") << u"found 1"_s;
    QTest::newRow("cookie too large") << "h.test\tFALSE\t/\tFALSE\t0\tbig\t" + QByteArray(4094, 'x')
                                      << u"cookie 'big' longer than 4096 bytes"_s;
    QTest::newRow("domain too long")
        << QByteArray(1025, 'd') + "\tFALSE\t/\tFALSE\t0\ta\t1" << u"domain longer than 1024"_s;
    QTest::newRow("path too long") << "h.test\tFALSE\t/" + QByteArray(1024, 'p')
            + "\tFALSE\t0\ta\t1" << u"path longer than 1024"_s;
}

void TestCookieJarFile::malformedLines()
{
    QFETCH(QByteArray, badLine);
    QFETCH(QString, message);
    // Good lines before and after the bad one (line 4): none of them may be stored.
    const QByteArray text = "# Netscape HTTP Cookie File\n"
                            "\n"
                            "good.test\tFALSE\t/\tFALSE\t0\tbefore\t1\n"
        + badLine + "\ngood.test\tFALSE\t/\tFALSE\t0\tafter\t2\n";
    QVERIFY(writeFile(path("bad.txt"), text));
    CookieJar jar;
    seed(jar);
    const QList<QNetworkCookie> seeded = jar.cookies();
    CookieFileError error;
    QVERIFY(!jar.loadFromFile(path("bad.txt"), &error));
    QCOMPARE(error.kind, CookieFileError::Kind::Malformed);
    QCOMPARE(error.fileName, path("bad.txt"));
    QCOMPARE(error.line, qsizetype(4));
    QVERIFY2(error.message.contains(message), qPrintable(error.message));
    QVERIFY(error.toString().startsWith(path("bad.txt") + u":4: "_s));
    QCOMPARE(jar.cookies(), seeded); // nothing half-done
    QCOMPARE(header(jar, "http://good.test/"), QByteArray());
}

void TestCookieJarFile::publicSuffixDomainRefused()
{
    QVERIFY(writeFile(path("c.txt"),
        "ok.example.com\tFALSE\t/\tFALSE\t0\ta\t1\n"
        ".com\tTRUE\t/\tFALSE\t0\tevil\t1\n"));
    CookieJar jar;
    CookieFileError error;
    QVERIFY(!jar.loadFromFile(path("c.txt"), &error));
    QCOMPARE(error.kind, CookieFileError::Kind::Malformed);
    QCOMPARE(error.line, qsizetype(2));
    QVERIFY2(error.message.contains(u"public suffix 'com'"_s), qPrintable(error.message));
    QVERIFY(jar.cookies().isEmpty());

    // The same domain as a Domain cookie of a registrable domain is fine.
    QVERIFY(writeFile(path("ok.txt"), ".example.co.uk\tTRUE\t/\tFALSE\t0\ta\t1\n"));
    QVERIFY(jar.loadFromFile(path("ok.txt"), &error));
    QVERIFY(writeFile(path("uk.txt"), ".co.uk\tTRUE\t/\tFALSE\t0\ta\t1\n"));
    QVERIFY(!jar.loadFromFile(path("uk.txt"), &error));
    QCOMPARE(error.line, qsizetype(1));
}

void TestCookieJarFile::oversizedLine()
{
    // A comment line is bounded too: the limit is the reader's, whatever the line holds.
    QVERIFY(writeFile(path("c.txt"),
        "h.test\tFALSE\t/\tFALSE\t0\ta\t1\n#" + QByteArray(CookieJar::maxCookieFileLineBytes, 'x')
            + "\n"));
    CookieJar jar;
    CookieFileError error;
    QVERIFY(!jar.loadFromFile(path("c.txt"), &error));
    QCOMPARE(error.kind, CookieFileError::Kind::Malformed);
    QCOMPARE(error.line, qsizetype(2));
    QVERIFY(error.message.contains(u"line longer than 8192 bytes"_s));
    QVERIFY(jar.cookies().isEmpty());

    // Exactly at the limit, a line is read.
    QByteArray line = "h.test\tFALSE\t/\tFALSE\t0\ta\t";
    line += QByteArray(CookieJar::maxCookieFileLineBytes - line.size(), 'v');
    QVERIFY(writeFile(
        path("ok.txt"), "#" + QByteArray(CookieJar::maxCookieFileLineBytes - 1, 'c') + "\n"));
    QVERIFY2(jar.loadFromFile(path("ok.txt"), &error), qPrintable(error.toString()));
}

void TestCookieJarFile::oversizedFile()
{
    // A sparse file one byte over the limit: refused by its size, before it is read.
    QFile file(path("huge.txt"));
    QVERIFY(file.open(QIODevice::WriteOnly));
    QVERIFY(file.write("h.test\tFALSE\t/\tFALSE\t0\ta\t1\n") > 0);
    QVERIFY(file.resize(CookieJar::maxCookieFileBytes + 1));
    file.close();
    CookieJar jar;
    CookieFileError error;
    QVERIFY(!jar.loadFromFile(path("huge.txt"), &error));
    QCOMPARE(error.kind, CookieFileError::Kind::TooLarge);
    QCOMPARE(error.line, qsizetype(0));
    QCOMPARE(error.toString(), path("huge.txt") + u": larger than 16777216 bytes"_s);
    QVERIFY(jar.cookies().isEmpty());
    QVERIFY(QFile::remove(path("huge.txt")));
}

void TestCookieJarFile::missingAndUnreadableFiles()
{
    CookieJar jar;
    seed(jar);
    CookieFileError error;
    QVERIFY(!jar.loadFromFile(path("none.txt"), &error));
    QCOMPARE(error.kind, CookieFileError::Kind::FileNotFound);
    QCOMPARE(error.fileName, path("none.txt"));
    QVERIFY(!jar.loadFromFile(m_dir->path(), &error)); // a directory
    QCOMPARE(error.kind, CookieFileError::Kind::ReadFailed);
    QVERIFY(!error.message.isEmpty());
    QCOMPARE(jar.cookies().size(), 2);

    // An empty file is an empty jar; the error is cleared on success.
    QVERIFY(writeFile(path("empty.txt"), QByteArray()));
    QVERIFY(jar.loadFromFile(path("empty.txt"), &error));
    QCOMPARE(error.kind, CookieFileError::Kind::NoError);
    QVERIFY(error.toString().isEmpty());
}

void TestCookieJarFile::fileLargerThanItsSize()
{
    // A file whose size says 0 but which has content (as a file that grew since its size was
    // read): read whole all the same. /proc/self/status starts "Name:<tab>...": two fields.
    QCOMPARE(QFileInfo(u"/proc/self/status"_s).size(), qint64(0));
    CookieJar jar;
    CookieFileError error;
    QVERIFY(!jar.loadFromFile(u"/proc/self/status"_s, &error));
    QCOMPARE(error.kind, CookieFileError::Kind::Malformed);
    QCOMPARE(error.line, qsizetype(1));
    QVERIFY2(error.message.endsWith(u"found 2"_s), qPrintable(error.message));
}

void TestCookieJarFile::jarLimitsApply()
{
    QByteArray text;
    for (int i = 0; i < 10; ++i)
        text += "h.test\tFALSE\t/\tFALSE\t0\tc" + num(i) + "\tv\n";
    QVERIFY(writeFile(path("c.txt"), text));
    CookieJar jar;
    jar.setMaxCookiesPerDomain(4);
    QVERIFY(jar.loadFromFile(path("c.txt")));
    QCOMPARE(header(jar, "http://h.test/"), QByteArray("c6=v; c7=v; c8=v; c9=v"));
}

void TestCookieJarFile::loadReplacesSameCookie()
{
    CookieJar jar;
    setCookie(jar, "http://h.test/", "a=old");
    setCookie(jar, "http://h.test/", "b=kept");
    QVERIFY(writeFile(path("c.txt"),
        "h.test\tFALSE\t/\tFALSE\t0\ta\tfirst\n"
        "h.test\tFALSE\t/\tFALSE\t0\ta\tnew\n"));
    QVERIFY(jar.loadFromFile(path("c.txt")));
    QCOMPARE(header(jar, "http://h.test/"), QByteArray("a=new; b=kept"));
}

void TestCookieJarFile::saveIsPrivateAndReplacesAtomically()
{
    const QString file = path("c.txt");
    QVERIFY(writeFile(file, "old"));
    QVERIFY(QFile::setPermissions(file,
        QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadGroup
            | QFileDevice::ReadOther));
    struct stat before
    {
    };
    QCOMPARE(::stat(QFile::encodeName(file).constData(), &before), 0);

    CookieJar jar;
    setCookie(jar, "http://h.test/", "a=1; Max-Age=3600");
    CookieFileError error;
    QVERIFY2(jar.saveToFile(file, CookieJar::SessionCookies::Skip, &error),
        qPrintable(error.toString()));
    QVERIFY(!error);
    struct stat after
    {
    };
    QCOMPARE(::stat(QFile::encodeName(file).constData(), &after), 0);
    QVERIFY(after.st_ino != before.st_ino); // a new file renamed over the old one
    QCOMPARE(after.st_mode & 0777, mode_t(0600));
    QVERIFY(readFile(file).contains("\ta\t1\n"));
    // Nothing left beside it.
    QCOMPARE(QDir(m_dir->path()).entryList(QDir::Files), QStringList {u"c.txt"_s});

    // A new file too.
    QVERIFY(jar.saveToFile(path("new.txt")));
    QCOMPARE(::stat(QFile::encodeName(path("new.txt")).constData(), &after), 0);
    QCOMPARE(after.st_mode & 0777, mode_t(0600));
}

void TestCookieJarFile::failedSaveKeepsOldFile()
{
    const QString file = path("c.txt");
    QVERIFY(writeFile(file, "old contents\n"));
    CookieJar jar;
    for (int i = 0; i < 40; ++i)
        setCookie(jar, "http://h.test/",
            "cookie" + num(i) + "=" + QByteArray(100, 'v') + "; Max-Age=3600");
    QVERIFY(jar.toNetscapeFormat().size() > 4096);
    CookieFileError error;
    {
        FsizeLimit limit(1024); // the disk is "full" after 1 KiB
        QVERIFY(!jar.saveToFile(file, CookieJar::SessionCookies::Skip, &error));
    }
    QCOMPARE(error.kind, CookieFileError::Kind::WriteFailed);
    QCOMPARE(error.fileName, file);
    QVERIFY(!error.message.isEmpty());
    QCOMPARE(readFile(file), QByteArray("old contents\n"));
    QCOMPARE(QDir(m_dir->path()).entryList(QDir::Files), QStringList {u"c.txt"_s});

    // A directory that does not exist.
    QVERIFY(!jar.saveToFile(path("no/such/dir/c.txt"), CookieJar::SessionCookies::Skip, &error));
    QCOMPARE(error.kind, CookieFileError::Kind::WriteFailed);
}

void TestCookieJarFile::unwritableCookiesLeftOut()
{
    // A cookie set through QNetworkCookieJar's API can hold what the format cannot: a tab.
    CookieJar jar;
    QNetworkCookie tab("tab", "a\tb");
    tab.setDomain(u"h.test"_s);
    tab.setPath(u"/"_s);
    QVERIFY(jar.insertCookie(tab));
    setCookie(jar, "http://h.test/", "ok=1");
    const QByteArray text = jar.toNetscapeFormat(CookieJar::SessionCookies::Keep);
    QVERIFY(!text.contains("tab"));
    QVERIFY(text.contains("\tok\t1\n"));
}

void TestCookieJarFile::autoSaveCoalescesChanges()
{
    const QString file = path("auto.txt");
    CookieJar jar;
    jar.setAutoSaveDelay(std::chrono::milliseconds(0));
    QCOMPARE(jar.autoSaveDelay(), std::chrono::milliseconds(0));
    jar.setAutoSaveFile(file, CookieJar::SessionCookies::Keep);
    QCOMPARE(jar.autoSaveFile(), file);
    QVERIFY(!QFile::exists(file)); // setting the file writes nothing
    QCoreApplication::processEvents();
    QVERIFY(!QFile::exists(file));

    // Three changes in one turn of the event loop: one write, after it, with all three.
    setCookie(jar, "http://h.test/", "a=1");
    setCookie(jar, "http://h.test/", "b=2");
    setCookie(jar, "http://h.test/", "c=3");
    QVERIFY(!QFile::exists(file));
    QTRY_VERIFY(QFile::exists(file));
    CookieJar loaded;
    QVERIFY(loaded.loadFromFile(file));
    QCOMPARE(header(loaded, "http://h.test/"), QByteArray("a=1; b=2; c=3"));

    // A deletion is a change too.
    setCookie(jar, "http://h.test/", "b=; Max-Age=0");
    QTRY_VERIFY(!readFile(file).contains("\tb\t"));

    // Stopped: changes are not written any more.
    jar.setAutoSaveFile(QString());
    QVERIFY(jar.autoSaveFile().isEmpty());
    setCookie(jar, "http://h.test/", "d=4");
    QVERIFY(jar.flushAutoSave());
    QCoreApplication::processEvents();
    QVERIFY(!readFile(file).contains("\td\t"));
}

void TestCookieJarFile::autoSaveOnDestruction()
{
    const QString file = path("auto.txt");
    {
        CookieJar jar;
        jar.setAutoSaveDelay(std::chrono::hours(1)); // only the destructor can write it
        QCOMPARE(jar.autoSaveDelay(), std::chrono::milliseconds(std::chrono::hours(1)));
        jar.setAutoSaveFile(file);
        setCookie(jar, "http://h.test/", "a=1; Max-Age=3600");
        setCookie(jar, "http://h.test/", "session=2"); // left out: Skip is the default
        QCoreApplication::processEvents();
        QVERIFY(!QFile::exists(file));
    }
    const QByteArray text = readFile(file);
    QVERIFY(text.contains("\ta\t1\n"));
    QVERIFY(!text.contains("session"));
    QCOMPARE(QFileInfo(file).permissions() & 0x0077, QFileDevice::Permissions());
}

void TestCookieJarFile::autoSaveFlushAndFailure()
{
    CookieJar jar;
    jar.setAutoSaveDelay(std::chrono::hours(1));
    QList<CookieFileError> failures;
    connect(&jar, &CookieJar::autoSaveFailed, this,
        [&failures](const CookieFileError &e) { failures.append(e); });

    // flushAutoSave() writes at once.
    jar.setAutoSaveFile(path("auto.txt"));
    QVERIFY(jar.flushAutoSave()); // nothing pending
    QVERIFY(!QFile::exists(path("auto.txt")));
    setCookie(jar, "http://h.test/", "a=1; Max-Age=3600");
    QVERIFY(jar.flushAutoSave());
    QVERIFY(readFile(path("auto.txt")).contains("\ta\t1\n"));

    // A file that cannot be written: the signal says why; the next change tries again.
    const QString bad = path("missing-dir/auto.txt");
    jar.setAutoSaveFile(bad);
    setCookie(jar, "http://h.test/", "b=2; Max-Age=3600");
    QVERIFY(!jar.flushAutoSave());
    QCOMPARE(failures.size(), 1);
    QCOMPARE(failures.first().kind, CookieFileError::Kind::WriteFailed);
    QCOMPARE(failures.first().fileName, bad);
    QVERIFY(QDir(m_dir->path()).mkdir(u"missing-dir"_s));
    setCookie(jar, "http://h.test/", "c=3; Max-Age=3600");
    QVERIFY(jar.flushAutoSave());
    QVERIFY(readFile(bad).contains("\tc\t3\n"));
    QCOMPARE(failures.size(), 1);
}

void TestCookieJarFile::autoSaveSkipsUnchangedText()
{
    const QString file = path("auto.txt");
    CookieJar jar;
    jar.setAutoSaveDelay(std::chrono::hours(1));
    jar.setAutoSaveFile(file); // session cookies skipped
    setCookie(jar, "http://h.test/", "a=1; Max-Age=3600");
    QVERIFY(jar.flushAutoSave());
    struct stat first
    {
    };
    QCOMPARE(::stat(QFile::encodeName(file).constData(), &first), 0);
    // A session cookie changes the jar, not the text: the file is not written again.
    setCookie(jar, "http://h.test/", "session=2");
    QVERIFY(jar.flushAutoSave());
    struct stat second
    {
    };
    QCOMPARE(::stat(QFile::encodeName(file).constData(), &second), 0);
    QCOMPARE(second.st_ino, first.st_ino);
}

QTEST_GUILESS_MAIN(TestCookieJarFile)
#include "tst_cookiejar_file.moc"
