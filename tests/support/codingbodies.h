// br and zstd bodies for tests, made at test time: plain compression of a payload, and bombs
// (a unit repeated many times) built without holding the whole decoded size in memory.
//
// - brotliRepeated() streams the unit through the encoder \a count times: brotli has no
//   concatenation, so the encoder sees every byte, but zeros and sparse units go through it at
//   several hundred MB/s and come out at over 1000:1.
// - zstdRepeated() follows gzipbomb.h's idea: one frame of the unit, repeated. Concatenated
//   frames are one valid zstd body (RFC 8878 §3.1), so N MiB cost N times a few dozen bytes.
// Link PkgConfig::BROTLIENC (tests/support/CMakeLists.txt) and PkgConfig::ZSTD.
#pragma once

#include <QByteArray>
#include <QtGlobal>

#include <brotli/encode.h>
#include <zstd.h>

namespace ReqivoTest {

//! \a unit repeated \a count times, brotli-compressed at \a quality (0-11) in one stream.
inline QByteArray brotliRepeated(const QByteArray &unit, qint64 count, int quality = 5)
{
    BrotliEncoderState *state = BrotliEncoderCreateInstance(nullptr, nullptr, nullptr);
    if (!state)
        qFatal("brotliRepeated: cannot create the encoder");
    BrotliEncoderSetParameter(state, BROTLI_PARAM_QUALITY, uint32_t(quality));
    QByteArray result;
    uint8_t buffer[64 * 1024];
    const auto run = [&](const QByteArray &in, BrotliEncoderOperation op) {
        size_t availIn = size_t(in.size());
        const auto *nextIn = reinterpret_cast<const uint8_t *>(in.constData());
        for (;;) {
            size_t availOut = sizeof buffer;
            uint8_t *nextOut = buffer;
            if (!BrotliEncoderCompressStream(
                    state, op, &availIn, &nextIn, &availOut, &nextOut, nullptr))
                qFatal("brotliRepeated: the encoder failed");
            result.append(
                reinterpret_cast<const char *>(buffer), qsizetype(sizeof buffer - availOut));
            const bool done
                = op == BROTLI_OPERATION_FINISH ? BrotliEncoderIsFinished(state) : availIn == 0;
            if (done && !BrotliEncoderHasMoreOutput(state))
                return;
        }
    };
    for (qint64 i = 0; i < count; ++i)
        run(unit, BROTLI_OPERATION_PROCESS);
    run({}, BROTLI_OPERATION_FINISH);
    BrotliEncoderDestroyInstance(state);
    return result;
}

//! \a data brotli-compressed.
inline QByteArray brotli(const QByteArray &data, int quality = 5)
{
    return brotliRepeated(data, 1, quality);
}

//! \a data as one zstd frame at \a level (with the content size and a checksum).
inline QByteArray zstd(const QByteArray &data, int level = 3)
{
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    QByteArray out(qsizetype(ZSTD_compressBound(size_t(data.size()))), Qt::Uninitialized);
    const size_t size = ZSTD_compress2(
        cctx, out.data(), size_t(out.size()), data.constData(), size_t(data.size()));
    ZSTD_freeCCtx(cctx);
    if (ZSTD_isError(size))
        qFatal("zstd: compression failed");
    out.resize(qsizetype(size));
    return out;
}

//! \a unit repeated \a count times: one zstd frame of the unit, \a count times over.
inline QByteArray zstdRepeated(const QByteArray &unit, int count)
{
    return zstd(unit, 19).repeated(count);
}

} // namespace ReqivoTest
