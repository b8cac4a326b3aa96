// Exchange: one HTTP request and its response over one leased connection.
//
// It writes the prepared head and the body, then drives the sans-I/O parser with whatever the
// connection reads, one read per NeedData. The body is decoded (de-chunked by the parser,
// decompressed here) either into the Response (buffered) or on demand through a BodyStream
// (streaming). The connection goes back to the pool only after EndOfMessage when the parser
// says it is reusable and nothing unsolicited follows; on any error it is closed.
#pragma once

#include <Reqivo/asyncconnection.h>
#include <Reqivo/asyncconnectionpool.h>
#include <Reqivo/body.h>
#include <Reqivo/errors.h>
#include <Reqivo/limits.h>
#include <Reqivo/response.h>
#include <Reqivo/retrypolicy.h>
#include <Reqivo/timeout.h>
#include <Reqivo/timings.h>

#include "bodystream_p.h"
#include "decompressor.h"
#include "protocol/responseparser.h"
#include "transport/abortsignal_p.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include <QPointer>

namespace Reqivo::Client {

using Clock = std::chrono::steady_clock;
using ProgressCallback = std::function<void(qint64 done, qint64 total)>;
class CallTrace;

//! Lets a Reply, an owner's destruction or a session's end stop a request at once, in any
//! phase: each phase that waits installs a handler (Transport::AbortSignal) that ends its wait —
//! the pool takes the caller out of its queue, a connecting socket is aborted (name lookup, TCP,
//! proxy, TLS), the exchange aborts its connection, an upload's device wait wakes up. Every
//! resumption point then checks the token and unwinds with RequestError ("aborted").
struct CancelToken : Transport::AbortSignal
{
    void cancel() { abort(); }
    //! Throws RequestError("aborted") when cancelled.
    void check(const QUrl &url) const;
};

struct ExchangeSettings
{
    Timeout timeout;
    Limits limits;
    bool decompress = true;
    bool stream = false;
    //! The total deadline, when Timeout::total is not Timeout::noLimit.
    std::optional<Clock::time_point> deadline;
    ProgressCallback uploadProgress;
    ProgressCallback downloadProgress;
    //! Kept alive for as long as a streamed body is (AsyncRequest's private session).
    std::shared_ptr<void> keepAlive;
    std::shared_ptr<CancelToken> cancel;
    //! Redirects are followed: a followable 3xx with a Location comes back with its body unread
    //! (a body stream), whatever `stream` says, so that the redirect stage decides about it.
    bool redirectsFollowed = false;
    //! The request asked for a protocol upgrade (an Upgrade field): only then is a 101 valid.
    bool upgradeRequested = false;
    //! The request's own HTTP version policy (RequestOptions::httpVersion), if any.
    std::optional<HttpVersion> httpVersion;
    //! The retry policy (RequestOptions::retry, else the session's); null: none.
    std::shared_ptr<const RetryPolicy> retry;
    //! The current attempt's start and its connection phases, for Response::timings()
    //! (calltrace_p.h: startAttempt(), connectionAcquired()).
    Clock::time_point attemptStart;
    Timings phases;
    //! Told of the request's events; null when no listener is set.
    std::shared_ptr<CallTrace> trace;
};

//! How far an exchange got, for the retry-once decision and the retry policy (retry.cpp).
struct ExchangeProgress
{
    bool responseStarted = false;
    //! HTTP/2: the server refused the stream (REFUSED_STREAM, or above a GOAWAY's
    //! last-stream-id): it was never processed and may be sent again whatever the method.
    bool refused = false;
};

//! The wait allowed for one phase of a request: the phase's own timeout, or the time left to
//! the total deadline when that is shorter (timeout.h's convention for both).
struct WaitBudget
{
    std::chrono::milliseconds wait = Timeout::noLimit;
    //! The total deadline, not the phase's timeout, bounds the wait: if it times out, the
    //! request passed its deadline.
    bool deadlineBound = false;
};

//! The budget for a wait of the phase whose timeout is \a phase. Throws the total-deadline
//! TimeoutError when the deadline has already passed.
WaitBudget waitBudget(std::chrono::milliseconds phase, const ExchangeSettings &settings,
                      const QUrl &url);

//! Throws the error of a request that passed its total deadline: a TimeoutError (no subclass)
//! that names Timeout::total, detail "total".
[[noreturn]] void throwTotalTimeout(const ExchangeSettings &settings, const QUrl &url);

//! For a catch block around a wait given \a budget: when that wait was bounded by the total
//! deadline and failed with a TimeoutError, throws the total-deadline error instead (the phase
//! did not time out, the request did). Otherwise returns, and the caller rethrows.
void rethrowAsTotalTimeout(const WaitBudget &budget, const ExchangeSettings &settings,
                           const QUrl &url);

//! Maps a parser failure to the seed's exception classes.
[[noreturn]] void throwParseError(const Protocol::ResponseParser &parser, const QUrl &url);

//! Sends \a head (request line + fields, already validated) and \a body over \a lease, reads the
//! response. \a progress must outlive the call.
QCoro::Task<Response> runExchange(ConnectionLease lease, QByteArray head, Body body,
                                  QByteArray method, QUrl url, ExchangeSettings settings,
                                  ExchangeProgress *progress);

//! A redirect's body is never waited for: what arrives within redirectDrainBytes and
//! redirectDrainTime (or the read timeout, when shorter) is read and dropped so the connection
//! can be reused; otherwise the connection is closed. Never throws.
constexpr qint64 redirectDrainBytes = 64 * 1024;
constexpr std::chrono::milliseconds redirectDrainTime{1000};
QCoro::Task<void> drainRedirectBody(std::shared_ptr<BodyStream> body);

//! Reads a streamed body to its end into one buffer (the decoded bytes).
QCoro::Task<QByteArray> readWholeBody(std::shared_ptr<BodyStream> body);

} // namespace Reqivo::Client
