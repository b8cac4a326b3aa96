// The QML step of the tour: a QQmlEngine with no window runs a snippet that uses HttpClient from
// `import Reqivo`, exactly as a Qt Quick app would, and the demo reads the result back.
#include "tour.h"

#include <QCoro/QCoroTimer>

#ifdef REQIVO_DEMO_QML_IMPORT_DIR
#include <QQmlComponent>
#include <QQmlEngine>

#include <memory>
#endif

using namespace std::chrono_literals;
using namespace Qt::StringLiterals;

namespace Demo {

QCoro::Task<bool> waitUntil(std::function<bool()> done, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline)
            co_return false;
        co_await QCoro::sleepFor(5ms);
    }
    co_return true;
}

#ifdef REQIVO_DEMO_QML_IMPORT_DIR
namespace {
// The root is the HttpClient itself, so the snippet needs no import but Reqivo (not even
// QtQml, whose Component.onCompleted would pull in more Debian packages): C++ calls start().
constexpr char snippet[] = R"(
import Reqivo

HttpClient {
    required property url base
    required property string path
    property string result
    baseUrl: base
    function start() {
        get(path).then(r => result = r.status + " " + r.json.greeting,
                       e => result = "error " + e.type + ": " + e.message)
    }
}
)";
} // namespace

QCoro::Task<QString> qmlGet(QUrl baseUrl, QString path, QString *shown)
{
    QQmlEngine engine;
    engine.addImportPath(QStringLiteral(REQIVO_DEMO_QML_IMPORT_DIR));
    QQmlComponent component(&engine);
    component.setData(snippet, QUrl(u"demo:/snippet.qml"_s));
    // The engine may finish loading the imports later (it does when the plugin is new to it).
    co_await waitUntil([&] { return !component.isLoading(); }, 5s);
    if (!component.isReady()) // (Qt 6.4 crashes creating from a component that is not ready)
        co_return component.isError() ? component.errorString().trimmed()
                                      : u"the QML component did not load"_s;
    std::unique_ptr<QObject> object(
        component.createWithInitialProperties({{u"base"_s, baseUrl}, {u"path"_s, path}}));
    if (!object)
        co_return component.errorString().trimmed();
    QMetaObject::invokeMethod(object.get(), "start");
    const bool done
        = co_await waitUntil([&] { return !object->property("result").toString().isEmpty(); }, 5s);
    *shown = object->property("result").toString();
    co_return done ? QString() : u"no result within 5 s"_s;
}
#else
QCoro::Task<QString> qmlGet(QUrl, QString, QString *shown)
{
    *shown = u"skipped: built without the QML module (REQIVO_WITH_QML=OFF)"_s;
    co_return QString();
}
#endif

} // namespace Demo
