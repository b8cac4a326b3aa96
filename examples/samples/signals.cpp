// Signals and slots: a Reqivo::Reply emits finished() once, last, whatever the outcome; the
// result is read from the Reply (response() or error()).
//   reqivo-sample-signals http://127.0.0.1:8080/json
#include <Reqivo/AsyncSession>
#include <Reqivo/Reply>

#include <QCoreApplication>

#include <cstdio>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    Reqivo::AsyncSession session;
    Reqivo::Reply *reply = session.sendGet(QUrl(QString::fromLocal8Bit(argv[1])));
    QObject::connect(reply, &Reqivo::Reply::finished, &app, [reply] {
        if (const Reqivo::Error e = reply->error()) {
            std::fprintf(stderr, "%s\n", qPrintable(e.toString()));
            QCoreApplication::exit(1);
        } else {
            const Reqivo::Response r = reply->response();
            std::printf("%d %s\n%s\n", r.status(), r.reason().constData(), qPrintable(r.text()));
            QCoreApplication::exit(r.isSuccess() ? 0 : 1);
        }
    });
    QObject::connect(reply, &Reqivo::Reply::finished, reply, &QObject::deleteLater);
    return app.exec();
}
