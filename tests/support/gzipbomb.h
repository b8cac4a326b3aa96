// Decompression bombs for tests, built in milliseconds: a gzip stream of a 1 MiB unit repeated
// N times costs about N kilobytes and no compression of the whole.
//
// The one idea: after a full flush, deflate resets its dictionary and byte-aligns its output, so
// compressing the same unit again yields the same self-contained block. The stream is the gzip
// header with the first block, the block repeated, the final empty block, and a trailer whose
// CRC-32 and length are computed from the unit's (crc32_combine), so the result is a complete,
// valid gzip body: a decoder can only refuse it by its size or its ratio.
#pragma once

#include <QByteArray>
#include <QtGlobal>

#include <zlib.h>

namespace ReqivoTest {

//! A gzip stream of \a unit repeated \a count times.
inline QByteArray repeatedGzip(const QByteArray &unit, int count)
{
    z_stream z {};
    if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        qFatal("repeatedGzip: deflateInit2 failed");
    const auto run = [&z](const QByteArray &in, int flush) {
        QByteArray out(qsizetype(deflateBound(&z, uLong(in.size()))) + 64, Qt::Uninitialized);
        z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.constData()));
        z.avail_in = uInt(in.size());
        z.next_out = reinterpret_cast<Bytef *>(out.data());
        z.avail_out = uInt(out.size());
        const int ret = deflate(&z, flush);
        if (ret != Z_OK && ret != Z_STREAM_END)
            qFatal("repeatedGzip: deflate failed");
        out.resize(out.size() - qsizetype(z.avail_out));
        return out;
    };
    const QByteArray first = run(unit, Z_FULL_FLUSH); // the gzip header and one block
    const QByteArray block = run(unit, Z_FULL_FLUSH);
    if (run(unit, Z_FULL_FLUSH) != block)
        qFatal("repeatedGzip: a flushed block is not reproducible");
    QByteArray end = run({}, Z_FINISH); // the last (empty) block, then the 8-byte trailer
    deflateEnd(&z);
    end.chop(8);
    const uLong unitCrc
        = crc32(0, reinterpret_cast<const Bytef *>(unit.constData()), uInt(unit.size()));
    uLong crc = 0;
    for (int i = 0; i < count; ++i)
        crc = crc32_combine(crc, unitCrc, z_off_t(unit.size()));
    const quint32 length = quint32(quint64(unit.size()) * quint64(count)); // ISIZE: modulo 2^32
    for (const quint32 word : {quint32(crc), length}) {
        for (int shift = 0; shift < 32; shift += 8)
            end.append(char((word >> shift) & 0xff));
    }
    QByteArray stream = first;
    stream.reserve(first.size() + block.size() * (count - 1) + end.size());
    for (int i = 1; i < count; ++i)
        stream += block;
    return stream + end;
}

//! 1 MiB of zeros with a non-zero byte every 32 KiB: it deflates about 930:1, just under
//! deflate's ceiling of about 1032:1, so a guard set near that ceiling lets it through.
inline QByteArray sparseNoise()
{
    QByteArray unit(1024 * 1024, '\0');
    for (qsizetype i = 0; i < unit.size(); i += 32 * 1024)
        unit[i] = char(1 + (i / 1024) % 250);
    return unit;
}

} // namespace ReqivoTest
