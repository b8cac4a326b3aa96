// Reqivo::whenAll(): wait for several coroutines that run at the same time.
//
// QCoro 0.8 has no whenAll. A QCoro task starts running the moment its coroutine is called, so
// N requests run at once when all N tasks are created before the first co_await; whenAll()
// then waits for every one of them and hands back their results in input order:
//
//   std::vector<QCoro::Task<Reqivo::Response>> tasks;
//   for (const QUrl &url : urls)
//       tasks.push_back(session.get(url));           // all N requests are running now
//   const std::vector<Reqivo::Response> responses =
//       co_await Reqivo::whenAll(std::move(tasks));  // responses[i] answers urls[i]
//
// Failures: whenAll() always waits until every task has finished, then, if any task threw,
// rethrows the exception of the first failed task in input order (the others' exceptions and
// results are dropped). It never returns or throws while a task still runs, so a task that
// refers to the caller's locals (a [&] lambda coroutine, a reference parameter) cannot outlive
// them, and no task is left detached. To stop the others early when one fails, give them a
// shared RequestOptions::cancelWith() owner, or a timeout.
//
// How many run at once is bounded by the session's pool (PoolOptions::maxPerHost, 10 per
// endpoint by default): further requests wait for a connection, in order.
//
// Results come as a std::vector, which holds any T (move-only ones too); the tasks are taken
// as a std::vector because a QCoro::Task is move-only, which QList does not support.
#pragma once

#include <QCoro/QCoroTask>

#include <exception>
#include <type_traits>
#include <utility>
#include <vector>

namespace Reqivo {

//! Waits for every task of \a tasks (already running) and returns their results in the same
//! order. Throws, after all have finished, the exception of the first task (in input order)
//! that failed. An empty vector gives an empty result at once. Every task must be a real one
//! (not a default-constructed QCoro::Task).
template<typename T>
requires(!std::is_void_v<T>)
    [[nodiscard]] QCoro::Task<std::vector<T>> whenAll(std::vector<QCoro::Task<T>> tasks)
{
    std::vector<T> results;
    results.reserve(tasks.size());
    std::exception_ptr failure;
    // One after the other: the tasks run anyway, so waiting for the first while the second
    // finishes costs nothing, and a finished task simply hands over its result.
    for (QCoro::Task<T> &task : tasks) {
        try {
            T value = co_await task;
            if (!failure)
                results.push_back(std::move(value));
        } catch (...) {
            if (!failure)
                failure = std::current_exception();
        }
    }
    if (failure)
        std::rethrow_exception(failure);
    co_return results;
}

//! The same for tasks without a result: returns when every task has finished, then throws the
//! exception of the first task (in input order) that failed, if any.
[[nodiscard]] inline QCoro::Task<void> whenAll(std::vector<QCoro::Task<void>> tasks)
{
    std::exception_ptr failure;
    for (QCoro::Task<void> &task : tasks) {
        try {
            co_await task;
        } catch (...) {
            if (!failure)
                failure = std::current_exception();
        }
    }
    if (failure)
        std::rethrow_exception(failure);
}

} // namespace Reqivo
