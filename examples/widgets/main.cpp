// reqivo-widgets: concurrent downloads with progress bars, Pause/Resume and Cancel buttons (Qt
// Widgets), resumable through Reqivo::Download.
//
//   reqivo-widgets [URL...]     start with these downloads (into the user's download
//                               directory); type more into the window
//   reqivo-widgets --self-test  download from a server embedded in the app (127.0.0.1) into a
//                               temporary directory, pause one download midway and resume it,
//                               cancel another, and exit 0 when every row ended as it should
//                               and every file holds the right bytes (1 otherwise, or after 20 s)
#include "downloadswindow.h"
#include "loopbackserver.h"

#include <QApplication>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTimer>

#include <Reqivo/Download>

#include <cstdio>

namespace {

// True when \a path holds exactly the \a size bytes of /bytes/<size>.
bool holdsServedBytes(const QString &path, qint64 size)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly) || file.size() != size)
        return false;
    qint64 offset = 0;
    while (!file.atEnd()) {
        const QByteArray piece = file.read(1 << 20);
        for (qsizetype i = 0; i < piece.size(); ++i) {
            if (piece[i] != Examples::LoopbackServer::byteAt(offset + i))
                return false;
        }
        offset += piece.size();
    }
    return offset == size;
}

// Three downloads that must finish, one of them paused on its first progress and resumed, and
// a large one that the test cancels once it started.
int selfTest(QApplication &app, Examples::LoopbackServer &server, const QString &directory)
{
    DownloadsWindow window(directory);
    window.show();
    constexpr qint64 sizes[] = {2 << 20, 4 << 20, 8 << 20};
    for (qint64 size : sizes)
        window.addDownload(server.url(QStringLiteral("/bytes/%1").arg(size)));
    const int paused = 2;
    const int big
        = window.addDownload(server.url(QStringLiteral("/bytes/%1").arg(qint64(1) << 30)));
    bool pausedOnce = false;
    bool partKept = false;
    window.onFirstProgress = [&window, big, &pausedOnce](int row) {
        if (row == big)
            window.cancel(big);
        if (row == paused && !pausedOnce) {
            pausedOnce = true;
            window.togglePause(paused); // Pause
        }
    };
    window.onPaused = [&window, &partKept, limit = sizes[paused]](int row) {
        // While paused the bytes are in the side file, never in the file itself.
        const QString file = window.filePath(row);
        partKept = !QFileInfo::exists(file)
            && QFileInfo(file + QStringLiteral(".part")).size() == window.bytesReceived(row)
            && window.bytesReceived(row) > 0 && window.bytesReceived(row) < limit;
        QTimer::singleShot(0, &window, [&window, row] { window.togglePause(row); }); // Resume
    };
    window.onDownloadEnded = [&] {
        for (int i = 0; i < window.rowCount(); ++i) {
            const DownloadsWindow::Outcome o = window.outcome(i);
            if (o == DownloadsWindow::Outcome::Running || o == DownloadsWindow::Outcome::Paused)
                return;
        }
        bool ok = window.outcome(big) == DownloadsWindow::Outcome::Cancelled
            && !QFileInfo::exists(window.filePath(big) + QStringLiteral(".part"));
        for (int i = 0; i < 3; ++i) {
            const bool right = window.outcome(i) == DownloadsWindow::Outcome::Finished
                && holdsServedBytes(window.filePath(i), sizes[i]);
            ok = ok && right;
            std::printf("download %d: %lld bytes%s\n", i + 1, window.bytesReceived(i),
                right ? "" : ", WRONG");
        }
        const Reqivo::DownloadResult resumed = window.download(paused)->result();
        const bool resumedRight = pausedOnce && partKept && resumed.resumed
            && resumed.status() == 206 && resumed.resumedFrom > 0
            && resumed.bytesReceived == sizes[paused] - resumed.resumedFrom;
        ok = ok && resumedRight;
        std::printf("download 3: paused at %lld bytes and resumed: %s\n", resumed.resumedFrom,
            resumedRight ? "yes" : "NO");
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
    const QStringList args = app.arguments().mid(1);
    if (args.contains(QStringLiteral("--self-test"))) {
        Examples::LoopbackServer server;
        QTemporaryDir directory;
        if (!server.listen() || !directory.isValid())
            return 1;
        return selfTest(app, server, directory.path());
    }
    DownloadsWindow window;
    window.show();
    for (const QString &arg : args)
        window.addDownload(QUrl::fromUserInput(arg));
    return app.exec();
}
