// The logging categories of Reqivo (docs/observability.md), one definition each for every layer:
//
//   reqivo.http  requests and responses: method, redacted URL, status; redacted heads at debug
//   reqivo.pool  connections: acquire, open, reuse, wait, close
//   reqivo.tls   handshakes: protocol, cipher, ALPN; verification and pin failures
//   reqivo.ws    WebSockets: open, close, reconnect
//
// All print from QtWarningMsg up by default: enable them with QT_LOGGING_RULES (for example
// "reqivo.*.debug=true") or QLoggingCategory::setFilterRules(). Secrets never reach them: URLs
// and fields go through redaction.h first. qCDebug() tests the category before it evaluates its
// arguments, so a disabled category costs one check.
#pragma once

#include <QLoggingCategory>

namespace Reqivo {

Q_DECLARE_LOGGING_CATEGORY(lcHttp)
Q_DECLARE_LOGGING_CATEGORY(lcPool)
Q_DECLARE_LOGGING_CATEGORY(lcTls)
Q_DECLARE_LOGGING_CATEGORY(lcWs)

} // namespace Reqivo
