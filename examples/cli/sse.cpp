// reqivo sse: the SSE-only options are taken out first, the rest goes through the plain
// command's parser (so -X, -H, -d, --json, -u, --bearer, TLS, proxy, timeouts and compression
// mean the same), and one AsyncEventSource runs the stream in the application's event loop.
#include "sse.h"

#include "cliopts.h"
#include "output.h"
#include "report.h"

#include <Reqivo/asynceventsource.h>
#include <Reqivo/asyncsession.h>

#include <QCoreApplication>
#include <QTimer>

#include <climits>
#include <cmath>
#include <memory>

using namespace Qt::StringLiterals;

namespace ReqivoCli {

namespace {

struct SseOptions
{
    std::optional<bool> reconnect;
    int maxReconnects = Reqivo::EventSourceOptions::unlimited;
    std::optional<qint64> retryMs;
    QByteArray lastEventId;
    std::optional<QString> until;
    qint64 maxEvents = -1;
    std::optional<double> idleSeconds;
};

bool takeNumber(const QString &text, qint64 *out)
{
    bool ok = false;
    const qint64 value = text.toLongLong(&ok);
    if (!ok || value < 0)
        return false;
    *out = value;
    return true;
}

QString errorType(const Reqivo::Error &error)
{
    return error.typeName();
}

//! Prints what happens to the stream and ends the application with the exit status.
class SseRun : public QObject
{
public:
    SseRun(Reqivo::AsyncSession *session, const CliOptions &options, const SseOptions &sse)
        : m_report(options.report)
        , m_maxEvents(sse.maxEvents)
    {
        Reqivo::EventSourceOptions es;
        es.method = options.method.isEmpty()
            ? (options.body || options.form ? QByteArray("POST") : QByteArray("GET"))
            : options.method;
        es.request.headers = options.headers;
        if (options.body)
            es.request.body = Reqivo::Body::fromBytes(*options.body, options.bodyContentType);
        if (options.form)
            es.request.body = Reqivo::Body::fromMultipart(*options.form);
        es.reconnect = sse.reconnect;
        es.maxReconnectAttempts = sse.maxReconnects;
        if (sse.retryMs)
            es.reconnectionTime = std::chrono::milliseconds(*sse.retryMs);
        es.lastEventId = sse.lastEventId;
        if (sse.idleSeconds)
            es.idleTimeout
                = std::chrono::milliseconds(qint64(std::llround(*sse.idleSeconds * 1000)));
        if (sse.until) {
            const QString until = *sse.until;
            es.until = [until](const Reqivo::ServerSentEvent &e) { return e.data == until; };
        }
        es.queueSize = 0; // signals only
        m_url = options.targets.first().url;
        m_source.reset(Reqivo::AsyncEventSource::fromSession(*session, m_url, es));
        auto *source = m_source.get();
        connect(source, &Reqivo::AsyncEventSource::opened, this, [this, source] {
            if (m_report)
                line(object({{"event"_L1, encode(u"open"_s)},
                    {"url"_L1, encode(m_url.toString(QUrl::FullyEncoded))},
                    {"status"_L1, encode(source->status())},
                    {"attempt"_L1, encode(source->attempt())}}));
        });
        connect(source, &Reqivo::AsyncEventSource::eventReceived, this,
            [this, source](const Reqivo::ServerSentEvent &e) {
                if (m_report) {
                    line(object({{"event"_L1, encode(u"message"_s)}, {"type"_L1, encode(e.type)},
                        {"data"_L1, encode(e.data)}, {"id"_L1, encode(e.lastEventId)}}));
                } else {
                    QByteArray text;
                    if (e.type != u"message"_s)
                        text += "event: " + e.type.toUtf8() + '\n';
                    text += e.data.toUtf8() + '\n';
                    writeStdout(text);
                }
                if (m_maxEvents >= 0 && ++m_events >= m_maxEvents && !m_ending) {
                    m_ending = "max-events";
                    source->close();
                }
            });
        connect(source, &Reqivo::AsyncEventSource::reconnecting, this,
            [this, source](int attempt, int delayMs) {
                if (m_report)
                    line(object({{"event"_L1, encode(u"reconnecting"_s)},
                        {"attempt"_L1, encode(attempt)}, {"delayMs"_L1, encode(delayMs)},
                        {"lastEventId"_L1, encode(source->lastEventId())}}));
            });
        connect(source, &Reqivo::AsyncEventSource::errorOccurred, this,
            [this](const Reqivo::Error &error, bool fatal) {
                if (m_report)
                    line(object(
                        {{"event"_L1, encode(u"error"_s)}, {"type"_L1, encode(errorType(error))},
                            {"message"_L1, encode(error.message())}, {"fatal"_L1, encode(fatal)}}));
                else
                    printErr(u"reqivo: %1%2\n"_s.arg(
                        error.toString(), fatal ? QString() : u" (reconnecting)"_s));
            });
        connect(source, &Reqivo::AsyncEventSource::closed, this, [this, source] {
            const char *reason = m_ending;
            if (!reason) {
                switch (source->endReason()) {
                case Reqivo::AsyncEventSource::EndReason::Until:
                    reason = "until";
                    break;
                case Reqivo::AsyncEventSource::EndReason::Failed:
                    reason = "failed";
                    break;
                default:
                    reason = "closed";
                    break;
                }
            }
            if (m_report)
                line(object({{"event"_L1, encode(u"end"_s)},
                    {"reason"_L1, encode(QString::fromLatin1(reason))}}));
            std::fflush(stdout);
            const int status = qstrcmp(reason, "failed") == 0 ? ExitFailed : ExitOk;
            QTimer::singleShot(0, qApp, [status] { QCoreApplication::exit(status); });
        });
    }

    void start() { m_source->open(); }

private:
    static void line(const QByteArray &json)
    {
        writeStdout(json + '\n');
        std::fflush(stdout);
    }

    bool m_report;
    qint64 m_maxEvents;
    qint64 m_events = 0;
    const char *m_ending = nullptr;
    QUrl m_url;
    std::unique_ptr<Reqivo::AsyncEventSource> m_source;
};

} // namespace

int runSse(const QStringList &arguments)
{
    // The SSE options first; everything else is the plain command's.
    SseOptions sse;
    QStringList rest {arguments.value(0)};
    const auto usage = [](const QString &message) {
        printErr(u"reqivo sse: %1\n"_s.arg(message));
        return int(ExitUsage);
    };
    for (qsizetype i = 2; i < arguments.size(); ++i) {
        const QString &a = arguments.at(i);
        const auto value = [&](QString *out) {
            if (i + 1 >= arguments.size())
                return false;
            *out = arguments.at(++i);
            return true;
        };
        QString v;
        if (a == u"--reconnect"_s) {
            sse.reconnect = true;
        } else if (a == u"--no-reconnect"_s) {
            sse.reconnect = false;
        } else if (a == u"--max-reconnects"_s) {
            qint64 n = 0;
            if (!value(&v) || !takeNumber(v, &n) || n > INT_MAX)
                return usage(u"--max-reconnects needs a number >= 0"_s);
            sse.maxReconnects = int(n);
        } else if (a == u"--retry-ms"_s) {
            qint64 n = 0;
            if (!value(&v) || !takeNumber(v, &n) || n > INT_MAX)
                return usage(u"--retry-ms needs a number of milliseconds >= 0"_s);
            sse.retryMs = n;
        } else if (a == u"--last-event-id"_s) {
            if (!value(&v))
                return usage(u"--last-event-id needs an ID"_s);
            sse.lastEventId = v.toUtf8();
            if (sse.lastEventId.contains('\0') || sse.lastEventId.contains('\n')
                || sse.lastEventId.contains('\r'))
                return usage(u"--last-event-id cannot contain NUL, CR or LF"_s);
        } else if (a == u"--until"_s) {
            if (!value(&v))
                return usage(u"--until needs the data that ends the stream"_s);
            sse.until = v;
        } else if (a == u"--max-events"_s) {
            qint64 n = 0;
            if (!value(&v) || !takeNumber(v, &n) || n == 0)
                return usage(u"--max-events needs a number >= 1"_s);
            sse.maxEvents = n;
        } else if (a == u"--idle-timeout"_s) {
            bool ok = false;
            const double seconds = value(&v) ? v.toDouble(&ok) : 0;
            if (!ok || seconds <= 0 || !std::isfinite(seconds) || seconds > 1e6)
                return usage(u"--idle-timeout needs a number of seconds > 0"_s);
            sse.idleSeconds = seconds;
        } else if (a == u"-o"_s || a == u"--output"_s || a.startsWith(u"--output="_s)
            || a == u"--sync"_s) {
            return usage(u"%1 does not apply to a stream"_s.arg(a));
        } else {
            rest << a;
        }
    }
    ParseResult parsed = parseArguments(rest);
    if (!parsed.options) {
        if (parsed.exitStatus == ExitOk) {
            writeStdout(parsed.message.toLocal8Bit());
            std::fflush(stdout);
        } else {
            printErr(parsed.message + u'\n');
        }
        return parsed.exitStatus;
    }
    CliOptions options = *parsed.options;
    if (options.targets.size() != 1)
        return usage(u"one URL, not %1"_s.arg(options.targets.size()));
    // --json asks for JSON back; a stream answers text/event-stream.
    if (options.headers.value("accept") == QByteArrayView("application/json"))
        options.headers.remove("accept");

    Reqivo::AsyncSession session;
    configureSession(session, options);
    SseRun run(&session, options, sse);
    QTimer::singleShot(0, &run, [&run] { run.start(); });
    return QCoreApplication::exec();
}

} // namespace ReqivoCli
