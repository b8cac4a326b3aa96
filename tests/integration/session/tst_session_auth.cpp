// The auth step against scripted servers (faultserver.h): a 401 answered once with Digest or by
// an Authenticator (plain function or coroutine), the edge cases of the challenges (stale nonce,
// unknown algorithm, several challenges in one field and in several, auth-int only, malformed),
// a second 401 returned as it is, credentials kept to their origin across a redirect, a body
// that cannot be replayed, a streamed 401, and a 407 from an HTTP proxy that takes http://
// requests in absolute form (a scripted forward proxy). Each server checks the Digest answers it
// gets from the RFC 7616 definition, so a wrong hash is a 401 here as it would be anywhere.
#include "faultserver.h"
#include "sessiontest.h"

#include "protocol/httpauth.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Body>

#include <QCryptographicHash>
#include <QNetworkProxy>
#include <QTimer>

#include <QCoro/QCoroTimer>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::AuthAnswer;
using Reqivo::AuthRequest;
using Reqivo::Body;
using Reqivo::Credentials;
using Reqivo::RequestOptions;
using Reqivo::Response;

namespace {

// The fields of an Authorization: Digest value, by name (unquoted); empty when it is not one.
QMap<QByteArray, QByteArray> digestFields(const QByteArray &value)
{
    QList<Reqivo::Protocol::Auth::Challenge> parsed;
    Reqivo::Protocol::Auth::parseField(value, parsed);
    QMap<QByteArray, QByteArray> out;
    if (parsed.size() != 1 || !parsed.first().isScheme("Digest"))
        return out;
    for (const auto &[k, v] : parsed.first().params)
        out.insert(k, v);
    return out;
}

// True when \a value is a right Digest answer (qop=auth, or no qop) for \a method and the
// request's \a target with \a user and \a password, to \a nonce.
bool digestValid(const QByteArray &value, const QByteArray &method, const QByteArray &target,
    const QByteArray &user, const QByteArray &password, const QByteArray &nonce)
{
    const auto f = digestFields(value);
    if (f.value("username") != user || f.value("nonce") != nonce || f.value("uri") != target)
        return false;
    const QByteArray algorithm = f.value("algorithm", "MD5");
    const auto hash
        = algorithm.startsWith("SHA-256") ? QCryptographicHash::Sha256 : QCryptographicHash::Md5;
    const auto h
        = [hash](const QByteArray &d) { return QCryptographicHash::hash(d, hash).toHex(); };
    QByteArray ha1 = h(user + ':' + f.value("realm") + ':' + password);
    if (algorithm.endsWith("-sess"))
        ha1 = h(ha1 + ':' + nonce + ':' + f.value("cnonce"));
    const QByteArray ha2 = h(method + ':' + target);
    const QByteArray expected = f.contains("qop")
        ? h(ha1 + ':' + nonce + ':' + f.value("nc") + ':' + f.value("cnonce") + ":auth:" + ha2)
        : h(ha1 + ':' + nonce + ':' + ha2);
    return f.value("response") == expected;
}

QByteArray challenge(const QByteArray &fields, const QByteArray &body = "denied")
{
    return httpResponse(401, body, fields, "Unauthorized");
}

QByteArray digestChallenge(const QByteArray &nonce, const QByteArray &extra = "qop=\"auth\"")
{
    return "WWW-Authenticate: Digest realm=\"r\", nonce=\"" + nonce + "\", " + extra + "\r\n";
}

// A server that answers 200 to a right Digest answer for user/pass to the nonce it gave, and
// \a challengeFields otherwise.
FaultServer::Handler digestServer(QByteArray challengeFields, QByteArray nonce = "n1")
{
    return [challengeFields, nonce](ServerConnection &c, const ReceivedRequest &r) {
        if (digestValid(r.field("authorization"), r.method, r.target, "user", "pass", nonce))
            c.write(httpResponse(200, "ok"));
        else
            c.write(challenge(challengeFields));
    };
}

} // namespace

class TestSessionAuth : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Digest answered once, sent again once, through co_await.
    void digestAnswered_data()
    {
        QTest::addColumn<QByteArray>("fields");
        QTest::addColumn<QByteArray>("algorithm"); // what the answer names; empty: none
        const QByteArray w = "WWW-Authenticate: ";
        const QByteArray n = "Digest realm=\"r\", nonce=\"n1\"";
        QTest::newRow("MD5, qop=auth")
            << QByteArray(w + n + ", qop=\"auth\", algorithm=MD5\r\n") << QByteArray("MD5");
        QTest::newRow("SHA-256") << QByteArray(w + n + ", qop=\"auth\", algorithm=SHA-256\r\n")
                                 << QByteArray("SHA-256");
        QTest::newRow("SHA-256-sess")
            << QByteArray(w + n + ", qop=\"auth,auth-int\", algorithm=SHA-256-sess\r\n")
            << QByteArray("SHA-256-sess");
        QTest::newRow("RFC 2069, no qop") << QByteArray(w + n + "\r\n") << QByteArray();
        // Two challenges in one field: the first supported one.
        QTest::newRow("two in one field") << QByteArray(
            w + n + ", qop=auth, algorithm=SHA-256, " + n + ", qop=auth, algorithm=MD5\r\n")
                                          << QByteArray("SHA-256");
        QTest::newRow("unknown algorithm first") << QByteArray(
            w + n + ", qop=auth, algorithm=SHA-512-256, " + n + ", qop=auth, algorithm=MD5\r\n")
                                                 << QByteArray("MD5");
        // Basic is not answered with Digest credentials; the Digest after it is.
        QTest::newRow("Basic, then Digest")
            << QByteArray("WWW-Authenticate: Basic realm=\"r\", " + n + ", qop=auth\r\n")
            << QByteArray();
        // Several fields, read in order; a malformed one skipped.
        QTest::newRow("two fields") << QByteArray("WWW-Authenticate: Newauth realm=\"x\"\r\n"
                                                  "WWW-Authenticate: "
            + n + ", qop=auth, algorithm=SHA-256\r\n")
                                    << QByteArray("SHA-256");
        QTest::newRow("malformed field, then a good one") << QByteArray(
            "WWW-Authenticate: Digest realm=\"r\r\nWWW-Authenticate: " + n + ", qop=auth\r\n")
                                                          << QByteArray();
    }
    void digestAnswered()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, fields);
            QFETCH(QByteArray, algorithm);
            FaultServer server(digestServer(fields));
            AsyncSession session;
            session.setDigestAuth(u"user"_s, u"pass"_s);
            const Outcome o = co_await attempt(session.get(server.url(u"/dir/index.html?a=1"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(o.response.body(), QByteArray("ok"));
            CO_COMPARE(server.requests().size(), 2);
            CO_VERIFY(!server.requests()[0].hasField("authorization")); // nothing before asked
            const auto f = digestFields(server.requests()[1].field("authorization"));
            CO_COMPARE(f.value("algorithm"), algorithm);
            CO_COMPARE(f.value("uri"), QByteArray("/dir/index.html?a=1"));
            CO_COMPARE(server.connectionCount(), 1); // the 401's body was read: the same connection
        }());
    }

    // Not answered: the 401 comes back after one request.
    void notAnswered_data()
    {
        QTest::addColumn<QByteArray>("fields");
        QTest::newRow("unknown algorithm")
            << digestChallenge("n1", "qop=auth, algorithm=SHA-512-256");
        QTest::newRow("auth-int only") << digestChallenge("n1", "qop=\"auth-int\"");
        QTest::newRow("malformed")
            << QByteArray("WWW-Authenticate: Digest realm=\"r, nonce=\"n1\r\n");
        QTest::newRow("Basic only") << QByteArray("WWW-Authenticate: Basic realm=\"r\"\r\n");
        QTest::newRow("no challenge") << QByteArray();
    }
    void notAnswered()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, fields);
            FaultServer server(digestServer(fields));
            AsyncSession session;
            session.setDigestAuth(u"user"_s, u"pass"_s);
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 401);
            CO_COMPARE(o.response.body(), QByteArray("denied"));
            CO_COMPARE(server.requests().size(), 1);
        }());
    }

    // A wrong password: the second 401 is returned as it is, after exactly two requests.
    void secondUnauthorizedReturned()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(digestServer(digestChallenge("n1")));
            AsyncSession session;
            session.setDigestAuth(u"user"_s, u"wrong"_s);
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 401);
            CO_COMPARE(server.requests().size(), 2);
            CO_VERIFY(server.requests()[1].hasField("authorization"));
        }());
    }

    // stale=true: the credentials were right, the nonce expired; answered once more with the
    // new nonce (nc back to 1). A second stale is returned.
    void staleNonce_data()
    {
        QTest::addColumn<int>("staleAnswers"); // stale 401s the server sends before accepting
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("requests");
        QTest::newRow("once") << 1 << 200 << 3;
        QTest::newRow("twice") << 2 << 401 << 3;
    }
    void staleNonce()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(int, staleAnswers);
            QFETCH(int, status);
            QFETCH(int, requests);
            int stale = 0;
            FaultServer server(
                [&stale, staleAnswers](ServerConnection &c, const ReceivedRequest &r) {
                    const QByteArray nonce = "n" + QByteArray::number(stale + 1);
                    const QByteArray auth = r.field("authorization");
                    if (!digestValid(auth, r.method, r.target, "user", "pass", nonce)) {
                        c.write(challenge(digestChallenge(nonce)));
                    } else if (stale < staleAnswers) {
                        ++stale;
                        c.write(challenge(digestChallenge(
                            "n" + QByteArray::number(stale + 1), "qop=auth, stale=true")));
                    } else {
                        c.write(httpResponse(200, "ok"));
                    }
                });
            AsyncSession session;
            session.setDigestAuth(u"user"_s, u"pass"_s);
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), status);
            CO_COMPARE(server.requests().size(), requests);
            const auto last = digestFields(server.requests().last().field("authorization"));
            CO_COMPARE(last.value("nonce"), QByteArray("n2"));
            CO_COMPARE(last.value("nc"), QByteArray("00000001"));
        }());
    }

    // Per-request Digest credentials replace the session's; withoutAuth() answers nothing.
    void requestCredentials()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(digestServer(digestChallenge("n1")));
            AsyncSession session;
            session.setBasicAuth(u"other"_s, u"x"_s);
            const Outcome o = co_await attempt(session.get(server.url(),
                RequestOptions().withCredentials(Credentials::digest(u"user"_s, u"pass"_s))));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_VERIFY(!server.requests()[0].hasField("authorization")); // no Basic first
            session.setDigestAuth(u"user"_s, u"pass"_s);
            const Outcome none
                = co_await attempt(session.get(server.url(), RequestOptions().withoutAuth()));
            CO_COMPARE(none.response.status(), 401);
            CO_COMPARE(server.requests().size(), 3);
            // setBasicAuth() after setDigestAuth() replaces it: pre-emptive Basic, no Digest.
            session.setBasicAuth(u"user"_s, u"pass"_s);
            const Outcome basic = co_await attempt(session.get(server.url()));
            CO_COMPARE(basic.response.status(), 401);
            CO_COMPARE(server.requests().size(), 4);
            CO_VERIFY(server.requests().last().field("authorization").startsWith("Basic "));
            // Control characters are refused before anything is sent.
            session.setDigestAuth(u"user"_s, u"pa\nss"_s);
            const Outcome bad = co_await attempt(session.get(server.url()));
            CO_EXPECT_ERROR(bad, "RequestError");
            CO_COMPARE(server.requests().size(), 4);
        }());
    }

    // The Digest answer stays with its origin: a redirect to another origin gets no
    // Authorization, and a 401 there is not answered with the credentials.
    void crossOriginRedirect()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer other(digestServer(digestChallenge("o1")));
            FaultServer server([&other](ServerConnection &c, const ReceivedRequest &r) {
                if (digestValid(r.field("authorization"), r.method, r.target, "user", "pass", "n1"))
                    c.write(httpResponse(302, {},
                        "Location: " + other.url(u"/there"_s).toEncoded() + "\r\n", "Found"));
                else
                    c.write(challenge(digestChallenge("n1")));
            });
            AsyncSession session;
            session.setDigestAuth(u"user"_s, u"pass"_s);
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 401);
            CO_COMPARE(server.requests().size(), 2);
            CO_COMPARE(other.requests().size(), 1);
            CO_VERIFY(!other.requests()[0].hasField("authorization"));
            CO_COMPARE(o.response.history().size(), 1);
        }());
    }

    // The Authenticator: a plain function and a coroutine; what it is asked; its answer as
    // headers (the token refresh pattern) or as credentials; declining.
    void authenticator_data()
    {
        QTest::addColumn<bool>("coroutine");
        QTest::newRow("plain function") << false;
        QTest::newRow("coroutine") << true;
    }
    void authenticator()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(bool, coroutine);
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                if (r.field("authorization") == "Bearer fresh")
                    c.write(httpResponse(200, "ok"));
                else
                    c.write(challenge("WWW-Authenticate: Bearer realm=\"api\", "
                                      "error=\"invalid_token\"\r\n",
                        "expired"));
            });
            AsyncSession session;
            session.setBearerToken(u"stale"_s);
            QList<AuthRequest> asked;
            const auto answer = [&asked](AuthRequest r) {
                asked.append(r);
                return AuthAnswer::withHeaders({{"Authorization", "Bearer fresh"}});
            };
            if (coroutine) {
                session.setAuthenticator([&answer](AuthRequest r) -> QCoro::Task<AuthAnswer> {
                    QTimer timer; // the answer comes after a suspension, as a refresh would
                    timer.setSingleShot(true);
                    timer.start(1ms);
                    co_await timer;
                    co_return answer(std::move(r));
                });
            } else {
                session.setAuthenticator(answer);
            }
            const Outcome o = co_await attempt(
                session.post(server.url(u"/p?q=1"_s), Body::fromBytes("payload")));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(server.requests().size(), 2);
            CO_COMPARE(server.requests()[0].field("authorization"), QByteArray("Bearer stale"));
            CO_COMPARE(server.requests()[1].body, QByteArray("payload"));
            CO_COMPARE(asked.size(), 1);
            const AuthRequest &r = asked.first();
            CO_VERIFY(!r.proxy);
            CO_COMPARE(r.method, QByteArray("POST"));
            CO_COMPARE(r.url, server.url(u"/p?q=1"_s));
            CO_COMPARE(r.response.status(), 401);
            CO_COMPARE(r.response.body(), QByteArray("expired"));
            CO_COMPARE(r.challenges.size(), 1);
            CO_VERIFY(r.challenges[0].isScheme("bearer"));
            CO_COMPARE(r.challenges[0].param("error"), QByteArray("invalid_token"));
        }());
    }

    void authenticatorAnswers_data()
    {
        QTest::addColumn<int>("kind"); // 0 decline, 1 Basic, 2 Digest, 3 none credentials
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("requests");
        QTest::newRow("decline") << 0 << 401 << 1;
        QTest::newRow("Basic credentials") << 1 << 200 << 2;
        QTest::newRow("Digest credentials") << 2 << 200 << 2;
        QTest::newRow("Credentials::none()") << 3 << 401 << 1;
    }
    void authenticatorAnswers()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(int, kind);
            QFETCH(int, status);
            QFETCH(int, requests);
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                const QByteArray auth = r.field("authorization");
                if (auth == "Basic dXNlcjpwYXNz"
                    || digestValid(auth, r.method, r.target, "user", "pass", "n1"))
                    c.write(httpResponse(200, "ok"));
                else
                    c.write(challenge(
                        "WWW-Authenticate: Basic realm=\"r\"\r\n" + digestChallenge("n1")));
            });
            AsyncSession session;
            int calls = 0;
            session.setAuthenticator([kind, &calls](const AuthRequest &) {
                ++calls;
                switch (kind) {
                case 1:
                    return AuthAnswer::with(Credentials::basic(u"user"_s, u"pass"_s));
                case 2:
                    return AuthAnswer::with(Credentials::digest(u"user"_s, u"pass"_s));
                case 3:
                    return AuthAnswer::with(Credentials::none());
                default:
                    return AuthAnswer::decline();
                }
            });
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), status);
            CO_COMPARE(server.requests().size(), requests);
            CO_COMPARE(calls, 1);
        }());
    }

    // The 401's cookies go back with the answer (httpbin's Digest needs them).
    void challengeCookiesSentBack()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                if (r.field("cookie") == "sid=abc"
                    && digestValid(
                        r.field("authorization"), r.method, r.target, "user", "pass", "n1"))
                    c.write(httpResponse(200, "ok"));
                else
                    c.write(challenge(digestChallenge("n1") + "Set-Cookie: sid=abc\r\n"));
            });
            AsyncSession session;
            session.setDigestAuth(u"user"_s, u"pass"_s);
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(server.requests().size(), 2);
            CO_VERIFY(!server.requests()[0].hasField("cookie"));
        }());
    }

    // A body that cannot be sent again: no replay, the 401 is returned and the hook not asked.
    void bodyNotReplayable()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(digestServer(digestChallenge("n1")));
            AsyncSession session;
            session.setDigestAuth(u"user"_s, u"pass"_s);
            int calls = 0;
            session.setAuthenticator([&calls](const AuthRequest &) {
                ++calls;
                return AuthAnswer::decline();
            });
            const Outcome o = co_await attempt(session.post(server.url(),
                Body::fromGenerator([]() -> Body::Generator { co_yield QByteArray("x"); })));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 401);
            CO_COMPARE(server.requests().size(), 1);
            CO_COMPARE(calls, 0);
        }());
    }

    // A streamed request: the 401's body is drained, the replay's response streamed.
    void streamed()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                if (digestValid(r.field("authorization"), r.method, r.target, "user", "pass", "n1"))
                    c.write(httpResponse(200, QByteArray(100000, 'y')));
                else
                    c.write(challenge(digestChallenge("n1"), QByteArray(5000, 'x')));
            });
            AsyncSession session;
            session.setDigestAuth(u"user"_s, u"pass"_s);
            Outcome o = co_await attempt(session.get(server.url(), RequestOptions().streaming()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), 200);
            CO_VERIFY(o.response.isStreaming());
            const QByteArray all = co_await o.response.readAll();
            CO_COMPARE(all, QByteArray(100000, 'y'));
            CO_COMPARE(server.requests().size(), 2);
            CO_COMPARE(server.connectionCount(), 1);
        }());
    }

    // A 407 from an HTTP proxy that takes http:// requests in absolute form, answered with the
    // proxy's credentials (Basic or Digest), which never go to the origin.
    void proxyAbsoluteForm_data()
    {
        QTest::addColumn<QByteArray>("fields");
        QTest::addColumn<QByteArray>("scheme");
        QTest::newRow("Basic") << QByteArray("Proxy-Authenticate: Basic realm=\"proxy\"\r\n")
                               << QByteArray("Basic ");
        QTest::newRow("Digest") << QByteArray("Proxy-Authenticate: Digest realm=\"proxy\", "
                                              "nonce=\"p1\", qop=auth, algorithm=SHA-256\r\n")
                                << QByteArray("Digest ");
        // No credentials on the proxy: the Authenticator is asked (AuthRequest::proxy).
        QTest::newRow("Authenticator")
            << QByteArray("Proxy-Authenticate: Basic realm=\"proxy\"\r\n") << QByteArray("Basic ");
    }
    void proxyAbsoluteForm()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(QByteArray, fields);
            QFETCH(QByteArray, scheme);
            const QByteArray origin = "http://origin.test:8080/path?x=1";
            FaultServer proxy([fields, origin](ServerConnection &c, const ReceivedRequest &r) {
                const QByteArray auth = r.field("proxy-authorization");
                if (r.target != origin)
                    c.write(httpResponse(400, "not absolute form: " + r.target));
                else if (auth == "Basic " + QByteArray("pu:pp").toBase64()
                    || digestValid(auth, r.method, r.target, "pu", "pp", "p1"))
                    c.write(httpResponse(200, "via proxy"));
                else
                    c.write(httpResponse(407, "who", fields, "Proxy Authentication Required"));
            });
            const bool hook = QByteArrayView(QTest::currentDataTag()) == "Authenticator";
            AsyncSession session;
            session.setProxy(QNetworkProxy(QNetworkProxy::HttpProxy, u"127.0.0.1"_s, proxy.port(),
                hook ? QString() : u"pu"_s, hook ? QString() : u"pp"_s));
            QList<AuthRequest> asked;
            if (hook) {
                session.setAuthenticator([&asked](const AuthRequest &r) {
                    asked.append(r);
                    return AuthAnswer::with(Credentials::basic(u"pu"_s, u"pp"_s));
                });
            }
            const Outcome o = co_await attempt(session.get(QUrl(QString::fromLatin1(origin))));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), QByteArray("via proxy"));
            CO_COMPARE(o.response.status(), 200);
            CO_COMPARE(proxy.requests().size(), 2);
            CO_VERIFY(proxy.requests()[1].field("proxy-authorization").startsWith(scheme));
            CO_VERIFY(!proxy.requests()[1].hasField("authorization"));
            CO_COMPARE(asked.size(), hook ? 1 : 0);
            if (hook) {
                CO_VERIFY(asked[0].proxy);
                CO_COMPARE(asked[0].response.status(), 407);
                CO_COMPARE(asked[0].challenges[0].realm(), QByteArray("proxy"));
            }
        }());
    }
};

QTEST_GUILESS_MAIN(TestSessionAuth)
#include "tst_session_auth.moc"
