// Reqivo::Reply: one request for signal/slot code. Made by AsyncSession::send() (or the
// sendGet()/sendPost()/... shortcuts), parented to the session unless given another parent,
// and already running when you get it.
//
//   auto *reply = session.sendGet(QUrl(u"/users/1"_s));
//   connect(reply, &Reqivo::Reply::finished, this, [reply] {
//       if (reply->error())
//           qWarning() << reply->error();
//       else
//           qInfo() << reply->response().status();
//   });
//   connect(reply, &Reqivo::Reply::finished, reply, &QObject::deleteLater);
//
// finished() is emitted exactly once for every request that was not destroyed first, whatever
// its outcome (a response of any status, an error, a timeout, abort()), and it is the last
// signal: after metaDataChanged(), the progress signals, readyRead(), runningChanged() and, for
// a failure, errorOccurred(). So `finished → deleteLater` cleans up every Reply, as with
// QNetworkReply. The outcome is read from the Reply: response() for a response, error() for a
// failure (then response() is null). Signals always come from the event loop (never from
// inside send()). A Reply never throws. abort() or destroying the Reply stops the request and
// closes its connection; an aborted Reply reports a RequestError (detail "aborted"), a
// destroyed one emits nothing more.
//
// metaDataChanged() is emitted once, when the status and header fields are known: from then on
// response() tells them (status(), headers(), url()). In streaming mode (RequestOptions::stream)
// that is before any of the body is read, and the body is not kept in the Response:
// readyRead() announces new bytes, read them with readAll() or read(). At most readBufferSize()
// unread bytes wait in the Reply (1 MiB unless set; 0: no limit, as in Qt); while the buffer
// is full the socket is not read, and finished() comes only after the last byte was taken into
// the buffer, so read in readyRead(). A buffered Reply emits metaDataChanged() once the whole
// response is in (after the session's response hooks), right before finished().
#pragma once

#include <Reqivo/errors.h>
#include <Reqivo/requestoptions.h>
#include <Reqivo/response.h>

#include <QObject>

#include <memory>

namespace Reqivo {

class AsyncSession;
class ReplyPrivate;

//! One request for signal/slot code, as QNetworkReply is for QNetworkAccessManager.
//!
//! Made by AsyncSession::send() and its sendGet()/sendPost()/... shortcuts, parented to the
//! session unless given another parent, and already running. finished() is emitted exactly
//! once, last, whatever the outcome, so `finished → deleteLater` cleans up every Reply; the
//! outcome is read from response() and error(). A Reply never throws; abort() or deleting it
//! stops the request. In streaming mode the body is read from the Reply (readyRead(),
//! readAll(), read()), at most readBufferSize() bytes waiting in it. docs/signals.md has the
//! order of the signals.
class REQIVO_EXPORT Reply : public QObject
{
    Q_OBJECT
    //! True until the request ended (isRunning()).
    Q_PROPERTY(bool running READ isRunning NOTIFY runningChanged)
    //! The request's URL (url()).
    Q_PROPERTY(QUrl url READ url CONSTANT)
public:
    //! Stops the request if it still runs (as abort(), but nothing more is emitted).
    ~Reply() override;

    //! The request's method, e.g. "GET".
    QByteArray method() const;
    //! The URL given to send() (the final one, after redirects, is response().url()).
    QUrl url() const;
    //! True until the request ended; runningChanged() tells when that changes.
    bool isRunning() const;
    //! Not isRunning().
    bool isFinished() const { return !isRunning(); }
    //! The response: status and header fields from metaDataChanged() on, everything (the body
    //! of a buffered reply, history()) once finished() was emitted. Null before
    //! metaDataChanged() and after a failure. A plain value that holds no connection: in
    //! streaming mode its body stays empty (read the body from the Reply).
    Response response() const;
    //! Why the request failed, from errorOccurred() on; null while running and on success (an
    //! HTTP error status such as 404 is a response, not an error).
    Error error() const;

    //! Streaming mode: the body bytes received and not read yet.
    QByteArray readAll();
    //! Streaming mode: at most \a maxBytes of the bytes received and not read yet, oldest first.
    QByteArray read(qint64 maxBytes);
    //! Streaming mode: how many received bytes wait to be read.
    qint64 bytesAvailable() const;

    //! The read buffer of a streaming Reply unless setReadBufferSize() says otherwise: a slow
    //! reader holds the server back instead of holding the whole body in memory.
    static constexpr qint64 defaultReadBufferSize = 1024 * 1024;
    //! Streaming mode: the most unread bytes the Reply holds, as
    //! QNetworkReply::setReadBufferSize(); 0: no limit (a negative size is taken as 0). When the
    //! buffer is full the Reply stops reading the response, so the socket is not read either,
    //! and it reads on when readAll() or read() make room. Set it right after send(): the
    //! request starts from the event loop. No effect on buffered replies.
    void setReadBufferSize(qint64 size);
    //! The read buffer's size (defaultReadBufferSize unless set; 0: no limit).
    qint64 readBufferSize() const;

public Q_SLOTS:
    //! Stops the request in whatever phase it is and closes its connection; the Reply then
    //! reports a RequestError (detail "aborted") and finished(). Nothing happens once finished.
    void abort();

Q_SIGNALS:
    //! The request ended, however it ended; the last signal (see the header comment).
    void finished();
    //! The status and header fields arrived; response() tells them. Once, before the body in
    //! streaming mode; never after a failure that came before the head.
    void metaDataChanged();
    //! The request failed; error() tells the same. finished() follows.
    void errorOccurred(const Reqivo::Error &error);
    //! \a received body bytes so far, of \a total (-1 when the size is not known).
    void downloadProgress(qint64 received, qint64 total);
    //! \a sent body bytes so far, of \a total (-1 when the size is not known).
    void uploadProgress(qint64 sent, qint64 total);
    //! Streaming mode: new body bytes can be read.
    void readyRead();
    //! isRunning() changed (it does once, when the request ends, before finished()).
    void runningChanged();

private:
    friend class AsyncSession;
    Reply(AsyncSession *session, QByteArray method, QUrl url, RequestOptions opts,
          QObject *parent);
    std::unique_ptr<ReplyPrivate> const d;
};

} // namespace Reqivo
