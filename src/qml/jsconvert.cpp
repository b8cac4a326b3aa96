// JS values to client-layer values and back. See jsconvert_p.h.
#include "jsconvert_p.h"
#include "qmlformdata.h"

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
    if (const auto *form = qobject_cast<const QmlFormData *>(value.toQObject())) {
        *body = Body::fromMultipart(form->multipart());
        return {};
    }
    if (value.isCallable() || value.isQObject())
        return QStringLiteral("a request body must be a string, an ArrayBuffer, a FormData or a "
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

namespace {

// A non-negative whole number of milliseconds from a QML number.
bool msFrom(const QVariant &value, std::chrono::milliseconds *out)
{
    const double number = value.toDouble();
    if (!(number >= 0) || number > 1e12)
        return false;
    *out = std::chrono::milliseconds(qint64(number));
    return true;
}

bool isNumber(const QVariant &value)
{
    switch (value.metaType().id()) {
    case QMetaType::Int:
    case QMetaType::UInt:
    case QMetaType::LongLong:
    case QMetaType::ULongLong:
    case QMetaType::Double:
    case QMetaType::Float:
        return true;
    default:
        return false;
    }
}

} // namespace

QString retryFromVariant(const QVariant &value, RetryPolicy *policy)
{
    if (isNumber(value)) {
        const double n = value.toDouble();
        if (!(n >= 1) || n > 1000000 || n != double(qint64(n)))
            return QStringLiteral("retry must be a number of attempts >= 1 or an object");
        policy->maxAttempts = int(n);
        return {};
    }
    if (value.metaType() != QMetaType::fromType<QVariantMap>())
        return QStringLiteral("retry must be a number of attempts >= 1 or an object");
    const QVariantMap map = value.toMap();
    RetryPolicy p = *policy;
    for (auto it = map.cbegin(); it != map.cend(); ++it) {
        const QString &key = it.key();
        const QVariant &v = it.value();
        const QString bad = QStringLiteral("retry.%1 must be %2").arg(key);
        if (key == QLatin1String("attempts")) {
            const double n = v.toDouble();
            if (!isNumber(v) || !(n >= 1) || n > 1000000 || n != double(qint64(n)))
                return bad.arg(QStringLiteral("a whole number >= 1"));
            p.maxAttempts = int(n);
        } else if (key == QLatin1String("baseDelay") || key == QLatin1String("maxDelay")
            || key == QLatin1String("retryAfterMax") || key == QLatin1String("maxRetryTime")) {
            std::chrono::milliseconds ms {0};
            if (!isNumber(v) || !msFrom(v, &ms))
                return bad.arg(QStringLiteral("a number of ms >= 0"));
            if (key == QLatin1String("baseDelay"))
                p.baseDelay = ms;
            else if (key == QLatin1String("maxDelay"))
                p.maxDelay = ms;
            else if (key == QLatin1String("retryAfterMax"))
                p.maxRetryAfter = ms;
            else // QML's 0 is "no limit"
                p.maxRetryTime = ms.count() == 0 ? Timeout::noLimit : ms;
        } else if (key == QLatin1String("factor")) {
            if (!isNumber(v) || !(v.toDouble() >= 1) || v.toDouble() > 1000)
                return bad.arg(QStringLiteral("a number from 1 to 1000"));
            p.factor = v.toDouble();
        } else if (key == QLatin1String("jitter") || key == QLatin1String("retryNonIdempotent")
            || key == QLatin1String("budget")) {
            if (v.metaType() != QMetaType::fromType<bool>())
                return bad.arg(QStringLiteral("a boolean"));
            if (key == QLatin1String("jitter"))
                p.jitter = v.toBool();
            else if (key == QLatin1String("retryNonIdempotent"))
                p.retryNonIdempotent = v.toBool();
            else
                p.budget.enabled = v.toBool();
        } else if (key == QLatin1String("statuses")) {
            if (v.metaType() != QMetaType::fromType<QVariantList>())
                return bad.arg(QStringLiteral("an array of status codes"));
            QList<int> statuses;
            for (const QVariant &code : v.toList()) {
                const double c = code.toDouble();
                if (!isNumber(code) || c < 100 || c > 999 || c != double(int(c)))
                    return bad.arg(QStringLiteral("an array of status codes"));
                statuses.append(int(c));
            }
            p.retryStatuses = statuses;
        } else {
            return QStringLiteral("unknown retry setting '%1'").arg(key);
        }
    }
    *policy = p;
    return {};
}

QJSValue timingsToJs(QJSEngine *engine, const Timings &timings)
{
    const auto ms = [](std::chrono::microseconds us) { return double(us.count()) / 1000.0; };
    QJSValue t = engine->newObject();
    t.setProperty(QStringLiteral("dnsMs"), ms(timings.dns));
    t.setProperty(QStringLiteral("connectMs"), ms(timings.connect));
    t.setProperty(QStringLiteral("tlsMs"), ms(timings.tls));
    t.setProperty(QStringLiteral("ttfbMs"), ms(timings.ttfb));
    t.setProperty(QStringLiteral("totalMs"), ms(timings.total));
    t.setProperty(QStringLiteral("queueMs"), ms(timings.queue));
    t.setProperty(QStringLiteral("proxyTunnelMs"), ms(timings.proxyTunnel));
    t.setProperty(QStringLiteral("requestSentMs"), ms(timings.requestSent));
    t.setProperty(QStringLiteral("reused"), timings.reusedConnection);
    return t;
}

QString optionsFromJs(QJSEngine *engine, const QJSValue &options, const Timeout &baseTimeout,
    ExtraOptions extra, RequestOptions *opts, QString *method, const RetryPolicy &baseRetry)
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
        } else if (key == QLatin1String("retry")) {
            RetryPolicy policy = baseRetry;
            if (value.isNull()) {
                policy = RetryPolicy::none();
            } else if (QString message = retryFromVariant(value.toVariant(), &policy);
                       !message.isEmpty()) {
                return QStringLiteral("options.") + message;
            }
            opts->retry.emplace(std::move(policy));
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
    e.setProperty(QStringLiteral("attempts"), error.attempts());
    return e;
}

} // namespace Reqivo::Qml
