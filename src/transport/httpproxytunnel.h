// The HTTP proxy done in-house, sans-I/O parts: the CONNECT request (RFC 9110 §9.3.6), the
// proxy's answer read with the protocol layer's strict ResponseParser (bounded head, a 407's
// body read and dropped within a bound), and the Proxy-Authorization answering a 407 with the
// proxy's credentials (Basic or Digest, the first supported challenge). AsyncConnection drives
// it over the socket (asyncconnection.cpp, AsyncConnectionPrivate::openTunnel()).
#pragma once

#include <Reqivo/endpoint.h>
#include <Reqivo/headers.h>
#include <Reqivo/reqivoglobal.h>

#include "protocol/httpauth.h"
#include "protocol/responseparser.h"

#include <QByteArray>
#include <QNetworkProxy>

#include <memory>

namespace Reqivo::Transport {

//! "host:port" as a CONNECT request-target and Host field (IPv6 in brackets).
REQIVO_TESTS_EXPORT QByteArray connectTarget(const Endpoint &endpoint);

//! The CONNECT request for \a endpoint, with Proxy-Authorization when \a proxyAuthorization
//! is not empty.
REQIVO_TESTS_EXPORT QByteArray connectRequest(
    const Endpoint &endpoint, const QByteArray &proxyAuthorization);

//! Reads a proxy's answer to one CONNECT request.
class REQIVO_TESTS_EXPORT ConnectAnswer
{
public:
    enum class State {
        NeedData, //!< feed more bytes (or the end of the stream)
        Established, //!< 2xx: the tunnel is up, the connection now carries the origin's bytes
        AuthRequired, //!< 407, read whole (or the proxy closed after its head)
        Refused, //!< another final status, or a malformed answer: the connect fails
    };
    //! The largest 407 body read and dropped to keep the connection; a larger one costs it.
    static constexpr qsizetype maxDroppedBody = 64 * 1024;

    ConnectAnswer();
    ~ConnectAnswer();
    ConnectAnswer(const ConnectAnswer &) = delete;
    ConnectAnswer &operator=(const ConnectAnswer &) = delete;

    State receive(const QByteArray &data);
    State receiveEof();
    State state() const { return m_state; }
    //! The status line ("HTTP/1.1 407 Proxy Authentication Required"), for messages.
    QString statusLine() const;
    int status() const;
    const Headers &headers() const;
    //! Why the answer was refused when it was malformed; empty for a well-formed status.
    QString problem() const { return m_problem; }
    //! After AuthRequired: the proxy keeps the connection open for the next CONNECT.
    bool connectionReusable() const { return m_reusable; }
    //! After Established: bytes that came after the answer's head (none from a proxy that
    //! waits for the client, which every origin protocol here does).
    QByteArray unconsumed() const;

private:
    State advance();

    std::unique_ptr<Protocol::ResponseParser> m_parser;
    State m_state = State::NeedData;
    QString m_problem;
    qsizetype m_dropped = 0;
    bool m_reusable = false;
    bool m_eof = false;
};

//! A 407's Error::detail(): the status line, then one "Proxy-Authenticate: value" line per
//! challenge field, from which the client layer asks the session's Authenticator
//! (proxyChallenges() in src/client/authstep_p.h).
REQIVO_TESTS_EXPORT QString challengeDetail(const ConnectAnswer &answer);

//! The Proxy-Authorization value answering \a challengeHeaders' Proxy-Authenticate with
//! \a proxy's user and password, for a request of \a method to \a target: the first Basic or
//! Digest challenge that can be answered (\a digest keeps the nonce count). Empty when the
//! proxy has no credentials or no challenge can be answered.
REQIVO_TESTS_EXPORT QByteArray proxyAuthorization(const QNetworkProxy &proxy,
    const Headers &challengeHeaders, QByteArrayView method, QByteArrayView target,
    Protocol::Auth::DigestState *digest);

} // namespace Reqivo::Transport
