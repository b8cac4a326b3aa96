// The opening handshake as data: which URL, which header fields, which subprotocols.
//
// Everything here is decided before a socket exists, so a refused header sends nothing. The fields
// come from the client's preparation stage (client/prepare_p.h), the same as for HTTP requests. QWebSocket then
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
