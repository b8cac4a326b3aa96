// BodyStream: the live end of a streamed response body. A Response in streaming mode holds one;
// copies of the Response share it. It owns the connection lease until the body ends. It also
// keeps what Response::readAll() gathered, so every copy of the Response sees that body, and
// readAll() needs no Response once it has suspended.
#pragma once

#include <Reqivo/reqivoglobal.h>

#include <QByteArray>

#include <QCoro/QCoroTask>

#include <chrono>

namespace Reqivo {

class REQIVO_TESTS_EXPORT BodyStream
{
public:
    virtual ~BodyStream();
    //! The next decoded bytes (at most maxBytes when > 0); empty at the end of the body.
    virtual QCoro::Task<QByteArray> read(qint64 maxBytes) = 0;
    //! Ends the stream early; the connection is closed, not pooled.
    virtual void close() = 0;
    virtual bool atEnd() const = 0;
    virtual qint64 bytesReceived() const = 0;
    virtual qint64 expectedSize() const = 0;

    //! What Response::readAll() has gathered so far.
    const QByteArray &gathered() const noexcept { return m_gathered; }
    void gather(const QByteArray &piece) { m_gathered.append(piece); }

    //! The start of the attempt the body belongs to, and when the body was read to its end
    //! (unset until then): Response::timings() reports a streamed body's total from them.
    std::chrono::steady_clock::time_point attemptStart;
    std::chrono::steady_clock::time_point endedAt;

private:
    QByteArray m_gathered;
};

} // namespace Reqivo
