#include "tests/support/overlay_harness.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "lib/crypto/peer_id.h"
#include "tests/support/runfiles.h"

namespace vt::test {

using peers::Redirect;
using peers::SpawnOptions;
using peers::Subprocess;

std::string make_temp_dir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string dir = std::string(base ? base : "/tmp") + "/overlay.XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) return std::string(base ? base : "/tmp");
  return dir;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string& ts_clip(int seconds) {
  static std::mutex mu;
  static std::map<int, std::string> clips;
  std::lock_guard lock(mu);
  auto it = clips.find(seconds);
  if (it != clips.end()) return it->second;
  std::string path = make_temp_dir() + "/clip" + std::to_string(seconds) + ".ts";
  std::vector<std::string> args = {"-nostdin", "-loglevel", "error"};
  args.insert(args.end(), {"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"});
  args.insert(args.end(), {"-f", "lavfi", "-i", "sine=frequency=440"});
  args.insert(args.end(), {"-t", std::to_string(seconds), "-c:v", "mpeg2video", "-g", "25"});
  args.insert(args.end(), {"-b:v", "1500k", "-c:a", "mp2", "-f", "mpegts", path});
  auto r = Subprocess::run("/usr/bin/ffmpeg", args, {}, {}, 120s);
  std::string clip = r && r->status.success() ? read_file(path) : std::string();
  return clips.emplace(seconds, std::move(clip)).first->second;
}

bool Tool::wait_log(const std::string& needle, std::chrono::milliseconds timeout) const {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (log_text().find(needle) != std::string::npos) return true;
    // Read the log once more after the exit: the last line may have come
    // just before it.
    if (!proc->running()) return log_text().find(needle) != std::string::npos;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(20ms);
  }
}

std::string Tool::brief_log(std::size_t max_lines) const {
  std::vector<std::string> kept;
  std::size_t debug = 0;
  std::istringstream in(log_text());
  for (std::string line; std::getline(in, line);) {
    if (line.find(": debug: ") != std::string::npos) {
      ++debug;
    } else {
      kept.push_back(line);
    }
  }
  std::string out = "(" + std::to_string(debug) + " debug lines left out";
  std::size_t from = kept.size() > max_lines ? kept.size() - max_lines : 0;
  if (from > 0) out += ", and the first " + std::to_string(from) + " others";
  out += ")\n";
  for (std::size_t i = from; i < kept.size(); ++i) out += kept[i] + "\n";
  return out;
}

std::vector<std::string> Tool::log_lines(const std::vector<std::string>& needles) const {
  std::vector<std::string> out;
  std::istringstream in(log_text());
  for (std::string line; std::getline(in, line);) {
    bool all = true;
    for (const auto& n : needles) all = all && line.find(n) != std::string::npos;
    if (all) out.push_back(line);
  }
  return out;
}

void OverlayHarness::SetUp() {
  if (ts_clip().empty()) GTEST_SKIP() << "ffmpeg could not make a test clip";
  dir_ = make_temp_dir();
  source_key_ = dir_ + "/source.key";
  source_id_ = make_key("source");
  ASSERT_FALSE(source_id_.empty());
}

std::string OverlayHarness::make_key(const std::string& name) {
  auto key = Subprocess::run(peers::test::runfile("cmd/vt-keygen/vt-keygen"),
                             {"-o", dir_ + "/" + name + ".key"});
  EXPECT_TRUE(key && key->status.success());
  if (!key || !key->status.success()) return "";
  return key->out.substr(0, key->out.find('\n'));
}

Tool OverlayHarness::start(const std::string& tool, const std::string& name,
                           std::vector<std::string> args, bool stdin_pipe, Redirect stdout_to) {
  Tool t;
  t.name = name;
  t.log = dir_ + "/" + name + ".log";
  SpawnOptions opts;
  opts.stdin_to = stdin_pipe ? Redirect::pipe() : Redirect::null();
  opts.stdout_to = std::move(stdout_to);
  opts.stderr_to = Redirect::file(t.log);
  args.insert(args.end(), {"--log-level", "debug"});
  auto p = Subprocess::spawn(peers::test::runfile("cmd/" + tool + "/" + tool), args, opts);
  if (!p) {
    ADD_FAILURE() << "cannot start " << tool << ": " << p.error().what();
    return t;
  }
  t.proc = std::make_unique<Subprocess>(std::move(*p));
  EXPECT_TRUE(t.wait_log("listening addr=")) << t.log_text();
  std::string log = t.log_text();
  auto at = log.find("listening addr=");
  if (at != std::string::npos) {
    at += std::strlen("listening addr=");
    t.addr = log.substr(at, log.find(' ', at) - at);
    // A tool without --listen listens on all interfaces; on loopback it is
    // reached, and advertises itself, at 127.0.0.1.
    if (t.addr.starts_with("0.0.0.0:")) t.addr = "127.0.0.1:" + t.addr.substr(8);
  }
  return t;
}

Tool OverlayHarness::start_source(int stripes, std::vector<std::string> extra) {
  std::vector<std::string> args = {"--listen",  "127.0.0.1:0",           "--key",    source_key_,
                                   "--stripes", std::to_string(stripes), "--linger", "3s"};
  args.insert(args.end(), extra.begin(), extra.end());
  return start("vt-source", "source", args, true);
}

Tool OverlayHarness::start_relay(const std::string& name, const std::string& join,
                                 std::vector<std::string> extra) {
  std::vector<std::string> args = {"--join", join, "--linger", "3s"};
  args.insert(args.end(), extra.begin(), extra.end());
  Tool t = start("vt-relay", name, args);
  EXPECT_TRUE(t.proc && t.wait_log("joined all stripes")) << t.log_text();
  return t;
}

Tool OverlayHarness::start_sink(const std::string& name, const std::string& join,
                                std::vector<std::string> extra, const std::string& buffer) {
  std::string output = dir_ + "/" + name + ".out";
  std::vector<std::string> args = {"--join",   join,   "--output",     output,
                                   "--buffer", buffer, "--source-key", source_id_};
  args.insert(args.end(), extra.begin(), extra.end());
  Tool t = start("vt-sink", name, args);
  t.output = output;
  EXPECT_TRUE(t.proc && t.wait_log("joined all stripes")) << t.log_text();
  return t;
}

std::string peer_of(const Tool& t) {
  std::string log = t.log_text();
  auto at = log.find("peer=", log.find("listening addr="));
  if (at == std::string::npos) return "";
  at += 5;
  return log.substr(at, log.find_first_of(" \n", at) - at);
}

std::string short_of(const std::string& peer_id) {
  auto id = peers::PeerId::parse(peer_id);
  return id ? id->short_id() : peer_id;
}

void OverlayHarness::feed(Tool& source, const std::string& data, std::size_t bytes_per_tick,
                          const std::function<void()>& midway) {
  bool called = false;
  feed_ticks(source, data, bytes_per_tick, [&](std::size_t tick) {
    if (!called && midway && tick * bytes_per_tick >= data.size() / 2) {
      called = true;
      midway();
    }
  });
}

void OverlayHarness::feed_ticks(Tool& source, const std::string& data, std::size_t bytes_per_tick,
                                const std::function<void(std::size_t tick)>& each_tick) {
  for (std::size_t at = 0, tick = 0; at < data.size(); at += bytes_per_tick, ++tick) {
    ASSERT_TRUE(source.proc->write_stdin(std::string_view(data).substr(at, bytes_per_tick)))
        << "the source stopped reading its input\n"
        << source.log_text();
    if (each_tick) each_tick(tick);
    std::this_thread::sleep_for(20ms);
  }
  source.proc->close_stdin();
}

void OverlayHarness::feed(Tool& source, std::size_t bytes_per_tick,
                          const std::function<void()>& midway) {
  feed(source, ts_clip(), bytes_per_tick, midway);
}

void OverlayHarness::expect_complete(Tool& sink, const std::string& input) {
  auto st = sink.proc->wait(90s);
  ASSERT_TRUE(st) << st.error().what() << "\n" << sink.brief_log();
  EXPECT_TRUE(st->success()) << sink.name << ": " << st->to_string() << "\n" << sink.brief_log();
  std::string out = read_file(sink.output);
  EXPECT_EQ(out.size(), input.size()) << sink.name << "\n" << sink.brief_log();
  if (out.size() == input.size()) {
    EXPECT_TRUE(out == input) << sink.name << " output differs from the source's input\n"
                              << sink.brief_log();
  }
}

}  // namespace vt::test
