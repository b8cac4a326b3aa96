// HttpTask: a Reply's two outcomes delivered to JS callbacks. See httptask.h for the lifetime.
#include "httptask.h"

#include "httpclient.h"
#include "httpresponse.h"
#include "jsconvert_p.h"

#include <Reqivo/reply.h>

#include <QJSEngine>
#include <QMetaMethod>

#include <utility>

namespace Reqivo::Qml {

HttpTask::HttpTask(HttpClient *client, QByteArray method, QUrl url)
    : m_client(client)
    , m_method(QString::fromLatin1(method))
    , m_url(std::move(url))
{
}

HttpTask::~HttpTask()
{
    if (m_running && m_client)
        m_client->taskEnded(this);
    // The Reply is a child: deleting it (in ~QObject) cancels the request.
}

void HttpTask::start(Reply *reply)
{
    m_reply = reply;
    reply->setParent(this);
    connect(reply, &Reply::errorOccurred, this, &HttpTask::onError);
    // finished() follows errorOccurred() for a failure too: only a response settles here.
    connect(reply, &Reply::finished, this, [this, reply] {
        if (state() == State::Running && reply->error().isNull())
            onFinished(reply->response());
    });
    connect(reply, &Reply::downloadProgress, this, [this](qint64 received, qint64 total) {
        if (total > 0)
            m_progress = qBound(0.0, double(received) / double(total), 1.0);
        Q_EMIT downloadProgress(received, total);
    });
    connect(reply, &Reply::uploadProgress, this, &HttpTask::uploadProgress);
}

HttpResponse *HttpTask::response() const
{
    return m_response;
}

QJSValue HttpTask::error() const
{
    if (m_error.isUndefined() && !m_rawError.isNull()) {
        if (QJSEngine *engine = qjsEngine(this))
            m_error = errorToJs(engine, m_rawError);
    }
    return m_error;
}

QJSValue HttpTask::responseValue()
{
    if (m_responseValue.isUndefined() && m_response) {
        if (QJSEngine *engine = qjsEngine(this))
            m_responseValue = engine->newQObject(m_response);
    }
    return m_responseValue;
}

HttpTask *HttpTask::then(const QJSValue &onFulfilled, const QJSValue &onRejected)
{
    m_callbacks.append({onFulfilled, onRejected});
    if (onRejected.isCallable())
        m_handled = true;
    if (m_state != State::Running) {
        // Promise semantics: never call back from inside then(). The task must stay alive until
        // the queued delivery, even if QML drops it right after this call.
        if (QJSEngine *engine = qjsEngine(this))
            m_self = engine->newQObject(this);
        QMetaObject::invokeMethod(
            this,
            [this] {
                invokeCallbacks();
                m_self = QJSValue();
            },
            Qt::QueuedConnection);
    }
    return this;
}

void HttpTask::abort()
{
    if (m_running && m_reply)
        m_reply->abort();
}

void HttpTask::onFinished(const Response &response)
{
    auto *r = new HttpResponse(response);
    if (QJSEngine *engine = qjsEngine(this))
        m_responseValue = engine->newQObject(r); // JS-owned, kept alive by this reference
    else
        r->setParent(this);
    m_response = r;
    m_progress = 1.0;
    settle(State::Fulfilled);
}

void HttpTask::onError(const Error &error)
{
    m_rawError = error;
    settle(State::Rejected);
}

void HttpTask::settle(State state)
{
    if (m_reply) {
        // We are inside the Reply's signal: it may only go once control is back in the loop.
        m_reply->deleteLater();
        m_reply = nullptr;
    }
    m_running = false;
    m_state = state;
    if (m_client)
        m_client->taskEnded(this);

    const QPointer<HttpTask> guard(this);
    invokeCallbacks();
    if (!guard)
        return;
    if (state == State::Fulfilled) {
        Q_EMIT finished(m_response);
    } else {
        Q_EMIT errorOccurred(error());
        if (!guard)
            return;
        static const QMetaMethod errorSignal = QMetaMethod::fromSignal(&HttpTask::errorOccurred);
        if (!m_handled && !isSignalConnected(errorSignal))
            qCWarning(lcQml).noquote()
                << "Unhandled HttpTask rejection:" << m_rawError.toString()
                << "(pass an error callback as the second argument of then())";
    }
    if (guard)
        m_self = QJSValue(); // from now on the garbage collector decides
}

void HttpTask::invokeCallbacks()
{
    const QList<Callbacks> callbacks = std::exchange(m_callbacks, {});
    const QPointer<HttpTask> guard(this);
    for (const Callbacks &c : callbacks) {
        if (m_state == State::Fulfilled && c.onFulfilled.isCallable())
            callAndReport(c.onFulfilled, responseValue());
        else if (m_state == State::Rejected && c.onRejected.isCallable())
            callAndReport(c.onRejected, error());
        if (!guard)
            return;
    }
}

void HttpTask::callAndReport(QJSValue callback, const QJSValue &argument)
{
    const QJSValue result = callback.call({argument});
    if (result.isError()) {
        qCWarning(lcQml).noquote()
            << QStringLiteral("%1:%2: uncaught exception in an HttpTask callback: %3")
                   .arg(result.property(QStringLiteral("fileName")).toString(),
                       result.property(QStringLiteral("lineNumber")).toString(), result.toString());
    }
}

void HttpTask::cancelSilently()
{
    m_callbacks.clear();
    m_client = nullptr;
    if (m_running) {
        delete m_reply; // cancels the request; it emits nothing once destroyed
        m_rawError = Error(Error::Kind::Request,
            QStringLiteral("the HttpClient that made this request was destroyed"), m_url);
        m_running = false;
        m_state = State::Rejected;
    }
    m_self = QJSValue();
}

} // namespace Reqivo::Qml
