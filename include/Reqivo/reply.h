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
// Response: readyRead() announces new bytes, read them with readAll().
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

    //! Streaming mode: the body bytes received since the last call.
    QByteArray readAll();
    qint64 bytesAvailable() const;

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
