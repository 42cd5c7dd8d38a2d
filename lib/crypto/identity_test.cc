#include "lib/crypto/identity.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <set>
#include <vector>

#include "lib/kernel/hex.h"

namespace peers {
namespace {

template <std::size_t N>
std::array<std::uint8_t, N> from_hex(std::string_view hex) {
  std::array<std::uint8_t, N> out{};
  std::size_t size = 0;
  EXPECT_EQ(sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &size, nullptr),
            0);
  EXPECT_EQ(size, N);
  return out;
}

// RFC 8032, section 7.1, TEST 1 (empty message) and TEST 2 (one byte, 0x72).
constexpr std::string_view kRfcSeed =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::string_view kRfcPublic =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr std::string_view kRfcEmptySignature =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b4"
    "6bd25bf5f0595bbe24655141438e7a100b";
constexpr std::string_view kRfc2Seed =
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
constexpr std::string_view kRfc2Public =
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
constexpr std::string_view kRfc2Signature =
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d"
    "8c387b2eaeb4302aeeb00d291612bb0c00";

Identity rfc_identity() {
  auto seed = from_hex<kSeedSize>(kRfcSeed);
  return Identity::from_seed(seed).value();
}

TEST(Identity, FromSeedMatchesRfc8032) {
  Identity id = rfc_identity();
  EXPECT_EQ(id.public_key(), from_hex<kPublicKeySize>(kRfcPublic));
  EXPECT_EQ(to_hex(id.public_key()), kRfcPublic);
  EXPECT_EQ(id.sign(""), from_hex<kSignatureSize>(kRfcEmptySignature));

  auto seed2 = from_hex<kSeedSize>(kRfc2Seed);
  Identity id2 = Identity::from_seed(seed2).value();
  EXPECT_EQ(id2.public_key(), from_hex<kPublicKeySize>(kRfc2Public));
  EXPECT_EQ(id2.sign("\x72"), from_hex<kSignatureSize>(kRfc2Signature));
}

TEST(Identity, SameSeedGivesSameKeys) {
  Identity a = rfc_identity();
  Identity b = rfc_identity();
  EXPECT_EQ(a.public_key(), b.public_key());
  EXPECT_EQ(a.peer_id(), b.peer_id());
}

TEST(Identity, FromSeedRejectsWrongLength) {
  std::vector<std::uint8_t> short_seed(31);
  Result<Identity> id = Identity::from_seed(short_seed);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(id.error().message(), "secret key has 31 bytes, expected 32");
  std::vector<std::uint8_t> long_seed(64);
  EXPECT_EQ(Identity::from_seed(long_seed).error().message(),
            "secret key has 64 bytes, expected 32");
}

TEST(Identity, GenerateMakesDistinctIdentities) {
  std::set<PublicKey> keys;
  for (int i = 0; i < 50; ++i) keys.insert(Identity::generate().public_key());
  EXPECT_EQ(keys.size(), 50u);
}

TEST(Identity, SeedRecreatesTheIdentity) {
  Identity id = Identity::generate();
  SecretBytes seed = id.seed();
  ASSERT_EQ(seed.size(), kSeedSize);
  Identity again = Identity::from_seed(seed.span()).value();
  EXPECT_EQ(again.public_key(), id.public_key());
  EXPECT_EQ(to_hex(rfc_identity().seed().span()), kRfcSeed);
}

TEST(Identity, PeerIdIsThePublicKey) {
  Identity id = rfc_identity();
  EXPECT_EQ(id.peer_id().public_key(), id.public_key());
  EXPECT_EQ(id.peer_id().to_string(),
            "vt125njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkennc4rydy");
}

TEST(Identity, SignatureVerifies) {
  Identity id = Identity::generate();
  for (std::string_view msg :
       {std::string_view(""), std::string_view("hello"), std::string_view("with\0nul", 8)}) {
    Signature sig = id.sign(msg);
    EXPECT_TRUE(verify(id.public_key(), msg, sig)) << msg;
  }
  std::string big(1 << 20, 'x');
  EXPECT_TRUE(verify(id.public_key(), big, id.sign(big)));
}

TEST(Identity, TamperedMessageFailsVerification) {
  Identity id = Identity::generate();
  std::string msg = "transfer stripe 3 to vt1abc";
  Signature sig = id.sign(msg);
  for (std::size_t i = 0; i < msg.size(); ++i) {
    std::string tampered = msg;
    tampered[i] ^= 0x01;
    EXPECT_FALSE(verify(id.public_key(), tampered, sig)) << i;
  }
  EXPECT_FALSE(verify(id.public_key(), msg + "!", sig));
  EXPECT_FALSE(verify(id.public_key(), msg.substr(1), sig));
  EXPECT_FALSE(verify(id.public_key(), "", sig));
}

TEST(Identity, TamperedSignatureFailsVerification) {
  Identity id = Identity::generate();
  Signature sig = id.sign("hello");
  for (std::size_t i = 0; i < sig.size(); ++i) {
    for (std::uint8_t bit : {0x01, 0x80}) {
      Signature tampered = sig;
      tampered[i] ^= bit;
      EXPECT_FALSE(verify(id.public_key(), "hello", tampered)) << "byte " << i;
    }
  }
  EXPECT_FALSE(verify(id.public_key(), "hello", Signature{}));
}

TEST(Identity, WrongKeyFailsVerification) {
  Identity alice = Identity::generate();
  Identity bob = Identity::generate();
  Signature sig = alice.sign("hello");
  EXPECT_FALSE(verify(bob.public_key(), "hello", sig));
  EXPECT_FALSE(verify(PublicKey{}, "hello", sig));
  PublicKey flipped = alice.public_key();
  flipped[5] ^= 0x10;
  EXPECT_FALSE(verify(flipped, "hello", sig));
}

TEST(Identity, CloneIsAnIndependentEqualIdentity) {
  Identity id = Identity::generate();
  Identity copy = id.clone();
  EXPECT_EQ(copy.public_key(), id.public_key());
  EXPECT_EQ(copy.sign("m"), id.sign("m"));  // Ed25519 signing is deterministic
  Identity moved = std::move(id);
  EXPECT_TRUE(verify(moved.public_key(), "x", copy.sign("x")));
}

TEST(Identity, MovedFromIdentityRefusesToSign) {
  Identity id = Identity::generate();
  Identity other = std::move(id);
  EXPECT_THROW((void)id.sign("x"), Error);  // NOLINT(bugprone-use-after-move)
  EXPECT_THROW((void)id.seed(), Error);     // NOLINT(bugprone-use-after-move)
  id = std::move(other);
  EXPECT_NO_THROW((void)id.sign("x"));
}

}  // namespace
}  // namespace peers
