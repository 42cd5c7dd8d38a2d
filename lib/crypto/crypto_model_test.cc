#include "lib/crypto/crypto_model.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <string>

#include "lib/crypto/identity.h"

namespace peers {
namespace {

Identity identity_of(std::uint8_t b) {
  std::array<std::uint8_t, kSeedSize> seed{};
  seed.fill(b);
  return Identity::from_seed(seed).value();
}

struct Charged {
  std::map<PublicKey, std::chrono::nanoseconds> by;
  CryptoModel::Charge fn() {
    return [this](const PublicKey& who, std::chrono::nanoseconds c) { by[who] += c; };
  }
};

TEST(CryptoModel, SignaturesVerifyUnderTheSignersKeyOnly) {
  Charged charged;
  CryptoModel model(CryptoCosts::measured(), 7, charged.fn());
  Identity source = identity_of(1), other = identity_of(2);
  std::string msg(16384, 'x');
  Signature sig = source.sign(msg);
  EXPECT_TRUE(verify(source.public_key(), msg, sig));
  // Signed by another key: a forgery under the source's key.
  EXPECT_FALSE(verify(source.public_key(), msg, other.sign(msg)));
  EXPECT_FALSE(verify(other.public_key(), msg, sig));
  // An altered byte anywhere, a truncated or extended message.
  for (std::size_t at : {std::size_t{0}, std::size_t{9}, msg.size() / 2, msg.size() - 1}) {
    std::string altered = msg;
    altered[at] ^= 1;
    EXPECT_FALSE(verify(source.public_key(), altered, sig)) << at;
  }
  EXPECT_FALSE(verify(source.public_key(), msg.substr(0, msg.size() - 1), sig));
  EXPECT_FALSE(verify(source.public_key(), msg + "y", sig));
  // Any bit of the signature.
  Signature bad = sig;
  bad[63] ^= 0x80;
  EXPECT_FALSE(verify(source.public_key(), msg, bad));
}

TEST(CryptoModel, AnotherSecretGivesOtherSignatures) {
  Identity source = identity_of(1);
  Signature a, b;
  {
    CryptoModel model(CryptoCosts::measured(), 1, {});
    a = source.sign("m");
  }
  {
    CryptoModel model(CryptoCosts::measured(), 2, {});
    b = source.sign("m");
    EXPECT_FALSE(verify(source.public_key(), "m", a));
  }
  EXPECT_NE(a, b);
}

TEST(CryptoModel, ChargesTheSignerAndTheWorker) {
  Charged charged;
  CryptoCosts costs = CryptoCosts::measured();
  CryptoModel model(costs, 7, charged.fn());
  Identity source = identity_of(1), relay = identity_of(2);
  std::string msg(1000, 'x');
  Signature sig = source.sign(msg);
  EXPECT_EQ(charged.by[source.public_key()], costs.sign_cost(1000));
  EXPECT_GT(costs.sign_cost(1000), costs.sign_fixed);
  {
    CryptoModel::Worker as(relay.public_key());
    EXPECT_TRUE(verify(source.public_key(), msg, sig));
    EXPECT_TRUE(verify(source.public_key(), msg, sig));
  }
  EXPECT_EQ(charged.by[relay.public_key()], 2 * costs.verify_cost(1000));
  EXPECT_EQ(model.unattributed(), 0u);
  // No scope: checked all the same, counted as charged to no one.
  EXPECT_TRUE(verify(source.public_key(), msg, sig));
  EXPECT_EQ(model.unattributed(), 1u);
  EXPECT_EQ(model.signs(), 1u);
  EXPECT_EQ(model.verifies(), 3u);
}

TEST(CryptoModel, RealSignaturesWithoutAModel) {
  Identity source = identity_of(1);
  Signature real = source.sign("m");
  {
    CryptoModel model(CryptoCosts::measured(), 7, {});
    EXPECT_FALSE(verify(source.public_key(), "m", real));
  }
  EXPECT_TRUE(verify(source.public_key(), "m", real));
  EXPECT_EQ(CryptoModel::current(), nullptr);
}

TEST(CryptoModel, HashDependsOnKeyAndEveryByte) {
  std::string s(100, 'a');
  std::uint64_t h = model_hash(1, s);
  EXPECT_EQ(h, model_hash(1, s));
  EXPECT_NE(h, model_hash(2, s));
  for (std::size_t i = 0; i < s.size(); ++i) {
    std::string t = s;
    t[i] = 'b';
    EXPECT_NE(h, model_hash(1, t)) << i;
  }
}

}  // namespace
}  // namespace peers
