#include <Reqivo/AsyncRequest>

QCoro::Task<void> useAsyncRequest()
{
    try {
        const Reqivo::Response r = co_await Reqivo::AsyncRequest::post(
            QUrl(), Reqivo::Body::fromJson(QJsonObject()), Reqivo::RequestOptions().withoutAuth());
        r.raiseForStatus();
    } catch (const Reqivo::StatusError &e) {
        Q_UNUSED(e.error());
    }
}
