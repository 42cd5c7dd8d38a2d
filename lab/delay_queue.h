// The delay line's queue: IPv4 packets held for the sum of their source's and
// their destination's one-way access delay, released in time order.
//
// The network lab (docs/netlab.md) gives every node a one-way delay between it
// and the core of the network; a packet from A to B is late by delay(A) +
// delay(B), so a round trip between A and B takes 2 * (delay(A) + delay(B)).
// This header holds only the bookkeeping, with time passed in, so it can be
// tested without a TUN device; lab/delay_line.cc does the I/O.
//
//   vt::lab::DelayQueue q({.max_bytes = 64 << 20});
//   q.set_delay(ipv4("10.77.0.2"), std::chrono::milliseconds(20));
//   q.push(std::move(packet), now);            // false: dropped (see stats)
//   while (auto p = q.pop_due(now)) write(tun, p->data(), p->size());
//   auto next = q.next_release();              // arm a timer for it
//
// Not thread-safe: one thread owns a queue.
#ifndef VT_LAB_DELAY_QUEUE_H_
#define VT_LAB_DELAY_QUEUE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <queue>
#include <unordered_map>
#include <vector>

namespace vt::lab {

using Clock = std::chrono::steady_clock;
using Packet = std::vector<std::uint8_t>;

// What the queue did since it was made.
struct DelayQueueStats {
  std::uint64_t packets_in = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t packets_out = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t dropped_not_ipv4 = 0;  // too short, or not version 4
  std::uint64_t dropped_full = 0;      // the queue held max_bytes already
  std::size_t peak_packets = 0;
  std::size_t peak_bytes = 0;
};

// The IPv4 source and destination of a packet, or nothing when it is not one.
struct Ipv4Ends {
  std::uint32_t src;  // host byte order
  std::uint32_t dst;
};

inline std::optional<Ipv4Ends> ipv4_ends(const std::uint8_t* p, std::size_t n) {
  if (n < 20 || (p[0] >> 4) != 4) return std::nullopt;
  auto word = [p](std::size_t at) {
    return std::uint32_t{p[at]} << 24 | std::uint32_t{p[at + 1]} << 16 |
           std::uint32_t{p[at + 2]} << 8 | std::uint32_t{p[at + 3]};
  };
  return Ipv4Ends{word(12), word(16)};
}

class DelayQueue {
 public:
  struct Options {
    // A bound on what is held at once; past it, packets are dropped (a delay
    // line that hides a runaway sender by growing is not a network).
    std::size_t max_bytes = 64u << 20;
    // Delay of an address without a set_delay entry.
    Clock::duration default_delay{};
  };

  explicit DelayQueue(Options options) : options_(options) {}

  void set_delay(std::uint32_t addr, Clock::duration one_way) { delay_[addr] = one_way; }

  Clock::duration delay_of(std::uint32_t addr) const {
    auto it = delay_.find(addr);
    return it == delay_.end() ? options_.default_delay : it->second;
  }

  // Takes a packet that arrived at `now`. Returns false when it was dropped.
  bool push(Packet packet, Clock::time_point now) {
    auto ends = ipv4_ends(packet.data(), packet.size());
    if (!ends) {
      ++stats_.dropped_not_ipv4;
      return false;
    }
    if (bytes_ + packet.size() > options_.max_bytes) {
      ++stats_.dropped_full;
      return false;
    }
    ++stats_.packets_in;
    stats_.bytes_in += packet.size();
    bytes_ += packet.size();
    auto release = now + delay_of(ends->src) + delay_of(ends->dst);
    // The arrival number breaks ties, so packets with equal release times (and
    // so every flow, whose delay is constant) leave in arrival order.
    held_.push(Held{release, next_arrival_++, std::move(packet)});
    if (held_.size() > stats_.peak_packets) stats_.peak_packets = held_.size();
    if (bytes_ > stats_.peak_bytes) stats_.peak_bytes = bytes_;
    return true;
  }

  // The earliest packet whose release time is at or before `now`, if any.
  std::optional<Packet> pop_due(Clock::time_point now) {
    if (held_.empty() || held_.top().release > now) return std::nullopt;
    // priority_queue::top is const; the packet is moved out just before pop.
    Packet packet = std::move(const_cast<Held&>(held_.top()).packet);
    held_.pop();
    bytes_ -= packet.size();
    ++stats_.packets_out;
    stats_.bytes_out += packet.size();
    return packet;
  }

  std::optional<Clock::time_point> next_release() const {
    if (held_.empty()) return std::nullopt;
    return held_.top().release;
  }

  std::size_t size() const { return held_.size(); }
  std::size_t bytes() const { return bytes_; }
  const DelayQueueStats& stats() const { return stats_; }

 private:
  struct Held {
    Clock::time_point release;
    std::uint64_t arrival;
    Packet packet;
  };
  struct LaterFirst {
    bool operator()(const Held& a, const Held& b) const {
      if (a.release != b.release) return a.release > b.release;
      return a.arrival > b.arrival;
    }
  };

  Options options_;
  std::unordered_map<std::uint32_t, Clock::duration> delay_;
  std::priority_queue<Held, std::vector<Held>, LaterFirst> held_;
  std::size_t bytes_ = 0;
  std::uint64_t next_arrival_ = 0;
  DelayQueueStats stats_;
};

}  // namespace vt::lab

#endif  // VT_LAB_DELAY_QUEUE_H_
