// The blocking classes against an in-process server (in a thread of its own) that scripts every
// byte and every fault: timeouts, keep-alive reuse, the stale-connection retry, malformed
// responses, refused connections, refused header injection — through Session, the one-shot
// Request, and the byte-level Connection.
//
// One thing is special to blocking callers: between two calls no event loop runs on their
// thread, so the pool cannot learn from socket notifications that the server closed an idle
// connection. The tests below pause without an event loop where a blocking program would.
#include "synctest.h"
#include "threadedserver.h"

#include <Reqivo/Body>
#include <Reqivo/Connection>
#include <Reqivo/Request>
#include <Reqivo/Session>
#include <Reqivo/asyncconnectionpool.h>

#include <QCoreApplication>
#include <QEventLoop>
#include <QThread>
#include <QTimer>

#include <sys/socket.h>

#include <atomic>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SyncTest;
using Reqivo::Body;
using Reqivo::Connection;
using Reqivo::Endpoint;
using Reqivo::Request;
using Reqivo::RequestOptions;
using Reqivo::Response;
using Reqivo::Session;
using Reqivo::Timeout;

namespace {

Timeout withRead(std::chrono::milliseconds read)
{
    Timeout t;
    t.read = read;
    return t;
}

QString summary(const ThreadedServer &server, int idle, int active, int total)
{
    return u"http://127.0.0.1:%1 idle=%2 active=%3 | total=%4/100 waiting=0"_s.arg(server.port())
        .arg(idle)
        .arg(active)
        .arg(total);
}

//! Sleeps without running any event loop, as a blocking program does between calls.
void sleepWithoutEvents(std::chrono::milliseconds ms)
{
    QThread::msleep(ulong(ms.count()));
}

//! Polls \a condition (something the server thread reports) without running an event loop.
template<typename Condition>
bool waitWithoutEvents(Condition condition, std::chrono::milliseconds limit = 5s)
{
    QElapsedTimer timer;
    timer.start();
    while (!condition()) {
        if (timer.elapsed() > limit.count())
            return false;
        sleepWithoutEvents(5ms);
    }
    return true;
}

//! On the server thread: sends the FIN on \a c and returns once the client's kernel acknowledged
//! it (SIOCOUTQ counts the FIN until then), so a recv(MSG_PEEK) there sees the end of the stream
//! though no event loop ran on the client's side; then closes the connection. False if the
//! acknowledgement did not come.
bool closeOnceTheClientHasTheFin(ServerConnection &c)
{
    const int fd = int(c.socket()->socketDescriptor());
    bool acknowledged = ::shutdown(fd, SHUT_WR) == 0
        && waitWithoutEvents([fd] { return ReqivoTest::peerAcknowledgedAll(fd); });
    c.close();
    return acknowledged;
}

//! Delivers what is already queued for this thread (its posted events, then one turn of its
//! event loop), for "nothing more happens" checks, instead of waiting a while.
void deliverQueuedEvents()
{
    QCoreApplication::sendPostedEvents();
    QEventLoop loop;
    QTimer::singleShot(0, &loop, &QEventLoop::quit);
    loop.exec();
}

} // namespace

class TestSyncSessionFaults : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void keepAliveReuse()
    {
        ThreadedServer server(answerWithWhere);
        Session session;
        const Response first = session.get(server.url(u"/a"_s));
        QCOMPARE(first.body(), QByteArray("1.0"));
        QVERIFY(!first.connectionReused());
        QCOMPARE(session.async().pool()->debugSummary(), summary(server, 1, 0, 1));
        for (int i = 1; i <= 3; ++i) {
            sleepWithoutEvents(20ms);
            const Response next = session.get(server.url(u"/b"_s));
            QCOMPARE(next.body(), "1." + QByteArray::number(i));
            QVERIFY(next.connectionReused());
        }
        QCOMPARE(server.connectionCount(), 1);
        QCOMPARE(server.requestCount(), qsizetype(4));
        QCOMPARE(session.async().pool()->debugSummary(), summary(server, 1, 0, 1));
    }

    // The server closes the idle connection while the blocking program does something else
    // (no event loop runs, so no socket notification tells the pool). The pool must still not
    // hand it out — isUsableForReuse() asks the kernel for what the event loop has not
    // delivered — so even a POST, which may not be retried, goes out once, on a fresh
    // connection. Both at once after the client's kernel has the FIN and a while later (the
    // program idles; nothing depends on how long).
    void connectionClosedWhileIdleIsNotHandedOut_data()
    {
        QTest::addColumn<int>("pauseMs"); // after the FIN arrived, before the next request
        QTest::newRow("reused as soon as the FIN arrived") << 0;
        QTest::newRow("reused 300 ms after the FIN arrived") << 300;
    }
    void connectionClosedWhileIdleIsNotHandedOut()
    {
        QFETCH(int, pauseMs);
        std::atomic<ServerConnection *> first = nullptr;
        ThreadedServer server([&first](ServerConnection &c, const ReceivedRequest &r) {
            if (r.connection == 1)
                first = &c;
            answerWithWhere(c, r);
        });
        Session session;
        QCOMPARE(session.get(server.url()).body(), QByteArray("1.0"));
        // The connection is idle in the pool now; the server closes it, and we go on once the
        // client's kernel has the FIN.
        QVERIFY(first.load());
        bool finArrived = false;
        QMetaObject::invokeMethod(
            first.load(), [&] { finArrived = closeOnceTheClientHasTheFin(*first.load()); },
            Qt::BlockingQueuedConnection);
        QVERIFY(finArrived);
        if (pauseMs > 0)
            sleepWithoutEvents(std::chrono::milliseconds(pauseMs));
        const Outcome o
            = attempt([&] { return session.post(server.url(), Body::fromBytes("once")); });
        EXPECT_OK(o);
        QCOMPARE(o.response.body(), QByteArray("2.0"));
        QVERIFY(!o.response.connectionReused());
        QCOMPARE(server.requestCount(), qsizetype(2));
        QCOMPARE(server.requests().last().body, QByteArray("once"));
    }

    // The race the pool cannot see: the server reads the next request and closes without
    // answering. Idempotent requests are retried once on a fresh connection, others fail.
    void staleConnectionRetriedOnlyWhenSafe_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<bool>("retried");
        QTest::newRow("GET is retried") << QByteArray("GET") << true;
        QTest::newRow("PUT is retried") << QByteArray("PUT") << true;
        QTest::newRow("POST is not retried") << QByteArray("POST") << false;
    }
    void staleConnectionRetriedOnlyWhenSafe()
    {
        QFETCH(QByteArray, method);
        QFETCH(bool, retried);
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &r) {
            if (r.connection == 1 && r.indexOnConnection == 1)
                c.close();
            else
                answerWithWhere(c, r);
        });
        Session session;
        QCOMPARE(session.get(server.url(u"/warm-up"_s)).body(), QByteArray("1.0"));
        RequestOptions opts;
        if (method != "GET")
            opts.body = Body::fromBytes("payload");
        const Outcome o
            = attempt([&] { return session.request(method, server.url(u"/x"_s), opts); });
        if (retried) {
            EXPECT_OK(o);
            QCOMPARE(o.response.body(), QByteArray("2.0"));
            QCOMPARE(server.connectionCount(), 2);
            QCOMPARE(server.requestCount(), qsizetype(3));
        } else {
            EXPECT_ERROR(o, "NetworkError");
            QCOMPARE(server.connectionCount(), 1);
            QCOMPARE(server.requestCount(), qsizetype(2));
        }
        QCOMPARE(session.async().pool()->activeCount(Endpoint::fromUrl(server.url())), 0);
    }

    void silentServerGivesReadTimeout()
    {
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &r) {
            if (r.target == "/next")
                c.write(httpResponse(200, "next"));
        });
        Session session;
        session.setTimeout(withRead(300ms));
        const Outcome o = attempt([&] { return session.get(server.url()); });
        EXPECT_ERROR(o, "ReadTimeout");
        QVERIFY2(o.took >= 250ms && o.took < 3s, qPrintable(u"took %1 ms"_s.arg(o.took.count())));
        // The timed-out connection is not reused: the next request opens a new one.
        const Response next = session.get(server.url(u"/next"_s));
        QCOMPARE(next.body(), QByteArray("next"));
        QVERIFY(!next.connectionReused());
        QCOMPARE(server.connectionCount(), 2);
    }

    void perRequestReadTimeout()
    {
        ThreadedServer server([](ServerConnection &, const ReceivedRequest &) {});
        Session session;
        session.setTimeout(withRead(20s));
        const Outcome o = attempt([&] {
            return session.get(server.url(), RequestOptions().withTimeout(withRead(200ms)));
        });
        EXPECT_ERROR(o, "ReadTimeout");
        QVERIFY2(o.took < 3s, qPrintable(u"took %1 ms"_s.arg(o.took.count())));
    }

    // Every byte arrives within the read timeout, but the whole response would take 4 s.
    void totalDeadlineAcrossSlowTrickle()
    {
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &) {
            const QByteArray bytes = httpResponse(200, QByteArray(200, 'z'));
            for (qsizetype i = 0; i < bytes.size(); ++i)
                c.writeLater(bytes.mid(i, 1), std::chrono::milliseconds(20 * i));
        });
        Session session;
        Timeout t = withRead(2s);
        t.total = 600ms;
        session.setTimeout(t);
        const Outcome o = attempt([&] { return session.get(server.url()); });
        QVERIFY2(!o.ok() && o.error.isA(Reqivo::Error::Kind::Timeout), qPrintable(o.describe()));
        QVERIFY2(
            o.took >= 500ms && o.took < 1800ms, qPrintable(u"took %1 ms"_s.arg(o.took.count())));
        QCOMPARE(session.async().pool()->activeCount(Endpoint::fromUrl(server.url())), 0);
    }

    void connectionRefused()
    {
        Session session;
        const Outcome o = attempt([&] { return session.get(refusedUrl()); });
        EXPECT_ERROR(o, "NetworkError");
        bool caught = false;
        try {
            session.get(refusedUrl());
        } catch (const Reqivo::NetworkError &e) {
            caught = true;
            QVERIFY(e.url().isValid());
        }
        QVERIFY(caught);
        QCOMPARE(session.async().pool()->totalCount(), 0);
    }

    // RFC 9112 §6.3: bad framing is unrecoverable; the connection is dropped, the next works.
    void malformedResponse_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("non-numeric Content-Length")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n");
        QTest::newRow("two different Content-Lengths")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nokk");
        QTest::newRow("status code not three digits")
            << QByteArray("HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n");
        QTest::newRow("not HTTP at all") << QByteArray("SSH-2.0-OpenSSH_9.2\r\n\r\n");
        QTest::newRow("bad chunk size")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n");
    }
    void malformedResponse()
    {
        QFETCH(QByteArray, bytes);
        ThreadedServer server([bytes](ServerConnection &c, const ReceivedRequest &r) {
            c.write(r.target == "/next" ? httpResponse(200, "fine") : bytes);
        });
        Session session;
        const Outcome o = attempt([&] { return session.get(server.url()); });
        EXPECT_ERROR(o, "InvalidResponseError");
        bool caught = false;
        try {
            session.get(server.url());
        } catch (const Reqivo::ProtocolError &) {
            caught = true;
        }
        QVERIFY(caught);
        QCOMPARE(session.async().pool()->activeCount(Endpoint::fromUrl(server.url())), 0);
        QCOMPARE(session.get(server.url(u"/next"_s)).body(), QByteArray("fine"));
        QCOMPARE(server.connectionCount(), 3);
    }

    void closeMidBody()
    {
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &) {
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part");
            c.close();
        });
        Session session;
        EXPECT_ERROR(attempt([&] { return session.get(server.url()); }), "NetworkError");
    }

    // Fields that would smuggle a second field or request are refused before anything is sent.
    void headerInjectionRefused_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<bool>("asDefault");
        QTest::newRow("CRLF in a value") << QByteArray("X") << QByteArray("a\r\nEvil: 1") << false;
        QTest::newRow("LF in a value") << QByteArray("X") << QByteArray("a\nEvil: 1") << false;
        QTest::newRow("NUL in a value") << QByteArray("X") << QByteArray("a\0b", 3) << false;
        QTest::newRow("colon in a name") << QByteArray("X:Y") << QByteArray("1") << false;
        QTest::newRow("CRLF in a session default")
            << QByteArray("X") << QByteArray("a\r\nEvil: 1") << true;
    }
    void headerInjectionRefused()
    {
        QFETCH(QByteArray, name);
        QFETCH(QByteArray, value);
        QFETCH(bool, asDefault);
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &) {
            c.write(httpResponse(200, "sent"));
        });
        Session session;
        RequestOptions opts;
        if (asDefault)
            session.setDefaultHeader(name, value);
        else
            opts.header(name, value);
        const Outcome o = attempt([&] { return session.get(server.url(), opts); });
        EXPECT_ERROR(o, "RequestError");
        if (!asDefault) // the same through the one-shot Request
            EXPECT_ERROR(attempt([&] { return Request::get(server.url(), opts); }), "RequestError");
        // Anything the refused calls left queued runs now. A request made afterwards connects
        // behind any connection they made (the server accepts in order): it must be the server's
        // first connection and its only request, so nothing of theirs reached it.
        deliverQueuedEvents();
        QCOMPARE(Request::get(server.url(u"/after"_s)).body(), QByteArray("sent"));
        QCOMPARE(server.connectionCount(), 1);
        const QList<ReceivedRequest> seen = server.requests();
        QCOMPARE(seen.size(), qsizetype(1));
        QCOMPARE(seen.first().target, QByteArray("/after"));
        QCOMPARE(seen.first().connection, 1);
        QCOMPARE(server.bytesReceived(), qint64(seen.first().head.size() + 4));
    }

    void closeIdleConnections()
    {
        ThreadedServer server(answerWithWhere);
        Session session;
        session.get(server.url());
        QCOMPARE(server.openConnections(), 1);
        session.closeIdleConnections();
        QVERIFY(waitUntil([&] { return server.openConnections() == 0; }));
        QCOMPARE(session.async().pool()->totalCount(), 0);
        QCOMPARE(session.get(server.url()).body(), QByteArray("2.0"));
    }

    // The one-shot Request: its own connection per call, no cookies kept, the same errors.
    void oneShotRequest()
    {
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &r) {
            if (r.target == "/set")
                c.write(httpResponse(200, "set", "Set-Cookie: k=v; Path=/\r\n"));
            else
                c.write(
                    httpResponse(200, r.method + ' ' + r.body + " cookie=" + r.field("cookie")));
        });
        QCOMPARE(Request::get(server.url(u"/set"_s)).body(), QByteArray("set"));
        QCOMPARE(Request::get(server.url()).body(), QByteArray("GET  cookie="));
        QCOMPARE(
            Request::post(server.url(), Body::fromBytes("b")).body(), QByteArray("POST b cookie="));
        QCOMPARE(
            Request::put(server.url(), Body::fromBytes("c")).body(), QByteArray("PUT c cookie="));
        QCOMPARE(Request::deleteResource(server.url()).body(), QByteArray("DELETE  cookie="));
        QCOMPARE(Request::send("OPTIONS", server.url()).status(), 200);
        QCOMPARE(server.connectionCount(), 6);
        EXPECT_ERROR(attempt([&] { return Request::get(refusedUrl()); }), "NetworkError");
        ThreadedServer silent([](ServerConnection &, const ReceivedRequest &) {});
        EXPECT_ERROR(attempt([&] {
            return Request::get(silent.url(), RequestOptions().withTimeout(withRead(200ms)));
        }),
            "ReadTimeout");
    }

    // A streamed one-shot Request returns before its body is read; its private session must
    // stay alive until Session::readChunk() reaches the end.
    void oneShotStreamedRequest()
    {
        const QByteArray payload = QByteArray("streamed ").repeated(20000);
        ThreadedServer server([payload](ServerConnection &c, const ReceivedRequest &) {
            c.write("HTTP/1.1 200 OK\r\nContent-Length: " + QByteArray::number(payload.size())
                + "\r\n\r\n" + payload.left(100));
            c.writeLater(payload.mid(100), 100ms);
        });
        Response r = Request::get(server.url(), RequestOptions().streaming());
        QCOMPARE(r.status(), 200);
        QVERIFY(r.isStreaming());
        QByteArray all;
        while (true) {
            const QByteArray piece = Session::readChunk(r, 4096);
            if (piece.isEmpty())
                break;
            all += piece;
        }
        QCOMPARE(all, payload);
    }

    // A streamed Response outliving its Session: reading it fails cleanly, it does not crash.
    void streamedResponseOutlivesItsSession()
    {
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &) {
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfirst");
            c.writeLater(QByteArray(995, 'x'), 200ms);
        });
        Response r;
        {
            Session session;
            r = session.get(server.url(), RequestOptions().streaming());
        }
        QByteArray got;
        const Reqivo::Error e = errorOf([&] {
            while (true) {
                const QByteArray piece = Session::readChunk(r);
                if (piece.isEmpty())
                    break;
                got += piece;
            }
        });
        QVERIFY2(e.isA(Reqivo::Error::Kind::Request), qPrintable(e.toString()));
        QVERIFY(got.size() < 1000);
        QVERIFY(waitUntil([&] { return server.openConnections() == 0; }));
    }

    // Connection: the byte pipe, against an echo server.
    void connectionEcho()
    {
        ThreadedServer echo(
            ThreadedServer::RawHandler([](ServerConnection &c, const QByteArray &bytes) {
                if (bytes.contains("bye"))
                    c.close();
                else
                    c.write(bytes);
            }));
        Connection connection;
        QVERIFY(!connection.isOpen());
        connection.connectToHost(Endpoint::fromUrl(echo.url()), 2s);
        QVERIFY(connection.isOpen());
        QVERIFY(!connection.isEncrypted());
        QCOMPARE(connection.endpoint().port, echo.port());
        connection.write("ping", 2s);
        QByteArray got;
        while (got.size() < 4)
            got += connection.read(2s);
        QCOMPARE(got, QByteArray("ping"));

        const QByteArray big(300 * 1024, 'q');
        connection.write(big, 2s);
        got.clear();
        while (got.size() < big.size())
            got += connection.read(2s);
        QCOMPARE(got, big);

        // The peer closes: read() returns an empty array at the end of the stream.
        connection.write("bye", 2s);
        QCOMPARE(connection.read(2s), QByteArray());
        QVERIFY(!connection.isOpen());
        connection.close();
    }

    void connectionReadTimeout()
    {
        ThreadedServer silent(
            ThreadedServer::RawHandler([](ServerConnection &, const QByteArray &) {}));
        Connection connection;
        connection.connectToHost(Endpoint::fromUrl(silent.url()), 2s);
        connection.write("anyone?", 2s);
        QElapsedTimer timer;
        timer.start();
        const Reqivo::Error e = errorOf([&] { connection.read(200ms); });
        QCOMPARE(e.typeName(), u"ReadTimeout"_s);
        QVERIFY2(timer.elapsed() >= 150 && timer.elapsed() < 3000,
            qPrintable(QString::number(timer.elapsed())));
        QVERIFY(connection.isOpen()); // a read timeout leaves the connection open
        connection.abort();
        QVERIFY(!connection.isOpen());
        QVERIFY(errorOf([&] { connection.read(200ms); }).isA(Reqivo::Error::Kind::Network));
    }

    void connectionRefusedByConnection()
    {
        Connection connection;
        const Reqivo::Error e
            = errorOf([&] { connection.connectToHost(Endpoint::fromUrl(refusedUrl()), 2s); });
        QCOMPARE(e.typeName(), u"NetworkError"_s);
        QVERIFY(!connection.isOpen());
    }
};

QTEST_GUILESS_MAIN(TestSyncSessionFaults)
#include "tst_sync_session_faults.moc"
