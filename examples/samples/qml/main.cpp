// QML: loads main.qml with the URL to fetch.   reqivo-sample-qml http://127.0.0.1:8080/json
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QUrl>

#include <cstdio>

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    QQmlApplicationEngine engine;
#ifdef REQIVO_QML_IMPORT_DIR
    engine.addImportPath(QStringLiteral(REQIVO_QML_IMPORT_DIR)); // where `import Reqivo` lives
#endif
    engine.setInitialProperties({{QStringLiteral("url"), QUrl(QString::fromLocal8Bit(argv[1]))}});
    engine.load(QUrl(QStringLiteral("qrc:/main.qml")));
    return engine.rootObjects().isEmpty() ? 1 : app.exec();
}
