#include "bench/cipher_rate.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/harness.h"
#include "lib/kernel/error.h"

namespace peers::bench {

namespace {
constexpr int kBatch = 64;  // records per timed batch (1 MiB)
}  // namespace

CipherRates measure_cipher(Cipher cipher, double seconds) {
  std::array<std::uint8_t, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 7 + 1);
  RecordCipher tx(cipher, key), rx(cipher, key);
  const char header[4] = {0, 0, 0x40, 0x10};  // authenticated like a record's length
  std::vector<std::string> records(kBatch);
  std::vector<double> seal_rates, open_rates;
  auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end || seal_rates.size() < 3) {
    for (auto& r : records) {
      r.reserve(kCipherRecordSize + kRecordTagSize);
      r.assign(kCipherRecordSize, 's');
    }
    auto t0 = Clock::now();
    for (auto& r : records) tx.seal(r, 0, std::string_view(header, 4));
    auto t1 = Clock::now();
    for (auto& r : records) {
      auto n = rx.open(r.data(), r.size(), std::string_view(header, 4));
      if (!n || *n != kCipherRecordSize) {
        throw Error(Errc::kInternal, "a sealed record did not open");
      }
    }
    auto t2 = Clock::now();
    double mb = static_cast<double>(kBatch * kCipherRecordSize) / 1e6;
    seal_rates.push_back(mb / std::chrono::duration<double>(t1 - t0).count());
    open_rates.push_back(mb / std::chrono::duration<double>(t2 - t1).count());
  }
  return {median(seal_rates), median(open_rates)};
}

}  // namespace peers::bench
