#include <Reqivo/EventSourceOptions>

void useEventSourceOptions()
{
    Reqivo::EventSourceOptions o;
    o.request.withTimeout(Reqivo::Timeout()).header("Last-Event-ID", "1");
    o.reconnectionTime = std::chrono::seconds(1);
    const Reqivo::ServerSentEvent e {QString(), QString(), QString()};
    const bool same = e == Reqivo::ServerSentEvent();
    Q_UNUSED(same);
}
