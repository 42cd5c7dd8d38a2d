#include "lib/overlay/tree_shape.h"

#include <cmath>

namespace vt {

int balanced_depth(double n, double f) {
  if (n <= 0) return 0;
  if (f <= 1) return static_cast<int>(std::ceil(n));
  double reach = 0, level = 1;
  int d = 0;
  while (reach < n) {
    level *= f;
    reach += level;
    ++d;
  }
  return d;
}

}  // namespace vt
