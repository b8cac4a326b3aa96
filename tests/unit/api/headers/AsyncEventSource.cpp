#include <Reqivo/AsyncEventSource>

QCoro::Task<void> useAsyncEventSource(Reqivo::AsyncSession &session)
{
    Reqivo::EventSourceOptions options;
    options.request.bearerToken(QString());
    Reqivo::AsyncEventSource *stream
        = Reqivo::AsyncEventSource::fromSession(session, QUrl(), options);
    try {
        const std::optional<Reqivo::ServerSentEvent> event = co_await stream->next();
        if (event)
            Q_UNUSED(event->data.size());
    } catch (const Reqivo::ReqivoError &e) {
        Q_UNUSED(e.error());
    }
    Q_UNUSED(stream->lastError().message());
    stream->close();
}
