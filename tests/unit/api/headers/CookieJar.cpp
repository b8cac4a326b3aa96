#include <Reqivo/CookieJar>

void useCookieJar(Reqivo::CookieJar &jar)
{
    jar.storeFromResponse(QUrl(), Reqivo::Headers {{"Set-Cookie", "a=1"}});
    for (const QNetworkCookie &c : jar.cookies())
        Q_UNUSED(c.name());
    Reqivo::CookieFileError error;
    if (!jar.loadFromFile(QStringLiteral("cookies.txt"), &error)
        && error.kind != Reqivo::CookieFileError::Kind::FileNotFound)
        Q_UNUSED(error.toString());
    jar.saveToFile(QStringLiteral("cookies.txt"), Reqivo::CookieJar::SessionCookies::Keep);
    jar.setAutoSaveFile(QStringLiteral("cookies.txt"));
}
