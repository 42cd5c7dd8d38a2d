// Judging a parent by what it delivers, apart from whether it answers.
//
// Late is not dead, and alive is not useful: a parent that answers heartbeats
// but sends its stripe late (its uplink is full, or it lies about it) or not
// at all (a black hole) costs its children the stream just as a crash does.
// judge_stripe() compares one stripe's progress with the stream's: chunk seqs
// are global (seq mod K picks the stripe), so the newest seq seen on any
// stripe says where this one should be. Its lag is turned into time with the
// stream's measured chunk rate. A stripe that lags more than `lag_limit` (or
// four round trips, whichever is more) is slow; one with nothing for
// `stall_limit` while other stripes advanced is stalled. With one stripe
// there is nothing to compare, and only a long silence counts.
//
// Pure: the caller passes `now` and keeps the verdict's history (a verdict
// must hold for a while before the node acts on it).
//
//   auto v = judge_stripe({.index = 2, .last_seq = 41, .last_arrival = t},
//                         {.stripes = 4, .newest_seq = 63, .chunks_per_s = 12.5}, now, rtt);
//   if (v.verdict != ParentVerdict::kHealthy) ... move to another parent
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "lib/stream/chunk.h"

namespace vt {

enum class ParentVerdict : std::uint8_t { kHealthy, kSlow, kStalled };
std::string_view verdict_name(ParentVerdict v);

struct StripeProgress {
  std::uint32_t index = 0;
  std::optional<ChunkSeq> last_seq;  // newest chunk received in this stripe
  // When a chunk of this stripe last arrived (or the parent was attached).
  std::chrono::steady_clock::time_point last_arrival;
};

struct StreamPace {
  std::uint32_t stripes = 0;
  std::optional<ChunkSeq> newest_seq;  // newest chunk received on any stripe
  // When newest_seq arrived.
  std::chrono::steady_clock::time_point newest_arrival;
  double chunks_per_s = 0;  // the stream's measured chunk rate (0: unknown)
};

struct ParentWatchOptions {
  // A stripe this far behind the stream is slow. Above jitter between
  // parents (tens of ms, a few hundred on a long congested path); with the
  // grace before a move (OverlayConfig::slow_parent_grace) under a viewer's
  // default 2 s playout buffer, so the move happens before it drains.
  std::chrono::milliseconds lag_limit{1000};
  // Nothing in this stripe for this long while the stream went on: stalled.
  std::chrono::milliseconds stall_limit{4000};
  // With no other stripe to compare (K = 1): silence this long is a stall.
  std::chrono::milliseconds lone_stall_limit{6000};
};

struct StripeJudgement {
  ParentVerdict verdict = ParentVerdict::kHealthy;
  // How far the stripe is behind the newest chunk of the stream.
  std::chrono::milliseconds lag{0};
};

// The lag above which judge_stripe() calls a stripe slow: `lag_limit`, four
// round trips, or two of the stripe's own chunk intervals, whichever is most.
std::chrono::microseconds slow_limit(const StreamPace& pace, std::chrono::microseconds rtt,
                                     const ParentWatchOptions& options = {});

// Whether a child's lag in a stripe is its parent's own (the trouble is above
// the parent: its parent is slow, or it repairs), so that the child should
// wait for the parent rather than leave it: blame the hop, not the tree.
// `j` is the child's judgement of the stripe; `parent_lag` is what the
// parent last reported (HeartbeatReply.lag_ms), `report_age` how long ago: a
// parent that lagged then lags more now, so the report is aged by that time
// (at most `max_age`, so that a stale report never excuses a hop for long).
// The child may trail it by one hop: the slow limit plus one of the
// stripe's chunk intervals (a child is a chunk behind its parent while the
// chunk crosses the hop, and lags are counted in chunks). A stall is
// excused only by a parent that reports a lag past the slow limit itself,
// and no verdict by a parent that claims to be more than a hop further
// behind than the child (it cannot be feeding the child what it gets: the
// claim is a lie, told to keep its children).
bool lag_is_upstream(const StripeJudgement& j, std::optional<std::chrono::milliseconds> parent_lag,
                     std::chrono::steady_clock::duration report_age,
                     std::chrono::steady_clock::duration max_age, const StreamPace& pace,
                     std::chrono::microseconds rtt, const ParentWatchOptions& options = {});

StripeJudgement judge_stripe(const StripeProgress& stripe, const StreamPace& pace,
                             std::chrono::steady_clock::time_point now,
                             std::chrono::microseconds rtt, const ParentWatchOptions& options = {});

}  // namespace vt
