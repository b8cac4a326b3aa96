// The blocking Session against httpbin and nginx on loopback: every behaviour the co_await path
// has, asked again through the sync twin — query and headers, every kind of body, status codes
// and raiseForStatus(), redirects (history, method rewriting, limits), cookies, auth,
// gzip/deflate, streamed bodies read with Session::readChunk(), HTTPS and mutual TLS, delays
// and deadlines. httpbin
// echoes each request as JSON, so the checks look at the wire from the server's side too.
//
// Registered twice: tst_sync_session_httpbin over HTTP/1.1, and tst_sync_session_httpbin_h2
// over HTTP/2 (support/http2mode.h): httpbin through the nginx with http2 in front of it, and
// nginx's h2 listener. Every test that makes a request checks which protocol answered.
#include "synctest.h"

#include <Reqivo/Body>
#include <Reqivo/Connection>
#include <Reqivo/CookieJar>
#include <Reqivo/Session>

#include <QBuffer>
#include <QJsonArray>
#include <QNetworkCookie>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SyncTest;
using Reqivo::Body;
using Reqivo::RequestOptions;
using Reqivo::Response;
using Reqivo::Session;

namespace {

enum class BodyKind { Bytes, Text, Json, Form, Buffer };

} // namespace

class TestSyncSessionHttpbin : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { ReqivoTest::trustHttp2PeersByDefault({u"httpbin"_s, u"nginx"_s}); }

    void getWithQueryAndHeaders()
    {
        Session session(httpbinUrl());
        session.setDefaultHeader("X-Default", "from the session");
        RequestOptions opts;
        opts.query.addQueryItem(u"a"_s, u"1"_s);
        opts.query.addQueryItem(u"b"_s, u"two words & more"_s);
        opts.header("X-Per-Request", "yes");
        const Outcome o = attempt([&] { return session.get(QUrl(u"/get?c=3"_s), opts); });
        EXPECT_OK(o);
        QCOMPARE(o.response.status(), 200);
        QCOMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
        QVERIFY(o.response.isSuccess());
        QCOMPARE(o.response.method(), QByteArray("GET"));
        QCOMPARE(o.response.url().path(), u"/get"_s);
        const QJsonObject args = jsonOf(o.response).value(u"args"_s).toObject();
        QCOMPARE(args.value(u"a"_s).toString(), u"1"_s);
        QCOMPARE(args.value(u"b"_s).toString(), u"two words & more"_s);
        QCOMPARE(args.value(u"c"_s).toString(), u"3"_s);
        QCOMPARE(echoedHeader(o.response, u"X-Default"_s), u"from the session"_s);
        QCOMPARE(echoedHeader(o.response, u"X-Per-Request"_s), u"yes"_s);
        QVERIFY2(echoedHeader(o.response, u"User-Agent"_s).startsWith(u"Reqivo-Qt/"_s),
            qPrintable(echoedHeader(o.response, u"User-Agent"_s)));
    }

    void requestHeaderOverridesDefault()
    {
        Session session(httpbinUrl());
        session.setDefaultHeader("X-Mode", "default");
        const Response overridden
            = session.get(QUrl(u"/headers"_s), RequestOptions().header("x-mode", "mine"));
        QCOMPARE(overridden.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(echoedHeader(overridden, u"X-Mode"_s), u"mine"_s);
        const Response plain = session.get(QUrl(u"/headers"_s));
        QCOMPARE(echoedHeader(plain, u"X-Mode"_s), u"default"_s);
    }

    void bodies_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<QString>("contentType");
        QTest::addColumn<QString>("field"); // where httpbin echoes it: data, json or form
        QTest::addColumn<QString>("expected"); // compact JSON for json/form, text for data
        QTest::newRow("bytes") << int(BodyKind::Bytes) << u"application/octet-stream"_s << u"data"_s
                               << u"raw bytes"_s;
        QTest::newRow("text") << int(BodyKind::Text) << u"text/plain; charset=utf-8"_s << u"data"_s
                              << u"h\u00e9llo w\u00f6rld"_s;
        QTest::newRow("JSON") << int(BodyKind::Json) << u"application/json"_s << u"json"_s
                              << uR"({"k":"v","n":1})"_s;
        QTest::newRow("form") << int(BodyKind::Form) << u"application/x-www-form-urlencoded"_s
                              << u"form"_s << uR"({"a":"1","b":"x y&z"})"_s;
        QTest::newRow("QBuffer") << int(BodyKind::Buffer) << u"application/octet-stream"_s
                                 << u"data"_s << u"from a device"_s;
    }
    void bodies()
    {
        QFETCH(int, kind);
        QFETCH(QString, contentType);
        QFETCH(QString, field);
        QFETCH(QString, expected);
        QBuffer buffer;
        Body body;
        switch (BodyKind(kind)) {
        case BodyKind::Bytes:
            body = Body::fromBytes("raw bytes");
            break;
        case BodyKind::Text:
            body = Body::fromText(u"h\u00e9llo w\u00f6rld"_s);
            break;
        case BodyKind::Json:
            body = Body::fromJson(QJsonObject {{u"k"_s, u"v"_s}, {u"n"_s, 1}});
            break;
        case BodyKind::Form:
            body = Body::fromForm(
                QList<std::pair<QString, QString>> {{u"a"_s, u"1"_s}, {u"b"_s, u"x y&z"_s}});
            break;
        case BodyKind::Buffer:
            buffer.setData("from a device");
            QVERIFY(buffer.open(QIODevice::ReadOnly));
            body = Body::fromDevice(&buffer);
            break;
        }
        Session session(httpbinUrl());
        const Outcome o = attempt([&] { return session.post(QUrl(u"/post"_s), body); });
        EXPECT_OK(o);
        QCOMPARE(o.response.status(), 200);
        QCOMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(echoedHeader(o.response, u"Content-Type"_s), contentType);
        const QJsonValue echoed = jsonOf(o.response).value(field);
        if (field == u"data"_s) {
            QCOMPARE(echoed.toString(), expected);
        } else {
            const QByteArray compact
                = QJsonDocument(echoed.toObject()).toJson(QJsonDocument::Compact);
            QCOMPARE(QString::fromUtf8(compact), expected);
        }
    }

    void methods_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::newRow("PUT") << QByteArray("PUT");
        QTest::newRow("PATCH") << QByteArray("PATCH");
        QTest::newRow("DELETE") << QByteArray("DELETE");
    }
    void methods()
    {
        QFETCH(QByteArray, method);
        Session session(httpbinUrl());
        Response r;
        const QUrl url(u"/anything/x"_s);
        if (method == "PUT")
            r = session.put(url, Body::fromText(u"put it"_s));
        else if (method == "PATCH")
            r = session.patch(url, Body::fromText(u"put it"_s));
        else
            r = session.deleteResource(url);
        QCOMPARE(r.status(), 200);
        QCOMPARE(r.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(r.method(), method);
        QCOMPARE(jsonOf(r).value(u"method"_s).toString(), QString::fromLatin1(method));
        if (method != "DELETE")
            QCOMPARE(jsonOf(r).value(u"data"_s).toString(), u"put it"_s);
    }

    void headAndOptions()
    {
        Session session(httpbinUrl());
        const Response head = session.head(QUrl(u"/get"_s));
        QCOMPARE(head.status(), 200);
        QCOMPARE(head.httpVersion(), ReqivoTest::expectedHttpVersion());
        QVERIFY(head.body().isEmpty());
        QVERIFY(head.headers().value("content-length").toInt() > 0);
        const Response options = session.options(QUrl(u"/get"_s));
        QCOMPARE(options.status(), 200);
        QVERIFY2(options.headers().combinedValue("allow").contains("GET"),
            options.headers().combinedValue("allow").constData());
        // Both were read to their end: the next request reuses the connection.
        QVERIFY(session.get(QUrl(u"/get"_s)).connectionReused());
    }

    // 4xx and 5xx are responses, not exceptions, until raiseForStatus() is asked.
    void statusCodes_data()
    {
        QTest::addColumn<int>("status");
        for (int s : {200, 201, 204, 404, 418, 500, 503})
            QTest::addRow("%d", s) << s;
    }
    void statusCodes()
    {
        QFETCH(int, status);
        Session session(httpbinUrl());
        const Outcome o = attempt([&] { return session.get(QUrl(u"/status/%1"_s.arg(status))); });
        EXPECT_OK(o);
        QCOMPARE(o.response.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(o.response.status(), status);
        QCOMPARE(o.response.isSuccess(), status < 300);
        const Reqivo::Error raised = errorOf([&] { o.response.raiseForStatus(); });
        if (status < 400) {
            QVERIFY2(raised.isNull(), qPrintable(raised.toString()));
        } else {
            QCOMPARE(raised.typeName(), u"StatusError"_s);
            QCOMPARE(raised.code(), status);
            QVERIFY(raised.isA(Reqivo::Error::Kind::Request));
        }
        // raiseForStatus() as a StatusError the blocking caller can catch by class.
        bool caught = false;
        try {
            o.response.raiseForStatus();
        } catch (const Reqivo::StatusError &e) {
            caught = true;
            QCOMPARE(e.error().code(), status);
        }
        QCOMPARE(caught, status >= 400);
    }

    void redirectChain()
    {
        Session session(httpbinUrl());
        const Response r = session.get(QUrl(u"/redirect/3"_s));
        QCOMPARE(r.status(), 200);
        QCOMPARE(r.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(r.url(), httpbinUrl(u"/get"_s));
        const QList<Response> history = r.history();
        QCOMPARE(history.size(), qsizetype(3));
        for (const Response &hop : history) {
            QCOMPARE(hop.status(), 302);
            QVERIFY(hop.body().isEmpty());
        }
        QCOMPARE(history.first().url(), httpbinUrl(u"/redirect/3"_s));
    }

    void redirectMethodRules_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("expectedMethod");
        QTest::addColumn<bool>("keepsBody");
        QTest::newRow("POST 303 becomes GET") << 303 << QByteArray("GET") << false;
        QTest::newRow("POST 307 keeps POST and its body") << 307 << QByteArray("POST") << true;
        QTest::newRow("POST 308 keeps POST and its body") << 308 << QByteArray("POST") << true;
    }
    void redirectMethodRules()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, expectedMethod);
        QFETCH(bool, keepsBody);
        Session session(httpbinUrl());
        RequestOptions opts;
        opts.query.addQueryItem(u"url"_s, u"/anything"_s);
        opts.query.addQueryItem(u"status_code"_s, QString::number(status));
        const Response r = session.post(
            QUrl(u"/redirect-to"_s), Body::fromJson(QJsonObject {{u"k"_s, u"v"_s}}), opts);
        QCOMPARE(r.status(), 200);
        QCOMPARE(r.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(r.method(), expectedMethod);
        QCOMPARE(r.history().size(), qsizetype(1));
        QCOMPARE(r.history().first().status(), status);
        QCOMPARE(jsonOf(r).value(u"method"_s).toString(), QString::fromLatin1(expectedMethod));
        if (keepsBody)
            QCOMPARE(jsonOf(r).value(u"json"_s).toObject(), (QJsonObject {{u"k"_s, u"v"_s}}));
        else
            QCOMPARE(jsonOf(r).value(u"data"_s).toString(), QString());
    }

    void redirectLimits()
    {
        Session session(httpbinUrl());
        QCOMPARE(session.maxRedirects(), 30);
        session.setMaxRedirects(2);
        EXPECT_ERROR(
            attempt([&] { return session.get(QUrl(u"/redirect/3"_s)); }), "TooManyRedirects");
        bool caught = false;
        try {
            session.get(QUrl(u"/redirect/3"_s));
        } catch (const Reqivo::TooManyRedirects &) {
            caught = true;
        }
        QVERIFY(caught);
        session.setMaxRedirects(3);
        const Outcome exact = attempt([&] { return session.get(QUrl(u"/redirect/3"_s)); });
        EXPECT_OK(exact);
        QCOMPARE(exact.response.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(exact.response.history().size(), qsizetype(3));

        session.setFollowRedirects(false);
        const Response notFollowed = session.get(QUrl(u"/redirect/1"_s));
        QCOMPARE(notFollowed.status(), 302);
        QVERIFY(notFollowed.isRedirect());
        QCOMPARE(notFollowed.history().size(), qsizetype(0));
    }

    // Set by one response (behind a redirect), sent with the next request, kept in the jar.
    void cookiesRoundTrip()
    {
        Session session(httpbinUrl());
        const Response set = session.get(QUrl(u"/cookies/set?flavour=oat&count=2"_s));
        QCOMPARE(set.status(), 200);
        QCOMPARE(set.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(set.history().size(), qsizetype(1));
        const QJsonObject sent = jsonOf(set).value(u"cookies"_s).toObject();
        QCOMPARE(sent.value(u"flavour"_s).toString(), u"oat"_s);
        QCOMPARE(sent.value(u"count"_s).toString(), u"2"_s);

        const Response again = session.get(QUrl(u"/cookies"_s));
        QCOMPARE(
            jsonOf(again).value(u"cookies"_s).toObject().value(u"flavour"_s).toString(), u"oat"_s);
        QVERIFY(session.cookieJar()
                    ->cookieHeaderFor(httpbinUrl(u"/cookies"_s))
                    .contains("flavour=oat"));

        session.get(QUrl(u"/cookies/delete?flavour"_s));
        const Response after = session.get(QUrl(u"/cookies"_s));
        QVERIFY(!jsonOf(after).value(u"cookies"_s).toObject().contains(u"flavour"_s));
    }

    void basicAuth()
    {
        Session session(httpbinUrl());
        QCOMPARE(session.get(QUrl(u"/basic-auth/alice/s3cret"_s)).status(), 401);
        session.setBasicAuth(u"alice"_s, u"s3cret"_s);
        const Response ok = session.get(QUrl(u"/basic-auth/alice/s3cret"_s));
        QCOMPARE(ok.status(), 200);
        QCOMPARE(ok.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(jsonOf(ok).value(u"authenticated"_s).toBool(), true);
        QCOMPARE(jsonOf(ok).value(u"user"_s).toString(), u"alice"_s);
        session.setBasicAuth(u"alice"_s, u"wrong"_s);
        QCOMPARE(session.get(QUrl(u"/basic-auth/alice/s3cret"_s)).status(), 401);
        session.clearAuth();
        QCOMPARE(echoedHeader(session.get(QUrl(u"/headers"_s)), u"Authorization"_s), QString());
    }

    void bearerToken()
    {
        Session session(httpbinUrl());
        QCOMPARE(session.get(QUrl(u"/bearer"_s)).status(), 401);
        session.setBearerToken(u"t0k3n"_s);
        const Response ok = session.get(QUrl(u"/bearer"_s));
        QCOMPARE(ok.status(), 200);
        QCOMPARE(ok.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(jsonOf(ok).value(u"token"_s).toString(), u"t0k3n"_s);
    }

    void compressedBodies_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("flag");
        QTest::addColumn<QByteArray>("coding");
        QTest::newRow("gzip") << u"/gzip"_s << u"gzipped"_s << QByteArray("gzip");
        QTest::newRow("deflate") << u"/deflate"_s << u"deflated"_s << QByteArray("deflate");
        QTest::newRow("br") << u"/brotli"_s << u"brotli"_s << QByteArray("br");
    }
    void compressedBodies()
    {
        QFETCH(QString, path);
        QFETCH(QString, flag);
        QFETCH(QByteArray, coding);
        Session session(httpbinUrl());
        const Response decoded = session.get(QUrl(path));
        QCOMPARE(decoded.status(), 200);
        QCOMPARE(decoded.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(decoded.headers().value("content-encoding").toByteArray(), coding);
        QCOMPARE(jsonOf(decoded).value(flag).toBool(), true);
        QVERIFY(echoedHeader(decoded, u"Accept-Encoding"_s).contains(QString::fromLatin1(coding)));

        // Not decoding: the bytes come as sent, and no Accept-Encoding is offered.
        session.setDecompress(false);
        RequestOptions opts;
        opts.header("Accept-Encoding", coding);
        const Response raw = session.get(QUrl(path), opts);
        QCOMPARE(raw.status(), 200);
        QVERIFY(!raw.body().isEmpty());
        QVERIFY(!raw.body().startsWith('{'));
        if (coding == "gzip")
            QVERIFY(raw.body().startsWith("\x1f\x8b"));
    }

    // Session::readChunk() until it returns an empty array gives the same bytes as a buffered
    // request; the pieces respect maxBytes; the connection goes back to the pool at the end.
    void streamedBody_data()
    {
        QTest::addColumn<qint64>("maxBytes");
        QTest::newRow("whatever arrives") << qint64(0);
        QTest::newRow("at most 1000 bytes") << qint64(1000);
        QTest::newRow("at most 7 bytes") << qint64(7);
    }
    void streamedBody()
    {
        QFETCH(qint64, maxBytes);
        Session session(httpbinUrl());
        const QUrl url(u"/stream-bytes/30000?seed=7&chunk_size=1024"_s);
        const QByteArray buffered = session.get(url).body();
        QCOMPARE(buffered.size(), qsizetype(30000));

        Response r = session.get(url, RequestOptions().streaming());
        QCOMPARE(r.status(), 200);
        QCOMPARE(r.httpVersion(), ReqivoTest::expectedHttpVersion());
        QVERIFY(r.isStreaming());
        QVERIFY(r.body().isEmpty());
        QByteArray all;
        int pieces = 0;
        while (true) {
            const QByteArray piece = Session::readChunk(r, maxBytes);
            if (piece.isEmpty())
                break;
            ++pieces;
            if (maxBytes > 0)
                QVERIFY2(piece.size() <= maxBytes, qPrintable(QString::number(piece.size())));
            all += piece;
        }
        QCOMPARE(all.size(), buffered.size());
        QCOMPARE(all, buffered);
        if (maxBytes == 7)
            QVERIFY(pieces >= 30000 / 7);
        QVERIFY(Session::readChunk(r).isEmpty()); // stays at the end
        QVERIFY(session.get(QUrl(u"/get"_s)).connectionReused());
    }

    void streamedReadAll()
    {
        Session session(httpbinUrl());
        Response r = session.get(QUrl(u"/stream/5"_s), RequestOptions().streaming());
        QCOMPARE(r.status(), 200);
        QCOMPARE(r.httpVersion(), ReqivoTest::expectedHttpVersion());
        const QByteArray all = Session::readAll(r);
        QCOMPARE(all.count('\n'), qsizetype(5));
        QCOMPARE(r.body(), all);
    }

    // nginx's 16 MiB file, streamed: the exact bytes (sha256) in bounded pieces (over HTTP/2,
    // from its h2 listener).
    void largeFileStreamedFromNginx()
    {
        Session session;
        Response r = session.get(
            nginxUrl(nginxValue(u"NGINX_LARGE_PATH"_s)), RequestOptions().streaming());
        QCOMPARE(r.status(), 200);
        QCOMPARE(r.httpVersion(), ReqivoTest::expectedHttpVersion());
        const qint64 size = nginxValue(u"NGINX_LARGE_SIZE"_s).toLongLong();
        QCOMPARE(r.expectedSize(), size);
        QCryptographicHash hash(QCryptographicHash::Sha256);
        qint64 total = 0;
        while (true) {
            const QByteArray piece = Session::readChunk(r, 64 * 1024);
            if (piece.isEmpty())
                break;
            QVERIFY(piece.size() <= 64 * 1024);
            total += piece.size();
            hash.addData(piece);
        }
        QCOMPARE(total, size);
        QCOMPARE(r.bytesReceived(), size);
        QCOMPARE(hash.result().toHex(), nginxValue(u"NGINX_LARGE_SHA256"_s).toLatin1());
    }

    // TLS through the blocking classes: the test CA trusted or not, a client certificate for
    // nginx's mTLS port, and the byte-level Connection over TLS. Over HTTP/2 the HTTPS port is
    // nginx's h2 listener (the same certificate); the mTLS port and Connection, which offers
    // only http/1.1, stay HTTP/1.1.
    void https()
    {
        Reqivo::TlsOptions tls;
        QString error;
        QVERIFY2(tls.addCaCertificatesFromFile(nginxValue(u"NGINX_CA_FILE"_s), &error),
            qPrintable(error));
        const QUrl url = ReqivoTest::modePeerUrl(nginxEnv(), u"NGINX_HTTPS_URL"_s, u"/small.txt"_s);

        {
            // Over HTTP/2 Qt's default configuration trusts the test CA: not in this scope.
            ReqivoTest::UntrustedDefaultScope untrusted;
            Session untrusting;
            EXPECT_ERROR(attempt([&] { return untrusting.get(url); }), "TlsError");
        }

        Session session;
        session.setTlsOptions(tls);
        const Response first = session.get(url);
        QCOMPARE(first.status(), 200);
        QCOMPARE(first.httpVersion(), ReqivoTest::expectedHttpVersion());
        QCOMPARE(first.body(), QByteArray("Hello from nginx\n"));
        QVERIFY(session.get(url).connectionReused());

        const QUrl whoami = ReqivoTest::peerUrl(nginxEnv(), u"NGINX_MTLS_URL"_s, u"/whoami"_s);
        QCOMPARE(session.get(whoami).status(), 400); // no client certificate
        QVERIFY2(tls.setClientCertificateFromFiles(
                     nginxValue(u"NGINX_CLIENT_CERT"_s), nginxValue(u"NGINX_CLIENT_KEY"_s), &error),
            qPrintable(error));
        session.setTlsOptions(tls);
        const Response me = session.get(whoami);
        QCOMPARE(me.status(), 200);
        QCOMPARE(me.httpVersion(), u"1.1"_s); // the mTLS port has no HTTP/2
        QVERIFY2(me.text().contains(u"CN=reqivo-client"_s), qPrintable(me.text()));

        Reqivo::Connection connection;
        Reqivo::Endpoint endpoint = Reqivo::Endpoint::fromUrl(url);
        endpoint.tlsOptions = tls;
        connection.connectToHost(endpoint, 5s);
        QVERIFY(connection.isEncrypted());
        connection.write(
            "GET /small.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 5s);
        QByteArray raw;
        while (true) {
            const QByteArray piece = connection.read(5s);
            if (piece.isEmpty())
                break;
            raw += piece;
        }
        QVERIFY2(raw.startsWith("HTTP/1.1 200 OK\r\n"), raw.left(100).constData());
        QVERIFY(raw.endsWith("Hello from nginx\n"));
    }

    void delayGivesReadTimeout()
    {
        Session session(httpbinUrl());
        Reqivo::Timeout t;
        t.read = 1s;
        session.setTimeout(t);
        const Outcome o = attempt([&] { return session.get(QUrl(u"/delay/3"_s)); });
        EXPECT_ERROR(o, "ReadTimeout");
        QVERIFY2(
            o.took >= 900ms && o.took < 2800ms, qPrintable(u"took %1 ms"_s.arg(o.took.count())));
        bool caught = false;
        try {
            session.get(QUrl(u"/delay/3"_s));
        } catch (const Reqivo::TimeoutError &) { // caught as its base class, like co_await's
            caught = true;
        }
        QVERIFY(caught);
        const Outcome fine = attempt([&] {
            return session.get(
                QUrl(u"/delay/0.2"_s), RequestOptions().withTimeout(Reqivo::Timeout {}));
        });
        EXPECT_OK(fine);
        QCOMPARE(fine.response.httpVersion(), ReqivoTest::expectedHttpVersion());
    }

    // Timeout::total bounds the whole request, redirects included.
    void totalDeadline()
    {
        Session session(httpbinUrl());
        Reqivo::Timeout t;
        t.total = 700ms;
        session.setTimeout(t);
        const Outcome o = attempt([&] { return session.get(QUrl(u"/delay/2"_s)); });
        QVERIFY2(!o.ok() && o.error.isA(Reqivo::Error::Kind::Timeout), qPrintable(o.describe()));
        // The session goes on, on the same protocol, within the deadline.
        const Outcome next = attempt([&] { return session.get(QUrl(u"/get"_s)); });
        EXPECT_OK(next);
        QCOMPARE(next.response.httpVersion(), ReqivoTest::expectedHttpVersion());
        QVERIFY2(
            o.took >= 600ms && o.took < 1900ms, qPrintable(u"took %1 ms"_s.arg(o.took.count())));
    }
};

QTEST_GUILESS_MAIN(TestSyncSessionHttpbin)
#include "tst_sync_session_httpbin.moc"
