// Character classes of RFC 9110/9112 as 256-entry tables: one load per byte in every scan loop.
#pragma once

#include <QByteArrayView>

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace Reqivo::Protocol::CharClass {

enum : std::uint8_t {
    Token = 1,      //!< tchar (RFC 9110 §5.6.2)
    FieldValue = 2, //!< VCHAR / obs-text / SP / HTAB (RFC 9110 §5.5)
    Visible = 4,    //!< VCHAR: 0x21..0x7E (request targets)
    HexDigit = 8,
};

constexpr std::array<std::uint8_t, 256> makeTable()
{
    std::array<std::uint8_t, 256> t{};
    for (int c = 0; c < 256; ++c) {
        std::uint8_t v = 0;
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        const bool digit = c >= '0' && c <= '9';
        const bool tokenPunct = c == '!' || c == '#' || c == '$' || c == '%' || c == '&'
            || c == '\'' || c == '*' || c == '+' || c == '-' || c == '.' || c == '^' || c == '_'
            || c == '`' || c == '|' || c == '~';
        if (alpha || digit || tokenPunct)
            v |= Token;
        if ((c >= 0x21 && c <= 0x7E) || c >= 0x80 || c == ' ' || c == '\t')
            v |= FieldValue;
        if (c >= 0x21 && c <= 0x7E)
            v |= Visible;
        if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
            v |= HexDigit;
        t[std::size_t(c)] = v;
    }
    return t;
}

inline constexpr std::array<std::uint8_t, 256> table = makeTable();

inline bool is(char c, std::uint8_t cls) noexcept
{
    return (table[static_cast<unsigned char>(c)] & cls) != 0;
}

//! True when every byte of \a s is in \a cls (an empty view qualifies).
inline bool all(QByteArrayView s, std::uint8_t cls) noexcept
{
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    std::uint8_t acc = cls;
    for (qsizetype i = 0, n = s.size(); i < n; ++i)
        acc &= table[p[i]];
    return acc == cls;
}

//! The first byte in [p, end) that may not appear inside a field line: a control character
//! other than HTAB (CR and LF included), or DEL. Sixteen bytes per step with SSE2 (every
//! x86-64 CPU), eight elsewhere.
inline const char *findControl(const char *p, const char *end) noexcept
{
#if defined(__SSE2__)
    {
        const __m128i c20 = _mm_set1_epi8(0x20), tab = _mm_set1_epi8('\t');
        const __m128i del = _mm_set1_epi8(0x7F);
        while (end - p >= 16) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
            // Unsigned x >= 0x20 exactly when max(x, 0x20) == x.
            const int printable = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(x, c20), x));
            const int tabs = _mm_movemask_epi8(_mm_cmpeq_epi8(x, tab));
            const int dels = _mm_movemask_epi8(_mm_cmpeq_epi8(x, del));
            const unsigned mask = (unsigned(~printable & ~tabs) & 0xFFFFu) | unsigned(dels);
            if (mask != 0)
                return p + __builtin_ctz(mask);
            p += 16;
        }
    }
#endif
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const auto isControl = [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7F; };
    while (end - p >= 8) {
        std::uint64_t x;
        std::memcpy(&x, p, 8);
        // "some byte < 0x20" and "some byte == 0x7F", exact for any byte values.
        const std::uint64_t below20 = (x - ones * 0x20) & ~x & highs;
        const std::uint64_t y = x ^ (ones * 0x7F);
        const std::uint64_t is7f = (y - ones) & ~y & highs;
        if ((below20 | is7f) != 0) {
            for (int i = 0; i < 8; ++i) {
                if (isControl(static_cast<unsigned char>(p[i])))
                    return p + i;
            }
        }
        p += 8;
    }
    for (; p < end; ++p) {
        if (isControl(static_cast<unsigned char>(*p)))
            return p;
    }
    return end;
}

//! True when the comma-separated list \a value has an element equal to \a lowerToken
//! (case-insensitive, OWS trimmed).
inline bool listContains(QByteArrayView value, QByteArrayView lowerToken) noexcept;

inline bool isOws(char c) noexcept { return c == ' ' || c == '\t'; }

inline QByteArrayView trimmedOws(QByteArrayView v) noexcept
{
    qsizetype b = 0, e = v.size();
    while (b < e && isOws(v[b]))
        ++b;
    while (e > b && isOws(v[e - 1]))
        --e;
    return v.sliced(b, e - b);
}

inline char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }

//! ASCII case-insensitive equality with a lowercase literal.
inline bool equalsLower(QByteArrayView s, QByteArrayView lowerLiteral) noexcept
{
    if (s.size() != lowerLiteral.size())
        return false;
    for (qsizetype i = 0; i < s.size(); ++i) {
        if (lower(s[i]) != lowerLiteral[i])
            return false;
    }
    return true;
}

inline bool listContains(QByteArrayView value, QByteArrayView lowerToken) noexcept
{
    while (!value.isEmpty()) {
        const qsizetype comma = value.indexOf(',');
        if (equalsLower(trimmedOws(comma < 0 ? value : value.first(comma)), lowerToken))
            return true;
        if (comma < 0)
            break;
        value = value.sliced(comma + 1);
    }
    return false;
}

//! 1*DIGIT with an overflow check. Never toInt()/strtol(): no signs, spaces or prefixes.
inline bool parseDecimal(QByteArrayView s, qint64 *out) noexcept
{
    if (s.isEmpty())
        return false;
    qint64 v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return false;
        const int d = c - '0';
        if (v > (std::numeric_limits<qint64>::max() - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

} // namespace Reqivo::Protocol::CharClass
