#include <Reqivo/Headers>

void useHeaders()
{
    const Reqivo::Headers h {{"A", "1"}};
    const std::optional<QByteArray> a = h.get("a");
    Q_UNUSED(a);
    for (const QByteArray &v : h.values("a"))
        Q_UNUSED(v.size());
}
