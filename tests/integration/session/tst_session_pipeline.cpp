// The request pipeline's promises, from the outside, against a scripted server that records every
// byte: the query is sent exactly as given, Host is never doubled, credentials are checked before
// anything is sent, hooks see the fields that go out, a redirect is followed without waiting for
// its body, "Keep-Alive: timeout=0" is honoured, uploads from pausing devices arrive whole (or
// fail with WriteTimeout), and an unread streamed body gives its connection back.
#include "faultserver.h"
#include "sessiontest.h"
#include "support/peers.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Body>
#include <Reqivo/asyncconnectionpool.h>

#include <QFile>
#include <QProcess>
#include <QSslConfiguration>
#include <QSslKey>
#include <QTcpServer>
#include <QTcpSocket>
#include <QRegularExpression>
#include <QUrlQuery>

#include <optional>
#include <thread>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::Endpoint;
using Reqivo::PreparedRequest;
using Reqivo::RequestOptions;
using Reqivo::Response;
using Reqivo::Timeout;

Q_DECLARE_METATYPE(Reqivo::RequestOptions)

namespace {

FaultServer::Handler answer(QByteArray body = "ok", QByteArray fields = {})
{
    return [body, fields](ServerConnection &c, const ReceivedRequest &) {
        c.write(httpResponse(200, body, fields));
    };
}

// A sequential device fed by the test: data arrives when the test says, the end too.
class Producer : public QIODevice
{
public:
    Producer() { open(QIODevice::ReadOnly); }
    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override { return m_data.size() + QIODevice::bytesAvailable(); }
    void produce(const QByteArray &bytes)
    {
        m_data += bytes;
        Q_EMIT readyRead();
    }
    void finish()
    {
        m_finished = true;
        Q_EMIT readChannelFinished();
    }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        if (m_data.isEmpty())
            return m_finished ? -1 : 0;
        const qint64 n = std::min(maxSize, qint64(m_data.size()));
        std::memcpy(data, m_data.constData(), size_t(n));
        m_data.remove(0, n);
        return n;
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    QByteArray m_data;
    bool m_finished = false;
};

QByteArray decodedQueryValue(const QByteArray &target, const QString &key)
{
    // As a form decoder (the way servers read queries) would: '+' is a space.
    QByteArray query = target.mid(target.indexOf('?') + 1);
    query.replace('+', ' ');
    const QUrlQuery q(QString::fromLatin1(query));
    return q.queryItemValue(key, QUrl::FullyDecoded).toUtf8();
}

} // namespace

class TestSessionPipeline : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void queryKeepsValuesExactly()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answer());
            AsyncSession session;
            RequestOptions opts;
            const QList<std::pair<QString, QString>> items {{u"plus"_s, u"1+1"_s},
                {u"pct"_s, u"50%"_s}, {u"amp"_s, u"a&b"_s}, {u"eq"_s, u"x=y"_s},
                {u"sp"_s, u"a b"_s}, {u"utf"_s, u"é"_s}};
            for (const auto &[k, v] : items)
                opts.query.addQueryItem(k, v);
            const Outcome o = co_await attempt(session.get(server.url(u"/q?keep=1"_s), opts));
            CO_EXPECT_OK(o);
            const QByteArray target = server.requests().value(0).target;
            CO_VERIFY2(target.startsWith("/q?keep=1&"), target.constData());
            for (const auto &[k, v] : items)
                CO_COMPARE(QString::fromUtf8(decodedQueryValue(target, k)), v);
        }());
    }

    void callerHostReplacesDerived()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answer());
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url(),
                RequestOptions().header("Host", "api.internal")));
            CO_EXPECT_OK(o);
            const ReceivedRequest r = server.requests().value(0);
            int hosts = 0;
            for (const auto &[name, value] : r.fields)
                hosts += name.compare("host", Qt::CaseInsensitive) == 0;
            CO_COMPARE(hosts, 1);
            CO_COMPARE(r.field("host"), QByteArray("api.internal"));
        }());
    }

    void refusedBeforeSending_data()
    {
        QTest::addColumn<RequestOptions>("options");
        QTest::addColumn<QString>("bearer");
        QTest::addColumn<QString>("user");
        QTest::newRow("two Host fields")
            << RequestOptions().header("Host", "a").header("Host", "b") << QString() << QString();
        QTest::newRow("Proxy-Authorization as a header")
            << RequestOptions().header("Proxy-Authorization", "Basic eDp5") << QString()
            << QString();
        QTest::newRow("Bearer token with a space") << RequestOptions() << u"abc def"_s << QString();
        QTest::newRow("Bearer token with a newline")
            << RequestOptions() << u"abc\r\nX-Evil: 1"_s << QString();
        QTest::newRow("Bearer token with '=' inside") << RequestOptions() << u"ab=c"_s << QString();
        QTest::newRow("Basic user-id with a colon") << RequestOptions() << QString() << u"a:b"_s;
        QTest::newRow("Basic user-id with a control")
            << RequestOptions() << QString() << u"a\u0001b"_s;
    }
    void refusedBeforeSending()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(RequestOptions, options);
            QFETCH(QString, bearer);
            QFETCH(QString, user);
            FaultServer server(answer());
            AsyncSession session;
            if (!bearer.isEmpty())
                session.setBearerToken(bearer);
            if (!user.isEmpty())
                session.setBasicAuth(user, u"pw"_s);
            const Outcome o = co_await attempt(session.get(server.url(), options));
            CO_EXPECT_ERROR(o, "RequestError");
            CO_COMPARE(server.connectionCount(), 0);
            // Valid credentials replace refused ones.
            session.setBearerToken(u"abc.DEF-12_~+/=="_s);
            const Outcome ok = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(ok);
            CO_COMPARE(server.requests().value(0).field("authorization"),
                QByteArray("Bearer abc.DEF-12_~+/=="));
        }());
    }

    void urlCredentialsChecked()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answer());
            AsyncSession session;
            QUrl url = server.url();
            url.setUserName(u"a:b"_s); // encoded as %3A in the URL, a colon once decoded
            url.setPassword(u"pw"_s);
            const Outcome o = co_await attempt(session.get(url));
            CO_EXPECT_ERROR(o, "RequestError");
            CO_VERIFY(!o.error.message().contains(u"pw"_s));
            CO_COMPARE(server.connectionCount(), 0);
        }());
    }

    void hooksSeeWhatIsSent()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answer("ok", "Set-Cookie: k=v\r\n"));
            AsyncSession session;
            session.setBearerToken(u"tok"_s);
            co_await session.get(server.url()); // the jar now has k=v
            QList<QByteArray> seen;
            session.addRequestHook([&seen](PreparedRequest &r) {
                for (const auto &[name, value] : r.headers.toList())
                    seen << name.toLower() + ": " + value;
                r.headers.remove("cookie"); // a hook may drop what the session added
            });
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            const QByteArray host = "host: 127.0.0.1:" + QByteArray::number(server.port());
            CO_COMPARE(seen.value(0), host); // Host first, exactly once
            CO_VERIFY(seen.contains("authorization: Bearer tok"));
            CO_VERIFY(seen.contains("cookie: k=v"));
            const ReceivedRequest r = server.requests().value(1);
            CO_VERIFY(!r.hasField("cookie"));
            CO_COMPARE(r.field("authorization"), QByteArray("Bearer tok"));
            // A hook adding a second Host is refused before anything is sent.
            session.addRequestHook([](PreparedRequest &r) { r.headers.add("Host", "x"); });
            const Outcome twice = co_await attempt(session.get(server.url()));
            CO_EXPECT_ERROR(twice, "RequestError");
            CO_COMPARE(server.requests().size(), 2);
        }());
    }

    void conflictingLocationsAreAnError()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(302, {}, "Location: /a\r\nLocation: /b\r\n", "Found"));
            });
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_ERROR(o, "InvalidResponseError");
            CO_COMPARE(server.requests().size(), 1);
        }());
    }

    // A redirect whose body stalls is followed at once: its connection is dropped, not waited
    // on for the read timeout.
    void redirectBodyNeverWaitedFor()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                if (r.target == "/moved")
                    c.write("HTTP/1.1 302 Found\r\nLocation: /there\r\nContent-Length: 100000\r\n"
                            "\r\npartial");
                else
                    c.write(httpResponse(200, "arrived"));
            });
            AsyncSession session;
            Timeout t;
            t.read = 60s;
            session.setTimeout(t);
            const Outcome o = co_await attempt(session.get(server.url(u"/moved"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), QByteArray("arrived"));
            CO_COMPARE(o.response.history().size(), 1);
            CO_COMPARE(server.connectionCount(), 2); // the stalled one was not reused
        }());
    }

    // A small redirect body is drained and its connection reused; a large one costs it.
    void redirectBodyDrained_data()
    {
        QTest::addColumn<int>("size");
        QTest::addColumn<int>("connections");
        QTest::newRow("small body: connection reused") << 1000 << 1;
        QTest::newRow("body past the drain limit: new connection") << 300000 << 2;
    }
    void redirectBodyDrained()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(int, size);
            QFETCH(int, connections);
            FaultServer server([size](ServerConnection &c, const ReceivedRequest &r) {
                if (r.target == "/moved")
                    c.write(httpResponse(301, QByteArray(size, 'r'), "Location: /there\r\n",
                        "Moved"));
                else
                    c.write(httpResponse(200, "arrived"));
            });
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url(u"/moved"_s)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), QByteArray("arrived"));
            CO_COMPARE(server.connectionCount(), connections);
        }());
    }

    // Not followed: the 3xx is the answer, and its whole body is read as any other.
    void unfollowedRedirectKeepsItsBody()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const QByteArray big(200000, 'b');
            FaultServer server([big](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(302, big, "Location: ftp-less:/\r\n", "Found"));
            });
            AsyncSession session;
            session.setMaxRedirects(5);
            const Outcome o = co_await attempt(
                session.get(server.url(), RequestOptions().header("X", "1")));
            // "ftp-less:" is not http(s): a refusal, nothing read or followed.
            CO_EXPECT_ERROR(o, "RequestError");
            RequestOptions noFollow;
            noFollow.followRedirects = false;
            const Outcome kept = co_await attempt(session.get(server.url(), noFollow));
            CO_EXPECT_OK(kept);
            CO_COMPARE(kept.response.body(), big);
        }());
    }

    // RFC 9110 §15: a three-digit code outside 100-599 is processed as a server error: a
    // response that is no success and raises, never a rejected message.
    void statusOutsideTheRange_data()
    {
        QTest::addColumn<int>("status");
        QTest::newRow("000") << 0;
        QTest::newRow("099") << 99;
        QTest::newRow("600") << 600;
        QTest::newRow("999") << 999;
    }
    void statusOutsideTheRange()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(int, status);
            FaultServer server([status](ServerConnection &c, const ReceivedRequest &) {
                c.write("HTTP/1.1 " + QByteArray::number(status).rightJustified(3, '0')
                    + " Odd\r\nContent-Length: 4\r\n\r\nbody");
            });
            AsyncSession session;
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.status(), status);
            CO_VERIFY(!o.response.isNull());
            CO_VERIFY(!o.response.isSuccess());
            CO_COMPARE(o.response.body(), QByteArray("body"));
            bool raised = false;
            try {
                o.response.raiseForStatus();
            } catch (const Reqivo::StatusError &e) {
                raised = e.error().code() == status;
            }
            CO_VERIFY(raised);
        }());
    }

    void keepAliveTimeoutZeroIsNotPooled()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answer("ok", "Keep-Alive: timeout=0\r\n"));
            AsyncSession session;
            CO_EXPECT_OK(co_await attempt(session.get(server.url())));
            CO_COMPARE(session.pool()->idleCount(Endpoint::fromUrl(server.url())), 0);
            CO_EXPECT_OK(co_await attempt(session.get(server.url())));
            CO_COMPARE(server.connectionCount(), 2);
        }());
    }

    // A producer that pauses longer than a write timeout between pieces: every byte arrives,
    // and the body ends only when the producer says so.
    void pausingDeviceUploadIsWhole()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                c.write(httpResponse(200, QByteArray::number(r.body.size()) + ':' + r.body));
            });
            AsyncSession session;
            Timeout t;
            t.write = Timeout::noLimit; // a pause is never the end
            session.setTimeout(t);
            Producer producer;
            producer.produce("first-");
            auto task = session.post(server.url(), Body::fromDevice(&producer));
            CO_VERIFY(co_await waitUntil([&] { return server.bytesReceived() > 0; }));
            // The server got the head and the first piece; the device was silent meanwhile.
            producer.produce("second-");
            CO_VERIFY(co_await waitUntil([&] { return producer.bytesAvailable() == 0; }));
            producer.produce("third");
            producer.finish();
            const Outcome o = co_await attempt(std::move(task));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), QByteArray("18:first-second-third"));
            CO_VERIFY(server.requests().value(0).chunked);
        }());
    }

    void stalledDeviceIsWriteTimeout()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server(answer());
            AsyncSession session;
            Timeout t;
            t.write = 100ms;
            session.setTimeout(t);
            Producer producer;
            producer.produce("only-this");
            const Outcome o
                = co_await attempt(session.post(server.url(), Body::fromDevice(&producer)));
            CO_EXPECT_ERROR(o, "WriteTimeout");
            // Nothing was taken for a complete body: the server never saw the last chunk.
            CO_COMPARE(server.requests().size(), 0);
            CO_COMPARE(session.pool()->totalCount(), 0);
        }());
    }

    // Real sequential devices: a process that pauses, and a TCP socket fed in two pieces.
    void processUploadIsWhole()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                c.write(httpResponse(200, r.body));
            });
            AsyncSession session;
            QProcess producer;
            // The shell pauses between pieces; the body must not end at a pause.
            producer.start(u"/bin/sh"_s,
                {u"-c"_s, u"printf abc; sleep 0.3; printf def; sleep 0.3; printf ghi"_s});
            CO_VERIFY(producer.waitForStarted());
            const Outcome o
                = co_await attempt(session.post(server.url(), Body::fromDevice(&producer)));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), QByteArray("abcdefghi"));
        }());
    }

    void socketUploadIsWhole()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                c.write(httpResponse(200, r.body));
            });
            QTcpServer feeder;
            CO_VERIFY(feeder.listen(QHostAddress::LocalHost, 0));
            QTcpSocket source;
            source.connectToHost(QHostAddress::LocalHost, feeder.serverPort());
            CO_VERIFY(co_await waitUntil([&] { return feeder.hasPendingConnections(); }));
            QTcpSocket *sink = feeder.nextPendingConnection();
            CO_VERIFY(co_await waitUntil(
                [&] { return source.state() == QAbstractSocket::ConnectedState; }));
            AsyncSession session;
            sink->write("part one, ");
            auto task = session.post(server.url(), Body::fromDevice(&source));
            CO_VERIFY(co_await waitUntil([&] { return server.bytesReceived() > 0; }));
            sink->write("part two");
            sink->flush();
            CO_VERIFY(co_await waitUntil([&] { return source.bytesAvailable() == 0; }));
            sink->disconnectFromHost();
            const Outcome o = co_await attempt(std::move(task));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), QByteArray("part one, part two"));
        }());
    }

    // Over TLS a body delimited by the connection's end must end with close_notify: a bare FIN
    // may be anyone on the path cutting it short (RFC 9112 §9.8).
    void tlsBodyEndsWithCloseNotify_data()
    {
        QTest::addColumn<bool>("closeNotify");
        QTest::addColumn<bool>("contentLength");
        QTest::addColumn<QString>("expected"); // empty: a response
        QTest::newRow("close-delimited, close_notify then FIN") << true << false << QString();
        QTest::newRow("close-delimited, FIN without close_notify")
            << false << false << u"NetworkError"_s;
        QTest::newRow("Content-Length, FIN without close_notify") << false << true << QString();
    }
    void tlsBodyEndsWithCloseNotify()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            QFETCH(bool, closeNotify);
            QFETCH(bool, contentLength);
            QFETCH(QString, expected);
            const auto nginx = ReqivoTest::loadPeerEnv(u"nginx"_s);
            const QSslConfiguration serverTls = nginxServerTls(nginx);
            CO_VERIFY(!serverTls.privateKey().isNull());
            const QByteArray body(5000, 'b');
            FaultServer server(
                [=](ServerConnection &c, const ReceivedRequest &) {
                    c.write(contentLength
                            ? httpResponse(200, body, "Connection: close\r\n")
                            : "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body);
                    if (closeNotify) {
                        c.close(); // TLS shutdown: close_notify, then FIN
                    } else {
                        c.socket()->flush(); // to the kernel, then the TCP connection only
                        c.socket()->abort();
                    }
                });
            server.enableTls(serverTls);
            AsyncSession session;
            Reqivo::TlsOptions tls;
            CO_VERIFY(
                tls.addCaCertificatesFromFile(ReqivoTest::peerValue(nginx, u"NGINX_CA_FILE"_s)));
            session.setTlsOptions(tls);
            const Outcome o = co_await attempt(session.get(server.httpsUrl()));
            if (expected.isEmpty()) {
                CO_EXPECT_OK(o);
                CO_COMPARE(o.response.body(), body);
            } else {
                CO_VERIFY2(!o.ok(), "a truncatable body was taken as whole");
                CO_COMPARE(o.error.typeName(), expected);
                CO_COMPARE(o.error.detail(), u"truncated"_s);
            }
        }());
    }

    // A streamed Response released in another thread gives its connection back on the pool's
    // thread: no Qt object is touched from the wrong thread (any warning fails the test).
    void streamedResponseReleasedInAnotherThread()
    {
        QTest::failOnWarning(QRegularExpression(u".*"_s));
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nsome");
            });
            AsyncSession session;
            const Endpoint ep = Endpoint::fromUrl(server.url());
            std::optional<Response> r = co_await session.get(server.url(),
                RequestOptions().streaming());
            CO_COMPARE(session.pool()->activeCount(ep), 1);
            std::thread other([moved = std::move(*r)]() mutable { moved = Response(); });
            r.reset();
            other.join();
            CO_VERIFY(co_await waitUntil([&] { return session.pool()->activeCount(ep) == 0; }));
            CO_COMPARE(session.pool()->idleCount(ep), 0); // an unfinished body: not reusable
            const Outcome next = co_await attempt(session.get(server.url(),
                RequestOptions().streaming()));
            CO_EXPECT_OK(next);
        }());
    }

    // An unread streamed body lets its connection go after Timeout::streamIdle; reading it
    // later says why.
    void unreadStreamReleasesItsSlot()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nsome");
            });
            AsyncSession session;
            Timeout t;
            t.streamIdle = 100ms;
            session.setTimeout(t);
            const Outcome o
                = co_await attempt(session.get(server.url(), RequestOptions().streaming()));
            CO_EXPECT_OK(o);
            const Endpoint ep = Endpoint::fromUrl(server.url());
            CO_COMPARE(session.pool()->activeCount(ep), 1);
            CO_VERIFY(co_await waitUntil([&] { return session.pool()->activeCount(ep) == 0; }));
            Response r = o.response;
            const BytesOutcome late = co_await attemptBytes(r.readChunk());
            CO_VERIFY(!late.ok());
            CO_COMPARE(late.error.typeName(), u"ReadTimeout"_s);
        }());
    }
};

QTEST_GUILESS_MAIN(TestSessionPipeline)
#include "tst_session_pipeline.moc"
