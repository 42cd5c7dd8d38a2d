// Process signals, the same way in every tool.
//
// install_stop_signals() makes SIGINT and SIGTERM request a clean stop instead
// of killing the process, and ignores SIGPIPE so a closed pipe shows up as an
// EPIPE write error that the tool handles. A stop request is visible three
// ways: stop_requested() (poll), stop_fd() (a file descriptor that becomes
// readable, for an event loop), and wait_for_stop() (block).
//
//   peers::install_stop_signals();
//   while (!peers::stop_requested()) work();
#pragma once

namespace peers {

// Also calls install_crash_report().
void install_stop_signals();
// A crash writes its stack (addresses) to stderr before the process dies of
// the signal as it would have without the report.
void install_crash_report();
bool stop_requested();
// Number of the signal that requested the stop (0 if none, or request_stop()).
int stop_signal();
// Readable once a stop has been requested; never read from it.
int stop_fd();
// Requests a stop from inside the program (tests, fatal conditions).
void request_stop();
// Blocks the calling thread until a stop is requested.
void wait_for_stop();

}  // namespace peers
