// reqivo-demo: a short tour of Reqivo against servers embedded in the demo itself.
//
// An HTTP server (examples/common/loopbackserver.h) and a WebSocket echo server
// (examples/common/wsechoserver.h) listen on 127.0.0.1 in this process, so the tour needs no
// network. Each step of tour.cpp prints what it did and checks it: the exit status is the
// number of failed steps (0 when all passed), so the demo doubles as a smoke test.
#include "loopbackserver.h"
#include "tour.h"
#include "wsechoserver.h"

#include <QCoreApplication>
#include <QTimer>

#include <cstdio>
#include <cstdlib>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);

    Examples::LoopbackServer http;
    Examples::WsEchoServer ws;
    if (!http.listen() || !ws.listen()) {
        std::fprintf(stderr, "reqivo-demo: cannot listen on 127.0.0.1\n");
        return 1;
    }

    // A step that hangs must not hang a test run.
    constexpr int watchdogMs = 60'000;
    QTimer::singleShot(watchdogMs, &app, [] {
        std::fprintf(stderr, "\nreqivo-demo: no end after %d s, giving up\n", watchdogMs / 1000);
        std::fflush(stdout);
        std::_Exit(2);
    });

    int failed = -1;
    const QCoro::Task<> tour = [](Examples::LoopbackServer &http, Examples::WsEchoServer &ws,
                                   int &failed) -> QCoro::Task<> {
        failed = co_await Demo::runTour(http, ws);
        QCoreApplication::exit(0);
    }(http, ws, failed);
    app.exec();
    return failed == 0 ? 0 : 1;
}
