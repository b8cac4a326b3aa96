// The value types of Reqivo::Testing: recorded requests, scripted responses, WebSocket scripts.
#include <Reqivo/Testing/mockserver.h>

#include <QUrl>

namespace Reqivo::Testing {

// --- RecordedRequest ------------------------------------------------------------------------

QString RecordedRequest::path() const
{
    QByteArrayView t(target);
    if (!t.startsWith('/')) {
        // Absolute form: the path of the URL.
        return QUrl::fromEncoded(target).path();
    }
    const qsizetype query = t.indexOf('?');
    return QString::fromUtf8(query < 0 ? t : t.first(query));
}

QByteArray RecordedRequest::header(QByteArrayView name) const
{
    for (const auto &[n, v] : headers) {
        if (QByteArrayView(n).compare(name, Qt::CaseInsensitive) == 0)
            return v;
    }
    return {};
}

bool RecordedRequest::hasHeader(QByteArrayView name) const
{
    for (const auto &field : headers) {
        if (QByteArrayView(field.first).compare(name, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

// --- WebSocketScript ------------------------------------------------------------------------

namespace {
WebSocketScript::Step step(WebSocketScript::Step::Kind kind, QByteArray payload = {})
{
    WebSocketScript::Step s;
    s.kind = kind;
    s.payload = std::move(payload);
    return s;
}
} // namespace

WebSocketScript &WebSocketScript::sendText(const QString &text)
{
    m_steps.append(step(Step::Kind::SendText, text.toUtf8()));
    return *this;
}

WebSocketScript &WebSocketScript::sendBinary(const QByteArray &bytes)
{
    m_steps.append(step(Step::Kind::SendBinary, bytes));
    return *this;
}

WebSocketScript &WebSocketScript::expectMessage()
{
    m_steps.append(step(Step::Kind::Expect));
    return *this;
}

WebSocketScript &WebSocketScript::echoUntilClose()
{
    m_steps.append(step(Step::Kind::EchoUntilClose));
    return *this;
}

WebSocketScript &WebSocketScript::ping(const QByteArray &payload)
{
    m_steps.append(step(Step::Kind::Ping, payload));
    return *this;
}

WebSocketScript &WebSocketScript::wait(std::chrono::milliseconds delay)
{
    Step s = step(Step::Kind::Delay);
    s.delay = delay;
    m_steps.append(s);
    return *this;
}

WebSocketScript &WebSocketScript::close(int code, const QByteArray &reason)
{
    Step s = step(Step::Kind::Close, reason);
    s.code = code;
    m_steps.append(s);
    return *this;
}

WebSocketScript &WebSocketScript::drop()
{
    m_steps.append(step(Step::Kind::Drop));
    return *this;
}

WebSocketScript &WebSocketScript::acceptSubprotocol(const QByteArray &protocol)
{
    m_subprotocol = protocol;
    return *this;
}

// --- MockResponse ---------------------------------------------------------------------------

MockResponse::MockResponse(int status)
    : m_status(status)
{
}

MockResponse MockResponse::json(const QByteArray &json, int status)
{
    MockResponse r(status);
    r.setHeader("Content-Type", "application/json");
    r.setBody(json);
    return r;
}

MockResponse MockResponse::text(const QString &text, int status)
{
    MockResponse r(status);
    r.setHeader("Content-Type", "text/plain; charset=utf-8");
    r.setBody(text.toUtf8());
    return r;
}

MockResponse MockResponse::eventStream(const QList<MockEvent> &events, bool keepOpen)
{
    MockResponse r(200);
    r.setHeader("Content-Type", "text/event-stream");
    r.setHeader("Cache-Control", "no-cache");
    r.m_events = events;
    r.m_eventStream = true;
    r.m_keepOpen = keepOpen;
    return r;
}

MockResponse MockResponse::webSocket(const WebSocketScript &script)
{
    MockResponse r(101);
    r.m_webSocket = script;
    return r;
}

MockResponse &MockResponse::setStatus(int status, const QByteArray &reason)
{
    m_status = status;
    m_reason = reason;
    return *this;
}

MockResponse &MockResponse::addHeader(const QByteArray &name, const QByteArray &value)
{
    m_headers.append({name, value});
    return *this;
}

MockResponse &MockResponse::setHeader(const QByteArray &name, const QByteArray &value)
{
    m_headers.removeIf([&name](const std::pair<QByteArray, QByteArray> &field) {
        return field.first.compare(name, Qt::CaseInsensitive) == 0;
    });
    m_headers.append({name, value});
    return *this;
}

MockResponse &MockResponse::setBody(const QByteArray &body)
{
    m_body = body;
    m_chunkSize = 0;
    return *this;
}

MockResponse &MockResponse::setChunkedBody(const QByteArray &body, qsizetype chunkSize)
{
    m_body = body;
    m_chunkSize = chunkSize > 0 ? chunkSize : 1;
    return *this;
}

MockResponse &MockResponse::setHeadDelay(std::chrono::milliseconds delay)
{
    m_headDelay = delay;
    return *this;
}

MockResponse &MockResponse::throttleBody(qsizetype bytes, std::chrono::milliseconds period)
{
    m_throttleBytes = bytes > 0 ? bytes : 0;
    m_throttlePeriod = period;
    return *this;
}

MockResponse &MockResponse::disconnectAfter(qint64 bytes)
{
    m_disconnectAfter = bytes;
    return *this;
}

MockResponse &MockResponse::setFault(Fault fault)
{
    m_fault = fault;
    return *this;
}

} // namespace Reqivo::Testing
