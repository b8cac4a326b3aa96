// The parser half of bench_sse: a stream of events of a given size, fed in 64 KiB reads (as a
// socket delivers it), parsed into events whose data is touched, as a consumer would.
#pragma once

#include "protocol/eventstream.h"

#include <QByteArray>
#include <QList>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace BenchSse {

inline double cpuSeconds()
{
    timespec ts {};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

//! "data: xxxx\n\n" events of \a eventBytes bytes on the wire each, \a count of them.
inline QByteArray makeStream(int eventBytes, int count)
{
    const int payload = eventBytes - 8; // "data: " + "\n\n"
    QByteArray event = "data: " + QByteArray(payload > 0 ? payload : 1, 'x') + "\n\n";
    QByteArray stream;
    stream.reserve(qsizetype(event.size()) * count);
    for (int i = 0; i < count; ++i)
        stream += event;
    return stream;
}

//! Prints the sse_parse line; false when the parser did not report every event.
inline bool benchParse(int eventBytes, double seconds, long long iterations)
{
    constexpr int eventsPerStream = 10000;
    const QByteArray stream = makeStream(eventBytes, eventsPerStream);
    constexpr qsizetype read = 64 * 1024;
    QList<QByteArray> reads;
    for (qsizetype at = 0; at < stream.size(); at += read)
        reads << stream.mid(at, read);
    using Parser = Reqivo::Protocol::EventStreamParser;
    long long rounds = 0;
    long long events = 0;
    qint64 checksum = 0;
    const auto start = std::chrono::steady_clock::now();
    const double cpuStart = cpuSeconds();
    double elapsed = 0;
    while (iterations > 0 ? rounds < iterations : elapsed < seconds) {
        Parser parser;
        for (const QByteArray &r : reads) {
            parser.receiveData(r);
            for (;;) {
                const Parser::Event ev = parser.nextEvent();
                if (ev.type != Parser::EventType::Message)
                    break;
                ++events;
                checksum += ev.data.size();
            }
        }
        ++rounds;
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    const double cpu = cpuSeconds() - cpuStart;
    const double bytes = double(stream.size()) * double(rounds);
    std::printf("{\"bench\":\"sse_parse\",\"event_bytes\":%d,\"events\":%lld,\"iterations\":%lld,"
                "\"seconds\":%.3f,\"bytes_per_sec\":%.0f,\"events_per_sec\":%.0f,"
                "\"cpu_bytes_per_sec\":%.0f}\n",
        eventBytes, events, rounds, elapsed, bytes / elapsed, double(events) / elapsed,
        cpu > 0 ? bytes / cpu : 0.0);
    std::fflush(stdout);
    return events == rounds * eventsPerStream && checksum == events * (eventBytes - 8);
}

} // namespace BenchSse
