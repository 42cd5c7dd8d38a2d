// Writes the generated seed corpora of the fuzz targets into DIR/<target>/
// (testdata/fuzz/README.md): well-formed inputs made with the project's own
// encoders, so the fuzzers start from what peers really send. The seeds are
// deterministic (fixed keys and inputs) except the handshake's, whose HELLO
// carries a fresh ephemeral key.
//
//   bazel run //fuzz:make_seeds -- $PWD/testdata/fuzz
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/embedded_descriptors.h"
#include "lib/crypto/identity.h"
#include "lib/crypto/key_file.h"
#include "lib/crypto/session.h"
#include "lib/idl/json_codec.h"
#include "lib/stream/signed_chunk.h"
#include "lib/stream/test_util.h"
#include "lib/wire/frame.h"
#include "testdata/idl/every_type.pidl.h"
#include "testdata/idl/every_type_sample.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path g_root;

void write(const std::string& target, const std::string& name, std::string_view bytes) {
  fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
}

std::string byte(int b) { return std::string(1, static_cast<char>(b)); }

peers::Identity identity_from(std::uint8_t fill) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(fill);
  return peers::Identity::from_seed(seed).value();
}

std::vector<std::string> frames() {
  namespace w = peers::wire;
  std::vector<std::string> out(14);
  w::CallHeader call;
  call.call_id = 7;
  call.method_id = 0xB5A0E3DE;
  call.deadline_ms = 2000;
  w::encode_call(out[0], call, "\x08\x01");
  call.has_continuation = true;
  call.continuation = {.caller_id = "vt1abc",
                       .caller_addr = "127.0.0.1:7000",
                       .call_id = 3,
                       .token = std::string(16, 't'),
                       .hops = 2};
  w::encode_call(out[1], call, "args");
  w::encode_reply(out[2], 7, "\x08\x02");
  w::ErrorBody error{.code = peers::Errc::kTimeout,
                     .type_name = "vt.overlay.Full",
                     .message = "full",
                     .origin = "vt1x",
                     .call_path = "a/b",
                     .fields = "\x08\x05"};
  w::encode_error(out[3], 7, error);
  w::encode_event(out[4], 42, "event");
  w::encode_data_header(out[5], 1);
  out[5] += "payload";
  w::encode_credit(out[6], 1, 65536);
  w::encode_cancel(out[7], 7);
  w::encode_ping(out[8], w::FrameType::kPing, 0x0102030405060708);
  w::encode_goaway(out[9], 9, "shutting down");
  w::encode_close_channel(out[10], 1, &error);
  w::encode_cont_reply(out[11], call.continuation, "result");
  w::encode_cont_error(out[12], call.continuation, error);
  w::encode_forwarded(out[13], 7);
  return out;
}

void frame_seeds() {
  int i = 0;
  for (const std::string& f : frames()) write("frame", "frame-" + std::to_string(i++), f);
}

void record_seeds() {
  for (int cipher = 0; cipher < 3; ++cipher) {
    std::string input = byte(cipher) + byte(2) + "ad";
    for (const std::string& f : frames()) {
      input += byte(static_cast<int>(f.size() & 0xff)) + byte(static_cast<int>(f.size() >> 8));
      input += f;
    }
    write("record", "records-" + std::to_string(cipher), input);
  }
}

void handshake_seeds() {
  peers::Identity other = identity_from(9);
  for (int flags : {0, 1 | 8, 16, 2 | 4 | 16}) {
    peers::HandshakeOptions options;
    options.listen_addr = "10.0.0.1:7000";
    peers::Handshake hs(other, /*initiator=*/!(flags & 16), options);
    peers::Handshake me(identity_from(7), flags & 16, {});
    (void)hs.on_hello(me.hello());
    write("handshake", "hello-auth-" + std::to_string(flags), byte(flags) + hs.hello() + hs.auth());
  }
}

void value_seeds() {
  using namespace peers::idltest;
  write("value_codec", "walk-everything", byte(0) + full_everything().encode());
  write("value_codec", "everything", byte(1) + full_everything().encode());
  write("value_codec", "everything-default", byte(1) + Everything{}.encode());
  Node root;
  root.name = "root";
  root.children.emplace_back().name = "a";
  root.named["b"].name = "b";
  write("value_codec", "node", byte(2) + root.encode());
  Ping ping;
  ping.n = 3;
  write("value_codec", "ping", byte(3) + ping.encode());
}

void stream_seeds() {
  using vt::testing::StreamSpec;
  std::string ts = vt::testing::ts_stream(StreamSpec{.packets = 20, .gop = 10, .audio_every = 3});
  write("ts", "stream", byte(5) + ts);
  write("ts", "stream-final-offset", byte(8 | 3) + "xyz" + ts.substr(0, 188 * 4));
  write("ts", "random", byte(0) + vt::testing::random_bytes(400, 1));
  std::string packets;
  packets += vt::testing::pat_packet();
  packets += vt::testing::pmt_packet();
  packets +=
      vt::testing::ts_packet({.payload_unit_start = true,
                              .random_access = true,
                              .pcr = 27000000,
                              .payload = vt::testing::video_pes(vt::testing::kSequenceHeader)});
  packets += vt::testing::ts_packet({.payload_unit_start = true,
                                     .payload = vt::testing::video_pes(std::string(
                                         "\x00\x00\x00\x01\x09\xf0\x00\x00\x00\x01\x67", 11))});
  packets += vt::testing::ts_packet(
      {.payload_unit_start = true,
       .payload = vt::testing::video_pes(std::string("\x00\x00\x01\x65\x88", 5))});
  write("ts", "packets", byte(2) + packets);

  // Chunker: options (stripes, target size, min cut size, max delay, flags),
  // then pushes of 16 x length bytes (0x40) every 10 ms, polling (0x80).
  std::string options =
      byte(3) + byte(0x00) + byte(0x08) + byte(0x00) + byte(0x04) + byte(20) + byte(3 << 1);
  std::string input = options;
  std::string big = vt::testing::ts_stream(StreamSpec{.packets = 200, .gop = 40});
  for (std::size_t at = 0; at < big.size(); at += 16 * 200) {
    std::string_view piece = std::string_view(big).substr(at, 16 * 200);
    input += byte(0x40 | 0x80 | 10) + byte(static_cast<int>((piece.size() + 15) / 16));
    input += piece;
  }
  write("chunker", "ts-stream", input);
  std::string plain = byte(0) + byte(0xff) + byte(0x01) + byte(0) + byte(0) + byte(1) + byte(1);
  plain += byte(5) + byte(100) + vt::testing::random_bytes(100, 2);
  plain += byte(0x80 | 50) + byte(0);
  write("chunker", "plain", plain);

  peers::Identity source = identity_from(0x5c);
  vt::Chunk chunk{.seq = 9,
                  .stripe = 1,
                  .random_access = true,
                  .timestamp = std::chrono::microseconds(123456),
                  .payload = ts.substr(0, 376)};
  write("signed_chunk", "chunk", byte(0) + vt::sign_chunk(source, chunk));
  write("signed_chunk", "chunk-limit", byte(3) + vt::sign_chunk(source, chunk));
  vt::Chunk end{.seq = 10, .stripe = 2, .end_of_stream = true, .payload = {}};
  write("signed_chunk", "end-of-stream", byte(0) + vt::sign_chunk(source, end));
  write("signed_chunk", "other-stream", byte(0) + vt::sign_chunk(identity_from(1), chunk));
}

void key_file_seeds() {
  std::string text = peers::encode_key_file(identity_from(0x33));
  write("key_file", "key", text);
  std::string crlf;
  for (char c : text) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  write("key_file", "key-crlf", "\n# comment\n" + crlf);
  write("key_file", "key-truncated", text.substr(0, text.size() - 5));
  write("key_file", "peer-id", identity_from(0x44).peer_id().to_string() + "\n");
}

void json_seeds() {
  json docs = json::array();
  std::vector<std::string> types;
  for (std::string_view text : peers::fuzz::embedded_descriptors()) {
    json doc = json::parse(text);
    for (const char* list : {"structs", "errors"}) {
      for (const json& t : doc.value(list, json::array())) types.push_back(t["full_name"]);
    }
    docs.push_back(std::move(doc));
  }
  types.push_back("void");
  auto d = peers::idl::Descriptors::load(docs).value();
  for (std::size_t i = 0; i < types.size() && i < 256; ++i) {
    auto bytes = d.json_to_wire(types[i], json::object()).value();
    write("json_codec", types[i] + ".json", byte(static_cast<int>(i)) + byte(1) + "{}");
    write("json_codec", types[i] + ".wire", byte(static_cast<int>(i)) + byte(0) + bytes);
    if (types[i] == "peers.idltest.Everything") {
      std::string wire = peers::idltest::full_everything().encode();
      write("json_codec", "everything-full.wire", byte(static_cast<int>(i)) + byte(0) + wire);
      json value = d.wire_to_json(types[i], wire).value();
      write("json_codec", "everything-full.json",
            byte(static_cast<int>(i)) + byte(1) + value.dump());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR   (e.g. $PWD/testdata/fuzz)\n");
    return 2;
  }
  g_root = argv[1];
  frame_seeds();
  record_seeds();
  handshake_seeds();
  value_seeds();
  stream_seeds();
  key_file_seeds();
  json_seeds();
  return 0;
}
