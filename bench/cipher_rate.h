// How fast one core seals and opens the records of a Peers connection
// (lib/crypto RecordCipher, libsodium underneath): what an encrypted
// connection can move at most with one core per side. Used by the crypto
// group (bench/crypto_bench.cc) and, in turns with the encrypted bulk
// benchmark it bounds, by the rpc group (bench/rpc_bench.cc).
//
//   CipherRates r = measure_cipher(Cipher::kAes256Gcm, 1.0);
//   std::cout << r.open << " MB/s opened\n";
#pragma once

#include <cstddef>

#include "lib/crypto/session.h"

namespace peers::bench {

// The size of the records measured: rpc_bench's bulk payload size.
inline constexpr std::size_t kCipherRecordSize = 16 * 1024;

struct CipherRates {
  double seal = 0, open = 0;  // MB/s of plaintext, medians of the batches
};

// Seals batches of 64 records of kCipherRecordSize bytes, then opens them in
// order, on the calling thread, for about `seconds` in all (at least three
// batches); returns the median batch rate of each. Throws peers::Error if a
// sealed record does not open.
CipherRates measure_cipher(Cipher cipher, double seconds);

}  // namespace peers::bench
