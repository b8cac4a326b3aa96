// How a request goes through an HTTP proxy that takes it in absolute form (http:// URLs; see
// Endpoint::absoluteForm and docs/resilience.md): the request-target the proxy is sent.
#pragma once

#include "prepare_p.h"

#include <QByteArray>
#include <QUrl>

namespace Reqivo::Client {

//! The absolute-form request-target of \a url (RFC 9112 §3.2.2): "http://" Host-field
//! origin-form, without user info or fragment. Also the uri a Digest answer to the proxy's
//! 407 names, which must be the request-target as sent.
inline QByteArray absoluteTarget(const QUrl &url)
{
    return url.scheme().toLatin1() + "://" + hostField(url) + requestTarget(url);
}

} // namespace Reqivo::Client
