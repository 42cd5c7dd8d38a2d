// The VidTorrent overlay: striped distribution trees over Peers RPC.
//
// One OverlayNode per process plays one role. The source cuts the stream
// into chunks, signs them and is the root of K stripe trees. Relays and sinks
// join every stripe: they ask any known node to adopt them; a full node
// tail-forwards the request (a distributed continuation) toward a child with
// spare capacity, and the adopter answers the joiner directly. A node is
// interior (adopts children) in one home stripe and a leaf in the others, so
// one crash costs a viewer at most one stripe while it repairs. Chunks flow
// parent to child as DATA on a channel opened by feed(); every node verifies
// the source's signature before it forwards or plays a chunk. A lost or
// frozen parent is replaced via the grandparent, then other ancestors, then
// any known node, and the new parent resends from the orphan's last chunk out
// of its per-stripe history, so the viewer loses nothing.
//
// Threads: an OverlayNode and its rpc::Node must run on a single-threaded
// io_context (all handlers then run on that thread); publish() and the
// callbacks run there too.
//
//   OverlayNode node(rpc, config);
//   node.on_chunk = [&](Chunk c) { playout.insert(std::move(c), now()); };
//   co_await node.start();
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lib/crypto/identity.h"
#include "lib/kernel/log.h"
#include "lib/overlay/join_decision.h"
#include "lib/overlay/parent_watch.h"
#include "lib/overlay/stream_clock.h"
#include "lib/overlay/stream_rate.h"
#include "lib/overlay/uplink.h"
#include "lib/rpc/node.h"
#include "lib/stream/chunk.h"
#include "lib/stream/history.h"
#include "proto/overlay.pidl.rpc.h"

namespace vt {

struct OverlayConfig {
  overlay::Role role = overlay::Role::kRelay;
  // Source: the number of stripes K. Others learn it from the stream.
  std::uint32_t stripes = kDefaultStripes;
  // The most children this node feeds: in all stripes together (the source:
  // in each stripe). 0 = a pure leaf (a sink with --upload 0). A cap, not a
  // promise: the node holds only as many as its measured uplink feeds in
  // time (UplinkEstimator), within this cap.
  std::uint32_t capacity = 4;
  // The operator's --upload in bits/s: the ceiling of the uplink estimate.
  // Without it the estimate starts where `capacity` children of a stream of
  // `assumed_stream_bps` would put it and follows what the uplink carries.
  std::optional<double> upload_ceiling_bps;
  // The stream rate assumed until the node has measured it.
  double assumed_stream_bps = 4e6;
  // `capacity` was figured from the ceiling at assumed_stream_bps (--upload
  // without --max-children): once the stream's rate is measured the cap is
  // what the ceiling pays for at that rate instead (a 9 Mbit/s relay is
  // capped at 9 children of an assumed 4 Mbit/s stream, 18 of a 2 Mbit/s
  // one; the measured uplink then decides within the cap).
  bool cap_follows_stream = false;
  // A new child starts at the oldest chunk the parent holds instead of the
  // newest random-access point (--start oldest).
  bool start_oldest = false;
  // Every log line of this node names it (node=<short id>): for a process
  // that runs many nodes, such as vt-sim.
  bool log_self = false;
  std::uint32_t chunk_bytes = 16 * 1024;
  // Where to join (relays, sinks).
  std::vector<std::string> bootstrap;
  // Pin the stream: refuse a source with another key.
  std::optional<peers::PeerId> source_key;
  HistoryOptions history;
  std::chrono::milliseconds heartbeat_interval{250};
  // A home stays at least this long before it may move to a stripe short of
  // forwarders, and a move waits a delay below `home_move_spread` taken from
  // the node's key (nodes that see the same numbers do not all move).
  std::chrono::milliseconds home_dwell{30000};
  std::chrono::milliseconds home_move_spread{5000};
  // A heartbeat answered later than max(this, 4 RTT + 0.5 s) is late; a
  // parent is lost when its heartbeats are late and no data came from it
  // for as long (a frozen parent: SIGSTOP). The floor keeps loopback repairs
  // fast; the RTT term keeps a congested long path from looking dead.
  std::chrono::milliseconds parent_timeout{1000};
  // A child whose oldest queued chunk waited this long is dropped (too slow:
  // its path does not carry the stripe). Queues are bounded in time, not in
  // chunks; max_child_queue is only a backstop against a flood of tiny chunks.
  std::chrono::milliseconds child_queue_limit{4000};
  // A child dropped that way that took no chunk at all for as long (a ghost:
  // it grants no credit or reads nothing) is refused here for this long.
  std::chrono::milliseconds ghost_penalty{60000};
  std::size_t max_child_queue = 4096;
  // How long a stripe may stay without a parent before the stream counts as
  // lost. A node that cannot repair keeps trying every node it knows until
  // then (--repair-timeout).
  std::chrono::milliseconds repair_timeout{120000};
  // When a stripe lags or stalls (ParentWatch) the node moves it to another
  // parent after the verdict held this long, and avoids the old parent for
  // `slow_parent_penalty`.
  std::chrono::milliseconds slow_parent_grace{1000};
  // A new parent is not judged during its first seconds (it resends history).
  std::chrono::milliseconds parent_watch_settle{5000};
  std::chrono::milliseconds slow_parent_penalty{30000};
  // A stripe whose parent lags as much itself (HeartbeatReply.lag_ms; see
  // lag_is_upstream) is not the parent's hop's fault: the node waits this
  // long for the trouble above to clear (the parent moves, or repairs and
  // resends) before it moves too. 3 s let whole subtrees leave a parent that
  // was back 2.6 s after a swap, still catching up (vt-sim small.json: 38 of
  // 111 repairs; 6 s: 15 of 88).
  std::chrono::milliseconds upstream_lag_patience{6000};
  ParentWatchOptions parent_watch;
};

// Per-stripe view for stats and inspection.
struct StripeStatus {
  std::uint32_t stripe = 0;
  bool interior = false;
  std::string parent;  // short id, "" if none (source: "-")
  std::size_t children = 0;
  std::optional<ChunkSeq> last_seq;
  std::uint64_t repairs = 0;
  // For inspection (lib/overlay/inspect_service.h).
  struct Neighbor {
    overlay::PeerInfo info;
    std::uint32_t rtt_us = 0;  // 0 = not measured yet
  };
  std::optional<Neighbor> parent_info;
  std::vector<Neighbor> child_list;
  std::vector<overlay::PeerInfo> path;  // root .. parent
  bool repairing = false;
  std::uint64_t holes = 0;  // missing seqs among the recently received ones
  std::size_t history_chunks = 0;
};

struct OverlayStats {
  std::uint64_t chunks_in = 0, bytes_in = 0;
  std::uint64_t chunks_out = 0, bytes_out = 0;
  std::uint64_t rejected = 0;    // failed verification
  std::uint64_t duplicates = 0;  // already had it
  std::uint64_t joins_served = 0, forwards = 0, choked = 0;
  std::uint64_t slack_adoptions = 0;  // joiners taken over the budget
  std::uint64_t shed = 0;             // children redirected for want of uplink
  std::uint64_t slow_children = 0;    // children dropped: their queue passed its time bound
  std::uint64_t slow_parents = 0;     // parents left for lagging or stalling
  std::uint64_t ghosts = 0;           // children dropped for taking nothing (refused a while)
  std::uint64_t filled = 0;           // chunks a fill brought after a change of parent
  std::uint64_t fills_served = 0;     // fills this node answered
  double rtt_ms = -1;
  // Measured: the uplink estimate and payload goodput (bits/s), the median
  // time chunks wait in children's queues, the stream's payload rate.
  double uplink_bps = 0, goodput_bps = 0, stream_bps = 0;
  double queue_delay_ms = 0;
  std::uint32_t capacity = 0;  // children the measured uplink pays for now
};

class OverlayNode : public overlay::OverlayServer,
                    public std::enable_shared_from_this<OverlayNode> {
 public:
  OverlayNode(peers::rpc::Node& rpc, OverlayConfig config);
  ~OverlayNode() override;

  // Verified chunks, in arrival order per stripe (relays and sinks).
  std::function<void(const Chunk&)> on_chunk;
  // Every stripe delivered its end-of-stream chunk (relays and sinks).
  std::function<void()> on_end;
  // start() found the stream (a node it was told to join answered) and
  // begins to join its stripes: the node has a connection it dialed, over
  // which it can ask to be dialed back while it joins.
  std::function<void()> on_stream_found;
  // A fill of seqs [from, to) of a stripe began (pending) or ended, found
  // or not: a sink's playout waits for those chunks as late ones meanwhile
  // instead of skipping them as lost.
  std::function<void(std::uint32_t stripe, ChunkSeq from, ChunkSeq to, bool pending)> on_fill;
  // A stripe could not be repaired within repair_timeout: the stream is lost.
  std::function<void(const peers::Error&)> on_lost;
  // Something an operator may want to see happened (vt-inspect events), as
  // it is logged: kind is joined, adopted, child_dropped, parent_lost,
  // reattached, chunk_rejected, peer_banned, moved_up or redirected; fields
  // hold "stripe" and the log line's details.
  std::function<void(const std::string& kind, const std::map<std::string, std::string>& fields)>
      on_event;

  // Relays and sinks: learn the stream from a bootstrap node and join every
  // stripe. Completes when all stripes have a parent; throws on
  // `join_timeout` (retrying with backoff until then).
  peers::rpc::Task<void> start(std::chrono::milliseconds join_timeout);

  // Source: signs and sends a chunk down its stripe's tree.
  void publish(const Chunk& chunk);

  // Graceful leave: hand children to their grandparent, then stop.
  peers::rpc::Task<void> leave();
  // The program is ending (its connections are about to close): from now
  // on a lost parent is not repaired or reported and maintenance stops.
  // leave() does this too, after handing the children over.
  void stop() { leaving_ = true; }
  // A peer closed its connection after its GOAWAY (it left on purpose): its
  // places as a child are freed at once and logged as a leave ("left").
  void peer_left(const peers::PeerId& id);
  // Whether to serve `asker`'s request to punch through to `joiner`
  // (rpc::Node::on_punch_request): only for a joiner this node holds an
  // unexpired reservation for, asked by its parent in that stripe (the node
  // that introduces the two, docs/protocol.md "Hole punching") or by the
  // parent it had when it made the reservation. Anything else would have
  // this node dial an address a peer named.
  bool expects_punch(const peers::PeerId& asker, const peers::PeerId& joiner) const;

  const overlay::StreamInfo& stream() const { return stream_; }
  const OverlayConfig& config() const { return config_; }
  std::uint32_t stripes() const { return stream_.stripes; }
  std::vector<StripeStatus> stripe_status() const;
  OverlayStats stats() const;
  bool ended() const { return ended_; }
  // Relays and sinks: the seq the stripe's first parent promised to send
  // first (its FeedReply), where this node's copy of the stripe begins;
  // nullopt before the stripe is joined.
  std::optional<ChunkSeq> first_seq(std::uint32_t stripe) const {
    return stripe < stripes_.size() ? stripes_[stripe].first_seq : std::nullopt;
  }
  // Chunks queued to children and not yet written (source and relays).
  std::size_t queued_to_children() const;
  // How far behind live a chunk stamped `timestamp` is now, on the stream
  // clock learned from the parents' heartbeats (the source: its own).
  std::optional<std::chrono::microseconds> behind_live(std::chrono::microseconds timestamp) const;
  // How far behind live the newest chunk this node received (the source:
  // published) is now; nullopt before the stream clock is known.
  std::optional<std::chrono::microseconds> receive_behind_live() const;

  // Asks `holders` in turn for the chunks of [from, to) of a stripe that
  // this node still lacks (Overlay.fill); each is verified as a fed chunk
  // is, and a holder that sends a forgery is banned. The node calls it after
  // a change of parent whose history began past where its copy stopped,
  // with the old path first and the old parent last.
  peers::rpc::Task<void> fill_gap(std::uint32_t stripe, ChunkSeq from, ChunkSeq to,
                                  std::vector<overlay::PeerInfo> holders);

  // Overlay service.
  peers::rpc::Task<peers::rpc::Answer<overlay::JoinReply>> join(peers::rpc::CallContext& ctx,
                                                                overlay::JoinRequest req) override;
  peers::rpc::Task<overlay::FeedReply> feed(peers::rpc::CallContext& ctx,
                                            overlay::FeedRequest req) override;
  peers::rpc::Task<peers::rpc::Answer<overlay::HeartbeatReply>> heartbeat(
      peers::rpc::CallContext& ctx, overlay::Heartbeat req) override;
  peers::rpc::Task<void> redirect(peers::rpc::CallContext& ctx, overlay::Redirect req) override;
  peers::rpc::Task<peers::rpc::Answer<overlay::StreamInfo>> stream(
      peers::rpc::CallContext& ctx) override;
  peers::rpc::Task<peers::rpc::Answer<overlay::ChildReport>> vouch(
      peers::rpc::CallContext& ctx, overlay::ChildQuery req) override;
  peers::rpc::Task<peers::rpc::Answer<overlay::HomeMoveReply>> move_home(
      peers::rpc::CallContext& ctx, overlay::HomeMove req) override;
  peers::rpc::Task<overlay::FillReply> fill(peers::rpc::CallContext& ctx,
                                            overlay::FillRequest req) override;

 private:
  struct Queued {
    SharedBytes bytes;
    std::chrono::steady_clock::time_point at;  // when it was queued
  };
  struct Child {
    peers::PeerId id{peers::PublicKey{}};
    overlay::PeerInfo info;
    std::shared_ptr<peers::rpc::DataChannel> channel;
    std::deque<Queued> queue;
    std::uint32_t room_depth = 0;  // from its heartbeats (Heartbeat.room_depth)
    bool writing = false;
    bool interior = false;
    std::uint32_t spare = 0;
    // Joins forwarded to it lately: each takes one of the slots its last
    // heartbeat reported until the heartbeats can have counted it
    // (child_spare).
    std::deque<std::chrono::steady_clock::time_point> forwarded;
    // Child slots of its subtree's nodes whose home the stripe is (its
    // heartbeats; until the first, its own if it is interior).
    std::uint32_t interior_capacity = 0;
    std::uint32_t rtt_us = 0;
    std::chrono::steady_clock::time_point last_heartbeat;
    std::chrono::steady_clock::time_point since;       // when its feed began
    std::chrono::steady_clock::time_point last_write;  // a chunk last left for it
  };
  // A child a joiner displaces once it opens its feed, and why ("choked",
  // "demoted").
  struct Displace {
    peers::PeerId child;
    std::string reason;
    // The joiner was told to hold the child a place (JoinReply.displaced).
    bool held_by_joiner = false;
  };
  struct Reservation {
    overlay::PeerInfo joiner;
    std::uint32_t home_stripe = 0;
    std::chrono::steady_clock::time_point created;
    std::chrono::steady_clock::time_point expires;
    std::optional<Displace> displace;
    // A place this node holds for a child its own join displaced: that
    // child's join here gets it (JoinReply.displaced).
    bool held = false;
    // This node's parent in the stripe when it made the reservation (the
    // node the join reply's path told the joiner to ask for an
    // introduction): it may still introduce the joiner after this node
    // moved to another parent.
    std::string introducer;
  };
  struct Stripe {
    std::uint32_t index = 0;
    bool interior = false;
    // Parent side (relays and sinks).
    std::optional<overlay::PeerInfo> parent;
    std::vector<overlay::PeerInfo> path;  // root .. parent
    std::shared_ptr<peers::rpc::Connection> parent_conn;
    std::shared_ptr<peers::rpc::DataChannel> feed;
    std::optional<ChunkSeq> last_seq;  // newest chunk received
    std::set<ChunkSeq> seen;           // recent chunks received (duplicates)
    // Where the first parent's feed began (its FeedReply).
    std::optional<ChunkSeq> first_seq;
    bool repairing = false;
    // When a chunk last arrived (or the parent was attached); since when
    // ParentWatch has judged the parent slow or stalled.
    std::chrono::steady_clock::time_point last_arrival;
    std::optional<std::chrono::steady_clock::time_point> unhealthy_since;
    std::chrono::steady_clock::time_point attached_at;
    bool moving_up = false;  // a here_only join to the grandparent is under way
    // start(): a join reply (a reservation) is in hand for this stripe.
    bool placed = false;
    std::chrono::milliseconds lag{0};
    // The parent's own lag in this stripe, from its last heartbeat reply.
    std::optional<std::chrono::milliseconds> parent_lag;
    std::chrono::steady_clock::time_point parent_lag_at;  // when it was reported
    bool ended = false;            // holds its last chunk: nothing more will come
    std::uint64_t generation = 0;  // bumps on every new parent
    std::uint64_t repairs = 0;
    // Children.
    std::map<peers::PeerId, std::shared_ptr<Child>> children;
    std::map<std::uint64_t, Reservation> reservations;
    // Joiners this node is dialing to adopt them (connection reversal): each
    // holds a slot like a reservation, or every join that arrives during the
    // dial would see the same free slot; one dial per joiner. With the child
    // a displacing adoption will displace (nobody else may pick it).
    std::map<peers::PeerId, std::optional<peers::PeerId>> dialing;
    std::unique_ptr<History> history;
  };

  overlay::PeerInfo self_info() const;
  std::uint32_t home_stripe() const;
  // Children (and reservations) counted against the budget that s is in.
  std::size_t used_slots(const Stripe& s) const;
  std::uint32_t free_slots(const Stripe& s) const;
  void init_stripes(std::uint32_t k);
  // What decide_join() needs to know of this node for a join in `stripe`.
  JoinState join_state(std::uint32_t stripe) const;
  // Reserves a slot in s for the joiner; the answer to its join.
  overlay::JoinReply adopt(Stripe& s, const overlay::JoinRequest& req,
                           std::optional<Displace> displace = std::nullopt);
  // The answer to a join adopted in s under reservation `ticket`.
  overlay::JoinReply join_reply(const Stripe& s, std::uint64_t ticket) const;
  // When a slot of s may be free (a reservation lapses, a child that takes
  // nothing or went silent is dropped), from now; nullopt: none expected.
  std::optional<std::chrono::milliseconds> soonest_free(
      const Stripe& s, std::chrono::steady_clock::time_point now) const;
  // Before a swap: whether `parent` (a child here) feeds the joiner, has for
  // a while, and hears from it that it can feed more than `parent` can.
  peers::rpc::Task<bool> vouch_for_swap(peers::PeerId parent, const overlay::JoinRequest& req);
  // from_parent: the stripe's feed brought it (the parent watch counts it);
  // false for a chunk a fill brought.
  void accept_chunk(Stripe& s, SharedBytes bytes, const Chunk& chunk, bool from_parent = true);
  void push_to_children(Stripe& s, const SharedBytes& bytes);
  // Debug log: a chunk's seq, stripe, payload size, depth and when it was
  // published or accepted, in microseconds of the monotonic clock.
  void log_chunk_time(std::string_view what, const Stripe& s, const Chunk& chunk,
                      std::chrono::steady_clock::time_point at) const;
  void start_writer(std::uint32_t stripe, std::shared_ptr<Child> child);
  void drop_child(Stripe& s, peers::PeerId id, const std::string& why);
  peers::rpc::Task<void> attach(std::uint32_t stripe, std::vector<std::string> candidates,
                                bool resume, std::chrono::steady_clock::time_point deadline);
  // avoid_penalized: refuse an adopter left for being slow (early rounds of
  // a repair; later, a slow parent beats none).
  // Free slots in a stripe's tree as the source counts them (its
  // StreamInfo), asked over a connection this node has to it; nullopt
  // without one, or without an answer.
  peers::rpc::Task<std::optional<std::uint32_t>> source_room(std::uint32_t stripe);
  peers::rpc::Task<bool> try_attach(std::uint32_t stripe, const std::string& addr, bool resume,
                                    bool here_only = false, bool avoid_penalized = false);
  peers::rpc::Task<void> read_feed(std::uint32_t stripe, std::uint64_t generation,
                                   std::shared_ptr<peers::rpc::DataChannel> feed);
  // A chunk a parent or a fill brought, checked against the stream's key.
  peers::Result<Chunk> verify_received(std::string_view data) const;
  // The peer on `conn` sent a chunk that fails verification: banned (never
  // a parent or a holder again) and its connection closed.
  void ban_forger(std::uint32_t stripe, const std::shared_ptr<peers::rpc::Connection>& conn);
  peers::rpc::Task<void> heartbeat_loop(std::uint32_t stripe, std::uint64_t generation);
  void parent_lost(std::uint32_t stripe, std::uint64_t generation, const std::string& why,
                   const std::string& via = {});
  std::vector<std::string> repair_candidates(const Stripe& s, const std::string& via,
                                             std::uint32_t round) const;
  // Marks the stripes that hold their last chunk ended; on_end once all are.
  void check_end();
  bool stripe_complete(const Stripe& s) const;
  // Seqs of the stripe missing between the first and last of s.seen.
  std::uint64_t holes(const Stripe& s) const;
  void start_maintenance();
  // One maintenance tick: measure, resize the budget, shed, judge parents.
  void maintain(std::chrono::steady_clock::time_point now);
  void measure(std::chrono::steady_clock::time_point now);
  void shed_children();
  void watch_parents(std::chrono::steady_clock::time_point now);
  // Moves the home to a stripe short of interior capacity (choose_home_move)
  // once it has been home for a while and a spread-out delay passed with
  // the move still right.
  void consider_home_move(std::chrono::steady_clock::time_point now);
  // A newcomer's join that displaces a child (JoinReply.displaces) opens its
  // feed only once every stripe has a place: false when the join fails
  // meanwhile (the node stops) or the places do not come within `wait`.
  peers::rpc::Task<bool> hold_until_placed(std::chrono::milliseconds wait);
  // The stream's per-stripe interior capacity as far as this node knows it.
  std::vector<std::uint32_t> interior_totals() const;
  // How this node's copy of the stripe stands against the stream (the
  // source: healthy, no lag).
  StripeJudgement judge(const Stripe& s, std::chrono::steady_clock::time_point now) const;
  // The stream's pace as this node sees it, and the round trip to a
  // stripe's parent (0 until measured): what ParentWatch judges by.
  StreamPace pace() const;
  std::chrono::microseconds parent_rtt(const Stripe& s) const;
  std::uint32_t room_depth(const Stripe& s) const;
  std::vector<std::uint32_t> stripe_spare() const;
  // interior_capacity() of every stripe.
  std::vector<std::uint32_t> stripe_interior() const;
  std::uint32_t pick_home(const overlay::StreamInfo& info) const;
  // Child slots in this node's subtree of the nodes whose home the stripe is.
  std::uint32_t interior_capacity(const Stripe& s) const;
  // The budget in stripe s: the source splits its children over the stripes.
  std::uint32_t budget_for(const Stripe& s) const;
  // Others can dial this node (the source, or it advertises an address);
  // if not, it feeds only children it dialed itself.
  bool dialable() const;
  // The room a child's subtree has as this node sees it: what its last
  // heartbeat reported, less the joins forwarded to it since that it cannot
  // have counted yet.
  std::uint32_t child_spare(const Child& c, std::chrono::steady_clock::time_point now) const;
  // This node's free slots in the stripe plus its children's room (saturating).
  std::uint32_t subtree_spare(const Stripe& s, std::uint32_t own) const;
  // The stream as the node at `addr` describes it, checked (source id, the
  // pinned --source-key, stripe count); throws Error.
  peers::rpc::Task<overlay::StreamInfo> ask_stream(std::string addr);
  // peers::log, with node=<short id> first when config_.log_self.
  void log_at(peers::LogLevel level, std::string_view msg, peers::LogFields fields = {}) const;
  // The payload rate of one stripe-child (bits/s).
  double child_payload_bps() const;
  // Whether a joiner with no address may be adopted here and reach this
  // node (which nobody can dial) by hole punching; notes one whose punch
  // evidently failed (see unpunchable_).
  bool punchable_from(const peers::PeerId& joiner, std::uint32_t stripe);
  // A connection to an adopter that nobody can dial, by hole punching
  // through its parent, the last node of `path` (the join reply's).
  peers::rpc::Task<std::shared_ptr<peers::rpc::Connection>> punch_to_adopter(
      const peers::PeerId& adopter, const std::vector<overlay::PeerInfo>& path);
  std::chrono::milliseconds heartbeat_timeout(const Stripe& s) const;
  bool penalized(const std::string& id_text, std::chrono::steady_clock::time_point now) const;
  void note(const std::string& kind, std::map<std::string, std::string> fields) const {
    if (on_event) on_event(kind, fields);
  }

  peers::rpc::Node& rpc_;
  OverlayConfig config_;
  overlay::StreamInfo stream_;
  std::optional<peers::PublicKey> stream_key_;
  std::vector<Stripe> stripes_;
  std::set<peers::PeerId> banned_;
  // Callers and stripes whose fill this node is sending (one each, a few in
  // all).
  std::set<std::pair<peers::PeerId, std::uint32_t>> filling_;
  std::uint64_t next_ticket_ = 1;
  bool leaving_ = false;
  // start() is joining the stripes for the first time: a join that would
  // displace a child waits (hold_until_placed) until every stripe has a
  // place, a reservation or a parent.
  bool starting_ = false;
  bool maintaining_ = false;
  bool ended_ = false;
  std::optional<ChunkSeq> end_seq_;  // the end-of-stream chunk's seq, once received
  std::optional<std::chrono::steady_clock::time_point> end_seen_at_;
  OverlayStats stats_;
  // Measured capacity (lib/overlay/uplink.h), in children of one stripe.
  UplinkEstimator uplink_;
  // Bytes the children's connections acknowledged (TCP_INFO), summed over
  // connections, and each connection's count at the last sample.
  struct Acked {
    std::weak_ptr<peers::rpc::Connection> conn;
    std::uint64_t bytes = 0;
  };
  std::map<const peers::rpc::Connection*, Acked> acked_;
  std::uint64_t acked_total_ = 0;
  bool kernel_counts_ = false;  // TCP_INFO was readable: count acked bytes
  std::uint32_t capacity_ = 0;
  StreamClock clock_;
  std::optional<std::uint32_t> home_;  // chosen where capacity is short
  // Homes move (consider_home_move): each stripe's interior capacity over
  // the whole stream, from the parents' heartbeat replies (the source
  // counts its own); since when the home is what it is; when a move that
  // still looks right is made (spread over nodes, so that they do not all
  // move at once on the same numbers).
  std::vector<std::uint32_t> known_interior_;
  std::chrono::steady_clock::time_point home_since_{};
  std::optional<std::chrono::steady_clock::time_point> home_move_at_;
  std::uint64_t home_moves_ = 0;
  bool home_asking_ = false;  // a move_home call to the source is under way
  // The source: moves it granted lately, by node, counted in its totals
  // until the heartbeats bring them up the trees.
  struct GrantedMove {
    std::uint32_t from = 0, to = 0, slots = 0;
    std::chrono::steady_clock::time_point until;
    // The new stripe's total as the heartbeats had it when granted: what
    // it has grown since is the move arriving (counted once, not twice).
    std::uint32_t base_to = 0;
  };
  std::map<peers::PeerId, GrantedMove> granted_moves_;
  // Asks the source, and moves when it grants.
  peers::rpc::Task<void> ask_home_move(std::uint32_t from, std::uint32_t to);
  void move_home_to(std::uint32_t from, std::uint32_t to,
                    std::chrono::steady_clock::time_point now);
  // The stream's pace, from the chunks' own seqs and timestamps.
  StreamRate rate_;
  double stream_bps_ = 0;
  double chunks_per_s_ = 0;
  std::optional<ChunkSeq> newest_seq_;
  std::chrono::steady_clock::time_point newest_arrival_;
  std::optional<std::chrono::microseconds> newest_timestamp_;
  // Peers whose joins are refused until then (ghost children).
  std::map<peers::PeerId, std::chrono::steady_clock::time_point> refused_;
  // Parents left for being slow, until when they are avoided.
  std::map<std::string, std::chrono::steady_clock::time_point> penalized_;
  // Joiners with no address that asked again while their reservation here
  // was unused (they could not punch through to this node, which nobody
  // can dial): until then this node does not adopt them.
  std::map<peers::PeerId, std::chrono::steady_clock::time_point> unpunchable_;
};

}  // namespace vt
