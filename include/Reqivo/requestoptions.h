// Per-request options. Anything left unset falls back to the session's setting.
#pragma once

#include <Reqivo/body.h>
#include <Reqivo/headers.h>
#include <Reqivo/limits.h>
#include <Reqivo/timeout.h>

#include <QObject>
#include <QPointer>
#include <QUrlQuery>

#include <optional>

namespace Reqivo {

struct RequestOptions
{
    //! Added to (and overriding, name by name) the session's default headers. One Host field
    //! replaces the one derived from the URL (two are refused); Proxy-Authorization is refused
    //! (set proxy credentials on the QNetworkProxy).
    Headers headers;
    Body body;
    //! Appended to the URL's query. Each key and value is sent percent-encoded from its decoded
    //! form, so '+', '%', '&', '=' and spaces reach the server as given (QUrlQuery decodes a
    //! valid %XX escape you put in a value, as it always does).
    QUrlQuery query;
    std::optional<Timeout> timeout;
    std::optional<Limits> limits;
    std::optional<bool> followRedirects;
    std::optional<int> maxRedirects;
    //! Ask for gzip/deflate and decode it (default: the session's, which defaults to true).
    std::optional<bool> decompress;
    //! Do not buffer the body: read it with Response::readChunk()/chunks().
    bool stream = false;
    //! The object whose destruction ends the request (see cancelWith()); unset: none.
    std::optional<QPointer<const QObject>> owner;

    // Fluent setters for one-liners: session.get(url, RequestOptions().header("A", "b")).
    RequestOptions &header(QByteArrayView name, QByteArrayView value)
    {
        headers.add(name, value);
        return *this;
    }
    RequestOptions &withBody(Body b)
    {
        body = std::move(b);
        return *this;
    }
    RequestOptions &withTimeout(const Timeout &t)
    {
        timeout = t;
        return *this;
    }
    RequestOptions &streaming(bool on = true)
    {
        stream = on;
        return *this;
    }
    //! Ends the request when \a owner is destroyed before it completes: the connection in use
    //! is closed (never returned to the pool) and the awaiting coroutine resumes with a
    //! RequestError ("aborted"); an owner already gone when the request starts ends it at
    //! once. Typically the QObject whose member coroutine awaits the request: it must live in
    //! the session's thread. The coroutine still resumes after its owner is gone, so it must
    //! not touch the owner then (guard it with a QPointer, as with any QCoro coroutine). Only
    //! the request itself is tied to the owner, not a streamed body read after it returned.
    RequestOptions &cancelWith(const QObject *o)
    {
        owner = QPointer<const QObject>(o);
        return *this;
    }
};

//! What pre-request hooks see and may change.
struct PreparedRequest
{
    QByteArray method;
    QUrl url;
    Headers headers;
};

} // namespace Reqivo
