#include "lib/stream/test_util.h"

#include <cstdlib>
#include <iostream>

#include "lib/stream/ts.h"

namespace vt::testing {
namespace {

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "test_util: " << what << "\n";
  std::abort();
}

}  // namespace

std::string ts_packet(const PacketSpec& spec) {
  std::string p;
  p.push_back(static_cast<char>(kTsSyncByte));
  p.push_back(static_cast<char>((spec.payload_unit_start ? 0x40 : 0) | ((spec.pid >> 8) & 0x1F)));
  p.push_back(static_cast<char>(spec.pid & 0xFF));
  bool flags = spec.random_access || spec.pcr.has_value();
  bool adaptation = flags || spec.payload.size() < 184;
  if (spec.payload.size() > 184) fail("payload too large");
  std::uint8_t afc = adaptation ? 0x3 : 0x1;
  p.push_back(
      static_cast<char>((spec.scrambling << 6) | (afc << 4) | (spec.continuity_counter & 0xF)));
  if (adaptation) {
    std::size_t length = 183 - spec.payload.size();
    std::size_t needed = flags ? 1 + (spec.pcr ? 6 : 0) : 0;
    if (length < needed) fail("payload leaves no room for the adaptation field");
    p.push_back(static_cast<char>(length));
    if (length > 0) {
      p.push_back(static_cast<char>((spec.random_access ? 0x40 : 0) | (spec.pcr ? 0x10 : 0)));
      if (spec.pcr) {
        std::uint64_t base = *spec.pcr / 300, ext = *spec.pcr % 300;
        p.push_back(static_cast<char>(base >> 25));
        p.push_back(static_cast<char>(base >> 17));
        p.push_back(static_cast<char>(base >> 9));
        p.push_back(static_cast<char>(base >> 1));
        p.push_back(static_cast<char>(((base & 1) << 7) | 0x7E | (ext >> 8)));
        p.push_back(static_cast<char>(ext & 0xFF));
      }
      p.append(5 + length - p.size(), '\xFF');
    }
  }
  p.append(spec.payload);
  if (p.size() != kTsPacketSize) fail("built a packet of " + std::to_string(p.size()));
  return p;
}

std::string pes(std::uint8_t stream_id, std::string_view es) {
  std::string p{"\x00\x00\x01", 3};
  p.push_back(static_cast<char>(stream_id));
  p.append(std::string("\x00\x00\x80\x80\x05\x21\x00\x01\x00\x01", 10));
  p.append(es);
  return p;
}

std::string pat_packet(std::uint16_t pmt_pid) {
  // pointer_field 0, table_id 0, a section with one program (CRC not
  // computed: nothing here checks it).
  std::string section{"\x00\x00\xB0\x0D\x00\x01\xC1\x00\x00\x00\x01", 11};
  section.push_back(static_cast<char>(0xE0 | (pmt_pid >> 8)));
  section.push_back(static_cast<char>(pmt_pid & 0xFF));
  section.append("\x12\x34\x56\x78", 4);
  section.append(184 - section.size(), '\xFF');
  return ts_packet({.pid = 0, .payload_unit_start = true, .payload = section});
}

std::string pmt_packet(std::uint16_t pid) {
  std::string section{
      "\x00\x02\xB0\x17\x00\x01\xC1\x00\x00\xE1\x00\xF0\x00\x02\xE1\x00\xF0\x00"
      "\x03\xE1\x01\xF0\x00",
      23};
  section.append(184 - section.size(), '\xFF');
  return ts_packet({.pid = pid, .payload_unit_start = true, .payload = section});
}

std::string ts_stream(const StreamSpec& spec) {
  std::string out;
  out.reserve(spec.packets * kTsPacketSize);
  for (std::size_t i = 0; i < spec.packets; ++i) {
    std::string tag = "packet " + std::to_string(i) + " ";
    std::size_t phase = spec.gop ? i % spec.gop : kTsPacketSize;
    if (phase == 0) {
      out += pat_packet();
    } else if (phase == 1) {
      out += pmt_packet();
    } else if (phase == 2) {
      std::string es(kSequenceHeader);
      es += tag;
      out += ts_packet({.pid = 0x100,
                        .payload_unit_start = true,
                        .random_access = true,
                        .pcr = i * 1000,
                        .payload = video_pes(es)});
    } else if (spec.audio_every && i % spec.audio_every == 0) {
      out += ts_packet({.pid = 0x101,
                        .payload_unit_start = true,
                        .random_access = true,
                        .payload = audio_pes("\xFF\xFD" + tag)});
    } else {
      std::string payload = tag;
      while (payload.size() < 184) payload.push_back(static_cast<char>('a' + payload.size() % 26));
      out += ts_packet({.pid = 0x100,
                        .continuity_counter = static_cast<std::uint8_t>(i & 0xF),
                        .payload = payload});
    }
  }
  return out;
}

std::string random_bytes(std::size_t size, std::uint32_t seed) {
  std::string out(size, '\0');
  std::uint32_t x = seed ? seed : 1;
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    auto b = static_cast<std::uint8_t>(x >> 24);
    if (b == kTsSyncByte) b = 0x48;
    c = static_cast<char>(b);
  }
  return out;
}

std::string join_payloads(const std::vector<Chunk>& chunks) {
  std::string out;
  for (const Chunk& c : chunks) out += c.payload;
  return out;
}

void append(std::vector<Chunk>& dst, std::vector<Chunk> src) {
  for (Chunk& c : src) dst.push_back(std::move(c));
}

}  // namespace vt::testing
