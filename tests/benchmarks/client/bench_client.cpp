// bench_client: Reqivo under a GET loop or a streamed download.
//
//   bench_client --url URL --requests N --concurrency C [--mode async|sync]
//   bench_client --download URL [--mode async|sync]
//   either with [--ca FILE] [--http1.1 | --http2 | --http2-prior-knowledge]
//
// async (the default): concurrency C is C coroutines sharing one AsyncSession (and so one pool,
// sized to let each of them hold its own keep-alive connection); each takes the next request
// number until N were sent. sync: the blocking Session, sequentially on the main thread, or on
// C threads with a Session each. The download streams the body (RequestOptions::stream) and
// throws the bytes away, so peak RSS shows what the client itself holds.
#include "benchcommon.h"

#include <Reqivo/asyncsession.h>
#include <Reqivo/requestoptions.h>
#include <Reqivo/response.h>
#include <Reqivo/session.h>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QTimer>
#include <QUrl>

#include <QCoro/QCoroTask>

#include <atomic>
#include <thread>
#include <vector>

namespace {

struct Counters
{
    long long next = 0; //!< requests handed out so far
    long long errors = 0;
    Bench::ProtoTally proto;
};

// --ca and the protocol flags, on a session (async or blocking).
template<typename S>
bool configure(S &session, const Bench::Args &args)
{
    if (!args.ca.empty()) {
        Reqivo::TlsOptions tls;
        QString error;
        if (!tls.addCaCertificatesFromFile(QString::fromStdString(args.ca), &error)) {
            std::fprintf(stderr, "bench_client: --ca: %s\n", qPrintable(error));
            return false;
        }
        session.setTlsOptions(tls);
    }
    switch (args.http) {
    case Bench::HttpVersion::Default:
        break;
    case Bench::HttpVersion::Http1_1:
        session.setHttpVersion(Reqivo::HttpVersion::Http1_1);
        break;
    case Bench::HttpVersion::Http2:
        session.setHttpVersion(Reqivo::HttpVersion::Http2);
        break;
    case Bench::HttpVersion::Http2PriorKnowledge:
        session.setHttpVersion(Reqivo::HttpVersion::Http2PriorKnowledge);
        break;
    }
    return true;
}

void count(Bench::ProtoTally &tally, const Reqivo::Response &response)
{
    if (response.httpVersion() == QLatin1String("2"))
        ++tally.h2;
    else
        ++tally.http1;
}

QCoro::Task<void> getLoop(
    Reqivo::AsyncSession &session, QUrl url, long long total, Counters &counters)
{
    while (counters.next < total) {
        ++counters.next;
        try {
            const Reqivo::Response response = co_await session.get(url);
            if (response.status() != 200)
                ++counters.errors;
            count(counters.proto, response);
        } catch (const std::exception &e) {
            if (counters.errors++ == 0)
                std::fprintf(stderr, "bench_client: %s\n", e.what());
        }
    }
}

QCoro::Task<int> runGet(const Bench::Args &args)
{
    Reqivo::AsyncSession session;
    if (!configure(session, args))
        co_return Bench::ExitUsage;
    Reqivo::PoolOptions pool = session.pool()->options();
    pool.maxPerHost = std::max(pool.maxPerHost, args.concurrency);
    pool.maxTotal = std::max(pool.maxTotal, args.concurrency);
    session.pool()->setOptions(pool);
    const QUrl url(QString::fromStdString(args.url));

    Counters counters;
    QElapsedTimer clock;
    clock.start();
    std::vector<QCoro::Task<void>> loops;
    loops.reserve(size_t(args.concurrency));
    for (int i = 0; i < args.concurrency; ++i)
        loops.push_back(getLoop(session, url, args.requests, counters));
    for (auto &loop : loops)
        co_await loop;
    const double seconds = double(clock.nsecsElapsed()) / 1e9;

    Bench::printGet("async", args.requests, args.concurrency, seconds, counters.errors,
        counters.proto.name());
    co_return counters.errors == 0 ? Bench::ExitOk : Bench::ExitFailed;
}

QCoro::Task<int> runDownload(const Bench::Args &args)
{
    Reqivo::AsyncSession session;
    if (!configure(session, args))
        co_return Bench::ExitUsage;
    Bench::ProtoTally proto;
    long long bytes = 0;
    QElapsedTimer clock;
    clock.start();
    try {
        Reqivo::Response response = co_await session.get(
            QUrl(QString::fromStdString(args.download)), Reqivo::RequestOptions().streaming());
        if (response.status() != 200) {
            std::fprintf(stderr, "bench_client: status %d\n", response.status());
            co_return Bench::ExitFailed;
        }
        count(proto, response);
        for (;;) {
            const QByteArray chunk = co_await response.readChunk();
            if (chunk.isEmpty())
                break;
            bytes += chunk.size();
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "bench_client: %s\n", e.what());
        co_return Bench::ExitFailed;
    }
    Bench::printDownload("async", bytes, double(clock.nsecsElapsed()) / 1e9, proto.name());
    co_return Bench::ExitOk;
}

int runSyncGet(const Bench::Args &args)
{
    const QUrl url(QString::fromStdString(args.url));
    std::atomic<long long> next {0}, errors {0}, h2 {0}, http1 {0};
    std::atomic<bool> badArgs {false};
    auto loop = [&] {
        Reqivo::Session session;
        if (!configure(session, args)) {
            badArgs = true;
            return;
        }
        while (next.fetch_add(1) < args.requests) {
            try {
                const Reqivo::Response response = session.get(url);
                if (response.status() != 200)
                    ++errors;
                ++(response.httpVersion() == QLatin1String("2") ? h2 : http1);
            } catch (const std::exception &e) {
                if (errors++ == 0)
                    std::fprintf(stderr, "bench_client: %s\n", e.what());
            }
        }
    };
    QElapsedTimer clock;
    clock.start();
    if (args.concurrency == 1) {
        loop();
    } else {
        std::vector<std::thread> threads;
        for (int i = 0; i < args.concurrency; ++i)
            threads.emplace_back(loop);
        for (auto &thread : threads)
            thread.join();
    }
    const double seconds = double(clock.nsecsElapsed()) / 1e9;
    if (badArgs)
        return Bench::ExitUsage;
    Bench::ProtoTally proto;
    proto.h2 = h2;
    proto.http1 = http1;
    Bench::printGet("sync", args.requests, args.concurrency, seconds, errors, proto.name());
    return errors == 0 ? Bench::ExitOk : Bench::ExitFailed;
}

int runSyncDownload(const Bench::Args &args)
{
    Reqivo::Session session;
    if (!configure(session, args))
        return Bench::ExitUsage;
    Bench::ProtoTally proto;
    long long bytes = 0;
    QElapsedTimer clock;
    clock.start();
    try {
        Reqivo::Response response = session.get(
            QUrl(QString::fromStdString(args.download)), Reqivo::RequestOptions().streaming());
        if (response.status() != 200) {
            std::fprintf(stderr, "bench_client: status %d\n", response.status());
            return Bench::ExitFailed;
        }
        count(proto, response);
        while (true) {
            const QByteArray chunk = Reqivo::Session::readChunk(response);
            if (chunk.isEmpty())
                break;
            bytes += chunk.size();
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "bench_client: %s\n", e.what());
        return Bench::ExitFailed;
    }
    Bench::printDownload("sync", bytes, double(clock.nsecsElapsed()) / 1e9, proto.name());
    return Bench::ExitOk;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    // Debug logging would be measured along with the client.
    QLoggingCategory::setFilterRules(QStringLiteral("reqivo.*.debug=false"));
    Bench::Args args;
    args.mode = "async";
    if (!Bench::parseArgs(argc, argv, args, "async|sync"))
        return Bench::ExitUsage;
    if (args.mode == "sync")
        return args.download.empty() ? runSyncGet(args) : runSyncDownload(args);
    if (args.mode != "async") {
        std::fprintf(
            stderr, "bench_client: unknown mode '%s' (async or sync)\n", args.mode.c_str());
        return Bench::ExitUsage;
    }

    QTimer::singleShot(0, &app, [&args, &app] {
        QCoro::connect(args.download.empty() ? runGet(args) : runDownload(args), &app,
            [](int status) { QCoreApplication::exit(status); });
    });
    return QCoreApplication::exec();
}
