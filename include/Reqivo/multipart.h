// Reqivo::Multipart: a multipart/form-data body (RFC 7578) built from text fields, in-memory
// files, files on disk and QIODevices, sent with Body::fromMultipart().
//
// Nothing is read when a part is added: a file is opened and read piece by piece while the
// request is sent, so a 1 GiB upload costs a few blocks of memory. The body's length is known
// (Content-Length) when every part's length is; a sequential device of unknown size makes it
// chunked. Names and file names are written as browsers write them: raw UTF-8 with '"', CR and
// LF escaped as %22, %0D and %0A, never filename*=.
#pragma once

#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QSharedDataPointer>
#include <QString>

class QIODevice;

namespace Reqivo {

class MultipartData;
struct MultipartAccess;

//! A multipart/form-data body (RFC 7578): text fields and files, streamed when sent.
//!
//! Build it part by part, then send it with Body::fromMultipart() (or pass it where a Body is
//! taken):
//!
//!     Reqivo::Multipart form;
//!     form.addField("title", "Holiday")
//!         .addFile("photo", "/home/me/beach.jpg");
//!     co_await session.post(url, Reqivo::Body::fromMultipart(form));
//!
//! Files are opened and read while the request is sent, never loaded into memory. A file's
//! size is taken when it is added: a file that is missing or unreadable then (errorString()),
//! or missing, unreadable or of another size when the request is sent, fails the request with
//! a RequestError before anything is sent; a file that changes size while it is sent fails it
//! before the body is complete, so a server never receives a body whose length lies.
//!
//! The body is replayable (a 307/308 redirect, a retry) when every part is: fields, in-memory
//! files and files on disk are; a device part is when the device is random-access (it is
//! rewound to where it was when added), never when it is sequential.
//!
//! A value type, implicitly shared: copies are cheap, and a Body made from a form keeps its own
//! copy. Devices are not owned and must outlive every request that sends them.
class REQIVO_EXPORT Multipart
{
public:
    //! An empty form with a random boundary ("----ReqivoFormBoundary" and 32 random letters
    //! and digits).
    Multipart();
    //! Shares \a other's parts.
    Multipart(const Multipart &other);
    //! Takes \a other's parts.
    Multipart(Multipart &&other) noexcept;
    //! Shares \a other's parts.
    Multipart &operator=(const Multipart &other);
    //! Takes \a other's parts.
    Multipart &operator=(Multipart &&other) noexcept;
    ~Multipart();

    //! A text field: \a value as UTF-8, with no Content-Type (as browsers send them).
    Multipart &addField(const QString &name, const QString &value);
    //! A field of raw \a value with the Content-Type \a contentType (none when empty).
    Multipart &addField(const QString &name, QByteArray value, QByteArray contentType);
    //! A file read from \a filePath while sending. \a contentType empty: from QMimeDatabase, by
    //! the file's name, then its content. \a fileName empty: the last component of the path.
    //! The file's size is taken now; a file that cannot be read now sets errorString().
    Multipart &addFile(const QString &name, const QString &filePath, QByteArray contentType = {},
        QString fileName = {});
    //! A file read from \a device while sending, from its current position. \a size < 0:
    //! device->size() - pos() for a random-access device, else unknown (the body is then sent
    //! chunked and cannot be replayed). \a contentType empty: from QMimeDatabase, by
    //! \a fileName, then (random-access devices) by content. The device must outlive the
    //! requests that send it.
    Multipart &addFile(const QString &name, QIODevice *device, const QString &fileName,
        QByteArray contentType = {}, qint64 size = -1);
    //! A file part whose content is \a bytes, sent as \a fileName. \a contentType empty: from
    //! QMimeDatabase, by \a fileName, then by content.
    Multipart &addBytes(const QString &name, QByteArray bytes, const QString &fileName,
        QByteArray contentType = {});

    //! The boundary between parts. A random one is chosen again, silently, when an in-memory
    //! part contains it (unless it was set with setBoundary()).
    QByteArray boundary() const;
    //! Uses \a boundary (RFC 2046: 1 to 70 characters of letters, digits and '()+_,-./:=?
    //! and space, not ending with a space). Returns false, changing nothing, when it is not
    //! valid or when a part added so far contains it; a part added later that contains it sets
    //! errorString().
    bool setBoundary(const QByteArray &boundary);
    //! "multipart/form-data; boundary=<boundary>": the body's Content-Type.
    QByteArray contentType() const;

    //! The number of parts.
    qsizetype count() const;
    //! True when no part has been added.
    bool isEmpty() const;
    //! The encoded body's length in bytes, or -1 when a part's length is unknown.
    qint64 size() const;
    //! True when every part can be sent again (no sequential device).
    bool isReplayable() const;
    //! What makes this form unsendable (the first problem: a file that could not be read when it
    //! was added, a null device, a Content-Type with a line break, a part containing a boundary
    //! set with setBoundary()); empty when none. Sending such a form fails with a RequestError
    //! carrying this message, before anything is sent.
    QString errorString() const;

    //! \a name (a field name or a file name) as it is written between the quotes of a
    //! Content-Disposition field: UTF-8 with '"', CR and LF escaped as %22, %0D and %0A.
    static QByteArray escapeName(const QString &name);

private:
    friend struct MultipartAccess;
    QSharedDataPointer<MultipartData> d;
};

} // namespace Reqivo
