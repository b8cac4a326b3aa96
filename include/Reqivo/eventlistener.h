// Reqivo::EventListener: what a request did and when, event by event, in the spirit of
// OkHttp's EventListener. See docs/observability.md.
//
//   class Log : public Reqivo::EventListener {
//       void onEvent(const Reqivo::RequestEvent &e) override { qDebug() << e.typeName(); }
//   };
//   session.setEventListener(std::make_shared<Log>());
#pragma once

#include <Reqivo/errors.h>
#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QString>
#include <QUrl>

#include <chrono>
#include <functional>
#include <memory>

namespace Reqivo {

//! One event of one request (a "call": the request with its redirects and retries).
//!
//! The fields up to `time` are set on every event; the others only on the events that name
//! them, and keep their defaults on the rest.
struct REQIVO_EXPORT RequestEvent
{
    //! What happened. In the order they come for one attempt over a new connection.
    enum class Type {
        CallStart, //!< The request was made (before its URL is checked or any hook runs).
        PoolWaitStart, //!< An attempt asks the pool for a connection (or an HTTP/2 stream).
        PoolWaitEnd, //!< The pool gave a connection, or a slot to open one.
        DnsStart, //!< Name lookup began: `host`.
        DnsEnd, //!< Name lookup ended: `host`. None for an IP address literal.
        ConnectStart, //!< TCP connect began: `address` is the host and port asked for.
        ConnectEnd, //!< TCP connected: `address` is the peer (or proxy) connected to.
        ProxyTunnelStart, //!< A proxy tunnel (CONNECT, SOCKS5) began.
        ProxyTunnelEnd, //!< The tunnel is up.
        TlsStart, //!< The TLS handshake began.
        TlsEnd, //!< The TLS handshake ended: `tlsProtocol`, `tlsCipher`, `alpn`.
        ConnectionAcquired, //!< The attempt holds a connection: `connectionId`, `reused`.
        RequestHeadSent, //!< The request head was written (HTTP/2: handed to the session).
        RequestBodySent, //!< The request body was written: `bytes`.
        ResponseHeadReceived, //!< The final response head came: `status`, `httpVersion`.
        ResponseBodyEnd, //!< The response body was read to its end: `bytes` (decoded).
        ConnectionReleased, //!< The attempt let its connection go: `connectionId`, `reused`
                            //!< (true when it went back to the pool, false when closed).
        Redirect, //!< A redirect is followed to `location`.
        RetryDecision, //!< The retry policy decided: `retry`, `reason`, `delay`.
        //! A 401/407 challenge was answered and the hop goes again: `status`, `scheme` (the
        //! answer's, empty when an Authenticator answered with other fields).
        AuthChallenge,
        CallEnd, //!< The request returned its response (a streamed body may still be read).
        CallFailed, //!< The request threw `error`.
        CallCancelled, //!< The request was cancelled (Reply::abort(), cancelWith(), session
                       //!< end): `error` is the RequestError it threw.
    };

    Type type = Type::CallStart; //!< What happened.
    //! Tells concurrent requests apart: unique per request within the process.
    quint64 callId = 0;
    QByteArray method; //!< "GET", ... (of the current hop)
    QUrl url; //!< The current hop's URL, without user info.
    //! The attempt of the current hop the event belongs to, from 1: every try on the wire
    //! counts, the resend on a fresh connection after a stale reused one too (0 for CallStart).
    int attempt = 0;
    //! When it happened. Connection phases are told when the connection is acquired, with the
    //! times they happened (docs/observability.md).
    std::chrono::steady_clock::time_point time;

    QString host; //!< DnsStart, DnsEnd
    QString address; //!< ConnectStart ("host:port" asked), ConnectEnd ("ip:port" reached)
    QString tlsProtocol; //!< TlsEnd: "TLSv1.3", ...
    QString tlsCipher; //!< TlsEnd: the cipher suite's name
    QByteArray alpn; //!< TlsEnd: the ALPN protocol agreed ("h2", "http/1.1"), empty for none
    quint64 connectionId = 0; //!< ConnectionAcquired, ConnectionReleased
    bool reused = false; //!< ConnectionAcquired: reused; ConnectionReleased: kept for reuse
    int status = 0; //!< ResponseHeadReceived, AuthChallenge
    QString httpVersion; //!< ResponseHeadReceived: "1.1", "2", ...
    qint64 bytes = -1; //!< RequestBodySent, ResponseBodyEnd
    QUrl location; //!< Redirect: where to, without user info
    bool retry = false; //!< RetryDecision: the attempt is followed by another one
    QString reason; //!< RetryDecision: why (or why not), see docs/resilience.md
    std::chrono::milliseconds delay {0}; //!< RetryDecision: the backoff before the next attempt
    QByteArray scheme; //!< AuthChallenge: "Basic", "Digest", ...
    Error error; //!< CallFailed, CallCancelled

    //! The name of \a type, e.g. "ConnectEnd".
    static QString typeName(Type type);
    //! The name of this event's type.
    QString typeName() const { return typeName(type); }
};

//! Told of requests' events (AsyncSession::setEventListener(), RequestOptions::listener).
//!
//! Events come in the session's thread, in the order of each request's stages, from inside
//! the request: onEvent() must return quickly and must not block or destroy the session.
//! An exception it throws is dropped (with a warning): it does not reach the request.
//! Concurrent requests interleave their events; RequestEvent::callId tells them apart. With no
//! listener set, a request does not build a single event.
class REQIVO_EXPORT EventListener
{
public:
    virtual ~EventListener();
    //! Called for each event; the default does nothing.
    virtual void onEvent(const RequestEvent &event);

    //! A listener that calls \a callback for each event.
    static std::shared_ptr<EventListener> create(
        std::function<void(const RequestEvent &)> callback);
};

} // namespace Reqivo
