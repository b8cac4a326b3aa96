// Coroutine test bodies for Qt Test: run a QCoro::Task to completion inside a test function.
//
//     void MyTest::readsWhatWasWritten()
//     {
//         RUN_CORO([&]() -> QCoro::Task<> {
//             co_await connection.write("ping", 1s);
//             CO_COMPARE(co_await connection.read(1s), QByteArray("pong"));
//         }());
//     }
//
// runCoroutine() starts the task, spins a nested event loop until it finishes and rethrows its
// exception. If it never does, a watchdog aborts the whole process with a message naming the
// test (qFatal): a hung test fails at once instead of stalling the suite, and its suspended
// coroutine cannot wake up later inside another test. A [&] lambda coroutine is safe here: the
// lambda object is a temporary of the RUN_CORO full-expression, which lasts until the coroutine is
// done.
//
// QVERIFY/QCOMPARE end a test with `return`, which a coroutine cannot do: use the CO_* macros,
// which `co_return` instead (in Task<void> bodies). thrown<E>(task) awaits a task that should
// fail and hands back the exception, to check its type and message; eventually(predicate)
// waits for something a peer does; eventsFlushed() delivers what is already queued.
#pragma once

#include <QCoreApplication>
#include <QCoroTask>
#include <QCoroTimer>
#include <QEventLoop>
#include <QTest>
#include <QTimer>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace ReqivoTest {

//! Long enough for a loaded CI machine under sanitizers, short enough to beat CTest's timeout.
inline constexpr std::chrono::milliseconds defaultWatchdog {30000};

namespace detail {

template<typename T>
struct RunState
{
    QEventLoop *loop = nullptr;
    bool done = false;
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
};

// Owns the task and reports into a shared state, so that nothing it touches dies with
// runCoroutine()'s stack frame if the watchdog gave up on it.
template<typename T>
QCoro::Task<void> drive(QCoro::Task<T> task, std::shared_ptr<RunState<T>> state)
{
    try {
        if constexpr (std::is_void_v<T>) {
            co_await task;
            state->value.emplace(true);
        } else {
            state->value.emplace(co_await task);
        }
    } catch (...) {
        state->error = std::current_exception();
    }
    state->done = true;
    if (state->loop)
        state->loop->quit();
}

// The coroutine is still suspended, and what it refers to (the test's locals, a RUN_CORO
// lambda's captures) dies as soon as runCoroutine() returns or throws: a later resumption, in
// some other test, would touch freed memory and crash there instead. So end the process here,
// naming the test that hung.
[[noreturn]] inline void watchdogFired(std::chrono::milliseconds watchdog)
{
    const char *function = QTest::currentTestFunction();
    const char *tag = QTest::currentDataTag();
    qFatal("RUN_CORO watchdog: the coroutine of test function %s(%s) in %s did not finish "
           "within %lld ms; aborting, because it is still suspended and refers to the test's "
           "locals",
        function ? function : "?", tag ? tag : "",
        QTest::currentAppName() ? QTest::currentAppName() : "?",
        static_cast<long long>(watchdog.count()));
}

} // namespace detail

//! Runs \a task to completion and returns its result, rethrowing its exception.
template<typename T>
T runCoroutine(QCoro::Task<T> task, std::chrono::milliseconds watchdog = defaultWatchdog)
{
    auto state = std::make_shared<detail::RunState<T>>();
    detail::drive(std::move(task), state); // QCoro tasks start at once; this one detaches
    if (!state->done) {
        QEventLoop loop;
        QTimer timer;
        timer.setSingleShot(true);
        QObject::connect(&timer, &QTimer::timeout, &loop, [&loop] { loop.exit(1); });
        timer.start(watchdog);
        state->loop = &loop;
        loop.exec();
        state->loop = nullptr;
    }
    if (!state->done)
        detail::watchdogFired(watchdog);
    if (state->error)
        std::rethrow_exception(state->error);
    if constexpr (!std::is_void_v<T>)
        return std::move(*state->value);
}

//! Awaits \a task and returns the exception of type E it threw, or nothing if it succeeded.
//! Exceptions of other types propagate (and fail the test through RUN_CORO).
template<typename E, typename T>
QCoro::Task<std::optional<E>> thrown(QCoro::Task<T> task)
{
    try {
        co_await task;
    } catch (const E &e) {
        co_return e;
    }
    co_return std::nullopt;
}

//! Suspends until \a predicate holds (checked every few milliseconds) or \a timeout passes;
//! returns the predicate's last value. For conditions a peer or the event loop brings about.
template<typename Predicate>
QCoro::Task<bool> eventually(
    Predicate predicate, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000))
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!static_cast<bool>(predicate())) {
        if (std::chrono::steady_clock::now() >= deadline)
            co_return static_cast<bool>(predicate());
        co_await QCoro::sleepFor(std::chrono::milliseconds(5));
    }
    co_return true;
}

//! Delivers what is already queued for this thread from inside a coroutine: its posted events
//! (queued signals and calls), then one turn of its event loop (a zero timer). For "nothing
//! more happens" checks whose cause is already in the queue, instead of waiting a while.
inline QCoro::Task<> eventsFlushed()
{
    QCoreApplication::sendPostedEvents();
    co_await QCoro::sleepFor(std::chrono::milliseconds(0));
}

//! Lets the event loop run for \a time from inside a coroutine.
inline QCoro::Task<> settle(std::chrono::milliseconds time = std::chrono::milliseconds(20))
{
    co_await QCoro::sleepFor(time);
}

} // namespace ReqivoTest

//! Runs a coroutine test body; an exception or the watchdog fails the test with its message.
#define RUN_CORO(...)                                                                              \
    do {                                                                                           \
        try {                                                                                      \
            ::ReqivoTest::runCoroutine(__VA_ARGS__);                                               \
        } catch (const std::exception &e_) {                                                       \
            QFAIL(e_.what());                                                                      \
        } catch (...) {                                                                            \
            QFAIL("unknown exception");                                                            \
        }                                                                                          \
    } while (false)

#define CO_VERIFY(statement)                                                                       \
    do {                                                                                           \
        if (!QTest::qVerify(static_cast<bool>(statement), #statement, "", __FILE__, __LINE__))     \
            co_return;                                                                             \
    } while (false)

#define CO_VERIFY2(statement, description)                                                         \
    do {                                                                                           \
        if (!QTest::qVerify(static_cast<bool>(statement), #statement,                              \
                static_cast<const char *>(description), __FILE__, __LINE__))                       \
            co_return;                                                                             \
    } while (false)

#define CO_COMPARE(actual, expected)                                                               \
    do {                                                                                           \
        if (!QTest::qCompare(actual, expected, #actual, #expected, __FILE__, __LINE__))            \
            co_return;                                                                             \
    } while (false)

#define CO_FAIL(message)                                                                           \
    do {                                                                                           \
        QTest::qFail(static_cast<const char *>(message), __FILE__, __LINE__);                      \
        co_return;                                                                                 \
    } while (false)
