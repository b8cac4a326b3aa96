// bench_curl: the same GET loop and streamed download with libcurl, the reference C client.
//
//   bench_curl --url URL --requests N --concurrency C
//   bench_curl --download URL
//   either with [--ca FILE] [--http1.1 | --http2 | --http2-prior-knowledge]
//
// Sequentially (C = 1) one easy handle performs every request, reusing its keep-alive
// connection; with C > 1 a multi handle drives C easy handles, each re-added as soon as its
// transfer ends. Bodies go to a write callback that only counts them. libcurl's defaults
// otherwise (no proxy from the environment). HTTP/1.1 unless --http2 (CURL_HTTP_VERSION_2TLS:
// h2 by ALPN over TLS) or --http2-prior-knowledge asks for HTTP/2; then the multi handle
// multiplexes every transfer on one connection (CURLPIPE_MULTIPLEX, at most one connection to
// the host, each transfer waiting for it rather than opening another). --ca trusts that CA
// (CURLOPT_CAINFO). The line's "proto" is what libcurl reports (CURLINFO_HTTP_VERSION).
#include "benchcommon.h"

#include <curl/curl.h>

#include <chrono>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

size_t discard(char *, size_t size, size_t count, void *userdata)
{
    *static_cast<long long *>(userdata) += static_cast<long long>(size * count);
    return size * count;
}

bool wantsHttp2(const Bench::Args &args)
{
    return args.http == Bench::HttpVersion::Http2
        || args.http == Bench::HttpVersion::Http2PriorKnowledge;
}

CURL *makeHandle(const std::string &url, long long *bytes, const Bench::Args &args)
{
    CURL *handle = curl_easy_init();
    curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
    const long version = args.http == Bench::HttpVersion::Http2 ? long(CURL_HTTP_VERSION_2TLS)
        : args.http == Bench::HttpVersion::Http2PriorKnowledge
        ? long(CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE)
        : long(CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(handle, CURLOPT_HTTP_VERSION, version);
    if (wantsHttp2(args))
        curl_easy_setopt(handle, CURLOPT_PIPEWAIT, 1L);
    if (!args.ca.empty())
        curl_easy_setopt(handle, CURLOPT_CAINFO, args.ca.c_str());
    curl_easy_setopt(handle, CURLOPT_PROXY, ""); // never a proxy from the environment
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, bytes);
    return handle;
}

bool succeeded(CURL *handle, CURLcode result, long long &errors, Bench::ProtoTally &proto)
{
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    long version = 0;
    curl_easy_getinfo(handle, CURLINFO_HTTP_VERSION, &version);
    if (result == CURLE_OK)
        proto.add(version == CURL_HTTP_VERSION_2_0);
    if (result == CURLE_OK && status == 200)
        return true;
    if (errors++ == 0)
        std::fprintf(stderr, "bench_curl: %s (status %ld)\n", curl_easy_strerror(result), status);
    return false;
}

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

int runSequential(const Bench::Args &args)
{
    long long bytes = 0, errors = 0;
    Bench::ProtoTally proto;
    const auto start = Clock::now();
    CURL *handle = makeHandle(args.url, &bytes, args);
    for (long long i = 0; i < args.requests; ++i)
        succeeded(handle, curl_easy_perform(handle), errors, proto);
    curl_easy_cleanup(handle);
    Bench::printGet("curl", args.requests, 1, secondsSince(start), errors, proto.name());
    return errors == 0 ? Bench::ExitOk : Bench::ExitFailed;
}

int runConcurrent(const Bench::Args &args)
{
    long long bytes = 0, errors = 0, started = 0, finished = 0;
    Bench::ProtoTally proto;
    const auto start = Clock::now();
    CURLM *multi = curl_multi_init();
    if (wantsHttp2(args)) {
        curl_multi_setopt(multi, CURLMOPT_PIPELINING, long(CURLPIPE_MULTIPLEX));
        curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
    } else {
        curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, long(args.concurrency));
    }
    std::vector<CURL *> handles;
    for (int i = 0; i < args.concurrency && started < args.requests; ++i, ++started) {
        handles.push_back(makeHandle(args.url, &bytes, args));
        curl_multi_add_handle(multi, handles.back());
    }
    while (finished < args.requests) {
        int running = 0;
        if (curl_multi_perform(multi, &running) != CURLM_OK)
            break;
        int queued = 0;
        while (CURLMsg *message = curl_multi_info_read(multi, &queued)) {
            if (message->msg != CURLMSG_DONE)
                continue;
            CURL *handle = message->easy_handle;
            succeeded(handle, message->data.result, errors, proto);
            ++finished;
            curl_multi_remove_handle(multi, handle);
            if (started < args.requests) {
                ++started;
                curl_multi_add_handle(multi, handle);
            }
        }
        if (finished < args.requests
            && curl_multi_poll(multi, nullptr, 0, 1000, nullptr) != CURLM_OK)
            break;
    }
    const double seconds = secondsSince(start);
    for (CURL *handle : handles) {
        curl_multi_remove_handle(multi, handle);
        curl_easy_cleanup(handle);
    }
    curl_multi_cleanup(multi);
    if (finished < args.requests)
        errors += args.requests - finished;
    Bench::printGet("curl", args.requests, args.concurrency, seconds, errors, proto.name());
    return errors == 0 ? Bench::ExitOk : Bench::ExitFailed;
}

int runDownload(const Bench::Args &args)
{
    long long bytes = 0, errors = 0;
    Bench::ProtoTally proto;
    const auto start = Clock::now();
    CURL *handle = makeHandle(args.download, &bytes, args);
    succeeded(handle, curl_easy_perform(handle), errors, proto);
    curl_easy_cleanup(handle);
    const double seconds = secondsSince(start);
    if (errors)
        return Bench::ExitFailed;
    Bench::printDownload("curl", bytes, seconds, proto.name());
    return Bench::ExitOk;
}

} // namespace

int main(int argc, char *argv[])
{
    Bench::Args args;
    if (!Bench::parseArgs(argc, argv, args))
        return Bench::ExitUsage;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const int status = !args.download.empty() ? runDownload(args)
        : args.concurrency == 1               ? runSequential(args)
                                              : runConcurrent(args);
    curl_global_cleanup();
    return status;
}
