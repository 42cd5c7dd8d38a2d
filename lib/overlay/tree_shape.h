// How deep a distribution tree needs to be: the yardstick of issue 11's
// "at most 2 levels deeper than a balanced tree of the same fan-out", shared
// by scripts/bench overlay200 (bench/overlay_bench.cc) and vt-sim's summary.
//
//   int d = vt::balanced_depth(199, 4.5);  // 4: 4.5 + 20.25 + 91.1 + 410 >= 199
#pragma once

namespace vt {

// The depth a balanced tree of fan-out f needs for n receivers: the smallest
// d with f + f^2 + ... + f^d >= n; n itself (a chain) when f <= 1; 0 for no
// receivers.
int balanced_depth(double n, double f);

}  // namespace vt
