// Connection and Request: one runBlocking() per call over their async twins.
#include <Reqivo/asyncrequest.h>
#include <Reqivo/connection.h>
#include <Reqivo/request.h>

#include "syncrunner_p.h"

namespace Reqivo {

Connection::Connection() : m_async(std::make_unique<AsyncConnection>()) { }
Connection::~Connection() = default;

void Connection::connectToHost(const Endpoint &endpoint, std::chrono::milliseconds timeout)
{
    Sync::runBlocking([&] { return m_async->connectToHost(endpoint, timeout); },
                      "Reqivo::Connection::connectToHost()");
}

void Connection::write(const QByteArray &data, std::chrono::milliseconds timeout)
{
    Sync::runBlocking([&] { return m_async->write(data, timeout); },
                      "Reqivo::Connection::write()");
}

QByteArray Connection::read(std::chrono::milliseconds timeout)
{
    return Sync::runBlocking([&] { return m_async->read(timeout); },
                             "Reqivo::Connection::read()");
}

Response Request::send(const QByteArray &method, const QUrl &url, const RequestOptions &opts)
{
    return Sync::runBlocking([&] { return AsyncRequest::send(method, url, opts); },
                             "Reqivo::Request::send()");
}
Response Request::get(const QUrl &url, const RequestOptions &opts)
{
    return send(QByteArrayLiteral("GET"), url, opts);
}
Response Request::head(const QUrl &url, const RequestOptions &opts)
{
    return send(QByteArrayLiteral("HEAD"), url, opts);
}
Response Request::options(const QUrl &url, const RequestOptions &opts)
{
    return send(QByteArrayLiteral("OPTIONS"), url, opts);
}
Response Request::deleteResource(const QUrl &url, const RequestOptions &opts)
{
    return send(QByteArrayLiteral("DELETE"), url, opts);
}
Response Request::post(const QUrl &url, const Body &body, const RequestOptions &opts)
{
    RequestOptions o = opts;
    o.body = body;
    return send(QByteArrayLiteral("POST"), url, o);
}
Response Request::put(const QUrl &url, const Body &body, const RequestOptions &opts)
{
    RequestOptions o = opts;
    o.body = body;
    return send(QByteArrayLiteral("PUT"), url, o);
}
Response Request::patch(const QUrl &url, const Body &body, const RequestOptions &opts)
{
    RequestOptions o = opts;
    o.body = body;
    return send(QByteArrayLiteral("PATCH"), url, o);
}

} // namespace Reqivo
