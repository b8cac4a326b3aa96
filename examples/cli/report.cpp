// JSON lines for --report jsonl, keys in the order of the specification.
#include "report.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QStringDecoder>

#include <algorithm>
#include <chrono>

#include <initializer_list>
#include <utility>

using namespace Qt::StringLiterals;

namespace ReqivoCli {

// One JSON value as QJsonDocument writes it: wrapped in an array, then unwrapped.
QByteArray encode(const QJsonValue &value)
{
    const QByteArray array = QJsonDocument(QJsonArray {value}).toJson(QJsonDocument::Compact);
    return array.mid(1, array.size() - 2);
}

// An object whose members keep the order given; values are already encoded JSON.
QByteArray object(std::initializer_list<std::pair<QLatin1StringView, QByteArray>> members)
{
    QByteArray out = "{";
    for (const auto &[key, json] : members) {
        if (out.size() > 1)
            out += ',';
        out += encode(QString(key));
        out += ':';
        out += json;
    }
    out += '}';
    return out;
}

namespace {

QByteArray urlJson(const QUrl &url)
{
    return encode(url.toString(QUrl::FullyEncoded));
}

// Milliseconds, fractions kept (the library measures in microseconds).
QByteArray millis(std::chrono::microseconds us)
{
    return encode(double(us.count()) / 1000.0);
}

// curl's CURLINFO_*_TIME_T phases of the final attempt, cumulative from its start.
QByteArray timingsJson(const Reqivo::Timings &t)
{
    return object({
        {"dnsMs"_L1, millis(t.dns)},
        {"connectMs"_L1, millis(t.connect)},
        {"tlsMs"_L1, millis(t.tls)},
        {"ttfbMs"_L1, millis(t.ttfb)},
        {"totalMs"_L1, millis(t.total)},
    });
}

} // namespace

QString headerText(QByteArrayView bytes)
{
    QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString text = utf8(bytes);
    if (utf8.hasError())
        return QString::fromLatin1(bytes);
    return text;
}

QByteArray reportResponse(
    const QString &url, const Reqivo::Response &response, const QByteArray &body, qint64 bodyLength)
{
    QJsonArray headers;
    for (const auto &field : response.headers())
        headers.append(QJsonArray {headerText(field.name), headerText(field.value)});

    QByteArray history = "[";
    for (const Reqivo::Response &hop : response.history()) {
        if (history.size() > 1)
            history += ',';
        history += object({{"status"_L1, encode(hop.status())}, {"url"_L1, urlJson(hop.url())}});
    }
    history += ']';

    return object({
        {"url"_L1, encode(url)},
        {"ok"_L1, encode(true)},
        {"status"_L1, encode(response.status())},
        {"reason"_L1, encode(headerText(response.reason()))},
        {"httpVersion"_L1, encode(response.httpVersion())},
        {"headers"_L1, encode(headers)},
        {"body"_L1, encode(QString::fromLatin1(body.toBase64()))},
        {"bodyLength"_L1, encode(bodyLength)},
        {"finalUrl"_L1, urlJson(response.url())},
        {"history"_L1, history},
        {"connectionReused"_L1, encode(response.connectionReused())},
        {"elapsedMs"_L1, encode(qint64(response.elapsed().count()))},
        {"attempts"_L1, encode(response.attempts())},
        {"timings"_L1, timingsJson(response.timings())},
    });
}

QByteArray reportError(const QString &url, const Reqivo::Error &error)
{
    return object({
        {"url"_L1, encode(url)},
        {"ok"_L1, encode(false)},
        {"error"_L1,
            object(
                {{"type"_L1, encode(error.typeName())}, {"message"_L1, encode(error.message())}})},
        // The tries of the final hop; 0 when the request failed before any was made (a bad
        // request, an unusable proxy setting).
        {"attempts"_L1, encode(error.attempts())},
    });
}

} // namespace ReqivoCli
