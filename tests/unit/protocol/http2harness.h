// Test peers for Http2::ClientSession (tst_http2session.cpp, tests/fuzz/fuzz_http2.cpp):
//  * Recorder: the client's events as comparable strings, body bytes of a stream joined (so a
//    run fed whole and one fed byte by byte compare equal);
//  * raw frames and a small HPACK writer, for what no conforming server sends;
//  * ServerPeer: an in-process libnghttp2 server session, the conforming peer;
//  * Link: moves bytes between a ClientSession and a ServerPeer until both are quiet.
#pragma once

#include "protocol/http2session.h"

#include <nghttp2/nghttp2.h>

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

#include <cstring>
#include <map>
#include <utility>
#include <vector>

namespace Http2Harness {

using Reqivo::Headers;
using Reqivo::Protocol::Http2::ClientSession;
using Reqivo::Protocol::Http2::StreamError;
using Event = ClientSession::Event;
using EventType = ClientSession::EventType;
using Fields = QList<std::pair<QByteArray, QByteArray>>;

inline QString escaped(QByteArrayView bytes)
{
    QString out;
    for (const char c : bytes) {
        const auto u = quint8(c);
        if (u == '\\')
            out += QStringLiteral("\\\\");
        else if (u < 0x20 || u >= 0x7f)
            out += QStringLiteral("\\x%1").arg(u, 2, 16, QLatin1Char('0'));
        else
            out += QLatin1Char(c);
    }
    return out;
}

inline QString streamErrorName(StreamError e)
{
    switch (e) {
    case StreamError::None:
        return QStringLiteral("None");
    case StreamError::ResetByPeer:
        return QStringLiteral("ResetByPeer");
    case StreamError::ResetLocally:
        return QStringLiteral("ResetLocally");
    case StreamError::HeaderTooLarge:
        return QStringLiteral("HeaderTooLarge");
    case StreamError::TooManyFields:
        return QStringLiteral("TooManyFields");
    case StreamError::BadMessage:
        return QStringLiteral("BadMessage");
    case StreamError::BodyTooLarge:
        return QStringLiteral("BodyTooLarge");
    case StreamError::RefusedByGoAway:
        return QStringLiteral("RefusedByGoAway");
    case StreamError::ConnectionError:
        return QStringLiteral("ConnectionError");
    }
    return QStringLiteral("?");
}

inline QString fieldsText(const Headers &headers)
{
    QStringList parts;
    for (const Headers::Field f : headers)
        parts << escaped(f.name) + QLatin1Char('=') + escaped(f.value);
    return parts.join(QLatin1Char(';'));
}

//! The client's events as strings. Data of one stream is joined until another event of that
//! stream (or finish()), so the log does not depend on how the input was cut.
class Recorder
{
public:
    //! Pulls every waiting event of \a session.
    void take(ClientSession &session)
    {
        while (session.hasEvents())
            add(session.nextEvent());
    }

    void add(const Event &e)
    {
        ++m_events;
        if (e.type == EventType::Data) {
            m_pending[e.stream].append(e.data);
            m_bodies[e.stream].append(e.data);
            return;
        }
        if (e.stream > 0)
            flush(e.stream);
        switch (e.type) {
        case EventType::None:
        case EventType::Data:
            break;
        case EventType::Head:
            m_log << QStringLiteral("head %1 %2 %3")
                         .arg(e.stream)
                         .arg(e.head.status)
                         .arg(fieldsText(e.head.headers));
            break;
        case EventType::Trailers:
            m_log << QStringLiteral("trailers %1 %2").arg(e.stream).arg(fieldsText(e.head.headers));
            break;
        case EventType::End:
            m_log << QStringLiteral("end %1").arg(e.stream);
            break;
        case EventType::Reset:
            m_log << QStringLiteral("reset %1 %2 %3")
                         .arg(e.stream)
                         .arg(streamErrorName(e.streamError),
                             Reqivo::Protocol::Http2::errorCodeName(e.errorCode));
            break;
        case EventType::GoAway:
            m_log << QStringLiteral("goaway last=%1 %2 '%3'")
                         .arg(e.lastStreamId)
                         .arg(Reqivo::Protocol::Http2::errorCodeName(e.errorCode), escaped(e.data));
            break;
        case EventType::PingAck:
            m_log << QStringLiteral("pingack %1").arg(QString::fromLatin1(e.data.toHex()));
            break;
        case EventType::Settings:
            m_log << QStringLiteral("settings");
            break;
        case EventType::BodyWanted:
            m_log << QStringLiteral("bodywanted %1").arg(e.stream);
            break;
        }
    }

    //! The log, with the data not yet followed by another event of its stream at the end.
    QStringList log() const
    {
        QStringList out = m_log;
        for (auto it = m_pending.begin(); it != m_pending.end(); ++it) {
            if (!it.value().isEmpty())
                out << dataEntry(it.key(), it.value());
        }
        return out;
    }
    //! The log without the settings entries (they are not what most tests look at).
    QStringList logWithoutSettings() const
    {
        QStringList out = log();
        out.removeAll(QStringLiteral("settings"));
        return out;
    }

    QByteArray body(qint32 stream) const { return m_bodies.value(stream); }
    int eventCount() const { return m_events; }
    void clear()
    {
        m_log.clear();
        m_pending.clear();
        m_bodies.clear();
        m_events = 0;
    }

    static QString dataEntry(qint32 stream, const QByteArray &data)
    {
        if (data.size() <= 32)
            return QStringLiteral("data %1 '%2'").arg(stream).arg(escaped(data));
        return QStringLiteral("data %1 n=%2 crc=%3")
            .arg(stream)
            .arg(data.size())
            .arg(qChecksum(data));
    }

private:
    void flush(qint32 stream)
    {
        auto it = m_pending.find(stream);
        if (it == m_pending.end() || it.value().isEmpty())
            return;
        m_log << dataEntry(stream, it.value());
        it.value().clear();
    }

    QStringList m_log;
    QMap<qint32, QByteArray> m_pending;
    QMap<qint32, QByteArray> m_bodies;
    int m_events = 0;
};

// --- raw frames --------------------------------------------------------------------------------
enum FrameType : quint8 {
    DATA = 0,
    HEADERS = 1,
    PRIORITY = 2,
    RST_STREAM = 3,
    SETTINGS = 4,
    PUSH_PROMISE = 5,
    PING = 6,
    GOAWAY = 7,
    WINDOW_UPDATE = 8,
    CONTINUATION = 9,
};
enum FrameFlag : quint8 { END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4, PADDED = 0x8 };

inline QByteArray be32(quint32 v)
{
    QByteArray b(4, '\0');
    b[0] = char(v >> 24);
    b[1] = char(v >> 16);
    b[2] = char(v >> 8);
    b[3] = char(v);
    return b;
}

inline QByteArray frame(quint8 type, quint8 flags, quint32 stream, QByteArrayView payload = {})
{
    QByteArray f;
    const auto len = quint32(payload.size());
    f.append(char(len >> 16)).append(char(len >> 8)).append(char(len));
    f.append(char(type)).append(char(flags));
    f.append(be32(stream & 0x7fffffffu));
    f.append(payload.data(), payload.size());
    return f;
}

inline QByteArray settingsFrame(const QList<std::pair<quint16, quint32>> &entries = {})
{
    QByteArray p;
    for (const auto &[id, value] : entries)
        p.append(char(id >> 8)).append(char(id)).append(be32(value));
    return frame(SETTINGS, 0, 0, p);
}

//! What a server sends first: its SETTINGS, and the ACK of the client's.
inline QByteArray serverPreface(const QList<std::pair<quint16, quint32>> &entries = {})
{
    return settingsFrame(entries) + frame(SETTINGS, ACK, 0);
}

struct Frame
{
    quint8 type = 0;
    quint8 flags = 0;
    quint32 stream = 0;
    QByteArray payload;
};

//! Splits \a bytes into frames (after the client magic when \a clientPreface).
inline QList<Frame> parseFrames(QByteArray bytes, bool clientPreface = false)
{
    QList<Frame> frames;
    if (clientPreface) {
        if (!bytes.startsWith("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
            return frames;
        bytes.remove(0, 24);
    }
    qsizetype pos = 0;
    while (bytes.size() - pos >= 9) {
        const auto *p = reinterpret_cast<const quint8 *>(bytes.constData() + pos);
        const qsizetype len = (qsizetype(p[0]) << 16) | (qsizetype(p[1]) << 8) | p[2];
        if (bytes.size() - pos - 9 < len)
            break;
        Frame f;
        f.type = p[3];
        f.flags = p[4];
        f.stream = ((quint32(p[5]) << 24) | (quint32(p[6]) << 16) | (quint32(p[7]) << 8) | p[8])
            & 0x7fffffffu;
        f.payload = bytes.mid(pos + 9, len);
        frames << f;
        pos += 9 + len;
    }
    return frames;
}

inline quint32 readBe32(const QByteArray &b, qsizetype at)
{
    const auto *p = reinterpret_cast<const quint8 *>(b.constData() + at);
    return (quint32(p[0]) << 24) | (quint32(p[1]) << 16) | (quint32(p[2]) << 8) | p[3];
}

// --- HPACK (RFC 7541) without Huffman coding ---------------------------------------------------
inline QByteArray hpackInt(quint8 firstByte, int prefixBits, quint64 value)
{
    QByteArray out;
    const quint64 max = (quint64(1) << prefixBits) - 1;
    if (value < max) {
        out.append(char(firstByte | quint8(value)));
        return out;
    }
    out.append(char(firstByte | quint8(max)));
    value -= max;
    while (value >= 128) {
        out.append(char((value & 0x7f) | 0x80));
        value >>= 7;
    }
    out.append(char(value));
    return out;
}
inline QByteArray hpackString(QByteArrayView s)
{
    return hpackInt(0, 7, quint64(s.size())) + s.toByteArray();
}
//! An indexed field (RFC 7541 §6.1): 8 is ":status: 200", 13 ":status: 404".
inline QByteArray hpackIndexed(quint64 index)
{
    return hpackInt(0x80, 7, index);
}
//! A literal field with a new name, added to the dynamic table when \a index.
inline QByteArray hpackLiteral(QByteArrayView name, QByteArrayView value, bool index = false)
{
    return QByteArray(1, char(index ? 0x40 : 0x00)) + hpackString(name) + hpackString(value);
}
inline QByteArray hpackFields(const Fields &fields)
{
    QByteArray out;
    for (const auto &[n, v] : fields)
        out += hpackLiteral(n, v);
    return out;
}

// --- an in-process libnghttp2 server -----------------------------------------------------------
class ServerPeer
{
public:
    struct Stream
    {
        Fields request; //!< the request's fields, pseudo-fields included, in order
        QByteArray body; //!< the request body received
        bool ended = false; //!< END_STREAM received
        bool resetByClient = false;
        quint32 resetCode = 0;
        QByteArray out; //!< response body still to send
        qsizetype outPos = 0;
        Fields trailers;
    };

    //! \a settings: the server's SETTINGS; \a messaging false turns libnghttp2's checks off, so
    //! the server may send malformed responses.
    explicit ServerPeer(
        const std::vector<nghttp2_settings_entry> &settings = {}, bool messaging = true)
    {
        nghttp2_session_callbacks *cb = nullptr;
        nghttp2_session_callbacks_new(&cb);
        nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &ServerPeer::onBeginHeaders);
        nghttp2_session_callbacks_set_on_header_callback(cb, &ServerPeer::onHeader);
        nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &ServerPeer::onFrameRecv);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &ServerPeer::onData);
        nghttp2_option *opt = nullptr;
        nghttp2_option_new(&opt);
        if (!messaging)
            nghttp2_option_set_no_http_messaging(opt, 1);
        nghttp2_session_server_new2(&m_session, cb, this, opt);
        nghttp2_option_del(opt);
        nghttp2_session_callbacks_del(cb);
        nghttp2_submit_settings(m_session, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
    }
    ~ServerPeer() { nghttp2_session_del(m_session); }
    ServerPeer(const ServerPeer &) = delete;
    ServerPeer &operator=(const ServerPeer &) = delete;

    nghttp2_session *session() const { return m_session; }
    std::map<qint32, Stream> streams;
    int rstReceived = 0;
    bool failed = false;

    void receive(const QByteArray &bytes)
    {
        if (nghttp2_session_mem_recv(
                m_session, reinterpret_cast<const uint8_t *>(bytes.data()), size_t(bytes.size()))
            < 0)
            failed = true;
    }
    QByteArray output()
    {
        QByteArray out;
        for (;;) {
            const uint8_t *data = nullptr;
            const ssize_t n = nghttp2_session_mem_send(m_session, &data);
            if (n <= 0)
                break;
            out.append(reinterpret_cast<const char *>(data), qsizetype(n));
        }
        return out;
    }

    static std::vector<nghttp2_nv> nvOf(const Fields &fields)
    {
        std::vector<nghttp2_nv> nva;
        for (const auto &[n, v] : fields)
            nva.push_back({reinterpret_cast<uint8_t *>(const_cast<char *>(n.constData())),
                reinterpret_cast<uint8_t *>(const_cast<char *>(v.constData())), size_t(n.size()),
                size_t(v.size()), NGHTTP2_NV_FLAG_NONE});
        return nva;
    }

    //! A response: \a head (with ":status"), then \a body (none when it is null) and
    //! \a trailers.
    void respond(qint32 id, const Fields &head, const QByteArray &body = QByteArray(),
        const Fields &trailers = {})
    {
        Stream &s = streams[id];
        s.out = body;
        s.outPos = 0;
        s.trailers = trailers;
        const auto nva = nvOf(head);
        nghttp2_data_provider provider;
        provider.source.ptr = nullptr;
        provider.read_callback = &ServerPeer::readBody;
        const bool hasData = !body.isNull() || !trailers.isEmpty();
        nghttp2_submit_response(
            m_session, id, nva.data(), nva.size(), hasData ? &provider : nullptr);
    }
    //! A HEADERS frame of \a fields alone (an interim head, or anything raw).
    void headers(qint32 id, const Fields &fields, bool endStream = false)
    {
        const auto nva = nvOf(fields);
        nghttp2_submit_headers(m_session, endStream ? NGHTTP2_FLAG_END_STREAM : 0, id, nullptr,
            nva.data(), nva.size(), nullptr);
    }
    void reset(qint32 id, quint32 code)
    {
        nghttp2_submit_rst_stream(m_session, NGHTTP2_FLAG_NONE, id, code);
    }
    void goAway(qint32 lastStreamId, quint32 code, QByteArrayView debug = {})
    {
        nghttp2_submit_goaway(m_session, NGHTTP2_FLAG_NONE, lastStreamId, code,
            reinterpret_cast<const uint8_t *>(debug.data()), size_t(debug.size()));
    }
    void resume(qint32 id) { nghttp2_session_resume_data(m_session, id); }

private:
    static ServerPeer *of(void *p) { return static_cast<ServerPeer *>(p); }
    static int onBeginHeaders(nghttp2_session *, const nghttp2_frame *frame, void *p)
    {
        of(p)->streams[frame->hd.stream_id];
        return 0;
    }
    static int onHeader(nghttp2_session *, const nghttp2_frame *frame, const uint8_t *name,
        size_t nameLen, const uint8_t *value, size_t valueLen, uint8_t, void *p)
    {
        of(p)->streams[frame->hd.stream_id].request.append(
            {QByteArray(reinterpret_cast<const char *>(name), qsizetype(nameLen)),
                QByteArray(reinterpret_cast<const char *>(value), qsizetype(valueLen))});
        return 0;
    }
    static int onFrameRecv(nghttp2_session *, const nghttp2_frame *frame, void *p)
    {
        ServerPeer *self = of(p);
        if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)
            && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
            self->streams[frame->hd.stream_id].ended = true;
        if (frame->hd.type == NGHTTP2_RST_STREAM) {
            Stream &s = self->streams[frame->hd.stream_id];
            s.resetByClient = true;
            s.resetCode = frame->rst_stream.error_code;
            ++self->rstReceived;
        }
        return 0;
    }
    static int onData(
        nghttp2_session *, uint8_t, int32_t id, const uint8_t *data, size_t len, void *p)
    {
        of(p)->streams[id].body.append(reinterpret_cast<const char *>(data), qsizetype(len));
        return 0;
    }
    static ssize_t readBody(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
        uint32_t *flags, nghttp2_data_source *, void *p)
    {
        Stream &s = of(p)->streams[id];
        const size_t n = std::min(size_t(s.out.size() - s.outPos), length);
        std::memcpy(buf, s.out.constData() + s.outPos, n);
        s.outPos += qsizetype(n);
        if (s.outPos == s.out.size()) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
            if (!s.trailers.isEmpty()) {
                *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
                const auto nva = nvOf(s.trailers);
                nghttp2_submit_trailer(session, id, nva.data(), nva.size());
            }
        }
        return ssize_t(n);
    }

    nghttp2_session *m_session = nullptr;
};

//! Moves bytes between \a client and \a server until neither has anything to say. Every byte
//! the server sends is also appended to wire (for replays), and fed whole or one byte at a
//! time (bytewise). Events stay in the client.
struct Link
{
    Link(ClientSession &c, ServerPeer &s, bool byteAtATime = false)
        : client(c)
        , server(s)
        , bytewise(byteAtATime)
    {
    }
    ClientSession &client;
    ServerPeer &server;
    bool bytewise = false;
    QByteArray wire;
    bool clientOk = true;

    void feed(const QByteArray &bytes)
    {
        wire += bytes;
        if (!bytewise) {
            clientOk = client.receive(bytes) && clientOk;
            return;
        }
        for (qsizetype i = 0; i < bytes.size(); ++i)
            clientOk = client.receive(QByteArrayView(bytes).sliced(i, 1)) && clientOk;
    }

    void pump()
    {
        for (int round = 0; round < 100000; ++round) {
            const QByteArray up = client.takeOutput();
            if (!up.isEmpty())
                server.receive(up);
            const QByteArray down = server.output();
            if (!down.isEmpty())
                feed(down);
            if (up.isEmpty() && down.isEmpty())
                return;
        }
    }
};

//! A GET request for \a path on example.test.
inline ClientSession::Request get(const QByteArray &path = QByteArrayLiteral("/"),
    const QByteArray &method = QByteArrayLiteral("GET"))
{
    ClientSession::Request r;
    r.method = method;
    r.scheme = QByteArrayLiteral("https");
    r.authority = QByteArrayLiteral("example.test");
    r.path = path;
    return r;
}

} // namespace Http2Harness
