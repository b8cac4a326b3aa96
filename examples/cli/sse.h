// `reqivo sse [options] URL`: a Server-Sent Events stream through one session, its events
// printed as they arrive (or as JSON lines with --report jsonl). The command-line contract is in
// docs/sse.md ("The reqivo sse command").
#pragma once

#include <QStringList>

namespace ReqivoCli {

//! Runs the subcommand; \a arguments are the program's, "sse" included. Returns the exit status:
//! 0 when the stream ended with closed, until or max-events, 1 when it failed, 2 for bad usage.
int runSse(const QStringList &arguments);

} // namespace ReqivoCli
