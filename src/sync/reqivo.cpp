// Reqivo (blocking facade): verbs and webSocket() forward to the Session; configuration lives
// in FacadeBase.
#include <Reqivo/reqivo.h>

namespace Reqivo {

Reqivo::Reqivo(const QUrl &baseUrl, const Timeout &timeout, const Headers &headers,
               const Limits &limits)
    : FacadeBase(std::make_unique<Session>(), baseUrl, timeout, headers, limits)
{
}

Reqivo::~Reqivo() = default;

Response Reqivo::request(const QByteArray &method, const QUrl &url, const RequestOptions &opts)
{
    return m_session->request(method, url, opts);
}
Response Reqivo::get(const QUrl &url, const RequestOptions &opts)
{
    return m_session->get(url, opts);
}
Response Reqivo::head(const QUrl &url, const RequestOptions &opts)
{
    return m_session->head(url, opts);
}
Response Reqivo::options(const QUrl &url, const RequestOptions &opts)
{
    return m_session->options(url, opts);
}
Response Reqivo::deleteResource(const QUrl &url, const RequestOptions &opts)
{
    return m_session->deleteResource(url, opts);
}
Response Reqivo::post(const QUrl &url, const Body &body, const RequestOptions &opts)
{
    return m_session->post(url, body, opts);
}
Response Reqivo::put(const QUrl &url, const Body &body, const RequestOptions &opts)
{
    return m_session->put(url, body, opts);
}
Response Reqivo::patch(const QUrl &url, const Body &body, const RequestOptions &opts)
{
    return m_session->patch(url, body, opts);
}

std::unique_ptr<WebSocket> Reqivo::webSocket(const QUrl &url, const WebSocketOptions &options)
{
    return m_session->webSocket(url, options);
}

} // namespace Reqivo
