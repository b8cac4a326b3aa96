// DeviceSource: reads a request body from a QIODevice without blocking the thread.
//
// A sequential device (QProcess, a socket, a pipe, a custom device) often has no data at the
// moment the writer asks: that is a pause, not the end. The body ends only at the device's real
// end, which a device shows in one of these ways:
//   - read() returns -1 (QIODevice's "no more data"), or the device is closed;
//   - it emitted readChannelFinished() or aboutToClose();
//   - a QAbstractSocket or QLocalSocket is unconnected, a QProcess is not running, and nothing is
//     buffered;
//   - a QFileDevice (files, FIFOs), a QBuffer or a random-access device returns nothing.
// Until then next() waits for readyRead() (or one of the end signals) on the event loop; a pause
// longer than the write timeout is a WriteTimeout. wake() ends a wait early (abort).
#pragma once

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <QCoro/QCoroTask>

#include <chrono>
#include <coroutine>

class QIODevice;

namespace Reqivo::Client {

class DeviceSource final : public QObject
{
public:
    explicit DeviceSource(QIODevice *device);
    ~DeviceSource() override;

    //! The next block of at most \a maxBytes; empty at the device's end. Waits at most
    //! \a timeout for data (timeout.h's convention), then throws WriteTimeout.
    //! Throws RequestError when the device is destroyed or reports an error. The source must
    //! outlive the call (it is a local of the body writer).
    QCoro::Task<QByteArray> next(qint64 maxBytes, std::chrono::milliseconds timeout, QUrl url);

    //! Ends a wait in progress: next() throws RequestError ("aborted").
    void wake();

private:
    enum class Woken { No, Signal, Timer, Abort };
    bool ended() const;
    void onSignal();
    void resumeLater(Woken why);

    struct Awaiter
    {
        DeviceSource *source;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) noexcept { source->m_waiter = h; }
        Woken await_resume() const noexcept { return source->m_woken; }
    };

    QPointer<QIODevice> m_device;
    QTimer m_timer;
    std::coroutine_handle<> m_waiter;
    Woken m_woken = Woken::No;
    bool m_finished = false;
    bool m_resumeQueued = false;
};

} // namespace Reqivo::Client
