#include "lab/delay_queue.h"

#include <gtest/gtest.h>

namespace vt::lab {
namespace {

using std::chrono::milliseconds;

constexpr std::uint32_t kA = 0x0a4d0002;  // 10.77.0.2
constexpr std::uint32_t kB = 0x0a4d0003;
constexpr std::uint32_t kC = 0x0a4d0004;

Packet ipv4(std::uint32_t src, std::uint32_t dst, std::uint8_t tag, std::size_t size = 40) {
  Packet p(size, 0);
  p[0] = 0x45;
  for (int i = 0; i < 4; ++i) {
    p[12 + i] = static_cast<std::uint8_t>(src >> (24 - 8 * i));
    p[16 + i] = static_cast<std::uint8_t>(dst >> (24 - 8 * i));
  }
  p[size - 1] = tag;
  return p;
}

TEST(DelayQueue, HoldsForTheSumOfBothEndsDelays) {
  DelayQueue q({});
  q.set_delay(kA, milliseconds(10));
  q.set_delay(kB, milliseconds(25));
  Clock::time_point t0{};
  ASSERT_TRUE(q.push(ipv4(kA, kB, 1), t0));
  EXPECT_EQ(q.next_release(), t0 + milliseconds(35));
  EXPECT_FALSE(q.pop_due(t0 + milliseconds(34)));
  auto p = q.pop_due(t0 + milliseconds(35));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->back(), 1);
  EXPECT_EQ(q.size(), 0u);
}

TEST(DelayQueue, ReleasesInTimeOrderAndKeepsEachFlowInOrder) {
  DelayQueue q({.default_delay = milliseconds(1)});
  q.set_delay(kA, milliseconds(50));
  Clock::time_point t0{};
  q.push(ipv4(kA, kB, 1), t0);                    // due at 51
  q.push(ipv4(kB, kC, 2), t0);                    // due at 2
  q.push(ipv4(kA, kB, 3), t0);                    // due at 51, after 1
  q.push(ipv4(kB, kC, 4), t0 + milliseconds(1));  // due at 3
  std::vector<int> order;
  while (auto p = q.pop_due(t0 + milliseconds(100))) order.push_back(p->back());
  EXPECT_EQ(order, (std::vector<int>{2, 4, 1, 3}));
  EXPECT_EQ(q.stats().packets_out, 4u);
}

TEST(DelayQueue, DropsWhatIsNotIpv4AndWhatOverflows) {
  DelayQueue q({.max_bytes = 100});
  Clock::time_point t0{};
  Packet v6(60, 0);
  v6[0] = 0x60;
  EXPECT_FALSE(q.push(v6, t0));
  EXPECT_FALSE(q.push(Packet(10, 0x45), t0));
  EXPECT_TRUE(q.push(ipv4(kA, kB, 1, 60), t0));
  EXPECT_FALSE(q.push(ipv4(kA, kB, 2, 60), t0));
  EXPECT_EQ(q.stats().dropped_not_ipv4, 2u);
  EXPECT_EQ(q.stats().dropped_full, 1u);
  EXPECT_EQ(q.stats().peak_bytes, 60u);
}

}  // namespace
}  // namespace vt::lab
