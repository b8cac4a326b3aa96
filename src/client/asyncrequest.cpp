// AsyncRequest: a private session per call, with its own pool and no cookie memory. A streamed
// response keeps that session alive (through its body stream) until the body is done.
#include <Reqivo/asyncrequest.h>
#include <Reqivo/asyncsession.h>

namespace Reqivo {

namespace {
class OneShotSession final : public AsyncSession
{
public:
    OneShotSession() : AsyncSession(nullptr, false, nullptr) { }
    using AsyncSession::setStreamOwner;
};
} // namespace

QCoro::Task<Response> AsyncRequest::send(QByteArray method, QUrl url, RequestOptions opts)
{
    auto session = std::make_shared<OneShotSession>();
    session->setStreamOwner(session);
    co_return co_await session->request(std::move(method), std::move(url), std::move(opts));
}

QCoro::Task<Response> AsyncRequest::get(QUrl url, RequestOptions opts)
{
    return send("GET", std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncRequest::head(QUrl url, RequestOptions opts)
{
    return send("HEAD", std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncRequest::options(QUrl url, RequestOptions opts)
{
    return send("OPTIONS", std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncRequest::deleteResource(QUrl url, RequestOptions opts)
{
    return send("DELETE", std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncRequest::post(QUrl url, Body body, RequestOptions opts)
{
    opts.body = std::move(body);
    return send("POST", std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncRequest::put(QUrl url, Body body, RequestOptions opts)
{
    opts.body = std::move(body);
    return send("PUT", std::move(url), std::move(opts));
}
QCoro::Task<Response> AsyncRequest::patch(QUrl url, Body body, RequestOptions opts)
{
    opts.body = std::move(body);
    return send("PATCH", std::move(url), std::move(opts));
}

} // namespace Reqivo
