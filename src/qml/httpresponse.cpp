// HttpResponse: lazy, cached views of a Response for QML.
#include "httpresponse.h"

#include "jsconvert_p.h"

#include <Reqivo/errors.h>

#include <QJSEngine>
#include <QJsonArray>
#include <QJsonObject>

namespace Reqivo::Qml {

HttpResponse::HttpResponse(Response response, QString filePath, QObject *parent)
    : QObject(parent)
    , m_response(std::move(response))
    , m_filePath(std::move(filePath))
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
QJSValue HttpResponse::body() const
{
    QJSEngine *engine = qjsEngine(this);
    if (!engine)
        return QJSValue(QJSValue::UndefinedValue);
    // Shared with the Response, not copied. A null QByteArray (no body at all) would not
    // become an ArrayBuffer: an empty one is what JS code expects to find.
    QByteArray bytes = m_response.body();
    if (bytes.isNull())
        bytes = QByteArray("", 0);
    return engine->toScriptValue(bytes);
}
QUrl HttpResponse::url() const
{
    return m_response.url();
}
QString HttpResponse::httpVersion() const
{
    return m_response.httpVersion();
}
int HttpResponse::attempts() const
{
    return m_response.attempts();
}

QJSValue HttpResponse::timings() const
{
    if (m_timings.isUndefined()) {
        if (QJSEngine *engine = qjsEngine(this))
            m_timings = timingsToJs(engine, m_response.timings());
    }
    return m_timings;
}

int HttpResponse::elapsed() const
{
    return int(m_response.elapsed().count());
}
bool HttpResponse::redirected() const
{
    return !m_response.history().isEmpty();
}

QJSValue HttpResponse::headers() const
{
    if (m_headers.isUndefined()) {
        if (QJSEngine *engine = qjsEngine(this))
            m_headers = headersToJs(engine, m_response.headers());
    }
    return m_headers;
}

QJSValue HttpResponse::history() const
{
    if (m_history.isUndefined()) {
        if (QJSEngine *engine = qjsEngine(this)) {
            const QList<Response> hops = m_response.history();
            QJSValue list = engine->newArray(uint(hops.size()));
            for (qsizetype i = 0; i < hops.size(); ++i)
                list.setProperty(quint32(i), engine->newQObject(new HttpResponse(hops[i])));
            m_history = list;
        }
    }
    return m_history;
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
    const QJSValue all = headers();
    const QString key = name.toLower();
    // Own properties only: "constructor" or "toString" are not header names.
    if (!all.isObject() || !all.hasOwnProperty(key))
        return QJSValue(QJSValue::UndefinedValue);
    return all.property(key);
}

} // namespace Reqivo::Qml
