// Reqivo::Body factories. Everything that can be turned into bytes up front (text, JSON, forms)
// is, so that only devices and generators are streamed and only they can be non-replayable.
#include <Reqivo/body.h>
#include <Reqivo/multipart.h>

#include <QIODevice>
#include <QJsonArray>
#include <QJsonObject>

namespace Reqivo {

namespace {

// application/x-www-form-urlencoded serialisation of one name or value (WHATWG URL
// "urlencoded serializer", RFC 3986 unreserved set): UTF-8, every byte outside
// ALPHA / DIGIT / "-" / "." / "_" / "~" percent-encoded, spaces written as '+'.
void appendFormComponent(QByteArray &out, const QString &component)
{
    // toPercentEncoding() leaves exactly the unreserved set alone; keeping ' ' too lets it be
    // turned into '+' afterwards without touching an encoded "%20" written by the caller.
    QByteArray encoded = component.toUtf8().toPercentEncoding(QByteArrayLiteral(" "));
    encoded.replace(' ', '+');
    out += encoded;
}

} // namespace

Body Body::fromBytes(QByteArray bytes, QByteArray contentType)
{
    Body body;
    body.m_kind = Kind::Bytes;
    body.m_size = bytes.size();
    body.m_bytes = std::move(bytes);
    body.m_contentType = std::move(contentType);
    return body;
}

Body Body::fromText(const QString &text, QByteArray contentType)
{
    return fromBytes(text.toUtf8(), std::move(contentType));
}

Body Body::fromJson(const QJsonDocument &json)
{
    return fromBytes(json.toJson(QJsonDocument::Compact), QByteArrayLiteral("application/json"));
}

Body Body::fromJson(const QJsonObject &json)
{
    return fromJson(QJsonDocument(json));
}

Body Body::fromJson(const QJsonArray &json)
{
    return fromJson(QJsonDocument(json));
}

Body Body::fromForm(const QList<std::pair<QString, QString>> &fields)
{
    QByteArray out;
    for (const auto &[name, value] : fields) {
        if (!out.isEmpty())
            out += '&';
        appendFormComponent(out, name);
        out += '=';
        appendFormComponent(out, value);
    }
    return fromBytes(std::move(out), QByteArrayLiteral("application/x-www-form-urlencoded"));
}

Body Body::fromForm(const QUrlQuery &query)
{
    // FullyDecoded: the query holds the user's text; it is encoded here exactly once.
    QList<std::pair<QString, QString>> fields;
    const auto items = query.queryItems(QUrl::FullyDecoded);
    fields.reserve(items.size());
    for (const auto &item : items)
        fields.append({item.first, item.second});
    return fromForm(fields);
}

Body Body::fromDevice(QIODevice *device, qint64 size, QByteArray contentType)
{
    if (!device)
        return Body();
    Body body;
    body.m_kind = Kind::Device;
    body.m_device = device;
    body.m_contentType = std::move(contentType);
    if (device->isSequential()) {
        // A socket or pipe cannot be rewound, so the position is meaningless for replay.
        body.m_devicePosition = 0;
        body.m_size = size >= 0 ? size : -1;
    } else {
        body.m_devicePosition = device->pos();
        body.m_size = size >= 0 ? size : qMax<qint64>(0, device->size() - device->pos());
    }
    return body;
}

Body Body::fromGenerator(GeneratorFactory factory, QByteArray contentType)
{
    if (!factory)
        return Body();
    Body body;
    body.m_kind = Kind::Generator;
    body.m_size = -1;
    body.m_factory = std::move(factory);
    body.m_contentType = std::move(contentType);
    return body;
}

Body Body::fromMultipart(const Multipart &form)
{
    Body body;
    body.m_kind = Kind::Multipart;
    body.m_size = form.size();
    body.m_contentType = form.contentType();
    body.m_multipart = std::make_shared<const Multipart>(form);
    return body;
}

bool Body::isReplayable() const noexcept
{
    switch (m_kind) {
    case Kind::Empty:
    case Kind::Bytes:
        return true;
    case Kind::Device:
        // Random-access devices are rewound to devicePosition() before each send; a device
        // that was destroyed meanwhile cannot be sent at all, let alone twice.
        return !m_device.isNull() && !m_device->isSequential();
    case Kind::Generator:
        return false;
    case Kind::Multipart:
        return m_multipart->isReplayable();
    }
    return false;
}

} // namespace Reqivo
