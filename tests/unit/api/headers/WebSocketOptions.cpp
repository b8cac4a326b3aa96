#include <Reqivo/WebSocketOptions>

void useWebSocketOptions()
{
    Reqivo::WebSocketOptions o;
    o.headers.add("A", "1");
    Q_UNUSED(o.tlsOptions.value_or(Reqivo::TlsOptions()).isDefault());
}
