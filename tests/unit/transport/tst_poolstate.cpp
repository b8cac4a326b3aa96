// PoolState: the pool's rules without sockets or clocks. Each test drives it with a fake clock
// and reads the outcome off summary(), the same one-line summary the pool logs.
#include "transport/poolstate_p.h"

#include <QTest>

using namespace std::chrono_literals;
using Reqivo::PoolOptions;
using Reqivo::Transport::PoolState;
using Outcome = PoolState::Outcome;
using Millis = PoolState::Millis;

namespace {

const QString A = QStringLiteral("http://a:80");
const QString B = QStringLiteral("http://b:80");

PoolOptions caps(int perHost, int total, Millis idle = 30s)
{
    PoolOptions options;
    options.maxPerHost = perHost;
    options.maxTotal = total;
    options.maxIdleTime = idle;
    return options;
}

// Checkout with the clock at \a now and no liveness check; toClose must stay empty.
PoolState::Checkout take(PoolState &state, const QString &key, Millis now = 0ms, bool fresh = false)
{
    std::vector<quint64> toClose;
    const auto checkout = state.checkout(key, fresh, now, {}, toClose);
    if (!toClose.empty())
        qWarning("unexpected toClose");
    return checkout;
}

} // namespace

class TestPoolState : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void emptySummary()
    {
        PoolState state;
        QCOMPARE(state.summary(), QStringLiteral("no connections | total=0/100 waiting=0"));
        QCOMPARE(state.nextExpiry(), std::nullopt);
    }

    // statistics(): counts now, and opened/reused/closed since the start, per key; a key's
    // counters stay after its last connection is gone.
    void statisticsPerKey()
    {
        PoolState state(caps(1, 100, 10ms));
        QVERIFY(state.statistics().isEmpty());
        const auto a1 = take(state, A); // opened
        const auto b1 = take(state, B); // opened
        const auto a2 = take(state, A); // waits: one per host
        QCOMPARE(a2.outcome, Outcome::Wait);
        QList<Reqivo::PoolOriginStatistics> stats = state.statistics();
        QCOMPARE(stats.size(), 2);
        QCOMPARE(stats[0].origin, A);
        QCOMPARE(stats[0].active, 1);
        QCOMPARE(stats[0].waiting, 1);
        QCOMPARE(stats[0].opened, 1);
        QCOMPARE(stats[1].origin, B);
        QCOMPARE(stats[1].waiting, 0);

        state.release(a1.slot, 1ms);
        const auto actions = state.schedule(1ms); // the waiter reuses a1's connection
        QCOMPARE(actions.grants.size(), size_t(1));
        QCOMPARE(actions.grants[0].outcome, Outcome::Reuse);
        state.release(a1.slot, 2ms);
        state.remove(b1.slot); // B's connection failed
        QCOMPARE(state.expire(100ms).size(), size_t(1)); // A's idle one expires
        stats = state.statistics();
        QCOMPARE(stats.size(), 2);
        QCOMPARE(stats[0].origin, A);
        QCOMPARE(stats[0].idle, 0);
        QCOMPARE(stats[0].active, 0);
        QCOMPARE(stats[0].waiting, 0);
        QCOMPARE(stats[0].opened, 1);
        QCOMPARE(stats[0].reused, 1);
        QCOMPARE(stats[0].closed, 1);
        QCOMPARE(stats[1].opened, 1);
        QCOMPARE(stats[1].reused, 0);
        QCOMPARE(stats[1].closed, 1);
    }

    void createThenReuseLastInFirstOut()
    {
        PoolState state(caps(10, 100));
        const auto c1 = take(state, A);
        const auto c2 = take(state, A);
        const auto c3 = take(state, A);
        QCOMPARE(c1.outcome, Outcome::Create);
        QCOMPARE(c3.outcome, Outcome::Create);
        QCOMPARE(
            state.summary(), QStringLiteral("http://a:80 idle=0 active=3 | total=3/100 waiting=0"));

        state.release(c1.slot, 1ms);
        state.release(c2.slot, 2ms);
        state.release(c3.slot, 3ms);
        QCOMPARE(
            state.summary(), QStringLiteral("http://a:80 idle=3 active=0 | total=3/100 waiting=0"));

        // The warmest connection first, then the next.
        const auto r1 = take(state, A, 4ms);
        QCOMPARE(r1.outcome, Outcome::Reuse);
        QCOMPARE(r1.slot, c3.slot);
        QCOMPARE(take(state, A, 4ms).slot, c2.slot);
        QCOMPARE(
            state.summary(), QStringLiteral("http://a:80 idle=1 active=2 | total=3/100 waiting=0"));
        QCOMPARE(state.idleCount(A), 1);
        QCOMPARE(state.activeCount(A), 2);
        QVERIFY(state.isIdle(c1.slot));
        QVERIFY(!state.isIdle(c3.slot));
    }

    void perHostCapQueuesCallersAndServesThemInOrder()
    {
        PoolState state(caps(2, 100));
        const auto c1 = take(state, A);
        const auto c2 = take(state, A);
        const auto w1 = take(state, A);
        const auto w2 = take(state, A);
        const auto w3 = take(state, A);
        QCOMPARE(w1.outcome, Outcome::Wait);
        QVERIFY(w1.waiter < w2.waiter && w2.waiter < w3.waiter);
        QCOMPARE(
            state.summary(), QStringLiteral("http://a:80 idle=0 active=2 | total=2/100 waiting=3"));

        state.release(c1.slot, 10ms);
        auto actions = state.schedule(10ms);
        QCOMPARE(actions.grants.size(), 1u);
        QCOMPARE(actions.grants[0].waiter, w1.waiter);
        QCOMPARE(actions.grants[0].outcome, Outcome::Reuse);
        QCOMPARE(actions.grants[0].slot, c1.slot);
        QCOMPARE(
            state.summary(), QStringLiteral("http://a:80 idle=0 active=2 | total=2/100 waiting=2"));

        // A discarded connection frees a slot: the next waiter gets a new connection.
        state.remove(c2.slot);
        actions = state.schedule(20ms);
        QCOMPARE(actions.grants.size(), 1u);
        QCOMPARE(actions.grants[0].waiter, w2.waiter);
        QCOMPARE(actions.grants[0].outcome, Outcome::Create);
        QVERIFY(actions.toClose.empty());
        QCOMPARE(
            state.summary(), QStringLiteral("http://a:80 idle=0 active=2 | total=2/100 waiting=1"));
    }

    void aNewcomerDoesNotOvertakeWaitersOfItsKey()
    {
        PoolState state(caps(1, 100));
        const auto c1 = take(state, A);
        const auto w1 = take(state, A);
        QCOMPARE(w1.outcome, Outcome::Wait);
        QCOMPARE(take(state, A).outcome, Outcome::Wait);
        state.release(c1.slot, 1ms);
        const auto actions = state.schedule(1ms);
        QCOMPARE(actions.grants.size(), 1u);
        QCOMPARE(actions.grants[0].waiter, w1.waiter);
    }

    void waitersOfAFullHostDoNotBlockOtherHosts()
    {
        PoolState state(caps(1, 100));
        take(state, A);
        QCOMPARE(take(state, A).outcome, Outcome::Wait);
        const auto b = take(state, B);
        QCOMPARE(b.outcome, Outcome::Create);
        QCOMPARE(state.summary(),
            QStringLiteral("http://a:80 idle=0 active=1, http://b:80 idle=0 active=1 | total=2/100 "
                           "waiting=1"));
    }

    void totalCapClosesTheOldestIdleConnectionOfAnotherHost()
    {
        PoolState state(caps(10, 2));
        const auto a1 = take(state, A);
        const auto a2 = take(state, A);
        state.release(a1.slot, 1ms);
        state.release(a2.slot, 2ms);
        std::vector<quint64> toClose;
        const auto b = state.checkout(B, false, 3ms, {}, toClose);
        QCOMPARE(b.outcome, Outcome::Create);
        QCOMPARE(toClose, std::vector<quint64> {a1.slot});
        QCOMPARE(state.summary(),
            QStringLiteral(
                "http://a:80 idle=1 active=0, http://b:80 idle=0 active=1 | total=2/2 waiting=0"));
    }

    void totalCapWaitersAreServedWhenAnyConnectionFrees()
    {
        PoolState state(caps(10, 2));
        const auto a1 = take(state, A);
        take(state, A);
        const auto wb = take(state, B);
        QCOMPARE(wb.outcome, Outcome::Wait);
        QCOMPARE(
            state.summary(), QStringLiteral("http://a:80 idle=0 active=2 | total=2/2 waiting=1"));

        // A's connection comes back idle; B cannot use it but may close it to open its own.
        state.release(a1.slot, 5ms);
        const auto actions = state.schedule(5ms);
        QCOMPARE(actions.grants.size(), 1u);
        QCOMPARE(actions.grants[0].waiter, wb.waiter);
        QCOMPARE(actions.grants[0].outcome, Outcome::Create);
        QCOMPARE(actions.toClose, std::vector<quint64> {a1.slot});
        QCOMPARE(state.summary(),
            QStringLiteral(
                "http://a:80 idle=0 active=1, http://b:80 idle=0 active=1 | total=2/2 waiting=0"));
    }

    void cancelledWaitersAreNotServed()
    {
        PoolState state(caps(1, 100));
        const auto c1 = take(state, A);
        const auto w1 = take(state, A);
        const auto w2 = take(state, A);
        state.cancel(w1.waiter);
        QCOMPARE(state.waitingCount(), 1);
        state.release(c1.slot, 1ms);
        const auto actions = state.schedule(1ms);
        QCOMPARE(actions.grants.size(), 1u);
        QCOMPARE(actions.grants[0].waiter, w2.waiter);
    }

    void idleExpiry()
    {
        PoolState state(caps(10, 100, 100ms));
        const auto c1 = take(state, A);
        const auto c2 = take(state, A);
        QCOMPARE(state.release(c1.slot, 0ms), 100ms);
        QCOMPARE(state.release(c2.slot, 50ms), 150ms);
        QCOMPARE(state.nextExpiry(), std::optional<Millis>(100ms));
        QVERIFY(state.expire(99ms).empty());
        QCOMPARE(state.expire(100ms), std::vector<quint64> {c1.slot});
        QCOMPARE(
            state.summary(), QStringLiteral("http://a:80 idle=1 active=0 | total=1/100 waiting=0"));
        QCOMPARE(state.nextExpiry(), std::optional<Millis>(150ms));
        QCOMPARE(state.expire(1000ms), std::vector<quint64> {c2.slot});
        QCOMPARE(state.summary(), QStringLiteral("no connections | total=0/100 waiting=0"));
    }

    void expiredIdleConnectionsAreSkippedOnReuse()
    {
        PoolState state(caps(10, 100, 100ms));
        const auto c1 = take(state, A);
        const auto c2 = take(state, A);
        state.release(c1.slot, 0ms); // expires at 100
        state.release(c2.slot, 0ms, 60ms); // keep-alive 60 ms: expires at 30
        std::vector<quint64> toClose;
        const auto c = state.checkout(A, false, 40ms, {}, toClose);
        QCOMPARE(c.outcome, Outcome::Reuse);
        QCOMPARE(c.slot, c1.slot);
        QCOMPARE(toClose, std::vector<quint64> {c2.slot});
    }

    void deadIdleConnectionsAreSkippedOnReuse()
    {
        PoolState state(caps(10, 100));
        const auto c1 = take(state, A);
        const auto c2 = take(state, A);
        state.release(c1.slot, 0ms);
        state.release(c2.slot, 0ms);
        std::vector<quint64> toClose;
        Millis askedIdleFor {-1};
        const auto dead = [&](quint64 slot, Millis idleFor) {
            askedIdleFor = idleFor;
            return slot != c2.slot && slot != c1.slot;
        };
        const auto c = state.checkout(A, false, 1ms, dead, toClose);
        QCOMPARE(c.outcome, Outcome::Create);
        QCOMPARE(toClose, (std::vector<quint64> {c2.slot, c1.slot}));
        QCOMPARE(askedIdleFor, 1ms); // released at 0, asked at 1
        QCOMPARE(
            state.summary(), QStringLiteral("http://a:80 idle=0 active=1 | total=1/100 waiting=0"));
    }

    void keepAliveShortensExpiry_data()
    {
        QTest::addColumn<Millis>("maxIdle");
        QTest::addColumn<Millis>("keepAlive");
        QTest::addColumn<Millis>("expiresAt");
        QTest::newRow("no keep-alive: maxIdleTime") << Millis(30s) << Millis(0) << Millis(30s);
        QTest::newRow("timeout=5: one second early") << Millis(30s) << Millis(5s) << Millis(4s);
        QTest::newRow("timeout=1: half early") << Millis(30s) << Millis(1s) << Millis(500ms);
        QTest::newRow("short: half early") << Millis(30s) << Millis(100ms) << Millis(50ms);
        QTest::newRow("longer than maxIdleTime") << Millis(30s) << Millis(75s) << Millis(30s);
        QTest::newRow("no maxIdleTime: keep-alive only") << Millis(0) << Millis(10s) << Millis(9s);
        QTest::newRow("neither: never") << Millis(0) << Millis(0) << Millis::max();
    }

    void keepAliveShortensExpiry()
    {
        QFETCH(Millis, maxIdle);
        QFETCH(Millis, keepAlive);
        QFETCH(Millis, expiresAt);
        PoolState state(caps(10, 100, maxIdle));
        const auto c = take(state, A);
        QCOMPARE(state.release(c.slot, 0ms, keepAlive), expiresAt);
        QCOMPARE(state.nextExpiry().value_or(Millis::max()), expiresAt);
    }

    void freshNeverReuses()
    {
        PoolState state(caps(2, 100));
        const auto c1 = take(state, A);
        state.release(c1.slot, 0ms);
        const auto f1 = take(state, A, 1ms, true);
        QCOMPARE(f1.outcome, Outcome::Create);
        QCOMPARE(
            state.summary(), QStringLiteral("http://a:80 idle=1 active=1 | total=2/100 waiting=0"));
        // At the per-host cap a fresh request replaces the idle connection.
        std::vector<quint64> toClose;
        const auto f2 = state.checkout(A, true, 2ms, {}, toClose);
        QCOMPARE(f2.outcome, Outcome::Create);
        QCOMPARE(toClose, std::vector<quint64> {c1.slot});
        QCOMPARE(
            state.summary(), QStringLiteral("http://a:80 idle=0 active=2 | total=2/100 waiting=0"));
        // With everything busy it waits like anyone else, and is never handed an idle one.
        const auto w = state.checkout(A, true, 3ms, {}, toClose);
        QCOMPARE(w.outcome, Outcome::Wait);
        state.release(f1.slot, 4ms);
        toClose.clear();
        const auto actions = state.schedule(4ms);
        QCOMPARE(actions.grants.size(), 1u);
        QCOMPARE(actions.grants[0].outcome, Outcome::Create);
        QCOMPARE(actions.toClose, std::vector<quint64> {f1.slot});
    }

    void takeIdleAndWaiters()
    {
        PoolState state(caps(1, 100));
        const auto a = take(state, A);
        const auto b = take(state, B);
        state.release(a.slot, 0ms);
        const auto w = take(state, B);
        QCOMPARE(state.takeIdle(), std::vector<quint64> {a.slot});
        QCOMPARE(state.takeWaiters(), std::vector<quint64> {w.waiter});
        QCOMPARE(state.slots(), std::vector<quint64> {b.slot});
        QCOMPARE(
            state.summary(), QStringLiteral("http://b:80 idle=0 active=1 | total=1/100 waiting=0"));
    }

    void loweringCapsClosesIdleConnectionsAndRaisingThemServesWaiters()
    {
        PoolState state(caps(3, 100));
        const auto c1 = take(state, A);
        const auto c2 = take(state, A);
        const auto c3 = take(state, A);
        state.release(c1.slot, 1ms);
        state.release(c2.slot, 2ms);
        auto actions = state.setOptions(caps(1, 100), 3ms);
        QCOMPARE(actions.toClose, (std::vector<quint64> {c1.slot, c2.slot}));
        QCOMPARE(
            state.summary(), QStringLiteral("http://a:80 idle=0 active=1 | total=1/100 waiting=0"));
        const auto w = take(state, A);
        QCOMPARE(w.outcome, Outcome::Wait);
        actions = state.setOptions(caps(2, 100), 4ms);
        QCOMPARE(actions.grants.size(), 1u);
        QCOMPARE(actions.grants[0].waiter, w.waiter);
        QCOMPARE(
            state.summary(), QStringLiteral("http://a:80 idle=0 active=2 | total=2/100 waiting=0"));
        Q_UNUSED(c3);
    }

    void labels_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("label");
        QTest::newRow("plain") << QStringLiteral("http://127.0.0.1:8080")
                               << QStringLiteral("http://127.0.0.1:8080");
        QTest::newRow("socks5 with credentials")
            << QStringLiteral("https://h:443|proxy=socks5:127.0.0.1:1080#00ff00ff00ff00ff")
            << QStringLiteral("https://h:443 via socks5 proxy 127.0.0.1:1080");
        QTest::newRow("http proxy, custom TLS")
            << QStringLiteral(
                   "https://h:443|proxy=http:[::1]:3128|tls=0123456789abcdef0123456789abcdef")
            << QStringLiteral("https://h:443 via http proxy [::1]:3128 tls=01234567");
        QTest::newRow("explicitly no proxy")
            << QStringLiteral("http://h:80|proxy=none") << QStringLiteral("http://h:80");
    }

    void labels()
    {
        QFETCH(QString, key);
        QFETCH(QString, label);
        QCOMPARE(PoolState::labelForKey(key), label);
    }
};

QTEST_GUILESS_MAIN(TestPoolState)
#include "tst_poolstate.moc"
