// Reply: a QObject face on AsyncSessionPrivate::run(). The request coroutine starts from the
// event loop (so every connection made after send() returned sees the signals) and owns only
// shared state; it touches the Reply solely while the shared `alive` flag says it exists.
#include <Reqivo/reply.h>

#include "asyncsession_p.h"

#include <QMetaObject>

namespace Reqivo {

class ReplyPrivate
{
public:
    Reply *q = nullptr;
    std::shared_ptr<SessionCore> core;
    QByteArray method;
    QUrl url;
    RequestOptions opts;
    std::shared_ptr<Client::CancelToken> cancel = std::make_shared<Client::CancelToken>();
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
    Response response;
    Error error;
    QByteArray buffer;
    bool running = true;
    QCoro::Task<void> task;

    QCoro::Task<void> start();
    void finish()
    {
        running = false;
        Q_EMIT q->runningChanged();
    }
};

QCoro::Task<void> ReplyPrivate::start()
{
    // Everything the coroutine needs after a suspension is copied into its frame.
    const std::shared_ptr<bool> isAlive = alive;
    Reply *const reply = q;
    ReplyPrivate *const self = this;
    AsyncSessionPrivate::CallControl control;
    control.cancel = cancel;
    control.uploadProgress = [isAlive, reply](qint64 done, qint64 total) {
        if (*isAlive)
            Q_EMIT reply->uploadProgress(done, total);
    };
    control.downloadProgress = [isAlive, reply](qint64 done, qint64 total) {
        if (*isAlive)
            Q_EMIT reply->downloadProgress(done, total);
    };
    try {
        Response r = co_await AsyncSessionPrivate::run(core, method, url, opts, std::move(control));
        if (!*isAlive)
            co_return;
        if (r.isStreaming()) {
            while (true) {
                const QByteArray piece = co_await r.readChunk();
                if (!*isAlive)
                    co_return;
                if (piece.isEmpty())
                    break;
                self->buffer.append(piece);
                Q_EMIT reply->readyRead();
                if (!*isAlive)
                    co_return;
            }
        }
        self->response = r;
        self->finish();
        if (*isAlive)
            Q_EMIT reply->finished(r);
    } catch (...) {
        if (!*isAlive)
            co_return;
        self->error = Error::fromException(std::current_exception());
        self->finish();
        if (*isAlive)
            Q_EMIT reply->errorOccurred(self->error);
    }
}

Reply::Reply(AsyncSession *session, QByteArray method, QUrl url, RequestOptions opts,
             QObject *parent)
    : QObject(parent ? parent : session)
    , d(new ReplyPrivate)
{
    static const bool registered = [] {
        qRegisterMetaType<Reqivo::Response>();
        qRegisterMetaType<Reqivo::Error>();
        qRegisterMetaType<Reqivo::Headers>();
        return true;
    }();
    Q_UNUSED(registered);
    d->q = this;
    d->core = AsyncSessionPrivate::coreOf(session);
    d->method = std::move(method);
    d->url = std::move(url);
    d->opts = std::move(opts);
    QMetaObject::invokeMethod(
            this, [this] { d->task = d->start(); }, Qt::QueuedConnection);
}

Reply::~Reply()
{
    *d->alive = false;
    if (d->running)
        d->cancel->cancel();
}

QByteArray Reply::method() const { return d->method; }
QUrl Reply::url() const { return d->url; }
bool Reply::isRunning() const { return d->running; }
Response Reply::response() const { return d->response; }
Error Reply::error() const { return d->error; }
QByteArray Reply::readAll() { return std::exchange(d->buffer, QByteArray()); }
qint64 Reply::bytesAvailable() const { return d->buffer.size(); }

void Reply::abort()
{
    if (d->running)
        d->cancel->cancel();
}

// --- AsyncSession's signal/slot entry points ------------------------------------------------

Reply *AsyncSession::send(QByteArray method, QUrl url, RequestOptions opts, QObject *parent)
{
    return new Reply(this, std::move(method), std::move(url), std::move(opts), parent);
}
Reply *AsyncSession::sendGet(QUrl url, RequestOptions opts)
{
    return send(QByteArrayLiteral("GET"), std::move(url), std::move(opts));
}
Reply *AsyncSession::sendHead(QUrl url, RequestOptions opts)
{
    return send(QByteArrayLiteral("HEAD"), std::move(url), std::move(opts));
}
Reply *AsyncSession::sendDelete(QUrl url, RequestOptions opts)
{
    return send(QByteArrayLiteral("DELETE"), std::move(url), std::move(opts));
}
Reply *AsyncSession::sendPost(QUrl url, Body body, RequestOptions opts)
{
    opts.body = std::move(body);
    return send(QByteArrayLiteral("POST"), std::move(url), std::move(opts));
}
Reply *AsyncSession::sendPut(QUrl url, Body body, RequestOptions opts)
{
    opts.body = std::move(body);
    return send(QByteArrayLiteral("PUT"), std::move(url), std::move(opts));
}
Reply *AsyncSession::sendPatch(QUrl url, Body body, RequestOptions opts)
{
    opts.body = std::move(body);
    return send(QByteArrayLiteral("PATCH"), std::move(url), std::move(opts));
}

void AsyncSession::request(QByteArray method, QUrl url, RequestOptions opts,
                           const QObject *context, Callback callback)
{
    Reply *reply = send(std::move(method), std::move(url), std::move(opts));
    auto shared = std::make_shared<Callback>(std::move(callback));
    // These may run queued in the context's thread after the Reply is gone: they get copies of
    // the results and never touch the Reply, which cleans itself up (runningChanged below).
    connect(reply, &Reply::finished, context,
            [shared](const Response &r) { (*shared)(r, Error()); });
    connect(reply, &Reply::errorOccurred, context,
            [shared](const Error &e) { (*shared)(Response(), e); });
    // Without the context the callback is never called: the reply cleans itself up.
    connect(context, &QObject::destroyed, reply, &QObject::deleteLater);
    connect(reply, &Reply::runningChanged, reply, [reply] {
        if (!reply->isRunning())
            reply->deleteLater();
    });
}

} // namespace Reqivo
