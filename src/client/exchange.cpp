// Exchange implementation. The one idea: a single non-suspending step() turns parser events
// into decoded bytes, and thin coroutines (read the head / buffer everything / hand out a piece)
// call it, reading from the connection through one function, fill(), only when the parser says
// NeedData.
#include "exchange_p.h"

#include "calltrace_p.h"

#include <Reqivo/asyncconnection.h>

#include "devicesource_p.h"
#include "multipartsource_p.h"
#include "protocol/bytes_p.h"
#include "protocol/requestwriter.h"
#include "redirectpolicy.h"
#include "streamidleguard_p.h"

#include <QIODevice>
#include <QScopeGuard>
#include <QTimer>

namespace Reqivo::Client {

using namespace std::chrono;
using Protocol::ParseError;
using Protocol::ResponseParser;

namespace {
// Bodies up to this size go out in the same write as the head: one system call.
constexpr qsizetype coalesceBodyBytes = 64 * 1024;
// Streamed uploads are read from devices in blocks of this size.
constexpr qint64 uploadBlockBytes = 64 * 1024;

// Keep-Alive: timeout=5, max=100. The timeout, or nullopt when the field gives none;
// "timeout=0" asks that the connection not be kept at all.
std::optional<milliseconds> keepAliveTimeout(const Headers &headers)
{
    const QByteArrayView v = headers.value("keep-alive");
    const qsizetype at = v.indexOf("timeout=");
    if (at < 0 || at + 8 >= v.size() || v[at + 8] < '0' || v[at + 8] > '9')
        return std::nullopt;
    qint64 seconds = 0;
    for (qsizetype i = at + 8; i < v.size() && v[i] >= '0' && v[i] <= '9'; ++i) {
        seconds = seconds * 10 + (v[i] - '0');
        if (seconds > 86400)
            break;
    }
    return duration_cast<milliseconds>(std::chrono::seconds(seconds));
}
} // namespace

void CancelToken::check(const QUrl &url) const
{
    if (isAborted())
        throw RequestError(QStringLiteral("the request was aborted"), url,
                           QStringLiteral("aborted"));
}

WaitBudget waitBudget(milliseconds phase, const ExchangeSettings &settings, const QUrl &url)
{
    if (!settings.deadline)
        return WaitBudget {phase, false};
    const Clock::time_point now = Clock::now();
    if (now >= *settings.deadline)
        throwTotalTimeout(settings, url);
    const milliseconds left = ceil<milliseconds>(*settings.deadline - now);
    if (Timeout::isNoLimit(phase) || left < phase)
        return WaitBudget {left, true};
    return WaitBudget {phase, false};
}

void throwTotalTimeout(const ExchangeSettings &settings, const QUrl &url)
{
    throw TimeoutError(QStringLiteral("the request exceeded its total deadline of %1 ms "
                                      "(Timeout::total)")
                               .arg(settings.timeout.total.count()),
                       url, QStringLiteral("total"));
}

void rethrowAsTotalTimeout(const WaitBudget &budget, const ExchangeSettings &settings,
                           const QUrl &url)
{
    if (!budget.deadlineBound)
        return;
    try {
        throw;
    } catch (const TimeoutError &) {
        throwTotalTimeout(settings, url);
    } catch (...) {
        // not a timeout: the caller rethrows it as it is
    }
}

void throwParseError(const ResponseParser &parser, const QUrl &url)
{
    const QString detail = Protocol::parseErrorName(parser.error());
    switch (parser.error()) {
    case ParseError::ClosedBeforeResponse:
        throw NetworkError(Error(Error::Kind::Network,
                                 QStringLiteral("the server closed the connection without "
                                                "responding"),
                                 url, detail, int(Error::NetworkFailure::ConnectionClosed)));
    case ParseError::IncompleteHead:
    case ParseError::IncompleteBody:
        // The connection ended before the framed message did. Qt reports a TCP reset as an
        // ordinary end of stream, so this is a broken connection, not bad HTTP.
        throw NetworkError(Error(Error::Kind::Network, parser.errorMessage(), url, detail,
                                 int(Error::NetworkFailure::ConnectionClosed)));
    default:
        throw InvalidResponseError(QStringLiteral("invalid response: ") + parser.errorMessage(),
                                   url, detail);
    }
}

namespace {

std::function<void()> abortHandler(AsyncConnection *c)
{
    return [c = QPointer<AsyncConnection>(c)] {
        if (c)
            c->abort();
    };
}

// One exchange's state from the first byte sent to the last byte of the body: the lease, the
// parser and the settings live in one allocation; a streamed Response keeps it as its body.
class HttpBodyStream final : public BodyStream,
                             public std::enable_shared_from_this<HttpBodyStream>
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

    //! Tells the listener, if any, that the connection goes (\a kept: back to the pool) at
    //! \a time (unset: now).
    void noteReleased(bool kept, Clock::time_point time = {})
    {
        CallTrace *trace = m_settings.trace.get();
        if (!trace || !m_lease)
            return;
        RequestEvent &e = trace->event(RequestEvent::Type::ConnectionReleased,
                                       time == Clock::time_point() ? Clock::now() : time);
        e.connectionId = m_lease.connection()->id();
        e.reused = kept;
        trace->emit(e);
    }

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
                closeAndThrowParseError();
            case ResponseParser::EventType::Head:
            case ResponseParser::EventType::Paused:
                continue; // cannot happen inside a body
            }
        }
    }

    // The one read of the exchange, for the head and the body alike: waits at most \a budget
    // (the read timeout when none is given) for bytes and feeds them, or the end of the
    // stream, to the parser. On any failure the connection is closed first.
    QCoro::Task<void> fill(std::optional<milliseconds> budget = std::nullopt)
    {
        AsyncConnection *c = m_lease.connection();
        if (!c) {
            m_done = true;
            throw NetworkError(QStringLiteral("the connection was closed (session destroyed?)"),
                               m_url);
        }
        // The token's handler (set by runExchange) aborts this connection, ending the read.
        const std::shared_ptr<CancelToken> cancel = m_settings.cancel;
        QByteArray bytes;
        WaitBudget waited;
        try {
            waited = budget ? WaitBudget {*budget, false}
                            : waitBudget(m_settings.timeout.read, m_settings, m_url);
            bytes = co_await c->read(waited.wait);
            if (cancel)
                cancel->check(m_url);
        } catch (...) {
            noteReleased(false);
            m_lease.discard();
            m_done = true;
            if (cancel)
                cancel->check(m_url);
            rethrowAsTotalTimeout(waited, m_settings, m_url);
            throw;
        }
        if (!bytes.isEmpty()) {
            m_parser.receiveData(bytes);
            co_return;
        }
        // Over TLS, a body that ends with the connection must end with close_notify: a bare
        // FIN may be an attacker cutting it short (RFC 8446 §6.1, RFC 9112 §9.8).
        if (m_parser.framing() == ResponseParser::Framing::UntilClose && c->isEncrypted()
            && c->endedWithoutCloseNotify()) {
            noteReleased(false);
            m_lease.discard();
            m_done = true;
            throw NetworkError(Error(Error::Kind::Network,
                                     QStringLiteral("the TLS connection ended without "
                                                    "close_notify: the response body may be "
                                                    "truncated"),
                                     m_url, QStringLiteral("truncated"),
                                     int(Error::NetworkFailure::ConnectionClosed)));
        }
        m_parser.receiveEof();
    }

    //! Reads up to the final response's head (interim 1xx responses are skipped).
    QCoro::Task<void> readHead(ExchangeProgress *progress)
    {
        while (true) {
            const ResponseParser::Event e = m_parser.nextEvent();
            if (e.type == ResponseParser::EventType::Head) {
                if (m_parser.head().isInterim())
                    continue; // 100 Continue and friends: the final response follows
                progress->responseStarted = true;
                co_return;
            }
            if (e.type == ResponseParser::EventType::Error)
                closeAndThrowParseError();
            co_await fill();
            if (m_parser.hasReceivedAnything())
                progress->responseStarted = true;
        }
    }

    //! Buffers the whole body into out.
    QCoro::Task<void> readToEnd(QByteArray &out)
    {
        const StreamIdleGuard::Reading reading(m_idleGuard); // not idle while this reads
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
        // `this` is kept alive by the caller's shared_ptr for the whole call.
        const std::shared_ptr<HttpBodyStream> self = shared_from_this();
        if (m_idleClosed)
            throw ReadTimeout(QStringLiteral("the streamed response body was not read for %1 "
                                             "ms; its connection was closed")
                                      .arg(m_settings.timeout.streamIdle.count()),
                              m_url, QStringLiteral("stream idle"));
        {
            const StreamIdleGuard::Reading reading(m_idleGuard);
            while (m_pending.isEmpty() && !m_done) {
                const Step r = step(m_pending);
                if (r == Step::End)
                    break;
                if (r == Step::NeedData)
                    co_await fill();
            }
        }
        armIdleGuard();
        if (maxBytes <= 0 || m_pending.size() <= maxBytes)
            co_return std::exchange(m_pending, QByteArray());
        QByteArray piece = m_pending.first(maxBytes);
        m_pending.remove(0, maxBytes);
        co_return piece;
    }

    //! Reads and drops what arrives within the drain bounds, then lets the connection go:
    //! recycled when the body ended, closed otherwise.
    QCoro::Task<void> drain()
    {
        const std::shared_ptr<HttpBodyStream> self = shared_from_this();
        const auto until = Clock::now() + redirectDrainTime;
        QByteArray sink;
        try {
            while (!m_done && m_received <= redirectDrainBytes) {
                sink.clear();
                const Step r = step(sink);
                if (r == Step::End)
                    break;
                if (r == Step::Data)
                    continue;
                const auto left = duration_cast<milliseconds>(until - Clock::now());
                if (left <= milliseconds::zero())
                    break;
                milliseconds budget = left;
                const WaitBudget read = waitBudget(m_settings.timeout.read, m_settings, m_url);
                if (!Timeout::isNoLimit(read.wait))
                    budget = std::min(budget, read.wait);
                co_await fill(budget);
            }
        } catch (...) {
            // A failed drain costs the connection, never the redirect.
        }
        close();
    }

    void close() override
    {
        if (!m_done) {
            m_done = true;
            if (m_settings.cancel)
                m_settings.cancel->clearHandler();
            noteReleased(false);
            m_lease.discard();
        }
    }
    bool atEnd() const override { return m_done && m_pending.isEmpty(); }
    qint64 bytesReceived() const override { return m_received; }
    qint64 expectedSize() const override { return m_parser.contentLength(); }

    //! A streamed body nobody reads must not hold its connection (and pool slot) for ever:
    //! after Timeout::streamIdle without a read, the connection is closed and the next read
    //! fails with ReadTimeout.
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
    [[noreturn]] void closeAndThrowParseError()
    {
        noteReleased(false);
        m_lease.discard();
        m_done = true;
        throwParseError(m_parser, m_url);
    }

    [[noreturn]] void fail(const QString &error)
    {
        noteReleased(false);
        m_lease.discard();
        m_done = true;
        throw InvalidResponseError(QStringLiteral("cannot decode the response body: ") + error,
                                   m_url, m_decoder->errorDetail());
    }

    void finishConnection()
    {
        m_done = true;
        if (m_settings.cancel)
            m_settings.cancel->clearHandler(); // an abort from now on must not hit the pool
        m_idleGuard.stop();
        endedAt = Clock::now();
        if (CallTrace *trace = m_settings.trace.get()) {
            RequestEvent &e = trace->event(RequestEvent::Type::ResponseBodyEnd, endedAt);
            e.bytes = m_received;
            trace->emit(e);
        }

        // Bytes after the message that nobody asked for mean the connection is out of step;
        // "Keep-Alive: timeout=0" asks that it not be kept.
        const std::optional<milliseconds> keepAlive = keepAliveTimeout(m_parser.head().headers);
        if (m_parser.isReusable() && m_parser.unconsumed().isEmpty()
            && keepAlive.value_or(milliseconds(1)) > milliseconds::zero()) {
            if (AsyncConnection *c = m_lease.connection())
                c->setReadBufferLimit(0);
            noteReleased(true, endedAt);
            m_lease.recycle(keepAlive.value_or(milliseconds::zero()));
        } else {
            noteReleased(false, endedAt);
            m_lease.discard();
        }
    }

    ConnectionLease m_lease;
    ResponseParser m_parser;
    std::unique_ptr<Decompressor> m_decoder;
    ExchangeSettings m_settings;
    QUrl m_url;
    QByteArray m_pending;
    StreamIdleGuard m_idleGuard;
    qint64 m_received = 0;
    bool m_done = false;
    bool m_idleClosed = false;
};

// Every wait's budget goes to *last, so that the caller can tell a write timeout from the end
// of the total deadline.
QCoro::Task<void> writeBody(AsyncConnection *c, const Body &body, const ExchangeSettings &s,
                            const QUrl &url, WaitBudget *last)
{
    const bool chunked = body.size() < 0;
    qint64 sent = 0;
    const auto send = [&](const QByteArray &data) -> QCoro::Task<void> {
        if (chunked) {
            QByteArray framed;
            framed.reserve(data.size() + 16);
            Protocol::RequestWriter::appendChunk(framed, data);
            co_await c->write(framed, (*last = waitBudget(s.timeout.write, s, url)).wait);
        } else {
            co_await c->write(data, (*last = waitBudget(s.timeout.write, s, url)).wait);
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
        // Waits for a pausing producer on the event loop; an abort ends the wait too.
        DeviceSource source(device);
        const std::shared_ptr<CancelToken> &cancel = s.cancel;
        if (cancel)
            cancel->setHandler([c = QPointer<AsyncConnection>(c),
                                src = QPointer<DeviceSource>(&source)] {
                if (src)
                    src->wake();
                if (c)
                    c->abort();
            });
        const auto restoreHandler = qScopeGuard([&cancel, c] {
            if (cancel)
                cancel->setHandler(abortHandler(c));
        });
        qint64 left = body.size();
        while (left != 0) {
            const qint64 want = left < 0 ? uploadBlockBytes : std::min(left, uploadBlockBytes);
            *last = waitBudget(s.timeout.write, s, url);
            const QByteArray block = co_await source.next(want, last->wait, url);
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
    case Body::Kind::Multipart: {
        // As a device: its files are read block by block, its devices waited for.
        MultipartSource source(*body.multipart(), url);
        const std::shared_ptr<CancelToken> &cancel = s.cancel;
        if (cancel)
            cancel->setHandler([c = QPointer<AsyncConnection>(c), src = &source] {
                src->wake();
                if (c)
                    c->abort();
            });
        const auto restoreHandler = qScopeGuard([&cancel, c] {
            if (cancel)
                cancel->setHandler(abortHandler(c));
        });
        while (true) {
            *last = waitBudget(s.timeout.write, s, url);
            const QByteArray block = co_await source.next(uploadBlockBytes, last->wait);
            if (block.isEmpty())
                break;
            co_await send(block);
        }
        break;
    }
    }
    if (chunked) {
        QByteArray lastChunk;
        Protocol::RequestWriter::appendLastChunk(lastChunk);
        co_await c->write(lastChunk, (*last = waitBudget(s.timeout.write, s, url)).wait);
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
    const bool stream = settings.stream;
    // From here on the exchange owns the lease: closing it (on any error) discards the
    // connection, reading the body to its end recycles it.
    const auto exchange = std::make_shared<HttpBodyStream>(std::move(lease), std::move(settings),
                                                           url);
    const ExchangeSettings &s = exchange->settings();
    exchange->attemptStart = s.attemptStart;
    ResponseParser &parser = exchange->parser();
    const std::shared_ptr<CancelToken> &cancel = s.cancel;
    if (cancel) {
        cancel->check(url);
        cancel->setHandler(abortHandler(c)); // until the body ends or the exchange fails
    }

    // A streamed body's memory is bounded by its reader from the first read on: the read for
    // the head could otherwise pull in megabytes of body. Lifted when the body ends.
    if (stream || s.redirectsFollowed)
        c->setReadBufferLimit(AsyncConnection::readBufferBytes);

    // --- send ------------------------------------------------------------------------------
    WaitBudget lastWrite; // the budget of the write in progress
    try {
        if (body.isEmpty()) {
            co_await c->write(head, (lastWrite = waitBudget(s.timeout.write, s, url)).wait);
        } else if (body.kind() == Body::Kind::Bytes && body.bytes().size() <= coalesceBodyBytes) {
            head.append(body.bytes());
            co_await c->write(head, (lastWrite = waitBudget(s.timeout.write, s, url)).wait);
            if (s.uploadProgress)
                s.uploadProgress(body.size(), body.size());
        } else {
            co_await c->write(head, (lastWrite = waitBudget(s.timeout.write, s, url)).wait);
            co_await writeBody(c, body, s, url, &lastWrite);
        }
        if (cancel)
            cancel->check(url);
    } catch (...) {
        exchange->close();
        if (cancel)
            cancel->check(url);
        rethrowAsTotalTimeout(lastWrite, s, url);
        throw;
    }
    Timings timings = s.phases;
    const Clock::time_point sent = Clock::now();
    timings.requestSent = sinceAttemptStart(s, sent);
    if (CallTrace *trace = s.trace.get()) {
        trace->emit(RequestEvent::Type::RequestHeadSent, sent);
        if (!body.isEmpty()) {
            RequestEvent &e = trace->event(RequestEvent::Type::RequestBodySent, sent);
            e.bytes = body.size();
            trace->emit(e);
        }
    }

    // --- read the head ----------------------------------------------------------------------
    parser.setRequestMethod(method);
    parser.setUpgradeRequested(s.upgradeRequested);
    co_await exchange->readHead(progress);
    const Clock::time_point headAt = Clock::now();
    timings.ttfb = sinceAttemptStart(s, headAt);

    const Protocol::ResponseHead &h = parser.head();
    Response response;
    response.setStatus(h.status, h.reason);
    response.setHttpVersion(h.versionMinor);
    response.setHeaders(h.headers);
    response.setMethod(method);
    response.setUrl(url);
    response.setConnectionReused(reused);
    if (CallTrace *trace = s.trace.get()) {
        RequestEvent &e = trace->event(RequestEvent::Type::ResponseHeadReceived, headAt);
        e.status = h.status;
        e.httpVersion = response.httpVersion();
        trace->emit(e);
    }

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

    // A redirect that may be followed goes back with its body unread: the redirect stage
    // decides whether to follow (then drains it, bounded) or to hand it to the caller.
    const bool redirect = s.redirectsFollowed && hasBody && isFollowableRedirect(h.status)
            && h.headers.contains("location");
    if (stream || redirect) {
        response.setElapsed(duration_cast<milliseconds>(Clock::now() - started));
        response.setTimings(timings); // the total comes from the stream when it ends
        response.setBodyStream(exchange);
        if (stream)
            exchange->armIdleGuard(); // a redirect kept back is read or drained right away
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
    timings.total = sinceAttemptStart(s, exchange->endedAt);
    response.setTimings(timings);
    co_return response;
}

QCoro::Task<void> drainRedirectBody(std::shared_ptr<BodyStream> body)
{
    if (auto *http = dynamic_cast<HttpBodyStream *>(body.get()))
        co_await http->drain();
    else if (body)
        body->close();
}

QCoro::Task<QByteArray> readWholeBody(std::shared_ptr<BodyStream> body)
{
    QByteArray all;
    if (auto *http = dynamic_cast<HttpBodyStream *>(body.get())) {
        co_await http->readToEnd(all);
        co_return all;
    }
    while (body && !body->atEnd())
        all += co_await body->read(0);
    co_return all;
}

} // namespace Reqivo::Client
