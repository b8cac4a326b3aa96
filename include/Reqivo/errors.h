// Reqivo's error model: one copyable value, Reqivo::Error, and the seed's exception hierarchy.
//
// Coroutine and blocking callers get exceptions; signal/slot and QML callers get the Error value
// that every exception carries. The two convert both ways: ReqivoError::error() gives the value,
// Error::raise() throws the most specific exception class for it. The kind of an error decides
// its class; isA() answers "is this a TimeoutError?" the way a catch clause would.
//
//   ReqivoError
//   ├── RequestError
//   │   ├── NetworkError ── TlsError
//   │   ├── TimeoutError ── ConnectTimeout, ReadTimeout, WriteTimeout, PoolTimeout
//   │   ├── ProtocolError ── InvalidResponseError
//   │   ├── RedirectLoopError
//   │   ├── TooManyRedirects
//   │   └── StatusError            (raised only by Response::raiseForStatus())
//   └── WebSocketError
//
// Messages name what went wrong and where. They never contain credentials: URLs are stored
// with user info removed.
#pragma once

#include <Reqivo/reqivoglobal.h>

#include <QDebug>
#include <QMetaType>
#include <QString>
#include <QUrl>

#include <exception>

namespace Reqivo {

//! What went wrong, as a copyable value: the error model of signal/slot and QML callers.
//!
//! Every exception of the ReqivoError hierarchy carries one (ReqivoError::error()), and
//! raise() throws the most specific exception class for it. The kind() decides that class;
//! isA() answers "would a catch clause for this class catch it?". A default-constructed Error
//! is the null "no error" (isNull(), and false in a boolean context). Registered as a
//! metatype, so it travels through queued connections; its properties make it readable from
//! QML. Messages never contain credentials: url() has its user info removed.
class REQIVO_EXPORT Error
{
    Q_GADGET
    //! The error's kind (kind()).
    Q_PROPERTY(Kind kind READ kind CONSTANT)
    //! The exception class name, e.g. "ReadTimeout" (typeName()).
    Q_PROPERTY(QString type READ typeName CONSTANT)
    //! What went wrong, in words (message()).
    Q_PROPERTY(QString message READ message CONSTANT)
    //! The URL the failing operation was for, without user info (url()).
    Q_PROPERTY(QUrl url READ url CONSTANT)
    //! Lower-level detail (detail()).
    Q_PROPERTY(QString detail READ detail CONSTANT)
    //! HTTP status or WebSocket close code, where one applies (code()).
    Q_PROPERTY(int code READ code CONSTANT)
public:
    //! One value per exception class. NoError is the default-constructed "no error".
    enum class Kind {
        NoError,
        Reqivo,
        Request,
        Network,
        Tls,
        Timeout,
        ConnectTimeout,
        ReadTimeout,
        WriteTimeout,
        PoolTimeout,
        Protocol,
        InvalidResponse,
        RedirectLoop,
        TooManyRedirects,
        Status,
        WebSocket,
    };
    Q_ENUM(Kind)

    //! The null error (NoError).
    Error() = default;
    //! An error of \a kind with its \a message, the \a url it concerns (user info is removed),
    //! lower-level \a detail and a numeric \a code (HTTP status, close code), where they apply.
    Error(Kind kind, QString message, const QUrl &url = {}, QString detail = {}, int code = 0);

    //! Which exception class this error stands for.
    Kind kind() const noexcept { return m_kind; }
    //! The exception class name, e.g. "ReadTimeout"; empty for NoError.
    QString typeName() const;
    //! What went wrong and where, e.g. "no data for 5000 ms".
    QString message() const { return m_message; }
    //! The URL the failing operation was for, without user info.
    QUrl url() const { return m_url; }
    //! Lower-level detail (a socket error string, the offending bytes, ...).
    QString detail() const { return m_detail; }
    //! A numeric code where one applies: HTTP status for Status, close code for WebSocket, a
    //! NetworkFailure for Network and Tls errors of a connection.
    int code() const noexcept { return m_code; }

    //! What went wrong with a connection, in Error::code() of a NetworkError (and TlsError):
    //! for retry classifiers and logs, never a parsed message. Unknown when not classified.
    enum class NetworkFailure {
        Unknown = 0,
        ConnectionRefused, //!< The server (or proxy) refused the TCP connection.
        HostNotFound, //!< Name lookup failed.
        ConnectionReset, //!< The peer reset the connection.
        ConnectionClosed, //!< The peer closed the connection (before the response ended).
        ProxyFailure, //!< A proxy refused, failed or could not be reached.
        ProxyAuthenticationRequired, //!< The proxy answered 407 and no credentials satisfied it.
        TlsHandshake, //!< The TLS handshake failed (certificate, host name, pin, protocol).
    };
    Q_ENUM(NetworkFailure)
    //! What failed, for a NetworkError or TlsError (code() as a NetworkFailure); Unknown for
    //! every other kind and for a failure that was not classified.
    NetworkFailure networkFailure() const noexcept
    {
        return (m_kind == Kind::Network || m_kind == Kind::Tls) ? NetworkFailure(m_code)
                                                                : NetworkFailure::Unknown;
    }

    //! How many times the request's final hop was tried (RetryPolicy); 0 when not counted.
    int attempts() const noexcept { return m_attempts; }
    //! Sets attempts() (the retry loop does, on the error it throws).
    void setAttempts(int attempts) noexcept { m_attempts = attempts; }

    //! True for the default-constructed "no error".
    bool isNull() const noexcept { return m_kind == Kind::NoError; }
    //! True when this is an error (not isNull()): `if (reply->error()) ...`.
    explicit operator bool() const noexcept { return !isNull(); }
    //! True when an exception of this error's class would be caught as \a ancestor.
    bool isA(Kind ancestor) const noexcept;
    //! The kind of the base class of \a kind's exception class (NoError for Reqivo and NoError).
    static Kind parentKind(Kind kind) noexcept;
    //! The exception class name of \a kind, e.g. "ReadTimeout"; empty for NoError.
    static QString kindName(Kind kind);

    //! Throws the most specific exception class for this error. Must not be NoError.
    [[noreturn]] void raise() const;
    //! The exception raise() would throw, without throwing it. Must not be NoError.
    std::exception_ptr toExceptionPtr() const;
    //! The Error carried by \a e, or a Reqivo error describing a foreign exception.
    static Error fromException(std::exception_ptr e);

    //! "ReadTimeout: no data for 5000 ms (GET http://host/path)"
    QString toString() const;

    //! Equal when kind, message, URL, detail, code and attempts are.
    friend bool operator==(const Error &, const Error &) = default;

private:
    Kind m_kind = Kind::NoError;
    int m_code = 0;
    int m_attempts = 0;
    QString m_message;
    QUrl m_url;
    QString m_detail;
};

//! Writes \a error as toString() does, for qDebug() and qWarning().
REQIVO_EXPORT QDebug operator<<(QDebug debug, const Error &error);

//! The base of every exception Reqivo throws; catch it to catch them all.
//!
//! The hierarchy (each class derives from the one above it):
//!
//!     ReqivoError
//!     ├── RequestError
//!     │   ├── NetworkError ── TlsError
//!     │   ├── TimeoutError ── ConnectTimeout, ReadTimeout, WriteTimeout, PoolTimeout
//!     │   ├── ProtocolError ── InvalidResponseError
//!     │   ├── RedirectLoopError
//!     │   ├── TooManyRedirects
//!     │   └── StatusError            (raised only by Response::raiseForStatus())
//!     └── WebSocketError
//!
//! Each carries an Error value (error()) with the kind, message, URL, detail and code, so a
//! caught exception can be handed to code that works with values. Every derived class has two
//! constructors: from a message, URL and detail (its kind implied by the class), and from an
//! Error of its kind.
class REQIVO_EXPORT ReqivoError : public std::exception
{
public:
    //! A Reqivo error (kind Reqivo) with \a message, the \a url it concerns and \a detail.
    explicit ReqivoError(const QString &message, const QUrl &url = {}, const QString &detail = {});
    //! The exception for \a error (whatever its kind; Error::raise() picks the right class).
    explicit ReqivoError(Error error);
    ~ReqivoError() override;
    //! Copies the error value.
    ReqivoError(const ReqivoError &) = default;
    //! Copies the error value.
    ReqivoError &operator=(const ReqivoError &) = default;

    //! Error::toString() as UTF-8, valid as long as the exception.
    const char *what() const noexcept override;
    //! The error as a value.
    const Error &error() const noexcept { return m_error; }
    //! error().kind().
    Error::Kind kind() const noexcept { return m_error.kind(); }
    //! error().message().
    QString message() const { return m_error.message(); }
    //! error().url(): the URL the failing operation was for, without user info.
    QUrl url() const { return m_error.url(); }

private:
    Error m_error;
    QByteArray m_what;
};

// Each class can be built from a message (its kind is implied) or from an Error of its kind.
#define REQIVO_DECLARE_ERROR(Class, Base, KindValue)                                              \
    class REQIVO_EXPORT Class : public Base                                                        \
    {                                                                                              \
    public:                                                                                        \
        explicit Class(const QString &message, const QUrl &url = {}, const QString &detail = {})   \
            : Base(Error(Error::Kind::KindValue, message, url, detail))                            \
        {                                                                                          \
        }                                                                                          \
        explicit Class(Error error) : Base(std::move(error)) { }                                   \
    };

//! A request failed: the base of every HTTP request error (also an aborted or refused
//! request, detail "aborted" or the reason).
REQIVO_DECLARE_ERROR(RequestError, ReqivoError, Request)
//! The connection failed: name lookup, connect refused, reset, closed before the whole
//! response arrived, proxy failures.
REQIVO_DECLARE_ERROR(NetworkError, RequestError, Network)
//! The TLS handshake failed or the server's certificate or host name was not trusted.
REQIVO_DECLARE_ERROR(TlsError, NetworkError, Tls)
//! A time limit of Timeout passed: the base of the four phase timeouts, and thrown as itself
//! when the request's total deadline (Timeout::total) expires.
REQIVO_DECLARE_ERROR(TimeoutError, RequestError, Timeout)
//! Connecting (name lookup, TCP, proxy, TLS handshake) took longer than Timeout::connect.
REQIVO_DECLARE_ERROR(ConnectTimeout, TimeoutError, ConnectTimeout)
//! No byte of the response arrived for Timeout::read (or a streamed body sat unread for
//! Timeout::streamIdle).
REQIVO_DECLARE_ERROR(ReadTimeout, TimeoutError, ReadTimeout)
//! No byte of the request could be sent for Timeout::write (or an upload's source
//! paused that long).
REQIVO_DECLARE_ERROR(WriteTimeout, TimeoutError, WriteTimeout)
//! No connection of the pool became free within Timeout::poolAcquire.
REQIVO_DECLARE_ERROR(PoolTimeout, TimeoutError, PoolTimeout)
//! The exchange broke HTTP/1.1; the base of InvalidResponseError, which is what a response
//! that cannot be accepted throws.
REQIVO_DECLARE_ERROR(ProtocolError, RequestError, Protocol)
//! The response cannot be accepted: malformed, over a limit of Limits (the detail says
//! which, e.g. "BodyTooLarge"), or a body that Response::json() cannot parse.
REQIVO_DECLARE_ERROR(InvalidResponseError, ProtocolError, InvalidResponse)
//! A redirect led back to a URL already visited in the same chain.
REQIVO_DECLARE_ERROR(RedirectLoopError, RequestError, RedirectLoop)
//! More redirects than the session's maxRedirects().
REQIVO_DECLARE_ERROR(TooManyRedirects, RequestError, TooManyRedirects)
//! An HTTP error status (4xx, 5xx), thrown only by Response::raiseForStatus();
//! Error::code() is the status.
REQIVO_DECLARE_ERROR(StatusError, RequestError, Status)
//! A WebSocket failed: a refused handshake (Error::code() is the HTTP status), a
//! protocol violation, an unexpected close (Error::code() is the close code).
REQIVO_DECLARE_ERROR(WebSocketError, ReqivoError, WebSocket)

#undef REQIVO_DECLARE_ERROR

} // namespace Reqivo

Q_DECLARE_METATYPE(Reqivo::Error)
