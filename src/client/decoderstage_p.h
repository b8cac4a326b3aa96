// One content coding's streaming decoder: a stage of Decompressor's pipeline (decompressor.h).
//
// A stage knows nothing of limits, ratios or of the stages around it: it turns compressed bytes
// into at most `room` decoded bytes per call and says where it stands. The pipeline calls it
// again while it has input or pending output, counts what goes in and out, and applies the
// bounds. One implementation per library: zlib (gzip, deflate) in decompressor.cpp, brotli in
// brotlidecoder.cpp, zstd in zstddecoder.cpp.
#pragma once

#include <QByteArrayView>
#include <QString>

#include <memory>

namespace Reqivo::Client {

//! What one call of DecoderStage::decode() did.
struct DecodeStep
{
    enum class Status {
        //! Every input byte was used and nothing more comes out of them: give more input.
        NeedInput,
        //! Output may be pending or input is left: call again (with the rest of the input).
        More,
        //! The compressed stream (a gzip member, a zstd frame) ended with this call's input.
        End,
        //! The data is not valid for the coding: error says why.
        Error,
    };
    qsizetype consumed = 0; //!< input bytes used
    qsizetype produced = 0; //!< output bytes written
    Status status = Status::NeedInput;
    QString error; //!< with Status::Error: what is wrong, without the coding's name
};

class DecoderStage
{
public:
    virtual ~DecoderStage() = default;
    //! Decodes from \a in, writing at most \a room (> 0) bytes at \a out.
    virtual DecodeStep decode(QByteArrayView in, char *out, qsizetype room) = 0;
    //! True when another stream may follow the end of one (gzip members, zstd frames); false
    //! when bytes after the end are an error (deflate, brotli).
    virtual bool concatenates() const = 0;
};

//! gzip (with concatenated members) or deflate (zlib-wrapped, or raw as some servers send).
std::unique_ptr<DecoderStage> makeZlibStage(bool gzip);
//! brotli (RFC 7932), with the standard window of at most 16 MiB.
std::unique_ptr<DecoderStage> makeBrotliStage();
//! Zstandard (RFC 8878), frames of a window up to 2^maxWindowLog bytes, concatenated frames.
std::unique_ptr<DecoderStage> makeZstdStage(int maxWindowLog);

} // namespace Reqivo::Client
