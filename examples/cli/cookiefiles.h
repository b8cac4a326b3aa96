// reqivo -b and -c: cookies read from cookies.txt files or NAME=VALUE strings, and the jar written
// back to a cookies.txt file at the end, as curl's --cookie and --cookie-jar do.
//
// -b FILE reads a Netscape cookies.txt file; a FILE that does not exist is an empty jar, a
// malformed line is bad usage (the file and line named, nothing sent). -b 'NAME=VALUE; N2=V2' (an
// argument with '=') gives cookies to the hosts of the URLs given. -c FILE writes every cookie
// of the jar when the session ends, session cookies included with expiry 0, replacing FILE
// atomically. -b FILE -c FILE: a login in one run carries into the next.
#pragma once

#include "cliopts.h"

#include <QString>
#include <QStringList>

namespace ReqivoCli {

//! Reads every -b value (\a inputs) into options->cookies and checks -c (\a jarFiles, the last
//! one wins) into options->cookieJarFile. Returns the usage error, or an empty string. Needs
//! options->targets (NAME=VALUE cookies go to their hosts).
QString applyCookieOptions(
    CliOptions *options, const QStringList &inputs, const QStringList &jarFiles);

//! Puts options.cookies into the session's jar and, with -c, writes the jar to its file now and
//! again when the jar is destroyed with the session (its autosave), so every way the command
//! ends leaves the file holding the jar. A file that cannot be written is reported on stderr.
void applyCookies(Reqivo::AsyncSession &session, const CliOptions &options);

} // namespace ReqivoCli
