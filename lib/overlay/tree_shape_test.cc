#include "lib/overlay/tree_shape.h"

#include <gtest/gtest.h>

namespace vt {
namespace {

TEST(BalancedDepth, SmallestDepthWhoseLevelsHoldEveryReceiver) {
  EXPECT_EQ(balanced_depth(0, 4), 0);
  EXPECT_EQ(balanced_depth(1, 4), 1);
  EXPECT_EQ(balanced_depth(4, 4), 1);
  EXPECT_EQ(balanced_depth(5, 4), 2);
  EXPECT_EQ(balanced_depth(20, 4), 2);
  EXPECT_EQ(balanced_depth(21, 4), 3);
  EXPECT_EQ(balanced_depth(199, 4.5), 4);  // overlay200 at its measured fan-out
  EXPECT_EQ(balanced_depth(199, 8), 3);    // ... and at a relay's 8 children
}

TEST(BalancedDepth, AFanOutOfOneIsAChain) {
  EXPECT_EQ(balanced_depth(7, 1), 7);
  EXPECT_EQ(balanced_depth(2.5, 0.5), 3);
}

}  // namespace
}  // namespace vt
