// OverlayHarness: runs real vt-source, vt-relay and vt-sink processes on
// loopback for the overlay's integration tests.
//
// A test derives its fixture from OverlayHarness, starts tools (each logs to
// a file in the test's temp dir at --log-level debug), waits for log lines or
// exits (never for a fixed time), feeds the source's stdin at a live pace and
// compares what sinks wrote with what the source read. Every process is
// killed and reaped when its Tool goes away, also when an ASSERT fails.
//
//   class Overlay : public vt::test::OverlayHarness {};
//   TEST_F(Overlay, SinkGetsTheStream) {
//     Tool source = start_source();
//     Tool sink = start_sink("s1", source.addr);
//     feed(source, ts_clip(), 32 * 1024);
//     expect_complete(sink, ts_clip());
//   }
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/kernel/subprocess.h"

namespace vt::test {

using namespace std::chrono_literals;

// A new empty directory under $TEST_TMPDIR (or /tmp).
std::string make_temp_dir();

// The whole file ("" when it cannot be read).
std::string read_file(const std::string& path);

// Real MPEG-TS (MPEG-2 video at 25 fps with a keyframe every second, MP2
// audio), `seconds` long, made with ffmpeg once per process and length.
// Empty when ffmpeg cannot make it (the fixture then skips the test).
const std::string& ts_clip(int seconds = 6);

// One running tool and its log file.
struct Tool {
  std::string name;
  std::string log;     // path of its stderr
  std::string output;  // path of its --output ("" when it writes elsewhere)
  std::string addr;    // where it listens, from its "listening addr=" line (0.0.0.0 as 127.0.0.1)
  std::unique_ptr<peers::Subprocess> proc;

  std::string log_text() const { return read_file(log); }
  // For a failure message: the log without its debug lines, at most its
  // last `max_lines` (CI shows only part of a long failure).
  std::string brief_log(std::size_t max_lines = 60) const;
  // Waits until the log holds `needle`; false on timeout or when the process
  // exited without writing it.
  bool wait_log(const std::string& needle, std::chrono::milliseconds timeout = 30s) const;
  // The log lines that contain every one of `needles`.
  std::vector<std::string> log_lines(const std::vector<std::string>& needles) const;
};

// The full peer id a tool logged in its "listening" line ("" if none yet).
std::string peer_of(const Tool& t);
// A peer id's short form (vt1 + 8 characters), as logs print it.
std::string short_of(const std::string& peer_id);

class OverlayHarness : public ::testing::Test {
 protected:
  // Makes the temp dir and the source's key; skips the test without ffmpeg.
  void SetUp() override;

  // Starts cmd/<tool>/<tool> with args (plus --log-level debug), stdin a
  // pipe (else /dev/null), stderr to <dir>/<name>.log and stdout to
  // `stdout_to`, and waits for its listening address.
  Tool start(const std::string& tool, const std::string& name, std::vector<std::string> args,
             bool stdin_pipe = false, peers::Redirect stdout_to = peers::Redirect::null());

  // The source reads stdin (see feed()); --linger 3s.
  Tool start_source(int stripes = 4, std::vector<std::string> extra = {});
  // Waits until the relay joined all stripes.
  Tool start_relay(const std::string& name, const std::string& join,
                   std::vector<std::string> extra = {});
  // Writes --output <dir>/<name>.out, pins --source-key, waits until it
  // joined all stripes. `buffer` is its --buffer.
  Tool start_sink(const std::string& name, const std::string& join,
                  std::vector<std::string> extra = {}, const std::string& buffer = "5s");

  // Writes data to the source's stdin, bytes_per_tick every 20 ms (a live
  // pace), calls `midway` once half of it is written, then closes stdin
  // (end of stream).
  void feed(Tool& source, const std::string& data, std::size_t bytes_per_tick,
            const std::function<void()>& midway = {});
  // The same, calling `each_tick` after every write (tick 0, 1, ...).
  void feed_ticks(Tool& source, const std::string& data, std::size_t bytes_per_tick,
                  const std::function<void(std::size_t tick)>& each_tick);
  // The same with ts_clip().
  void feed(Tool& source, std::size_t bytes_per_tick, const std::function<void()>& midway = {});

  // The sink exits 0 (within 90 s) and its output file holds exactly `input`.
  void expect_complete(Tool& sink, const std::string& input = ts_clip());

  // Makes a key file <dir>/<name>.key and returns its peer id.
  std::string make_key(const std::string& name);

  std::string dir_;
  std::string source_key_;  // path of the source's key file
  std::string source_id_;   // its peer id: the stream's id
};

}  // namespace vt::test
