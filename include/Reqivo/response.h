// Reqivo::Response: an implicitly shared value holding one HTTP response.
//
// HTTP error statuses are responses, not exceptions: check isSuccess() or call
// raiseForStatus(). In streaming mode (RequestOptions::stream) the body is not buffered: read it
// with co_await readChunk() until it returns an empty array, or iterate chunks(). The connection
// goes back to the pool only when the body was read to its end; close() (or dropping the last
// copy of the Response) closes it instead.
#pragma once

#include <Reqivo/headers.h>
#include <Reqivo/reqivoglobal.h>
#include <Reqivo/timings.h>

#include <QByteArray>
#include <QByteArrayView>
#include <QSharedDataPointer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QJsonValue>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QUrl>

#include <QCoro/QCoroAsyncGenerator>
#include <QCoro/QCoroTask>

#include <chrono>
#include <memory>
#include <optional>

namespace Reqivo {

class ResponseData;
class BodyStream;

//! One HTTP response, as an implicitly shared value.
//!
//! HTTP error statuses are responses, not exceptions: check isSuccess() or call
//! raiseForStatus(). A buffered response (the default) holds its decoded body (body(), text(),
//! readJson(), json()). In streaming mode (RequestOptions::streaming()) the body is read with
//! co_await readChunk() until it returns an empty array, or chunks(); the connection goes back
//! to the pool only when the body was read to its end, and close() (or dropping the last copy)
//! closes it instead.
class REQIVO_EXPORT Response
{
public:
    //! A null response (isNull()).
    Response();
    //! Shares \a other (a streamed body is shared too: a chunk read through one copy is gone
    //! for all).
    Response(const Response &other);
    //! Takes over \a other.
    Response(Response &&other) noexcept;
    //! Shares \a other.
    Response &operator=(const Response &other);
    //! Takes over \a other.
    Response &operator=(Response &&other) noexcept;
    ~Response();

    bool isNull() const noexcept; //!< a default-constructed Response (no status set)
    //! The status code, e.g. 200; 0 for a null response.
    int status() const noexcept;
    //! The reason phrase as sent, e.g. "OK" (may be empty).
    QByteArray reason() const;
    //! "1.1" or "1.0", or "2" for a response that came over HTTP/2.
    QString httpVersion() const;
    //! The response's fields. Headers::value() returns a view into this Response: keep it only
    //! while you hold the Response (see headers.h); header() and Headers::get() return copies.
    const Headers &headers() const noexcept;
    //! The first value of the field \a name (case-insensitive) as an owning QByteArray, empty
    //! when there is none (use headers().get() to tell "absent" from "empty", and
    //! headers().values() for every value). Safe on a temporary:
    //! `QByteArray type = (co_await session.get(url)).header("Content-Type");`
    QByteArray header(QByteArrayView name) const;
    //! The method of the request that produced this response (after redirects).
    QByteArray method() const;
    //! The final URL, after redirects.
    QUrl url() const;
    //! The redirect responses that led here, oldest first (each without a body).
    QList<Response> history() const;
    //! Time from sending the request to the end of the head (or of the body when buffered).
    std::chrono::milliseconds elapsed() const noexcept;
    //! True when the request went over a connection that had carried an earlier request.
    bool connectionReused() const noexcept;
    //! How many times the final hop (after redirects) was tried under the RetryPolicy: 1 when
    //! nothing was retried (the resend of a request that met a stale connection, or of a
    //! refused HTTP/2 stream, is part of one attempt).
    int attempts() const noexcept;
    //! How long each phase of the final attempt took (curl's CURLINFO_*_TIME_T shape).
    Timings timings() const noexcept;

    //! True for a 2xx status.
    bool isSuccess() const noexcept { return status() >= 200 && status() < 300; }
    //! True for a redirect status with a Location (301, 302, 303, 307, 308).
    bool isRedirect() const noexcept;
    //! Throws StatusError (code() = status) for 4xx and 5xx, and for a code outside 100-599,
    //! which RFC 9110 §15 says to process as a server error; does nothing otherwise.
    void raiseForStatus() const;

    //! The whole body (decoded: de-chunked and decompressed). In streaming mode: what readAll()
    //! has gathered (empty until then), seen by every copy of the Response.
    QByteArray body() const;
    //! The body as text: charset from Content-Type (UTF-8 when absent or unknown).
    QString text() const;
    //! The body as JSON, or std::nullopt when it is not valid JSON (an empty body is not);
    //! \a error, when given, receives the parser's verdict (NoError on success). Never throws,
    //! so it is the one to use in slots (as QRestReply::readJson()). In streaming mode it parses
    //! body(), which is what readAll() gathered.
    std::optional<QJsonDocument> readJson(QJsonParseError *error = nullptr) const;
    //! The body as JSON; throws InvalidResponseError (naming the parse error and its offset)
    //! when it is not valid JSON. For coroutine and blocking code, where failures are
    //! exceptions; a slot should call readJson() instead (an exception must not leave a slot).
    QJsonDocument json() const;
    //! The Content-Type's charset parameter, lower-cased, or empty.
    QByteArray charset() const;

    // --- streaming ------------------------------------------------------------------------
    //! True when the body is streamed (RequestOptions::streaming()), not buffered.
    bool isStreaming() const noexcept;
    //! The next piece of the body (at most \a maxBytes when > 0), or an empty array at the end.
    //! Throws the usual errors (ReadTimeout, ProtocolError, ...).
    //! A coroutine: co_await it (blocking code: Session::readChunk(response)).
    [[nodiscard]] QCoro::Task<QByteArray> readChunk(qint64 maxBytes = 0);
    //! The body piece by piece.
    [[nodiscard]] QCoro::AsyncGenerator<QByteArray> chunks(qint64 maxBytes = 0);
    //! Reads and buffers the rest of a streamed body, after which body() has it, in this
    //! Response and in every copy of it. Bytes taken earlier with readChunk() or chunks() are
    //! not in it. Safe on a temporary: `co_await Response(r).readAll()` needs no Response once
    //! it has started. Returns body() at once when not streaming.
    //! A coroutine: co_await it (blocking code: Session::readAll(response)).
    [[nodiscard]] QCoro::Task<QByteArray> readAll();
    //! Body bytes delivered so far, and the total when known (Content-Length), else -1. Sizes
    //! keep Qt's -1 for "unknown" (QNetworkReply::downloadProgress, QIODevice::size()), so
    //! they go straight into a progress bar; see docs/adr/0009-api-names.md.
    qint64 bytesReceived() const noexcept;
    //! See bytesReceived(): the Content-Length, or -1 when the size is not known.
    qint64 expectedSize() const noexcept;
    //! Ends a streamed body early: its connection is closed, not pooled.
    void close();

    // --- building (used by the client layer and by hooks that replace responses) ------------
    //! Sets the status code and reason phrase (a response hook may make its own response).
    void setStatus(int status, const QByteArray &reason = {});
    //! Sets the HTTP version to 1.\a minor.
    void setHttpVersion(int minor);
    //! Sets the HTTP version to \a major.\a minor (2 reads "2").
    void setHttpVersion(int major, int minor);
    //! Replaces the header fields.
    void setHeaders(const Headers &headers);
    //! Replaces the body (of a buffered response).
    void setBody(const QByteArray &body);
    //! Sets url().
    void setUrl(const QUrl &url);
    //! Sets method().
    void setMethod(const QByteArray &method);
    //! Sets history().
    void setHistory(const QList<Response> &history);
    //! Sets elapsed().
    void setElapsed(std::chrono::milliseconds elapsed);
    //! Sets connectionReused().
    void setConnectionReused(bool reused);
    //! Sets attempts().
    void setAttempts(int attempts);
    //! Sets timings().
    void setTimings(const Timings &timings);
    // Internal: the client layer's stream of a streamed body (not in the API reference).
    //! \cond internal
    void setBodyStream(std::shared_ptr<BodyStream> stream);
    std::shared_ptr<BodyStream> bodyStream() const;
    //! \endcond

private:
    QSharedDataPointer<ResponseData> d;
};

//! Writes the status, reason, URL and body size, for qDebug().
REQIVO_EXPORT QDebug operator<<(QDebug debug, const Response &response);

} // namespace Reqivo

Q_DECLARE_METATYPE(Reqivo::Response)
