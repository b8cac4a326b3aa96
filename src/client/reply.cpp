// Reply: a QObject face on AsyncSessionPrivate::run(). The request coroutine starts from the
// event loop (so every connection made after send() returned sees the signals) and owns only
// shared state; it touches the Reply solely while the shared `alive` flag says it exists.
//
// In streaming mode the coroutine pulls the body into the read buffer, never more than
// readBufferSize(): when the buffer is full it waits (BufferRoom) and the socket is not read,
// so TCP holds the peer back. Reading, a larger limit, abort() and destruction wake it, always
// from the event loop, never inside the call that woke it.
#include <Reqivo/reply.h>

#include "asyncsession_p.h"

#include <QMetaObject>
#include <QTimer>

#include <coroutine>

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
    qint64 readBufferSize = Reply::defaultReadBufferSize;
    std::coroutine_handle<> bufferWaiter; // the streaming loop, while the buffer is full
    bool running = true;
    bool metaDataKnown = false;
    QCoro::Task<void> task;

    QCoro::Task<void> start();

    bool bufferFull() const { return readBufferSize > 0 && buffer.size() >= readBufferSize; }
    //! What the next read may add (0: anything).
    qint64 room() const { return readBufferSize > 0 ? readBufferSize - buffer.size() : 0; }
    void wakeReader()
    {
        if (const std::coroutine_handle<> waiter = std::exchange(bufferWaiter, nullptr))
            QTimer::singleShot(0, [waiter] { waiter.resume(); });
    }

    //! Suspends the streaming loop until wakeReader().
    struct BufferRoom
    {
        ReplyPrivate *d;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> waiter) noexcept { d->bufferWaiter = waiter; }
        void await_resume() const noexcept { }
    };
    //! The request ended: the outcome is stored first, so that every slot can read it, then
    //! runningChanged(), errorOccurred() for a failure, and finished() last. A slot may delete
    //! the Reply: what it has not emitted yet is then dropped.
    void finish(const std::shared_ptr<bool> &isAlive)
    {
        running = false;
        Q_EMIT q->runningChanged();
        if (*isAlive && error)
            Q_EMIT q->errorOccurred(error);
        if (*isAlive)
            Q_EMIT q->finished();
    }
    //! What response() hands out: a value that holds no connection. In streaming mode the body
    //! is read from the Reply, never from the Response.
    static Response detached(Response r)
    {
        r.setBodyStream(nullptr);
        return r;
    }
    void announceMetaData(const Response &head)
    {
        response = detached(head);
        if (!metaDataKnown) {
            metaDataKnown = true;
            Q_EMIT q->metaDataChanged();
        }
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
        // Status and headers are known: in streaming mode the body has not been read yet.
        self->announceMetaData(r);
        if (!*isAlive)
            co_return;
        if (r.isStreaming()) {
            const std::shared_ptr<Client::CancelToken> token = cancel;
            const QUrl requestUrl = url;
            while (true) {
                while (self->bufferFull()) {
                    co_await BufferRoom {self};
                    if (!*isAlive)
                        co_return; // the Reply is gone: the Response, and its connection, go too
                    token->check(requestUrl); // abort() while waiting
                }
                const QByteArray piece = co_await r.readChunk(self->room());
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
        self->response = detached(r);
    } catch (...) {
        if (!*isAlive)
            co_return;
        self->error = Error::fromException(std::current_exception());
        self->response = Response();
    }
    self->finish(isAlive);
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
    d->wakeReader(); // it sees the Reply gone and ends, releasing the connection
}

QByteArray Reply::method() const { return d->method; }
QUrl Reply::url() const { return d->url; }
bool Reply::isRunning() const { return d->running; }
Response Reply::response() const { return d->response; }
Error Reply::error() const { return d->error; }
QByteArray Reply::readAll()
{
    QByteArray all = std::exchange(d->buffer, QByteArray());
    d->wakeReader();
    return all;
}
qint64 Reply::bytesAvailable() const { return d->buffer.size(); }
QByteArray Reply::read(qint64 maxBytes)
{
    const qint64 n = std::min<qint64>(std::max<qint64>(maxBytes, 0), d->buffer.size());
    if (n == d->buffer.size())
        return readAll();
    QByteArray piece = d->buffer.first(n);
    d->buffer.remove(0, n);
    if (!d->bufferFull())
        d->wakeReader();
    return piece;
}

void Reply::setReadBufferSize(qint64 size)
{
    d->readBufferSize = std::max<qint64>(size, 0);
    if (!d->bufferFull())
        d->wakeReader();
}

qint64 Reply::readBufferSize() const { return d->readBufferSize; }

void Reply::abort()
{
    if (d->running) {
        d->cancel->cancel();
        d->wakeReader(); // a loop waiting for buffer room is not waiting on the socket
    }
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
Reply *AsyncSession::sendOptions(QUrl url, RequestOptions opts)
{
    return send(QByteArrayLiteral("OPTIONS"), std::move(url), std::move(opts));
}
Reply *AsyncSession::sendDeleteResource(QUrl url, RequestOptions opts)
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
    if (!context) {
        // "While the context lives" would mean never: Qt refuses a connection to no receiver
        // (with a warning), and the callback would silently never run. Refused instead, once,
        // from the event loop like every other outcome, and nothing is sent.
        if (callback) {
            const Error error(Error::Kind::Request,
                              QStringLiteral("AsyncSession::request() needs a context object: the "
                                             "callback runs only while it lives"),
                              url, QStringLiteral("no context"));
            QMetaObject::invokeMethod(
                    this, [callback = std::move(callback), error] { callback(Response(), error); },
                    Qt::QueuedConnection);
        }
        return;
    }
    Reply *reply = send(std::move(method), std::move(url), std::move(opts));
    // The outcome is copied out of the Reply in its own thread (the first slot), then handed to
    // the callback, which may run queued in the context's thread after the Reply is gone and
    // never touches it.
    auto outcome = std::make_shared<std::pair<Response, Error>>();
    connect(reply, &Reply::finished, reply, [reply, outcome] {
        *outcome = {reply->response(), reply->error()};
        reply->deleteLater();
    });
    connect(reply, &Reply::finished, context,
            [outcome, callback = std::move(callback)] {
                if (callback)
                    callback(outcome->first, outcome->second);
            });
    // Without the context the callback is never called: the reply cleans itself up.
    connect(context, &QObject::destroyed, reply, &QObject::deleteLater);
}

} // namespace Reqivo
