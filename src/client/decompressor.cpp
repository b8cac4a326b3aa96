// Streaming Content-Encoding decoder over zlib's inflate (see decompressor.h).
#include "decompressor.h"

#include <QList>

#include <zlib.h>

#include <algorithm>
#include <utility>

namespace Reqivo::Client {

namespace {

// zlib counts in uInt; larger inputs are handed over in slices of this size.
constexpr qsizetype maxInputSlice = qsizetype(1) << 30;

// RFC 1950 §2.2: CM = 8 (deflate), CINFO ≤ 7 (window ≤ 32 KiB), and CMF·256 + FLG a multiple
// of 31. A raw deflate stream passes this check by accident only rarely.
bool isZlibHeader(uchar cmf, uchar flg)
{
    return (cmf & 0x0f) == Z_DEFLATED && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

QString codingName(Decompressor::Coding coding)
{
    return coding == Decompressor::Coding::Gzip ? QStringLiteral("gzip")
                                                : QStringLiteral("deflate");
}

} // namespace

struct Decompressor::Stream
{
    z_stream z {};
    bool initialised = false;
    ~Stream()
    {
        if (initialised)
            inflateEnd(&z);
    }
};

std::unique_ptr<Decompressor> Decompressor::create(
    QByteArrayView contentEncoding, const Limits &limits, QString *error)
{
    if (error)
        error->clear();
    QList<QByteArray> codings;
    for (const QByteArray &part : contentEncoding.toByteArray().split(',')) {
        const QByteArray coding = part.trimmed().toLower();
        if (!coding.isEmpty() && coding != "identity")
            codings.append(coding);
    }
    if (codings.isEmpty())
        return nullptr;
    if (codings.size() > 1) {
        // Stacked codings are legal but no real server sends them; decoding them in a chain
        // would multiply the bomb ratio, so they are refused rather than half-supported.
        if (error)
            *error = QStringLiteral("unsupported Content-Encoding \"%1\": several codings applied "
                                    "on top of each other")
                         .arg(QString::fromLatin1(contentEncoding.toByteArray()));
        return nullptr;
    }
    const QByteArray &coding = codings.first();
    if (coding == "gzip" || coding == "x-gzip") // x-gzip: RFC 9110 §8.4.1.3
        return std::unique_ptr<Decompressor>(new Decompressor(Coding::Gzip, limits));
    if (coding == "deflate")
        return std::unique_ptr<Decompressor>(new Decompressor(Coding::Deflate, limits));
    if (error)
        *error = QStringLiteral("unsupported Content-Encoding \"%1\"")
                     .arg(QString::fromLatin1(coding));
    return nullptr;
}

Decompressor::Decompressor(Coding coding, const Limits &limits)
    : m_stream(std::make_unique<Stream>())
    , m_coding(coding)
    , m_maxRatio(limits.maxDecompressionRatio)
    , m_ratioThreshold(limits.decompressionCheckThreshold)
    , m_maxDecoded(limits.maxBodyBytes)
{
}

Decompressor::~Decompressor() = default;

QString Decompressor::errorDetail() const
{
    switch (m_failure) {
    case Failure::None:
        return QString();
    case Failure::BodyTooLarge:
        return QStringLiteral("BodyTooLarge"); // as the parser's, for the bytes on the wire
    case Failure::DecompressionBomb:
        return QStringLiteral("DecompressionBomb");
    case Failure::Corrupt:
    case Failure::Truncated:
        break;
    }
    return QStringLiteral("Content-Encoding");
}

bool Decompressor::fail(QString *error, const QString &message, Failure failure)
{
    if (!m_failed)
        m_failure = failure;
    m_failed = true;
    if (error)
        *error = message;
    return false;
}

bool Decompressor::start(QByteArrayView firstBytes, QString *error)
{
    int windowBits = 16 + MAX_WBITS; // gzip wrapper only
    if (m_coding == Coding::Deflate) {
        const bool zlib = firstBytes.size() >= 2
            && isZlibHeader(uchar(firstBytes.at(0)), uchar(firstBytes.at(1)));
        windowBits = zlib ? MAX_WBITS : -MAX_WBITS;
    }
    if (inflateInit2(&m_stream->z, windowBits) != Z_OK)
        return fail(error,
            QStringLiteral("cannot start the %1 decoder: out of memory").arg(codingName(m_coding)),
            Failure::Corrupt);
    m_stream->initialised = true;
    m_started = true;
    return true;
}

bool Decompressor::feed(QByteArrayView in, QByteArray &out, QString *error)
{
    if (m_failed)
        return fail(
            error, QStringLiteral("the %1 decoder already failed").arg(codingName(m_coding)));
    if (in.isEmpty())
        return true;
    if (m_started)
        return inflateSome(in, out, error);
    if (m_coding == Coding::Gzip)
        return start({}, error) && inflateSome(in, out, error);

    // Deflate: the wrapper is decided by the first two bytes, which may arrive one at a time.
    const qsizetype wanted = 2 - m_pending.size();
    if (in.size() < wanted) {
        m_pending.append(in.data(), in.size());
        return true;
    }
    const QByteArray header = m_pending + in.first(wanted).toByteArray();
    const QByteArray pending = std::exchange(m_pending, QByteArray());
    return start(header, error) && inflateSome(pending, out, error) && inflateSome(in, out, error);
}

bool Decompressor::inflateSome(QByteArrayView in, QByteArray &out, QString *error)
{
    z_stream &z = m_stream->z;
    const char *next = in.data();
    qsizetype remaining = in.size();
    for (;;) {
        if (m_memberEnded) {
            if (remaining == 0)
                return true;
            if (m_coding == Coding::Deflate)
                return fail(error,
                    QStringLiteral("corrupt deflate body: data after the end of the "
                                   "compressed stream"),
                    Failure::Corrupt);
            // Another gzip member follows (RFC 1952 §2.2): decode it as a fresh stream.
            inflateReset(&z);
            m_memberEnded = false;
        }
        const uInt sliceIn = uInt(std::min(remaining, maxInputSlice));
        z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(next));
        z.avail_in = sliceIn;
        // With a body limit, zlib is asked for at most one byte past it: enough to know the
        // limit is exceeded, never the bomb's output.
        qsizetype room = stepBytes;
        if (m_maxDecoded >= 0)
            room = qsizetype(std::min<qint64>(room, m_maxDecoded + 1 - m_decoded));
        const qsizetype oldSize = out.size();
        out.resize(oldSize + room);
        z.next_out = reinterpret_cast<Bytef *>(out.data() + oldSize);
        z.avail_out = uInt(room);

        const int ret = inflate(&z, Z_NO_FLUSH);

        const qsizetype consumed = sliceIn - z.avail_in;
        const qsizetype produced = room - z.avail_out;
        out.resize(oldSize + produced);
        next += consumed;
        remaining -= consumed;
        m_compressed += consumed;
        m_decoded += produced;
        if (m_maxDecoded >= 0 && m_decoded > m_maxDecoded) {
            out.chop(m_decoded - m_maxDecoded); // the caller gets exactly the limit, no more
            return fail(error,
                QStringLiteral("the decoded %1 body exceeds the body limit of %2 bytes")
                    .arg(codingName(m_coding))
                    .arg(m_maxDecoded),
                Failure::BodyTooLarge);
        }
        if (m_maxRatio > 0 && m_ratioThreshold >= 0 && m_decoded > m_ratioThreshold
            && m_decoded > qint64(m_maxRatio) * m_compressed) {
            return fail(error,
                QStringLiteral("%1 body decodes to more than %2 times its "
                               "compressed size (%3 bytes from %4): possible "
                               "decompression bomb")
                    .arg(codingName(m_coding))
                    .arg(m_maxRatio)
                    .arg(m_decoded)
                    .arg(m_compressed),
                Failure::DecompressionBomb);
        }

        switch (ret) {
        case Z_STREAM_END:
            m_memberEnded = true;
            continue;
        case Z_OK:
            // Output space left over means zlib has used every input byte it was given.
            if (z.avail_out != 0 && remaining == 0)
                return true;
            continue;
        case Z_BUF_ERROR: // no progress possible: all input used and no output pending
            if (remaining == 0)
                return true;
            break;
        case Z_NEED_DICT:
            return fail(error,
                QStringLiteral("corrupt deflate body: it needs a preset "
                               "dictionary, which HTTP never provides"),
                Failure::Corrupt);
        default:
            break;
        }
        return fail(error,
            QStringLiteral("corrupt %1 body: %2")
                .arg(codingName(m_coding),
                    z.msg ? QString::fromLatin1(z.msg) : QStringLiteral("zlib error %1").arg(ret)),
            Failure::Corrupt);
    }
}

bool Decompressor::finish(QByteArray &out, QString *error)
{
    Q_UNUSED(out); // everything decodable was already appended by feed()
    if (m_failed)
        return fail(
            error, QStringLiteral("the %1 decoder already failed").arg(codingName(m_coding)));
    if (!m_started && m_pending.isEmpty())
        return true; // an empty body: nothing was ever compressed
    if (m_started && m_memberEnded)
        return true;
    return fail(error,
        QStringLiteral("truncated %1 body: it ended before the end of the "
                       "compressed stream (%2 compressed bytes read)")
            .arg(codingName(m_coding))
            .arg(m_compressed + m_pending.size()),
        Failure::Truncated);
}

} // namespace Reqivo::Client
