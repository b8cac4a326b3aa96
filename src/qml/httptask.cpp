// HttpTask: a Reply's outcome as a promise, and the promise core shared by chained tasks.
// See httptask.h for the semantics and the lifetime, taskscript_p.h for the JS half.
#include "httptask.h"

#include "httpclient.h"
#include "httpresponse.h"
#include "jsconvert_p.h"
#include "taskscript_p.h"

#include <Reqivo/reply.h>

#include <QFileDevice>
#include <QJSEngine>
#include <QMetaMethod>
#include <QSaveFile>

#include <utility>

namespace Reqivo::Qml {

namespace {

constexpr auto scriptSource = R"JS(
(function () {
    "use strict"
    return {
        call: function (f, v) {
            try {
                return [true, f(v)]
            } catch (e) {
                return [false, e]
            }
        },
        adopt: function (x, resolver) {
            if (x === null || (typeof x !== "object" && typeof x !== "function"))
                return false
            let then
            try {
                then = x.then
            } catch (e) {
                resolver.reject(e)
                return true
            }
            if (typeof then !== "function")
                return false
            let called = false
            try {
                then.call(x, v => { if (!called) { called = true; resolver.resolve(v) } },
                          e => { if (!called) { called = true; resolver.reject(e) } })
            } catch (e) {
                if (!called) {
                    called = true
                    resolver.reject(e)
                }
            }
            return true
        },
        decorate: function (task) {
            const define = (name, f) => Object.defineProperty(task, name,
                {value: f, writable: true, configurable: true, enumerable: false})
            define("catch", onRejected => task.then(undefined, onRejected))
            define("finally", onFinally => typeof onFinally !== "function"
                ? task.then(onFinally, onFinally)
                : task.then(v => Promise.resolve(onFinally()).then(() => v),
                            e => Promise.resolve(onFinally()).then(() => { throw e })))
        }
    }
})()
)JS";

bool isSuccess(int status)
{
    return status >= 200 && status < 300;
}

} // namespace

std::shared_ptr<const TaskScript> TaskScript::create(QJSEngine *engine)
{
    auto script = std::make_shared<TaskScript>();
    const QJSValue lib = engine->evaluate(
        QString::fromUtf8(scriptSource), QStringLiteral("qrc:/Reqivo/httptask.js"));
    if (lib.isError())
        qFatal("Reqivo: the HttpTask script does not compile: %s", qPrintable(lib.toString()));
    script->call = lib.property(QStringLiteral("call"));
    script->adopt = lib.property(QStringLiteral("adopt"));
    script->decorate = lib.property(QStringLiteral("decorate"));
    return script;
}

TaskResolver::TaskResolver(HttpTask *task, QJSValue taskValue)
    : m_task(task)
    , m_taskValue(std::move(taskValue))
{
}

void TaskResolver::resolve(const QJSValue &value)
{
    if (m_task)
        m_task->resolve(value);
    m_taskValue = QJSValue();
}

void TaskResolver::reject(const QJSValue &reason)
{
    if (m_task)
        m_task->reject(reason);
    m_taskValue = QJSValue();
}

// --- construction and the request --------------------------------------------------------

HttpTask::HttpTask(Kind kind, QString method, QUrl url, std::shared_ptr<const TaskScript> script)
    : m_kind(kind)
    , m_method(std::move(method))
    , m_url(std::move(url))
    , m_script(std::move(script))
{
}

HttpTask::~HttpTask()
{
    if (m_client)
        m_client->taskEnded(this);
    // The Reply is a child: deleting it (in ~QObject) cancels the request. An uncommitted
    // QSaveFile, also a child, removes its temporary file.
}

QJSValue HttpTask::wrap(QJSEngine *engine)
{
    QJSValue self = engine->newQObject(this);
    if (m_script) {
        const QJSValue result = m_script->decorate.call({self});
        if (result.isError())
            qCWarning(lcQml).noquote()
                << "HttpTask: cannot define catch() and finally():" << result.toString();
    }
    return self;
}

void HttpTask::start(Reply *reply, HttpClient *client)
{
    m_client = client;
    m_reply = reply;
    reply->setParent(this);
    connect(reply, &Reply::finished, this, &HttpTask::onReplyFinished);
    connect(reply, &Reply::downloadProgress, this, [this](qint64 received, qint64 total) {
        if (total > 0 && m_kind != Kind::Upload)
            m_progress = qBound(0.0, double(received) / double(total), 1.0);
        Q_EMIT downloadProgress(received, total);
    });
    connect(reply, &Reply::uploadProgress, this, [this](qint64 sent, qint64 total) {
        if (total > 0 && m_kind == Kind::Upload)
            m_progress = qBound(0.0, double(sent) / double(total), 1.0);
        Q_EMIT uploadProgress(sent, total);
    });
    if (m_kind == Kind::Download) {
        connect(reply, &Reply::metaDataChanged, this, &HttpTask::onMetaData);
        connect(reply, &Reply::readyRead, this, &HttpTask::onReadyRead);
    }
}

void HttpTask::failLater(const Error &error, HttpClient *client)
{
    m_client = client;
    m_rawError = error;
    QMetaObject::invokeMethod(
        this, [this] { reject(requestError()); }, Qt::QueuedConnection);
}

void HttpTask::setFile(QFileDevice *file, const QString &path)
{
    m_file = file;
    m_filePath = path;
    if (file)
        file->setParent(this);
}

void HttpTask::onMetaData()
{
    // Only a success is saved: a 404 page must not replace the file. Its body is kept in
    // memory instead, so that the response tells what the server said.
    m_saving = m_reply && m_file && isSuccess(m_reply->response().status());
}

void HttpTask::onReadyRead()
{
    if (!m_reply)
        return;
    const QByteArray bytes = m_reply->readAll();
    if (!m_saving) {
        m_errorBody.append(bytes);
        return;
    }
    if (m_transferError.isNull() && m_file->write(bytes) != bytes.size())
        failTransfer(QStringLiteral("cannot write"));
}

void HttpTask::failTransfer(const QString &what)
{
    m_transferError = Error(Error::Kind::Request,
        QStringLiteral("%1 %2: %3").arg(what, m_filePath, m_file->errorString()), m_url,
        m_file->errorString());
    if (m_reply)
        m_reply->abort();
}

void HttpTask::onReplyFinished()
{
    Reply *reply = m_reply;
    if (!reply)
        return;
    if (const Error error = reply->error(); !error.isNull()) {
        m_rawError = m_transferError.isNull() ? error : m_transferError;
        releaseReply();
        reject(requestError());
        return;
    }
    Response response = reply->response();
    QString savedTo;
    if (m_kind == Kind::Download) {
        auto *saveFile = qobject_cast<QSaveFile *>(m_file);
        if (m_saving && saveFile && !saveFile->commit()) {
            failTransfer(QStringLiteral("cannot save"));
            m_rawError = m_transferError;
            releaseReply();
            reject(requestError());
            return;
        }
        if (m_saving)
            savedTo = m_filePath;
        else
            response.setBody(std::exchange(m_errorBody, QByteArray()));
    }
    releaseReply();

    auto *r = new HttpResponse(std::move(response), savedTo);
    m_response = r;
    QJSValue value;
    if (QJSEngine *engine = qjsEngine(this))
        value = engine->newQObject(r); // JS-owned, kept alive by this task's m_value
    else
        r->setParent(this);
    m_value = value;
    m_progress = 1.0;
    settle(State::Fulfilled);
}

void HttpTask::releaseReply()
{
    if (m_reply) {
        m_reply->disconnect(this);
        // We are inside the Reply's signal: it may only go once control is back in the loop.
        m_reply->deleteLater();
        m_reply = nullptr;
    }
    if (m_file) {
        if (auto *saveFile = qobject_cast<QSaveFile *>(m_file)) {
            // Not committed: the destination stays as it was, the temporary file goes when the
            // QSaveFile does (which may not be closed by hand).
            if (saveFile->isOpen())
                saveFile->cancelWriting();
        } else {
            m_file->close();
        }
        m_file->deleteLater();
        m_file = nullptr;
    }
}

QJSValue HttpTask::requestError()
{
    if (QJSEngine *engine = qjsEngine(this))
        return errorToJs(engine, m_rawError);
    return QJSValue(); // built by error() once an engine is known
}

void HttpTask::cancelSilently()
{
    m_client = nullptr;
    if (m_state == State::Running && m_kind != Kind::Chained) {
        delete m_reply; // cancels the request; it emits nothing once destroyed
        m_rawError = Error(Error::Kind::Request,
            QStringLiteral("the HttpClient that made this request was destroyed"), m_url);
        m_reason = requestError();
    }
    if (m_reply || m_file)
        releaseReply();
    const QList<Reaction> reactions = std::exchange(m_reactions, {});
    if (m_state == State::Running) {
        m_running = false;
        m_state = State::Rejected;
    }
    m_self = QJSValue();
    for (const Reaction &r : reactions) {
        if (auto *child = qobject_cast<HttpTask *>(r.child.toQObject())) {
            if (child->m_state == State::Running && child->m_reason.isUndefined())
                child->m_reason = m_reason;
            child->cancelSilently();
        }
    }
}

// --- what QML reads ----------------------------------------------------------------------

QJSValue HttpTask::value() const
{
    return m_value;
}

HttpResponse *HttpTask::response() const
{
    if (m_response)
        return m_response;
    return qobject_cast<HttpResponse *>(m_value.toQObject());
}

QJSValue HttpTask::error() const
{
    if (m_reason.isUndefined() && !m_rawError.isNull()) {
        if (QJSEngine *engine = qjsEngine(this))
            const_cast<HttpTask *>(this)->m_reason = errorToJs(engine, m_rawError);
    }
    return m_reason;
}

void HttpTask::abort()
{
    if (m_state != State::Running)
        return;
    if (m_reply)
        m_reply->abort();
    else if (m_source)
        m_source->abort();
}

// --- the promise core --------------------------------------------------------------------

HttpTask *HttpTask::then(const QJSValue &onFulfilled, const QJSValue &onRejected)
{
    QJSEngine *engine = qjsEngine(this);
    if (!engine || !m_script) {
        qCWarning(lcQml) << "HttpTask.then() needs the JS engine the task was made in";
        return nullptr;
    }
    auto *child = new HttpTask(Kind::Chained, m_method, m_url, m_script);
    child->m_source = this;
    m_reactions.append({onFulfilled, onRejected, child->wrap(engine)});
    m_handled = true;
    if (m_state != State::Running)
        scheduleDelivery();
    return child;
}

void HttpTask::resolve(const QJSValue &value)
{
    if (m_state != State::Running)
        return;
    if (value.isQObject() && value.toQObject() == this) {
        if (QJSEngine *engine = qjsEngine(this))
            reject(engine->newErrorObject(
                QJSValue::TypeError, QStringLiteral("an HttpTask cannot be resolved with itself")));
        return;
    }
    if (value.isObject() && m_script) {
        if (QJSEngine *engine = qjsEngine(this)) {
            // JS-owned; it holds this task (through its wrapper) while the thenable runs.
            auto *resolver = new TaskResolver(this, engine->newQObject(this));
            if (m_script->adopt.call({value, engine->newQObject(resolver)}).toBool())
                return;
        }
    }
    fulfill(value);
}

void HttpTask::fulfill(const QJSValue &value)
{
    if (m_state != State::Running)
        return;
    m_value = value;
    m_progress = 1.0;
    settle(State::Fulfilled);
}

void HttpTask::reject(const QJSValue &reason)
{
    if (m_state != State::Running)
        return;
    m_reason = reason;
    settle(State::Rejected);
}

void HttpTask::settle(State state)
{
    m_running = false;
    m_state = state;
    if (m_client)
        m_client->taskSettled(this);

    const QPointer<HttpTask> guard(this);
    if (state == State::Fulfilled) {
        Q_EMIT finished(m_value);
    } else {
        const QJSValue reason = error();
        Q_EMIT errorOccurred(reason);
        if (!guard)
            return;
        static const QMetaMethod errorSignal = QMetaMethod::fromSignal(&HttpTask::errorOccurred);
        if (!m_handled && !isSignalConnected(errorSignal)) {
            const QString text = reason.isUndefined() && !m_rawError.isNull()
                ? m_rawError.toString()
                : reason.toString();
            qCWarning(lcQml).noquote() << "Unhandled HttpTask rejection:" << text
                                       << "(pass an error callback to then(), or call catch())";
        }
    }
    if (!guard)
        return;
    if (!m_reactions.isEmpty()) {
        scheduleDelivery();
    } else {
        m_self = QJSValue(); // from now on the garbage collector decides
        endWithClient();
    }
}

void HttpTask::scheduleDelivery()
{
    if (m_deliveryQueued)
        return;
    m_deliveryQueued = true;
    // Never call back from inside then() or settle(): from the event loop, as a JS Promise
    // does. The task must stay alive until then, even if QML drops it right away.
    if (m_self.isUndefined()) {
        if (QJSEngine *engine = qjsEngine(this))
            m_self = engine->newQObject(this);
    }
    QMetaObject::invokeMethod(this, &HttpTask::deliver, Qt::QueuedConnection);
}

void HttpTask::deliver()
{
    m_deliveryQueued = false;
    const QJSValue keepAlive = std::exchange(m_self, QJSValue());
    const QList<Reaction> reactions = std::exchange(m_reactions, {});
    const QPointer<HttpTask> guard(this);
    const bool fulfilled = m_state == State::Fulfilled;
    const QJSValue argument = fulfilled ? value() : error();
    for (const Reaction &r : reactions) {
        auto *child = qobject_cast<HttpTask *>(r.child.toQObject());
        if (!child)
            continue;
        const QJSValue &handler = fulfilled ? r.onFulfilled : r.onRejected;
        if (!handler.isCallable()) {
            if (fulfilled)
                child->fulfill(argument);
            else
                child->reject(argument);
            continue;
        }
        const QJSValue outcome = m_script->call.call({handler, argument});
        if (outcome.property(0).toBool())
            child->resolve(outcome.property(1));
        else
            child->reject(outcome.property(1));
        if (!guard)
            return;
    }
    if (guard && m_reactions.isEmpty() && !m_deliveryQueued)
        endWithClient();
}

void HttpTask::endWithClient()
{
    if (HttpClient *client = std::exchange(m_client, nullptr))
        client->taskEnded(this);
}

} // namespace Reqivo::Qml
