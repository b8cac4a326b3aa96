// RequestWriter: validate everything first, then write in one pass into the caller's buffer.
#include "requestwriter.h"

#include "bytes_p.h"
#include "charclass_p.h"

namespace Reqivo::Protocol {

namespace CC = CharClass;

namespace {
QString describe(QByteArrayView bytes)
{
    QString out;
    for (char c : bytes.first(qMin<qsizetype>(bytes.size(), 40))) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7F)
            out += QLatin1Char(c);
        else
            out += QStringLiteral("\\x%1").arg(u, 2, 16, QLatin1Char('0'));
    }
    return bytes.size() > 40 ? out + QStringLiteral("...") : out;
}

bool setError(QString *error, QString message)
{
    if (error)
        *error = std::move(message);
    return false;
}

bool validateFields(const Headers &headers, bool trailers, QString *error)
{
    for (const Headers::Field f : headers) {
        if (!RequestWriter::isToken(f.name))
            return setError(error,
                            QStringLiteral("invalid %1 name \"%2\": names must be RFC 9110 tokens")
                                    .arg(trailers ? QStringLiteral("trailer")
                                                  : QStringLiteral("header"),
                                         describe(f.name)));
        if (!RequestWriter::isValidFieldValue(f.value))
            return setError(error,
                            QStringLiteral("invalid value for %1 \"%2\": CR, LF, NUL and other "
                                           "control characters are not allowed")
                                    .arg(trailers ? QStringLiteral("trailer")
                                                  : QStringLiteral("header"),
                                         describe(f.name)));
    }
    return true;
}

qsizetype fieldsLength(const Headers &headers) noexcept
{
    qsizetype size = 0;
    for (const Headers::Field f : headers)
        size += f.name.size() + f.value.size() + 4;
    return size;
}

void putFields(ByteWriter &w, const Headers &headers) noexcept
{
    for (const Headers::Field f : headers) {
        w.put(f.name);
        w.put(": ");
        w.put(f.value);
        w.put("\r\n");
    }
}
} // namespace

bool RequestWriter::isToken(QByteArrayView s) noexcept
{
    return !s.isEmpty() && CC::all(s, CC::Token);
}

bool RequestWriter::isValidFieldValue(QByteArrayView s) noexcept
{
    if (s.isEmpty())
        return true;
    return CC::all(s, CC::FieldValue) && !CC::isOws(s.front()) && !CC::isOws(s.back());
}

bool RequestWriter::isValidTarget(QByteArrayView s) noexcept
{
    return !s.isEmpty() && CC::all(s, CC::Visible);
}

bool RequestWriter::writeHead(QByteArray &out, QByteArrayView method, QByteArrayView target,
                              const Headers &headers, BodyFraming framing, qint64 contentLength,
                              QString *error)
{
    if (!isToken(method))
        return setError(error, QStringLiteral("invalid method \"%1\": methods must be tokens")
                                       .arg(describe(method)));
    if (!isValidTarget(target))
        return setError(error,
                        QStringLiteral("invalid request target \"%1\": spaces, control and "
                                       "non-ASCII characters must be percent-encoded")
                                .arg(describe(target)));
    if (!validateFields(headers, false, error))
        return false;
    if (headers.contains("content-length") || headers.contains("transfer-encoding"))
        return setError(error,
                        QStringLiteral("Content-Length and Transfer-Encoding are set from the "
                                       "body; do not set them as headers"));
    if (framing == BodyFraming::ContentLength && contentLength < 0)
        return setError(error, QStringLiteral("negative Content-Length"));

    // Count, size once, copy: no reallocation and no per-piece bookkeeping.
    constexpr QByteArrayView version(" HTTP/1.1\r\n");
    constexpr QByteArrayView contentLengthName("Content-Length: ");
    constexpr QByteArrayView chunked("Transfer-Encoding: chunked\r\n");
    qsizetype size = method.size() + 1 + target.size() + version.size() + fieldsLength(headers)
            + 2;
    if (framing == BodyFraming::ContentLength)
        size += contentLengthName.size() + ByteWriter::decimalLength(contentLength) + 2;
    else if (framing == BodyFraming::Chunked)
        size += chunked.size();
    const qsizetype start = out.size();
    out.resize(start + size);
    ByteWriter w(out.data() + start);
    w.put(method);
    w.put(' ');
    w.put(target);
    w.put(version);
    putFields(w, headers);
    if (framing == BodyFraming::ContentLength) {
        w.put(contentLengthName);
        w.putDecimal(contentLength);
        w.put("\r\n");
    } else if (framing == BodyFraming::Chunked) {
        w.put(chunked);
    }
    w.put("\r\n");
    Q_ASSERT(w.position() == out.constData() + out.size());
    return true;
}

void RequestWriter::appendChunk(QByteArray &out, QByteArrayView data)
{
    if (data.isEmpty())
        return; // a zero-size chunk would end the body
    out.append(QByteArray::number(data.size(), 16));
    out.append("\r\n", 2);
    out.append(data);
    out.append("\r\n", 2);
}

bool RequestWriter::appendLastChunk(QByteArray &out, const Headers &trailers, QString *error)
{
    if (!validateFields(trailers, true, error))
        return false;
    const qsizetype start = out.size();
    out.resize(start + 3 + fieldsLength(trailers) + 2);
    ByteWriter w(out.data() + start);
    w.put("0\r\n");
    putFields(w, trailers);
    w.put("\r\n");
    return true;
}

} // namespace Reqivo::Protocol
