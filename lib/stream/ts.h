// MPEG transport stream (ISO/IEC 13818-1) helpers for the chunker.
//
// VidTorrent carries any byte stream, but when the source's input is MPEG-TS
// it cuts chunks on 188-byte packet boundaries and starts a chunk at each
// random-access point, so a sink that joins late can begin decoding cleanly.
// This file holds what that needs, and nothing more (no PSI tables, no PES
// reassembly):
//
//  - TsDetector: is this stream MPEG-TS, and at which byte offset do packets
//    start? (A stream may begin in the middle of a packet.)
//  - parse_ts_packet(): the 4-byte header and the adaptation field of one
//    packet (PID, payload_unit_start, random_access_indicator, PCR, ...).
//  - random_access_kind(): is this packet a random-access point?
//  - is_psi_packet(): does it carry program tables (PAT, PMT, ...), which a
//    late joiner needs before the random-access point?
//
// Random-access points. A packet is one when it starts a *video* PES packet
// (payload_unit_start set, PES stream_id 0xE0..0xEF) and either
//   1. its adaptation field has random_access_indicator set, or
//   2. the first elementary-stream bytes in this packet (after the PES header)
//      begin a decodable picture:
//        MPEG-1/2 video: the first start code is a sequence header
//          (00 00 01 B3);
//        H.264: before the first slice NAL unit, a SPS (NAL type 7) or an
//          IDR slice (NAL type 5) appears (start codes 00 00 01 or
//          00 00 00 01; access unit delimiters, SEI and PPS are skipped).
// random_access_indicator on non-video PES is ignored on purpose: ffmpeg's
// muxer sets it on every audio frame, which would make every audio packet a
// cut point. HEVC and other codecs are recognised through rule 1 only (ffmpeg
// sets the indicator on their key frames). Scrambled packets are never
// random-access points. Only the bytes of the one packet are examined.
//
// Every function here reads only inside the bytes it is given and never
// throws on malformed input.
//
//   vt::TsDetector detector;
//   vt::TsAlignment a = detector.examine(head, /*final=*/false);
//   if (a.verdict == vt::TsVerdict::kTs) packets_start_at(a.offset);
//   if (vt::is_random_access_point(packet)) cut_before(packet);
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "lib/kernel/error.h"

namespace vt {

inline constexpr std::size_t kTsPacketSize = 188;
inline constexpr std::uint8_t kTsSyncByte = 0x47;

// The fixed header and the adaptation field of one transport packet.
struct TsPacketHeader {
  std::uint16_t pid = 0;  // 13 bits
  bool transport_error = false;
  bool payload_unit_start = false;
  bool transport_priority = false;
  std::uint8_t scrambling = 0;  // transport_scrambling_control, 2 bits
  bool has_adaptation_field = false;
  bool has_payload = false;
  std::uint8_t continuity_counter = 0;  // 4 bits
  // From the adaptation field; false / absent when there is none.
  bool discontinuity = false;
  bool random_access = false;
  // Program clock reference in 27 MHz units (base * 300 + extension).
  std::optional<std::uint64_t> pcr;
  // Where the payload starts in the packet; kTsPacketSize when there is no
  // payload.
  std::size_t payload_offset = 4;
};

// Parses one packet, which must be exactly kTsPacketSize bytes starting with
// the sync byte. Fails with Errc::kProtocol, naming the reason, when the size
// or sync byte is wrong, adaptation_field_control is the reserved value 0, or
// the adaptation field does not fit in the packet or is too short for the
// fields its flags announce.
peers::Result<TsPacketHeader> parse_ts_packet(std::string_view packet);

// Why a packet is a random-access point (see the file comment).
enum class RandomAccessKind {
  kNone,
  kIndicator,       // random_access_indicator on a video PES start
  kSequenceHeader,  // MPEG-1/2 video sequence header
  kH264Sps,         // H.264 sequence parameter set
  kH264Idr,         // H.264 IDR slice
};

// kNone for anything that is not a random-access point, including malformed
// packets.
RandomAccessKind random_access_kind(std::string_view packet);

inline bool is_random_access_point(std::string_view packet) {
  return random_access_kind(packet) != RandomAccessKind::kNone;
}

// True when the packet carries program-specific information or is stuffing,
// not elementary-stream data: a reserved table PID (0x0000..0x001F: PAT, CAT,
// NIT, SDT, EIT, ...), the null PID 0x1FFF, or a payload_unit_start packet
// whose payload is a table section (pointer_field, table_id) rather than a
// PES start code. This is how a PMT is recognised without parsing the PAT.
// Continuation packets of a table longer than one packet (rare) count as
// not PSI. False for malformed packets.
bool is_psi_packet(std::string_view packet);

enum class TsVerdict {
  kNeedMore,  // cannot tell yet: give examine() a longer head
  kTs,        // MPEG-TS; packets start at TsAlignment::offset
  kNotTs,     // not MPEG-TS (or not aligned anywhere in the first packet)
};

struct TsAlignment {
  TsVerdict verdict = TsVerdict::kNeedMore;
  // With kTs: bytes before the first whole packet (0..187).
  std::size_t offset = 0;
};

// Decides whether a stream is MPEG-TS from its first bytes: it is when, for
// some offset o in [0, 188), the bytes at o, o+188, ..., o+188*(n-1) are all
// the sync byte 0x47 (n = packets()). The smallest such offset wins.
// Immutable; examine() is a pure function of its arguments.
class TsDetector {
 public:
  // packets: how many consecutive sync bytes make a verdict, at least 2.
  // Fewer are clamped to 2. Five make a false positive on random bytes about
  // 188 / 256^5 ~ 2e-10 likely.
  explicit TsDetector(int packets = 5);

  int packets() const { return packets_; }
  // Bytes after which examine() never answers kNeedMore: 188 * packets().
  std::size_t max_lookahead() const { return kTsPacketSize * static_cast<std::size_t>(packets_); }

  // Looks at the first bytes of a stream. Answers kNeedMore while the answer
  // depends on bytes not yet seen, unless final is set (end of input, or the
  // caller cannot wait longer): then it decides with what there is, kTs when
  // some offset has at least two sync bytes 188 apart and no mismatch, else
  // kNotTs.
  TsAlignment examine(std::string_view head, bool final) const;

 private:
  int packets_;
};

}  // namespace vt
