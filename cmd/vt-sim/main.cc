// vt-sim: runs a scenario of VidTorrent peers, the real overlay and RPC code,
// over a simulated network in virtual time (docs/simulator.md).
//
//   vt-sim testdata/sim/small.json                 JSON lines, then a summary line
//   vt-sim testdata/sim/small.json --seed 7 --duration 30
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cmd/vt-sim/world.h"
#include "lib/kernel/cli.h"
#include "lib/kernel/error.h"
#include "lib/kernel/log.h"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw peers::usage_error("cannot read scenario '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void print_line(const nlohmann::json& j) {
  std::cout << j.dump() << "\n" << std::flush;
  if (!std::cout) throw peers::Error(peers::Errc::kIo, "cannot write to stdout");
}

}  // namespace

int main(int argc, char** argv) {
  peers::ToolCli cli("vt-sim",
                     "Runs a scenario of VidTorrent peers (the real overlay and RPC) over a "
                     "simulated network in virtual time; prints JSON lines and a summary.",
                     "vt-sim testdata/sim/small.json --seed 7");
  auto& app = cli.app();
  std::string path;
  std::int64_t seed = -1;
  double duration = 0;
  bool node_logs = false;
  app.add_option("scenario", path, "Scenario file (JSON, see docs/simulator.md)")
      ->option_text("FILE")
      ->required();
  app.add_option("--seed", seed, "Seed of every random choice (default: the scenario's)")
      ->option_text("N");
  app.add_option("--duration", duration, "Virtual seconds to run (default: the scenario's)")
      ->option_text("SECONDS");
  app.add_flag("--node-logs", node_logs,
               "Keep the nodes' own log lines (at --log-level); else errors only");
  return cli.run(argc, argv, [&] {
    auto scenario = vt::sim::parse_scenario(read_file(path));
    if (seed >= 0) scenario.seed = static_cast<std::uint64_t>(seed);
    if (duration > 0) scenario.duration_s = duration;
    if (!node_logs) peers::log_setup("vt-sim", peers::log_format(), peers::LogLevel::kError);
    vt::sim::World world(scenario);
    bool bar = isatty(STDERR_FILENO) != 0;
    world.run(print_line, [&](double t) {
      if (!bar) return;
      int width = 40;
      int done = static_cast<int>(width * std::min(1.0, t / scenario.duration_s));
      std::fprintf(stderr, "\r[%s%s] %.0f/%.0f s", std::string(done, '#').c_str(),
                   std::string(width - done, ' ').c_str(), t, scenario.duration_s);
      std::fflush(stderr);
    });
    if (bar) std::fprintf(stderr, "\n");
    print_line({{"summary", world.summary()}});
    return peers::kExitOk;
  });
}
