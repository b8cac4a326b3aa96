// Reqivo::Connection: the blocking twin of AsyncConnection — a byte pipe over TCP or TLS
// (through a proxy when the endpoint has one), with the same errors. Like every blocking
// class it runs the async call in a nested event loop and belongs to the creating thread.
#pragma once

#include <Reqivo/asyncconnection.h>
#include <Reqivo/timeout.h>

#include <memory>

namespace Reqivo {

//! The blocking twin of AsyncConnection: a byte pipe over TCP or TLS (through a proxy when the
//! endpoint has one), with the same errors.
//!
//! Each call runs the async one to completion in a nested event loop (docs/threading.md); the
//! object belongs to the thread that created it. For talking to a server below the level of
//! HTTP requests; Session is the HTTP client.
class REQIVO_EXPORT Connection
{
public:
    //! Not connected yet: call connectToHost().
    Connection();
    //! Closes the connection at once (as abort()).
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    //! The async connection underneath.
    AsyncConnection &async() const { return *m_async; }

    //! Connects to \a endpoint (TCP, proxy, TLS handshake) within \a timeout; throws as
    //! AsyncConnection::connectToHost() does.
    void connectToHost(const Endpoint &endpoint,
                       std::chrono::milliseconds timeout = Timeout::defaultValue);
    //! Sends \a data; WriteTimeout when no byte could be sent for \a timeout.
    void write(const QByteArray &data, std::chrono::milliseconds timeout = Timeout::defaultValue);
    //! The bytes that have arrived (waiting for some); empty at end of stream.
    QByteArray read(std::chrono::milliseconds timeout = Timeout::defaultValue);
    //! Closes after sending what is queued (AsyncConnection::close()).
    void close() { m_async->close(); }
    //! Closes at once, dropping what is queued (AsyncConnection::abort()).
    void abort() { m_async->abort(); }
    //! True while connected.
    bool isOpen() const { return m_async->isOpen(); }
    //! True when the connection is TLS.
    bool isEncrypted() const { return m_async->isEncrypted(); }
    //! Where the connection goes (set by connectToHost()).
    const Endpoint &endpoint() const { return m_async->endpoint(); }

private:
    std::unique_ptr<AsyncConnection> m_async;
};

} // namespace Reqivo
