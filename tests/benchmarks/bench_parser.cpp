// bench_parser: how fast the sans-I/O parser turns bytes into response heads and body data.
//
//   bench_parser --input FILE [--seconds S] [--iterations N] [--chunk-size B] [--body-bytes B]
//
// Prints one JSON line per benchmark:
//   parse_head          FILE (a response head) parsed into a ResponseHead with its Headers, on
//                       one parser that reset() returns to its initial state between heads, as
//                       a connection pool reuses a parser across connections;
//   parse_head_fresh    the same with a new parser per head, for the cost of construction;
//   parse_chunked       a chunked body of --body-bytes in --chunk-size chunks, fed in 64 KiB
//                       reads as a socket delivers it, de-chunked and appended to one body
//                       buffer, as the client does; one parser over keep-alive cycles.
//                       bytes_per_sec counts wire bytes, body_bytes_per_sec the data. (Data
//                       events are views into the reads, so without that copy the figure
//                       would only count chunk-size lines.)
// --iterations fixes the count of each benchmark (for a smoke run); otherwise each runs for
// --seconds (default 2). Rates are given per wall-clock second and per CPU second (the steadier
// figure on a busy machine). A figure, never a verdict: nothing here fails on speed.
#include "protocol/responseparser.h"

#include <QByteArray>
#include <QFile>
#include <QList>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>

using Reqivo::Protocol::ResponseParser;

namespace {

struct Settings
{
    QString input;
    double seconds = 2.0;
    std::optional<qint64> iterations;
    qsizetype chunkSize = 4096;
    qsizetype bodyBytes = 1 << 20;
};

struct Result
{
    qint64 iterations = 0;
    double seconds = 0;
    //! Processor time of the run: on a shared machine the wall clock also counts other
    //! programs' turns, so ops per CPU second is the steadier figure.
    double cpuSeconds = 0;
};

using Clock = std::chrono::steady_clock;

// Keeps the optimiser from dropping work whose result is otherwise unused.
volatile qint64 g_sink = 0;

//! Runs \a step (which does \a batch operations and returns how many it did) until the
//! settings say stop. The clock is read once per batch so that it does not dominate.
template<typename Step>
Result measure(const Settings &settings, qint64 batch, Step step)
{
    Result r;
    const std::clock_t cpuStart = std::clock();
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration<double>(settings.seconds);
    while (true) {
        if (settings.iterations) {
            if (r.iterations >= *settings.iterations)
                break;
            r.iterations += step(qMin(batch, *settings.iterations - r.iterations));
        } else {
            r.iterations += step(batch);
            if (Clock::now() >= deadline)
                break;
        }
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    r.cpuSeconds = double(std::clock() - cpuStart) / CLOCKS_PER_SEC;
    return r;
}

void print(const char *name, const Result &r, double bytesPerOp, const char *extra = "")
{
    const double secs = r.seconds > 0 ? r.seconds : 1e-9;
    const double cpu = r.cpuSeconds > 0 ? r.cpuSeconds : 1e-9;
    std::printf("{\"bench\":\"%s\",\"ops_per_sec\":%.0f,\"bytes_per_sec\":%.0f,"
                "\"iterations\":%lld,\"seconds\":%.3f,\"cpu_seconds\":%.3f,"
                "\"ops_per_cpu_sec\":%.0f%s}\n",
        name, double(r.iterations) / secs, double(r.iterations) * bytesPerOp / secs,
        static_cast<long long>(r.iterations), r.seconds, r.cpuSeconds, double(r.iterations) / cpu,
        extra);
    std::fflush(stdout);
}

//! Pulls events until the head is out; false when the input is not a complete head.
bool parseOneHead(ResponseParser &p, const QByteArray &input)
{
    p.receiveData(input);
    for (;;) {
        const ResponseParser::Event ev = p.nextEvent();
        if (ev.type == ResponseParser::EventType::Head && !p.head().isInterim()) {
            g_sink = g_sink + p.head().headers.size();
            return true;
        }
        if (ev.type != ResponseParser::EventType::Head)
            return false;
    }
}

bool benchHeads(const Settings &settings, const QByteArray &input)
{
    {
        ResponseParser check;
        if (!parseOneHead(check, input)) {
            std::fprintf(stderr, "bench_parser: %s is not a complete response head (%s)\n",
                qPrintable(settings.input), qPrintable(check.errorMessage()));
            return false;
        }
    }
    ResponseParser parser;
    const Result reused = measure(settings, 256, [&](qint64 n) {
        for (qint64 i = 0; i < n; ++i) {
            parseOneHead(parser, input);
            parser.reset();
        }
        return n;
    });
    print("parse_head", reused, double(input.size()));

    const Result fresh = measure(settings, 256, [&](qint64 n) {
        for (qint64 i = 0; i < n; ++i) {
            ResponseParser p;
            parseOneHead(p, input);
        }
        return n;
    });
    print("parse_head_fresh", fresh, double(input.size()));
    return true;
}

bool benchChunked(const Settings &settings)
{
    QByteArray message = QByteArrayLiteral("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    const QByteArray chunk(settings.chunkSize, 'x');
    const QByteArray sizeLine = QByteArray::number(settings.chunkSize, 16) + "\r\n";
    for (qsizetype sent = 0; sent < settings.bodyBytes; sent += settings.chunkSize)
        message += sizeLine + chunk + "\r\n";
    message += "0\r\n\r\n";
    const qsizetype bodyBytes
        = settings.chunkSize * ((settings.bodyBytes + settings.chunkSize - 1) / settings.chunkSize);

    // Reads are separate QByteArrays, as a socket returns them, so feeding them costs no copy
    // that a real read would not also cost.
    QList<QByteArray> reads;
    for (qsizetype at = 0; at < message.size(); at += 65536)
        reads.append(message.mid(at, 65536));

    ResponseParser parser;
    bool ok = true;
    QByteArray body;
    body.reserve(bodyBytes);
    const auto oneMessage = [&] {
        body.resize(0); // keeps the capacity: no allocation per message
        bool ended = false;
        for (const QByteArray &read : reads) {
            parser.receiveData(read);
            for (bool more = true; more;) {
                const ResponseParser::Event ev = parser.nextEvent();
                switch (ev.type) {
                case ResponseParser::EventType::Data:
                    body.append(ev.data);
                    break;
                case ResponseParser::EventType::EndOfMessage:
                    ended = true;
                    more = false;
                    break;
                case ResponseParser::EventType::Head:
                    break;
                default:
                    more = false;
                    break;
                }
            }
        }
        ok = ok && ended && body.size() == bodyBytes && parser.startNextCycle();
        g_sink = g_sink + body.size();
    };
    const Result r = measure(settings, 1, [&](qint64 n) {
        for (qint64 i = 0; i < n; ++i)
            oneMessage();
        return n;
    });
    if (!ok) {
        std::fprintf(stderr, "bench_parser: the chunked message did not decode as expected (%s)\n",
            qPrintable(parser.errorMessage()));
        return false;
    }
    const double secs = r.seconds > 0 ? r.seconds : 1e-9;
    char extra[128];
    std::snprintf(extra, sizeof extra, ",\"body_bytes_per_sec\":%.0f,\"chunk_size\":%lld",
        double(r.iterations) * double(bodyBytes) / secs,
        static_cast<long long>(settings.chunkSize));
    print("parse_chunked", r, double(message.size()), extra);
    return true;
}

[[noreturn]] void usage(const char *problem)
{
    if (problem)
        std::fprintf(stderr, "bench_parser: %s\n", problem);
    std::fprintf(stderr,
        "usage: bench_parser --input FILE [--seconds S] [--iterations N] [--chunk-size B]"
        " [--body-bytes B]\n");
    std::exit(2);
}

Settings parseArguments(int argc, char **argv)
{
    Settings s;
    for (int i = 1; i < argc; ++i) {
        const char *arg = argv[i];
        if (std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0)
            usage(nullptr);
        if (i + 1 >= argc)
            usage("every option takes a value");
        const char *value = argv[++i];
        char *end = nullptr;
        if (std::strcmp(arg, "--input") == 0) {
            s.input = QString::fromLocal8Bit(value);
            continue;
        }
        if (std::strcmp(arg, "--seconds") == 0) {
            s.seconds = std::strtod(value, &end);
            if (*end || !(s.seconds > 0))
                usage("--seconds takes a positive number");
            continue;
        }
        const long long n = std::strtoll(value, &end, 10);
        if (*end || n <= 0)
            usage("--iterations, --chunk-size and --body-bytes take a positive integer");
        if (std::strcmp(arg, "--iterations") == 0)
            s.iterations = n;
        else if (std::strcmp(arg, "--chunk-size") == 0)
            s.chunkSize = qsizetype(n);
        else if (std::strcmp(arg, "--body-bytes") == 0)
            s.bodyBytes = qsizetype(n);
        else
            usage("unknown option");
    }
    if (s.input.isEmpty())
        usage("--input is required");
    return s;
}

} // namespace

int main(int argc, char **argv)
{
    const Settings settings = parseArguments(argc, argv);
    QFile file(settings.input);
    if (!file.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "bench_parser: cannot read %s: %s\n", qPrintable(settings.input),
            qPrintable(file.errorString()));
        return 1;
    }
    const QByteArray input = file.readAll();
    if (!benchHeads(settings, input) || !benchChunked(settings))
        return 1;
    return 0;
}
