// Reqivo::Reply: one request for signal/slot code. Made by AsyncSession::send() (or the
// sendGet()/sendPost()/... shortcuts), parented to the session unless given another parent,
// and already running when you get it.
//
//   auto *reply = session.sendGet(QUrl(u"/users/1"_s));
//   connect(reply, &Reqivo::Reply::finished, this, [](const Reqivo::Response &r) { ... });
//   connect(reply, &Reqivo::Reply::errorOccurred, this, [](const Reqivo::Error &e) { ... });
//
// Exactly one of finished() or errorOccurred() is emitted, always from the event loop (never
// from inside send()). A Reply never throws. abort() or destroying the Reply stops the request
// and closes its connection; an aborted Reply emits errorOccurred() with a RequestError, unless
// it was destroyed. In streaming mode (RequestOptions::stream) the body is not kept in the
// Response: readyRead() announces new bytes, read them with readAll() or read(). At most
// readBufferSize() unread bytes wait in the Reply (1 MiB unless set; 0: no limit, as in Qt);
// while the buffer is full the socket is not read, and finished() comes only after the last
// byte was taken into the buffer, so read in readyRead().
#pragma once

#include <Reqivo/errors.h>
#include <Reqivo/requestoptions.h>
#include <Reqivo/response.h>

#include <QObject>

#include <memory>

namespace Reqivo {

class AsyncSession;
class ReplyPrivate;

class REQIVO_EXPORT Reply : public QObject
{
    Q_OBJECT
    Q_PROPERTY(bool running READ isRunning NOTIFY runningChanged)
    Q_PROPERTY(QUrl url READ url CONSTANT)
public:
    ~Reply() override;

    QByteArray method() const;
    QUrl url() const;
    bool isRunning() const;
    bool isFinished() const { return !isRunning(); }
    //! The response, once finished() was emitted.
    Response response() const;
    //! The error, once errorOccurred() was emitted; null otherwise.
    Error error() const;

    //! Streaming mode: the body bytes received and not read yet.
    QByteArray readAll();
    //! Streaming mode: at most \a maxBytes of the bytes received and not read yet, oldest first.
    QByteArray read(qint64 maxBytes);
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
    qint64 readBufferSize() const;

public Q_SLOTS:
    void abort();

Q_SIGNALS:
    void finished(const Reqivo::Response &response);
    void errorOccurred(const Reqivo::Error &error);
    void downloadProgress(qint64 received, qint64 total);
    void uploadProgress(qint64 sent, qint64 total);
    void readyRead();
    void runningChanged();

private:
    friend class AsyncSession;
    Reply(AsyncSession *session, QByteArray method, QUrl url, RequestOptions opts,
          QObject *parent);
    std::unique_ptr<ReplyPrivate> const d;
};

} // namespace Reqivo
