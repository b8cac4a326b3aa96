// Http2::ClientSession against an in-process libnghttp2 server (the conforming peer) and
// hand-written frames (what no conforming server sends): requests and responses, request
// bodies, flow control, resets, GOAWAY, limits, malformed responses, connection errors and
// floods with bounded memory, and split invariance (the server's bytes fed whole and one byte
// at a time give the same events).
#include "http2harness.h"

#include <QRegularExpression>
#include <QTest>

using namespace Http2Harness;
using Reqivo::Limits;
namespace H2 = Reqivo::Protocol::Http2;

namespace {

const Fields ok200 {{":status", "200"}};

QString text(const char *s)
{
    return QString::fromUtf8(s);
}
QString text(const QString &s)
{
    return s;
}
template<typename... T>
QStringList lines(const T &...items)
{
    return QStringList {text(items)...};
}

// The entries of \a log about \a stream, in order (how the server interleaves its streams
// is its own business).
QStringList ofStream(const QStringList &log, qint32 stream)
{
    QStringList out;
    for (const QString &entry : log) {
        const QStringList words = entry.split(QLatin1Char(' '));
        if (words.size() > 1 && words[1] == QString::number(stream))
            out << entry;
    }
    return out;
}

// A client with one GET (stream 1) whose HEADERS went out, and a server that sent its
// preface (SETTINGS, ACK of ours): the start of every raw-frame test.
struct RawClient
{
    explicit RawClient(
        const Limits &limits = {}, const H2::Settings &settings = {}, int requests = 1)
        : client(limits, settings)
    {
        for (int i = 0; i < requests; ++i)
            ids << client.submitRequest(get());
        (void)client.takeOutput();
        ok = client.receive(serverPreface());
        recorder.take(client);
    }
    bool feed(const QByteArray &bytes)
    {
        ok = client.receive(bytes) && ok;
        recorder.take(client);
        return ok;
    }
    ClientSession client;
    Recorder recorder;
    QList<qint32> ids;
    bool ok = false;
};

QByteArray headersFrame(quint32 stream, const QByteArray &block, quint8 flags = END_HEADERS)
{
    return frame(HEADERS, flags, stream, block);
}

qint64 outputFramesOfType(const QByteArray &out, quint8 type)
{
    qint64 n = 0;
    for (const Frame &f : parseFrames(out))
        n += f.type == type;
    return n;
}

} // namespace

class TestHttp2Session : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void preface();
    void requestFields_data();
    void requestFields();
    void refusedRequestFields_data();
    void refusedRequestFields();
    void getWithBody();
    void postBodyInPieces();
    void bodyLowWater();
    void interimThenFinal();
    void trailers();
    void responsesWithoutBody_data();
    void responsesWithoutBody();
    void resetByServer_data();
    void resetByServer();
    void resetByClient();
    void resetBeforeHeadersWentOut();
    void goAway();
    void goAwayWithError();
    void maxConcurrentStreams();
    void flowControlPerStream();
    void connectionWindowGivenBack();
    void headerLimits_data();
    void headerLimits();
    void tooManyInterimHeads();
    void maxBodyBytes_data();
    void maxBodyBytes();
    void malformedResponses_data();
    void malformedResponses();
    void connectionErrors_data();
    void connectionErrors();
    void continuationsInSmallReads();
    void eofMidStream();
    void ping();
    void splitInvariance();
    void splitInvarianceRaw_data();
    void splitInvarianceRaw();
};

void TestHttp2Session::preface()
{
    ClientSession client;
    QVERIFY(client.isValid());
    QVERIFY(client.wantsWrite());
    const QByteArray out = client.takeOutput();
    QVERIFY(out.startsWith("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    const QList<Frame> frames = parseFrames(out, true);
    QCOMPARE(frames.size(), 2);
    QCOMPARE(frames[0].type, quint8(SETTINGS));
    QMap<quint16, quint32> settings;
    for (qsizetype i = 0; i + 6 <= frames[0].payload.size(); i += 6)
        settings[quint16((quint8(frames[0].payload[i]) << 8) | quint8(frames[0].payload[i + 1]))]
            = readBe32(frames[0].payload, i + 2);
    QCOMPARE(settings.value(NGHTTP2_SETTINGS_ENABLE_PUSH, 1), 0u);
    QCOMPARE(settings.value(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE), 4u * 1024 * 1024);
    QCOMPARE(settings.value(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE), 8192u);
    QVERIFY(!settings.contains(NGHTTP2_SETTINGS_MAX_FRAME_SIZE));
    // The connection window: 64 MiB at once.
    QCOMPARE(frames[1].type, quint8(WINDOW_UPDATE));
    QCOMPARE(frames[1].stream, 0u);
    QCOMPARE(readBe32(frames[1].payload, 0), 64u * 1024 * 1024 - 65535);
    QVERIFY(client.takeOutput().isEmpty());
    QVERIFY(!client.wantsWrite());
    QCOMPARE(client.remoteMaxConcurrentStreams(), 100u);
    QVERIFY(client.canOpenStream());
    QVERIFY(!client.hasFailed());
}

void TestHttp2Session::requestFields_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("authority");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<Fields>("fields");
    QTest::addColumn<Fields>("expected");
    QTest::newRow("pseudo-fields first, names in lower case")
        << QByteArray("GET") << QByteArray("example.test") << QByteArray("/a?b=c")
        << Fields {{"Accept", "text/plain"}, {"X-Two", "1"}, {"x-two", "2"}}
        << Fields {{":method", "GET"}, {":scheme", "https"}, {":authority", "example.test"},
               {":path", "/a?b=c"}, {"accept", "text/plain"}, {"x-two", "1"}, {"x-two", "2"}};
    QTest::newRow("Host becomes :authority")
        << QByteArray("GET") << QByteArray() << QByteArray("/")
        << Fields {{"Host", "h.test:8443"}, {"accept", "*/*"}}
        << Fields {{":method", "GET"}, {":scheme", "https"}, {":authority", "h.test:8443"},
               {":path", "/"}, {"accept", "*/*"}};
    QTest::newRow("Host dropped beside an authority")
        << QByteArray("GET") << QByteArray("a.test") << QByteArray("/")
        << Fields {{"Host", "b.test"}}
        << Fields {
               {":method", "GET"}, {":scheme", "https"}, {":authority", "a.test"}, {":path", "/"}};
    QTest::newRow("connection-specific fields dropped")
        << QByteArray("GET") << QByteArray("a.test") << QByteArray("/")
        << Fields {{"Connection", "keep-alive, X-Hop"}, {"Keep-Alive", "timeout=5"},
               {"Proxy-Connection", "close"}, {"Transfer-Encoding", "chunked"},
               {"Upgrade", "websocket"}, {"X-Hop", "1"}, {"TE", "gzip"}, {"x-kept", "yes"}}
        << Fields {{":method", "GET"}, {":scheme", "https"}, {":authority", "a.test"},
               {":path", "/"}, {"x-kept", "yes"}};
    QTest::newRow("TE: trailers is kept")
        << QByteArray("GET") << QByteArray("a.test") << QByteArray("/")
        << Fields {{"TE", " Trailers "}}
        << Fields {{":method", "GET"}, {":scheme", "https"}, {":authority", "a.test"},
               {":path", "/"}, {"te", "trailers"}};
    QTest::newRow("an empty path is /")
        << QByteArray("OPTIONS") << QByteArray("a.test") << QByteArray() << Fields {}
        << Fields {{":method", "OPTIONS"}, {":scheme", "https"}, {":authority", "a.test"},
               {":path", "/"}};
    QTest::newRow("CONNECT has no :scheme or :path")
        << QByteArray("CONNECT") << QByteArray("tunnel.test:443") << QByteArray() << Fields {}
        << Fields {{":method", "CONNECT"}, {":authority", "tunnel.test:443"}};
}

void TestHttp2Session::requestFields()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, authority);
    QFETCH(QByteArray, path);
    QFETCH(Fields, fields);
    QFETCH(Fields, expected);
    ClientSession client;
    ServerPeer server;
    Link link {client, server};
    ClientSession::Request r = get(path, method);
    r.authority = authority;
    for (const auto &[n, v] : fields)
        r.fields.add(n, v);
    QString error;
    const qint32 id = client.submitRequest(r, &error);
    QCOMPARE(id, 1);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    link.pump();
    QVERIFY(!server.failed);
    QCOMPARE(server.streams[id].request, expected);
    QVERIFY(server.streams[id].ended);
}

void TestHttp2Session::refusedRequestFields_data()
{
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QByteArray>("value");
    QTest::newRow("LF in a value") << QByteArray("x-a") << QByteArray("a\nb");
    QTest::newRow("NUL in a value") << QByteArray("x-a") << QByteArray("a\0b", 3);
    QTest::newRow("space in a name") << QByteArray("x a") << QByteArray("1");
    QTest::newRow("a pseudo-field") << QByteArray(":path") << QByteArray("/x");
    QTest::newRow("an empty name") << QByteArray() << QByteArray("1");
}

void TestHttp2Session::refusedRequestFields()
{
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, value);
    ClientSession client;
    ClientSession::Request r = get();
    r.fields.add(name, value);
    QString error;
    QCOMPARE(client.submitRequest(r, &error), 0);
    QVERIFY(!error.isEmpty());
    QCOMPARE(client.openStreams(), 0);
    // The session is unharmed.
    QCOMPARE(client.submitRequest(get()), 1);
}

void TestHttp2Session::getWithBody()
{
    ClientSession client;
    ServerPeer server;
    Link link {client, server};
    const qint32 id = client.submitRequest(get("/hello"));
    QCOMPARE(id, 1);
    QCOMPARE(client.openStreams(), 1);
    link.pump();
    QVERIFY(server.streams[id].ended);
    server.respond(id, {{":status", "200"}, {"content-type", "text/plain"}, {"x-b", "2"}}, "hello");
    link.pump();
    QVERIFY(link.clientOk);
    Recorder rec;
    rec.take(client);
    QCOMPARE(rec.log(),
        (lines("settings", "head 1 200 content-type=text/plain;x-b=2", "data 1 'hello'", "end 1")));
    QCOMPARE(client.openStreams(), 0);
    QVERIFY(!client.hasFailed());
    QVERIFY(client.canOpenStream());
}

void TestHttp2Session::postBodyInPieces()
{
    ClientSession client;
    ServerPeer server;
    Link link {client, server};
    ClientSession::Request r = get("/upload", "POST");
    r.hasBody = true;
    const qint32 id = client.submitRequest(r);
    QCOMPARE(id, 1);
    link.pump();
    Recorder rec;
    rec.take(client);
    QCOMPARE(rec.log(), (lines("bodywanted 1", "settings")));
    QVERIFY(!server.streams[id].ended);
    QVERIFY(server.streams[id].body.isEmpty());

    // The data provider was deferred with nothing queued: appendBody() resumes it.
    client.appendBody(id, "abc");
    QCOMPARE(client.queuedBodyBytes(id), 3);
    link.pump();
    QCOMPARE(client.queuedBodyBytes(id), 0);
    QCOMPARE(server.streams[id].body, QByteArray("abc"));
    QVERIFY(!server.streams[id].ended);
    rec.clear();
    rec.take(client);
    QCOMPARE(rec.log(), lines("bodywanted 1"));

    // No new BodyWanted without an appendBody() in between.
    link.pump();
    QVERIFY(!client.hasEvents());

    client.appendBody(id, "de");
    client.appendBody(id, "f");
    client.endBody(id);
    link.pump();
    QCOMPARE(server.streams[id].body, QByteArray("abcdef"));
    QVERIFY(server.streams[id].ended);
    rec.clear();
    rec.take(client);
    QVERIFY(rec.log().isEmpty());

    server.respond(id, {{":status", "201"}});
    link.pump();
    rec.take(client);
    QCOMPARE(rec.log(), (lines("head 1 201 ", "end 1")));
}

void TestHttp2Session::bodyLowWater()
{
    // The server's stream window is 16 bytes and opens as it reads: what is queued drains
    // slowly, and BodyWanted comes only once it is below the low-water mark.
    H2::Settings settings;
    settings.bodyLowWaterBytes = 10;
    ClientSession client({}, settings);
    ServerPeer server({{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 16}});
    Link link {client, server};
    link.pump(); // the SETTINGS first, so the small window applies to the stream
    Recorder rec;
    rec.take(client);
    ClientSession::Request r = get("/", "PUT");
    r.hasBody = true;
    const qint32 id = client.submitRequest(r);
    client.appendBody(id, QByteArray(100, 'x'));
    const QByteArray first = client.takeOutput();
    QCOMPARE(client.queuedBodyBytes(id), 100 - 16);
    QVERIFY(!client.hasEvents()); // 84 queued: above the mark
    server.receive(first);
    link.pump();
    QCOMPARE(client.queuedBodyBytes(id), 0);
    QCOMPARE(server.streams[id].body, QByteArray(100, 'x'));
    rec.take(client);
    QCOMPARE(rec.log(), (lines("settings", "bodywanted 1")));
    client.endBody(id);
    link.pump();
    QVERIFY(server.streams[id].ended);
}

void TestHttp2Session::interimThenFinal()
{
    ClientSession client;
    ServerPeer server;
    Link link {client, server};
    const qint32 id = client.submitRequest(get());
    link.pump();
    server.headers(id, {{":status", "103"}, {"link", "</s.css>; rel=preload"}});
    server.headers(id, {{":status", "100"}});
    server.respond(id, {{":status", "200"}}, "body");
    link.pump();
    Recorder rec;
    rec.take(client);
    QCOMPARE(rec.logWithoutSettings(),
        (lines("head 1 103 link=</s.css>; rel=preload", "head 1 100 ", "head 1 200 ",
            "data 1 'body'", "end 1")));
}

void TestHttp2Session::trailers()
{
    ClientSession client;
    ServerPeer server;
    Link link {client, server};
    const qint32 id = client.submitRequest(get());
    link.pump();
    server.respond(id, ok200, "abc", {{"grpc-status", "0"}, {"x-checksum", "123"}});
    link.pump();
    Recorder rec;
    rec.take(client);
    QCOMPARE(rec.logWithoutSettings(),
        (lines("head 1 200 ", "data 1 'abc'", "trailers 1 grpc-status=0;x-checksum=123", "end 1")));
}

void TestHttp2Session::responsesWithoutBody_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("status");
    QTest::newRow("HEAD with content-length") << QByteArray("HEAD") << QByteArray("200");
    QTest::newRow("204") << QByteArray("GET") << QByteArray("204");
    QTest::newRow("304 with content-length") << QByteArray("GET") << QByteArray("304");
}

void TestHttp2Session::responsesWithoutBody()
{
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, status);
    ClientSession client;
    ServerPeer server;
    Link link {client, server};
    const qint32 id = client.submitRequest(get("/", method));
    link.pump();
    Fields head {{":status", status}};
    if (status != "204")
        head.append(std::pair<QByteArray, QByteArray>("content-length", "1234"));
    server.respond(id, head);
    link.pump();
    Recorder rec;
    rec.take(client);
    const QString fields = status != "204" ? QStringLiteral("content-length=1234") : QString();
    QCOMPARE(rec.logWithoutSettings(),
        (lines(QStringLiteral("head 1 %1 %2").arg(QString::fromLatin1(status), fields), "end 1")));
}

void TestHttp2Session::resetByServer_data()
{
    QTest::addColumn<quint32>("code");
    QTest::addColumn<QString>("name");
    QTest::newRow("INTERNAL_ERROR")
        << quint32(H2::InternalError) << QStringLiteral("INTERNAL_ERROR");
    QTest::newRow("REFUSED_STREAM")
        << quint32(H2::RefusedStream) << QStringLiteral("REFUSED_STREAM");
    QTest::newRow("CANCEL") << quint32(H2::Cancel) << QStringLiteral("CANCEL");
    QTest::newRow("HTTP_1_1_REQUIRED")
        << quint32(H2::Http11Required) << QStringLiteral("HTTP_1_1_REQUIRED");
    QTest::newRow("an unknown code") << quint32(0x1f) << QStringLiteral("0x1f");
}

void TestHttp2Session::resetByServer()
{
    QFETCH(quint32, code);
    QFETCH(QString, name);
    ClientSession client;
    ServerPeer server;
    Link link {client, server};
    const qint32 a = client.submitRequest(get("/a"));
    const qint32 b = client.submitRequest(get("/b"));
    link.pump();
    server.reset(a, code);
    server.respond(b, ok200, "fine");
    link.pump();
    Recorder rec;
    rec.take(client);
    QCOMPARE(rec.logWithoutSettings(),
        (lines(QStringLiteral("reset 1 ResetByPeer %1").arg(name), "head 3 200 ", "data 3 'fine'",
            "end 3")));
    QVERIFY(!client.hasFailed());
    QVERIFY(client.canOpenStream());
    QCOMPARE(client.openStreams(), 0);
}

void TestHttp2Session::resetByClient()
{
    H2::Settings settings;
    settings.streamWindowBytes = 65536; // stream 1's body stops there, the stream stays open
    ClientSession client({}, settings);
    ServerPeer server;
    Link link {client, server};
    const qint32 a = client.submitRequest(get("/a"));
    const qint32 b = client.submitRequest(get("/b"));
    link.pump();
    // The head and some data of stream 1 wait in the client, unread: reset drops them too.
    server.respond(a, ok200, QByteArray(100000, 'a'));
    link.pump();
    QVERIFY(client.hasEvents());
    client.resetStream(a);
    link.pump();
    QVERIFY(server.streams[a].resetByClient);
    QCOMPARE(server.streams[a].resetCode, quint32(H2::Cancel));
    Recorder rec;
    rec.take(client);
    QCOMPARE(rec.logWithoutSettings(), QStringList());
    client.resetStream(a); // harmless once closed
    client.consume(a, 10);
    link.pump();
    QCOMPARE(server.rstReceived, 1);

    // The session stays usable: stream 3 and a new stream 5 complete.
    server.respond(b, ok200, "b");
    const qint32 c = client.submitRequest(get("/c"));
    QCOMPARE(c, 5);
    link.pump();
    server.respond(c, ok200, "c");
    link.pump();
    rec.take(client);
    QCOMPARE(rec.logWithoutSettings(),
        (lines("head 3 200 ", "data 3 'b'", "end 3", "head 5 200 ", "data 5 'c'", "end 5")));
    QVERIFY(link.clientOk);
    QVERIFY(!client.hasFailed());
}

void TestHttp2Session::resetBeforeHeadersWentOut()
{
    ClientSession client;
    ServerPeer server;
    Link link {client, server};
    const qint32 a = client.submitRequest(get("/a"));
    client.resetStream(a, H2::Cancel);
    QCOMPARE(client.openStreams(), 0);
    link.pump();
    // Nothing of stream 1 reached the server: neither HEADERS nor RST_STREAM.
    QVERIFY(server.streams.empty());
    QCOMPARE(server.rstReceived, 0);
    Recorder rec;
    rec.take(client);
    QCOMPARE(rec.logWithoutSettings(), QStringList());
    const qint32 b = client.submitRequest(get("/b"));
    link.pump();
    server.respond(b, ok200, "b");
    link.pump();
    rec.take(client);
    QCOMPARE(rec.logWithoutSettings(), (lines("head 3 200 ", "data 3 'b'", "end 3")));
}

void TestHttp2Session::goAway()
{
    ClientSession client;
    ServerPeer server;
    Link link {client, server};
    for (int i = 0; i < 3; ++i)
        client.submitRequest(get());
    link.pump();
    QCOMPARE(server.streams.size(), size_t(3)); // 1, 3 and 5 went out
    const qint32 late = client.submitRequest(get()); // 7: not yet sent when GOAWAY comes
    QCOMPARE(late, 7);
    server.goAway(3, H2::NoError, "bye");
    link.feed(server.output());
    Recorder rec;
    rec.take(client);
    QCOMPARE(rec.logWithoutSettings(),
        (lines("reset 5 RefusedByGoAway REFUSED_STREAM", "reset 7 RefusedByGoAway REFUSED_STREAM",
            "goaway last=3 NO_ERROR 'bye'")));
    QVERIFY(client.hasReceivedGoAway());
    QVERIFY(!client.canOpenStream());
    QVERIFY(!client.hasFailed());
    QString error;
    QCOMPARE(client.submitRequest(get(), &error), 0);
    QVERIFY(!error.isEmpty());

    // Streams 1 and 3 finish.
    link.pump();
    QVERIFY(!server.streams.count(7));
    server.respond(1, ok200, "one");
    server.respond(3, ok200, "three");
    link.pump();
    QVERIFY(link.clientOk);
    rec.clear();
    rec.take(client);
    QCOMPARE(rec.log().size(), 6);
    QCOMPARE(ofStream(rec.log(), 1), lines("head 1 200 ", "data 1 'one'", "end 1"));
    QCOMPARE(ofStream(rec.log(), 3), lines("head 3 200 ", "data 3 'three'", "end 3"));
    QCOMPARE(client.openStreams(), 0);
}

void TestHttp2Session::goAwayWithError()
{
    ClientSession client;
    ServerPeer server;
    Link link {client, server};
    client.submitRequest(get());
    client.submitRequest(get());
    link.pump();
    server.goAway(1, H2::InternalError, "oops");
    link.pump();
    QVERIFY(link.clientOk); // stream 1 may still finish
    QVERIFY(client.hasFailed());
    QCOMPARE(client.errorCode(), quint32(H2::InternalError));
    QVERIFY(client.errorMessage().contains(QStringLiteral("INTERNAL_ERROR")));
    Recorder rec;
    rec.take(client);
    QCOMPARE(rec.logWithoutSettings(),
        (lines("reset 3 RefusedByGoAway REFUSED_STREAM", "goaway last=1 INTERNAL_ERROR 'oops'")));
    client.receiveEof();
    rec.clear();
    rec.take(client);
    QCOMPARE(rec.log(), lines("reset 1 ConnectionError INTERNAL_ERROR"));
}

void TestHttp2Session::maxConcurrentStreams()
{
    {
        ClientSession client;
        ServerPeer server({{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1}});
        Link link {client, server};
        QCOMPARE(client.remoteMaxConcurrentStreams(), 100u);
        link.pump();
        QCOMPARE(client.remoteMaxConcurrentStreams(), 1u);
        Recorder rec;
        rec.take(client);
        QCOMPARE(rec.log(), lines("settings"));
        // A second stream waits in the client until the first closes.
        client.submitRequest(get());
        client.submitRequest(get());
        link.pump();
        QCOMPARE(server.streams.size(), size_t(1));
        server.respond(1, ok200, "1");
        link.pump();
        QCOMPARE(server.streams.size(), size_t(2));
        server.respond(3, ok200, "3");
        link.pump();
        rec.take(client);
        QCOMPARE(rec.log(),
            (lines("settings", "head 1 200 ", "data 1 '1'", "end 1", "head 3 200 ", "data 3 '3'",
                "end 3")));
    }
    {
        ClientSession client;
        ServerPeer server;
        Link link {client, server};
        link.pump();
        QCOMPARE(client.remoteMaxConcurrentStreams(), 0x7fffffffu);
    }
}

void TestHttp2Session::flowControlPerStream()
{
    H2::Settings settings;
    settings.streamWindowBytes = 64 * 1024;
    ClientSession client({}, settings);
    ServerPeer server;
    Link link {client, server};
    const qint32 a = client.submitRequest(get("/a"));
    const qint32 b = client.submitRequest(get("/b"));
    link.pump();
    const QByteArray bodyA(200 * 1024, 'a');
    const QByteArray bodyB(200 * 1024, 'b');
    server.respond(a, ok200, bodyA);
    server.respond(b, ok200, bodyB);
    link.pump();
    Recorder rec;
    rec.take(client);
    // Nothing consumed: each stream got exactly its window, no more.
    QCOMPARE(rec.body(a).size(), 64 * 1024);
    QCOMPARE(rec.body(b).size(), 64 * 1024);

    // Stream 1's reader stops; stream 3's goes on: only stream 3 moves.
    qsizetype consumedB = 0;
    while (rec.body(b).size() > consumedB) {
        client.consume(b, rec.body(b).size() - consumedB);
        consumedB = rec.body(b).size();
        link.pump();
        rec.take(client);
    }
    QCOMPARE(rec.body(b), bodyB);
    QCOMPARE(rec.body(a).size(), 64 * 1024);
    QVERIFY(rec.log().contains(QStringLiteral("end 3")));
    QVERIFY(!rec.log().contains(QStringLiteral("end 1")));

    // Stream 1's reader resumes: the rest flows.
    qsizetype consumed = 0;
    while (rec.body(a).size() > consumed) {
        client.consume(a, rec.body(a).size() - consumed);
        consumed = rec.body(a).size();
        link.pump();
        rec.take(client);
    }
    QCOMPARE(rec.body(a), bodyA);
    QVERIFY(rec.log().contains(QStringLiteral("end 1")));
    QVERIFY(link.clientOk);
}

void TestHttp2Session::connectionWindowGivenBack()
{
    // 4 MiB over two streams through a 1 MiB connection window, nothing consumed: the
    // connection window is given back as DATA arrives, so only the stream windows count.
    H2::Settings settings;
    settings.connectionWindowBytes = 1024 * 1024;
    settings.streamWindowBytes = 4 * 1024 * 1024;
    ClientSession client({}, settings);
    ServerPeer server;
    Link link {client, server};
    const qint32 a = client.submitRequest(get("/a"));
    const qint32 b = client.submitRequest(get("/b"));
    link.pump();
    server.respond(a, ok200, QByteArray(2 * 1024 * 1024, 'a'));
    server.respond(b, ok200, QByteArray(2 * 1024 * 1024, 'b'));
    link.pump();
    Recorder rec;
    rec.take(client);
    QCOMPARE(rec.body(a).size(), 2 * 1024 * 1024);
    QCOMPARE(rec.body(b).size(), 2 * 1024 * 1024);
    QVERIFY(rec.log().contains(QStringLiteral("end 1")));
    QVERIFY(rec.log().contains(QStringLiteral("end 3")));
}

void TestHttp2Session::headerLimits_data()
{
    QTest::addColumn<Limits>("limits");
    QTest::addColumn<Fields>("head");
    QTest::addColumn<Fields>("trailers");
    QTest::addColumn<QString>("expected");
    Limits small;
    small.maxHeaderBytes = 1024;
    small.maxFieldCount = 5;
    const QByteArray big(1100, 'v');
    Fields many;
    for (int i = 0; i < 6; ++i)
        many.append({"x-f" + QByteArray::number(i), "1"});
    Fields five = many.mid(0, 5);
    QTest::newRow("head too large")
        << small << Fields {{":status", "200"}, {"x-big", big}} << Fields {}
        << QStringLiteral("reset 1 HeaderTooLarge PROTOCOL_ERROR");
    QTest::newRow("head one byte over")
        // 32 + 7 + 3 (:status) + 32 + 5 + value = 1025
        << small << Fields {{":status", "200"}, {"x-big", QByteArray(1025 - 79, 'v')}} << Fields {}
        << QStringLiteral("reset 1 HeaderTooLarge PROTOCOL_ERROR");
    QTest::newRow("too many fields") << small << (Fields {{":status", "200"}} + many) << Fields {}
                                     << QStringLiteral("reset 1 TooManyFields PROTOCOL_ERROR");
    QTest::newRow("trailers too large") << small << ok200 << Fields {{"x-big", big}}
                                        << QStringLiteral("reset 1 HeaderTooLarge PROTOCOL_ERROR");
    QTest::newRow("too many trailer fields")
        << small << ok200 << many << QStringLiteral("reset 1 TooManyFields PROTOCOL_ERROR");
    QTest::newRow("at the field limit")
        << small << (Fields {{":status", "200"}} + five) << five << QStringLiteral("end 1");
    QTest::newRow("at the size limit")
        << small << Fields {{":status", "200"}, {"x-big", QByteArray(1024 - 79, 'v')}} << Fields {}
        << QStringLiteral("end 1");
}

void TestHttp2Session::headerLimits()
{
    QFETCH(Limits, limits);
    QFETCH(Fields, head);
    QFETCH(Fields, trailers);
    QFETCH(QString, expected);
    ClientSession client(limits);
    ServerPeer server;
    Link link {client, server};
    const qint32 a = client.submitRequest(get("/a"));
    const qint32 b = client.submitRequest(get("/b"));
    link.pump();
    server.respond(a, head, "x", trailers);
    server.respond(b, ok200, "other");
    link.pump();
    QVERIFY(link.clientOk);
    Recorder rec;
    rec.take(client);
    const QStringList log = rec.log();
    QCOMPARE(log.filter(QRegularExpression(QStringLiteral("^(reset|end) 1"))), lines(expected));
    if (expected.startsWith(QStringLiteral("reset"))) {
        QVERIFY(server.streams[a].resetByClient);
        QCOMPARE(server.streams[a].resetCode, quint32(H2::ProtocolErrorCode));
    }
    // Only that stream: the other completes, and the session takes new requests.
    QVERIFY(log.contains(QStringLiteral("end 3")));
    QVERIFY(!client.hasFailed());
    const qint32 c = client.submitRequest(get("/c"));
    link.pump();
    server.respond(c, ok200, "c");
    link.pump();
    rec.clear();
    rec.take(client);
    QCOMPARE(rec.log(), (lines("head 5 200 ", "data 5 'c'", "end 5")));
}

void TestHttp2Session::tooManyInterimHeads()
{
    Limits limits;
    limits.maxInterimResponses = 3;
    ClientSession client(limits);
    ServerPeer server;
    Link link {client, server};
    const qint32 id = client.submitRequest(get());
    link.pump();
    for (int i = 0; i < 5; ++i)
        server.headers(id, {{":status", "103"}});
    link.pump();
    Recorder rec;
    rec.take(client);
    QCOMPARE(rec.logWithoutSettings(),
        (lines("head 1 103 ", "head 1 103 ", "head 1 103 ", "reset 1 BadMessage PROTOCOL_ERROR")));
}

void TestHttp2Session::maxBodyBytes_data()
{
    QTest::addColumn<bool>("bytewise");
    QTest::newRow("whole") << false;
    QTest::newRow("bytewise") << true;
}

void TestHttp2Session::maxBodyBytes()
{
    QFETCH(bool, bytewise);
    Limits limits;
    limits.maxBodyBytes = 1000;
    ClientSession client(limits);
    ServerPeer server;
    Link link {client, server, bytewise};
    const qint32 a = client.submitRequest(get("/a"));
    const qint32 b = client.submitRequest(get("/b"));
    const qint32 c = client.submitRequest(get("/c"));
    const qint32 d = client.submitRequest(get("/d", "HEAD"));
    link.pump();
    QByteArray body;
    for (int i = 0; i < 5000; ++i)
        body.append(char('a' + i % 26));
    server.respond(a, ok200, body);
    server.respond(b, ok200, body.left(1000)); // exactly the limit: fine
    // Announced beyond the limit: refused at the head, as over HTTP/1.1.
    server.respond(c, {{":status", "200"}, {"content-length", "5000"}}, body);
    // HEAD: Content-Length says nothing of a body.
    server.respond(d, {{":status", "200"}, {"content-length", "5000"}});
    link.pump();
    Recorder rec;
    rec.take(client);
    QCOMPARE(rec.body(a), body.left(1000));
    QCOMPARE(rec.body(b), body.left(1000));
    const QStringList log = rec.log();
    QCOMPARE(ofStream(log, a),
        lines(
            "head 1 200 ", Recorder::dataEntry(1, body.left(1000)), "reset 1 BodyTooLarge CANCEL"));
    QCOMPARE(ofStream(log, b).last(), QStringLiteral("end 3"));
    QCOMPARE(ofStream(log, c), lines("reset 5 BodyTooLarge CANCEL"));
    QCOMPARE(ofStream(log, d), lines("head 7 200 content-length=5000", "end 7"));
    for (const qint32 id : {a, c}) {
        QVERIFY(server.streams[id].resetByClient);
        QCOMPARE(server.streams[id].resetCode, quint32(H2::Cancel));
    }
    QVERIFY(link.clientOk);
}

void TestHttp2Session::malformedResponses_data()
{
    QTest::addColumn<Fields>("head");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("missing :status") << Fields {{"content-type", "text/plain"}} << QByteArray("x");
    QTest::newRow("upper-case field name")
        << Fields {{":status", "200"}, {"Content-Type", "text/plain"}} << QByteArray("x");
    QTest::newRow("pseudo-field after a regular one")
        << Fields {{"content-type", "text/plain"}, {":status", "200"}} << QByteArray("x");
    QTest::newRow(":status of two digits") << Fields {{":status", "20"}} << QByteArray("x");
    QTest::newRow(":status with a letter") << Fields {{":status", "2x0"}} << QByteArray("x");
    QTest::newRow("101 Switching Protocols") << Fields {{":status", "101"}} << QByteArray();
    QTest::newRow("a request pseudo-field")
        << Fields {{":status", "200"}, {":path", "/"}} << QByteArray("x");
    QTest::newRow("two :status") << Fields {{":status", "200"}, {":status", "204"}}
                                 << QByteArray("x");
    QTest::newRow("a connection-specific field")
        << Fields {{":status", "200"}, {"connection", "close"}} << QByteArray("x");
    QTest::newRow("content-length above the data")
        << Fields {{":status", "200"}, {"content-length", "10"}} << QByteArray("12345");
    QTest::newRow("content-length below the data")
        << Fields {{":status", "200"}, {"content-length", "2"}} << QByteArray("12345");
    QTest::newRow("a bad content-length")
        << Fields {{":status", "200"}, {"content-length", "1x"}} << QByteArray("1");
}

void TestHttp2Session::malformedResponses()
{
    // Raw frames: libnghttp2 would not send most of these (it lower-cases names, for one).
    QFETCH(Fields, head);
    QFETCH(QByteArray, body);
    RawClient raw({}, {}, 2);
    QByteArray wire = headersFrame(
        1, hpackFields(head), body.isEmpty() ? END_HEADERS | END_STREAM : END_HEADERS);
    if (!body.isEmpty())
        wire += frame(DATA, END_STREAM, 1, body);
    wire += headersFrame(3, hpackIndexed(8)) + frame(DATA, END_STREAM, 3, "fine");
    QVERIFY(raw.feed(wire));
    // The Reset comes at once, or (DATA beyond Content-Length) when the RST_STREAM
    // libnghttp2 queued is written.
    const QByteArray out = raw.client.takeOutput();
    raw.recorder.take(raw.client);
    const QStringList log = raw.recorder.log();
    QCOMPARE(ofStream(log, 1).filter(QRegularExpression(QStringLiteral("^(reset|end) "))),
        lines("reset 1 BadMessage PROTOCOL_ERROR"));
    QCOMPARE(ofStream(log, 3), lines("head 3 200 ", "data 3 'fine'", "end 3"));
    // libnghttp2 told the server.
    bool rst = false;
    for (const Frame &f : parseFrames(out))
        rst = rst
            || (f.type == RST_STREAM && f.stream == 1
                && readBe32(f.payload, 0) == quint32(H2::ProtocolErrorCode));
    QVERIFY(rst);
    QVERIFY(!raw.client.hasFailed());
    QVERIFY(raw.client.canOpenStream());
    QCOMPARE(raw.client.openStreams(), 0);
}

void TestHttp2Session::connectionErrors_data()
{
    QTest::addColumn<Limits>("limits");
    QTest::addColumn<QByteArray>("input"); // after the server preface, unless noted
    QTest::addColumn<bool>("withPreface");
    QTest::addColumn<quint32>("code");
    QTest::addColumn<QString>("firstReset"); // how stream 1 ends; empty: with the connection

    const QByteArray head = headersFrame(1, hpackIndexed(8));
    QTest::newRow("an HTTP/1.1 answer instead of SETTINGS")
        << Limits() << QByteArray("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n") << false
        << quint32(H2::ProtocolErrorCode) << QString();
    QTest::newRow("PING before SETTINGS") << Limits() << frame(PING, 0, 0, QByteArray(8, '\0'))
                                          << false << quint32(H2::ProtocolErrorCode) << QString();
    QTest::newRow("HPACK garbage")
        << Limits() << headersFrame(1, QByteArray("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10))
        << true << quint32(H2::CompressionError) << QString();
    QTest::newRow("an HPACK index beyond the tables")
        << Limits() << headersFrame(1, hpackIndexed(200)) << true << quint32(H2::CompressionError)
        << QString();
    QByteArray beyondWindow = head;
    for (int i = 0; i < 5; ++i)
        beyondWindow += frame(DATA, 0, 1, QByteArray(16384, 'd'));
    Limits plain;
    QTest::newRow("DATA beyond the stream window")
        << plain << beyondWindow << true << quint32(H2::FlowControlError) << QString();
    QTest::newRow("DATA on stream 0") << Limits() << frame(DATA, 0, 0, "x") << true
                                      << quint32(H2::ProtocolErrorCode) << QString();
    QTest::newRow("a frame larger than SETTINGS_MAX_FRAME_SIZE")
        << Limits() << (head + frame(DATA, 0, 1, QByteArray(16385, 'd'))) << true
        << quint32(H2::FrameSizeError) << QString();
    QTest::newRow("PUSH_PROMISE with push disabled")
        << Limits()
        << frame(PUSH_PROMISE, END_HEADERS, 1,
               be32(2) + hpackIndexed(2) + hpackIndexed(7) + hpackIndexed(4)
                   + hpackLiteral(":authority", "a.test"))
        << true << quint32(H2::ProtocolErrorCode) << QString();
    QTest::newRow("a connection window above 2^31-1")
        << Limits() << frame(WINDOW_UPDATE, 0, 0, be32(0x7fffffff)) << true
        << quint32(H2::FlowControlError) << QString();

    // Floods: nothing taken out between the frames, as a client that stopped writing.
    QByteArray continuations = headersFrame(1, hpackIndexed(8), 0);
    for (int i = 0; i < 10000; ++i)
        continuations += frame(CONTINUATION, 0, 1, hpackLiteral("x-a", "b"));
    QTest::newRow("CONTINUATION flood")
        << Limits() << continuations << true << quint32(H2::EnhanceYourCalm) << QString();
    QByteArray emptyContinuations = headersFrame(1, hpackIndexed(8), 0);
    for (int i = 0; i < 10000; ++i)
        emptyContinuations += frame(CONTINUATION, 0, 1);
    QTest::newRow("empty CONTINUATION flood")
        << Limits() << emptyContinuations << true << quint32(H2::EnhanceYourCalm) << QString();
    QByteArray pings;
    for (int i = 0; i < 10000; ++i)
        pings += frame(PING, 0, 0, be32(quint32(i)) + be32(0));
    QTest::newRow("PING flood") << Limits() << pings << true << quint32(H2::EnhanceYourCalm)
                                << QString();
    QByteArray settingsFlood;
    for (int i = 0; i < 10000; ++i)
        settingsFlood += settingsFrame();
    QTest::newRow("SETTINGS flood")
        << Limits() << settingsFlood << true << quint32(H2::EnhanceYourCalm) << QString();
    QTest::newRow("SETTINGS with too many entries")
        << Limits()
        << settingsFrame(QList<std::pair<quint16, quint32>>(40, {NGHTTP2_SETTINGS_ENABLE_PUSH, 0}))
        << true << quint32(H2::EnhanceYourCalm) << QString();

    // An HPACK bomb with no header limit: one 4000-byte field in the dynamic table, then a
    // block of 5000 one-byte references to it: 20 MB decoded from 5 KB. Past 16 MiB the
    // session ends. (With a limit the stream is reset at it, and libnghttp2 decodes the rest
    // of the block without handing it over.)
    Limits unlimited;
    unlimited.maxHeaderBytes = -1;
    unlimited.maxFieldCount = -1;
    const QByteArray bomb
        = headersFrame(1, hpackIndexed(8) + hpackLiteral("x-big", QByteArray(4000, 'b'), true),
              END_HEADERS | END_STREAM)
        + headersFrame(3, hpackIndexed(8) + QByteArray(5000, char(0xbe)));
    QTest::newRow("a header section far beyond any limit")
        << unlimited << bomb << true << quint32(H2::EnhanceYourCalm) << QStringLiteral("end 1");
}

void TestHttp2Session::connectionErrors()
{
    QFETCH(Limits, limits);
    QFETCH(QByteArray, input);
    QFETCH(bool, withPreface);
    QFETCH(quint32, code);
    QFETCH(QString, firstReset);
    H2::Settings settings;
    settings.streamWindowBytes = 65536;
    for (const bool bytewise : {false, true}) {
        ClientSession client(limits, settings);
        Recorder rec;
        QCOMPARE(client.submitRequest(get()), 1);
        QCOMPARE(client.submitRequest(get()), 3);
        (void)client.takeOutput();
        bool ok = true;
        const QByteArray wire = (withPreface ? serverPreface() : QByteArray()) + input;
        if (bytewise) {
            for (qsizetype i = 0; i < wire.size() && ok; ++i)
                ok = client.receive(QByteArrayView(wire).sliced(i, 1));
        } else {
            ok = client.receive(wire);
        }
        rec.take(client);
        QVERIFY2(!ok, qPrintable(rec.log().join(QLatin1Char('\n'))));
        // The events that waited are bounded whatever the input (none were taken).
        QVERIFY(rec.eventCount() <= 8);
        QVERIFY(client.hasFailed());
        QCOMPARE(client.errorCode(), code);
        QVERIFY(!client.errorMessage().isEmpty());
        QVERIFY(!client.canOpenStream());
        const QStringList log = rec.logWithoutSettings();
        const QString failed = QStringLiteral("ConnectionError ") + H2::errorCodeName(code);
        QCOMPARE(log.filter(QRegularExpression(QStringLiteral("^(reset|end) "))),
            lines(firstReset.isEmpty() ? QStringLiteral("reset 1 ") + failed : firstReset,
                QStringLiteral("reset 3 ") + failed));
        // The GOAWAY to send before closing is there, and the output is bounded: at most the
        // ACKs libnghttp2 may queue (1000) before it calls it a flood.
        const QByteArray out = client.takeOutput();
        QVERIFY2(out.size() < 64 * 1024, qPrintable(QString::number(out.size())));
        const QList<Frame> frames = parseFrames(out);
        QVERIFY(!frames.isEmpty());
        QCOMPARE(frames.back().type, quint8(GOAWAY));
        QCOMPARE(readBe32(frames.back().payload, 4), code);
        QCOMPARE(client.errorCode(), code);
        QVERIFY(!client.wantsWrite());
        // Dead from now on.
        QVERIFY(!client.receive(serverPreface()));
        QCOMPARE(client.submitRequest(get()), 0);
        QVERIFY(!client.hasEvents());
        QCOMPARE(client.openStreams(), 0);
    }
}

void TestHttp2Session::continuationsInSmallReads()
{
    // A header block in 1 HEADERS and 40 CONTINUATION frames, read one byte at a time: far
    // from a flood, whatever libnghttp2 counts per read.
    RawClient raw;
    QByteArray wire = headersFrame(1, hpackIndexed(8), END_STREAM);
    QStringList fields;
    for (int i = 0; i < 40; ++i) {
        const QByteArray name = "x-" + QByteArray::number(i);
        wire += frame(CONTINUATION, i == 39 ? END_HEADERS : 0, 1, hpackLiteral(name, "v"));
        fields << QString::fromLatin1(name) + QStringLiteral("=v");
    }
    for (qsizetype i = 0; i < wire.size(); ++i)
        QVERIFY(raw.feed(QByteArrayView(wire).sliced(i, 1).toByteArray()));
    QCOMPARE(raw.recorder.logWithoutSettings(),
        lines(QStringLiteral("head 1 200 ") + fields.join(QLatin1Char(';')), "end 1"));
}

void TestHttp2Session::eofMidStream()
{
    ClientSession client;
    ServerPeer server;
    Link link {client, server};
    const qint32 a = client.submitRequest(get("/a"));
    const qint32 b = client.submitRequest(get("/b"));
    link.pump();
    server.respond(a, ok200, "done");
    server.headers(b, ok200);
    link.pump();
    Recorder rec;
    rec.take(client);
    QVERIFY(!client.hasFailed());
    client.receiveEof();
    rec.take(client);
    QCOMPARE(ofStream(rec.log(), 1), lines("head 1 200 ", "data 1 'done'", "end 1"));
    QCOMPARE(ofStream(rec.log(), 3), lines("head 3 200 ", "reset 3 ConnectionError NO_ERROR"));
    QVERIFY(!client.hasFailed()); // the peer closed: no protocol error
    QVERIFY(client.errorMessage().isEmpty());
    QVERIFY(!client.canOpenStream());
    QCOMPARE(client.openStreams(), 0);
    QCOMPARE(client.submitRequest(get()), 0);

    // EOF on an idle connection is no failure.
    ClientSession idle;
    ServerPeer server2;
    Link link2 {idle, server2};
    link2.pump();
    idle.receiveEof();
    QVERIFY(!idle.hasFailed());
}

void TestHttp2Session::ping()
{
    ClientSession client;
    ServerPeer server;
    Link link {client, server};
    link.pump();
    Recorder rec;
    rec.take(client);
    client.ping("abc");
    client.ping("12345678");
    link.pump();
    rec.take(client);
    QCOMPARE(
        rec.log(), (lines("settings", "pingack 6162630000000000", "pingack 3132333435363738")));
    // An ACK nobody asked for is no event.
    QVERIFY(client.receive(frame(PING, ACK, 0, QByteArray(8, 'z'))));
    QVERIFY(!client.hasEvents());
    // The server's PING is answered.
    nghttp2_submit_ping(server.session(), NGHTTP2_FLAG_NONE, nullptr);
    link.feed(server.output());
    QVERIFY(outputFramesOfType(client.takeOutput(), PING) == 1);
}

void TestHttp2Session::splitInvariance()
{
    // One conversation recorded from the server, replayed to fresh clients whole and one
    // byte at a time: interim heads, trailers, a reset, a long body, a 204, a GOAWAY.
    QByteArray wire;
    Recorder whole;
    {
        ClientSession client;
        ServerPeer server;
        Link link {client, server};
        for (int i = 0; i < 5; ++i)
            client.submitRequest(get("/" + QByteArray::number(i)));
        link.pump();
        server.headers(1, {{":status", "100"}});
        server.respond(1, {{":status", "200"}, {"content-type", "a/b"}}, QByteArray(50000, 'x'),
            {{"x-t", "1"}});
        server.reset(3, H2::InternalError);
        server.respond(5, {{":status", "204"}});
        server.respond(7, ok200, "seven");
        server.goAway(7, H2::NoError);
        link.pump();
        whole.take(client);
        wire = link.wire;
    }
    QStringList expected = lines("settings", "head 1 100 ", "head 1 200 content-type=a/b",
        "reset 3 ResetByPeer INTERNAL_ERROR", "head 5 204 ", "end 5", "head 7 200 ",
        "data 7 'seven'", "end 7", "reset 9 RefusedByGoAway REFUSED_STREAM",
        "goaway last=7 NO_ERROR ''", Recorder::dataEntry(1, QByteArray(50000, 'x')),
        "trailers 1 x-t=1", "end 1");
    // The order of the streams' events depends on how the server interleaved them: the live
    // run has them all, and every replay must agree with it exactly.
    QStringList live = whole.log();
    QStringList sortedLive = live;
    sortedLive.sort();
    expected.sort();
    QCOMPARE(sortedLive, expected);
    for (const bool bytewise : {false, true}) {
        ClientSession client;
        for (int i = 0; i < 5; ++i)
            client.submitRequest(get("/" + QByteArray::number(i)));
        (void)client.takeOutput();
        Recorder rec;
        if (bytewise) {
            for (qsizetype i = 0; i < wire.size(); ++i) {
                QVERIFY(client.receive(QByteArrayView(wire).sliced(i, 1)));
                rec.take(client); // events pulled between bytes too
            }
        } else {
            QVERIFY(client.receive(wire));
            rec.take(client);
        }
        QCOMPARE(rec.log(), live);
    }
}

void TestHttp2Session::splitInvarianceRaw_data()
{
    QTest::addColumn<Limits>("limits");
    QTest::addColumn<QByteArray>("input"); // after the server preface; GET on 1 and 3
    QTest::addColumn<QStringList>("one"); // what stream 1 gets
    QTest::addColumn<QStringList>("three"); // what stream 3 gets
    QTest::addColumn<bool>("ok");
    const QByteArray refusedEnd
        = headersFrame(1, hpackIndexed(8) + hpackLiteral("content-length", "300"))
        + frame(DATA, END_STREAM, 1, QByteArray(200, 'x'));
    const QString body200 = Recorder::dataEntry(1, QByteArray(200, 'x'));
    QTest::newRow("a refused end, then GOAWAY")
        << Limits() << (refusedEnd + frame(GOAWAY, 0, 0, be32(1) + be32(0)))
        << lines("head 1 200 content-length=300", body200, "reset 1 BadMessage PROTOCOL_ERROR")
        << lines("reset 3 RefusedByGoAway REFUSED_STREAM") << true;
    QTest::newRow("a refused end, then a connection error")
        << Limits() << (refusedEnd + frame(DATA, 0, 0, "x"))
        << lines("head 1 200 content-length=300", body200, "reset 1 BadMessage PROTOCOL_ERROR")
        << lines("reset 3 ConnectionError PROTOCOL_ERROR") << false;
    Limits small;
    small.maxBodyBytes = 100;
    QByteArray overWindow = headersFrame(1, hpackIndexed(8));
    for (int i = 0; i < 5; ++i)
        overWindow += frame(DATA, 0, 1, QByteArray(16384, 'd'));
    // Once stream 1 is reset for its body limit, libnghttp2 drops its DATA (counting it for
    // the connection only): more than its window is then no error.
    QTest::newRow("DATA beyond the window of a stream reset for its body limit")
        << small << overWindow
        << lines("head 1 200 ", Recorder::dataEntry(1, QByteArray(100, 'd')),
               "reset 1 BodyTooLarge CANCEL")
        << QStringList() << true;
    QTest::newRow("padding, interim heads, trailers")
        << Limits()
        << (headersFrame(1, hpackLiteral(":status", "103"))
               + frame(HEADERS, END_HEADERS | PADDED, 1,
                   QByteArray(1, '\x05') + hpackIndexed(8) + QByteArray(5, '\0'))
               + frame(DATA, PADDED, 1, QByteArray(1, '\x02') + "ab" + QByteArray(2, '\0'))
               + frame(DATA, 0, 1, "cd")
               + headersFrame(1, hpackLiteral("x-t", "1"), END_HEADERS | END_STREAM)
               + headersFrame(3, hpackIndexed(13), END_HEADERS | END_STREAM))
        << lines("head 1 103 ", "head 1 200 ", "data 1 'abcd'", "trailers 1 x-t=1", "end 1")
        << lines("head 3 404 ", "end 3") << true;
}

void TestHttp2Session::splitInvarianceRaw()
{
    QFETCH(Limits, limits);
    QFETCH(QByteArray, input);
    QFETCH(QStringList, one);
    QFETCH(QStringList, three);
    QFETCH(bool, ok);
    H2::Settings settings;
    settings.streamWindowBytes = 65536;
    for (const bool bytewise : {false, true}) {
        RawClient raw(limits, settings, 2);
        if (bytewise) {
            for (qsizetype i = 0; i < input.size() && raw.ok; ++i)
                raw.feed(input.mid(i, 1));
        } else {
            raw.feed(input);
        }
        QCOMPARE(raw.ok, ok);
        (void)raw.client.takeOutput();
        raw.recorder.take(raw.client);
        QCOMPARE(ofStream(raw.recorder.log(), 1), one);
        QCOMPARE(ofStream(raw.recorder.log(), 3), three);
    }
}

QTEST_APPLESS_MAIN(TestHttp2Session)
#include "tst_http2session.moc"
