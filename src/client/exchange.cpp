// Exchange implementation. The one idea: a single non-suspending step() turns parser events
// into decoded bytes, and two thin coroutines (buffer everything / hand out a piece) call it,
// reading from the connection only when the parser says NeedData.
#include "exchange_p.h"

#include <Reqivo/asyncconnection.h>

#include "protocol/bytes_p.h"
#include "protocol/requestwriter.h"

#include <QIODevice>

namespace Reqivo::Client {

using namespace std::chrono;
using Protocol::ParseError;
using Protocol::ResponseParser;

namespace {
// Bodies up to this size go out in the same write as the head: one system call.
constexpr qsizetype coalesceBodyBytes = 64 * 1024;
// Streamed uploads are read from devices in blocks of this size.
constexpr qint64 uploadBlockBytes = 64 * 1024;

milliseconds keepAliveTimeout(const Headers &headers)
{
    // Keep-Alive: timeout=5, max=100
    const QByteArrayView v = headers.value("keep-alive");
    const qsizetype at = v.indexOf("timeout=");
    if (at < 0)
        return milliseconds::zero();
    qint64 seconds = 0;
    for (qsizetype i = at + 8; i < v.size() && v[i] >= '0' && v[i] <= '9'; ++i) {
        seconds = seconds * 10 + (v[i] - '0');
        if (seconds > 86400)
            break;
    }
    return duration_cast<milliseconds>(std::chrono::seconds(seconds));
}
} // namespace

void CancelToken::cancel()
{
    cancelled = true;
    if (active)
        active->abort();
}

void CancelToken::check(const QUrl &url) const
{
    if (cancelled)
        throw RequestError(QStringLiteral("the request was aborted"), url,
                           QStringLiteral("aborted"));
}

milliseconds waitBudget(milliseconds phase, const std::optional<Clock::time_point> &deadline,
                        const QUrl &url)
{
    if (!deadline)
        return phase > milliseconds::zero() ? phase : milliseconds::zero();
    const auto left = duration_cast<milliseconds>(*deadline - Clock::now());
    if (left <= milliseconds::zero())
        throw TimeoutError(QStringLiteral("the request's total timeout expired"), url);
    return phase > milliseconds::zero() ? std::min(phase, left) : left;
}

void throwParseError(const ResponseParser &parser, const QUrl &url)
{
    const QString detail = Protocol::parseErrorName(parser.error());
    switch (parser.error()) {
    case ParseError::ClosedBeforeResponse:
        throw NetworkError(QStringLiteral("the server closed the connection without responding"),
                           url, detail);
    case ParseError::IncompleteHead:
    case ParseError::IncompleteBody:
        // The connection ended before the framed message did. Qt reports a TCP reset as an
        // ordinary end of stream, so this is a broken connection, not bad HTTP.
        throw NetworkError(parser.errorMessage(), url, detail);
    default:
        throw InvalidResponseError(QStringLiteral("invalid response: ") + parser.errorMessage(),
                                   url, detail);
    }
}

namespace {

// One exchange's state from the first byte sent to the last byte of the body: the lease, the
// parser and the settings live in one allocation; a streamed Response keeps it as its body.
class HttpBodyStream final : public BodyStream
{
public:
    HttpBodyStream(ConnectionLease lease, ExchangeSettings settings, QUrl url)
        : m_lease(std::move(lease))
        , m_parser(settings.limits)
        , m_settings(std::move(settings))
        , m_url(std::move(url))
    {
    }
    ~HttpBodyStream() override { close(); }

    ResponseParser &parser() { return m_parser; }
    const ExchangeSettings &settings() const { return m_settings; }
    const QUrl &url() const { return m_url; }
    void setDecoder(std::unique_ptr<Decompressor> decoder) { m_decoder = std::move(decoder); }

    enum class Step { Data, NeedData, End };

    // One step without I/O: appends decoded bytes to out. Throws on errors (after closing the
    // connection).
    Step step(QByteArray &out)
    {
        while (true) {
            const ResponseParser::Event e = m_parser.nextEvent();
            switch (e.type) {
            case ResponseParser::EventType::Data:
                m_received += e.data.size();
                if (m_decoder) {
                    QString error;
                    if (!m_decoder->feed(e.data, out, &error))
                        fail(error);
                } else if (out.isEmpty()) {
                    out = m_parser.dataBytes(e.data); // usually the bytes read, not a copy
                } else {
                    Protocol::appendBytes(out, e.data);
                }
                if (m_settings.downloadProgress)
                    m_settings.downloadProgress(m_received, expectedSize());
                return Step::Data;
            case ResponseParser::EventType::EndOfMessage: {
                if (m_decoder) {
                    QString error;
                    if (!m_decoder->finish(out, &error))
                        fail(error);
                }
                finishConnection();
                return Step::End;
            }
            case ResponseParser::EventType::NeedData:
                return Step::NeedData;
            case ResponseParser::EventType::Error:
                m_lease.discard();
                m_done = true;
                throwParseError(m_parser, m_url);
            case ResponseParser::EventType::Head:
            case ResponseParser::EventType::Paused:
                continue; // cannot happen inside a body
            }
        }
    }

    QCoro::Task<void> fill()
    {
        AsyncConnection *c = m_lease.connection();
        if (!c) {
            m_done = true;
            throw NetworkError(QStringLiteral("the connection was closed (session destroyed?)"),
                               m_url);
        }
        QByteArray bytes;
        try {
            if (m_settings.cancel)
                m_settings.cancel->active = c;
            bytes = co_await c->read(waitBudget(m_settings.timeout.read, m_settings.deadline, m_url));
            if (m_settings.cancel)
                m_settings.cancel->check(m_url);
        } catch (...) {
            m_lease.discard();
            m_done = true;
            if (m_settings.cancel)
                m_settings.cancel->check(m_url);
            throw;
        }
        if (bytes.isEmpty())
            m_parser.receiveEof();
        else
            m_parser.receiveData(bytes);
    }

    //! Buffers the whole body into out.
    QCoro::Task<void> readToEnd(QByteArray &out)
    {
        while (!m_done) {
            const Step r = step(out);
            if (r == Step::End)
                break;
            if (r == Step::NeedData)
                co_await fill();
        }
    }

    QCoro::Task<QByteArray> read(qint64 maxBytes) override
    {
        while (m_pending.isEmpty() && !m_done) {
            const Step r = step(m_pending);
            if (r == Step::End)
                break;
            if (r == Step::NeedData)
                co_await fill();
        }
        if (maxBytes <= 0 || m_pending.size() <= maxBytes)
            co_return std::exchange(m_pending, QByteArray());
        QByteArray piece = m_pending.first(maxBytes);
        m_pending.remove(0, maxBytes);
        co_return piece;
    }

    void close() override
    {
        if (!m_done) {
            m_done = true;
            m_lease.discard();
        }
    }
    bool atEnd() const override { return m_done && m_pending.isEmpty(); }
    qint64 bytesReceived() const override { return m_received; }
    qint64 expectedSize() const override { return m_parser.contentLength(); }

private:
    [[noreturn]] void fail(const QString &error)
    {
        m_lease.discard();
        m_done = true;
        throw InvalidResponseError(QStringLiteral("cannot decode the response body: ") + error,
                                   m_url, QStringLiteral("Content-Encoding"));
    }

    void finishConnection()
    {
        m_done = true;
        if (m_settings.cancel)
            m_settings.cancel->active = nullptr; // an abort from now on must not hit the pool

        // Bytes after the message that nobody asked for mean the connection is out of step.
        if (m_parser.isReusable() && m_parser.unconsumed().isEmpty()) {
            if (AsyncConnection *c = m_lease.connection())
                c->setReadBufferLimit(0);
            m_lease.recycle(keepAliveTimeout(m_parser.head().headers));
        } else {
            m_lease.discard();
        }
    }

    ConnectionLease m_lease;
    ResponseParser m_parser;
    std::unique_ptr<Decompressor> m_decoder;
    ExchangeSettings m_settings;
    QUrl m_url;
    QByteArray m_pending;
    qint64 m_received = 0;
    bool m_done = false;
};

QCoro::Task<void> writeBody(AsyncConnection *c, const Body &body, const ExchangeSettings &s,
                            const QUrl &url)
{
    const bool chunked = body.size() < 0;
    qint64 sent = 0;
    const auto send = [&](const QByteArray &data) -> QCoro::Task<void> {
        if (chunked) {
            QByteArray framed;
            framed.reserve(data.size() + 16);
            Protocol::RequestWriter::appendChunk(framed, data);
            co_await c->write(framed, waitBudget(s.timeout.write, s.deadline, url));
        } else {
            co_await c->write(data, waitBudget(s.timeout.write, s.deadline, url));
        }
        sent += data.size();
        if (s.uploadProgress)
            s.uploadProgress(sent, body.size());
    };

    switch (body.kind()) {
    case Body::Kind::Empty:
        co_return;
    case Body::Kind::Bytes:
        co_await send(body.bytes());
        break;
    case Body::Kind::Device: {
        QIODevice *device = body.device();
        if (!device)
            throw RequestError(QStringLiteral("the request body's device was destroyed"), url);
        if (!device->isSequential() && !device->seek(body.devicePosition()))
            throw RequestError(QStringLiteral("cannot rewind the request body's device"), url);
        qint64 left = body.size();
        while (left != 0) {
            if (device->bytesAvailable() <= 0 && device->isSequential() && !device->atEnd())
                device->waitForReadyRead(int(waitBudget(s.timeout.write, s.deadline, url).count()));
            const qint64 want = left < 0 ? uploadBlockBytes : std::min(left, uploadBlockBytes);
            const QByteArray block = device->read(want);
            if (block.isEmpty()) {
                if (left > 0)
                    throw RequestError(
                            QStringLiteral("the request body's device ended %1 bytes early")
                                    .arg(left),
                            url);
                break;
            }
            co_await send(block);
            if (left > 0)
                left -= block.size();
        }
        break;
    }
    case Body::Kind::Generator: {
        Body::Generator gen = body.generatorFactory()();
        auto it = co_await gen.begin();
        while (it != gen.end()) {
            const QByteArray piece = *it;
            if (!piece.isEmpty())
                co_await send(piece);
            co_await ++it;
        }
        break;
    }
    }
    if (chunked) {
        QByteArray last;
        Protocol::RequestWriter::appendLastChunk(last);
        co_await c->write(last, waitBudget(s.timeout.write, s.deadline, url));
    }
}

} // namespace

QCoro::Task<Response> runExchange(ConnectionLease lease, QByteArray head, Body body,
                                  QByteArray method, QUrl url, ExchangeSettings settings,
                                  ExchangeProgress *progress)
{
    const auto started = Clock::now();
    AsyncConnection *c = lease.connection();
    const bool reused = lease.isReused();
    c->markUsed();
    const bool stream = settings.stream;
    // From here on the exchange owns the lease: closing it (on any error) discards the
    // connection, reading the body to its end recycles it.
    const auto exchange = std::make_shared<HttpBodyStream>(std::move(lease), std::move(settings),
                                                           url);
    const ExchangeSettings &s = exchange->settings();
    ResponseParser &parser = exchange->parser();
    const std::shared_ptr<CancelToken> &cancel = s.cancel;
    if (cancel) {
        cancel->check(url);
        cancel->active = c;
    }

    // A streamed body's memory is bounded by its reader from the first read on: the read for
    // the head could otherwise pull in megabytes of body. Lifted when the body ends.
    if (stream)
        c->setReadBufferLimit(AsyncConnection::readBufferBytes);

    // --- send ------------------------------------------------------------------------------
    try {
        if (body.isEmpty()) {
            co_await c->write(head, waitBudget(s.timeout.write, s.deadline, url));
        } else if (body.kind() == Body::Kind::Bytes && body.bytes().size() <= coalesceBodyBytes) {
            head.append(body.bytes());
            co_await c->write(head, waitBudget(s.timeout.write, s.deadline, url));
            if (s.uploadProgress)
                s.uploadProgress(body.size(), body.size());
        } else {
            co_await c->write(head, waitBudget(s.timeout.write, s.deadline, url));
            co_await writeBody(c, body, s, url);
        }
    } catch (...) {
        exchange->close();
        if (cancel)
            cancel->check(url);
        throw;
    }
    progress->requestSent = true;

    // --- read the head ----------------------------------------------------------------------
    parser.setRequestMethod(method);
    while (true) {
        const ResponseParser::Event e = parser.nextEvent();
        if (e.type == ResponseParser::EventType::Head) {
            if (parser.head().isInterim())
                continue; // 100 Continue and friends: the final response follows
            break;
        }
        if (e.type == ResponseParser::EventType::Error) {
            exchange->close();
            throwParseError(parser, url);
        }
        // NeedData
        QByteArray bytes;
        try {
            bytes = co_await c->read(waitBudget(s.timeout.read, s.deadline, url));
            if (cancel)
                cancel->check(url);
        } catch (...) {
            exchange->close();
            if (cancel)
                cancel->check(url);
            throw;
        }
        if (bytes.isEmpty())
            parser.receiveEof();
        else
            parser.receiveData(bytes);
        if (parser.hasReceivedAnything())
            progress->responseStarted = true;
    }
    progress->responseStarted = true;

    const Protocol::ResponseHead &h = parser.head();
    Response response;
    response.setStatus(h.status, h.reason);
    response.setHttpVersion(h.versionMinor);
    response.setHeaders(h.headers);
    response.setMethod(method);
    response.setUrl(url);
    response.setConnectionReused(reused);

    const bool hasBody = parser.framing() != ResponseParser::Framing::None;
    if (s.decompress && hasBody) {
        const QByteArrayView coding = h.headers.value("content-encoding");
        if (!coding.isEmpty()) {
            QString error;
            std::unique_ptr<Decompressor> decoder
                    = Decompressor::create(coding, s.limits, &error);
            if (!decoder && !error.isEmpty()) {
                exchange->close();
                throw InvalidResponseError(QStringLiteral("cannot decode the response body: ")
                                                   + error,
                                           url, QStringLiteral("Content-Encoding"));
            }
            exchange->setDecoder(std::move(decoder));
        }
    }

    if (stream) {
        response.setElapsed(duration_cast<milliseconds>(Clock::now() - started));
        response.setBodyStream(exchange);
        co_return response;
    }
    // Small bodies usually came with the head: decode what is buffered before suspending.
    QByteArray all;
    HttpBodyStream::Step step;
    do {
        step = exchange->step(all);
    } while (step == HttpBodyStream::Step::Data);
    if (step == HttpBodyStream::Step::NeedData)
        co_await exchange->readToEnd(all);
    response.setBody(all);
    response.setElapsed(duration_cast<milliseconds>(Clock::now() - started));
    co_return response;
}

} // namespace Reqivo::Client
