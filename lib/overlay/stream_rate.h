// StreamRate: the stream's rate as the source produced it, from the chunks a
// node received: their sequence numbers and source timestamps. Arrival times
// would lie (a parent resending history delivers seconds of stream in a
// moment; a repair delivers nothing for a while), and so would byte counts
// with chunks missing; the source's own clock and numbering do not. The
// rate is what a stripe-child costs (rate / K), so it sizes every budget.
//
// Pure: no clock.
//
//   StreamRate rate;
//   rate.add(chunk.seq, chunk.timestamp, chunk.payload.size());
//   double child_bps = rate.bits_per_s() / stripes;
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

#include "lib/stream/chunk.h"

namespace vt {

class StreamRate {
 public:
  // Chunks whose timestamps lie within `span` of the newest one count.
  explicit StreamRate(std::chrono::microseconds span = std::chrono::seconds(8)) : span_(span) {}

  void add(ChunkSeq seq, std::chrono::microseconds timestamp, std::size_t payload_bytes);

  // Payload bits per second, and chunks (of all stripes) per second, over
  // the chunks held; 0 until they span at least a second of stream.
  double bits_per_s() const;
  double chunks_per_s() const;

 private:
  struct Sample {
    ChunkSeq seq;
    std::chrono::microseconds timestamp;
    std::size_t bytes;
  };
  double seconds() const;
  std::chrono::microseconds span_;
  std::deque<Sample> samples_;           // in arrival order
  std::uint64_t bytes_ = 0;              // of samples_
  std::chrono::microseconds newest_{0};  // the newest timestamp added (O(1) per chunk)
};

}  // namespace vt
