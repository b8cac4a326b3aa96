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

class REQIVO_EXPORT Error
{
    Q_GADGET
    Q_PROPERTY(Kind kind READ kind CONSTANT)
    Q_PROPERTY(QString type READ typeName CONSTANT)
    Q_PROPERTY(QString message READ message CONSTANT)
    Q_PROPERTY(QUrl url READ url CONSTANT)
    Q_PROPERTY(QString detail READ detail CONSTANT)
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

    Error() = default;
    Error(Kind kind, QString message, const QUrl &url = {}, QString detail = {}, int code = 0);

    Kind kind() const noexcept { return m_kind; }
    //! The exception class name, e.g. "ReadTimeout"; empty for NoError.
    QString typeName() const;
    QString message() const { return m_message; }
    //! The URL the failing operation was for, without user info.
    QUrl url() const { return m_url; }
    //! Lower-level detail (a socket error string, the offending bytes, ...).
    QString detail() const { return m_detail; }
    //! A numeric code where one applies: HTTP status for Status, close code for WebSocket.
    int code() const noexcept { return m_code; }

    bool isNull() const noexcept { return m_kind == Kind::NoError; }
    explicit operator bool() const noexcept { return !isNull(); }
    //! True when an exception of this error's class would be caught as \a ancestor.
    bool isA(Kind ancestor) const noexcept;
    static Kind parentKind(Kind kind) noexcept;
    static QString kindName(Kind kind);

    //! Throws the most specific exception class for this error. Must not be NoError.
    [[noreturn]] void raise() const;
    std::exception_ptr toExceptionPtr() const;
    //! The Error carried by \a e, or a Reqivo error describing a foreign exception.
    static Error fromException(std::exception_ptr e);

    //! "ReadTimeout: no data for 5000 ms (GET http://host/path)"
    QString toString() const;

    friend bool operator==(const Error &, const Error &) = default;

private:
    Kind m_kind = Kind::NoError;
    int m_code = 0;
    QString m_message;
    QUrl m_url;
    QString m_detail;
};

REQIVO_EXPORT QDebug operator<<(QDebug debug, const Error &error);

class REQIVO_EXPORT ReqivoError : public std::exception
{
public:
    explicit ReqivoError(const QString &message, const QUrl &url = {}, const QString &detail = {});
    explicit ReqivoError(Error error);
    ~ReqivoError() override;
    ReqivoError(const ReqivoError &) = default;
    ReqivoError &operator=(const ReqivoError &) = default;

    const char *what() const noexcept override;
    const Error &error() const noexcept { return m_error; }
    Error::Kind kind() const noexcept { return m_error.kind(); }
    QString message() const { return m_error.message(); }
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

REQIVO_DECLARE_ERROR(RequestError, ReqivoError, Request)
REQIVO_DECLARE_ERROR(NetworkError, RequestError, Network)
REQIVO_DECLARE_ERROR(TlsError, NetworkError, Tls)
REQIVO_DECLARE_ERROR(TimeoutError, RequestError, Timeout)
REQIVO_DECLARE_ERROR(ConnectTimeout, TimeoutError, ConnectTimeout)
REQIVO_DECLARE_ERROR(ReadTimeout, TimeoutError, ReadTimeout)
REQIVO_DECLARE_ERROR(WriteTimeout, TimeoutError, WriteTimeout)
REQIVO_DECLARE_ERROR(PoolTimeout, TimeoutError, PoolTimeout)
REQIVO_DECLARE_ERROR(ProtocolError, RequestError, Protocol)
REQIVO_DECLARE_ERROR(InvalidResponseError, ProtocolError, InvalidResponse)
REQIVO_DECLARE_ERROR(RedirectLoopError, RequestError, RedirectLoop)
REQIVO_DECLARE_ERROR(TooManyRedirects, RequestError, TooManyRedirects)
REQIVO_DECLARE_ERROR(StatusError, RequestError, Status)
REQIVO_DECLARE_ERROR(WebSocketError, ReqivoError, WebSocket)

#undef REQIVO_DECLARE_ERROR

} // namespace Reqivo

Q_DECLARE_METATYPE(Reqivo::Error)
