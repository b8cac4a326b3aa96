// The JavaScript half of HttpTask's promise behaviour, compiled once per engine.
//
// Three things cannot be done through the public QJSValue API alone:
//   - telling a callback that threw from one that returned an Error object (QJSValue::call()
//     returns both the same way, and a thrown string would look like a return value);
//   - following a thenable exactly as a JS Promise does (read `then` once, the first of its two
//     callbacks wins, an exception after that is ignored);
//   - `catch` and `finally`, which are C++ keywords and so cannot be Q_INVOKABLE names: they are
//     defined as JS properties on each task's wrapper (a QObject that QML did not create keeps
//     such properties, like any JS object).
// TaskResolver is what the JS side calls back: the resolve/reject pair for one task.
#pragma once

#include <QJSValue>
#include <QObject>
#include <QPointer>

#include <memory>

class QJSEngine;

namespace Reqivo::Qml {

class HttpTask;

struct TaskScript
{
    //! call(f, v): [true, f(v)], or [false, what f threw].
    QJSValue call;
    //! adopt(x, resolver): true when x is a thenable, after x.then(resolver.resolve,
    //! resolver.reject) was called (or resolver.reject(e) when reading x.then threw).
    QJSValue adopt;
    //! decorate(task): defines task.catch(onRejected) and task.finally(onFinally).
    QJSValue decorate;

    //! Compiles the script in \a engine.
    static std::shared_ptr<const TaskScript> create(QJSEngine *engine);
};

//! The resolving functions of one HttpTask, handed to a thenable it follows. Holding the task's
//! wrapper keeps the task alive for as long as the thenable can still settle it.
class TaskResolver : public QObject
{
    Q_OBJECT
public:
    TaskResolver(HttpTask *task, QJSValue taskValue);

    Q_INVOKABLE void resolve(const QJSValue &value);
    Q_INVOKABLE void reject(const QJSValue &reason);

private:
    QPointer<HttpTask> m_task;
    QJSValue m_taskValue;
};

} // namespace Reqivo::Qml
