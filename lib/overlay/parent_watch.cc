#include "lib/overlay/parent_watch.h"

#include <algorithm>

namespace vt {

using namespace std::chrono;

std::string_view verdict_name(ParentVerdict v) {
  switch (v) {
    case ParentVerdict::kHealthy:
      return "healthy";
    case ParentVerdict::kSlow:
      return "slow";
    case ParentVerdict::kStalled:
      return "stalled";
  }
  return "?";
}

microseconds slow_limit(const StreamPace& pace, microseconds rtt, const ParentWatchOptions& o) {
  // Never under two of the stripe's own chunk intervals: a stripe is one
  // chunk behind another by K stream chunks, which at a low rate is long.
  auto limit = std::max<microseconds>(o.lag_limit, rtt * 4);
  if (pace.chunks_per_s > 0) {
    limit =
        std::max(limit, microseconds(static_cast<std::int64_t>(
                            2e6 * static_cast<double>(std::max<std::uint32_t>(1, pace.stripes)) /
                            pace.chunks_per_s)));
  }
  return limit;
}

bool lag_is_upstream(const StripeJudgement& j, std::optional<milliseconds> parent_lag,
                     steady_clock::duration report_age, steady_clock::duration max_age,
                     const StreamPace& pace, microseconds rtt, const ParentWatchOptions& o) {
  if (!parent_lag) return false;
  const auto limit = slow_limit(pace, rtt, o);
  // One hop: the slow limit and one of the stripe's chunk intervals.
  auto hop = limit;
  if (pace.chunks_per_s > 0) {
    hop += microseconds(static_cast<std::int64_t>(
        1e6 * static_cast<double>(std::max<std::uint32_t>(1, pace.stripes)) / pace.chunks_per_s));
  }
  const auto reported = microseconds(*parent_lag);
  const auto lag = microseconds(j.lag);
  // Silence is explained only by a parent that says it is slow itself: one
  // that reports no lag while its child gets nothing is a black hole
  // answering heartbeats.
  if (j.verdict == ParentVerdict::kStalled && reported < limit) return false;
  // Nor by one that claims to be further behind than its child by more than
  // a hop: it cannot be feeding the child what it gets (a black hole
  // answering heartbeats with a large lag; a child that got no chunk at all
  // counts none).
  if (reported > lag + hop) return false;
  auto aged = reported + duration_cast<microseconds>(std::clamp<steady_clock::duration>(
                             report_age, steady_clock::duration::zero(), max_age));
  return lag - aged <= hop;
}

StripeJudgement judge_stripe(const StripeProgress& stripe, const StreamPace& pace,
                             steady_clock::time_point now, microseconds rtt,
                             const ParentWatchOptions& o) {
  StripeJudgement j;
  const auto silent = now - stripe.last_arrival;
  if (pace.stripes <= 1 || !pace.newest_seq) {
    if (silent > o.lone_stall_limit) j.verdict = ParentVerdict::kStalled;
    return j;
  }
  const ChunkSeq k = pace.stripes;
  const ChunkSeq newest = *pace.newest_seq;
  // The newest seq this stripe could hold: the largest q <= newest with
  // q mod K == index.
  if (newest < stripe.index) return j;  // the stream has not reached this stripe yet
  ChunkSeq expected = newest - ((newest - stripe.index) % k);
  ChunkSeq have = stripe.last_seq.value_or(0);
  bool behind = !stripe.last_seq || have < expected;
  if (!behind) return j;
  if (pace.chunks_per_s > 0) {
    // Chunks of the whole stream between ours and the expected one, over
    // the stream's chunk rate; no chunk at all counts from the stripe's first.
    double chunks = static_cast<double>(expected - (stripe.last_seq ? have : stripe.index));
    if (!stripe.last_seq) chunks += 1;
    j.lag = milliseconds(static_cast<std::int64_t>(chunks / pace.chunks_per_s * 1000));
  }
  auto limit = slow_limit(pace, rtt, o);
  // Stalled: silent for long although the stream moved on after our last
  // chunk arrived.
  // (and it is measurably behind: a slow stream's stripe may be silent for
  // seconds between two chunks while other stripes got theirs).
  bool stream_moved = pace.newest_arrival > stripe.last_arrival;
  if (stream_moved && silent > std::max<microseconds>(o.stall_limit, rtt * 4) &&
      j.lag >= o.stall_limit / 4) {
    j.verdict = ParentVerdict::kStalled;
  } else if (j.lag > limit) {
    j.verdict = ParentVerdict::kSlow;
  }
  return j;
}

}  // namespace vt
