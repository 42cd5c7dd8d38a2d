// The secure session of one Peers connection: handshake and record sealing.
//
// Both sides send a HELLO at once (no round trip wasted): a magic, the
// protocol version, the ciphers they can run fast, and a fresh X25519 key.
// From the two HELLOs each side derives per-direction keys (X25519, then
// BLAKE2b over the shared secret and both ephemeral keys). The first sealed
// record each way is AUTH: the sender's Ed25519 identity and its signature
// over the transcript (both HELLOs and the sender's role), so each side proves
// its identity and binds it to this key exchange. After that every frame is
// one sealed record: AES-256-GCM where both CPUs have AES-NI, else
// ChaCha20-Poly1305 (IETF), with a 64-bit counter nonce per direction that
// never repeats; a replayed, reordered or tampered record fails to open.
//
// No sockets here: Handshake and RecordCipher work on byte strings, so the
// RPC layer drives them and tests can feed them anything.
//
//   peers::Handshake hs(me, /*initiator=*/true, expected_id, "127.0.0.1:7000");
//   send(hs.hello());
//   hs.on_hello(receive()).value();
//   auto [tx, rx] = hs.ciphers();
//   send(tx.seal(hs.auth()));
//   PeerId them = hs.on_auth(rx.open(receive())).value();
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/crypto/identity.h"
#include "lib/kernel/error.h"

namespace peers {

enum class Cipher : std::uint8_t {
  kPlain = 0,  // no encryption, for benchmarks only (both sides must allow it)
  kAes256Gcm = 1,
  kChaCha20Poly1305 = 2,
};

std::string_view cipher_name(Cipher c);

inline constexpr std::size_t kRecordTagSize = 16;
inline constexpr std::size_t kHelloSize = 6 + 1 + 1 + 32;
// The longest AUTH message (before sealing): key, signature, two addresses
// of at most 255 bytes each (where the sender listens, where it sees the
// receiver) and their lengths.
inline constexpr std::size_t kMaxAuthSize = 32 + 64 + 1 + 255 + 1 + 255;

// Seals or opens the records of one direction. Not thread-safe: one per
// direction, used in record order.
class RecordCipher {
 public:
  RecordCipher() = default;
  RecordCipher(Cipher cipher, const std::array<std::uint8_t, 32>& key);
  ~RecordCipher();
  RecordCipher(RecordCipher&&) noexcept;
  RecordCipher& operator=(RecordCipher&&) noexcept;
  RecordCipher(const RecordCipher&) = delete;
  RecordCipher& operator=(const RecordCipher&) = delete;

  Cipher cipher() const { return cipher_; }
  // Bytes seal() adds to a record.
  std::size_t overhead() const { return cipher_ == Cipher::kPlain ? 0 : kRecordTagSize; }

  // Encrypts buf[from..] in place and appends the tag. ad is authenticated too.
  void seal(std::string& buf, std::size_t from, std::string_view ad);
  // Decrypts a record (ciphertext + tag) in place; on success the plaintext is
  // data[0 .. size - overhead()). Fails with Errc::kAuth.
  Result<std::size_t> open(char* data, std::size_t size, std::string_view ad);

  std::uint64_t counter() const { return counter_; }

 private:
  Cipher cipher_ = Cipher::kPlain;
  std::uint64_t counter_ = 0;
  struct State;
  void release() noexcept;
  State* state_ = nullptr;  // key material, wiped on destruction
  bool guarded_ = true;     // state_ came from sodium_malloc
};

// Whether new RecordCiphers keep their keys in guarded memory (sodium_malloc:
// guard pages around a locked page, four memory mappings each; the default).
// vt-sim turns it off: its thousands of simulated nodes would pass the
// kernel's 65,530 mappings a process may have (vm.max_map_count), and their
// keys protect nothing. Plain memory is still wiped when released.
void set_guarded_key_memory(bool guarded);

struct HandshakeOptions {
  std::optional<PeerId> expected_peer;  // fail unless the other side is this peer
  std::string listen_addr;              // where this node accepts connections ("" = none)
  // The other side's address as this side sees it (the connection's remote
  // address, "ip:port"): how a node behind a NAT learns what it looks like.
  std::string observed_addr;
  bool allow_plain = false;    // benchmark only: both sides must set it
  bool prefer_chacha = false;  // tests: force ChaCha20-Poly1305
};

class Handshake {
 public:
  Handshake(const Identity& me, bool initiator, HandshakeOptions options);
  ~Handshake();
  Handshake(const Handshake&) = delete;
  Handshake& operator=(const Handshake&) = delete;

  // The first message (plaintext, kHelloSize bytes).
  const std::string& hello() const { return my_hello_; }
  // Takes the other side's HELLO and derives the keys.
  Result<void> on_hello(std::string_view theirs);
  // After on_hello: the ciphers for sending and receiving (call once).
  std::pair<RecordCipher, RecordCipher> ciphers();
  // After on_hello: the AUTH message to send as the first sealed record.
  std::string auth() const;
  // Verifies the other side's AUTH (already opened). Returns its peer id.
  Result<PeerId> on_auth(std::string_view msg);

  // After on_auth: what the other side announced.
  const std::string& peer_listen_addr() const { return peer_listen_addr_; }
  // After on_auth: this side's address as the other side sees it ("" when
  // the other side did not say: an older peer).
  const std::string& observed_addr() const { return observed_addr_; }
  Cipher cipher() const { return cipher_; }
  // A secret both sides share, for tokens bound to this connection
  // (continuations). 32 bytes.
  const std::array<std::uint8_t, 32>& binding_key() const { return binding_; }

 private:
  const Identity& me_;
  bool initiator_;
  HandshakeOptions options_;
  std::array<std::uint8_t, 32> eph_pk_{};
  std::array<std::uint8_t, 32> eph_sk_{};
  std::string my_hello_;
  std::string their_hello_;
  std::array<std::uint8_t, 32> tx_key_{}, rx_key_{}, binding_{};
  Cipher cipher_ = Cipher::kChaCha20Poly1305;
  std::string peer_listen_addr_;
  std::string observed_addr_;
  bool keyed_ = false;
};

}  // namespace peers
