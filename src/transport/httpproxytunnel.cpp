// The HTTP proxy's CONNECT exchange, sans-I/O. See httpproxytunnel.h.
#include "httpproxytunnel.h"
#include "asyncconnection_p.h"

#include <Reqivo/errors.h>

#include <QUrl>

namespace Reqivo::Transport {

namespace {

Limits answerLimits()
{
    Limits limits;
    limits.maxHeaderBytes = 16 * 1024;
    limits.maxLineBytes = 8 * 1024;
    limits.maxFieldCount = 64;
    limits.maxInterimResponses = 4;
    limits.maxBodyBytes = ConnectAnswer::maxDroppedBody;
    return limits;
}

} // namespace

QByteArray connectTarget(const Endpoint &endpoint)
{
    QByteArray host;
    if (endpoint.host.contains(QLatin1Char(':'))) {
        host = '[' + endpoint.host.toLatin1() + ']';
    } else {
        host = QUrl::toAce(endpoint.host); // an IDN as the proxy can read it
        if (host.isEmpty())
            host = endpoint.host.toUtf8();
    }
    return host + ':' + QByteArray::number(endpoint.port);
}

QByteArray connectRequest(const Endpoint &endpoint, const QByteArray &proxyAuthorization)
{
    const QByteArray target = connectTarget(endpoint);
    QByteArray request = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
    if (!proxyAuthorization.isEmpty())
        request += "Proxy-Authorization: " + proxyAuthorization + "\r\n";
    request += "\r\n";
    return request;
}

ConnectAnswer::ConnectAnswer()
    : m_parser(std::make_unique<Protocol::ResponseParser>(answerLimits()))
{
    m_parser->setRequestMethod("CONNECT");
}

ConnectAnswer::~ConnectAnswer() = default;

ConnectAnswer::State ConnectAnswer::receive(const QByteArray &data)
{
    if (m_state != State::NeedData)
        return m_state;
    m_parser->receiveData(data);
    return advance();
}

ConnectAnswer::State ConnectAnswer::receiveEof()
{
    if (m_state != State::NeedData)
        return m_state;
    m_eof = true;
    m_parser->receiveEof();
    return advance();
}

ConnectAnswer::State ConnectAnswer::advance()
{
    using Type = Protocol::ResponseParser::EventType;
    for (;;) {
        const Protocol::ResponseParser::Event event = m_parser->nextEvent();
        switch (event.type) {
        case Type::NeedData:
            return m_state;
        case Type::Head: {
            const int code = m_parser->head().status;
            if (m_parser->head().isInterim())
                continue;
            if (code != 407 && (code < 200 || code > 299)) {
                m_state = State::Refused;
                return m_state;
            }
            continue; // a 2xx ends at once; a 407's body follows
        }
        case Type::Data:
            m_dropped += event.data.size();
            continue;
        case Type::EndOfMessage: {
            const int code = m_parser->head().status;
            if (code >= 200 && code <= 299) {
                m_state = State::Established;
            } else {
                m_reusable = m_parser->isReusable();
                m_state = State::AuthRequired;
            }
            return m_state;
        }
        case Type::Error:
            // A 407 whose body is over the bound, or cut by the proxy closing: still a 407
            // (the connection is lost, a new one answers it). Anything else is a bad answer.
            if (m_parser->head().status == 407
                && m_parser->state() != Protocol::ResponseParser::State::Head) {
                m_reusable = false;
                m_state = State::AuthRequired;
                return m_state;
            }
            m_problem = m_parser->errorMessage();
            m_state = State::Refused;
            return m_state;
        case Type::Paused:
            return m_state;
        }
    }
}

QString challengeDetail(const ConnectAnswer &answer)
{
    QString detail = answer.statusLine();
    for (const QByteArray &value : answer.headers().values("proxy-authenticate"))
        detail += QStringLiteral("\nProxy-Authenticate: ") + QString::fromLatin1(value);
    return detail;
}

QString ConnectAnswer::statusLine() const
{
    const Protocol::ResponseHead &head = m_parser->head();
    if (head.status == 0)
        return m_problem.isEmpty() ? QStringLiteral("no answer") : m_problem;
    return QStringLiteral("HTTP/1.%1 %2 %3")
        .arg(head.versionMinor)
        .arg(head.status)
        .arg(QString::fromLatin1(head.reason))
        .trimmed();
}

int ConnectAnswer::status() const
{
    return m_parser->head().status;
}

const Headers &ConnectAnswer::headers() const
{
    return m_parser->head().headers;
}

QByteArray ConnectAnswer::unconsumed() const
{
    return m_parser->unconsumed().toByteArray();
}

QByteArray proxyAuthorization(const QNetworkProxy &proxy, const Headers &challengeHeaders,
    QByteArrayView method, QByteArrayView target, Protocol::Auth::DigestState *digest)
{
    if (proxy.user().isEmpty() && proxy.password().isEmpty())
        return {};
    const QList<Protocol::Auth::Challenge> challenges
        = Protocol::Auth::parseChallenges(challengeHeaders, "proxy-authenticate");
    return Protocol::Auth::answerChallenges(
        challenges, method, target, proxy.user(), proxy.password(), digest)
        .value_or(QByteArray());
}

} // namespace Reqivo::Transport

// --- driving it over an AsyncConnection's socket ------------------------------------------------

namespace Reqivo {

namespace {

[[noreturn]] void throwProxy(
    Error::NetworkFailure failure, const QString &message, const QUrl &url, const QString &detail)
{
    throw NetworkError(Error(Error::Kind::Network, message, url, detail, int(failure)));
}

// Until the socket is connected to the proxy (or the connect failed, timed out or was
// aborted: then the connect's own error).
QCoro::Task<void> waitForProxyTcp(AsyncConnectionPrivate *dd)
{
    using Result = AsyncConnectionPrivate::Waiter::Result;
    while (!dd->m_tcpConnected) {
        if (dd->m_failed || dd->m_eof || dd->m_closedLocally || dd->m_connectTimedOut
            || dd->m_socket->state() == QAbstractSocket::UnconnectedState) {
            dd->m_connectTimer.stop();
            dd->throwConnectError();
        }
        const Result result
            = co_await AsyncConnectionPrivate::Wait(dd, dd->m_connectWaiter, nullptr, {});
        if (result == Result::Destroyed)
            throw NetworkError(QStringLiteral("connection was destroyed while connecting"));
    }
}

} // namespace

QCoro::Task<void> AsyncConnectionPrivate::openHttpProxyTunnel(AsyncConnectionPrivate *dd)
{
    using Transport::ConnectAnswer;
    using Failure = Error::NetworkFailure;
    using Result = Waiter::Result;
    co_await waitForProxyTcp(dd);
    const Endpoint &endpoint = dd->m_endpoint; // dd outlives the call (Destroyed throws)
    if (endpoint.usesAbsoluteForm()) {
        dd->m_connected = true; // requests go to the proxy as they are
        co_return;
    }
    const QUrl url = endpoint.toUrl();
    const QString where = endpoint.description();
    const QByteArray target = Transport::connectTarget(endpoint);
    Protocol::Auth::DigestState digest;
    QByteArray authorization;
    bool answered = false;
    dd->m_tunnelling = true;
    for (;;) {
        ++dd->m_inCall;
        dd->m_socket->write(Transport::connectRequest(endpoint, authorization));
        dd->m_socket->flush();
        --dd->m_inCall;
        ConnectAnswer answer;
        while (answer.state() == ConnectAnswer::State::NeedData) {
            if (dd->m_closedLocally || dd->m_connectTimedOut) {
                dd->m_connectTimer.stop();
                dd->throwConnectError();
            }
            if (dd->m_socket->bytesAvailable() > 0) {
                answer.receive(dd->m_socket->read(dd->m_socket->bytesAvailable()));
                continue;
            }
            if (dd->m_eof || dd->m_failed
                || dd->m_socket->state() == QAbstractSocket::UnconnectedState) {
                answer.receiveEof();
                continue;
            }
            const Result result
                = co_await AsyncConnectionPrivate::Wait(dd, dd->m_connectWaiter, nullptr, {});
            if (result == Result::Destroyed)
                throw NetworkError(QStringLiteral("connection was destroyed while connecting"));
        }
        if (answer.state() == ConnectAnswer::State::Established) {
            if (!answer.unconsumed().isEmpty()) {
                throwProxy(Failure::ProxyFailure,
                    QStringLiteral("proxy error while connecting to %1: bytes of the proxy's own "
                                   "after its CONNECT answer")
                        .arg(where),
                    url, answer.statusLine());
            }
            break;
        }
        if (answer.state() == ConnectAnswer::State::Refused) {
            dd->m_connectTimer.stop();
            if (answer.status() == 0 && !dd->m_eof && dd->m_failed)
                dd->throwConnectError(); // a socket error, not an answer
            throwProxy(Failure::ProxyFailure,
                answer.status() == 0
                    ? QStringLiteral("proxy error while connecting to %1: no answer to CONNECT")
                          .arg(where)
                    : QStringLiteral("proxy error while connecting to %1: CONNECT refused")
                          .arg(where),
                url, answer.statusLine());
        }
        // 407: answered once with the proxy's credentials, on this connection when the proxy
        // keeps it, else on a new one.
        if (!answered) {
            authorization = Transport::proxyAuthorization(
                endpoint.proxy, answer.headers(), "CONNECT", target, &digest);
        }
        if (answered || authorization.isEmpty()) {
            dd->m_connectTimer.stop();
            throwProxy(Failure::ProxyAuthenticationRequired,
                answered ? QStringLiteral("proxy error while connecting to %1: the proxy refused "
                                          "its credentials")
                               .arg(where)
                         : QStringLiteral("proxy error while connecting to %1: the proxy asks for "
                                          "credentials (none set, or no supported scheme)")
                               .arg(where),
                url, Transport::challengeDetail(answer));
        }
        answered = true;
        if (!answer.connectionReusable() || dd->m_eof || dd->m_failed
            || dd->m_socket->state() != QAbstractSocket::ConnectedState) {
            ++dd->m_inCall;
            dd->m_socket->abort();
            --dd->m_inCall;
            if (dd->m_closedLocally || dd->m_connectTimedOut) {
                dd->m_connectTimer.stop();
                dd->throwConnectError();
            }
            dd->m_eof = false;
            dd->m_failed = false;
            dd->m_tcpConnected = false;
            dd->m_error = QAbstractSocket::UnknownSocketError;
            dd->m_errorString.clear();
            ++dd->m_inCall;
            dd->m_socket->connectToHost(endpoint.proxy.hostName(), endpoint.proxy.port());
            --dd->m_inCall;
            dd->m_tunnelling = false;
            co_await waitForProxyTcp(dd);
            dd->m_tunnelling = true;
        }
    }
    dd->m_tunnelling = false;
    dd->m_times.tunnelEnd = std::chrono::steady_clock::now();
    if (!dd->m_ssl) {
        dd->m_connected = true;
        co_return;
    }
    // TLS with the origin inside the tunnel: its name for SNI and verification (set before
    // the connect, see connectAbortable()), ALPN as configured there.
    ++dd->m_inCall;
    dd->m_ssl->startClientEncryption();
    --dd->m_inCall;
}

} // namespace Reqivo
