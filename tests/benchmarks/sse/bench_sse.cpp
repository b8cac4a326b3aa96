// bench_sse: what Server-Sent Events cost, from the parser alone to events end to end.
//
//   bench_sse [--seconds S] [--iterations N] [--events N] [--event-bytes B] [--rounds R]
//
// Prints one JSON line per figure:
//   sse_parse    the text/event-stream parser alone: a stream of --event-bytes events fed in
//                64 KiB reads, every event's data touched (bytes_per_sec of stream);
//   sse_events   --events small events over loopback from a server thread (one response,
//                Content-Length), read by AsyncEventSource (events_per_sec) and, in the same
//                run, the same stream read as raw bytes through a streamed Response
//                (raw_events_per_sec: the events it carried per second); medians of --rounds
//                alternating rounds, and the ratio. Two lines: "writes":"per_event", the server
//                writing each event as it is produced (one send per event, as SSE servers
//                flush), and "writes":"bulk", the whole stream handed to the kernel at once, so
//                that the raw read does nothing but copy 64 KiB blocks (the parser's and the
//                events' cost then shows in full).
// Figures, never verdicts: the exit code only says whether every event arrived.
#include "bench_sse_parse.h"

#include <Reqivo/asynceventsource.h>
#include <Reqivo/asyncsession.h>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>

#include <QCoro/QCoroTask>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

long long argValue(int argc, char **argv, const char *name, long long fallback)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0)
            return std::atoll(argv[i + 1]);
    }
    return fallback;
}

double argDouble(int argc, char **argv, const char *name, double fallback)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0)
            return std::atof(argv[i + 1]);
    }
    return fallback;
}

//! Answers every request on its connection with the same event-stream response.
class StreamServer : public QObject
{
public:
    StreamServer(QByteArray body, int eventBytes)
        : m_body(std::move(body))
        , m_eventBytes(eventBytes)
    {
    }
    bool perEvent = true;
    void start()
    {
        m_server = new QTcpServer(this);
        m_server->listen(QHostAddress::LocalHost, 0);
        connect(m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server->nextPendingConnection()) {
                s->setParent(this);
                connect(s, &QTcpSocket::readyRead, s, [this, s] {
                    m_request += s->readAll();
                    while (m_request.contains("\r\n\r\n")) {
                        m_request.remove(0, m_request.indexOf("\r\n\r\n") + 4);
                        s->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                 "Content-Length: "
                            + QByteArray::number(m_body.size()) + "\r\n\r\n");
                        if (!perEvent) {
                            s->write(m_body);
                            continue;
                        }
                        for (qsizetype at = 0; at < m_body.size(); at += m_eventBytes) {
                            s->write(m_body.constData() + at,
                                std::min<qsizetype>(m_eventBytes, m_body.size() - at));
                            s->flush();
                        }
                    }
                });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }
    quint16 port() const { return m_server->serverPort(); }

private:
    QByteArray m_body;
    int m_eventBytes;
    QByteArray m_request;
    QTcpServer *m_server = nullptr;
};

bool runTask(QCoro::Task<bool> task)
{
    bool done = false;
    bool ok = false;
    QEventLoop loop;
    auto drive = [&]() -> QCoro::Task<void> {
        try {
            ok = co_await task;
        } catch (...) {
            ok = false;
        }
        done = true;
        loop.quit();
    };
    auto driver = drive();
    if (!done)
        loop.exec();
    return ok;
}

QCoro::Task<bool> viaEventSource(Reqivo::AsyncSession *session, QUrl url, long long events)
{
    Reqivo::EventSourceOptions options;
    options.reconnect = false;
    std::unique_ptr<Reqivo::AsyncEventSource> source(
        Reqivo::AsyncEventSource::fromSession(*session, url, options));
    long long seen = 0;
    while (const std::optional<Reqivo::ServerSentEvent> e = co_await source->next())
        seen += e->data.isEmpty() ? 0 : 1;
    co_return seen == events;
}

QCoro::Task<bool> viaRawStream(Reqivo::AsyncSession *session, QUrl url, qint64 bytes)
{
    Reqivo::RequestOptions options;
    options.stream = true;
    Reqivo::Response r = co_await session->get(url, options);
    qint64 got = 0;
    while (true) {
        const QByteArray chunk = co_await r.readChunk();
        if (chunk.isEmpty())
            break;
        got += chunk.size();
    }
    co_return got == bytes;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const double seconds = argDouble(argc, argv, "--seconds", 2.0);
    const long long iterations = argValue(argc, argv, "--iterations", 0);
    const int eventBytes = int(argValue(argc, argv, "--event-bytes", 100));
    const long long events = argValue(argc, argv, "--events", 200000);
    const int rounds = int(argValue(argc, argv, "--rounds", 5));
    bool ok = BenchSse::benchParse(eventBytes, seconds, iterations);

    const QByteArray body = BenchSse::makeStream(eventBytes, int(events));
    QThread serverThread;
    auto *server = new StreamServer(body, eventBytes);
    server->moveToThread(&serverThread);
    serverThread.start();
    QMetaObject::invokeMethod(
        server, [server] { server->start(); }, Qt::BlockingQueuedConnection);
    const QUrl url(QStringLiteral("http://127.0.0.1:%1/events").arg(server->port()));

    Reqivo::AsyncSession session;
    for (const bool perEvent : {true, false}) {
        QMetaObject::invokeMethod(
            server, [server, perEvent] { server->perEvent = perEvent; },
            Qt::BlockingQueuedConnection);
        std::vector<double> sse;
        std::vector<double> raw;
        for (int round = 0; round < rounds; ++round) {
            for (int which = 0; which < 2; ++which) {
                const bool eventsFirst = round % 2 == 0;
                const bool viaEvents = (which == 0) == eventsFirst;
                QElapsedTimer timer;
                timer.start();
                const bool good = viaEvents ? runTask(viaEventSource(&session, url, events))
                                            : runTask(viaRawStream(&session, url, body.size()));
                const double rate = double(events) / (double(timer.nsecsElapsed()) / 1e9);
                ok = ok && good;
                (viaEvents ? sse : raw).push_back(rate);
            }
        }
        const double sseRate = median(sse);
        const double rawRate = median(raw);
        std::printf("{\"bench\":\"sse_events\",\"writes\":\"%s\",\"event_bytes\":%d,"
                    "\"events\":%lld,\"rounds\":%d,\"events_per_sec\":%.0f,"
                    "\"raw_events_per_sec\":%.0f,\"ratio\":%.3f}\n",
            perEvent ? "per_event" : "bulk", eventBytes, events, rounds, sseRate, rawRate,
            rawRate > 0 ? sseRate / rawRate : 0.0);
        std::fflush(stdout);
    }
    QMetaObject::invokeMethod(
        server, [server] { delete server; }, Qt::BlockingQueuedConnection);
    serverThread.quit();
    serverThread.wait();
    return ok ? 0 : 1;
}
