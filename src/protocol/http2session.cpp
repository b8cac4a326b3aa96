// Http2::ClientSession on libnghttp2: see http2session.h for the contract.
//
// libnghttp2 does the framing, HPACK, stream states, flow-control accounting and the RFC 9113
// §8 message checks ("HTTP messaging", left on); this file maps its callbacks onto events,
// keeps the request bodies, enforces Reqivo's Limits and bounds what a hostile server can make
// us hold. Everything happens inside receive() and takeOutput(): nghttp2 calls back
// synchronously from nghttp2_session_mem_recv() and nghttp2_session_mem_send().
//
// Memory bounds, for a server that sends anything at all:
//  * body bytes: a stream's window (Settings::streamWindowBytes) is given back only by
//    consume(), so what the events of one stream hold is at most its window (nghttp2 ends the
//    session with FLOW_CONTROL_ERROR beyond it); Data events of one stream are merged while
//    they wait, so tiny DATA frames cost no more than their bytes;
//  * header sections: at most Limits::maxHeaderBytes are kept; a section that goes on far
//    beyond it (hardSectionBytes(), counted on the decoded fields and on the encoded block) or
//    spans too many CONTINUATION frames ends the session;
//  * control frames: SETTINGS and GOAWAY events are coalesced while they wait, PING ACKs
//    become events only for our own PINGs, and the ACKs nghttp2 queues for the server's PINGs
//    and SETTINGS are bounded by nghttp2_option_set_max_outbound_ack (a flood ends the session
//    with NGHTTP2_ERR_FLOODED).
#include "http2session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace Reqivo::Protocol::Http2 {

namespace {

// --- libnghttp2 version shim -----------------------------------------------------------------
// libnghttp2 1.60 added the nghttp2_ssize ("...2") functions and deprecated the ssize_t ones.
// Debian 12 ships 1.52, which has only the latter; only the names below differ.
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
inline int32_t ngSubmitRequest(
    nghttp2_session *s, const nghttp2_nv *nva, size_t n, const NgDataProvider *body)
{
    return nghttp2_submit_request2(s, nullptr, nva, n, body, nullptr);
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
inline int32_t ngSubmitRequest(
    nghttp2_session *s, const nghttp2_nv *nva, size_t n, const NgDataProvider *body)
{
    return nghttp2_submit_request(s, nullptr, nva, n, body, nullptr);
}
#endif

// PING and SETTINGS ACKs nghttp2 may queue before takeOutput() drains them (its default).
constexpr size_t maxOutboundAck = 1000;
// SETTINGS entries accepted in one frame (nghttp2's default; real servers send a handful).
constexpr size_t maxSettingsEntries = 32;
// Before the server's SETTINGS arrive, RFC 9113 §6.5.2 suggests assuming at least 100.
constexpr uint32_t assumedPeerConcurrentStreams = 100;
// A GOAWAY's debug data kept in the event: enough for any diagnostic.
constexpr qsizetype maxGoAwayDebugBytes = 1024;
// NGHTTP2_ERR_TOO_MANY_CONTINUATIONS: libnghttp2 1.61 added it (its CONTINUATION flood limit),
// and distributions backported it to older versions (Debian 12's 1.52.0-1+deb12u3). It is an
// enumerator, so it cannot be tested for with the preprocessor; the value is stable ABI.
constexpr int libErrTooManyContinuations = -905;

QString libErrorText(int lib)
{
    return QString::fromUtf8(nghttp2_strerror(lib));
}

// The RFC 9113 code for a libnghttp2 error (what its GOAWAY carries, roughly).
quint32 codeOfLibError(int lib)
{
    switch (lib) {
    case NGHTTP2_ERR_FLOODED:
    case libErrTooManyContinuations:
        return EnhanceYourCalm;
    case NGHTTP2_ERR_HEADER_COMP:
        return CompressionError;
    case NGHTTP2_ERR_FLOW_CONTROL:
        return FlowControlError;
    case NGHTTP2_ERR_FRAME_SIZE_ERROR:
        return FrameSizeError;
    case NGHTTP2_ERR_NOMEM:
    case NGHTTP2_ERR_CALLBACK_FAILURE:
    case NGHTTP2_ERR_INTERNAL:
        return InternalError;
    default:
        return ProtocolErrorCode;
    }
}

// RFC 9113 §8.2.2: fields that make no sense on an HTTP/2 stream. (TE is handled apart.)
bool isConnectionSpecific(QByteArrayView lowerName)
{
    return lowerName == "connection" || lowerName == "keep-alive" || lowerName == "proxy-connection"
        || lowerName == "transfer-encoding" || lowerName == "upgrade" || lowerName == "host";
}

QByteArrayView trimmed(QByteArrayView v)
{
    while (!v.isEmpty() && (v.front() == ' ' || v.front() == '\t'))
        v = v.sliced(1);
    while (!v.isEmpty() && (v.back() == ' ' || v.back() == '\t'))
        v.chop(1);
    return v;
}

} // namespace

QString errorCodeName(quint32 code)
{
    switch (code) {
    case NoError:
        return QStringLiteral("NO_ERROR");
    case ProtocolErrorCode:
        return QStringLiteral("PROTOCOL_ERROR");
    case InternalError:
        return QStringLiteral("INTERNAL_ERROR");
    case FlowControlError:
        return QStringLiteral("FLOW_CONTROL_ERROR");
    case SettingsTimeout:
        return QStringLiteral("SETTINGS_TIMEOUT");
    case StreamClosed:
        return QStringLiteral("STREAM_CLOSED");
    case FrameSizeError:
        return QStringLiteral("FRAME_SIZE_ERROR");
    case RefusedStream:
        return QStringLiteral("REFUSED_STREAM");
    case Cancel:
        return QStringLiteral("CANCEL");
    case CompressionError:
        return QStringLiteral("COMPRESSION_ERROR");
    case ConnectError:
        return QStringLiteral("CONNECT_ERROR");
    case EnhanceYourCalm:
        return QStringLiteral("ENHANCE_YOUR_CALM");
    case InadequateSecurity:
        return QStringLiteral("INADEQUATE_SECURITY");
    case Http11Required:
        return QStringLiteral("HTTP_1_1_REQUIRED");
    }
    return QStringLiteral("0x%1").arg(code, 0, 16);
}

struct ClientSession::Private
{
    struct Stream
    {
        // Request body (hasBody): chunks not yet read by nghttp2's data provider.
        bool hasBody = false;
        bool bodyEnded = false;
        bool bodyWantedQueued = false; // a BodyWanted is out since the last appendBody()
        std::deque<QByteArray> body;
        qsizetype bodyOffset = 0; // into body.front()
        qint64 queued = 0;
        // Response.
        bool isHead = false; // a HEAD request: no body comes
        bool finalHead = false;
        bool done = false; // End or Reset queued, or resetStream(): no more events
        bool peerReset = false;
        quint32 peerResetCode = NoError;
        int interim = 0;
        qint64 received = 0; // body bytes delivered (Limits::maxBodyBytes)
        qint64 arrived = 0; // DATA payload received, delivered or not (flow control)
        qint64 consumed = 0; // given back by consume()
        qint64 dataSeq = -1; // the waiting Data event of this stream (see pushData())
    };

    // The header block being received (one at a time: CONTINUATION frames must follow their
    // HEADERS without anything in between).
    struct Section
    {
        qint32 stream = 0;
        bool ignore = false; // not for a live stream, or a limit was hit
        bool trailers = false;
        qint64 bytes = 0; // RFC 9113 §6.5.2 size of the fields decoded so far
        qint64 fields = 0; // regular fields
        int status = 0;
        Headers headers;
    };

    Limits limits;
    Settings settings;
    qint64 streamWindow = 0; // our SETTINGS_INITIAL_WINDOW_SIZE
    nghttp2_session *session = nullptr;
    // Frames written out when libnghttp2 terminated the session (failFromTermination()),
    // returned first by takeOutput().
    QByteArray pendingOutput;
    bool draining = false;
    bool goAwayCodeKnown = false;
    quint32 goAwayCodeSent = NoError;

    std::unordered_map<qint32, Stream> streams;
    std::deque<Event> events;
    qint64 firstSeq = 0; // sequence number of events.front()
    qint64 settingsSeq = -1; // the waiting Settings event
    qint64 goAwaySeq = -1; // the waiting GoAway event

    Section section;
    qint32 endCheckStream = 0; // see checkRejectedEnd()
    int blockContinuations = 0;
    qint64 blockEncodedBytes = 0;

    bool valid = false;
    bool localFailed = false; // a connection error found here: receive() returns false
    bool failed = false; // hasFailed()
    bool eof = false;
    bool goAwaySent = false;
    bool goAwayReceived = false;
    qint32 goAwayLastStreamId = 0;
    int pingsOut = 0;
    quint32 errorCode = NoError;
    QString errorMessage;

    // Why a callback asked nghttp2 to give up (NGHTTP2_ERR_CALLBACK_FAILURE).
    quint32 abortCode = NoError;
    QString abortMessage;
    // What nghttp2 last reported (error callback, invalid frame): the cause of a termination
    // that mem_recv does not return as an error.
    int lastLibError = 0;
    QByteArray lastLibMessage;

    Private(const Limits &l, const Settings &s)
        : limits(l)
        , settings(s)
    {
    }
    ~Private()
    {
        if (session)
            nghttp2_session_del(session);
    }

    static Private *of(void *userData) { return static_cast<Private *>(userData); }

    Stream *find(qint32 id)
    {
        const auto it = streams.find(id);
        return it == streams.end() ? nullptr : &it->second;
    }

    // The decoded size past which a header section is an attack rather than an oversized
    // response: the session ends there (a section merely over the limit resets its stream).
    qint64 hardSectionBytes() const
    {
        if (limits.maxHeaderBytes < 0)
            return 16 * 1024 * 1024;
        return std::clamp<qint64>(qint64(limits.maxHeaderBytes) * 4, 64 * 1024, 256 * 1024 * 1024);
    }
    qint64 maxContinuations() const { return 32 + hardSectionBytes() / 1024; }

    // --- events ------------------------------------------------------------------------------
    void push(Event &&e) { events.push_back(std::move(e)); }

    qint64 nextSeq() const { return firstSeq + qint64(events.size()); }

    void pushData(qint32 id, Stream &s, const char *data, qsizetype len)
    {
        if (len <= 0)
            return;
        // Merge into the stream's waiting Data event: nothing else of this stream can come
        // after it but End, Trailers or Reset, which end the body.
        if (s.dataSeq >= firstSeq) {
            events[size_t(s.dataSeq - firstSeq)].data.append(data, len);
            return;
        }
        Event e;
        e.type = EventType::Data;
        e.stream = id;
        e.data = QByteArray(data, len);
        s.dataSeq = nextSeq();
        push(std::move(e));
    }

    void pushReset(qint32 id, Stream &s, StreamError why, quint32 code)
    {
        s.done = true;
        dropBody(s);
        Event e;
        e.type = EventType::Reset;
        e.stream = id;
        e.streamError = why;
        e.errorCode = code;
        push(std::move(e));
    }

    static void dropBody(Stream &s)
    {
        s.body.clear();
        s.bodyOffset = 0;
        s.queued = 0;
        s.bodyEnded = true;
    }

    // Removes every waiting event of \a id and renumbers the merge points.
    void purge(qint32 id)
    {
        std::deque<Event> kept;
        for (Event &e : events) {
            if (e.stream != id || e.type == EventType::GoAway || e.type == EventType::Settings
                || e.type == EventType::PingAck)
                kept.push_back(std::move(e));
        }
        events.swap(kept);
        settingsSeq = goAwaySeq = -1;
        for (auto &[sid, s] : streams)
            s.dataSeq = -1;
        for (size_t i = 0; i < events.size(); ++i) {
            const Event &e = events[i];
            const qint64 seq = firstSeq + qint64(i);
            if (e.type == EventType::Data) {
                if (Stream *s = find(e.stream))
                    s->dataSeq = seq;
            } else if (e.type == EventType::Settings) {
                settingsSeq = seq;
            } else if (e.type == EventType::GoAway) {
                goAwaySeq = seq;
            }
        }
    }

    // Resets \a id for a limit or a malformed message of ours to judge: RST_STREAM(\a code)
    // goes out, a Reset event tells the client.
    void resetForError(qint32 id, Stream &s, StreamError why, quint32 code)
    {
        if (s.done)
            return;
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, code);
        pushReset(id, s, why, code);
    }

    // A connection error: every stream fails, the GOAWAY nghttp2 queued (or ours) goes out
    // with the next takeOutput().
    void fail(quint32 code, const QString &message)
    {
        if (localFailed)
            return;
        localFailed = true;
        failed = true;
        errorCode = code;
        errorMessage = message;
        failStreams();
        // A no-op when nghttp2 is already terminating the session (it queued its GOAWAY).
        nghttp2_session_terminate_session(session, code);
    }

    void failStreams()
    {
        std::vector<qint32> ids;
        ids.reserve(streams.size());
        for (const auto &[id, s] : streams)
            ids.push_back(id);
        std::sort(ids.begin(), ids.end()); // a stable order, for the tests
        for (const qint32 id : ids) {
            Stream &s = streams[id];
            if (!s.done)
                pushReset(id, s, StreamError::ConnectionError, errorCode);
        }
        streams.clear();
    }

    void failFromLib(int lib)
    {
        if (lib == NGHTTP2_ERR_CALLBACK_FAILURE && !abortMessage.isEmpty()) {
            fail(abortCode, abortMessage);
            return;
        }
        QString message = QStringLiteral("HTTP/2 connection error (%1)").arg(libErrorText(lib));
        if (lib == NGHTTP2_ERR_FLOODED || lib == libErrTooManyContinuations)
            message = QStringLiteral("HTTP/2 connection error: the server flooded the connection "
                                     "(%1)")
                          .arg(libErrorText(lib));
        fail(codeOfLibError(lib), message);
    }

    // nghttp2 decided to end the session without returning an error from mem_recv (it queued
    // a GOAWAY with an error and ignores the rest of the input).
    bool terminatedByLibrary() const
    {
        return !goAwayReceived && !goAwaySent
            && nghttp2_session_get_next_stream_id(session) <= uint32_t(INT32_MAX)
            && nghttp2_session_check_request_allowed(session) == 0;
    }

    // The GOAWAY libnghttp2 queued says with which code it ended the session: the frames
    // still queued are written out now (into pendingOutput) to learn it. After a termination
    // libnghttp2 sends no DATA and opens no stream, so this is a bounded handful of control
    // frames (ACKs, RST_STREAM, WINDOW_UPDATE) and the GOAWAY.
    void failFromTermination()
    {
        draining = true;
        for (;;) {
            const uint8_t *data = nullptr;
            const NgSize n = ngMemSend(session, &data);
            if (n <= 0)
                break;
            pendingOutput.append(reinterpret_cast<const char *>(data), qsizetype(n));
        }
        draining = false;
        failWithCode(goAwayCodeKnown ? goAwayCodeSent : codeOfLibError(lastLibError), lastLibError);
    }

    void failWithCode(quint32 code, int lib)
    {
        QString message = lib == 0
            ? QStringLiteral("HTTP/2 protocol error by the server (%1)").arg(errorCodeName(code))
            : QStringLiteral("HTTP/2 protocol error by the server (%1, %2)")
                  .arg(errorCodeName(code), libErrorText(lib));
        if (!lastLibMessage.isEmpty())
            message += QStringLiteral(": ") + QString::fromUtf8(lastLibMessage);
        fail(code, message);
    }

    int abort(quint32 code, const QString &message)
    {
        if (abortMessage.isEmpty()) {
            abortCode = code;
            abortMessage = message;
        }
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }

    void queueBodyWanted()
    {
        std::vector<qint32> wanted;
        for (auto &[id, s] : streams) {
            if (s.hasBody && !s.bodyEnded && !s.bodyWantedQueued
                && s.queued < settings.bodyLowWaterBytes) {
                s.bodyWantedQueued = true;
                wanted.push_back(id);
            }
        }
        std::sort(wanted.begin(), wanted.end());
        for (const qint32 id : wanted) {
            Event e;
            e.type = EventType::BodyWanted;
            e.stream = id;
            push(std::move(e));
        }
    }

    // --- nghttp2 callbacks -------------------------------------------------------------------
    static int onBeginFrame(nghttp2_session *, const nghttp2_frame_hd *hd, void *userData)
    {
        Private *d = of(userData);
        d->checkRejectedEnd(true); // the frame before this one is complete
        if ((hd->type == NGHTTP2_DATA || hd->type == NGHTTP2_HEADERS)
            && (hd->flags & NGHTTP2_FLAG_END_STREAM))
            d->endCheckStream = hd->stream_id;
        if (hd->type == NGHTTP2_HEADERS) {
            d->blockContinuations = 0;
            d->blockEncodedBytes = qint64(hd->length);
        } else if (hd->type == NGHTTP2_CONTINUATION) {
            ++d->blockContinuations;
            d->blockEncodedBytes += qint64(hd->length);
            if (d->blockContinuations > d->maxContinuations()
                || d->blockEncodedBytes > d->hardSectionBytes())
                return d->abort(EnhanceYourCalm,
                    QStringLiteral("HTTP/2 connection error: a header block of more "
                                   "than %1 CONTINUATION frames or %2 bytes")
                        .arg(d->maxContinuations())
                        .arg(d->hardSectionBytes()));
        }
        return 0;
    }

    static int onBeginHeaders(nghttp2_session *, const nghttp2_frame *frame, void *userData)
    {
        Private *d = of(userData);
        if (frame->hd.type != NGHTTP2_HEADERS)
            return 0;
        const qint32 id = frame->hd.stream_id;
        Stream *s = d->find(id);
        d->section = Section();
        d->section.stream = id;
        d->section.ignore = !s || s->done;
        d->section.trailers = s && s->finalHead;
        return 0;
    }

    static int onHeader(nghttp2_session *, const nghttp2_frame *frame, const uint8_t *name,
        size_t nameLen, const uint8_t *value, size_t valueLen, uint8_t, void *userData)
    {
        Private *d = of(userData);
        if (frame->hd.type != NGHTTP2_HEADERS)
            return 0;
        Section &sec = d->section;
        sec.bytes += qint64(nameLen) + qint64(valueLen) + 32;
        if (sec.bytes > d->hardSectionBytes())
            return d->abort(EnhanceYourCalm,
                QStringLiteral("HTTP/2 connection error: a header section of more "
                               "than %1 bytes")
                    .arg(d->hardSectionBytes()));
        if (sec.ignore || sec.stream != frame->hd.stream_id)
            return 0;
        Stream *s = d->find(sec.stream);
        if (!s || s->done) {
            sec.ignore = true;
            return 0;
        }
        const QByteArrayView n(reinterpret_cast<const char *>(name), qsizetype(nameLen));
        const QByteArrayView v(reinterpret_cast<const char *>(value), qsizetype(valueLen));
        const bool pseudo = n.startsWith(':');
        if (!pseudo)
            ++sec.fields;
        if (d->limits.maxHeaderBytes >= 0 && sec.bytes > qint64(d->limits.maxHeaderBytes)) {
            sec.ignore = true;
            d->resetForError(sec.stream, *s, StreamError::HeaderTooLarge, ProtocolErrorCode);
            return 0;
        }
        if (d->limits.maxFieldCount >= 0 && sec.fields > qint64(d->limits.maxFieldCount)) {
            sec.ignore = true;
            d->resetForError(sec.stream, *s, StreamError::TooManyFields, ProtocolErrorCode);
            return 0;
        }
        if (pseudo) {
            // nghttp2 allows only :status in a response head, once, and none in trailers.
            if (n == ":status" && !sec.trailers) {
                const bool digits = v.size() == 3
                    && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
                if (!digits) {
                    sec.ignore = true;
                    d->resetForError(sec.stream, *s, StreamError::BadMessage, ProtocolErrorCode);
                    return 0;
                }
                sec.status = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
            }
            return 0;
        }
        sec.headers.add(n, v);
        return 0;
    }

    static int onFrameRecv(nghttp2_session *, const nghttp2_frame *frame, void *userData)
    {
        Private *d = of(userData);
        const qint32 id = frame->hd.stream_id;
        switch (frame->hd.type) {
        case NGHTTP2_HEADERS: {
            Stream *s = d->find(id);
            if (!s || s->done || d->section.stream != id || d->section.ignore)
                return 0;
            Section &sec = d->section;
            Event e;
            e.stream = id;
            if (!sec.trailers) {
                if (sec.status == 0) { // nghttp2 checks this too
                    d->resetForError(id, *s, StreamError::BadMessage, ProtocolErrorCode);
                    return 0;
                }
                e.type = EventType::Head;
                e.head.versionMinor = 0;
                e.head.status = sec.status;
                e.head.headers = std::move(sec.headers);
                if (e.head.isInterim()) {
                    if (d->limits.maxInterimResponses >= 0
                        && ++s->interim > d->limits.maxInterimResponses) {
                        d->resetForError(id, *s, StreamError::BadMessage, ProtocolErrorCode);
                        return 0;
                    }
                } else {
                    s->finalHead = true;
                    // A body announced beyond Limits::maxBodyBytes fails at its head, as
                    // over HTTP/1.1 (and before libnghttp2 could find its DATA too long).
                    if (d->limits.maxBodyBytes >= 0 && !s->isHead && e.head.status != 204
                        && e.head.status != 304) {
                        const auto length = e.head.headers.get("content-length");
                        bool ok = false;
                        const qint64 n = length ? length->toLongLong(&ok) : -1;
                        if (ok && n > d->limits.maxBodyBytes) {
                            d->resetForError(id, *s, StreamError::BodyTooLarge, Cancel);
                            return 0;
                        }
                    }
                }
            } else {
                e.type = EventType::Trailers;
                e.head.versionMinor = 0;
                e.head.headers = std::move(sec.headers);
            }
            d->push(std::move(e));
            if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
                d->pushEnd(id, *s);
            return 0;
        }
        case NGHTTP2_DATA:
            if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
                if (Stream *s = d->find(id); s && !s->done)
                    d->pushEnd(id, *s);
            }
            return 0;
        case NGHTTP2_RST_STREAM:
            if (Stream *s = d->find(id)) {
                s->peerReset = true;
                s->peerResetCode = frame->rst_stream.error_code;
            }
            return 0;
        case NGHTTP2_SETTINGS:
            if (!(frame->hd.flags & NGHTTP2_FLAG_ACK) && d->settingsSeq < d->firstSeq) {
                Event e;
                e.type = EventType::Settings;
                d->settingsSeq = d->nextSeq();
                d->push(std::move(e));
            }
            return 0;
        case NGHTTP2_PING:
            if ((frame->hd.flags & NGHTTP2_FLAG_ACK) && d->pingsOut > 0) {
                --d->pingsOut;
                Event e;
                e.type = EventType::PingAck;
                e.data = QByteArray(reinterpret_cast<const char *>(frame->ping.opaque_data), 8);
                d->push(std::move(e));
            }
            return 0;
        case NGHTTP2_GOAWAY:
            d->onGoAway(frame->goaway);
            return 0;
        default:
            return 0;
        }
    }

    void pushEnd(qint32 id, Stream &s)
    {
        s.done = true;
        Event e;
        e.type = EventType::End;
        e.stream = id;
        push(std::move(e));
    }

    void onGoAway(const nghttp2_goaway &goaway)
    {
        goAwayReceived = true;
        goAwayLastStreamId = goaway.last_stream_id;
        const QByteArray debug(reinterpret_cast<const char *>(goaway.opaque_data),
            qsizetype(std::min<size_t>(goaway.opaque_data_len, size_t(maxGoAwayDebugBytes))));
        if (goaway.error_code != NoError && !failed) {
            failed = true;
            errorCode = goaway.error_code;
            errorMessage = QStringLiteral("the server ended the HTTP/2 connection with GOAWAY(%1)")
                               .arg(errorCodeName(goaway.error_code));
            if (!debug.isEmpty())
                errorMessage += QStringLiteral(": ") + QString::fromUtf8(debug);
        }
        // Streams above last-stream-id were never processed: refused now, whether their
        // HEADERS went out (nghttp2 closes those right after this callback) or still wait.
        std::vector<qint32> refused;
        for (auto &[id, s] : streams) {
            if (id > goaway.last_stream_id && !s.done)
                refused.push_back(id);
        }
        std::sort(refused.begin(), refused.end());
        for (const qint32 id : refused) {
            pushReset(id, streams[id], StreamError::RefusedByGoAway, RefusedStream);
            if (!nghttp2_session_find_stream(session, id))
                streams.erase(id); // never sent: nghttp2 drops its HEADERS
        }
        if (goAwaySeq >= firstSeq) { // one waiting GoAway event, the latest one
            Event &e = events[size_t(goAwaySeq - firstSeq)];
            e.lastStreamId = goaway.last_stream_id;
            e.errorCode = goaway.error_code;
            e.data = debug;
            return;
        }
        Event e;
        e.type = EventType::GoAway;
        e.lastStreamId = goaway.last_stream_id;
        e.errorCode = goaway.error_code;
        e.data = debug;
        goAwaySeq = nextSeq();
        push(std::move(e));
    }

    static int onDataChunk(nghttp2_session *session, uint8_t, int32_t id, const uint8_t *data,
        size_t len, void *userData)
    {
        Private *d = of(userData);
        // The connection window is given back at once: only stream windows hold data back.
        nghttp2_session_consume_connection(session, len);
        Stream *s = d->find(id);
        if (!s)
            return 0;
        // What the server may have sent: the initial window plus the WINDOW_UPDATEs, which
        // give back at most what was consumed. libnghttp2 only resets a stream that exceeds
        // its window, and hands its bytes over all the same. What fits is taken as usual
        // first, so the events do not depend on how the DATA was cut into reads.
        const qint64 room = std::max<qint64>(0, d->streamWindow + s->consumed - s->arrived);
        const qint64 inWindow = std::min<qint64>(qint64(len), room);
        s->arrived += qint64(len);
        if (!s->done) {
            qint64 take = inWindow;
            bool tooLarge = false;
            if (d->limits.maxBodyBytes >= 0 && s->received + take > d->limits.maxBodyBytes) {
                // Exactly up to the limit, however the DATA was cut into reads.
                take = std::max<qint64>(0, d->limits.maxBodyBytes - s->received);
                tooLarge = true;
            }
            s->received += take;
            d->pushData(id, *s, reinterpret_cast<const char *>(data), qsizetype(take));
            if (tooLarge)
                d->resetForError(id, *s, StreamError::BodyTooLarge, Cancel);
        }
        if (inWindow < qint64(len))
            return d->abort(FlowControlError,
                QStringLiteral("HTTP/2 protocol error by the server "
                               "(FLOW_CONTROL_ERROR): more DATA on stream %1 than "
                               "its window allows")
                    .arg(id));
        return 0;
    }

    static int onStreamClose(nghttp2_session *, int32_t id, uint32_t errorCode, void *userData)
    {
        Private *d = of(userData);
        const auto it = d->streams.find(id);
        if (it == d->streams.end())
            return 0;
        Stream &s = it->second;
        if (!s.done) {
            if (s.peerReset)
                d->pushReset(id, s, StreamError::ResetByPeer, s.peerResetCode);
            else if (errorCode == NGHTTP2_REFUSED_STREAM && d->goAwayReceived
                && id > d->goAwayLastStreamId)
                d->pushReset(id, s, StreamError::RefusedByGoAway, errorCode);
            else if (d->localFailed)
                d->pushReset(id, s, StreamError::ConnectionError, d->errorCode);
            else // nghttp2 reset it: a malformed response (RFC 9113 §8.1.1)
                d->pushReset(id, s, StreamError::BadMessage,
                    errorCode == NoError ? ProtocolErrorCode : errorCode);
        }
        d->streams.erase(it);
        return 0;
    }

    static int onFrameSend(nghttp2_session *, const nghttp2_frame *frame, void *userData)
    {
        Private *d = of(userData);
        if (frame->hd.type != NGHTTP2_GOAWAY)
            return 0;
        d->goAwayCodeKnown = true;
        d->goAwayCodeSent = frame->goaway.error_code;
        if (frame->goaway.error_code == NoError || d->draining)
            return 0;
        if (d->localFailed) {
            d->errorCode = frame->goaway.error_code; // what the server was told
            return 0;
        }
        // A termination receive() could not see (after a GOAWAY sent or received).
        d->failWithCode(frame->goaway.error_code, d->lastLibError);
        return 0;
    }

    static int onInvalidFrame(
        nghttp2_session *, const nghttp2_frame *frame, int lib, void *userData)
    {
        Private *d = of(userData);
        d->lastLibError = lib;
        // A malformed response (RFC 9113 §8.1.1): libnghttp2 queued RST_STREAM(PROTOCOL_ERROR).
        // These two codes are stream errors only; say so now rather than when the stream
        // closes.
        if (lib == NGHTTP2_ERR_HTTP_HEADER || lib == NGHTTP2_ERR_HTTP_MESSAGING) {
            if (Stream *s = d->find(frame->hd.stream_id); s && !s->done)
                d->pushReset(frame->hd.stream_id, *s, StreamError::BadMessage, ProtocolErrorCode);
        }
        return 0;
    }

    // The stream of the last frame with END_STREAM: if libnghttp2 closed it for reading
    // without handing us that END_STREAM, the end was malformed (Content-Length not matching
    // the DATA; it queued RST_STREAM without telling). Checked when the next frame begins and
    // after each read, so the Reset comes in order with the other streams' events.
    void checkRejectedEnd(bool frameComplete)
    {
        if (endCheckStream == 0)
            return;
        const qint32 id = endCheckStream;
        Stream *s = find(id);
        nghttp2_stream *st = s && !s->done ? nghttp2_session_find_stream(session, id) : nullptr;
        if (st) {
            const nghttp2_stream_proto_state state = nghttp2_stream_get_state(st);
            if (state == NGHTTP2_STREAM_STATE_HALF_CLOSED_REMOTE
                || state == NGHTTP2_STREAM_STATE_CLOSED) {
                pushReset(id, *s, StreamError::BadMessage, ProtocolErrorCode);
                frameComplete = true;
            }
        }
        if (frameComplete || !s || s->done)
            endCheckStream = 0;
    }

    static int onError(nghttp2_session *, int lib, const char *msg, size_t len, void *userData)
    {
        Private *d = of(userData);
        d->lastLibError = lib;
        d->lastLibMessage = QByteArray(msg, qsizetype(std::min<size_t>(len, 256)));
        return 0;
    }

    static NgSize readBody(nghttp2_session *, int32_t id, uint8_t *buf, size_t length,
        uint32_t *flags, nghttp2_data_source *, void *userData)
    {
        Private *d = of(userData);
        Stream *s = d->find(id);
        if (!s)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        size_t copied = 0;
        while (copied < length && !s->body.empty()) {
            const QByteArray &chunk = s->body.front();
            const size_t avail = size_t(chunk.size() - s->bodyOffset);
            const size_t n = std::min(avail, length - copied);
            std::memcpy(buf + copied, chunk.constData() + s->bodyOffset, n);
            copied += n;
            s->bodyOffset += qsizetype(n);
            if (s->bodyOffset == chunk.size()) {
                s->body.pop_front();
                s->bodyOffset = 0;
            }
        }
        s->queued -= qint64(copied);
        if (s->body.empty() && s->bodyEnded)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        else if (copied == 0)
            return NGHTTP2_ERR_DEFERRED;
        return NgSize(copied);
    }
};

ClientSession::ClientSession(const Limits &limits, const Settings &settings)
    : d(std::make_unique<Private>(limits, settings))
{
    nghttp2_session_callbacks *callbacks = nullptr;
    if (nghttp2_session_callbacks_new(&callbacks) != 0) {
        d->errorMessage = QStringLiteral("libnghttp2 could not allocate its callbacks");
        d->errorCode = InternalError;
        d->failed = d->localFailed = true;
        return;
    }
    nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks, &Private::onBeginFrame);
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Private::onBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &Private::onHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Private::onFrameRecv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Private::onDataChunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Private::onStreamClose);
    nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &Private::onFrameSend);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(
        callbacks, &Private::onInvalidFrame);
    nghttp2_session_callbacks_set_error_callback2(callbacks, &Private::onError);

    nghttp2_option *option = nullptr;
    if (nghttp2_option_new(&option) != 0) {
        nghttp2_session_callbacks_del(callbacks);
        d->errorMessage = QStringLiteral("libnghttp2 could not allocate its options");
        d->errorCode = InternalError;
        d->failed = d->localFailed = true;
        return;
    }
    nghttp2_option_set_no_auto_window_update(option, 1);
    nghttp2_option_set_peer_max_concurrent_streams(option, assumedPeerConcurrentStreams);
    nghttp2_option_set_max_outbound_ack(option, maxOutboundAck);
    nghttp2_option_set_max_settings(option, maxSettingsEntries);
    nghttp2_option_set_max_reserved_remote_streams(option, 0);
#ifdef REQIVO_HAVE_NGHTTP2_MAX_CONTINUATIONS
    // Above ours (onBeginFrame()), which then speaks first. libnghttp2's limit still bounds the
    // CONTINUATION frames of a block it ignores (a reset stream's), which ours does not see.
    // Up to 1.61 it counts every read that begins or continues a frame header, so a frame
    // whose 9-byte header came in 9 reads counts 9 times: its default (8) could end a session
    // over a header block of two CONTINUATION frames that arrived in small pieces.
    nghttp2_option_set_max_continuations(option, 9 * (size_t(d->maxContinuations()) + 1));
#endif

    const int rv = nghttp2_session_client_new2(&d->session, callbacks, d.get(), option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(callbacks);
    if (rv != 0) {
        d->session = nullptr;
        d->errorMessage
            = QStringLiteral("libnghttp2 could not create a session (%1)").arg(libErrorText(rv));
        d->errorCode = InternalError;
        d->failed = d->localFailed = true;
        return;
    }

    // The preface: SETTINGS, then the connection window raised (WINDOW_UPDATE on stream 0).
    std::vector<nghttp2_settings_entry> iv;
    iv.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
    const int32_t streamWindow = std::clamp<qint32>(settings.streamWindowBytes, 0, INT32_MAX);
    d->streamWindow = streamWindow;
    iv.push_back({NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, uint32_t(streamWindow)});
    const qint32 frameBytes = std::clamp<qint32>(settings.maxFrameBytes, 16384, 16777215);
    if (frameBytes != 16384)
        iv.push_back({NGHTTP2_SETTINGS_MAX_FRAME_SIZE, uint32_t(frameBytes)});
    if (limits.maxHeaderBytes >= 0) {
        const qint64 listSize = std::min<qint64>(qint64(limits.maxHeaderBytes), UINT32_MAX);
        iv.push_back({NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, uint32_t(listSize)});
    }
    int srv = nghttp2_submit_settings(d->session, NGHTTP2_FLAG_NONE, iv.data(), iv.size());
    if (srv == 0 && settings.connectionWindowBytes > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE)
        srv = nghttp2_session_set_local_window_size(
            d->session, NGHTTP2_FLAG_NONE, 0, settings.connectionWindowBytes);
    if (srv != 0) {
        d->errorMessage = QStringLiteral("libnghttp2 could not queue the connection preface (%1)")
                              .arg(libErrorText(srv));
        d->errorCode = InternalError;
        d->failed = d->localFailed = true;
        return;
    }
    d->valid = true;
}

ClientSession::~ClientSession() = default;

bool ClientSession::isValid() const
{
    return d->valid;
}

qint32 ClientSession::submitRequest(const Request &request, QString *error)
{
    const auto refuse = [error](QString why) {
        if (error)
            *error = std::move(why);
        return 0;
    };
    if (!d->session || d->localFailed || d->eof)
        return refuse(d->errorMessage.isEmpty() ? QStringLiteral("the HTTP/2 connection is closed")
                                                : d->errorMessage);
    if (d->goAwaySent || d->goAwayReceived)
        return refuse(QStringLiteral("the HTTP/2 connection is going away (GOAWAY)"));
    if (!nghttp2_session_check_request_allowed(d->session))
        return refuse(QStringLiteral("the HTTP/2 connection has no stream left"));
    if (request.method.isEmpty())
        return refuse(QStringLiteral("an HTTP/2 request needs a method"));

    const bool connect = request.method == "CONNECT";
    QByteArray authority = request.authority;
    if (authority.isEmpty()) {
        if (const auto host = request.fields.get("host"))
            authority = *host;
    }
    if (connect && authority.isEmpty())
        return refuse(QStringLiteral("an HTTP/2 CONNECT request needs an authority"));

    // Fields named by Connection are connection-specific too (RFC 9110 §7.6.1).
    QList<QByteArray> nominated;
    for (const QByteArray &value : request.fields.values("connection")) {
        for (const QByteArray &token : value.split(','))
            nominated.append(trimmed(token).toByteArray().toLower());
    }

    // Storage the nghttp2_nv entries point into; nghttp2 copies them in submit.
    std::vector<QByteArray> store;
    store.reserve(size_t(request.fields.size()) * 2 + 8);
    std::vector<nghttp2_nv> nva;
    nva.reserve(size_t(request.fields.size()) + 4);
    const auto add = [&](QByteArray name, QByteArray value, uint8_t flags) {
        store.push_back(std::move(name));
        store.push_back(std::move(value));
        const QByteArray &n = store[store.size() - 2];
        const QByteArray &v = store.back();
        nva.push_back({reinterpret_cast<uint8_t *>(const_cast<char *>(n.constData())),
            reinterpret_cast<uint8_t *>(const_cast<char *>(v.constData())), size_t(n.size()),
            size_t(v.size()), flags});
    };
    add(QByteArrayLiteral(":method"), request.method, NGHTTP2_NV_FLAG_NONE);
    if (!connect)
        add(QByteArrayLiteral(":scheme"),
            request.scheme.isEmpty() ? QByteArrayLiteral("https") : request.scheme,
            NGHTTP2_NV_FLAG_NONE);
    if (!authority.isEmpty())
        add(QByteArrayLiteral(":authority"), authority, NGHTTP2_NV_FLAG_NONE);
    if (!connect)
        add(QByteArrayLiteral(":path"),
            request.path.isEmpty() ? QByteArrayLiteral("/") : request.path, NGHTTP2_NV_FLAG_NONE);

    for (const Headers::Field f : request.fields) {
        QByteArray name = f.name.toByteArray().toLower();
        if (isConnectionSpecific(name) || nominated.contains(name))
            continue;
        QByteArray value = f.value.toByteArray();
        if (name == "te") {
            if (trimmed(value).compare("trailers", Qt::CaseInsensitive) != 0)
                continue;
            value = QByteArrayLiteral("trailers");
        }
        const auto *nameBytes = reinterpret_cast<const uint8_t *>(name.constData());
        const auto *valueBytes = reinterpret_cast<const uint8_t *>(value.constData());
        if (name.startsWith(':') || !nghttp2_check_header_name(nameBytes, size_t(name.size()))
            || !nghttp2_check_header_value(valueBytes, size_t(value.size())))
            return refuse(QStringLiteral("the request field \"%1\" cannot be sent over HTTP/2")
                              .arg(QString::fromLatin1(f.name)));
        // Credentials stay out of the HPACK tables (RFC 7541 §7.1.3).
        const uint8_t flags = (name == "authorization" || name == "proxy-authorization")
            ? NGHTTP2_NV_FLAG_NO_INDEX
            : NGHTTP2_NV_FLAG_NONE;
        add(std::move(name), std::move(value), flags);
    }

    NgDataProvider provider;
    provider.source.ptr = nullptr;
    provider.read_callback = &Private::readBody;
    const int32_t id = ngSubmitRequest(
        d->session, nva.data(), nva.size(), request.hasBody ? &provider : nullptr);
    if (id < 0)
        return refuse(QStringLiteral("libnghttp2 refused the request (%1)").arg(libErrorText(id)));
    Private::Stream &s = d->streams[id];
    s.isHead = request.method == "HEAD";
    s.hasBody = request.hasBody;
    s.bodyEnded = !request.hasBody;
    return id;
}

void ClientSession::appendBody(qint32 stream, const QByteArray &data)
{
    Private::Stream *s = d->find(stream);
    if (!s || !s->hasBody || s->bodyEnded || data.isEmpty())
        return;
    s->body.push_back(data);
    s->queued += data.size();
    s->bodyWantedQueued = false;
    nghttp2_session_resume_data(d->session, stream); // an error when not deferred: harmless
}

void ClientSession::endBody(qint32 stream)
{
    Private::Stream *s = d->find(stream);
    if (!s || !s->hasBody || s->bodyEnded)
        return;
    s->bodyEnded = true;
    nghttp2_session_resume_data(d->session, stream);
}

qint64 ClientSession::queuedBodyBytes(qint32 stream) const
{
    const Private::Stream *s = d->find(stream);
    return s ? s->queued : 0;
}

void ClientSession::consume(qint32 stream, qint64 bytes)
{
    if (!d->session || d->localFailed || bytes <= 0 || stream <= 0)
        return;
    if (Private::Stream *s = d->find(stream))
        s->consumed += bytes;
    nghttp2_session_consume_stream(d->session, stream, size_t(bytes));
}

void ClientSession::resetStream(qint32 stream, quint32 code)
{
    if (stream <= 0)
        return;
    d->purge(stream); // even when it has ended: nothing of it follows
    const auto it = d->streams.find(stream);
    if (it == d->streams.end() || !d->session)
        return;
    Private::Stream &s = it->second;
    s.done = true;
    Private::dropBody(s);
    nghttp2_submit_rst_stream(d->session, NGHTTP2_FLAG_NONE, stream, code);
    // A stream whose HEADERS have not gone out is dropped by nghttp2 without a frame.
    if (!nghttp2_session_find_stream(d->session, stream))
        d->streams.erase(it);
}

void ClientSession::ping(QByteArrayView payload)
{
    if (!d->session || d->localFailed)
        return;
    uint8_t opaque[8] = {};
    std::memcpy(opaque, payload.data(), size_t(std::min<qsizetype>(payload.size(), 8)));
    if (nghttp2_submit_ping(d->session, NGHTTP2_FLAG_NONE, opaque) == 0)
        ++d->pingsOut;
}

void ClientSession::goAway()
{
    if (!d->session || d->localFailed || d->goAwaySent)
        return;
    if (nghttp2_submit_goaway(d->session, NGHTTP2_FLAG_NONE,
            nghttp2_session_get_last_proc_stream_id(d->session), NGHTTP2_NO_ERROR, nullptr, 0)
        == 0)
        d->goAwaySent = true;
}

bool ClientSession::receive(QByteArrayView bytes)
{
    if (!d->session || d->localFailed)
        return false;
    if (d->eof || bytes.isEmpty())
        return true;
    d->lastLibError = 0;
    d->lastLibMessage.clear();
    const NgSize n = ngMemRecv(
        d->session, reinterpret_cast<const uint8_t *>(bytes.data()), size_t(bytes.size()));
    // First what the frames before a failure did, so that the events do not depend on
    // whether the failure came in the same read.
    d->checkRejectedEnd(false);
    if (n < 0) {
        d->failFromLib(int(n));
        return false;
    }
    if (!d->localFailed && d->terminatedByLibrary())
        d->failFromTermination();
    return !d->localFailed;
}

void ClientSession::receiveEof()
{
    if (d->eof)
        return;
    d->eof = true;
    // Not a failure of the session (hasFailed() stays as it is): the streams say what ended.
    d->failStreams();
}

QByteArray ClientSession::takeOutput(qint64 maxBytes)
{
    QByteArray out = std::exchange(d->pendingOutput, QByteArray());
    if (!d->session)
        return out;
    while (out.size() < std::max<qint64>(maxBytes, 1)) {
        const uint8_t *data = nullptr;
        const NgSize n = ngMemSend(d->session, &data);
        if (n < 0) {
            if (!d->localFailed)
                d->failFromLib(int(n));
            break;
        }
        if (n == 0)
            break;
        out.append(reinterpret_cast<const char *>(data), qsizetype(n));
    }
    if (!d->localFailed && !d->eof)
        d->queueBodyWanted();
    return out;
}

bool ClientSession::wantsWrite() const
{
    return !d->pendingOutput.isEmpty()
        || (d->session && nghttp2_session_want_write(d->session) != 0);
}

ClientSession::Event ClientSession::nextEvent()
{
    if (d->events.empty())
        return {};
    Event e = std::move(d->events.front());
    d->events.pop_front();
    ++d->firstSeq;
    return e;
}

bool ClientSession::hasEvents() const
{
    return !d->events.empty();
}

quint32 ClientSession::remoteMaxConcurrentStreams() const
{
    if (!d->session)
        return 0;
    const uint32_t v
        = nghttp2_session_get_remote_settings(d->session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    return std::min<uint32_t>(v, uint32_t(INT32_MAX));
}

int ClientSession::openStreams() const
{
    return int(d->streams.size());
}

bool ClientSession::canOpenStream() const
{
    return d->session && !d->localFailed && !d->eof && !d->goAwaySent && !d->goAwayReceived
        && nghttp2_session_check_request_allowed(d->session) != 0;
}

bool ClientSession::hasReceivedGoAway() const
{
    return d->goAwayReceived;
}

bool ClientSession::hasFailed() const
{
    return d->failed;
}

QString ClientSession::errorMessage() const
{
    return d->errorMessage;
}

quint32 ClientSession::errorCode() const
{
    return d->errorCode;
}

} // namespace Reqivo::Protocol::Http2
