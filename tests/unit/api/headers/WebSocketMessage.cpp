#include <Reqivo/WebSocketMessage>

void useWebSocketMessage(const Reqivo::WebSocketMessage &m)
{
    Q_UNUSED(m.text().size());
    Q_UNUSED(m.data().size());
}
