// vt-relay: Joins a stream and forwards it to other peers, contributing upload bandwidth.
#include "lib/kernel/cli.h"
#include "lib/overlay/peer_app.h"

int main(int argc, char** argv) {
  peers::ToolCli cli(
      "vt-relay", "Joins a stream and forwards it to other peers, contributing upload bandwidth.",
      "vt-relay --join host:7000 --upload 20M --listen 0.0.0.0:7001");
  vt::PeerAppOptions options;
  vt::add_peer_flags(cli.app(), options, vt::overlay::Role::kRelay);
  return cli.run(argc, argv, [&] { return vt::run_peer_app(options); });
}
