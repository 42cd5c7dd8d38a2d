#include "lib/stream/ts.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace vt {
namespace {

std::uint8_t byte_at(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

peers::Error malformed(std::string what) {
  return peers::Error(peers::Errc::kProtocol, "malformed TS packet: " + what);
}

// Looks for the first decisive start code in elementary-stream bytes that
// follow a video PES header. The first start code tells the codec family:
// MPEG-1/2 video uses 0x00 (picture) and 0xB0..0xFF (sequence, GOP, ...)
// right after a PES header, while an H.264 NAL header never has its top bit
// set and type 0 is unused.
RandomAccessKind scan_video_es(std::string_view es) {
  for (std::size_t i = 0; i + 3 < es.size(); ++i) {
    if (byte_at(es, i) != 0 || byte_at(es, i + 1) != 0 || byte_at(es, i + 2) != 1) continue;
    std::uint8_t code = byte_at(es, i + 3);
    if (code == 0xB3) return RandomAccessKind::kSequenceHeader;
    if (code == 0x00 || (code & 0x80) != 0) return RandomAccessKind::kNone;
    switch (code & 0x1F) {
      case 7:
        return RandomAccessKind::kH264Sps;
      case 5:
        return RandomAccessKind::kH264Idr;
      case 1:
      case 2:
      case 3:
      case 4:
        // A slice that is not IDR came first: this access unit is not a
        // random-access point.
        return RandomAccessKind::kNone;
      default:
        break;  // AUD, SEI, PPS, ...: keep looking
    }
    i += 3;
  }
  return RandomAccessKind::kNone;
}

}  // namespace

peers::Result<TsPacketHeader> parse_ts_packet(std::string_view packet) {
  if (packet.size() != kTsPacketSize) {
    return malformed(std::to_string(packet.size()) + " bytes, expected 188");
  }
  if (byte_at(packet, 0) != kTsSyncByte) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", byte_at(packet, 0));
    return malformed(std::string("starts with ") + buf + ", not the sync byte 0x47");
  }
  TsPacketHeader h;
  std::uint8_t b1 = byte_at(packet, 1), b3 = byte_at(packet, 3);
  h.transport_error = (b1 & 0x80) != 0;
  h.payload_unit_start = (b1 & 0x40) != 0;
  h.transport_priority = (b1 & 0x20) != 0;
  h.pid = static_cast<std::uint16_t>(((b1 & 0x1F) << 8) | byte_at(packet, 2));
  h.scrambling = static_cast<std::uint8_t>(b3 >> 6);
  std::uint8_t afc = (b3 >> 4) & 0x3;
  h.continuity_counter = b3 & 0x0F;
  if (afc == 0) return malformed("reserved adaptation_field_control 0");
  h.has_adaptation_field = (afc & 0x2) != 0;
  h.has_payload = (afc & 0x1) != 0;

  std::size_t offset = 4;
  if (h.has_adaptation_field) {
    std::size_t length = byte_at(packet, 4);
    std::size_t limit = h.has_payload ? 182 : 183;
    if (length > limit) {
      return malformed("adaptation field length " + std::to_string(length) + " exceeds " +
                       std::to_string(limit));
    }
    if (length > 0) {
      std::uint8_t flags = byte_at(packet, 5);
      h.discontinuity = (flags & 0x80) != 0;
      h.random_access = (flags & 0x40) != 0;
      if ((flags & 0x10) != 0) {
        if (length < 7) {
          return malformed("adaptation field of " + std::to_string(length) +
                           " bytes cannot hold its PCR");
        }
        std::uint64_t base = (std::uint64_t{byte_at(packet, 6)} << 25) |
                             (std::uint64_t{byte_at(packet, 7)} << 17) |
                             (std::uint64_t{byte_at(packet, 8)} << 9) |
                             (std::uint64_t{byte_at(packet, 9)} << 1) | (byte_at(packet, 10) >> 7);
        std::uint64_t extension =
            ((std::uint64_t{byte_at(packet, 10)} & 0x1) << 8) | byte_at(packet, 11);
        h.pcr = base * 300 + extension;
      }
    }
    offset = 5 + length;
  }
  h.payload_offset = h.has_payload ? offset : kTsPacketSize;
  return h;
}

RandomAccessKind random_access_kind(std::string_view packet) {
  peers::Result<TsPacketHeader> h = parse_ts_packet(packet);
  if (!h) return RandomAccessKind::kNone;
  if (!h->payload_unit_start || !h->has_payload || h->scrambling != 0 || h->transport_error) {
    return RandomAccessKind::kNone;
  }
  std::string_view pes = packet.substr(h->payload_offset);
  if (pes.size() < 4 || byte_at(pes, 0) != 0 || byte_at(pes, 1) != 0 || byte_at(pes, 2) != 1) {
    return RandomAccessKind::kNone;
  }
  std::uint8_t stream_id = byte_at(pes, 3);
  if (stream_id < 0xE0 || stream_id > 0xEF) return RandomAccessKind::kNone;
  if (h->random_access) return RandomAccessKind::kIndicator;
  // MPEG-2 PES header: 6 fixed bytes, two flag bytes ('10' marker first),
  // PES_header_data_length, then the optional fields.
  if (pes.size() < 9 || (byte_at(pes, 6) & 0xC0) != 0x80) return RandomAccessKind::kNone;
  std::size_t es_start = 9 + std::size_t{byte_at(pes, 8)};
  if (es_start >= pes.size()) return RandomAccessKind::kNone;
  return scan_video_es(pes.substr(es_start));
}

bool is_psi_packet(std::string_view packet) {
  peers::Result<TsPacketHeader> h = parse_ts_packet(packet);
  if (!h) return false;
  if (h->pid <= 0x1F || h->pid == 0x1FFF) return true;
  if (!h->payload_unit_start || !h->has_payload || h->scrambling != 0) return false;
  std::string_view payload = packet.substr(h->payload_offset);
  bool pes = payload.size() >= 3 && byte_at(payload, 0) == 0 && byte_at(payload, 1) == 0 &&
             byte_at(payload, 2) == 1;
  return !pes;
}

TsDetector::TsDetector(int packets) : packets_(std::max(packets, 2)) {}

TsAlignment TsDetector::examine(std::string_view head, bool final) const {
  const std::size_t size = head.size();
  const std::size_t offsets = std::min(size, kTsPacketSize);
  for (std::size_t o = 0; o < offsets; ++o) {
    bool mismatch = false;
    int present = 0;
    for (int i = 0; i < packets_; ++i) {
      std::size_t pos = o + kTsPacketSize * static_cast<std::size_t>(i);
      if (pos >= size) break;
      if (byte_at(head, pos) != kTsSyncByte) {
        mismatch = true;
        break;
      }
      ++present;
    }
    if (mismatch) continue;
    if (present == packets_) return {TsVerdict::kTs, o};
    // Offsets past o see no more sync positions than o does, so none of them
    // can be decided either.
    if (!final) return {TsVerdict::kNeedMore, 0};
    if (present >= 2) return {TsVerdict::kTs, o};
    return {TsVerdict::kNotTs, 0};
  }
  if (size < kTsPacketSize && !final) return {TsVerdict::kNeedMore, 0};
  return {TsVerdict::kNotTs, 0};
}

}  // namespace vt
