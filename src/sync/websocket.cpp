// WebSocket: every blocking call is one runBlocking() over the AsyncWebSocket call of the same
// name. No WebSocket logic lives here.
#include <Reqivo/session.h>
#include <Reqivo/websocket.h>

#include "syncrunner_p.h"

namespace Reqivo {

WebSocket::WebSocket(const QUrl &url, const WebSocketOptions &options)
    : m_async(std::make_unique<AsyncWebSocket>(url, options))
{
}

WebSocket::WebSocket(Session &session, const QUrl &url, const WebSocketOptions &options)
    : m_async(AsyncWebSocket::fromSession(session.async(), url, options))
{
}

std::unique_ptr<WebSocket> Session::webSocket(const QUrl &url, const WebSocketOptions &options)
{
    return std::make_unique<WebSocket>(*this, url, options);
}

// A destructor never spins an event loop (a nested loop there runs arbitrary code while the
// caller is tearing down): the async socket's destructor sends the Close (1001) and lets go.
WebSocket::~WebSocket() = default;

AsyncWebSocket &WebSocket::async() const
{
    return *m_async;
}

void WebSocket::open()
{
    Sync::runBlocking([&] { return m_async->open(); }, "Reqivo::WebSocket::open()");
}

void WebSocket::send(const QString &text)
{
    Sync::runBlocking([&] { return m_async->sendText(text); }, "Reqivo::WebSocket::send()");
}

void WebSocket::send(const QByteArray &data)
{
    Sync::runBlocking([&] { return m_async->sendBinary(data); }, "Reqivo::WebSocket::send()");
}

WebSocketMessage WebSocket::receive(std::chrono::milliseconds timeout)
{
    return Sync::runBlocking(
        [&] { return m_async->receive(timeout); }, "Reqivo::WebSocket::receive()");
}

std::chrono::microseconds WebSocket::ping(std::chrono::milliseconds timeout)
{
    return Sync::runBlocking([&] { return m_async->ping(timeout); }, "Reqivo::WebSocket::ping()");
}

void WebSocket::close(int code, const QString &reason)
{
    Sync::runBlocking([&] { return m_async->close(code, reason); }, "Reqivo::WebSocket::close()");
}

} // namespace Reqivo
