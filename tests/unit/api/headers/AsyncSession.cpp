// <Reqivo/AsyncSession> alone: the session, what it returns (Response, Reply, CookieJar, pool,
// WebSocket), what it takes (RequestOptions, Body, Timeout, Limits) and what it throws.
#include <Reqivo/AsyncSession>

QCoro::Task<void> useAsyncSession(Reqivo::AsyncSession &session)
{
    session.setTimeout(Reqivo::Timeout::all(std::chrono::seconds(5)));
    session.setLimits(Reqivo::Limits());
    session.cookieJar()->clear();
    session.pool()->clear();
    Reqivo::Reply *reply = session.sendOptions(QUrl(), Reqivo::RequestOptions().bearerToken({}));
    reply->abort();
    session.sendDeleteResource(QUrl())->abort();
    Reqivo::AsyncWebSocket *feed = session.webSocket(QUrl());
    feed->abort();
    try {
        const Reqivo::Response r = co_await session.post(QUrl(), Reqivo::Body::fromText({}));
        const QByteArray type = r.header("Content-Type");
        const std::optional<QJsonDocument> json = r.readJson();
        Q_UNUSED(type);
        Q_UNUSED(json);
        const Reqivo::Response one = co_await Reqivo::AsyncRequest::get(QUrl());
        Q_UNUSED(one);
        const Reqivo::Response gone = co_await session.deleteResource(QUrl());
        Q_UNUSED(gone);
    } catch (const Reqivo::TimeoutError &e) {
        Q_UNUSED(e.error());
    } catch (const Reqivo::RequestError &e) {
        Q_UNUSED(e.error());
    }
}
