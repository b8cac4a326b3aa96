// Reqivo::Request: the blocking twin of AsyncRequest — stateless one-shot requests: a
// connection of their own, no cookies kept, nothing shared. Needs a QCoreApplication.
//
//   Reqivo::Response r = Reqivo::Request::get(QUrl(u"http://127.0.0.1:8080/health"_s));
#pragma once

#include <Reqivo/requestoptions.h>
#include <Reqivo/response.h>

namespace Reqivo {

//! The blocking twin of AsyncRequest: stateless one-shot requests, each with a connection of
//! its own, no cookies kept, nothing shared. Needs a QCoreApplication.
//!
//!     const Reqivo::Response r = Reqivo::Request::get(QUrl(u"http://127.0.0.1:8080/health"_s));
class REQIVO_EXPORT Request
{
public:
    Request() = delete;

    //! Sends one request with \a method to the absolute \a url and returns its response, or
    //! throws (as AsyncRequest::send()).
    static Response send(const QByteArray &method, const QUrl &url,
                         const RequestOptions &opts = {});
    //! @{
    //! send() with the method the name says; the overloads with a Body send it.
    static Response get(const QUrl &url, const RequestOptions &opts = {});
    static Response head(const QUrl &url, const RequestOptions &opts = {});
    static Response options(const QUrl &url, const RequestOptions &opts = {});
    static Response deleteResource(const QUrl &url, const RequestOptions &opts = {});
    static Response post(const QUrl &url, const Body &body, const RequestOptions &opts = {});
    static Response put(const QUrl &url, const Body &body, const RequestOptions &opts = {});
    static Response patch(const QUrl &url, const Body &body, const RequestOptions &opts = {});
    //! @}
};

} // namespace Reqivo
