#include <Reqivo/AsyncConnection>

QCoro::Task<void> useAsyncConnection(Reqivo::AsyncConnection &c)
{
    try {
        co_await c.connectToHost(Reqivo::Endpoint::fromUrl(QUrl()), std::chrono::seconds(1));
        const QByteArray bytes = co_await c.read(std::chrono::seconds(1));
        Q_UNUSED(bytes);
        Q_UNUSED(c.socket()->peerPort());
    } catch (const Reqivo::NetworkError &) {
    }
}
