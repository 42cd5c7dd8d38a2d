#include "lib/overlay/uplink.h"

#include <algorithm>
#include <cmath>

namespace vt {

std::chrono::microseconds path_wait(const peers::rpc::TcpPath& path, bool& counted_backlog) {
  double wait_ms = std::max(0.0, path.srtt_ms - path.min_rtt_ms);
  counted_backlog = path.delivery_rate_bps > 0;
  if (counted_backlog) wait_ms += path.notsent_bytes * 8.0 / path.delivery_rate_bps * 1e3;
  return std::chrono::microseconds(static_cast<std::int64_t>(wait_ms * 1e3));
}

UplinkEstimator::UplinkEstimator(Options options) : o_(options) {
  estimate_bps_ = o_.ceiling_bps ? std::min(*o_.ceiling_bps, o_.initial_bps) : o_.initial_bps;
  estimate_bps_ = std::max(estimate_bps_, o_.floor_bps);
}

double UplinkEstimator::budget_bps() const {
  return estimate_bps_ * o_.headroom / o_.wire_overhead;
}

void UplinkEstimator::sample(Clock::time_point now, std::uint64_t bytes_sent_total,
                             std::chrono::microseconds oldest_queued) {
  points_.push_back({now, bytes_sent_total});
  while (points_.size() > 2 && now - points_[1].at >= o_.window) points_.pop_front();
  const Point& first = points_.front();
  auto span = now - first.at;
  bool full_window = span >= o_.window;
  if (span > Clock::duration::zero() && bytes_sent_total >= first.bytes) {
    double seconds = std::chrono::duration<double>(span).count();
    goodput_bps_ = static_cast<double>(bytes_sent_total - first.bytes) * 8 / seconds;
  }
  congested_ = oldest_queued >= o_.congested_delay;
  last_queued_ = oldest_queued;
  if (!full_window) return;
  // One change per window: each decision rests on a window of its own.
  if (last_change_ && now - *last_change_ < o_.window) return;
  double on_wire = goodput_bps_ * o_.wire_overhead;
  if (congested_) {
    // What left during a window in which the queue never emptied is what
    // the uplink carries; but at most half of the estimate goes in one
    // window (a connection in slow start, or a burst of history into a new
    // one, delivers little for a moment without the uplink being small).
    // Never raise the estimate on congestion.
    double carried = std::max({on_wire, estimate_bps_ * o_.max_cut, o_.floor_bps});
    if (carried < estimate_bps_) {
      // Probing may come back to what left while the queue was full (the
      // uplink carries that), not past it for a while: past it is where
      // the queue grew.
      cut_level_ = std::max(on_wire, o_.floor_bps);
      last_cut_ = now;
      estimate_bps_ = carried;
      ++cuts_;
      last_change_ = now;
    }
    return;
  }
  // Not congested: the uplink carried at least what left (goodput counts
  // what children's channels took, which a burst into fresh flow-control
  // windows can overstate: never more than one probe step at a time).
  if (on_wire > estimate_bps_) {
    estimate_bps_ = std::min(on_wire, estimate_bps_ * o_.probe_factor);
    last_change_ = now;
  }
  // Probe only while data leaves at once: a queue that is building (below
  // the congestion mark) is the uplink nearly full, so the estimate holds.
  if (goodput_bps_ >= o_.probe_when_used * budget_bps() && oldest_queued < o_.probe_below_delay) {
    // One step past what the uplink delivered, never more: an estimate
    // grows by being used, not by being asked (a node declaring 20 times
    // its uplink would otherwise probe its way up while the excess waits
    // in socket buffers). And not past the level of the last cut for a
    // while: that is where the queue grew.
    // At least room for one more child than what left: additive increase
    // (one child per window) where the multiplicative step is too small.
    double lead = std::max(step_bps_, goodput_bps_ * o_.probe_lead);
    double one_more = (goodput_bps_ + lead) * o_.wire_overhead / o_.headroom;
    double next = std::min(estimate_bps_ * o_.probe_factor,
                           std::max({estimate_bps_, on_wire * o_.probe_factor, one_more}));
    if (cut_level_ && now - *last_cut_ < o_.cut_memory) next = std::min(next, *cut_level_);
    if (o_.ceiling_bps) next = std::min(next, *o_.ceiling_bps);
    if (next > estimate_bps_) {
      estimate_bps_ = next;
      last_change_ = now;
    }
  }
  if (o_.ceiling_bps) estimate_bps_ = std::min(estimate_bps_, *o_.ceiling_bps);
  estimate_bps_ = std::max(estimate_bps_, o_.floor_bps);
}

bool UplinkEstimator::room_to_grow(Clock::time_point now) const {
  if (congested_ || points_.empty() || last_queued_ >= o_.probe_below_delay) return false;
  if (cut_level_ && last_cut_ && now - *last_cut_ < o_.cut_memory && estimate_bps_ >= *cut_level_) {
    return false;
  }
  if (o_.ceiling_bps &&
      (budget_bps() + step_bps_) * o_.wire_overhead / o_.headroom > *o_.ceiling_bps) {
    return false;
  }
  return true;
}

bool UplinkEstimator::carries(Clock::time_point now, double payload_bps) const {
  double wire = payload_bps * o_.wire_overhead;
  if (o_.ceiling_bps && wire > *o_.ceiling_bps) return false;
  bool measured = last_cut_ && now - *last_cut_ < o_.cut_memory;
  return !measured || wire <= estimate_bps_;
}

std::uint32_t UplinkEstimator::child_budget(double child_bps) const {
  if (!(child_bps > 0)) child_bps = 1e6 / 4;
  double n = std::floor(budget_bps() / child_bps + 1e-9);  // not lost to rounding
  if (n <= 0) return 0;
  if (n > 4096) return 4096;
  return static_cast<std::uint32_t>(n);
}

}  // namespace vt
