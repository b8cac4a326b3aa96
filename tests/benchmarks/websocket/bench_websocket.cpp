// bench_websocket: what Reqivo's AsyncWebSocket costs over the raw QWebSocket it drives.
//
//   bench_websocket [--messages N] [--mib M] [--rounds R] [--client NAME] [--workload NAME]
//
// A QWebSocketServer echoes in its own thread on 127.0.0.1. Against it, in the same run, four
// clients do the same work, one message in flight at a time (send, wait for the echo, repeat):
//
//   raw_qwebsocket   QWebSocket with a slot that sends the next message (the floor)
//   reqivo_coroutine co_await sendText()/sendBinary() then co_await receive()
//   reqivo_signals   AsyncWebSocket::sendTextMessage() and its message signals
//
// for two workloads: "ws_echo_small" (N round trips of a 32-byte text message) and
// "ws_throughput_1mib" (M round trips of a 1 MiB binary message; bytes counted both ways).
// Rounds alternate the clients' order so that drift (CPU frequency, other load) hits all of
// them alike; each client's figure is the median of its rounds. Every line printed is a JSON
// object: one per client and round ("round"), then one per workload and Reqivo client
// ("summary") with the overhead over raw QWebSocket in percent: wall clock (rate_raw / rate - 1)
// and the client thread's CPU time per message, which a busy machine disturbs much less.
// Benchmarks never fail on speed: the exit code only says whether every echo came back.
#include <Reqivo/asyncwebsocket.h>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QThread>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>

#include <QCoro/QCoroTask>

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

using namespace Reqivo;

namespace {

//! CPU time of the calling thread (the client: the server has its own thread), in seconds.
double threadCpuSeconds()
{
    timespec ts {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

//! What one client run measured: wall-clock seconds and the client thread's CPU seconds.
struct Timing
{
    double seconds = -1;
    double cpuSeconds = 0;
    bool ok() const { return seconds >= 0; }
};

//! Starts both clocks; stop() fills a Timing.
class Stopwatch
{
public:
    Stopwatch()
    {
        m_cpu = threadCpuSeconds();
        m_wall.start();
    }
    Timing stop() const
    {
        return {double(m_wall.nsecsElapsed()) / 1e9, threadCpuSeconds() - m_cpu};
    }

private:
    QElapsedTimer m_wall;
    double m_cpu = 0;
};

//! The echo server, living in its own thread.
class EchoServer : public QObject
{
public:
    void start()
    {
        server
            = new QWebSocketServer(QStringLiteral("bench"), QWebSocketServer::NonSecureMode, this);
        server->listen(QHostAddress::LocalHost, 0);
        connect(server, &QWebSocketServer::newConnection, this, [this] {
            while (QWebSocket *s = server->nextPendingConnection()) {
                s->setParent(this);
                s->setMaxAllowedIncomingMessageSize(64 * 1024 * 1024);
                connect(s, &QWebSocket::textMessageReceived, s, &QWebSocket::sendTextMessage);
                connect(s, &QWebSocket::binaryMessageReceived, s, &QWebSocket::sendBinaryMessage);
                connect(s, &QWebSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }
    QWebSocketServer *server = nullptr;
};

struct Workload
{
    std::string name;
    long long messages;
    bool binary;
    QByteArray bytes;
    QString text;
    qint64 messageBytes() const { return binary ? bytes.size() : text.toUtf8().size(); }
};

//! Runs \a task to completion in a local event loop; false when it threw.
bool runTask(QCoro::Task<bool> task)
{
    bool result = false;
    bool done = false;
    QEventLoop loop;
    auto drive = [&]() -> QCoro::Task<void> {
        try {
            result = co_await task;
        } catch (const std::exception &e) {
            std::fprintf(stderr, "bench_websocket: %s\n", e.what());
        }
        done = true;
        loop.quit();
    };
    auto running = drive();
    if (!done)
        loop.exec();
    return result;
}

//! The workload's timing; not ok() on failure.
Timing rawQWebSocket(const QUrl &url, const Workload &w)
{
    QWebSocket ws;
    ws.setMaxAllowedIncomingMessageSize(64 * 1024 * 1024);
    QEventLoop loop;
    QObject::connect(&ws, &QWebSocket::connected, &loop, &QEventLoop::quit);
    QObject::connect(&ws, &QWebSocket::disconnected, &loop, &QEventLoop::quit);
    ws.open(url);
    loop.exec();
    if (ws.state() != QAbstractSocket::ConnectedState)
        return {};
    long long left = w.messages;
    bool ok = true;
    auto next = [&] {
        if (--left == 0) {
            loop.quit();
            return;
        }
        if (w.binary)
            ws.sendBinaryMessage(w.bytes);
        else
            ws.sendTextMessage(w.text);
    };
    QObject::connect(&ws, &QWebSocket::textMessageReceived, &loop, [&](const QString &m) {
        ok = ok && m.size() == w.text.size();
        next();
    });
    QObject::connect(&ws, &QWebSocket::binaryMessageReceived, &loop, [&](const QByteArray &m) {
        ok = ok && m.size() == w.bytes.size();
        next();
    });
    const Stopwatch watch;
    if (w.binary)
        ws.sendBinaryMessage(w.bytes);
    else
        ws.sendTextMessage(w.text);
    loop.exec();
    const Timing t = watch.stop();
    ws.close();
    return ok && left == 0 ? t : Timing();
}

WebSocketOptions benchOptions()
{
    WebSocketOptions options;
    options.maxFrameSize = 64 * 1024 * 1024;
    return options;
}

Timing reqivoCoroutine(const QUrl &url, const Workload &w)
{
    AsyncWebSocket socket(url, benchOptions());
    Timing timing;
    const bool ok = runTask([&]() -> QCoro::Task<bool> {
        co_await socket.open();
        const Stopwatch watch;
        for (long long i = 0; i < w.messages; ++i) {
            if (w.binary)
                co_await socket.sendBinary(w.bytes);
            else
                co_await socket.sendText(w.text);
            const WebSocketMessage m = co_await socket.receive();
            if (w.binary ? m.data().size() != w.bytes.size() : m.text().size() != w.text.size())
                co_return false;
        }
        timing = watch.stop();
        co_await socket.close();
        co_return true;
    }());
    return ok ? timing : Timing();
}

Timing reqivoSignals(const QUrl &url, const Workload &w)
{
    WebSocketOptions options = benchOptions();
    options.receiveQueueSize = 0; // signal-only use
    AsyncWebSocket socket(url, options);
    QEventLoop loop;
    QObject::connect(&socket, &AsyncWebSocket::connected, &loop, &QEventLoop::quit);
    QObject::connect(&socket, &AsyncWebSocket::errorOccurred, &loop, &QEventLoop::quit);
    (void)socket.open(); // signal-only: connected() or errorOccurred() ends the loop
    loop.exec();
    if (!socket.isOpen())
        return {};
    long long left = w.messages;
    bool ok = true;
    auto next = [&] {
        if (--left == 0) {
            loop.quit();
            return;
        }
        if (w.binary)
            socket.sendBinaryMessage(w.bytes);
        else
            socket.sendTextMessage(w.text);
    };
    QObject::connect(&socket, &AsyncWebSocket::textMessageReceived, &loop, [&](const QString &m) {
        ok = ok && m.size() == w.text.size();
        next();
    });
    QObject::connect(
        &socket, &AsyncWebSocket::binaryMessageReceived, &loop, [&](const QByteArray &m) {
            ok = ok && m.size() == w.bytes.size();
            next();
        });
    const Stopwatch watch;
    if (w.binary)
        socket.sendBinaryMessage(w.bytes);
    else
        socket.sendTextMessage(w.text);
    loop.exec();
    const Timing t = watch.stop();
    runTask([&]() -> QCoro::Task<bool> {
        co_await socket.close();
        co_return true;
    }());
    return ok && left == 0 ? t : Timing();
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string argString(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string(argv[i]) == name)
            return argv[i + 1];
    }
    return {};
}

long long argValue(int argc, char **argv, const char *name, long long fallback)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string(argv[i]) == name) {
            char *end = nullptr;
            const long long v = std::strtoll(argv[i + 1], &end, 10);
            if (*end || v < 1) {
                std::fprintf(stderr, "bench_websocket: %s needs a number >= 1\n", name);
                std::exit(2);
            }
            return v;
        }
    }
    return fallback;
}

} // namespace

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::printf("usage: %s [--messages N] [--mib M] [--rounds R] [--client NAME] "
                        "[--workload NAME]\n",
                argv[0]);
            return 0;
        }
    }
    QCoreApplication app(argc, argv);
    const long long smallMessages = argValue(argc, argv, "--messages", 20000);
    const long long mibMessages = argValue(argc, argv, "--mib", 200);
    const int rounds = int(argValue(argc, argv, "--rounds", 5));
    // Only one client or one workload, e.g. to compare instruction counts under callgrind.
    const std::string onlyClient = argString(argc, argv, "--client");
    const std::string onlyWorkload = argString(argc, argv, "--workload");

    QThread serverThread;
    serverThread.start();
    auto *echo = new EchoServer;
    echo->moveToThread(&serverThread);
    QMetaObject::invokeMethod(
        echo, [echo] { echo->start(); }, Qt::BlockingQueuedConnection);
    const QUrl url(QStringLiteral("ws://127.0.0.1:%1/").arg(echo->server->serverPort()));

    std::vector<Workload> workloads;
    workloads.push_back({"ws_echo_small", smallMessages, false, {}, QString(32, u'x')});
    workloads.push_back(
        {"ws_throughput_1mib", mibMessages, true, QByteArray(1024 * 1024, 'b'), {}});

    using Client = std::function<Timing(const QUrl &, const Workload &)>;
    const std::vector<std::pair<std::string, Client>> clients {{"raw_qwebsocket", rawQWebSocket},
        {"reqivo_coroutine", reqivoCoroutine}, {"reqivo_signals", reqivoSignals}};

    bool allOk = true;
    for (const Workload &w : workloads) {
        if (!onlyWorkload.empty() && w.name != onlyWorkload)
            continue;
        const double bytes = double(w.messages) * double(w.messageBytes()) * 2;
        std::map<std::string, std::vector<double>> wall;
        std::map<std::string, std::vector<double>> cpu;
        for (int r = 0; r < rounds; ++r) {
            // Alternate the order: forwards on even rounds, backwards on odd ones.
            for (size_t k = 0; k < clients.size(); ++k) {
                const auto &[name, run] = clients[r % 2 ? clients.size() - 1 - k : k];
                if (!onlyClient.empty() && name != onlyClient)
                    continue;
                const Timing t = run(url, w);
                if (!t.ok()) {
                    std::fprintf(
                        stderr, "bench_websocket: %s failed in %s\n", name.c_str(), w.name.c_str());
                    allOk = false;
                    continue;
                }
                wall[name].push_back(t.seconds);
                cpu[name].push_back(t.cpuSeconds);
                std::printf("{\"bench\":\"%s\",\"kind\":\"round\",\"client\":\"%s\","
                            "\"round\":%d,\"messages\":%lld,\"message_bytes\":%lld,"
                            "\"seconds\":%.6f,\"msgs_per_sec\":%.1f,\"bytes_per_sec\":%.0f,"
                            "\"client_cpu_us_per_msg\":%.3f}\n",
                    w.name.c_str(), name.c_str(), r + 1, w.messages, (long long)w.messageBytes(),
                    t.seconds, double(w.messages) / t.seconds, bytes / t.seconds,
                    t.cpuSeconds * 1e6 / double(w.messages));
                std::fflush(stdout);
            }
        }
        if (wall["raw_qwebsocket"].empty())
            continue;
        const double raw = median(wall["raw_qwebsocket"]);
        const double rawCpu = median(cpu["raw_qwebsocket"]);
        for (const char *name : {"reqivo_coroutine", "reqivo_signals"}) {
            if (wall[name].empty())
                continue;
            const double mine = median(wall[name]);
            const double mineCpu = median(cpu[name]);
            // overhead_pct: wall clock, rate_raw / rate - 1. cpu_overhead_pct: the client
            // thread's CPU per message against raw's; steadier on a busy machine.
            std::printf("{\"bench\":\"%s\",\"kind\":\"summary\",\"client\":\"%s\",\"rounds\":%d,"
                        "\"msgs_per_sec\":%.1f,\"raw_msgs_per_sec\":%.1f,\"bytes_per_sec\":%.0f,"
                        "\"raw_bytes_per_sec\":%.0f,\"overhead_pct\":%.2f,"
                        "\"client_cpu_us_per_msg\":%.3f,\"raw_client_cpu_us_per_msg\":%.3f,"
                        "\"cpu_overhead_pct\":%.2f}\n",
                w.name.c_str(), name, rounds, double(w.messages) / mine, double(w.messages) / raw,
                bytes / mine, bytes / raw, (mine / raw - 1.0) * 100.0,
                mineCpu * 1e6 / double(w.messages), rawCpu * 1e6 / double(w.messages),
                (mineCpu / rawCpu - 1.0) * 100.0);
            std::fflush(stdout);
        }
    }

    QMetaObject::invokeMethod(
        echo, [echo] { delete echo; }, Qt::BlockingQueuedConnection);
    serverThread.quit();
    serverThread.wait();
    return allOk ? 0 : 1;
}
