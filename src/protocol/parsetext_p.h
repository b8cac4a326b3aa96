// Text helpers shared by the response parser's files: error-message rendering and line ends.
#pragma once

#include <QByteArrayView>
#include <QString>

namespace Reqivo::Protocol {

//! \a bytes for an error message: printable ASCII kept, the rest as \xNN, at most 60 bytes.
inline QString printable(QByteArrayView bytes)
{
    QString out;
    for (char c : bytes.first(qMin<qsizetype>(bytes.size(), 60))) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7F && c != '\\')
            out += QLatin1Char(c);
        else
            out += QStringLiteral("\\x%1").arg(u, 2, 16, QLatin1Char('0'));
    }
    if (bytes.size() > 60)
        out += QStringLiteral("...");
    return out;
}

//! A line without its terminator ("\r\n" or "\n"). A CR left inside is a bare CR.
inline QByteArrayView lineContent(const char *begin, const char *newline)
{
    QByteArrayView line(begin, newline - begin);
    if (!line.isEmpty() && line.back() == '\r')
        line.chop(1);
    return line;
}

inline bool hasBareCr(QByteArrayView line) { return line.contains('\r'); }

} // namespace Reqivo::Protocol
