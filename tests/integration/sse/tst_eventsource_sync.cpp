// The blocking EventSource against ssepeer.py: the same stream as the async tests, next() with a
// timeout that leaves the stream usable, a Session's settings, a std::thread that never ran an
// event loop, and a destructor that runs none.
#include "ssetest.h"

#include <Reqivo/eventsource.h>
#include <Reqivo/reqivo.h>
#include <Reqivo/session.h>

#include <QTimer>

#include <thread>

using Reqivo::EventSource;
using Reqivo::EventSourceOptions;
using Reqivo::ReadTimeout;
using Reqivo::ServerSentEvent;
using Reqivo::Session;
using namespace ReqivoTest;
using namespace std::chrono_literals;

class TestEventSourceSync : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { START_SSE_PEER(m_peer); }
    void stream();
    void timeoutLeavesTheStreamUsable();
    void throughASession();
    void fromAStdThread();
    void destructorRunsNoLoop();

private:
    SsePeer m_peer;
};

void TestEventSourceSync::stream()
{
    EventSourceOptions options;
    options.reconnect = false;
    EventSource events(m_peer.url(QStringLiteral("/events?n=3&gzip=1")), options);
    QStringList seen;
    while (const std::optional<ServerSentEvent> e = events.next(5s))
        seen << e->data + QLatin1Char(':') + e->lastEventId;
    QCOMPARE(seen,
        (QStringList {QStringLiteral("event 1:1"), QStringLiteral("event 2:2"),
            QStringLiteral("event 3:3")}));
    QCOMPARE(events.readyState(), EventSource::ReadyState::Closed);
    QVERIFY(events.lastError().isNull());
}

void TestEventSourceSync::timeoutLeavesTheStreamUsable()
{
    EventSourceOptions options;
    options.reconnect = false;
    // One event, then 600 ms of silence before the next.
    EventSource events(m_peer.url(QStringLiteral("/events?n=2&interval=600")), options);
    QCOMPARE(events.next(5s)->data, QStringLiteral("event 1"));
    try {
        events.next(50ms);
        QFAIL("next(50ms) returned during the silence");
    } catch (const ReadTimeout &) {
    }
    QCOMPARE(events.next(5s)->data, QStringLiteral("event 2"));
    QVERIFY(!events.next(5s));
}

void TestEventSourceSync::throughASession()
{
    Session session(m_peer.url(QStringLiteral("/")));
    session.setDefaultHeader("X-From", "session");
    EventSourceOptions options;
    options.reconnect = false;
    EventSource events(session, QUrl(QStringLiteral("events?n=1&tag=sync-session")), options);
    QCOMPARE(events.next(5s)->data, QStringLiteral("event 1"));
    QVERIFY(!events.next(5s));
    QCOMPARE(events.status(), 200);
    // The same through session.eventSource() and the blocking facade.
    const std::unique_ptr<EventSource> fromSession
        = session.eventSource(QUrl(QStringLiteral("events?n=1&tag=sync-session-2")), options);
    QCOMPARE(fromSession->next(5s)->lastEventId, QStringLiteral("1"));
    Reqivo::Reqivo api(m_peer.url(QStringLiteral("/")));
    const std::unique_ptr<EventSource> fromFacade
        = api.eventSource(QUrl(QStringLiteral("events?n=2&tag=sync-facade")), options);
    QCOMPARE(fromFacade->next(5s)->data, QStringLiteral("event 1"));
    QCOMPARE(fromFacade->next(5s)->data, QStringLiteral("event 2"));
    QVERIFY(!fromFacade->next(5s));
}

void TestEventSourceSync::fromAStdThread()
{
    QStringList seen;
    QString problem;
    std::thread worker([&] {
        try {
            EventSourceOptions options;
            options.reconnect = false;
            EventSource events(m_peer.url(QStringLiteral("/events?n=2")), options);
            while (const auto e = events.next(5s))
                seen << e->data;
        } catch (const std::exception &e) {
            problem = QString::fromUtf8(e.what());
        }
    });
    worker.join();
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QCOMPARE(seen, (QStringList {QStringLiteral("event 1"), QStringLiteral("event 2")}));
}

void TestEventSourceSync::destructorRunsNoLoop()
{
    bool loopRan = false;
    {
        EventSource events(m_peer.url(QStringLiteral("/silent")));
        events.async().open();
        QTimer::singleShot(0, this, [&] { loopRan = true; });
    }
    QVERIFY2(!loopRan, "the destructor ran a nested event loop");
    QTRY_VERIFY(loopRan);
}

QTEST_GUILESS_MAIN(TestEventSourceSync)
#include "tst_eventsource_sync.moc"
