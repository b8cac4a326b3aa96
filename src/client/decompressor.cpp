// Streaming Content-Encoding decoder (see decompressor.h): the pipeline of stages with its
// bounds, and the zlib stage (gzip, deflate).
#include "decompressor.h"

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
    switch (coding) {
    case Decompressor::Coding::Gzip:
        return QStringLiteral("gzip");
    case Decompressor::Coding::Deflate:
        return QStringLiteral("deflate");
    case Decompressor::Coding::Brotli:
        return QStringLiteral("br");
    case Decompressor::Coding::Zstd:
        break;
    }
    return QStringLiteral("zstd");
}

class ZlibStage final : public DecoderStage
{
public:
    explicit ZlibStage(bool gzip)
        : m_gzip(gzip)
    {
    }
    ~ZlibStage() override
    {
        if (m_started)
            inflateEnd(&m_z);
    }
    ZlibStage(const ZlibStage &) = delete;
    ZlibStage &operator=(const ZlibStage &) = delete;

    bool concatenates() const override { return m_gzip; }

    DecodeStep decode(QByteArrayView in, char *out, qsizetype room) override
    {
        if (m_started)
            return inflateSome(in, out, room);
        if (m_gzip) {
            if (const DecodeStep failed = start({}); failed.status == DecodeStep::Status::Error)
                return failed;
            return inflateSome(in, out, room);
        }
        // Deflate: the wrapper is decided by the first two bytes, which may arrive one at a
        // time. A first byte alone is kept (and counted as consumed) until the second comes.
        const qsizetype wanted = 2 - m_pending.size();
        if (in.size() < wanted) {
            m_pending.append(in.data(), in.size());
            return {in.size(), 0, DecodeStep::Status::NeedInput, {}};
        }
        const QByteArray header = m_pending + in.first(wanted).toByteArray();
        if (const DecodeStep failed = start(header); failed.status == DecodeStep::Status::Error)
            return failed;
        const QByteArray pending = std::exchange(m_pending, QByteArray());
        if (pending.isEmpty())
            return inflateSome(in, out, room);
        // The kept byte first: with room to spare, zlib takes it whole into its bit buffer.
        DecodeStep first = inflateSome(pending, out, room);
        if (first.status != DecodeStep::Status::NeedInput) {
            first.consumed = 0; // it was counted when it was kept
            return first;
        }
        DecodeStep rest = inflateSome(in, out + first.produced, room - first.produced);
        rest.produced += first.produced;
        return rest;
    }

private:
    DecodeStep start(QByteArrayView firstBytes)
    {
        int windowBits = 16 + MAX_WBITS; // gzip wrapper only
        if (!m_gzip) {
            const bool zlib = firstBytes.size() >= 2
                && isZlibHeader(uchar(firstBytes.at(0)), uchar(firstBytes.at(1)));
            windowBits = zlib ? MAX_WBITS : -MAX_WBITS;
        }
        if (inflateInit2(&m_z, windowBits) != Z_OK)
            return {0, 0, DecodeStep::Status::Error,
                QStringLiteral("cannot start the decoder: out of memory")};
        m_started = true;
        return {};
    }

    DecodeStep inflateSome(QByteArrayView in, char *out, qsizetype room)
    {
        if (m_memberEnded) {
            // Another gzip member follows (RFC 1952 §2.2): decode it as a fresh stream. The
            // pipeline never hands a deflate stage bytes after its end.
            inflateReset(&m_z);
            m_memberEnded = false;
        }
        const uInt sliceIn = uInt(std::min(in.size(), maxInputSlice));
        m_z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
        m_z.avail_in = sliceIn;
        m_z.next_out = reinterpret_cast<Bytef *>(out);
        m_z.avail_out = uInt(room);

        const int ret = inflate(&m_z, Z_NO_FLUSH);

        DecodeStep step;
        step.consumed = sliceIn - m_z.avail_in;
        step.produced = room - m_z.avail_out;
        const bool allUsed = step.consumed == in.size();
        switch (ret) {
        case Z_STREAM_END:
            m_memberEnded = true;
            step.status = DecodeStep::Status::End;
            return step;
        case Z_OK:
            // Output space left over means zlib has used every input byte it was given.
            step.status = m_z.avail_out != 0 && allUsed ? DecodeStep::Status::NeedInput
                                                        : DecodeStep::Status::More;
            return step;
        case Z_BUF_ERROR: // no progress possible: all input used and no output pending
            if (allUsed) {
                step.status = DecodeStep::Status::NeedInput;
                return step;
            }
            break;
        case Z_NEED_DICT:
            step.status = DecodeStep::Status::Error;
            step.error = QStringLiteral("it needs a preset dictionary, which HTTP never provides");
            return step;
        default:
            break;
        }
        step.status = DecodeStep::Status::Error;
        step.error
            = m_z.msg ? QString::fromLatin1(m_z.msg) : QStringLiteral("zlib error %1").arg(ret);
        return step;
    }

    z_stream m_z {};
    QByteArray m_pending; // deflate: the first byte, kept until the second one tells the wrapper
    bool m_gzip;
    bool m_started = false; // zlib stream initialised
    bool m_memberEnded = false; // the last zlib stream reached its end
};

} // namespace

std::unique_ptr<DecoderStage> makeZlibStage(bool gzip)
{
    return std::make_unique<ZlibStage>(gzip);
}

QByteArray Decompressor::acceptEncoding()
{
    return QByteArrayLiteral("gzip, deflate, br, zstd");
}

std::unique_ptr<Decompressor> Decompressor::create(
    QByteArrayView contentEncoding, const Limits &limits, QString *error)
{
    if (error)
        error->clear();
    const auto refuse = [&](const QString &why) -> std::unique_ptr<Decompressor> {
        if (error)
            *error = QStringLiteral("unsupported Content-Encoding \"%1\": %2")
                         .arg(QString::fromLatin1(contentEncoding.toByteArray().trimmed()), why);
        return nullptr;
    };
    QList<Coding> codings;
    bool identity = false;
    for (const QByteArray &part : contentEncoding.toByteArray().split(',')) {
        const QByteArray coding = part.trimmed().toLower();
        if (coding.isEmpty())
            continue; // empty list elements are allowed (RFC 9110 §5.6.1)
        if (coding == "identity")
            identity = true;
        else if (coding == "gzip" || coding == "x-gzip") // x-gzip: RFC 9110 §8.4.1.3
            codings.append(Coding::Gzip);
        else if (coding == "deflate")
            codings.append(Coding::Deflate);
        else if (coding == "br")
            codings.append(Coding::Brotli);
        else if (coding == "zstd")
            codings.append(Coding::Zstd);
        else
            return refuse(
                QStringLiteral("\"%1\" is not a coding this build decodes (it decodes "
                               "%2)")
                    .arg(QString::fromLatin1(coding), QString::fromLatin1(acceptEncoding())));
    }
    // "identity" means no coding at all (RFC 9110 §8.4.1): alone it is no coding to decode,
    // beside others it is a contradiction.
    if (identity && !codings.isEmpty())
        return refuse(QStringLiteral("\"identity\" cannot be combined with other codings"));
    if (codings.isEmpty())
        return nullptr;
    if (codings.size() > maxCodings)
        return refuse(QStringLiteral("%1 codings applied on top of each other, more than the %2 "
                                     "this decoder accepts")
                          .arg(codings.size())
                          .arg(maxCodings));
    return std::unique_ptr<Decompressor>(new Decompressor(codings, limits));
}

Decompressor::Decompressor(QList<Coding> codings, const Limits &limits)
    : m_maxRatio(limits.maxDecompressionRatio)
    , m_ratioThreshold(limits.decompressionCheckThreshold)
    , m_maxDecoded(limits.maxBodyBytes)
{
    m_stages.reserve(size_t(codings.size()));
    // Listed in the order applied: the last one applied is decoded first.
    for (auto it = codings.crbegin(); it != codings.crend(); ++it) {
        Stage stage;
        stage.coding = *it;
        switch (*it) {
        case Coding::Gzip:
        case Coding::Deflate:
            stage.decoder = makeZlibStage(*it == Coding::Gzip);
            break;
        case Coding::Brotli:
            stage.decoder = makeBrotliStage();
            break;
        case Coding::Zstd:
            stage.decoder = makeZstdStage(zstdMaxWindowLog);
            break;
        }
        m_stages.push_back(std::move(stage));
    }
}

Decompressor::~Decompressor() = default;

QList<Decompressor::Coding> Decompressor::codings() const
{
    QList<Coding> applied;
    for (auto it = m_stages.crbegin(); it != m_stages.crend(); ++it)
        applied.append(it->coding);
    return applied;
}

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

bool Decompressor::feed(QByteArrayView in, QByteArray &out, QString *error)
{
    if (m_failed)
        return fail(error, QStringLiteral("the decoder already failed"));
    if (in.isEmpty())
        return true;
    return push(0, in, out, error);
}

// Runs stage \a index over \a in until it has used all of it and holds no output back; what it
// produces goes to the next stage at once (at most stepBytes at a time), from the last stage to
// \a out.
bool Decompressor::push(qsizetype index, QByteArrayView in, QByteArray &out, QString *error)
{
    Stage &stage = m_stages[size_t(index)];
    const bool last = index + 1 == qsizetype(m_stages.size());
    const QString name = codingName(stage.coding);
    const char *next = in.data();
    qsizetype remaining = in.size();
    bool outputPending = false;
    while (remaining > 0 || outputPending) {
        if (stage.ended && remaining > 0 && !stage.decoder->concatenates())
            return fail(error,
                QStringLiteral("corrupt %1 body: data after the end of the compressed stream")
                    .arg(name),
                Failure::Corrupt);
        // With a body limit, the last stage is asked for at most one byte past it: enough to
        // know the limit is exceeded, never the bomb's output.
        qsizetype room = stepBytes;
        if (last && m_maxDecoded >= 0)
            room = qsizetype(std::min<qint64>(room, m_maxDecoded + 1 - m_decoded));
        QByteArray &target = last ? out : stage.buffer;
        const qsizetype oldSize = last ? out.size() : 0;
        target.resize(oldSize + room);

        const DecodeStep step
            = stage.decoder->decode(QByteArrayView(next, remaining), target.data() + oldSize, room);

        target.resize(oldSize + step.produced);
        next += step.consumed;
        remaining -= step.consumed;
        stage.in += step.consumed;
        stage.out += step.produced;
        if (step.consumed > 0 || step.produced > 0)
            stage.ended = false;
        if (index == 0)
            m_compressed += step.consumed;
        if (last) {
            m_decoded += step.produced;
            if (m_maxDecoded >= 0 && m_decoded > m_maxDecoded) {
                out.chop(m_decoded - m_maxDecoded); // the caller gets exactly the limit
                return fail(error,
                    QStringLiteral("the decoded %1 body exceeds the body limit of %2 bytes")
                        .arg(name)
                        .arg(m_maxDecoded),
                    Failure::BodyTooLarge);
            }
        }
        if (m_maxRatio > 0 && m_ratioThreshold >= 0 && stage.out > m_ratioThreshold
            && stage.out > qint64(m_maxRatio) * m_compressed) {
            return fail(error,
                QStringLiteral("%1 body decodes to more than %2 times its "
                               "compressed size (%3 bytes from %4): possible "
                               "decompression bomb")
                    .arg(name)
                    .arg(m_maxRatio)
                    .arg(stage.out)
                    .arg(m_compressed),
                Failure::DecompressionBomb);
        }
        if (!last && step.produced > 0 && !push(index + 1, stage.buffer, out, error))
            return false;

        switch (step.status) {
        case DecodeStep::Status::Error:
            return fail(error, QStringLiteral("corrupt %1 body: %2").arg(name, step.error),
                Failure::Corrupt);
        case DecodeStep::Status::NeedInput:
            outputPending = false;
            break;
        case DecodeStep::Status::More:
            outputPending = true;
            break;
        case DecodeStep::Status::End:
            stage.ended = true;
            outputPending = false;
            break;
        }
    }
    return true;
}

bool Decompressor::finish(QByteArray &out, QString *error)
{
    Q_UNUSED(out); // everything decodable was already appended by feed()
    if (m_failed)
        return fail(error, QStringLiteral("the decoder already failed"));
    // A stage that received nothing has nothing to complete (an empty body); every other one
    // must have reached the end of its stream.
    for (const Stage &stage : m_stages) {
        if (stage.in > 0 && !stage.ended)
            return fail(error,
                QStringLiteral("truncated %1 body: it ended before the end of the "
                               "compressed stream (%2 compressed bytes read)")
                    .arg(codingName(stage.coding))
                    .arg(stage.in),
                Failure::Truncated);
    }
    return true;
}

} // namespace Reqivo::Client
