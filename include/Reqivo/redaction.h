// Secrets kept out of logs, -v output and error messages: credentials in fields, cookies, URL
// user info and the values of sensitive query parameters. See docs/observability.md.
#pragma once

#include <Reqivo/headers.h>
#include <Reqivo/reqivoglobal.h>

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace Reqivo {

//! What replaces a secret: "<redacted>".
REQIVO_EXPORT QByteArray redactedMarker();

//! The query parameters redacted by default: token, access_token, refresh_token, api_key,
//! apikey, password, secret, signature, sig (AsyncSession::setRedactedQueryParameters()).
REQIVO_EXPORT QStringList defaultRedactedQueryNames();

//! \a url as text with its user info replaced by "<redacted>" and the values of the query
//! parameters named in \a queryNames (case-insensitive) replaced by "<redacted>".
REQIVO_EXPORT QString redactUrl(const QUrl &url,
                                const QStringList &queryNames = defaultRedactedQueryNames());

//! The value of a field named \a name as it may be shown: Authorization and
//! Proxy-Authorization keep their scheme ("Basic <redacted>"), Cookie keeps each cookie's name
//! ("a=<redacted>; b=<redacted>"), Set-Cookie keeps the name and attributes, Location and
//! Content-Location go through redactUrl() with the default names; any other field is returned
//! unchanged.
REQIVO_EXPORT QByteArray redactFieldValue(QByteArrayView name, QByteArrayView value);

//! Every field of \a headers through redactFieldValue().
REQIVO_EXPORT Headers redactHeaders(const Headers &headers);

} // namespace Reqivo
