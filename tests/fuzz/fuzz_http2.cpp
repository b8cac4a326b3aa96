// libFuzzer target: Http2::ClientSession fed server frames. Three requests are submitted and
// written out first (GET on stream 1, a POST with a body on 3, HEAD on 5); the input is what
// the server answers. The first byte picks the limits and where the input is cut; the rest is
// fed whole, split at an offset and in small pieces, and the three runs must agree: the same
// events of each stream and of the connection, and the same bodies (but for a stream that did
// not end well, whose body may be a shorter prefix: see compare()). Every run must also keep the
// session's promises: nothing after a stream's End or Reset, body and trailers only after a
// final head, every stream ended once the session failed, at most one window of body per
// stream, a bounded number of events per read and a bounded output.
#include "unit/protocol/http2harness.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

using namespace Http2Harness;
namespace H2 = Reqivo::Protocol::Http2;

void check(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz_http2: %s\n", what);
        std::abort();
    }
}

struct Outcome
{
    QMap<qint32, QStringList> streams; // per stream (0: the connection), data entries apart
    QMap<qint32, QByteArray> bodies;
    bool settings = false;
    QString goAway;
    bool ok = true;

    bool sameEvents(const Outcome &o) const
    {
        return ok == o.ok && streams == o.streams && settings == o.settings && goAway == o.goAway;
    }
};

constexpr qint32 streamIds[] = {1, 3, 5};

Outcome run(const QByteArray &input, const QList<qsizetype> &cuts, quint8 control)
{
    Reqivo::Limits limits;
    H2::Settings settings;
    if (control & 1) {
        limits.maxHeaderBytes = 200;
        limits.maxFieldCount = 6;
        limits.maxBodyBytes = 100;
        limits.maxInterimResponses = 2;
    }
    if (control & 2)
        settings.streamWindowBytes = 1000;
    ClientSession client(limits, settings);
    ClientSession::Request get;
    get.method = "GET";
    get.scheme = "https";
    get.authority = "fuzz.test";
    get.path = "/";
    ClientSession::Request post = get;
    post.method = "POST";
    post.hasBody = true;
    ClientSession::Request head = get;
    head.method = "HEAD";
    check(client.submitRequest(get) == 1, "stream 1");
    check(client.submitRequest(post) == 3, "stream 3");
    check(client.submitRequest(head) == 5, "stream 5");
    client.appendBody(3, QByteArray(100, 'p'));
    client.endBody(3);
    (void)client.takeOutput();
    while (client.hasEvents()) // BodyWanted
        (void)client.nextEvent();

    Outcome out;
    QMap<qint32, bool> finalHead, ended;
    const int maxEventsPerRead = 3 * (std::max(limits.maxInterimResponses, 0) + 4) + 3;
    const auto pull = [&] {
        int n = 0;
        while (client.hasEvents()) {
            const Event e = client.nextEvent();
            ++n;
            check(e.type != EventType::None, "a None event");
            if (e.stream != 0) {
                check(e.stream == 1 || e.stream == 3 || e.stream == 5, "an unknown stream");
                check(!ended.value(e.stream), "an event after End or Reset");
            }
            switch (e.type) {
            case EventType::Head:
                check(!finalHead.value(e.stream), "a head after the final head");
                if (!e.head.isInterim())
                    finalHead[e.stream] = true;
                out.streams[e.stream] << QStringLiteral("head %1 %2")
                                             .arg(e.head.status)
                                             .arg(fieldsText(e.head.headers));
                break;
            case EventType::Data:
                check(finalHead.value(e.stream), "data before the final head");
                check(!e.data.isEmpty(), "an empty Data event");
                out.bodies[e.stream] += e.data;
                break;
            case EventType::Trailers:
                check(finalHead.value(e.stream), "trailers before the final head");
                out.streams[e.stream]
                    << QStringLiteral("trailers %1").arg(fieldsText(e.head.headers));
                break;
            case EventType::End:
                check(finalHead.value(e.stream), "End before the final head");
                ended[e.stream] = true;
                out.streams[e.stream] << QStringLiteral("end");
                break;
            case EventType::Reset:
                ended[e.stream] = true;
                out.streams[e.stream]
                    << QStringLiteral("reset %1").arg(streamErrorName(e.streamError));
                break;
            // Waiting SETTINGS and GOAWAY events are coalesced, so how many come depends on
            // when they are pulled: what is compared is whether any came, and the last GOAWAY.
            case EventType::GoAway:
                out.goAway = QStringLiteral("goaway %1").arg(e.lastStreamId);
                break;
            case EventType::Settings:
                out.settings = true;
                break;
            case EventType::PingAck:
                check(false, "a PingAck without a ping()");
                break;
            case EventType::BodyWanted:
                check(e.stream == 3, "BodyWanted for a stream without a body");
                break;
            case EventType::None:
                break;
            }
        }
        check(n <= maxEventsPerRead, "too many events from one read");
    };

    qsizetype at = 0;
    for (const qsizetype cut : cuts) {
        if (cut <= at)
            continue;
        out.ok = client.receive(QByteArrayView(input).sliced(at, cut - at));
        at = cut;
        pull();
        if (!out.ok)
            break;
    }
    if (out.ok && at < input.size()) {
        out.ok = client.receive(QByteArrayView(input).sliced(at));
        pull();
    }
    if (!out.ok) {
        check(client.hasFailed(), "receive() false without a failure");
        for (const qint32 id : streamIds)
            check(ended.value(id), "a stream left open by a failed session");
        check(!client.canOpenStream(), "a failed session opens streams");
    }
    for (const qint32 id : streamIds)
        check(out.bodies.value(id).size() <= settings.streamWindowBytes, "more than the window");
    // What the server's frames made the session queue to write is bounded: ACKs (at most
    // 1000 of 17 bytes), WINDOW_UPDATEs, RST_STREAMs, a GOAWAY, and stream 3's 100 bytes.
    const QByteArray written = client.takeOutput(1 << 30);
    check(written.size() < 64 * 1024, "unbounded output");
    pull();
    return out;
}

void print(const char *name, const Outcome &o)
{
    std::fprintf(stderr, "%s: receive() %s, settings %d, %s\n", name, o.ok ? "true" : "false",
        int(o.settings), qPrintable(o.goAway));
    for (auto it = o.streams.begin(); it != o.streams.end(); ++it)
        std::fprintf(
            stderr, "  %d: %s\n", it.key(), qPrintable(it.value().join(QStringLiteral(" | "))));
    for (auto it = o.bodies.begin(); it != o.bodies.end(); ++it)
        std::fprintf(stderr, "  body %d: %lld bytes\n", it.key(), qlonglong(it.value().size()));
}

void compare(const Outcome &a, const Outcome &b, const char *what)
{
    if (!a.sameEvents(b)) {
        print("whole", a);
        print("cut", b);
    }
    check(a.sameEvents(b), what);
    // A stream that ended gets the same body. One reset (or failed with the session) may have
    // got a different prefix: libnghttp2 checks Content-Length against each read of a DATA
    // frame and refuses the read that goes beyond it, so smaller reads deliver more of it.
    for (const qint32 id : streamIds) {
        const QByteArray x = a.bodies.value(id);
        const QByteArray y = b.bodies.value(id);
        if (a.streams.value(id).endsWith(QStringLiteral("end")))
            check(x == y, what);
        else
            check(y.startsWith(x) || x.startsWith(y), what);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size == 0 || size > 1 << 16)
        return 0;
    const quint8 control = data[0];
    const QByteArray input(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    const Outcome whole = run(input, {}, control);
    const qsizetype at = input.isEmpty() ? 0 : qsizetype(control >> 2) * 7 % (input.size() + 1);
    compare(whole, run(input, {at}, control), "split differs");
    QList<qsizetype> pieces;
    for (qsizetype i = 0, step = 1 + control % 7; i < input.size();
         i += step, step = 1 + (step * 5 + 3) % 11)
        pieces << i;
    compare(whole, run(input, pieces, control), "pieces differ");
    return 0;
}
