#include <Reqivo/Response>

void useResponse(const Reqivo::Response &r)
{
    try {
        r.raiseForStatus();
        Q_UNUSED(r.json().object());
    } catch (const Reqivo::StatusError &e) {
        Q_UNUSED(e.error());
    } catch (const Reqivo::InvalidResponseError &) {
    }
    QJsonParseError error;
    Q_UNUSED(r.readJson(&error));
    Q_UNUSED(r.headers().get("a"));
}
