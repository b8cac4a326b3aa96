// The timeout convention (timeout.h) as a request sees it: Timeout::all() bounds each wait and
// sets no total deadline, so a long download that keeps making progress is never cut; a total
// deadline, when asked for, ends the request in whichever phase it is with its own error (a
// TimeoutError that names Timeout::total, never a ReadTimeout-looking one), through co_await and
// through a Reply; Timeout::noLimit waits for ever and zero does not wait at all. The servers are
// scripted (faultserver.h): their timers, not the test, decide how slow they are.
#include "faultserver.h"
#include "sessiontest.h"

#include <Reqivo/AsyncSession>
#include <Reqivo/Body>
#include <Reqivo/Reply>
#include <Reqivo/asyncconnectionpool.h>

#include <QSignalSpy>
#include <QTcpServer>
#include <QTimer>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using namespace SessionTest;
using Reqivo::AsyncSession;
using Reqivo::Body;
using Reqivo::Endpoint;
using Reqivo::Reply;
using Reqivo::RequestOptions;
using Reqivo::Response;
using Reqivo::Timeout;

namespace {

// Every Timeout helper is usable in constant expressions.
static_assert(Timeout::isNoLimit(Timeout::noLimit));
static_assert(Timeout::all(5s).total == Timeout::noLimit);
static_assert(Timeout::all(5s).withTotal(1min).total == 1min);

//! The error a request gets when it passes a total deadline of \a total.
QString totalMessage(std::chrono::milliseconds total)
{
    return u"the request exceeded its total deadline of %1 ms (Timeout::total)"_s.arg(
        total.count());
}

#define CO_EXPECT_TOTAL_DEADLINE(outcome, total)                                                   \
    do {                                                                                           \
        const auto &e_ = (outcome).error;                                                          \
        CO_EXPECT_ERROR(outcome, "TimeoutError");                                                  \
        CO_VERIFY(!e_.isA(Reqivo::Error::Kind::ReadTimeout));                                      \
        CO_COMPARE(e_.message(), totalMessage(total));                                             \
        CO_COMPARE(e_.detail(), u"total"_s);                                                       \
    } while (false)

} // namespace

class TestSessionTimeouts : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Timeout's own rules, as values.
    void timeoutValues()
    {
        QCOMPARE(Timeout::noLimit, std::chrono::milliseconds(-1));
        QVERIFY(Timeout::isNoLimit(Timeout::noLimit));
        QVERIFY(Timeout::isNoLimit(-250ms)); // any negative duration
        QVERIFY(!Timeout::isNoLimit(0ms)); // zero is "no wait", a limit
        QVERIFY(!Timeout::isNoLimit(1ms));

        const Timeout defaults;
        QCOMPARE(defaults.total, Timeout::noLimit);
        QCOMPARE(defaults.read, Timeout::defaultValue);
        QCOMPARE(defaults.streamIdle, Timeout::defaultStreamIdle);

        // all(): each wait, never the whole request.
        const Timeout all = Timeout::all(1s);
        QCOMPARE(all.connect, 1s);
        QCOMPARE(all.read, 1s);
        QCOMPARE(all.write, 1s);
        QCOMPARE(all.poolAcquire, 1s);
        QCOMPARE(all.total, Timeout::noLimit);
        QCOMPARE(all.streamIdle, Timeout::defaultStreamIdle);

        const Timeout none = Timeout::none();
        QCOMPARE(none, Timeout::all(Timeout::noLimit));
        for (const std::chrono::milliseconds phase :
            {none.connect, none.read, none.write, none.total, none.poolAcquire, none.streamIdle})
            QCOMPARE(phase, Timeout::noLimit);

        // The total is asked for separately, and nothing else changes with it.
        const Timeout withTotal = Timeout::all(5s).withTotal(2min);
        QCOMPARE(withTotal.total, 2min);
        QCOMPARE(withTotal.withTotal(Timeout::noLimit), Timeout::all(5s));
    }

    // Each piece arrives well within every phase timeout of Timeout::all(400ms), but the whole
    // response takes about 2 s (52 pieces, one every 40 ms, by the server's timer): it must
    // succeed, as requests' and httpx's timeout=0.4 would.
    void steadyDownloadOutlivesTimeoutAll()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            const QByteArray body = QByteArray("0123456789").repeated(200);
            FaultServer server([body](ServerConnection &c, const ReceivedRequest &) {
                c.trickle(httpResponse(200, body), 40ms, 40);
            });
            AsyncSession session;
            session.setTimeout(Timeout::all(400ms));
            const Outcome o = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(o);
            CO_COMPARE(o.response.body(), body);
        }());
    }

    // A total deadline ends the request in whichever phase it is, with its own error: the phase
    // itself has no limit (or a far longer one), so only the deadline can end it.
    void totalDeadlineReportsItself_data()
    {
        QTest::addColumn<QString>("phase");
        QTest::newRow("waiting for the head") << u"head"_s;
        QTest::newRow("reading the body") << u"body"_s;
        QTest::newRow("sending the body") << u"upload"_s;
        QTest::newRow("waiting for a pooled connection") << u"pool"_s;
        QTest::newRow("a streamed body") << u"stream"_s;
    }
    void totalDeadlineReportsItself()
    {
        QFETCH(QString, phase);
        RUN_CORO([phase]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &r) {
                if (r.target == "/next")
                    c.write(httpResponse(200, "fine"));
                else if (r.target == "/trickle") { // the head at once, the body slowly
                    c.write("HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n");
                    c.trickle(QByteArray(400, 'z'), 20ms);
                }
                // anything else: silence
            });
            QTcpServer deaf; // completes handshakes in the kernel, never accepts, never reads
            CO_VERIFY(deaf.listen(QHostAddress::LocalHost, 0));
            deaf.pauseAccepting();

            AsyncSession session;
            const std::chrono::milliseconds total = 300ms;
            session.setTimeout(Timeout::none().withTotal(total));
            Outcome o;
            QCoro::Task<Response> holder; // keeps the only pooled connection busy
            if (phase == u"head"_s) {
                o = co_await attempt(session.get(server.url(u"/silent"_s)));
            } else if (phase == u"body"_s) {
                Timeout t = Timeout::all(20s).withTotal(total);
                o = co_await attempt(
                    session.get(server.url(u"/trickle"_s), RequestOptions().withTimeout(t)));
            } else if (phase == u"upload"_s) {
                o = co_await attempt(
                    session.post(QUrl(u"http://127.0.0.1:%1/"_s.arg(deaf.serverPort())),
                        Body::fromBytes(QByteArray(64 * 1024 * 1024, 'w'))));
            } else if (phase == u"pool"_s) {
                Reqivo::PoolOptions options;
                options.maxPerHost = 1;
                session.pool()->setOptions(options);
                holder = session.get(
                    server.url(u"/silent"_s), RequestOptions().withTimeout(Timeout::none()));
                o = co_await attempt(session.get(server.url(u"/next"_s)));
            } else {
                Timeout t = Timeout::all(20s).withTotal(total);
                const Outcome head = co_await attempt(session.get(
                    server.url(u"/trickle"_s), RequestOptions().withTimeout(t).streaming()));
                CO_EXPECT_OK(head);
                Response streamed = head.response;
                const BytesOutcome rest = co_await attemptBytes(streamed.readAll());
                CO_VERIFY(!rest.ok());
                o.error = rest.error;
            }
            CO_EXPECT_TOTAL_DEADLINE(o, total);
            if (phase == u"pool"_s) {
                // The holder still has the connection; the deadline's request left the queue.
                CO_COMPARE(session.pool()->activeCount(Endpoint::fromUrl(server.url())), 1);
                CO_VERIFY2(session.pool()->debugSummary().endsWith(u"waiting=0"_s),
                    qPrintable(session.pool()->debugSummary()));
            } else if (phase != u"upload"_s) {
                CO_COMPARE(session.pool()->activeCount(Endpoint::fromUrl(server.url())), 0);
                // The session goes on.
                const Outcome next = co_await attempt(session.get(server.url(u"/next"_s)));
                CO_EXPECT_OK(next);
            }
        }());
    }

    // Through a Reply: errorOccurred() with the same error, then finished().
    void totalDeadlineThroughAReply()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &, const ReceivedRequest &) {});
            AsyncSession session;
            session.setTimeout(Timeout::all(20s).withTotal(200ms));
            Reply *reply = session.sendGet(server.url());
            QSignalSpy errors(reply, &Reply::errorOccurred);
            QSignalSpy finished(reply, &Reply::finished);
            CO_VERIFY(co_await waitUntil([&] { return finished.size() == 1; }, 10s));
            CO_COMPARE(errors.size(), 1);
            const Reqivo::Error e = reply->error();
            CO_COMPARE(e.typeName(), u"TimeoutError"_s);
            CO_COMPARE(e.message(), totalMessage(200ms));
            CO_COMPARE(errors.first().first().value<Reqivo::Error>(), e);
            delete reply;
        }());
    }

    // Timeout::noLimit in every phase waits as long as the server takes; zero does not wait
    // at all: a read that finds nothing is a ReadTimeout at once (the server, on this thread,
    // cannot even have seen the request yet).
    void noLimitAndZero()
    {
        RUN_CORO([]() -> QCoro::Task<void> {
            FaultServer server([](ServerConnection &c, const ReceivedRequest &) {
                c.writeLater(httpResponse(200, "late"), 300ms);
            });
            AsyncSession session;
            session.setTimeout(Timeout::none());
            const Outcome patient = co_await attempt(session.get(server.url()));
            CO_EXPECT_OK(patient);
            CO_COMPARE(patient.response.body(), QByteArray("late"));

            Timeout zero = Timeout::none();
            zero.read = 0ms;
            const Outcome hasty
                = co_await attempt(session.get(server.url(), RequestOptions().withTimeout(zero)));
            CO_EXPECT_ERROR(hasty, "ReadTimeout");
        }());
    }
};

QTEST_GUILESS_MAIN(TestSessionTimeouts)
#include "tst_session_timeouts.moc"
