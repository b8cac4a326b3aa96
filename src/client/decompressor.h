// Streaming decoder for the Content-Encoding of a response body: gzip (x-gzip), deflate, br
// (brotli) and zstd, and stacks of up to three of them ("gzip, br": gzip applied first, then br,
// so br is decoded first; RFC 9110 §8.4 lists codings in the order they were applied).
//
// Compressed bytes go in as they arrive and decoded bytes come out, at most 64 KiB per call of
// the coding's library, so memory is bounded by what the caller keeps, never by the size of the
// body. In a stack each stage streams into the next through a buffer of at most 64 KiB, which
// the next stage uses up before the previous one makes more. Two limits are checked after every
// call, so neither needs more memory than itself:
//   - Limits::maxBodyBytes bounds the decoded bytes (the last stage's): the decoder is never
//     asked for more than one byte past it, and the caller receives exactly the limit before
//     the failure (BodyTooLarge);
//   - once a stage's output passes Limits::decompressionCheckThreshold, more than
//     Limits::maxDecompressionRatio decoded bytes per compressed byte received is a
//     decompression bomb (Qt's guard, QNetworkRequest::setDecompressedSafetyCheckThreshold:
//     40:1 past 10 MiB). Every stage is held to it, so an inner stage cannot make a stack
//     churn through a gigabyte that the outer one turns into nothing.
//
// "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2), but some servers send raw
// deflate; like browsers, the decoder looks at the first two bytes and uses the zlib wrapper
// when they form a valid zlib header, raw deflate otherwise. A gzip body may hold several
// concatenated members (RFC 1952 §2.2) and a zstd body several frames (RFC 8878 §3.1); they are
// decoded one after another. Bytes after the end of a deflate or brotli stream are an error.
// A zstd frame asking for a window over 2^zstdMaxWindowLog bytes is refused before anything is
// allocated for it; brotli's window is at most 16 MiB (the large-window extension is off).
#pragma once

#include "decoderstage_p.h"

#include <Reqivo/limits.h>
#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

#include <memory>
#include <vector>

namespace Reqivo::Client {

class REQIVO_TESTS_EXPORT Decompressor
{
public:
    enum class Coding { Gzip, Deflate, Brotli, Zstd };
    //! Why the decoder failed (the first reason, when it was asked again after failing).
    enum class Failure {
        None,
        Corrupt, //!< not valid data for a coding, data after the end of a deflate or brotli
                 //!< stream, or a zstd frame that needs a window over the limit
        Truncated, //!< the body ended before the compressed stream did
        BodyTooLarge, //!< more decoded bytes than Limits::maxBodyBytes
        DecompressionBomb, //!< past the threshold, a ratio above Limits::maxDecompressionRatio
    };

    //! Output produced per decoder call at most: the ratio check may pass its threshold by this.
    static constexpr qsizetype stepBytes = 64 * 1024;
    //! Codings decoded on top of each other at most; a longer stack is refused.
    static constexpr int maxCodings = 3;
    //! The largest zstd window accepted, as a power of 2 (128 MiB, zstd's own default limit and
    //! curl's). RFC 9659 has servers use at most 8 MiB.
    static constexpr int zstdMaxWindowLog = 27;

    //! The Accept-Encoding value that offers every coding this decoder supports.
    static QByteArray acceptEncoding();

    //! A decoder for \a contentEncoding (a Content-Encoding field value). Returns nullptr with
    //! an empty \a error when nothing needs decoding (absent or "identity"), and nullptr with
    //! \a error set for what it cannot decode: an unknown coding ("compress") anywhere in the
    //! list, "identity" combined with other codings, or more than maxCodings codings.
    static std::unique_ptr<Decompressor> create(
        QByteArrayView contentEncoding, const Limits &limits, QString *error);
    ~Decompressor();
    Decompressor(const Decompressor &) = delete;
    Decompressor &operator=(const Decompressor &) = delete;

    //! Decodes \a in, appending the result to \a out. False (with \a error) on corrupt data,
    //! on data after the end of a deflate or brotli stream, or when a limit is exceeded (then \a
    //! out has received exactly Limits::maxBodyBytes decoded bytes, or a step past the ratio
    //! threshold); the decoder is then unusable and failure() says why.
    bool feed(QByteArrayView in, QByteArray &out, QString *error);
    //! Ends the body: appends what remains and checks the stream was complete. False (with
    //! \a error) when it was truncated. An empty body (nothing fed) is accepted as empty.
    bool finish(QByteArray &out, QString *error);

    //! The codings, in the order they were applied (as the field lists them); they are decoded
    //! from the last to the first.
    QList<Coding> codings() const;
    Failure failure() const noexcept { return m_failure; }
    //! Error::detail() for the failure: "BodyTooLarge" (the parser's detail for the same limit
    //! on the bytes on the wire), "DecompressionBomb", or "Content-Encoding" (corrupt or
    //! truncated data). Empty while nothing failed.
    QString errorDetail() const;
    //! Compressed bytes consumed (of the body as received) and decoded bytes produced so far.
    qint64 compressedBytes() const noexcept { return m_compressed; }
    qint64 decodedBytes() const noexcept { return m_decoded; }

private:
    struct Stage
    {
        std::unique_ptr<DecoderStage> decoder;
        Coding coding;
        qint64 in = 0; // bytes it consumed
        qint64 out = 0; // bytes it produced
        bool ended = false; // its stream ended and nothing came after
        QByteArray buffer; // its output, on the way to the next stage
    };
    Decompressor(QList<Coding> codings, const Limits &limits);
    bool push(qsizetype index, QByteArrayView in, QByteArray &out, QString *error);
    bool fail(QString *error, const QString &message, Failure failure = Failure::Corrupt);

    std::vector<Stage> m_stages; // in decoding order: the last coding applied first
    int m_maxRatio; // < 1: no ratio check
    qint64 m_ratioThreshold; // -1: no ratio check
    qint64 m_maxDecoded; // -1: no limit
    qint64 m_compressed = 0;
    qint64 m_decoded = 0;
    bool m_failed = false;
    Failure m_failure = Failure::None;
};

} // namespace Reqivo::Client
