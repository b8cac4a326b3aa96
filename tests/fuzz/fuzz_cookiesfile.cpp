// libFuzzer target: the Netscape cookies.txt reader of CookieJar::loadFromFile() on hostile text.
// Whatever it is given, it either names a line in the text or returns cookies that the writer
// turns back into lines which read back as the same cookies (a saved jar always loads), each
// line within the reader's bounds. ASan and UBSan catch the memory errors.
#include "client/cookiesfile_p.h"

#include <Reqivo/cookiejar.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

void check(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz_cookiesfile: %s\n", what);
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray text(reinterpret_cast<const char *>(data), qsizetype(size));
    const QDateTime now = QDateTime::fromSecsSinceEpoch(1700000000, Qt::UTC);
    const Reqivo::Client::CookiesFile parsed = Reqivo::Client::parseCookiesFile(text, now);
    if (parsed.errorLine > 0) {
        check(!parsed.error.isEmpty(), "an error line without a message");
        check(parsed.errorLine <= text.count('\n') + 1, "an error line past the text");
        return 0;
    }
    check(parsed.error.isEmpty(), "a message without an error line");
    check(parsed.cookies.size() == parsed.lines.size(), "a cookie without its line");
    QByteArray written = Reqivo::Client::cookiesFileHeader();
    QList<QNetworkCookie> kept;
    for (const QNetworkCookie &cookie : parsed.cookies) {
        check(cookie.name().size() + cookie.value().size() <= Reqivo::CookieJar::maxCookieBytes,
            "a cookie over the size limit");
        const QByteArray line = Reqivo::Client::cookiesFileLine(cookie);
        if (line.isEmpty())
            continue; // the writer may leave out what it cannot hold, never write it wrong
        check(line.size() <= Reqivo::CookieJar::maxCookieFileLineBytes, "a line over the limit");
        written += line + '\n';
        kept.append(cookie);
    }
    const Reqivo::Client::CookiesFile again = Reqivo::Client::parseCookiesFile(written, now);
    check(again.errorLine == 0, "a written file that does not read back");
    check(again.cookies.size() == kept.size(), "a written file with other cookies");
    for (qsizetype i = 0; i < kept.size(); ++i) {
        const QNetworkCookie &a = kept.at(i);
        const QNetworkCookie &b = again.cookies.at(i);
        check(a.name() == b.name() && a.value() == b.value() && a.domain() == b.domain()
                && a.path() == b.path() && a.isSecure() == b.isSecure()
                && a.isHttpOnly() == b.isHttpOnly() && a.expirationDate() == b.expirationDate(),
            "a cookie that changed on the way through the file");
    }
    return 0;
}
