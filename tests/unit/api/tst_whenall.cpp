// Reqivo::whenAll() over plain coroutines, each waiting for its own gate, which the test opens in
// the order it chooses (queued, so from the event loop, as a socket would): results in input
// order whatever the finishing order, every task running at once, the void form, move-only
// results, and failures rethrown only after every task has finished (the first failed task in
// input order wins). The same against real requests: tests/integration/api.
#include "support/qcorotest.h"

#include <Reqivo/WhenAll>

#include <QTest>

#include <QCoro/QCoroSignal>
#include <QCoro/QCoroTimer>

#include <memory>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;

class Gate : public QObject
{
    Q_OBJECT
Q_SIGNALS:
    void opened();
};

namespace {

// The gates of one test, and what the tasks did.
struct Script
{
    explicit Script(int n)
    {
        for (int i = 0; i < n; ++i)
            gates.push_back(std::make_unique<Gate>());
    }
    //! Opens the gates of the tasks \a ids (1-based), in that order, from the event loop.
    void openLater(const QList<int> &ids)
    {
        for (int id : ids) {
            Gate *gate = gates[size_t(id - 1)].get();
            QMetaObject::invokeMethod(
                gate, [gate] { Q_EMIT gate->opened(); }, Qt::QueuedConnection);
        }
    }

    std::vector<std::unique_ptr<Gate>> gates;
    QList<int> finished; // ids, in finishing order
    int running = 0; // started and not finished
    int peakRunning = 0;
};

QCoro::Task<int> task(int id, std::shared_ptr<Script> s, bool fail = false)
{
    s->peakRunning = std::max(s->peakRunning, ++s->running);
    co_await qCoro(s->gates[size_t(id - 1)].get(), &Gate::opened);
    --s->running;
    s->finished.append(id);
    if (fail)
        throw std::runtime_error("task " + std::to_string(id) + " failed");
    co_return id * 10;
}

QCoro::Task<void> voidTask(int id, std::shared_ptr<Script> s, bool fail = false)
{
    co_await task(id, std::move(s), fail);
}

QCoro::Task<std::unique_ptr<int>> boxed(int value)
{
    co_await QCoro::sleepFor(0ms);
    co_return std::make_unique<int>(value);
}

} // namespace

class TestWhenAll : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void resultsInInputOrder()
    {
        RUN_CORO([]() -> QCoro::Task<> {
            auto s = std::make_shared<Script>(3);
            std::vector<QCoro::Task<int>> tasks;
            tasks.push_back(task(1, s));
            tasks.push_back(task(2, s));
            tasks.push_back(task(3, s));
            CO_COMPARE(s->running, 3); // all started before whenAll() is awaited
            s->openLater({3, 1, 2});
            const std::vector<int> results = co_await Reqivo::whenAll(std::move(tasks));
            CO_COMPARE(results, (std::vector<int> {10, 20, 30}));
            CO_COMPARE(s->finished, (QList<int> {3, 1, 2}));
            CO_COMPARE(s->peakRunning, 3);
            CO_COMPARE(s->running, 0);
        }());
    }

    void tasksThatFinishedBeforeTheAwait()
    {
        RUN_CORO([]() -> QCoro::Task<> {
            auto s = std::make_shared<Script>(2);
            std::vector<QCoro::Task<int>> tasks;
            tasks.push_back(task(1, s));
            tasks.push_back(task(2, s));
            s->openLater({2, 1});
            co_await ReqivoTest::eventsFlushed(); // both are done now; whenAll() only collects
            CO_COMPARE(s->finished, (QList<int> {2, 1}));
            const std::vector<int> results = co_await Reqivo::whenAll(std::move(tasks));
            CO_COMPARE(results, (std::vector<int> {10, 20}));
        }());
    }

    void emptyInput()
    {
        RUN_CORO([]() -> QCoro::Task<> {
            const std::vector<int> results
                = co_await Reqivo::whenAll(std::vector<QCoro::Task<int>>());
            CO_VERIFY(results.empty());
            co_await Reqivo::whenAll(std::vector<QCoro::Task<void>>());
        }());
    }

    void moveOnlyResults()
    {
        RUN_CORO([]() -> QCoro::Task<> {
            std::vector<QCoro::Task<std::unique_ptr<int>>> tasks;
            tasks.push_back(boxed(1));
            tasks.push_back(boxed(2));
            const std::vector<std::unique_ptr<int>> results
                = co_await Reqivo::whenAll(std::move(tasks));
            CO_COMPARE(results.size(), size_t(2));
            CO_COMPARE(*results[0], 1);
            CO_COMPARE(*results[1], 2);
        }());
    }

    void voidTasks()
    {
        RUN_CORO([]() -> QCoro::Task<> {
            auto s = std::make_shared<Script>(2);
            std::vector<QCoro::Task<void>> tasks;
            tasks.push_back(voidTask(1, s));
            tasks.push_back(voidTask(2, s));
            CO_COMPARE(s->running, 2);
            s->openLater({2, 1});
            co_await Reqivo::whenAll(std::move(tasks));
            CO_COMPARE(s->finished, (QList<int> {2, 1}));
            CO_COMPARE(s->running, 0);
        }());
    }

    // A failure does not end the wait: whenAll() throws only once every task has finished, so
    // nothing the tasks refer to can die under them. Of several failures, the first in input
    // order is the one thrown, whatever the order they happened in.
    void failureIsThrownAfterEveryTaskFinished_data()
    {
        QTest::addColumn<bool>("voidTasks");
        QTest::newRow("Task<int>") << false;
        QTest::newRow("Task<void>") << true;
    }
    void failureIsThrownAfterEveryTaskFinished()
    {
        QFETCH(bool, voidTasks);
        RUN_CORO([voidTasks]() -> QCoro::Task<> {
            auto s = std::make_shared<Script>(4);
            // 3 fails first, then 4 succeeds, 2 fails, and 1 (the one awaited first) is last.
            const QList<int> order {3, 4, 2, 1};
            QString message;
            try {
                if (voidTasks) {
                    std::vector<QCoro::Task<void>> tasks;
                    tasks.push_back(voidTask(1, s));
                    tasks.push_back(voidTask(2, s, true));
                    tasks.push_back(voidTask(3, s, true));
                    tasks.push_back(voidTask(4, s));
                    s->openLater(order);
                    co_await Reqivo::whenAll(std::move(tasks));
                } else {
                    std::vector<QCoro::Task<int>> tasks;
                    tasks.push_back(task(1, s));
                    tasks.push_back(task(2, s, true));
                    tasks.push_back(task(3, s, true));
                    tasks.push_back(task(4, s));
                    s->openLater(order);
                    const std::vector<int> results = co_await Reqivo::whenAll(std::move(tasks));
                    Q_UNUSED(results);
                }
            } catch (const std::runtime_error &e) {
                message = QString::fromUtf8(e.what());
                // Every task has finished by the time the exception arrives.
                CO_COMPARE(s->finished, order);
                CO_COMPARE(s->running, 0);
            }
            CO_COMPARE(message, QStringLiteral("task 2 failed"));
        }());
    }

    // The gate of a task that is still running when whenAll() is awaited: whenAll() must still
    // be waiting after the failure of an earlier one.
    void stillWaitingAfterAFailure()
    {
        RUN_CORO([]() -> QCoro::Task<> {
            auto s = std::make_shared<Script>(2);
            std::vector<QCoro::Task<int>> tasks;
            tasks.push_back(task(1, s, true));
            tasks.push_back(task(2, s));
            bool done = false;
            auto waiter = [](std::vector<QCoro::Task<int>> t, bool *d) -> QCoro::Task<bool> {
                try {
                    (void)co_await Reqivo::whenAll(std::move(t));
                } catch (const std::runtime_error &) {
                    *d = true;
                    co_return true;
                }
                *d = true;
                co_return false;
            }(std::move(tasks), &done);
            s->openLater({1});
            co_await ReqivoTest::eventsFlushed();
            CO_COMPARE(s->finished, (QList<int> {1}));
            CO_VERIFY(!done); // task 2 still runs: no answer yet
            s->openLater({2});
            CO_VERIFY(co_await waiter); // threw
            CO_VERIFY(done);
        }());
    }
};

QTEST_GUILESS_MAIN(TestWhenAll)
#include "tst_whenall.moc"
