#include "lib/overlay/stream_clock.h"

#include <gtest/gtest.h>

namespace vt {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;
using Clock = StreamClock::Clock;

// The source's clock and ours differ by an arbitrary offset: the source's
// stream began at its local time 1000 s, which is our local time 250 s.
const Clock::time_point kOurs{};
const Clock::time_point kOrigin = kOurs + 250s;  // stream clock 0, our time

std::uint64_t stream_at(Clock::time_point ours) {
  return static_cast<std::uint64_t>(duration_cast<microseconds>(ours - kOrigin).count());
}

TEST(StreamClock, UnknownUntilASample) {
  StreamClock c;
  EXPECT_FALSE(c.known());
  EXPECT_FALSE(c.behind_live(1s, kOurs + 300s));
  EXPECT_EQ(c.to_wire(kOurs + 300s), 0u);
  c.sample(kOurs + 300s, kOurs + 300s + 10ms, 0);  // the parent knows nothing either
  EXPECT_FALSE(c.known());
}

TEST(StreamClock, SymmetricRoundTripGivesTheExactClock) {
  StreamClock c;
  Clock::time_point sent = kOurs + 260s;
  // The parent answered in the middle of a 40 ms round trip.
  c.sample(sent, sent + 40ms, stream_at(sent + 20ms));
  EXPECT_EQ(*c.at(kOurs + 270s), 20s);
  // A chunk stamped 18.5 s, played at stream time 20 s: 1.5 s behind live.
  EXPECT_EQ(*c.behind_live(18500ms, kOurs + 270s), 1500ms);
}

TEST(StreamClock, KeepsTheShortestRoundTrip) {
  StreamClock c;
  Clock::time_point t = kOurs + 260s;
  c.sample(t, t + 20ms, stream_at(t + 10ms));  // exact
  // Then a reply that waited 400 ms behind queued video on the way back:
  // taken at the middle, it would put the clock 200 ms early.
  Clock::time_point t2 = kOurs + 261s;
  c.sample(t2, t2 + 410ms, stream_at(t2 + 5ms));
  EXPECT_EQ(*c.at(kOurs + 270s), 20s);
  EXPECT_EQ(*c.uncertainty(), 20ms);
}

TEST(StreamClock, ForgetsOldSamplesSoItFollowsAPathChange) {
  StreamClock c;
  Clock::time_point t = kOurs + 260s;
  c.sample(t, t + 2ms, stream_at(t + 1ms));
  for (int i = 1; i <= 16; ++i) {
    Clock::time_point ti = t + seconds(i);
    c.sample(ti, ti + 50ms, stream_at(ti + 25ms));
  }
  EXPECT_EQ(*c.uncertainty(), 50ms);
  EXPECT_EQ(*c.at(kOurs + 300s), 50s);
}

TEST(StreamClock, TheSourceBoundsItsOriginByPublishedChunks) {
  StreamClock c;
  // The chunk whose first byte came at stream time 2.0 s is published 30 ms
  // later; an earlier one (1.5 s) 80 ms later.
  c.bound_origin(kOrigin + 2030ms, 2000ms);
  c.bound_origin(kOrigin + 1580ms, 1500ms);
  EXPECT_EQ(*c.at(kOrigin + 3s), 2970ms);  // within the smallest flush delay
  // Samples do not move an exact clock.
  c.sample(kOurs + 260s, kOurs + 260s + 10ms, 1);
  EXPECT_EQ(*c.at(kOrigin + 3s), 2970ms);
  EXPECT_EQ(c.to_wire(kOrigin + 3s), 2970000u);
}

TEST(StreamClock, AChunkFromTheFutureIsNotBehind) {
  StreamClock c;
  c.set_origin(kOrigin);
  EXPECT_EQ(*c.behind_live(10s, kOrigin + 9s), 0us);
}

}  // namespace
}  // namespace vt
