// Session: every method is one runBlocking() over the AsyncSession method of the same name.
#include <Reqivo/session.h>

#include "syncrunner_p.h"

namespace Reqivo {

Session::Session() : m_async(std::make_unique<AsyncSession>()) { }

Session::Session(const QUrl &baseUrl) : Session() { m_async->setBaseUrl(baseUrl); }

Session::Session(ConnectionPool *pool, const QUrl &baseUrl) : Session(baseUrl)
{
    if (pool)
        pool->attach(m_async->pool());
}

AsyncSession &Session::async() const { return *m_async; }

Session::~Session() = default;

Response Session::request(const QByteArray &method, const QUrl &url, const RequestOptions &opts)
{
    return Sync::runBlocking([&] { return m_async->request(method, url, opts); },
        "Reqivo::Session::request()", m_async.get());
}
Response Session::get(const QUrl &url, const RequestOptions &opts)
{
    return request(QByteArrayLiteral("GET"), url, opts);
}
Response Session::head(const QUrl &url, const RequestOptions &opts)
{
    return request(QByteArrayLiteral("HEAD"), url, opts);
}
Response Session::options(const QUrl &url, const RequestOptions &opts)
{
    return request(QByteArrayLiteral("OPTIONS"), url, opts);
}
Response Session::deleteResource(const QUrl &url, const RequestOptions &opts)
{
    return request(QByteArrayLiteral("DELETE"), url, opts);
}
Response Session::post(const QUrl &url, const RequestOptions &opts)
{
    return request(QByteArrayLiteral("POST"), url, opts);
}
Response Session::put(const QUrl &url, const RequestOptions &opts)
{
    return request(QByteArrayLiteral("PUT"), url, opts);
}
Response Session::patch(const QUrl &url, const RequestOptions &opts)
{
    return request(QByteArrayLiteral("PATCH"), url, opts);
}
Response Session::post(const QUrl &url, const Body &body, const RequestOptions &opts)
{
    RequestOptions o = opts;
    o.body = body;
    return request(QByteArrayLiteral("POST"), url, o);
}
Response Session::put(const QUrl &url, const Body &body, const RequestOptions &opts)
{
    RequestOptions o = opts;
    o.body = body;
    return request(QByteArrayLiteral("PUT"), url, o);
}
Response Session::patch(const QUrl &url, const Body &body, const RequestOptions &opts)
{
    RequestOptions o = opts;
    o.body = body;
    return request(QByteArrayLiteral("PATCH"), url, o);
}

QByteArray Session::readChunk(Response &response, qint64 maxBytes)
{
    return Sync::runBlocking([&] { return response.readChunk(maxBytes); },
                             "Reqivo::Session::readChunk()");
}

QByteArray Session::readAll(Response &response)
{
    return Sync::runBlocking([&] { return response.readAll(); }, "Reqivo::Session::readAll()");
}

} // namespace Reqivo
