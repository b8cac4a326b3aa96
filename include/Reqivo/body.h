// Reqivo::Body: what a request sends. A value type that knows its content type, its length
// when known, and whether it can be sent twice (a redirect or a retry needs that).
//
// Bytes, text, JSON and forms are replayable. A QIODevice body is streamed; it is replayable
// only when the device is random-access (it is rewound to where it started). A generator body
// is streamed with chunked framing and is never replayable. A multipart/form-data body
// (fromMultipart()) streams its files and is replayable when every part is. Reqivo never
// silently resends a body it cannot replay: a 307/308 redirect or a retry of such a request
// fails instead.
#pragma once

#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QIODevice>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QPointer>
#include <QSharedPointer>
#include <QString>
#include <QUrlQuery>

#include <QCoro/QCoroAsyncGenerator>

#include <functional>
#include <memory>
#include <utility>


namespace Reqivo {

class Multipart;

//! What a request sends: a value that knows its content type, its length when known, and
//! whether it can be sent twice.
//!
//! Bytes, text, JSON and forms are replayable. A QIODevice body is streamed; it is replayable
//! only when the device is random-access (it is rewound to where it started). A generator body
//! is streamed with chunked framing and is never replayable. A multipart/form-data body
//! (fromMultipart()) streams its files and is replayable when every part is. Reqivo never
//! silently resends a body it cannot replay: a 307/308 redirect or a retry of such a request
//! fails instead.
class REQIVO_EXPORT Body
{
public:
    //! Where the bytes come from.
    enum class Kind {
        Empty, //!< No body (the default).
        Bytes, //!< In memory: fromBytes(), fromText(), fromJson(), fromForm().
        Device, //!< Read from a QIODevice while sending: fromDevice().
        Generator, //!< Yielded by a coroutine while sending: fromGenerator().
        Multipart, //!< A multipart/form-data form, its files read while sending: fromMultipart().
    };
    //! A coroutine that yields the body piece by piece.
    using Generator = QCoro::AsyncGenerator<QByteArray>;
    //! Makes a fresh Generator for each send.
    using GeneratorFactory = std::function<Generator()>;

    //! No body.
    Body() = default;
    //! Raw bytes ("application/octet-stream" unless \a contentType says otherwise).
    static Body fromBytes(QByteArray bytes, QByteArray contentType = "application/octet-stream");
    //! UTF-8 text, "text/plain; charset=utf-8" by default.
    static Body fromText(const QString &text, QByteArray contentType = "text/plain; charset=utf-8");
    //! Compact JSON, "application/json".
    static Body fromJson(const QJsonDocument &json);
    //! Compact JSON, "application/json".
    static Body fromJson(const QJsonObject &json);
    //! Compact JSON, "application/json".
    static Body fromJson(const QJsonArray &json);
    //! application/x-www-form-urlencoded, fields in order.
    static Body fromForm(const QList<std::pair<QString, QString>> &fields);
    //! application/x-www-form-urlencoded, the items of \a query in order.
    static Body fromForm(const QUrlQuery &query);
    //! Streams \a device from its current position. \a size < 0: device->size() - pos() for a
    //! random-access device, else unknown (chunked). The device must outlive the request.
    //!
    //! A sequential device (QProcess, a socket, a pipe, your own) may pause: the upload waits for
    //! readyRead() on the event loop (never blocking the thread) and ends only at the device's
    //! real end: read() returning -1, readChannelFinished() or aboutToClose(), a closed socket or
    //! a finished process. A pause longer than Timeout::write fails with WriteTimeout.
    static Body fromDevice(QIODevice *device, qint64 size = -1,
                           QByteArray contentType = "application/octet-stream");
    //! Streams what the generator yields, chunked. \a factory is called once per send.
    static Body fromGenerator(GeneratorFactory factory,
                              QByteArray contentType = "application/octet-stream");
    //! A multipart/form-data body: a copy of \a form, sent with its Content-Type (and boundary).
    //! Its length is known when every part's is (Content-Length), else it is sent chunked. A
    //! form that cannot be sent (Multipart::errorString(), a file missing or changed) fails the
    //! request with a RequestError before anything is sent. See docs/uploads.md.
    static Body fromMultipart(const Multipart &form);

    //! Where the bytes come from.
    Kind kind() const noexcept { return m_kind; }
    //! True for no body.
    bool isEmpty() const noexcept { return m_kind == Kind::Empty; }
    //! Length in bytes, or -1 when unknown until the end (sent chunked).
    qint64 size() const noexcept { return m_size; }
    //! The Content-Type sent with the body (unless the request sets its own).
    QByteArray contentType() const { return m_contentType; }
    //! True when the body can be sent again (for a 307/308 redirect or a retry): every kind
    //! but a sequential device, a generator and a form with a sequential device.
    bool isReplayable() const noexcept;

    //! The bytes of a Bytes body.
    const QByteArray &bytes() const noexcept { return m_bytes; }
    //! The device of a Device body; null when it was destroyed.
    QIODevice *device() const noexcept { return m_device.data(); }
    //! Where a Device body starts in its device (a replay rewinds there).
    qint64 devicePosition() const noexcept { return m_devicePosition; }
    //! The factory of a Generator body.
    const GeneratorFactory &generatorFactory() const noexcept { return m_factory; }
    //! The form of a Multipart body; null for every other kind.
    const Multipart *multipart() const noexcept { return m_multipart.get(); }

private:
    Kind m_kind = Kind::Empty;
    qint64 m_size = 0;
    QByteArray m_contentType;
    QByteArray m_bytes;
    QPointer<QIODevice> m_device;
    qint64 m_devicePosition = 0;
    GeneratorFactory m_factory;
    std::shared_ptr<const Multipart> m_multipart;
};

} // namespace Reqivo
