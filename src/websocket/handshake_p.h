// The opening handshake as data (RFC 6455 §4.1): the request a client sends and the checks its
// answer must pass. No I/O: the engine (asyncwebsocketcalls.cpp) writes the request on an
// AsyncConnection and hands the parsed answer to checkHandshakeAnswer().
//
// Everything the request carries is decided before a connection exists, so a refused header
// sends nothing. The fields come from the client's preparation stage (client/prepare_p.h), the
// same as for HTTP requests; this layer adds the handshake's own fields and refuses callers'
// copies of them.
#pragma once

#include <QIODevice> // body.h (through requestoptions.h) needs it complete

#include <Reqivo/headers.h>
#include <Reqivo/requestoptions.h>

#include <QByteArray>
#include <QStringList>
#include <QUrl>

namespace Reqivo::WebSocketDetail {

//! \a url resolved against \a base when relative, with http → ws and https → wss. Returns an
//! invalid URL and sets \a error when the result is not an absolute ws:// or wss:// URL.
QUrl toWebSocketUrl(const QUrl &base, const QUrl &url, QString *error);

struct Handshake
{
    QUrl url; //!< ws:// or wss://, without user info
    QByteArray key; //!< the Sec-WebSocket-Key sent
    QStringList offered; //!< the subprotocols offered, in order
    QByteArray request; //!< the whole HTTP/1.1 request
};

//! A fresh Sec-WebSocket-Key: 16 bytes from the system CSPRNG, base64 (RFC 6455 §4.1).
QByteArray makeHandshakeKey();
//! The Sec-WebSocket-Accept a server must answer \a key with: base64(SHA-1(key + GUID)).
QByteArray handshakeAccept(QByteArrayView key);

//! Checks \a prepared and \a subprotocols and writes the upgrade request for \a key. Refuses
//! (false, \a error set) a URL that is not ws/wss, field names that are not tokens, values with
//! CR, LF, NUL or other controls, fields the handshake owns (Upgrade, Connection, Sec-WebSocket-*,
//! framing fields), and subprotocol names that are not tokens or appear twice. Repeated fields of
//! one name are sent joined (", "; Cookie with "; ", RFC 6265 §5.4).
bool buildHandshake(const PreparedRequest &prepared, const QStringList &subprotocols,
    const QByteArray &key, Handshake *out, QString *error);

//! Checks the header fields of a 101 answer to \a handshake (RFC 6455 §4.1, client steps 2-6):
//! Upgrade and Connection as case-insensitive token lists holding "websocket" and "upgrade", one
//! Sec-WebSocket-Accept matching the key, at most one Sec-WebSocket-Protocol naming an offered
//! subprotocol, no Sec-WebSocket-Extensions (none is ever offered). On success sets
//! \a subprotocol (empty when none was chosen); otherwise returns false with \a problem set.
bool checkHandshakeAnswer(
    const Headers &headers, const Handshake &handshake, QString *subprotocol, QString *problem);

} // namespace Reqivo::WebSocketDetail
