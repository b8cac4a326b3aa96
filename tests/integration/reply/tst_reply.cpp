// Reqivo::Reply, the signal/slot face of a request, against an in-process server in a thread of
// its own: finished() exactly once and last for every outcome (a response of any status, an
// error, a timeout, abort()), so that finished → deleteLater cleans up; errorOccurred() before
// it for a failure; metaDataChanged() once the status and headers are known (in streaming mode
// before the body); always from the event loop after send() returned, with the right Response or
// the right error class; every verb; deleting a running Reply (no signal, no crash, connection
// closed, nothing left active in the pool); the session as default parent; the
// context-callback overload; queued connections across threads; readable qDebug() output of
// Response, Headers and Error.
#include "integration/sync/threadedserver.h"
#include "replytest.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/asyncconnection.h>
#include <Reqivo/asyncconnectionpool.h>

#include <QMutex>
#include <QSemaphore>
#include <QThread>

#include <memory>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace ReplyTest;
using namespace SyncTest;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::Reply;
using Reqivo::RequestOptions;
using Reqivo::Response;

namespace {

const QString emptyPool = u"no connections | total=0/100 waiting=0"_s;

//! Answers /slow-body with a head and part of the body, then nothing: a transfer in progress.
void answerOrStall(ServerConnection &c, const ReceivedRequest &r)
{
    if (r.target == "/slow-body")
        c.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfirst part");
    else if (r.target == "/late")
        c.writeLater(httpResponse(200, "late"), 300ms);
    else if (r.target.startsWith("/hop/")) // an endless chain of distinct redirects
        c.write(httpResponse(302, {},
            "Location: /hop/" + QByteArray::number(r.target.mid(5).toInt() + 1) + "\r\n", "Found"));
    else if (r.target == "/malformed")
        c.write("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n");
    else if (r.target == "/silent")
        ;
    else
        c.write(httpResponse(200, r.method + ' ' + r.target + ' ' + r.body, "X-Served: yes\r\n"));
}

class HeadersCarrier : public QObject
{
    Q_OBJECT
Q_SIGNALS:
    void headersReady(const Reqivo::Headers &headers);
    void responseReady(const Reqivo::Response &response);
};

QStringList s_messages;
QtMessageHandler s_previous = nullptr;
void collect(QtMsgType, const QMessageLogContext &, const QString &message)
{
    s_messages.append(message);
}

} // namespace

class TestReply : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void finishedCarriesTheResponse()
    {
        ThreadedServer server(answerOrStall);
        AsyncSession session;
        Reply *reply = session.sendGet(server.url(u"/a"_s));
        // Running at once, and nothing was emitted from inside send().
        QVERIFY(reply->isRunning());
        QVERIFY(!reply->isFinished());
        QCOMPARE(reply->method(), QByteArray("GET"));
        QCOMPARE(reply->url(), server.url(u"/a"_s));
        ReplyWatch watch(reply); // connected after send() returned
        QVERIFY(watch.waitForOutcome());
        EXPECT_FINISHED(watch);
        QCOMPARE(watch.events,
            (QStringList {u"metaDataChanged"_s, u"runningChanged"_s, u"finished"_s}));
        QCOMPARE(watch.response.status(), 200);
        QCOMPARE(watch.metaDataResponse.status(), 200);
        QCOMPARE(watch.response.body(), QByteArray("GET /a "));
        QCOMPARE(watch.response.headers().value("x-served").toByteArray(), QByteArray("yes"));
        QCOMPARE(reply->response().body(), watch.response.body());
        QVERIFY(reply->error().isNull());
        QVERIFY(!reply->isRunning());
        QVERIFY(reply->isFinished());
        QCOMPARE(reply->property("running").toBool(), false);
        QCOMPARE(reply->property("url").toUrl(), server.url(u"/a"_s));
        delete reply;
    }

    // An HTTP error status is a response, as for co_await.
    void errorStatusIsAResponse()
    {
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &) {
            c.write(httpResponse(404, "nope", {}, "Not Found"));
        });
        AsyncSession session;
        ReplyWatch watch(session.sendGet(server.url()));
        QVERIFY(watch.waitForOutcome());
        EXPECT_FINISHED(watch);
        QCOMPARE(watch.response.status(), 404);
        QCOMPARE(watch.response.reason(), QByteArray("Not Found"));
    }

    void verbs_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("sendPost") << QByteArray("POST") << QByteArray("POST / posted");
        QTest::newRow("sendPut") << QByteArray("PUT") << QByteArray("PUT / posted");
        QTest::newRow("sendPatch") << QByteArray("PATCH") << QByteArray("PATCH / posted");
        QTest::newRow("sendDeleteResource") << QByteArray("DELETE") << QByteArray("DELETE / ");
        QTest::newRow("sendHead") << QByteArray("HEAD") << QByteArray();
        QTest::newRow("sendOptions") << QByteArray("OPTIONS") << QByteArray("OPTIONS / ");
        QTest::newRow("send(PROPFIND)") << QByteArray("PROPFIND") << QByteArray("PROPFIND / ");
    }
    void verbs()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, expected);
        ThreadedServer server(answerOrStall);
        AsyncSession session;
        const QUrl url = server.url();
        const Body body = Body::fromText(u"posted"_s);
        Reply *reply = nullptr;
        if (method == "POST")
            reply = session.sendPost(url, body);
        else if (method == "PUT")
            reply = session.sendPut(url, body);
        else if (method == "PATCH")
            reply = session.sendPatch(url, body);
        else if (method == "DELETE")
            reply = session.sendDeleteResource(url);
        else if (method == "HEAD")
            reply = session.sendHead(url);
        else if (method == "OPTIONS")
            reply = session.sendOptions(url);
        else
            reply = session.send(method, url);
        QCOMPARE(reply->method(), method);
        ReplyWatch watch(reply);
        QVERIFY(watch.waitForOutcome());
        EXPECT_FINISHED(watch);
        QCOMPARE(watch.response.body(), expected);
        QCOMPARE(server.requests().value(0).method, method);
    }

    // Each failure arrives as errorOccurred() with the exception class co_await would throw,
    // from the event loop even when it is known at once (a bad URL, a refused header).
    void errors_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("error");
        QTest::newRow("silent server") << u"/silent"_s << u"ReadTimeout"_s;
        QTest::newRow("refused connection") << u"refused"_s << u"NetworkError"_s;
        QTest::newRow("malformed response") << u"/malformed"_s << u"InvalidResponseError"_s;
        QTest::newRow("too many redirects") << u"/hop/0"_s << u"TooManyRedirects"_s;
        QTest::newRow("not an http URL") << u"ftp"_s << u"RequestError"_s;
        QTest::newRow("header injection") << u"inject"_s << u"RequestError"_s;
        QTest::newRow("transfer cut short") << u"cut"_s << u"NetworkError"_s;
    }
    void errors()
    {
        QFETCH(QString, path);
        QFETCH(QString, error);
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &r) {
            if (r.target == "/cut") {
                c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart");
                c.close();
            } else {
                answerOrStall(c, r);
            }
        });
        AsyncSession session;
        session.setMaxRedirects(3);
        Reqivo::Timeout t;
        t.read = 300ms;
        session.setTimeout(t);
        RequestOptions opts;
        QUrl url = server.url(path.startsWith(u'/') ? path : u"/"_s + path);
        if (path == u"refused"_s)
            url = refusedUrl();
        else if (path == u"ftp"_s)
            url = QUrl(u"ftp://127.0.0.1/file"_s);
        else if (path == u"inject"_s)
            opts.header("X", "a\r\nEvil: 1");
        Reply *reply = session.sendGet(url, opts);
        ReplyWatch watch(reply);
        QVERIFY(watch.waitForOutcome());
        QVERIFY2(watch.errors == 1 && watch.finished == 1, qPrintable(watch.describe()));
        QCOMPARE(watch.error.typeName(), error);
        QCOMPARE(watch.events,
            (QStringList {u"runningChanged"_s, u"errorOccurred"_s, u"finished"_s}));
        QCOMPARE(reply->error(), watch.error);
        QVERIFY(reply->response().isNull());
        QVERIFY(!reply->isRunning());
        QVERIFY(!watch.error.message().isEmpty());
        QCOMPARE(session.pool()->activeCount(Reqivo::Endpoint::fromUrl(server.url())), 0);
    }

    // abort() mid-transfer: errorOccurred() with RequestError("aborted"), then finished(); the
    // connection is closed, the pool keeps nothing; aborting again, or after the end, changes
    // nothing.
    void abortMidTransfer()
    {
        ThreadedServer server(answerOrStall);
        AsyncSession session;
        Reply *reply = session.sendGet(server.url(u"/slow-body"_s));
        ReplyWatch watch(reply);
        QVERIFY(QTest::qWaitFor([&] { return !watch.download.isEmpty(); }, 5000));
        QVERIFY(reply->isRunning());
        reply->abort();
        QVERIFY(watch.waitForOutcome());
        EXPECT_ERROR_SIGNAL(watch, "RequestError");
        QCOMPARE(watch.error.detail(), u"aborted"_s);
        QCOMPARE(watch.error.url(), server.url(u"/slow-body"_s));
        reply->abort();
        flushEvents();
        QCOMPARE(watch.outcomes(), 1);
        QCOMPARE(session.pool()->debugSummary(), emptyPool);
        QVERIFY(waitUntil([&] { return server.openConnections() == 0; }));
        // The session goes on.
        ReplyWatch next(session.sendGet(server.url(u"/b"_s)));
        QVERIFY(next.waitForOutcome());
        EXPECT_FINISHED(next);
    }

    // abort() before the request started (right after send()): nothing reaches the server.
    // A request made afterwards on the same session is the only one the server ever sees.
    void abortBeforeStart()
    {
        ThreadedServer server(answerOrStall);
        AsyncSession session;
        Reply *reply = session.sendGet(server.url(u"/aborted"_s));
        reply->abort();
        ReplyWatch watch(reply);
        QVERIFY(watch.waitForOutcome());
        EXPECT_ERROR_SIGNAL(watch, "RequestError");
        QCOMPARE(watch.error.detail(), u"aborted"_s);
        QCOMPARE(session.pool()->debugSummary(), emptyPool);
        ReplyWatch after(session.sendGet(server.url(u"/after"_s)));
        QVERIFY(after.waitForOutcome());
        EXPECT_FINISHED(after);
        QCOMPARE(server.requestCount(), qsizetype(1));
        QCOMPARE(server.requests().value(0).target, QByteArray("/after"));
    }

    void abortAfterFinishedChangesNothing()
    {
        ThreadedServer server(answerOrStall);
        AsyncSession session;
        Reply *reply = session.sendGet(server.url());
        ReplyWatch watch(reply);
        QVERIFY(watch.waitForOutcome());
        reply->abort();
        flushEvents();
        EXPECT_FINISHED(watch);
        QVERIFY(reply->error().isNull());
        QCOMPARE(reply->response().status(), 200);
        // The finished connection went back to the pool, untouched by the late abort().
        QCOMPARE(session.pool()->idleCount(Reqivo::Endpoint::fromUrl(server.url())), 1);
    }

    // finished() for every outcome, exactly once and last, so the QNetworkReply idiom
    // `finished → deleteLater` cleans up every Reply: a response of any status, a network
    // error, a timeout, abort() before the request started or in the middle of the body
    // (buffered or streamed). A failure is errorOccurred() first, then finished() with error()
    // set and response() null.
    void finishedForEveryOutcome_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("abortWhen"); //!< "", "at once", "mid-body"
        QTest::addColumn<bool>("streaming");
        QTest::addColumn<int>("status"); //!< 0: a failure
        QTest::addColumn<QString>("errorClass");
        QTest::newRow("200") << u"/ok"_s << QString() << false << 200 << QString();
        QTest::newRow("200, streamed") << u"/ok"_s << QString() << true << 200 << QString();
        QTest::newRow("404") << u"/missing"_s << QString() << false << 404 << QString();
        QTest::newRow("refused connection")
            << u"refused"_s << QString() << false << 0 << u"NetworkError"_s;
        QTest::newRow("read timeout") << u"/silent"_s << QString() << false << 0
                                      << u"ReadTimeout"_s;
        QTest::newRow("abort before the request started")
            << u"/late"_s << u"at once"_s << false << 0 << u"RequestError"_s;
        QTest::newRow("abort in the middle of the body")
            << u"/slow-body"_s << u"mid-body"_s << false << 0 << u"RequestError"_s;
        QTest::newRow("abort in the middle of a streamed body")
            << u"/slow-body"_s << u"mid-body"_s << true << 0 << u"RequestError"_s;
    }
    void finishedForEveryOutcome()
    {
        QFETCH(QString, path);
        QFETCH(QString, abortWhen);
        QFETCH(bool, streaming);
        QFETCH(int, status);
        QFETCH(QString, errorClass);
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &r) {
            if (r.target == "/missing")
                c.write(httpResponse(404, "nope", {}, "Not Found"));
            else
                answerOrStall(c, r);
        });
        AsyncSession session;
        Reqivo::Timeout t;
        t.read = 200ms;
        session.setTimeout(t);
        const QUrl url = path == u"refused"_s ? refusedUrl() : server.url(path);
        QPointer<Reply> reply = session.sendGet(url, RequestOptions().streaming(streaming));
        connect(reply, &Reply::finished, reply, &QObject::deleteLater);
        ReplyWatch watch(reply);
        if (abortWhen == u"at once"_s)
            reply->abort();
        else if (abortWhen == u"mid-body"_s)
            connect(reply, &Reply::downloadProgress, reply, &Reply::abort);
        QVERIFY(watch.waitForOutcome());
        if (status) {
            EXPECT_FINISHED(watch);
            QCOMPARE(watch.response.status(), status);
        } else {
            EXPECT_ERROR_SIGNAL(watch, qPrintable(errorClass));
            if (!abortWhen.isEmpty())
                QCOMPARE(watch.error.detail(), u"aborted"_s);
        }
        // A response announces its status and headers once; a failure only when it came after
        // the head of a streamed response.
        const bool headSeen = status != 0 || (abortWhen == u"mid-body"_s && streaming);
        QCOMPARE(watch.metaData, headSeen ? 1 : 0);
        // The idiom: the Reply is gone once control is back in the event loop.
        QVERIFY(QTest::qWaitFor([&] { return reply.isNull(); }, 5000));
        QCOMPARE(session.pool()->activeCount(Reqivo::Endpoint::fromUrl(server.url())), 0);
        QVERIFY(session.findChildren<Reply *>().isEmpty());
    }

    // Streaming mode: metaDataChanged() comes as soon as the head is in, before any of the body
    // (the server sends the head, then waits to be told to send the body), and response()
    // already tells the status and header fields.
    void metaDataBeforeTheBodyWhenStreaming()
    {
        struct Held
        {
            QMutex mutex;
            QPointer<ServerConnection> connection;
        } held;
        ThreadedServer server([&held](ServerConnection &c, const ReceivedRequest &) {
            c.write("HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-Early: yes\r\n\r\n");
            const QMutexLocker lock(&held.mutex);
            held.connection = &c;
        });
        AsyncSession session;
        Reply *reply = session.sendGet(server.url(u"/s"_s), RequestOptions().streaming());
        ReplyWatch watch(reply);
        QVERIFY(QTest::qWaitFor([&] { return watch.metaData == 1; }, 5000));
        QVERIFY(reply->isRunning());
        QCOMPARE(watch.readyReads, 0);
        QCOMPARE(reply->bytesAvailable(), qint64(0));
        QCOMPARE(reply->response().status(), 201);
        QCOMPARE(reply->response().headers().value("x-early").toByteArray(), QByteArray("yes"));
        QCOMPARE(reply->response().url(), server.url(u"/s"_s));
        QVERIFY(reply->error().isNull());
        QVERIFY(!reply->response().isStreaming()); // a value: it holds no connection
        QCOMPARE(watch.events, QStringList {u"metaDataChanged"_s});
        {
            const QMutexLocker lock(&held.mutex);
            QVERIFY(held.connection);
            QMetaObject::invokeMethod(held.connection.data(),
                [c = held.connection] { c->write("hello"); });
        }
        QVERIFY(watch.waitForOutcome());
        EXPECT_FINISHED(watch);
        QCOMPARE(watch.readyReadsBeforeMetaData, 0);
        QVERIFY(watch.readyReads >= 1);
        QCOMPARE(watch.streamed, QByteArray("hello"));
        QCOMPARE(watch.response.status(), 201);
        QCOMPARE(watch.events,
            (QStringList {u"metaDataChanged"_s, u"runningChanged"_s, u"finished"_s}));
        // The copy taken in metaDataChanged() did not keep the connection from the pool.
        QCOMPARE(watch.metaDataResponse.status(), 201);
        QCOMPARE(session.pool()->idleCount(Reqivo::Endpoint::fromUrl(server.url())), 1);
    }

    // Deleting a running Reply: no signal, no crash, its connection closed.
    void deleteRunningReply_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<bool>("beforeStart");
        QTest::newRow("before the request started") << u"/late"_s << true;
        QTest::newRow("waiting for the head") << u"/late"_s << false;
        QTest::newRow("in the middle of the body") << u"/slow-body"_s << false;
    }
    void deleteRunningReply()
    {
        QFETCH(QString, path);
        QFETCH(bool, beforeStart);
        ThreadedServer server(answerOrStall);
        AsyncSession session;
        auto *reply = session.sendGet(server.url(path));
        ReplyWatch watch(reply);
        int destroyed = 0;
        connect(reply, &QObject::destroyed, this, [&] { ++destroyed; });
        if (!beforeStart)
            QVERIFY(QTest::qWaitFor([&] { return server.requestCount() == 1; }, 5000));
        delete reply;
        QCOMPARE(destroyed, 1);
        // The connection is closed, so no answer can come any more; a request made afterwards
        // is the last one the server sees.
        QVERIFY(waitUntil([&] { return server.openConnections() == 0; }));
        QVERIFY(waitUntil([&] {
            return session.pool()->activeCount(Reqivo::Endpoint::fromUrl(server.url())) == 0;
        }));
        ReplyWatch after(session.sendGet(server.url(u"/after"_s)));
        QVERIFY(after.waitForOutcome());
        EXPECT_FINISHED(after);
        QCOMPARE(watch.events, QStringList());
        const QList<ReceivedRequest> requests = server.requests();
        QCOMPARE(requests.size(), qsizetype(beforeStart ? 1 : 2));
        QCOMPARE(requests.last().target, QByteArray("/after"));
        delete after.reply.data();
        QVERIFY(session.findChildren<Reply *>().isEmpty());
    }

    // A slot may delete the Reply that called it (not deleteLater): no crash, no second signal.
    void deleteFromItsOwnSlot_data()
    {
        QTest::addColumn<QString>("signal");
        QTest::newRow("finished") << u"finished"_s;
        QTest::newRow("finished after an error") << u"finished after an error"_s;
        QTest::newRow("errorOccurred") << u"errorOccurred"_s;
        QTest::newRow("metaDataChanged") << u"metaDataChanged"_s;
        QTest::newRow("runningChanged") << u"runningChanged"_s;
        QTest::newRow("downloadProgress") << u"downloadProgress"_s;
    }
    void deleteFromItsOwnSlot()
    {
        QFETCH(QString, signal);
        ThreadedServer server(answerOrStall);
        AsyncSession session;
        const bool fails = signal == u"errorOccurred"_s || signal == u"finished after an error"_s;
        QPointer<Reply> reply = session.sendGet(fails ? refusedUrl() : server.url());
        int calls = 0;
        const auto kill = [&] {
            ++calls;
            delete reply.data();
        };
        if (signal.startsWith(u"finished"_s))
            connect(reply, &Reply::finished, this, kill);
        else if (signal == u"metaDataChanged"_s)
            connect(reply, &Reply::metaDataChanged, this, kill);
        else if (signal == u"errorOccurred"_s)
            connect(reply, &Reply::errorOccurred, this, kill);
        else if (signal == u"runningChanged"_s)
            connect(reply, &Reply::runningChanged, this, kill);
        else
            connect(reply, &Reply::downloadProgress, this, kill);
        QVERIFY(QTest::qWaitFor([&] { return reply.isNull(); }, 5000));
        flushEvents();
        QCOMPARE(calls, 1);
        QCOMPARE(session.pool()->activeCount(Reqivo::Endpoint::fromUrl(server.url())), 0);
    }

    // Parented to the session unless told otherwise; deleting the session deletes its replies,
    // silently. A reply with another parent outlives the session and reports a RequestError.
    void parentAndSessionLifetime()
    {
        ThreadedServer server(answerOrStall);
        auto session = std::make_unique<AsyncSession>();
        QObject otherParent;
        QPointer<Reply> owned = session->sendGet(server.url(u"/late"_s));
        QPointer<Reply> adopted = session->send("GET", server.url(u"/late"_s), {}, &otherParent);
        QCOMPARE(owned->parent(), session.get());
        QCOMPARE(adopted->parent(), &otherParent);
        ReplyWatch ownedWatch(owned);
        ReplyWatch adoptedWatch(adopted);
        QVERIFY(QTest::qWaitFor([&] { return server.requestCount() == 2; }, 5000));
        session.reset();
        QVERIFY(owned.isNull());
        QVERIFY(!adopted.isNull());
        QVERIFY(adoptedWatch.waitForOutcome());
        EXPECT_ERROR_SIGNAL(adoptedWatch, "RequestError");
        QCOMPARE(ownedWatch.events, QStringList());
        QVERIFY(waitUntil([&] { return server.openConnections() == 0; }));
    }

    // request(..., context, callback): called once while the context lives, never after it died.
    void contextCallback()
    {
        ThreadedServer server(answerOrStall);
        AsyncSession session;
        auto context = std::make_unique<QObject>();
        QList<std::pair<Response, Reqivo::Error>> calls;
        session.request("GET", server.url(u"/ok"_s), {}, context.get(),
            [&](const Response &r, const Reqivo::Error &e) {
                calls.append({r, e});
            });
        session.request(
            "GET", refusedUrl(), {}, context.get(), [&](const Response &r, const Reqivo::Error &e) {
                calls.append({r, e});
            });
        QVERIFY(calls.isEmpty()); // never from inside request()
        QVERIFY(QTest::qWaitFor([&] { return calls.size() == 2; }, 5000));
        flushEvents();
        QCOMPARE(calls.size(), qsizetype(2));
        for (const auto &[r, e] : std::as_const(calls)) {
            if (e.isNull()) {
                QCOMPARE(r.body(), QByteArray("GET /ok "));
            } else {
                QVERIFY(r.isNull());
                QCOMPARE(e.typeName(), u"NetworkError"_s);
            }
        }
        QVERIFY(calls.at(0).second.isNull() != calls.at(1).second.isNull());
        // The replies behind the callbacks clean themselves up.
        QVERIFY(QTest::qWaitFor([&] { return session.findChildren<Reply *>().isEmpty(); }, 2000));

        // The context dies while the request runs (the server holds it): no call, ever, and no
        // reply left behind. Once the reply is gone, nothing is left that could call.
        calls.clear();
        const qsizetype before = server.requestCount();
        session.request("GET", server.url(u"/late"_s), {}, context.get(),
            [&](const Response &r, const Reqivo::Error &e) {
                calls.append({r, e});
            });
        QVERIFY(QTest::qWaitFor([&] { return server.requestCount() == before + 1; }, 5000));
        context.reset();
        QVERIFY(QTest::qWaitFor([&] { return session.findChildren<Reply *>().isEmpty(); }, 2000));
        flushEvents();
        QCOMPARE(calls.size(), qsizetype(0));
        QCOMPARE(session.pool()->activeCount(Reqivo::Endpoint::fromUrl(server.url())), 0);
    }

    // A session in a worker thread; its Reply's signals reach the main thread through queued
    // connections carrying Response and Error values. Headers travel the same way.
    void queuedAcrossThreads()
    {
        ThreadedServer server(answerOrStall);
        QThread worker;
        worker.start();
        QObject home;
        home.moveToThread(&worker);
        AsyncSession *session = nullptr;
        QList<std::pair<QString, QThread *>> received;
        Response response;
        Reqivo::Error error;
        QMetaObject::invokeMethod(
            &home,
            [&] {
                session = new AsyncSession(&home);
                Reply *ok = session->sendGet(server.url(u"/q"_s));
                Reply *bad = session->sendGet(refusedUrl());
                // The response is read in the Reply's thread, while the Reply emits.
                connect(ok, &Reply::finished, ok, [&response, ok] { response = ok->response(); });
                connect(ok, &Reply::finished, this, [&] {
                    received.append({u"finished"_s, QThread::currentThread()});
                });
                connect(bad, &Reply::errorOccurred, this, [&](const Reqivo::Error &e) {
                    received.append({u"errorOccurred"_s, QThread::currentThread()});
                    error = e;
                });
                connect(bad, &Reply::finished, this, [&] {
                    received.append({u"finished (failed)"_s, QThread::currentThread()});
                });
            },
            Qt::BlockingQueuedConnection);
        QVERIFY(QTest::qWaitFor([&] { return received.size() == 3; }, 5000));
        for (const auto &[what, where] : std::as_const(received))
            QVERIFY2(where == thread(), qPrintable(what));
        QCOMPARE(response.body(), QByteArray("GET /q "));
        QCOMPARE(response.headers().value("x-served").toByteArray(), QByteArray("yes"));
        QCOMPARE(error.typeName(), u"NetworkError"_s);

        HeadersCarrier carrier;
        carrier.moveToThread(&worker);
        Reqivo::Headers got;
        QThread *gotIn = nullptr;
        connect(
            &carrier, &HeadersCarrier::headersReady, this,
            [&](const Reqivo::Headers &h) {
                got = h;
                gotIn = QThread::currentThread();
            },
            Qt::QueuedConnection);
        QMetaObject::invokeMethod(&carrier, [&] {
            Q_EMIT carrier.headersReady(
                Reqivo::Headers {{"A", "1"}, {"Set-Cookie", "x=1"}, {"Set-Cookie", "y=2"}});
        });
        QVERIFY(QTest::qWaitFor([&] { return gotIn != nullptr; }, 5000));
        QCOMPARE(gotIn, thread());
        QCOMPARE(got.values("set-cookie"), (QList<QByteArray> {"x=1", "y=2"}));

        // A Response travels the same way.
        Response gotResponse;
        QThread *responseIn = nullptr;
        connect(
            &carrier, &HeadersCarrier::responseReady, this,
            [&](const Response &r) {
                gotResponse = r;
                responseIn = QThread::currentThread();
            },
            Qt::QueuedConnection);
        QMetaObject::invokeMethod(&carrier, [&] { Q_EMIT carrier.responseReady(response); });
        QVERIFY(QTest::qWaitFor([&] { return responseIn != nullptr; }, 5000));
        QCOMPARE(responseIn, thread());
        QCOMPARE(gotResponse.body(), QByteArray("GET /q "));

        // Registered by name too, for string-based connections and QVariant.
        for (const char *name : {"Reqivo::Response", "Reqivo::Error", "Reqivo::Headers"})
            QVERIFY2(QMetaType::fromName(name).isValid(), name);
        QThread *const here = thread();
        QMetaObject::invokeMethod(
            &home,
            [&] {
                delete session;
                home.moveToThread(here);
                carrier.moveToThread(here);
            },
            Qt::BlockingQueuedConnection);
        worker.quit();
        worker.wait();
    }

    // qDebug() of Response, Headers and Error: one readable line each.
    void debugPrinting()
    {
        ThreadedServer server(answerOrStall);
        AsyncSession session;
        ReplyWatch ok(session.sendGet(server.url(u"/dbg"_s)));
        ReplyWatch bad(session.sendGet(refusedUrl()));
        QVERIFY(ok.waitForOutcome());
        QVERIFY(bad.waitForOutcome());
        s_messages.clear();
        s_previous = qInstallMessageHandler(collect);
        qDebug() << ok.response;
        qDebug() << ok.response.headers();
        qDebug() << bad.error;
        qDebug() << Reqivo::Error() << Reqivo::Headers() << Response();
        qInstallMessageHandler(s_previous);
        QCOMPARE(s_messages.size(), qsizetype(4));
        const QString response = s_messages.at(0);
        QVERIFY2(response.startsWith(u"Reqivo::Response(200 OK"_s), qPrintable(response));
        QVERIFY2(response.contains(server.url(u"/dbg"_s).toString()), qPrintable(response));
        QVERIFY2(response.contains(u"9 bytes"_s), qPrintable(response));
        const QString headers = s_messages.at(1);
        QVERIFY2(headers.startsWith(u"Reqivo::Headers("_s), qPrintable(headers));
        QVERIFY2(headers.contains(u"X-Served: yes"_s), qPrintable(headers));
        QVERIFY2(headers.contains(u"Content-Length: 9"_s), qPrintable(headers));
        const QString error = s_messages.at(2);
        QVERIFY2(error.startsWith(u"Reqivo::Error("_s), qPrintable(error));
        QVERIFY2(error.contains(u"NetworkError: "_s), qPrintable(error));
        QVERIFY2(error.contains(u"127.0.0.1"_s), qPrintable(error));
        QVERIFY2(!s_messages.at(3).isEmpty(), "null values print too");
    }

    // Streaming mode: readyRead() announces new bytes, readAll() hands them out once; the
    // Response keeps no body.
    void readyReadInStreamingMode()
    {
        const QByteArray payload = QByteArray("0123456789abcdef").repeated(500);
        ThreadedServer server([payload](ServerConnection &c, const ReceivedRequest &) {
            c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (int i = 0; i < 4; ++i) {
                const QByteArray part = payload.mid(i * 2000, 2000);
                c.writeLater(QByteArray::number(part.size(), 16) + "\r\n" + part + "\r\n",
                    std::chrono::milliseconds(30 * (i + 1)));
            }
            c.writeLater("0\r\n\r\n", 200ms);
        });
        AsyncSession session;
        Reply *reply = session.sendGet(server.url(), RequestOptions().streaming());
        ReplyWatch watch(reply);
        QVERIFY(watch.waitForOutcome());
        EXPECT_FINISHED(watch);
        QVERIFY2(watch.readyReads >= 4, qPrintable(QString::number(watch.readyReads)));
        QCOMPARE(watch.streamed, payload);
        QCOMPARE(reply->bytesAvailable(), qint64(0));
        QCOMPARE(reply->readAll(), QByteArray());
        QVERIFY(watch.response.body().isEmpty());
        QCOMPARE(watch.events.last(), u"finished"_s);
        QCOMPARE(session.pool()->idleCount(Reqivo::Endpoint::fromUrl(server.url())), 1);

        // Not reading in readyRead(): the bytes wait in the reply.
        ReplyWatch lazy(session.sendGet(server.url(), RequestOptions().streaming()));
        lazy.readOnReadyRead = false;
        QVERIFY(lazy.waitForOutcome());
        EXPECT_FINISHED(lazy);
        QCOMPARE(lazy.reply->bytesAvailable(), qint64(payload.size()));
        QCOMPARE(lazy.reply->readAll(), payload);
        QCOMPARE(lazy.reply->bytesAvailable(), qint64(0));
    }

    // setReadBufferSize(), as QNetworkReply's: a streaming Reply holds at most that many unread
    // bytes and stops pulling from the socket until the reader takes some; every byte arrives.
    void readBufferBoundsASlowReader_data()
    {
        QTest::addColumn<qint64>("limit");
        QTest::addColumn<bool>("chunked");
        QTest::newRow("64 KiB, Content-Length") << qint64(64 * 1024) << false;
        QTest::newRow("64 KiB, chunked") << qint64(64 * 1024) << true;
        QTest::newRow("1000 bytes, Content-Length") << qint64(1000) << false;
        QTest::newRow("the default (1 MiB)") << qint64(Reply::defaultReadBufferSize) << false;
    }
    void readBufferBoundsASlowReader()
    {
        QFETCH(qint64, limit);
        QFETCH(bool, chunked);
        QByteArray payload(8 * 1024 * 1024, Qt::Uninitialized);
        for (qsizetype i = 0; i < payload.size(); ++i)
            payload[i] = char((i * 7 + i / 4096) & 0xff);
        ThreadedServer server([payload, chunked](ServerConnection &c, const ReceivedRequest &) {
            if (!chunked) {
                c.write(httpResponse(200, payload));
                return;
            }
            c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (qsizetype at = 0; at < payload.size(); at += 100000) {
                const QByteArray part = payload.mid(at, 100000);
                c.write(QByteArray::number(part.size(), 16) + "\r\n" + part + "\r\n");
            }
            c.write("0\r\n\r\n");
        });
        AsyncSession session;
        Reply *reply = session.sendGet(server.url(), RequestOptions().streaming());
        QCOMPARE(reply->readBufferSize(), Reply::defaultReadBufferSize);
        reply->setReadBufferSize(limit);
        QCOMPARE(reply->readBufferSize(), limit);
        ReplyWatch watch(reply);
        watch.readOnReadyRead = false;
        // The slow reader: it takes nothing until the buffer is full, then half of it, later.
        QByteArray consumed;
        qint64 mostBuffered = 0;
        qint64 mostAhead = 0; // bytes pulled from the connection but not yet read by the reader
        int fullTimes = 0;
        QObject::connect(reply, &Reply::readyRead, &watch.context, [&] {
            mostBuffered = std::max(mostBuffered, reply->bytesAvailable());
            if (reply->bytesAvailable() < limit)
                return;
            ++fullTimes;
            QTimer::singleShot(0, &watch.context,
                [&] { consumed += reply->read(std::max<qint64>(limit / 2, 1)); });
        });
        QObject::connect(reply, &Reply::downloadProgress, &watch.context, [&](qint64 got, qint64) {
            mostAhead = std::max(mostAhead, got - consumed.size());
        });
        // An event loop of its own, not QTest::qWaitFor(), which sleeps 10 ms between event
        // batches: here every one of the many refills is a new event.
        QEventLoop loop;
        QObject::connect(reply, &Reply::finished, &loop, &QEventLoop::quit);
        QObject::connect(reply, &Reply::errorOccurred, &loop, &QEventLoop::quit);
        QTimer::singleShot(60s, &loop, [&loop] { loop.exit(1); }); // a watchdog
        QCOMPARE(loop.exec(), 0);
        QVERIFY(watch.waitForOutcome());
        EXPECT_FINISHED(watch);
        consumed += reply->readAll();
        QCOMPARE(consumed.size(), payload.size());
        QVERIFY(consumed == payload);
        QVERIFY2(mostBuffered <= limit, qPrintable(QString::number(mostBuffered)));
        QVERIFY2(fullTimes >= 2, qPrintable(QString::number(fullTimes)));
        // What the stream holds beyond the buffer is one read from the connection at most.
        QVERIFY2(mostAhead <= limit + Reqivo::AsyncConnection::readBufferBytes,
            qPrintable(QString::number(mostAhead)));
        QCOMPARE(session.pool()->idleCount(Reqivo::Endpoint::fromUrl(server.url())), 1);
    }

    // 0 is no limit, as in Qt: a reader that reads only at the end gets everything there.
    void readBufferUnlimited()
    {
        const QByteArray payload = QByteArray("0123456789").repeated(300 * 1024);
        ThreadedServer server(
            [payload](ServerConnection &c, const ReceivedRequest &) {
                c.write(httpResponse(200, payload));
            });
        AsyncSession session;
        Reply *reply = session.sendGet(server.url(), RequestOptions().streaming());
        reply->setReadBufferSize(0);
        ReplyWatch watch(reply);
        watch.readOnReadyRead = false;
        QVERIFY(watch.waitForOutcome());
        EXPECT_FINISHED(watch);
        QCOMPARE(reply->bytesAvailable(), qint64(payload.size()));
        QVERIFY(reply->readAll() == payload);
        reply->setReadBufferSize(-5);
        QCOMPARE(reply->readBufferSize(), qint64(0));
    }

    // A full buffer nobody reads does not hold a request hostage: abort() ends it at once, and
    // deleting the Reply closes its connection.
    void fullBufferAbortAndDelete_data()
    {
        QTest::addColumn<bool>("abort");
        QTest::newRow("abort()") << true;
        QTest::newRow("delete") << false;
    }
    void fullBufferAbortAndDelete()
    {
        QFETCH(bool, abort);
        ThreadedServer server([](ServerConnection &c, const ReceivedRequest &) {
            c.write(httpResponse(200, QByteArray(4 * 1024 * 1024, 'x')));
        });
        AsyncSession session;
        Reply *reply = session.sendGet(server.url(), RequestOptions().streaming());
        reply->setReadBufferSize(4096);
        ReplyWatch watch(reply);
        watch.readOnReadyRead = false;
        QVERIFY(waitUntil([&] { return reply->bytesAvailable() == 4096; }));
        flushEvents();
        QCOMPARE(reply->bytesAvailable(), qint64(4096)); // and it stays there
        QVERIFY(reply->isRunning());
        if (abort) {
            reply->abort();
            QVERIFY(watch.waitForOutcome());
            EXPECT_ERROR_SIGNAL(watch, "RequestError");
            QCOMPARE(watch.error.detail(), u"aborted"_s);
        } else {
            delete reply;
            flushEvents();
            QCOMPARE(watch.outcomes(), 0);
        }
        QVERIFY(waitUntil([&] { return server.openConnections() == 0; }));
        QCOMPARE(session.pool()->activeCount(Reqivo::Endpoint::fromUrl(server.url())), 0);
    }

    // request() without a context object cannot call back "while the context lives": it is
    // refused, with the callback called once, from the event loop, and nothing sent.
    void requestWithoutContextRefused()
    {
        ThreadedServer server(answerOrStall);
        AsyncSession session;
        QList<std::pair<Response, Reqivo::Error>> calls;
        session.request("GET", server.url(u"/x"_s), {}, nullptr,
            [&](const Response &r, const Reqivo::Error &e) { calls.append({r, e}); });
        QVERIFY(calls.isEmpty()); // never from inside request()
        QVERIFY(QTest::qWaitFor([&] { return !calls.isEmpty(); }, 5000));
        flushEvents();
        QCOMPARE(calls.size(), qsizetype(1));
        QVERIFY(calls.first().first.isNull());
        QCOMPARE(calls.first().second.typeName(), u"RequestError"_s);
        QVERIFY2(calls.first().second.message().contains(u"context"_s),
            qPrintable(calls.first().second.toString()));
        QCOMPARE(server.requestCount(), qsizetype(0));
        QVERIFY(session.findChildren<Reply *>().isEmpty());
        // A null callback with no context: nothing to call, nothing sent, no crash.
        session.request("GET", server.url(u"/x"_s), {}, nullptr, {});
        flushEvents();
        QCOMPARE(server.requestCount(), qsizetype(0));
    }

    // The callback runs in the context's thread, queued: the Reply behind it must still be
    // there when it runs. (Last in this file: a use after free here ends the whole process.)
    void contextInAnotherThread()
    {
        ThreadedServer server(answerOrStall);
        AsyncSession session;
        QThread worker;
        worker.start();
        QObject context;
        context.moveToThread(&worker);
        std::atomic<QThread *> calledIn {nullptr};
        QByteArray body;
        session.request("GET", server.url(u"/x"_s), {}, &context,
            [&](const Response &r, const Reqivo::Error &) {
                body = r.body();
                calledIn = QThread::currentThread();
            });
        // The context's thread is busy (as a worker thread may well be) until the request has
        // ended and its Reply is gone from this thread: only then can the callback run.
        QSemaphore busy;
        QMetaObject::invokeMethod(&context, [&busy] { busy.acquire(); });
        const bool replyGone = QTest::qWaitFor(
            [&] { return session.findChildren<Reply *>().isEmpty(); }, 5000);
        const bool calledEarly = calledIn.load() != nullptr;
        busy.release();
        QVERIFY(replyGone);
        QVERIFY(!calledEarly);
        QVERIFY(QTest::qWaitFor([&] { return calledIn.load() != nullptr; }, 5000));
        QCOMPARE(calledIn.load(), &worker);
        QCOMPARE(body, QByteArray("GET /x "));
        QThread *const here = thread();
        QMetaObject::invokeMethod(
            &context, [&] { context.moveToThread(here); }, Qt::BlockingQueuedConnection);
        worker.quit();
        worker.wait();
    }
};

QTEST_GUILESS_MAIN(TestReply)
#include "tst_reply.moc"
