#include <Reqivo/WebSocket>

void useWebSocket(Reqivo::WebSocket &ws)
{
    try {
        const Reqivo::WebSocketMessage m = ws.receive();
        Q_UNUSED(m.text());
        Q_UNUSED(ws.async().options());
    } catch (const Reqivo::WebSocketError &) {
    }
}
