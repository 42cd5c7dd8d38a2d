#include "lib/crypto/keys.h"

#include <sodium.h>

#include "lib/crypto/crypto_model.h"
#include "lib/crypto/init.h"

namespace peers {

static_assert(kPublicKeySize == crypto_sign_PUBLICKEYBYTES);
static_assert(kSeedSize == crypto_sign_SEEDBYTES);
static_assert(kSignatureSize == crypto_sign_BYTES);

bool verify(const PublicKey& key, std::string_view message, const Signature& sig) {
  if (auto* model = CryptoModel::current()) return model->verify(key, message, sig);
  init_sodium();
  return crypto_sign_verify_detached(sig.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.data()) == 0;
}

}  // namespace peers
