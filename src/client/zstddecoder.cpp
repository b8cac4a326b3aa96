// The zstd stage of the Content-Encoding decoder (decoderstage_p.h): RFC 8878 frames through
// ZSTD_decompressStream. A body may hold several frames (skippable ones too), decoded one after
// another. ZSTD_d_windowLogMax bounds the window a frame may ask for, so a hostile frame header
// cannot make the decoder allocate more than that: such a frame is refused before its window is
// allocated.
#include "decoderstage_p.h"

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
        DecodeStep step;
        if (!m_stream) {
            step.status = DecodeStep::Status::Error;
            step.error = QStringLiteral("cannot start the decoder: out of memory");
            return step;
        }
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
        if (ret == 0) // a frame is complete and all of its output flushed
            step.status = DecodeStep::Status::End;
        else if (input.pos == input.size && output.pos < output.size)
            step.status = DecodeStep::Status::NeedInput; // flushed all it could
        else
            step.status = DecodeStep::Status::More;
        return step;
    }

private:
    ZSTD_DStream *m_stream;
    int m_maxWindowLog;
};

} // namespace

std::unique_ptr<DecoderStage> makeZstdStage(int maxWindowLog)
{
    return std::make_unique<ZstdStage>(maxWindowLog);
}

} // namespace Reqivo::Client
