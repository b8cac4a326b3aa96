// The tour: one short step per feature, each printing what happened in a line or two and
// checking it, so that the demo doubles as a smoke test (non-zero exit when a step fails).
#include "tour.h"

#include "loopbackserver.h"
#include "wsechoserver.h"

#include <Reqivo/AsyncEventSource>
#include <Reqivo/AsyncSession>
#include <Reqivo/AsyncWebSocket>
#include <Reqivo/Errors>
#include <Reqivo/Reply>
#include <Reqivo/Session>

#include <QElapsedTimer>
#include <QJsonObject>

#include <cstdio>
#include <unistd.h>

using namespace std::chrono_literals;
using namespace Qt::StringLiterals;
using Reqivo::Response;

namespace Demo {
namespace {

void line(const QString &text)
{
    std::printf("%s\n", qPrintable(text));
    std::fflush(stdout);
}

// "200 OK, 57 bytes in 2 ms"
QString summary(const Response &r)
{
    return u"%1 %2, %3 bytes in %4 ms"_s.arg(r.status())
        .arg(QString::fromLatin1(r.reason()))
        .arg(r.body().size())
        .arg(r.elapsed().count());
}

// readJson(): no exception for a body that is not JSON (an empty greeting then fails the check).
QString greeting(const Response &r)
{
    return r.readJson().value_or(QJsonDocument()).object().value(u"greeting"_s).toString();
}

// A text progress bar, redrawn in place on a terminal and printed once when finished otherwise.
void progressBar(qint64 done, qint64 total, bool last)
{
    static const bool terminal = isatty(fileno(stdout));
    if (!terminal && !last)
        return;
    constexpr int width = 30;
    const int filled = total > 0 ? int(width * done / total) : 0;
    const QString bar
        = QString(filled, QLatin1Char('#')) + QString(width - filled, QLatin1Char('.'));
    std::printf("%s   [%s] %3d%%  %.1f / %.1f MiB%s", terminal ? "\r" : "", qPrintable(bar),
        total > 0 ? int(100 * done / total) : 0, double(done) / (1 << 20),
        double(total) / (1 << 20), last ? "\n" : "");
    std::fflush(stdout);
}

struct Step
{
    int number = 0;
    int failed = 0;

    void title(const char *what) { line(u"\n%1. %2"_s.arg(++number).arg(QString::fromUtf8(what))); }
    void check(bool ok, const QString &text)
    {
        line(u"   %1%2"_s.arg(ok ? QString() : u"FAILED: "_s, text));
        failed += ok ? 0 : 1;
    }
};

} // namespace

QCoro::Task<int> runTour(Examples::LoopbackServer &http, Examples::WsEchoServer &ws)
{
    Step step;
    Reqivo::AsyncSession session(http.baseUrl());
    line(QStringLiteral("Reqivo demo: an HTTP server and a WebSocket echo server run in this "
                        "process on 127.0.0.1 (%1, %2).")
             .arg(http.baseUrl().toString(), ws.url().toString()));

    try {
        step.title("GET /json with co_await (AsyncSession)");
        const Response r = co_await session.get(QUrl(u"/json"_s));
        step.check(r.status() == 200 && !greeting(r).isEmpty(),
            summary(r) + u": \"%1\""_s.arg(greeting(r)));

        step.title("the same GET, blocking (Session: a nested event loop runs the same core)");
        Reqivo::Session blocking(http.baseUrl());
        const Response b = blocking.get(QUrl(u"/json"_s));
        step.check(b.status() == 200 && greeting(b) == greeting(r), summary(b));

        step.title("the same GET with signals (Reply::finished / errorOccurred)");
        Reqivo::Reply *reply = session.sendGet(QUrl(u"/json"_s));
        Response fromSignal;
        QString signalError;
        bool signalled = false;
        // finished() comes for every outcome, last: the result is read from the Reply.
        QObject::connect(reply, &Reqivo::Reply::finished, reply, [&, reply] {
            signalled = true;
            fromSignal = reply->response();
            signalError = reply->error() ? reply->error().message() : QString();
        });
        QObject::connect(reply, &Reqivo::Reply::finished, reply, &QObject::deleteLater);
        co_await waitUntil([&] { return signalled; }, 5s);
        step.check(fromSignal.status() == 200,
            signalError.isEmpty() ? u"finished: "_s + summary(fromSignal) : signalError);

        step.title("the same GET from QML (HttpClient in a headless QQmlEngine)");
        QString shown;
        const QString qmlError = co_await qmlGet(http.baseUrl(), u"/json"_s, &shown);
        step.check(
            qmlError.isEmpty(), qmlError.isEmpty() ? shown : qmlError + QLatin1Char(' ') + shown);

        step.title("a redirect chain: GET /redirect/3");
        const Response red = co_await session.get(QUrl(u"/redirect/3"_s));
        QStringList hops;
        for (const Response &h : red.history())
            hops << u"%1 %2"_s.arg(h.status()).arg(h.url().path());
        hops << u"%1 %2"_s.arg(red.status()).arg(red.url().path());
        step.check(red.status() == 200 && red.history().size() == 3, hops.join(u" -> "_s));

        step.title("cookies: the server sets two, the session sends them back");
        const Response set = co_await session.get(QUrl(u"/cookies/set?flavour=oatmeal&visit=1"_s));
        const QList<QByteArray> setCookies = set.headers().values("Set-Cookie");
        const Response echo = co_await session.get(QUrl(u"/cookies"_s));
        const QString sentBack = echo.json().object().value(u"cookie"_s).toString();
        step.check(sentBack.contains(u"flavour=oatmeal"_s) && sentBack.contains(u"visit=1"_s),
            u"Set-Cookie: %1\n   then sent back: Cookie: %2"_s.arg(
                QString::fromLatin1(setCookies.join(" | ")), sentBack));

        step.title("a streamed download of 8 MiB, read piece by piece");
        constexpr qint64 size = 8 << 20;
        Response dl = co_await session.get(
            QUrl(u"/bytes/%1"_s.arg(size)), Reqivo::RequestOptions().streaming());
        qint64 received = 0;
        for (;;) {
            const QByteArray chunk = co_await dl.readChunk();
            if (chunk.isEmpty())
                break;
            received += chunk.size();
            progressBar(received, dl.expectedSize(), false);
        }
        progressBar(received, dl.expectedSize(), true);
        step.check(received == size, u"%1 bytes received"_s.arg(received));

        step.title("a JSON POST to /echo");
        // (Built before the co_await: GCC 12 cannot keep an initializer list across one.)
        QJsonObject person;
        person.insert(u"name"_s, u"Ada"_s);
        person.insert(u"language"_s, u"C++"_s);
        const Response post
            = co_await session.post(QUrl(u"/echo"_s), Reqivo::Body::fromJson(person));
        const QJsonObject seen = post.json().object();
        step.check(seen.value(u"json"_s).toObject().value(u"name"_s) == u"Ada"_s,
            u"the server saw %1 with Content-Type %2: %3"_s.arg(seen.value(u"method"_s).toString(),
                seen.value(u"contentType"_s).toString(),
                QString::fromUtf8(QJsonDocument(seen.value(u"json"_s).toObject())
                                      .toJson(QJsonDocument::Compact))));

        step.title("a timeout: GET /slow/2000 with a 300 ms read timeout");
        QElapsedTimer clock;
        clock.start();
        try {
            Reqivo::Timeout timeout;
            timeout.read = 300ms;
            co_await session.get(
                QUrl(u"/slow/2000"_s), Reqivo::RequestOptions().withTimeout(timeout));
            step.check(false, u"the request did not time out"_s);
        } catch (const Reqivo::ReadTimeout &e) {
            step.check(clock.elapsed() < 1500,
                u"caught ReadTimeout after %1 ms: %2"_s.arg(clock.elapsed()).arg(e.message()));
        }

        step.title("WebSocket: echo, then the server restarts and the socket reconnects");
        Reqivo::WebSocketOptions options;
        options.reconnect.enabled = true;
        options.reconnect.initialDelay = 200ms;
        options.reconnect.maxDelay = 1s;
        options.reconnect.maxAttempts = 10;
        Reqivo::AsyncWebSocket socket(ws.url(), options);
        QObject::connect(
            &socket, &Reqivo::AsyncWebSocket::reconnecting, &socket, [](int attempt, int delayMs) {
                line(u"   ... reconnecting: attempt %1 in %2 ms"_s.arg(attempt).arg(delayMs));
            });
        co_await socket.open();
        co_await socket.sendText(u"hello"_s);
        const Reqivo::WebSocketMessage first = co_await socket.receive(5s);
        step.check(
            first.text() == u"hello"_s, u"sent \"hello\", echoed \"%1\""_s.arg(first.text()));
        ws.restart(600);
        co_await waitUntil(
            [&] { return socket.state() == Reqivo::AsyncWebSocket::State::Reconnecting; }, 5s);
        co_await socket.sendText(u"sent during the outage"_s);
        step.check(socket.queuedMessageCount() == 1,
            u"server restarted (connection lost, close code %1); one message queued"_s.arg(
                socket.closeCode()));
        const Reqivo::WebSocketMessage late = co_await socket.receive(10s);
        step.check(late.text() == u"sent during the outage"_s,
            u"reconnected; the queued message was delivered and echoed: \"%1\""_s.arg(late.text()));
        co_await socket.close();

        step.title("Server-Sent Events: a stream cut after two events resumes from Last-Event-ID");
        Reqivo::EventSourceOptions sse;
        sse.maxReconnectAttempts = 3;
        std::unique_ptr<Reqivo::AsyncEventSource> ticks(
            Reqivo::AsyncEventSource::fromSession(session, http.url(u"/events"_s), sse));
        QObject::connect(ticks.get(), &Reqivo::AsyncEventSource::reconnecting, ticks.get(),
            [&ticks](int attempt, int delayMs) {
                line(u"   ... stream cut; reconnecting (attempt %1 in %2 ms, Last-Event-ID %3)"_s
                         .arg(attempt)
                         .arg(delayMs)
                         .arg(ticks->lastEventId()));
            });
        QStringList ticksSeen;
        while (ticksSeen.size() < 4) {
            const std::optional<Reqivo::ServerSentEvent> tick = co_await ticks->next(10s);
            if (!tick)
                break;
            ticksSeen << u"%1 (id %2)"_s.arg(tick->data, tick->lastEventId);
        }
        ticks->close();
        step.check(ticksSeen.size() == 4 && ticksSeen.last() == u"tick 4 (id 4)"_s
                && ticks->attempt() == 1,
            u"received %1"_s.arg(ticksSeen.join(u", "_s)));
    } catch (const Reqivo::ReqivoError &e) {
        step.check(false, u"%1: %2"_s.arg(e.error().typeName(), e.message()));
    }

    line(step.failed ? u"\n%1 of %2 steps FAILED."_s.arg(step.failed).arg(step.number)
                     : u"\nAll %1 steps passed."_s.arg(step.number));
    co_return step.failed;
}

} // namespace Demo
