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
#include <Reqivo/timeout.h>

#include "bodystream_p.h"
#include "decompressor.h"
#include "protocol/responseparser.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include <QPointer>

namespace Reqivo::Client {

using Clock = std::chrono::steady_clock;
using ProgressCallback = std::function<void(qint64 done, qint64 total)>;

//! Lets a Reply (or anything else) stop a request: cancel() aborts the connection the request
//! is using, which wakes it; every resumption point then sees `cancelled` and unwinds.
struct CancelToken
{
    bool cancelled = false;
    QPointer<AsyncConnection> active;
    void cancel();
    //! Throws RequestError("aborted") when cancelled.
    void check(const QUrl &url) const;
};

struct ExchangeSettings
{
    Timeout timeout;
    Limits limits;
    bool decompress = true;
    bool stream = false;
    //! The total deadline, when Timeout::total is set.
    std::optional<Clock::time_point> deadline;
    ProgressCallback uploadProgress;
    ProgressCallback downloadProgress;
    //! Kept alive for as long as a streamed body is (AsyncRequest's private session).
    std::shared_ptr<void> keepAlive;
    std::shared_ptr<CancelToken> cancel;
};

//! How far an exchange got, for the retry-once decision.
struct ExchangeProgress
{
    bool requestSent = false;
    bool responseStarted = false;
};

//! The wait allowed for one phase: min(phase, time left to the deadline); zero = no limit.
//! Throws TimeoutError when the deadline has passed.
std::chrono::milliseconds waitBudget(std::chrono::milliseconds phase,
                                     const std::optional<Clock::time_point> &deadline,
                                     const QUrl &url);

//! Maps a parser failure to the seed's exception classes.
[[noreturn]] void throwParseError(const Protocol::ResponseParser &parser, const QUrl &url);

//! Sends \a head (request line + fields, already validated) and \a body over \a lease, reads the
//! response. \a progress must outlive the call.
REQIVO_EXPORT QCoro::Task<Response> runExchange(ConnectionLease lease, QByteArray head, Body body,
                                                QByteArray method, QUrl url,
                                                ExchangeSettings settings,
                                                ExchangeProgress *progress);

} // namespace Reqivo::Client
