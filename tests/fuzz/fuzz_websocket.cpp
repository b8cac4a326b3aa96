// libFuzzer target: the WebSocket frame parser must report the same events however its input
// is cut, and the writer's frames must parse back to what was written.
//
// The first input byte picks the role (client or server parser) and the limits; the rest is
// what the peer sent. The oracle is the one the unit tables use
// (tests/unit/protocol/websocketlog.h): feeding whole, split at an offset derived from the
// data, in pseudo-random pieces and one byte at a time must give identical event logs. Then the
// same bytes are written as a message by the opposite role's writer, fragmented by the control
// byte, and must parse back unchanged. ASan and UBSan catch the memory errors.
#include "unit/protocol/websocketlog.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

using WebSocketLog::Options;
using WebSocketLog::Outcome;
namespace WS = Reqivo::Protocol::WebSocket;

Options optionsFrom(std::uint8_t control)
{
    Options o;
    o.role = (control & 1) ? WS::Role::Server : WS::Role::Client;
    switch ((control >> 1) & 3) {
    case 0:
        break; // the defaults
    case 1: // small enough for the fuzzer to cross both limits
        o.limits = {.maxFrameBytes = 16, .maxMessageBytes = 40};
        break;
    case 2:
        o.limits = {.maxFrameBytes = -1, .maxMessageBytes = -1};
        break;
    case 3:
        o.limits = {.maxFrameBytes = 0, .maxMessageBytes = 0};
        break;
    }
    return o;
}

std::uint32_t fnv1a(QByteArrayView bytes)
{
    std::uint32_t h = 2166136261u;
    for (const char c : bytes)
        h = (h ^ std::uint8_t(c)) * 16777619u;
    return h;
}

void compare(const char *mode, const Outcome &expected, const Outcome &got, QByteArrayView input)
{
    if (got.log == expected.log && got.insideMessage == expected.insideMessage)
        return;
    std::fprintf(stderr, "event logs differ (%s) for %lld input bytes\n  whole: %s\n  %s: %s\n",
        mode, static_cast<long long>(input.size()), qPrintable(expected.log), mode,
        qPrintable(got.log));
    std::abort();
}

[[noreturn]] void roundTripFailed(const char *what, const QString &log)
{
    std::fprintf(stderr, "the writer's %s did not parse back: %s\n", what, qPrintable(log));
    std::abort();
}

void roundTrip(std::uint8_t control, const Options &options, const QByteArray &input)
{
    // The opposite role writes, so masking is exercised in both directions.
    const WS::Role writerRole
        = options.role == WS::Role::Client ? WS::Role::Server : WS::Role::Client;
    WS::FrameWriter writer(writerRole);
    // Deterministic keys: reproducible runs, and the CSPRNG is not what is under test here.
    writer.setMaskSource([state = std::uint32_t(control) * 2654435761u + 1u]() mutable {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        return state;
    });
    const qsizetype fragment = (control >> 3) & 0x1f; // 0: one frame
    const Options parse {
        .role = options.role, .limits = {.maxFrameBytes = -1, .maxMessageBytes = -1}};
    QByteArray out;
    if (!writer.writeBinary(out, input, fragment))
        roundTripFailed("binary message", QStringLiteral("refused"));
    if (!writer.writePing(out, input.first(qMin<qsizetype>(input.size(), 125))))
        roundTripFailed("ping", QStringLiteral("refused"));
    const QString expected = QLatin1String("binary '") + WebSocketLog::escaped(input)
        + QLatin1String("' | ping '")
        + WebSocketLog::escaped(input.first(qMin<qsizetype>(input.size(), 125)))
        + QLatin1Char('\'');
    const Outcome o = WebSocketLog::runWhole(out, parse);
    if (o.log != expected)
        roundTripFailed("binary message", o.log);

    const bool valid = Reqivo::Protocol::Utf8Validator::isValidUtf8(input);
    QByteArray text;
    if (writer.writeText(text, QByteArrayView(input), fragment) != valid)
        roundTripFailed("text message", QStringLiteral("UTF-8 check disagrees"));
    if (valid) {
        const Outcome t = WebSocketLog::runBytewise(text, parse);
        if (t.log != QLatin1String("text '") + WebSocketLog::escaped(input) + QLatin1Char('\''))
            roundTripFailed("text message", t.log);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size == 0)
        return 0;
    const Options options = optionsFrom(data[0]);
    const QByteArray input(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));

    const Outcome whole = WebSocketLog::runWhole(input, options);
    if (whole.log.contains(QLatin1String("runaway"))) {
        std::fprintf(stderr, "the parser spins without progress: %s\n", qPrintable(whole.log));
        std::abort();
    }
    if (whole.failed && whole.errorMessage.isEmpty()) {
        std::fprintf(stderr, "an error without a message: %s\n", qPrintable(whole.log));
        std::abort();
    }

    const std::uint32_t h = fnv1a(input);
    if (input.size() > 1) {
        const qsizetype at = 1 + qsizetype(h % std::uint32_t(input.size() - 1));
        compare("split in two", whole, WebSocketLog::runSplit(input, at, options), input);
    }
    compare("shared", whole, WebSocketLog::runWholeShared(input, options), input);
    // Pieces of 1 to 16 bytes, alternating the sharing and the copying overloads.
    {
        WebSocketLog::Recorder r(options);
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
        compare("random pieces", whole, r.finish(), input);
    }
    compare("byte by byte", whole, WebSocketLog::runBytewise(input, options), input);

    roundTrip(data[0], options, input);
    return 0;
}
