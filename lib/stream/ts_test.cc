#include "lib/stream/ts.h"

#include <gtest/gtest.h>

#include <string>

#include "lib/stream/test_util.h"

namespace vt {
namespace {

using testing::audio_pes;
using testing::kPictureStart;
using testing::kSequenceHeader;
using testing::ts_packet;
using testing::video_pes;

std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s.push_back(static_cast<char>(b));
  return s;
}

TEST(TsPacket, ParsesHeaderWithoutAdaptationField) {
  std::string payload(184, 'x');
  std::string p = ts_packet(
      {.pid = 0x1ABC, .payload_unit_start = true, .continuity_counter = 9, .payload = payload});
  auto h = parse_ts_packet(p);
  ASSERT_TRUE(h.ok()) << h.error().what();
  EXPECT_EQ(h->pid, 0x1ABC);
  EXPECT_TRUE(h->payload_unit_start);
  EXPECT_FALSE(h->transport_error);
  EXPECT_FALSE(h->has_adaptation_field);
  EXPECT_TRUE(h->has_payload);
  EXPECT_EQ(h->continuity_counter, 9);
  EXPECT_EQ(h->payload_offset, 4u);
  EXPECT_FALSE(h->random_access);
  EXPECT_FALSE(h->pcr.has_value());
}

TEST(TsPacket, ParsesAdaptationFieldWithPcrAndRandomAccess) {
  const std::uint64_t pcr = ((std::uint64_t{1} << 33) - 1) * 300 + 299;  // largest PCR
  std::string p = ts_packet({.pid = 0x100, .random_access = true, .pcr = pcr, .payload = "abc"});
  auto h = parse_ts_packet(p);
  ASSERT_TRUE(h.ok()) << h.error().what();
  EXPECT_TRUE(h->has_adaptation_field);
  EXPECT_TRUE(h->random_access);
  EXPECT_FALSE(h->discontinuity);
  ASSERT_TRUE(h->pcr.has_value());
  EXPECT_EQ(*h->pcr, pcr);
  EXPECT_EQ(h->payload_offset, 185u);
  EXPECT_EQ(p.substr(h->payload_offset), "abc");
}

TEST(TsPacket, AdaptationOnlyPacketHasNoPayload) {
  std::string p = bytes({0x47, 0x01, 0x00, 0x20, 183, 0x80});
  p.resize(188, '\xFF');
  auto h = parse_ts_packet(p);
  ASSERT_TRUE(h.ok()) << h.error().what();
  EXPECT_FALSE(h->has_payload);
  EXPECT_TRUE(h->discontinuity);
  EXPECT_EQ(h->payload_offset, 188u);
}

TEST(TsPacket, ZeroLengthAdaptationField) {
  std::string p = ts_packet({.payload = std::string(183, 'y')});
  auto h = parse_ts_packet(p);
  ASSERT_TRUE(h.ok()) << h.error().what();
  EXPECT_TRUE(h->has_adaptation_field);
  EXPECT_EQ(h->payload_offset, 5u);
}

TEST(TsPacket, RejectsWrongSize) {
  std::string p = ts_packet({.payload = std::string(184, 'x')});
  for (std::size_t size : {0, 1, 4, 187, 189, 376}) {
    std::string q = p;
    q.resize(size, 'x');
    auto h = parse_ts_packet(q);
    ASSERT_FALSE(h.ok()) << size;
    EXPECT_EQ(h.error().code(), peers::Errc::kProtocol);
    EXPECT_NE(h.error().message().find(std::to_string(size) + " bytes"), std::string::npos)
        << h.error().message();
  }
}

TEST(TsPacket, RejectsBadSyncByte) {
  std::string p = ts_packet({.payload = std::string(184, 'x')});
  p[0] = 0x48;
  auto h = parse_ts_packet(p);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code(), peers::Errc::kProtocol);
  EXPECT_NE(h.error().message().find("0x48"), std::string::npos) << h.error().message();
}

TEST(TsPacket, RejectsReservedAdaptationFieldControl) {
  std::string p = ts_packet({.payload = std::string(184, 'x')});
  p[3] = 0x05;  // afc 0
  auto h = parse_ts_packet(p);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code(), peers::Errc::kProtocol);
  EXPECT_NE(h.error().message().find("reserved"), std::string::npos);
}

TEST(TsPacket, RejectsAdaptationFieldLongerThanPacket) {
  std::string with_payload = bytes({0x47, 0x01, 0x00, 0x30, 183});  // needs <= 182
  with_payload.resize(188, '\xFF');
  EXPECT_EQ(parse_ts_packet(with_payload).error().code(), peers::Errc::kProtocol);
  std::string without_payload = bytes({0x47, 0x01, 0x00, 0x20, 184});
  without_payload.resize(188, '\xFF');
  EXPECT_EQ(parse_ts_packet(without_payload).error().code(), peers::Errc::kProtocol);
  std::string max = bytes({0x47, 0x01, 0x00, 0x20, 255});
  max.resize(188, '\xFF');
  EXPECT_EQ(parse_ts_packet(max).error().code(), peers::Errc::kProtocol);
}

TEST(TsPacket, RejectsPcrThatDoesNotFit) {
  std::string p = bytes({0x47, 0x01, 0x00, 0x30, 3, 0x10, 0, 0});  // PCR flag, 3-byte field
  p.resize(188, '\xFF');
  auto h = parse_ts_packet(p);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code(), peers::Errc::kProtocol);
  EXPECT_NE(h.error().message().find("PCR"), std::string::npos);
}

TEST(RandomAccess, IndicatorOnVideoPesStart) {
  std::string p = ts_packet(
      {.payload_unit_start = true, .random_access = true, .payload = video_pes(kPictureStart)});
  EXPECT_EQ(random_access_kind(p), RandomAccessKind::kIndicator);
  EXPECT_TRUE(is_random_access_point(p));
}

TEST(RandomAccess, IndicatorOnAudioIsIgnored) {
  std::string p = ts_packet({.pid = 0x101,
                             .payload_unit_start = true,
                             .random_access = true,
                             .payload = audio_pes("\xFF\xFD\x00\x00")});
  EXPECT_EQ(random_access_kind(p), RandomAccessKind::kNone);
}

TEST(RandomAccess, IndicatorWithoutPesStartIsIgnored) {
  std::string p = ts_packet({.random_access = true, .payload = std::string(100, 'x')});
  EXPECT_EQ(random_access_kind(p), RandomAccessKind::kNone);
}

TEST(RandomAccess, Mpeg2SequenceHeader) {
  std::string p = ts_packet({.payload_unit_start = true, .payload = video_pes(kSequenceHeader)});
  EXPECT_EQ(random_access_kind(p), RandomAccessKind::kSequenceHeader);
}

TEST(RandomAccess, Mpeg2PictureWithoutSequenceHeaderIsNot) {
  std::string es = std::string(kPictureStart) + std::string(kSequenceHeader);
  std::string p = ts_packet({.payload_unit_start = true, .payload = video_pes(es)});
  EXPECT_EQ(random_access_kind(p), RandomAccessKind::kNone);
}

TEST(RandomAccess, H264AccessUnitDelimiterThenSps) {
  std::string es = bytes({0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x67, 0xF4, 0x00, 0x0D});
  std::string p = ts_packet({.payload_unit_start = true, .payload = video_pes(es)});
  EXPECT_EQ(random_access_kind(p), RandomAccessKind::kH264Sps);
}

TEST(RandomAccess, H264IdrWithThreeByteStartCode) {
  std::string es = bytes({0, 0, 1, 0x09, 0x10, 0, 0, 1, 0x06, 0x05, 0x01, 0, 0, 1, 0x65, 0x88});
  std::string p = ts_packet({.payload_unit_start = true, .payload = video_pes(es)});
  EXPECT_EQ(random_access_kind(p), RandomAccessKind::kH264Idr);
}

TEST(RandomAccess, H264NonIdrSliceFirstIsNot) {
  std::string es = bytes({0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x41, 0x9A, 0, 0, 1, 0x65});
  std::string p = ts_packet({.payload_unit_start = true, .payload = video_pes(es)});
  EXPECT_EQ(random_access_kind(p), RandomAccessKind::kNone);
}

TEST(RandomAccess, ScrambledPacketIsNot) {
  std::string p = ts_packet({.payload_unit_start = true,
                             .random_access = true,
                             .scrambling = 2,
                             .payload = video_pes(kSequenceHeader)});
  EXPECT_EQ(random_access_kind(p), RandomAccessKind::kNone);
}

TEST(RandomAccess, PesHeaderLengthPastPacketIsNot) {
  std::string pes = bytes({0, 0, 1, 0xE0, 0, 0, 0x80, 0x80, 200});
  pes += std::string(kSequenceHeader);
  std::string p = ts_packet({.payload_unit_start = true, .payload = pes});
  EXPECT_EQ(random_access_kind(p), RandomAccessKind::kNone);
}

TEST(RandomAccess, TruncatedPesAndMalformedPacketsAreNot) {
  EXPECT_EQ(
      random_access_kind(ts_packet({.payload_unit_start = true, .payload = bytes({0, 0, 1})})),
      RandomAccessKind::kNone);
  EXPECT_EQ(random_access_kind(
                ts_packet({.payload_unit_start = true, .payload = bytes({0, 0, 1, 0xE0, 0, 0})})),
            RandomAccessKind::kNone);
  std::string p = ts_packet({.payload_unit_start = true, .payload = video_pes(kSequenceHeader)});
  EXPECT_EQ(random_access_kind(p.substr(0, 100)), RandomAccessKind::kNone);
  EXPECT_EQ(random_access_kind(""), RandomAccessKind::kNone);
  // A start code cut off at the end of the packet.
  std::string es(184 - 14 - 3, '\xAA');
  es += bytes({0, 0, 1});
  EXPECT_EQ(random_access_kind(ts_packet({.payload_unit_start = true, .payload = video_pes(es)})),
            RandomAccessKind::kNone);
}

TEST(RandomAccess, RandomPacketsNeverCrashOrReadOutside) {
  std::uint32_t x = 12345;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  int parsed = 0;
  for (int i = 0; i < 200000; ++i) {
    // Exactly-sized heap buffers, so a sanitizer build catches any overread.
    std::string p(188, '\0');
    for (char& c : p) c = static_cast<char>(next());
    p[0] = 0x47;
    if (i % 2 == 0) {  // make PES starts likely
      p[1] = static_cast<char>(p[1] | 0x40);
      std::size_t at = 4 + (next() % 8);
      p[at] = 0, p[at + 1] = 0, p[at + 2] = 1, p[at + 3] = static_cast<char>(0xE0);
    }
    if (parse_ts_packet(p).ok()) ++parsed;
    (void)random_access_kind(p);
    (void)is_psi_packet(p);
    std::string cut = p.substr(0, next() % 188);
    EXPECT_FALSE(parse_ts_packet(cut).ok());
    EXPECT_EQ(random_access_kind(cut), RandomAccessKind::kNone);
  }
  EXPECT_GT(parsed, 0);
}

TEST(Psi, TablesAndNullPacketsArePsiPesIsNot) {
  EXPECT_TRUE(is_psi_packet(testing::pat_packet()));
  EXPECT_TRUE(is_psi_packet(testing::pmt_packet(0x1000)));
  EXPECT_TRUE(is_psi_packet(ts_packet({.pid = 0x11, .payload = std::string(184, 'x')})));
  EXPECT_TRUE(is_psi_packet(ts_packet({.pid = 0x1FFF, .payload = std::string(184, '\xFF')})));
  EXPECT_FALSE(is_psi_packet(
      ts_packet({.payload_unit_start = true, .payload = video_pes(kSequenceHeader)})));
  EXPECT_FALSE(is_psi_packet(ts_packet({.pid = 0x1000, .payload = std::string(184, 'x')})));
  EXPECT_FALSE(is_psi_packet("not a packet"));
}

TEST(TsDetector, AlignedStream) {
  std::string ts = testing::ts_stream({.packets = 10});
  TsDetector detector;
  EXPECT_EQ(detector.max_lookahead(), 940u);
  TsAlignment a = detector.examine(ts, false);
  EXPECT_EQ(a.verdict, TsVerdict::kTs);
  EXPECT_EQ(a.offset, 0u);
}

TEST(TsDetector, FindsAlignmentAtEveryOffset) {
  std::string ts = testing::ts_stream({.packets = 10});
  TsDetector detector;
  for (std::size_t cut = 0; cut < 188; ++cut) {
    std::string head = ts.substr(cut);
    TsAlignment a = detector.examine(head, false);
    ASSERT_EQ(a.verdict, TsVerdict::kTs) << cut;
    EXPECT_EQ(a.offset, cut == 0 ? 0 : 188 - cut) << cut;
  }
}

TEST(TsDetector, NeedsMoreUntilItCanTell) {
  std::string ts = testing::ts_stream({.packets = 10});
  TsDetector detector;
  for (std::size_t size = 0; size < 4 * 188 + 1; ++size) {
    EXPECT_EQ(detector.examine(ts.substr(0, size), false).verdict, TsVerdict::kNeedMore) << size;
  }
  EXPECT_EQ(detector.examine(ts.substr(0, 4 * 188 + 1), false).verdict, TsVerdict::kTs);
}

TEST(TsDetector, RandomBytesAreNotTs) {
  std::string junk = testing::random_bytes(2000, 7);
  TsDetector detector;
  EXPECT_EQ(detector.examine(junk.substr(0, 10), false).verdict, TsVerdict::kNeedMore);
  EXPECT_EQ(detector.examine(junk.substr(0, 188), false).verdict, TsVerdict::kNotTs);
  EXPECT_EQ(detector.examine(junk, false).verdict, TsVerdict::kNotTs);
}

TEST(TsDetector, IsolatedSyncBytesNeedConfirmation) {
  std::string text(2000, 'a');
  text[5] = 'G';            // 0x47
  text[5 + 188] = 'G';      // twice...
  text[5 + 2 * 188] = 'x';  // ...but not a third time
  TsDetector detector;
  EXPECT_EQ(detector.examine(text.substr(0, 300), false).verdict, TsVerdict::kNeedMore);
  EXPECT_EQ(detector.examine(text, false).verdict, TsVerdict::kNotTs);
}

TEST(TsDetector, FinalDecidesWithTwoPackets) {
  std::string ts = testing::ts_stream({.packets = 2});
  TsDetector detector;
  EXPECT_EQ(detector.examine(ts, false).verdict, TsVerdict::kNeedMore);
  TsAlignment a = detector.examine(ts.substr(50), true);
  EXPECT_EQ(a.verdict, TsVerdict::kNotTs);  // one sync byte only
  a = detector.examine(ts.substr(0, 189), true);
  EXPECT_EQ(a.verdict, TsVerdict::kTs);
  EXPECT_EQ(a.offset, 0u);
  EXPECT_EQ(detector.examine(ts.substr(0, 188), true).verdict, TsVerdict::kNotTs);
  EXPECT_EQ(detector.examine("", true).verdict, TsVerdict::kNotTs);
  EXPECT_EQ(detector.examine("", false).verdict, TsVerdict::kNeedMore);
}

TEST(TsDetector, PacketCountIsConfigurable) {
  std::string ts = testing::ts_stream({.packets = 3});
  EXPECT_EQ(TsDetector(3).examine(ts, false).verdict, TsVerdict::kTs);
  EXPECT_EQ(TsDetector(4).examine(ts, false).verdict, TsVerdict::kNeedMore);
  EXPECT_EQ(TsDetector(0).packets(), 2);
}

}  // namespace
}  // namespace vt
