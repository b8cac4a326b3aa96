#include <Reqivo/Session>

void useSession(Reqivo::Session &session)
{
    session.async().pool()->clear();
    session.cookieJar()->clear();
    try {
        Reqivo::Response r = session.deleteResource(QUrl(), Reqivo::RequestOptions().streaming());
        Q_UNUSED(Reqivo::Session::readAll(r));
        Q_UNUSED(Reqivo::Request::get(QUrl()).status());
        std::unique_ptr<Reqivo::WebSocket> feed = session.webSocket(QUrl());
        Q_UNUSED(feed->isOpen());
    } catch (const Reqivo::ReqivoError &) {
    }
}
