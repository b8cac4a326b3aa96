// libFuzzer target: the response parser must report the same events however its input is cut.
//
// The first input byte picks the request method, EOF, the limits, pipelining and whether the
// request asked for an upgrade; the rest is what the server sent. The oracle is the one the
// unit tables use (tests/unit/protocol/parserlog.h): feeding whole, split at an offset derived
// from the data, in pseudo-random pieces, and one byte at a time must give identical event
// logs and leave identical bytes unconsumed. ASan and UBSan catch the memory errors; the oracle
// catches the logic errors that only show at a particular read boundary.
#include "unit/protocol/parserlog.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

using ParserLog::Options;
using ParserLog::Outcome;

Options optionsFrom(std::uint8_t control)
{
    static const QByteArray methods[] = {"GET", "HEAD", "CONNECT", "POST"};
    Options o;
    o.method = methods[control & 3];
    o.eof = control & 4;
    switch ((control >> 3) & 3) {
    case 0:
        break; // the defaults
    case 1: // small enough for the fuzzer to cross every limit
        o.limits = {.maxHeaderBytes = 256,
            .maxLineBytes = 64,
            .maxFieldCount = 4,
            .maxBodyBytes = 32,
            .maxInterimResponses = 2,
            .maxChunkLineBytes = 16};
        break;
    case 2:
        o.limits.maxBodyBytes = 0;
        break;
    case 3:
        o.limits.maxInterimResponses = 0;
        o.limits.maxFieldCount = 0;
        break;
    }
    o.pipeline = control & 0x20;
    o.upgrade = control & 0x40;
    o.listFields = true;
    return o;
}

std::uint32_t fnv1a(QByteArrayView bytes)
{
    std::uint32_t h = 2166136261u;
    for (const char c : bytes)
        h = (h ^ std::uint8_t(c)) * 16777619u;
    return h;
}

[[noreturn]] void mismatch(
    const char *mode, const Outcome &expected, const Outcome &got, QByteArrayView input)
{
    std::fprintf(stderr, "event logs differ (%s) for %lld input bytes\n  whole: %s\n  %s: %s\n",
        mode, static_cast<long long>(input.size()), qPrintable(expected.log), mode,
        qPrintable(got.log));
    if (expected.log == got.log)
        std::fprintf(stderr, "  unconsumed: %lld vs %lld bytes\n",
            static_cast<long long>(expected.unconsumed.size()),
            static_cast<long long>(got.unconsumed.size()));
    std::abort();
}

void compare(const char *mode, const Outcome &expected, const Outcome &got, QByteArrayView input)
{
    if (got.log != expected.log || got.unconsumed != expected.unconsumed)
        mismatch(mode, expected, got, input);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size == 0)
        return 0;
    const Options options = optionsFrom(data[0]);
    const QByteArray input(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));

    const Outcome whole = ParserLog::runWhole(input, options, true);
    if (whole.log.contains(QLatin1String("runaway"))) {
        std::fprintf(stderr, "the parser spins without progress: %s\n", qPrintable(whole.log));
        std::abort();
    }
    if (whole.failed && whole.errorMessage.isEmpty()) {
        std::fprintf(stderr, "an error without a message: %s\n", qPrintable(whole.log));
        std::abort();
    }
    compare("as a view", whole, ParserLog::runWhole(input, options, false), input);

    const std::uint32_t h = fnv1a(input);
    if (input.size() > 1) {
        const qsizetype at = 1 + qsizetype(h % std::uint32_t(input.size() - 1));
        ParserLog::Recorder r(options);
        r.feedShared(input.first(at));
        r.feed(QByteArrayView(input).sliced(at));
        if (options.eof)
            r.eof();
        compare("split in two", whole, r.finish(), input);
    }

    // Pieces of 1 to 16 bytes, alternating the sharing and the copying overloads.
    {
        ParserLog::Recorder r(options);
        std::uint32_t state = h | 1;
        bool shared = false;
        for (qsizetype at = 0; at < input.size();) {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            const qsizetype n = qMin(input.size() - at, qsizetype(1 + state % 16));
            if (shared)
                r.feedShared(input.sliced(at, n));
            else
                r.feed(QByteArrayView(input).sliced(at, n));
            shared = !shared;
            at += n;
        }
        if (options.eof)
            r.eof();
        compare("random pieces", whole, r.finish(), input);
    }

    compare("byte by byte", whole, ParserLog::runBytewise(input, options), input);
    return 0;
}
