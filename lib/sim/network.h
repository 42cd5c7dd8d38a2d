// A simulated network for vt-sim: hosts with an uplink and a downlink of
// their own rate, one-way delays from coordinates, loss as retransmission
// delay, hosts behind NAT that cannot be dialed, partitions and crashes.
// Everything runs in virtual time (peers::VirtualTime) on one thread, in an
// order fixed by the seed: the same seed gives the same trace.
//
//   peers::VirtualTime vt;
//   boost::asio::io_context io;
//   peers::sim::Network net(io.get_executor(), vt, /*seed=*/1);
//   auto a = net.add_host({.up_bps = 2e6, .x_ms = 10});
//   NodeOptions o;
//   o.network = net.transport(a);  // this node dials and listens on host a
//
// The model: a write fills the stream's send buffer (256 KiB, then
// would_block, as a socket). A host's uplink sends 16 KiB segments of its
// streams in turn (fair between streams) at its rate; a segment arrives
// after the pair's one-way delay (plus a retransmission timeout when lost),
// queues at the receiver's downlink, and is delivered in order. A stream
// sends at most a receive window (4 MiB) beyond what the reader took.
//
// A host's CPU (for modelled cryptography, lib/crypto/crypto_model.h): work
// charged to it is done in turn. Nothing the host sends starts on its uplink
// before the work charged so far is done, and what arrives for it is handed
// to its reader only when its CPU is free (in arrival order). With record
// costs set, each byte written costs sealing and each byte delivered costs
// opening. Without charges the CPU is always free and costs nothing.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "lib/kernel/clock.h"
#include "lib/kernel/timer.h"
#include "lib/rpc/transport.h"

namespace peers::sim {

struct HostSpec {
  double up_bps = 10e6;
  double down_bps = 50e6;
  bool nat = false;           // behind a NAT: dials out, cannot be dialed
  double x_ms = 0, y_ms = 0;  // position; one-way delay = distance (ms) + 1 ms
  // A one-way access delay added to every path to and from the host (the
  // network lab's per-node delay: one way from A to B is access(A) +
  // access(B), on top of the distance).
  double access_ms = 0;
};

struct HostStats {
  std::uint64_t bytes_up = 0;    // sent on the uplink
  std::uint64_t bytes_down = 0;  // delivered to this host
  std::uint64_t streams = 0;     // opened, all time
  Clock::duration cpu{};         // CPU work charged (charge_cpu, record costs)
};

class Host;
struct Flow;

class Network {
 public:
  Network(boost::asio::any_io_executor ex, VirtualTime& vt, std::uint64_t seed);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // A new host with the next free address (10.a.b.c); returns its index.
  std::size_t add_host(const HostSpec& spec);
  std::string ip(std::size_t host) const;
  // What a node on this host uses as NodeOptions::network.
  std::shared_ptr<rpc::Network> transport(std::size_t host);
  const HostStats& stats(std::size_t host) const;
  std::size_t hosts() const;

  // Probability that a segment is lost once (and retransmitted a timeout later).
  void set_loss(double p) { loss_ = p; }
  // Bytes an uplink sends of one stream before it turns to the next (16 KiB
  // by default). Smaller is closer to TCP, whose packets of different
  // connections interleave, and slower to simulate: a control message
  // waits behind at most one segment of video on a busy uplink.
  void set_segment_bytes(std::size_t n) { segment_bytes_ = n; }
  std::size_t segment_bytes() const { return segment_bytes_; }
  // Hosts of different non-zero groups cannot reach each other; 0 reaches all.
  void set_group(std::size_t host, int group);
  // Every stream of the host breaks (peers see a reset) and it accepts and
  // dials nothing until restore().
  void crash(std::size_t host);
  void restore(std::size_t host);

  // Work for the host's CPU, done after what was charged before.
  void charge_cpu(std::size_t host, Clock::duration cost);
  // Costs per byte of sealing (charged to the writer) and opening (to the
  // reader) records; 0 (the default) charges nothing.
  void set_record_costs(double seal_ns_per_byte, double open_ns_per_byte) {
    seal_ns_per_byte_ = seal_ns_per_byte;
    open_ns_per_byte_ = open_ns_per_byte;
  }

  Clock::duration one_way(const Host& a, const Host& b) const;
  bool reachable(const Host& from, const Host& to, bool dialing) const;

  // Internal, for the host and stream objects.
  VirtualTime& vt() { return vt_; }
  boost::asio::any_io_executor executor() { return ex_; }
  bool lose_segment();
  Host* find(const std::string& ip);
  void charge_cpu(Host& host, Clock::duration cost);
  Clock::duration seal_cost(std::size_t bytes) const;
  Clock::duration open_cost(std::size_t bytes) const;

 private:
  boost::asio::any_io_executor ex_;
  VirtualTime& vt_;
  std::mt19937_64 rng_;
  double loss_ = 0;
  std::size_t segment_bytes_ = 16 * 1024;
  double seal_ns_per_byte_ = 0, open_ns_per_byte_ = 0;
  std::vector<std::unique_ptr<Host>> hosts_;
  std::map<std::string, Host*> by_ip_;
};

}  // namespace peers::sim
