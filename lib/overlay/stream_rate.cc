#include "lib/overlay/stream_rate.h"

#include <algorithm>

namespace vt {

void StreamRate::add(ChunkSeq seq, std::chrono::microseconds timestamp, std::size_t payload_bytes) {
  samples_.push_back({seq, timestamp, payload_bytes});
  bytes_ += payload_bytes;
  // Drop what lies more than span_ before the newest timestamp (arrival
  // order is not timestamp order after a repair: look at the front only).
  newest_ = std::max(newest_, timestamp);
  while (samples_.size() > 2 && samples_.front().timestamp + span_ < newest_) {
    bytes_ -= samples_.front().bytes;
    samples_.pop_front();
  }
  while (samples_.size() > 4096) {
    bytes_ -= samples_.front().bytes;
    samples_.pop_front();
  }
}

double StreamRate::seconds() const {
  if (samples_.size() < 2) return 0;
  auto [lo, hi] = std::minmax_element(
      samples_.begin(), samples_.end(),
      [](const Sample& a, const Sample& b) { return a.timestamp < b.timestamp; });
  return std::chrono::duration<double>(hi->timestamp - lo->timestamp).count();
}

double StreamRate::chunks_per_s() const {
  double secs = seconds();
  if (secs < 1.0) return 0;
  auto [lo, hi] =
      std::minmax_element(samples_.begin(), samples_.end(),
                          [](const Sample& a, const Sample& b) { return a.seq < b.seq; });
  return static_cast<double>(hi->seq - lo->seq) / secs;
}

double StreamRate::bits_per_s() const {
  double per_s = chunks_per_s();
  if (per_s <= 0) return 0;
  // The stream's chunks per second times the average chunk held (chunks that
  // did not arrive are not counted either way).
  double avg = static_cast<double>(bytes_) / static_cast<double>(samples_.size());
  return per_s * avg * 8;
}

}  // namespace vt
