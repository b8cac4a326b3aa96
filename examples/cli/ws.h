// `reqivo ws [options] URL`: a WebSocket client on the command line, in the manner of websocat.
// Each stdin line (or each --send TEXT) goes out as a text message, received messages are
// printed (or reported as JSON lines with --report jsonl), and the connection is closed with 1000
// once the input is done and --wait has passed. The command-line contract is in docs/cli.md
// ("## reqivo ws").
#pragma once

#include <QStringList>

namespace ReqivoCli {

//! Runs the subcommand; \a arguments are the program's, "ws" included. Returns the exit status:
//! 0 when the connection ended cleanly, 1 when it failed, 2 for bad usage.
int runWs(const QStringList &arguments);

//! Opens /dev/null as descriptor 0 when the command was started with stdin closed, so that no
//! descriptor opened later (the event loop's, a socket) becomes "stdin" to runWs(). Call it
//! first thing in main().
void reserveStdin();

} // namespace ReqivoCli
