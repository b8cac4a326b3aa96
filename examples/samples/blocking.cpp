// Blocking calls: Reqivo::Session runs the async core in a nested event loop.
//   reqivo-sample-blocking http://127.0.0.1:8080/json
#include <Reqivo/Errors>
#include <Reqivo/Session>

#include <QCoreApplication>

#include <cstdio>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv); // must exist; need not run
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    Reqivo::Session session;
    try {
        const Reqivo::Response r = session.get(QUrl(QString::fromLocal8Bit(argv[1])));
        std::printf("%d %s\n%s\n", r.status(), r.reason().constData(), qPrintable(r.text()));
        return r.isSuccess() ? 0 : 1;
    } catch (const Reqivo::ReqivoError &e) { // ConnectTimeout, NetworkError, ...
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
