// Response: plain data plus, in streaming mode, a shared BodyStream.
#include <Reqivo/errors.h>
#include <Reqivo/response.h>
#include <Reqivo/redaction.h>

#include "bodystream_p.h"
#include "redaction_p.h"

#include <QJsonParseError>
#include <QSharedData>
#include <QStringDecoder>

namespace Reqivo {

BodyStream::~BodyStream() = default;

class ResponseData : public QSharedData
{
public:
    int status = 0;
    bool hasStatus = false; // a received "000" is a status too
    int versionMajor = 1;
    int versionMinor = 1;
    bool connectionReused = false;
    QByteArray reason;
    QByteArray method;
    Headers headers;
    QByteArray body;
    QUrl url;
    QList<Response> history;
    std::chrono::milliseconds elapsed{0};
    int attempts = 1;
    Timings timings;
    std::shared_ptr<BodyStream> stream;
};

Response::Response() : d(new ResponseData) { }
Response::Response(const Response &other) = default;
Response::Response(Response &&other) noexcept = default;
Response &Response::operator=(const Response &other) = default;
Response &Response::operator=(Response &&other) noexcept = default;
Response::~Response() = default;

bool Response::isNull() const noexcept { return !d->hasStatus; }
int Response::status() const noexcept { return d->status; }
QByteArray Response::reason() const { return d->reason; }
QString Response::httpVersion() const
{
    // Literals: no allocation for the versions that exist.
    if (d->versionMajor == 2)
        return QStringLiteral("2");
    if (d->versionMinor == 1)
        return QStringLiteral("1.1");
    if (d->versionMinor == 0)
        return QStringLiteral("1.0");
    return QStringLiteral("1.%1").arg(d->versionMinor);
}
const Headers &Response::headers() const noexcept { return d->headers; }
QByteArray Response::header(QByteArrayView name) const
{
    return d->headers.value(name).toByteArray();
}
QByteArray Response::method() const { return d->method; }
QUrl Response::url() const { return d->url; }
QList<Response> Response::history() const { return d->history; }
std::chrono::milliseconds Response::elapsed() const noexcept { return d->elapsed; }
bool Response::connectionReused() const noexcept { return d->connectionReused; }
int Response::attempts() const noexcept { return d->attempts; }
Timings Response::timings() const noexcept
{
    Timings t = d->timings;
    // A streamed body's total is known once its reader reached the end.
    if (d->stream && t.total.count() == 0
        && d->stream->endedAt != std::chrono::steady_clock::time_point())
        t.total = std::chrono::duration_cast<std::chrono::microseconds>(d->stream->endedAt
                                                                         - d->stream->attemptStart);
    return t;
}

bool Response::isRedirect() const noexcept
{
    const int s = d->status;
    return (s == 301 || s == 302 || s == 303 || s == 307 || s == 308)
            && d->headers.contains("location");
}

void Response::raiseForStatus() const
{
    // A code outside 100-599 is processed as a server error (RFC 9110 §15).
    const bool invalid = d->hasStatus && (d->status < 100 || d->status > 599);
    if (d->status < 400 && !invalid)
        return;
    const QString kind = d->status >= 400 && d->status < 500 ? QStringLiteral("client error")
                                                             : QStringLiteral("server error");
    throw StatusError(Error(Error::Kind::Status,
                            QStringLiteral("HTTP %1 %2 (%3)")
                                    .arg(d->status)
                                    .arg(QString::fromLatin1(d->reason), kind),
                            // Never the URL's secrets (redaction.h, the default names).
                            Client::redactedUrl(d->url, defaultRedactedQueryNames()), QString(),
                            d->status));
}

QByteArray Response::body() const
{
    if (!d->stream || d->stream->gathered().isEmpty())
        return d->body;
    return d->body.isEmpty() ? d->stream->gathered() : d->body + d->stream->gathered();
}

QByteArray Response::charset() const
{
    // Content-Type: type/subtype; charset="utf-8"
    const QByteArrayView ct = d->headers.value("content-type");
    qsizetype from = 0;
    while (true) {
        const qsizetype semi = ct.indexOf(';', from);
        if (semi < 0)
            return {};
        QByteArrayView param = ct.sliced(semi + 1);
        const qsizetype next = param.indexOf(';');
        if (next >= 0)
            param = param.first(next);
        param = param.trimmed();
        if (param.size() > 8 && param.first(8).compare("charset=", Qt::CaseInsensitive) == 0) {
            QByteArrayView value = param.sliced(8).trimmed();
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.sliced(1, value.size() - 2);
            return value.toByteArray().toLower();
        }
        from = semi + 1;
    }
}

QString Response::text() const
{
    const QByteArray cs = charset();
    if (!cs.isEmpty() && cs != "utf-8" && cs != "utf8") {
        QStringDecoder decoder(cs.constData());
        if (decoder.isValid())
            return decoder.decode(body());
    }
    return QString::fromUtf8(body());
}

std::optional<QJsonDocument> Response::readJson(QJsonParseError *error) const
{
    QJsonParseError parsed;
    QJsonDocument doc = QJsonDocument::fromJson(body(), &parsed);
    if (error)
        *error = parsed;
    if (parsed.error != QJsonParseError::NoError)
        return std::nullopt;
    return doc;
}

QJsonDocument Response::json() const
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(body(), &error);
    if (error.error != QJsonParseError::NoError)
        throw InvalidResponseError(QStringLiteral("the body is not valid JSON: %1 at offset %2")
                                           .arg(error.errorString())
                                           .arg(error.offset),
                                   d->url);
    return doc;
}

bool Response::isStreaming() const noexcept { return d->stream != nullptr; }

QCoro::Task<QByteArray> Response::readChunk(qint64 maxBytes)
{
    const std::shared_ptr<BodyStream> stream = d->stream; // keeps it alive across suspension
    if (!stream)
        co_return QByteArray();
    co_return co_await stream->read(maxBytes);
}

QCoro::AsyncGenerator<QByteArray> Response::chunks(qint64 maxBytes)
{
    const std::shared_ptr<BodyStream> stream = d->stream;
    if (!stream)
        co_return;
    while (true) {
        QByteArray piece = co_await stream->read(maxBytes);
        if (piece.isEmpty())
            co_return;
        co_yield piece;
    }
}

namespace {

QCoro::Task<QByteArray> ready(QByteArray bytes)
{
    co_return bytes;
}

// Reads the rest of the stream into the stream itself, which every copy of the Response shares.
// Everything it uses is in its frame: the Response it came from may be gone by the first resume.
QCoro::Task<QByteArray> gatherRest(std::shared_ptr<BodyStream> stream, QByteArray head)
{
    while (true) {
        const QByteArray piece = co_await stream->read(0);
        if (piece.isEmpty())
            break;
        stream->gather(piece);
    }
    co_return head + stream->gathered();
}

} // namespace

// Not a coroutine: it hands its state to one, so `Response(r).readAll()` and a continuation
// whose Response parameter dies before the read resumes are safe.
QCoro::Task<QByteArray> Response::readAll()
{
    if (!d->stream)
        return ready(d->body);
    return gatherRest(d->stream, d->body);
}

qint64 Response::bytesReceived() const noexcept
{
    return d->stream ? d->stream->bytesReceived() : d->body.size();
}

qint64 Response::expectedSize() const noexcept
{
    return d->stream ? d->stream->expectedSize() : d->body.size();
}

void Response::close()
{
    if (d->stream)
        d->stream->close();
}

void Response::setStatus(int status, const QByteArray &reason)
{
    d->status = status;
    d->hasStatus = true;
    d->reason = reason;
}
void Response::setHttpVersion(int minor)
{
    d->versionMajor = 1;
    d->versionMinor = minor;
}
void Response::setHttpVersion(int major, int minor)
{
    d->versionMajor = major;
    d->versionMinor = minor;
}
void Response::setHeaders(const Headers &headers) { d->headers = headers; }
void Response::setBody(const QByteArray &body) { d->body = body; }
void Response::setUrl(const QUrl &url) { d->url = url; }
void Response::setMethod(const QByteArray &method) { d->method = method; }
void Response::setHistory(const QList<Response> &history) { d->history = history; }
void Response::setElapsed(std::chrono::milliseconds elapsed) { d->elapsed = elapsed; }
void Response::setConnectionReused(bool reused) { d->connectionReused = reused; }
void Response::setAttempts(int attempts) { d->attempts = attempts; }
void Response::setTimings(const Timings &timings) { d->timings = timings; }
void Response::setBodyStream(std::shared_ptr<BodyStream> stream) { d->stream = std::move(stream); }
std::shared_ptr<BodyStream> Response::bodyStream() const { return d->stream; }

QDebug operator<<(QDebug debug, const Response &response)
{
    QDebugStateSaver saver(debug);
    debug.nospace() << "Reqivo::Response(" << response.status() << ' '
                    << response.reason().constData() << ", " << response.url().toString()
                    << ", " << response.body().size() << " bytes)";
    return debug;
}

} // namespace Reqivo
