// reqivo-widgets: concurrent downloads with progress bars and Cancel buttons (Qt Widgets).
//
//   reqivo-widgets [URL...]     start with these downloads; type more into the window
//   reqivo-widgets --self-test  download from a server embedded in the app (127.0.0.1), cancel
//                               one download midway, and exit 0 when every row ended as it
//                               should (1 otherwise, or after 20 s)
#include "downloadswindow.h"
#include "loopbackserver.h"

#include <QApplication>
#include <QTimer>

#include <cstdio>

namespace {

// Three downloads that must finish, and a large one that the test cancels once it started.
int selfTest(QApplication &app, DownloadsWindow &window, Examples::LoopbackServer &server)
{
    constexpr qint64 sizes[] = {2 << 20, 4 << 20, 8 << 20};
    for (qint64 size : sizes)
        window.addDownload(server.url(QStringLiteral("/bytes/%1").arg(size)));
    const int big
        = window.addDownload(server.url(QStringLiteral("/bytes/%1").arg(qint64(1) << 30)));
    window.onFirstProgress = [&window, big](int row) {
        if (row == big)
            window.cancel(big);
    };
    window.onDownloadEnded = [&] {
        for (int i = 0; i < window.rowCount(); ++i) {
            if (window.outcome(i) == DownloadsWindow::Outcome::Running)
                return;
        }
        bool ok = window.outcome(big) == DownloadsWindow::Outcome::Cancelled;
        for (int i = 0; i < 3; ++i) {
            ok = ok && window.outcome(i) == DownloadsWindow::Outcome::Finished
                && window.bytesReceived(i) == sizes[i];
            std::printf("download %d: %lld bytes\n", i + 1, window.bytesReceived(i));
        }
        std::printf("download 4: %s\n",
            window.outcome(big) == DownloadsWindow::Outcome::Cancelled ? "cancelled"
                                                                       : "not cancelled");
        std::printf("self-test %s\n", ok ? "passed" : "FAILED");
        app.exit(ok ? 0 : 1);
    };
    QTimer::singleShot(20'000, &app, [&app] {
        std::printf("self-test FAILED: downloads still running after 20 s\n");
        app.exit(1);
    });
    return app.exec();
}

} // namespace

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    DownloadsWindow window;
    window.show();

    const QStringList args = app.arguments().mid(1);
    if (args.contains(QStringLiteral("--self-test"))) {
        Examples::LoopbackServer server;
        if (!server.listen())
            return 1;
        return selfTest(app, window, server);
    }
    for (const QString &arg : args)
        window.addDownload(QUrl::fromUserInput(arg));
    return app.exec();
}
