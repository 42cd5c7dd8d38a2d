// Which accepted connections a node takes on: limits on strangers, so they
// cost little until they prove who they are. Not for other components.
//
// A node counts the connections it accepted: those still in the handshake,
// all of them, and all of them per remote address. A new one over a limit is
// closed at once, before anything is allocated for it. Connections this node
// dials are not counted: it chose them.
//
//   Admission admission(node_options);
//   if (auto r = admission.admit("192.0.2.7", false); r != Refusal::kNone) close(r);
//   ... handshake ...  admission.handshake_done();
//   ... closed ...     admission.release("192.0.2.7");
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "lib/rpc/node.h"

namespace peers::rpc::internal {

struct AdmissionCounts {
  std::size_t handshakes = 0;   // accepted, handshake not finished
  std::size_t connections = 0;  // accepted and not closed, handshakes included
};

enum class Refusal {
  kNone,
  kHandshakes,   // too many connections in the handshake
  kConnections,  // too many connections
  kAddress,      // too many connections from this address
};
std::string_view refusal_name(Refusal r);

// The decision for one new connection, given the counts before it and how
// many connections its address already has. The limits are max_handshakes,
// max_connections, max_connections_per_address, limit_loopback_per_address.
Refusal decide_admission(const AdmissionCounts& counts, std::size_t from_address, bool loopback,
                         const NodeOptions& limits);

class Admission {
 public:
  explicit Admission(const NodeOptions& limits) : limits_(limits) {}

  // Counts a new connection from `address` (an IP address, no port) in the
  // handshake, or says why it is refused (and counts nothing).
  Refusal admit(const std::string& address, bool loopback);
  // One admitted connection finished its handshake (either way).
  void handshake_done();
  // One admitted connection from `address` closed.
  void release(const std::string& address);

  AdmissionCounts counts() const;

 private:
  NodeOptions limits_;
  mutable std::mutex mu_;
  AdmissionCounts counts_;
  std::unordered_map<std::string, std::size_t> per_address_;
};

}  // namespace peers::rpc::internal
