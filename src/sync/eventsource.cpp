// EventSource: every blocking call is one runBlocking() over the AsyncEventSource call of the same
// name. No SSE logic lives here.
#include <Reqivo/eventsource.h>
#include <Reqivo/reqivo.h>
#include <Reqivo/session.h>

#include "syncrunner_p.h"

namespace Reqivo {

EventSource::EventSource(const QUrl &url, const EventSourceOptions &options)
    : m_async(std::make_unique<AsyncEventSource>(url, options))
{
}

std::unique_ptr<EventSource> Session::eventSource(
    const QUrl &url, const EventSourceOptions &options)
{
    return std::make_unique<EventSource>(*this, url, options);
}

EventSource::EventSource(Session &session, const QUrl &url, const EventSourceOptions &options)
    : m_async(AsyncEventSource::fromSession(session.async(), url, options))
{
}

std::unique_ptr<EventSource> Reqivo::eventSource(const QUrl &url, const EventSourceOptions &options)
{
    return m_session->eventSource(url, options);
}

// Never spins a loop: the async stream's destructor cancels its request and lets go.
EventSource::~EventSource() = default;

AsyncEventSource &EventSource::async() const
{
    return *m_async;
}

std::optional<ServerSentEvent> EventSource::next(std::chrono::milliseconds timeout)
{
    return Sync::runBlocking(
        [&] { return m_async->next(timeout); }, "Reqivo::EventSource::next()", m_async.get());
}

void EventSource::close()
{
    m_async->close();
}

} // namespace Reqivo
