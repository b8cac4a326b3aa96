// reqivo -C - -o FILE: resumable downloads through Reqivo's download() (docs/downloads.md).
//
// While a download is incomplete its bytes and their validator live in FILE.part and
// FILE.part.meta, never in FILE; a rerun resumes from them with Range and If-Range. A FILE that
// exists without them (another tool's partial download) is resumed from its size without
// If-Range. A 200 restarts from zero, a 416 saying FILE is complete is success with FILE
// unchanged, a Content-Range that does not match is an error that leaves the data intact. The
// report's status is the last response's and bodyLength the bytes received in this run.
#pragma once

#include "cliopts.h"

#include <QString>

namespace ReqivoCli {

//! Checks -C's value and what it needs (-o FILE per URL, a GET); on success sets
//! options->resume. Returns the usage error, or an empty string.
QString applyContinueAt(CliOptions *options, const QString &value);

//! Runs every URL of \a options as a resumable download into its -o file, through the blocking
//! Session with --sync, else an AsyncSession in the application's event loop. Returns the exit
//! status (0 when every URL got a response, 1 otherwise).
int runResume(const CliOptions &options);

} // namespace ReqivoCli
