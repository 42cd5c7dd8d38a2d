#include "cmd/vt-sim/world.h"

#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cmath>
#include <map>
#include <optional>
#include <random>

#include "lib/crypto/crypto_model.h"
#include "lib/crypto/identity.h"
#include "lib/crypto/session.h"
#include "lib/kernel/cli.h"
#include "lib/kernel/clock.h"
#include "lib/kernel/error.h"
#include "lib/kernel/log.h"
#include "lib/kernel/timer.h"
#include "lib/kernel/units.h"
#include "lib/overlay/overlay_node.h"
#include "lib/overlay/tree_shape.h"
#include "lib/rpc/node.h"
#include "lib/sim/network.h"

namespace vt::sim {

namespace asio = boost::asio;
using nlohmann::json;
using peers::Clock;

namespace {

// ------------------------------------------------------------ scenario file

double rate_of(const json& j, const std::string& field) {
  if (j.is_number()) return j.get<double>();
  if (!j.is_string()) throw peers::usage_error(field + ": expected a rate such as \"2M\"");
  return static_cast<double>(peers::rate_flag(field, j.get<std::string>()));
}

RateSpec rate_spec(const json& j, const std::string& field) {
  RateSpec r;
  if (j.is_object()) {
    r.bps = rate_of(j.at("min"), field + ".min");
    r.max_bps = rate_of(j.at("max"), field + ".max");
    r.pareto_alpha = j.value("alpha", 1.5);
    if (r.pareto_alpha <= 0 || r.max_bps < r.bps) {
      throw peers::usage_error(field + ": want alpha > 0 and max >= min");
    }
    return r;
  }
  r.bps = rate_of(j, field);
  return r;
}

template <typename T>
T get(const json& j, const char* key, T fallback) {
  return j.contains(key) ? j.at(key).get<T>() : fallback;
}

// ------------------------------------------------------------ measurements

// Milliseconds in 1 ms buckets up to 120 s: percentiles of millions of samples.
class Histogram {
 public:
  void add(double ms) {
    auto i = static_cast<std::size_t>(std::clamp(ms, 0.0, double(kBuckets - 1)));
    ++buckets_[i];
    ++n_;
  }
  std::size_t count() const { return n_; }
  // The p-th percentile (0-100), or -1 with no samples.
  double percentile(double p) const {
    if (n_ == 0) return -1;
    auto want = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(n_)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i];
      if (seen >= std::max<std::uint64_t>(want, 1)) return static_cast<double>(i);
    }
    return kBuckets - 1;
  }

 private:
  static constexpr std::size_t kBuckets = 120000;
  std::vector<std::uint64_t> buckets_ = std::vector<std::uint64_t>(kBuckets);
  std::uint64_t n_ = 0;
};

double percentile_of(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(std::floor(p / 100.0 * static_cast<double>(v.size() - 1)));
  return v[std::min(i, v.size() - 1)];
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

Scenario parse_scenario(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw peers::usage_error(std::string("scenario is not JSON: ") + e.what());
  }
  Scenario s;
  try {
    s.seed = get<std::uint64_t>(j, "seed", 1);
    s.duration_s = get<double>(j, "duration_s", s.duration_s);
    s.report_every_s = get<double>(j, "report_every_s", s.report_every_s);
    s.buffer_s = get<double>(j, "buffer_s", s.buffer_s);
    s.join_timeout_s = get<double>(j, "join_timeout_s", s.join_timeout_s);
    s.loss = get<double>(j, "loss", 0.0);
    s.segment_bytes = get<std::size_t>(j, "segment_bytes", s.segment_bytes);
    if (s.segment_bytes < 512 || s.segment_bytes > 65536) {
      throw peers::usage_error("segment_bytes: want 512 to 65536");
    }
    std::string crypto = get<std::string>(j, "crypto", "real");
    if (crypto != "real" && crypto != "plain" && crypto != "modelled") {
      throw peers::usage_error("crypto: real, plain or modelled, not " + crypto);
    }
    s.modelled_crypto = crypto == "modelled";
    s.plain_records = crypto == "plain" || s.modelled_crypto;
    std::string via = get<std::string>(j, "join_via", "any");
    if (via != "any" && via != "relays" && via != "source") {
      throw peers::usage_error("join_via: any, relays or source, not " + via);
    }
    s.join_via_relays = via == "relays";
    s.join_via_source_only = via == "source";
    if (j.contains("stream")) {
      const json& st = j.at("stream");
      if (st.contains("rate")) s.stream_bps = rate_of(st.at("rate"), "stream.rate");
      s.stripes = get<std::uint32_t>(st, "stripes", s.stripes);
      s.chunk_bytes = get<std::uint32_t>(st, "chunk_bytes", s.chunk_bytes);
    }
    if (j.contains("source")) {
      s.source_up_bps = rate_of(j.at("source").at("up"), "source.up");
      s.source_max_children = get<std::uint32_t>(j.at("source"), "max_children", 0);
      s.source_access_ms = get<double>(j.at("source"), "delay_ms", 0.0);
      if (s.source_access_ms < 0) throw peers::usage_error("source.delay_ms: want >= 0");
    }
    if (j.contains("rtt_ms")) {
      s.rtt_min_ms = j.at("rtt_ms").at(0).get<double>();
      s.rtt_max_ms = j.at("rtt_ms").at(1).get<double>();
    }
    if (j.contains("churn")) {
      s.churn_per_min = get<double>(j.at("churn"), "per_min", 0.0);
      s.crash_share = get<double>(j.at("churn"), "crash_share", s.crash_share);
    }
    for (const json& g : j.at("groups")) {
      GroupSpec gs;
      gs.name = g.at("name").get<std::string>();
      gs.role = g.at("role").get<std::string>();
      if (gs.role != "relay" && gs.role != "sink") {
        throw peers::usage_error("groups." + gs.name + ".role: relay or sink, not " + gs.role);
      }
      gs.count = g.at("count").get<std::size_t>();
      gs.up = rate_spec(g.at("up"), "groups." + gs.name + ".up");
      if (g.contains("down")) gs.down_bps = rate_of(g.at("down"), "groups." + gs.name + ".down");
      gs.declared_factor = get<double>(g, "declares", 1.0);
      gs.upload_nothing = get<bool>(g, "upload_nothing", false);
      gs.max_children = get<std::uint32_t>(g, "max_children", 0);
      gs.nat_share = get<double>(g, "nat_share", 0.0);
      gs.join_at_s = get<double>(g, "join_at_s", 0.0);
      gs.join_over_s = get<double>(g, "join_over_s", 0.0);
      gs.churn = get<bool>(g, "churn", true);
      if (g.contains("delay_ms")) {
        const json& d = g.at("delay_ms");
        gs.access_ms =
            d.is_array() ? d.get<std::vector<double>>() : std::vector<double>{d.get<double>()};
        for (double ms : gs.access_ms) {
          if (ms < 0) throw peers::usage_error("groups." + gs.name + ".delay_ms: want >= 0");
        }
      }
      s.groups.push_back(gs);
    }
  } catch (const json::exception& e) {
    throw peers::usage_error(std::string("scenario: ") + e.what());
  }
  if (s.duration_s <= 0 || s.stream_bps <= 0 || s.stripes == 0 || s.stripes > kMaxStripes ||
      s.chunk_bytes == 0 || s.rtt_min_ms < 0 || s.rtt_max_ms < s.rtt_min_ms ||
      s.report_every_s <= 0) {
    throw peers::usage_error(
        "scenario: want duration_s > 0, a stream rate, 1-256 stripes, chunk_bytes > 0, "
        "0 <= rtt_ms[0] <= rtt_ms[1], report_every_s > 0");
  }
  return s;
}

// ------------------------------------------------------------ the world

struct World::Impl {
  struct Peer {
    std::size_t index = 0;
    std::size_t host = 0;
    const GroupSpec* group = nullptr;  // null: the source
    double up_bps = 0;
    Clock::time_point start{};
    std::unique_ptr<peers::rpc::Node> rpc;
    std::shared_ptr<OverlayNode> node;
    std::optional<Clock::time_point> joined;
    bool failed = false;
    bool gone = false;  // left or crashed
    std::string failure;
    // Chunk seqs received, and which of them on time.
    std::vector<bool> got, on_time;
  };

  Scenario s;
  peers::VirtualTime vt;
  asio::io_context io{1};
  peers::sim::Network net;
  std::mt19937_64 rng;
  std::vector<std::unique_ptr<Peer>> peers;
  Clock::time_point t0;
  Clock::duration chunk_every;
  std::vector<Clock::time_point> published;  // by seq
  std::uint64_t published_bytes = 0;
  Histogram delay_ms, join_ms;
  std::uint64_t joins_failed = 0, left = 0, crashed = 0;
  double wall_s = 0;
  // Modelled cryptography: whose work runs on which host.
  std::map<peers::PublicKey, std::size_t> host_of;
  std::optional<peers::CryptoModel> crypto;

  explicit Impl(Scenario sc)
      : s(std::move(sc)), net(io.get_executor(), vt, s.seed), rng(s.seed), t0(Clock::now()) {
    // Thousands of nodes' session keys in guarded pages would pass the
    // kernel's limit on memory mappings; simulated keys guard nothing.
    peers::set_guarded_key_memory(false);
    net.set_loss(s.loss);
    net.set_segment_bytes(s.segment_bytes);
    if (s.modelled_crypto) {
      auto costs = peers::CryptoCosts::measured();
      net.set_record_costs(costs.seal_ns_per_byte, costs.open_ns_per_byte);
      crypto.emplace(costs, s.seed,
                     [this](const peers::PublicKey& who, std::chrono::nanoseconds c) {
                       auto it = host_of.find(who);
                       if (it != host_of.end()) net.charge_cpu(it->second, c);
                     });
    }
    chunk_every = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(double(s.chunk_bytes) * 8.0 / s.stream_bps));
  }

  double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); }

  double draw_rate(const RateSpec& r) {
    if (r.pareto_alpha <= 0) return r.bps;
    // Inverse CDF of a Pareto distribution, cut at max.
    double u = uniform(1e-9, 1.0);
    return std::min(r.max_bps, r.bps / std::pow(u, 1.0 / r.pareto_alpha));
  }

  // Coordinates in a square whose corners are rtt_max apart (one way is half
  // of a round trip), shifted so the closest pairs see about rtt_min.
  peers::sim::HostSpec host_spec(double up, double down, bool nat, double access_ms = 0) {
    double side = std::max(0.0, (s.rtt_max_ms - s.rtt_min_ms) / 2.0) / std::sqrt(2.0);
    double base = std::max(0.0, s.rtt_min_ms / 2.0 - 1.0) / std::sqrt(2.0);
    bool up_half = uniform(0, 1) < 0.5;
    return {.up_bps = up,
            .down_bps = down,
            .nat = nat,
            .x_ms = uniform(0, side) + (up_half ? base : 0),
            .y_ms = uniform(0, side) + (up_half ? 0 : base),
            .access_ms = access_ms};
  }

  peers::Identity identity() {
    std::array<std::uint8_t, 32> seed{};
    for (auto& b : seed) b = static_cast<std::uint8_t>(rng());
    return peers::Identity::from_seed(seed).value();
  }

  std::size_t total_chunks() const {
    return static_cast<std::size_t>(s.duration_s / seconds(chunk_every)) + 2;
  }

  void make_node(Peer& p, OverlayConfig cfg) {
    peers::rpc::NodeOptions o;
    o.network = net.transport(p.host);
    o.allow_plain = s.plain_records;
    peers::Identity id = identity();
    host_of[id.public_key()] = p.host;
    p.rpc = std::make_unique<peers::rpc::Node>(io.get_executor(), std::move(id), o);
    cfg.log_self = true;  // many nodes share one log
    p.node = std::make_shared<OverlayNode>(*p.rpc, std::move(cfg));
    p.rpc->add_service(p.node);
    p.rpc->on_disconnect(
        [this, weak = std::weak_ptr<OverlayNode>(p.node)](
            const std::shared_ptr<peers::rpc::Connection>& conn, const peers::Error& why) {
          if (why.message() != "peer left") return;
          asio::post(io, [weak, id = conn->peer()] {
            if (auto n = weak.lock()) n->peer_left(id);
          });
        });
    auto port = p.rpc->listen("0.0.0.0:0");
    if (!port) throw port.error();
  }

  std::string source_addr() const { return peers[0]->rpc->listen_addr(); }

  void start_source() {
    auto p = std::make_unique<Peer>();
    p->host = net.add_host(host_spec(s.source_up_bps, 1e9, false, s.source_access_ms));
    p->up_bps = s.source_up_bps;
    p->start = Clock::now();
    OverlayConfig cfg;
    cfg.role = overlay::Role::kSource;
    cfg.stripes = s.stripes;
    cfg.chunk_bytes = s.chunk_bytes;
    cfg.upload_ceiling_bps = s.source_up_bps;
    cfg.assumed_stream_bps = s.stream_bps;
    // As vt-source --upload: children per stripe the uplink pays for.
    cfg.capacity =
        std::max<std::uint32_t>(1, static_cast<std::uint32_t>(s.source_up_bps / s.stream_bps));
    cfg.cap_follows_stream = true;
    if (s.source_max_children > 0) {
      // As vt-source --max-children alone: no ceiling, the uplink is measured.
      cfg.capacity = s.source_max_children;
      cfg.upload_ceiling_bps.reset();
      cfg.cap_follows_stream = false;
    }
    make_node(*p, cfg);
    peers.push_back(std::move(p));
    publish_next(0);
  }

  void publish_next(ChunkSeq seq) {
    auto at = t0 + seq * chunk_every;
    vt.call_at(at, [this, seq] {
      if (Clock::now() - t0 >= std::chrono::duration<double>(s.duration_s)) return;
      Chunk c;
      c.seq = seq;
      c.stripe = stripe_of(seq, s.stripes);
      c.random_access = true;
      c.timestamp = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
      c.payload.assign(s.chunk_bytes, static_cast<char>('a' + seq % 26));
      published.push_back(Clock::now());
      published_bytes += c.payload.size();
      peers[0]->node->publish(c);
      publish_next(seq + 1);
    });
  }

  void start_viewer(const GroupSpec& g, double at_s, std::size_t member) {
    auto p = std::make_unique<Peer>();
    p->index = peers.size();
    p->group = &g;
    p->up_bps = draw_rate(g.up);
    bool nat = uniform(0, 1) < g.nat_share;
    double access = g.access_ms.empty() ? 0 : g.access_ms[member % g.access_ms.size()];
    p->host = net.add_host(host_spec(p->up_bps, g.down_bps, nat, access));
    Peer* raw = p.get();
    peers.push_back(std::move(p));
    vt.call_at(
        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at_s)),
        [this, raw] { launch(*raw); });
  }

  void launch(Peer& p) {
    const GroupSpec& g = *p.group;
    p.start = Clock::now();
    OverlayConfig cfg;
    cfg.role = g.role == "relay" ? overlay::Role::kRelay : overlay::Role::kSink;
    double declared = g.upload_nothing ? 0 : p.up_bps * g.declared_factor;
    cfg.upload_ceiling_bps = declared;
    cfg.assumed_stream_bps = s.stream_bps;
    // As --upload: stripe-children the declared uplink pays for.
    cfg.capacity = static_cast<std::uint32_t>(declared * kDefaultStripes / s.stream_bps);
    cfg.cap_follows_stream = declared > 0;
    if (g.max_children > 0 && !g.upload_nothing) {
      // As --max-children alone: no ceiling, the uplink is measured.
      cfg.capacity = g.max_children;
      cfg.upload_ceiling_bps.reset();
      cfg.cap_follows_stream = false;
    }
    // The source, and a node that joined before (as a join link and a
    // friend's address would give).
    cfg.bootstrap.push_back(source_addr());
    std::vector<Peer*> joined;
    for (auto& q : peers) {
      if (!q->group || !q->joined || q->gone || q.get() == &p) continue;
      if (s.join_via_relays && q->group->role != "relay") continue;
      joined.push_back(q.get());
    }
    if (!joined.empty() && !s.join_via_source_only) {
      auto* q = joined[static_cast<std::size_t>(uniform(0, double(joined.size()))) % joined.size()];
      cfg.bootstrap.insert(cfg.bootstrap.begin(), q->rpc->listen_addr());
    }
    make_node(p, cfg);
    std::size_t n = total_chunks();
    p.got.assign(n, false);
    p.on_time.assign(n, false);
    Peer* raw = &p;
    p.node->on_chunk = [this, raw](const Chunk& c) {
      if (c.end_of_stream || c.seq >= published.size() || c.seq >= raw->got.size()) return;
      if (raw->got[c.seq]) return;
      raw->got[c.seq] = true;
      double ms =
          std::chrono::duration<double, std::milli>(Clock::now() - published[c.seq]).count();
      delay_ms.add(ms);
      if (ms <= s.buffer_s * 1e3) raw->on_time[c.seq] = true;
    };
    auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(s.join_timeout_s * 1e3));
    asio::co_spawn(
        io,
        [this, raw, timeout]() -> peers::rpc::Task<void> {
          try {
            auto op = raw->node->start(timeout);
            co_await std::move(op);
            raw->joined = Clock::now();
            join_ms.add(
                std::chrono::duration<double, std::milli>(*raw->joined - raw->start).count());
          } catch (const std::exception& e) {
            raw->failed = true;
            raw->failure = e.what();
            ++joins_failed;
            peers::log_warn("join failed", {{"peer", std::to_string(raw->index)},
                                            {"group", raw->group->name},
                                            {"error", raw->failure}});
          }
        },
        asio::detached);
  }

  // A graceful leave (children handed over), then the node closes.
  void stop(Peer& p) {
    Peer* raw = &p;
    asio::co_spawn(
        io,
        [raw]() -> peers::rpc::Task<void> {
          try {
            auto op = raw->node->leave();
            co_await std::move(op);
          } catch (const std::exception&) {
          }
          raw->rpc->close();
        },
        asio::detached);
  }

  // Churn: once a second, each node that takes part leaves with probability
  // per_min/60; some crash (streams reset, no goodbye) instead.
  void churn_tick() {
    vt.call_at(Clock::now() + std::chrono::seconds(1), [this] {
      if (s.churn_per_min > 0) {
        for (auto& p : peers) {
          if (!p->group || !p->group->churn || !p->joined || p->gone) continue;
          if (uniform(0, 1) >= s.churn_per_min / 60.0) continue;
          p->gone = true;
          if (uniform(0, 1) < s.crash_share) {
            ++crashed;
            net.crash(p->host);
            p->rpc->close();
            // Its process is gone: nothing of it runs on (leave() on a
            // crashed host fails at once and stops the node's loops).
            stop(*p);
          } else {
            ++left;
            stop(*p);
          }
        }
      }
      churn_tick();
    });
  }

  // Continuity of each viewer that stayed: chunks on time among those
  // published from its first chunk until `until` minus the buffer.
  // Chunks counted by continuity(), over every viewer that stayed: on time,
  // late (arrived after the buffer) and missing (never arrived).
  struct ChunkTally {
    std::uint64_t on_time = 0, late = 0, missing = 0;
  };
  std::vector<double> continuity(Clock::time_point until, ChunkTally* tally = nullptr) const {
    std::vector<double> out;
    auto last = std::upper_bound(published.begin(), published.end(),
                                 until - std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(s.buffer_s)));
    std::size_t end = static_cast<std::size_t>(last - published.begin());
    for (const auto& p : peers) {
      if (!p->group || p->gone || !p->joined) continue;
      // Playback starts where every stripe has begun (the latest first seq).
      std::size_t first = 0;
      for (std::uint32_t k = 0; k < s.stripes; ++k) {
        auto f = p->node->first_seq(k);
        first = f ? std::max<std::size_t>(first, *f) : end;
      }
      if (first >= end) continue;
      std::size_t ok = 0;
      std::size_t got = 0;
      for (std::size_t q = first; q < end; ++q) {
        ok += p->on_time[q] ? 1 : 0;
        got += p->got[q] ? 1 : 0;
      }
      out.push_back(100.0 * double(ok) / double(end - first));
      if (tally) {
        tally->on_time += ok;
        tally->late += got - ok;
        tally->missing += (end - first) - got;
      }
    }
    return out;
  }

  // Per stripe: the longest and mean path, and against a balanced tree of
  // the stripe's own fan-out (receivers over distinct parents, the source
  // included), how many levels deeper the deepest node is.
  json depth() const {
    json per = json::array();
    for (std::uint32_t k = 0; k < s.stripes; ++k) {
      std::size_t mx = 0, n = 0;
      double sum = 0;
      std::map<std::string, std::size_t> parents;
      for (const auto& p : peers) {
        if (!p->group || p->gone || !p->joined) continue;
        auto st = p->node->stripe_status();
        if (k >= st.size() || st[k].path.empty()) continue;
        mx = std::max(mx, st[k].path.size());
        sum += double(st[k].path.size());
        ++parents[st[k].path.back().id];
        ++n;
      }
      double fanout = parents.empty() ? 0.0 : double(n) / double(parents.size());
      int balanced = balanced_depth(double(n), fanout);
      per.push_back({{"stripe", k},
                     {"max", mx},
                     {"mean", n ? sum / double(n) : 0.0},
                     {"receivers", n},
                     {"interior", parents.size()},
                     {"fanout", fanout},
                     {"balanced", balanced},
                     {"excess", static_cast<int>(mx) - balanced}});
    }
    return per;
  }

  double source_ratio() const {
    if (published_bytes == 0) return 0;
    return double(net.stats(peers[0]->host).bytes_up) / double(published_bytes);
  }

  json report(double t) const {
    auto c = continuity(Clock::now());
    std::size_t alive = 0, joined = 0;
    for (const auto& p : peers) {
      if (p->group && p->rpc && !p->gone) ++alive;
      if (p->group && p->joined && !p->gone) ++joined;
    }
    return {{"t", t},
            {"peers", alive},
            {"joined", joined},
            {"continuity_p1", percentile_of(c, 1)},
            {"delay_p95_ms", delay_ms.percentile(95)},
            {"join_p95_ms", join_ms.percentile(95)},
            {"source_upload_ratio", source_ratio()},
            {"joins_failed", joins_failed},
            {"left", left},
            {"crashed", crashed}};
  }
};

World::World(Scenario s) : impl_(std::make_unique<Impl>(std::move(s))) {}

World::~World() {
  // Nodes first (they hold the network's streams), then the io_context.
  for (auto& p : impl_->peers) {
    if (p->rpc) p->rpc->close();
  }
  for (int i = 0; i < 1000; ++i) {
    impl_->io.restart();
    if (impl_->io.poll() == 0) break;
  }
}

void World::run(const std::function<void(const json&)>& line,
                const std::function<void(double)>& progress) {
  Impl& w = *impl_;
  auto wall0 = std::chrono::steady_clock::now();
  // The nodes' log lines carry the run's virtual time, not the wall clock.
  peers::log_set_clock([&w] { return seconds(Clock::now() - w.t0); });
  struct RestoreLogClock {
    ~RestoreLogClock() { peers::log_set_clock(nullptr); }
  } restore_log_clock;
  w.start_source();
  for (const auto& g : w.s.groups) {
    for (std::size_t i = 0; i < g.count; ++i) {
      double at = g.join_at_s + (g.count > 1 ? g.join_over_s * double(i) / double(g.count - 1) : 0);
      w.start_viewer(g, at, i);
    }
  }
  w.churn_tick();
  auto end = w.t0 + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(w.s.duration_s));
  auto every = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(w.s.report_every_s));
  auto next_report = w.t0 + every;
  for (;;) {
    w.io.restart();
    w.io.poll();
    auto next = w.vt.next_deadline();
    auto now = Clock::now();
    if (now >= next_report) {
      line(w.report(seconds(next_report - w.t0)));
      next_report += every;
      if (progress) progress(seconds(now - w.t0));
    }
    if (!next || *next > end) break;
    w.vt.advance_to(std::min(*next, next_report));
  }
  if (Clock::now() < end) w.vt.advance_to(end);
  w.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
}

json World::summary() const {
  const Impl& w = *impl_;
  Impl::ChunkTally tally;
  auto c = w.continuity(Clock::now(), &tally);
  std::uint64_t up_all = 0, payload_out = 0, repairs = 0, received = 0;
  std::size_t viewers = 0;
  for (const auto& p : w.peers) {
    up_all += w.net.stats(p->host).bytes_up;
    if (p->group) received += std::count(p->got.begin(), p->got.end(), true);
    if (!p->node) continue;
    auto st = p->node->stats();
    payload_out += st.bytes_out;
    for (const auto& ss : p->node->stripe_status()) repairs += ss.repairs;
    if (p->group) ++viewers;
  }
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  double virtual_s = seconds(Clock::now() - w.t0);
  json depth = w.depth();
  int balanced_max = 0, excess_max = 0;
  for (const auto& d : depth) {
    balanced_max = std::max(balanced_max, d["balanced"].get<int>());
    excess_max = std::max(excess_max, d["excess"].get<int>());
  }
  // Join times by role: the relays join an empty overlay, the viewers a
  // built one.
  std::map<std::string, std::vector<double>> joins_by_role;
  for (const auto& p : w.peers) {
    if (p->group && p->joined) {
      joins_by_role[p->group->role].push_back(
          std::chrono::duration<double, std::milli>(*p->joined - p->start).count());
    }
  }
  json join_by_role = json::object();
  for (const auto& [role, v] : joins_by_role) {
    join_by_role[role] = {{"p50", percentile_of(v, 50)},
                          {"p95", percentile_of(v, 95)},
                          {"max", percentile_of(v, 100)}};
  }
  json summary = {
      {"peers", w.peers.size()},
      {"viewers", viewers},
      {"stayed", c.size()},
      {"continuity_pct", {{"p1", percentile_of(c, 1)}, {"p50", percentile_of(c, 50)}}},
      {"chunks", {{"on_time", tally.on_time}, {"late", tally.late}, {"missing", tally.missing}}},
      {"join_ms",
       {{"p50", w.join_ms.percentile(50)},
        {"p95", w.join_ms.percentile(95)},
        {"p99", w.join_ms.percentile(99)}}},
      {"join_ms_by_role", join_by_role},
      {"joins_failed", w.joins_failed},
      {"delay_behind_live_ms",
       {{"p50", w.delay_ms.percentile(50)},
        {"p95", w.delay_ms.percentile(95)},
        {"p99", w.delay_ms.percentile(99)}}},
      {"depth", depth},
      {"balanced_depth", balanced_max},
      {"depth_excess_max", excess_max},
      {"source_upload_ratio", w.source_ratio()},
      // Bytes on the wire beyond the chunks' payload (RPC, heartbeats,
      // signatures, encryption, repairs' resends), over the payload.
      {"control_overhead",
       payload_out ? double(up_all - std::min(up_all, payload_out)) / double(payload_out) : 0.0},
      // Every byte sent over the distinct payload the receivers got: resends
      // and duplicates count as overhead here (as in the network lab, whose
      // figure also has TCP/IP headers and ACKs).
      {"wire_overhead", received ? double(up_all) / double(received * w.s.chunk_bytes) - 1.0 : 0.0},
      {"repairs", repairs},
      {"left", w.left},
      {"crashed", w.crashed},
      {"virtual_s", virtual_s},
      {"wall_s", w.wall_s},
      {"speed", w.wall_s > 0 ? virtual_s / w.wall_s : 0.0},
      {"peak_rss_mib", double(ru.ru_maxrss) / 1024.0}};
  if (w.crypto) {
    std::size_t source_host = w.peers.empty() ? 0 : w.peers[0]->host;
    summary["modelled_crypto"] = {
        {"signs", w.crypto->signs()},
        {"verifies", w.crypto->verifies()},
        {"unattributed", w.crypto->unattributed()},
        {"source_cpu_pct",
         virtual_s > 0 ? 100.0 * seconds(w.net.stats(source_host).cpu) / virtual_s : 0.0}};
  }
  return summary;
}

}  // namespace vt::sim
