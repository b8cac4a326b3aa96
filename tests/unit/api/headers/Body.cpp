#include <Reqivo/Body>

void useBody()
{
    const Reqivo::Body b = Reqivo::Body::fromJson(QJsonObject());
    Q_UNUSED(b.bytes().size());
    Q_UNUSED(Reqivo::Body::fromForm(QUrlQuery()).contentType());
}
