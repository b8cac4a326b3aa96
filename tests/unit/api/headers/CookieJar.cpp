#include <Reqivo/CookieJar>

void useCookieJar(Reqivo::CookieJar &jar)
{
    jar.storeFromResponse(QUrl(), Reqivo::Headers {{"Set-Cookie", "a=1"}});
    for (const QNetworkCookie &c : jar.cookies())
        Q_UNUSED(c.name());
}
