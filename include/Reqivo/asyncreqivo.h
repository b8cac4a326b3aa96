// Reqivo::AsyncReqivo: the seed's single entry point for coroutine code, a fluent facade over
// an AsyncSession.
//
//   Reqivo::AsyncReqivo api(QUrl(u"http://127.0.0.1:8080"_s), Reqivo::Timeout::all(5s));
//   api.bearerToken(u"t0k3n"_s).onResponse([](Reqivo::Response r) { return r; });
//   Reqivo::Response r = co_await api.get(QUrl(u"/users/1"_s));
//   Reqivo::AsyncWebSocket *feed = api.webSocket(QUrl(u"/feed"_s)); // ws://127.0.0.1:8080/feed
//   co_await feed->open();                                            // (owned by api)
#pragma once

#include <Reqivo/asyncsession.h>
#include <Reqivo/facadebase.h>

namespace Reqivo {

//! The seed's single entry point for coroutine code: a fluent facade over an AsyncSession.
//!
//!     Reqivo::AsyncReqivo api(QUrl(u"http://127.0.0.1:8080"_s), Reqivo::Timeout::all(5s));
//!     api.bearerToken(u"t0k3n"_s);
//!     const Reqivo::Response r = co_await api.get(QUrl(u"/users/1"_s));
//!
//! The fluent setters come from FacadeBase; session() reaches everything else.
class REQIVO_EXPORT AsyncReqivo : public FacadeBase<AsyncReqivo, AsyncSession>
{
public:
    //! A facade whose session has \a baseUrl, \a timeout, default \a headers and \a limits.
    explicit AsyncReqivo(const QUrl &baseUrl = {}, const Timeout &timeout = {},
                         const Headers &headers = {}, const Limits &limits = {});
    //! Destroys the session, ending its requests (see AsyncSession::~AsyncSession()).
    ~AsyncReqivo();
    AsyncReqivo(const AsyncReqivo &) = delete;
    AsyncReqivo &operator=(const AsyncReqivo &) = delete;

    //! AsyncSession::request() on the facade's session.
    [[nodiscard]] QCoro::Task<Response> request(
        QByteArray method, QUrl url, RequestOptions opts = {});
    //! @{
    //! request() with the method the name says; a non-empty Body is sent.
    [[nodiscard]] QCoro::Task<Response> get(QUrl url, RequestOptions opts = {});
    [[nodiscard]] QCoro::Task<Response> head(QUrl url, RequestOptions opts = {});
    [[nodiscard]] QCoro::Task<Response> options(QUrl url, RequestOptions opts = {});
    [[nodiscard]] QCoro::Task<Response> deleteResource(QUrl url, RequestOptions opts = {});
    [[nodiscard]] QCoro::Task<Response> post(QUrl url, Body body = {}, RequestOptions opts = {});
    [[nodiscard]] QCoro::Task<Response> put(QUrl url, Body body = {}, RequestOptions opts = {});
    [[nodiscard]] QCoro::Task<Response> patch(QUrl url, Body body = {}, RequestOptions opts = {});
    //! @}

    //! A WebSocket opened as the session would send a request to \a url: relative to the base
    //! URL (http → ws, https → wss), with the default headers, cookies, auth, TLS options and
    //! proxy (see AsyncSession::webSocket()). Not opened yet: co_await open() on it. Parented
    //! to \a parent, or to the facade's session.
    AsyncWebSocket *webSocket(
        const QUrl &url, const WebSocketOptions &options = {}, QObject *parent = nullptr);

    //! A Server-Sent Events stream of \a url sent as the facade's session sends requests (see
    //! AsyncSession::eventSource()). Parented to \a parent, or to the facade's session.
    AsyncEventSource *eventSource(
        const QUrl &url, const EventSourceOptions &options = {}, QObject *parent = nullptr);
};

} // namespace Reqivo
