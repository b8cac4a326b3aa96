// HttpTask: one request made from QML, and a promise for its outcome.
//
// It behaves like a JavaScript Promise: then(onFulfilled, onRejected) returns a NEW HttpTask
// that is fulfilled with what the callback returns (or, when that is a thenable such as another
// HttpTask or a JS Promise, follows it) and rejected with what the callback throws; catch() and
// finally() are there too. Callbacks run once, always later from the event loop, never inside
// then(). A task made by a request method (a "request task") is fulfilled with an HttpResponse
// or rejected with a JS Error; a task made by then() (a "chained task") carries any JS value.
//
// Why not QCoro::QmlTask: in QCoro 0.8 QmlTask has only then(onFulfilled); when the coroutine
// throws, the exception is dropped inside a detached continuation and QML never hears of it.
// A request task wraps a Reqivo::Reply (the signal/slot face of AsyncSession) instead, which
// also gives progress and abort() on the same object.
//
// Lifetime: tasks are owned by the JS garbage collector. A running request task holds a
// persistent reference to its own JS wrapper, so `client.get(url).then(...)` keeps working after
// the expression's value is dropped; a task also holds itself while a delivery of its callbacks
// is queued. References otherwise point down the chain only (a task holds the tasks its then()
// made, until it has called their callbacks), so a chain whose start can never settle is
// collected with it. Destroying a request task aborts its request (the Reply is its child).
#pragma once

#include <Reqivo/errors.h>
#include <Reqivo/response.h>

#include <QJSValue>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QProperty>
#include <QString>
#include <QUrl>
#include <QtQml/qqmlregistration.h>

#include <memory>

class QFileDevice;
class QJSEngine;

namespace Reqivo {
class Reply;
}

namespace Reqivo::Qml {

class HttpClient;
class HttpResponse;
struct TaskScript;

class HttpTask : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("HttpTask objects are returned by HttpClient's request methods and by then()")
    Q_MOC_INCLUDE("httpresponse.h")

    //! The request this task is for (a chained task: the one it descends from).
    Q_PROPERTY(QString method READ method CONSTANT)
    Q_PROPERTY(QUrl url READ url CONSTANT)
    Q_PROPERTY(State state READ state NOTIFY stateChanged BINDABLE bindableState)
    //! True until the task is fulfilled or rejected.
    Q_PROPERTY(bool running READ isRunning NOTIFY runningChanged BINDABLE bindableRunning)
    //! 0..1: for upload(), bytes sent / file size; for other requests, bytes received /
    //! Content-Length while it is known (a body of unknown length stays at 0). 1 once fulfilled.
    Q_PROPERTY(double progress READ progress NOTIFY progressChanged BINDABLE bindableProgress)
    //! What the task was fulfilled with (a request task: its HttpResponse), else undefined.
    Q_PROPERTY(QJSValue value READ value NOTIFY stateChanged)
    //! The value when it is an HttpResponse, else null.
    Q_PROPERTY(Reqivo::Qml::HttpResponse *response READ response NOTIFY stateChanged)
    //! What the task was rejected with (a request task: a JS Error with type, message, url,
    //! code), else undefined.
    Q_PROPERTY(QJSValue error READ error NOTIFY stateChanged)

public:
    enum class State { Running, Fulfilled, Rejected };
    Q_ENUM(State)

    ~HttpTask() override;

    QString method() const { return m_method; }
    QUrl url() const { return m_url; }
    State state() const { return m_state; }
    QBindable<State> bindableState() { return &m_state; }
    bool isRunning() const { return m_running; }
    QBindable<bool> bindableRunning() { return &m_running; }
    double progress() const { return m_progress; }
    QBindable<double> bindableProgress() { return &m_progress; }
    QJSValue value() const;
    HttpResponse *response() const;
    QJSValue error() const;

    //! Returns a new task, settled by \a onFulfilled or \a onRejected as a JS Promise's then()
    //! does. (catch(onRejected) and finally(onFinally) are defined on the JS object.)
    Q_INVOKABLE Reqivo::Qml::HttpTask *then(
        const QJSValue &onFulfilled = QJSValue(), const QJSValue &onRejected = QJSValue());
    //! Stops the request (for a chained task: the request it descends from, while that runs);
    //! the request task is rejected with a RequestError. No effect once settled.
    Q_INVOKABLE void abort();

Q_SIGNALS:
    void stateChanged();
    void runningChanged();
    void progressChanged();
    void downloadProgress(qint64 received, qint64 total);
    void uploadProgress(qint64 sent, qint64 total);
    //! The task was fulfilled with \a value; emitted when it settles, before the then()
    //! callbacks run.
    void finished(const QJSValue &value);
    //! The task was rejected with \a error; emitted when it settles, before the callbacks.
    void errorOccurred(const QJSValue &error);

private:
    friend class HttpClient;
    friend class TaskResolver;
    enum class Kind { Request, Download, Upload, Chained };

    HttpTask(Kind kind, QString method, QUrl url, std::shared_ptr<const TaskScript> script);
    //! Wraps this task for \a engine (the one wrapper QML sees) and adds catch() and finally().
    QJSValue wrap(QJSEngine *engine);
    //! Request tasks: take \a reply (re-parented to this task) and follow its signals.
    void start(Reply *reply, HttpClient *client);
    //! Request tasks: reject with \a error from the event loop, without a request.
    void failLater(const Error &error, HttpClient *client);
    //! Download tasks: the file the body goes to. Upload tasks: the file it comes from.
    void setFile(QFileDevice *file, const QString &path);
    //! For a destroyed client: stop without calling anything back, here and down the chain.
    void cancelSilently();

    void onMetaData();
    void onReadyRead();
    void onReplyFinished();
    void releaseReply();
    void failTransfer(const QString &what);

    //! The promise core. resolve() follows a thenable \a value; fulfill() and reject() settle.
    void resolve(const QJSValue &value);
    void fulfill(const QJSValue &value);
    void reject(const QJSValue &reason);
    void settle(State state);
    void scheduleDelivery();
    void deliver();
    void endWithClient();
    QJSValue requestError();

    struct Reaction
    {
        QJSValue onFulfilled;
        QJSValue onRejected;
        QJSValue child; //!< the wrapper of the task then() returned: keeps it alive
    };

    Kind m_kind;
    QString m_method;
    QUrl m_url;
    std::shared_ptr<const TaskScript> m_script;
    QPointer<HttpClient> m_client; //!< request tasks, until their outcome was delivered
    QPointer<HttpTask> m_source; //!< chained tasks: the task whose then() made this one
    QPointer<Reply> m_reply;
    QFileDevice *m_file = nullptr; //!< download/upload: a child of this task
    QString m_filePath;
    QByteArray m_errorBody; //!< download with a non-2xx status: the body, kept in memory
    bool m_saving = false; //!< download: the body goes to m_file
    Error m_transferError; //!< download: writing the file failed
    Error m_rawError; //!< request tasks: the error before an engine made it a JS Error
    QList<Reaction> m_reactions;
    QJSValue m_self; //!< this task's wrapper while it must not be collected
    QJSValue m_value;
    QJSValue m_reason;
    QPointer<HttpResponse> m_response;
    bool m_handled = false; //!< then() was called: a rejection is not unhandled
    bool m_deliveryQueued = false;

    Q_OBJECT_BINDABLE_PROPERTY_WITH_ARGS(
        HttpTask, State, m_state, State::Running, &HttpTask::stateChanged)
    Q_OBJECT_BINDABLE_PROPERTY_WITH_ARGS(HttpTask, bool, m_running, true, &HttpTask::runningChanged)
    Q_OBJECT_BINDABLE_PROPERTY_WITH_ARGS(
        HttpTask, double, m_progress, 0.0, &HttpTask::progressChanged)
};

} // namespace Reqivo::Qml
