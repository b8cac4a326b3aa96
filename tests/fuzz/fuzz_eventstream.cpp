// libFuzzer target: the event-stream parser must report the same events however its input is
// cut. The first byte picks the event size limit; the rest is the stream. Feeding whole, split at
// an offset derived from the data, in pseudo-random pieces and one byte at a time must give
// identical logs (tests/unit/protocol/eventstreamlog.h), and every message's fields must be
// valid UTF-8. ASan and UBSan catch the memory errors.
#include "unit/protocol/eventstreamlog.h"

#include <QStringDecoder>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

using EventStreamLog::Parser;

void check(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz_eventstream: %s\n", what);
        std::abort();
    }
}

bool validUtf8(const QByteArray &bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    (void)decoder.decode(bytes);
    return !decoder.hasError();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::uint8_t control = data[0];
    const QByteArray input(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    Parser::Limits limits;
    if (control & 1)
        limits.maxEventBytes = 24; // small enough for the fuzzer to cross
    const auto whole = EventStreamLog::runWhole(input, limits);
    const qsizetype at = input.isEmpty() ? 0 : qsizetype(control) % (input.size() + 1);
    check(EventStreamLog::runSplitAt(input, at, limits).log == whole.log, "split differs");
    check(EventStreamLog::runBytewise(input, limits).log == whole.log, "bytewise differs");
    QList<QByteArray> pieces;
    for (qsizetype i = 0, step = 1 + control % 7; i < input.size();
         i += step, step = 1 + (step * 5 + 3) % 11)
        pieces << input.mid(i, step);
    check(EventStreamLog::run(pieces, limits).log == whole.log, "pieces differ");
    Parser parser(limits);
    parser.receiveData(input);
    parser.receiveEof();
    for (;;) {
        const Parser::Event ev = parser.nextEvent();
        if (ev.type != Parser::EventType::Message && ev.type != Parser::EventType::Retry)
            break;
        check(validUtf8(ev.eventType) && validUtf8(ev.data) && validUtf8(ev.id), "not UTF-8");
    }
    return 0;
}
