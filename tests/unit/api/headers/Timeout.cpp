#include <Reqivo/Timeout>

void useTimeout()
{
    const Reqivo::Timeout t = Reqivo::Timeout::all(std::chrono::seconds(5));
    Q_UNUSED(t.read.count());
}
