#include <Reqivo/AsyncReqivo>

QCoro::Task<void> useAsyncReqivo()
{
    Reqivo::AsyncReqivo api(QUrl(), Reqivo::Timeout::all(std::chrono::seconds(5)));
    api.bearerToken({}).onResponse([](Reqivo::Response r) { return r; });
    api.session().cookieJar()->clear();
    Reqivo::AsyncWebSocket *feed = api.webSocket(QUrl());
    feed->abort();
    try {
        const Reqivo::Response r = co_await api.deleteResource(QUrl());
        Q_UNUSED(r.headers().get("ETag"));
    } catch (const Reqivo::ReqivoError &) {
    }
}
