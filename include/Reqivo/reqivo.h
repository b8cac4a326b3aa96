// Reqivo::Reqivo: the seed's single entry point for blocking code, a fluent facade over a
// Session. This header also includes every other public header first: inside namespace Reqivo
// the class name Reqivo would otherwise hide the namespace in a later "Reqivo::X".
// (For the same reason, do not combine it with `using namespace Reqivo;`.)
//
//   QCoreApplication app(argc, argv);
//   Reqivo::Reqivo api(QUrl(u"http://127.0.0.1:8080"_s), Reqivo::Timeout::all(5s));
//   Reqivo::Response r = api.bearerToken(u"t0k3n"_s).get(QUrl(u"/users/1"_s));
//   auto feed = api.webSocket(QUrl(u"/feed"_s));   // ws://127.0.0.1:8080/feed, same token
//   feed->open();
#pragma once

#include <Reqivo/asyncconnection.h>
#include <Reqivo/asyncconnectionpool.h>
#include <Reqivo/asynceventsource.h>
#include <Reqivo/asyncreqivo.h>
#include <Reqivo/asyncrequest.h>
#include <Reqivo/asyncsession.h>
#include <Reqivo/asyncwebsocket.h>
#include <Reqivo/body.h>
#include <Reqivo/connection.h>
#include <Reqivo/connectionpool.h>
#include <Reqivo/cookiejar.h>
#include <Reqivo/endpoint.h>
#include <Reqivo/errors.h>
#include <Reqivo/eventsource.h>
#include <Reqivo/eventsourceoptions.h>
#include <Reqivo/facadebase.h>
#include <Reqivo/headers.h>
#include <Reqivo/limits.h>
#include <Reqivo/multipart.h>
#include <Reqivo/reply.h>
#include <Reqivo/request.h>
#include <Reqivo/requestoptions.h>
#include <Reqivo/response.h>
#include <Reqivo/session.h>
#include <Reqivo/timeout.h>
#include <Reqivo/websocket.h>
#include <Reqivo/whenall.h>

namespace Reqivo {

//! The seed's single entry point for blocking code: a fluent facade over a Session.
//!
//!     QCoreApplication app(argc, argv);
//!     Reqivo::Reqivo api(QUrl(u"http://127.0.0.1:8080"_s), Reqivo::Timeout::all(5s));
//!     const Reqivo::Response r = api.bearerToken(u"t0k3n"_s).get(QUrl(u"/users/1"_s));
//!
//! Its header includes every other public header first (the class name would otherwise hide
//! the namespace in a later `Reqivo::X`); do not combine it with `using namespace Reqivo;`.
class REQIVO_EXPORT Reqivo : public FacadeBase<Reqivo, Session>
{
public:
    //! A facade whose session has \a baseUrl, \a timeout, default \a headers and \a limits.
    explicit Reqivo(const QUrl &baseUrl = {}, const Timeout &timeout = {},
                    const Headers &headers = {}, const Limits &limits = {});
    //! Destroys the session and its connections.
    ~Reqivo();
    Reqivo(const Reqivo &) = delete;
    Reqivo &operator=(const Reqivo &) = delete;

    //! Session::request() on the facade's session.
    Response request(const QByteArray &method, const QUrl &url, const RequestOptions &opts = {});
    //! @{
    //! request() with the method the name says; a non-empty Body is sent.
    Response get(const QUrl &url, const RequestOptions &opts = {});
    Response head(const QUrl &url, const RequestOptions &opts = {});
    Response options(const QUrl &url, const RequestOptions &opts = {});
    Response deleteResource(const QUrl &url, const RequestOptions &opts = {});
    Response post(const QUrl &url, const Body &body = {}, const RequestOptions &opts = {});
    Response put(const QUrl &url, const Body &body = {}, const RequestOptions &opts = {});
    Response patch(const QUrl &url, const Body &body = {}, const RequestOptions &opts = {});
    //! @}

    //! A blocking WebSocket opened as the session would send a request to \a url: relative to
    //! the base URL (http → ws, https → wss), with the default headers, cookies, auth, TLS
    //! options and proxy (see Session::webSocket()). Not opened yet: call open() on it.
    std::unique_ptr<WebSocket> webSocket(const QUrl &url, const WebSocketOptions &options = {});

    //! A blocking Server-Sent Events stream of \a url sent as the facade's session sends
    //! requests (see Session::eventSource()).
    std::unique_ptr<EventSource> eventSource(
        const QUrl &url, const EventSourceOptions &options = {});
};

} // namespace Reqivo
