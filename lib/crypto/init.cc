#include "lib/crypto/init.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace peers {

void init_sodium() {
  // A function-local static is initialized once, and other threads wait for it.
  static const bool initialized = [] {
    if (sodium_init() < 0) {
      std::fputs("fatal: libsodium failed to initialize (no randomness source?)\n", stderr);
      std::abort();
    }
    return true;
  }();
  (void)initialized;
}

}  // namespace peers
