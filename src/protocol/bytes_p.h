// Appending to a QByteArray without QByteArray::append(QByteArrayView): in Qt 6.4 that is
// insert(size(), view), which checks for aliasing and shifts bytes on every call and showed up
// as the largest single cost of writing a request head.
#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <cstring>

namespace Reqivo::Protocol {

//! Appends \a v to \a out. \a v must not point into \a out (resizing may move it).
inline void appendBytes(QByteArray &out, QByteArrayView v)
{
    if (v.isEmpty())
        return;
    const qsizetype old = out.size();
    out.resize(old + v.size());
    std::memcpy(out.data() + old, v.data(), size_t(v.size()));
}

//! A cursor that writes into bytes already sized for it: the caller counts first, resizes
//! once, then writes every piece with one memcpy.
class ByteWriter
{
public:
    explicit ByteWriter(char *at) noexcept : m_at(at) { }
    void put(QByteArrayView v) noexcept
    {
        if (!v.isEmpty())
            std::memcpy(m_at, v.data(), size_t(v.size()));
        m_at += v.size();
    }
    void put(char c) noexcept { *m_at++ = c; }
    //! Decimal digits of a non-negative number.
    void putDecimal(qint64 n) noexcept
    {
        char digits[20];
        int count = 0;
        do {
            digits[count++] = char('0' + n % 10);
            n /= 10;
        } while (n > 0);
        while (count > 0)
            *m_at++ = digits[--count];
    }
    char *position() const noexcept { return m_at; }

    static qsizetype decimalLength(qint64 n) noexcept
    {
        qsizetype length = 1;
        while (n >= 10) {
            n /= 10;
            ++length;
        }
        return length;
    }

private:
    char *m_at;
};

} // namespace Reqivo::Protocol
