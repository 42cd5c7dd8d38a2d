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
// set them beside rpc.data_bulk (bench/rpc_bench.cc). No baseline.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "lib/crypto/session.h"
#include "lib/kernel/cli.h"
#include "lib/kernel/error.h"

namespace peers::bench {
namespace {

constexpr std::size_t kRecordSize = 16 * 1024;
constexpr int kBatch = 64;  // records per timed batch (1 MiB)

struct Rates {
  double seal = 0, open = 0;  // MB/s, medians
};

// Seals a batch of records, then opens them in order, for `seconds` in all;
// returns the median batch rate of each.
Rates measure(Cipher cipher, double seconds) {
  std::array<std::uint8_t, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 7 + 1);
  RecordCipher tx(cipher, key), rx(cipher, key);
  const char header[4] = {0, 0, 0x40, 0x10};  // authenticated like a record's length
  std::vector<std::string> records(kBatch);
  std::vector<double> seal_rates, open_rates;
  auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end || seal_rates.size() < 3) {
    for (auto& r : records) {
      r.reserve(kRecordSize + kRecordTagSize);
      r.assign(kRecordSize, 's');
    }
    auto t0 = Clock::now();
    for (auto& r : records) tx.seal(r, 0, std::string_view(header, 4));
    auto t1 = Clock::now();
    for (auto& r : records) {
      auto n = rx.open(r.data(), r.size(), std::string_view(header, 4));
      if (!n || *n != kRecordSize) throw Error(Errc::kInternal, "a sealed record did not open");
    }
    auto t2 = Clock::now();
    double mb = static_cast<double>(kBatch * kRecordSize) / 1e6;
    seal_rates.push_back(mb / std::chrono::duration<double>(t1 - t0).count());
    open_rates.push_back(mb / std::chrono::duration<double>(t2 - t1).count());
  }
  return {median(seal_rates), median(open_rates)};
}

}  // namespace
}  // namespace peers::bench

int main(int argc, char** argv) {
  using namespace peers::bench;
  peers::ToolCli cli("crypto_bench", "Measures record sealing and opening on one core.",
                     "crypto_bench --seconds 2");
  double seconds = 2;
  cli.app().add_option("--seconds", seconds, "Time per cipher");
  return cli.run(argc, argv, [&] {
    for (auto [cipher, name] : {std::pair{peers::Cipher::kAes256Gcm, "aes256gcm"},
                                std::pair{peers::Cipher::kChaCha20Poly1305, "chacha20poly1305"}}) {
      Rates r = measure(cipher, seconds);
      std::cout << to_json_line({std::string("crypto.seal_") + name, r.seal, "MB/s"}) << std::endl;
      std::cout << to_json_line({std::string("crypto.open_") + name, r.open, "MB/s"}) << std::endl;
    }
    return peers::kExitOk;
  });
}
