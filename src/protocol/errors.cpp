// Error values and the exception hierarchy: the kind tree is the single source of truth for
// isA(), typeName() and which exception class raise() throws.
#include <Reqivo/errors.h>

namespace Reqivo {

namespace {
QUrl withoutCredentials(const QUrl &url)
{
    if (url.userInfo().isEmpty())
        return url;
    QUrl clean = url;
    clean.setUserInfo(QString());
    return clean;
}
} // namespace

Error::Error(Kind kind, QString message, const QUrl &url, QString detail, int code)
    : m_kind(kind)
    , m_code(code)
    , m_message(std::move(message))
    , m_url(withoutCredentials(url))
    , m_detail(std::move(detail))
{
}

Error::Kind Error::parentKind(Kind kind) noexcept
{
    switch (kind) {
    case Kind::NoError:
    case Kind::Reqivo:
        return Kind::NoError;
    case Kind::Request:
    case Kind::WebSocket:
        return Kind::Reqivo;
    case Kind::Network:
    case Kind::Timeout:
    case Kind::Protocol:
    case Kind::RedirectLoop:
    case Kind::TooManyRedirects:
    case Kind::Status:
        return Kind::Request;
    case Kind::Tls:
        return Kind::Network;
    case Kind::ConnectTimeout:
    case Kind::ReadTimeout:
    case Kind::WriteTimeout:
    case Kind::PoolTimeout:
        return Kind::Timeout;
    case Kind::InvalidResponse:
        return Kind::Protocol;
    }
    return Kind::NoError;
}

bool Error::isA(Kind ancestor) const noexcept
{
    if (ancestor == Kind::NoError)
        return m_kind == Kind::NoError;
    for (Kind k = m_kind; k != Kind::NoError; k = parentKind(k)) {
        if (k == ancestor)
            return true;
    }
    return false;
}

QString Error::kindName(Kind kind)
{
    switch (kind) {
    case Kind::NoError: return QString();
    case Kind::Reqivo: return QStringLiteral("ReqivoError");
    case Kind::Request: return QStringLiteral("RequestError");
    case Kind::Network: return QStringLiteral("NetworkError");
    case Kind::Tls: return QStringLiteral("TlsError");
    case Kind::Timeout: return QStringLiteral("TimeoutError");
    case Kind::ConnectTimeout: return QStringLiteral("ConnectTimeout");
    case Kind::ReadTimeout: return QStringLiteral("ReadTimeout");
    case Kind::WriteTimeout: return QStringLiteral("WriteTimeout");
    case Kind::PoolTimeout: return QStringLiteral("PoolTimeout");
    case Kind::Protocol: return QStringLiteral("ProtocolError");
    case Kind::InvalidResponse: return QStringLiteral("InvalidResponseError");
    case Kind::RedirectLoop: return QStringLiteral("RedirectLoopError");
    case Kind::TooManyRedirects: return QStringLiteral("TooManyRedirects");
    case Kind::Status: return QStringLiteral("StatusError");
    case Kind::WebSocket: return QStringLiteral("WebSocketError");
    }
    return QString();
}

QString Error::typeName() const { return kindName(m_kind); }

QString Error::toString() const
{
    if (isNull())
        return QStringLiteral("no error");
    QString s = typeName() + QStringLiteral(": ") + m_message;
    if (!m_url.isEmpty())
        // A redacted URL (redaction.h) shows its marker as written, not percent-encoded.
        s += QStringLiteral(" (")
            + m_url.toString().replace(QLatin1String("%3Credacted%3E"), QLatin1String("<redacted>"))
            + QLatin1Char(')');
    if (!m_detail.isEmpty())
        s += QStringLiteral(" [") + m_detail + QLatin1Char(']');
    return s;
}

void Error::raise() const
{
    switch (m_kind) {
    case Kind::NoError:
        throw ReqivoError(Error(Kind::Reqivo, QStringLiteral("raise() called on a null Error")));
    case Kind::Reqivo: throw ReqivoError(*this);
    case Kind::Request: throw RequestError(*this);
    case Kind::Network: throw NetworkError(*this);
    case Kind::Tls: throw TlsError(*this);
    case Kind::Timeout: throw TimeoutError(*this);
    case Kind::ConnectTimeout: throw ConnectTimeout(*this);
    case Kind::ReadTimeout: throw ReadTimeout(*this);
    case Kind::WriteTimeout: throw WriteTimeout(*this);
    case Kind::PoolTimeout: throw PoolTimeout(*this);
    case Kind::Protocol: throw ProtocolError(*this);
    case Kind::InvalidResponse: throw InvalidResponseError(*this);
    case Kind::RedirectLoop: throw RedirectLoopError(*this);
    case Kind::TooManyRedirects: throw TooManyRedirects(*this);
    case Kind::Status: throw StatusError(*this);
    case Kind::WebSocket: throw WebSocketError(*this);
    }
    throw ReqivoError(*this);
}

std::exception_ptr Error::toExceptionPtr() const
{
    try {
        raise();
    } catch (...) {
        return std::current_exception();
    }
}

Error Error::fromException(std::exception_ptr e)
{
    if (!e)
        return {};
    try {
        std::rethrow_exception(e);
    } catch (const ReqivoError &r) {
        return r.error();
    } catch (const std::exception &other) {
        return Error(Kind::Reqivo, QStringLiteral("unexpected exception"), {},
                     QString::fromLocal8Bit(other.what()));
    } catch (...) {
        return Error(Kind::Reqivo, QStringLiteral("unexpected non-standard exception"));
    }
}

QDebug operator<<(QDebug debug, const Error &error)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "Reqivo::Error(" << error.toString() << ')';
    return debug;
}

ReqivoError::ReqivoError(const QString &message, const QUrl &url, const QString &detail)
    : ReqivoError(Error(Error::Kind::Reqivo, message, url, detail))
{
}

ReqivoError::ReqivoError(Error error)
    : m_error(std::move(error))
    , m_what(m_error.toString().toUtf8())
{
}

ReqivoError::~ReqivoError() = default;

const char *ReqivoError::what() const noexcept { return m_what.constData(); }

} // namespace Reqivo
