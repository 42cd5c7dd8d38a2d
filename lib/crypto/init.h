// One-time initialization of libsodium, the cryptography library.
//
// Every function of lib/crypto calls init_sodium() before it touches
// libsodium, so callers of lib/crypto never need to. Code that calls libsodium
// directly (outside lib/crypto) calls it first too.
//
//   peers::init_sodium();
//   randombytes_buf(nonce, sizeof nonce);
#pragma once

namespace peers {

// Initializes libsodium exactly once per process. Safe to call from any
// thread, any number of times. If libsodium cannot initialize (no source of
// randomness), the process cannot make or check keys safely: it prints a line
// on stderr and aborts.
void init_sodium();

}  // namespace peers
