// Streaming decoder for the Content-Encoding of a response body (gzip, x-gzip, deflate).
//
// Compressed bytes go in as they arrive and decoded bytes come out, at most 64 KiB per zlib
// call, so memory is bounded by what the caller keeps, never by the size of the body. Two
// limits are checked after every zlib call, so neither needs more memory than itself:
//   - Limits::maxBodyBytes bounds the decoded bytes: zlib is never asked for more than one byte
//     past it, and the caller receives exactly the limit before the failure (BodyTooLarge);
//   - once the output passes Limits::decompressionCheckThreshold, more than
//     Limits::maxDecompressionRatio decoded bytes per compressed byte is a decompression bomb
//     (Qt's guard, QNetworkRequest::setDecompressedSafetyCheckThreshold: 40:1 past 10 MiB).
//
// "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2), but some servers send raw
// deflate; like browsers, the decoder looks at the first two bytes and uses the zlib wrapper
// when they form a valid zlib header, raw deflate otherwise. A gzip body may hold several
// concatenated members (RFC 1952 §2.2); they are decoded one after another.
#pragma once

#include <Reqivo/limits.h>
#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <memory>

namespace Reqivo::Client {

class REQIVO_TESTS_EXPORT Decompressor
{
public:
    enum class Coding { Gzip, Deflate };
    //! Why the decoder failed (the first reason, when it was asked again after failing).
    enum class Failure {
        None,
        Corrupt, //!< not valid gzip/deflate data, or data after the end of the stream
        Truncated, //!< the body ended before the compressed stream did
        BodyTooLarge, //!< more decoded bytes than Limits::maxBodyBytes
        DecompressionBomb, //!< past the threshold, a ratio above Limits::maxDecompressionRatio
    };

    //! Output produced per zlib call at most: the ratio check may pass its threshold by this.
    static constexpr qsizetype stepBytes = 64 * 1024;

    //! A decoder for \a contentEncoding (a Content-Encoding field value). Returns nullptr with
    //! an empty \a error when nothing needs decoding (absent or "identity"), and nullptr with
    //! \a error set for codings it cannot decode ("br", "compress", or a stack of several
    //! codings such as "gzip, gzip").
    static std::unique_ptr<Decompressor> create(
        QByteArrayView contentEncoding, const Limits &limits, QString *error);
    ~Decompressor();
    Decompressor(const Decompressor &) = delete;
    Decompressor &operator=(const Decompressor &) = delete;

    //! Decodes \a in, appending the result to \a out. False (with \a error) on corrupt data,
    //! on data after the end of a deflate stream, or when a limit is exceeded (then \a out has
    //! received exactly Limits::maxBodyBytes decoded bytes, or a step past the ratio threshold);
    //! the decoder is then unusable and failure() says why.
    bool feed(QByteArrayView in, QByteArray &out, QString *error);
    //! Ends the body: appends what remains and checks the stream was complete. False (with
    //! \a error) when it was truncated. An empty body (nothing fed) is accepted as empty.
    bool finish(QByteArray &out, QString *error);

    Coding coding() const noexcept { return m_coding; }
    Failure failure() const noexcept { return m_failure; }
    //! Error::detail() for the failure: "BodyTooLarge" (the parser's detail for the same limit
    //! on the bytes on the wire), "DecompressionBomb", or "Content-Encoding" (corrupt or
    //! truncated data). Empty while nothing failed.
    QString errorDetail() const;
    //! Compressed bytes consumed and decoded bytes produced so far.
    qint64 compressedBytes() const noexcept { return m_compressed; }
    qint64 decodedBytes() const noexcept { return m_decoded; }

private:
    struct Stream;
    Decompressor(Coding coding, const Limits &limits);
    bool start(QByteArrayView firstBytes, QString *error);
    bool inflateSome(QByteArrayView in, QByteArray &out, QString *error);
    bool fail(QString *error, const QString &message, Failure failure = Failure::Corrupt);

    std::unique_ptr<Stream> m_stream;
    Coding m_coding;
    int m_maxRatio; // < 1: no ratio check
    qint64 m_ratioThreshold; // -1: no ratio check
    qint64 m_maxDecoded; // -1: no limit
    qint64 m_compressed = 0;
    qint64 m_decoded = 0;
    QByteArray m_pending; // "deflate": the first byte, kept until the second one tells the wrapper
    bool m_started = false; // zlib stream initialised
    bool m_memberEnded = false; // the last zlib stream reached its end
    bool m_failed = false;
    Failure m_failure = Failure::None;
};

} // namespace Reqivo::Client
