// The brotli stage of the Content-Encoding decoder (decoderstage_p.h): RFC 7932 streams through
// BrotliDecoderDecompressStream, with the standard window (at most 16 MiB: the large-window
// extension stays off, so a stream asking for more is corrupt data).
#include "decoderstage_p.h"

#include <QString>

#include <brotli/decode.h>

namespace Reqivo::Client {

namespace {

class BrotliStage final : public DecoderStage
{
public:
    BrotliStage()
        : m_state(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr))
    {
    }
    ~BrotliStage() override
    {
        if (m_state)
            BrotliDecoderDestroyInstance(m_state);
    }
    BrotliStage(const BrotliStage &) = delete;
    BrotliStage &operator=(const BrotliStage &) = delete;

    bool concatenates() const override { return false; }

    DecodeStep decode(QByteArrayView in, char *out, qsizetype room) override
    {
        DecodeStep step;
        if (!m_state) {
            step.status = DecodeStep::Status::Error;
            step.error = QStringLiteral("cannot start the decoder: out of memory");
            return step;
        }
        size_t availIn = size_t(in.size());
        const auto *nextIn = reinterpret_cast<const uint8_t *>(in.data());
        size_t availOut = size_t(room);
        auto *nextOut = reinterpret_cast<uint8_t *>(out);

        const BrotliDecoderResult result = BrotliDecoderDecompressStream(
            m_state, &availIn, &nextIn, &availOut, &nextOut, nullptr);

        step.consumed = in.size() - qsizetype(availIn);
        step.produced = room - qsizetype(availOut);
        switch (result) {
        case BROTLI_DECODER_RESULT_SUCCESS:
            step.status = DecodeStep::Status::End;
            return step;
        case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT: // every input byte used
            step.status = DecodeStep::Status::NeedInput;
            return step;
        case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
            step.status = DecodeStep::Status::More;
            return step;
        case BROTLI_DECODER_RESULT_ERROR:
            break;
        }
        const BrotliDecoderErrorCode code = BrotliDecoderGetErrorCode(m_state);
        step.status = DecodeStep::Status::Error;
        step.error = QStringLiteral("%1 (brotli error %2)")
                         .arg(QString::fromLatin1(BrotliDecoderErrorString(code)))
                         .arg(int(code));
        return step;
    }

private:
    BrotliDecoderState *m_state;
};

} // namespace

std::unique_ptr<DecoderStage> makeBrotliStage()
{
    return std::make_unique<BrotliStage>();
}

} // namespace Reqivo::Client
