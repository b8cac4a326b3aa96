#include <Reqivo/RequestOptions>

void useRequestOptions()
{
    const Reqivo::RequestOptions o = Reqivo::RequestOptions()
                                         .withBody(Reqivo::Body::fromText(QString()))
                                         .withTimeout(Reqivo::Timeout::all(std::chrono::seconds(1)))
                                         .withLimits(Reqivo::Limits())
                                         .withCredentials(Reqivo::Credentials::none());
    Q_UNUSED(o.headers.get("a"));
}
