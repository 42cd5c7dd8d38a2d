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
#include <iostream>
#include <string>
#include <utility>

#include "bench/cipher_rate.h"
#include "bench/harness.h"
#include "lib/crypto/session.h"
#include "lib/kernel/cli.h"
#include "lib/kernel/error.h"

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
    return peers::kExitOk;
  });
}
