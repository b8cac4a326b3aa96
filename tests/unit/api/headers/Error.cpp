#include <Reqivo/Error>

void useError()
{
    try {
        throw Reqivo::ReadTimeout(QString(), QUrl());
    } catch (const Reqivo::TimeoutError &e) {
        const Reqivo::Error error = e.error();
        Q_UNUSED(error.isA(Reqivo::Error::Kind::Timeout));
        Q_UNUSED(error.url().host());
    }
}
