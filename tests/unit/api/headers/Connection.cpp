#include <Reqivo/Connection>

void useConnection(Reqivo::Connection &c)
{
    try {
        c.connectToHost(Reqivo::Endpoint::fromUrl(QUrl()));
        Q_UNUSED(c.read().size());
        Q_UNUSED(c.async().socket());
    } catch (const Reqivo::NetworkError &) {
    }
}
