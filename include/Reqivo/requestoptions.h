// Per-request options. Anything left unset falls back to the session's setting.
//
// A plain struct: set its fields directly, or chain the fluent setters for a one-liner. Every
// field has one; each returns the RequestOptions itself:
//
//   co_await session.get(url, Reqivo::RequestOptions()
//                                 .queryItem(u"page"_s, u"2"_s)
//                                 .header("Accept", "application/json")
//                                 .bearerToken(token)
//                                 .withTimeout(Reqivo::Timeout::all(10s))
//                                 .withFollowRedirects(false));
//
// Naming: with<Field>() replaces a field; header() and queryItem() add one entry to theirs;
// basicAuth(), bearerToken() and withoutAuth() set the credentials; streaming() and
// cancelWith() keep their older names. Chained setters may sit inside a co_await expression;
// a braced initializer list may not (GCC 12 rejects it: see docs/coroutines.md).
#pragma once

#include <Reqivo/body.h>
#include <Reqivo/headers.h>
#include <Reqivo/httpversion.h>
#include <Reqivo/limits.h>
#include <Reqivo/retrypolicy.h>
#include <Reqivo/timeout.h>

#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrlQuery>

#include <memory>
#include <optional>
#include <utility>

namespace Reqivo {

class EventListener;

//! Credentials for one request (RequestOptions::credentials), checked like the session's own:
//! a Basic user-id with a colon, control characters, or a Bearer token that is not token68
//! (RFC 6750) fail the request with RequestError before anything is sent.
struct Credentials
{
    //! Which Authorization the request sends.
    enum class Scheme {
        None, //!< None at all.
        Basic, //!< Basic, from user and password.
        Bearer, //!< Bearer, from token.
        //! HTTP Digest (RFC 7616: SHA-256, MD5, qop=auth), from user and password: nothing is
        //! sent until the server challenges, then the request is sent again with the answer.
        Digest,
    };
    Scheme scheme = Scheme::None; //!< Which of the fields below apply.
    QString user; //!< Basic, Digest
    QString password; //!< Basic, Digest
    QString token; //!< Bearer

    //! No Authorization at all, even when the session has credentials.
    static Credentials none() { return {}; }
    //! Basic authentication with \a user and \a password.
    static Credentials basic(QString user, QString password)
    {
        return {Scheme::Basic, std::move(user), std::move(password), {}};
    }
    //! "Authorization: Bearer \a token".
    static Credentials bearer(QString token) { return {Scheme::Bearer, {}, {}, std::move(token)}; }
    //! HTTP Digest with \a user and \a password, sent only in answer to a Digest challenge.
    static Credentials digest(QString user, QString password)
    {
        return {Scheme::Digest, std::move(user), std::move(password), {}};
    }

    //! Equal when scheme and fields are.
    friend bool operator==(const Credentials &, const Credentials &) = default;
};

//! The options of one request; anything left unset falls back to the session's setting.
//!
//! A plain struct: set its fields, or chain the fluent setters (each returns the
//! RequestOptions). with<Field>() replaces a field; header() and queryItem() add one entry.
//!
//!     co_await session.get(url, Reqivo::RequestOptions()
//!                                   .queryItem(u"page"_s, u"2"_s)
//!                                   .header("Accept", "application/json")
//!                                   .withTimeout(Reqivo::Timeout::all(10s)));
struct RequestOptions
{
    //! Added to (and overriding, name by name) the session's default headers. One Host field
    //! replaces the one derived from the URL (two are refused); Proxy-Authorization is refused
    //! (set proxy credentials on the QNetworkProxy).
    Headers headers;
    //! What the request sends (empty: nothing). The verb shortcuts with a Body set it.
    Body body;
    //! Appended to the URL's query. Each key and value is sent percent-encoded from its decoded
    //! form, so '+', '%', '&', '=' and spaces reach the server as given (QUrlQuery decodes a
    //! valid %XX escape you put in a value, as it always does).
    QUrlQuery query;
    std::optional<Timeout> timeout; //!< Unset: the session's timeout().
    std::optional<Limits> limits; //!< Unset: the session's limits().
    std::optional<bool> followRedirects; //!< Unset: the session's followRedirects().
    std::optional<int> maxRedirects; //!< Unset: the session's maxRedirects().
    //! Ask for gzip, deflate, br and zstd and decode them (default: the session's, which
    //! defaults to true).
    std::optional<bool> decompress;
    //! Do not buffer the body: read it with Response::readChunk()/chunks().
    bool stream = false;
    //! The object whose destruction ends the request (see cancelWith()); unset: none.
    std::optional<QPointer<const QObject>> owner;
    //! Credentials for this request instead of the session's (setBasicAuth(), setBearerToken());
    //! unset: the session's. Like the session's, they go only to the origin of the request,
    //! never to a redirect elsewhere. An Authorization field in headers, or user info in the
    //! URL, wins over both.
    std::optional<Credentials> credentials;
    //! The HTTP version policy for this request; unset: the session's httpVersion(). A host
    //! in the session's http1OnlyHosts() uses HTTP/1.1 whatever this says.
    std::optional<HttpVersion> httpVersion;
    //! This request's retry policy, replacing the session's (AsyncSession::setRetryPolicy()).
    std::optional<RetryPolicy> retry;
    //! Told of this request's events, besides the session's listener (AsyncSession::
    //! setEventListener()). See eventlistener.h.
    std::shared_ptr<EventListener> listener;

    // --- fluent setters -----------------------------------------------------------------------
    //! Adds one field (keeping any of the same name already in headers).
    RequestOptions &header(QByteArrayView name, QByteArrayView value)
    {
        headers.add(name, value);
        return *this;
    }
    //! Replaces headers.
    RequestOptions &withHeaders(Headers h)
    {
        headers = std::move(h);
        return *this;
    }
    //! Replaces body.
    RequestOptions &withBody(Body b)
    {
        body = std::move(b);
        return *this;
    }
    //! Appends one query item (a repeated key is kept: "?a=1&a=2"); sent as described at query.
    RequestOptions &queryItem(const QString &key, const QString &value)
    {
        query.addQueryItem(key, value);
        return *this;
    }
    //! Replaces query.
    RequestOptions &withQuery(QUrlQuery q)
    {
        query = std::move(q);
        return *this;
    }
    //! Sets timeout.
    RequestOptions &withTimeout(const Timeout &t)
    {
        timeout = t;
        return *this;
    }
    //! Sets limits.
    RequestOptions &withLimits(const Limits &l)
    {
        limits = l;
        return *this;
    }
    //! Sets followRedirects.
    RequestOptions &withFollowRedirects(bool on = true)
    {
        followRedirects = on;
        return *this;
    }
    //! Sets maxRedirects.
    RequestOptions &withMaxRedirects(int max)
    {
        maxRedirects = max;
        return *this;
    }
    //! Sets decompress.
    RequestOptions &withDecompress(bool on = true)
    {
        decompress = on;
        return *this;
    }
    //! Sets stream: the body is not buffered (Response::readChunk()).
    RequestOptions &streaming(bool on = true)
    {
        stream = on;
        return *this;
    }
    //! Sets httpVersion.
    RequestOptions &withHttpVersion(HttpVersion version)
    {
        httpVersion = version;
        return *this;
    }
    //! Sets retry: this request's retry policy instead of the session's.
    RequestOptions &withRetry(RetryPolicy policy)
    {
        retry = std::move(policy);
        return *this;
    }
    //! Sets listener.
    RequestOptions &withEventListener(std::shared_ptr<EventListener> l)
    {
        listener = std::move(l);
        return *this;
    }
    //! Replaces credentials.
    RequestOptions &withCredentials(Credentials c)
    {
        // emplace(), not assignment: GCC 12 at -O1 sees the assignment's "already engaged" path
        // read the empty optional and warns (maybe-uninitialized) in code that calls this.
        credentials.emplace(std::move(c));
        return *this;
    }
    //! This request authenticates with Basic \a user and \a password.
    RequestOptions &basicAuth(const QString &user, const QString &password)
    {
        return withCredentials(Credentials::basic(user, password));
    }
    //! This request authenticates with "Bearer \a token".
    RequestOptions &bearerToken(const QString &token)
    {
        return withCredentials(Credentials::bearer(token));
    }
    //! This request sends no credentials, even when the session has some.
    RequestOptions &withoutAuth() { return withCredentials(Credentials::none()); }
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
    QByteArray method; //!< "GET", "POST", ...
    QUrl url; //!< The absolute URL the request goes to.
    Headers headers; //!< Every field as it will be sent, Host first.
};

} // namespace Reqivo
