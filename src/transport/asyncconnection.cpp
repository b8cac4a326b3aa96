// AsyncConnection: a QTcpSocket/QSslSocket driven by coroutines. See asyncconnection_p.h for
// how waiting coroutines are parked and woken.
#include "asyncconnection_p.h"
#include "certificatepin.h"
#include "hostnamecheck.h"
#include "logcategories_p.h"

#include <Reqivo/errors.h>
#include <Reqivo/timeout.h>

#include <QCoreApplication>
#include <QHostAddress>
#include <QLoggingCategory>
#include <QNetworkProxy>
#include <QPointer>
#include <QSslCipher>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTimer>
#include <QTimerEvent>

#include <atomic>
#include <climits>
#include <utility>

#ifdef Q_OS_UNIX
#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#endif

namespace Reqivo {

namespace {

// A connection's life (connect, close, errors) is logged in reqivo.pool, its handshake in
// reqivo.tls (logcategories_p.h).
const QLoggingCategory &lcConnection()
{
    return lcPool();
}

std::atomic<quint64> s_nextConnectionId {1};

using Result = AsyncConnectionPrivate::Waiter::Result;

// Resumes a coroutine from the event loop of the current thread instead of from the current
// call stack. The handle stays valid: QCoro never destroys a suspended coroutine.
void resumeLater(std::coroutine_handle<> handle)
{
    QTimer::singleShot(0, [handle] { handle.resume(); });
}

QString millis(std::chrono::milliseconds timeout)
{
    return QStringLiteral("%1 ms").arg(timeout.count());
}

bool isTlsError(QAbstractSocket::SocketError error)
{
    return error == QAbstractSocket::SslHandshakeFailedError
        || error == QAbstractSocket::SslInternalError
        || error == QAbstractSocket::SslInvalidUserDataError;
}

// The errors of a connection carry what failed in Error::code() (Error::NetworkFailure), so that
// retry classifiers never read a message.
using Failure = Error::NetworkFailure;

[[noreturn]] void throwNetwork(
    Failure failure, const QString &message, const QUrl &url, const QString &detail = {})
{
    throw NetworkError(Error(Error::Kind::Network, message, url, detail, int(failure)));
}

[[noreturn]] void throwTls(const QString &message, const QUrl &url, const QString &detail)
{
    throw TlsError(Error(Error::Kind::Tls, message, url, detail, int(Failure::TlsHandshake)));
}

bool isProxyError(QAbstractSocket::SocketError error)
{
    switch (error) {
    case QAbstractSocket::ProxyAuthenticationRequiredError:
    case QAbstractSocket::ProxyConnectionRefusedError:
    case QAbstractSocket::ProxyConnectionClosedError:
    case QAbstractSocket::ProxyNotFoundError:
    case QAbstractSocket::ProxyProtocolError:
        return true;
    default:
        return false;
    }
}

} // namespace

// --- AsyncConnectionPrivate --------------------------------------------------------------------

// The private object is a child of the connection and the socket a child of the private object,
// so that AsyncConnection::moveToThread() takes all three (and the timers) along: a pool may
// park an idle connection in no thread and another thread may pull it in.
AsyncConnectionPrivate::AsyncConnectionPrivate(AsyncConnection *q)
    : QObject(q)
    , q(q)
    , m_id(s_nextConnectionId.fetch_add(1, std::memory_order_relaxed))
{
}

AsyncConnectionPrivate::~AsyncConnectionPrivate() = default;

void AsyncConnectionPrivate::createSocket()
{
    if (m_endpoint.tls) {
        m_ssl = new QSslSocket(this);
        m_socket = m_ssl;
        connect(m_ssl, &QSslSocket::encrypted, this, &AsyncConnectionPrivate::onEncrypted);
        connect(m_ssl, &QSslSocket::encryptedBytesWritten, this,
            &AsyncConnectionPrivate::onBytesWritten);
        connect(m_ssl, &QSslSocket::sslErrors, this, &AsyncConnectionPrivate::onSslErrors);
        // Qt reports the end of a TLS stream as RemoteHostClosedError whether or not the peer
        // sent close_notify first; only this alert tells the two apart (a truncation check).
        connect(m_ssl, &QSslSocket::alertReceived, this,
            [this](QSsl::AlertLevel, QSsl::AlertType type, const QString &) {
                if (type == QSsl::AlertType::CloseNotify)
                    m_closeNotifyReceived = true;
            });
    } else {
        m_socket = new QTcpSocket(this);
    }
    // Name lookup is a phase of its own unless the host is an address already.
    if (QHostAddress(m_endpoint.host).isNull())
        connect(m_socket, &QAbstractSocket::hostFound, this,
            [this] { m_times.dnsEnd = std::chrono::steady_clock::now(); });
    connect(m_socket, &QAbstractSocket::connected, this, &AsyncConnectionPrivate::onConnected);
    connect(m_socket, &QIODevice::readyRead, this, &AsyncConnectionPrivate::onReadyRead);
    connect(m_socket, &QIODevice::bytesWritten, this, &AsyncConnectionPrivate::onBytesWritten);
    connect(
        m_socket, &QAbstractSocket::disconnected, this, &AsyncConnectionPrivate::onDisconnected);
    connect(
        m_socket, &QAbstractSocket::errorOccurred, this, &AsyncConnectionPrivate::onErrorOccurred);
}

// Timeouts follow timeout.h: Timeout::noLimit (negative) arms nothing, zero fires at the next
// turn of the event loop (the wait fails unless it is already over), a positive one after it.
void AsyncConnectionPrivate::armTimer(QBasicTimer &timer, std::chrono::milliseconds timeout)
{
    if (Timeout::isNoLimit(timeout))
        return;
    timer.start(int(std::min<std::chrono::milliseconds::rep>(timeout.count(), INT_MAX)), this);
}

void AsyncConnectionPrivate::setReadDeadline(std::chrono::milliseconds timeout)
{
    m_hasReadDeadline = !Timeout::isNoLimit(timeout);
    if (!m_hasReadDeadline)
        return;
    m_readDeadline = std::chrono::steady_clock::now() + timeout;
    if (m_readTimer.isActive() && m_readTimerDue <= m_readDeadline)
        return; // it fires first and moves itself to the deadline then
    armTimer(m_readTimer, timeout);
    m_readTimerDue = m_readDeadline;
}

qint64 AsyncConnectionPrivate::pendingWriteBytes() const
{
    if (!m_socket)
        return 0;
    return m_socket->bytesToWrite() + (m_ssl ? m_ssl->encryptedBytesToWrite() : 0);
}

bool AsyncConnectionPrivate::usable(bool peek) const
{
    if (!m_socket || !m_connected || m_closedLocally || m_eof || m_failed)
        return false;
    if (m_socket->state() != QAbstractSocket::ConnectedState || m_socket->bytesAvailable() > 0)
        return false;
    if (m_connectWaiter || m_readWaiter || m_writeWaiter)
        return false;
#ifdef Q_OS_UNIX
    if (peek && m_peekFd >= 0) {
        // The event loop may not have run since the server closed the connection or sent
        // something: ask the kernel. One non-blocking syscall, the check urllib3 and httpcore
        // make before reuse, with urllib3's rule: an idle connection that is readable is
        // dropped. For TLS too: what waits there is most likely a close_notify alert ahead of
        // the FIN (the server closed while nobody was looking), and a record that is not (a late
        // session ticket) only costs a new connection, never a request sent into a dead one.
        char byte;
        const ssize_t n = ::recv(m_peekFd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n >= 0)
            return false;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return false;
    }
#else
    Q_UNUSED(peek);
#endif
    return true;
}

QString AsyncConnectionPrivate::sslErrorDetail() const
{
    if (m_sslErrors.isEmpty())
        return m_errorString;
    QStringList lines;
    for (const QSslError &error : m_sslErrors)
        lines << error.errorString();
    return lines.join(QStringLiteral("; "));
}

void AsyncConnectionPrivate::throwConnectError() const
{
    const QUrl url = m_endpoint.toUrl();
    const QString where = m_endpoint.description();
    if (m_connectAborted)
        Transport::throwAborted(m_abortedPhase, url);
    if (!m_hostNameMismatch.isEmpty()) {
        throwTls(QStringLiteral("TLS handshake with %1 failed").arg(where), url,
            QStringLiteral("host name verification failed: ") + m_hostNameMismatch);
    }
    if (!m_pinMismatch.isEmpty()) {
        throw TlsError(Error(Error::Kind::Tls,
            QStringLiteral("the certificate of %1 matches no pinned key").arg(where), url,
            m_pinMismatch, int(Error::NetworkFailure::TlsHandshake)));
    }
    if (m_connectTimedOut) {
        throw ConnectTimeout(
            QStringLiteral("connecting to %1 timed out after %2%3")
                .arg(where, millis(m_connectTimeout),
                    m_tunnelling                ? QStringLiteral(" (proxy tunnel not open)")
                        : m_ssl && m_tcpConnected ? QStringLiteral(" (TLS handshake not finished)")
                                                  : QString()),
            url);
    }
    if (m_closedLocally)
        throw NetworkError(
            QStringLiteral("connection to %1 was closed while connecting").arg(where), url);
    if (isTlsError(m_error)) {
        throwTls(
            QStringLiteral("TLS handshake with %1 failed").arg(where), url, sslErrorDetail());
    }
    if (isProxyError(m_error)) {
        throwNetwork(m_error == QAbstractSocket::ProxyAuthenticationRequiredError
                ? Failure::ProxyAuthenticationRequired
                : Failure::ProxyFailure,
            QStringLiteral("proxy error while connecting to %1").arg(where), url, m_errorString);
    }
    switch (m_error) {
    case QAbstractSocket::ConnectionRefusedError:
        throwNetwork(Failure::ConnectionRefused,
            QStringLiteral("connection refused by %1").arg(where), url, m_errorString);
    case QAbstractSocket::HostNotFoundError:
        throwNetwork(Failure::HostNotFound, QStringLiteral("host not found: %1").arg(where), url,
            m_errorString);
    case QAbstractSocket::SocketTimeoutError:
    case QAbstractSocket::ProxyConnectionTimeoutError:
        throw ConnectTimeout(
            QStringLiteral("connecting to %1 timed out").arg(where), url, m_errorString);
    default:
        break;
    }
    if (m_eof && m_ssl && m_tcpConnected) {
        throwTls(
            QStringLiteral("%1 closed the connection during the TLS handshake").arg(where), url,
            sslErrorDetail());
    }
    if (m_eof)
        throwNetwork(Failure::ConnectionClosed,
            QStringLiteral("%1 closed the connection while connecting").arg(where), url);
    throw NetworkError(QStringLiteral("cannot connect to %1").arg(where), url,
        m_errorString.isEmpty() ? QStringLiteral("unknown error") : m_errorString);
}

void AsyncConnectionPrivate::throwClosed(const QString &operation) const
{
    const QString where
        = m_endpoint.isValid() ? m_endpoint.description() : QStringLiteral("(nowhere)");
    QString why;
    Failure failure = Failure::Unknown;
    if (!m_socket || (!m_connected && !m_closedLocally)) {
        why = QStringLiteral("not connected");
    } else if (m_closedLocally) {
        why = QStringLiteral("the connection was closed locally");
    } else {
        why = QStringLiteral("the peer closed the connection");
        failure = Failure::ConnectionClosed;
    }
    throwNetwork(
        failure, QStringLiteral("cannot %1 %2: %3").arg(operation, where, why), m_endpoint.toUrl());
}

void AsyncConnectionPrivate::throwSocketError(const QString &operation) const
{
    const QString message = QStringLiteral("error %1 %2").arg(operation, m_endpoint.description());
    if (isTlsError(m_error))
        throwTls(message, m_endpoint.toUrl(), sslErrorDetail());
    // Qt reports a reset (ECONNRESET, EPIPE) as RemoteHostClosedError.
    throwNetwork(m_error == QAbstractSocket::RemoteHostClosedError ? Failure::ConnectionReset
                                                                   : Failure::Unknown,
        message, m_endpoint.toUrl(), m_errorString);
}

void AsyncConnectionPrivate::checkWritable() const
{
    if (!m_socket || !m_connected || m_closedLocally)
        throwClosed(QStringLiteral("write to"));
    if (m_failed)
        throwSocketError(QStringLiteral("writing to"));
    if (m_eof)
        throwClosed(QStringLiteral("write to"));
}

template<typename F>
bool AsyncConnectionPrivate::callOut(F &&f)
{
    // Whoever destroys the connection while f runs sets `destroyed` (teardown()); an outer
    // callOut further up the stack learns it from us.
    bool destroyed = false;
    bool *const outer = std::exchange(m_destroyedFlag, &destroyed);
    std::forward<F>(f)();
    if (destroyed) {
        if (outer)
            *outer = true;
        return false;
    }
    m_destroyedFlag = outer;
    return true;
}

bool AsyncConnectionPrivate::wake(
    Waiter *&slot, QBasicTimer *timer, Waiter::Result result, bool queued)
{
    Waiter *const waiter = slot;
    if (!waiter || waiter->result != Result::Pending)
        return true;
    if (timer)
        timer->stop();
    waiter->result = result;
    if (queued || m_inCall > 0) {
        resumeLater(waiter->handle); // stays in its slot until it runs
        return true;
    }
    slot = nullptr;
    const std::coroutine_handle<> handle = waiter->handle;
    return callOut([handle] { handle.resume(); });
}

bool AsyncConnectionPrivate::wakeAll(Waiter::Result result, bool queued)
{
    // The connect timer covers the whole connect, so a wake does not stop it.
    return wake(m_connectWaiter, nullptr, result, queued)
        && wake(m_readWaiter, nullptr, result, queued)
        && wake(m_writeWaiter, &m_writeTimer, result, queued);
}

bool AsyncConnectionPrivate::notifyLost()
{
    Transport::IdleObserver *const observer = std::exchange(m_idleObserver, nullptr);
    if (!observer)
        return true;
    const quint64 slot = m_idleSlot;
    if (m_inCall > 0) {
        QMetaObject::invokeMethod(
            this, [observer, slot] { observer->idleConnectionLost(slot); }, Qt::QueuedConnection);
        return true;
    }
    return callOut([observer, slot] { observer->idleConnectionLost(slot); });
}

bool AsyncConnectionPrivate::emitClosed()
{
    if (m_closedEmitted || m_closedLocally || !m_connected)
        return true;
    m_closedEmitted = true;
    AsyncConnection *const self = q;
    if (m_inCall > 0) {
        QMetaObject::invokeMethod(self, &AsyncConnection::closed, Qt::QueuedConnection);
        return true;
    }
    return callOut([self] { Q_EMIT self->closed(); });
}

void AsyncConnectionPrivate::findPeekableDescriptor()
{
    m_peekFd = -1;
#ifdef Q_OS_UNIX
    // socketDescriptor() is the kernel socket only for direct connections: through a SOCKS5
    // proxy Qt hands out a made-up number, through an HTTP proxy the socket to the proxy. So
    // it is used only when the kernel agrees it joins our two endpoints.
    const qintptr fd = m_socket->socketDescriptor();
    if (fd < 0)
        return;
    const auto portOf = [](const sockaddr_storage &address) -> int {
        if (address.ss_family == AF_INET)
            return ntohs(reinterpret_cast<const sockaddr_in &>(address).sin_port);
        if (address.ss_family == AF_INET6)
            return ntohs(reinterpret_cast<const sockaddr_in6 &>(address).sin6_port);
        return -1;
    };
    sockaddr_storage local {};
    sockaddr_storage peer {};
    socklen_t localLength = sizeof local;
    socklen_t peerLength = sizeof peer;
    if (::getsockname(int(fd), reinterpret_cast<sockaddr *>(&local), &localLength) != 0
        || ::getpeername(int(fd), reinterpret_cast<sockaddr *>(&peer), &peerLength) != 0)
        return;
    if (portOf(local) == m_socket->localPort() && portOf(peer) == m_socket->peerPort())
        m_peekFd = int(fd);
#endif
}

int AsyncConnectionPrivate::duplicateDescriptor() const
{
#ifdef Q_OS_UNIX
    if (m_ssl || m_peekFd < 0 || !usable(false) || pendingWriteBytes() > 0)
        return -1;
    // m_peekFd joins our two ports; through an HTTP proxy that could be a socket to a proxy
    // that happens to listen on the endpoint's port, so the peer's address must agree too.
    sockaddr_storage peer {};
    socklen_t peerLength = sizeof peer;
    if (::getpeername(m_peekFd, reinterpret_cast<sockaddr *>(&peer), &peerLength) != 0)
        return -1;
    if (QHostAddress(reinterpret_cast<const sockaddr *>(&peer)) != m_socket->peerAddress())
        return -1;
    return ::fcntl(m_peekFd, F_DUPFD_CLOEXEC, 0);
#else
    return -1;
#endif
}

bool AsyncConnectionPrivate::adoptDescriptor(
    const Endpoint &endpoint, int descriptor, quint64 id, int useCount)
{
    Q_ASSERT(!m_socket && !endpoint.tls);
    m_endpoint = endpoint;
    m_id = id;
    m_useCount = useCount;
    createSocket();
    m_socket->setProxy(QNetworkProxy::NoProxy);
    ++m_inCall;
    const bool adopted = m_socket->setSocketDescriptor(
        descriptor, QAbstractSocket::ConnectedState, QIODevice::ReadWrite);
    --m_inCall;
    if (!adopted) {
#ifdef Q_OS_UNIX
        ::close(descriptor);
#endif
        return false;
    }
    m_connected = true;
    m_tcpConnected = true;
    findPeekableDescriptor();
    return true;
}

void AsyncConnectionPrivate::onConnected()
{
    m_tcpConnected = true;
    m_times.connectEnd = std::chrono::steady_clock::now();
    m_times.peer = QStringLiteral("%1:%2")
                       .arg(m_socket->peerAddress().toString())
                       .arg(m_socket->peerPort());
    findPeekableDescriptor();
    // Requests are written whole and answered at once: Nagle would only add latency.
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    if (m_viaHttpProxy) { // openHttpProxyTunnel() carries on
        wake(m_connectWaiter, nullptr, Result::Woken);
        return;
    }
    if (!m_ssl) {
        m_connected = true;
        wake(m_connectWaiter, nullptr, Result::Woken);
    }
}

void AsyncConnectionPrivate::onEncrypted()
{
    // Qt's check has passed; RFC 9525's stricter one (hostnamecheck.h) runs before the
    // connection is handed to anyone, so not one application byte goes to a server whose
    // certificate names another host.
    // Then the certificate pins (certificatepin.h), with verification off too.
    const bool hostNameOk = !m_endpoint.tlsOptions.verifyPeer
        || Transport::certificateMatchesHostName(
            m_ssl->peerCertificate(), m_endpoint.host, &m_hostNameMismatch);
    if (!hostNameOk
        || (!m_endpoint.tlsOptions.pins.isEmpty()
            && !Transport::checkPins(m_ssl->peerCertificateChain(), m_endpoint.tlsOptions,
                m_endpoint.host, &m_pinMismatch))) {
        qCDebug(lcTls) << "connection" << m_id << "to" << m_endpoint.description()
                       << (hostNameOk ? "certificate matches no pinned key:"
                                      : "certificate does not match the host name:")
                       << (hostNameOk ? m_pinMismatch : m_hostNameMismatch);
        m_failed = true;
        m_connectTimer.stop();
        ++m_inCall;
        m_socket->abort();
        --m_inCall;
        wake(m_connectWaiter, nullptr, Result::Woken);
        return;
    }
    m_times.tlsEnd = std::chrono::steady_clock::now();
    const QSslCipher cipher = m_ssl->sessionCipher();
    m_times.tlsProtocol = cipher.protocolString();
    m_times.tlsCipher = cipher.name();
    m_times.alpn = m_ssl->sslConfiguration().nextNegotiatedProtocol();
    qCDebug(lcTls) << "connection" << m_id << "to" << m_endpoint.description() << "TLS"
                   << m_times.tlsProtocol << m_times.tlsCipher << "ALPN" << m_times.alpn
                   << (m_endpoint.tlsOptions.verifyPeer ? "verified" : "not verified")
                   << (m_endpoint.tlsOptions.pins.isEmpty() ? "" : "pinned");
    m_connected = true;
    wake(m_connectWaiter, nullptr, Result::Woken);
}

void AsyncConnectionPrivate::onReadyRead()
{
    if (m_tunnelling) { // the proxy's answer to CONNECT
        wake(m_connectWaiter, nullptr, Result::Woken);
        return;
    }
    if (m_readWaiter && m_readWaiter->result == Result::Pending) {
        wake(m_readWaiter, nullptr, Result::Woken); // the read timer runs on (see the header)
        return;
    }
    // Bytes nobody asked for on an idle connection: whatever they are, the next response on
    // it could not be trusted.
    if (m_idleObserver)
        notifyLost();
}

void AsyncConnectionPrivate::onBytesWritten()
{
    if (!m_writeWaiter || m_writeWaiter->result != Result::Pending)
        return;
    if (pendingWriteBytes() <= AsyncConnection::writeHighWaterMark)
        wake(m_writeWaiter, &m_writeTimer, Result::Woken);
    else if (m_writeTimer.isActive())
        armTimer(m_writeTimer, m_writeTimeout); // progress: the timeout counts from here
}

void AsyncConnectionPrivate::onDisconnected()
{
    if (!m_closedLocally)
        m_eof = true;
    qCDebug(lcConnection) << "connection" << m_id << "to" << m_endpoint.description()
                          << (m_closedLocally ? "closed" : "closed by peer");
    // closed() first, so that whoever listens knows before a waiting reader carries on.
    if (!emitClosed())
        return;
    if (!wakeAll(Result::Woken))
        return;
    notifyLost();
}

void AsyncConnectionPrivate::onErrorOccurred(QAbstractSocket::SocketError error)
{
    if (error == QAbstractSocket::TemporaryError)
        return;
    m_error = error;
    m_errorString = m_socket->errorString();
    // Qt reports both a FIN and a TCP reset on read as RemoteHostClosedError: end of stream.
    if (error == QAbstractSocket::RemoteHostClosedError)
        m_eof = true;
    else
        m_failed = true;
    qCDebug(lcConnection) << "connection" << m_id << "to" << m_endpoint.description() << "error"
                          << error << m_errorString;
    if (!emitClosed())
        return;
    if (!wakeAll(Result::Woken))
        return;
    notifyLost();
}

void AsyncConnectionPrivate::onSslErrors(const QList<QSslError> &errors)
{
    m_sslErrors = errors;
    if (lcTls().isDebugEnabled()) {
        for (const QSslError &error : errors) {
            qCDebug(lcTls) << "connection" << m_id << "to" << m_endpoint.description()
                           << "verification error:" << error.errorString();
        }
    }
}

void AsyncConnectionPrivate::timerEvent(QTimerEvent *event)
{
    const int id = event->timerId();
    if (id == m_readTimer.timerId()) {
        if (!m_readWaiter || m_readWaiter->result != Result::Pending || !m_hasReadDeadline) {
            m_readTimer.stop(); // nobody waits with a limit: no need to tick
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        if (now < m_readDeadline) {
            const auto remaining
                = std::chrono::ceil<std::chrono::milliseconds>(m_readDeadline - now);
            armTimer(m_readTimer, remaining);
            m_readTimerDue = m_readDeadline;
            return;
        }
        m_readTimer.stop();
        wake(m_readWaiter, nullptr, Result::TimedOut);
    } else if (id == m_writeTimer.timerId()) {
        m_writeTimer.stop();
        wake(m_writeWaiter, nullptr, Result::TimedOut);
    } else if (id == m_connectTimer.timerId()) {
        m_connectTimer.stop();
        m_connectTimedOut = true;
        ++m_inCall;
        m_socket->abort();
        --m_inCall;
        wake(m_connectWaiter, nullptr, Result::TimedOut);
    } else {
        QObject::timerEvent(event);
    }
}

void AsyncConnectionPrivate::closeSocket(bool graceful)
{
    if (!m_socket)
        return;
    if (m_closedLocally && graceful)
        return;
    m_closedLocally = true;
    m_idleObserver = nullptr;
    m_connectTimer.stop();
    ++m_inCall;
    if (graceful)
        m_socket->disconnectFromHost();
    else
        m_socket->abort();
    --m_inCall;
    wakeAll(Result::Closed, true);
}

void AsyncConnectionPrivate::makeInert()
{
    closeSocket(false);
    stopTimers();
    m_idleObserver = nullptr;
    QCoreApplication::removePostedEvents(q);
    QCoreApplication::removePostedEvents(this);
    for (QObject *child : findChildren<QObject *>())
        QCoreApplication::removePostedEvents(child);
}

void AsyncConnectionPrivate::customEvent(QEvent *event)
{
    if (event->type() != Transport::ConnectionCallEvent::eventType()) {
        QObject::customEvent(event);
        return;
    }
    // The call may delete the connection, and this object with it: nothing is touched after.
    const std::function<void()> call
        = std::move(static_cast<Transport::ConnectionCallEvent *>(event)->call);
    call();
}

void AsyncConnectionPrivate::teardown()
{
    if (m_destroyedFlag)
        *m_destroyedFlag = true;
    for (Waiter **slot : {&m_connectWaiter, &m_readWaiter, &m_writeWaiter}) {
        Waiter *const waiter = std::exchange(*slot, nullptr);
        if (!waiter)
            continue;
        const bool alreadyQueued = waiter->result != Result::Pending;
        waiter->result = Result::Destroyed;
        if (!alreadyQueued)
            resumeLater(waiter->handle);
    }
    m_connectTimer.stop();
    m_readTimer.stop();
    m_writeTimer.stop();
    m_idleObserver = nullptr;
    if (m_socket) {
        disconnect(m_socket, nullptr, this, nullptr);
        m_socket->abort();
        // Inside a callOut() the socket may be in the middle of emitting the signal that led
        // here; it must outlive that.
        if (m_destroyedFlag) {
            m_socket->setParent(nullptr); // not deleted with us, but later
            m_socket->deleteLater();
        } else {
            delete m_socket;
        }
        m_socket = nullptr;
        m_ssl = nullptr;
    }
}

// --- AsyncConnection ---------------------------------------------------------------------------

AsyncConnection::AsyncConnection(QObject *parent)
    : QObject(parent)
    , d(std::make_unique<AsyncConnectionPrivate>(this))
{
}

AsyncConnection::~AsyncConnection()
{
    d->teardown();
}

QCoro::Task<void> AsyncConnectionPrivate::connectAbortable(AsyncConnectionPrivate *dd,
    Endpoint endpoint, std::chrono::milliseconds timeout,
    std::shared_ptr<Transport::AbortSignal> abort)
{
    if (dd->m_socket) {
        throw NetworkError(QStringLiteral("connectToHost() called twice (already connected to %1)")
                               .arg(dd->m_endpoint.description()),
            dd->m_endpoint.toUrl());
    }
    dd->m_endpoint = endpoint;
    if (!endpoint.isValid()) {
        throw NetworkError(
            QStringLiteral("cannot connect to %1: no host or port").arg(endpoint.toString()),
            endpoint.toUrl());
    }
    if (Transport::isAborted(abort)) {
        Transport::throwAborted(
            QStringLiteral("connecting to %1").arg(endpoint.description()), endpoint.toUrl());
    }
    if (endpoint.tls && !QSslSocket::supportsSsl()) {
        throwTls(QStringLiteral("cannot connect to %1: TLS is not available")
                     .arg(endpoint.description()),
            endpoint.toUrl(), QSslSocket::sslLibraryBuildVersionString());
    }
    dd->createSocket();
    // An HTTP proxy is spoken to here (httpproxytunnel.cpp), not by Qt's socket: CONNECT or
    // absolute form, and a 407 answered with Basic or Digest.
    dd->m_viaHttpProxy = endpoint.proxy.type() == QNetworkProxy::HttpProxy;
    dd->m_socket->setProxy(
        dd->m_viaHttpProxy ? QNetworkProxy(QNetworkProxy::NoProxy) : endpoint.proxy);
    dd->m_connectTimeout = timeout;
    dd->m_times.start = std::chrono::steady_clock::now();
    qCDebug(lcConnection) << "connection" << dd->m_id << "connecting to" << endpoint.description();

    // Cleared when this call ends, however it ends; the handler reaches the connection only
    // through a guarded pointer, in case it is deleted while connecting.
    const QPointer<AsyncConnection> self(dd->q);
    const Transport::AbortScope abortScope(abort, [self] {
        if (self)
            AsyncConnectionPrivate::get(self.data())->abortConnect();
    });

    ++dd->m_inCall;
    if (dd->m_ssl) {
        QSslConfiguration config = endpoint.tlsOptions.toSslConfiguration();
        if (endpoint.offersHttp2())
            config.setAllowedNextProtocols({QByteArray(QSslConfiguration::ALPNProtocolHTTP2),
                QByteArray(QSslConfiguration::NextProtocolHttp1_1)});
        dd->m_ssl->setSslConfiguration(config);
        dd->m_ssl->setPeerVerifyName(endpoint.host);
    }
    if (dd->m_viaHttpProxy)
        dd->m_socket->connectToHost(endpoint.proxy.hostName(), endpoint.proxy.port());
    else if (dd->m_ssl)
        dd->m_ssl->connectToHostEncrypted(endpoint.host, endpoint.port);
    else
        dd->m_socket->connectToHost(endpoint.host, endpoint.port);
    --dd->m_inCall;
    dd->armTimer(dd->m_connectTimer, timeout);
    if (dd->m_viaHttpProxy)
        co_await openHttpProxyTunnel(dd);

    while (!dd->m_connected) {
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
    dd->m_connectTimer.stop();
    if (dd->m_connectAborted) // aborted after the socket connected, before we resumed
        dd->throwConnectError();
}

void AsyncConnectionPrivate::abortConnect()
{
    if (m_connectAborted || !m_socket)
        return;
    m_connectAborted = true;
    const QString where = m_endpoint.description();
    const bool viaProxy = m_endpoint.proxy.type() == QNetworkProxy::HttpProxy
        || m_endpoint.proxy.type() == QNetworkProxy::Socks5Proxy;
    if (m_socket->state() == QAbstractSocket::HostLookupState)
        m_abortedPhase = QStringLiteral("looking up the host name of %1").arg(where);
    else if (m_socket->state() == QAbstractSocket::ConnectingState && viaProxy)
        m_abortedPhase
            = QStringLiteral("connecting to %1 (TCP connect or proxy handshake)").arg(where);
    else if (m_viaHttpProxy && m_tcpConnected && !m_connected && (m_tunnelling || !m_ssl))
        m_abortedPhase
            = QStringLiteral("connecting to %1 (TCP connect or proxy handshake)").arg(where);
    else if (m_ssl && m_tcpConnected && !m_connected)
        m_abortedPhase = QStringLiteral("in the TLS handshake with %1").arg(where);
    else
        m_abortedPhase = QStringLiteral("connecting to %1").arg(where);
    qCDebug(lcConnection) << "connection" << m_id << "to" << m_endpoint.description()
                          << "aborted:" << m_abortedPhase;
    // The waiting coroutine is resumed from the event loop: the caller of abort() is on the
    // stack and must not see the request unwind under it.
    closeSocket(false);
}

QCoro::Task<void> AsyncConnection::connectToHost(
    const Endpoint &endpoint, std::chrono::milliseconds timeout)
{
    return AsyncConnectionPrivate::connectAbortable(d.get(), endpoint, timeout, {});
}

QCoro::Task<void> AsyncConnection::write(const QByteArray &data, std::chrono::milliseconds timeout)
{
    AsyncConnectionPrivate *const dd = d.get();
    dd->checkWritable();
    if (!data.isEmpty()) {
        ++dd->m_inCall;
        dd->m_socket->write(data);
        // Hand the bytes to the kernel now rather than on the next event-loop iteration.
        dd->m_socket->flush();
        --dd->m_inCall;
        dd->checkWritable();
    }
    dd->m_writeTimeout = timeout;
    while (dd->pendingWriteBytes() > writeHighWaterMark) {
        const Result result = co_await AsyncConnectionPrivate::Wait(
            dd, dd->m_writeWaiter, &dd->m_writeTimer, timeout);
        if (result == Result::Destroyed)
            throw NetworkError(QStringLiteral("connection was destroyed while writing"));
        if (result == Result::TimedOut) {
            throw WriteTimeout(QStringLiteral("no progress writing to %1 for %2 (%3 bytes queued)")
                                   .arg(dd->m_endpoint.description(), millis(timeout))
                                   .arg(dd->pendingWriteBytes()),
                dd->m_endpoint.toUrl());
        }
        dd->checkWritable();
    }
}

QCoro::Task<QByteArray> AsyncConnection::read(std::chrono::milliseconds timeout)
{
    AsyncConnectionPrivate *const dd = d.get();
    for (;;) {
        QAbstractSocket *const socket = dd->m_socket;
        if (socket && socket->bytesAvailable() > 0 && !dd->m_closedLocally)
            // read(n) of exactly what is buffered hands over Qt's buffer chunk when it holds
            // one (no copy); readAll() always copies.
            co_return socket->read(socket->bytesAvailable());
        if (!socket || !dd->m_connected || dd->m_closedLocally)
            dd->throwClosed(QStringLiteral("read from"));
        if (dd->m_failed)
            dd->throwSocketError(QStringLiteral("reading from"));
        if (dd->m_eof)
            co_return QByteArray();
        if (dd->m_readWaiter) {
            throw NetworkError(QStringLiteral("read() called on %1 while another read() waits")
                                   .arg(dd->m_endpoint.description()),
                dd->m_endpoint.toUrl());
        }
        dd->setReadDeadline(timeout);
        const Result result
            = co_await AsyncConnectionPrivate::Wait(dd, dd->m_readWaiter, nullptr, timeout);
        if (result == Result::Destroyed)
            throw NetworkError(QStringLiteral("connection was destroyed while reading"));
        if (result == Result::TimedOut) {
            throw ReadTimeout(QStringLiteral("no data from %1 within %2")
                                  .arg(dd->m_endpoint.description(), millis(timeout)),
                dd->m_endpoint.toUrl());
        }
    }
}

void AsyncConnection::close()
{
    d->closeSocket(true);
}

void AsyncConnection::abort()
{
    d->closeSocket(false);
}

bool AsyncConnection::isOpen() const
{
    return d->m_socket && d->m_connected && !d->m_closedLocally && !d->m_eof && !d->m_failed
        && d->m_socket->state() == QAbstractSocket::ConnectedState;
}

bool AsyncConnection::isUsableForReuse() const
{
    return d->usable(true);
}

bool AsyncConnection::endedWithoutCloseNotify() const
{
    return d->m_ssl && d->m_eof && !d->m_closeNotifyReceived;
}

bool AsyncConnection::isHttp2() const
{
    if (!d->m_connected)
        return false;
    if (!d->m_endpoint.tls)
        return d->m_endpoint.httpVersion == HttpVersion::Http2PriorKnowledge;
    return d->m_ssl && d->m_endpoint.offersHttp2()
        && d->m_ssl->sslConfiguration().nextNegotiatedProtocol()
        == QSslConfiguration::ALPNProtocolHTTP2;
}

bool AsyncConnection::isEncrypted() const
{
    return d->m_ssl && d->m_ssl->isEncrypted();
}

const Endpoint &AsyncConnection::endpoint() const
{
    return d->m_endpoint;
}

quint64 AsyncConnection::id() const
{
    return d->m_id;
}

int AsyncConnection::useCount() const
{
    return d->m_useCount;
}

void AsyncConnection::markUsed()
{
    ++d->m_useCount;
}

void AsyncConnection::setReadBufferLimit(qint64 bytes)
{
    if (d->m_socket && d->m_socket->readBufferSize() != bytes)
        d->m_socket->setReadBufferSize(bytes);
}

QAbstractSocket *AsyncConnection::socket() const
{
    return d->m_socket;
}

} // namespace Reqivo
