// Reqivo::Testing::MockServer: a real loopback HTTP server for testing code that uses Reqivo (or
// any HTTP client) without the internet, in the pattern of OkHttp's MockWebServer.
//
//   Reqivo::Testing::MockServer server;
//   server.enqueue(Reqivo::Testing::MockResponse::json(R"({"id": 1})"));
//   server.start();                                   // 127.0.0.1, a free port
//   MyApiClient client(server.url(u"/"_s));           // the code under test
//   ...
//   const auto request = server.takeRequest();        // what the client sent
//   QCOMPARE(request->method, "GET");
//
// It speaks HTTP/1.1, HTTPS with a certificate it generates (trust caCertificate()), and HTTP/2
// (over TLS by ALPN, or cleartext by prior knowledge). Responses come from a queue or from a
// dispatcher function; every request is recorded. A response can carry faults (a delayed head,
// a throttled body, a disconnect after N bytes, a stall, a reset), an event stream, or a
// WebSocket script. In scripted mode (setRequestHandler(), setRawHandler()) the test writes the
// exact bytes itself through a ScriptedConnection. It runs on the thread it lives on; tests wait
// with QTRY_*, QSignalSpy, waitForRequest() or, with QCoro, co_await nextRequest(). docs/testing.md
// is the guide.
#pragma once

#include <Reqivo/Testing/reqivotesting_export.h>
#include <Reqivo/Testing/scriptedconnection.h>

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QString>
#include <QUrl>

#include <qcorotask.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace Reqivo::Testing {

//! One request as the server received it.
struct REQIVO_TESTING_EXPORT RecordedRequest
{
    QByteArray method; //!< "GET", "POST", ...
    QByteArray target; //!< the request target as sent: "/a?b=1" (or the absolute form)
    QByteArray httpVersion; //!< "HTTP/1.1" or "HTTP/2"
    QList<std::pair<QByteArray, QByteArray>> headers; //!< as received, in order
    //! HTTP/1.1: the request line and header fields exactly as received, without the blank
    //! line; empty for HTTP/2.
    QByteArray head;
    QByteArray body; //!< de-chunked; empty for none
    bool chunked = false; //!< the body came with chunked framing (HTTP/1.1)
    bool tls = false; //!< arrived over TLS
    int sequenceNumber = 0; //!< 0 for the server's first request, then 1, 2, ...
    int connectionIndex = 0; //!< 0 for the first connection accepted, then 1, 2, ...
    int indexOnConnection = 0; //!< 0 for the first request on its connection (or stream order)

    //! The path of target(), without the query.
    QString path() const;
    //! The first value of header \a name (case-insensitive), empty when absent.
    QByteArray header(QByteArrayView name) const;
    //! True when header \a name (case-insensitive) was received.
    bool hasHeader(QByteArrayView name) const;
};

//! One WebSocket message the server received from a client.
struct REQIVO_TESTING_EXPORT RecordedMessage
{
    QByteArray data; //!< the payload (UTF-8 for text)
    bool binary = false; //!< a binary message (else text)
    int connectionIndex = 0; //!< the connection it came on (as RecordedRequest::connectionIndex)
};

//! One event of an event stream (text/event-stream) response.
struct REQIVO_TESTING_EXPORT MockEvent
{
    QByteArray data; //!< the data; each line becomes a "data:" line
    QByteArray event; //!< the "event:" field, omitted when empty
    QByteArray id; //!< the "id:" field, omitted when empty
    int retryMs = -1; //!< the "retry:" field, omitted when < 0
    QByteArray comment; //!< a ": comment" line instead of an event when data is empty
    std::chrono::milliseconds delay {0}; //!< waits this long before sending the event
};

//! A WebSocket conversation the server plays after accepting an upgrade.
class REQIVO_TESTING_EXPORT WebSocketScript
{
public:
    //! One step of the script.
    struct Step
    {
        //! What the step does.
        enum class Kind {
            SendText, //!< send a text message (payload)
            SendBinary, //!< send a binary message (payload)
            Expect, //!< wait for the client's next message (recorded in messages())
            EchoUntilClose, //!< echo every message until the client closes
            Ping, //!< send a ping (payload)
            Delay, //!< wait delay
            Close, //!< send a close frame (code, payload as reason) and wait for the reply
            Drop, //!< drop the TCP connection without a close frame
        };
        Kind kind = Kind::SendText; //!< what the step does
        QByteArray payload; //!< the message, ping payload or close reason
        int code = 1000; //!< the close code of Close
        std::chrono::milliseconds delay {0}; //!< the wait of Delay
    };

    //! Adds a text message to send.
    WebSocketScript &sendText(const QString &text);
    //! Adds a binary message to send.
    WebSocketScript &sendBinary(const QByteArray &bytes);
    //! Waits for the client's next message.
    WebSocketScript &expectMessage();
    //! Echoes every message (text as text, binary as binary) until the client closes.
    WebSocketScript &echoUntilClose();
    //! Sends a ping.
    WebSocketScript &ping(const QByteArray &payload = {});
    //! Waits \a delay.
    WebSocketScript &wait(std::chrono::milliseconds delay);
    //! Closes with \a code and \a reason and waits for the client's close.
    WebSocketScript &close(int code = 1000, const QByteArray &reason = {});
    //! Drops the connection without a close frame (the client sees an abnormal closure).
    WebSocketScript &drop();
    //! The steps in order.
    const QList<Step> &steps() const { return m_steps; }
    //! The subprotocol to accept (Sec-WebSocket-Protocol), none when empty.
    WebSocketScript &acceptSubprotocol(const QByteArray &protocol);
    //! The subprotocol accepted.
    QByteArray subprotocol() const { return m_subprotocol; }

private:
    QList<Step> m_steps;
    QByteArray m_subprotocol;
};

//! A scripted response: status, headers and body, optionally with faults, an event stream or a
//! WebSocket script. A value type; the setters return *this so they chain.
class REQIVO_TESTING_EXPORT MockResponse
{
public:
    //! How the response misbehaves.
    enum class Fault {
        None, //!< a normal response
        Stall, //!< read the request, never answer (for timeouts)
        Reset, //!< read the request, then reset the connection (TCP RST)
        CloseBeforeHead, //!< read the request, then close the connection cleanly
    };

    //! A 200 response with no body.
    MockResponse() = default;
    //! A response with status \a status and no body.
    explicit MockResponse(int status);
    //! A 200 response with a JSON body (Content-Type: application/json).
    static MockResponse json(const QByteArray &json, int status = 200);
    //! A 200 response with a text body (Content-Type: text/plain; charset=utf-8).
    static MockResponse text(const QString &text, int status = 200);
    //! A 200 text/event-stream response that sends \a events and then ends (or stays open).
    static MockResponse eventStream(const QList<MockEvent> &events, bool keepOpen = false);
    //! A 101 upgrade that plays \a script.
    static MockResponse webSocket(const WebSocketScript &script);

    //! Sets the status code and reason phrase (the standard phrase when empty).
    MockResponse &setStatus(int status, const QByteArray &reason = {});
    //! Adds a header (several with one name are allowed).
    MockResponse &addHeader(const QByteArray &name, const QByteArray &value);
    //! Replaces every header named \a name.
    MockResponse &setHeader(const QByteArray &name, const QByteArray &value);
    //! Sets the body, sent with Content-Length.
    MockResponse &setBody(const QByteArray &body);
    //! Sets the body, sent with chunked framing in chunks of \a chunkSize bytes (HTTP/1.1).
    MockResponse &setChunkedBody(const QByteArray &body, qsizetype chunkSize);
    //! Waits \a delay before sending the head.
    MockResponse &setHeadDelay(std::chrono::milliseconds delay);
    //! Sends the body \a bytes at a time, one piece every \a period.
    MockResponse &throttleBody(qsizetype bytes, std::chrono::milliseconds period);
    //! Closes the connection after sending \a bytes bytes of the response (head included).
    MockResponse &disconnectAfter(qint64 bytes);
    //! Makes the response misbehave.
    MockResponse &setFault(Fault fault);

    //! The status code.
    int status() const { return m_status; }
    //! The reason phrase (may be empty).
    QByteArray reason() const { return m_reason; }
    //! The headers in order.
    const QList<std::pair<QByteArray, QByteArray>> &headers() const { return m_headers; }
    //! The body.
    const QByteArray &body() const { return m_body; }
    //! The chunk size of a chunked body, 0 for Content-Length.
    qsizetype chunkSize() const { return m_chunkSize; }
    //! The delay before the head.
    std::chrono::milliseconds headDelay() const { return m_headDelay; }
    //! Bytes per throttle period, 0 when not throttled.
    qsizetype throttleBytes() const { return m_throttleBytes; }
    //! The throttle period.
    std::chrono::milliseconds throttlePeriod() const { return m_throttlePeriod; }
    //! Bytes sent before disconnecting, -1 for no disconnect.
    qint64 disconnectAfterBytes() const { return m_disconnectAfter; }
    //! The fault.
    Fault fault() const { return m_fault; }
    //! The events of an event-stream response.
    const QList<MockEvent> &events() const { return m_events; }
    //! True for an eventStream() response.
    bool isEventStream() const { return m_eventStream; }
    //! True when an event-stream response stays open after its events.
    bool keepsStreamOpen() const { return m_keepOpen; }
    //! The WebSocket script, when the response is an upgrade.
    const std::optional<WebSocketScript> &webSocketScript() const { return m_webSocket; }

private:
    int m_status = 200;
    QByteArray m_reason;
    QList<std::pair<QByteArray, QByteArray>> m_headers;
    QByteArray m_body;
    qsizetype m_chunkSize = 0;
    std::chrono::milliseconds m_headDelay {0};
    qsizetype m_throttleBytes = 0;
    std::chrono::milliseconds m_throttlePeriod {0};
    qint64 m_disconnectAfter = -1;
    Fault m_fault = Fault::None;
    QList<MockEvent> m_events;
    bool m_eventStream = false;
    bool m_keepOpen = false;
    std::optional<WebSocketScript> m_webSocket;
};

//! A loopback HTTP/1.1, HTTPS and HTTP/2 server for tests; see the file comment.
class REQIVO_TESTING_EXPORT MockServer : public QObject
{
    Q_OBJECT
public:
    //! Chooses the answer to a request (instead of the queue).
    using Dispatcher = std::function<MockResponse(const RecordedRequest &)>;
    //! Scripted mode: answers each request (recorded first) by writing to its connection.
    using RequestHandler = std::function<void(ScriptedConnection &, const RecordedRequest &)>;
    //! Scripted mode without HTTP: gets every piece of bytes as it arrives, nothing parsed or
    //! recorded.
    using RawHandler = std::function<void(ScriptedConnection &, const QByteArray &)>;
    //! Scripted mode: called for each connection as it is accepted, before it sends anything.
    using AcceptHandler = std::function<void(ScriptedConnection &)>;

    //! Which protocols the server speaks.
    enum class Protocols {
        Http1, //!< HTTP/1.1 only (the default)
        Http1AndHttp2, //!< over TLS: h2 and http/1.1 by ALPN; cleartext: HTTP/1.1, and HTTP/2
                       //!< when the connection starts with its preface (prior knowledge)
        Http2Only, //!< over TLS: h2 by ALPN; cleartext: HTTP/2 by prior knowledge (h2c)
    };

    //! A stopped server.
    explicit MockServer(QObject *parent = nullptr);
    ~MockServer() override;

    //! How useTls() treats connections.
    enum class TlsMode {
        TlsOnly, //!< every connection is TLS
        //! TLS when the client's first byte opens a TLS handshake (0x16), else plain HTTP: one
        //! port serves two origins that differ by scheme only
        TlsOrPlain,
    };

    //! Serves HTTPS with a certificate for localhost, 127.0.0.1 and ::1 issued by a CA made for
    //! this server. Call before start().
    void useTls(TlsMode mode = TlsMode::TlsOnly);
    //! Serves HTTPS with \a configuration (its local certificate, key and ALPN, used as given);
    //! caCertificate() is then null. Call before start().
    void useTls(const QSslConfiguration &configuration, TlsMode mode = TlsMode::TlsOnly);
    //! The CA that issued the server's certificate: add it to the client's trusted CAs.
    QSslCertificate caCertificate() const;
    //! Chooses the protocols (before start()).
    void setProtocols(Protocols protocols);

    //! Listens on \a address and \a port (0 = any free port). False when it cannot.
    bool start(const QHostAddress &address = QHostAddress::LocalHost, quint16 port = 0);
    //! Closes the listener and every connection.
    void stop();
    //! True while listening.
    bool isListening() const;
    //! The port listened on.
    quint16 port() const;
    //! "http://127.0.0.1:<port><path>" (https:// with TLS).
    QUrl url(const QString &path = QStringLiteral("/")) const;

    //! Adds a response to the queue; requests take them in order.
    void enqueue(const MockResponse &response);
    //! Answers with \a dispatcher instead of the queue (an empty function restores the queue).
    void setDispatcher(Dispatcher dispatcher);
    //! Answer to a request when the queue is empty and no dispatcher is set (404 by default).
    void setDefaultResponse(const MockResponse &response);

    //! Scripted mode (HTTP/1.1 only): each request is recorded, then handed to \a handler,
    //! which answers with exact bytes through its ScriptedConnection; queue and dispatcher are
    //! not used. Set it on the server's thread (or before start()).
    void setRequestHandler(RequestHandler handler);
    //! Scripted mode without HTTP: \a handler gets the bytes of every connection as they come.
    void setRawHandler(RawHandler handler);
    //! Scripted mode: \a handler sees each connection as it is accepted.
    void setAcceptHandler(AcceptHandler handler);
    //! The connections of scripted mode so far (null once gone). On the server's thread only.
    QList<QPointer<ScriptedConnection>> scriptedConnections() const;
    //! Connections open now (in every mode).
    int openConnectionCount() const;
    //! The most connections that were open at once.
    int maxOpenConnectionCount() const;
    //! Bytes received on scripted-mode connections.
    qint64 bytesReceived() const;

    //! Requests received so far.
    int requestCount() const;
    //! Connections accepted so far.
    int connectionCount() const;
    //! Every recorded request, in arrival order.
    QList<RecordedRequest> requests() const;
    //! Removes and returns the oldest recorded request not yet taken; std::nullopt when none.
    std::optional<RecordedRequest> takeRequest();
    //! Runs a local event loop until a request not yet taken arrives or \a timeout passes; true
    //! when one is there (take it with takeRequest()). For tests: it nests an event loop, so
    //! code that must not re-enter (a QML engine's, a blocking call's) should use nextRequest()
    //! or QTRY_VERIFY instead. Callable from any thread.
    bool waitForRequest(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    //! Takes the oldest request not yet taken, waiting up to \a timeout (on the calling
    //! thread's event loop) for one to arrive; std::nullopt on timeout. The server must outlive
    //! the coroutine.
    [[nodiscard]] QCoro::Task<std::optional<RecordedRequest>> nextRequest(
        std::chrono::milliseconds timeout = std::chrono::seconds(5));

    //! Every WebSocket message received from clients, in arrival order.
    QList<RecordedMessage> webSocketMessages() const;

Q_SIGNALS:
    //! A request was received (and recorded).
    void requestReceived(const Reqivo::Testing::RecordedRequest &request);
    //! A WebSocket message was received (and recorded).
    void webSocketMessageReceived(const Reqivo::Testing::RecordedMessage &message);

private:
    struct Private;
    std::unique_ptr<Private> const d;
};

} // namespace Reqivo::Testing
