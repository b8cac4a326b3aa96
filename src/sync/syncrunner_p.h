// runBlocking(): the one bridge from the async core to the blocking classes.
//
// It starts the coroutine, and only if it did not finish at once spins a nested QEventLoop
// (ExcludeUserInputEvents) until it does, then returns its value or rethrows its exception.
// A nested loop delivers timers, socket events and queued signals in the middle of the caller's
// code: a slot can run while a blocking call is still on the stack (the QGIS/KDE re-entrancy
// hazard). Two rules keep that contained:
//  * a blocking call started from inside another blocking call on the same thread is refused
//    with a ReqivoError instead of nesting loops ever deeper;
//  * a blocking object (its async twin, the QObject given as owner) works only in the thread it
//    lives in: a call from another thread is refused at once with a ReqivoError, instead of
//    creating sockets and timers that belong to the wrong thread;
//  * the first blocking call on the GUI thread prints a one-time warning naming the hazard.
// It works in any thread with a QCoreApplication in the process: a QThread, or a std::thread
// that never ran an event loop (Qt adopts it and gives it an event dispatcher).
#pragma once

#include <Reqivo/errors.h>

#include <QCoro/QCoroTask>
#include <QEventLoop>

#include <exception>
#include <optional>
#include <type_traits>

namespace Reqivo::Sync {

//! Per-thread re-entry guard and environment checks for one blocking call. Throws ReqivoError
//! when the call must not run (no QCoreApplication, \a owner living in another thread, or
//! re-entered).
class REQIVO_TESTS_EXPORT BlockingScope
{
public:
    explicit BlockingScope(const char *what, const QObject *owner = nullptr);
    ~BlockingScope();
    BlockingScope(const BlockingScope &) = delete;
    BlockingScope &operator=(const BlockingScope &) = delete;

    //! True while a blocking call runs on the current thread.
    static bool isActive() noexcept;
};

//! Runs the task \a makeTask() returns. A factory, not a task: QCoro tasks start eagerly, and the
//! coroutine must start after the checks and with this thread's event loop (and dispatcher)
//! in place — a std::thread has none until a QEventLoop is created. \a owner, when given, is
//! the QObject the task works through (a Session's AsyncSession): the call must come from its
//! thread.
template<typename MakeTask>
auto runBlocking(MakeTask &&makeTask, const char *what, const QObject *owner = nullptr)
{
    using T = typename std::invoke_result_t<MakeTask &>::value_type;
    BlockingScope scope(what, owner);
    QEventLoop loop;
    QCoro::Task<T> task = makeTask();
    bool done = false;
    std::exception_ptr error;
    using Stored = std::conditional_t<std::is_void_v<T>, bool, T>;
    std::optional<Stored> result;

    auto drive = [&]() -> QCoro::Task<void> {
        try {
            if constexpr (std::is_void_v<T>) {
                co_await std::move(task);
                result.emplace(true);
            } else {
                result.emplace(co_await std::move(task));
            }
        } catch (...) {
            error = std::current_exception();
        }
        done = true;
        loop.quit();
    };
    QCoro::Task<void> running = drive();
    constexpr auto flags = QEventLoop::ExcludeUserInputEvents;
    if (!done)
        loop.exec(flags);
    // exec() also returns when someone quits every loop of the thread (QCoreApplication::quit(),
    // QThread::quit()), and from then on returns at once. The coroutine still runs and refers
    // to this frame, so keep delivering events until it ends; the request's own timeouts bound
    // the wait, and the outer loops, told to quit too, do so once this call returns.
    while (!done)
        loop.processEvents(flags | QEventLoop::WaitForMoreEvents);
    if (error)
        std::rethrow_exception(error);
    if constexpr (!std::is_void_v<T>)
        return T(std::move(*result));
}

} // namespace Reqivo::Sync
