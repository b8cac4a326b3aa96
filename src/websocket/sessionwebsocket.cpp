// AsyncSession::webSocket() and AsyncReqivo::webSocket(): declared with the client classes, defined
// here, because the client layer must not depend on the WebSocket layer (the two are linked into
// the one Reqivo library). Both are AsyncWebSocket::fromSession() with the session as the default
// parent.
#include <Reqivo/asyncreqivo.h>
#include <Reqivo/asyncsession.h>
#include <Reqivo/asyncwebsocket.h>

namespace Reqivo {

AsyncWebSocket *AsyncSession::webSocket(
    const QUrl &url, const WebSocketOptions &options, QObject *parent)
{
    return AsyncWebSocket::fromSession(*this, url, options, parent ? parent : this);
}

AsyncWebSocket *AsyncReqivo::webSocket(
    const QUrl &url, const WebSocketOptions &options, QObject *parent)
{
    return m_session->webSocket(url, options, parent);
}

} // namespace Reqivo
