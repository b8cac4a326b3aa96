// The retry loop's parts (retry.cpp): Retry-After, the backoff, the per-host retry budget and a
// backoff sleep that a cancellation ends at once. The loop itself is
// AsyncSessionPrivate::sendWithRetries() (asyncsession_p.h), around one hop's sendHop(); each
// of its decisions is a RetryDecision event (eventlistener.h) whose reason is one of:
//   "retryable"            the classifier said Retry and everything allowed it;
//   "not-retryable"        the classifier said Return;
//   "max-attempts"         RetryPolicy::maxAttempts reached;
//   "not-idempotent"       the method is not idempotent and has no Idempotency-Key;
//   "body-not-replayable"  the body cannot be sent again;
//   "retry-after-too-long" Retry-After asked for more than RetryPolicy::maxRetryAfter;
//   "max-retry-time"       the next attempt would start after RetryPolicy::maxRetryTime;
//   "budget-exhausted"     the host's retry budget refused the retry.
#pragma once

#include <Reqivo/body.h>
#include <Reqivo/errors.h>
#include <Reqivo/headers.h>
#include <Reqivo/retrypolicy.h>

#include "exchange_p.h"

#include <QByteArrayView>
#include <QDateTime>
#include <QHash>
#include <QString>

#include <array>
#include <chrono>
#include <optional>

#include <QCoro/QCoroTask>

namespace Reqivo::Client {

//! Retry-After's value as a delay from \a now: delta-seconds, or an HTTP-date (RFC 9110
//! §5.6.7: IMF-fixdate, RFC 850 and asctime formats) minus \a now (0 for a date in the past).
//! Nullopt when the value is neither.
std::optional<std::chrono::milliseconds> parseRetryAfter(QByteArrayView value,
                                                         const QDateTime &now);

//! An HTTP-date in any of RFC 9110's three formats, in UTC; nullopt when malformed. An RFC 850
//! two-digit year more than 50 years ahead of \a now is taken as the century before.
std::optional<QDateTime> parseHttpDate(QByteArrayView value, const QDateTime &now);

//! The backoff before retry \a retry (1 for the first retry): min(maxDelay, baseDelay ×
//! factor^(retry-1)), times \a random (in [0, 1]) with jitter. At most a QTimer's range.
std::chrono::milliseconds backoffDelay(const RetryPolicy &policy, int retry, double random);

//! GET, HEAD, OPTIONS, PUT, DELETE or TRACE (RFC 9110 §9.2.2).
bool isIdempotentMethod(QByteArrayView method);

//! The per-host retry budgets of one session (RetryBudget): keyed by "host:port", each counts
//! the requests (deposits) and retries (withdrawals) of the last RetryBudget::window in ten
//! slots. A retry is allowed while the window's retries stay below minPerSecond × window
//! seconds + ratio × requests. Hosts whose window is empty are forgotten when many are kept.
class RetryBudgets
{
public:
    using Clock = std::chrono::steady_clock;

    //! A request (a hop's first attempt) to \a host.
    void deposit(const QString &host, const RetryBudget &budget, Clock::time_point now);
    //! Takes one retry for \a host if the budget allows it; false when it does not.
    bool withdraw(const QString &host, const RetryBudget &budget, Clock::time_point now);
    //! Hosts tracked (for tests of the bound).
    qsizetype size() const { return m_hosts.size(); }

    static constexpr int slotCount = 10;
    static constexpr qsizetype maxHosts = 256;

private:
    struct Slot
    {
        qint64 index = -1; // which slot-length period of the clock it counts
        qint64 deposits = 0;
        qint64 withdrawals = 0;
    };
    struct Host
    {
        std::array<Slot, slotCount> slots;
    };
    static qint64 slotIndex(const RetryBudget &budget, Clock::time_point now);
    Slot &current(Host &host, qint64 index);
    static void totals(const Host &host, qint64 index, qint64 *deposits, qint64 *withdrawals);
    void prune(qint64 index);

    QHash<QString, Host> m_hosts;
};

//! Waits \a delay (at most a QTimer's range) on a timer; \a cancel ends the wait at once, and
//! the request's "aborted" RequestError follows (for \a url).
QCoro::Task<void> cancellableSleep(std::chrono::milliseconds delay,
                                   std::shared_ptr<CancelToken> cancel, QUrl url);

} // namespace Reqivo::Client
