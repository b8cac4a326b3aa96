// Download: a QObject face on the download engine (download.cpp), with pause() and resume(),
// and the callback form built on it.
//
// Each run of the engine starts from the event loop and owns only shared state; it touches the
// Download solely while the shared `alive` flag says it exists. pause() and abort() cancel the
// request in flight through the run's control; the run then ends with the "aborted"
// RequestError, and what follows (Paused, or Aborted with the side file removed) is decided
// where the run ends, never inside the call that stopped it.
#include <Reqivo/asyncsession.h>
#include <Reqivo/download.h>

#include "asyncsession_p.h"
#include "download_p.h"

#include <QFile>
#include <QMetaObject>

namespace Reqivo {

class DownloadPrivate
{
public:
    Download *q = nullptr;
    std::shared_ptr<SessionCore> core;
    QUrl url;
    QString filePath;
    DownloadOptions options;
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
    std::shared_ptr<Client::DownloadControl> control; //!< the run's, while one runs
    Download::State state = Download::State::Running;
    qint64 received = 0;
    qint64 total = -1;
    DownloadResult result;
    Error error;
    bool pausing = false;
    bool aborting = false;
    bool resumeAfterPause = false;
    QCoro::Task<void> task;

    //! Starts a run from the event loop.
    void startRun()
    {
        control = std::make_shared<Client::DownloadControl>();
        const std::shared_ptr<bool> isAlive = alive;
        QMetaObject::invokeMethod(
            q,
            [this, isAlive] {
                if (*isAlive)
                    task = run();
            },
            Qt::QueuedConnection);
    }
    QCoro::Task<void> run();
    void setState(Download::State s)
    {
        if (state == s)
            return;
        state = s;
        Q_EMIT q->stateChanged(s);
    }
    void stopRun()
    {
        if (!control)
            return;
        control->stopped = true;
        if (control->token)
            control->token->cancel();
    }
    void removeSideFiles()
    {
        QFile::remove(Client::partPath(filePath));
        QFile::remove(Client::metaPath(filePath));
    }
    Error abortedError() const
    {
        return Error(Error::Kind::Request, QStringLiteral("the download was aborted"), url,
            QStringLiteral("aborted"));
    }
    //! Failed or Aborted: the error, then finished(). A slot may delete the Download.
    void fail(Download::State s, const Error &e, const std::shared_ptr<bool> &isAlive)
    {
        error = e;
        setState(s);
        if (*isAlive)
            Q_EMIT q->errorOccurred(error);
        if (*isAlive)
            Q_EMIT q->finished();
    }
};

QCoro::Task<void> DownloadPrivate::run()
{
    // Everything the coroutine needs after a suspension is copied into its frame.
    const std::shared_ptr<bool> isAlive = alive;
    const std::shared_ptr<Client::DownloadControl> runControl = control;
    DownloadPrivate *const self = this;
    Download *const download = q;
    runControl->progress = [isAlive, self, download](qint64 received, qint64 total) {
        if (!*isAlive)
            return;
        self->received = received;
        self->total = total;
        Q_EMIT download->downloadProgress(received, total);
    };
    std::exception_ptr failure;
    DownloadResult outcome;
    try {
        outcome = co_await Client::runDownload(core, url, filePath, options, runControl);
    } catch (...) {
        failure = std::current_exception();
    }
    if (!*isAlive)
        co_return;
    self->control.reset();
    if (self->aborting) {
        self->removeSideFiles();
        self->fail(Download::State::Aborted, self->abortedError(), isAlive);
        co_return;
    }
    if (self->pausing && failure) {
        self->pausing = false;
        self->setState(Download::State::Paused);
        if (*isAlive && std::exchange(self->resumeAfterPause, false)) {
            self->setState(Download::State::Running);
            self->startRun();
        }
        co_return;
    }
    self->pausing = false;
    self->resumeAfterPause = false;
    if (failure) {
        self->fail(Download::State::Failed, Error::fromException(failure), isAlive);
        co_return;
    }
    self->result = outcome;
    self->error = Error();
    self->setState(Download::State::Finished);
    if (*isAlive)
        Q_EMIT download->finished();
}

Download::Download(
    AsyncSession *session, QUrl url, QString filePath, DownloadOptions options, QObject *parent)
    : QObject(parent ? parent : session)
    , d(new DownloadPrivate)
{
    static const bool registered = [] {
        qRegisterMetaType<Reqivo::Error>();
        qRegisterMetaType<Reqivo::DownloadResult>();
        qRegisterMetaType<Reqivo::Download::State>();
        return true;
    }();
    Q_UNUSED(registered);
    d->q = this;
    d->core = AsyncSessionPrivate::coreOf(session);
    d->url = std::move(url);
    d->filePath = std::move(filePath);
    d->options = std::move(options);
    d->startRun();
}

Download::~Download()
{
    *d->alive = false;
    d->stopRun();
}

QUrl Download::url() const
{
    return d->url;
}
QString Download::filePath() const
{
    return d->filePath;
}
Download::State Download::state() const
{
    return d->state;
}
qint64 Download::bytesReceived() const
{
    return d->received;
}
qint64 Download::totalSize() const
{
    return d->total;
}
DownloadResult Download::result() const
{
    return d->result;
}
Error Download::error() const
{
    return d->error;
}

void Download::pause()
{
    if (d->state != State::Running || d->pausing || d->aborting)
        return;
    d->pausing = true;
    d->stopRun();
}

void Download::resume()
{
    if (d->state == State::Running) {
        if (d->pausing)
            d->resumeAfterPause = true; // once the run stopping now has ended
        return;
    }
    if (d->state != State::Paused && d->state != State::Failed)
        return;
    d->options.resume = true; // from the side file this download left
    d->error = Error();
    d->setState(State::Running);
    d->startRun();
}

void Download::abort()
{
    if (d->state == State::Finished || d->state == State::Aborted || d->aborting)
        return;
    d->aborting = true;
    if (d->control) {
        d->stopRun(); // the run ends, then reports Aborted
        return;
    }
    // Paused or Failed: nothing runs; reported from the event loop, as a run would.
    const std::shared_ptr<bool> isAlive = d->alive;
    QMetaObject::invokeMethod(
        this,
        [this, isAlive] {
            d->removeSideFiles();
            d->fail(State::Aborted, d->abortedError(), isAlive);
        },
        Qt::QueuedConnection);
}

// --- AsyncSession's signal/slot and callback entry points ----------------------------------------

Download *AsyncSession::startDownload(
    QUrl url, QString filePath, DownloadOptions opts, QObject *parent)
{
    return new Download(this, std::move(url), std::move(filePath), std::move(opts), parent);
}

void AsyncSession::download(QUrl url, QString filePath, DownloadOptions opts,
    const QObject *context, DownloadCallback callback)
{
    if (!context) {
        // As request() with a callback: refused once, from the event loop, nothing sent.
        if (callback) {
            const Error error(Error::Kind::Request,
                QStringLiteral("AsyncSession::download() needs a context object: "
                               "the callback runs only while it lives"),
                url, QStringLiteral("no context"));
            QMetaObject::invokeMethod(
                this,
                [callback = std::move(callback), error] { callback(DownloadResult(), error); },
                Qt::QueuedConnection);
        }
        return;
    }
    Download *download = startDownload(std::move(url), std::move(filePath), std::move(opts));
    auto outcome = std::make_shared<std::pair<DownloadResult, Error>>();
    connect(download, &Download::finished, download, [download, outcome] {
        *outcome = {download->error() ? DownloadResult() : download->result(), download->error()};
        download->deleteLater();
    });
    connect(download, &Download::finished, context, [outcome, callback = std::move(callback)] {
        if (callback)
            callback(outcome->first, outcome->second);
    });
    connect(context, &QObject::destroyed, download, &QObject::deleteLater);
}

} // namespace Reqivo
