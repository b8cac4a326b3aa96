// RequestWriter: validate everything first, then write in one pass into the caller's buffer.
#include "requestwriter.h"

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

void appendFields(QByteArray &out, const Headers &headers)
{
    for (const Headers::Field f : headers) {
        out.append(f.name);
        out.append(": ", 2);
        out.append(f.value);
        out.append("\r\n", 2);
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

    qsizetype size = method.size() + target.size() + 16 + 40;
    for (const Headers::Field f : headers)
        size += f.name.size() + f.value.size() + 4;
    out.reserve(out.size() + size);
    out.append(method);
    out.append(' ');
    out.append(target);
    out.append(" HTTP/1.1\r\n", 11);
    appendFields(out, headers);
    if (framing == BodyFraming::ContentLength) {
        out.append("Content-Length: ", 16);
        out.append(QByteArray::number(contentLength));
        out.append("\r\n", 2);
    } else if (framing == BodyFraming::Chunked) {
        out.append("Transfer-Encoding: chunked\r\n", 28);
    }
    out.append("\r\n", 2);
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
    out.append("0\r\n", 3);
    appendFields(out, trailers);
    out.append("\r\n", 2);
    return true;
}

} // namespace Reqivo::Protocol
