// When and how a request is sent again: attempts, exponential backoff with full jitter,
// Retry-After, a replaceable classifier and a per-host retry budget. See docs/resilience.md.
#pragma once

#include <Reqivo/errors.h>
#include <Reqivo/reqivoglobal.h>
#include <Reqivo/timeout.h>

#include <QByteArray>
#include <QList>
#include <QUrl>

#include <chrono>
#include <functional>

namespace Reqivo {

//! One finished attempt, as the classifier sees it: either a response (status != 0) or an
//! error (error is not null).
struct REQIVO_EXPORT RetryAttempt
{
    QByteArray method; //!< "GET", ...
    QUrl url; //!< The hop's URL (after redirects), without user info.
    int attempt = 1; //!< 1 for the first try.
    int status = 0; //!< The response's status; 0 when the attempt failed with an error.
    Error error; //!< The attempt's error; null when a response came.
    //! A failed attempt had received some of the response (its head or more) before it failed:
    //! the server may have acted on the request.
    bool responseStarted = false;
};

//! What the session does after an attempt (RetryPolicy::classifier).
enum class RetryDecision {
    Return, //!< Give the response or the error to the caller.
    Retry, //!< Send the request again, after the backoff (or Retry-After).
};

//! The per-host retry budget (Finagle's RetryBudget, also reqwest's): retries stay below
//! `ratio` of the requests sent to the host (host:port, per session) in the last `window`,
//! plus a floor of `minPerSecond` retries per second of the window, so that retries never
//! multiply the load on a failing server. A retry refused by the budget returns the attempt's
//! response or error. Requests count when they are sent with a policy of more than one
//! attempt whose budget is enabled.
struct REQIVO_EXPORT RetryBudget
{
    double ratio = 0.2; //!< Retries allowed per request sent (0.2: 20 % extra load).
    int minPerSecond = 10; //!< Retries always allowed per second, whatever the ratio says.
    std::chrono::milliseconds window{10000}; //!< The period requests are counted over.
    bool enabled = true; //!< false: no budget (every retry the policy allows is made).

    //! Equal when every field is.
    friend bool operator==(const RetryBudget &, const RetryBudget &) = default;
};

//! The retry policy of a session (AsyncSession::setRetryPolicy()) or of one request
//! (RequestOptions::retry). The default, maxAttempts 1, retries nothing; apart from any
//! policy, a request that failed on a reused connection before any response byte is sent once
//! more on a fresh one (the server closed it while idle), and an HTTP/2 stream the server
//! refused is sent again.
//!
//! Safe by default: only idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) or a
//! request carrying an Idempotency-Key field are retried (unless retryNonIdempotent), and a
//! body that cannot be sent again (a device or generator that cannot rewind) never is. The
//! total deadline (Timeout::total) spans every attempt and every backoff; cancelling a request
//! during a backoff ends it at once.
struct REQIVO_EXPORT RetryPolicy
{
    //! Tries in all, the first one included; 1 retries nothing.
    int maxAttempts = 1;
    //! Backoff before retry n (1-based): a random delay in [0, min(maxDelay, baseDelay ×
    //! factor^(n-1))] with full jitter, exactly that bound without it.
    std::chrono::milliseconds baseDelay{500};
    double factor = 2.0; //!< The backoff's growth per retry (see baseDelay).
    std::chrono::milliseconds maxDelay{30000}; //!< The backoff's cap (see baseDelay).
    bool jitter = true; //!< Full jitter: a random delay up to the bound (see baseDelay).
    //! A Retry-After field (delta-seconds or an HTTP-date) on a retryable response replaces the
    //! backoff when it asks for at most this; when it asks for more, the response is returned
    //! at once.
    std::chrono::milliseconds maxRetryAfter{60000};
    //! A hard bound from the start of the hop's first attempt: no attempt starts and no backoff
    //! runs past it (curl's --retry-max-time). Timeout::noLimit: none.
    std::chrono::milliseconds maxRetryTime = Timeout::noLimit;
    //! Statuses retried by the default classifier.
    QList<int> retryStatuses{408, 429, 502, 503, 504};
    //! Retry any method, not only the idempotent ones (the body must still be replayable).
    bool retryNonIdempotent = false;
    //! Replaces the default classification (defaultDecision()); the safety rules above and the
    //! budget still apply. Called in the session's thread.
    std::function<RetryDecision(const RetryAttempt &)> classifier;
    //! The per-host retry budget (on by default).
    RetryBudget budget;

    //! No retries (the default).
    static RetryPolicy none() { return {}; }
    //! \a attempts tries with the defaults above.
    static RetryPolicy attempts(int attempts)
    {
        RetryPolicy p;
        p.maxAttempts = attempts;
        return p;
    }

    //! The default classification: Retry for the statuses in retryStatuses, and for errors
    //! before any response byte: connection refused, reset or closed (NetworkError that is not
    //! a TlsError and not an unknown host), ConnectTimeout, ReadTimeout, PoolTimeout. Never for
    //! TLS failures, an unknown host, other timeouts, request errors or a response that had
    //! started.
    RetryDecision defaultDecision(const RetryAttempt &attempt) const;
    //! classifier(attempt) when set, defaultDecision(attempt) otherwise.
    RetryDecision decide(const RetryAttempt &attempt) const
    {
        return classifier ? classifier(attempt) : defaultDecision(attempt);
    }
};

} // namespace Reqivo
