// The zstd stage of the Content-Encoding decoder (decoderstage_p.h): RFC 8878 frames through
// ZSTD_decompressStream. A body may hold several frames (skippable ones too), decoded one after
// another. ZSTD_d_windowLogMax bounds the window a frame may ask for, so a hostile frame header
// cannot make the decoder allocate more than that: such a frame is refused before its window is
// allocated.
#include "decoderstage_p.h"

#include <QByteArray>
#include <QString>

#include <zstd.h>
#include <zstd_errors.h>

namespace Reqivo::Client {

namespace {

class ZstdStage final : public DecoderStage
{
public:
    explicit ZstdStage(int maxWindowLog)
        : m_stream(ZSTD_createDStream())
        , m_maxWindowLog(maxWindowLog)
    {
        if (m_stream
            && ZSTD_isError(ZSTD_DCtx_setParameter(m_stream, ZSTD_d_windowLogMax, maxWindowLog))) {
            ZSTD_freeDStream(m_stream);
            m_stream = nullptr;
        }
    }
    ~ZstdStage() override { ZSTD_freeDStream(m_stream); }
    ZstdStage(const ZstdStage &) = delete;
    ZstdStage &operator=(const ZstdStage &) = delete;

    bool concatenates() const override { return true; }

    DecodeStep decode(QByteArrayView in, char *out, qsizetype room) override
    {
        if (!m_stream)
            return {0, 0, DecodeStep::Status::Error,
                QStringLiteral("cannot start the decoder: out of memory")};
        if (!m_atFrameStart)
            return decompress(in, out, room);
        // A frame's magic number first, which may arrive a byte at a time. Only RFC 8878 frames
        // and skippable frames are taken: libzstd would also decode the pre-1.0 formats, and
        // would take them or not depending on how the bytes are split.
        const qsizetype taken = qMin(in.size(), 4 - m_magic.size());
        m_magic.append(in.data(), taken);
        if (m_magic.size() < 4)
            return {taken, 0, DecodeStep::Status::NeedInput, {}};
        const quint32 magic = quint32(uchar(m_magic.at(0))) | quint32(uchar(m_magic.at(1))) << 8
            | quint32(uchar(m_magic.at(2))) << 16 | quint32(uchar(m_magic.at(3))) << 24;
        if (magic != ZSTD_MAGICNUMBER
            && (magic & ZSTD_MAGIC_SKIPPABLE_MASK) != ZSTD_MAGIC_SKIPPABLE_START)
            return {taken, 0, DecodeStep::Status::Error,
                QStringLiteral("not a zstd frame (magic number 0x%1)")
                    .arg(magic, 8, 16, QLatin1Char('0'))};
        // The four bytes only start the frame header: they produce no output.
        const DecodeStep header = decompress(m_magic, out, room);
        m_magic.clear();
        m_atFrameStart = false;
        if (header.status == DecodeStep::Status::Error)
            return {taken, 0, header.status, header.error};
        DecodeStep rest
            = decompress(in.sliced(taken), out + header.produced, room - header.produced);
        rest.consumed += taken;
        rest.produced += header.produced;
        return rest;
    }

private:
    DecodeStep decompress(QByteArrayView in, char *out, qsizetype room)
    {
        DecodeStep step;
        ZSTD_inBuffer input {in.data(), size_t(in.size()), 0};
        ZSTD_outBuffer output {out, size_t(room), 0};

        const size_t ret = ZSTD_decompressStream(m_stream, &output, &input);

        step.consumed = qsizetype(input.pos);
        step.produced = qsizetype(output.pos);
        if (ZSTD_isError(ret)) {
            step.status = DecodeStep::Status::Error;
            if (ZSTD_getErrorCode(ret) == ZSTD_error_frameParameter_windowTooLarge)
                step.error = QStringLiteral("a frame needs a window larger than the %1 bytes "
                                            "this decoder accepts")
                                 .arg(qint64(1) << m_maxWindowLog);
            else
                step.error = QStringLiteral("%1 (zstd error %2)")
                                 .arg(QString::fromLatin1(ZSTD_getErrorName(ret)))
                                 .arg(int(ZSTD_getErrorCode(ret)));
            return step;
        }
        if (ret == 0) { // a frame is complete and all of its output flushed
            step.status = DecodeStep::Status::End;
            m_atFrameStart = true;
        } else if (input.pos == input.size && output.pos < output.size) {
            step.status = DecodeStep::Status::NeedInput; // flushed all it could
        } else {
            step.status = DecodeStep::Status::More;
        }
        return step;
    }

    ZSTD_DStream *m_stream;
    int m_maxWindowLog;
    QByteArray m_magic; // the start of a frame's magic number, until it is whole
    bool m_atFrameStart = true;
};

} // namespace

std::unique_ptr<DecoderStage> makeZstdStage(int maxWindowLog)
{
    return std::make_unique<ZstdStage>(maxWindowLog);
}

} // namespace Reqivo::Client
