// JS values to client-layer values and back. See jsconvert_p.h.
#include "jsconvert_p.h"

#include <QJSEngine>
#include <QJSValueIterator>
#include <QStringList>

#include <optional>

namespace Reqivo::Qml {

Q_LOGGING_CATEGORY(lcQml, "reqivo.qml")

namespace {

// Object.prototype.toString gives "[object ArrayBuffer]", "[object Uint8Array]", ...: the one
// way to recognise a JS built-in's class through the public QJSValue API.
QString jsClassOf(QJSEngine *engine, const QJSValue &value)
{
    const QJSValue toString = engine->globalObject()
                                  .property(QStringLiteral("Object"))
                                  .property(QStringLiteral("prototype"))
                                  .property(QStringLiteral("toString"));
    return toString.callWithInstance(value).toString();
}

// ArrayBuffer, or a view of one (typed array, DataView): the bytes it covers.
std::optional<QByteArray> bytesOf(QJSEngine *engine, const QJSValue &value)
{
    if (!value.isObject() || value.isArray() || value.isCallable() || value.isQObject())
        return std::nullopt;
    const QString cls = jsClassOf(engine, value);
    if (cls == QLatin1String("[object ArrayBuffer]"))
        return engine->fromScriptValue<QByteArray>(value);
    const QJSValue isView = engine->globalObject()
                                .property(QStringLiteral("ArrayBuffer"))
                                .property(QStringLiteral("isView"));
    if (!isView.call({value}).toBool())
        return std::nullopt;
    const QByteArray all
        = engine->fromScriptValue<QByteArray>(value.property(QStringLiteral("buffer")));
    const auto offset = qsizetype(value.property(QStringLiteral("byteOffset")).toNumber());
    const auto length = qsizetype(value.property(QStringLiteral("byteLength")).toNumber());
    return all.mid(offset, length);
}

QStringList stringsOf(const QVariant &value)
{
    if (value.metaType() == QMetaType::fromType<QVariantList>()
        || value.metaType() == QMetaType::fromType<QStringList>()) {
        QStringList out;
        for (const QVariant &v : value.toList())
            out << v.toString();
        return out;
    }
    return {value.toString()};
}

} // namespace

Timeout withPhaseTimeout(Timeout base, int milliseconds)
{
    // QML's 0 (or less) is "no limit", as XMLHttpRequest.timeout's; C++'s is Timeout::noLimit.
    const Timeout::ms value = milliseconds > 0 ? Timeout::ms(milliseconds) : Timeout::noLimit;
    base.connect = value;
    base.read = value;
    base.write = value;
    return base;
}

Headers headersFromMap(const QVariantMap &map)
{
    Headers headers;
    for (auto it = map.cbegin(); it != map.cend(); ++it) {
        const QByteArray name = it.key().toUtf8();
        for (const QString &value : stringsOf(it.value()))
            headers.add(name, value.toUtf8());
    }
    return headers;
}

QJSValue headersToJs(QJSEngine *engine, const Headers &headers)
{
    QJSValue object = engine->newObject();
    for (const Headers::Field field : headers) {
        const QString name = QString::fromUtf8(field.name).toLower();
        if (object.hasOwnProperty(name))
            continue;
        if (name == QLatin1String("set-cookie")) {
            const QList<QByteArray> values = headers.values(field.name);
            QJSValue cookies = engine->newArray(uint(values.size()));
            for (qsizetype i = 0; i < values.size(); ++i)
                cookies.setProperty(quint32(i), QString::fromUtf8(values[i]));
            object.setProperty(name, cookies);
        } else {
            object.setProperty(name, QString::fromUtf8(headers.combinedValue(field.name)));
        }
    }
    return object;
}

QString bodyFromJs(QJSEngine *engine, const QJSValue &value, Body *body)
{
    if (value.isUndefined() || value.isNull()) {
        *body = Body();
        return {};
    }
    if (value.isString()) {
        *body = Body::fromText(value.toString());
        return {};
    }
    if (!engine)
        return QStringLiteral("only a string body can be sent without a JS engine");
    if (const std::optional<QByteArray> bytes = bytesOf(engine, value)) {
        *body = Body::fromBytes(*bytes);
        return {};
    }
    if (value.isCallable() || value.isQObject())
        return QStringLiteral("a request body must be a string, an ArrayBuffer or a "
                              "JSON-serialisable value");
    // The engine's own serialiser, so toJSON(), Dates and dropped undefined members behave
    // exactly as JavaScript code expects of "send this object as JSON".
    const QJSValue stringify = engine->globalObject()
                                   .property(QStringLiteral("JSON"))
                                   .property(QStringLiteral("stringify"));
    const QJSValue json = stringify.call({value});
    if (json.isError() || !json.isString())
        return QStringLiteral("the request body cannot be serialised as JSON: ") + json.toString();
    *body = Body::fromBytes(json.toString().toUtf8(), QByteArrayLiteral("application/json"));
    return {};
}

QString optionsFromJs(QJSEngine *engine, const QJSValue &options, const Timeout &baseTimeout,
    ExtraOptions extra, RequestOptions *opts, QString *method)
{
    if (options.isUndefined() || options.isNull())
        return {};
    if (!options.isObject() || options.isArray() || options.isCallable())
        return QStringLiteral("request options must be an object");

    QJSValueIterator it(options);
    while (it.hasNext()) {
        it.next();
        const QString key = it.name();
        const QJSValue value = it.value();
        if (value.isUndefined())
            continue;
        if (key == QLatin1String("headers")) {
            if (!value.isObject() || value.isArray())
                return QStringLiteral("options.headers must be an object");
            opts->headers.append(headersFromMap(value.toVariant().toMap()));
        } else if (key == QLatin1String("query")) {
            if (!value.isObject() || value.isArray())
                return QStringLiteral("options.query must be an object");
            const QVariantMap map = value.toVariant().toMap();
            for (auto q = map.cbegin(); q != map.cend(); ++q) {
                for (const QString &v : stringsOf(q.value()))
                    opts->query.addQueryItem(q.key(), v);
            }
        } else if (key == QLatin1String("timeout")) {
            if (!value.isNumber())
                return QStringLiteral("options.timeout must be a number of ms");
            opts->timeout = withPhaseTimeout(baseTimeout, value.toInt());
        } else if (key == QLatin1String("followRedirects")) {
            if (!value.isBool())
                return QStringLiteral("options.followRedirects must be a boolean");
            opts->followRedirects = value.toBool();
        } else if (key == QLatin1String("body") && extra.testFlag(ExtraOption::Body)) {
            if (QString message = bodyFromJs(engine, value, &opts->body); !message.isEmpty())
                return message;
        } else if (key == QLatin1String("method") && extra.testFlag(ExtraOption::Method)
            && method) {
            if (!value.isString() || value.toString().isEmpty())
                return QStringLiteral("options.method must be a non-empty string");
            *method = value.toString();
        } else {
            return QStringLiteral("unknown request option '%1'").arg(key);
        }
    }
    return {};
}

QJSValue errorToJs(QJSEngine *engine, const Error &error)
{
    QJSValue e = engine->newErrorObject(QJSValue::GenericError, error.message());
    // A plain setProperty("name") does not stick on an Error made by the engine; defining the
    // own property does, and makes toString() read "ReadTimeout: ...".
    QJSValue descriptor = engine->newObject();
    descriptor.setProperty(QStringLiteral("value"), error.typeName());
    descriptor.setProperty(QStringLiteral("writable"), true);
    descriptor.setProperty(QStringLiteral("configurable"), true);
    engine->globalObject()
        .property(QStringLiteral("Object"))
        .property(QStringLiteral("defineProperty"))
        .call({e, QStringLiteral("name"), descriptor});
    e.setProperty(QStringLiteral("type"), error.typeName());
    e.setProperty(QStringLiteral("url"), error.url().toString());
    e.setProperty(QStringLiteral("code"), error.code());
    e.setProperty(QStringLiteral("detail"), error.detail());
    return e;
}

} // namespace Reqivo::Qml
