// What a Multipart holds: its parts in order, each with its head (the Content-Disposition and
// Content-Type lines) already encoded, so that the body's length is plain arithmetic and the
// sender (multipartsource_p.h) only has to copy bytes.
#pragma once

#include <Reqivo/multipart.h>
#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QIODevice>
#include <QList>
#include <QPointer>
#include <QSharedData>
#include <QString>

namespace Reqivo {

//! One part of a form.
struct MultipartPart
{
    enum class Source {
        Bytes, //!< In memory: a field or addBytes().
        File, //!< A file on disk, opened while sending.
        Device, //!< A QIODevice, read while sending.
    };
    Source source = Source::Bytes;
    //! "Content-Disposition: form-data; name=...\r\n" [ "Content-Type: ...\r\n" ] "\r\n".
    QByteArray head;
    QByteArray bytes;
    QString path;
    QString fileName; //!< as sent (for messages about a device part)
    QPointer<QIODevice> device;
    bool sequential = false;
    //! Where a random-access device's part starts (a replay rewinds there).
    qint64 start = 0;
    //! The content's length; -1: unknown (a sequential device).
    qint64 size = 0;
};

class REQIVO_TESTS_EXPORT MultipartData : public QSharedData
{
public:
    QByteArray boundary;
    bool boundarySet = false; // by setBoundary(): never replaced behind the caller's back
    QList<MultipartPart> parts;
    QString error;
};

//! The parts of a form, for the sender.
struct REQIVO_TESTS_EXPORT MultipartAccess
{
    static const MultipartData &data(const Multipart &form) { return *form.d; }
};

} // namespace Reqivo
