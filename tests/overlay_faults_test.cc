// Integration tests of the overlay under faults, against the real vt-source,
// vt-relay and vt-sink binaries on loopback with real MPEG-TS:
//  - a hostile parent (FakeRelay, written here on lib/rpc and the generated
//    Overlay stubs) that forges, corrupts, duplicates and reorders chunks;
//  - a relay that leaves gracefully (SIGTERM), a source that crashes;
//  - a sink whose stdout reader goes away, or reads slowly;
//  - a late joiner, and a 30-node overlay.
// Every test waits on log lines and process exits with generous deadlines,
// never on a fixed sleep, and compares bytes out with bytes in.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lib/crypto/identity.h"
#include "lib/crypto/peer_id.h"
#include "lib/kernel/subprocess.h"
#include "lib/rpc/node.h"
#include "lib/stream/history.h"
#include "lib/stream/signed_chunk.h"
#include "proto/overlay.pidl.rpc.h"
#include "tests/support/fake_relay.h"
#include "tests/support/overlay_harness.h"

namespace {

namespace asio = boost::asio;
namespace overlay = vt::overlay;
using peers::Errc;
using peers::Error;
using peers::ExitStatus;
using peers::Redirect;
using peers::Stream;
using peers::rpc::Answer;
using peers::rpc::CallContext;
using peers::rpc::CallOptions;
using peers::rpc::Task;
using vt::SharedBytes;
using vt::test::FakeRelayHost;
using vt::test::FeedScript;
using vt::test::peer_of;
using vt::test::read_file;
using vt::test::short_of;
using vt::test::Tamper;
using vt::test::Tool;
using vt::test::ts_clip;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ------------------------------------------------------------ the fixture

// The value of `key=` in a log line ("" if absent).
std::string field(const std::string& line, const std::string& key) {
  auto at = line.find(" " + key + "=");
  if (at == std::string::npos) return "";
  at += key.size() + 2;
  return line.substr(at, line.find(' ', at) - at);
}

class OverlayFaults : public vt::test::OverlayHarness {
 protected:
  // Waits for the exit, at most `timeout`; a failure when it does not come.
  ExitStatus wait_exit(Tool& t, std::chrono::milliseconds timeout) {
    auto st = t.proc->wait(timeout);
    EXPECT_TRUE(st) << t.name << ": " << st.error().what() << "\n" << t.log_text();
    return st ? *st : ExitStatus::exited(-1);
  }
};

// ------------------------------------------------------------ hostile parents

TEST_F(OverlayFaults, ForgedChunksAreRejectedAndTheSinkRejoinsTheRealTree) {
  // Three sinks adopt the fake relay as their parent in every stripe. It
  // feeds each the real chunks, except one chunk doctored a different way:
  // signed by an impostor under the stream's tag, a flipped signature bit,
  // a chunk of another stream. Each sink rejects it, hangs up on the fake,
  // re-joins the real tree through its second --join, and writes the
  // source's input byte for byte: nothing of the forgery reaches it.
  Tool source = start_source(4, {"--max-children", "16"});
  FakeRelayHost fake;
  ASSERT_NO_THROW(fake.join_source(source.addr));

  struct Case {
    std::string name;
    Tamper tamper;
    std::string reason;
  };
  std::vector<Case> cases = {
      {"foreign", Tamper::kForeignSigner, "bad chunk signature"},
      {"flipped", Tamper::kFlippedSignature, "bad chunk signature"},
      {"other_stream", Tamper::kOtherStream, "chunk of another stream"},
  };
  std::vector<Tool> sinks;
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    std::string id = make_key(cases[i].name);
    ASSERT_FALSE(id.empty());
    FeedScript script;
    script.tamper = cases[i].tamper;
    script.stripe = static_cast<std::uint32_t>(i);
    script.at = 3;
    fake.relay().set_script(id, script);
    ids.push_back(id);
    sinks.push_back(start_sink(
        cases[i].name, fake.addr(),
        {"--join", source.addr, "--key", dir_ + "/" + cases[i].name + ".key", "--upload", "0"}));
    ASSERT_TRUE(sinks.back().proc);
    // Adopted by the fake in every stripe.
    EXPECT_EQ(sinks.back().log_lines({"joined stripe", "parent=" + fake.short_id()}).size(), 4u)
        << sinks.back().log_text();
  }
  feed(source, ts_clip(), ts_clip().size() / 250);  // about 5 s, like a live stream

  for (std::size_t i = 0; i < cases.size(); ++i) {
    Tool& sink = sinks[i];
    SCOPED_TRACE(sink.name);
    expect_complete(sink, ts_clip());
    std::string stripe = std::to_string(i);
    auto rejected = sink.log_lines({"rejected chunk from parent", "stripe=" + stripe});
    ASSERT_EQ(rejected.size(), 1u) << sink.log_text();
    EXPECT_NE(rejected[0].find("parent=" + fake.short_id()), std::string::npos) << rejected[0];
    EXPECT_NE(rejected[0].find(cases[i].reason), std::string::npos) << rejected[0];
    EXPECT_EQ(sink.log_lines({"rejected chunk"}).size(), 1u) << sink.log_text();
    EXPECT_EQ(sink.log_lines({"parent lost", "stripe=" + stripe, "parent sent a bad chunk"}).size(),
              1u)
        << sink.log_text();
    // It hung up on the fake and never took a feed from it again.
    EXPECT_TRUE(fake.relay().disconnected(ids[i]));
    EXPECT_EQ(fake.relay().feeds_served(ids[i]), 4);
    // Every stripe re-joined the real tree after the rejection.
    std::string log = sink.log_text();
    std::string after = log.substr(log.find("rejected chunk from parent"));
    std::istringstream lines(after);
    std::set<std::string> rejoined;
    for (std::string line; std::getline(lines, line);) {
      if (line.find("joined stripe") == std::string::npos) continue;
      EXPECT_NE(field(line, "parent"), fake.short_id()) << line;
      rejoined.insert(field(line, "stripe"));
    }
    EXPECT_EQ(rejoined.size(), 4u) << after;
  }
  EXPECT_EQ(fake.relay().tampered_sent(), 3);
  EXPECT_EQ(fake.relay().source_errors(), 0);
}

TEST_F(OverlayFaults, DuplicatedAndReorderedChunksAreWrittenOnceInOrder) {
  // The fake relay is the sink's only parent for the whole stream and sends
  // every real chunk twice, pairs swapped, plus replays of old chunks.
  Tool source = start_source(4, {"--max-children", "16"});
  FakeRelayHost fake;
  ASSERT_NO_THROW(fake.join_source(source.addr));
  std::string id = make_key("sink");
  FeedScript script;
  script.shuffle = true;
  fake.relay().set_script(id, script);
  Tool sink = start_sink("sink", fake.addr(), {"--key", dir_ + "/sink.key", "--upload", "0"});
  ASSERT_TRUE(sink.proc);
  EXPECT_EQ(sink.log_lines({"joined stripe", "parent=" + fake.short_id()}).size(), 4u)
      << sink.log_text();
  feed(source, ts_clip(), ts_clip().size() / 250);
  expect_complete(sink, ts_clip());
  // All of it came through the fake: the sink never changed parents.
  EXPECT_TRUE(sink.log_lines({"parent lost"}).empty()) << sink.log_text();
  EXPECT_TRUE(sink.log_lines({"rejected chunk"}).empty()) << sink.log_text();
  EXPECT_EQ(fake.relay().feeds_served(id), 4);
  // Every chunk of the stream went out at least twice.
  EXPECT_GT(fake.relay().originals_sent(), 20);
  EXPECT_GE(fake.relay().duplicates_sent(), fake.relay().originals_sent());
  EXPECT_EQ(fake.relay().source_errors(), 0);
}

// ------------------------------------------------------------ leaving and crashing

TEST_F(OverlayFaults, RelayLeavingOnSigtermRedirectsItsChildren) {
  // r1 is interior with children (r2 and two sinks join through it); it gets
  // SIGTERM mid-stream, redirects every child (reason=leaving) and exits 0;
  // every sink still writes the whole stream.
  Tool source = start_source();
  Tool r1 = start_relay("r1", source.addr);
  Tool r2 = start_relay("r2", r1.addr);
  std::vector<Tool> sinks;
  sinks.push_back(start_sink("s1", r1.addr, {"--upload", "0"}));
  sinks.push_back(start_sink("s2", r1.addr, {"--upload", "0"}));
  sinks.push_back(start_sink("s3", r2.addr, {"--upload", "0"}));

  // r1's children when it leaves, by short id.
  std::map<std::string, Tool*> by_short;
  for (Tool* t : {&r2, &sinks[0], &sinks[1], &sinks[2]}) by_short[short_of(peer_of(*t))] = t;
  std::set<std::string> children;
  feed(source, ts_clip(), ts_clip().size() / 250, [&] {
    for (const auto& line : r1.log_lines({"child "})) {
      if (line.find("child attached") != std::string::npos) children.insert(field(line, "child"));
      if (line.find("child dropped") != std::string::npos) children.erase(field(line, "child"));
    }
    ASSERT_TRUE(r1.proc->signal(SIGTERM));
  });
  EXPECT_GE(children.size(), 3u) << r1.log_text();

  EXPECT_EQ(wait_exit(r1, 30s), ExitStatus::exited(0)) << r1.log_text();
  EXPECT_TRUE(r1.wait_log("stopping: handing children over")) << r1.log_text();
  for (const auto& child : children) {
    ASSERT_TRUE(by_short.count(child)) << "unknown child " << child << "\n" << r1.log_text();
    Tool& t = *by_short[child];
    EXPECT_FALSE(t.log_lines({"parent redirects", "reason=leaving"}).empty()) << t.name << "\n"
                                                                              << t.log_text();
  }
  for (auto& s : sinks) expect_complete(s, ts_clip());
}

TEST_F(OverlayFaults, SourceCrashEndsEveryNodeWithStreamLost) {
  // The source is SIGKILLed mid-stream. No relay or sink hangs: each exits 1
  // with "stream lost" within join-timeout + buffer + a margin.
  Tool source = start_source();
  std::vector<std::string> quick = {"--join-timeout", "3s", "--repair-timeout", "3s"};
  Tool r1 = start_relay("r1", source.addr, quick);
  Tool r2 = start_relay("r2", r1.addr, quick);
  std::vector<std::string> sink_flags = quick;
  sink_flags.insert(sink_flags.end(), {"--upload", "0"});
  Tool s1 = start_sink("s1", r1.addr, sink_flags);
  Tool s2 = start_sink("s2", r2.addr, sink_flags);

  const std::string& clip = ts_clip();
  std::size_t tick = clip.size() / 250;
  for (std::size_t at = 0; at < clip.size() / 2; at += tick) {
    ASSERT_TRUE(source.proc->write_stdin(std::string_view(clip).substr(at, tick)));
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(source.proc->signal(SIGKILL));
  auto killed = Clock::now();
  // --join-timeout 3s + --buffer 5s + 7 s of margin.
  auto deadline = killed + 15s;
  for (Tool* t : {&r1, &r2, &s1, &s2}) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    EXPECT_EQ(wait_exit(*t, std::max(left, 1ms)), ExitStatus::exited(1)) << t->name << "\n"
                                                                         << t->log_text();
    EXPECT_FALSE(t->log_lines({"stream lost"}).empty()) << t->name << "\n" << t->log_text();
  }
}

// ------------------------------------------------------------ stdout readers

TEST_F(OverlayFaults, SinkWhoseReaderGoesAwayExitsCleanly) {
  // Sink A writes to a pipe the test reads a little from, then closes. A
  // exits 0 saying its output was closed; sink B on the same relay still
  // writes the whole stream.
  Tool source = start_source();
  Tool r1 = start_relay("r1", source.addr);
  Tool a = start("vt-sink", "a",
                 {"--join", r1.addr, "--buffer", "5s", "--source-key", source_id_, "--upload", "0"},
                 false, Redirect::pipe());
  ASSERT_TRUE(a.wait_log("joined all stripes")) << a.log_text();
  Tool b = start_sink("b", r1.addr, {"--upload", "0"});

  std::string head;
  feed(source, ts_clip(), ts_clip().size() / 250, [&] {
    auto until = Clock::now() + 30s;
    while (head.size() < 1000 && Clock::now() < until) {
      (void)a.proc->wait(20ms);  // reads what the pipe holds
      head += a.proc->take(Stream::kStdout);
    }
    a.proc->close_output(Stream::kStdout);
  });
  ASSERT_GE(head.size(), 1000u) << a.log_text();
  EXPECT_TRUE(ts_clip().compare(0, head.size(), head) == 0)
      << "A's first bytes are not the input's";
  EXPECT_EQ(wait_exit(a, 30s), ExitStatus::exited(0)) << a.log_text();
  EXPECT_FALSE(a.log_lines({"output closed by its reader"}).empty()) << a.log_text();
  expect_complete(b, ts_clip());
}

TEST_F(OverlayFaults, SlowStdoutReaderGetsEverythingAndSlowsNobody) {
  // Sink A's stdout is a FIFO the test reads 1 KiB every 25 ms (40 KB/s,
  // well below the stream's rate), then not at all for a while after the
  // stream ended. Sink B (A's child) and sink C (on the relay) are complete
  // and never lose a parent; A's event loop keeps running while its output
  // is stuck (it prints stats lines); on SIGTERM A flushes everything to
  // the reader, in order, and exits 0.
  Tool source = start_source();
  Tool r1 = start_relay("r1", source.addr);
  std::string fifo = dir_ + "/a.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  // Opened for reading first (without waiting for a writer), so the sink's
  // open for writing does not block.
  int fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  Tool a = start("vt-sink", "a",
                 {"--join", r1.addr, "--buffer", "5s", "--source-key", source_id_, "--linger",
                  "60s", "--stats-interval", "200ms"},
                 false, Redirect::file(fifo));
  // Blocking reads from now on: end of file only when the sink closes it.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  ASSERT_TRUE(a.wait_log("joined all stripes")) << a.log_text();

  // slow_out belongs to the reader until it is joined; the test watches its
  // progress through slow_bytes (reading the string's size meanwhile was a
  // data race, found by ThreadSanitizer).
  std::string slow_out;
  std::atomic<std::size_t> slow_bytes{0};
  std::atomic<bool> paused{false}, fast{false};
  std::thread reader([&] {
    char buf[1024];
    for (;;) {
      if (paused) {
        std::this_thread::sleep_for(10ms);
        continue;
      }
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      slow_out.append(buf, static_cast<std::size_t>(n));
      slow_bytes = slow_out.size();
      if (!fast) std::this_thread::sleep_for(25ms);
    }
    ::close(fd);
  });
  // Also on a failed ASSERT: end A (the reader then sees end of file), then
  // the reader.
  struct StopReader {
    Tool& a;
    std::thread& reader;
    std::atomic<bool>& paused;
    ~StopReader() {
      a.proc.reset();
      paused = false;
      if (reader.joinable()) reader.join();
    }
  } stop_reader{a, reader, paused};

  Tool b = start_sink("b", a.addr, {"--upload", "0"});
  Tool c = start_sink("c", r1.addr, {"--upload", "0"});
  feed(source, ts_clip(), ts_clip().size() / 250);
  expect_complete(b, ts_clip());
  expect_complete(c, ts_clip());
  EXPECT_TRUE(b.log_lines({"parent lost"}).empty()) << b.log_text();
  EXPECT_TRUE(c.log_lines({"parent lost"}).empty()) << c.log_text();

  // The stream has ended, A still has output to write, and its reader
  // stops reading: A's loop still runs.
  paused = true;
  ASSERT_LT(slow_bytes.load(), ts_clip().size()) << "the reader was not slower than the stream";
  std::size_t stats = a.log_lines({"stats uptime="}).size();
  auto until = Clock::now() + 10s;
  while (a.log_lines({"stats uptime="}).size() < stats + 5 && Clock::now() < until) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE(a.log_lines({"stats uptime="}).size(), stats + 5)
      << "A's event loop stalls while its output is blocked\n"
      << a.log_text();

  ASSERT_TRUE(a.proc->signal(SIGTERM));
  EXPECT_TRUE(a.wait_log("stopping")) << a.log_text();
  fast = true;
  paused = false;
  EXPECT_EQ(wait_exit(a, 60s), ExitStatus::exited(0)) << a.log_text();
  reader.join();
  EXPECT_EQ(slow_out.size(), ts_clip().size());
  EXPECT_TRUE(slow_out == ts_clip()) << "the slow reader's bytes differ from the input";
}

// ------------------------------------------------------------ late joiner, big overlay

TEST_F(OverlayFaults, LateJoinerWritesADecodableSuffix) {
  // A 14 s stream; a sink joins at 80% of it, once the relays' 10 s history
  // no longer reaches the start. What it writes is a suffix of the input
  // that starts on a TS packet and decodes without errors.
  const std::string& clip = ts_clip(14);
  ASSERT_FALSE(clip.empty());
  Tool source = start_source();
  Tool r1 = start_relay("r1", source.addr);
  Tool early = start_sink("early", r1.addr, {"--upload", "0"});
  std::optional<Tool> late;
  std::size_t tick = clip.size() / 700;  // 14 s
  bool joined = false;
  for (std::size_t at = 0; at < clip.size(); at += tick) {
    ASSERT_TRUE(source.proc->write_stdin(std::string_view(clip).substr(at, tick)));
    if (!joined && at >= clip.size() * 8 / 10) {
      joined = true;
      late.emplace(start_sink("late", r1.addr, {"--upload", "0"}, "2s"));
    }
    std::this_thread::sleep_for(20ms);
  }
  source.proc->close_stdin();
  ASSERT_TRUE(late && late->proc);
  expect_complete(early, clip);

  EXPECT_EQ(wait_exit(*late, 60s), ExitStatus::exited(0)) << late->log_text();
  std::string out = read_file(late->output);
  ASSERT_FALSE(out.empty()) << late->log_text();
  ASSERT_LT(out.size(), clip.size() / 2) << "the late sink wrote more than it could have seen";
  EXPECT_EQ((clip.size() - out.size()) % 188, 0u) << "the suffix does not start on a TS packet";
  EXPECT_TRUE(clip.compare(clip.size() - out.size(), out.size(), out) == 0)
      << "the late sink's output is not a suffix of the input\n"
      << late->log_text();
  EXPECT_EQ(late->log_lines({"info: end of stream", "gaps=0"}).size(), 1u) << late->log_text();

  auto probe =
      peers::Subprocess::run("/usr/bin/ffprobe", {"-v", "error", "-count_frames", "-select_streams",
                                                  "v:0", "-show_entries", "stream=nb_read_frames",
                                                  "-of", "csv=p=0", late->output});
  ASSERT_TRUE(probe) << probe.error().what();
  EXPECT_TRUE(probe->status.success()) << probe->err;
  EXPECT_EQ(probe->err, "") << "ffprobe found errors in the late sink's output";
  EXPECT_GT(std::atoi(probe->out.c_str()), 25) << probe->out;  // over a second of video
}

TEST_F(OverlayFaults, ThirtyNodeOverlayDeliversIdenticalStreams) {
  // 1 source, 20 relays joining through earlier nodes (not only the
  // source), 9 sinks joining through relays, K=4, a 4 s clip at a live
  // pace: every sink writes the input byte for byte, then every node exits 0.
  const std::string& clip = ts_clip(4);
  ASSERT_FALSE(clip.empty());
  Tool source = start_source(4);
  std::vector<Tool> relays;
  auto node_addr = [&](std::size_t i) { return i == 0 ? source.addr : relays[i - 1].addr; };
  for (std::size_t i = 0; i < 20; ++i) {
    // Node i+1 joins through one of nodes 0..i, spread over the tree.
    std::size_t through = (i * 7 + 3) % (i + 1);
    relays.push_back(start_relay("r" + std::to_string(i), node_addr(through)));
    ASSERT_TRUE(relays.back().proc);
  }
  std::vector<Tool> sinks;
  for (std::size_t i = 0; i < 9; ++i) {
    sinks.push_back(start_sink("s" + std::to_string(i), relays[(i * 5 + 2) % 20].addr));
    ASSERT_TRUE(sinks.back().proc);
  }
  feed(source, clip, clip.size() / 200);  // about 4 s
  for (auto& s : sinks) expect_complete(s, clip);
  // Then every relay sees the end of the stream in all stripes, lingers
  // (--linger 3s) and exits 0, and so does the source.
  for (auto& r : relays) {
    EXPECT_EQ(wait_exit(r, 30s), ExitStatus::exited(0)) << r.name << "\n" << r.log_text();
    EXPECT_FALSE(r.log_lines({"info: end of stream"}).empty()) << r.name << "\n" << r.log_text();
  }
  EXPECT_EQ(wait_exit(source, 30s), ExitStatus::exited(0)) << source.log_text();
}

}  // namespace
