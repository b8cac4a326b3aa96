// runHttp2Exchange(): one request as one HTTP/2 stream (see http2connection_p.h). The shape is
// exchange.cpp's: send, read the head, then the body buffered or through a BodyStream; only
// the transport of bytes differs (a stream of a shared connection instead of a leased one).
#include "http2connection_p.h"

#include "calltrace_p.h"

#include <Reqivo/errors.h>

#include "devicesource_p.h"
#include "multipartsource_p.h"
#include "prepare_p.h"
#include "redirectpolicy.h"
#include "streamidleguard_p.h"

#include <QIODevice>
#include <QScopeGuard>

namespace Reqivo::Client {

using namespace std::chrono;
using Protocol::Http2::ClientSession;
using Protocol::Http2::StreamError;

namespace {

constexpr qint64 uploadBlockBytes = 64 * 1024;
// A streamed upload keeps at most about this much queued in the session.
constexpr qint64 uploadQueueBytes = 256 * 1024;

// The error for a stream that ended without its response (never for Failure::Refused: the
// caller retries those).
[[noreturn]] void throwStreamFailure(const Http2Stream &stream, const QUrl &url,
                                     const std::shared_ptr<CancelToken> &cancel)
{
    if (cancel)
        cancel->check(url);
    switch (stream.failure) {
    case Http2Stream::Failure::Aborted:
        throw RequestError(QStringLiteral("the request was aborted"), url,
                           QStringLiteral("aborted"));
    case Http2Stream::Failure::Refused:
        throw NetworkError(QStringLiteral("the server refused the HTTP/2 stream (%1)")
                                   .arg(Protocol::Http2::errorCodeName(stream.errorCode)),
                           url, QStringLiteral("REFUSED_STREAM"));
    case Http2Stream::Failure::Connection:
        if (stream.connectionProtocolError)
            throw ProtocolError(stream.connectionError, url, QStringLiteral("HTTP/2"));
        throw NetworkError(Error(Error::Kind::Network, stream.connectionError, url, {},
                                 int(Error::NetworkFailure::ConnectionClosed)));
    case Http2Stream::Failure::Stream:
    case Http2Stream::Failure::None:
        break;
    }
    switch (stream.streamError) {
    case StreamError::ResetByPeer: {
        const QString code = Protocol::Http2::errorCodeName(stream.errorCode);
        throw ProtocolError(QStringLiteral("the server reset the HTTP/2 stream (RST_STREAM %1)")
                                    .arg(code),
                            url, QStringLiteral("RST_STREAM ") + code);
    }
    case StreamError::HeaderTooLarge:
        throw InvalidResponseError(QStringLiteral("invalid response: the header section is "
                                                  "larger than Limits::maxHeaderBytes"),
                                   url, Protocol::parseErrorName(Protocol::ParseError::HeaderTooLarge));
    case StreamError::TooManyFields:
        throw InvalidResponseError(QStringLiteral("invalid response: more fields than "
                                                  "Limits::maxFieldCount"),
                                   url, Protocol::parseErrorName(Protocol::ParseError::TooManyFields));
    case StreamError::BodyTooLarge:
        throw InvalidResponseError(QStringLiteral("invalid response: the body is larger than "
                                                  "Limits::maxBodyBytes"),
                                   url, Protocol::parseErrorName(Protocol::ParseError::BodyTooLarge));
    case StreamError::BadMessage:
        throw InvalidResponseError(QStringLiteral("invalid response: a malformed HTTP/2 "
                                                  "message (RFC 9113 §8.1.1)"),
                                   url, QStringLiteral("HTTP/2 malformed"));
    default:
        throw ProtocolError(QStringLiteral("the HTTP/2 stream ended without a response"), url,
                            QStringLiteral("HTTP/2"));
    }
}

// The pseudo-header fields and the rest, from a prepared request.
ClientSession::Request http2Request(const QByteArray &method, const QUrl &url,
                                    const Headers &fields, const Body &body)
{
    ClientSession::Request r;
    r.method = method;
    r.scheme = url.scheme() == QLatin1String("https") ? QByteArrayLiteral("https")
                                                      : QByteArrayLiteral("http");
    r.authority = fields.value("host").toByteArray();
    if (r.authority.isEmpty())
        r.authority = hostField(url);
    r.path = requestTarget(url);
    r.fields = fields;
    r.fields.remove("host");
    if (!body.isEmpty() && body.size() >= 0) {
        r.fields.set("content-length", QByteArray::number(body.size()));
    } else if (body.isEmpty() && (method == "POST" || method == "PUT" || method == "PATCH")) {
        r.fields.set("content-length", "0"); // as over HTTP/1.1: some servers require it
    }
    r.hasBody = !body.isEmpty();
    return r;
}

// One exchange's stream, from the request to the last byte of the body; a streamed Response
// keeps it as its body.
class Http2BodyStream final : public BodyStream,
                              public std::enable_shared_from_this<Http2BodyStream>
{
public:
    Http2BodyStream(std::shared_ptr<Http2Connection> connection,
                    std::shared_ptr<Http2Stream> stream, ExchangeSettings settings, QUrl url)
        : m_connection(std::move(connection))
        , m_stream(std::move(stream))
        , m_settings(std::move(settings))
        , m_url(std::move(url))
    {
    }
    ~Http2BodyStream() override { close(); }

    Http2Connection &connection() { return *m_connection; }
    Http2Stream &stream() { return *m_stream; }
    const ExchangeSettings &settings() const { return m_settings; }
    void setDecoder(std::unique_ptr<Decompressor> decoder) { m_decoder = std::move(decoder); }
    void setExpectedSize(qint64 size) { m_expected = size; }

    //! Waits for the stream to change, within the read (or \a phase) budget. Throws the
    //! phase's timeout (after resetting the stream) or the total deadline's.
    QCoro::Task<void> waitForChange(milliseconds phase, bool writing)
    {
        const WaitBudget budget = waitBudget(phase, m_settings, m_url);
        const std::shared_ptr<Http2Stream> stream = m_stream;
        if (!Timeout::isNoLimit(budget.wait))
            m_connection->armDeadline(*stream, budget.wait);
        co_await stream->changed.wait();
        stream->hasDeadline = false;
        if (m_settings.cancel)
            m_settings.cancel->check(m_url);
        if (!std::exchange(stream->timedOut, false))
            co_return;
        close();
        if (budget.deadlineBound)
            throwTotalTimeout(m_settings, m_url);
        if (writing)
            throw WriteTimeout(QStringLiteral("the HTTP/2 stream's window stayed closed for "
                                              "%1 ms (Timeout::write)")
                                       .arg(phase.count()),
                               m_url);
        throw ReadTimeout(QStringLiteral("no response data for %1 ms (Timeout::read)")
                                  .arg(phase.count()),
                          m_url);
    }

    //! Decodes what has arrived into \a out (only the next piece when \a one: a streamed
    //! read hands pieces on without joining them); true at the end of the body. Throws on
    //! failure.
    bool take(QByteArray &out, bool one = false)
    {
        Http2Stream &s = *m_stream;
        while (!s.chunks.isEmpty() && !(one && !out.isEmpty())) {
            const QByteArray chunk = s.chunks.takeFirst();
            s.buffered -= chunk.size();
            m_received += chunk.size();
            m_connection->consume(s, chunk.size());
            if (m_decoder) {
                QString error;
                if (!m_decoder->feed(chunk, out, &error))
                    fail(error);
            } else if (out.isEmpty()) {
                out = chunk;
            } else {
                out.append(chunk);
            }
            if (m_settings.downloadProgress)
                m_settings.downloadProgress(m_received, m_expected);
        }
        if (!s.chunks.isEmpty())
            return false; // one piece taken; the rest comes with the next read
        if (s.ended) {
            if (m_decoder && !m_finished) {
                QString error;
                if (!m_decoder->finish(out, &error))
                    fail(error);
            }
            finish();
            return true;
        }
        if (s.closed) {
            // A streamed read hands on the last piece first; the next read throws.
            if (one && !out.isEmpty())
                return false;
            m_done = true;
            noteReleased();
            m_connection->release(s);
            throwStreamFailure(s, m_url, m_settings.cancel);
        }
        return false;
    }

    QCoro::Task<void> readToEnd(QByteArray &out)
    {
        const std::shared_ptr<Http2BodyStream> self = shared_from_this();
        const StreamIdleGuard::Reading reading(m_idleGuard);
        while (!take(out))
            co_await waitForChange(m_settings.timeout.read, false);
    }

    QCoro::Task<QByteArray> read(qint64 maxBytes) override
    {
        const std::shared_ptr<Http2BodyStream> self = shared_from_this();
        if (m_idleClosed)
            throw ReadTimeout(QStringLiteral("the streamed response body was not read for %1 "
                                             "ms; its stream was closed")
                                      .arg(m_settings.timeout.streamIdle.count()),
                              m_url, QStringLiteral("stream idle"));
        {
            const StreamIdleGuard::Reading reading(m_idleGuard);
            while (m_pending.isEmpty() && !m_finished) {
                if (take(m_pending, true))
                    break;
                if (m_pending.isEmpty())
                    co_await waitForChange(m_settings.timeout.read, false);
            }
        }
        armIdleGuard();
        if (maxBytes <= 0 || m_pending.size() <= maxBytes)
            co_return std::exchange(m_pending, QByteArray());
        QByteArray piece = m_pending.first(maxBytes);
        m_pending.remove(0, maxBytes);
        co_return piece;
    }

    void close() override
    {
        if (m_done)
            return;
        m_done = true;
        if (m_settings.cancel)
            m_settings.cancel->clearHandler();
        noteReleased();
        m_connection->release(*m_stream); // RST_STREAM(CANCEL) when it has not ended
    }
    bool atEnd() const override { return m_done && m_pending.isEmpty(); }
    qint64 bytesReceived() const override { return m_received; }
    qint64 expectedSize() const override { return m_expected; }

    void armIdleGuard()
    {
        const milliseconds idle = m_settings.timeout.streamIdle;
        if (m_done || Timeout::isNoLimit(idle))
            return;
        m_idleGuard.touch(idle, [weak = weak_from_this()] {
            if (const auto stream = weak.lock(); stream && !stream->m_done) {
                stream->m_idleClosed = true;
                stream->close();
            }
        });
    }

private:
    void finish()
    {
        m_finished = true;
        if (m_done)
            return;
        m_done = true;
        if (m_settings.cancel)
            m_settings.cancel->clearHandler();
        m_idleGuard.stop();
        endedAt = Clock::now();
        if (CallTrace *trace = m_settings.trace.get()) {
            RequestEvent &e = trace->event(RequestEvent::Type::ResponseBodyEnd, endedAt);
            e.bytes = m_received;
            trace->emit(e);
        }
        noteReleased();
        m_connection->release(*m_stream);
    }

    //! Tells the listener, if any, that the stream leaves its connection (which stays, if it
    //! is alive, for other streams: RequestEvent::reused).
    void noteReleased()
    {
        CallTrace *trace = m_settings.trace.get();
        if (!trace)
            return;
        RequestEvent &e = trace->event(RequestEvent::Type::ConnectionReleased);
        e.connectionId = m_connection->transport() ? m_connection->transport()->id() : 0;
        e.reused = m_connection->isAlive();
        trace->emit(e);
    }

    [[noreturn]] void fail(const QString &error)
    {
        close();
        throw InvalidResponseError(QStringLiteral("cannot decode the response body: ") + error,
                                   m_url, m_decoder->errorDetail());
    }

    std::shared_ptr<Http2Connection> m_connection;
    std::shared_ptr<Http2Stream> m_stream;
    std::unique_ptr<Decompressor> m_decoder;
    ExchangeSettings m_settings;
    QUrl m_url;
    QByteArray m_pending;
    StreamIdleGuard m_idleGuard;
    qint64 m_received = 0;
    qint64 m_expected = -1;
    bool m_done = false;
    bool m_finished = false;
    bool m_idleClosed = false;
};

// Sends a body that is not all in memory: blocks from the device or the generator, each once
// the session has taken most of the previous ones out (flow control reaches back to here).
QCoro::Task<void> sendStreamedBody(std::shared_ptr<Http2BodyStream> exchange, Body body,
                                   QUrl url)
{
    Http2Connection &conn = exchange->connection();
    Http2Stream &stream = exchange->stream();
    const ExchangeSettings &s = exchange->settings();
    qint64 sent = 0;
    const auto room = [&]() -> QCoro::Task<bool> {
        while (!stream.closed && conn.queuedBodyBytes(stream) >= uploadQueueBytes)
            co_await exchange->waitForChange(s.timeout.write, true);
        co_return !stream.closed;
    };
    const auto send = [&](const QByteArray &data) {
        conn.appendBody(stream, data);
        sent += data.size();
        if (s.uploadProgress)
            s.uploadProgress(sent, body.size());
    };

    if (body.kind() == Body::Kind::Device) {
        QIODevice *device = body.device();
        if (!device)
            throw RequestError(QStringLiteral("the request body's device was destroyed"), url);
        if (!device->isSequential() && !device->seek(body.devicePosition()))
            throw RequestError(QStringLiteral("cannot rewind the request body's device"), url);
        DeviceSource source(device);
        const std::shared_ptr<CancelToken> &cancel = s.cancel;
        if (cancel)
            cancel->setHandler([src = QPointer<DeviceSource>(&source),
                                weak = std::weak_ptr<Http2BodyStream>(exchange)] {
                if (src)
                    src->wake();
                if (auto e = weak.lock())
                    e->connection().cancel(e->stream(), Protocol::Http2::Cancel, true);
            });
        qint64 left = body.size();
        while (left != 0) {
            if (!co_await room())
                co_return; // the server ended the stream (answered early, or reset it)
            const qint64 want = left < 0 ? uploadBlockBytes : std::min(left, uploadBlockBytes);
            const WaitBudget budget = waitBudget(s.timeout.write, s, url);
            QByteArray block;
            try {
                block = co_await source.next(want, budget.wait, url);
            } catch (...) {
                if (cancel)
                    cancel->check(url);
                rethrowAsTotalTimeout(budget, s, url);
                throw;
            }
            if (block.isEmpty()) {
                if (left > 0)
                    throw RequestError(
                            QStringLiteral("the request body's device ended %1 bytes early")
                                    .arg(left),
                            url);
                break;
            }
            send(block);
            if (left > 0)
                left -= block.size();
        }
    } else if (body.kind() == Body::Kind::Multipart) {
        MultipartSource source(*body.multipart(), url);
        const std::shared_ptr<CancelToken> &cancel = s.cancel;
        if (cancel)
            cancel->setHandler([src = &source, weak = std::weak_ptr<Http2BodyStream>(exchange)] {
                src->wake();
                if (auto e = weak.lock())
                    e->connection().cancel(e->stream(), Protocol::Http2::Cancel, true);
            });
        // The source dies with this scope: an abort from then on only cancels the stream.
        const auto restoreHandler = qScopeGuard([&cancel, &exchange] {
            if (cancel)
                cancel->setHandler([weak = std::weak_ptr<Http2BodyStream>(exchange)] {
                    if (auto e = weak.lock())
                        e->connection().cancel(e->stream(), Protocol::Http2::Cancel, true);
                });
        });
        while (true) {
            if (!co_await room())
                co_return; // the server ended the stream (answered early, or reset it)
            const WaitBudget budget = waitBudget(s.timeout.write, s, url);
            QByteArray block;
            try {
                block = co_await source.next(uploadBlockBytes, budget.wait);
            } catch (...) {
                if (cancel)
                    cancel->check(url);
                rethrowAsTotalTimeout(budget, s, url);
                throw;
            }
            if (block.isEmpty())
                break;
            send(block);
        }
    } else if (body.kind() == Body::Kind::Generator) {
        Body::Generator gen = body.generatorFactory()();
        auto it = co_await gen.begin();
        while (it != gen.end()) {
            const QByteArray piece = *it;
            if (!piece.isEmpty()) {
                if (!co_await room())
                    co_return;
                send(piece);
            }
            co_await ++it;
        }
    } else {
        send(body.bytes());
    }
    conn.endBody(stream);
}

} // namespace

QCoro::Task<Response> runHttp2Exchange(std::shared_ptr<Http2Connection> connection,
                                       QByteArray method, QUrl url, Headers fields, Body body,
                                       ExchangeSettings settings, ExchangeProgress *progress)
{
    const auto started = Clock::now();
    const std::shared_ptr<CancelToken> cancel = settings.cancel;
    if (cancel)
        cancel->check(url);
    const bool reused = connection->streamsStarted() > 0;
    const bool stream = settings.stream;
    QString error;
    const std::shared_ptr<Http2Stream> h2stream
            = connection->open(http2Request(method, url, fields, body), &error);
    if (!h2stream) {
        // The connection cannot take a stream any more (it went away meanwhile): another one
        // can.
        progress->refused = true;
        throw NetworkError(QStringLiteral("the HTTP/2 connection cannot open a stream: ") + error,
                           url, QStringLiteral("REFUSED_STREAM"));
    }
    const auto exchange = std::make_shared<Http2BodyStream>(connection, h2stream,
                                                            std::move(settings), url);
    const ExchangeSettings &s = exchange->settings();
    exchange->attemptStart = s.attemptStart;
    const auto abortStream = [weak = std::weak_ptr<Http2BodyStream>(exchange)] {
        if (auto e = weak.lock())
            e->connection().cancel(e->stream(), Protocol::Http2::Cancel, true);
    };
    if (cancel)
        cancel->setHandler(abortStream);

    Clock::time_point sent;
    try {
        // --- send ----------------------------------------------------------------------------
        if (!body.isEmpty()) {
            if (body.kind() == Body::Kind::Bytes) {
                connection->appendBody(*h2stream, body.bytes());
                connection->endBody(*h2stream);
                if (s.uploadProgress)
                    s.uploadProgress(body.size(), body.size());
            } else {
                co_await sendStreamedBody(exchange, body, url);
                if (cancel)
                    cancel->setHandler(abortStream);
            }
        }
        sent = Clock::now();
        if (CallTrace *trace = s.trace.get()) {
            trace->emit(RequestEvent::Type::RequestHeadSent, sent);
            if (!body.isEmpty()) {
                RequestEvent &e = trace->event(RequestEvent::Type::RequestBodySent, sent);
                e.bytes = body.size();
                trace->emit(e);
            }
        }

        // --- read the head ---------------------------------------------------------------------
        while (true) {
            if (!h2stream->heads.empty()) {
                if (h2stream->heads.front().isInterim()) {
                    h2stream->heads.pop_front();
                    continue;
                }
                break;
            }
            if (h2stream->closed) {
                if (h2stream->failure == Http2Stream::Failure::Refused)
                    progress->refused = true;
                exchange->close();
                throwStreamFailure(*h2stream, url, cancel);
            }
            co_await exchange->waitForChange(s.timeout.read, false);
        }
    } catch (...) {
        exchange->close();
        throw;
    }
    progress->responseStarted = true;
    const Clock::time_point headAt = Clock::now();
    Timings timings = s.phases;
    timings.requestSent = sinceAttemptStart(s, sent);
    timings.ttfb = sinceAttemptStart(s, headAt);

    const Protocol::ResponseHead head = std::move(h2stream->heads.front());
    h2stream->heads.pop_front();
    Response response;
    response.setStatus(head.status, head.reason);
    response.setHttpVersion(2, 0);
    response.setHeaders(head.headers);
    response.setMethod(method);
    response.setUrl(url);
    response.setConnectionReused(reused);
    if (CallTrace *trace = s.trace.get()) {
        RequestEvent &e = trace->event(RequestEvent::Type::ResponseHeadReceived, headAt);
        e.status = head.status;
        e.httpVersion = response.httpVersion();
        trace->emit(e);
    }

    const QByteArrayView length = head.headers.value("content-length");
    bool lengthOk = false;
    const qint64 expected = length.isEmpty() ? -1 : length.toByteArray().toLongLong(&lengthOk);
    exchange->setExpectedSize(lengthOk ? expected : -1);
    const bool noBody = method == "HEAD" || head.status == 204 || head.status == 304
            || (h2stream->ended && h2stream->chunks.isEmpty());
    if (s.decompress && !noBody) {
        const QByteArrayView coding = head.headers.value("content-encoding");
        if (!coding.isEmpty()) {
            QString why;
            std::unique_ptr<Decompressor> decoder = Decompressor::create(coding, s.limits, &why);
            if (!decoder && !why.isEmpty()) {
                exchange->close();
                throw InvalidResponseError(QStringLiteral("cannot decode the response body: ")
                                                   + why,
                                           url, QStringLiteral("Content-Encoding"));
            }
            exchange->setDecoder(std::move(decoder));
        }
    }

    const bool redirect = s.redirectsFollowed && !noBody && isFollowableRedirect(head.status)
            && head.headers.contains("location");
    if (stream || redirect) {
        response.setElapsed(duration_cast<milliseconds>(Clock::now() - started));
        response.setTimings(timings); // the total comes from the stream when it ends
        response.setBodyStream(exchange);
        if (stream)
            exchange->armIdleGuard();
        co_return response;
    }
    QByteArray all;
    co_await exchange->readToEnd(all);
    response.setBody(all);
    response.setElapsed(duration_cast<milliseconds>(Clock::now() - started));
    timings.total = sinceAttemptStart(s, exchange->endedAt);
    response.setTimings(timings);
    co_return response;
}

} // namespace Reqivo::Client
