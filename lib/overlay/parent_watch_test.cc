#include "lib/overlay/parent_watch.h"

#include <gtest/gtest.h>

namespace vt {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const Clock::time_point t0{};
// The table's limits (tighter than the defaults, which the last test checks).
const ParentWatchOptions kOptions{.lag_limit = std::chrono::milliseconds(1500),
                                  .stall_limit = std::chrono::milliseconds(2500),
                                  .lone_stall_limit = std::chrono::milliseconds(6000)};

struct Case {
  const char* name;
  StripeProgress stripe;
  StreamPace pace;
  Clock::duration now_offset;
  std::chrono::microseconds rtt;
  ParentVerdict want;
};

TEST(ParentWatch, Table) {
  // K = 4 stripes, 10 chunks/s of stream (2.5 per stripe).
  const Case cases[] = {
      {"up to date", {2, 62, t0 + 10s}, {4, 63, t0 + 10s, 10}, 10s, 20ms, ParentVerdict::kHealthy},
      {"a chunk behind is jitter",
       {2, 58, t0 + 10s},
       {4, 63, t0 + 10s, 10},
       10s,
       20ms,
       ParentVerdict::kHealthy},
      {"2 s behind is slow",
       {2, 42, t0 + 10s},
       {4, 63, t0 + 10s, 10},
       10s,
       20ms,
       ParentVerdict::kSlow},
      {"1.3 s behind within limit",
       {2, 50, t0 + 10s},
       {4, 63, t0 + 10s, 10},
       10s,
       20ms,
       ParentVerdict::kHealthy},
      {"1.3 s behind with a 300 ms RTT: still fine... 4 RTT = 1.2 s < limit",
       {2, 50, t0 + 10s},
       {4, 63, t0 + 10s, 10},
       10s,
       300ms,
       ParentVerdict::kHealthy},
      {"2 s behind but 4 RTT is 2.4 s",
       {2, 42, t0 + 10s},
       {4, 63, t0 + 10s, 10},
       10s,
       600ms,
       ParentVerdict::kHealthy},
      {"black hole: silent 3 s while others advance",
       {2, 22, t0 + 7s},
       {4, 63, t0 + 10s, 10},
       10s,
       20ms,
       ParentVerdict::kStalled},
      {"silent for long but hardly behind: a slow stream, not a black hole",
       {2, 58, t0 + 5s},
       {4, 63, t0 + 10s, 10},
       10s,
       20ms,
       ParentVerdict::kHealthy},
      {"silent but the whole stream paused",
       {2, 62, t0 + 7s},
       {4, 63, t0 + 7s, 10},
       10s,
       20ms,
       ParentVerdict::kHealthy},
      {"nothing yet, stream far ahead",
       {2, std::nullopt, t0 + 9s},
       {4, 63, t0 + 10s, 10},
       10s,
       20ms,
       ParentVerdict::kSlow},
      {"nothing yet, just attached",
       {2, std::nullopt, t0 + 9900ms},
       {4, 3, t0 + 10s, 10},
       10s,
       20ms,
       ParentVerdict::kHealthy},
      {"stream not at this stripe yet",
       {3, std::nullopt, t0},
       {4, 1, t0 + 1s, 10},
       1s,
       20ms,
       ParentVerdict::kHealthy},
      {"one stripe: short silence",
       {0, 10, t0 + 5s},
       {1, 10, t0 + 5s, 10},
       10s,
       20ms,
       ParentVerdict::kHealthy},
      {"one stripe: long silence",
       {0, 10, t0 + 3s},
       {1, 10, t0 + 3s, 10},
       10s,
       20ms,
       ParentVerdict::kStalled},
      {"rate unknown: only stalls count",
       {2, 2, t0 + 9s},
       {4, 63, t0 + 10s, 0},
       10s,
       20ms,
       ParentVerdict::kHealthy},
  };
  for (const Case& c : cases) {
    auto j = judge_stripe(c.stripe, c.pace, t0 + c.now_offset, c.rtt, kOptions);
    EXPECT_EQ(verdict_name(j.verdict), verdict_name(c.want)) << c.name << " lag=" << j.lag.count();
  }
}

TEST(ParentWatch, LagIsStreamChunksOverTheChunkRate) {
  auto j = judge_stripe({2, 42, t0 + 10s}, {4, 63, t0 + 10s, 10}, t0 + 10s, 20ms);
  // Expected newest in stripe 2 is 62: 20 stream chunks behind at 10/s.
  EXPECT_EQ(j.lag, 2000ms);
  // By default 1 s is the limit, but never under two of the stripe's chunk
  // intervals: at 10 chunks/s in 4 stripes that is 0.8 s, so 2 s is slow.
  EXPECT_EQ(j.verdict, ParentVerdict::kSlow);
  EXPECT_EQ(judge_stripe({2, 54, t0 + 10s}, {4, 63, t0 + 10s, 10}, t0 + 10s, 20ms).verdict,
            ParentVerdict::kHealthy);
}

TEST(ParentWatch, AtALowRateTheLimitIsTwoStripeChunks) {
  // 2 chunks/s in 4 stripes: a stripe chunk every 2 s; one chunk behind
  // (4 stream chunks, 2 s) is jitter, three (6 s) are slow.
  EXPECT_EQ(judge_stripe({2, 58, t0 + 10s}, {4, 63, t0 + 10s, 2}, t0 + 10s, 20ms).verdict,
            ParentVerdict::kHealthy);
  EXPECT_EQ(judge_stripe({2, 50, t0 + 10s}, {4, 63, t0 + 10s, 2}, t0 + 10s, 20ms).verdict,
            ParentVerdict::kSlow);
}

TEST(ParentWatch, TheSlowLimitIsTheLargestOfTheFloorRoundTripsAndTwoStripeChunks) {
  // 10 chunks/s in 4 stripes: two stripe chunks are 0.8 s, under the 1 s floor.
  EXPECT_EQ(slow_limit({4, 63, t0, 10}, 20ms), 1000ms);
  EXPECT_EQ(slow_limit({4, 63, t0, 10}, 400ms), 1600ms);  // four round trips
  EXPECT_EQ(slow_limit({4, 63, t0, 2}, 20ms), 4000ms);    // two stripe chunks
}

// lag_is_upstream at 7.6 chunks/s in 4 stripes (1 Mbit/s of 16 KiB chunks:
// a stripe chunk every 526 ms, so lags come in steps of that; the slow
// limit is 1.05 s and one hop 1.58 s), a 20 ms round trip, reports aged at
// most 1 s.
TEST(ParentWatch, UpstreamTable) {
  using std::chrono::milliseconds;
  struct UpstreamCase {
    const char* name;
    ParentVerdict verdict;
    milliseconds lag;                        // the child's
    std::optional<milliseconds> parent_lag;  // the parent's report
    Clock::duration report_age;
    bool want;
  };
  constexpr auto kSlow = ParentVerdict::kSlow;
  constexpr auto kStalled = ParentVerdict::kStalled;
  const UpstreamCase cases[] = {
      // Its parent is as far behind, and the child would leave it only to
      // find a tree in the same state.
      {"the vt-sim case: two stripe chunks more than a heartbeat-old report", kSlow, 2621ms, 1572ms,
       250ms, true},
      {"equal lags", kSlow, 3145ms, 3145ms, 0ms, true},
      {"the child less behind than its parent said", kSlow, 1500ms, 3000ms, 0ms, true},
      {"a parent up to date while its child lags more than a hop: the hop is slow", kSlow, 2621ms,
       0ms, 250ms, false},
      {"no report from the parent", kSlow, 2621ms, std::nullopt, 0ms, false},
      // A stall is excused only by a parent that lags itself.
      {"a black hole that says it is current, to a child with nothing (no lag counted)", kStalled,
       0ms, 0ms, 250ms, false},
      {"a stall under a parent below the slow limit", kStalled, 1500ms, 900ms, 0ms, false},
      {"a parent whose own parent went silent says so", kStalled, 2500ms, 2000ms, 0ms, true},
      // A parent cannot be more than a hop further behind than the child
      // it feeds: such a claim excuses nothing.
      {"an hour of lag claimed to a child with nothing", kStalled, 0ms, 3600000ms, 0ms, false},
      {"an hour of lag claimed to a stalled child 2 s behind", kStalled, 2000ms, 3600000ms, 0ms,
       false},
      {"an hour of lag claimed to a slow child", kSlow, 2000ms, 3600000ms, 0ms, false},
      {"a claim within a hop of the child's lag", kSlow, 2000ms, 3500ms, 0ms, true},
      {"a claim just past a hop of the child's lag", kSlow, 2000ms, 3700ms, 0ms, false},
      // Reported 1.2 s of lag 1 s ago: it lags about 2.2 s now, and a child
      // at 3.5 s is within one hop of that, not of the report.
      {"a report aged 1 s", kSlow, 3500ms, 1200ms, 1s, true},
      {"the same report fresh", kSlow, 3500ms, 1200ms, 0ms, false},
      {"ten seconds ago counts as the maximum age (1 s)", kSlow, 6000ms, 1200ms, 10s, false},
  };
  for (const UpstreamCase& c : cases) {
    EXPECT_EQ(lag_is_upstream({c.verdict, c.lag}, c.parent_lag, c.report_age, 1s, {4, 400, t0, 7.6},
                              20ms),
              c.want)
        << c.name;
  }
}

}  // namespace
}  // namespace vt
