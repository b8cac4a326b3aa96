// Reqivo downloads: a GET whose body goes to a file, resumable.
//
//   Reqivo::DownloadResult r = co_await session.download(url, u"/tmp/file.iso"_s);
//   if (r.isComplete()) ...           // the file holds the whole resource
//
// While a download is incomplete its bytes live in a side file next to the target, FILE.part,
// and what identifies them (the URL, the validator: ETag and Last-Modified, the total size) in
// a second one, FILE.part.meta. FILE itself is replaced (renamed over, atomically) only when
// the whole resource is in and its length matches what the server announced: FILE is never
// partial or corrupt. A later download of the same URL to the same FILE resumes: Range:
// bytes=N- with If-Range (a strong ETag, else Last-Modified). A 206 whose Content-Range does
// not start at N (or disagrees with the total) is an InvalidResponseError that leaves the side
// file intact; a 200 (the server ignored Range, or If-Range failed because the resource
// changed) restarts from zero; a 416 whose Content-Range says "bytes */N" with N the bytes in
// hand completes the download. See docs/downloads.md.
#pragma once

#include <Reqivo/errors.h>
#include <Reqivo/requestoptions.h>
#include <Reqivo/response.h>

#include <QObject>
#include <QString>
#include <QUrl>

#include <functional>
#include <memory>

namespace Reqivo {

class AsyncSession;
class DownloadPrivate;

//! The options of one download (AsyncSession::download()).
//!
//! request holds the options of its requests (headers, query, timeout, limits, credentials,
//! retry policy, HTTP version, cancelWith()); its body, stream and decompress are not used: a
//! download sends no body, always streams, and never asks for or decodes a content coding (the
//! file holds the bytes as the server sent them, which is what Range counts).
struct DownloadOptions
{
    //! The options of the download's requests (see above).
    RequestOptions request;
    //! Continue from a side file an earlier run left for the same URL (true by default); false
    //! starts from zero and overwrites it.
    bool resume = true;
    //! A FILE that exists without a side file (written by another tool, or an earlier run of
    //! something else) is taken as the first part of the resource: asked for from its size on,
    //! without If-Range, as `curl -C -` does. False (the default): FILE is replaced by a fresh
    //! download.
    bool resumeExistingFile = false;

    //! Sets request.
    DownloadOptions &withRequestOptions(RequestOptions options)
    {
        request = std::move(options);
        return *this;
    }
    //! Sets resume.
    DownloadOptions &withResume(bool on = true)
    {
        resume = on;
        return *this;
    }
    //! Sets resumeExistingFile.
    DownloadOptions &withResumeExistingFile(bool on = true)
    {
        resumeExistingFile = on;
        return *this;
    }
};

//! What a download came to (AsyncSession::download()).
struct REQIVO_EXPORT DownloadResult
{
    //! The last response: its status, fields (ETag, Content-Range, ...) and URL. Its body is
    //! empty, except for a status that did not deliver the resource (404, 500, ...): then it
    //! holds the first MiB of that body, for a message.
    Response response;
    //! The file asked for.
    QString filePath;
    //! Body bytes received and written in this run (not counting what an earlier run left).
    qint64 bytesReceived = 0;
    //! Where this run started: the bytes already in hand (0: from the beginning).
    qint64 resumedFrom = 0;
    //! The resource's size when known (Content-Length, Content-Range), else -1.
    qint64 totalSize = -1;
    //! True when this run continued earlier data: a 206 from resumedFrom, or a 416 saying the
    //! data in hand was already the whole resource.
    bool resumed = false;
    //! True when filePath now holds the whole resource (a 2xx was written to its end and
    //! verified, or a 416 confirmed the file complete). False for any other status, whose
    //! response tells why; filePath and the side file are then as they were.
    bool complete = false;

    //! response.status().
    int status() const noexcept { return response.status(); }
    //! complete.
    bool isComplete() const noexcept { return complete; }
};

//! A download for signal/slot code, with pause() and resume(): made by
//! AsyncSession::startDownload(), parented to the session unless given another parent, and
//! already running (it starts from the event loop).
//!
//! finished() is emitted once, last, when the download completed, failed or was aborted, never
//! on pause(): `finished → deleteLater` cleans up. result() and error() tell the outcome.
//! pause() stops the transfer and keeps the side file (the state becomes Paused); resume()
//! continues from it with Range. abort() stops it and removes the side file.
class REQIVO_EXPORT Download : public QObject
{
    Q_OBJECT
    //! What the download is doing (state()).
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    //! Bytes of the resource in hand, an earlier run's included (bytesReceived()).
    Q_PROPERTY(qint64 bytesReceived READ bytesReceived NOTIFY downloadProgress)
    //! The resource's size, -1 until known (totalSize()).
    Q_PROPERTY(qint64 totalSize READ totalSize NOTIFY downloadProgress)
public:
    //! Where a download is.
    enum class State {
        Running, //!< Transferring (or about to).
        Paused, //!< Stopped by pause(): the side file is kept; resume() continues.
        Finished, //!< Ended with a response: result() (isComplete() for the whole resource).
        Failed, //!< Ended with an error: error(); the side file is kept (resume() retries).
        Aborted, //!< Stopped by abort(): the side file was removed.
    };
    Q_ENUM(State)

    //! Stops a running transfer (as pause(), without signals).
    ~Download() override;

    //! The URL given to startDownload().
    QUrl url() const;
    //! The file given to startDownload().
    QString filePath() const;
    //! What the download is doing.
    State state() const;
    //! True while Running.
    bool isRunning() const { return state() == State::Running; }
    //! Bytes of the resource in hand, an earlier run's included: what downloadProgress() said
    //! last.
    qint64 bytesReceived() const;
    //! The resource's size, -1 until known.
    qint64 totalSize() const;
    //! The outcome once Finished (see DownloadResult); a default one before.
    DownloadResult result() const;
    //! Why it Failed (or "aborted" for Aborted); null otherwise.
    Error error() const;

public Q_SLOTS:
    //! Stops the transfer, keeping the side file; the state becomes Paused (stateChanged()).
    //! Nothing happens unless Running.
    void pause();
    //! Continues a Paused or Failed download from its side file (Range, If-Range); the state
    //! becomes Running. Nothing happens in the other states.
    void resume();
    //! Stops the download and removes its side file; errorOccurred() (a RequestError, detail
    //! "aborted") and finished() follow. Nothing happens once Finished or Aborted.
    void abort();

Q_SIGNALS:
    //! \a received bytes of the resource in hand (an earlier run's included) of \a total (-1
    //! when not known).
    void downloadProgress(qint64 received, qint64 total);
    //! state() changed to \a state.
    void stateChanged(Reqivo::Download::State state);
    //! The download failed, or was aborted; error() tells the same. finished() follows. (A
    //! failure leaves the state Failed; resume() may try again.)
    void errorOccurred(const Reqivo::Error &error);
    //! The download ended: Finished, Failed or Aborted. The last signal of a run.
    void finished();

private:
    friend class AsyncSession;
    Download(AsyncSession *session, QUrl url, QString filePath, DownloadOptions options,
        QObject *parent);
    std::unique_ptr<DownloadPrivate> const d;
};

//! What the callback form of AsyncSession::download() calls: the result and a null Error, or
//! a default result and the error.
using DownloadCallback = std::function<void(const DownloadResult &, const Error &)>;

} // namespace Reqivo

Q_DECLARE_METATYPE(Reqivo::DownloadResult)
