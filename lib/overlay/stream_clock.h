// StreamClock: this node's estimate of the stream clock, the source's
// monotonic clock counted from the stream's first input, which chunk
// timestamps are on. Clocks of different machines are not synchronized, so
// the estimate is learned the way NTP does: a parent states its own estimate
// in each heartbeat reply; the child takes it as valid at the middle of the
// round trip, and keeps the sample of the shortest round trip among the
// recent ones (queueing only ever makes a round trip longer, and a long one
// says little about when the parent answered). Errors add up along the path
// from the source, half a round trip's asymmetry per hop at worst.
//
// With it a node knows how far behind live it plays: now on the stream clock
// minus the timestamp of the chunk it is playing.
//
// Pure: times come in from the caller.
//
//   StreamClock clock;
//   clock.sample(sent_at, received_at, reply.stream_clock_us);
//   if (auto behind = clock.behind_live(chunk.timestamp, now)) ...
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace vt {

class StreamClock {
 public:
  using Clock = std::chrono::steady_clock;

  // The source: the stream clock's origin is known exactly (or bounded
  // above: call it with every chunk published, as now - chunk timestamp).
  void set_origin(Clock::time_point origin);
  void bound_origin(Clock::time_point now, std::chrono::microseconds chunk_timestamp);

  // A heartbeat sent at `sent`, answered with `stream_clock_us` (0: the parent
  // has no estimate) and received at `received`.
  void sample(Clock::time_point sent, Clock::time_point received, std::uint64_t stream_clock_us);

  bool known() const { return origin_.has_value(); }
  // The stream clock at local time `now`; nullopt while unknown.
  std::optional<std::chrono::microseconds> at(Clock::time_point now) const;
  // What to send in a heartbeat reply: the stream clock now, or 0.
  std::uint64_t to_wire(Clock::time_point now) const;
  // How far the chunk stamped `timestamp` is behind live at `now` (never
  // negative: an estimate that puts a chunk in the future counts as 0).
  std::optional<std::chrono::microseconds> behind_live(std::chrono::microseconds timestamp,
                                                       Clock::time_point now) const;
  // The round trip of the sample in use (uncertainty is at most half of it).
  std::optional<std::chrono::microseconds> uncertainty() const;

 private:
  struct Sample {
    Clock::duration rtt;
    Clock::time_point origin;
  };
  static constexpr std::size_t kSamples = 16;
  std::deque<Sample> samples_;
  std::optional<Clock::time_point> origin_;  // local time at stream clock 0
  std::optional<Clock::duration> rtt_;
  bool exact_ = false;
};

}  // namespace vt
