// Reqivo::AsyncRequest: the seed's stateless one-shot requests. Each call opens its own
// connection, keeps no cookies and shares nothing; use AsyncSession for anything repeated.
//
//   Reqivo::Response r = co_await Reqivo::AsyncRequest::get(QUrl(u"http://127.0.0.1:8080/"_s));
#pragma once

#include <Reqivo/requestoptions.h>
#include <Reqivo/response.h>

#include <QCoro/QCoroTask>

namespace Reqivo {

//! The seed's stateless one-shot requests: each call opens its own connection, keeps no
//! cookies and shares nothing. Use an AsyncSession for anything repeated.
//!
//!     const Reqivo::Response r =
//!         co_await Reqivo::AsyncRequest::get(QUrl(u"http://127.0.0.1:8080/"_s));
class REQIVO_EXPORT AsyncRequest
{
public:
    AsyncRequest() = delete;

    //! Sends one request with \a method to the absolute \a url. Throws the seed's exceptions.
    //! A streamed response keeps its connection until read.
    [[nodiscard]] static QCoro::Task<Response> send(
        QByteArray method, QUrl url, RequestOptions opts = {});
    //! @{
    //! send() with the method the name says; the overloads with a Body send it.
    [[nodiscard]] static QCoro::Task<Response> get(QUrl url, RequestOptions opts = {});
    [[nodiscard]] static QCoro::Task<Response> head(QUrl url, RequestOptions opts = {});
    [[nodiscard]] static QCoro::Task<Response> options(QUrl url, RequestOptions opts = {});
    [[nodiscard]] static QCoro::Task<Response> deleteResource(QUrl url, RequestOptions opts = {});
    [[nodiscard]] static QCoro::Task<Response> post(QUrl url, Body body, RequestOptions opts = {});
    [[nodiscard]] static QCoro::Task<Response> put(QUrl url, Body body, RequestOptions opts = {});
    [[nodiscard]] static QCoro::Task<Response> patch(QUrl url, Body body, RequestOptions opts = {});
    //! @}
};

} // namespace Reqivo
