// Which HTTP version a request may use: HTTP/1.1 only, HTTP/2 when the server offers it (the
// default), or HTTP/2 with prior knowledge. See docs/http2.md.
#pragma once

#include <Reqivo/reqivoglobal.h>

#include <QString>

namespace Reqivo {

//! The HTTP version policy of a session (AsyncSession::setHttpVersion()) or of one request
//! (RequestOptions::httpVersion). Curl's --http1.1, --http2 and --http2-prior-knowledge.
enum class HttpVersion {
    //! HTTP/1.1 only: TLS connections offer only "http/1.1" in ALPN.
    Http1_1,
    //! The default. Over TLS, ALPN offers "h2" before "http/1.1" and the server chooses;
    //! cleartext (http://) requests use HTTP/1.1, since HTTP/2 without TLS needs prior
    //! knowledge.
    Http2,
    //! Cleartext requests speak HTTP/2 from the first byte (RFC 9113 §3.3), to servers known to
    //! support it; one that does not fails with a ProtocolError or NetworkError. Over TLS the
    //! same as Http2 (ALPN decides).
    Http2PriorKnowledge,
};

//! "1.1", "2" and "2-prior-knowledge", for messages and the CLI's reports.
REQIVO_EXPORT QString httpVersionName(HttpVersion version);

} // namespace Reqivo
