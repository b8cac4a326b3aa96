// Handshake building: URL mapping, header merging and the checks that keep a caller's
// strings from turning into extra header lines.
#include "handshake_p.h"

#include "client/prepare_p.h"
#include "protocol/requestwriter.h"

#include <QSet>

namespace Reqivo::WebSocketDetail {

namespace {

// Fields QWebSocket writes itself; a second copy would make the upgrade ambiguous or invalid.
constexpr QByteArrayView reservedFields[] = {
    "host",
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-accept",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
    "content-length",
    "transfer-encoding",
};

bool isReserved(QByteArrayView name)
{
    for (QByteArrayView reserved : reservedFields) {
        if (Headers::nameEquals(name, reserved))
            return true;
    }
    return false;
}

QUrl withoutUserInfo(QUrl url)
{
    url.setUserInfo(QString());
    return url;
}

} // namespace

QUrl toWebSocketUrl(const QUrl &base, const QUrl &url, QString *error)
{
    QUrl resolved = url;
    if (url.isRelative()) {
        if (!base.isValid() || base.isRelative()) {
            if (error)
                *error = QStringLiteral("relative WebSocket URL \"%1\" without a base URL")
                             .arg(url.toString());
            return {};
        }
        resolved = base.resolved(url);
    }
    const QString scheme = resolved.scheme().toLower();
    if (scheme == QLatin1String("http"))
        resolved.setScheme(QStringLiteral("ws"));
    else if (scheme == QLatin1String("https"))
        resolved.setScheme(QStringLiteral("wss"));
    else if (scheme == QLatin1String("ws") || scheme == QLatin1String("wss"))
        resolved.setScheme(scheme);
    if (!resolved.isValid() || resolved.host().isEmpty()
        || (resolved.scheme() != QLatin1String("ws")
            && resolved.scheme() != QLatin1String("wss"))) {
        if (error)
            *error = QStringLiteral("not a ws, wss, http or https URL: \"%1\"")
                         .arg(withoutUserInfo(resolved).toString());
        return {};
    }
    return resolved;
}

bool buildHandshake(const PreparedRequest &prepared, const QStringList &subprotocols,
    Handshake *out, QString *error)
{
    const auto fail = [error](QString message) {
        if (error)
            *error = std::move(message);
        return false;
    };

    QString urlError;
    const QUrl url = toWebSocketUrl({}, prepared.url, &urlError);
    if (!url.isValid())
        return fail(urlError);
    if (!url.userInfo().isEmpty())
        return fail(QStringLiteral("credentials in a WebSocket URL are sent as Authorization, "
                                   "not in the URL"));

    QNetworkRequest request(url);
    QList<QByteArray> seen;
    for (const Headers::Field field : prepared.headers) {
        if (!Protocol::RequestWriter::isToken(field.name))
            return fail(
                QStringLiteral("invalid header name \"%1\"")
                    .arg(QString::fromLatin1(field.name.toByteArray().toPercentEncoding())));
        if (!Protocol::RequestWriter::isValidFieldValue(field.value))
            return fail(QStringLiteral("invalid value for header \"%1\" (control characters or "
                                       "surrounding whitespace)")
                            .arg(QString::fromLatin1(field.name)));
        // Hooks saw the Host the request goes to; QWebSocket writes that same field itself.
        if (Headers::nameEquals(field.name, "host") && field.value == Client::hostField(url))
            continue;
        if (isReserved(field.name)) {
            if (Headers::nameEquals(field.name, "sec-websocket-protocol"))
                return fail(QStringLiteral("set subprotocols through WebSocketOptions::"
                                           "subprotocols, not a Sec-WebSocket-Protocol header"));
            return fail(QStringLiteral("the WebSocket handshake sets \"%1\" itself")
                            .arg(QString::fromLatin1(field.name)));
        }
        const QByteArray lower = field.name.toByteArray().toLower();
        if (seen.contains(lower))
            continue; // already written, with every value of that name
        seen.append(lower);
        // QNetworkRequest keeps one value per name: repeated fields are joined as HTTP allows
        // (RFC 9110 §5.3), Cookie with "; " (RFC 6265 §5.4).
        const QByteArray separator = lower == "cookie" ? QByteArray("; ") : QByteArray(", ");
        request.setRawHeader(
            field.name.toByteArray(), prepared.headers.values(field.name).join(separator));
    }

    QStringList offered;
    for (const QString &protocol : subprotocols) {
        const QByteArray bytes = protocol.toLatin1();
        if (protocol.isEmpty() || QString::fromLatin1(bytes) != protocol
            || !Protocol::RequestWriter::isToken(bytes))
            return fail(QStringLiteral("invalid subprotocol name \"%1\"").arg(protocol));
        if (offered.contains(protocol))
            return fail(QStringLiteral("subprotocol \"%1\" offered twice").arg(protocol));
        offered.append(protocol);
    }

    out->url = url;
    out->request = request;
    out->options = QWebSocketHandshakeOptions();
    out->options.setSubprotocols(offered);
    return true;
}

} // namespace Reqivo::WebSocketDetail
