// AsyncSession::eventSource() and AsyncReqivo::eventSource(): declared with the client classes,
// defined here, because the client layer must not depend on the SSE layer (both are linked into
// the one Reqivo library). Both are AsyncEventSource::fromSession() with the session as the
// default parent.
#include <Reqivo/asynceventsource.h>
#include <Reqivo/asyncreqivo.h>
#include <Reqivo/asyncsession.h>

namespace Reqivo {

AsyncEventSource *AsyncSession::eventSource(
    const QUrl &url, const EventSourceOptions &options, QObject *parent)
{
    return AsyncEventSource::fromSession(*this, url, options, parent ? parent : this);
}

AsyncEventSource *AsyncReqivo::eventSource(
    const QUrl &url, const EventSourceOptions &options, QObject *parent)
{
    return m_session->eventSource(url, options, parent);
}

} // namespace Reqivo
