// WebSocket: Reqivo::AsyncWebSocket with co_await; reconnects and queues sends when asked to.
//   reqivo-sample-websocket ws://127.0.0.1:8080/echo [message]
#include <Reqivo/AsyncWebSocket>
#include <Reqivo/Errors>

#include <QCoreApplication>

#include <cstdio>

QCoro::Task<int> echo(QUrl url, QString message)
{
    Reqivo::WebSocketOptions options;
    options.reconnect.enabled = true; // a lost connection is reopened, sends wait in a queue
    Reqivo::AsyncWebSocket socket(url, options);
    try {
        co_await socket.open();
        co_await socket.sendText(message);
        const Reqivo::WebSocketMessage reply = co_await socket.receive(std::chrono::seconds(5));
        std::printf("received: %s\n", qPrintable(reply.text()));
        co_await socket.close();
        co_return 0;
    } catch (const Reqivo::ReqivoError &e) { // WebSocketError (code(): close code/HTTP status)
        std::fprintf(stderr, "%s\n", e.what());
        co_return 1;
    }
}

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s URL [message]\n", argv[0]);
        return 2;
    }
    const QString message = argc > 2 ? QString::fromLocal8Bit(argv[2]) : QStringLiteral("hello");
    const auto done = echo(QUrl(QString::fromLocal8Bit(argv[1])), message).then([](int rc) {
        QCoreApplication::exit(rc);
    });
    return app.exec();
}
