// vt-sink: Joins a stream and writes it, in order, to stdout (it also relays unless --upload 0).
#include "lib/kernel/cli.h"
#include "lib/overlay/peer_app.h"

int main(int argc, char** argv) {
  peers::ToolCli cli(
      "vt-sink",
      "Joins a stream and writes it, in order, to stdout (it also relays unless --upload 0).",
      "vt-sink vt://host:7000/vt1... | ffplay -   (the join link vt-source printed)");
  vt::PeerAppOptions options;
  vt::add_peer_flags(cli.app(), options, vt::overlay::Role::kSink);
  cli.json_logs_with("--json", "--stats-file");  // as run_peer_app does
  return cli.run(argc, argv, [&] { return vt::run_peer_app(options); });
}
