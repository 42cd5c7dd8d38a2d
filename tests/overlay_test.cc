// Integration tests of the overlay: the real vt-source, vt-relay and vt-sink
// binaries on loopback, real MPEG-TS from ffmpeg, bytes out compared with
// bytes in. Processes log to files in the test's temp dir; every process is
// killed and reaped when its Subprocess goes away, also on failure.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/subprocess.h"

namespace {

using peers::test::Redirect;
using peers::test::SpawnOptions;
using peers::test::Subprocess;
using namespace std::chrono_literals;

std::string temp_dir() {
  static int counter = 0;
  const char* base = std::getenv("TEST_TMPDIR");
  std::string dir = std::string(base ? base : "/tmp") + "/overlay." + std::to_string(::getpid()) +
                    "." + std::to_string(counter++);
  ::mkdir(dir.c_str(), 0700);
  return dir;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A clip of real MPEG-TS (MPEG-2 video, MP2 audio), made once per test run.
const std::string& ts_clip() {
  static const std::string clip = [] {
    std::string path = temp_dir() + "/clip.ts";
    auto r = Subprocess::run(
        "/usr/bin/ffmpeg",
        {"-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
         "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "6",
         "-c:v", "mpeg2video", "-g", "25", "-b:v", "1500k", "-c:a", "mp2", "-f", "mpegts", path},
        {}, {}, 120s);
    if (!r || !r->status.success()) return std::string();
    return read_file(path);
  }();
  return clip;
}

// One running tool with its log file.
struct Tool {
  std::string name;
  std::string log;
  std::unique_ptr<Subprocess> proc;
  std::string addr;  // where it listens

  // Waits until the log contains `needle` (or the process dies).
  bool wait_log(const std::string& needle, std::chrono::seconds timeout = 30s) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (read_file(log).find(needle) != std::string::npos) return true;
      if (!proc->running()) return read_file(log).find(needle) != std::string::npos;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
};

class Overlay : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ts_clip().empty()) GTEST_SKIP() << "ffmpeg could not make a test clip";
    dir_ = temp_dir();
    auto key = Subprocess::run(peers::test::runfile("cmd/vt-keygen/vt-keygen"),
                               {"-o", dir_ + "/source.key"});
    ASSERT_TRUE(key && key->status.success());
    source_id_ = key->out.substr(0, key->out.find('\n'));
  }

  Tool start(const std::string& tool, const std::string& name, std::vector<std::string> args,
             bool stdin_pipe = false) {
    Tool t;
    t.name = name;
    t.log = dir_ + "/" + name + ".log";
    SpawnOptions opts;
    opts.stdin_to = stdin_pipe ? Redirect::pipe() : Redirect::null();
    opts.stdout_to = Redirect::null();
    opts.stderr_to = Redirect::file(t.log);
    args.insert(args.end(), {"--log-level", "debug"});
    auto p = Subprocess::spawn(peers::test::runfile("cmd/" + tool + "/" + tool), args, opts);
    EXPECT_TRUE(p) << p.error().what();
    t.proc = std::make_unique<Subprocess>(std::move(*p));
    EXPECT_TRUE(t.wait_log("listening addr=")) << read_file(t.log);
    std::string log = read_file(t.log);
    auto at = log.find("listening addr=");
    if (at != std::string::npos) {
      at += std::strlen("listening addr=");
      t.addr = log.substr(at, log.find(' ', at) - at);
    }
    return t;
  }

  Tool start_source(int stripes = 4) {
    return start("vt-source", "source",
                 {"--listen", "127.0.0.1:0", "--key", dir_ + "/source.key", "--stripes",
                  std::to_string(stripes), "--linger", "3s"},
                 true);
  }

  Tool start_relay(const std::string& name, const std::string& join,
                   std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--join", join, "--linger", "3s"};
    args.insert(args.end(), extra.begin(), extra.end());
    Tool t = start("vt-relay", name, args);
    EXPECT_TRUE(t.wait_log("joined all stripes")) << read_file(t.log);
    return t;
  }

  Tool start_sink(const std::string& name, const std::string& join,
                  std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--join",   join, "--output", dir_ + "/" + name + ".out",
                                     "--buffer", "5s", "--source-key", source_id_};
    args.insert(args.end(), extra.begin(), extra.end());
    Tool t = start("vt-sink", name, args);
    EXPECT_TRUE(t.wait_log("joined all stripes")) << read_file(t.log);
    return t;
  }

  // Feeds the clip to the source at about `rate` bytes/s, calling `midway`
  // once half of it is written, then closes its stdin (end of stream).
  void feed(Tool& source, std::size_t bytes_per_tick, const std::function<void()>& midway = {}) {
    const std::string& clip = ts_clip();
    bool called = false;
    for (std::size_t at = 0; at < clip.size(); at += bytes_per_tick) {
      ASSERT_TRUE(source.proc->write_stdin(std::string_view(clip).substr(at, bytes_per_tick)));
      if (!called && midway && at >= clip.size() / 2) {
        called = true;
        midway();
      }
      std::this_thread::sleep_for(20ms);
    }
    source.proc->close_stdin();
  }

  void expect_complete(Tool& sink) {
    auto st = sink.proc->wait(90s);
    ASSERT_TRUE(st) << st.error().what() << "\n" << read_file(sink.log);
    EXPECT_TRUE(st->success()) << st->to_string() << "\n" << read_file(sink.log);
    std::string out = read_file(dir_ + "/" + sink.name + ".out");
    EXPECT_EQ(out.size(), ts_clip().size()) << sink.name << "\n" << read_file(sink.log);
    EXPECT_TRUE(out == ts_clip()) << sink.name << " output differs from the source's input\n" << read_file(sink.log);
  }

  std::string dir_;
  std::string source_id_;
};

TEST_F(Overlay, SinksWriteExactlyTheSourceInput) {
  Tool source = start_source();
  Tool r1 = start_relay("r1", source.addr);
  Tool s1 = start_sink("s1", source.addr);
  Tool s2 = start_sink("s2", r1.addr);
  feed(source, 32 * 1024);
  expect_complete(s1);
  expect_complete(s2);
}

TEST_F(Overlay, SurvivesKilledAndFrozenRelays) {
  // Source, 6 relays and 3 sinks with K=4; two relays are killed and one is
  // frozen mid-stream; every sink still writes the whole stream.
  Tool source = start_source(4);
  std::vector<Tool> relays;
  for (int i = 0; i < 6; ++i) {
    std::string join = i < 2 ? source.addr : relays[i % 2].addr;
    relays.push_back(start_relay("r" + std::to_string(i), join));
  }
  std::vector<Tool> sinks;
  for (int i = 0; i < 3; ++i) {
    sinks.push_back(start_sink("s" + std::to_string(i), relays[2 + i].addr, {"--upload", "0"}));
  }
  feed(source, ts_clip().size() / 250, [&] {  // about 5 s, like a live stream
    ASSERT_TRUE(relays[0].proc->signal(SIGKILL));
    ASSERT_TRUE(relays[3].proc->signal(SIGKILL));
    ASSERT_TRUE(relays[1].proc->signal(SIGSTOP));
  });
  for (auto& s : sinks) expect_complete(s);
  EXPECT_TRUE(relays[1].proc->signal(SIGCONT));
}

TEST_F(Overlay, JoinToNothingFailsAfterTimeout) {
  Tool t;
  t.log = dir_ + "/lonely.log";
  SpawnOptions opts;
  opts.stdin_to = Redirect::null();
  opts.stdout_to = Redirect::null();
  opts.stderr_to = Redirect::file(t.log);
  // Port 1 on loopback: nothing listens there.
  auto p = Subprocess::spawn(peers::test::runfile("cmd/vt-sink/vt-sink"),
                             {"--join", "127.0.0.1:1", "--join-timeout", "1s"}, opts);
  ASSERT_TRUE(p);
  auto st = p->wait(30s);
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, peers::test::ExitStatus::exited(1)) << read_file(t.log);
  EXPECT_NE(read_file(t.log).find("vt-sink: cannot join: no node to join answered"),
            std::string::npos)
      << read_file(t.log);
}

TEST_F(Overlay, PlainBytesWork) {
  // Not MPEG-TS: the stream is carried as plain bytes.
  Tool source = start_source(2);
  Tool s1 = start_sink("plain", source.addr);
  std::string data;
  for (int i = 0; i < 200000; ++i) data += static_cast<char>((i * 7919) % 251);
  ASSERT_TRUE(source.proc->write_stdin(data));
  source.proc->close_stdin();
  auto st = s1.proc->wait(60s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->success()) << read_file(s1.log);
  EXPECT_TRUE(read_file(dir_ + "/plain.out") == data);
}

}  // namespace

namespace {

TEST_F(Overlay, ChildThatUploadsMoreSwapsWithItsParent) {
  // The source has room for one child per stripe and relay A (small upload)
  // takes it; relay B (large upload) lands below A, then swaps places with
  // A in B's home stripe; a sink below still gets the whole stream.
  Tool source = start("vt-source", "source",
                      {"--listen", "127.0.0.1:0", "--key", dir_ + "/source.key", "--stripes", "2",
                       "--max-children", "1", "--linger", "3s"},
                      true);
  Tool a = start_relay("a", source.addr, {"--max-children", "2"});
  Tool b = start_relay("b", a.addr, {"--max-children", "12"});
  Tool s1 = start_sink("s1", b.addr, {"--upload", "0"});
  feed(source, ts_clip().size() / 250);
  EXPECT_TRUE(b.wait_log("moved up")) << read_file(b.log);
  EXPECT_TRUE(a.wait_log("reason=swapped")) << read_file(a.log);
  expect_complete(s1);
}

}  // namespace
