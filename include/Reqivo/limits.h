// Limits on what a peer may make Reqivo buffer or do. Every limit is checked as soon as
// exceeding it is certain, so no limit needs more memory than itself to enforce.
#pragma once

#include <Reqivo/reqivoglobal.h>

namespace Reqivo {

struct Limits
{
    //! The whole response head (status line + fields + blank line). Seed default: 8 KiB.
    qsizetype maxHeaderBytes = 8192;
    //! One status or field line, including its line end.
    qsizetype maxLineBytes = 8192;
    //! Fields in one head, or in one trailer section. Seed default: 100.
    qsizetype maxFieldCount = 100;
    //! Decoded body bytes (after de-chunking; before decompression). -1: unlimited.
    qint64 maxBodyBytes = -1;
    //! 1xx interim responses accepted before the final one; a flood of 100-continue is an attack.
    int maxInterimResponses = 16;
    //! One chunk-size line with its extensions. Real servers send a few hex digits.
    qsizetype maxChunkLineBytes = 4096;
    //! Decompressed bytes allowed per compressed byte (beyond the first 64 KiB), against bombs.
    int maxDecompressionRatio = 1000;

    friend bool operator==(const Limits &, const Limits &) = default;
};

} // namespace Reqivo
