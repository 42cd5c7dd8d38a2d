#include "lib/rpc/internal/admission.h"

namespace peers::rpc::internal {

std::string_view refusal_name(Refusal r) {
  switch (r) {
    case Refusal::kNone:
      return "none";
    case Refusal::kHandshakes:
      return "too_many_handshakes";
    case Refusal::kConnections:
      return "too_many_connections";
    case Refusal::kAddress:
      return "too_many_from_address";
  }
  return "unknown";
}

Refusal decide_admission(const AdmissionCounts& counts, std::size_t from_address, bool loopback,
                         const NodeOptions& limits) {
  if (counts.connections >= limits.max_connections) return Refusal::kConnections;
  if ((!loopback || limits.limit_loopback_per_address) &&
      from_address >= limits.max_connections_per_address) {
    return Refusal::kAddress;
  }
  if (counts.handshakes >= limits.max_handshakes) return Refusal::kHandshakes;
  return Refusal::kNone;
}

Refusal Admission::admit(const std::string& address, bool loopback) {
  std::lock_guard lock(mu_);
  auto it = per_address_.find(address);
  Refusal r =
      decide_admission(counts_, it == per_address_.end() ? 0 : it->second, loopback, limits_);
  if (r != Refusal::kNone) return r;
  ++counts_.handshakes;
  ++counts_.connections;
  ++per_address_[address];
  return r;
}

void Admission::handshake_done() {
  std::lock_guard lock(mu_);
  --counts_.handshakes;
}

void Admission::release(const std::string& address) {
  std::lock_guard lock(mu_);
  --counts_.connections;
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

AdmissionCounts Admission::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace peers::rpc::internal
