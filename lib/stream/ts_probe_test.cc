#include "lib/stream/ts_probe.h"

#include <gtest/gtest.h>

#include "lib/stream/test_util.h"

namespace vt {
namespace {

using namespace std::chrono_literals;
using testing::pat_packet;
using testing::pmt_packet;
using testing::ts_packet;

// PAT, PMT (MPEG-2 video on 0x100 with the PCR, MP1 audio on 0x101), then
// `seconds` of video packets, 100 a second, a PCR every 10 (every 100 ms).
std::string clocked_stream(int seconds, std::uint64_t first_pcr = 0) {
  std::string out = pat_packet() + pmt_packet();
  for (int i = 0; i < seconds * 100; ++i) {
    std::optional<std::uint64_t> pcr;
    if (i % 10 == 0) pcr = first_pcr + static_cast<std::uint64_t>(i / 10) * 2'700'000;
    out += ts_packet({.pid = 0x100, .pcr = pcr, .payload = std::string(100, 'v')});
  }
  return out;
}

TEST(TsProbe, ReadsProgramsAndCodecsFromTheTables) {
  TsProbe probe;
  probe.push(pat_packet() + pmt_packet() + testing::ts_stream({.packets = 20}));
  EXPECT_EQ(probe.verdict(), TsVerdict::kTs);
  ASSERT_TRUE(probe.tables_complete());
  ASSERT_EQ(probe.programs().size(), 1u);
  EXPECT_EQ(probe.programs()[0].number, 1);
  EXPECT_EQ(probe.programs()[0].pcr_pid, 0x100);
  EXPECT_EQ(probe.describe(), "1 program: 1 (mpeg2video, mp2)");
}

TEST(TsProbe, MeasuresTheBitRateByPcrWhateverTheSplit) {
  std::string stream = "junk!" + clocked_stream(3);
  TsProbe probe;
  // Pieces of odd sizes: packets straddle pushes.
  for (std::size_t at = 0; at < stream.size(); at += 1000) probe.push(stream.substr(at, 1000));
  ASSERT_TRUE(probe.bit_rate_bps());
  // 100 packets of 188 bytes a second.
  EXPECT_NEAR(*probe.bit_rate_bps(), 100 * 188 * 8, 1);
}

TEST(TsProbe, ClockPointsSayWhereEachPcrEndsAndItsTime) {
  std::string stream = clocked_stream(1);
  TsProbe probe;
  probe.push(stream.substr(0, 188 * 12));  // the verdict, and the first PCR
  probe.push(stream.substr(188 * 12, 188 * 20));
  // PCRs on packets 12 and 22 of the stream (video packets 10 and 20).
  ASSERT_EQ(probe.clock_points().size(), 2u);
  EXPECT_EQ(probe.clock_points()[0].offset, 188u);
  EXPECT_EQ(probe.clock_points()[0].time, 100ms);
  EXPECT_EQ(probe.clock_points()[1].offset, 188u * 11);
  EXPECT_EQ(probe.clock_points()[1].time, 200ms);
}

TEST(TsProbe, ADiscontinuityKeepsTheTimeGoing) {
  std::string stream = clocked_stream(1) + clocked_stream(1, 1);  // the clock starts again
  TsProbe probe;
  probe.push(stream);
  ASSERT_FALSE(probe.clock_points().empty());
  EXPECT_EQ(probe.clock_points().back().time, 1800ms);  // 0.9 s, then 0.9 s more
}

TEST(TsProbe, PlainBytesAreNotTs) {
  TsProbe probe;
  probe.push(testing::random_bytes(4096, 7));
  EXPECT_EQ(probe.verdict(), TsVerdict::kNotTs);
  EXPECT_FALSE(probe.tables_complete());
  EXPECT_FALSE(probe.bit_rate_bps());
  TsProbe short_input;
  short_input.push("abc");
  short_input.finish();
  EXPECT_EQ(short_input.verdict(), TsVerdict::kNotTs);
}

TEST(TsProbe, NamesCodecs) {
  EXPECT_EQ(ts_codec_name(0x1B), "h264");
  EXPECT_EQ(ts_codec_name(0x24), "hevc");
  EXPECT_EQ(ts_codec_name(0x0F), "aac");
  EXPECT_EQ(ts_codec_name(0x42), "type 0x42");
}

}  // namespace
}  // namespace vt
