// Authentication against httpbin: its Digest endpoints (MD5, SHA-256, a 401 that needs its own
// cookies sent back) answered from setDigestAuth(), through co_await, the blocking Session and a
// Reply; Basic and Bearer answered by an Authenticator; a hidden 404 never asks it.
//
// Registered twice: tst_session_auth_httpbin over HTTP/1.1 and tst_session_auth_httpbin_h2 over
// HTTP/2 (httpbin behind nginx with http2, support/http2mode.h): Digest over HTTP/2 is the same
// exchange on a stream.
#include "sessiontest.h"
#include "support/http2mode.h"
#include "support/peers.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Reply>
#include <Reqivo/Session>

#include <QJsonObject>
#include <QSignalSpy>

using namespace Qt::StringLiterals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::AuthAnswer;
using Reqivo::AuthRequest;
using Reqivo::Credentials;
using Reqivo::Response;

namespace {

QUrl httpbinUrl()
{
    static const QUrl url
        = ReqivoTest::modePeerUrl(ReqivoTest::loadPeerEnv(u"httpbin"_s), u"HTTPBIN_URL"_s);
    return url;
}

QJsonObject jsonOf(const Response &r)
{
    return r.json().object();
}

} // namespace

class TestSessionAuthHttpbin : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { ReqivoTest::trustHttp2PeersByDefault({u"httpbin"_s}); }

    void digest_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("password");
        QTest::addColumn<int>("status");
        QTest::newRow("MD5") << u"/digest-auth/auth/user/passwd/MD5"_s << u"passwd"_s << 200;
        QTest::newRow("SHA-256") << u"/digest-auth/auth/user/passwd/SHA-256"_s << u"passwd"_s
                                 << 200;
        QTest::newRow("MD5, stale_after never")
            << u"/digest-auth/auth/user/passwd/MD5/never"_s << u"passwd"_s << 200;
        QTest::newRow("wrong password")
            << u"/digest-auth/auth/user/passwd/MD5"_s << u"nope"_s << 401;
    }
    void digest()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QString, path);
            QFETCH(QString, password);
            QFETCH(int, status);
            AsyncSession session(httpbinUrl());
            session.setDigestAuth(u"user"_s, password);
            const Outcome o = co_await attempt(session.get(QUrl(path)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            CO_COMPARE(o.response.status(), status);
            if (status == 200) {
                CO_COMPARE(jsonOf(o.response).value(u"authenticated"_s).toBool(), true);
                CO_COMPARE(jsonOf(o.response).value(u"user"_s).toString(), u"user"_s);
            }
        }());
    }

    // The blocking Session: the same step inside its nested event loop.
    void blockingSession()
    {
        Reqivo::Session session(httpbinUrl());
        session.setDigestAuth(u"user"_s, u"passwd"_s);
        const Response r = session.get(QUrl(u"/digest-auth/auth/user/passwd/SHA-256"_s));
        QCOMPARE(r.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(r.status(), 200);
        QCOMPARE(jsonOf(r).value(u"authenticated"_s).toBool(), true);
    }

    // A Reply: finished() once, with the answered response.
    void reply()
    {
        AsyncSession session(httpbinUrl());
        session.setDigestAuth(u"user"_s, u"passwd"_s);
        Reqivo::Reply *reply = session.sendGet(QUrl(u"/digest-auth/auth/user/passwd/MD5"_s));
        QSignalSpy finished(reply, &Reqivo::Reply::finished);
        QVERIFY(finished.wait(10000));
        QVERIFY2(reply->error().isNull(), qPrintable(reply->error().toString()));
        QCOMPARE(reply->response().httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(reply->response().status(), 200);
        QCOMPARE(finished.size(), 1);
        reply->deleteLater();
    }

    // The Authenticator answers Basic and Bearer challenges; a 404 in place of a 401
    // (/hidden-basic-auth) never asks it.
    void authenticator_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("calls");
        QTest::newRow("Basic") << u"/basic-auth/user/passwd"_s << 200 << 1;
        QTest::newRow("Bearer") << u"/bearer"_s << 200 << 1;
        QTest::newRow("hidden basic auth") << u"/hidden-basic-auth/user/passwd"_s << 404 << 0;
    }
    void authenticator()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QString, path);
            QFETCH(int, status);
            QFETCH(int, calls);
            AsyncSession session(httpbinUrl());
            int asked = 0;
            session.setAuthenticator([&asked](const AuthRequest &r) {
                ++asked;
                if (!r.challenges.isEmpty() && r.challenges.first().isScheme("Bearer"))
                    return AuthAnswer::withHeaders({{"Authorization", "Bearer t0k3n"}});
                return AuthAnswer::with(Credentials::basic(u"user"_s, u"passwd"_s));
            });
            const Outcome o = co_await attempt(session.get(QUrl(path)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
            CO_COMPARE(o.response.status(), status);
            CO_COMPARE(asked, calls);
            if (status == 200)
                CO_COMPARE(jsonOf(o.response).value(u"authenticated"_s).toBool(), true);
        }());
    }
};

QTEST_GUILESS_MAIN(TestSessionAuthHttpbin)
#include "tst_session_auth_httpbin.moc"
