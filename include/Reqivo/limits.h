// Limits on what a peer may make Reqivo buffer or do. Every limit is checked as soon as
// exceeding it is certain, so no limit needs more memory than itself to enforce. -1 means "no
// limit" wherever a limit can be switched off.
//
// Which limit bounds memory (docs/limits.md has the whole picture):
//   - A buffered response (the default) holds its whole body: maxBodyBytes is the bound, in
//     decoded bytes. With the default -1 only the peer bounds a plain body; a compressed one is
//     also stopped by the ratio guard (maxDecompressionRatio past decompressionCheckThreshold).
//   - A streamed response (RequestOptions::stream) holds at most what one socket read decodes to
//     until the caller reads it; maxBodyBytes then bounds the total delivered, and the caller
//     decides what it keeps. Reply::setReadBufferSize() bounds what a streaming Reply holds.
#pragma once

#include <Reqivo/reqivoglobal.h>

namespace Reqivo {

//! Limits on what a peer may make Reqivo buffer or do, per session (AsyncSession::setLimits())
//! or per request (RequestOptions::limits).
//!
//! Every limit is checked as soon as exceeding it is certain, so no limit needs more memory
//! than itself to enforce; exceeding one is an InvalidResponseError (the detail names the body
//! and decompression limits). -1 means "no limit" wherever a
//! limit can be switched off. Which limit bounds memory when a body is buffered or streamed:
//! docs/limits.md.
struct Limits
{
    //! The whole response head (status line + fields + blank line). Seed default: 8 KiB.
    qsizetype maxHeaderBytes = 8192;
    //! One status or field line, including its line end.
    qsizetype maxLineBytes = 8192;
    //! Fields in one head, or in one trailer section. Seed default: 100.
    qsizetype maxFieldCount = 100;
    //! Body bytes: after de-chunking and, when the body is decoded, after decompression.
    //! -1: unlimited.
    qint64 maxBodyBytes = -1;
    //! 1xx interim responses accepted before the final one; a flood of 100-continue is an attack.
    int maxInterimResponses = 16;
    //! One chunk-size line with its extensions. Real servers send a few hex digits.
    qsizetype maxChunkLineBytes = 4096;
    //! Against decompression bombs: once a decoded body passes decompressionCheckThreshold
    //! bytes, it may hold at most this many decoded bytes per compressed byte received.
    //! Qt's guard (QNetworkRequest::setDecompressedSafetyCheckThreshold): 40:1 past 10 MiB.
    //! Ordinary text compresses 3:1 to 10:1. -1: no ratio check.
    int maxDecompressionRatio = 40;
    //! Decoded bytes before maxDecompressionRatio applies, so a small body of any ratio passes.
    //! -1: the ratio is never checked (Qt's -1).
    qint64 decompressionCheckThreshold = 10 * 1024 * 1024;

    //! Equal when every limit is.
    friend bool operator==(const Limits &, const Limits &) = default;
};

} // namespace Reqivo
