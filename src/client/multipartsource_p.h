// MultipartSource: produces a multipart/form-data body block by block while it is sent.
//
// The boundary lines and heads come from memory; a file is opened when its part is reached and
// read in blocks of the size the writer asks for; a device is read through a DeviceSource, so a
// pausing producer is waited for on the event loop. Every file and sized device must deliver
// exactly the length announced (the Content-Length was computed from it): one that ends early
// or still has data at its end fails the request before the block that would complete the
// body, so a server never receives a complete body that lies.
#pragma once

#include "devicesource_p.h"
#include "multipart_p.h"

#include <QByteArray>
#include <QFile>
#include <QList>
#include <QUrl>

#include <QCoro/QCoroTask>

#include <chrono>
#include <memory>

namespace Reqivo {
class Body;
}

namespace Reqivo::Client {

//! Throws RequestError, before anything is sent, when \a body is a form that cannot be sent:
//! its errorString(), a file that is missing, unreadable or of another size than when it was
//! added, a device that was destroyed or cannot be rewound. Nothing for other bodies.
void checkBody(const Body &body, const QUrl &url);

class MultipartSource
{
public:
    //! Sends \a form (a copy is kept; files are opened when reached) for \a url (errors).
    MultipartSource(const Multipart &form, QUrl url);
    ~MultipartSource();
    MultipartSource(const MultipartSource &) = delete;
    MultipartSource &operator=(const MultipartSource &) = delete;

    //! The next block of at most \a maxBytes; empty at the end of the body. A device that
    //! pauses is waited for at most \a timeout (timeout.h's convention), then WriteTimeout.
    //! Throws RequestError for a file or device that fails or changes length.
    QCoro::Task<QByteArray> next(qint64 maxBytes, std::chrono::milliseconds timeout);

    //! Ends a wait for a device in progress: next() throws RequestError ("aborted").
    void wake();

private:
    void queue(QByteArray bytes);
    void startPart();
    void readFile(QByteArray &out, qint64 room);
    [[noreturn]] void fail(const QString &message, const QString &detail = {}) const;

    Multipart m_form;
    const MultipartData &m_data;
    QUrl m_url;
    qsizetype m_next = 0; // the next part to start
    // In-memory bytes still to send, front first, m_offset into the front.
    QList<QByteArray> m_queue;
    qsizetype m_offset = 0;
    // The part being streamed (file or device), if any.
    const MultipartPart *m_part = nullptr;
    qint64 m_left = 0; // of m_part's content; -1: unknown (until the device ends)
    std::unique_ptr<QFile> m_file;
    std::unique_ptr<DeviceSource> m_device;
    bool m_closed = false; // the closing delimiter is queued
};

} // namespace Reqivo::Client
