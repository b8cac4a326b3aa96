// reqivo-qmlapp: a small REST browser in QML (Main.qml) on `import Reqivo`'s HttpClient.
//
//   reqivo-qmlapp URL           browse URL/items (a JSON array of {id, title, author}) and
//                               URL/items/<id> (one object with a summary)
//   reqivo-qmlapp --self-test   serve that data from a server embedded in the app (127.0.0.1),
//                               wait for the list, open one item, and exit 0 when both arrived
//                               (1 otherwise, or after 10 s)
#include "loopbackserver.h"

#include <QGuiApplication>
#include <QJsonObject>
#include <QQmlApplicationEngine>
#include <QQuickWindow>
#include <QTimer>

#include <cstdio>

namespace {

void selfTest(QGuiApplication &app, QObject *root)
{
    const QJsonArray books = Examples::LoopbackServer::books();
    auto *poll = new QTimer(&app);
    QObject::connect(poll, &QTimer::timeout, &app, [&app, root, books, opened = false]() mutable {
        const QString error = root->property("errorText").toString();
        if (!error.isEmpty()) {
            std::printf("self-test FAILED: %s\n", qPrintable(error));
            app.exit(1);
        } else if (!opened && root->property("rows").toInt() == books.size()) {
            std::printf("list: %d rows\n", int(books.size()));
            QMetaObject::invokeMethod(root, "open", Q_ARG(QVariant, 2)); // as a click on row 2
            opened = true;
        } else if (const QString title = root->property("detailTitle").toString();
                   opened && !title.isEmpty()) {
            const bool ok = title == books[1].toObject().value(QStringLiteral("title")).toString();
            std::printf("detail: %s\nself-test %s\n", qPrintable(title), ok ? "passed" : "FAILED");
            app.exit(ok ? 0 : 1);
        }
    });
    poll->start(20);
    QTimer::singleShot(10'000, &app, [&app] {
        std::printf("self-test FAILED: no list and detail after 10 s\n");
        app.exit(1);
    });
}

} // namespace

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    const QStringList args = app.arguments().mid(1);
    const bool self = args.contains(QStringLiteral("--self-test"));
    if (!self && args.size() != 1) {
        std::fprintf(stderr, "usage: %s URL | --self-test\n", argv[0]);
        return 2;
    }
    if (self && qEnvironmentVariableIsEmpty("QT_QUICK_BACKEND"))
        QQuickWindow::setGraphicsApi(QSGRendererInterface::Software); // no GPU under offscreen

    Examples::LoopbackServer server;
    if (self && !server.listen())
        return 1;
    const QUrl base = self ? server.baseUrl() : QUrl::fromUserInput(args.first());

    QQmlApplicationEngine engine;
#ifdef REQIVO_QML_IMPORT_DIR
    engine.addImportPath(QStringLiteral(REQIVO_QML_IMPORT_DIR)); // where `import Reqivo` lives
#endif
    engine.setInitialProperties({{QStringLiteral("baseUrl"), base}});
    engine.load(QUrl(QStringLiteral("qrc:/Main.qml")));
    if (engine.rootObjects().isEmpty())
        return 1;
    if (self)
        selfTest(app, engine.rootObjects().first());
    return app.exec();
}
