// FormData: a multipart/form-data body for QML, over Reqivo::Multipart.
//
//   FormData { id: form }
//   ...
//   form.append("title", "Holiday")
//   form.appendFile("photo", "file:///home/me/beach.jpg", {type: "image/jpeg", filename: "b.jpg"})
//   client.post("/upload", form)
//
// Passed as the body of HttpClient.post/put/patch (or options.body), it is sent as
// Body::fromMultipart(): files are read while sending, never loaded into memory, with upload
// progress as for any body. A file that cannot be read fails the request (a RequestError) before
// anything is sent; appendFile() also returns false and sets errorString at once.
// HttpClient.formData() makes one from JavaScript.
#pragma once

#include <Reqivo/multipart.h>

#include <QJSValue>
#include <QObject>
#include <QString>
#include <QtQml/qqmlregistration.h>

namespace Reqivo::Qml {

class QmlFormData : public QObject
{
    Q_OBJECT
    QML_NAMED_ELEMENT(FormData)
    //! The number of fields and files.
    Q_PROPERTY(int count READ count NOTIFY changed)
    //! The encoded body's length in bytes (-1 when unknown).
    Q_PROPERTY(double size READ size NOTIFY changed)
    //! The first problem that makes the form unsendable (a file that cannot be read); empty when
    //! none.
    Q_PROPERTY(QString errorString READ errorString NOTIFY changed)

public:
    explicit QmlFormData(QObject *parent = nullptr);

    //! A text field (no Content-Type). Numbers and booleans are sent as their text.
    Q_INVOKABLE void append(const QString &name, const QJSValue &value);
    //! A file part read from \a file (a file: URL or a local path) while sending. \a options:
    //! {type: "image/png", filename: "name.png"}; the type comes from QMimeDatabase and the
    //! file name from the path unless given. Returns false (and sets errorString) when the file
    //! cannot be read now.
    Q_INVOKABLE bool appendFile(
        const QString &name, const QString &file, const QJSValue &options = QJSValue());
    //! Removes every field and file (and the error).
    Q_INVOKABLE void clear();

    int count() const;
    double size() const;
    QString errorString() const;

    //! The form as the library sends it.
    const Reqivo::Multipart &multipart() const { return m_form; }

Q_SIGNALS:
    void changed();

private:
    Reqivo::Multipart m_form;
};

} // namespace Reqivo::Qml
