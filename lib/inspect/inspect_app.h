// The body of vt-inspect: its subcommands (status, tree, events, call), their
// flags, and the event loop they run on. cmd/vt-inspect/main.cc is a few
// lines around run_inspect_app().
//
//   peers::ToolCli cli("vt-inspect", "...", "vt-inspect tree 10.0.0.1:7000");
//   vt::InspectAppOptions opts;
//   vt::add_inspect_commands(cli.app(), opts);
//   return cli.run(argc, argv, [&] { return vt::run_inspect_app(cli.app(), opts); });
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace vt {

struct InspectAppOptions {
  std::string key;                 // identity key file; "" = a fresh identity
  std::string timeout = "2s";      // per node: connect, handshake and answer
  std::string deadline = "10s";    // tree: the whole walk
  std::string addr;                // HOST:PORT (status, events, call)
  std::vector<std::string> addrs;  // tree, nodes: one or more nodes to walk from
  // status, tree
  bool json = false;
  // tree, nodes
  bool nodes = false;  // the nodes subcommand: one line per node
  bool dot = false;
  bool ascii = false;
  std::string watch;  // redraw every DURATION until Ctrl-C
  // events
  std::uint64_t since = 0;
  bool no_follow = false;
  // call
  bool list = false;
  bool write = false;       // call: allow methods that change the node's state
  std::string method;       // Interface.method
  std::string args = "{}";  // JSON
};

// Adds the subcommands and their flags to app (which needs one of them).
void add_inspect_commands(CLI::App& app, InspectAppOptions& options);

// Runs the subcommand app parsed. Returns the exit code: 0, 1 when the node
// (or, for tree, every node) could not be asked; throws peers::Error for a
// user's mistake.
int run_inspect_app(const CLI::App& app, const InspectAppOptions& options);

}  // namespace vt
