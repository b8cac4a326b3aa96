// Helpers for the session integration tests, on top of support/qcorotest.h (RUN_CORO and the
// co_return-safe CO_VERIFY/CO_COMPARE): turn "a response or an exception" into one value to
// assert on, and wait without blocking the event loop the in-process servers run on.
//
// The one idea: a test body is a coroutine that owns everything it uses (servers, sessions) in
// its own frame, so an assertion that ends it early, or an error, tears everything down in
// order. Errors are compared by their most specific class name, so a failure message says
// which exception came instead.
#pragma once

#include "support/outcome.h"
#include "support/qcorotest.h"

#include <Reqivo/errors.h>
#include <Reqivo/response.h>

#include <QElapsedTimer>
#include <QtTest>

#include <QCoro/QCoroTask>
#include <QCoro/QCoroTimer>

#include <chrono>

namespace SessionTest {

using namespace std::chrono_literals;

using ReqivoTest::Outcome;

//! Takes the task by value: the caller may pass a temporary or a moved-from task it started
//! earlier (tasks are eager).
inline QCoro::Task<Outcome> attempt(QCoro::Task<Reqivo::Response> task)
{
    Outcome o;
    QElapsedTimer timer;
    timer.start();
    try {
        o.response = co_await task;
    } catch (...) {
        o.error = Reqivo::Error::fromException(std::current_exception());
    }
    o.took = std::chrono::milliseconds(timer.elapsed());
    co_return o;
}

//! The same for anything that yields a QByteArray (readChunk(), readAll()).
struct BytesOutcome
{
    QByteArray bytes;
    Reqivo::Error error;
    bool ok() const { return error.isNull(); }
};

inline QCoro::Task<BytesOutcome> attemptBytes(QCoro::Task<QByteArray> task)
{
    BytesOutcome o;
    try {
        o.bytes = co_await task;
    } catch (...) {
        o.error = Reqivo::Error::fromException(std::current_exception());
    }
    co_return o;
}

//! Waits without blocking the event loop (the in-process servers run on it).
inline QCoro::Task<void> sleep(std::chrono::milliseconds ms)
{
    co_await QCoro::sleepFor(ms);
}

//! Polls \a condition every 10 ms until it holds or \a limit passes; returns its last value.
template<typename Condition>
QCoro::Task<bool> waitUntil(Condition condition, std::chrono::milliseconds limit = 5s)
{
    QElapsedTimer timer;
    timer.start();
    while (!condition()) {
        if (timer.elapsed() > limit.count())
            co_return condition();
        co_await sleep(10ms);
    }
    co_return true;
}

} // namespace SessionTest

// Each macro evaluates its argument once: it may be a `co_await attempt(...)` expression.

//! The outcome is a response (not an error); says which error it was otherwise.
#define CO_EXPECT_OK(outcome) REQIVO_EXPECT_OK_WITH(CO_VERIFY2, outcome)

//! The outcome is an error of exactly the class \a className ("ReadTimeout").
#define CO_EXPECT_ERROR(outcome, className)                                                        \
    REQIVO_EXPECT_ERROR_WITH(CO_VERIFY2, CO_COMPARE, outcome, className)

//! The outcome is an error caught by `catch (const <kind> &)`.
#define CO_EXPECT_ERROR_ISA(outcome, kind)                                                         \
    do {                                                                                           \
        const auto &o_ = (outcome);                                                                \
        CO_VERIFY2(                                                                                \
            !o_.ok(), qPrintable(QStringLiteral("expected an error, got ") + o_.describe()));      \
        CO_VERIFY2(o_.error.isA(Reqivo::Error::Kind::kind),                                        \
            qPrintable(QStringLiteral("expected a " #kind " error, got ") + o_.error.toString())); \
    } while (false)
