// AsyncReqivo: verbs forward to the session; configuration lives in FacadeBase.
#include <Reqivo/asyncreqivo.h>

namespace Reqivo {

AsyncReqivo::AsyncReqivo(const QUrl &baseUrl, const Timeout &timeout, const Headers &headers,
                         const Limits &limits)
    : FacadeBase(std::make_unique<AsyncSession>(), baseUrl, timeout, headers, limits)
{
}

AsyncReqivo::~AsyncReqivo() = default;

QCoro::Task<Response> AsyncReqivo::request(QByteArray method, QUrl url, RequestOptions opts)
{
    return m_session->request(std::move(method), std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncReqivo::get(QUrl url, RequestOptions opts)
{
    return m_session->get(std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncReqivo::head(QUrl url, RequestOptions opts)
{
    return m_session->head(std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncReqivo::options(QUrl url, RequestOptions opts)
{
    return m_session->options(std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncReqivo::deleteResource(QUrl url, RequestOptions opts)
{
    return m_session->deleteResource(std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncReqivo::post(QUrl url, Body body, RequestOptions opts)
{
    return m_session->post(std::move(url), std::move(body), std::move(opts));
}
QCoro::Task<Response> AsyncReqivo::put(QUrl url, Body body, RequestOptions opts)
{
    return m_session->put(std::move(url), std::move(body), std::move(opts));
}
QCoro::Task<Response> AsyncReqivo::patch(QUrl url, Body body, RequestOptions opts)
{
    return m_session->patch(std::move(url), std::move(body), std::move(opts));
}

} // namespace Reqivo
