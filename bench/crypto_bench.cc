// crypto_bench: how fast one core seals and opens the records of a Peers
// connection (lib/crypto RecordCipher, libsodium underneath), for each cipher.
//
//   bazel build -c opt //bench:crypto_bench && bazel-out/k8-opt/bin/bench/crypto_bench
//
// Prints one JSON line per row on stdout (see bench/harness.h), MB/s of
// plaintext for 16 KiB records (the size of rpc_bench's bulk payloads):
//   crypto.seal_aes256gcm, crypto.open_aes256gcm,
//   crypto.seal_chacha20poly1305, crypto.open_chacha20poly1305
// These bound what an encrypted connection can move with one core per side:
// rpc_bench measures the open rate again in turns with rpc.data_bulk and
// reports their ratio (rpc.data_bulk_vs_aead). No baseline.
// Then microseconds per Ed25519 signature made and checked, for a 64-byte
// message and a 16 KiB one (a chunk): crypto.ed25519_sign_64,
// crypto.ed25519_verify_64, crypto.ed25519_sign_16k, crypto.ed25519_verify_16k.
// vt-sim's modelled cryptography charges these costs (lib/crypto/crypto_model.h).
#include <chrono>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "bench/cipher_rate.h"
#include "bench/harness.h"
#include "lib/crypto/identity.h"
#include "lib/crypto/session.h"
#include "lib/kernel/cli.h"
#include "lib/kernel/error.h"

namespace {

// Median microseconds per call of op over batches of 64, for about `seconds`.
template <typename Op>
double micros_per_op(double seconds, Op op) {
  std::vector<double> batches;
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (batches.size() < 3 || std::chrono::steady_clock::now() < end) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 64; ++i) op();
    batches.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
        64);
  }
  return peers::bench::median(batches);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace peers::bench;
  peers::ToolCli cli("crypto_bench", "Measures record sealing and opening on one core.",
                     "crypto_bench --seconds 2");
  double seconds = 2;
  cli.app().add_option("--seconds", seconds, "Time per cipher");
  return cli.run(argc, argv, [&] {
    for (auto [cipher, name] : {std::pair{peers::Cipher::kAes256Gcm, "aes256gcm"},
                                std::pair{peers::Cipher::kChaCha20Poly1305, "chacha20poly1305"}}) {
      CipherRates r = measure_cipher(cipher, seconds);
      std::cout << to_json_line({std::string("crypto.seal_") + name, r.seal, "MB/s"}) << std::endl;
      std::cout << to_json_line({std::string("crypto.open_") + name, r.open, "MB/s"}) << std::endl;
    }
    peers::Identity id = peers::Identity::generate();
    for (auto [size, name] :
         {std::pair{std::size_t{64}, "64"}, std::pair{kCipherRecordSize, "16k"}}) {
      std::string msg(size, 'm');
      peers::Signature sig = id.sign(msg);
      bool ok = true;
      double sign_us = micros_per_op(seconds / 2, [&] { sig = id.sign(msg); });
      double verify_us =
          micros_per_op(seconds / 2, [&] { ok = ok && peers::verify(id.public_key(), msg, sig); });
      if (!ok) throw peers::Error(peers::Errc::kInternal, "a signature did not verify");
      std::cout << to_json_line({std::string("crypto.ed25519_sign_") + name, sign_us, "us"})
                << std::endl;
      std::cout << to_json_line({std::string("crypto.ed25519_verify_") + name, verify_us, "us"})
                << std::endl;
    }
    return peers::kExitOk;
  });
}
