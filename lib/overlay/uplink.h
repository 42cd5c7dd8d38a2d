// UplinkEstimator: what this node's uplink really carries, learned from what
// it sends, and how many stripe-children that pays for.
//
// `--upload` is a ceiling, not a promise: a node that declares 20 Mbit/s on a
// 1 Mbit/s line must find out within seconds. The node feeds the estimator
// samples of two things it can see without help from anyone: the payload
// bytes its children's feeds have taken so far (goodput), and how long the
// oldest chunk waiting in any child's send queue has waited (queue delay).
// A queue delay past `congested_delay` means the uplink is full: what left in
// the last window is what it carries, and the estimate drops to that (by
// at most half per window). A node
// that is not congested and uses most of its estimate probes upward (x1.25
// per window, to a budget a quarter past what it delivered, nor for a minute past
// what it carried when it was last congested) up to the ceiling, so an undeclared uplink is found
// too. Samples should count bytes the receivers acknowledged (TCP_INFO), not
// bytes written: sockets absorb bursts the uplink has not carried. The
// budget is `headroom` of the estimate, less wire overhead (TCP/IP, records,
// heartbeats), so the queue at the bottleneck stays short.
//
// Pure: no clock, no I/O; the caller passes `now` (tests use a fake clock).
//
//   UplinkEstimator up({.ceiling_bps = 20e6});
//   up.sample(now, stats.bytes_out, median_queue_delay);  // every ~250 ms
//   std::uint32_t children = up.child_budget(stripe_rate_bps);
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

#include "lib/rpc/tcp_path.h"

namespace vt {

// How long what is written to one child's connection now waits in the
// kernel before it is delivered: the round trip's growth over its minimum
// (the queue at the bottleneck) plus the socket's unsent backlog at the
// rate the connection delivers (the kernel's measurement, not this node's
// estimate: an estimate probed too high would shrink the wait it is judged
// by). `counted_backlog` is set to true when the backlog was counted; when
// the path has no rate (a transport that does not measure it) it is left
// for the caller to count against the uplink's estimate.
std::chrono::microseconds path_wait(const peers::rpc::TcpPath& path, bool& counted_backlog);

class UplinkEstimator {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    // The operator's --upload (bits/s); nullopt: not declared, no ceiling.
    std::optional<double> ceiling_bps;
    // The estimate before anything was measured (never above the ceiling):
    // a node grows past it only by using it (probing), so a node that
    // declares 20 times its uplink never holds 20 times the children.
    double initial_bps = 2e6;
    // Never estimate below this (a node can always feed a little; a dead
    // uplink shows as congestion and its children leave by themselves).
    double floor_bps = 64e3;
    // Plan for this share of the estimate (the "at most about 85 %").
    double headroom = 0.85;
    // Bytes on the wire per payload byte: TCP/IP headers (~3 % at 1448-byte
    // segments), AEAD records and frames (~0.5 %), heartbeats and acks.
    double wire_overhead = 1.07;
    // Goodput is measured over this much time.
    std::chrono::milliseconds window{2000};
    // A chunk that waited this long in a send queue means the uplink is full.
    // Well above a healthy queue (a chunk leaves within a few RTTs) and well
    // below the playout buffers downstream (seconds).
    std::chrono::milliseconds congested_delay{600};
    // Probe upward when the goodput used this share of the budget.
    double probe_when_used = 0.6;
    double probe_factor = 1.25;
    // A probe offers room for this share of the goodput more than what was
    // delivered, and at least one child (the probe step): a relay feeding 8
    // children with one spare slot grew by a child per window, about one
    // slot a second over the lab's 8 relays, while a viewer joining every
    // second needs four (one per stripe), and late viewers were refused
    // with uplinks at 44-75 % of their capacity.
    double probe_lead = 0.25;
    // ... and only while chunks wait less than this to leave (between this
    // and congested_delay the estimate holds: the uplink is nearly full).
    std::chrono::milliseconds probe_below_delay{150};
    // One cut keeps at least this share of the estimate.
    double max_cut = 0.5;
    // After a cut, probing stops at what was carried while congested, for
    // this long.
    std::chrono::milliseconds cut_memory{60000};
  };

  explicit UplinkEstimator(Options options);

  // One observation: payload bytes sent so far (a monotonic counter) and how
  // long chunks wait to leave: the median over children of the age of the
  // oldest chunk queued to each (0 when none waits). The median, so that one
  // child with a slow downlink is not taken for a full uplink (that child is
  // judged on its own queue).
  void sample(Clock::time_point now, std::uint64_t bytes_sent_total,
              std::chrono::microseconds oldest_queued);

  // What the uplink is believed to carry, bits per second on the wire.
  double estimate_bps() const { return estimate_bps_; }
  // Payload this node may commit to children: headroom x estimate / overhead.
  double budget_bps() const;
  // Payload goodput over the last window (bits/s); 0 until a window passed.
  double goodput_bps() const { return goodput_bps_; }
  // The payload rate of one child (one stripe). Probing then always offers
  // room for at least one child more than what was delivered: with the headroom, a
  // step of x1.25 past the goodput is only 6 % more budget, which never
  // adds a whole child to a node feeding fewer than 16, so such a node
  // stayed at the children it had while newcomers were refused. 0: no step.
  void set_probe_step(double child_payload_bps) { step_bps_ = child_payload_bps; }
  // The last sample showed a full uplink.
  bool congested() const { return congested_; }
  // The uplink has shown room for more than the budget: chunks left at once
  // in the last sample (below probe_below_delay), one child more (the probe
  // step) stays under the ceiling, and the estimate is not held at the
  // level of a recent cut. A node then takes a child over its budget rather
  // than refuse it: the estimate grows by what that child uses.
  bool room_to_grow(Clock::time_point now) const;
  // Whether the uplink carries `payload_bps` of children's payload at all
  // (wire overhead included, no headroom) as far as anything says so: the
  // ceiling (--upload), and for cut_memory after a cut the estimate (what
  // it was measured to carry). Before either the estimate is a guess, and a
  // child over the budget is how it grows. A child lent beyond what the
  // uplink carries is shed again at the next congestion, losing chunks on
  // the way (the lab: a 2 Mbit/s viewer lent a fourth child of 0.5 Mbit/s).
  bool carries(Clock::time_point now, double payload_bps) const;
  // How many times congestion lowered the estimate.
  std::uint64_t cuts() const { return cuts_; }

  // Children of `child_bps` each (the payload rate of one stripe) that the
  // budget pays for. `child_bps` <= 0 (rate not measured yet) counts as
  // 250 kbit/s (a 1 Mbit/s stream in 4 stripes).
  std::uint32_t child_budget(double child_bps) const;

 private:
  struct Point {
    Clock::time_point at;
    std::uint64_t bytes;
  };
  Options o_;
  double estimate_bps_;
  double goodput_bps_ = 0;
  double step_bps_ = 0;
  bool congested_ = false;
  std::chrono::microseconds last_queued_{0};
  std::uint64_t cuts_ = 0;
  std::deque<Point> points_;
  std::optional<Clock::time_point> last_change_;
  std::optional<double> cut_level_;
  std::optional<Clock::time_point> last_cut_;
};

}  // namespace vt
