// Reqivo::Connection: the blocking twin of AsyncConnection — a byte pipe over TCP or TLS
// (through a proxy when the endpoint has one), with the same errors. Like every blocking
// class it runs the async call in a nested event loop and belongs to the creating thread.
#pragma once

#include <Reqivo/asyncconnection.h>
#include <Reqivo/timeout.h>

#include <memory>

namespace Reqivo {

class REQIVO_EXPORT Connection
{
public:
    Connection();
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    AsyncConnection &async() const { return *m_async; }

    void connectToHost(const Endpoint &endpoint,
                       std::chrono::milliseconds timeout = Timeout::defaultValue);
    void write(const QByteArray &data, std::chrono::milliseconds timeout = Timeout::defaultValue);
    //! The bytes that have arrived (waiting for some); empty at end of stream.
    QByteArray read(std::chrono::milliseconds timeout = Timeout::defaultValue);
    void close() { m_async->close(); }
    void abort() { m_async->abort(); }
    bool isOpen() const { return m_async->isOpen(); }
    bool isEncrypted() const { return m_async->isEncrypted(); }
    const Endpoint &endpoint() const { return m_async->endpoint(); }

private:
    std::unique_ptr<AsyncConnection> m_async;
};

} // namespace Reqivo
