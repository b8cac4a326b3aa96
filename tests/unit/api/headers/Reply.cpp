#include <Reqivo/Reply>

void useReply(Reqivo::Reply *reply)
{
    QObject::connect(reply, &Reqivo::Reply::finished, reply, &QObject::deleteLater);
    const Reqivo::Response r = reply->response();
    Q_UNUSED(r.header("Content-Type"));
    Q_UNUSED(r.readJson());
    const Reqivo::Error e = reply->error();
    Q_UNUSED(e.message());
}
