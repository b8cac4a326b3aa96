// AsyncEventSource against a real streaming server (ssepeer.py): every framing, gzip flushed per
// event, comments, retry, reconnects with Last-Event-ID after a clean end and after a cut,
// 204, a wrong status or type, POST streams with an until predicate, the idle timeout, request
// timeouts that must not cut a long stream, close() in every phase, signals and backpressure.
#include "ssetest.h"

#include <Reqivo/asynceventsource.h>
#include <Reqivo/asyncreqivo.h>
#include <Reqivo/asyncsession.h>

#include <QJsonObject>
#include <QPointer>
#include <QSignalSpy>
#include <QTimer>

using namespace Reqivo;
using namespace ReqivoTest;
using namespace std::chrono_literals;

class TestEventSourceAsync : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void framings_data();
    void framings();
    void reconnectsWithLastEventId();
    void reconnectsAfterACut();
    void noContentEndsForGood();
    void wrongStatusOrTypeFails_data();
    void wrongStatusOrTypeFails();
    void postStreamUntilDone();
    void idleTimeout();
    void requestTimeoutsDoNotCutAStream();
    void closeInEveryPhase();
    void signalsOnly();
    void backpressureLosesNothing();
    void givesUpAfterMaxAttempts();
    void sessionAndFacade();

private:
    SsePeer m_peer;
};

void TestEventSourceAsync::initTestCase()
{
    START_SSE_PEER(m_peer);
}

void TestEventSourceAsync::framings_data()
{
    QTest::addColumn<QString>("query");
    for (const char *framing : {"chunked", "length", "close"}) {
        QTest::addRow("%s", framing) << QStringLiteral("framing=%1").arg(QLatin1String(framing));
        QTest::addRow("%s, gzip flushed per event", framing)
            << QStringLiteral("framing=%1&gzip=1").arg(QLatin1String(framing));
        QTest::addRow("%s, comments and retry", framing)
            << QStringLiteral("framing=%1&comment=1&retry=1234").arg(QLatin1String(framing));
    }
}

void TestEventSourceAsync::framings()
{
    QFETCH(QString, query);
    RUN_CORO([&]() -> QCoro::Task<> {
        EventSourceOptions options;
        options.reconnect = false;
        AsyncEventSource source(m_peer.url(QStringLiteral("/events?n=3&") + query), options);
        const QStringList seen = co_await collect(source);
        CO_COMPARE(seen,
            (QStringList {QStringLiteral("message:event 1:1"), QStringLiteral("message:event 2:2"),
                QStringLiteral("message:event 3:3")}));
        CO_COMPARE(source.endReason(), AsyncEventSource::EndReason::Closed);
        CO_COMPARE(source.readyState(), AsyncEventSource::ReadyState::Closed);
        CO_COMPARE(source.lastEventId(), QStringLiteral("3"));
        CO_VERIFY(source.lastError().isNull());
        if (query.contains(QLatin1String("retry=1234")))
            CO_COMPARE(source.reconnectionTime(), 1234ms);
    }());
}

void TestEventSourceAsync::reconnectsWithLastEventId()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncSession session;
        // Each response ends after two events; the server's retry: makes the reconnect quick.
        const QString path = QStringLiteral("/events?n=2&retry=20&tag=reconnectsWith");
        AsyncEventSource *source = AsyncEventSource::fromSession(session, m_peer.url(path));
        QSignalSpy reconnecting(source, &AsyncEventSource::reconnecting);
        const QStringList seen = co_await collect(*source, 5);
        source->close();
        CO_COMPARE(seen.size(), qsizetype(5));
        for (int i = 0; i < 5; ++i)
            CO_COMPARE(seen.at(i), QStringLiteral("message:event %1:%1").arg(i + 1));
        CO_VERIFY(reconnecting.count() >= 2);
        CO_COMPARE(reconnecting.at(0).at(1).toInt(), 20); // the server's retry, no backoff
        const QJsonArray log = co_await m_peer.log(session);
        QStringList ids;
        for (const QJsonValue &entry : log) {
            const QJsonObject o = entry.toObject();
            if (!o.value(QLatin1String("path"))
                     .toString()
                     .contains(QLatin1String("tag=reconnectsWith")))
                continue;
            ids << o.value(QLatin1String("lastEventId")).toString(QStringLiteral("-"));
            CO_COMPARE(
                o.value(QLatin1String("accept")).toString(), QStringLiteral("text/event-stream"));
            CO_COMPARE(
                o.value(QLatin1String("cacheControl")).toString(), QStringLiteral("no-store"));
        }
        CO_VERIFY(ids.size() >= 3);
        CO_COMPARE(ids.mid(0, 3),
            (QStringList {QStringLiteral("-"), QStringLiteral("2"), QStringLiteral("4")}));
        delete source;
    }());
}

void TestEventSourceAsync::reconnectsAfterACut()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        EventSourceOptions options;
        options.reconnectionTime = 10ms;
        options.jitter = 0;
        // Two events, then the connection is cut in the middle of the response.
        AsyncEventSource source(m_peer.url(QStringLiteral("/events?n=5&drop=2")), options);
        QSignalSpy errors(&source, &AsyncEventSource::errorOccurred);
        const QStringList seen = co_await collect(source, 6);
        source.close();
        CO_COMPARE(seen.size(), qsizetype(6));
        for (int i = 0; i < 6; ++i)
            CO_COMPARE(seen.at(i), QStringLiteral("message:event %1:%1").arg(i + 1));
        CO_VERIFY(errors.count() >= 2); // each cut, reported as not fatal
        CO_COMPARE(errors.at(0).at(1).toBool(), false);
        CO_VERIFY(errors.at(0).at(0).value<Error>().isA(Error::Kind::Network));
    }());
}

void TestEventSourceAsync::noContentEndsForGood()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncSession session;
        const QUrl url = m_peer.url(QStringLiteral("/status?code=204&tag=nocontent"));
        AsyncEventSource *source = AsyncEventSource::fromSession(session, url);
        QSignalSpy closed(source, &AsyncEventSource::closed);
        CO_VERIFY(!(co_await source->next()));
        CO_COMPARE(source->endReason(), AsyncEventSource::EndReason::Closed);
        CO_COMPARE(source->status(), 204);
        CO_COMPARE(closed.count(), 1);
        co_await eventsFlushed();
        int requests = 0;
        for (const QJsonValue &entry : co_await m_peer.log(session))
            requests += entry.toObject()
                            .value(QLatin1String("path"))
                            .toString()
                            .contains(QLatin1String("tag=nocontent"));
        CO_COMPARE(requests, 1); // never reconnected
        delete source;
    }());
}

void TestEventSourceAsync::wrongStatusOrTypeFails_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<Error::Kind>("kind");
    QTest::addColumn<int>("code");
    QTest::newRow("500") << QStringLiteral("/status?code=500") << Error::Kind::Status << 500;
    QTest::newRow("404") << QStringLiteral("/nothing") << Error::Kind::Status << 404;
    QTest::newRow("text/plain") << QStringLiteral("/wrongtype") << Error::Kind::Protocol << 0;
}

void TestEventSourceAsync::wrongStatusOrTypeFails()
{
    QFETCH(QString, path);
    QFETCH(Error::Kind, kind);
    QFETCH(int, code);
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncEventSource source(m_peer.url(path)); // GET: reconnects would be on
        QSignalSpy errors(&source, &AsyncEventSource::errorOccurred);
        QSignalSpy reconnecting(&source, &AsyncEventSource::reconnecting);
        const Error e = co_await errorOf(source.next());
        CO_COMPARE(e.kind(), kind);
        CO_COMPARE(e.code(), code);
        CO_COMPARE(source.endReason(), AsyncEventSource::EndReason::Failed);
        CO_COMPARE(errors.count(), 1);
        CO_COMPARE(errors.at(0).at(1).toBool(), true); // fatal
        CO_COMPARE(reconnecting.count(), 0);
    }());
}

void TestEventSourceAsync::postStreamUntilDone()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncSession session;
        EventSourceOptions options;
        options.method = "POST";
        QJsonObject prompt;
        prompt.insert(QStringLiteral("prompt"), QStringLiteral("hello big world"));
        options.request.body = Body::fromJson(prompt);
        options.until = [](const ServerSentEvent &e) { return e.data == QLatin1String("[DONE]"); };
        AsyncEventSource *source = AsyncEventSource::fromSession(
            session, m_peer.url(QStringLiteral("/chat?linger=100")), options);
        const QStringList seen = co_await collect(*source);
        CO_COMPARE(seen,
            (QStringList {QStringLiteral("message:{\"t\": \"hello\"}:"),
                QStringLiteral("message:{\"t\": \"big\"}:"),
                QStringLiteral("message:{\"t\": \"world\"}:")}));
        CO_COMPARE(source->endReason(), AsyncEventSource::EndReason::Until);
        // The rest of the response was read: its connection serves the next request.
        const QUrl logUrl = m_peer.url(QStringLiteral("/log"));
        const Response next = co_await session.get(logUrl);
        CO_VERIFY(next.connectionReused());
        const QJsonArray log = QJsonDocument::fromJson(next.body()).array();
        CO_VERIFY(log.size() >= 2);
        const QJsonObject chat = log.at(log.size() - 2).toObject(); // the last is /log itself
        CO_COMPARE(chat.value(QLatin1String("method")).toString(), QStringLiteral("POST"));
        CO_VERIFY(chat.value(QLatin1String("body"))
                      .toString()
                      .contains(QLatin1String("hello big world")));
        delete source;
    }());
}

void TestEventSourceAsync::idleTimeout()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        EventSourceOptions options;
        options.reconnect = false;
        options.idleTimeout = 200ms;
        AsyncEventSource source(m_peer.url(QStringLiteral("/silent")), options);
        const Error e = co_await errorOf(source.next());
        CO_VERIFY2(e.isA(Error::Kind::ReadTimeout), qPrintable(e.toString()));
        CO_COMPARE(source.endReason(), AsyncEventSource::EndReason::Failed);
    }());
}

void TestEventSourceAsync::requestTimeoutsDoNotCutAStream()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        AsyncSession session;
        Timeout tight;
        tight.read = 100ms;
        tight.total = 150ms;
        session.setTimeout(tight);
        EventSourceOptions options;
        options.reconnect = false;
        // Three events 300 ms apart: longer than the session's read timeout and total deadline.
        AsyncEventSource *source = AsyncEventSource::fromSession(
            session, m_peer.url(QStringLiteral("/events?n=3&interval=300")), options);
        const QStringList seen = co_await collect(*source);
        CO_COMPARE(seen.size(), qsizetype(3));
        CO_VERIFY(source->lastError().isNull());
        delete source;
    }());
}

void TestEventSourceAsync::closeInEveryPhase()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        // While the stream is open and silent: next() returns the end at once.
        AsyncEventSource silent(m_peer.url(QStringLiteral("/silent")));
        QSignalSpy opened(&silent, &AsyncEventSource::opened);
        silent.open();
        CO_VERIFY(co_await eventually([&] { return opened.count() == 1; }));
        auto waiting = silent.next();
        QTimer::singleShot(0, &silent, &AsyncEventSource::close);
        CO_VERIFY(!(co_await waiting));
        CO_COMPARE(silent.readyState(), AsyncEventSource::ReadyState::Closed);
        CO_COMPARE(silent.endReason(), AsyncEventSource::EndReason::Closed);

        // While waiting to reconnect (a long retry): close() ends the wait.
        AsyncEventSource waitingToReconnect(m_peer.url(QStringLiteral("/events?n=1&retry=60000")));
        QSignalSpy reconnecting(&waitingToReconnect, &AsyncEventSource::reconnecting);
        CO_VERIFY(co_await waitingToReconnect.next());
        CO_VERIFY(co_await eventually([&] { return reconnecting.count() == 1; }));
        waitingToReconnect.close();
        CO_VERIFY(!(co_await waitingToReconnect.next()));

        // While connecting: the request is cancelled.
        AsyncEventSource connecting(m_peer.url(QStringLiteral("/events?n=1")));
        connecting.open();
        connecting.close();
        CO_VERIFY(!(co_await connecting.next()));
        CO_COMPARE(connecting.pendingEventCount(), qsizetype(0));
    }());
}

void TestEventSourceAsync::signalsOnly()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        EventSourceOptions options;
        options.reconnect = false;
        AsyncEventSource source(m_peer.url(QStringLiteral("/events?n=4")), options);
        QStringList log;
        connect(&source, &AsyncEventSource::opened, this, [&] { log << QStringLiteral("opened"); });
        connect(&source, &AsyncEventSource::eventReceived, this,
            [&](const ServerSentEvent &e) { log << e.data; });
        connect(&source, &AsyncEventSource::closed, this, [&] { log << QStringLiteral("closed"); });
        source.open();
        CO_VERIFY(co_await eventually([&] { return log.contains(QStringLiteral("closed")); }));
        CO_COMPARE(log,
            (QStringList {QStringLiteral("opened"), QStringLiteral("event 1"),
                QStringLiteral("event 2"), QStringLiteral("event 3"), QStringLiteral("event 4"),
                QStringLiteral("closed")}));
        CO_COMPARE(source.pendingEventCount(), qsizetype(0)); // signal-only: nothing kept
    }());
}

void TestEventSourceAsync::backpressureLosesNothing()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        EventSourceOptions options;
        options.reconnect = false;
        options.queueSize = 2;
        AsyncEventSource source(m_peer.url(QStringLiteral("/events?n=50")), options);
        CO_VERIFY(co_await source.next()); // opens, and next() is now in use
        CO_VERIFY(co_await eventually([&] { return source.pendingEventCount() == 2; }));
        co_await eventsFlushed();
        CO_COMPARE(source.pendingEventCount(), qsizetype(2)); // reading paused, not dropping
        const QStringList rest = co_await collect(source);
        CO_COMPARE(rest.size(), qsizetype(49));
        for (int i = 0; i < 49; ++i)
            CO_COMPARE(rest.at(i), QStringLiteral("message:event %1:%1").arg(i + 2));
    }());
}

void TestEventSourceAsync::givesUpAfterMaxAttempts()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        EventSourceOptions options;
        options.idleTimeout = 100ms;
        options.reconnectionTime = 10ms;
        options.maxReconnectAttempts = 2;
        AsyncEventSource source(m_peer.url(QStringLiteral("/silent")), options);
        QSignalSpy reconnecting(&source, &AsyncEventSource::reconnecting);
        const Error e = co_await errorOf(source.next());
        CO_VERIFY2(e.isA(Error::Kind::ReadTimeout), qPrintable(e.toString()));
        CO_VERIFY2(e.message().contains(QLatin1String("gave up")), qPrintable(e.message()));
        CO_COMPARE(reconnecting.count(), 2);
    }());
}

// session.eventSource() and the facade's: relative to the base URL, with the session's headers
// and auth, parented to the session unless told otherwise.
void TestEventSourceAsync::sessionAndFacade()
{
    RUN_CORO([&]() -> QCoro::Task<> {
        EventSourceOptions options;
        options.reconnect = false;
        AsyncSession session(m_peer.url(QStringLiteral("/")));
        session.setBearerToken(QStringLiteral("s3cret"));
        QPointer<AsyncEventSource> owned
            = session.eventSource(QUrl(QStringLiteral("events?n=2&tag=session-entry")), options);
        CO_COMPARE(owned->parent(), &session);
        CO_COMPARE((co_await collect(*owned)).size(), qsizetype(2));

        AsyncReqivo api(m_peer.url(QStringLiteral("/")));
        api.bearerToken(QStringLiteral("facade"));
        AsyncEventSource *viaFacade
            = api.eventSource(QUrl(QStringLiteral("events?n=1&tag=facade-entry")), options);
        const QStringList facadeEvents = co_await collect(*viaFacade);
        const QStringList oneEvent {QStringLiteral("message:event 1:1")};
        CO_COMPARE(facadeEvents, oneEvent);

        QStringList auth;
        for (const QJsonValue &entry : co_await m_peer.log(session)) {
            const QJsonObject o = entry.toObject();
            if (o.value(QLatin1String("path")).toString().contains(QLatin1String("-entry")))
                auth << o.value(QLatin1String("authorization")).toString();
        }
        CO_COMPARE(
            auth, (QStringList {QStringLiteral("Bearer s3cret"), QStringLiteral("Bearer facade")}));
    }());
}

QTEST_GUILESS_MAIN(TestEventSourceAsync)
#include "tst_eventsource_async.moc"
