// Handshake building and checking: URL mapping, the upgrade request with the checks that keep a
// caller's strings from turning into extra header lines, and the answer's RFC 6455 §4.1 rules.
#include "handshake_p.h"

#include "client/prepare_p.h"
#include "protocol/requestwriter.h"

#include <Reqivo/redaction.h>

#include <QCryptographicHash>
#include <QRandomGenerator>

namespace Reqivo::WebSocketDetail {

namespace {

// Fields the handshake writes itself; a second copy would make the upgrade ambiguous or invalid.
constexpr QByteArrayView reservedFields[] = {
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

QString latin1(QByteArrayView bytes)
{
    return QString::fromLatin1(bytes.toByteArray().toPercentEncoding(" !\"#$&'()*+,/:;<=>?@[]"));
}

} // namespace

QUrl toWebSocketUrl(const QUrl &base, const QUrl &url, QString *error)
{
    QUrl resolved = url;
    if (url.isRelative()) {
        if (!base.isValid() || base.isRelative()) {
            if (error)
                *error = QStringLiteral("relative WebSocket URL \"%1\" without a base URL")
                             .arg(redactUrl(url));
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
                         .arg(redactUrl(resolved));
        return {};
    }
    return resolved;
}

QByteArray makeHandshakeKey()
{
    quint32 words[4];
    QRandomGenerator::system()->fillRange(words);
    return QByteArray(reinterpret_cast<const char *>(words), sizeof(words)).toBase64();
}

QByteArray handshakeAccept(QByteArrayView key)
{
    QCryptographicHash sha1(QCryptographicHash::Sha1);
    sha1.addData(key);
    sha1.addData(QByteArrayView("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
    return sha1.result().toBase64();
}

bool buildHandshake(const PreparedRequest &prepared, const QStringList &subprotocols,
    const QByteArray &key, Handshake *out, QString *error)
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

    // Host first (the prepared request has it, a caller's or a hook's value included), then the
    // handshake's own fields, then the rest in the prepared order.
    Headers fields;
    QByteArray host = prepared.headers.value("host").toByteArray();
    if (host.isEmpty())
        host = Client::hostField(url);
    fields.add("Host", host);
    fields.add("Upgrade", "websocket");
    fields.add("Connection", "Upgrade");
    fields.add("Sec-WebSocket-Key", key);
    fields.add("Sec-WebSocket-Version", "13");
    if (!offered.isEmpty())
        fields.add("Sec-WebSocket-Protocol", offered.join(QStringLiteral(", ")).toLatin1());
    QList<QByteArray> seen;
    for (const Headers::Field field : prepared.headers) {
        if (!Protocol::RequestWriter::isToken(field.name))
            return fail(QStringLiteral("invalid header name \"%1\"").arg(latin1(field.name)));
        if (!Protocol::RequestWriter::isValidFieldValue(field.value))
            return fail(QStringLiteral("invalid value for header \"%1\" (control characters or "
                                       "surrounding whitespace)")
                            .arg(QString::fromLatin1(field.name)));
        if (Headers::nameEquals(field.name, "host"))
            continue; // written first
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
        const QByteArray separator = lower == "cookie" ? QByteArray("; ") : QByteArray(", ");
        fields.add(field.name, prepared.headers.values(field.name).join(separator));
    }

    QByteArray request;
    QString writeError;
    if (!Protocol::RequestWriter::writeHead(request, "GET", Client::requestTarget(url), fields,
            Protocol::RequestWriter::BodyFraming::None, 0, &writeError))
        return fail(writeError);

    out->url = url;
    out->key = key;
    out->offered = offered;
    out->request = std::move(request);
    return true;
}

bool checkHandshakeAnswer(
    const Headers &headers, const Handshake &handshake, QString *subprotocol, QString *problem)
{
    const auto fail = [problem](QString message) {
        if (problem)
            *problem = std::move(message);
        return false;
    };
    if (!headers.hasToken("upgrade", "websocket"))
        return fail(headers.contains("upgrade")
                ? QStringLiteral("the 101 answer's Upgrade field is \"%1\", not websocket")
                      .arg(latin1(headers.combinedValue("upgrade")))
                : QStringLiteral("the 101 answer has no Upgrade field"));
    if (!headers.hasToken("connection", "upgrade"))
        return fail(headers.contains("connection")
                ? QStringLiteral("the 101 answer's Connection field \"%1\" does not name upgrade")
                      .arg(latin1(headers.combinedValue("connection")))
                : QStringLiteral("the 101 answer has no Connection field"));
    const QList<QByteArray> accepts = headers.values("sec-websocket-accept");
    if (accepts.isEmpty())
        return fail(QStringLiteral("the 101 answer has no Sec-WebSocket-Accept field"));
    if (accepts.size() > 1)
        return fail(QStringLiteral("the 101 answer has %1 Sec-WebSocket-Accept fields")
                        .arg(accepts.size()));
    if (accepts.first() != handshakeAccept(handshake.key))
        return fail(QStringLiteral("the 101 answer's Sec-WebSocket-Accept \"%1\" does not "
                                   "match the key sent")
                        .arg(latin1(accepts.first())));
    if (headers.contains("sec-websocket-extensions"))
        return fail(QStringLiteral("the server chose the extension \"%1\", which was not "
                                   "offered")
                        .arg(latin1(headers.combinedValue("sec-websocket-extensions"))));
    const QList<QByteArray> protocols = headers.values("sec-websocket-protocol");
    QString chosen;
    if (!protocols.isEmpty()) {
        chosen = QString::fromLatin1(protocols.first());
        if (protocols.size() > 1 || !handshake.offered.contains(chosen))
            return fail(handshake.offered.isEmpty()
                    ? QStringLiteral("the server chose the subprotocol \"%1\", but none was "
                                     "offered")
                          .arg(latin1(headers.combinedValue("sec-websocket-protocol")))
                    : QStringLiteral("the server chose the subprotocol \"%1\", which was not "
                                     "offered (offered: %2)")
                          .arg(latin1(headers.combinedValue("sec-websocket-protocol")),
                              handshake.offered.join(QStringLiteral(", "))));
    }
    if (subprotocol)
        *subprotocol = chosen;
    return true;
}

} // namespace Reqivo::WebSocketDetail
