#include "lib/overlay/stream_clock.h"

#include <algorithm>

namespace vt {

using namespace std::chrono;

void StreamClock::set_origin(Clock::time_point origin) {
  origin_ = origin;
  rtt_ = Clock::duration::zero();
  exact_ = true;
}

void StreamClock::bound_origin(Clock::time_point now, microseconds chunk_timestamp) {
  // The chunk's first byte came in at origin + timestamp <= now.
  Clock::time_point bound = now - chunk_timestamp;
  if (!origin_ || bound < *origin_) origin_ = bound;
  rtt_ = Clock::duration::zero();
  exact_ = true;
}

void StreamClock::sample(Clock::time_point sent, Clock::time_point received,
                         std::uint64_t stream_clock_us) {
  if (exact_ || stream_clock_us == 0 || received < sent) return;
  Clock::duration rtt = received - sent;
  Clock::time_point mid = sent + rtt / 2;
  samples_.push_back({rtt, mid - microseconds(stream_clock_us)});
  while (samples_.size() > kSamples) samples_.pop_front();
  const Sample* best = &samples_.front();
  for (const Sample& s : samples_) {
    if (s.rtt < best->rtt) best = &s;
  }
  origin_ = best->origin;
  rtt_ = best->rtt;
}

std::optional<microseconds> StreamClock::at(Clock::time_point now) const {
  if (!origin_) return std::nullopt;
  return duration_cast<microseconds>(now - *origin_);
}

std::uint64_t StreamClock::to_wire(Clock::time_point now) const {
  auto t = at(now);
  if (!t || t->count() <= 0) return 0;
  return static_cast<std::uint64_t>(t->count());
}

std::optional<microseconds> StreamClock::behind_live(microseconds timestamp,
                                                     Clock::time_point now) const {
  auto t = at(now);
  if (!t) return std::nullopt;
  return std::max(microseconds(0), *t - timestamp);
}

std::optional<microseconds> StreamClock::uncertainty() const {
  if (!rtt_) return std::nullopt;
  return duration_cast<microseconds>(*rtt_);
}

}  // namespace vt
