// bench_listener: what an event listener costs, on sequential small GETs (one AsyncSession, one
// keep-alive connection), with no listener, with one that does nothing and with one that
// records every event.
//
//   bench_listener --url URL --requests N [--mode rounds] [--ca FILE] [--http1.1 | --http2]
//
// The three variants take turns, N requests each, for R rounds (--mode, default 3), so that a
// drift of the machine's speed touches them alike; each variant's best round is printed as a
// "get" JSON line (mode "listener-none", "listener-noop", "listener-record") with its CPU time
// ("cpu_seconds", user + system of this process during the round) and its cost against no
// listener ("cost_pct", by wall time; "cpu_cost_pct", by CPU time).
//
// BENCH_LISTENER_ONLY=none|noop|record runs that variant alone (rounds times, after the
// warm-up), for `perf stat -e instructions,task-clock`: instruction counts compare the
// variants even on a busy machine.
#include "benchcommon.h"

#include <Reqivo/asyncsession.h>
#include <Reqivo/eventlistener.h>
#include <Reqivo/requestoptions.h>
#include <Reqivo/response.h>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QTimer>
#include <QUrl>

#include <QCoro/QCoroTask>

#include <algorithm>
#include <array>
#include <vector>

namespace {

class NoopListener final : public Reqivo::EventListener
{
public:
    void onEvent(const Reqivo::RequestEvent &) override { }
};

class RecordingListener final : public Reqivo::EventListener
{
public:
    void onEvent(const Reqivo::RequestEvent &event) override { events.push_back(event); }
    std::vector<Reqivo::RequestEvent> events;
};

double cpuSeconds()
{
    rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct Round
{
    double seconds = 0;
    double cpu = 0;
    long long errors = 0;
};

QCoro::Task<Round> runRound(Reqivo::AsyncSession &session, QUrl url, long long requests,
    std::shared_ptr<RecordingListener> recorder)
{
    Round round;
    const double cpuStart = cpuSeconds();
    QElapsedTimer clock;
    clock.start();
    for (long long i = 0; i < requests; ++i) {
        try {
            const Reqivo::Response response = co_await session.get(url);
            if (response.status() != 200)
                ++round.errors;
        } catch (const std::exception &e) {
            if (round.errors++ == 0)
                std::fprintf(stderr, "bench_listener: %s\n", e.what());
        }
        if (recorder && recorder->events.size() > 100000)
            recorder->events.clear(); // bounded memory; what matters is building them
    }
    round.seconds = double(clock.nsecsElapsed()) / 1e9;
    round.cpu = cpuSeconds() - cpuStart;
    co_return round;
}

QCoro::Task<int> run(Bench::Args args, int rounds)
{
    Reqivo::AsyncSession session;
    if (!args.ca.empty()) {
        Reqivo::TlsOptions tls;
        QString error;
        if (!tls.addCaCertificatesFromFile(QString::fromStdString(args.ca), &error)) {
            std::fprintf(stderr, "bench_listener: --ca: %s\n", qPrintable(error));
            co_return Bench::ExitUsage;
        }
        session.setTlsOptions(tls);
    }
    if (args.http == Bench::HttpVersion::Http1_1)
        session.setHttpVersion(Reqivo::HttpVersion::Http1_1);
    else if (args.http != Bench::HttpVersion::Default)
        session.setHttpVersion(Reqivo::HttpVersion::Http2);
    const QUrl url(QString::fromStdString(args.url));

    const auto noop = std::make_shared<NoopListener>();
    const auto recorder = std::make_shared<RecordingListener>();
    const std::array<std::shared_ptr<Reqivo::EventListener>, 3> listeners {nullptr, noop, recorder};
    const std::array<const char *, 3> names {"listener-none", "listener-noop", "listener-record"};

    // One warm-up round opens the connection and warms every path. (Every argument is built
    // before its co_await: GCC 12 may destroy a temporary made inside one twice, see
    // docs/coroutines.md.)
    const long long warmUp = std::min<long long>(args.requests, 1000);
    const std::shared_ptr<RecordingListener> none;
    co_await runRound(session, url, warmUp, none);
    std::array<Round, 3> best;
    long long errors = 0;
    const QByteArray only = qgetenv("BENCH_LISTENER_ONLY");
    for (int r = 0; r < rounds; ++r) {
        for (size_t v = 0; v < listeners.size(); ++v) {
            if (!only.isEmpty() && ("listener-" + only) != names[v])
                continue;
            session.setEventListener(listeners[v]);
            const std::shared_ptr<RecordingListener> kept = v == 2 ? recorder : none;
            const Round round = co_await runRound(session, url, args.requests, kept);
            errors += round.errors;
            if (r == 0 || round.seconds < best[v].seconds)
                best[v].seconds = round.seconds;
            if (r == 0 || round.cpu < best[v].cpu)
                best[v].cpu = round.cpu;
        }
    }
    for (size_t v = 0; v < listeners.size(); ++v) {
        if (!only.isEmpty() && ("listener-" + only) != names[v])
            continue;
        const double rps = double(args.requests) / best[v].seconds;
        const double cost = (best[v].seconds / best[0].seconds - 1) * 100;
        const double cpuCost = best[0].cpu > 0 ? (best[v].cpu / best[0].cpu - 1) * 100 : 0;
        std::printf("{\"bench\":\"get\",\"mode\":\"%s\",\"requests\":%lld,\"concurrency\":1,"
                    "\"seconds\":%.6f,\"rps\":%.1f,\"errors\":%lld,\"rounds\":%d,"
                    "\"cpu_seconds\":%.6f,\"cost_pct\":%.2f,\"cpu_cost_pct\":%.2f}\n",
            names[v], args.requests, best[v].seconds, rps, errors, rounds, best[v].cpu, cost,
            cpuCost);
    }
    std::fflush(stdout);
    co_return errors == 0 ? Bench::ExitOk : Bench::ExitFailed;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    // Debug logging would be measured along with the client.
    QLoggingCategory::setFilterRules(QStringLiteral("reqivo.*.debug=false"));
    Bench::Args args;
    args.mode = "3";
    if (!Bench::parseArgs(argc, argv, args, "rounds (a number, default 3)"))
        return Bench::ExitUsage;
    if (!args.download.empty()) {
        std::fprintf(stderr, "bench_listener: --download is not measured here\n");
        return Bench::ExitUsage;
    }
    const int rounds = std::atoi(args.mode.c_str());
    if (rounds < 1) {
        std::fprintf(stderr, "bench_listener: --mode needs a number of rounds >= 1\n");
        return Bench::ExitUsage;
    }
    QTimer::singleShot(0, &app, [&args, &app, rounds] {
        QCoro::connect(run(args, rounds), &app, [](int status) { QCoreApplication::exit(status); });
    });
    return QCoreApplication::exec();
}
