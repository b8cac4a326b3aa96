#include <Reqivo/Timings>

void useTimings()
{
    const Reqivo::Timings t;
    const auto sum = t.ttfb.count() + t.total.count();
    Q_UNUSED(sum);
}
