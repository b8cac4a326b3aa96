// The Netscape cookies.txt format, as curl (lib/cookie.c), wget and browser exporters read and
// write it: text only, no files (CookieJar opens and replaces those).
//
// One cookie per line, seven fields separated by tabs:
//   domain  include-subdomains  path  secure  expiry  name  value
// "example.com FALSE" is a host-only cookie; ".example.com TRUE" a domain cookie (the flag
// decides, a leading dot is dropped on reading). The flags are TRUE or FALSE (any case); the
// expiry is in seconds since the epoch, 0 for a session cookie. A line starting with
// "#HttpOnly_" is an HttpOnly cookie; any other line starting with '#' is a comment, and blank
// lines are skipped. As in curl: leading blanks are ignored, a third field that reads TRUE or
// FALSE means the path is missing ("/"), six fields mean an empty value, and a path that does
// not start with '/' is "/".
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>
#include <QList>
#include <QNetworkCookie>
#include <QString>

namespace Reqivo::Client {

//! The cookies of a cookies.txt text, or the first line that is wrong.
struct CookiesFile
{
    //! In file order, expired ones left out; each with its domain in the jar's form (host-only
    //! without a leading dot, domain cookies with one; IDNs decoded from ACE).
    QList<QNetworkCookie> cookies;
    //! The 1-based line of each cookie, for the caller's own checks.
    QList<qsizetype> lines;
    //! 0 when the text is valid; otherwise the first bad line and what is wrong with it.
    qsizetype errorLine = 0;
    QString error;
};

//! Parses \a text as of \a now. Stops at the first bad line (then cookies is incomplete and
//! must not be used).
CookiesFile parseCookiesFile(QByteArrayView text, const QDateTime &now);

//! The header line a written file starts with (curl's first line).
QByteArray cookiesFileHeader();

//! The cookie's line without its line break, or empty when the format cannot hold the cookie
//! (a field with a tab, a line break or another control character, or too long to read back).
//! A session cookie is written with expiry 0.
QByteArray cookiesFileLine(const QNetworkCookie &cookie);

} // namespace Reqivo::Client
