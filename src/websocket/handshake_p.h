// The opening handshake as data: which URL, which header fields, which subprotocols.
//
// Everything here is decided before a socket exists, so a refused header sends nothing and the
// merge rules (session defaults < options < hooks) are tested without a server. QWebSocket then
// writes the request line, Host, Upgrade, Connection, Sec-WebSocket-Key/-Version and the
// subprotocol offer itself; the fields built here are added after them.
#pragma once

#include <QIODevice> // body.h (through requestoptions.h) needs it complete

#include <Reqivo/headers.h>
#include <Reqivo/requestoptions.h>

#include <QNetworkRequest>
#include <QStringList>
#include <QUrl>
#include <QWebSocketHandshakeOptions>

namespace Reqivo::WebSocketDetail {

//! \a url resolved against \a base when relative, with http → ws and https → wss. Returns an
//! invalid URL and sets \a error when the result is not an absolute ws:// or wss:// URL.
QUrl toWebSocketUrl(const QUrl &base, const QUrl &url, QString *error);

//! \a defaults with every field that \a overrides names replaced by the overrides' fields.
Headers mergeHeaders(const Headers &defaults, const Headers &overrides);

//! Adds Authorization (from the URL's user info, else \a sessionAuthorization) and Cookie
//! (\a cookieHeader) unless the headers already have them, and removes the user info from the
//! URL so that credentials never reach a log or an error message.
void addCredentials(PreparedRequest &request, const QByteArray &sessionAuthorization,
    const QByteArray &cookieHeader);

struct Handshake
{
    QUrl url;
    QNetworkRequest request;
    QWebSocketHandshakeOptions options;
};

//! Checks \a prepared and \a subprotocols and builds what QWebSocket::open() takes. Refuses
//! (false, \a error set) a URL that is not ws/wss, field names that are not tokens, values with
//! CR, LF, NUL or other controls, fields the handshake owns, and subprotocol names that are not
//! tokens or appear twice.
bool buildHandshake(const PreparedRequest &prepared, const QStringList &subprotocols,
    Handshake *out, QString *error);

} // namespace Reqivo::WebSocketDetail
