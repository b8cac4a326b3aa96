// co_await: Reqivo::AsyncSession returns QCoro::Task<Reqivo::Response>.
//   reqivo-sample-coroutine http://127.0.0.1:8080/json
#include <Reqivo/AsyncSession>
#include <Reqivo/Errors>

#include <QCoreApplication>

#include <cstdio>

QCoro::Task<int> fetch(QUrl url)
{
    Reqivo::AsyncSession session;
    try {
        const Reqivo::Response r = co_await session.get(url);
        std::printf("%d %s\n%s\n", r.status(), r.reason().constData(), qPrintable(r.text()));
        co_return r.isSuccess() ? 0 : 1;
    } catch (const Reqivo::ReqivoError &e) { // ConnectTimeout, NetworkError, ...
        std::fprintf(stderr, "%s\n", e.what());
        co_return 1;
    }
}

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    const auto done = fetch(QUrl(QString::fromLocal8Bit(argv[1]))).then([](int rc) {
        QCoreApplication::exit(rc);
    });
    return app.exec();
}
