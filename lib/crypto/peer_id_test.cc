#include "lib/crypto/peer_id.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "lib/crypto/init.h"

namespace peers {
namespace {

constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";

PublicKey random_key() {
  init_sodium();
  PublicKey key{};
  randombytes_buf(key.data(), key.size());
  return key;
}

PublicKey counting_key() {
  PublicKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
  return key;
}

// Test vectors computed independently (Python: hashlib.blake2b, base64.b32encode).
constexpr std::string_view kCountingKeyId =
    "vt1aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dyp6pwu22i";
// The public key of RFC 8032's first Ed25519 test vector.
constexpr std::string_view kRfc8032KeyId =
    "vt125njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkennc4rydy";

std::string parse_error(std::string_view text) {
  Result<PeerId> id = PeerId::parse(text);
  if (id) return "parsed";
  EXPECT_EQ(id.error().code(), Errc::kInvalidArgument);
  return id.error().message();
}

TEST(PeerId, FormatsKnownKeys) {
  EXPECT_EQ(PeerId(counting_key()).to_string(), kCountingKeyId);
  PublicKey rfc{};
  const char* hex = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  ASSERT_EQ(sodium_hex2bin(rfc.data(), rfc.size(), hex, 64, nullptr, nullptr, nullptr), 0);
  EXPECT_EQ(PeerId(rfc).to_string(), kRfc8032KeyId);
}

TEST(PeerId, TextIsPrefixAndLowerCaseBase32) {
  for (int i = 0; i < 50; ++i) {
    std::string text = PeerId(random_key()).to_string();
    ASSERT_EQ(text.size(), PeerId::kTextSize);
    EXPECT_EQ(text.substr(0, 3), "vt1");
    EXPECT_EQ(text.find_first_not_of(kAlphabet, 3), std::string::npos) << text;
  }
}

TEST(PeerId, RoundTripsThroughText) {
  for (int i = 0; i < 200; ++i) {
    PeerId id(random_key());
    Result<PeerId> back = PeerId::parse(id.to_string());
    ASSERT_TRUE(back.ok()) << back.error().what();
    EXPECT_EQ(*back, id);
    EXPECT_EQ(back->public_key(), id.public_key());
  }
  Result<PeerId> known = PeerId::parse(kCountingKeyId);
  ASSERT_TRUE(known.ok());
  EXPECT_EQ(known->public_key(), counting_key());
}

TEST(PeerId, ShortIdIsPrefixAndNextEightCharacters) {
  PeerId id(counting_key());
  EXPECT_EQ(id.short_id(), "vt1aaaqeaye");
  EXPECT_EQ(id.short_id().size(), PeerId::kShortSize);
  EXPECT_EQ(id.to_string().substr(0, PeerId::kShortSize), id.short_id());
}

TEST(PeerId, AcceptsUpperCaseAndFormatsLowerCase) {
  std::string upper(kCountingKeyId);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Result<PeerId> id = PeerId::parse(upper);
  ASSERT_TRUE(id.ok()) << id.error().what();
  EXPECT_EQ(id->to_string(), kCountingKeyId);
}

TEST(PeerId, RejectsEmptyText) { EXPECT_EQ(parse_error(""), "empty peer id"); }

TEST(PeerId, RejectsWrongPrefix) {
  const std::string expected = "not a peer id: it must start with 'vt1'";
  EXPECT_EQ(parse_error("vt"), expected);
  EXPECT_EQ(parse_error("vt2" + std::string(kCountingKeyId.substr(3))), expected);
  EXPECT_EQ(parse_error("xt1" + std::string(kCountingKeyId.substr(3))), expected);
  EXPECT_EQ(parse_error(" " + std::string(kCountingKeyId)), expected);
  EXPECT_EQ(parse_error(std::string(kCountingKeyId.substr(3))), expected);
}

TEST(PeerId, RejectsBadCharacterNamingItAndItsPosition) {
  std::string text(kCountingKeyId);
  text[11] = '0';
  EXPECT_EQ(parse_error(text), "bad character '0' at position 12 (peer ids use only a-z and 2-7)");
  text[11] = '1';
  EXPECT_EQ(parse_error(text), "bad character '1' at position 12 (peer ids use only a-z and 2-7)");
  text = std::string(kCountingKeyId) + "=";
  EXPECT_EQ(parse_error(text), "bad character '=' at position 62 (peer ids use only a-z and 2-7)");
  text = std::string(kCountingKeyId) + "\n";
  EXPECT_EQ(parse_error(text), "bad character 0x0a at position 62 (peer ids use only a-z and 2-7)");
  text = std::string(kCountingKeyId);
  text[3] = ' ';
  EXPECT_EQ(parse_error(text), "bad character 0x20 at position 4 (peer ids use only a-z and 2-7)");
  for (char c : std::string_view("0189-_.+/\"'")) {
    text = std::string(kCountingKeyId);
    text[30] = c;
    EXPECT_NE(parse_error(text).find("bad character"), std::string::npos) << c;
  }
}

TEST(PeerId, RejectsWrongLength) {
  std::string text(kCountingKeyId);
  EXPECT_EQ(parse_error(text.substr(0, 60)), "wrong length: 60 characters, a peer id has 61");
  EXPECT_EQ(parse_error(text + "a"), "wrong length: 62 characters, a peer id has 61");
  EXPECT_EQ(parse_error("vt1"), "wrong length: 3 characters, a peer id has 61");
}

TEST(PeerId, RejectsNonZeroPaddingBitsInTheLastCharacter) {
  std::string text(kCountingKeyId);
  ASSERT_EQ(text.back(), 'i');  // value 8: its two low (padding) bits are zero
  text.back() = 'j';
  EXPECT_EQ(parse_error(text),
            "bad last character 'j' (a peer id ends with one of a e i m q u y 4)");
}

TEST(PeerId, RejectsChecksumMismatch) {
  std::string text(kCountingKeyId);
  text[10] = text[10] == 'a' ? 'b' : 'a';
  EXPECT_EQ(parse_error(text), "checksum mismatch: a character is mistyped");
}

// The promise of the format: no single mistyped character yields another id.
TEST(PeerId, DetectsEverySingleCharacterSubstitution) {
  std::vector<std::string> ids = {std::string(kCountingKeyId), std::string(kRfc8032KeyId),
                                  PeerId(PublicKey{}).to_string()};
  for (int i = 0; i < 20; ++i) ids.push_back(PeerId(random_key()).to_string());
  int checked = 0;
  for (const std::string& id : ids) {
    for (std::size_t pos = 3; pos < id.size(); ++pos) {
      for (char c : kAlphabet) {
        if (c == id[pos]) continue;
        std::string typo = id;
        typo[pos] = c;
        ASSERT_FALSE(PeerId::parse(typo).ok()) << "undetected: " << typo << " for " << id;
        typo[pos] = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        ASSERT_FALSE(PeerId::parse(typo).ok()) << "undetected: " << typo << " for " << id;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, static_cast<int>(ids.size()) * 58 * 31);
}

TEST(PeerId, DetectsSwappedNeighbours) {
  for (int i = 0; i < 20; ++i) {
    std::string id = PeerId(random_key()).to_string();
    for (std::size_t pos = 3; pos + 1 < id.size(); ++pos) {
      if (id[pos] == id[pos + 1]) continue;
      std::string typo = id;
      std::swap(typo[pos], typo[pos + 1]);
      EXPECT_FALSE(PeerId::parse(typo).ok()) << typo;
    }
  }
}

TEST(PeerId, OrdersByPublicKeyAndWorksAsMapKey) {
  PublicKey low{};
  PublicKey high{};
  high[0] = 1;
  EXPECT_LT(PeerId(low), PeerId(high));
  EXPECT_EQ(PeerId(low), PeerId(PublicKey{}));
  EXPECT_NE(PeerId(low), PeerId(high));

  std::map<PeerId, int> ordered;
  std::unordered_map<PeerId, int> hashed;
  std::set<PublicKey> keys;
  for (int i = 0; i < 100; ++i) {
    PublicKey key = random_key();
    ordered[PeerId(key)] = i;
    hashed[PeerId(key)] = i;
    keys.insert(key);
  }
  ASSERT_EQ(ordered.size(), 100u);
  ASSERT_EQ(hashed.size(), 100u);
  auto key = keys.begin();
  for (const auto& [id, value] : ordered) {
    EXPECT_EQ(id.public_key(), *key++);
    EXPECT_EQ(hashed.at(id), value);
  }
}

TEST(PeerId, HashIsStableAndSpreads) {
  std::hash<PeerId> hash;
  PeerId id(counting_key());
  EXPECT_EQ(hash(id), hash(PeerId(counting_key())));
  std::set<std::size_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(hash(PeerId(random_key())));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(PeerId, StreamsAsText) {
  std::ostringstream out;
  out << PeerId(counting_key());
  EXPECT_EQ(out.str(), kCountingKeyId);
}

}  // namespace
}  // namespace peers
