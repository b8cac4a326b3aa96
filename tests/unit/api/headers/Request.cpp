#include <Reqivo/Request>

void useRequest()
{
    try {
        const Reqivo::Response r = Reqivo::Request::deleteResource(QUrl());
        Q_UNUSED(r.headers().get("a"));
    } catch (const Reqivo::RequestError &) {
    }
}
