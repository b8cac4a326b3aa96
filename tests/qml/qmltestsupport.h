// What the QML tests share: an engine that imports Reqivo from the build tree, and a loader for
// small QML documents with an HttpClient aimed at a loopback server.
//
// This is how a test (or an application) loads the module: the engine's import path gets the
// directory that holds Reqivo/qmldir (<build>/qml here; an installed module lives in
// <prefix>/lib/<arch>/qt6/qml), and a document given to QQmlComponent::setData() gets a URL
// so that relative imports and error messages have a place.
#pragma once

#include <QCoreApplication>
#include <QEventLoop>
#include <QQmlComponent>
#include <QQmlEngine>
#include <QTimer>
#include <QUrl>
#include <QVariant>
#include <QtDebug>

#include <memory>

namespace QmlTest {

// Long enough for sanitizer builds on a busy machine.
constexpr int waitMs = 15000;

inline QQmlEngine *newEngine(QObject *parent)
{
    auto *engine = new QQmlEngine(parent);
    engine->addImportPath(QStringLiteral(REQIVO_QML_IMPORT_DIR));
    return engine;
}

//! A QtObject with a `server` URL, an HttpClient `client` whose baseUrl is it, and \a body.
inline std::unique_ptr<QObject> load(QQmlEngine *engine, const QByteArray &body, const QUrl &server)
{
    const QByteArray qml = "import Reqivo\nQtObject {\n"
                           "    required property url server\n"
                           "    property HttpClient client: HttpClient { baseUrl: server }\n"
        + body + "\n}\n";
    QQmlComponent component(engine);
    component.setData(qml, QUrl::fromLocalFile(QStringLiteral(REQIVO_QML_IMPORT_DIR "/test.qml")));
    if (!component.isReady()) {
        qWarning().noquote() << component.errorString();
        return nullptr;
    }
    std::unique_ptr<QObject> object(
        component.createWithInitialProperties({{QStringLiteral("server"), server}}));
    if (!object)
        qWarning().noquote() << component.errorString();
    return object;
}

//! Delivers what is already queued for this thread (its posted events, then one turn of its
//! event loop), for "nothing more happens" checks, instead of waiting a while.
inline void deliverQueuedEvents()
{
    QCoreApplication::sendPostedEvents();
    QEventLoop loop;
    QTimer::singleShot(0, &loop, &QEventLoop::quit);
    loop.exec();
}

//! True once the property \a name of \a object holds something (not undefined, not null).
inline bool isSet(const QObject *object, const char *name)
{
    const QVariant v = object->property(name);
    return v.isValid() && !v.isNull();
}

} // namespace QmlTest
