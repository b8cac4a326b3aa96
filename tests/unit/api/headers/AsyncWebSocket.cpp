#include <Reqivo/AsyncWebSocket>

QCoro::Task<void> useAsyncWebSocket(Reqivo::AsyncWebSocket &ws)
{
    Reqivo::WebSocketOptions options = ws.options();
    Q_UNUSED(options);
    try {
        const Reqivo::WebSocketMessage m = co_await ws.receive();
        Q_UNUSED(m.text());
        Q_UNUSED(ws.handshakeHeaders().get("Sec-WebSocket-Protocol"));
    } catch (const Reqivo::WebSocketError &e) {
        Q_UNUSED(e.error());
    }
}
