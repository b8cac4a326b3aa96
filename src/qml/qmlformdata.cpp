// FormData: see qmlformdata.h.
#include "qmlformdata.h"

#include <QFileInfo>
#include <QUrl>

namespace Reqivo::Qml {

QmlFormData::QmlFormData(QObject *parent)
    : QObject(parent)
{
}

void QmlFormData::append(const QString &name, const QJSValue &value)
{
    m_form.addField(name, value.toString());
    Q_EMIT changed();
}

bool QmlFormData::appendFile(const QString &name, const QString &file, const QJSValue &options)
{
    const QUrl url(file);
    const QString path = url.isLocalFile() ? url.toLocalFile() : file;
    QByteArray type;
    QString fileName;
    if (options.isObject()) {
        if (options.hasProperty(QStringLiteral("type")))
            type = options.property(QStringLiteral("type")).toString().toUtf8();
        if (options.hasProperty(QStringLiteral("filename")))
            fileName = options.property(QStringLiteral("filename")).toString();
    }
    // A URL of another scheme (http:, qrc:) is not a file this process can stream: kept as typed,
    // it names no file, so the form reports it unreadable.
    m_form.addFile(name, path, type, fileName);
    Q_EMIT changed();
    const QFileInfo info(path);
    return info.isFile() && info.isReadable();
}

void QmlFormData::clear()
{
    m_form = Reqivo::Multipart();
    Q_EMIT changed();
}

int QmlFormData::count() const
{
    return int(m_form.count());
}

double QmlFormData::size() const
{
    return double(m_form.size());
}

QString QmlFormData::errorString() const
{
    return m_form.errorString();
}

} // namespace Reqivo::Qml
