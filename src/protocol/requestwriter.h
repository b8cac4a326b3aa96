// RequestWriter: turns a request head (and body chunks) into HTTP/1.1 bytes, refusing anything
// that could be read as a different message by the server: header injection (CR, LF, NUL),
// names that are not tokens, bad methods, control characters or spaces in the target.
// Validation happens before a single byte is produced, so a rejected request sends nothing.
#pragma once

#include <Reqivo/headers.h>
#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace Reqivo::Protocol {

class REQIVO_TESTS_EXPORT RequestWriter
{
public:
    enum class BodyFraming {
        None,          //!< no body and no Content-Length (GET, HEAD, ...)
        ContentLength, //!< "Content-Length: N" (N may be 0 for an empty POST)
        Chunked,       //!< "Transfer-Encoding: chunked", for bodies of unknown length
    };

    //! Appends the request line, \a headers, the framing field and the blank line to \a out.
    //! \a headers must not contain Content-Length or Transfer-Encoding: the framing decides them.
    //! Returns false, sets \a error and leaves \a out unchanged when anything is invalid.
    static bool writeHead(QByteArray &out, QByteArrayView method, QByteArrayView target,
                          const Headers &headers, BodyFraming framing, qint64 contentLength,
                          QString *error);

    //! Appends one chunk ("<hex>\r\n<data>\r\n"); an empty \a data appends nothing.
    static void appendChunk(QByteArray &out, QByteArrayView data);
    //! Appends the last chunk and the trailer section ("0\r\n<trailers>\r\n").
    //! Returns false (and appends nothing) when a trailer field is invalid.
    static bool appendLastChunk(QByteArray &out, const Headers &trailers = {},
                                QString *error = nullptr);

    //! RFC 9110 token (methods, field names).
    static bool isToken(QByteArrayView s) noexcept;
    //! RFC 9110 field-value: no CR, LF, NUL or other controls except HTAB; no leading or
    //! trailing whitespace.
    static bool isValidFieldValue(QByteArrayView s) noexcept;
    //! origin-form, absolute-form, authority-form or "*": visible ASCII only, no spaces.
    static bool isValidTarget(QByteArrayView s) noexcept;
};

} // namespace Reqivo::Protocol
