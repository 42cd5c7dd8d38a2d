#include "lib/crypto/session.h"

#include <sodium.h>

#include <atomic>
#include <cstring>

#include "lib/crypto/crypto_model.h"

namespace peers {
namespace {

constexpr char kMagic[6] = {'P', 'E', 'E', 'R', 'S', '\0'};
constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kFlagAes = 1;
constexpr std::uint8_t kFlagPlain = 2;
constexpr std::uint8_t kFlagChacha = 4;
constexpr std::string_view kAuthLabel = "peers-v1-auth";

bool aes_available() {
  static const bool ok = sodium_init() >= 0 && crypto_aead_aes256gcm_is_available() == 1;
  return ok;
}

void make_nonce(std::uint64_t counter, unsigned char nonce[12]) {
  for (int i = 0; i < 8; ++i) nonce[i] = static_cast<unsigned char>(counter >> (8 * i));
  std::memset(nonce + 8, 0, 4);
}

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string_view cipher_name(Cipher c) {
  switch (c) {
    case Cipher::kPlain:
      return "plain";
    case Cipher::kAes256Gcm:
      return "aes256gcm";
    case Cipher::kChaCha20Poly1305:
      return "chacha20poly1305";
  }
  return "unknown";
}

struct RecordCipher::State {
  alignas(16) crypto_aead_aes256gcm_state aes;
  unsigned char key[32];
};

namespace {
std::atomic<bool> guarded_key_memory{true};
}  // namespace

void set_guarded_key_memory(bool guarded) { guarded_key_memory = guarded; }

RecordCipher::RecordCipher(Cipher cipher, const std::array<std::uint8_t, 32>& key)
    : cipher_(cipher), guarded_(guarded_key_memory.load()) {
  if (sodium_init() < 0) throw Error(Errc::kInternal, "libsodium failed to initialise");
  state_ = guarded_ ? static_cast<State*>(sodium_malloc(sizeof(State))) : new State;
  if (state_ == nullptr) throw Error(Errc::kInternal, "out of secure memory");
  std::memcpy(state_->key, key.data(), 32);
  if (cipher_ == Cipher::kAes256Gcm) crypto_aead_aes256gcm_beforenm(&state_->aes, key.data());
}

RecordCipher::~RecordCipher() { release(); }

void RecordCipher::release() noexcept {
  if (!state_) return;
  if (guarded_) {
    sodium_free(state_);  // sodium_free wipes the memory
  } else {
    sodium_memzero(state_, sizeof(State));
    delete state_;
  }
  state_ = nullptr;
}

RecordCipher::RecordCipher(RecordCipher&& o) noexcept
    : cipher_(o.cipher_), counter_(o.counter_), state_(o.state_), guarded_(o.guarded_) {
  o.state_ = nullptr;
}

RecordCipher& RecordCipher::operator=(RecordCipher&& o) noexcept {
  if (this != &o) {
    release();
    cipher_ = o.cipher_;
    counter_ = o.counter_;
    state_ = o.state_;
    guarded_ = o.guarded_;
    o.state_ = nullptr;
  }
  return *this;
}

void RecordCipher::seal(std::string& buf, std::size_t from, std::string_view ad) {
  std::uint64_t n = counter_++;
  if (cipher_ == Cipher::kPlain) return;
  unsigned char nonce[12];
  make_nonce(n, nonce);
  std::size_t len = buf.size() - from;
  buf.resize(buf.size() + kRecordTagSize);
  auto* m = reinterpret_cast<unsigned char*>(buf.data() + from);
  unsigned char* tag = m + len;
  if (cipher_ == Cipher::kAes256Gcm) {
    crypto_aead_aes256gcm_encrypt_detached_afternm(m, tag, nullptr, m, len, u8(ad), ad.size(),
                                                   nullptr, nonce, &state_->aes);
  } else {
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(m, tag, nullptr, m, len, u8(ad), ad.size(),
                                                       nullptr, nonce, state_->key);
  }
}

Result<std::size_t> RecordCipher::open(char* data, std::size_t size, std::string_view ad) {
  std::uint64_t n = counter_;
  if (cipher_ == Cipher::kPlain) {
    ++counter_;
    return size;
  }
  if (size < kRecordTagSize) return Error(Errc::kAuth, "record shorter than its tag");
  unsigned char nonce[12];
  make_nonce(n, nonce);
  std::size_t len = size - kRecordTagSize;
  auto* c = reinterpret_cast<unsigned char*>(data);
  const unsigned char* tag = c + len;
  int rc;
  if (cipher_ == Cipher::kAes256Gcm) {
    rc = crypto_aead_aes256gcm_decrypt_detached_afternm(c, nullptr, c, len, tag, u8(ad), ad.size(),
                                                        nonce, &state_->aes);
  } else {
    rc = crypto_aead_chacha20poly1305_ietf_decrypt_detached(c, nullptr, c, len, tag, u8(ad),
                                                            ad.size(), nonce, state_->key);
  }
  if (rc != 0) {
    return Error(Errc::kAuth, "record " + std::to_string(n) +
                                  " failed authentication (tampered, replayed or reordered)");
  }
  ++counter_;
  return len;
}

Handshake::Handshake(const Identity& me, bool initiator, HandshakeOptions options)
    : me_(me), initiator_(initiator), options_(std::move(options)) {
  if (sodium_init() < 0) throw Error(Errc::kInternal, "libsodium failed to initialise");
  crypto_box_keypair(eph_pk_.data(), eph_sk_.data());
  std::uint8_t flags = 0;
  if (aes_available()) flags |= kFlagAes;
  if (options_.allow_plain) flags |= kFlagPlain;
  if (options_.prefer_chacha) flags |= kFlagChacha;
  my_hello_.assign(kMagic, sizeof kMagic);
  my_hello_.push_back(static_cast<char>(kVersion));
  my_hello_.push_back(static_cast<char>(flags));
  my_hello_.append(reinterpret_cast<const char*>(eph_pk_.data()), 32);
}

Handshake::~Handshake() {
  sodium_memzero(eph_sk_.data(), eph_sk_.size());
  sodium_memzero(tx_key_.data(), tx_key_.size());
  sodium_memzero(rx_key_.data(), rx_key_.size());
  sodium_memzero(binding_.data(), binding_.size());
}

Result<void> Handshake::on_hello(std::string_view theirs) {
  if (theirs.size() != kHelloSize || std::memcmp(theirs.data(), kMagic, sizeof kMagic) != 0) {
    return Error(Errc::kProtocol, "not a Peers handshake");
  }
  auto version = static_cast<std::uint8_t>(theirs[6]);
  if (version != kVersion) {
    return Error(Errc::kProtocol, "unsupported protocol version " + std::to_string(version) +
                                      " (this node speaks " + std::to_string(kVersion) + ")");
  }
  auto their_flags = static_cast<std::uint8_t>(theirs[7]);
  auto my_flags = static_cast<std::uint8_t>(my_hello_[7]);
  their_hello_ = std::string(theirs);

  if ((my_flags & kFlagPlain) && (their_flags & kFlagPlain)) {
    cipher_ = Cipher::kPlain;
  } else if ((my_flags & kFlagAes) && (their_flags & kFlagAes) &&
             !((my_flags | their_flags) & kFlagChacha)) {
    cipher_ = Cipher::kAes256Gcm;
  } else {
    cipher_ = Cipher::kChaCha20Poly1305;
  }

  const auto* their_pk = u8(theirs.substr(8, 32));
  unsigned char q[crypto_scalarmult_BYTES];
  if (crypto_scalarmult(q, eph_sk_.data(), their_pk) != 0) {
    return Error(Errc::kAuth, "handshake key is a low-order point");
  }
  const unsigned char* client_pk = initiator_ ? eph_pk_.data() : their_pk;
  const unsigned char* server_pk = initiator_ ? their_pk : eph_pk_.data();
  unsigned char keys[64];
  crypto_generichash_state st;
  crypto_generichash_init(&st, q, sizeof q, sizeof keys);
  crypto_generichash_update(&st, u8("peers-v1-keys"), 13);
  crypto_generichash_update(&st, client_pk, 32);
  crypto_generichash_update(&st, server_pk, 32);
  crypto_generichash_final(&st, keys, sizeof keys);
  crypto_generichash_init(&st, q, sizeof q, binding_.size());
  crypto_generichash_update(&st, u8("peers-v1-binding"), 16);
  crypto_generichash_update(&st, client_pk, 32);
  crypto_generichash_update(&st, server_pk, 32);
  crypto_generichash_final(&st, binding_.data(), binding_.size());
  std::memcpy(initiator_ ? tx_key_.data() : rx_key_.data(), keys, 32);
  std::memcpy(initiator_ ? rx_key_.data() : tx_key_.data(), keys + 32, 32);
  sodium_memzero(q, sizeof q);
  sodium_memzero(keys, sizeof keys);
  sodium_memzero(eph_sk_.data(), eph_sk_.size());
  keyed_ = true;
  return {};
}

std::pair<RecordCipher, RecordCipher> Handshake::ciphers() {
  return {RecordCipher(cipher_, tx_key_), RecordCipher(cipher_, rx_key_)};
}

namespace {

// What a side signs: the label, its role, and a hash of both HELLOs in
// client-then-server order, so a signature cannot be replayed elsewhere.
std::string transcript(bool signer_is_initiator, const std::string& client_hello,
                       const std::string& server_hello) {
  unsigned char h[32];
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, sizeof h);
  crypto_generichash_update(&st, u8(client_hello), client_hello.size());
  crypto_generichash_update(&st, u8(server_hello), server_hello.size());
  crypto_generichash_final(&st, h, sizeof h);
  std::string msg(kAuthLabel);
  msg.push_back(signer_is_initiator ? 'I' : 'R');
  msg.append(reinterpret_cast<const char*>(h), sizeof h);
  return msg;
}

}  // namespace

std::string Handshake::auth() const {
  const std::string& ch = initiator_ ? my_hello_ : their_hello_;
  const std::string& sh = initiator_ ? their_hello_ : my_hello_;
  Signature sig = me_.sign(transcript(initiator_, ch, sh));
  const PublicKey& pk = me_.public_key();
  std::string out(reinterpret_cast<const char*>(pk.data()), pk.size());
  out.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  std::string addr = options_.listen_addr.substr(0, 255);
  out.push_back(static_cast<char>(addr.size()));
  out += addr;
  std::string seen = options_.observed_addr.substr(0, 255);
  out.push_back(static_cast<char>(seen.size()));
  out += seen;
  return out;
}

Result<PeerId> Handshake::on_auth(std::string_view msg) {
  if (!keyed_) return Error(Errc::kProtocol, "AUTH before HELLO");
  if (msg.size() < 32 + 64 + 1) return Error(Errc::kProtocol, "handshake AUTH too short");
  std::size_t addr_len = static_cast<std::uint8_t>(msg[96]);
  // The observed address after it is optional (a peer of an earlier version
  // ends with the listening address).
  std::size_t seen_len = 0;
  if (msg.size() > 97 + addr_len) seen_len = static_cast<std::uint8_t>(msg[97 + addr_len]);
  if (msg.size() != 97 + addr_len && msg.size() != 97 + addr_len + 1 + seen_len) {
    return Error(Errc::kProtocol, "handshake AUTH has a bad length");
  }
  PublicKey pk;
  std::memcpy(pk.data(), msg.data(), 32);
  Signature sig;
  std::memcpy(sig.data(), msg.data() + 32, 64);
  const std::string& ch = initiator_ ? my_hello_ : their_hello_;
  const std::string& sh = initiator_ ? their_hello_ : my_hello_;
  CryptoModel::Worker as(me_.public_key());  // modelled cryptography: whose work
  if (!verify(pk, transcript(!initiator_, ch, sh), sig)) {
    return Error(Errc::kAuth, "handshake signature does not verify");
  }
  PeerId id(pk);
  if (options_.expected_peer && !(*options_.expected_peer == id)) {
    return Error(Errc::kAuth, "expected peer " + options_.expected_peer->to_string() +
                                  " but the other side is " + id.to_string());
  }
  peer_listen_addr_ = std::string(msg.substr(97, addr_len));
  if (msg.size() > 97 + addr_len) observed_addr_ = std::string(msg.substr(98 + addr_len, seen_len));
  return id;
}

}  // namespace peers
