// vt-source: Reads a live stream (MPEG-TS or any bytes) from stdin, signs it and serves it to the
// overlay as the root of every stripe tree.
#include "lib/kernel/cli.h"
#include "lib/overlay/peer_app.h"

int main(int argc, char** argv) {
  peers::ToolCli cli(
      "vt-source",
      "Reads a live stream (MPEG-TS or any bytes) from stdin, signs it and serves it to the "
      "overlay as the root of every stripe tree.",
      "ffmpeg -re -i in.mp4 -c copy -f mpegts - | vt-source --listen 0.0.0.0:7000 --key src.key");
  vt::PeerAppOptions options;
  vt::add_peer_flags(cli.app(), options, vt::overlay::Role::kSource);
  cli.json_logs_with("--json", "--stats-file");  // as run_peer_app does
  return cli.run(argc, argv, [&] { return vt::run_peer_app(options); });
}
