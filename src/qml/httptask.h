// HttpTask: one request made from QML, a promise-like handle with then(onFulfilled, onRejected).
//
// Why not QCoro::QmlTask: in QCoro 0.8 QmlTask has only then(onFulfilled); when the coroutine
// throws, the exception is dropped inside a detached continuation and QML never hears of it.
// A QML caller must see timeouts and refused connections, and wants progress and abort() on
// the same object, so HttpTask wraps a Reqivo::Reply (the signal/slot face of AsyncSession)
// instead: the Reply's finished/errorOccurred become the two callbacks.
//
// Lifetime, the one idea that makes it safe: the task is owned by the JS garbage collector, and
// while it runs it holds a persistent reference to its own JS wrapper, so
// `client.get(url).then(...)` keeps working after the expression's value is dropped. When the
// task settles it lets go; it is collected once QML no longer refers to it. Destroying the task
// aborts its request (the Reply is its child).
#pragma once

#include <Reqivo/errors.h>
#include <Reqivo/response.h>

#include <QJSValue>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QProperty>
#include <QUrl>
#include <QtQml/qqmlregistration.h>

namespace Reqivo {
class Reply;
}

namespace Reqivo::Qml {

class HttpClient;
class HttpResponse;

class HttpTask : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("HttpTask objects are returned by HttpClient's request methods")
    Q_MOC_INCLUDE("httpresponse.h")

    Q_PROPERTY(QString method READ method CONSTANT)
    Q_PROPERTY(QUrl url READ url CONSTANT)
    Q_PROPERTY(State state READ state NOTIFY stateChanged BINDABLE bindableState)
    //! True until the task is fulfilled, rejected or aborted.
    Q_PROPERTY(bool running READ isRunning NOTIFY runningChanged BINDABLE bindableRunning)
    //! Download progress, 0..1: received / Content-Length while it is known, and 1 once
    //! fulfilled (a body of unknown length stays at 0 until then).
    Q_PROPERTY(double progress READ progress NOTIFY progressChanged BINDABLE bindableProgress)
    //! The response once fulfilled, else null.
    Q_PROPERTY(Reqivo::Qml::HttpResponse *response READ response NOTIFY stateChanged)
    //! The error (a JS Error with type, message, url, code) once rejected, else undefined.
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
    HttpResponse *response() const;
    QJSValue error() const;

    //! Calls \a onFulfilled with the HttpResponse or \a onRejected with the error, once, from the
    //! event loop (also when the task had already settled). Returns this task, not a new
    //! promise: callbacks' return values are ignored, and calling then() again adds callbacks.
    Q_INVOKABLE Reqivo::Qml::HttpTask *then(
        const QJSValue &onFulfilled, const QJSValue &onRejected = QJSValue());
    //! Stops the request; the task is rejected with a RequestError. No effect once settled.
    Q_INVOKABLE void abort();

Q_SIGNALS:
    void stateChanged();
    void runningChanged();
    void progressChanged();
    void downloadProgress(qint64 received, qint64 total);
    void uploadProgress(qint64 sent, qint64 total);
    //! Emitted after the then() callbacks, for declarative handlers.
    void finished(Reqivo::Qml::HttpResponse *response);
    void errorOccurred(const QJSValue &error);

private:
    friend class HttpClient;
    HttpTask(HttpClient *client, QByteArray method, QUrl url);
    //! Takes \a reply (re-parented to this task) and follows its signals.
    void start(Reply *reply);
    //! For a destroyed client: stop the request without calling anything back.
    void cancelSilently();

    void onFinished(const Response &response);
    void onError(const Error &error);
    void settle(State state);
    void invokeCallbacks();
    void callAndReport(QJSValue callback, const QJSValue &argument);
    QJSValue responseValue();

    struct Callbacks
    {
        QJSValue onFulfilled;
        QJSValue onRejected;
    };

    QPointer<HttpClient> m_client;
    QPointer<Reply> m_reply;
    QString m_method;
    QUrl m_url;
    QList<Callbacks> m_callbacks;
    //! Keeps the JS wrapper (and so this object) alive while the request runs.
    QJSValue m_self;
    //! The HttpResponse's wrapper: holding it keeps the response alive as long as the task.
    QJSValue m_responseValue;
    QPointer<HttpResponse> m_response;
    Error m_rawError;
    //! Built from m_rawError once an engine is known.
    mutable QJSValue m_error;
    bool m_handled = false;

    Q_OBJECT_BINDABLE_PROPERTY_WITH_ARGS(
        HttpTask, State, m_state, State::Running, &HttpTask::stateChanged)
    Q_OBJECT_BINDABLE_PROPERTY_WITH_ARGS(HttpTask, bool, m_running, true, &HttpTask::runningChanged)
    Q_OBJECT_BINDABLE_PROPERTY_WITH_ARGS(
        HttpTask, double, m_progress, 0.0, &HttpTask::progressChanged)
};

} // namespace Reqivo::Qml
