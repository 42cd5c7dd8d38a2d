// The shared body of vt-source, vt-relay and vt-sink: flags, wiring, the
// event loop, stats lines and clean stops. Each tool's main() is a few lines
// around run_peer_app().
//
//   peers::ToolCli cli("vt-sink", "...", "vt-sink --join host:7000 | ffplay -");
//   vt::PeerAppOptions opts;
//   vt::add_peer_flags(cli.app(), opts, vt::overlay::Role::kSink);
//   return cli.run(argc, argv, [&] { return vt::run_peer_app(opts); });
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "proto/overlay.pidl.h"

namespace vt {

struct PeerAppOptions {
  overlay::Role role = overlay::Role::kRelay;
  std::string listen;              // host:port; "" = default for the role
  std::vector<std::string> join;   // relays, sinks
  std::string key;                 // key file; "" = fresh identity (not for the source)
  std::string input = "-";         // source
  std::string output = "-";        // sink
  std::uint32_t stripes = 4;       // source
  std::string upload;              // rate, e.g. "20M"; "" = unlimited
  int max_children = -1;           // overrides --upload
  std::string stream_rate = "4M";  // assumed stream rate, to turn --upload into children
  std::string buffer = "2s";       // sink playout buffer
  std::string source_key;          // sink/relay: pin the stream
  std::string join_timeout = "10s";
  std::string stats_interval;  // "" = no stats
  bool json = false;
  std::string linger = "2s";  // after end of stream, keep serving repairs this long
  std::uint32_t chunk_bytes = 16 * 1024;
  std::vector<std::string> inspect_allow;  // peer ids allowed to inspect; empty = anyone
};

// Registers the flags of a role on app (names are a contract; see README).
void add_peer_flags(CLI::App& app, PeerAppOptions& options, overlay::Role role);

// Runs the node until the stream ends, a stop signal, or a fatal error.
// Returns the exit code; throws peers::Error for a user's mistake.
int run_peer_app(const PeerAppOptions& options);

}  // namespace vt
