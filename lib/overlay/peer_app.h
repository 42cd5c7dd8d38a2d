// The shared body of vt-source, vt-relay and vt-sink: flags, wiring, the
// event loop, stats lines and clean stops. Each tool's main() is a few lines
// around run_peer_app(), which wires the parts: PeerConfig (the checked
// flags, peer_config.h), the node and its inspection service, the role's
// part (SourceInput: input to chunks, source_input.h; SinkOutput: playout
// and writing, sink_output.h; a relay only relays), StatsReporter
// (stats_reporter.h) and the shutdown sequence (stop signals, linger).
//
//   peers::ToolCli cli("vt-sink", "...", "vt-sink --join host:7000 | ffplay -");
//   vt::PeerAppOptions opts;
//   vt::add_peer_flags(cli.app(), opts, vt::overlay::Role::kSink);
//   return cli.run(argc, argv, [&] { return vt::run_peer_app(opts); });
#pragma once

#include <CLI/CLI.hpp>

#include "lib/overlay/peer_config.h"
#include "proto/overlay.pidl.h"

namespace vt {

// Registers the flags of a role on app (names are a contract; see README).
void add_peer_flags(CLI::App& app, PeerAppOptions& options, overlay::Role role);

// Runs the node until the stream ends, a stop signal, or a fatal error.
// Returns the exit code; throws peers::Error for a user's mistake.
int run_peer_app(const PeerAppOptions& options);

}  // namespace vt
