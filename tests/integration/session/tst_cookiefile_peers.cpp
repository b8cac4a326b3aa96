// Cookie files against real peers: httpbin sets the cookies (/response-headers?Set-Cookie=...)
// and shows what it received (/cookies), curl writes and reads the same files.
//
// - a jar saved by one session (co_await, with the autosave) and loaded by another (the blocking
//   Session) sends httpbin what the first one received; session cookies only when asked;
// - curl -c writes a file from httpbin's Set-Cookie fields (host-only, domain, HttpOnly, path,
//   session cookies), we load it and send them;
// - we save a jar (host-only, domain, HttpOnly, Secure, session cookies) and curl -b sends them,
//   to the right hosts only (a name that curl --resolve maps to loopback stands for another
//   host of the domain), Secure ones over https only.
#include "sessiontest.h"
#include "support/peers.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/CookieJar>
#include <Reqivo/Reply>
#include <Reqivo/Session>

#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>

#include <memory>

using namespace Qt::StringLiterals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::CookieFileError;
using Reqivo::CookieJar;

namespace {

const QHash<QString, QString> &httpbin()
{
    static const QHash<QString, QString> env = ReqivoTest::loadPeerEnv(u"httpbin"_s);
    return env;
}

QUrl httpbinUrl(const QString &path = {})
{
    return ReqivoTest::peerUrl(httpbin(), u"HTTPBIN_URL"_s, path);
}

// /response-headers answering with one Set-Cookie field per \a fields entry.
QUrl setCookiesUrl(const QStringList &fields, const QUrl &base = httpbinUrl())
{
    QUrl url = base.resolved(QUrl(u"/response-headers"_s));
    QStringList items;
    for (const QString &field : fields)
        items.append(u"Set-Cookie="_s + QString::fromLatin1(QUrl::toPercentEncoding(field)));
    url.setQuery(items.join(u'&'));
    return url;
}

// httpbin's /cookies answer: the cookies it received, {name: value}.
QJsonObject cookiesOf(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object().value(u"cookies"_s).toObject();
}

// curl with \a arguments; its stdout, or a failed test (QVERIFY inside: call via QVERIFY too).
bool runCurl(const QStringList &arguments, QByteArray *out)
{
    QProcess curl;
    curl.start(
        u"curl"_s, QStringList {u"-sS"_s, u"--fail"_s, u"--max-time"_s, u"20"_s} + arguments);
    if (!curl.waitForFinished(30000)) {
        qWarning() << "curl did not finish" << arguments;
        curl.kill();
        curl.waitForFinished();
        return false;
    }
    *out = curl.readAllStandardOutput();
    if (curl.exitStatus() != QProcess::NormalExit || curl.exitCode() != 0) {
        qWarning() << "curl failed" << curl.exitCode() << curl.readAllStandardError() << arguments;
        return false;
    }
    return true;
}

// "--resolve host:port:127.0.0.1" for httpbin's port, so \a host reaches it.
QStringList resolveToHttpbin(const QString &host)
{
    return {u"--resolve"_s, u"%1:%2:127.0.0.1"_s.arg(host).arg(httpbinUrl().port())};
}

QUrl httpbinAs(const QString &host, const QString &path)
{
    QUrl url = httpbinUrl(path);
    url.setHost(host);
    return url;
}

} // namespace

class TestCookieFilePeers : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }

    void jarCarriedAcrossSessions()
    {
        const QString file = m_dir->filePath(u"jar.txt"_s);
        const QString withSession = m_dir->filePath(u"jar-session.txt"_s);
        RUN_CORO([&]() -> QCoro::Task<void> {
            auto first = std::make_unique<AsyncSession>(httpbinUrl());
            first->cookieJar()->setAutoSaveDelay(0ms);
            first->cookieJar()->setAutoSaveFile(file);
            const QUrl setUrl = setCookiesUrl({u"persist=1; Max-Age=3600; HttpOnly"_s,
                u"login=ok; Max-Age=3600; Path=/"_s, u"sess=2"_s});
            const Outcome set = co_await attempt(first->get(setUrl));
            CO_EXPECT_OK(set);
            CO_COMPARE(set.response.status(), 200);
            CO_COMPARE(first->cookieJar()->cookies().size(), qsizetype(3));
            CO_VERIFY(co_await waitUntil([&file] { return QFile::exists(file); }));
            CO_VERIFY(first->cookieJar()->saveToFile(withSession, CookieJar::SessionCookies::Keep));
        }());

        // The blocking Session, as another run of the program would.
        Reqivo::Session second(httpbinUrl());
        CookieFileError error;
        QVERIFY2(second.cookieJar()->loadFromFile(file, &error), qPrintable(error.toString()));
        Reqivo::Response shown = second.get(QUrl(u"/cookies"_s));
        QCOMPARE(shown.status(), 200);
        QCOMPARE(
            cookiesOf(shown.body()), (QJsonObject {{u"persist"_s, u"1"_s}, {u"login"_s, u"ok"_s}}));

        Reqivo::Session third(httpbinUrl());
        QVERIFY2(
            third.cookieJar()->loadFromFile(withSession, &error), qPrintable(error.toString()));
        shown = third.get(QUrl(u"/cookies"_s));
        QCOMPARE(cookiesOf(shown.body()),
            (QJsonObject {{u"persist"_s, u"1"_s}, {u"login"_s, u"ok"_s}, {u"sess"_s, u"2"_s}}));
    }

    void replyWithCookiesFromAFile()
    {
        // Signals and slots: a Reply's cookies are its session's, so a loaded file applies and
        // the cookies it brings reach the next save.
        const QString file = m_dir->filePath(u"reply.txt"_s);
        const qint64 nextYear = QDateTime::currentSecsSinceEpoch() + 365 * 24 * 3600;
        {
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("127.0.0.1\tFALSE\t/\tFALSE\t" + QByteArray::number(nextYear)
                + "\tfromfile\tyes\n");
        }
        AsyncSession session(httpbinUrl());
        QVERIFY(session.cookieJar()->loadFromFile(file));
        std::unique_ptr<Reqivo::Reply> reply(
            session.sendGet(setCookiesUrl({u"fromreply=1; Max-Age=3600"_s})));
        QSignalSpy finished(reply.get(), &Reqivo::Reply::finished);
        QVERIFY(finished.wait(30000));
        QVERIFY2(reply->error().isNull(), qPrintable(reply->error().toString()));
        reply.reset(session.sendGet(QUrl(u"/cookies"_s)));
        QSignalSpy shown(reply.get(), &Reqivo::Reply::finished);
        QVERIFY(shown.wait(30000));
        QCOMPARE(cookiesOf(reply->response().body()),
            (QJsonObject {{u"fromfile"_s, u"yes"_s}, {u"fromreply"_s, u"1"_s}}));
        QVERIFY(session.cookieJar()->saveToFile(file));
        CookieJar reloaded;
        QVERIFY(reloaded.loadFromFile(file));
        QCOMPARE(reloaded.cookies().size(), 2);
    }

    void curlWritesWeRead()
    {
        const QString file = m_dir->filePath(u"curl.txt"_s);
        QByteArray out;
        // Host-only, HttpOnly, a path and a session cookie from 127.0.0.1 ...
        QVERIFY(runCurl(
            {u"-c"_s, file,
                setCookiesUrl({u"plain=1; Max-Age=3600"_s, u"hidden=2; Max-Age=3600; HttpOnly"_s,
                                  u"scoped=3; Max-Age=3600; Path=/cookies"_s,
                                  u"other=4; Max-Age=3600; Path=/elsewhere"_s, u"sess=5"_s})
                    .toString(QUrl::FullyEncoded)},
            &out));
        // ... and a domain cookie from a name of another domain, added to the same file.
        QVERIFY(runCurl(resolveToHttpbin(u"www.cookies.test"_s)
                + QStringList {u"-b"_s, file, u"-c"_s, file,
                    setCookiesUrl({u"wide=6; Max-Age=3600; Domain=cookies.test"_s},
                        httpbinAs(u"www.cookies.test"_s, {}))
                        .toString(QUrl::FullyEncoded)},
            &out));
        const QByteArray text = [&file] {
            QFile f(file);
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        }();
        QVERIFY2(text.startsWith("# Netscape HTTP Cookie File"), text.constData());
        QVERIFY2(text.contains("#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t"), text.constData());
        QVERIFY2(text.contains(".cookies.test\tTRUE\t/\tFALSE\t"), text.constData());

        CookieJar probe;
        CookieFileError error;
        QVERIFY2(probe.loadFromFile(file, &error), qPrintable(error.toString()));
        QCOMPARE(probe.cookies().size(), 6);
        for (const QNetworkCookie &c : probe.cookies()) {
            QCOMPARE(c.isHttpOnly(), c.name() == "hidden");
            QCOMPARE(c.isSessionCookie(), c.name() == "sess");
            QCOMPARE(c.domain(), c.name() == "wide" ? u".cookies.test"_s : u"127.0.0.1"_s);
        }
        QCOMPARE(
            probe.cookieHeaderFor(QUrl(u"http://deep.www.cookies.test/"_s)), QByteArray("wide=6"));

        RUN_CORO([&]() -> QCoro::Task<void> {
            AsyncSession session(httpbinUrl());
            CookieFileError loadError;
            CO_VERIFY(session.cookieJar()->loadFromFile(file, &loadError));
            const QUrl cookiesPath(u"/cookies"_s);
            const Outcome shown = co_await attempt(session.get(cookiesPath));
            CO_EXPECT_OK(shown);
            // Not "other" (another path) nor "wide" (another domain).
            CO_COMPARE(cookiesOf(shown.response.body()),
                (QJsonObject {{u"plain"_s, u"1"_s}, {u"hidden"_s, u"2"_s}, {u"scoped"_s, u"3"_s},
                    {u"sess"_s, u"5"_s}}));
        }());
    }

    void weWriteCurlReads()
    {
        const QString file = m_dir->filePath(u"ours.txt"_s);
        const QUrl https = ReqivoTest::peerUrl(httpbin(), u"HTTPBIN_H2_URL"_s);
        const QString ca = ReqivoTest::peerValue(httpbin(), u"HTTPBIN_CA_FILE"_s);
        RUN_CORO([&]() -> QCoro::Task<void> {
            AsyncSession session(httpbinUrl());
            Reqivo::TlsOptions tls;
            QString tlsError;
            CO_VERIFY(tls.addCaCertificatesFromFile(ca, &tlsError));
            session.setTlsOptions(tls);
            const QUrl plainUrl
                = setCookiesUrl({u"plain=1; Max-Age=3600"_s, u"hidden=2; Max-Age=3600; HttpOnly"_s,
                    u"sess=3"_s, u"scoped=4; Max-Age=3600; Path=/elsewhere"_s});
            const Outcome plain = co_await attempt(session.get(plainUrl));
            CO_EXPECT_OK(plain);
            const QUrl secureUrl = setCookiesUrl({u"sec=5; Max-Age=3600; Secure"_s}, https);
            const Outcome secure = co_await attempt(session.get(secureUrl));
            CO_EXPECT_OK(secure);
            CO_COMPARE(session.cookieJar()->cookies().size(), qsizetype(5));
            CO_VERIFY(session.cookieJar()->saveToFile(file, CookieJar::SessionCookies::Keep));
        }());
        // A domain cookie and a host-only one of another domain, as if those hosts set them.
        {
            CookieJar jar;
            QVERIFY(jar.loadFromFile(file));
            Reqivo::Headers fields;
            fields.add("Set-Cookie", "wide=6; Domain=cookies.test; Max-Age=3600");
            fields.add("Set-Cookie", "apex=7; Max-Age=3600");
            jar.storeFromResponse(QUrl(u"http://cookies.test/"_s), fields);
            QVERIFY(jar.saveToFile(file, CookieJar::SessionCookies::Keep));
        }

        const QByteArray text = [&file] {
            QFile f(file);
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        }();
        QVERIFY2(text.contains("\n127.0.0.1\tFALSE\t/\tTRUE\t"), text.constData());
        QVERIFY2(text.contains("\n#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t"), text.constData());
        QVERIFY2(text.contains("\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsess\t3\n"), text.constData());

        QByteArray out;
        QVERIFY(
            runCurl({u"-b"_s, file, httpbinUrl(u"/cookies"_s).toString(QUrl::FullyEncoded)}, &out));
        // curl counts http://127.0.0.1 as a secure context, so "sec" may come along here.
        QJsonObject received = cookiesOf(out);
        received.remove(u"sec"_s);
        QCOMPARE(received,
            (QJsonObject {{u"plain"_s, u"1"_s}, {u"hidden"_s, u"2"_s}, {u"sess"_s, u"3"_s}}));
        // Secure: over https only.
        QVERIFY(runCurl({u"--cacert"_s, ca, u"-b"_s, file,
                            https.resolved(QUrl(u"/cookies"_s)).toString(QUrl::FullyEncoded)},
            &out));
        QCOMPARE(cookiesOf(out),
            (QJsonObject {{u"plain"_s, u"1"_s}, {u"hidden"_s, u"2"_s}, {u"sess"_s, u"3"_s},
                {u"sec"_s, u"5"_s}}));
        // Another host of the domain gets the domain cookie, not the host-only one.
        QVERIFY(runCurl(resolveToHttpbin(u"www.cookies.test"_s)
                + QStringList {u"-b"_s, file,
                    httpbinAs(u"www.cookies.test"_s, u"/cookies"_s).toString(QUrl::FullyEncoded)},
            &out));
        QCOMPARE(cookiesOf(out), (QJsonObject {{u"wide"_s, u"6"_s}}));
        QVERIFY(runCurl(resolveToHttpbin(u"cookies.test"_s)
                + QStringList {u"-b"_s, file,
                    httpbinAs(u"cookies.test"_s, u"/cookies"_s).toString(QUrl::FullyEncoded)},
            &out));
        QCOMPARE(cookiesOf(out), (QJsonObject {{u"wide"_s, u"6"_s}, {u"apex"_s, u"7"_s}}));
    }

private:
    std::unique_ptr<QTemporaryDir> m_dir;
};

QTEST_GUILESS_MAIN(TestCookieFilePeers)
#include "tst_cookiefile_peers.moc"
