// libFuzzer target: the chunked decoder against a reference decoder written separately from it.
//
// The input is a chunked body; a fixed head is put in front of it. The reference below follows
// the grammar of RFC 9112 §7.1 directly, slowly and without limits: every line end of the
// chunked framing is CRLF (the parser's bare-LF leniency is for the head only). Whenever the
// parser reports EndOfMessage, the reference must accept the same bytes, decode the same data
// and end at the same byte; and whenever the reference accepts a body, the parser (with limits
// out of the way) must too. Both directions matter: the first catches a parser that accepts
// what it should refuse (the raw material of request smuggling), the second one that refuses
// valid bodies.
#include "protocol/responseparser.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

namespace {

using Reqivo::Protocol::ResponseParser;

// ----------------------------------------------------------------------------------------------
// Reference decoder
// ----------------------------------------------------------------------------------------------

struct Reference
{
    enum class Result { Complete, Incomplete, Invalid } result = Result::Invalid;
    QByteArray body;
    qsizetype consumed = 0; // bytes of the chunked body, trailers and final line included
};

bool isTchar(char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isHex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int hexValue(char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

// qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
bool isQdtext(unsigned char c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b)
        || (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

bool isOws(char c)
{
    return c == ' ' || c == '\t';
}

// Reads one line at \a pos: its content without the CRLF, or nothing when the line is not
// complete yet. An LF without a CR before it, or a CR anywhere else, makes it invalid.
std::optional<QByteArrayView> readLine(QByteArrayView in, qsizetype &pos, bool &invalid)
{
    const qsizetype lf = in.indexOf('\n', pos);
    if (lf < 0)
        return std::nullopt;
    QByteArrayView line = in.sliced(pos, lf - pos);
    if (line.endsWith('\r'))
        line.chop(1);
    else
        invalid = true;
    if (line.contains('\r'))
        invalid = true;
    pos = lf + 1;
    return line;
}

// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )
// Whitespace is only allowed where BWS is: before a ";" or around "=", never at the end.
bool validExtensions(QByteArrayView s)
{
    qsizetype i = 0;
    const auto skipBws = [&] {
        while (i < s.size() && isOws(s[i]))
            ++i;
    };
    const auto token = [&] {
        const qsizetype start = i;
        while (i < s.size() && isTchar(s[i]))
            ++i;
        return i > start;
    };
    while (true) {
        if (i == s.size())
            return true;
        skipBws();
        if (i == s.size() || s[i] != ';')
            return false;
        ++i;
        skipBws();
        if (!token())
            return false;
        const qsizetype afterName = i;
        skipBws();
        if (i < s.size() && s[i] == '=') {
            ++i;
            skipBws();
            if (i < s.size() && s[i] == '"') {
                ++i;
                bool closed = false;
                while (i < s.size()) {
                    const auto c = static_cast<unsigned char>(s[i]);
                    if (c == '"') {
                        ++i;
                        closed = true;
                        break;
                    }
                    if (c == '\\') {
                        // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                        if (i + 1 >= s.size())
                            return false;
                        const auto e = static_cast<unsigned char>(s[i + 1]);
                        if (!(e == '\t' || (e >= 0x20 && e != 0x7f)))
                            return false;
                        i += 2;
                        continue;
                    }
                    if (!isQdtext(c))
                        return false;
                    ++i;
                }
                if (!closed)
                    return false;
            } else if (!token()) {
                return false;
            }
        } else {
            i = afterName;
        }
    }
}

// field-line = field-name ":" OWS field-value OWS, with obs-fold after the first line.
bool validTrailerLine(QByteArrayView line, bool first)
{
    if (!line.isEmpty() && isOws(line.front()))
        return !first; // obs-fold continues the previous field
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0)
        return false;
    for (const char c : line.first(colon)) {
        if (!isTchar(c))
            return false;
    }
    for (const char ch : line.sliced(colon + 1)) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

bool validFoldLine(QByteArrayView line)
{
    for (const char ch : line) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

Reference decodeReference(QByteArrayView in)
{
    Reference ref;
    qsizetype pos = 0;
    bool invalid = false;
    const auto stop = [&](Reference::Result r) {
        ref.result = invalid ? Reference::Result::Invalid : r;
        return ref;
    };
    while (true) {
        const auto line = readLine(in, pos, invalid);
        if (invalid)
            return stop(Reference::Result::Invalid);
        if (!line)
            return stop(Reference::Result::Incomplete);
        qsizetype digits = 0;
        qint64 size = 0;
        while (digits < line->size() && isHex((*line)[digits])) {
            if (size > (qint64(1) << 40))
                return stop(Reference::Result::Invalid); // beyond any input the fuzzer makes
            size = size * 16 + hexValue((*line)[digits]);
            ++digits;
        }
        if (digits == 0 || !validExtensions(line->sliced(digits)))
            return stop(Reference::Result::Invalid);
        if (size == 0)
            break;
        if (in.size() - pos < size)
            return stop(Reference::Result::Incomplete);
        ref.body += in.sliced(pos, size);
        pos += size;
        // The data must be followed by exactly CRLF.
        if (pos == in.size())
            return stop(Reference::Result::Incomplete);
        if (in[pos] != '\r')
            return stop(Reference::Result::Invalid);
        if (pos + 1 == in.size())
            return stop(Reference::Result::Incomplete);
        if (in[pos + 1] != '\n')
            return stop(Reference::Result::Invalid);
        pos += 2;
    }
    // trailer-section CRLF
    for (bool first = true;; first = false) {
        const auto line = readLine(in, pos, invalid);
        if (invalid)
            return stop(Reference::Result::Invalid);
        if (!line)
            return stop(Reference::Result::Incomplete);
        if (line->isEmpty())
            break;
        const bool fold = isOws(line->front());
        if (fold ? (first || !validFoldLine(*line)) : !validTrailerLine(*line, first))
            return stop(Reference::Result::Invalid);
    }
    ref.consumed = pos;
    return stop(Reference::Result::Complete);
}

// ----------------------------------------------------------------------------------------------
// The parser under test
// ----------------------------------------------------------------------------------------------

struct Decoded
{
    bool ended = false;
    bool failed = false;
    QByteArray body;
    qsizetype consumed = 0; // bytes of the chunked body the message took, when it ended
    QString error;
};

const QByteArray head = QByteArrayLiteral("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");

// Limits out of the way: only the grammar decides here.
const Reqivo::Limits generous {.maxHeaderBytes = 1 << 30,
    .maxLineBytes = 1 << 30,
    .maxFieldCount = 1 << 30,
    .maxBodyBytes = -1,
    .maxInterimResponses = 16,
    .maxChunkLineBytes = 1 << 30};

void drain(ResponseParser &p, Decoded &d)
{
    while (!d.ended && !d.failed) {
        const ResponseParser::Event ev = p.nextEvent();
        switch (ev.type) {
        case ResponseParser::EventType::Data:
            d.body.append(ev.data.data(), ev.data.size());
            break;
        case ResponseParser::EventType::EndOfMessage:
            d.ended = true;
            break;
        case ResponseParser::EventType::Error:
            d.failed = true;
            d.error = p.errorMessage();
            break;
        case ResponseParser::EventType::Head:
            break;
        case ResponseParser::EventType::NeedData:
        case ResponseParser::EventType::Paused:
            return;
        }
    }
}

Decoded decodeWithParser(QByteArrayView body, qsizetype pieceSize)
{
    ResponseParser p(generous);
    Decoded d;
    p.receiveData(head);
    drain(p, d);
    qsizetype fed = 0;
    while (fed < body.size() && !d.failed && !d.ended) {
        const qsizetype n = qMin(pieceSize, body.size() - fed);
        p.receiveData(body.sliced(fed, n));
        fed += n;
        drain(p, d);
    }
    if (d.ended)
        d.consumed = fed - p.unconsumed().size();
    return d;
}

[[noreturn]] void fail(
    const char *what, QByteArrayView body, const Decoded &d, const Reference &ref)
{
    std::fprintf(stderr,
        "%s\n  input: %lld bytes\n  parser: ended=%d failed=%d body=%lld bytes"
        " consumed=%lld error=\"%s\"\n  reference: result=%d body=%lld bytes consumed=%lld\n",
        what, static_cast<long long>(body.size()), d.ended, d.failed,
        static_cast<long long>(d.body.size()), static_cast<long long>(d.consumed),
        qPrintable(d.error), int(ref.result), static_cast<long long>(ref.body.size()),
        static_cast<long long>(ref.consumed));
    std::abort();
}

void check(QByteArrayView body, const Decoded &d, const Reference &ref)
{
    if (d.ended) {
        if (ref.result != Reference::Result::Complete)
            fail("the parser ended a body the reference does not accept", body, d, ref);
        if (d.body != ref.body)
            fail("the parser and the reference decoded different data", body, d, ref);
        if (d.consumed != ref.consumed)
            fail("the parser and the reference ended at different bytes", body, d, ref);
    } else if (ref.result == Reference::Result::Complete) {
        // The whole input was fed, so a body the reference accepts must have ended. (Which
        // of the two notices an invalid body first is not compared: the parser may wait for
        // a line end before judging the line.)
        fail("the parser did not end a body the reference accepts", body, d, ref);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArrayView body(reinterpret_cast<const char *>(data), qsizetype(size));
    const Reference ref = decodeReference(body);
    check(body, decodeWithParser(body, qMax<qsizetype>(1, body.size())), ref);
    check(body, decodeWithParser(body, 1), ref);
    check(body, decodeWithParser(body, 7), ref);
    return 0;
}
