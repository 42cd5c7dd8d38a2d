// What a source's input is: TsProbe reads the bytes of a stream as they come
// (any split) and says whether it is MPEG-TS, which programs and codecs its
// tables (PAT, PMT) announce, its bit rate measured by its own clock (PCR),
// and where each PCR falls, so a recorded file can be sent at the pace it
// was recorded at (vt-source --realtime).
//
// Only single-packet table sections are read (programs' PMTs nearly always
// fit in one packet); CRCs are not checked: this describes, it does not
// validate. Never throws on malformed input.
//
//   vt::TsProbe probe;
//   probe.push(bytes);
//   if (probe.verdict() == vt::TsVerdict::kTs && probe.tables_complete())
//     log("input is MPEG-TS", probe.describe());   // "1 program: 1 (mpeg2video, mp2)"
//   for (auto& p : probe.clock_points()) sleep_until(start + p.time), send(up to p.offset);
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/stream/ts.h"

namespace vt {

struct TsElementaryStream {
  std::uint16_t pid = 0;
  std::uint8_t stream_type = 0;
  std::string codec;  // ts_codec_name(), refined by descriptors for private data
};

struct TsProgram {
  std::uint16_t number = 0;
  std::uint16_t pmt_pid = 0;
  bool pmt_seen = false;
  std::uint16_t pcr_pid = 0x1FFF;
  std::vector<TsElementaryStream> streams;
};

// "mpeg2video", "h264", "hevc", "aac", "mp2", "ac3", ... for an ISO/IEC
// 13818-1 stream_type; "type 0x06" style for others.
std::string ts_codec_name(std::uint8_t stream_type);

class TsProbe {
 public:
  // A PCR on the reference PID: it ends at `offset` in the bytes of the
  // last push(), and is `time` into the stream (counted from the first PCR,
  // carried across discontinuities).
  struct ClockPoint {
    std::size_t offset = 0;
    std::chrono::microseconds time{0};
  };

  // The next bytes of the stream. Clears clock_points() first.
  void push(std::string_view bytes);
  // End of input: decides on what there is.
  void finish();

  TsVerdict verdict() const { return verdict_; }
  // The PAT and every program's PMT have been read.
  bool tables_complete() const;
  const std::vector<TsProgram>& programs() const { return programs_; }
  // Bytes between the first and the newest PCR over their time, once they
  // are at least a second apart.
  std::optional<double> bit_rate_bps() const;
  const std::vector<ClockPoint>& clock_points() const { return points_; }
  std::uint64_t bytes() const { return bytes_; }
  // "2 programs: 1 (h264, aac), 2 (mpeg2video, mp2)"; "no program tables
  // yet" before the PAT.
  std::string describe() const;

 private:
  void packet(std::string_view p, std::size_t end_in_push);
  void read_pat(std::string_view section);
  void read_pmt(TsProgram& program, std::string_view section);

  TsVerdict verdict_ = TsVerdict::kNeedMore;
  std::string head_;   // bytes until the verdict
  std::string carry_;  // a packet split across pushes
  std::uint64_t bytes_ = 0;
  bool pat_seen_ = false;
  std::vector<TsProgram> programs_;
  std::vector<ClockPoint> points_;
  // The clock: the first PCR PID announced (or seen), its last value and the
  // stream time reached.
  std::optional<std::uint16_t> clock_pid_;
  std::optional<std::uint64_t> last_pcr_;
  std::chrono::microseconds clock_time_{0};
  // Stream bytes through the first and the newest PCR packet.
  std::optional<std::uint64_t> first_pcr_byte_;
  std::uint64_t last_pcr_byte_ = 0;
  std::uint64_t align_offset_ = 0;  // where the first whole packet starts
  std::uint64_t packets_ = 0;       // packets read since
};

}  // namespace vt
