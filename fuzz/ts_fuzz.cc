// Fuzz target: the MPEG-TS parser (lib/stream/ts.h), which reads the source's
// input. The input's first byte sets the detector's packet count and whether
// the head is final; the rest is a stream. Every 188-byte packet of it, from
// the offset the detector finds (or 0), goes through the packet parser and
// the random-access and PSI classifiers, which must agree with each other.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_input.h"
#include "lib/stream/ts.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  peers::fuzz::FuzzInput in(data, size);
  std::uint8_t flags = in.byte();
  vt::TsDetector detector(flags % 8);
  bool final = flags & 8;
  std::string_view stream = in.rest();

  vt::TsAlignment a = detector.examine(stream, final);
  PEERS_FUZZ_CHECK(a.offset < vt::kTsPacketSize, "an offset inside the first packet");
  if (final || stream.size() >= detector.max_lookahead()) {
    PEERS_FUZZ_CHECK(a.verdict != vt::TsVerdict::kNeedMore, "a verdict once the head is long");
  }
  if (a.verdict == vt::TsVerdict::kTs) {
    PEERS_FUZZ_CHECK(stream.size() > a.offset && stream[a.offset] == vt::kTsSyncByte,
                     "packets start with the sync byte");
  }

  std::size_t start = a.verdict == vt::TsVerdict::kTs ? a.offset : 0;
  for (std::size_t at = start; at < stream.size(); at += vt::kTsPacketSize) {
    std::string_view packet = stream.substr(at, vt::kTsPacketSize);
    auto header = vt::parse_ts_packet(packet);
    vt::RandomAccessKind kind = vt::random_access_kind(packet);
    bool psi = vt::is_psi_packet(packet);
    if (!header) {
      PEERS_FUZZ_CHECK(header.error().code() == peers::Errc::kProtocol,
                       "a bad packet is kProtocol");
      PEERS_FUZZ_CHECK(kind == vt::RandomAccessKind::kNone && !psi, "a bad packet is neither");
      continue;
    }
    PEERS_FUZZ_CHECK(header->pid <= 0x1FFF && header->continuity_counter <= 15, "field widths");
    PEERS_FUZZ_CHECK(header->payload_offset <= vt::kTsPacketSize, "payload inside the packet");
    PEERS_FUZZ_CHECK(header->has_payload || header->payload_offset == vt::kTsPacketSize,
                     "no payload, no offset");
    if (kind != vt::RandomAccessKind::kNone) {
      PEERS_FUZZ_CHECK(header->payload_unit_start && header->scrambling == 0,
                       "a random-access point starts an unscrambled PES");
    }
  }
  return 0;
}
