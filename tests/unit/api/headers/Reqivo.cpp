#include <Reqivo/Reqivo>

void useReqivo()
{
    Reqivo::Reqivo api(QUrl(), Reqivo::Timeout::all(std::chrono::seconds(5)));
    try {
        const Reqivo::Response r = api.bearerToken({}).deleteResource(QUrl());
        Q_UNUSED(r.readJson());
        std::unique_ptr<Reqivo::WebSocket> feed = api.webSocket(QUrl());
        Q_UNUSED(feed->isOpen());
        api.session().cookieJar()->clear();
    } catch (const Reqivo::ReqivoError &) {
    }
}

QCoro::Task<void> useReqivoAsync(Reqivo::AsyncSession &s)
{
    std::vector<QCoro::Task<Reqivo::Response>> tasks;
    tasks.push_back(s.get(QUrl()));
    const std::vector<Reqivo::Response> all = co_await Reqivo::whenAll(std::move(tasks));
    Q_UNUSED(all);
}
