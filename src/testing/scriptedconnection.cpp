#include "scriptedconnection_p.h"

#include <QTimer>

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <thread>

namespace Reqivo::Testing {

namespace {

// True once nothing sent on \a fd awaits the peer's acknowledgement (SIOCOUTQ counts the
// unacknowledged bytes and the FIN).
bool peerAcknowledgedAll(int fd)
{
    int unacknowledged = 0;
    return ::ioctl(fd, SIOCOUTQ, &unacknowledged) == 0 && unacknowledged == 0;
}

// Blocks this thread (the peer's kernel acknowledges without any event loop) until
// peerAcknowledgedAll(fd), polling every millisecond; false after \a timeout.
bool waitUntilPeerAcknowledged(int fd, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!peerAcknowledgedAll(fd)) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

} // namespace

ScriptedConnection::ScriptedConnection(QTcpSocket *socket, int index, bool tls, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>())
{
    d->socket = socket;
    d->index = index;
    d->tls = tls;
    socket->setParent(this);
}

ScriptedConnection::~ScriptedConnection()
{
    if (d->socket)
        d->socket->disconnect(this);
}

int ScriptedConnection::index() const
{
    return d->index;
}

bool ScriptedConnection::isTls() const
{
    return d->tls;
}

QTcpSocket *ScriptedConnection::socket() const
{
    return d->socket;
}

bool ScriptedConnection::isOpen() const
{
    return d->open;
}

const QByteArray &ScriptedConnection::received() const
{
    return d->received;
}

void ScriptedConnection::setFlushEachWrite(bool flush)
{
    d->flushEachWrite = flush;
}

void ScriptedConnection::write(const QByteArray &bytes)
{
    if (!d->open || !d->socket)
        return;
    d->socket->write(bytes);
    if (d->flushEachWrite)
        d->socket->flush();
}

void ScriptedConnection::writeLater(
    QByteArray bytes, std::chrono::milliseconds delay, bool closeAfter)
{
    QTimer::singleShot(delay, this, [this, bytes = std::move(bytes), closeAfter] {
        write(bytes);
        if (closeAfter)
            close();
    });
}

void ScriptedConnection::trickle(
    QByteArray bytes, std::chrono::milliseconds interval, qsizetype step, bool closeAfter)
{
    auto *timer = new QTimer(this);
    timer->setInterval(interval);
    connect(timer, &QTimer::timeout, this,
        [this, timer, bytes = std::move(bytes), step, closeAfter]() mutable {
            if (!d->open || bytes.isEmpty()) {
                timer->stop();
                timer->deleteLater();
                if (closeAfter)
                    close();
                return;
            }
            const qsizetype n = std::min(step, bytes.size());
            write(bytes.first(n));
            if (d->socket)
                d->socket->flush();
            bytes.remove(0, n);
        });
    timer->start();
}

void ScriptedConnection::close()
{
    if (d->open && d->socket)
        d->socket->disconnectFromHost();
}

void ScriptedConnection::reset()
{
    if (!d->open || !d->socket)
        return;
    d->socket->flush();
    const linger hard {1, 0};
    ::setsockopt(int(d->socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    d->socket->abort();
}

bool ScriptedConnection::writeAcknowledged(
    const QByteArray &bytes, std::chrono::milliseconds timeout)
{
    if (!d->open || !d->socket)
        return false;
    d->socket->write(bytes);
    d->socket->flush();
    return waitUntilPeerAcknowledged(int(d->socket->socketDescriptor()), timeout);
}

bool ScriptedConnection::closeAcknowledged(std::chrono::milliseconds timeout)
{
    if (!d->open || !d->socket)
        return false;
    d->socket->flush();
    ::shutdown(int(d->socket->socketDescriptor()), SHUT_WR);
    const bool delivered = waitUntilPeerAcknowledged(int(d->socket->socketDescriptor()), timeout);
    d->socket->disconnectFromHost();
    return delivered;
}

} // namespace Reqivo::Testing
