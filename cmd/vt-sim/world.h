// vt-sim's world: a scenario (JSON, testdata/sim/) run with the real
// OverlayNode and RPC over lib/sim's network, in virtual time, and what it
// measured (docs/simulator.md).
//
//   auto scenario = vt::sim::parse_scenario(json_text);  // throws usage errors
//   vt::sim::World world(scenario);
//   world.run([](const nlohmann::json& line) { print(line); });  // JSON lines
//   nlohmann::json summary = world.summary();
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vt::sim {

// An upload rate: fixed, or Pareto (heavy-tailed) between min and max.
struct RateSpec {
  double bps = 0;
  double pareto_alpha = 0;  // 0: fixed at bps; else bps is the minimum
  double max_bps = 0;
};

struct GroupSpec {
  std::string name;
  std::string role;  // relay or sink
  std::size_t count = 0;
  RateSpec up;
  double down_bps = 50e6;
  // What the node says its uplink is (--upload): its real rate unless a liar.
  double declared_factor = 1.0;
  bool upload_nothing = false;  // --upload 0 (a free-rider viewer)
  // As --max-children without --upload: this many children and no ceiling
  // (the uplink is measured); 0 = children from the declared upload.
  std::uint32_t max_children = 0;
  double nat_share = 0;  // share behind NAT (cannot be dialed)
  // One-way access delays (ms), one per member in turn (cycled), as the
  // network lab's `delay_ms`; empty: none.
  std::vector<double> access_ms;
  double join_at_s = 0, join_over_s = 0;
  bool churn = true;  // takes part in leave/crash churn
};

struct Scenario {
  std::uint64_t seed = 1;
  double duration_s = 60;
  double report_every_s = 10;
  double stream_bps = 1e6;
  std::uint32_t stripes = 4;
  std::uint32_t chunk_bytes = 16 * 1024;
  double source_up_bps = 10e6;
  double source_access_ms = 0;            // source.delay_ms
  std::size_t segment_bytes = 16 * 1024;  // lib/sim Network::set_segment_bytes
  // As vt-source --max-children (per stripe) without --upload; 0 = from
  // source_up_bps.
  std::uint32_t source_max_children = 0;
  double rtt_min_ms = 20, rtt_max_ms = 300;
  double loss = 0;
  // Of the nodes that take part in churn, the share that leaves each
  // minute; of those, the share that crashes instead of leaving.
  double churn_per_min = 0;
  double crash_share = 0.5;
  // A viewer counts a chunk as played on time when it arrives within this
  // of its publication (the playout buffer).
  double buffer_s = 5;
  double join_timeout_s = 20;
  // Records unencrypted between nodes ("crypto": "plain"): the handshake
  // still authenticates and every chunk's signature is still checked.
  bool plain_records = false;
  // "crypto": "modelled": records unencrypted and signatures modelled
  // (lib/crypto/crypto_model.h); each operation's measured cost is charged
  // to the host's CPU in virtual time (docs/simulator.md).
  bool modelled_crypto = false;
  // Whom a viewer is told to --join besides the source: a random node that
  // joined (any), only a relay that joined (relays, as scripts/bench
  // overlay200 does), or nobody (source).
  bool join_via_relays = false;
  // Only the source (as the network lab's nodes, told `--join SOURCE`).
  bool join_via_source_only = false;
  std::vector<GroupSpec> groups;
};

// Throws peers::Error (usage) with the field at fault.
Scenario parse_scenario(const std::string& json_text);

class World {
 public:
  explicit World(Scenario s);
  ~World();
  // Runs the scenario; `line` gets a JSON object every report_every_s of
  // virtual time; `progress` (may be empty) gets virtual seconds done.
  void run(const std::function<void(const nlohmann::json&)>& line,
           const std::function<void(double)>& progress = {});
  nlohmann::json summary() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vt::sim
