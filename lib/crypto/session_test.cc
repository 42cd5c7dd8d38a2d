#include "lib/crypto/session.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <set>
#include <string>
#include <vector>

namespace peers {
namespace {

// One record as the RPC layer frames it: a 4-byte big-endian length, then the
// sealed bytes; the length is the associated data.
std::string seal_record(RecordCipher& tx, std::string_view plain) {
  std::string rec(4, '\0');
  auto len = static_cast<std::uint32_t>(plain.size() + tx.overhead());
  for (int i = 0; i < 4; ++i) rec[i] = static_cast<char>(len >> (24 - 8 * i));
  rec.append(plain);
  std::string header = rec.substr(0, 4);
  tx.seal(rec, 4, header);
  return rec;
}

Result<std::string> open_record(RecordCipher& rx, std::string rec) {
  if (rec.size() < 4) return Error(Errc::kProtocol, "no header");
  std::string header = rec.substr(0, 4);
  auto n = rx.open(rec.data() + 4, rec.size() - 4, header);
  if (!n) return n.error();
  return rec.substr(4, *n);
}

// Both ends of one handshake, run in memory: HELLOs cross, then AUTHs.
struct Session {
  Session(HandshakeOptions client_opts = {}, HandshakeOptions server_opts = {})
      : client_id(Identity::generate()),
        server_id(Identity::generate()),
        client(client_id, /*initiator=*/true, std::move(client_opts)),
        server(server_id, /*initiator=*/false, std::move(server_opts)) {}

  // HELLOs and key derivation; the ciphers are ready afterwards.
  void exchange_hellos() {
    ASSERT_TRUE(client.on_hello(server.hello()));
    ASSERT_TRUE(server.on_hello(client.hello()));
    std::tie(client_tx, client_rx) = client.ciphers();
    std::tie(server_tx, server_rx) = server.ciphers();
  }

  // Full handshake: AUTH each way, sealed as the first record.
  void run() {
    exchange_hellos();
    auto client_auth = open_record(server_rx, seal_record(client_tx, client.auth()));
    ASSERT_TRUE(client_auth);
    auto server_auth = open_record(client_rx, seal_record(server_tx, server.auth()));
    ASSERT_TRUE(server_auth);
    client_seen_by_server = server.on_auth(*client_auth);
    server_seen_by_client = client.on_auth(*server_auth);
  }

  Identity client_id, server_id;
  Handshake client, server;
  RecordCipher client_tx, client_rx, server_tx, server_rx;
  std::optional<Result<PeerId>> client_seen_by_server, server_seen_by_client;
};

void expect_records_flow_both_ways(Session& s) {
  for (int i = 0; i < 3; ++i) {
    std::string up = "request " + std::to_string(i);
    std::string down = "reply " + std::to_string(i);
    auto got_up = open_record(s.server_rx, seal_record(s.client_tx, up));
    ASSERT_TRUE(got_up) << got_up.error().what();
    EXPECT_EQ(*got_up, up);
    auto got_down = open_record(s.client_rx, seal_record(s.server_tx, down));
    ASSERT_TRUE(got_down) << got_down.error().what();
    EXPECT_EQ(*got_down, down);
  }
}

TEST(Handshake, BothSidesLearnTheOtherIdentity) {
  Session s;
  s.run();
  ASSERT_TRUE(*s.client_seen_by_server);
  ASSERT_TRUE(*s.server_seen_by_client);
  EXPECT_EQ(**s.client_seen_by_server, s.client_id.peer_id());
  EXPECT_EQ(**s.server_seen_by_client, s.server_id.peer_id());
  EXPECT_EQ(s.client.cipher(), s.server.cipher());
  EXPECT_EQ(s.client.binding_key(), s.server.binding_key());
}

TEST(Handshake, KeysAgreeInBothDirectionsAndDiffer) {
  Session s;
  s.run();
  expect_records_flow_both_ways(s);
  // A record sealed for one direction does not open in the other.
  auto reflected = open_record(s.client_rx, seal_record(s.client_tx, "mirror"));
  ASSERT_FALSE(reflected);
  EXPECT_EQ(reflected.error().code(), Errc::kAuth);
}

TEST(Handshake, HelloHasFixedSizeAndFreshKeys) {
  Identity me = Identity::generate();
  Handshake a(me, true, {}), b(me, true, {});
  EXPECT_EQ(a.hello().size(), kHelloSize);
  EXPECT_EQ(a.hello().substr(0, 6), std::string("PEERS\0", 6));
  EXPECT_NE(a.hello().substr(8), b.hello().substr(8));
}

TEST(Handshake, UsesAesGcmWhenBothSidesHaveIt) {
  if (sodium_init() < 0 || crypto_aead_aes256gcm_is_available() != 1) {
    GTEST_SKIP() << "no AES-NI on this CPU: sessions use ChaCha20-Poly1305";
  }
  Session s;
  s.run();
  EXPECT_EQ(s.client.cipher(), Cipher::kAes256Gcm);
  EXPECT_EQ(s.client_tx.overhead(), kRecordTagSize);
  expect_records_flow_both_ways(s);
}

TEST(Handshake, EitherSideCanAskForChaCha) {
  for (bool client_asks : {true, false}) {
    HandshakeOptions asks;
    asks.prefer_chacha = true;
    Session s(client_asks ? asks : HandshakeOptions{}, client_asks ? HandshakeOptions{} : asks);
    s.run();
    EXPECT_EQ(s.client.cipher(), Cipher::kChaCha20Poly1305);
    EXPECT_EQ(s.server.cipher(), Cipher::kChaCha20Poly1305);
    EXPECT_EQ(s.client_tx.cipher(), Cipher::kChaCha20Poly1305);
    expect_records_flow_both_ways(s);
  }
}

TEST(Handshake, PlainOnlyWhenBothSidesAllowIt) {
  HandshakeOptions plain;
  plain.allow_plain = true;
  {
    Session one_sided(plain, {});
    one_sided.run();
    EXPECT_NE(one_sided.client.cipher(), Cipher::kPlain);
    EXPECT_NE(one_sided.server.cipher(), Cipher::kPlain);
  }
  {
    Session other_side({}, plain);
    other_side.run();
    EXPECT_NE(other_side.client.cipher(), Cipher::kPlain);
  }
  Session both(plain, plain);
  both.run();
  ASSERT_TRUE(*both.server_seen_by_client);
  EXPECT_EQ(both.client.cipher(), Cipher::kPlain);
  EXPECT_EQ(both.client_tx.overhead(), 0u);
  std::string rec = seal_record(both.client_tx, "in the clear");
  EXPECT_EQ(rec.substr(4), "in the clear");
  expect_records_flow_both_ways(both);
}

TEST(Handshake, ExpectedPeerMismatchIsAnAuthErrorNamingBothIds) {
  PeerId someone_else = Identity::generate().peer_id();
  HandshakeOptions expect;
  expect.expected_peer = someone_else;
  Session s(expect, {});
  s.run();
  ASSERT_FALSE(*s.server_seen_by_client);
  const Error& e = s.server_seen_by_client->error();
  EXPECT_EQ(e.code(), Errc::kAuth);
  EXPECT_NE(e.message().find(someone_else.to_string()), std::string::npos) << e.message();
  EXPECT_NE(e.message().find(s.server_id.peer_id().to_string()), std::string::npos) << e.message();
  // The server had no expectation and accepted the client.
  EXPECT_TRUE(*s.client_seen_by_server);
}

TEST(Handshake, ExpectedPeerMatchIsAccepted) {
  Identity server = Identity::generate();
  HandshakeOptions expect;
  expect.expected_peer = server.peer_id();
  Identity client = Identity::generate();
  Handshake c(client, true, expect), srv(server, false, {});
  ASSERT_TRUE(c.on_hello(srv.hello()));
  ASSERT_TRUE(srv.on_hello(c.hello()));
  auto id = c.on_auth(srv.auth());
  ASSERT_TRUE(id) << id.error().what();
  EXPECT_EQ(*id, server.peer_id());
}

Errc hello_error(std::string hello) {
  Identity me = Identity::generate();
  Handshake hs(me, false, {});
  auto r = hs.on_hello(hello);
  return r ? Errc::kOk : r.error().code();
}

TEST(Handshake, MalformedHelloIsAProtocolError) {
  Identity me = Identity::generate();
  Handshake good(me, true, {});
  std::string hello = good.hello();

  std::string bad_magic = hello;
  bad_magic[0] = 'X';
  EXPECT_EQ(hello_error(bad_magic), Errc::kProtocol);

  std::string wrong_version = hello;
  wrong_version[6] = 2;
  EXPECT_EQ(hello_error(wrong_version), Errc::kProtocol);
  Handshake hs(me, false, {});
  auto r = hs.on_hello(wrong_version);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("version 2"), std::string::npos) << r.error().message();

  EXPECT_EQ(hello_error(hello.substr(0, kHelloSize - 1)), Errc::kProtocol);
  EXPECT_EQ(hello_error(hello + "x"), Errc::kProtocol);
  EXPECT_EQ(hello_error(""), Errc::kProtocol);
  EXPECT_EQ(hello_error("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n   "), Errc::kProtocol);
  EXPECT_EQ(hello_error(hello), Errc::kOk);
}

TEST(Handshake, LowOrderKeyIsRejected) {
  Identity me = Identity::generate();
  Handshake good(me, true, {});
  std::string hello = good.hello();
  std::fill(hello.begin() + 8, hello.end(), '\0');  // the identity point
  EXPECT_EQ(hello_error(hello), Errc::kAuth);
}

TEST(Handshake, TamperedAuthSignatureIsAnAuthError) {
  Session s;
  s.exchange_hellos();
  std::string auth = s.server.auth();
  auth[32 + 10] ^= 0x01;  // a signature byte (after the 32-byte public key)
  auto r = s.client.on_auth(auth);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kAuth);

  std::string other_key = s.server.auth();
  other_key[3] ^= 0x01;  // the public key: the signature no longer matches it
  r = s.client.on_auth(other_key);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kAuth);
}

TEST(Handshake, AuthFromAnotherHandshakeIsAnAuthError) {
  // The server's AUTH of one session, replayed into a second session by
  // someone who only holds a recording: it signs the wrong transcript.
  Session first;
  first.run();
  ASSERT_TRUE(*first.server_seen_by_client);
  std::string recorded = first.server.auth();

  Identity client = Identity::generate();
  Identity attacker = Identity::generate();
  Handshake victim(client, true, {});
  Handshake impostor(attacker, false, {});
  ASSERT_TRUE(victim.on_hello(impostor.hello()));
  auto r = victim.on_auth(recorded);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kAuth);
}

TEST(Handshake, ReflectedAuthIsAnAuthError) {
  // The client's own AUTH sent back to it: signed for the other role.
  Session s;
  s.exchange_hellos();
  auto r = s.client.on_auth(s.client.auth());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kAuth);
}

TEST(Handshake, MalformedAuthIsAProtocolError) {
  Session s;
  Identity me = Identity::generate();
  Handshake early(me, true, {});
  auto r = early.on_auth(std::string(97, '\0'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kProtocol);  // before HELLO

  s.exchange_hellos();
  std::string auth = s.server.auth();
  r = s.client.on_auth(auth.substr(0, 50));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kProtocol);
  r = s.client.on_auth(auth + "x");  // length byte disagrees
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kProtocol);
}

TEST(Handshake, AuthCarriesTheListenAddress) {
  HandshakeOptions server_opts;
  server_opts.listen_addr = "127.0.0.1:7000";
  Session s({}, server_opts);
  s.run();
  ASSERT_TRUE(*s.server_seen_by_client);
  EXPECT_EQ(s.client.peer_listen_addr(), "127.0.0.1:7000");
  EXPECT_EQ(s.server.peer_listen_addr(), "");
}

TEST(Handshake, AuthCarriesWhereEachSideSeesTheOther) {
  HandshakeOptions client_opts, server_opts;
  client_opts.observed_addr = "203.0.113.1:7000";    // the server, as the client dialed it
  server_opts.observed_addr = "198.51.100.9:40123";  // the client, past its NAT
  server_opts.listen_addr = "203.0.113.1:7000";
  Session s(client_opts, server_opts);
  s.run();
  ASSERT_TRUE(*s.server_seen_by_client);
  ASSERT_TRUE(*s.client_seen_by_server);
  EXPECT_EQ(s.client.observed_addr(), "198.51.100.9:40123");
  EXPECT_EQ(s.server.observed_addr(), "203.0.113.1:7000");
  EXPECT_EQ(s.client.peer_listen_addr(), "203.0.113.1:7000");
}

TEST(Handshake, AuthWithoutTheObservedAddressIsAccepted) {
  // An earlier version's AUTH ends after the listening address.
  Session s;
  s.exchange_hellos();
  std::string auth = s.server.auth();
  ASSERT_EQ(auth.back(), '\0');  // an empty observed address: its length byte
  auth.pop_back();
  auto r = s.client.on_auth(auth);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(s.client.observed_addr(), "");
}

class RecordTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    HandshakeOptions o;
    o.prefer_chacha = GetParam();
    s_ = std::make_unique<Session>(o, o);
    s_->run();
    ASSERT_TRUE(*s_->server_seen_by_client);
    ASSERT_TRUE(*s_->client_seen_by_server);
  }
  std::unique_ptr<Session> s_;
};

TEST_P(RecordTest, TamperedRecordFailsWithAuth) {
  std::string rec = seal_record(s_->client_tx, "transfer 10 coins");
  // One bit of the length header (the AD), of the ciphertext, of the tag.
  for (std::size_t at : {std::size_t{0}, std::size_t{5}, rec.size() - 1}) {
    std::string bad = rec;
    bad[at] ^= 0x04;
    auto r = open_record(s_->server_rx, bad);
    ASSERT_FALSE(r) << "flip at " << at;
    EXPECT_EQ(r.error().code(), Errc::kAuth);
  }
  // A failed open consumed nothing: the genuine record still opens.
  auto ok = open_record(s_->server_rx, rec);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, "transfer 10 coins");
}

TEST_P(RecordTest, TamperedLargeRecordFailsWithAuth) {
  // A record of the size DATA payloads use (16 KiB).
  std::string plain(16384, 'v');
  std::string rec = seal_record(s_->client_tx, plain);
  for (std::size_t at : {std::size_t{1}, std::size_t{4 + 9000}, rec.size() - 2}) {
    std::string bad = rec;
    bad[at] ^= 0x40;
    auto r = open_record(s_->server_rx, bad);
    ASSERT_FALSE(r) << "flip at " << at;
    EXPECT_EQ(r.error().code(), Errc::kAuth);
  }
  auto ok = open_record(s_->server_rx, rec);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, plain);
}

TEST_P(RecordTest, ReplayedRecordFailsWithAuth) {
  std::string rec = seal_record(s_->client_tx, "once");
  ASSERT_TRUE(open_record(s_->server_rx, rec));
  auto again = open_record(s_->server_rx, rec);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Errc::kAuth);
}

TEST_P(RecordTest, ReorderedRecordsFailWithAuth) {
  std::string first = seal_record(s_->client_tx, "first");
  std::string second = seal_record(s_->client_tx, "second");
  auto r = open_record(s_->server_rx, second);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kAuth);
  EXPECT_NE(r.error().message().find("record 1"), std::string::npos) << r.error().message();
}

TEST_P(RecordTest, TruncatedRecordFailsWithAuth) {
  std::string rec = seal_record(s_->client_tx, "a complete sentence");
  auto r = open_record(s_->server_rx, rec.substr(0, rec.size() - 1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kAuth);
  r = open_record(s_->server_rx, rec.substr(0, 4 + kRecordTagSize - 1));  // shorter than a tag
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kAuth);
  r = open_record(s_->server_rx, rec.substr(0, 4));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kAuth);
}

TEST_P(RecordTest, EmptyRecordRoundTrips) {
  auto r = open_record(s_->server_rx, seal_record(s_->client_tx, ""));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "");
}

TEST_P(RecordTest, NoncesNeverRepeat) {
  // The nonce is the record counter: every seal takes the next one, so the
  // same plaintext never gives the same bytes twice.
  std::set<std::string> sealed;
  // The AUTH record took counter 0 each way.
  EXPECT_EQ(s_->client_tx.counter(), 1u);
  for (std::uint64_t i = 0; i < 100; ++i) {
    std::string rec = seal_record(s_->client_tx, "same words");
    EXPECT_EQ(s_->client_tx.counter(), i + 2);
    EXPECT_TRUE(sealed.insert(rec).second) << "record " << i << " repeated";
  }
  // Opening advances the receiver's counter only on success.
  std::uint64_t before = s_->server_rx.counter();
  ASSERT_FALSE(open_record(s_->server_rx, std::string(4 + kRecordTagSize + 3, 'z')));
  EXPECT_EQ(s_->server_rx.counter(), before);
}

// Records are standard AEAD: the nonce is the record counter (8 bytes little
// endian, then 4 zero bytes), the associated data the length header. A record
// sealed here opens with libsodium's own function, and the other way round, of
// every size: another implementation of docs/protocol.md can use any AEAD
// library.
TEST(Records, AreStandardAeadThatLibsodiumOpens) {
  if (sodium_init() < 0) GTEST_SKIP() << "libsodium failed to initialise";
  std::array<std::uint8_t, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(7 * i + 1);
  std::vector<Cipher> ciphers = {Cipher::kChaCha20Poly1305};
  if (crypto_aead_aes256gcm_is_available() == 1) ciphers.push_back(Cipher::kAes256Gcm);
  for (Cipher cipher : ciphers) {
    RecordCipher tx(cipher, key), rx(cipher, key);
    std::uint64_t counter = 0;
    for (std::size_t size : {0, 1, 15, 16, 17, 255, 4096, 16384, 65536 + 3}) {
      std::string plain(size, '\0');
      for (std::size_t i = 0; i < size; ++i) plain[i] = static_cast<char>(i * 31 + size);
      unsigned char nonce[12] = {};
      for (int i = 0; i < 8; ++i) nonce[i] = static_cast<unsigned char>(counter >> (8 * i));

      // Sealed here, opened by libsodium.
      std::string rec = seal_record(tx, plain);
      auto* c = reinterpret_cast<unsigned char*>(rec.data() + 4);
      auto* ad = reinterpret_cast<const unsigned char*>(rec.data());
      std::string out(size, '\0');
      auto* m = reinterpret_cast<unsigned char*>(out.data());
      int rc = cipher == Cipher::kAes256Gcm
                   ? crypto_aead_aes256gcm_decrypt_detached(m, nullptr, c, size, c + size, ad, 4,
                                                            nonce, key.data())
                   : crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                         m, nullptr, c, size, c + size, ad, 4, nonce, key.data());
      ASSERT_EQ(rc, 0) << cipher_name(cipher) << " record of " << size << " bytes";
      EXPECT_EQ(out, plain);

      // Sealed by libsodium, opened here.
      std::string theirs = rec.substr(0, 4) + plain + std::string(kRecordTagSize, '\0');
      auto* tc = reinterpret_cast<unsigned char*>(theirs.data() + 4);
      if (cipher == Cipher::kAes256Gcm) {
        crypto_aead_aes256gcm_encrypt_detached(tc, tc + size, nullptr, tc, size, ad, 4, nullptr,
                                               nonce, key.data());
      } else {
        crypto_aead_chacha20poly1305_ietf_encrypt_detached(tc, tc + size, nullptr, tc, size, ad, 4,
                                                           nullptr, nonce, key.data());
      }
      EXPECT_EQ(theirs, rec);
      auto opened = open_record(rx, theirs);
      ASSERT_TRUE(opened) << opened.error().what();
      EXPECT_EQ(*opened, plain);
      ++counter;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ciphers, RecordTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "ChaCha20Poly1305" : "Default";
                         });

TEST(RecordCipher, KeysInPlainMemoryWorkTheSameAndMoveSafely) {
  // vt-sim's setting (set_guarded_key_memory): the cipher is unchanged.
  std::array<std::uint8_t, 32> key{};
  key[0] = 9;
  set_guarded_key_memory(false);
  RecordCipher tx(Cipher::kChaCha20Poly1305, key);
  set_guarded_key_memory(true);
  RecordCipher rx(Cipher::kChaCha20Poly1305, key);  // guarded: the two mix
  RecordCipher moved(std::move(tx));
  RecordCipher assigned;
  assigned = std::move(moved);
  std::string rec = seal_record(assigned, "hello");
  auto out = open_record(rx, rec);
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_EQ(*out, "hello");
}

}  // namespace
}  // namespace peers
