// libFuzzer target: the Content-Encoding decoder (gzip, deflate, br, zstd and stacks of them).
//
// The input's first byte picks the Content-Encoding (one coding or a stack), its second the size
// of the pieces the body is fed in; the rest is the body. The oracle:
//   - the body decoded whole and decoded in pieces give the same bytes and the same outcome
//     (success, or the same Failure), so nothing depends on where reads split the body;
//   - the bounds hold: the decoder never produces more than maxBodyBytes + 1 bytes, the caller
//     never receives more than maxBodyBytes, and past the threshold the ratio guard stops the
//     output within a step of the point where the ratio is exceeded;
//   - a decoder that failed keeps failing.
#include "client/decompressor.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

using Reqivo::Limits;
using Reqivo::Client::Decompressor;

constexpr const char *codings[] = {
    "gzip",
    "deflate",
    "br",
    "zstd",
    "gzip, br",
    "br, gzip",
    "zstd, br",
    "deflate, zstd",
    "gzip, zstd, br",
    "br, br, br",
};

struct Outcome
{
    bool ok = false;
    QByteArray out;
    Decompressor::Failure failure = Decompressor::Failure::None;
    qint64 decoded = 0;
    qint64 compressed = 0;
    QString error;
};

[[noreturn]] void mismatch(const char *what, const char *coding)
{
    std::fprintf(stderr, "fuzz_decompressor: %s (Content-Encoding: %s)\n", what, coding);
    std::abort();
}

[[noreturn]] void mismatch(
    const char *what, const char *coding, const Outcome &whole, const Outcome &pieces)
{
    std::fprintf(
        stderr, "whole: %s\npieces: %s\n", qPrintable(whole.error), qPrintable(pieces.error));
    mismatch(what, coding);
}

Outcome decode(const char *coding, QByteArrayView body, qsizetype piece, const Limits &limits)
{
    Outcome o;
    QString error;
    auto decoder = Decompressor::create(coding, limits, &error);
    if (!decoder)
        mismatch("a supported coding was refused", coding);
    bool ok = true;
    for (qsizetype i = 0; ok && i < body.size(); i += piece)
        ok = decoder->feed(body.sliced(i, qMin(piece, body.size() - i)), o.out, &error);
    if (ok)
        ok = decoder->finish(o.out, &error);
    o.ok = ok;
    o.failure = decoder->failure();
    o.decoded = decoder->decodedBytes();
    o.compressed = decoder->compressedBytes();
    o.error = error;
    if (!ok) {
        if (o.failure == Decompressor::Failure::None || error.isEmpty())
            mismatch("a failure without a reason", coding);
        QByteArray more;
        if (decoder->feed("x", more, &error) || decoder->finish(more, &error) || !more.isEmpty())
            mismatch("a failed decoder accepted more", coding);
    }
    return o;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size < 2)
        return 0;
    const char *coding = codings[data[0] % (sizeof codings / sizeof *codings)];
    const qsizetype piece = 1 + data[1] % 64;
    const QByteArrayView body(reinterpret_cast<const char *>(data) + 2, qsizetype(size - 2));

    Limits limits;
    limits.maxBodyBytes = 1024 * 1024; // keeps every run small
    limits.decompressionCheckThreshold = 64 * 1024;
    limits.maxDecompressionRatio = 200;

    const Outcome whole = decode(coding, body, qMax<qsizetype>(1, body.size()), limits);
    const Outcome pieces = decode(coding, body, piece, limits);
    // The ratio guard compares with the compressed bytes consumed so far, which depends on how
    // far ahead a library reads: it may stop one feeding and not the other. Everything else is
    // a property of the data: the same bytes, the same success, the same corruption.
    using F = Decompressor::Failure;
    const auto isData = [](F f) { return f == F::Corrupt || f == F::Truncated; };
    if (whole.ok && pieces.ok && whole.out != pieces.out)
        mismatch("whole and piecewise results differ", coding, whole, pieces);
    if (whole.ok != pieces.ok
        && (whole.ok ? pieces.failure : whole.failure) != F::DecompressionBomb)
        mismatch("one feeding succeeded, the other failed other than by the ratio guard", coding,
            whole, pieces);
    if (isData(whole.failure) && isData(pieces.failure) && whole.failure != pieces.failure)
        mismatch("whole and piecewise corruption differ", coding, whole, pieces);
    const qsizetype common = qMin(whole.out.size(), pieces.out.size());
    if (whole.out.first(common) != pieces.out.first(common))
        mismatch("whole and piecewise bytes differ", coding, whole, pieces);
    for (const Outcome *o : {&whole, &pieces}) {
        if (o->out.size() > limits.maxBodyBytes || o->decoded > limits.maxBodyBytes + 1)
            mismatch("the body limit was passed", coding);
        if (o->decoded > limits.decompressionCheckThreshold + Decompressor::stepBytes
            && o->decoded
                > qint64(limits.maxDecompressionRatio) * o->compressed + Decompressor::stepBytes)
            mismatch("the ratio guard let a bomb through", coding);
    }
    return 0;
}
