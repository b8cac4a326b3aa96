// DeviceSource: see devicesource_p.h.
#include "devicesource_p.h"

#include <Reqivo/errors.h>
#include <Reqivo/timeout.h>

#include <QAbstractSocket>
#include <QBuffer>
#include <QFileDevice>
#include <QLocalSocket>
#include <QProcess>

namespace Reqivo::Client {

using namespace std::chrono;

DeviceSource::DeviceSource(QIODevice *device) : m_device(device)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] { resumeLater(Woken::Timer); });
    if (!device)
        return;
    connect(device, &QIODevice::readyRead, this, &DeviceSource::onSignal);
    connect(device, &QIODevice::readChannelFinished, this, [this] {
        m_finished = true;
        onSignal();
    });
    connect(device, &QIODevice::aboutToClose, this, [this] {
        m_finished = true;
        onSignal();
    });
    connect(device, &QObject::destroyed, this, &DeviceSource::onSignal);
}

DeviceSource::~DeviceSource() = default;

bool DeviceSource::ended() const
{
    QIODevice *d = m_device.data();
    if (!d || !d->isOpen() || m_finished)
        return true;
    if (const auto *socket = qobject_cast<const QAbstractSocket *>(d))
        return socket->state() == QAbstractSocket::UnconnectedState;
    if (const auto *socket = qobject_cast<const QLocalSocket *>(d))
        return socket->state() == QLocalSocket::UnconnectedState;
    if (const auto *process = qobject_cast<const QProcess *>(d))
        return process->state() == QProcess::NotRunning;
    if (qobject_cast<const QFileDevice *>(d) || qobject_cast<const QBuffer *>(d))
        return true; // a file, a FIFO or memory: read() only comes back empty at the end
    return !d->isSequential();
}

void DeviceSource::onSignal()
{
    resumeLater(Woken::Signal);
}

void DeviceSource::wake()
{
    resumeLater(Woken::Abort);
}

void DeviceSource::resumeLater(Woken why)
{
    // Resumed from the event loop, never inside the device's own signal emission: the writer
    // reads the device and may finish the request (and destroy this source) when it resumes.
    if (!m_waiter)
        return;
    if (why == Woken::Abort || !m_resumeQueued)
        m_woken = why; // an abort wins over whatever else woke the writer
    if (m_resumeQueued)
        return;
    m_resumeQueued = true;
    QMetaObject::invokeMethod(
            this,
            [this] {
                m_resumeQueued = false;
                m_timer.stop();
                if (const auto h = std::exchange(m_waiter, nullptr))
                    h.resume();
            },
            Qt::QueuedConnection);
}

QCoro::Task<QByteArray> DeviceSource::next(qint64 maxBytes, milliseconds timeout, QUrl url)
{
    // `this` is a local of the caller's frame, which awaits this call: it outlives it.
    QByteArray block(maxBytes, Qt::Uninitialized);
    while (true) {
        QIODevice *d = m_device.data();
        if (!d)
            throw RequestError(QStringLiteral("the request body's device was destroyed"), url);
        const qint64 n = d->isOpen() ? d->read(block.data(), maxBytes) : -1;
        if (n > 0) {
            block.truncate(n);
            co_return block;
        }
        if (n < 0 || ended())
            co_return QByteArray();
        m_woken = Woken::No;
        if (!Timeout::isNoLimit(timeout))
            m_timer.start(timeout); // zero: no wait, the timer fires at the next loop turn
        const Woken why = co_await Awaiter{this};
        if (why == Woken::Timer)
            throw WriteTimeout(QStringLiteral("the request body's device produced no data for "
                                              "%1 ms")
                                       .arg(timeout.count()),
                               url);
        if (why == Woken::Abort)
            throw RequestError(QStringLiteral("the request was aborted"), url,
                               QStringLiteral("aborted"));
    }
}

} // namespace Reqivo::Client
