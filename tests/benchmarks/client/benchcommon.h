// What every HTTP benchmark program of this directory shares: its command line and its output.
//
//   <program> --url URL --requests N --concurrency C [--mode MODE]   -> one "get" JSON line
//   <program> --download URL                                         -> one "download" JSON line
//   either with [--ca FILE] [--http1.1 | --http2 | --http2-prior-knowledge]
//
// --ca trusts the CA in FILE (PEM) for https URLs, such as the one the test peers make at run
// time; the protocol flags are spelled as curl's. A program that supports them adds
// "proto":"h2" or "proto":"http/1.1" to its line: the protocol its requests really used, as the
// client reports it (or "mixed" when they differ), so that a figure can be trusted to measure
// what it claims. A program that does not support a flag rejects it.
//
// The programs differ only in the client they drive, so their figures compare like with like:
// the same request count, the same concurrency, the clock started before the first request
// (connection set-up included) and stopped after the last response. Plain C++ (no Qt) so that
// the libcurl comparator carries no Qt cost.
#pragma once

#include <sys/resource.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace Bench {

enum Exit : int { ExitOk = 0, ExitFailed = 1, ExitUsage = 2 };

//! --http1.1, --http2 (ALPN over TLS) and --http2-prior-knowledge (cleartext h2 from the start);
//! Default when none was given (each program documents what it then does).
enum class HttpVersion { Default, Http1_1, Http2, Http2PriorKnowledge };

struct Args
{
    std::string url; //!< --url: the small resource of the GET loop
    std::string download; //!< --download: the large resource to stream
    long long requests = 1000;
    int concurrency = 1;
    std::string mode; //!< --mode, for programs that have several
    std::string ca; //!< --ca: a PEM file of CA certificates to trust
    HttpVersion http = HttpVersion::Default;
};

//! The "proto" value for a protocol: "h2" or "http/1.1".
inline const char *protoName(bool http2)
{
    return http2 ? "h2" : "http/1.1";
}

//! Tallies the protocol of each response; name() is "h2", "http/1.1", "mixed" or "none".
struct ProtoTally
{
    long long h2 = 0;
    long long http1 = 0;

    void add(bool http2) { ++(http2 ? h2 : http1); }
    const char *name() const
    {
        return h2 && http1 ? "mixed" : h2 ? "h2" : http1 ? "http/1.1" : "none";
    }
};

inline void usage(const char *program, const char *modes)
{
    const std::string modeOption = modes ? std::string(" [--mode ") + modes + "]" : std::string();
    std::fprintf(stderr,
        "usage: %s --url URL [--requests N] [--concurrency C]%s\n"
        "       %s --download URL\n"
        "  with [--ca FILE] [--http1.1 | --http2 | --http2-prior-knowledge]\n",
        program, modeOption.c_str(), program);
}

//! Parses argv; on bad usage prints why and returns false (exit with ExitUsage).
inline bool parseArgs(int argc, char **argv, Args &args, const char *modes = nullptr)
{
    const char *program = argc > 0 ? argv[0] : "bench";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            usage(program, modes);
            std::exit(ExitOk);
        }
        if (arg == "--http1.1" || arg == "--http2" || arg == "--http2-prior-knowledge") {
            if (args.http != HttpVersion::Default) {
                std::fprintf(stderr,
                    "%s: give one of --http1.1, --http2, --http2-prior-knowledge\n", program);
                return false;
            }
            args.http = arg == "--http1.1" ? HttpVersion::Http1_1
                : arg == "--http2"         ? HttpVersion::Http2
                                           : HttpVersion::Http2PriorKnowledge;
            continue;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "%s: %s needs a value\n", program, arg.c_str());
            return false;
        }
        const char *value = argv[++i];
        char *end = nullptr;
        errno = 0;
        if (arg == "--url") {
            args.url = value;
        } else if (arg == "--download") {
            args.download = value;
        } else if (arg == "--requests") {
            args.requests = std::strtoll(value, &end, 10);
            if (errno || *end || args.requests < 1) {
                std::fprintf(stderr, "%s: --requests needs a number >= 1\n", program);
                return false;
            }
        } else if (arg == "--concurrency") {
            const long c = std::strtol(value, &end, 10);
            if (errno || *end || c < 1 || c > 10000) {
                std::fprintf(stderr, "%s: --concurrency needs a number from 1 to 10000\n", program);
                return false;
            }
            args.concurrency = int(c);
        } else if (arg == "--mode" && modes) {
            args.mode = value;
        } else if (arg == "--ca") {
            args.ca = value;
        } else {
            std::fprintf(stderr, "%s: unknown option %s\n", program, arg.c_str());
            usage(program, modes);
            return false;
        }
    }
    if (args.url.empty() == args.download.empty()) {
        std::fprintf(stderr, "%s: give either --url or --download\n", program);
        usage(program, modes);
        return false;
    }
    return true;
}

//! Peak resident set size of this process, in KiB (Linux reports ru_maxrss in KiB).
inline long peakRssKb()
{
    rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

//! ,"proto":"…" when \a proto is given, else nothing.
inline std::string protoField(const char *proto)
{
    return proto ? std::string(",\"proto\":\"") + proto + '"' : std::string();
}

//! {"bench":"get","mode":…,"requests":N,"concurrency":C,"seconds":S,"rps":R,"errors":E
//! [,"proto":P]}
inline void printGet(const char *mode, long long requests, int concurrency, double seconds,
    long long errors, const char *proto = nullptr)
{
    std::printf("{\"bench\":\"get\",\"mode\":\"%s\",\"requests\":%lld,\"concurrency\":%d,"
                "\"seconds\":%.6f,\"rps\":%.1f,\"errors\":%lld%s}\n",
        mode, requests, concurrency, seconds, seconds > 0 ? double(requests) / seconds : 0.0,
        errors, protoField(proto).c_str());
    std::fflush(stdout);
}

//! {"bench":"download","mode":…,"bytes":B,"seconds":S,"bytes_per_sec":X,"peak_rss_kb":K
//! [,"proto":P]}
inline void printDownload(
    const char *mode, long long bytes, double seconds, const char *proto = nullptr)
{
    std::printf("{\"bench\":\"download\",\"mode\":\"%s\",\"bytes\":%lld,\"seconds\":%.6f,"
                "\"bytes_per_sec\":%.0f,\"peak_rss_kb\":%ld%s}\n",
        mode, bytes, seconds, seconds > 0 ? double(bytes) / seconds : 0.0, peakRssKb(),
        protoField(proto).c_str());
    std::fflush(stdout);
}

} // namespace Bench
