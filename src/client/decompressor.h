// Streaming decoder for the Content-Encoding of a response body (gzip, x-gzip, deflate).
//
// Compressed bytes go in as they arrive and decoded bytes come out, at most 64 KiB per zlib
// call, so memory is bounded by what the caller keeps, never by the size of the body. Every
// step checks the decompression ratio: more than 64 KiB + Limits::maxDecompressionRatio decoded
// bytes per compressed byte consumed is treated as a decompression bomb and fails at once,
// long before the bomb's output would exist in memory.
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

class REQIVO_EXPORT Decompressor
{
public:
    enum class Coding { Gzip, Deflate };

    //! Output produced per zlib call, and the allowance before the ratio limit applies.
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
    //! on data after the end of a deflate stream, or when the ratio limit is exceeded; the
    //! decoder is then unusable.
    bool feed(QByteArrayView in, QByteArray &out, QString *error);
    //! Ends the body: appends what remains and checks the stream was complete. False (with
    //! \a error) when it was truncated. An empty body (nothing fed) is accepted as empty.
    bool finish(QByteArray &out, QString *error);

    Coding coding() const noexcept { return m_coding; }
    //! Compressed bytes consumed and decoded bytes produced so far.
    qint64 compressedBytes() const noexcept { return m_compressed; }
    qint64 decodedBytes() const noexcept { return m_decoded; }

private:
    struct Stream;
    Decompressor(Coding coding, const Limits &limits);
    bool start(QByteArrayView firstBytes, QString *error);
    bool inflateSome(QByteArrayView in, QByteArray &out, QString *error);
    bool fail(QString *error, const QString &message);

    std::unique_ptr<Stream> m_stream;
    Coding m_coding;
    int m_maxRatio;
    qint64 m_compressed = 0;
    qint64 m_decoded = 0;
    QByteArray m_pending; // "deflate": the first byte, kept until the second one tells the wrapper
    bool m_started = false; // zlib stream initialised
    bool m_memberEnded = false; // the last zlib stream reached its end
    bool m_failed = false;
};

} // namespace Reqivo::Client
