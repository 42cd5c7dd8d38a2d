// Builders of synthetic MPEG-TS for the tests of lib/stream.
//
//   std::string p = vt::testing::ts_packet({.pid = 0x100, .payload_unit_start = true,
//                                           .payload = vt::testing::video_pes(kSequenceHeader)});
//   std::string ts = vt::testing::ts_stream({.packets = 500, .gop = 50});
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/stream/chunk.h"

namespace vt::testing {

// MPEG-2 video: sequence header start, then some of its bytes.
inline constexpr std::string_view kSequenceHeader{"\x00\x00\x01\xB3\x14\x00\xF0\x23", 8};
// MPEG-2 video: a picture start code (P picture), no sequence header.
inline constexpr std::string_view kPictureStart{"\x00\x00\x01\x00\x00\x10\xFF\xFF", 8};

struct PacketSpec {
  std::uint16_t pid = 0x100;
  bool payload_unit_start = false;
  bool random_access = false;
  std::optional<std::uint64_t> pcr = std::nullopt;  // 27 MHz
  std::uint8_t continuity_counter = 0;
  std::uint8_t scrambling = 0;
  // At most what fits; the adaptation field is stuffed to fill 188 bytes.
  std::string payload;
};

// One 188-byte packet.
std::string ts_packet(const PacketSpec& spec);

// A PES packet start with stream_id (0xE0 video, 0xC0 audio), a 5-byte PTS,
// then es.
std::string pes(std::uint8_t stream_id, std::string_view es);
inline std::string video_pes(std::string_view es) { return pes(0xE0, es); }
inline std::string audio_pes(std::string_view es) { return pes(0xC0, es); }

// A PAT packet (PID 0) announcing one program whose PMT is on pmt_pid.
std::string pat_packet(std::uint16_t pmt_pid = 0x1000);
// A PMT packet on pid (a table section, not PES).
std::string pmt_packet(std::uint16_t pid = 0x1000);

struct StreamSpec {
  std::size_t packets = 100;
  // Every gop-th packet (from 0) is a video key frame preceded by PAT and
  // PMT (which count among the packets); 0: no key frames.
  std::size_t gop = 0;
  // Every audio_every-th other packet is an audio PES start with
  // random_access_indicator set (as ffmpeg writes them); 0: none.
  std::size_t audio_every = 0;
};

// A synthetic transport stream; every packet's payload differs (it carries
// the packet's index), so a reordering shows.
std::string ts_stream(const StreamSpec& spec);

// Deterministic pseudo-random bytes without any 0x47 (so never MPEG-TS).
std::string random_bytes(std::size_t size, std::uint32_t seed);

// Concatenation of the payloads.
std::string join_payloads(const std::vector<Chunk>& chunks);

// Appends src to dst (moving the chunks).
void append(std::vector<Chunk>& dst, std::vector<Chunk> src);

}  // namespace vt::testing
