// vt-relay: Joins a stream and forwards it to other peers, contributing upload bandwidth.
#include "lib/kernel/cli.h"
#include "lib/overlay/peer_app.h"

int main(int argc, char** argv) {
  peers::ToolCli cli(
      "vt-relay", "Joins a stream and forwards it to other peers, contributing upload bandwidth.",
      "vt-relay vt://host:7000/vt1... --upload 20M");
  vt::PeerAppOptions options;
  vt::add_peer_flags(cli.app(), options, vt::overlay::Role::kRelay);
  cli.json_logs_with("--json", "--stats-file");  // as run_peer_app does
  return cli.run(argc, argv, [&] { return vt::run_peer_app(options); });
}
