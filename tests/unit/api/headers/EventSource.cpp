#include <Reqivo/EventSource>

void useEventSource(Reqivo::EventSource &stream)
{
    try {
        const std::optional<Reqivo::ServerSentEvent> event = stream.next();
        if (event)
            Q_UNUSED(event->type.size());
    } catch (const Reqivo::ReadTimeout &e) {
        Q_UNUSED(e.error());
    }
    Q_UNUSED(stream.async().options().request.headers.get("Accept"));
    Q_UNUSED(stream.lastError().message());
}
