// CallTrace and the attempt's timing bookkeeping: see calltrace_p.h.
#include "calltrace_p.h"

#include <Reqivo/asyncconnection.h>

#include "transport/asyncconnection_p.h"

#include <atomic>

namespace Reqivo {

EventListener::~EventListener() = default;

void EventListener::onEvent(const RequestEvent &) { }

namespace {
class CallbackListener final : public EventListener
{
public:
    explicit CallbackListener(std::function<void(const RequestEvent &)> callback)
        : m_callback(std::move(callback))
    {
    }
    void onEvent(const RequestEvent &event) override
    {
        if (m_callback)
            m_callback(event);
    }

private:
    std::function<void(const RequestEvent &)> m_callback;
};

std::atomic<quint64> s_nextCallId {1};
} // namespace

std::shared_ptr<EventListener> EventListener::create(
    std::function<void(const RequestEvent &)> callback)
{
    return std::make_shared<CallbackListener>(std::move(callback));
}

QString RequestEvent::typeName(Type type)
{
    switch (type) {
    case Type::CallStart:
        return QStringLiteral("CallStart");
    case Type::PoolWaitStart:
        return QStringLiteral("PoolWaitStart");
    case Type::PoolWaitEnd:
        return QStringLiteral("PoolWaitEnd");
    case Type::DnsStart:
        return QStringLiteral("DnsStart");
    case Type::DnsEnd:
        return QStringLiteral("DnsEnd");
    case Type::ConnectStart:
        return QStringLiteral("ConnectStart");
    case Type::ConnectEnd:
        return QStringLiteral("ConnectEnd");
    case Type::ProxyTunnelStart:
        return QStringLiteral("ProxyTunnelStart");
    case Type::ProxyTunnelEnd:
        return QStringLiteral("ProxyTunnelEnd");
    case Type::TlsStart:
        return QStringLiteral("TlsStart");
    case Type::TlsEnd:
        return QStringLiteral("TlsEnd");
    case Type::ConnectionAcquired:
        return QStringLiteral("ConnectionAcquired");
    case Type::RequestHeadSent:
        return QStringLiteral("RequestHeadSent");
    case Type::RequestBodySent:
        return QStringLiteral("RequestBodySent");
    case Type::ResponseHeadReceived:
        return QStringLiteral("ResponseHeadReceived");
    case Type::ResponseBodyEnd:
        return QStringLiteral("ResponseBodyEnd");
    case Type::ConnectionReleased:
        return QStringLiteral("ConnectionReleased");
    case Type::Redirect:
        return QStringLiteral("Redirect");
    case Type::RetryDecision:
        return QStringLiteral("RetryDecision");
    case Type::AuthChallenge:
        return QStringLiteral("AuthChallenge");
    case Type::CallEnd:
        return QStringLiteral("CallEnd");
    case Type::CallFailed:
        return QStringLiteral("CallFailed");
    case Type::CallCancelled:
        return QStringLiteral("CallCancelled");
    }
    return QString();
}

namespace Client {

std::shared_ptr<CallTrace> CallTrace::create(std::shared_ptr<EventListener> session,
    std::shared_ptr<EventListener> request, const QByteArray &method, const QUrl &url)
{
    if (!session && !request)
        return nullptr;
    auto trace = std::make_shared<CallTrace>();
    trace->m_session = std::move(session);
    trace->m_request = std::move(request);
    if (trace->m_session == trace->m_request)
        trace->m_request.reset(); // told once
    trace->m_event.callId = s_nextCallId.fetch_add(1, std::memory_order_relaxed);
    trace->startHop(method, url);
    return trace;
}

RequestEvent &CallTrace::event(Type type, Clock::time_point time)
{
    m_event.type = type;
    m_event.attempt = m_attempt;
    m_event.time = time;
    return m_event;
}

namespace {
// A listener runs inside the request's stages: what it throws must not unwind them.
void tell(EventListener &listener, const RequestEvent &event)
{
    try {
        listener.onEvent(event);
    } catch (...) {
        qWarning("Reqivo: an EventListener threw from onEvent(); the exception was dropped");
    }
}
} // namespace

void CallTrace::emit(const RequestEvent &event)
{
    if (m_session)
        tell(*m_session, event);
    if (m_request)
        tell(*m_request, event);
    if (&event != &m_event)
        return;
    switch (event.type) {
    case Type::CallStart:
    case Type::PoolWaitStart:
    case Type::PoolWaitEnd:
    case Type::ProxyTunnelStart:
    case Type::ProxyTunnelEnd:
    case Type::TlsStart:
    case Type::RequestHeadSent:
    case Type::CallEnd:
        return; // no details were set
    default:
        break;
    }
    RequestEvent &e = m_event;
    e.host.clear();
    e.address.clear();
    e.tlsProtocol.clear();
    e.tlsCipher.clear();
    e.alpn.clear();
    e.connectionId = 0;
    e.reused = false;
    e.status = 0;
    e.httpVersion.clear();
    e.bytes = -1;
    e.location.clear();
    e.retry = false;
    e.reason.clear();
    e.delay = std::chrono::milliseconds::zero();
    e.scheme.clear();
    if (!e.error.isNull())
        e.error = Error();
}

void CallTrace::startHop(const QByteArray &method, const QUrl &url)
{
    m_event.method = method;
    m_event.url = url;
    if (!url.userInfo().isEmpty())
        m_event.url.setUserInfo(QString()); // only then: it detaches the URL
    m_attempt = 0;
}

void startAttempt(ExchangeSettings &settings)
{
    settings.attemptStart = Clock::now();
    settings.phases = Timings();
    if (CallTrace *trace = settings.trace.get()) {
        trace->startAttempt();
        trace->emit(RequestEvent::Type::PoolWaitStart, settings.attemptStart);
    }
}

std::chrono::microseconds sinceAttemptStart(const ExchangeSettings &settings, Clock::time_point t)
{
    if (t == Clock::time_point() || t < settings.attemptStart)
        return std::chrono::microseconds::zero();
    return std::chrono::duration_cast<std::chrono::microseconds>(t - settings.attemptStart);
}

void connectionAcquired(ExchangeSettings &settings, AsyncConnection *connection, bool reused)
{
    using Type = RequestEvent::Type;
    const Clock::time_point now = Clock::now();
    Timings &t = settings.phases;
    const Transport::ConnectTimes *times = nullptr;
    if (connection && !reused) {
        times = &AsyncConnectionPrivate::connectTimes(connection);
        if (times->start == Clock::time_point())
            times = nullptr; // adopted from another thread: connected long ago
    }
    t.reusedConnection = !times;
    // The pool's wait ended when it gave a connection, or the slot a new one was made in.
    const Clock::time_point waitEnd = times ? times->start : now;
    t.queue = sinceAttemptStart(settings, waitEnd);
    if (times) {
        t.dns = sinceAttemptStart(settings, times->dnsEnd);
        t.connect = sinceAttemptStart(settings, times->connectEnd);
        t.proxyTunnel = sinceAttemptStart(settings, times->tunnelEnd);
        t.tls = sinceAttemptStart(settings, times->tlsEnd);
    }
    CallTrace *trace = settings.trace.get();
    if (!trace)
        return;
    trace->emit(Type::PoolWaitEnd, waitEnd);
    if (times) {
        const Endpoint &endpoint = connection->endpoint();
        Clock::time_point phaseStart = times->start;
        if (times->dnsEnd != Clock::time_point()) {
            RequestEvent &start = trace->event(Type::DnsStart, phaseStart);
            start.host = endpoint.host;
            trace->emit(start);
            RequestEvent &end = trace->event(Type::DnsEnd, times->dnsEnd);
            end.host = endpoint.host;
            trace->emit(end);
            phaseStart = times->dnsEnd;
        }
        RequestEvent &connect = trace->event(Type::ConnectStart, phaseStart);
        connect.address = QStringLiteral("%1:%2").arg(endpoint.host).arg(endpoint.port);
        trace->emit(connect);
        if (times->connectEnd != Clock::time_point()) {
            phaseStart = times->connectEnd;
            RequestEvent &connected = trace->event(Type::ConnectEnd, phaseStart);
            connected.address = times->peer;
            trace->emit(connected);
        }
        if (times->tunnelEnd != Clock::time_point()) {
            trace->emit(Type::ProxyTunnelStart, phaseStart);
            trace->emit(Type::ProxyTunnelEnd, phaseStart = times->tunnelEnd);
        }
        if (times->tlsEnd != Clock::time_point()) {
            trace->emit(Type::TlsStart, phaseStart);
            RequestEvent &tls = trace->event(Type::TlsEnd, times->tlsEnd);
            tls.tlsProtocol = times->tlsProtocol;
            tls.tlsCipher = times->tlsCipher;
            tls.alpn = times->alpn;
            trace->emit(tls);
        }
    }
    RequestEvent &acquired = trace->event(Type::ConnectionAcquired, now);
    acquired.connectionId = connection ? connection->id() : 0;
    acquired.reused = t.reusedConnection;
    trace->emit(acquired);
}

void traceAuthAnswer(const ExchangeSettings &settings, int status, const Headers &fields)
{
    CallTrace *trace = settings.trace.get();
    if (!trace)
        return;
    RequestEvent &e = trace->event(RequestEvent::Type::AuthChallenge);
    e.status = status;
    const QByteArrayView answer
        = fields.value(status == 407 ? "proxy-authorization" : "authorization");
    const qsizetype space = answer.indexOf(' ');
    e.scheme = (space < 0 ? answer : answer.first(space)).toByteArray();
    trace->emit(e);
}

} // namespace Client
} // namespace Reqivo
