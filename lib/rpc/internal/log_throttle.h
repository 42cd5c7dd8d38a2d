// At most one log line per interval for each kind of line, with a count of
// the lines held back. Not for other components.
//
// A flood (thousands of refused connections, an accept loop out of file
// descriptors, handshakes timing out by the hundred) must not turn into a
// flood of stderr. The first line of a kind is written; lines of that kind
// within `interval` after it are counted instead; the next line written says
// how many were held back, and so does a summary once the interval is over
// (due()), so no count is lost when the flood stops.
//
//   LogThrottle throttle;
//   if (auto held = throttle.admit("refused:handshakes", now))
//     log_warn("connection refused", {{"held_back", std::to_string(*held)}});
//   for (auto& d : throttle.due(later)) log_warn(d.kind + ": held back", ...);
//
// Not thread-safe: the caller locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace peers::rpc::internal {

class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LogThrottle(Clock::duration interval = std::chrono::seconds(1)) : interval_(interval) {}

  // Whether a line of `kind` may be written at `now`. If so, how many lines of
  // that kind were held back since the last one written; if not, this one is
  // counted.
  std::optional<std::uint64_t> admit(std::string_view kind, Clock::time_point now) {
    auto it = kinds_.find(kind);
    if (it == kinds_.end()) it = kinds_.emplace(std::string(kind), State{}).first;
    State& s = it->second;
    if (s.written && now - s.last < interval_) {
      ++s.held_back;
      return std::nullopt;
    }
    std::uint64_t held = s.held_back;
    s = State{true, now, 0};
    return held;
  }

  struct Due {
    std::string kind;
    std::uint64_t held_back = 0;
  };
  // The kinds with lines held back whose interval is over at `now`: write one
  // summary line for each (it counts as that kind's line for the next
  // interval).
  std::vector<Due> due(Clock::time_point now) {
    std::vector<Due> out;
    for (auto& [kind, s] : kinds_) {
      if (s.held_back > 0 && now - s.last >= interval_) {
        out.push_back({kind, s.held_back});
        s = State{true, now, 0};
      }
    }
    return out;
  }

  // When the earliest interval with lines held back ends; nullopt if none.
  std::optional<Clock::time_point> next_due() const {
    std::optional<Clock::time_point> t;
    for (const auto& [kind, s] : kinds_) {
      if (s.held_back > 0 && (!t || s.last + interval_ < *t)) t = s.last + interval_;
    }
    return t;
  }

 private:
  struct State {
    bool written = false;
    Clock::time_point last{};
    std::uint64_t held_back = 0;
  };
  Clock::duration interval_;
  std::map<std::string, State, std::less<>> kinds_;
};

}  // namespace peers::rpc::internal
