#include "lib/overlay/uplink.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace vt {
namespace {

using namespace std::chrono_literals;
using Clock = UplinkEstimator::Clock;

// Feeds `seconds` of samples every 250 ms at `payload_bps`, with the given
// queue delay; returns the byte counter afterwards.
std::uint64_t run(UplinkEstimator& up, Clock::time_point& now, std::uint64_t bytes,
                  double payload_bps, double seconds, std::chrono::microseconds delay) {
  for (double t = 0; t < seconds; t += 0.25) {
    now += 250ms;
    bytes += static_cast<std::uint64_t>(payload_bps / 8 * 0.25);
    up.sample(now, bytes, delay);
  }
  return bytes;
}

TEST(UplinkEstimator, BudgetsWithHeadroom) {
  UplinkEstimator up({.ceiling_bps = 20e6, .initial_bps = 1e9});
  EXPECT_DOUBLE_EQ(up.estimate_bps(), 20e6);
  // 85 % of 20 Mbit/s, less 7 % wire overhead: 15.9 Mbit/s of payload, 31
  // children of a 0.5 Mbit/s stripe (declaring 20M used to buy 40).
  EXPECT_NEAR(up.budget_bps(), 20e6 * 0.85 / 1.07, 1);
  EXPECT_EQ(up.child_budget(0.5e6), 31u);
}

TEST(UplinkEstimator, StartsBelowAHighCeilingAndGrowsOnlyByUse) {
  // Declares 60 Mbit/s; starts at what its default children need.
  UplinkEstimator up({.ceiling_bps = 60e6, .initial_bps = 10e6});
  EXPECT_DOUBLE_EQ(up.estimate_bps(), 10e6);
  Clock::time_point now{};
  run(up, now, 0, 1e6, 20, 0ms);  // little used: no growth
  EXPECT_DOUBLE_EQ(up.estimate_bps(), 10e6);
}

TEST(UplinkEstimator, ALiarsEstimateFallsToWhatItsUplinkCarries) {
  // Declares 20 Mbit/s; the line carries 1 Mbit/s, so queues grow.
  UplinkEstimator up({.ceiling_bps = 20e6, .initial_bps = 1e9});
  Clock::time_point now{};
  std::uint64_t bytes = 0;
  bytes = run(up, now, bytes, 0.93e6, 3, 2s);
  EXPECT_TRUE(up.congested());
  EXPECT_EQ(up.cuts(), 1u);
  EXPECT_DOUBLE_EQ(up.estimate_bps(), 10e6) << "at most half per window";
  bytes = run(up, now, bytes, 0.93e6, 8, 2s);
  EXPECT_NEAR(up.estimate_bps(), 0.93e6 * 1.07, 0.05e6);
  EXPECT_EQ(up.child_budget(0.5e6), 1u);
  // And it stays there while the queue stays long.
  run(up, now, bytes, 0.93e6, 10, 2s);
  EXPECT_LT(up.estimate_bps(), 1.1e6);
}

TEST(UplinkEstimator, ProbesUpWhenUsedAndUncongestedNeverPastTheCeiling) {
  UplinkEstimator up({.ceiling_bps = 8e6, .initial_bps = 1e9});
  Clock::time_point now{};
  std::uint64_t bytes = run(up, now, 0, 0.9e6, 8, 2s);  // congestion, halving per window
  double low = up.estimate_bps();
  ASSERT_LT(low, 1.1e6);
  // The queue drained; children take the whole budget as it grows and the
  // uplink carries it: after the cut's minute, the estimate grows with what
  // is delivered.
  for (int i = 0; i < 480; ++i) {
    now += 250ms;
    bytes += static_cast<std::uint64_t>(std::min(up.budget_bps(), 7e6) / 8 * 0.25);
    up.sample(now, bytes, 0ms);
  }
  EXPECT_GT(up.estimate_bps(), low * 1.2);
  EXPECT_LE(up.estimate_bps(), 8e6);
  run(up, now, bytes, 7e6, 60, 0ms);
  EXPECT_DOUBLE_EQ(up.estimate_bps(), 8e6);
}

TEST(UplinkEstimator, NeverProbesFarPastWhatWasDelivered) {
  // Declares 60 Mbit/s; the children acknowledge 1 Mbit/s (the rest waits
  // in socket buffers, unseen by the queue-delay sample): the estimate
  // stops where the budget is a quarter past what was delivered.
  UplinkEstimator up({.ceiling_bps = 60e6, .initial_bps = 1e6});
  Clock::time_point now{};
  run(up, now, 0, 1e6, 60, 0ms);
  EXPECT_LE(up.estimate_bps(), 1e6 * 1.25 * 1.07 / 0.85 + 1);
  EXPECT_LE(up.child_budget(0.5e6), 2u);
}

TEST(UplinkEstimator, ProbingOffersRoomAQuarterPastWhatItFeeds) {
  // Ten children of a 0.5 Mbit/s stripe, all fed, nothing waiting. A step of
  // x1.25 past the wire rate, less the headroom, paid for 10.6 children: the
  // node held its ten while newcomers were refused. The budget is offered a
  // quarter past the goodput: 12 children (two or three newcomers a window,
  // not one). Never past the ceiling, and one window's growth at most x1.25.
  for (double step : {0.0, 0.5e6}) {
    UplinkEstimator up({.ceiling_bps = 20e6, .initial_bps = 6.3e6});
    up.set_probe_step(step);
    ASSERT_EQ(up.child_budget(0.5e6), 10u);
    Clock::time_point now{};
    run(up, now, 0, 5e6, 10, 0ms);
    EXPECT_EQ(up.child_budget(0.5e6), 12u) << "step " << step;
  }
  // A node that delivers 1 Mbit/s (two children) is offered a third, not
  // more, however high its ceiling.
  UplinkEstimator liar({.ceiling_bps = 60e6, .initial_bps = 1e6});
  liar.set_probe_step(0.5e6);
  Clock::time_point now{};
  run(liar, now, 0, 1e6, 60, 0ms);
  EXPECT_EQ(liar.child_budget(0.5e6), 3u);
}

TEST(UplinkEstimator, AfterACutProbingStopsAtWhatWasCarriedForAWhile) {
  // Believed at 8 Mbit/s; the queue grows while 5 Mbit/s leave: cut to 5.
  // Busy but uncongested at 4.6 it may not probe past 5 (where the queue
  // grew) until cut_memory (60 s) has passed; then one step past what it
  // delivers.
  UplinkEstimator up({.ceiling_bps = 20e6, .initial_bps = 8e6});
  Clock::time_point now{};
  std::uint64_t bytes = run(up, now, 0, 5e6 / 1.07, 3, 1s);
  ASSERT_EQ(up.cuts(), 1u);
  EXPECT_NEAR(up.estimate_bps(), 5e6, 0.1e6);
  bytes = run(up, now, bytes, 4.6e6 / 1.07, 40, 0ms);
  EXPECT_NEAR(up.estimate_bps(), 5e6, 0.1e6);
  run(up, now, bytes, 4.6e6 / 1.07, 30, 0ms);
  EXPECT_GT(up.estimate_bps(), 5.5e6);
  EXPECT_LE(up.estimate_bps(), 4.6e6 * 1.25 / 0.85 + 1);
}

TEST(UplinkEstimator, ABuildingQueueHoldsTheEstimate) {
  // Busy, and chunks wait 300 ms to leave: not congested (600 ms), but not
  // free either: no probing.
  UplinkEstimator up({.ceiling_bps = 60e6, .initial_bps = 4e6});
  Clock::time_point now{};
  run(up, now, 0, 3.2e6, 30, 300ms);
  EXPECT_DOUBLE_EQ(up.estimate_bps(), 4e6);
  EXPECT_EQ(up.cuts(), 0u);
}

TEST(UplinkEstimator, IdleNodeKeepsItsEstimate) {
  UplinkEstimator up({.ceiling_bps = 10e6, .initial_bps = 1e9});
  Clock::time_point now{};
  run(up, now, 0, 0, 20, 0ms);
  EXPECT_DOUBLE_EQ(up.estimate_bps(), 10e6);
  EXPECT_FALSE(up.congested());
}

TEST(UplinkEstimator, WithoutACeilingStartsModestlyAndFollowsWhatItCarries) {
  UplinkEstimator up({});
  EXPECT_DOUBLE_EQ(up.estimate_bps(), 2e6);
  Clock::time_point now{};
  // Uncongested while carrying more than the estimate: it follows, a
  // probe step (x1.25) at a time, never in one jump (a burst into fresh
  // flow-control windows can overstate what the uplink carried).
  std::uint64_t bytes = run(up, now, 0, 5e6, 2, 0ms);
  EXPECT_LE(up.estimate_bps(), 2e6 * 1.25 * 1.25 + 1);
  run(up, now, bytes, 5e6, 10, 0ms);
  EXPECT_GE(up.estimate_bps(), 5e6);
}

TEST(UplinkEstimator, NeverBelowTheFloorAndOneCutPerWindow) {
  UplinkEstimator up({.ceiling_bps = 4e6, .initial_bps = 1e9});
  Clock::time_point now{};
  run(up, now, 0, 0, 1.5, 5s);  // congested but nothing left: a dead uplink
  EXPECT_DOUBLE_EQ(up.estimate_bps(), 4e6) << "no decision before a full window";
  run(up, now, 0, 0, 1, 5s);
  EXPECT_DOUBLE_EQ(up.estimate_bps(), 2e6) << "half per window";
  EXPECT_EQ(up.cuts(), 1u);
  run(up, now, 0, 0, 20, 5s);
  EXPECT_DOUBLE_EQ(up.estimate_bps(), 64e3);
  EXPECT_EQ(up.child_budget(0.5e6), 0u);
}

TEST(UplinkEstimator, UnknownStripeRateCountsAsAQuarterMegabit) {
  UplinkEstimator up({.ceiling_bps = 1e6, .initial_bps = 1e9});
  EXPECT_EQ(up.child_budget(0), 3u);  // 0.79 Mbit/s / 0.25
}

TEST(UplinkEstimator, RoomToGrowWhileChunksLeaveAtOnceBelowTheCeilingAndPastCuts) {
  UplinkEstimator up({.ceiling_bps = 9e6, .initial_bps = 4e6});
  up.set_probe_step(0.5e6);
  Clock::time_point now{};
  EXPECT_FALSE(up.room_to_grow(now)) << "nothing measured yet";
  std::uint64_t bytes = run(up, now, 0, 3e6, 3, 10ms);
  EXPECT_TRUE(up.room_to_grow(now));
  // A queue building (below the congestion mark): no.
  bytes = run(up, now, bytes, 3e6, 0.25, 300ms);
  EXPECT_FALSE(up.room_to_grow(now));
  bytes = run(up, now, bytes, 3e6, 0.25, 10ms);
  EXPECT_TRUE(up.room_to_grow(now));
  // Congested: no; after the cut, not at the level of the cut for a while.
  bytes = run(up, now, bytes, 2e6, 3, 1s);
  EXPECT_FALSE(up.room_to_grow(now));
  bytes = run(up, now, bytes, 2e6, 5, 10ms);
  EXPECT_FALSE(up.room_to_grow(now)) << up.estimate_bps();
  run(up, now, bytes, 2e6, 70, 10ms);
  EXPECT_TRUE(up.room_to_grow(now));
}

TEST(UplinkEstimator, NoRoomToGrowWhenOneChildMoreWouldPassTheCeiling) {
  // At the ceiling of 4 Mbit/s: 6 children of 0.5 Mbit/s; a seventh is
  // past it.
  UplinkEstimator up({.ceiling_bps = 4e6, .initial_bps = 4e6});
  up.set_probe_step(0.5e6);
  Clock::time_point now{};
  run(up, now, 0, 3e6, 3, 10ms);
  EXPECT_EQ(up.child_budget(0.5e6), 6u);
  EXPECT_FALSE(up.room_to_grow(now));
}

TEST(UplinkEstimator, CarriesWhatTheCeilingOrARecentCutSays) {
  auto t = UplinkEstimator::Clock::time_point{} + 100s;
  UplinkEstimator up({.ceiling_bps = 2e6, .initial_bps = 2e6});
  // Three children of 0.5 Mbit/s fit the budget (85 %), a fourth passes
  // the declared uplink once the wire's 7 % is added.
  EXPECT_EQ(up.child_budget(0.5e6), 3u);
  EXPECT_TRUE(up.carries(t, 3 * 0.5e6));
  EXPECT_FALSE(up.carries(t, 4 * 0.5e6));
  // With no ceiling, an estimate nothing measured yet is no limit.
  UplinkEstimator open({.initial_bps = 1e6});
  EXPECT_TRUE(open.carries(t, 4e6));
  // A cut measured the uplink at 5 Mbit/s: that is the limit for a minute.
  UplinkEstimator cut({.ceiling_bps = 20e6, .initial_bps = 8e6});
  Clock::time_point now{};
  run(cut, now, 0, 5e6 / 1.07, 3, 1s);
  ASSERT_EQ(cut.cuts(), 1u);
  EXPECT_TRUE(cut.carries(now, 4.5e6));
  EXPECT_FALSE(cut.carries(now, 5e6));
  EXPECT_TRUE(cut.carries(now + 61s, 5e6));
}

TEST(PathWait, BacklogDrainsAtTheConnectionsDeliveryRateNotTheEstimate) {
  peers::rpc::TcpPath path;
  path.ok = true;
  path.min_rtt_ms = 40;
  path.srtt_ms = 90;  // 50 ms queued at the bottleneck
  path.notsent_bytes = 125000;
  path.delivery_rate_bps = 1e6;  // 1 s to send the backlog
  bool counted = false;
  EXPECT_EQ(path_wait(path, counted), 1050ms);
  EXPECT_TRUE(counted);
  // No rate measured: only the round trip's growth; the caller counts the
  // backlog against its estimate.
  path.delivery_rate_bps = 0;
  EXPECT_EQ(path_wait(path, counted), 50ms);
  EXPECT_FALSE(counted);
  // A round trip below its minimum (a new minimum not yet read) waits 0.
  path.srtt_ms = 30;
  EXPECT_EQ(path_wait(path, counted), 0ms);
}

}  // namespace
}  // namespace vt
