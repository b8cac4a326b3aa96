// Reqivo::Testing::ScriptedConnection: one connection of a MockServer in scripted mode
// (MockServer::setRequestHandler() or setRawHandler()), through which a test writes the exact
// bytes of its answer and makes the transport misbehave: bytes trickled or delayed, a graceful
// close, a TCP reset, and writes or closes that return once the client's kernel acknowledged
// them (so that "the server closed while the client sat idle" happens without timing).
#pragma once

#include <Reqivo/Testing/reqivotesting_export.h>

#include <QByteArray>
#include <QObject>

#include <chrono>
#include <memory>

class QTcpSocket;

namespace Reqivo::Testing {

namespace detail {
struct ScriptedAccess;
}

//! One accepted connection in scripted mode, used from the server's thread (inside handlers).
//! Owned by its MockServer; it goes when the server stops. A QPointer to it turns null then.
class REQIVO_TESTING_EXPORT ScriptedConnection : public QObject
{
    Q_OBJECT
public:
    ~ScriptedConnection() override;

    //! 0 for the server's first connection, then 1, 2, ... (RecordedRequest::connectionIndex).
    int index() const;
    //! True when the connection came over TLS.
    bool isTls() const;
    //! The socket (a QSslSocket over TLS).
    QTcpSocket *socket() const;
    //! False once the connection closed, from either side.
    bool isOpen() const;
    //! Every byte received on the connection so far.
    const QByteArray &received() const;
    //! Whether write() flushes to the kernel at once (off: on the next turn of the event loop).
    void setFlushEachWrite(bool flush);

    //! Queues \a bytes (flushed at once with setFlushEachWrite()); nothing when closed.
    void write(const QByteArray &bytes);
    //! Writes \a bytes after \a delay (from the server's event loop), then closes if asked.
    void writeLater(QByteArray bytes, std::chrono::milliseconds delay, bool closeAfter = false);
    //! Writes \a bytes \a step at a time, one piece every \a interval; then closes if asked.
    void trickle(QByteArray bytes, std::chrono::milliseconds interval, qsizetype step = 1,
        bool closeAfter = false);
    //! Graceful close: bytes already written go out, then FIN.
    void close();
    //! Abortive close: the kernel sends RST instead of FIN (SO_LINGER 0).
    void reset();
    //! Writes \a bytes and returns once the client's kernel acknowledged them: from then on a
    //! peek at the client's socket sees them, though nobody there reads. It blocks the server's
    //! thread meanwhile (the client's kernel acknowledges without any event loop). False when
    //! that did not happen within \a timeout or the connection is closed.
    bool writeAcknowledged(
        const QByteArray &bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5));
    //! Graceful close that returns once the client's kernel acknowledged the FIN and every
    //! byte before it (blocking, as writeAcknowledged()). False when that did not happen within
    //! \a timeout or the connection is closed.
    bool closeAcknowledged(std::chrono::milliseconds timeout = std::chrono::seconds(5));

private:
    friend struct detail::ScriptedAccess;
    struct Private;
    ScriptedConnection(QTcpSocket *socket, int index, bool tls, QObject *parent);
    std::unique_ptr<Private> const d;
};

} // namespace Reqivo::Testing
