#include <Reqivo/Limits>

void useLimits()
{
    Reqivo::Limits l;
    l.maxBodyBytes = 1;
    const bool same = l == Reqivo::Limits();
    Q_UNUSED(same);
}
