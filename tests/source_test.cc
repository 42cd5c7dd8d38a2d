// vt-source's input, against the real binary: it says whether the input is
// MPEG-TS and what the tables announce, and --realtime sends a recorded
// file at the pace of its clock (PCR) instead of as fast as it reads.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>

#include "lib/kernel/subprocess.h"
#include "tests/support/overlay_harness.h"

namespace {

using peers::ExitStatus;
using vt::test::Tool;
using vt::test::ts_clip;
using namespace std::chrono_literals;

class SourceInput : public vt::test::OverlayHarness {
 protected:
  std::string write_input(const std::string& name, const std::string& bytes) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // Runs the source on `input` until it ends (nobody joins; --linger 0).
  // Returns how long it ran.
  std::chrono::duration<double> run_source(Tool& source, const std::string& input,
                                           std::vector<std::string> extra) {
    std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--key",    source_key_,
                                     "--input",  input,         "--linger", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto t0 = std::chrono::steady_clock::now();
    source = start("vt-source", "source", args);
    auto st = source.proc->wait(90s);
    EXPECT_TRUE(st);
    if (st) EXPECT_EQ(*st, ExitStatus::exited(0)) << source.log_text();
    return std::chrono::steady_clock::now() - t0;
  }
};

TEST_F(SourceInput, SaysItIsMpegTsWithProgramsCodecsAndBitRate) {
  Tool source;
  run_source(source, write_input("clip.ts", ts_clip()), {});
  auto lines = source.log_lines(
      {"info: input is MPEG-TS programs=\"1 program: 1 (mpeg2video, mp2)\" bit_rate="});
  ASSERT_EQ(lines.size(), 1u) << source.log_text();
  EXPECT_NE(lines[0].find("bit/s"), std::string::npos) << lines[0];
}

TEST_F(SourceInput, SaysPlainBytesAreNotMpegTs) {
  std::string bytes;
  for (int i = 0; i < 100000; ++i) bytes += static_cast<char>((i * 7919) % 251);
  Tool source;
  run_source(source, write_input("plain.bin", bytes), {"--realtime"});
  EXPECT_EQ(source.log_lines({"info: input is not MPEG-TS: sent as plain bytes"}).size(), 1u)
      << source.log_text();
  EXPECT_EQ(source.log_lines({"warn: --realtime: only MPEG-TS has a clock"}).size(), 1u)
      << source.log_text();
}

TEST_F(SourceInput, RealtimePacesAFileByItsClock) {
  // The 6 s clip takes a fraction of a second unpaced; paced, its PCRs
  // span about 6 s, and a paced sender cannot finish before its last PCR
  // is due (a lower bound only: a loaded machine may take longer).
  std::string input = write_input("clip.ts", ts_clip(6));
  Tool paced;
  auto took = run_source(paced, input, {"--realtime"});
  EXPECT_GE(took, 5s) << paced.log_text();
  EXPECT_TRUE(paced.wait_log("end of input")) << paced.log_text();
}

}  // namespace
