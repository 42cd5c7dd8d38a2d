// The clock the whole stack reads: real steady time in production, virtual
// time under vt-sim (lib/sim installs a VirtualTime, see timer.h).
//
//   auto started = peers::Clock::now();
//   ...
//   auto took = peers::Clock::now() - started;
//
// Time points are std::chrono::steady_clock's, so values mix freely with code
// that was written against steady_clock; only now() differs. Production pays
// one predictable branch per call.
#pragma once

#include <chrono>

namespace peers {

class VirtualTime;

struct Clock {
  using duration = std::chrono::steady_clock::duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::steady_clock::time_point;
  static constexpr bool is_steady = true;

  static time_point now() noexcept {
    if (virtual_) [[unlikely]]
      return virtual_now_;
    return std::chrono::steady_clock::now();
  }
  // True while a VirtualTime is installed (vt-sim).
  static bool is_virtual() noexcept { return virtual_; }

 private:
  friend class VirtualTime;
  static inline bool virtual_ = false;
  static inline time_point virtual_now_{};
};

}  // namespace peers
