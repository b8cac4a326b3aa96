#include <Reqivo/EventListener>

void useEventListener()
{
    const auto listener = Reqivo::EventListener::create(
        [](const Reqivo::RequestEvent &e) { Q_UNUSED(e.typeName()); });
    Reqivo::RequestEvent e;
    listener->onEvent(e);
}
