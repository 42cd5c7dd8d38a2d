// Modelled cryptography, for simulations only (vt-sim, "crypto": "modelled").
//
// While a CryptoModel exists, Identity::sign and peers::verify do no Ed25519:
// a signature is a keyed 64-bit hash of the message under a key that the
// model derives from the signer's public key and a secret of its own, so
// verify() still rejects what the key's holder did not sign (another
// signer, an altered or truncated message, a signature moved to another
// message). Nothing in the simulated protocol code can reach the model's
// secret: a node can only sign as itself, through its Identity. The model is
// not cryptography: it stops the simulated protocol from forging, not an
// attacker who reads this file.
//
// Each operation charges its cost (CryptoCosts, constants measured once on
// real libsodium, docs/simulator.md) to the node doing the work, through the
// charge function the simulator gives: vt-sim adds it to that host's CPU,
// which delays what the host does next in virtual time. The worker is the
// signer for sign(); for verify() it is whoever a Worker scope names (the
// node whose code runs), else the cost is counted as unattributed.
//
// Production never makes a CryptoModel: sign and verify then pay one test of
// a null pointer.
//
//   peers::CryptoModel model(peers::CryptoCosts::measured(), seed,
//                            [&](const peers::PublicKey& who, std::chrono::nanoseconds c) {
//                              net.charge_cpu(host_of(who), c);
//                            });
//   peers::Signature sig = identity.sign("hello");  // modelled, charged to identity
//   {
//     peers::CryptoModel::Worker as(verifier.public_key());
//     assert(peers::verify(identity.public_key(), "hello", sig));  // charged to verifier
//   }
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

#include "lib/crypto/keys.h"

namespace peers {

// What one operation costs on one core, as fixed + per byte of message.
struct CryptoCosts {
  std::chrono::nanoseconds sign_fixed{0}, verify_fixed{0};
  double sign_ns_per_byte = 0, verify_ns_per_byte = 0;
  // Record AEAD, per byte sealed or opened (charged by the simulated network).
  double seal_ns_per_byte = 0, open_ns_per_byte = 0;

  // Ed25519 (libsodium) and AES-256-GCM on this project's machine, measured
  // with bench/crypto_bench (docs/simulator.md has the run). Constants, so a
  // simulation is the same on every machine.
  static CryptoCosts measured();

  std::chrono::nanoseconds sign_cost(std::size_t bytes) const;
  std::chrono::nanoseconds verify_cost(std::size_t bytes) const;
};

class CryptoModel {
 public:
  using Charge = std::function<void(const PublicKey& worker, std::chrono::nanoseconds cost)>;

  // One per process (throws std::logic_error for a second). `secret` keys
  // every modelled signature; a simulation takes it from its seed.
  CryptoModel(CryptoCosts costs, std::uint64_t secret, Charge charge);
  ~CryptoModel();
  CryptoModel(const CryptoModel&) = delete;
  CryptoModel& operator=(const CryptoModel&) = delete;

  static CryptoModel* current() { return current_; }
  const CryptoCosts& costs() const { return costs_; }

  // What Identity::sign and peers::verify do while the model exists.
  Signature sign(const PublicKey& signer, std::string_view message);
  bool verify(const PublicKey& key, std::string_view message, const Signature& sig);

  // Names the node whose code runs, for the costs of verify() meanwhile.
  // Scopes nest; cheap enough to open on the production path (no model:
  // nothing is charged).
  class Worker {
   public:
    explicit Worker(const PublicKey& who) : saved_(worker_) { worker_ = &who; }
    ~Worker() { worker_ = saved_; }
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

   private:
    const PublicKey* saved_;
  };

  std::uint64_t signs() const { return signs_; }
  std::uint64_t verifies() const { return verifies_; }
  // Verifications with no Worker scope open: their cost went to no one.
  std::uint64_t unattributed() const { return unattributed_; }

 private:
  std::uint64_t key_of(const PublicKey& signer) const;
  Signature expand(std::uint64_t mac) const;

  static inline CryptoModel* current_ = nullptr;
  static inline const PublicKey* worker_ = nullptr;
  CryptoCosts costs_;
  std::uint64_t secret_;
  Charge charge_;
  std::uint64_t signs_ = 0, verifies_ = 0, unattributed_ = 0;
};

// A keyed 64-bit hash of bytes (wyhash's mixing): fast, not cryptographic.
std::uint64_t model_hash(std::uint64_t key, std::string_view bytes);

}  // namespace peers
