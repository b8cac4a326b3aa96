// MockServer's HTTP/2 connection handler: the server side of libnghttp2 on a socket that the
// server core hands over (createHttp2Handler(), declared in mockserver_p.h, which also states the
// lifetime rules followed here).
//
//   QObject *createHttp2Handler(MockServerCore &core, QTcpSocket *socket,
//                               MockConnectionInfo info, QByteArray alreadyRead, QObject *parent);
//
// The core calls it for a TLS connection that chose "h2" by ALPN, or for a cleartext one that
// starts with the client preface (prior knowledge; alreadyRead holds the bytes read so far, the
// preface included). The handler sends its SETTINGS, turns every stream's request into a
// RecordedRequest (httpVersion "HTTP/2"; :method and :path become method and target, :authority
// a Host field unless one came too, indexOnConnection in stream order), asks core.respond() for
// the answer and sends it as HEADERS + DATA within the client's flow-control windows.
//
// A response's faults over HTTP/2 (docs/testing.md, "HTTP/2"):
//  * headDelay: per stream, before its HEADERS (other streams go on meanwhile);
//  * throttleBody(bytes, period): DATA of at most `bytes`, one piece every period;
//  * setChunkedBody(body, size): DATA frames of at most `size` bytes (HTTP/2 has no chunking);
//  * disconnectAfter(n): the TCP connection closes after n bytes of that stream's DATA payload
//    (the head is not counted: HPACK makes its size meaningless), without GOAWAY;
//  * Fault::Stall: no response, the stream stays open;
//  * Fault::Reset: RST_STREAM(INTERNAL_ERROR) on the stream; the connection and the other
//    streams go on;
//  * Fault::CloseBeforeHead: GOAWAY(NO_ERROR, the last stream processed) and the TCP connection
//    closes: the stream ends without a response;
//  * an event stream: its events are sent as DATA as their delays pass (keepOpen: the stream
//    stays open after them);
//  * a WebSocket script: RST_STREAM(HTTP_1_1_REQUIRED) (WebSockets need an HTTP/1.1 upgrade).
// Every delay is a QTimer on this handler: nothing blocks.
#include "mockserver_p.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

namespace Reqivo::Testing::detail {

namespace {

// libnghttp2 1.60 added the nghttp2_ssize ("...2") functions and deprecated the ssize_t ones;
// Debian 12 ships 1.52, which has only the latter (as in src/protocol/http2session.cpp).
#if NGHTTP2_VERSION_NUM >= 0x013c00
using NgSize = nghttp2_ssize;
using NgDataProvider = nghttp2_data_provider2;
inline NgSize ngMemRecv(nghttp2_session *s, const uint8_t *in, size_t len)
{
    return nghttp2_session_mem_recv2(s, in, len);
}
inline NgSize ngMemSend(nghttp2_session *s, const uint8_t **out)
{
    return nghttp2_session_mem_send2(s, out);
}
inline int ngSubmitResponse(
    nghttp2_session *s, int32_t id, const nghttp2_nv *nva, size_t n, const NgDataProvider *body)
{
    return nghttp2_submit_response2(s, id, nva, n, body);
}
#else
using NgSize = ssize_t;
using NgDataProvider = nghttp2_data_provider;
inline NgSize ngMemRecv(nghttp2_session *s, const uint8_t *in, size_t len)
{
    return nghttp2_session_mem_recv(s, in, len);
}
inline NgSize ngMemSend(nghttp2_session *s, const uint8_t **out)
{
    return nghttp2_session_mem_send(s, out);
}
inline int ngSubmitResponse(
    nghttp2_session *s, int32_t id, const nghttp2_nv *nva, size_t n, const NgDataProvider *body)
{
    return nghttp2_submit_response(s, id, nva, n, body);
}
#endif

// Output is produced while less than this waits in the socket: a big body is not turned into
// frames all at once.
constexpr qint64 outputHighWater = 256 * 1024;
// The SETTINGS_MAX_CONCURRENT_STREAMS the server announces.
constexpr uint32_t maxConcurrentStreams = 256;

// RFC 9113 §8.2.2: fields that must not appear on an HTTP/2 stream.
bool isConnectionSpecific(const QByteArray &lowerName)
{
    return lowerName == "connection" || lowerName == "keep-alive" || lowerName == "proxy-connection"
        || lowerName == "transfer-encoding" || lowerName == "upgrade";
}

// One event in text/event-stream form (the HTML standard's syntax).
QByteArray formatEvent(const MockEvent &event)
{
    QByteArray out;
    if (event.data.isEmpty() && !event.comment.isEmpty()) {
        for (const QByteArray &line : event.comment.split('\n'))
            out += ": " + line + '\n';
        out += '\n';
        return out;
    }
    if (!event.comment.isEmpty()) {
        for (const QByteArray &line : event.comment.split('\n'))
            out += ": " + line + '\n';
    }
    if (!event.event.isEmpty())
        out += "event: " + event.event + '\n';
    if (!event.id.isEmpty())
        out += "id: " + event.id + '\n';
    if (event.retryMs >= 0)
        out += "retry: " + QByteArray::number(event.retryMs) + '\n';
    for (const QByteArray &line : event.data.split('\n'))
        out += "data: " + line + '\n';
    out += '\n';
    return out;
}

class Http2Handler : public QObject
{
public:
    Http2Handler(MockServerCore &core, QTcpSocket *socket, MockConnectionInfo info,
        QByteArray alreadyRead, QObject *parent);
    ~Http2Handler() override;

private:
    struct Stream
    {
        RecordedRequest request;
        bool requestDone = false; // END_STREAM received: dispatched (or queued to be)
        bool responding = false; // the response's HEADERS were submitted with a body
        // The response body: bytes not yet taken by the data provider are out[outPos..].
        QByteArray out;
        qsizetype outPos = 0;
        bool bodyEnd = false; // nothing more will be appended to out
        bool deferred = false; // the data provider said NGHTTP2_ERR_DEFERRED
        qsizetype pieceBytes = 0; // DATA at most this big (0: as flow control allows)
        qsizetype throttleBytes = 0;
        std::chrono::milliseconds throttlePeriod {0};
        qsizetype allowance = 0; // throttled bytes still allowed in this period
        bool refillPending = false;
        qint64 disconnectAfter = -1;
        qint64 sent = 0;
        // An event stream.
        QList<MockEvent> events;
        qsizetype nextEvent = 0;
        bool keepOpen = false;
        bool eventTimerPending = false;
        bool eventDelayDone = false;
    };

    void start(QByteArray alreadyRead);
    void onReadyRead();
    void receive(const QByteArray &bytes);
    void dispatchReady();
    void respondTo(qint32 id, const MockResponse &response);
    void submitResponse(qint32 id, const MockResponse &response);
    void feedEvents(qint32 id);
    void resume(qint32 id);
    void flush();
    void closeConnection();
    void finish();
    Stream *find(qint32 id);

    static Http2Handler *of(void *userData) { return static_cast<Http2Handler *>(userData); }
    static int onBeginHeaders(nghttp2_session *, const nghttp2_frame *frame, void *userData);
    static int onHeader(nghttp2_session *, const nghttp2_frame *frame, const uint8_t *name,
        size_t nameLen, const uint8_t *value, size_t valueLen, uint8_t, void *userData);
    static int onDataChunk(
        nghttp2_session *, uint8_t, int32_t id, const uint8_t *data, size_t len, void *userData);
    static int onFrameRecv(nghttp2_session *, const nghttp2_frame *frame, void *userData);
    static int onStreamClose(nghttp2_session *, int32_t id, uint32_t, void *userData);
    static NgSize onRead(nghttp2_session *, int32_t id, uint8_t *buf, size_t length,
        uint32_t *flags, nghttp2_data_source *, void *userData);

    MockServerCore &m_core;
    QPointer<QTcpSocket> m_socket;
    MockConnectionInfo m_info;
    nghttp2_session *m_session = nullptr;
    std::map<qint32, Stream> m_streams;
    std::vector<qint32> m_ready; // streams whose request is complete, to dispatch
    int m_nextIndex = 0; // indexOnConnection of the next stream
    bool m_started = false;
    bool m_busy = false; // inside receive(): a nested readyRead waits
    bool m_readPending = false;
    bool m_disconnectPending = false; // disconnectAfter reached: close after this frame
    bool m_closeAfterOutput = false; // GOAWAY sent: write what is queued, then close
    bool m_closing = false;
};

Http2Handler::Http2Handler(MockServerCore &core, QTcpSocket *socket, MockConnectionInfo info,
    QByteArray alreadyRead, QObject *parent)
    : QObject(parent)
    , m_core(core)
    , m_socket(socket)
    , m_info(info)
{
    socket->setParent(this);

    nghttp2_session_callbacks *callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &onBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &onHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &onDataChunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &onFrameRecv);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &onStreamClose);
    nghttp2_session_server_new(&m_session, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    // The server's connection preface: its SETTINGS must be the first frame it sends, before
    // the ACK of the client's (which a readyRead before start() would otherwise queue first).
    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, maxConcurrentStreams},
    };
    if (m_session)
        nghttp2_submit_settings(m_session, NGHTTP2_FLAG_NONE, settings, std::size(settings));

    connect(socket, &QTcpSocket::readyRead, this, &Http2Handler::onReadyRead);
    connect(socket, &QTcpSocket::bytesWritten, this, &Http2Handler::flush);
    connect(socket, &QTcpSocket::disconnected, this, &Http2Handler::finish);

    // Started from the event loop, so that the core's call returns first.
    QTimer::singleShot(0, this, [this, bytes = std::move(alreadyRead)] { start(bytes); });
}

Http2Handler::~Http2Handler()
{
    if (m_socket) {
        QObject::disconnect(m_socket, nullptr, this, nullptr);
        m_socket->abort();
    }
    if (m_session)
        nghttp2_session_del(m_session);
}

void Http2Handler::start(QByteArray alreadyRead)
{
    if (!m_session || !m_socket || m_socket->state() != QAbstractSocket::ConnectedState) {
        finish();
        return;
    }
    m_started = true;
    alreadyRead += m_socket->readAll();
    receive(alreadyRead);
}

Http2Handler::Stream *Http2Handler::find(qint32 id)
{
    const auto it = m_streams.find(id);
    return it == m_streams.end() ? nullptr : &it->second;
}

void Http2Handler::onReadyRead()
{
    if (!m_socket || m_closing || !m_started) // start() reads what came before it
        return;
    if (m_busy) { // respond() ran an event loop: read once it returns
        m_readPending = true;
        return;
    }
    receive(m_socket->readAll());
}

void Http2Handler::receive(const QByteArray &bytes)
{
    m_busy = true;
    QByteArray input = bytes;
    for (;;) {
        if (!input.isEmpty()) {
            const NgSize n = ngMemRecv(m_session,
                reinterpret_cast<const uint8_t *>(input.constData()), size_t(input.size()));
            if (n < 0) { // a fatal error (a bad preface, out of memory): nothing more to say
                m_busy = false;
                m_closeAfterOutput = true;
                flush();
                return;
            }
        }
        dispatchReady();
        if (!m_readPending || !m_socket || m_closing)
            break;
        m_readPending = false;
        input = m_socket->readAll();
    }
    m_busy = false;
    flush();
}

void Http2Handler::dispatchReady()
{
    while (!m_ready.empty()) {
        const qint32 id = m_ready.front();
        m_ready.erase(m_ready.begin());
        Stream *s = find(id);
        if (!s)
            continue; // reset by the client meanwhile
        const MockResponse response = m_core.respond(s->request);
        if (m_closing)
            return;
        respondTo(id, response);
    }
}

void Http2Handler::respondTo(qint32 id, const MockResponse &response)
{
    if (response.headDelay() > std::chrono::milliseconds(0)) {
        QTimer::singleShot(response.headDelay(), this, [this, id, response] {
            if (m_closing || !find(id))
                return;
            submitResponse(id, response);
            flush();
        });
        return;
    }
    submitResponse(id, response);
}

void Http2Handler::submitResponse(qint32 id, const MockResponse &response)
{
    Stream *s = find(id);
    if (!s)
        return;
    switch (response.fault()) {
    case MockResponse::Fault::Stall:
        return;
    case MockResponse::Fault::Reset:
        nghttp2_submit_rst_stream(m_session, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
        return;
    case MockResponse::Fault::CloseBeforeHead:
        nghttp2_submit_goaway(m_session, NGHTTP2_FLAG_NONE,
            nghttp2_session_get_last_proc_stream_id(m_session), NGHTTP2_NO_ERROR, nullptr, 0);
        m_closeAfterOutput = true;
        return;
    case MockResponse::Fault::None:
        break;
    }
    if (response.webSocketScript()) {
        nghttp2_submit_rst_stream(m_session, NGHTTP2_FLAG_NONE, id, NGHTTP2_HTTP_1_1_REQUIRED);
        return;
    }

    const int status = response.status();
    const bool eventStream = response.isEventStream();
    const bool noBody = s->request.method == "HEAD" || status == 204 || status == 304
        || (status >= 100 && status < 200);

    // The head: :status, then the fields in lower case without the connection-specific ones,
    // and a content-length for a body of known size when none was given.
    QList<std::pair<QByteArray, QByteArray>> fields;
    fields.append({QByteArrayLiteral(":status"), QByteArray::number(status)});
    bool hasLength = false;
    for (const auto &[name, value] : response.headers()) {
        const QByteArray lower = name.toLower();
        if (isConnectionSpecific(lower))
            continue;
        hasLength = hasLength || lower == "content-length";
        fields.append({lower, value});
    }
    if (!hasLength && !eventStream && status != 204 && status != 304 && status >= 200)
        fields.append(
            {QByteArrayLiteral("content-length"), QByteArray::number(response.body().size())});
    std::vector<nghttp2_nv> nva;
    nva.reserve(size_t(fields.size()));
    for (auto &[name, value] : fields) {
        nva.push_back(nghttp2_nv {reinterpret_cast<uint8_t *>(name.data()),
            reinterpret_cast<uint8_t *>(value.data()), size_t(name.size()), size_t(value.size()),
            NGHTTP2_NV_FLAG_NONE});
    }

    s->disconnectAfter = response.disconnectAfterBytes();
    if (noBody || (!eventStream && response.body().isEmpty() && s->disconnectAfter < 0)) {
        ngSubmitResponse(m_session, id, nva.data(), nva.size(), nullptr);
        if (s->disconnectAfter >= 0)
            m_disconnectPending = true;
        return;
    }
    s->responding = true;
    s->out = response.body();
    s->pieceBytes = response.chunkSize();
    s->throttleBytes = response.throttleBytes();
    s->throttlePeriod = response.throttlePeriod();
    s->allowance = s->throttleBytes;
    if (eventStream) {
        s->events = response.events();
        s->keepOpen = response.keepsStreamOpen();
    } else {
        s->bodyEnd = true;
    }
    NgDataProvider provider {};
    provider.read_callback = &onRead;
    ngSubmitResponse(m_session, id, nva.data(), nva.size(), &provider);
    if (eventStream)
        feedEvents(id);
}

// Appends the events whose delay has passed; waits (a timer) for the next delayed one.
void Http2Handler::feedEvents(qint32 id)
{
    Stream *s = find(id);
    if (!s || s->eventTimerPending)
        return;
    while (s->nextEvent < s->events.size()) {
        const MockEvent &event = s->events.at(s->nextEvent);
        if (event.delay > std::chrono::milliseconds(0) && !s->eventDelayDone) {
            s->eventTimerPending = true;
            QTimer::singleShot(event.delay, this, [this, id] {
                Stream *st = find(id);
                if (!st || m_closing)
                    return;
                st->eventTimerPending = false;
                st->eventDelayDone = true;
                feedEvents(id);
                flush();
            });
            resume(id);
            return;
        }
        s->eventDelayDone = false;
        s->out += formatEvent(event);
        ++s->nextEvent;
    }
    if (!s->keepOpen)
        s->bodyEnd = true;
    resume(id);
}

void Http2Handler::resume(qint32 id)
{
    Stream *s = find(id);
    if (s && s->deferred) {
        s->deferred = false;
        nghttp2_session_resume_data(m_session, id);
    }
}

NgSize Http2Handler::onRead(nghttp2_session *, int32_t id, uint8_t *buf, size_t length,
    uint32_t *flags, nghttp2_data_source *, void *userData)
{
    Http2Handler *h = of(userData);
    Stream *s = h->find(id);
    if (!s)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; // resets the stream
    qint64 n = std::min<qint64>(qint64(length), s->out.size() - s->outPos);
    if (s->pieceBytes > 0)
        n = std::min<qint64>(n, s->pieceBytes);
    if (s->throttleBytes > 0)
        n = std::min<qint64>(n, s->allowance);
    if (s->disconnectAfter >= 0)
        n = std::min<qint64>(n, s->disconnectAfter - s->sent);
    if (n > 0) {
        std::memcpy(buf, s->out.constData() + s->outPos, size_t(n));
        s->outPos += n;
        s->sent += n;
        if (s->throttleBytes > 0)
            s->allowance -= n;
        if (s->outPos == s->out.size()) {
            s->out.clear();
            s->outPos = 0;
        } else if (s->outPos >= 64 * 1024 && s->outPos * 2 >= s->out.size()) {
            s->out.remove(0, s->outPos);
            s->outPos = 0;
        }
    }
    const bool allSent = s->bodyEnd && s->outPos == s->out.size();
    if (s->disconnectAfter >= 0 && (allSent || s->sent >= s->disconnectAfter)) {
        // The connection closes once this frame is written (flush()); the stream stays open.
        h->m_disconnectPending = true;
        if (n > 0)
            return NgSize(n);
        s->deferred = true;
        return NGHTTP2_ERR_DEFERRED;
    }
    if (allSent) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        return NgSize(n);
    }
    if (n > 0)
        return NgSize(n);
    if (s->throttleBytes > 0 && s->allowance == 0 && !s->refillPending) {
        s->refillPending = true;
        QTimer::singleShot(s->throttlePeriod, h, [h, id] {
            Stream *st = h->find(id);
            if (!st || h->m_closing)
                return;
            st->refillPending = false;
            st->allowance = st->throttleBytes;
            h->resume(id);
            h->flush();
        });
    }
    s->deferred = true;
    return NGHTTP2_ERR_DEFERRED;
}

void Http2Handler::flush()
{
    if (!m_socket || m_closing || !m_session || m_busy || !m_started)
        return;
    while (!m_disconnectPending
        && (m_closeAfterOutput || m_socket->bytesToWrite() < outputHighWater)) {
        const uint8_t *data = nullptr;
        const NgSize n = ngMemSend(m_session, &data);
        if (n < 0) {
            m_closeAfterOutput = true;
            break;
        }
        if (n == 0)
            break;
        m_socket->write(reinterpret_cast<const char *>(data), qint64(n));
    }
    if (m_disconnectPending || m_closeAfterOutput
        || (!nghttp2_session_want_read(m_session) && !nghttp2_session_want_write(m_session)))
        closeConnection();
}

void Http2Handler::closeConnection()
{
    if (m_closing || !m_socket)
        return;
    m_closing = true;
    // Writes what is pending, then closes (disconnected() follows: finish()).
    m_socket->disconnectFromHost();
    if (m_socket->state() == QAbstractSocket::UnconnectedState)
        finish();
}

void Http2Handler::finish()
{
    m_closing = true;
    deleteLater();
}

int Http2Handler::onBeginHeaders(nghttp2_session *, const nghttp2_frame *frame, void *userData)
{
    Http2Handler *h = of(userData);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    Stream &s = h->m_streams[frame->hd.stream_id];
    s.request.httpVersion = QByteArrayLiteral("HTTP/2");
    s.request.tls = h->m_info.tls;
    s.request.connectionIndex = h->m_info.connectionIndex;
    s.request.indexOnConnection = h->m_nextIndex++;
    return 0;
}

int Http2Handler::onHeader(nghttp2_session *, const nghttp2_frame *frame, const uint8_t *name,
    size_t nameLen, const uint8_t *value, size_t valueLen, uint8_t, void *userData)
{
    Http2Handler *h = of(userData);
    Stream *s = h->find(frame->hd.stream_id);
    if (frame->hd.type != NGHTTP2_HEADERS || !s || s->requestDone)
        return 0;
    const QByteArray n(reinterpret_cast<const char *>(name), qsizetype(nameLen));
    const QByteArray v(reinterpret_cast<const char *>(value), qsizetype(valueLen));
    if (n == ":method") {
        s->request.method = v;
    } else if (n == ":path") {
        s->request.target = v;
    } else if (n == ":authority") {
        if (!s->request.hasHeader("host"))
            s->request.headers.prepend({QByteArrayLiteral("host"), v});
    } else if (!n.startsWith(':')) {
        if (n == "host") // the field itself wins over :authority
            s->request.headers.removeIf([](const auto &f) { return f.first == "host"; });
        s->request.headers.append({n, v});
    }
    return 0;
}

int Http2Handler::onDataChunk(
    nghttp2_session *, uint8_t, int32_t id, const uint8_t *data, size_t len, void *userData)
{
    if (Stream *s = of(userData)->find(id); s && !s->requestDone)
        s->request.body.append(reinterpret_cast<const char *>(data), qsizetype(len));
    return 0;
}

int Http2Handler::onFrameRecv(nghttp2_session *, const nghttp2_frame *frame, void *userData)
{
    Http2Handler *h = of(userData);
    if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
        || !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    Stream *s = h->find(frame->hd.stream_id);
    if (!s || s->requestDone)
        return 0;
    s->requestDone = true;
    h->m_ready.push_back(frame->hd.stream_id);
    return 0;
}

int Http2Handler::onStreamClose(nghttp2_session *, int32_t id, uint32_t, void *userData)
{
    of(userData)->m_streams.erase(id);
    return 0;
}

} // namespace

QObject *createHttp2Handler(MockServerCore &core, QTcpSocket *socket, MockConnectionInfo info,
    QByteArray alreadyRead, QObject *parent)
{
    return new Http2Handler(core, socket, info, std::move(alreadyRead), parent);
}

} // namespace Reqivo::Testing::detail
