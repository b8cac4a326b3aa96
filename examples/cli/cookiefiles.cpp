// reqivo -b and -c: see cookiefiles.h.
#include "cookiefiles.h"

#include "output.h"

#include <Reqivo/asyncsession.h>
#include <Reqivo/cookiejar.h>

#include <algorithm>
#include <chrono>

using namespace Qt::StringLiterals;

namespace ReqivoCli {

namespace {

bool hasControl(QByteArrayView text)
{
    return std::any_of(text.begin(), text.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) == 0x7f;
    });
}

// "NAME=VALUE; N2=V2" as curl's -b takes it: one host-only session cookie per pair, path "/",
// for each URL's host.
QString addCookieString(CliOptions *options, const QString &argument)
{
    const QByteArray text = argument.toUtf8();
    for (const QByteArray &piece : text.split(';')) {
        const QByteArray pair = piece.trimmed();
        if (pair.isEmpty())
            continue;
        const qsizetype eq = pair.indexOf('=');
        const QByteArray name = pair.left(std::max<qsizetype>(eq, 0)).trimmed();
        if (eq <= 0 || name.isEmpty() || hasControl(pair))
            return u"-b: '%1' is not NAME=VALUE"_s.arg(QString::fromUtf8(pair));
        for (const Target &target : std::as_const(options->targets)) {
            QNetworkCookie cookie(name, pair.mid(eq + 1).trimmed());
            cookie.setDomain(target.url.host());
            cookie.setPath(u"/"_s);
            options->cookies.append(cookie);
        }
    }
    return {};
}

} // namespace

QString applyCookieOptions(
    CliOptions *options, const QStringList &inputs, const QStringList &jarFiles)
{
    Reqivo::CookieJar jar; // a file's cookies, checked whole before the first request
    for (const QString &input : inputs) {
        if (input.isEmpty())
            continue; // curl: the cookie engine without cookies
        if (input.contains(u'=')) {
            if (const QString error = addCookieString(options, input); !error.isEmpty())
                return error;
            continue;
        }
        Reqivo::CookieFileError error;
        if (jar.loadFromFile(input, &error)
            || error.kind == Reqivo::CookieFileError::Kind::FileNotFound)
            continue; // a file that does not exist is an empty jar, as with curl
        if (error.kind == Reqivo::CookieFileError::Kind::Malformed)
            return u"-b %1"_s.arg(error.toString());
        return u"-b: cannot read cookies from %1"_s.arg(error.toString());
    }
    options->cookies = jar.cookies() + options->cookies;
    if (!jarFiles.isEmpty()) {
        options->cookieJarFile = jarFiles.last();
        if (options->cookieJarFile.isEmpty())
            return u"empty file name for -c"_s;
        if (options->cookieJarFile == u"-"_s)
            return u"-c -: cookies cannot be written to stdout; give -c FILE"_s;
    }
    return {};
}

void applyCookies(Reqivo::AsyncSession &session, const CliOptions &options)
{
    Reqivo::CookieJar *jar = session.cookieJar();
    for (const QNetworkCookie &cookie : options.cookies)
        jar->insertCookie(cookie);
    if (options.cookieJarFile.isEmpty())
        return;
    // Written now, so the file holds the jar even when no cookie changes, and again when the
    // jar goes with its session after the last request (the autosave's write at destruction; the
    // delay only makes sure nothing is written in between).
    Reqivo::CookieFileError error;
    if (!jar->saveToFile(options.cookieJarFile, Reqivo::CookieJar::SessionCookies::Keep, &error))
        printErr(u"reqivo: cannot write cookies to %1\n"_s.arg(error.toString()));
    jar->setAutoSaveDelay(std::chrono::hours(24));
    jar->setAutoSaveFile(options.cookieJarFile, Reqivo::CookieJar::SessionCookies::Keep);
}

} // namespace ReqivoCli
