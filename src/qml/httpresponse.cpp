// HttpResponse: lazy, cached views of a Response for QML.
// Before any Reqivo header: body.h holds a QPointer<QIODevice> but only declares QIODevice.
#include <QIODevice>

#include "httpresponse.h"

#include "jsconvert_p.h"

#include <Reqivo/errors.h>

#include <QJSEngine>
#include <QJsonArray>
#include <QJsonObject>

namespace Reqivo::Qml {

HttpResponse::HttpResponse(Response response, QObject *parent)
    : QObject(parent)
    , m_response(std::move(response))
{
}

HttpResponse::~HttpResponse() = default;

int HttpResponse::status() const
{
    return m_response.status();
}
bool HttpResponse::ok() const
{
    return m_response.isSuccess();
}
QString HttpResponse::reason() const
{
    return QString::fromUtf8(m_response.reason());
}
QByteArray HttpResponse::body() const
{
    return m_response.body();
}
QUrl HttpResponse::url() const
{
    return m_response.url();
}
QString HttpResponse::httpVersion() const
{
    return m_response.httpVersion();
}
int HttpResponse::elapsed() const
{
    return int(m_response.elapsed().count());
}
bool HttpResponse::redirected() const
{
    return !m_response.history().isEmpty();
}

QVariantMap HttpResponse::headers() const
{
    if (!m_headers)
        m_headers = headersToMap(m_response.headers());
    return *m_headers;
}

QString HttpResponse::text() const
{
    if (!m_text)
        m_text = m_response.text();
    return *m_text;
}

QJSValue HttpResponse::json() const
{
    if (m_json)
        return *m_json;
    QJSEngine *engine = qjsEngine(this);
    if (!engine)
        return QJSValue(QJSValue::UndefinedValue); // not cached: an engine may come later
    QJSValue value(QJSValue::UndefinedValue);
    try {
        const QJsonDocument doc = m_response.json();
        if (doc.isArray())
            value = engine->toScriptValue(doc.array());
        else if (doc.isObject())
            value = engine->toScriptValue(doc.object());
    } catch (const ReqivoError &) {
        // Not JSON: undefined, as documented. The body is still there as text.
    }
    m_json = value;
    return value;
}

QJSValue HttpResponse::header(const QString &name) const
{
    const QVariantMap map = headers();
    const auto it = map.constFind(name.toLower());
    if (it == map.cend())
        return QJSValue(QJSValue::UndefinedValue);
    if (QJSEngine *engine = qjsEngine(this))
        return engine->toScriptValue(it.value());
    return QJSValue(it.value().toString());
}

} // namespace Reqivo::Qml
