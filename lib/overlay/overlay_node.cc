#include "lib/overlay/overlay_node.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>
#include <tuple>

#include "lib/crypto/crypto_model.h"
#include "lib/kernel/log.h"
#include "lib/kernel/timer.h"
#include "lib/overlay/join_decision.h"
#include "lib/rpc/address.h"
#include "lib/stream/signed_chunk.h"

namespace vt {

namespace asio = boost::asio;
using peers::Errc;
using peers::Error;
using peers::rpc::Answer;
using peers::rpc::CallContext;
using peers::rpc::CallOptions;
using peers::rpc::Task;
using std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Chunks per stripe remembered to drop duplicates and replays.
constexpr std::size_t kSeenWindow = 1024;
// Heartbeats between attempts to move up the tree.
constexpr std::uint64_t kMoveUpEvery = 20;

// The fewest whole chunks of a feed in flight (written, not yet read by the
// child).
constexpr std::size_t kFeedChunksInFlight = 2;
// A parent vouches for a child moving up over it only once it has fed it
// this long (ms).
constexpr std::uint64_t kSwapSettleMs = 5000;
// A newcomer asks its next bootstrap address for the stream when those
// before it have not answered in this long (a round trip or a few is what an
// answer takes; a dial nobody answers waits out the connect timeout).
constexpr std::chrono::milliseconds kBootstrapStagger{1000};
// The most room a child may claim for its subtree (Heartbeat.spare) and a
// node reports for its own: claims are not checked, and sums of them must
// not wrap.
constexpr std::uint32_t kMaxClaimedSpare = 1u << 20;

Task<void> sleep_for(steady_clock::duration d) {
  peers::Timer t(co_await asio::this_coro::executor, d);
  auto wait = t.async_wait(asio::use_awaitable);
  co_await std::move(wait);
}

std::string short_of(const std::string& id_text) {
  auto id = peers::PeerId::parse(id_text);
  return id ? id->short_id() : id_text.substr(0, 11);
}

// FNV-1a over every field of a path's entries; 0 only for an empty path.
// Not a security measure: a parent may send any path it likes anyway.
std::uint64_t path_digest(const std::vector<overlay::PeerInfo>& path) {
  if (path.empty()) return 0;
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&](const std::string& text) {
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // separator: "ab"+"c" != "a"+"bc"
  };
  for (const auto& p : path) {
    mix(p.id);
    mix(p.addr);
    mix(std::to_string(p.capacity) + "/" + std::to_string(static_cast<int>(p.role)));
  }
  return h == 0 ? 1 : h;
}

// Children the configuration allows in all stripes together.
std::uint32_t children_cap(const OverlayConfig& c) {
  std::uint32_t k = std::max<std::uint32_t>(1, c.stripes);
  return c.role == overlay::Role::kSource ? c.capacity * k : c.capacity;
}

UplinkEstimator::Options uplink_options(const OverlayConfig& c) {
  UplinkEstimator::Options o;
  o.ceiling_bps = c.upload_ceiling_bps;
  // Start where the default children of the assumed stream (relays 8, sinks
  // 4, the source 4 per stripe; fewer under a lower cap) put the budget,
  // never above the ceiling; measurement moves it from there: up only by
  // use, down on congestion.
  std::uint32_t k = std::max<std::uint32_t>(1, c.stripes);
  std::uint32_t defaults = c.role == overlay::Role::kSource ? 4 * k
                           : c.role == overlay::Role::kSink ? 4
                                                            : 8;
  double child_bps = c.assumed_stream_bps / k;
  o.initial_bps = std::min(children_cap(c), defaults) * child_bps * o.wire_overhead / o.headroom;
  return o;
}

}  // namespace

OverlayNode::OverlayNode(peers::rpc::Node& rpc, OverlayConfig config)
    : rpc_(rpc), config_(std::move(config)), uplink_(uplink_options(config_)) {
  capacity_ = std::min(children_cap(config_),
                       uplink_.child_budget(config_.assumed_stream_bps /
                                            std::max<std::uint32_t>(1, config_.stripes)));
  if (config_.capacity == 0) capacity_ = 0;
  if (config_.role == overlay::Role::kSource) {
    stream_.source_id = rpc_.id().to_string();
    stream_.stripes = config_.stripes;
    stream_.chunk_bytes = config_.chunk_bytes;
    stream_key_ = rpc_.id().public_key();
    init_stripes(config_.stripes);
  }
}

OverlayNode::~OverlayNode() = default;

void OverlayNode::init_stripes(std::uint32_t k) {
  stripes_.clear();
  stripes_.resize(k);
  for (std::uint32_t i = 0; i < k; ++i) {
    stripes_[i].index = i;
    stripes_[i].history = std::make_unique<History>(config_.history);
    stripes_[i].interior =
        config_.role == overlay::Role::kSource || (config_.capacity > 0 && i == home_stripe());
    stripes_[i].last_arrival = peers::Clock::now();
  }
}

std::uint32_t OverlayNode::home_stripe() const {
  if (stream_.stripes == 0) return 0;
  if (home_ && *home_ < stream_.stripes) return *home_;
  const auto& key = rpc_.id().public_key();
  return static_cast<std::uint32_t>((key[0] | (key[1] << 8)) % stream_.stripes);
}

void OverlayNode::log_at(peers::LogLevel level, std::string_view msg,
                         peers::LogFields fields) const {
  if (!peers::log_enabled(level)) return;
  if (!config_.log_self) {
    peers::log(level, msg, fields);
    return;
  }
  std::vector<std::pair<std::string_view, std::string>> all;
  all.reserve(fields.size() + 1);
  all.emplace_back("node", rpc_.id().short_id());
  all.insert(all.end(), fields.begin(), fields.end());
  peers::log(level, msg, all);
}

overlay::PeerInfo OverlayNode::self_info() const {
  overlay::PeerInfo p;
  p.id = rpc_.id().to_string();
  p.addr = rpc_.advertised_addr();
  p.capacity = capacity_;  // measured, not declared
  p.role = config_.role;
  return p;
}

bool OverlayNode::expects_punch(const peers::PeerId& asker, const peers::PeerId& joiner) const {
  auto now = peers::Clock::now();
  std::string asker_id = asker.to_string();
  std::string joiner_id = joiner.to_string();
  if (banned_.count(asker)) return false;
  for (const auto& s : stripes_) {
    bool parent = s.parent && s.parent->id == asker_id;
    for (const auto& [ticket, r] : s.reservations) {
      if (r.joiner.id != joiner_id || r.expires < now) continue;
      // Its parent now, or the one it had when it reserved the place (the
      // join reply named that one: a move in between must not fail the
      // punch).
      if (parent || r.introducer == asker_id) return true;
    }
  }
  return false;
}

bool OverlayNode::punchable_from(const peers::PeerId& joiner, std::uint32_t stripe) {
  auto now = peers::Clock::now();
  // Its reservation here is still unused and it asks again: its punch
  // failed (a NAT that changes ports, or drops what it did not ask for
  // however asked). Leave it to nodes it can dial for a while.
  if (stripe < stripes_.size()) {
    for (const auto& [ticket, r] : stripes_[stripe].reservations) {
      if (r.joiner.id == joiner.to_string() && r.expires >= now &&
          now - r.created >= std::chrono::milliseconds(500)) {
        unpunchable_[joiner] = now + std::chrono::seconds(60);
        log_at(peers::LogLevel::kInfo, "a joiner could not punch through to this node",
               {{"joiner", joiner.short_id()}, {"stripe", std::to_string(stripe)}});
      }
    }
  }
  auto it = unpunchable_.find(joiner);
  if (it == unpunchable_.end()) return true;
  if (it->second > now) return false;
  unpunchable_.erase(it);
  return true;
}

double OverlayNode::child_payload_bps() const {
  // One child: one stripe's rate (the assumed stream's until measured).
  const std::uint32_t k = std::max<std::uint32_t>(1, stream_.stripes);
  return (stream_bps_ > 0 ? stream_bps_ : config_.assumed_stream_bps) / k;
}

bool OverlayNode::dialable() const {
  return config_.role == overlay::Role::kSource || !rpc_.advertised_addr().empty();
}

std::uint32_t OverlayNode::budget_for(const Stripe& s) const {
  if (config_.role != overlay::Role::kSource) return capacity_;
  // The source spreads what its uplink pays for over the stripes, the
  // remainder to the first stripes (rounding up in every stripe committed
  // up to K-1 children more than the uplink pays for).
  std::uint32_t k = std::max<std::uint32_t>(1, stream_.stripes);
  return capacity_ / k + (s.index < capacity_ % k ? 1 : 0);
}

std::uint32_t OverlayNode::pick_home(const overlay::StreamInfo& info) const {
  const auto& key = rpc_.id().public_key();
  std::uint32_t k = std::max<std::uint32_t>(1, info.stripes);
  std::uint32_t first = static_cast<std::uint32_t>((key[0] | (key[1] << 8)) % k);
  return choose_home_stripe(k, first, info.stripe_interior, info.stripe_spare);
}

std::uint32_t OverlayNode::interior_capacity(const Stripe& s) const {
  std::uint32_t total = 0;
  if (config_.role == overlay::Role::kSource) {
    total = budget_for(s);
  } else if (s.interior) {
    total = capacity_;
  }
  for (const auto& [id, c] : s.children) total += c->interior_capacity;
  return total;
}

std::size_t OverlayNode::used_slots(const Stripe& s) const {
  // The source feeds every stripe: its capacity is per stripe. Any other
  // node has one budget of children for all stripes; it spends it in its home
  // stripe first (joins are routed to home-stripe nodes first) and anywhere
  // a stripe runs short.
  // A reservation that displaces a child takes that child's slot: it does
  // not count on its own.
  auto held = [](const Stripe& t) {
    std::size_t n = t.children.size();
    for (const auto& [joiner, victim] : t.dialing) n += victim ? 0 : 1;
    for (const auto& [ticket, r] : t.reservations) n += r.displace ? 0 : 1;
    return n;
  };
  if (config_.role == overlay::Role::kSource) return held(s);
  std::size_t used = 0;
  for (const auto& t : stripes_) used += held(t);
  return used;
}

std::uint32_t OverlayNode::free_slots(const Stripe& s) const {
  std::size_t used = used_slots(s);
  std::uint32_t budget = budget_for(s);
  return used >= budget ? 0 : static_cast<std::uint32_t>(budget - used);
}

std::uint32_t OverlayNode::child_spare(const Child& c, steady_clock::time_point now) const {
  // A heartbeat sent after the forwarded join was answered counts it: two
  // round trips and two heartbeat intervals after the forward.
  auto rtt = std::chrono::microseconds(c.rtt_us > 0 ? c.rtt_us : 1000000);
  auto counted_after =
      std::chrono::duration_cast<steady_clock::duration>(rtt * 2) + config_.heartbeat_interval * 2;
  std::size_t recent = 0;
  for (auto t : c.forwarded) recent += now - t < counted_after ? 1 : 0;
  return c.spare > recent ? c.spare - static_cast<std::uint32_t>(recent) : 0;
}

std::uint32_t OverlayNode::subtree_spare(const Stripe& s, std::uint32_t own) const {
  auto now = peers::Clock::now();
  std::uint64_t sum = own;
  for (const auto& [id, c] : s.children) sum += child_spare(*c, now);
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(sum, kMaxClaimedSpare));
}

std::uint32_t OverlayNode::room_depth(const Stripe& s) const {
  // 1: a slot here (where this node adopts: its home stripe, or the source);
  // else one more than the shallowest room a fresh child reported.
  if ((s.interior || config_.role == overlay::Role::kSource) && free_slots(s) > 0) return 1;
  std::uint32_t best = 0;
  auto stale = peers::Clock::now() - config_.heartbeat_interval * 3;
  for (const auto& [id, c] : s.children) {
    if (c->room_depth == 0 || c->last_heartbeat < stale) continue;
    if (best == 0 || c->room_depth + 1 < best) best = c->room_depth + 1;
  }
  return std::min<std::uint32_t>(best, 64);
}

std::vector<std::uint32_t> OverlayNode::stripe_spare() const {
  std::vector<std::uint32_t> out;
  for (const auto& s : stripes_) {
    std::uint32_t own = s.interior || config_.role == overlay::Role::kSource ? free_slots(s) : 0;
    out.push_back(subtree_spare(s, own));
  }
  return out;
}

std::vector<std::uint32_t> OverlayNode::stripe_interior() const {
  std::vector<std::uint32_t> out;
  for (const auto& s : stripes_) out.push_back(interior_capacity(s));
  return out;
}

std::vector<std::uint32_t> OverlayNode::interior_totals() const {
  // The source roots every stripe's tree: its subtree sums are the totals,
  // with the moves it granted lately that have not come up yet. Anyone
  // else has only its own subtrees; it passes on what came down.
  if (config_.role == overlay::Role::kSource) {
    auto totals = stripe_interior();
    auto now = peers::Clock::now();
    auto raw = totals;
    for (const auto& [id, m] : granted_moves_) {
      if (m.until <= now || m.from >= totals.size() || m.to >= totals.size()) continue;
      // Counted once: only what the heartbeats have not brought up yet.
      std::uint32_t arrived = raw[m.to] > m.base_to ? raw[m.to] - m.base_to : 0;
      std::uint32_t pending = m.slots > arrived ? m.slots - arrived : 0;
      totals[m.from] -= std::min(totals[m.from], pending);
      totals[m.to] += pending;
    }
    return totals;
  }
  return known_interior_.size() == stripes_.size() ? known_interior_ : std::vector<std::uint32_t>{};
}

void OverlayNode::consider_home_move(steady_clock::time_point now) {
  if (config_.role == overlay::Role::kSource || config_.capacity == 0 || leaving_ ||
      stripes_.size() < 2 || stream_.stripes == 0) {
    return;
  }
  for (const auto& s : stripes_) {
    if (!s.parent || s.repairing) return;  // settled in every stripe first
  }
  std::uint32_t from = home_stripe();
  auto to = choose_home_move(from, capacity_, known_interior_);
  // The totals take a few heartbeats to go up to the source and down again:
  // a move waits config_.home_move_spread at most, and is made only if it
  // is still right then.
  if (!to || now - home_since_ < config_.home_dwell) {
    home_move_at_.reset();
    return;
  }
  if (!home_move_at_) {
    const auto& key = rpc_.id().public_key();
    // From the key and the moves so far, not a clock or a random device
    // (simulated runs repeat), and new each time: two nodes whose delays
    // fell too close to see each other's move (both moved, tipping the
    // balance) must not fall together again when they move back.
    std::uint64_t x = home_moves_ * 0x9e3779b97f4a7c15ull;
    for (std::size_t i = 0; i < 8; ++i) x = (x ^ key[i]) * 0x100000001b3ull;
    x ^= x >> 29;
    auto spread =
        static_cast<std::uint64_t>(std::max<std::int64_t>(1, config_.home_move_spread.count()));
    home_move_at_ = now + std::chrono::milliseconds(static_cast<std::int64_t>(x % spread));
    return;
  }
  if (now < *home_move_at_ || home_asking_) return;
  home_move_at_.reset();
  home_asking_ = true;
  auto self = shared_from_this();
  asio::co_spawn(
      rpc_.executor(),
      [self, from, to = *to]() -> Task<void> {
        try {
          auto op = self->ask_home_move(from, to);
          co_await std::move(op);
        } catch (const std::exception& e) {
          self->log_at(peers::LogLevel::kDebug, "home move not asked", {{"error", e.what()}});
        }
        self->home_asking_ = false;
      },
      asio::detached);
}

Task<void> OverlayNode::ask_home_move(std::uint32_t from, std::uint32_t to) {
  // The source is the root of every path (and only the stream's source,
  // not whatever a parent put first on a path, grants).
  const overlay::PeerInfo* root = nullptr;
  for (const auto& s : stripes_) {
    if (!s.path.empty() && s.path.front().id == stream_.source_id) root = &s.path.front();
  }
  if (!root) co_return;
  auto root_id = peers::PeerId::parse(root->id);
  if (!root_id) co_return;
  auto cop = rpc_.get_or_connect(*root_id, root->addr);
  auto conn = co_await std::move(cop);
  overlay::HomeMove req;
  req.from = from;
  req.to = to;
  req.slots = capacity_;
  auto op = overlay::OverlayClient(conn).move_home(req, CallOptions{5s});
  overlay::HomeMoveReply reply = co_await std::move(op);
  if (reply.stripe_interior.size() == stripes_.size()) known_interior_ = reply.stripe_interior;
  if (!reply.granted || leaving_ || home_stripe() != from) co_return;
  move_home_to(from, to, peers::Clock::now());
}

Task<Answer<overlay::HomeMoveReply>> OverlayNode::move_home(CallContext& ctx,
                                                            overlay::HomeMove req) {
  if (config_.role != overlay::Role::kSource) {
    throw overlay::NotInTree("only the source grants home moves", req.from);
  }
  auto now = peers::Clock::now();
  std::erase_if(granted_moves_, [&](const auto& g) { return g.second.until <= now; });
  overlay::HomeMoveReply reply;
  auto totals = interior_totals();
  // A bounded ledger: a flood of fresh identities asking cannot grow it. A
  // grant is what choose_home_move wants, so a false one (slots nobody
  // has) can at most even out two stripes' totals for a few seconds, never
  // turn them over; the slots themselves are self-reported, as
  // Heartbeat.interior_capacity is (docs/security.md).
  constexpr std::size_t kMaxGranted = 16;
  bool known = req.from < totals.size() && req.to < totals.size() && req.from != req.to;
  if (known && granted_moves_.size() < kMaxGranted && !granted_moves_.count(ctx.peer()) &&
      choose_home_move(req.from, req.slots, totals) == req.to) {
    // Until the mover's heartbeats have brought the move up the trees.
    auto hold = std::max<steady_clock::duration>(5s, config_.heartbeat_interval * 20);
    granted_moves_[ctx.peer()] = {req.from, req.to, req.slots, now + hold,
                                  stripe_interior()[req.to]};
    reply.granted = true;
    totals = interior_totals();
  }
  reply.stripe_interior = std::move(totals);
  co_return reply;
}

namespace {
// A fill's bounds: chunks per request (a few seconds of a stripe), callers
// served at once, and how long a fill may take before the asker tries the
// next holder (its chunks are worth something only before playout skips
// them).
constexpr std::uint64_t kMaxFillChunks = 64;
constexpr std::size_t kMaxFills = 8;
constexpr auto kFillTimeout = 3s;

// Fails a channel with kTimeout and `why` after `after` unless finish() is
// called first: a fill that stalls on either side ends, and one that ends
// in time leaves no timer waiting behind it.
class ChannelWatch {
 public:
  static std::shared_ptr<ChannelWatch> start(const peers::rpc::Executor& ex,
                                             std::shared_ptr<peers::rpc::DataChannel> channel,
                                             steady_clock::duration after, std::string why) {
    auto w = std::make_shared<ChannelWatch>(ex, std::move(channel), after, std::move(why));
    asio::co_spawn(
        ex,
        [w]() -> Task<void> {
          if (w->done_) co_return;
          boost::system::error_code ec;
          auto wait = w->timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          co_await std::move(wait);
          if (!w->done_) w->channel_->fail(Error(Errc::kTimeout, w->why_));
        },
        asio::detached);
    return w;
  }
  ChannelWatch(const peers::rpc::Executor& ex, std::shared_ptr<peers::rpc::DataChannel> channel,
               steady_clock::duration after, std::string why)
      : timer_(ex, after), channel_(std::move(channel)), why_(std::move(why)) {}
  void finish() {
    done_ = true;
    timer_.cancel();
  }

 private:
  bool done_ = false;
  peers::Timer timer_;
  std::shared_ptr<peers::rpc::DataChannel> channel_;
  std::string why_;
};
}  // namespace

Task<overlay::FillReply> OverlayNode::fill(CallContext& ctx, overlay::FillRequest req) {
  if (req.stripe >= stripes_.size() || !stripes_[req.stripe].history) {
    throw overlay::NotInTree("no such stripe here", req.stripe);
  }
  const ChunkSeq k = std::max<ChunkSeq>(1, stream_.stripes);
  if (req.to_seq <= req.from_seq) {
    throw Error(Errc::kInvalidArgument, "fill: empty range " + std::to_string(req.from_seq) + ".." +
                                            std::to_string(req.to_seq));
  }
  // to > from here, so this cannot wrap (a huge range must not pass as a
  // small one).
  if ((req.to_seq - req.from_seq - 1) / k >= kMaxFillChunks) {
    throw Error(Errc::kInvalidArgument,
                "fill: at most " + std::to_string(kMaxFillChunks) + " chunks at a time");
  }
  auto channel = ctx.channel();
  if (!channel) throw Error(Errc::kInternal, "fill without a data channel");
  // A fill is bounded upload for the asker's sake: one at a time each, a
  // few in all, so a crowd of askers cannot turn this node's uplink away
  // from its children.
  auto key = std::pair(ctx.peer(), req.stripe);
  if (filling_.count(key) || filling_.size() >= kMaxFills) {
    throw overlay::Full("busy: fills under way here", req.stripe, 1000);
  }
  std::vector<SharedBytes> chunks;
  for (auto& e : stripes_[req.stripe].history->since(req.from_seq)) {
    if (e.seq >= req.to_seq) break;
    if (e.seq % k == req.stripe) chunks.push_back(e.bytes);
  }
  overlay::FillReply reply;
  reply.stripe = req.stripe;
  reply.chunks = static_cast<std::uint32_t>(chunks.size());
  ++stats_.fills_served;
  log_at(peers::LogLevel::kDebug, "fill",
         {{"stripe", std::to_string(req.stripe)},
          {"for", ctx.peer().short_id()},
          {"from_seq", std::to_string(req.from_seq)},
          {"to_seq", std::to_string(req.to_seq)},
          {"chunks", std::to_string(chunks.size())}});
  filling_.insert(key);
  auto self = shared_from_this();
  // An asker that stops reading (it gave up, or never meant to read) holds
  // this node's fill slot and upload no longer than an asker waits.
  auto watch = ChannelWatch::start(rpc_.executor(), channel, kFillTimeout * 2,
                                   "fill: the asker did not read in time");
  asio::co_spawn(
      rpc_.executor(),
      [self, channel, chunks = std::move(chunks), key, watch]() -> Task<void> {
        try {
          for (const auto& c : chunks) {
            auto op = channel->write(*c);
            co_await std::move(op);
            ++self->stats_.chunks_out;
            self->stats_.bytes_out += c->size();
          }
          channel->close();
        } catch (const std::exception&) {
          // The asker left or gave up: nothing to tell.
        }
        watch->finish();
        self->filling_.erase(key);
      },
      asio::detached);
  co_return reply;
}

Task<void> OverlayNode::fill_gap(std::uint32_t stripe, ChunkSeq from, ChunkSeq to,
                                 std::vector<overlay::PeerInfo> holders) {
  const ChunkSeq k = std::max<ChunkSeq>(1, stream_.stripes);
  // Seqs of this stripe only (the new parent's first seq comes from a peer).
  if (from % k != stripe % k || to % k != stripe % k || to <= from) co_return;
  // Only the newest kMaxFillChunks: older ones would be skipped by playout
  // before they came.
  if ((to - from) / k > kMaxFillChunks) from = to - kMaxFillChunks * k;
  // A fill is worth something only before playout skips the gap: one
  // deadline for all holders, and a few holders at most (the path in a
  // join reply comes from a peer).
  if (on_fill) on_fill(stripe, from, to, true);
  const auto deadline = peers::Clock::now() + kFillTimeout * 2;
  constexpr std::size_t kMaxHolders = 6;
  if (holders.size() > kMaxHolders) {
    overlay::PeerInfo old_parent = holders.back();
    holders.resize(kMaxHolders - 1);
    holders.push_back(old_parent);
  }
  auto missing = [&]() -> std::optional<ChunkSeq> {
    const Stripe& s = stripes_[stripe];
    for (ChunkSeq q = from; q < to; q += k) {
      if (s.seen.count(q)) continue;
      if (!s.seen.empty() && q + kSeenWindow * k < *s.seen.rbegin()) continue;
      return q;
    }
    return std::nullopt;
  };
  std::uint64_t got = 0;
  std::set<std::string> asked;
  for (const auto& h : holders) {
    auto first = missing();
    if (!first || leaving_ || peers::Clock::now() >= deadline) break;
    auto id = peers::PeerId::parse(h.id);
    if (!id || *id == rpc_.id() || banned_.count(*id) || !asked.insert(h.id).second) continue;
    std::shared_ptr<ChannelWatch> watch;
    try {
      auto conn = rpc_.find(*id);
      if (!conn) {
        if (h.addr.empty()) continue;  // cannot be dialed, and no connection
        auto cop = rpc_.connect(h.addr, *id);
        conn = co_await std::move(cop);
      }
      overlay::FillRequest req;
      req.stripe = stripe;
      req.from_seq = *first;
      req.to_seq = to;
      auto op = overlay::OverlayClient(conn).fill(req, CallOptions{kFillTimeout});
      auto [reply, channel] = co_await std::move(op);
      // A holder that stalls is given up after the timeout (its channel is
      // failed), and the next one is asked.
      std::shared_ptr<peers::rpc::DataChannel> ch = channel;
      watch = ChannelWatch::start(rpc_.executor(), ch, kFillTimeout, "fill took too long");
      for (std::uint32_t n = 0;; ++n) {
        // All it announced came (a holder cannot keep this node verifying
        // chunks for the whole timeout).
        if (n >= reply.chunks || n >= kMaxFillChunks) break;
        auto rop = ch->read();
        std::optional<std::string> data = co_await std::move(rop);
        if (!data) break;
        auto chunk = verify_received(*data);
        if (!chunk || chunk->stripe != stripe || chunk->seq < from || chunk->seq >= to) {
          ++stats_.rejected;
          log_at(peers::LogLevel::kWarn, "rejected a filled chunk",
                 {{"stripe", std::to_string(stripe)},
                  {"from", id->short_id()},
                  {"reason", chunk ? "outside the range asked" : chunk.error().message()}});
          if (!chunk) ban_forger(stripe, conn);
          ch->fail(Error(Errc::kCancelled, "fill: a chunk outside the range asked"));
          break;
        }
        Stripe& s = stripes_[stripe];
        if (s.seen.count(chunk->seq)) {
          ++stats_.duplicates;
          continue;
        }
        ++got;
        ++stats_.filled;
        accept_chunk(s, std::make_shared<const std::string>(std::move(*data)), *chunk, false);
      }
    } catch (const std::exception& e) {
      log_at(peers::LogLevel::kDebug, "fill failed",
             {{"stripe", std::to_string(stripe)}, {"from", id->short_id()}, {"error", e.what()}});
    }
    if (watch) watch->finish();
  }
  if (on_fill) on_fill(stripe, from, to, false);
  auto left = missing();
  if (left) {
    log_at(peers::LogLevel::kWarn, "could not fill a gap",
           {{"stripe", std::to_string(stripe)},
            {"from_seq", std::to_string(*left)},
            {"to_seq", std::to_string(to)},
            {"filled", std::to_string(got)}});
  } else {
    log_at(peers::LogLevel::kInfo, "filled a gap",
           {{"stripe", std::to_string(stripe)},
            {"from_seq", std::to_string(from)},
            {"to_seq", std::to_string(to)},
            {"chunks", std::to_string(got)}});
  }
}

void OverlayNode::move_home_to(std::uint32_t from, std::uint32_t to, steady_clock::time_point now) {
  std::string totals;
  for (auto t : known_interior_) totals += (totals.empty() ? "" : ",") + std::to_string(t);
  stripes_[from].interior = false;
  stripes_[to].interior = true;
  home_ = to;
  home_since_ = now;
  ++home_moves_;
  log_at(peers::LogLevel::kInfo, "home stripe moved",
         {{"from", std::to_string(from)},
          {"to", std::to_string(to)},
          {"slots", std::to_string(capacity_)},
          {"interior", totals}});
  note("home_moved", {{"from", std::to_string(from)},
                      {"to", std::to_string(to)},
                      {"slots", std::to_string(capacity_)},
                      {"interior", totals}});
}

bool OverlayNode::penalized(const std::string& id_text, steady_clock::time_point now) const {
  auto it = penalized_.find(id_text);
  return it != penalized_.end() && it->second > now;
}

// ------------------------------------------------------------------ serving

JoinState OverlayNode::join_state(std::uint32_t stripe) const {
  JoinState st;
  st.stripes = static_cast<std::uint32_t>(stripes_.size());
  st.is_source = config_.role == overlay::Role::kSource;
  st.leaving = leaving_;
  st.self_id = rpc_.id().to_string();
  st.capacity = 0;
  // Newcomers are placed where they ask (usually the source, which walks
  // them down to the shallowest room); forwarding from the root first cost
  // an extra hop and broke no chain the room-depth routing does not.
  st.place_from_root = false;
  st.slack_for_newcomers = false;
  // Not the source: its headroom keeps the top of every stripe's tree
  // short of queues.
  st.room_to_grow = !st.is_source && uplink_.room_to_grow(peers::Clock::now());
  // A node whose uplink is full lends no slack: it would shed the orphan
  // again at the next tick. Nor one whose uplink would not carry one child
  // more at all.
  if (uplink_.congested()) st.slack = 0;
  std::size_t held_everywhere = 0;
  for (const auto& t : stripes_) held_everywhere += used_slots(t);
  if (!uplink_.carries(peers::Clock::now(),
                       static_cast<double>(held_everywhere + 1) * child_payload_bps())) {
    st.slack = 0;
  }
  // The source's budget is per stripe, but its slack is not: lent in every
  // stripe it was K children over an uplink whose headroom is what keeps
  // every stripe's queue short (the lab: 16 children on a budget of 12,
  // 91 % of the uplink, every viewer 8-9 s behind live and losing chunks).
  if (st.is_source && held_everywhere >= capacity_ + st.slack) {
    st.slack = 0;  // capacity_: all stripes' budgets
  }
  st.choke_for_orphans = false;
  st.dialable = dialable();
  if (stripe >= stripes_.size()) return st;
  const Stripe& s = stripes_[stripe];
  // A joiner punches through to this node with its parent's help (over
  // TCP: a simulated network does not model it).
  st.punchable = !st.dialable && s.parent && !s.parent->addr.empty() && !rpc_.options().network;
  st.capacity = budget_for(s);
  st.attached = st.is_source || s.parent.has_value();
  st.interior = s.interior;
  for (const auto& p : s.path) st.path.push_back(p.id);
  st.root_id_valid = !s.path.empty() && peers::PeerId::parse(s.path.front().id).ok();
  auto stale = peers::Clock::now() - config_.heartbeat_interval * 3;
  auto now = peers::Clock::now();
  std::set<peers::PeerId> leaving;
  for (const auto& [ticket, r] : s.reservations) {
    if (r.displace && r.expires >= now) leaving.insert(r.displace->child);
  }
  for (const auto& [joiner, victim] : s.dialing) {
    if (victim) leaving.insert(*victim);
  }
  for (const auto& [id, child] : s.children) {
    if (leaving.count(id)) continue;  // a joiner on the way takes its slot
    st.children.push_back({.id = child->info.id,
                           .capacity = child->info.capacity,
                           .interior = child->interior,
                           .spare = child_spare(*child, now),
                           .rtt_us = child->rtt_us,
                           .fresh = child->last_heartbeat >= stale,
                           .room_depth = child->room_depth,
                           .dialable = !child->info.addr.empty()});
  }
  // Expired reservations of this stripe do not count (join() erases them).
  std::size_t expired = 0;
  for (const auto& [ticket, r] : s.reservations) expired += r.expires < now && !r.displace ? 1 : 0;
  st.used_slots = used_slots(s) - expired;
  return st;
}

Task<Answer<overlay::JoinReply>> OverlayNode::join(CallContext& ctx, overlay::JoinRequest req) {
  // Trust only what the session proved: a node joins for itself. The joiner
  // is the authenticated caller, or for a forwarded join the original caller
  // the first hop authenticated (the reply goes to that id alone). A peer
  // that names another would take that node's place in the tree.
  auto origin = ctx.origin();
  auto joiner = peers::PeerId::parse(req.joiner.id);
  if (!origin || !joiner || !(*joiner == *origin)) {
    throw Error(Errc::kPermissionDenied, "a node joins only for itself: the joiner " +
                                             short_of(req.joiner.id) + " is not the caller " +
                                             (origin ? origin->short_id() : std::string("?")));
  }
  // A move up (here_only, naming the parent it would swap with) is asked by
  // the child itself, never forwarded.
  if (req.here_only && ctx.forwarded()) {
    throw Error(Errc::kPermissionDenied, "a move up is asked directly, not forwarded");
  }
  req.joiner.id = joiner->to_string();
  // Asked directly, its address must be where its session comes from (a
  // forwarded join's was checked by the first hop, and the feed checks it
  // again): a node cannot have others dial a third party for it.
  if (!ctx.forwarded()) {
    req.joiner.addr =
        peers::rpc::checked_peer_address(req.joiner.addr, ctx.connection()->remote_address());
  }
  if (auto until = refused_.find(*joiner); until != refused_.end()) {
    if (until->second > peers::Clock::now()) {
      throw overlay::Full("refused here for a while: it held a slot and read nothing", req.stripe);
    }
    refused_.erase(until);
  }
  // A place held for it: a child displaced by this node's own join.
  if (req.stripe < stripes_.size() && !req.here_only) {
    Stripe& hs = stripes_[req.stripe];
    for (auto& [ticket, r] : hs.reservations) {
      if (!r.held || r.joiner.id != req.joiner.id || r.expires < peers::Clock::now()) continue;
      r.held = false;
      r.joiner = req.joiner;
      r.home_stripe = req.home_stripe;
      r.expires = peers::Clock::now() + 5s;
      overlay::JoinReply reply = join_reply(hs, ticket);
      ++stats_.joins_served;
      log_at(peers::LogLevel::kDebug, "adopting the child a join of ours displaced",
             {{"stripe", std::to_string(req.stripe)}, {"child", joiner->short_id()}});
      co_return reply;
    }
  }
  // The decision compares peer ids as text: the one the joiner names as its
  // parent is normalized first (one that does not parse matches no child).
  overlay::JoinRequest asked = req;
  auto current = peers::PeerId::parse(req.current_parent);
  asked.current_parent = current ? current->to_string() : "";
  JoinState state = join_state(req.stripe);
  if (state.punchable && req.joiner.addr.empty())
    state.punchable = punchable_from(*joiner, req.stripe);
  JoinDecision d = decide_join(asked, state);
  log_at(peers::LogLevel::kDebug, "join",
         {{"stripe", std::to_string(req.stripe)},
          {"joiner", joiner->short_id()},
          {"hops", std::to_string(req.hops)},
          {"action", std::string(to_string(d.action))},
          {"refusal", std::string(to_string(d.refusal))},
          {"peer", short_of(d.peer)}});

  // A request that gets past the first checks frees the slots of the
  // stripe's expired reservations (join_state() did not count them).
  bool checked = d.refusal != JoinRefusal::kNoSuchStripe && d.refusal != JoinRefusal::kNotInTree &&
                 d.refusal != JoinRefusal::kTooManyHops && d.refusal != JoinRefusal::kSelfJoin;
  if (checked) {
    auto& reservations = stripes_[req.stripe].reservations;
    for (auto it = reservations.begin(); it != reservations.end();) {
      it = it->second.expires < peers::Clock::now() ? reservations.erase(it) : std::next(it);
    }
  }
  switch (d.refusal) {
    case JoinRefusal::kNone:
      break;
    case JoinRefusal::kNoSuchStripe:
      throw overlay::NotInTree("no such stripe", req.stripe);
    case JoinRefusal::kNotInTree:
      throw overlay::NotInTree("not in the tree of this stripe", req.stripe);
    case JoinRefusal::kTooManyHops:
      throw overlay::Full("join passed too many nodes", req.stripe);
    case JoinRefusal::kSelfJoin:
      throw Error(Errc::kInvalidArgument, "a node cannot join itself");
    case JoinRefusal::kNoRoomHere:
      throw overlay::Full("no room here", req.stripe);
    case JoinRefusal::kNoRoomInSubtree: {
      const Stripe& full = stripes_[req.stripe];
      auto retry = soonest_free(full, peers::Clock::now());
      std::string slots = std::to_string(used_slots(full)) + " of " +
                          std::to_string(budget_for(full)) + " slots here in use";
      if (retry) {
        throw overlay::Full("busy: every node below " + rpc_.id().short_id() + " in stripe " +
                                std::to_string(req.stripe) + " is full for now (" + slots +
                                ", one may be free in " + std::to_string(retry->count()) + " ms)",
                            req.stripe, static_cast<std::uint32_t>(retry->count()));
      }
      throw overlay::Full("no capacity: every node below " + rpc_.id().short_id() + " in stripe " +
                              std::to_string(req.stripe) + " is full (" + slots + ")",
                          req.stripe);
    }
  }
  // Nobody can dial this node: it feeds the joiner over a connection it
  // opens to it (connection reversal; decide_join adopts only joiners that
  // gave an address), which the joiner finds when it asks to be fed.
  bool adopting = d.action == JoinAction::kAdopt || d.action == JoinAction::kAdoptOverBudget ||
                  d.action == JoinAction::kSwap || d.action == JoinAction::kChoke ||
                  d.action == JoinAction::kDemote;
  if (adopting && !dialable() && !req.joiner.addr.empty()) {
    auto joiner = peers::PeerId::parse(req.joiner.id);
    if (!joiner) throw Error(Errc::kInvalidArgument, "bad joiner id");
    // The dial holds the slot (a displacing adoption: the child it will
    // displace, which nobody else may then pick), one dial per joiner.
    Stripe& ds = stripes_[req.stripe];
    std::optional<peers::PeerId> victim;
    if (!(d.action == JoinAction::kAdopt || d.action == JoinAction::kAdoptOverBudget)) {
      auto v = peers::PeerId::parse(d.peer);
      if (!v) throw Error(Errc::kInternal, "bad peer id in a join decision: " + d.peer);
      victim = *v;
    }
    if (ds.dialing.count(*joiner)) {
      throw overlay::Full("busy: this node is dialing the joiner already", req.stripe);
    }
    ds.dialing.emplace(*joiner, victim);
    struct Dialing {
      std::shared_ptr<OverlayNode> self;
      std::uint32_t stripe;
      peers::PeerId joiner;
      ~Dialing() { self->stripes_[stripe].dialing.erase(joiner); }
    } dialing{shared_from_this(), req.stripe, *joiner};
    try {
      auto op = rpc_.get_or_connect(*joiner, req.joiner.addr);
      co_await std::move(op);
    } catch (const Error& e) {
      throw overlay::Full("cannot dial the joiner to feed it: " + e.message(), req.stripe);
    }
    if (victim && !stripes_[req.stripe].children.count(*victim)) {
      throw overlay::Full("busy: the child it would displace left during the dial", req.stripe);
    }
    log_at(peers::LogLevel::kDebug, "feeding by connection reversal",
           {{"stripe", std::to_string(req.stripe)},
            {"child", joiner->short_id()},
            {"child_addr", req.joiner.addr}});
  }
  Stripe& s = stripes_[req.stripe];
  switch (d.action) {
    case JoinAction::kRefuse:
      throw Error(Errc::kInternal, "join refused without a reason");
    case JoinAction::kAdopt:
      co_return adopt(s, req);
    case JoinAction::kAdoptOverBudget:
      ++stats_.slack_adoptions;
      co_return adopt(s, req);
    case JoinAction::kSwap: {
      auto displaced = peers::PeerId::parse(d.peer);
      // The joiner says it is that child's child and uploads more: ask the
      // child. Only a parent that feeds the joiner, settled, and hears from
      // it that it can feed more than the parent itself vouches for a swap.
      auto ask = vouch_for_swap(*displaced, req);
      bool vouched = co_await std::move(ask);
      Stripe& now_s = stripes_[req.stripe];
      auto still = now_s.children.find(*displaced);
      if (!vouched || still == now_s.children.end()) {
        throw overlay::Full("no swap: " + displaced->short_id() +
                                " does not vouch for it as a child that uploads more",
                            req.stripe);
      }
      overlay::Redirect r;
      r.stripe = req.stripe;
      r.via = req.joiner;
      r.reason = "swapped";
      if (auto conn = rpc_.find(*displaced)) overlay::OverlayClient(conn).redirect(r);
      drop_child(s, *displaced, "swapped with a child that uploads more");
      co_return adopt(s, req);
    }
    case JoinAction::kChoke:
    case JoinAction::kDemote: {
      // The child it displaces goes only when the joiner opens its feed: a
      // join costs nothing, so a flood of joins that never feed (fresh
      // identities claiming upload) must not push viewers around.
      const bool choke = d.action == JoinAction::kChoke;
      auto displaced = peers::PeerId::parse(d.peer);
      co_return adopt(s, req, Displace{*displaced, choke ? "choked" : "demoted"});
    }
    case JoinAction::kSendToRoot: {
      auto root = peers::PeerId::parse(d.peer);
      auto op = rpc_.get_or_connect(*root, s.path.front().addr);
      auto conn = co_await std::move(op);
      ++req.hops;
      ++stats_.forwards;
      co_return ctx.forward<overlay::Overlay::Join>(conn, req);
    }
    case JoinAction::kForward:
      break;
  }

  // Forward to a child, or to the root to place it.
  overlay::PeerInfo target;
  if (d.to_child) {
    for (auto& [id, child] : s.children) {
      if (child->info.id != d.peer) continue;
      target = child->info;
      // One of the slots it reported goes to this joiner until its
      // heartbeats can have counted it: joins that arrive meanwhile go to
      // other children rather than all after the one slot last reported (a
      // flash crowd).
      auto now = peers::Clock::now();
      while (!child->forwarded.empty() && now - child->forwarded.front() > 30s) {
        child->forwarded.pop_front();
      }
      child->forwarded.push_back(now);
    }
  } else {
    target = s.path.front();
  }
  auto target_id = peers::PeerId::parse(target.id);
  if (!target_id) throw Error(Errc::kInternal, "bad peer id in tree: " + target.id);
  // Children are already connected; a child we cannot reach is gone.
  auto conn = rpc_.find(*target_id);
  if (!conn) {
    if (d.to_child) {
      drop_child(s, *target_id, "unreachable");
      throw overlay::Full("the chosen child was unreachable; try again", req.stripe);
    }
    auto op = rpc_.get_or_connect(*target_id, target.addr);
    conn = co_await std::move(op);
  }
  ++req.hops;
  ++stats_.forwards;
  co_return ctx.forward<overlay::Overlay::Join>(conn, req);
}

std::optional<std::chrono::milliseconds> OverlayNode::soonest_free(
    const Stripe& s, steady_clock::time_point now) const {
  std::optional<steady_clock::time_point> at;
  auto sooner = [&](steady_clock::time_point t) { at = at ? std::min(*at, t) : t; };
  // Only what is clearly on its way out, so that an overloaded tree still
  // says "no capacity" at once: a reservation whose joiner has not opened
  // its feed in 1.5 s (an honest one does within a round trip or two) lapses;
  // a child that took no chunk for 2 s while chunks wait for it (a ghost) or
  // sent no heartbeat for 2 s will be dropped. A child that is merely slow
  // still takes chunks and keeps its slot.
  for (const auto& [ticket, r] : s.reservations) {
    if (!r.displace && r.expires >= now && now - r.created >= 1500ms) sooner(r.expires);
  }
  for (const auto& [id, c] : s.children) {
    if (!c->queue.empty() && now - c->last_write >= 2s) {
      sooner(c->queue.front().at + config_.child_queue_limit);
    }
    if (now - c->last_heartbeat >= 2s) sooner(c->last_heartbeat + config_.parent_timeout * 3);
  }
  if (!at) return std::nullopt;
  return std::clamp<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(*at - now), 50ms, 10s);
}

Task<bool> OverlayNode::vouch_for_swap(peers::PeerId parent, const overlay::JoinRequest& req) {
  auto conn = rpc_.find(parent);
  const Stripe& s = stripes_[req.stripe];
  auto it = s.children.find(parent);
  if (!conn || it == s.children.end()) co_return false;
  std::uint32_t parent_capacity = it->second->info.capacity;
  overlay::ChildQuery q;
  q.stripe = req.stripe;
  q.child = req.joiner.id;
  try {
    auto op = overlay::OverlayClient(conn).vouch(q, CallOptions{2s});
    overlay::ChildReport r = co_await std::move(op);
    // What the joiner told this node and what it tells its parent in every
    // heartbeat: the smaller counts.
    std::uint32_t claimed = std::min(req.joiner.capacity, r.capacity);
    co_return r.feeding&& r.for_ms >= kSwapSettleMs&& claimed > parent_capacity;
  } catch (const Error& e) {
    log_at(peers::LogLevel::kDebug, "no vouch for a swap",
           {{"parent", parent.short_id()}, {"error", e.what()}});
    co_return false;
  }
}

Task<Answer<overlay::ChildReport>> OverlayNode::vouch(CallContext& ctx, overlay::ChildQuery req) {
  if (req.stripe >= stripes_.size()) throw overlay::NotInTree("no such stripe", req.stripe);
  const Stripe& s = stripes_[req.stripe];
  // Only this node's parent in the stripe asks (before it swaps this node
  // with one of its children): a stranger learns nothing of the children.
  if (!s.parent || s.parent->id != ctx.peer().to_string()) {
    throw Error(Errc::kPermissionDenied,
                "only this node's parent in the stripe asks about its children");
  }
  overlay::ChildReport r;
  if (auto id = peers::PeerId::parse(req.child)) {
    if (auto it = s.children.find(*id); it != s.children.end()) {
      r.feeding = true;
      r.for_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                peers::Clock::now() - it->second->since)
                                                .count());
      r.capacity = it->second->info.capacity;
    }
  }
  co_return r;
}

overlay::JoinReply OverlayNode::join_reply(const Stripe& s, std::uint64_t ticket) const {
  overlay::JoinReply reply;
  reply.stripe = s.index;
  reply.parent = self_info();
  reply.path = s.path;
  reply.stream = stream_;
  reply.ticket = ticket;
  return reply;
}

overlay::JoinReply OverlayNode::adopt(Stripe& s, const overlay::JoinRequest& req,
                                      std::optional<Displace> displace) {
  // One reservation per joiner and stripe: joining again replaces it, so
  // repeated joins do not hoard slots.
  std::erase_if(s.reservations, [&](const auto& r) { return r.second.joiner.id == req.joiner.id; });
  std::uint64_t ticket = next_ticket_++;
  auto now = peers::Clock::now();
  s.reservations[ticket] = {req.joiner,
                            req.home_stripe,
                            now,
                            now + 5s,
                            std::move(displace),
                            false,
                            s.parent ? s.parent->id : ""};
  overlay::JoinReply reply = join_reply(s, ticket);
  reply.displaces = s.reservations[ticket].displace.has_value();
  if (reply.displaces && req.home_stripe == req.stripe && !req.joiner.addr.empty()) {
    // The joiner brings room here: it holds a place for the child it
    // displaces, which is sent there (feed()).
    auto it = s.children.find(s.reservations[ticket].displace->child);
    if (it != s.children.end()) {
      reply.displaced = it->second->info;
      s.reservations[ticket].displace->held_by_joiner = true;
    }
  }
  ++stats_.joins_served;
  log_at(peers::LogLevel::kDebug, "adopting",
         {{"stripe", std::to_string(req.stripe)}, {"child", short_of(req.joiner.id)}});
  return reply;
}

Task<overlay::FeedReply> OverlayNode::feed(CallContext& ctx, overlay::FeedRequest req) {
  if (req.stripe >= stripes_.size()) throw overlay::NotInTree("no such stripe", req.stripe);
  Stripe& s = stripes_[req.stripe];
  auto it = s.reservations.find(req.ticket);
  if (it == s.reservations.end() || it->second.joiner.id != ctx.peer().to_string()) {
    throw overlay::BadTicket("unknown or expired ticket");
  }
  auto child = std::make_shared<Child>();
  child->id = ctx.peer();
  child->info = it->second.joiner;
  // Its address as it claimed it (others may be told to dial it for a
  // repair) counts only when it is where its session comes from.
  child->info.addr =
      peers::rpc::checked_peer_address(child->info.addr, ctx.connection()->remote_address());
  child->interior = it->second.home_stripe == req.stripe && child->info.capacity > 0;
  child->spare = child->info.capacity;
  child->interior_capacity = child->interior ? child->info.capacity : 0;
  child->channel = ctx.channel();
  // Chunks in flight per feed: few, so that video queues in this node's
  // per-child queues (measured, bounded in time, shed when the uplink is
  // full) rather than in buffers on the way, where it would wait in front
  // of heartbeats and make this stripe lag the others at every hop (the lab
  // showed it: 64 KiB per feed, a second of a 0.5 Mbit/s stripe, skipped
  // twice the chunks that 32 KiB did). But the credit that lets the next
  // chunk go comes back over the child's uplink, so the loop's round trip
  // holds both uplinks' queues (up to 300 ms each in the lab): at one or
  // two chunks per loop a busy relay's feed fell below its stripe's rate
  // and it was dropped as too slow by parent after parent, the source too.
  // So: a second of the stripe, or its rate over two round trips if more,
  // never under two whole chunks, at most 256 KiB.
  if (child->channel) {
    std::uint32_t k = std::max<std::uint32_t>(1, stream_.stripes);
    double stripe_Bps = (stream_bps_ > 0 ? stream_bps_ : config_.assumed_stream_bps) / k / 8;
    double rtt_ms = ctx.connection() ? ctx.connection()->stats().rtt_ms : -1;
    double window_s = std::max(1.0, 2 * rtt_ms / 1000);
    auto limit = static_cast<std::size_t>(stripe_Bps * window_s);
    std::size_t floor = kFeedChunksInFlight * (stream_.chunk_bytes + kChunkOverhead + 64);
    child->channel->set_send_limit(
        std::clamp<std::size_t>(limit, floor, std::max<std::size_t>(floor, 256 * 1024)));
  }
  std::optional<Displace> displace = it->second.displace;
  s.reservations.erase(it);
  if (displace && s.children.count(displace->child)) {
    // The joiner took the slot of a child that uploads nothing (choked) or
    // only adopts in another stripe (demoted): that child re-joins through
    // this node and lands below someone with room.
    overlay::Redirect r;
    r.stripe = req.stripe;
    r.via = self_info();
    // A joiner whose home this is holds a place for the child it displaced
    // (JoinReply.displaced): the child goes there, not back into a search
    // for room that a supply short of demand may not have (the lab's dsl: a
    // choked viewer 9 s without a stripe).
    if (displace->held_by_joiner && !child->info.addr.empty()) r.via = child->info;
    r.reason = displace->reason;
    if (auto conn = rpc_.find(displace->child)) overlay::OverlayClient(conn).redirect(r);
    ++stats_.choked;
    drop_child(s, displace->child,
               displace->reason == "choked" ? "choked for a child that uploads"
                                            : "demoted for a child that adopts in this stripe");
  }
  if (auto old = s.children.find(child->id); old != s.children.end()) {
    drop_child(s, child->id, "replaced by a new feed");
  }

  // What to send first: a resuming child continues after its last chunk; a
  // new one starts at the newest random-access chunk we still hold, so its
  // player can start cleanly, or with the oldest when the stream just began.
  overlay::FeedReply reply;
  reply.stripe = req.stripe;
  auto held = s.history->since(0);
  std::size_t start = held.size();
  if (req.resume) {
    for (std::size_t i = 0; i < held.size(); ++i) {
      if (held[i].seq >= req.from_seq) {
        start = i;
        break;
      }
    }
  } else if (!held.empty()) {
    // A stream that began moments ago (its first chunks still held, within
    // 3 s of the newest) is given whole: a viewer there from the start
    // plays it from byte 0 without waiting for a keyframe.
    auto oldest = parse_chunk_header(*held.front().bytes);
    auto newest = parse_chunk_header(*held.back().bytes);
    bool just_began = oldest && newest && held.front().seq < stream_.stripes &&
                      newest->timestamp - oldest->timestamp <= 3s;
    if (req.from_oldest || just_began) {
      start = 0;
    } else {
      // The live edge: the newest chunk held, or a random-access chunk a
      // few chunks before it so the viewer can start decoding at once.
      start = held.size() - 1;
      constexpr std::size_t kLookBack = 8;
      for (std::size_t i = held.size(); i-- > 0 && held.size() - i <= kLookBack;) {
        auto h = parse_chunk_header(*held[i].bytes);
        if (h && h->random_access) {
          start = i;
          break;
        }
      }
    }
  }
  if (start < held.size()) {
    reply.first_seq = held[start].seq;
  } else {
    reply.first_seq = s.last_seq ? *s.last_seq + stream_.stripes : req.stripe;
    if (config_.role == overlay::Role::kSource) {
      auto newest = s.history->newest_seq();
      reply.first_seq = newest ? *newest + stream_.stripes : req.stripe;
    }
  }
  auto queued_at = peers::Clock::now();
  for (std::size_t i = start; i < held.size(); ++i) {
    child->queue.push_back({held[i].bytes, queued_at});
  }
  child->last_heartbeat = peers::Clock::now();
  child->since = child->last_heartbeat;
  child->last_write = child->last_heartbeat;
  s.children[child->id] = child;
  start_maintenance();
  log_at(peers::LogLevel::kInfo, "child attached",
         {{"stripe", std::to_string(req.stripe)},
          {"child", child->id.short_id()},
          {"first_seq", std::to_string(reply.first_seq)}});
  note("adopted", {{"stripe", std::to_string(req.stripe)},
                   {"child", child->id.to_string()},
                   {"child_addr", child->info.addr},
                   {"first_seq", std::to_string(reply.first_seq)}});
  start_writer(req.stripe, child);
  co_return reply;
}

Task<Answer<overlay::HeartbeatReply>> OverlayNode::heartbeat(CallContext& ctx,
                                                             overlay::Heartbeat req) {
  if (req.stripe >= stripes_.size()) throw overlay::NotInTree("no such stripe", req.stripe);
  Stripe& s = stripes_[req.stripe];
  auto it = s.children.find(ctx.peer());
  if (it == s.children.end()) throw overlay::NotInTree("not my child in this stripe", req.stripe);
  // Its claim is unchecked: bounded, so that sums of claims cannot wrap.
  it->second->spare = std::min<std::uint32_t>(req.spare, kMaxClaimedSpare);
  it->second->info.capacity = req.capacity;  // measured by the child, now
  it->second->rtt_us = req.rtt_us;
  it->second->room_depth = req.room_depth;
  it->second->interior_capacity = req.interior_capacity;
  // Its home may have moved here or away since it joined.
  it->second->interior = req.home && req.capacity > 0;
  it->second->last_heartbeat = peers::Clock::now();
  if (req.undialable && !it->second->info.addr.empty()) {
    // It learned (a dial-back, usually while it joined) that the address it
    // joined with cannot be dialed: nobody is sent there any more.
    log_at(peers::LogLevel::kInfo, "child cannot be dialed",
           {{"stripe", std::to_string(req.stripe)},
            {"child", ctx.peer().short_id()},
            {"addr", it->second->info.addr}});
    it->second->info.addr.clear();
  }
  overlay::HeartbeatReply reply;
  reply.path = s.path;
  reply.path.push_back(self_info());
  // The path is most of a heartbeat's bytes and rarely changes.
  if (req.path_digest != 0 && req.path_digest == path_digest(reply.path)) reply.path.clear();
  reply.spare = subtree_spare(s, free_slots(s));
  reply.stream_clock_us = clock_.to_wire(peers::Clock::now());
  reply.end_after = end_seq_ ? *end_seq_ + 1 : 0;
  reply.stripe_interior = interior_totals();
  reply.lag_ms = static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(judge(s, peers::Clock::now()).lag.count(), 0, 3600000));
  co_return reply;
}

Task<void> OverlayNode::redirect(CallContext& ctx, overlay::Redirect req) {
  if (req.stripe >= stripes_.size()) co_return;
  Stripe& s = stripes_[req.stripe];
  if (!s.parent || s.parent->id != ctx.peer().to_string()) co_return;
  log_at(peers::LogLevel::kInfo, "parent redirects",
         {{"stripe", std::to_string(req.stripe)},
          {"reason", req.reason},
          {"via", short_of(req.via.id)}});
  note("redirected", {{"stripe", std::to_string(req.stripe)},
                      {"parent", ctx.peer().to_string()},
                      {"reason", req.reason},
                      {"via", req.via.id},
                      {"via_addr", req.via.addr}});
  std::uint64_t gen = s.generation;
  parent_lost(req.stripe, gen, "redirected: " + req.reason, req.via.addr);
  co_return;
}

Task<Answer<overlay::StreamInfo>> OverlayNode::stream(CallContext& ctx) {
  if (stream_.stripes == 0) throw overlay::NotInTree("not part of a stream yet", 0);
  overlay::StreamInfo info = stream_;
  info.stripe_spare = stripe_spare();
  info.stripe_interior = interior_totals();
  co_return info;
}

void OverlayNode::start_maintenance() {
  if (maintaining_) return;
  maintaining_ = true;
  auto self = shared_from_this();
  asio::co_spawn(
      rpc_.executor(),
      [self]() -> Task<void> {
        for (;;) {
          auto sl = sleep_for(self->config_.heartbeat_interval);
          co_await std::move(sl);
          if (self->leaving_) co_return;
          self->maintain(peers::Clock::now());
        }
      },
      asio::detached);
}

void OverlayNode::maintain(steady_clock::time_point now) {
  // Refusals that ran out go (a ghost that never asks again is not kept),
  // and so do bans on punching that ran out.
  std::erase_if(refused_, [&](const auto& r) { return r.second <= now; });
  std::erase_if(unpunchable_, [&](const auto& u) { return u.second <= now; });
  // A child that stops sending heartbeats (crashed or frozen) gives its
  // slot back; a child on a long or congested path gets longer.
  for (auto& s : stripes_) {
    std::vector<peers::PeerId> silent;
    for (auto& [id, c] : s.children) {
      auto silence = std::max<steady_clock::duration>(
          config_.parent_timeout * 3, std::chrono::microseconds(c->rtt_us) * 8 + 2s);
      if (now - c->last_heartbeat > silence) silent.push_back(id);
    }
    for (auto& id : silent) drop_child(s, id, "no heartbeats");
  }
  measure(now);
  shed_children();
  watch_parents(now);
  consider_home_move(now);
  // The stream has ended: a stripe still short of its last chunks 10 s
  // later will not get them (its parents have gone too); end with what
  // arrived instead of repairing for --repair-timeout.
  if (end_seen_at_ && !ended_ && now - *end_seen_at_ > 10s) {
    std::string missing;
    for (auto& s : stripes_) {
      if (!s.ended && !stripe_complete(s))
        missing += (missing.empty() ? "" : ",") + std::to_string(s.index);
      s.ended = true;
    }
    log_at(peers::LogLevel::kWarn, "stream ended with stripes incomplete", {{"stripes", missing}});
    ended_ = true;
    if (on_end) on_end();
  }
}

namespace {
// How long a new child's queue is left out of the uplink's congestion signal.
constexpr std::chrono::seconds kChildSettling{2};
}  // namespace

void OverlayNode::measure(steady_clock::time_point now) {
  // The stream's pace, as the source made it: what the budget is counted in.
  if (double bps = rate_.bits_per_s(); bps > 0) {
    stream_bps_ = bps;
    chunks_per_s_ = rate_.chunks_per_s();
  }
  // What the uplink delivered and how long data waits to leave it, from the
  // kernel (TCP_INFO of each child's connection): bytes the children
  // acknowledged, not bytes handed to sockets (a burst into fresh buffers
  // looks like bandwidth that is not there); per connection the round
  // trip's growth over its minimum (the queue at the bottleneck) and the
  // time its socket's backlog takes to drain at its delivery rate.
  // How long chunks wait to leave: the median over children of the age of
  // each child's oldest queued chunk here, plus the wait in its connection
  // (read once per connection: a child in several stripes shares one).
  std::map<const peers::rpc::Connection*, std::chrono::microseconds> kernel_wait;
  double backlog_bytes = 0;
  std::vector<std::chrono::microseconds> ages;
  for (const auto& s : stripes_) {
    for (const auto& [id, c] : s.children) {
      auto age =
          c->queue.empty()
              ? std::chrono::microseconds(0)
              : std::chrono::duration_cast<std::chrono::microseconds>(now - c->queue.front().at);
      if (auto conn = rpc_.find(id)) {
        auto [it, fresh] = kernel_wait.try_emplace(conn.get(), 0);
        if (fresh) {
          peers::rpc::TcpPath path = conn->tcp_path();
          if (path.ok) {
            kernel_counts_ = true;
            auto& seen = acked_[conn.get()];
            if (seen.conn.lock() != conn) seen = {conn, path.bytes_acked};  // new, or reused
            acked_total_ += path.bytes_acked - std::min(path.bytes_acked, seen.bytes);
            seen.bytes = path.bytes_acked;
            bool counted = false;
            it->second = path_wait(path, counted);
            // Without a delivery rate: the backlog of all sockets drains at
            // the estimate.
            if (!counted) backlog_bytes += path.notsent_bytes;
          }
        }
        age += it->second;
      }
      // A child in its first seconds is catching up on history over a
      // connection still in slow start, whose delivery rate the kernel
      // has not measured yet: its wait says nothing about this uplink (the
      // lab: one new child's history halved a relay's 8 Mbit/s estimate
      // and held its budget at 3 children for the rest of the stream).
      // It is judged on its own queue's bound meanwhile.
      if (now - c->since >= kChildSettling) ages.push_back(age);
    }
  }
  std::erase_if(acked_, [](const auto& e) { return e.second.conn.expired(); });
  std::chrono::microseconds median(0);
  if (!ages.empty()) {
    std::nth_element(ages.begin(), ages.begin() + ages.size() / 2, ages.end());
    median = ages[ages.size() / 2];
  }
  median += std::chrono::microseconds(
      static_cast<std::int64_t>(backlog_bytes * 8 / uplink_.estimate_bps() * 1e6));
  const std::uint32_t k = std::max<std::uint32_t>(1, stream_.stripes);
  const double child_bps = child_payload_bps();
  // Probing offers one child at a time, once the rate is measured.
  if (stream_bps_ > 0) uplink_.set_probe_step(child_bps);
  // Without TCP_INFO (not Linux): what the children's channels took.
  const double before_bps = uplink_.estimate_bps();
  const std::uint64_t cuts = uplink_.cuts();
  uplink_.sample(now, kernel_counts_ ? acked_total_ : stats_.bytes_out, median);
  if (uplink_.cuts() != cuts) {
    log_at(peers::LogLevel::kDebug, "uplink estimate cut",
           {{"from_bps", std::to_string(static_cast<std::uint64_t>(before_bps))},
            {"to_bps", std::to_string(static_cast<std::uint64_t>(uplink_.estimate_bps()))},
            {"goodput_bps", std::to_string(static_cast<std::uint64_t>(uplink_.goodput_bps()))},
            {"queue_ms", std::to_string(median.count() / 1000)},
            {"backlog_bytes", std::to_string(static_cast<std::uint64_t>(backlog_bytes))},
            {"children", std::to_string(ages.size())}});
  }
  stats_.queue_delay_ms = static_cast<double>(median.count()) / 1000;
  if (config_.capacity > 0) {
    std::uint32_t cap =
        config_.role == overlay::Role::kSource ? config_.capacity * k : config_.capacity;
    if (config_.cap_follows_stream && config_.upload_ceiling_bps && stream_bps_ > 0) {
      cap = static_cast<std::uint32_t>(
          std::min(4096.0, *config_.upload_ceiling_bps * k / stream_bps_));
    }
    capacity_ = std::min(cap, uplink_.child_budget(child_bps));
  }
}

void OverlayNode::shed_children() {
  // A node that lost uplink (measured) sheds the children it cannot feed,
  // one per tick (the next tick measures again), the least valuable first
  // (choose_shed_victim). Each is redirected to a node that may have room,
  // and re-joins with a resume, so it loses nothing.
  ShedView view;
  const auto now = peers::Clock::now();
  view.is_source = config_.role == overlay::Role::kSource;
  view.congested = uplink_.congested();
  if (!view.congested) return;
  for (const auto& s : stripes_) {
    ShedStripe& out = view.stripes.emplace_back();
    out.interior = s.interior;
    out.budget = budget_for(s);
    for (const auto& [id, c] : s.children) {
      out.children.push_back({id.to_string(), c->info.capacity, child_spare(*c, now)});
    }
  }
  auto choice = choose_shed_victim(view);
  if (!choice) return;
  Stripe& s = stripes_[choice->stripe];
  auto victim = peers::PeerId::parse(choice->child);
  if (!victim) return;
  overlay::Redirect r;
  r.stripe = s.index;
  r.via = s.parent.value_or(self_info());
  r.reason = "overloaded";
  if (auto conn = rpc_.find(*victim)) overlay::OverlayClient(conn).redirect(r);
  ++stats_.shed;
  log_at(peers::LogLevel::kInfo, "shedding a child",
         {{"stripe", std::to_string(s.index)},
          {"child", victim->short_id()},
          {"uplink_bps", std::to_string(static_cast<std::uint64_t>(uplink_.estimate_bps()))},
          {"budget", std::to_string(budget_for(s))}});
  drop_child(s, *victim, "shed: the measured uplink does not carry it");
}

void OverlayNode::watch_parents(steady_clock::time_point now) {
  if (config_.role == overlay::Role::kSource) return;
  for (auto& s : stripes_) {
    // A new parent first catches up (history, a slow start); one stripe
    // moves at a time, so a congested moment does not dissolve every tree.
    // But a parent that sent nothing at all while other stripes brought
    // chunks gets no such grace: it may be a black hole.
    bool delivered = s.last_arrival > s.attached_at;
    bool settling =
        now - s.attached_at < config_.parent_watch_settle && (delivered || !newest_seq_);
    bool other_repairing =
        std::any_of(stripes_.begin(), stripes_.end(), [&](const Stripe& t) { return t.repairing; });
    if (!s.parent || !s.parent_conn || s.repairing || s.ended || leaving_ || settling ||
        other_repairing) {
      s.unhealthy_since.reset();
      continue;
    }
    StripeJudgement j = judge(s, now);
    s.lag = j.lag;
    if (j.verdict == ParentVerdict::kHealthy) {
      s.unhealthy_since.reset();
      continue;
    }
    if (!s.unhealthy_since) {
      s.unhealthy_since = now;
      continue;
    }
    // Blame the hop, not the tree: when the parent lags about as much (its
    // own parent is slow, or it repairs), everyone below it would leave at
    // once and find no one to adopt them. They wait for it a while; a
    // parent that claims a lag to keep its children is left after that.
    bool upstream =
        lag_is_upstream(j, s.parent_lag, now - s.parent_lag_at, config_.heartbeat_interval * 4,
                        pace(), parent_rtt(s), config_.parent_watch);
    auto wait = upstream ? config_.upstream_lag_patience : config_.slow_parent_grace;
    if (now - *s.unhealthy_since < wait) continue;
    // Alive is not enough: move to another parent, and avoid this one.
    std::string why = std::string(verdict_name(j.verdict)) + " parent: stripe " +
                      std::to_string(s.index) + " " + std::to_string(j.lag.count()) +
                      " ms behind the stream";
    penalized_[s.parent->id] = now + config_.slow_parent_penalty;
    ++stats_.slow_parents;
    note("parent_slow", {{"stripe", std::to_string(s.index)},
                         {"parent", s.parent->id},
                         {"verdict", std::string(verdict_name(j.verdict))},
                         {"lag_ms", std::to_string(j.lag.count())}});
    s.unhealthy_since.reset();
    std::string left = s.parent->id;
    parent_lost(s.index, s.generation, why);
    // The other stripes this parent fails too leave it now, not one after
    // the other: a black hole holding every stripe of a viewer would
    // otherwise keep the last of them for longer than any history reaches.
    for (auto& t : stripes_) {
      if (t.repairing || t.ended || !t.parent || t.parent->id != left) continue;
      StripeJudgement tj = judge(t, now);
      if (tj.verdict == ParentVerdict::kHealthy) continue;
      t.unhealthy_since.reset();
      parent_lost(t.index, t.generation,
                  std::string(verdict_name(tj.verdict)) + " parent: stripe " +
                      std::to_string(t.index) + " " + std::to_string(tj.lag.count()) +
                      " ms behind the stream (its parent failed stripe " + std::to_string(s.index) +
                      " too)");
    }
  }
}

StreamPace OverlayNode::pace() const {
  return {stream_.stripes, newest_seq_, newest_arrival_, chunks_per_s_};
}

std::chrono::microseconds OverlayNode::parent_rtt(const Stripe& s) const {
  double rtt_ms = s.parent_conn ? s.parent_conn->stats().rtt_ms : -1;
  return std::chrono::microseconds(rtt_ms > 0 ? static_cast<std::int64_t>(rtt_ms * 1000) : 0);
}

StripeJudgement OverlayNode::judge(const Stripe& s, steady_clock::time_point now) const {
  if (config_.role == overlay::Role::kSource) return {};
  return judge_stripe({s.index, s.last_seq, s.last_arrival}, pace(), now, parent_rtt(s),
                      config_.parent_watch);
}

std::chrono::milliseconds OverlayNode::heartbeat_timeout(const Stripe& s) const {
  // Late is not dead: four round trips and half a second for queued data
  // ahead of the answer, never under the configured floor, never over 10 s.
  double rtt_ms = s.parent_conn ? s.parent_conn->stats().rtt_ms : -1;
  auto t =
      std::chrono::milliseconds(rtt_ms > 0 ? static_cast<std::int64_t>(rtt_ms * 4) : 0) + 500ms;
  return std::clamp<std::chrono::milliseconds>(t, config_.parent_timeout, 10s);
}

std::optional<std::chrono::microseconds> OverlayNode::behind_live(
    std::chrono::microseconds timestamp) const {
  return clock_.behind_live(timestamp, peers::Clock::now());
}

std::optional<std::chrono::microseconds> OverlayNode::receive_behind_live() const {
  if (!newest_timestamp_) return std::nullopt;
  return behind_live(*newest_timestamp_);
}

// ------------------------------------------------------------------ data path

void OverlayNode::publish(const Chunk& chunk) {
  Stripe& s = stripes_[chunk.stripe];
  auto bytes = std::make_shared<const std::string>(sign_chunk(rpc_.identity(), chunk));
  auto signed_at = peers::Clock::now();
  clock_.bound_origin(signed_at, chunk.timestamp);
  rate_.add(chunk.seq, chunk.timestamp, chunk.payload.size());
  newest_seq_ = chunk.seq;
  newest_arrival_ = signed_at;
  newest_timestamp_ = chunk.timestamp;
  start_maintenance();
  s.last_seq = chunk.seq;
  s.history->add(chunk.seq, bytes, signed_at);
  if (chunk.end_of_stream) s.ended = true;
  push_to_children(s, bytes);
  log_chunk_time("chunk published", s, chunk, signed_at);
}

void OverlayNode::accept_chunk(Stripe& s, SharedBytes bytes, const Chunk& chunk, bool from_parent) {
  auto arrived = peers::Clock::now();
  if (from_parent) s.last_arrival = arrived;
  rate_.add(chunk.seq, chunk.timestamp, chunk.payload.size());
  if (!newest_seq_ || chunk.seq > *newest_seq_) {
    newest_seq_ = chunk.seq;
    newest_arrival_ = arrived;
    newest_timestamp_ = chunk.timestamp;
  }
  s.seen.insert(chunk.seq);
  while (s.seen.size() > kSeenWindow) s.seen.erase(s.seen.begin());
  if (!s.last_seq || chunk.seq > *s.last_seq) s.last_seq = chunk.seq;
  ++stats_.chunks_in;
  stats_.bytes_in += bytes->size();
  s.history->add(chunk.seq, bytes, peers::Clock::now());
  push_to_children(s, bytes);
  log_chunk_time(from_parent ? "chunk" : "filled", s, chunk, arrived);
  if (on_chunk) on_chunk(chunk);
  if (chunk.end_of_stream) {
    end_seq_ = chunk.seq;
    if (!end_seen_at_) end_seen_at_ = arrived;
  }
  check_end();
}

void OverlayNode::log_chunk_time(std::string_view what, const Stripe& s, const Chunk& chunk,
                                 steady_clock::time_point at) const {
  if (!peers::log_enabled(peers::LogLevel::kDebug)) return;
  // steady_clock is CLOCK_MONOTONIC, one clock for every process of a machine,
  // so these lines measure per-hop latency and repair times across processes
  // (bench/overlay_bench.cc). depth = hops from the source.
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch());
  log_at(peers::LogLevel::kDebug, what,
         {{"stripe", std::to_string(s.index)},
          {"seq", std::to_string(chunk.seq)},
          {"payload", std::to_string(chunk.payload.size())},
          {"depth", std::to_string(s.path.size())},
          {"repairs", std::to_string(s.repairs)},
          {"mono_us", std::to_string(us.count())}});
}

void OverlayNode::check_end() {
  if (ended_ || !end_seq_) return;
  bool all = true;
  for (auto& s : stripes_) {
    s.ended = s.ended || stripe_complete(s);
    all = all && s.ended;
  }
  if (!all) return;
  ended_ = true;
  if (on_end) on_end();
}

bool OverlayNode::stripe_complete(const Stripe& s) const {
  // The stream's one end-of-stream chunk is its last seq, on one stripe;
  // every other stripe is complete once it holds its own last chunk before
  // that seq, with no hole a repair could still fill.
  const ChunkSeq k = stream_.stripes;
  if (*end_seq_ < s.index) return true;  // fewer chunks than stripes: none here
  if (!s.last_seq || *s.last_seq + k <= *end_seq_) return false;
  return !s.seen.empty() && holes(s) == 0;
}

std::uint64_t OverlayNode::holes(const Stripe& s) const {
  // Every seq in s.seen belongs to the stripe (seq mod K == index), so the
  // window from its first to its last one has (last - first) / K + 1 places.
  if (s.seen.empty()) return 0;
  const ChunkSeq k = stream_.stripes;
  return (*s.seen.rbegin() - *s.seen.begin()) / k + 1 - s.seen.size();
}

void OverlayNode::push_to_children(Stripe& s, const SharedBytes& bytes) {
  std::vector<peers::PeerId> slow;
  std::vector<std::shared_ptr<Child>> idle;
  auto now = peers::Clock::now();
  for (auto& [id, child] : s.children) {
    child->queue.push_back({bytes, now});
    // Bounded in time: a child whose path does not carry the stripe would
    // otherwise hold seconds of stream here and fall further behind.
    if (child->queue.size() > config_.max_child_queue ||
        now - child->queue.front().at > config_.child_queue_limit)
      slow.push_back(id);
    else if (!child->writing)
      idle.push_back(child);
  }
  // Writers start after the walk: a writer runs at once, as far as its
  // channel has credit, and one whose channel has closed drops its child
  // from s.children before start_writer() returns.
  for (auto& child : idle) start_writer(s.index, child);
  for (const auto& id : slow) {
    ++stats_.slow_children;
    // One that took nothing for as long (it grants no credit, reads
    // nothing: a ghost holding a slot) is not taken back for a while.
    auto it = s.children.find(id);
    if (it == s.children.end()) continue;  // its writer dropped it already
    if (now - it->second->last_write >= config_.child_queue_limit) {
      refused_[id] = now + config_.ghost_penalty;
      ++stats_.ghosts;
    }
    drop_child(s, id, "too slow: its queue held more than the time bound of the stripe");
  }
}

void OverlayNode::start_writer(std::uint32_t stripe, std::shared_ptr<Child> child) {
  if (child->writing) return;
  child->writing = true;
  auto self = shared_from_this();
  asio::co_spawn(
      rpc_.executor(),
      [self, stripe, child]() -> Task<void> {
        try {
          while (!child->queue.empty()) {
            SharedBytes next = child->queue.front().bytes;
            child->queue.pop_front();
            auto op = child->channel->write(*next);
            co_await std::move(op);
            ++self->stats_.chunks_out;
            self->stats_.bytes_out += next->size();
            child->last_write = peers::Clock::now();
          }
          child->writing = false;
        } catch (const std::exception& e) {
          child->writing = false;
          auto& s = self->stripes_[stripe];
          auto it = s.children.find(child->id);
          if (it != s.children.end() && it->second == child) {
            std::string why = e.what();
            self->drop_child(s, child->id, why == "peer left" ? "left" : "feed failed: " + why);
          }
        }
      },
      asio::detached);
}

void OverlayNode::drop_child(Stripe& s, peers::PeerId id, const std::string& why) {
  // `id` is a copy: callers pass the key of the map entry this erases.
  auto it = s.children.find(id);
  if (it == s.children.end()) return;
  auto child = it->second;
  s.children.erase(it);
  child->queue.clear();
  if (child->channel) child->channel->fail(Error(Errc::kUnavailable, why));
  log_at(peers::LogLevel::kInfo, "child dropped",
         {{"stripe", std::to_string(s.index)}, {"child", id.short_id()}, {"why", why}});
  note("child_dropped",
       {{"stripe", std::to_string(s.index)}, {"child", id.to_string()}, {"why", why}});
}

// ------------------------------------------------------------------ joining

Task<overlay::StreamInfo> OverlayNode::ask_stream(std::string addr) {
  auto cop = rpc_.connect(addr);
  auto conn = co_await std::move(cop);
  overlay::OverlayClient client(conn);
  auto sop = client.stream(CallOptions{2s});
  overlay::StreamInfo info = co_await std::move(sop);
  auto source = peers::PeerId::parse(info.source_id);
  if (!source) throw Error(Errc::kProtocol, "bad source id from " + addr);
  if (config_.source_key && !(*config_.source_key == *source)) {
    throw Error(Errc::kAuth, "stream at " + addr + " comes from " + source->to_string() +
                                 ", not the pinned --source-key");
  }
  if (info.stripes == 0 || info.stripes > kMaxStripes) {
    throw Error(Errc::kProtocol, "bad stripe count from " + addr);
  }
  co_return info;
}

Task<void> OverlayNode::start(std::chrono::milliseconds join_timeout) {
  auto deadline = peers::Clock::now() + join_timeout;
  std::chrono::milliseconds backoff = 100ms;
  // Learn the stream (K, source id) from any bootstrap node. The stripes'
  // joins then ask the node that answered first and those that failed last:
  // an address nobody answers at (a NATed friend's private address) cost
  // each stripe another connect timeout (vt-sim: 5 s more per such join).
  if (config_.bootstrap.empty()) {
    throw Error(Errc::kInvalidArgument, "no node to join: no bootstrap address");
  }
  std::string answered;
  // Addresses that failed, and those still unanswered when an answer came
  // (a dial nobody answers): the stripes' joins ask them last.
  std::vector<std::string> failed, unanswered;
  auto self = shared_from_this();
  for (;;) {
    // One round: the addresses in order, each next one started when the one
    // before failed or has not answered within kBootstrapStagger (a dial
    // nobody answers waits out the connect timeout, 5 s; nothing is
    // measured before a first contact); the first answer wins. A wrong
    // stream (not the pinned --source-key) or a failed handshake is that
    // address's failure; it ends the join only when nothing else answered.
    struct Round {
      std::optional<std::pair<std::string, overlay::StreamInfo>> won;
      std::optional<Error> auth;  // the first authentication failure
      std::vector<std::string> failed, running;
      std::uint64_t ended = 0;  // attempts finished, ever
    };
    auto round = std::make_shared<Round>();
    auto wake = std::make_shared<peers::Timer>(co_await asio::this_coro::executor,
                                               steady_clock::time_point::max());
    auto wait_for = [&](steady_clock::time_point until) -> Task<void> {
      wake->expires_at(until);
      boost::system::error_code ec;
      auto wait = wake->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      co_await std::move(wait);
    };
    for (const auto& addr : config_.bootstrap) {
      if (round->won) break;
      if (std::find(round->running.begin(), round->running.end(), addr) != round->running.end()) {
        continue;  // listed twice
      }
      round->running.push_back(addr);
      const std::uint64_t ended_before = round->ended;
      asio::co_spawn(
          rpc_.executor(),
          [self, round, wake, addr]() -> Task<void> {
            std::optional<Error> error;
            try {
              auto op = self->ask_stream(addr);
              overlay::StreamInfo info = co_await std::move(op);
              if (!round->won) round->won.emplace(addr, std::move(info));
            } catch (const Error& e) {
              error = e;
            } catch (const std::exception& e) {
              error = Error(Errc::kProtocol, e.what());
            }
            if (error && !round->won) {
              self->log_at(peers::LogLevel::kWarn, "cannot join yet",
                           {{"addr", addr}, {"error", error->what()}});
              if (error->code() == Errc::kAuth && !round->auth) round->auth = *error;
              round->failed.push_back(addr);
            }
            std::erase(round->running, addr);
            ++round->ended;
            wake->cancel();
          },
          asio::detached);
      if (round->ended == ended_before) {
        auto w = wait_for(peers::Clock::now() + kBootstrapStagger);
        co_await std::move(w);
      }
    }
    while (!round->won && !round->running.empty()) {
      auto w = wait_for(steady_clock::time_point::max());
      co_await std::move(w);
    }
    for (const auto& addr : round->failed) {
      if (std::find(failed.begin(), failed.end(), addr) == failed.end()) failed.push_back(addr);
    }
    if (round->won) {
      auto& [addr, info] = *round->won;
      unanswered = round->running;
      stream_ = info;
      stream_.stripe_spare.clear();
      stream_.stripe_interior.clear();
      stream_key_ = peers::PeerId::parse(info.source_id)->public_key();
      // Interior capacity goes where it is short.
      home_ = pick_home(info);
      home_since_ = peers::Clock::now();
      init_stripes(info.stripes);
      if (on_stream_found) on_stream_found();
      answered = addr;
      break;
    }
    if (round->auth) throw *round->auth;
    if (peers::Clock::now() + backoff > deadline) {
      throw Error(Errc::kUnavailable, "no node to join answered within the join timeout");
    }
    auto sl = sleep_for(backoff);
    co_await std::move(sl);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, 2s);
  }
  log_at(peers::LogLevel::kInfo, "joining stream",
         {{"source", short_of(stream_.source_id)},
          {"stripes", std::to_string(stream_.stripes)},
          {"home_stripe", std::to_string(home_stripe())}});
  // Join all stripes in parallel. The first stripe that fails ends the
  // join at once: the lab had a newcomer refused in three stripes at 2 s
  // wait 5 s more for a fourth whose answer was lost on the way.
  std::vector<std::string> candidates{answered};
  auto listed = [&](const std::string& addr) {
    return std::find(candidates.begin(), candidates.end(), addr) != candidates.end();
  };
  auto in = [](const std::vector<std::string>& v, const std::string& addr) {
    return std::find(v.begin(), v.end(), addr) != v.end();
  };
  for (const auto& addr : config_.bootstrap) {
    if (!listed(addr) && !in(failed, addr) && !in(unanswered, addr)) candidates.push_back(addr);
  }
  for (const auto& addr : unanswered) {
    if (!listed(addr)) candidates.push_back(addr);
  }
  for (const auto& addr : failed) {
    if (!listed(addr)) candidates.push_back(addr);
  }
  auto pending = std::make_shared<std::size_t>(stripes_.size());
  auto failure = std::make_shared<std::optional<Error>>();
  auto done = std::make_shared<peers::Timer>(co_await asio::this_coro::executor,
                                             steady_clock::time_point::max());
  starting_ = true;
  for (std::uint32_t i = 0; i < stripes_.size(); ++i) {
    asio::co_spawn(
        rpc_.executor(),
        [self, i, deadline, pending, failure, done, candidates]() -> Task<void> {
          try {
            auto op = self->attach(i, candidates, false, deadline);
            co_await std::move(op);
          } catch (const Error& e) {
            if (!*failure) {
              *failure = e;
              done->cancel();
            }
          }
          if (--*pending == 0) done->cancel();
        },
        asio::detached);
  }
  if (*pending > 0 && !*failure) {
    boost::system::error_code ec;
    auto wait = done->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(wait);
  }
  starting_ = false;
  if (*failure) {
    // The other stripes' attempts end at their next step.
    stop();
    throw **failure;
  }
}

Task<bool> OverlayNode::try_attach(std::uint32_t stripe, const std::string& addr, bool resume,
                                   bool here_only, bool avoid_penalized) {
  Stripe& s = stripes_[stripe];
  overlay::JoinRequest req;
  req.stripe = stripe;
  req.joiner = self_info();
  req.home_stripe = home_stripe();
  req.here_only = here_only;
  if (here_only && s.parent) req.current_parent = s.parent->id;
  // A stripe whose parent promised a first chunk and never sent it (a black
  // hole, or one that died at once) resumes there: this node's copy of the
  // stream begins at first_seq in every stripe.
  req.resume = resume && (s.last_seq.has_value() || s.first_seq.has_value());
  // Resume from the first hole after the oldest chunk we remember, so a
  // chunk missed during an earlier repair is asked for again.
  req.from_seq = s.last_seq ? *s.last_seq + stream_.stripes : s.first_seq.value_or(0);
  if (!s.seen.empty()) {
    for (ChunkSeq q = *s.seen.begin(); q < *s.seen.rbegin(); q += stream_.stripes) {
      if (!s.seen.count(q)) {
        req.from_seq = q;
        break;
      }
    }
  }
  // The connection of an earlier attempt at this address, if it is open: a
  // newcomer retrying four stripes every second or two opened a connection
  // (and a handshake) per attempt, 21 to the source in 7 s in the lab.
  std::shared_ptr<peers::rpc::Connection> conn;
  auto cop = rpc_.get_or_connect(addr);
  conn = co_await std::move(cop);
  overlay::OverlayClient client(conn);
  // A join may pass several nodes on congested paths: late is not dead.
  auto jop = client.join(req, CallOptions{4s});
  overlay::JoinReply reply = co_await std::move(jop);
  auto parent_id = peers::PeerId::parse(reply.parent.id);
  if (!parent_id) throw Error(Errc::kProtocol, "adopter sent a bad peer id");
  if (banned_.count(*parent_id))
    throw Error(Errc::kAuth, "adopter is banned (sent a forged chunk)");
  if (avoid_penalized && penalized(reply.parent.id, peers::Clock::now())) {
    throw Error(Errc::kUnavailable, "adopter was left for being slow a moment ago");
  }
  // Until the feed is open: a place held for the child this join displaces
  // and the newcomer's "placed" mark are taken back if the join fails.
  struct Undo {
    OverlayNode* node;
    std::uint32_t stripe;
    std::optional<std::uint64_t> held_ticket;
    bool placed = false;
    bool done = false;
    ~Undo() {
      if (done) return;
      auto& st = node->stripes_[stripe];
      if (held_ticket) st.reservations.erase(*held_ticket);
      if (placed) st.placed = false;
    }
  } undo{this, stripe, std::nullopt};
  if (!reply.displaced.id.empty() && stripe == home_stripe() && capacity_ > 0 && dialable()) {
    // The child this join displaces is sent here: hold it a place.
    auto now = peers::Clock::now();
    auto& rs = stripes_[stripe].reservations;
    std::erase_if(rs, [&](const auto& r) { return r.second.joiner.id == reply.displaced.id; });
    Reservation held{reply.displaced, 0, now, now + 10s, std::nullopt, true, {}};
    undo.held_ticket = next_ticket_;
    rs[next_ticket_++] = std::move(held);
  }
  if (starting_ && !resume && !here_only) {
    stripes_[stripe].placed = true;
    undo.placed = true;
    if (reply.displaces) {
      // A newcomer refused in another stripe would leave, and the child it
      // displaced here would have lost its place for nothing (the lab's
      // dsl: admitted viewers choked in three stripes by newcomers that
      // were then refused, one 24 s without a stripe).
      auto hold = hold_until_placed(3000ms);
      if (!(co_await std::move(hold))) {
        throw overlay::Full(
            "busy: held a place that displaces a child until every stripe "
            "had one, and not every stripe did",
            stripe, 500);
      }
    }
  }
  auto pconn = rpc_.find(*parent_id);
  if (!pconn && reply.parent.addr.empty()) {
    auto punch = punch_to_adopter(*parent_id, reply.path);
    pconn = co_await std::move(punch);
  } else if (!pconn) {
    auto pop = rpc_.connect(reply.parent.addr, *parent_id);
    pconn = co_await std::move(pop);
  }
  overlay::FeedRequest freq;
  freq.stripe = stripe;
  freq.ticket = reply.ticket;
  freq.resume = req.resume;
  freq.from_seq = req.from_seq;
  freq.from_oldest = config_.start_oldest;
  overlay::OverlayClient pclient(pconn);
  auto fop = pclient.feed(freq, CallOptions{4s});
  auto [freply, channel] = co_await std::move(fop);
  undo.done = true;
  // Who may hold what the new parent's history lacks: the old path above
  // the old parent (nearest first), the new path above the new parent, and
  // last the old parent itself (it may have crashed or frozen: asking it
  // first would spend the time a fill has before playout skips the gap).
  std::vector<overlay::PeerInfo> holders;
  if (req.resume && freply.first_seq > req.from_seq) {
    if (!s.path.empty()) holders.assign(std::next(s.path.rbegin()), s.path.rend());
    // The reply's path ends with the new parent's parent.
    holders.insert(holders.end(), reply.path.rbegin(), reply.path.rend());
    if (!s.path.empty()) holders.push_back(s.path.back());
  }
  // Make before break: the old feed (if any, when moving up) ends only now.
  if (s.feed) s.feed->fail(Error(Errc::kCancelled, "moved to another parent"));
  s.parent = reply.parent;
  s.path = reply.path;
  s.path.push_back(reply.parent);
  s.parent_conn = pconn;
  s.feed = channel;
  s.last_arrival = peers::Clock::now();
  s.attached_at = s.last_arrival;
  s.unhealthy_since.reset();
  s.parent_lag.reset();
  if (!s.first_seq) s.first_seq = freply.first_seq;
  ++s.generation;
  log_at(peers::LogLevel::kInfo, "joined stripe",
         {{"stripe", std::to_string(stripe)},
          {"parent", parent_id->short_id()},
          {"depth", std::to_string(s.path.size())},
          {"first_seq", std::to_string(freply.first_seq)}});
  if (!here_only) {
    note(s.repairs > 0 ? "reattached" : "joined",
         {{"stripe", std::to_string(stripe)},
          {"parent", reply.parent.id},
          {"parent_addr", reply.parent.addr},
          {"depth", std::to_string(s.path.size())},
          {"first_seq", std::to_string(freply.first_seq)}});
  }
  start_maintenance();
  auto self = shared_from_this();
  if (!holders.empty()) {
    // The new parent's history began past this node's copy (a newcomer
    // starts at the live edge): the chunks between come from a holder.
    log_at(peers::LogLevel::kInfo, "gap after a change of parent",
           {{"stripe", std::to_string(stripe)},
            {"from_seq", std::to_string(req.from_seq)},
            {"first_seq", std::to_string(freply.first_seq)}});
    ChunkSeq from = req.from_seq, to = freply.first_seq;
    asio::co_spawn(
        rpc_.executor(),
        [self, stripe, from, to, holders = std::move(holders)]() -> Task<void> {
          auto op = self->fill_gap(stripe, from, to, holders);
          co_await std::move(op);
        },
        asio::detached);
  }
  std::uint64_t gen = s.generation;
  // A copy: clang 14 cannot capture a structured binding.
  std::shared_ptr<peers::rpc::DataChannel> feed = channel;
  asio::co_spawn(
      rpc_.executor(),
      [self, stripe, gen, feed]() -> Task<void> {
        auto op = self->read_feed(stripe, gen, feed);
        co_await std::move(op);
      },
      asio::detached);
  asio::co_spawn(
      rpc_.executor(),
      [self, stripe, gen]() -> Task<void> {
        auto op = self->heartbeat_loop(stripe, gen);
        co_await std::move(op);
      },
      asio::detached);
  co_return true;
}

Task<bool> OverlayNode::hold_until_placed(std::chrono::milliseconds wait) {
  auto until = peers::Clock::now() + wait;
  for (;;) {
    if (leaving_ || !starting_) co_return !leaving_;
    bool all = std::all_of(stripes_.begin(), stripes_.end(),
                           [](const Stripe& s) { return s.placed || s.parent.has_value(); });
    if (all) co_return true;
    if (peers::Clock::now() >= until) co_return false;
    auto sl = sleep_for(25ms);
    co_await std::move(sl);
  }
}

Task<std::shared_ptr<peers::rpc::Connection>> OverlayNode::punch_to_adopter(
    const peers::PeerId& adopter, const std::vector<overlay::PeerInfo>& path) {
  // An adopter nobody can dial, which has no connection to this node
  // either: this node has no address (reversal is not possible), so both
  // are behind NATs. The adopter's parent (last on its path), which can be
  // dialed and feeds it, introduces them.
  std::optional<peers::PeerId> via_id;
  if (!path.empty() && !path.back().addr.empty()) {
    if (auto id = peers::PeerId::parse(path.back().id)) via_id = *id;
  }
  if (!via_id) {
    throw Error(Errc::kUnavailable, "the adopter " + adopter.short_id() +
                                        " cannot be dialed and names no node to reach it through");
  }
  try {
    auto vop = rpc_.get_or_connect(*via_id, path.back().addr);
    auto via = co_await std::move(vop);
    auto pop = rpc_.punch(via, adopter);
    auto conn = co_await std::move(pop);
    log_at(peers::LogLevel::kInfo, "reached the adopter by hole punching",
           {{"adopter", adopter.short_id()}, {"via", via_id->short_id()}});
    co_return conn;
  } catch (const Error& e) {
    log_at(peers::LogLevel::kWarn, "could not punch through to the adopter",
           {{"adopter", adopter.short_id()}, {"reason", e.message()}});
    throw;
  }
}

Task<std::optional<std::uint32_t>> OverlayNode::source_room(std::uint32_t stripe) {
  auto id = peers::PeerId::parse(stream_.source_id);
  if (!id) co_return std::nullopt;
  auto conn = rpc_.find(*id);
  if (!conn) co_return std::nullopt;
  try {
    auto op = overlay::OverlayClient(conn).stream(CallOptions{2s});
    overlay::StreamInfo info = co_await std::move(op);
    if (stripe < info.stripe_spare.size()) co_return info.stripe_spare[stripe];
  } catch (const std::exception& e) {
    log_at(peers::LogLevel::kDebug, "the source did not say", {{"error", e.what()}});
  }
  co_return std::nullopt;
}

Task<void> OverlayNode::attach(std::uint32_t stripe, std::vector<std::string> candidates,
                               bool resume, steady_clock::time_point deadline) {
  std::chrono::milliseconds backoff = 50ms;
  // Since when every answer was "full" (typed overlay::Full): a newcomer
  // that hears only that learns it within 3 s; an orphan keeps trying.
  std::optional<steady_clock::time_point> full_since;
  std::string last_error = "no node to ask", last_full;
  bool asked_source = false;
  const auto began = peers::Clock::now();
  auto last_report = began;
  for (std::uint32_t round = 0;; ++round) {
    const auto round_began = peers::Clock::now();
    bool any = false, all_full = true, busy = false;
    std::chrono::milliseconds retry{0};
    std::set<std::string> failed;  // not "full": no answer, or an error
    for (const auto& addr : candidates) {
      if (leaving_ || stripes_[stripe].ended) co_return;
      try {
        // A parent left for being slow is avoided for the first rounds and
        // the first second only: when it is where the room is, a slow
        // parent beats none (the lab: 12 s of refusing the only adopter in
        // a short stripe while the buffer ran dry).
        bool avoid_slow = round < 3 && peers::Clock::now() - began < 1s;
        auto op = try_attach(stripe, addr, resume, false, avoid_slow);
        if (co_await std::move(op)) co_return;
      } catch (const overlay::Full& e) {
        any = true;
        last_error = last_full = e.message();
        log_at(peers::LogLevel::kDebug, "join answer: full",
               {{"stripe", std::to_string(stripe)},
                {"addr", addr},
                {"retry_ms", std::to_string(e.retry_ms)},
                {"error", e.message()}});
        // Full for now, not for good: keep asking (until the deadline).
        if (e.retry_ms > 0) {
          busy = true;
          retry = std::max(retry, std::chrono::milliseconds(e.retry_ms));
        }
      } catch (const std::exception& e) {
        // Nothing listens there any more (a node that left, or a viewer
        // refused before us), a node the join was forwarded through left
        // before the answer came back, or the node is not in this stripe's
        // tree (a newcomer that was refused, or is still joining): that
        // says nothing about capacity, so it does not keep a newcomer from
        // learning that everyone else is full.
        auto* pe = dynamic_cast<const peers::Error*>(&e);
        bool gone =
            dynamic_cast<const overlay::NotInTree*>(&e) ||
            (pe && ((pe->origin().empty() && pe->system_code() == std::errc::connection_refused) ||
                    pe->code() == Errc::kConnectionLost));
        if (!gone) {
          any = true;
          all_full = false;
        }
        last_error = e.what();
        failed.insert(addr);
        log_at(peers::LogLevel::kDebug, "join attempt failed",
               {{"stripe", std::to_string(stripe)}, {"addr", addr}, {"error", e.what()}});
      }
    }
    auto now = peers::Clock::now();
    // Every answer since the round began said "full" (a round with no
    // answer that speaks of capacity changes nothing).
    if (any && all_full && !busy) {
      if (!full_since) full_since = round_began;
    } else if (any) {
      full_since.reset();
    }
    // 1.5 s of nothing but "full" (the lab measured 2.7-4 s from a viewer's
    // start to its refusal with 2.5 s here: start-up and the first answers
    // take about a second).
    constexpr auto kRefuseAfter = 1500ms;
    bool refuse = !resume && full_since && now - *full_since >= kRefuseAfter;
    if (refuse && !asked_source) {
      // The answers followed routes a heartbeat old. Once, the source's
      // count says whether the stripe's tree is full or they missed room
      // (vt-sim, 100 peers with room to spare: a viewer refused this way);
      // with room the newcomer tries one period more.
      asked_source = true;
      auto op = source_room(stripe);
      std::optional<std::uint32_t> room = co_await std::move(op);
      if (room && *room > 0) {
        refuse = false;
        now = peers::Clock::now();
        full_since = now;
        log_at(peers::LogLevel::kDebug, "all full, but the source sees room",
               {{"stripe", std::to_string(stripe)}, {"free", std::to_string(*room)}});
      }
    }
    if (refuse) {
      throw Error(Errc::kUnavailable,
                  last_full.rfind("no capacity", 0) == 0 ? last_full : "no capacity: " + last_full);
    }
    if (now + backoff > deadline) {
      throw Error(
          Errc::kUnavailable,
          resume ? "could not repair stripe " + std::to_string(stripe) + " in " +
                       std::to_string(
                           std::chrono::duration_cast<std::chrono::seconds>(now - began).count()) +
                       " s (--repair-timeout); last error: " + last_error
                 : "could not join stripe " + std::to_string(stripe) +
                       " before the deadline; last error: " + last_error);
    }
    if (resume && now - last_report >= 5s) {
      // A node that cannot repair keeps trying, and says so now and then.
      last_report = now;
      log_at(peers::LogLevel::kWarn, "still repairing",
             {{"stripe", std::to_string(stripe)},
              {"for_s", std::to_string(
                            std::chrono::duration_cast<std::chrono::seconds>(now - began).count())},
              {"candidates", std::to_string(candidates.size())},
              {"last_error", last_error}});
    }
    steady_clock::duration pause = std::clamp(retry, backoff, std::max(backoff, 2000ms));
    if (!resume && full_since) {
      // The next round ends about when the newcomer is to be told: the
      // overload lab had it told 1 s late, after a 1 s backoff.
      pause = std::clamp<steady_clock::duration>(*full_since + kRefuseAfter - now, 50ms, pause);
    }
    auto sl = sleep_for(pause);
    co_await std::move(sl);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, resume ? 2000ms : 1000ms);
    // Everyone it knows, again: the lost parent may be back, the source
    // and the --join addresses always count, and so do the parents of the
    // other stripes and the nodes on their paths. A first join too: when a
    // join forwarded by the --join node goes unanswered (a loaded node on
    // the way), the other stripes' trees are another way in, tried first.
    auto more = repair_candidates(stripes_[stripe], "", round + 1);
    for (auto& a : more) {
      if (std::find(candidates.begin(), candidates.end(), a) == candidates.end()) {
        candidates.push_back(a);
      }
    }
    if (!resume) {
      std::stable_partition(candidates.begin(), candidates.end(),
                            [&](const std::string& a) { return !failed.count(a); });
    }
  }
}

peers::Result<Chunk> OverlayNode::verify_received(std::string_view data) const {
  // This node's work: vt-sim's modelled cryptography charges it to this
  // node's CPU (nothing in production).
  peers::CryptoModel::Worker as(rpc_.identity().public_key());
  return verify_chunk(data, *stream_key_, stream_.chunk_bytes * 4 + 65536);
}

void OverlayNode::ban_forger(std::uint32_t stripe,
                             const std::shared_ptr<peers::rpc::Connection>& conn) {
  note("peer_banned", {{"stripe", std::to_string(stripe)},
                       {"peer", conn->peer().to_string()},
                       {"reason", "sent a chunk that fails verification"}});
  banned_.insert(conn->peer());
  conn->close(Error(Errc::kAuth, "sent a chunk that fails verification"));
}

Task<void> OverlayNode::read_feed(std::uint32_t stripe, std::uint64_t generation,
                                  std::shared_ptr<peers::rpc::DataChannel> feed) {
  std::string why = "feed ended";
  try {
    for (;;) {
      auto op = feed->read();
      std::optional<std::string> data = co_await std::move(op);
      Stripe& s = stripes_[stripe];
      if (s.generation != generation) co_return;
      if (!data) break;
      auto chunk = verify_received(*data);
      if (!chunk || chunk->stripe != stripe) {
        ++stats_.rejected;
        std::string reason =
            chunk ? "chunk for stripe " + std::to_string(chunk->stripe) : chunk.error().message();
        log_at(peers::LogLevel::kWarn, "rejected chunk from parent",
               {{"stripe", std::to_string(stripe)},
                {"parent", s.parent ? short_of(s.parent->id) : "?"},
                {"reason", reason}});
        note("chunk_rejected", {{"stripe", std::to_string(stripe)},
                                {"parent", s.parent ? s.parent->id : ""},
                                {"reason", reason}});
        if (s.parent_conn) ban_forger(stripe, s.parent_conn);
        why = "parent sent a bad chunk";
        break;
      }
      // A chunk older than the newest may still be new to us (a new parent
      // that was itself repairing sends it late); only one we hold is a
      // duplicate.
      if (s.seen.count(chunk->seq) ||
          (!s.seen.empty() && chunk->seq + kSeenWindow * stream_.stripes < *s.seen.rbegin())) {
        ++stats_.duplicates;  // replayed or resent: already forwarded
        continue;
      }
      accept_chunk(s, std::make_shared<const std::string>(std::move(*data)), *chunk);
    }
  } catch (const std::exception& e) {
    why = e.what();
  }
  parent_lost(stripe, generation, why);
}

Task<void> OverlayNode::heartbeat_loop(std::uint32_t stripe, std::uint64_t generation) {
  std::uint64_t beats = 0;
  int late = 0;  // heartbeats in a row that timed out
  for (;;) {
    auto sl = sleep_for(config_.heartbeat_interval);
    co_await std::move(sl);
    Stripe& s = stripes_[stripe];
    if (s.generation != generation || leaving_ || !s.parent_conn) co_return;
    overlay::Heartbeat hb;
    hb.stripe = stripe;
    hb.received_seq = s.last_seq.value_or(0);
    auto rtt = s.parent_conn->stats().rtt_ms;
    hb.rtt_us = rtt < 0 ? 0 : static_cast<std::uint32_t>(rtt * 1000);
    hb.capacity = capacity_;
    hb.room_depth = room_depth(s);
    hb.interior_capacity = interior_capacity(s);
    // Where it forwards: its home, and a stripe where it still feeds
    // children (a home it moved away from): a parent must not demote a
    // node with a subtree below it.
    hb.home = s.interior || !s.children.empty();
    hb.undialable = !dialable();
    hb.path_digest = path_digest(s.path);
    hb.spare = subtree_spare(s, free_slots(s));
    // BitTorrent-style adaptation: a node that can upload more than its
    // parent moves up, next to it, when the grandparent has room. The old
    // parent's slot then goes to someone else.
    // Moving up runs beside the heartbeats (a join may take seconds on a
    // congested path; a parent drops a child whose heartbeats stop). Only a
    // clear difference (2 children more) is worth the churn of a swap.
    // Only where this node adopts (its home stripe: a leaf brings no subtree
    // up), once its place has settled, and against the parent's capacity as
    // its heartbeats report it now (the path), not as it joined: every swap
    // sends a subtree through a repair, so the churn must pay for itself.
    if (++beats % kMoveUpEvery == 0 && s.parent && s.interior && s.path.size() >= 2 &&
        !s.repairing && !s.moving_up &&
        peers::Clock::now() - s.attached_at >= config_.parent_watch_settle * 2 && dialable() &&
        capacity_ >= s.path.back().capacity + 2) {
      s.moving_up = true;
      const overlay::PeerInfo grandparent = s.path[s.path.size() - 2];
      auto self = shared_from_this();
      asio::co_spawn(
          rpc_.executor(),
          [self, stripe, grandparent]() -> Task<void> {
            try {
              auto op = self->try_attach(stripe, grandparent.addr, true, true);
              co_await std::move(op);
              self->log_at(
                  peers::LogLevel::kInfo, "moved up",
                  {{"stripe", std::to_string(stripe)}, {"parent", short_of(grandparent.id)}});
              self->note("moved_up", {{"stripe", std::to_string(stripe)},
                                      {"parent", grandparent.id},
                                      {"parent_addr", grandparent.addr}});
            } catch (const std::exception& e) {
              self->log_at(peers::LogLevel::kDebug, "cannot move up",
                           {{"stripe", std::to_string(stripe)}, {"error", e.what()}});
            }
            self->stripes_[stripe].moving_up = false;
          },
          asio::detached);
    }
    try {
      auto timeout = heartbeat_timeout(s);
      auto sent = peers::Clock::now();
      overlay::OverlayClient client(s.parent_conn);
      auto op = client.heartbeat(hb, CallOptions{timeout});
      overlay::HeartbeatReply reply = co_await std::move(op);
      Stripe& s2 = stripes_[stripe];
      if (s2.generation != generation) co_return;
      clock_.sample(sent, peers::Clock::now(), reply.stream_clock_us);
      s2.parent_lag = std::chrono::milliseconds(reply.lag_ms);
      s2.parent_lag_at = peers::Clock::now();
      if (reply.end_after > 0 && !end_seq_) {
        end_seq_ = reply.end_after - 1;
        end_seen_at_ = peers::Clock::now();
        check_end();
      }
      late = 0;
      if (!reply.path.empty()) s2.path = reply.path;
      if (reply.stripe_interior.size() == stripes_.size()) {
        known_interior_ = std::move(reply.stripe_interior);
      }
    } catch (const std::exception& e) {
      Stripe& s2 = stripes_[stripe];
      if (s2.generation != generation) co_return;
      // Late is not dead: a heartbeat that timed out while the parent's data
      // still arrives (queued video ahead of the answer) is not a loss; the
      // stripe's progress is judged on its own (watch_parents).
      // A frozen parent (SIGSTOP) is silent on both: lost when a heartbeat
      // timed out and no chunk came for as long and for 8 of the stripe's
      // chunk intervals (a congested parent still delivers), or after two
      // timeouts in a row with no data for twice as long.
      const auto* err = dynamic_cast<const Error*>(&e);
      ++late;
      auto quiet = peers::Clock::now() - s2.last_arrival;
      auto timeout = heartbeat_timeout(s2);
      std::chrono::milliseconds interval =
          chunks_per_s_ > 0 ? std::chrono::milliseconds(static_cast<std::int64_t>(
                                  1000.0 * stream_.stripes / chunks_per_s_))
                            : timeout;
      bool silent = quiet >= std::max<steady_clock::duration>(timeout, interval * 8);
      bool late_only = err && err->code() == Errc::kTimeout && s2.parent_conn &&
                       s2.parent_conn->is_open() && !silent && (late < 2 || quiet < timeout * 2);
      if (late_only) {
        log_at(peers::LogLevel::kDebug, "heartbeat late",
               {{"stripe", std::to_string(stripe)}, {"late", std::to_string(late)}});
        continue;
      }
      parent_lost(stripe, generation, std::string("heartbeat failed: ") + e.what());
      co_return;
    }
  }
}

std::vector<std::string> OverlayNode::repair_candidates(const Stripe& s, const std::string& via,
                                                        std::uint32_t round) const {
  RepairView v;
  v.via = via;
  v.self_addr = rpc_.advertised_addr();
  v.parent = s.parent;
  v.path = s.path;
  v.bootstrap = config_.bootstrap;
  for (const auto& t : stripes_) v.stripes.emplace_back(t.parent, t.path);
  auto now = peers::Clock::now();
  for (const auto& [id, until] : penalized_) {
    if (until > now) v.penalized.push_back(id);
  }
  return choose_repair_candidates(v, round);
}

void OverlayNode::parent_lost(std::uint32_t stripe, std::uint64_t generation,
                              const std::string& why, const std::string& via) {
  Stripe& s = stripes_[stripe];
  if (s.generation != generation || s.repairing || leaving_) return;
  if (s.ended) return;  // the stripe is complete; nothing more will come
  ++s.generation;
  ++s.repairs;
  s.repairing = true;
  // Fail the feed, not just close it: a close only ends this side's reading
  // (a half-close), and the parent went on sending into it, spending its
  // uplink and holding the slot until the missing heartbeats gave us away
  // seconds later. A failure reaches its writer now, with the reason.
  if (s.feed) s.feed->fail(Error(Errc::kCancelled, "the child left: " + why));
  s.feed.reset();
  std::string lost = s.parent ? short_of(s.parent->id) : "?";
  std::string lost_id = s.parent ? s.parent->id : "";
  auto candidates = repair_candidates(s, via, 0);
  s.parent.reset();
  s.parent_conn.reset();
  // A parent that leaves on purpose (it redirected us on its way out, or
  // said GOAWAY) is an ordinary event, not a failure.
  bool left = why == "redirected: leaving" || why == "peer left";
  if (left) {
    log_at(peers::LogLevel::kInfo, "parent left",
           {{"stripe", std::to_string(stripe)}, {"parent", lost}, {"why", why}});
  } else {
    log_at(peers::LogLevel::kWarn, "parent lost",
           {{"stripe", std::to_string(stripe)}, {"parent", lost}, {"why", why}});
  }
  note("parent_lost", {{"stripe", std::to_string(stripe)}, {"parent", lost_id}, {"why", why}});
  auto self = shared_from_this();
  asio::co_spawn(
      rpc_.executor(),
      [self, stripe, candidates]() -> Task<void> {
        try {
          auto op = self->attach(stripe, candidates, true,
                                 peers::Clock::now() + self->config_.repair_timeout);
          co_await std::move(op);
        } catch (const std::exception& e) {
          self->log_at(peers::LogLevel::kError, "could not repair stripe",
                       {{"stripe", std::to_string(stripe)}, {"error", e.what()}});
          if (self->on_lost) {
            self->on_lost(Error(Errc::kUnavailable,
                                "lost stripe " + std::to_string(stripe) + ": " + e.what()));
          }
        }
        self->stripes_[stripe].repairing = false;
      },
      asio::detached);
}

Task<void> OverlayNode::leave() {
  leaving_ = true;
  for (auto& s : stripes_) {
    // Hand children to our parent (or, at the source, nobody: the stream ends).
    overlay::PeerInfo via = s.parent.value_or(overlay::PeerInfo{});
    for (auto& [id, child] : s.children) {
      overlay::Redirect r;
      r.stripe = s.index;
      r.via = via;
      r.reason = "leaving";
      if (auto conn = rpc_.find(id)) overlay::OverlayClient(conn).redirect(r);
    }
  }
  auto sl = sleep_for(100ms);
  co_await std::move(sl);
  for (auto& s : stripes_) {
    std::vector<peers::PeerId> ids;
    for (auto& [id, c] : s.children) ids.push_back(id);
    for (auto& id : ids) drop_child(s, id, "leaving");
  }
}

void OverlayNode::peer_left(const peers::PeerId& id) {
  for (auto& s : stripes_) drop_child(s, id, "left");
}

std::size_t OverlayNode::queued_to_children() const {
  std::size_t n = 0;
  for (const auto& s : stripes_) {
    for (const auto& [id, c] : s.children) n += c->queue.size() + (c->writing ? 1 : 0);
  }
  return n;
}

std::vector<StripeStatus> OverlayNode::stripe_status() const {
  std::vector<StripeStatus> out;
  for (const auto& s : stripes_) {
    StripeStatus st;
    st.stripe = s.index;
    st.interior = s.interior;
    st.parent = config_.role == overlay::Role::kSource ? "-"
                : s.parent                             ? short_of(s.parent->id)
                                                       : "";
    st.children = s.children.size();
    st.last_seq = s.last_seq;
    st.repairs = s.repairs;
    auto rtt_to = [&](const std::string& id_text, std::uint32_t reported) -> std::uint32_t {
      auto id = peers::PeerId::parse(id_text);
      auto conn = id ? rpc_.find(*id) : nullptr;
      double ms = conn ? conn->stats().rtt_ms : -1;
      return ms >= 0 ? static_cast<std::uint32_t>(ms * 1000) : reported;
    };
    if (s.parent) st.parent_info = StripeStatus::Neighbor{*s.parent, rtt_to(s.parent->id, 0)};
    for (const auto& [id, c] : s.children) {
      st.child_list.push_back({c->info, rtt_to(c->info.id, c->rtt_us)});
    }
    st.path = s.path;
    st.repairing = s.repairing;
    st.holes = holes(s);
    st.history_chunks = s.history ? s.history->size() : 0;
    out.push_back(st);
  }
  return out;
}

OverlayStats OverlayNode::stats() const {
  OverlayStats st = stats_;
  double sum = 0;
  int n = 0;
  for (const auto& s : stripes_) {
    if (s.parent_conn) {
      double r = s.parent_conn->stats().rtt_ms;
      if (r >= 0) sum += r, ++n;
    }
  }
  st.rtt_ms = n ? sum / n : -1;
  st.uplink_bps = uplink_.estimate_bps();
  st.goodput_bps = uplink_.goodput_bps();
  st.stream_bps = stream_bps_;
  st.capacity = capacity_;
  return st;
}

}  // namespace vt
