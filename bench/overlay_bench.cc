// overlay_bench: a VidTorrent overlay of real vt-source, vt-relay and vt-sink
// processes on loopback, carrying a 4 Mbit/s MPEG-TS stream.
//
//   bazel build -c opt //bench:overlay_bench && bazel-out/k8-opt/bin/bench/overlay_bench
//   overlay_bench --relays 8 --sinks 4 --steady-s 5 --kill-trials 1 --stop-trials 1  # quick look
//   overlay_bench --keep-dir          # keep the nodes' logs (the directory is printed)
//
// One source (K stripes), --relays relays and --sinks sinks (--sink-upload,
// by default 0: pure viewers), all on 127.0.0.1. The stream is a
// constant-rate MPEG-TS clip made by ffmpeg, written to the source's stdin at
// exactly --rate (looped if the run outlasts it). Relays join at once, sinks
// one at a time once the stream has been live for --sinks-after-s (or, with
// --join-within-s S, all of them evenly spread over S seconds); then a steady
// window, then relays that feed sinks are killed or frozen one at a time.
// Prints one JSON line per result (bench/harness.h):
//   overlay.join_ms, _max_ms         sink start (fork) -> first verified chunk
//   overlay.first_byte_ms, _max_ms   sink start -> first byte on its stdout
//   overlay.nodes_joined             relays and sinks with a chunk on every stripe
//                                    (baseline overlay.nodes: how many were started)
//   overlay.last_join_s              first relay's start -> the last node's last stripe
//   overlay.join_all_stripes_ms, _max_ms   a node's start -> a chunk on every stripe
//   overlay.recovery_kill_ms, _max   SIGKILL of a sinks' parent -> the orphan's
//                                    first chunk from a new parent
//   overlay.recovery_kill_late_ms, _late_max_ms   how late (after its publish) that
//                                    first chunk arrived: the stall a viewer sees
//   overlay.recovery_stop_ms, _max, _late_ms, _late_max_ms   the same with SIGSTOP
//   overlay.hop_latency_p50_ms, p99  (arrival at depth d - publish) / d
//   overlay.e2e_latency_p50_ms, p99  publish -> arrival at a sink (no playout buffer)
//   overlay.max_depth_stripe_<k>     deepest node of stripe k's tree in the steady window
//   overlay.fanout_stripe_<k>        its receivers / its interior nodes (mean children)
//   overlay.balanced_depth_stripe_<k>  smallest d with f + f^2 + ... + f^d >= receivers
//   overlay.balanced_depth, depth_excess_max   the largest of those; max over stripes
//                                    of max depth - balanced depth
//   overlay.overhead_pct             TCP payload bytes / stream payload bytes - 1
//   overlay.signature_overhead_pct   the part of it that is chunk headers and signatures
//   overlay.control_overhead_pct     the part that is heartbeats and keepalives (measured
//                                    with the stream paused for a few seconds)
//   overlay.framing_overhead_pct     the rest: RPC frames, encryption, flow-control credit
//   overlay.upstream_overhead_pct    bytes flowing child to parent (within the two above)
//   overlay.relay_rss_mib            largest peak RSS (VmHWM) of a relay
//   overlay.relay_cpu_pct_per_mbps   relays' CPU time / wall time per Mbit/s forwarded
//   overlay.relay_cpu_pct, relay_out_mbps   the same per relay, mean
//   overlay.sink_gaps                holes the sinks' playout buffers gave up on, in all
//   overlay.sinks_complete           sinks whose stdout is every byte fed from their
//                                    first one on, checked at the end with the stream
//                                    paused (baseline overlay.sinks: how many there are)
// None has a baseline. Timing comes from the nodes' debug log: every node logs
// each chunk it publishes or accepts with CLOCK_MONOTONIC microseconds
// (OverlayNode::log_chunk_time), which all processes of the machine share; the
// benchmark checks that they share one time namespace and that no chunk
// arrives before it was published. Every process started here is killed by
// its pid and reaped when the benchmark ends, also when it fails; each also
// gets PR_SET_PDEATHSIG, so none outlives a benchmark that is killed.
// Method: docs/benchmarks.md, section "Overlay".
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/harness.h"
#include "lib/kernel/cli.h"
#include "lib/kernel/error.h"
#include "lib/kernel/signals.h"
#include "lib/kernel/subprocess.h"
#include "lib/kernel/units.h"
#include "lib/overlay/tree_shape.h"

namespace peers::bench {
namespace {

using namespace std::chrono_literals;
using Micros = std::int64_t;
using vt::balanced_depth;

// A peer id's short form in stats lines (PeerId::short_id()).
constexpr std::size_t kShortIdSize = 11;
// Chunk header and signature (lib/stream/signed_chunk.h: kChunkOverhead).
constexpr double kChunkOverheadBytes = 32 + 64;
// How long the stream is paused to measure control traffic alone.
constexpr std::chrono::seconds kIdleWindow{3};

Micros to_us(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
Micros now_us() { return to_us(Clock::now()); }

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Sleeps; a stop request (SIGINT, SIGTERM) ends the benchmark instead.
void pause_for(Clock::duration d) {
  auto until = Clock::now() + d;
  for (;;) {
    if (stop_requested()) throw Error(Errc::kCancelled, "stopped by a signal");
    auto left = until - Clock::now();
    if (left <= Clock::duration::zero()) return;
    std::this_thread::sleep_for(std::min<Clock::duration>(left, 20ms));
  }
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// "1.52 2.10 1.83" (1, 5 and 15 minutes).
std::string load_average() {
  std::istringstream in(read_text("/proc/loadavg"));
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string program_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string p = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  throw Error(Errc::kNotFound, "cannot find " + name + " in PATH");
}

// ------------------------------------------------------------------ processes

// How a helper program runs: its stderr goes to `log` ("" = /dev/null).
struct ProgramSpec {
  std::string exe;
  std::vector<std::string> args;
  std::string log;
};

// Every process started here dies with the benchmark, also when the
// benchmark itself is killed.
SpawnOptions spawn_options(const std::string& log) {
  SpawnOptions options;
  options.stdin_to = Redirect::null();
  options.stdout_to = Redirect::null();
  options.stderr_to = log.empty() ? Redirect::null() : Redirect::file(log);
  options.die_with_parent = true;
  return options;
}

// Runs a program to completion; returns its stdout. Throws if it fails.
std::string run_program(const ProgramSpec& spec, Clock::duration timeout) {
  SpawnOptions options = spawn_options(spec.log);
  options.stdout_to = Redirect::pipe();
  Subprocess p = Subprocess::spawn(spec.exe, spec.args, options).value();
  auto until = Clock::now() + timeout;
  std::string out;
  for (;;) {
    if (stop_requested()) throw Error(Errc::kCancelled, "stopped by a signal");
    Result<std::string> all = p.read_to_end(Stream::kStdout, 50ms);
    if (all) {
      out = std::move(*all);
      break;
    }
    if (all.error().code() != Errc::kTimeout) throw all.error();
    if (Clock::now() > until) throw Error(Errc::kTimeout, p.name() + " did not finish in time");
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now() + 1s);
  Result<ExitStatus> status = p.wait(std::max(left, std::chrono::milliseconds(0)));
  if (!status) throw Error(Errc::kTimeout, p.name() + " did not finish in time");
  if (!status->success()) {
    std::string why = spec.log.empty() ? "" : ": " + read_text(spec.log).substr(0, 2000);
    throw Error(Errc::kInternal, p.name() + " failed (" + status->to_string() + ")" + why);
  }
  return out;
}

// ------------------------------------------------------------------ nodes

// Follows a sink's output against the stream the feeder writes: the clip,
// looped. A viewer that joins late starts at a random-access point, so its
// first bytes are looked up in the clip; from there every byte must be the
// next byte of the loop. add() runs on the sink's reader thread; the results
// are read from the main thread.
class OutputCheck {
 public:
  // What the first bytes are looked up by: about 50 TS packets, which hold
  // timestamps, so they occur once in the clip.
  static constexpr std::size_t kProbeBytes = 188 * 50;

  OutputCheck(const std::string& clip, const std::atomic<std::uint64_t>& fed)
      : clip_(clip), fed_(fed) {}

  void add(const char* p, std::size_t n) {
    if (state_ == kDiverged) return;
    if (state_ == kProbing) {
      probe_.append(p, n);
      if (probe_.size() < kProbeBytes) return;
      locate();
      if (state_ == kFollowing) compare(probe_.data(), probe_.size());
      probe_.clear();
      return;
    }
    compare(p, n);
  }

  bool located() const { return state_ != kProbing && start_ >= 0; }
  bool diverged() const { return state_ == kDiverged; }
  // The feed position (bytes the feeder had written before it) of the
  // output's first byte; -1 until located.
  std::int64_t start() const { return start_; }
  // Bytes of the output that followed the stream without a break.
  std::uint64_t matched() const { return matched_; }

 private:
  enum State { kProbing, kFollowing, kDiverged };

  void locate() {
    std::uint64_t fed_now = fed_.load();
    std::string_view head(probe_.data(), kProbeBytes);
    std::size_t at = clip_.find(head);
    if (at != std::string::npos && clip_.find(head, at + 1) != std::string::npos) {
      state_ = kDiverged;  // not unique: cannot tell where it starts
      return;
    }
    if (at == std::string::npos && clip_.size() > kProbeBytes) {
      // Across the loop's seam.
      std::string seam = clip_.substr(clip_.size() - kProbeBytes) + clip_.substr(0, kProbeBytes);
      std::size_t s = seam.find(head);
      if (s != std::string::npos) at = clip_.size() - kProbeBytes + s;
    }
    if (at == std::string::npos) {
      state_ = kDiverged;
      return;
    }
    // The newest pass of the loop that had reached `at` when these bytes
    // were read (a node's history is seconds of stream; the clip is longer).
    std::uint64_t size = clip_.size();
    std::uint64_t pos = fed_now - fed_now % size + at;
    if (pos > fed_now && pos >= size) pos -= size;
    start_ = static_cast<std::int64_t>(pos);
    offset_ = at;
    state_ = kFollowing;
  }

  void compare(const char* p, std::size_t n) {
    while (n > 0) {
      std::size_t k = std::min(n, clip_.size() - offset_);
      if (std::memcmp(p, clip_.data() + offset_, k) != 0) {
        state_ = kDiverged;
        return;
      }
      matched_ += k;
      offset_ = (offset_ + k) % clip_.size();
      p += k;
      n -= k;
    }
  }

  const std::string& clip_;
  const std::atomic<std::uint64_t>& fed_;
  std::string probe_;
  std::size_t offset_ = 0;  // in the clip, of the next byte expected
  std::atomic<State> state_{kProbing};
  std::atomic<std::int64_t> start_{-1};
  std::atomic<std::uint64_t> matched_{0};
};

enum class Role { kSource, kRelay, kSink };

// One running overlay node and what the benchmark learns about it.
struct Node {
  Role role = Role::kRelay;
  std::string name;
  std::string log;
  std::string stats;  // its --stats-file (JSON lines)
  std::optional<Subprocess> proc;
  Clock::time_point started;  // just before the spawn
  int stdin_fd = -1;          // the source's, written by the Feeder
  int stdout_fd = -1;         // sinks', read by `reader`
  std::string addr;           // where it listens
  std::string peer_id;        // full id
  bool victim = false;        // killed or frozen by a trial
  bool joined = false;        // logged "joined all stripes" (seen by the benchmark)
  // Sinks: their stdout, drained by `reader` and compared with the stream.
  std::atomic<Micros> first_byte_us{0};
  std::atomic<std::uint64_t> out_bytes{0};
  std::unique_ptr<OutputCheck> check;
  std::thread reader;

  std::string short_id() const { return peer_id.substr(0, kShortIdSize); }
  Micros started_us() const { return to_us(started); }

  ~Node() {
    if (proc) proc->kill();  // ends the reader with end of file
    if (reader.joinable()) reader.join();
    if (stdin_fd >= 0) ::close(stdin_fd);
    if (stdout_fd >= 0) ::close(stdout_fd);
  }
};

// Writes the clip to the source's stdin at a constant rate, from a thread.
class Feeder {
 public:
  Feeder(int fd, const std::string& clip, double bytes_per_s)
      : fd_(fd), clip_(clip), bytes_per_s_(bytes_per_s) {
    // Never block: a frozen or dead source must not hang the benchmark.
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    thread_ = std::thread([this] { run(); });
  }
  ~Feeder() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::uint64_t fed() const { return fed_.load(); }
  const std::atomic<std::uint64_t>& fed_counter() const { return fed_; }
  bool failed() const { return failed_.load(); }
  // While paused the stream is silent; it goes on at the same rate after.
  void pause(bool paused) { paused_ = paused; }

 private:
  void run() {
    auto last = Clock::now();
    double active = 0;  // seconds fed, pauses left out
    std::size_t pos = 0;
    std::uint64_t fed = 0;
    while (!stop_) {
      auto now = Clock::now();
      if (!paused_) active += std::chrono::duration<double>(now - last).count();
      last = now;
      auto target = static_cast<std::uint64_t>(active * bytes_per_s_);
      // A pause ends the TS packet being written: the chunker holds back an
      // incomplete packet, and sinks are checked to have every byte fed.
      if (paused_) target = (fed + kTsPacket - 1) / kTsPacket * kTsPacket;
      while (fed < target && !stop_) {
        std::size_t n = std::min<std::uint64_t>({target - fed, 188 * 32, clip_.size() - pos});
        ssize_t w = ::write(fd_, clip_.data() + pos, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) break;  // the source is behind; try again soon
        if (w <= 0) {
          failed_ = true;
          return;
        }
        pos = (pos + static_cast<std::size_t>(w)) % clip_.size();
        fed += static_cast<std::uint64_t>(w);
        fed_ = fed;
      }
      std::this_thread::sleep_for(5ms);
    }
  }

  static constexpr std::uint64_t kTsPacket = 188;

  int fd_;
  const std::string& clip_;
  double bytes_per_s_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> paused_{false};
  std::atomic<bool> failed_{false};
  std::atomic<std::uint64_t> fed_{0};
  std::thread thread_;
};

// ------------------------------------------------------------------ logs

// "vt-relay: debug: chunk stripe=1 seq=9 payload=16356 depth=2 repairs=0 mono_us=..."
struct ChunkLine {
  std::uint32_t stripe = 0;
  std::uint64_t seq = 0;
  std::uint64_t payload = 0;
  std::uint32_t depth = 0;
  std::uint64_t repairs = 0;
  Micros at = 0;
};

std::map<std::string, std::string> fields_of(std::string_view line) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  while (i < line.size()) {
    std::size_t end = line.find(' ', i);
    if (end == std::string_view::npos) end = line.size();
    std::string_view tok = line.substr(i, end - i);
    auto eq = tok.find('=');
    if (eq != std::string_view::npos) out[std::string(tok.substr(0, eq))] = tok.substr(eq + 1);
    i = end + 1;
  }
  return out;
}

// The chunk lines of a log ("chunk" at relays and sinks, "chunk published" at
// the source), in order.
std::vector<ChunkLine> chunk_lines(const std::string& text, bool published) {
  const std::string marker = published ? ": debug: chunk published " : ": debug: chunk stripe=";
  std::vector<ChunkLine> out;
  std::size_t at = 0;
  while ((at = text.find(marker, at)) != std::string::npos) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) break;  // a line still being written
    auto f = fields_of(std::string_view(text).substr(at, end - at));
    at = end;
    try {
      ChunkLine c;
      c.stripe = static_cast<std::uint32_t>(std::stoul(f.at("stripe")));
      c.seq = std::stoull(f.at("seq"));
      c.payload = std::stoull(f.at("payload"));
      c.depth = static_cast<std::uint32_t>(std::stoul(f.at("depth")));
      c.repairs = std::stoull(f.at("repairs"));
      c.at = std::stoll(f.at("mono_us"));
      out.push_back(c);
    } catch (const std::exception&) {
      throw Error(Errc::kProtocol, "unexpected chunk log line; was lib/overlay changed?");
    }
  }
  return out;
}

// The JSON stats lines of a log.
std::vector<nlohmann::json> stats_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("{\"event\":\"stats\"", 0) != 0) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

// stripe -> parent short id, from the newest stats line.
std::map<std::uint32_t, std::string> current_parents(const std::string& text) {
  std::map<std::uint32_t, std::string> out;
  auto lines = stats_lines(text);
  if (lines.empty()) return out;
  for (const auto& s : lines.back()["data"]["per_stripe"]) {
    if (s["parent"].is_string()) out[s["stripe"].get<std::uint32_t>()] = s["parent"];
  }
  return out;
}

// Waits until the node's log shows `needle`; returns the log. Throws if the
// node exits or the time runs out.
std::string wait_for_log(Node& n, const std::string& needle, Clock::duration timeout) {
  auto until = Clock::now() + timeout;
  for (;;) {
    std::string text = read_text(n.log);
    if (text.find(needle) != std::string::npos) return text;
    if (!n.proc->running()) {
      throw Error(Errc::kInternal,
                  n.name + " exited before '" + needle + "':\n" + text.substr(0, 3000));
    }
    if (Clock::now() > until) {
      throw Error(Errc::kTimeout, n.name + " did not log '" + needle + "' in time:\n" +
                                      text.substr(text.size() > 3000 ? text.size() - 3000 : 0));
    }
    pause_for(10ms);
  }
}

// ------------------------------------------------------------------ /proc and ss

// utime + stime of a process, in seconds.
double cpu_seconds(pid_t pid) {
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(stat.substr(close + 2));
  std::vector<std::string> f;
  std::string tok;
  while (in >> tok) f.push_back(tok);
  // Fields after the name start at field 3 (state); utime is 14, stime 15.
  if (f.size() < 13) return 0;
  double ticks = std::stod(f[11]) + std::stod(f[12]);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Peak resident set (VmHWM) in MiB.
double peak_rss_mib(pid_t pid) {
  std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

std::string time_namespace(const std::string& pid) {
  char buf[256];
  ssize_t n = ::readlink(("/proc/" + pid + "/ns/time").c_str(), buf, sizeof buf - 1);
  if (n <= 0) return std::string("unreadable: ") + std::strerror(errno);
  return std::string(buf, static_cast<std::size_t>(n));
}

// Bytes received so far on every established loopback TCP connection between
// two of the benchmark's nodes (one end on a node's listening port), from
// `ss -tin` (tcp_info bytes_received: TCP payload, without IP/TCP headers).
struct TcpSnapshot {
  std::map<std::string, std::uint64_t> received;  // "local peer" -> bytes
  Micros at = 0;
};

int port_of(const std::string& addr) {
  auto c = addr.rfind(':');
  return c == std::string::npos ? -1 : std::atoi(addr.c_str() + c + 1);
}

TcpSnapshot tcp_snapshot(const std::string& ss, const std::set<int>& ports) {
  TcpSnapshot snap;
  snap.at = now_us();
  if (ss.empty()) return snap;
  Micros before = now_us();
  std::string out = run_program({ss, {"-tinHn", "state", "established"}, ""}, 10s);
  snap.at = (before + now_us()) / 2;
  std::istringstream in(out);
  std::string line, key;
  bool ours = false;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] != ' ' && line[0] != '\t') {
      std::istringstream t(line);
      std::vector<std::string> tok;
      std::string s;
      while (t >> s) tok.push_back(s);
      ours = false;
      if (tok.size() < 2) continue;
      const std::string& local = tok[tok.size() - 2];
      const std::string& peer = tok[tok.size() - 1];
      ours = local.rfind("127.0.0.1:", 0) == 0 && peer.rfind("127.0.0.1:", 0) == 0 &&
             (ports.count(port_of(local)) || ports.count(port_of(peer)));
      key = local + " " + peer;
      if (ours) snap.received[key] = 0;
    } else if (ours) {
      auto at = line.find("bytes_received:");
      if (at != std::string::npos) {
        snap.received[key] = std::strtoull(line.c_str() + at + 15, nullptr, 10);
      }
    }
  }
  return snap;
}

// ------------------------------------------------------------------ statistics

// Nearest-rank percentile, p in [0, 1]; NaN for no samples.
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double max_of(const std::vector<double>& v) {
  return v.empty() ? std::nan("") : *std::max_element(v.begin(), v.end());
}

// ------------------------------------------------------------------ the run

struct Options {
  int relays = 35;
  int sinks = 14;
  int stripes = 4;
  std::string rate = "4M";
  int steady_s = 20;
  int sinks_after_s = 18;
  int kill_trials = 3;
  int stop_trials = 3;
  int seed = 1;
  bool keep_dir = false;
  // Sinks' --upload; "default" passes none (the tool's default).
  std::string sink_upload = "0";
  // > 0: relays and sinks all start within this many seconds, evenly spread,
  // none waiting for another's join (else one by one, see start_relays).
  int join_within_s = 0;
  // The default capacity of a relay (lib/overlay/peer_config.cc), for the
  // reference depth on stderr.
  static constexpr double kRelayCapacity = 8;
};

// A killed or frozen parent and the nodes it fed.
struct Trial {
  int signal = SIGKILL;
  std::string victim;
  Micros at = 0;
  std::vector<std::pair<Node*, std::uint32_t>> orphans;  // node, stripe
};

class OverlayBench {
 public:
  explicit OverlayBench(const Options& o) : o_(o), rng_(static_cast<unsigned>(o.seed)) {}

  ~OverlayBench() {
    // Kill the source first: the feeder then stops on a broken pipe at once.
    nodes_.clear();
    if (feeder_) feeder_->stop();
    if (!dir_.empty()) {
      if (o_.keep_dir) {
        std::cerr << "overlay_bench: logs kept in " << dir_ << "\n";
      } else {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
      }
    }
  }

  int run() {
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, nullptr);
    double rate_bps = static_cast<double>(rate_flag("--rate", o_.rate, 1));
    std::string base = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
    std::string templ = base + "/overlay_bench.XXXXXX";
    if (!::mkdtemp(templ.data())) throw_errno("cannot make a temporary directory");
    dir_ = templ;
    source_tool_ = tool_path("vt-source");
    relay_tool_ = tool_path("vt-relay");
    sink_tool_ = tool_path("vt-sink");
    try {
      ss_ = program_in_path("ss");
    } catch (const Error& e) {
      log_progress("no ss (iproute2): the overhead rows are left out");
    }

    log_progress("load average: " + load_average());
    make_clip(rate_bps);
    std::string key = dir_ + "/source.key";
    std::string id_out =
        run_program({tool_path("vt-keygen"), {"-o", key}, dir_ + "/keygen.log"}, 30s);
    source_id_ = id_out.substr(0, id_out.find('\n'));

    raise_file_limit();
    start_source(key);
    feeder_ = std::make_unique<Feeder>(source_->stdin_fd, clip_, rate_bps / 8);
    pause_for(500ms);
    if (o_.join_within_s > 0) {
      start_spread();
    } else {
      start_relays();
      // Viewers join a stream that has been live for a while: once no history
      // (10 s by default) still reaches back to the stream's first chunk, a new
      // node starts at a random-access point near the live edge. Earlier, it
      // would get the whole stream from chunk 0.
      auto since_start = Clock::now() - source_->started;
      if (since_start < std::chrono::seconds(o_.sinks_after_s)) {
        log_progress("waiting until the stream has run " + std::to_string(o_.sinks_after_s) + " s");
        pause_for(std::chrono::seconds(o_.sinks_after_s) - since_start);
      }
      start_sinks();
    }
    check_clock();
    log_progress("overlay up: " + std::to_string(nodes_.size()) + " nodes; settling");
    pause_for(3s);

    measure_steady();
    for (int i = 0; i < o_.kill_trials; ++i) run_trial(SIGKILL);
    for (int i = 0; i < o_.stop_trials; ++i) run_trial(SIGSTOP);
    pause_for(500ms);
    if (feeder_->failed()) throw Error(Errc::kInternal, "the source stopped reading its input");
    check_sink_output();
    log_progress("load average: " + load_average());
    report(rate_bps);
    return 0;
  }

 private:
  void log_progress(const std::string& what) {
    std::fprintf(stderr, "overlay_bench: %s\n", what.c_str());
  }

  // Constant-rate MPEG-TS (MPEG-2 video, MP2 audio, null packets up to the
  // mux rate), long enough for one pass of the run.
  void make_clip(double rate_bps) {
    int seconds = 40 + o_.steady_s + 6 * (o_.kill_trials + o_.stop_trials);
    std::string path = dir_ + "/clip.ts";
    auto video = std::to_string(static_cast<long>(rate_bps * 0.88));
    Clock::time_point t0 = Clock::now();
    run_program({program_in_path("ffmpeg"),
                 {"-nostdin",
                  "-loglevel",
                  "error",
                  "-f",
                  "lavfi",
                  "-i",
                  "testsrc2=size=640x360:rate=25",
                  "-f",
                  "lavfi",
                  "-i",
                  "sine=frequency=440:sample_rate=48000",
                  "-t",
                  std::to_string(seconds),
                  "-c:v",
                  "mpeg2video",
                  "-g",
                  "25",
                  "-b:v",
                  video,
                  "-minrate",
                  video,
                  "-maxrate",
                  video,
                  "-bufsize",
                  std::to_string(static_cast<long>(rate_bps / 2)),
                  "-c:a",
                  "mp2",
                  "-b:a",
                  "128k",
                  "-muxrate",
                  std::to_string(static_cast<long>(rate_bps)),
                  "-f",
                  "mpegts",
                  path},
                 dir_ + "/ffmpeg.log"},
                120s);
    clip_ = read_text(path);
    if (clip_.size() < 188 * 1000) throw Error(Errc::kInternal, "ffmpeg made no usable clip");
    double clip_rate = clip_.size() * 8.0 / seconds;
    log_progress("clip: " + std::to_string(clip_.size()) + " bytes, " + std::to_string(seconds) +
                 " s (" + std::to_string(clip_rate / 1e6) + " Mbit/s as muxed), made in " +
                 std::to_string(std::chrono::duration<double>(Clock::now() - t0).count()) + " s");
  }

  Node& spawn_node(Role role, const std::string& name, std::vector<std::string> args) {
    auto n = std::make_unique<Node>();
    n->role = role;
    n->name = name;
    n->log = dir_ + "/" + name + ".log";
    n->stats = dir_ + "/" + name + ".stats";
    args.insert(args.end(),
                {"--stats-interval", "1s", "--stats-file", n->stats, "--log-level", "debug"});
    const std::string& exe = role == Role::kSource  ? source_tool_
                             : role == Role::kRelay ? relay_tool_
                                                    : sink_tool_;
    SpawnOptions options = spawn_options(n->log);
    if (role == Role::kSource) options.stdin_to = Redirect::pipe();
    if (role == Role::kSink) options.stdout_to = Redirect::pipe();
    n->started = Clock::now();
    n->proc.emplace(Subprocess::spawn(exe, args, options).value());
    if (role == Role::kSource) n->stdin_fd = n->proc->release_stdin();
    if (role == Role::kSink) {
      n->stdout_fd = n->proc->release_output(Stream::kStdout);
      // The reader thread blocks in read() until data or end of file.
      ::fcntl(n->stdout_fd, F_SETFL, ::fcntl(n->stdout_fd, F_GETFL) & ~O_NONBLOCK);
      Node* node = n.get();
      node->check = std::make_unique<OutputCheck>(clip_, feeder_->fed_counter());
      node->reader = std::thread([node] {
        std::vector<char> buf(256 * 1024);
        for (;;) {
          ssize_t r = ::read(node->stdout_fd, buf.data(), buf.size());
          if (r < 0 && errno == EINTR) continue;
          if (r <= 0) return;
          if (node->first_byte_us.load() == 0) node->first_byte_us = now_us();
          node->check->add(buf.data(), static_cast<std::size_t>(r));
          node->out_bytes += static_cast<std::uint64_t>(r);
        }
      });
    }
    nodes_.push_back(std::move(n));
    return *nodes_.back();
  }

  // Reads "listening addr=... peer=..." from the node's log.
  void learn_address(Node& n, const std::string& text) {
    auto at = text.find("listening addr=");
    auto line = text.substr(at, text.find('\n', at) - at);
    auto f = fields_of(line);
    n.addr = f["addr"];
    n.peer_id = f["peer"];
    if (n.addr.empty() || n.peer_id.size() < kShortIdSize) {
      throw Error(Errc::kProtocol, "unexpected 'listening' line from " + n.name + ": " + line);
    }
  }

  void start_source(const std::string& key) {
    Node& s = spawn_node(Role::kSource, "source",
                         {"--listen", "127.0.0.1:0", "--key", key, "--stripes",
                          std::to_string(o_.stripes), "--input", "-"});
    learn_address(s, wait_for_log(s, "listening addr=", 10s));
    source_ = &s;
  }

  // Relays that joined all stripes, as join points for later nodes.
  std::vector<Node*> joined_relays() {
    std::vector<Node*> out;
    for (auto& n : nodes_) {
      if (n->role != Role::kRelay || n->victim || n->addr.empty()) continue;
      if (!n->joined) n->joined = read_text(n->log).find("joined all stripes") != std::string::npos;
      if (n->joined) out.push_back(n.get());
    }
    return out;
  }

  std::vector<std::string> join_args() {
    // A random relay that is in the trees, then the source as a fallback.
    std::vector<std::string> args;
    auto ready = joined_relays();
    if (!ready.empty()) {
      std::uniform_int_distribution<std::size_t> pick(0, ready.size() - 1);
      args = {"--join", ready[pick(rng_)]->addr};
    }
    args.insert(args.end(), {"--join", source_->addr, "--source-key", source_id_});
    return args;
  }

  void start_relays() {
    std::vector<Node*> started;
    for (int i = 0; i < o_.relays; ++i) {
      Node& r = spawn_node(Role::kRelay, "relay" + std::to_string(i), join_args());
      learn_address(r, wait_for_log(r, "listening addr=", 10s));
      started.push_back(&r);
      pause_for(100ms);
    }
    for (Node* r : started) wait_for_log(*r, "joined all stripes", 30s);
    log_progress(std::to_string(o_.relays) + " relays joined");
  }

  std::vector<std::string> sink_args() {
    auto args = join_args();
    if (o_.sink_upload != "default") args.insert(args.end(), {"--upload", o_.sink_upload});
    return args;
  }

  void start_sinks() {
    for (int i = 0; i < o_.sinks; ++i) {
      auto args = sink_args();
      Node& s = spawn_node(Role::kSink, "sink" + std::to_string(i), args);
      learn_address(s, wait_for_log(s, "listening addr=", 10s));
      sinks_.push_back(&s);
      // One sink at a time, so each join is measured on its own.
      wait_for_log(s, "joined all stripes", 20s);
      pause_for(300ms);
    }
    log_progress(std::to_string(o_.sinks) + " sinks joined");
  }

  // Two hundred processes, each with a few dozen sockets and this side's
  // pipes and logs: ask for the hard limit (the nodes inherit it).
  void raise_file_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) throw_errno("getrlimit(RLIMIT_NOFILE)");
    if (lim.rlim_cur < lim.rlim_max) {
      lim.rlim_cur = lim.rlim_max;
      if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) throw_errno("setrlimit(RLIMIT_NOFILE)");
    }
  }

  // Relays, then sinks, evenly spread over --join-within-s from the first
  // relay's start; none waits for another's join, and each joins through a
  // relay already in all trees (or the source). Nodes that have not joined
  // all stripes 60 s after the last start are reported, not fatal.
  void start_spread() {
    int total = o_.relays + o_.sinks;
    auto spacing = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(o_.join_within_s) / total);
    spread_start_ = Clock::now();
    for (int i = 0; i < total; ++i) {
      auto due = spread_start_ + spacing * i;
      if (due > Clock::now()) pause_for(due - Clock::now());
      learn_new_addresses();
      if (i < o_.relays) {
        spawn_node(Role::kRelay, "relay" + std::to_string(i), join_args());
      } else {
        Node& s = spawn_node(Role::kSink, "sink" + std::to_string(i - o_.relays), sink_args());
        sinks_.push_back(&s);
      }
    }
    log_progress(
        std::to_string(total) + " nodes started in " +
        std::to_string(std::chrono::duration<double>(Clock::now() - spread_start_).count()) + " s");
    auto until = Clock::now() + 60s;
    for (auto& n : nodes_) {
      if (n->role == Role::kSource) continue;
      for (;;) {
        std::string text = read_text(n->log);
        if (n->addr.empty() && text.find("listening addr=") != std::string::npos) {
          learn_address(*n, text);
        }
        n->joined = text.find("joined all stripes") != std::string::npos;
        if ((n->joined && !n->addr.empty()) || !n->proc->running() || Clock::now() > until) break;
        pause_for(50ms);
      }
      if (!n->joined) {
        std::string text = read_text(n->log);
        log_progress("NOT JOINED: " + n->name + (n->proc->running() ? "" : " (exited)") +
                     "; its log ends:\n" +
                     text.substr(text.size() > 1500 ? text.size() - 1500 : 0));
      }
    }
    int joined = 0;
    for (auto& n : nodes_) joined += n->joined;
    log_progress(std::to_string(joined) + " of " + std::to_string(total) +
                 " nodes joined all stripes");
  }

  void learn_new_addresses() {
    for (auto& n : nodes_) {
      if (!n->addr.empty()) continue;
      std::string text = read_text(n->log);
      if (text.find("listening addr=") != std::string::npos) learn_address(*n, text);
    }
  }

  // Every sink must have written every byte fed after its first one: with
  // the stream paused (at a TS packet's end), wait until the sinks' outputs
  // stop growing, then compare each with the feed.
  void check_sink_output() {
    feeder_->pause(true);
    auto until = Clock::now() + 15s;
    auto expected = [&](Node* s) -> std::int64_t {
      auto start = s->check->start();
      return start < 0 ? -1 : static_cast<std::int64_t>(feeder_->fed()) - start;
    };
    for (;;) {
      pause_for(500ms);
      bool all = true;
      for (Node* s : sinks_) {
        all = all && !s->check->diverged() && expected(s) >= 0 &&
              static_cast<std::int64_t>(s->check->matched()) >= expected(s);
      }
      if (all || Clock::now() > until) break;
    }
    sinks_complete_ = 0;
    std::string detail;
    double checked = 0;
    for (Node* s : sinks_) {
      auto want = expected(s);
      auto got = static_cast<std::int64_t>(s->check->matched());
      checked += static_cast<double>(got);
      bool ok = !s->check->diverged() && want >= 0 && got == want &&
                s->out_bytes.load() == static_cast<std::uint64_t>(got);
      sinks_complete_ += ok;
      if (ok) continue;
      detail += " " + s->name + ":";
      if (!s->check->located()) {
        detail += s->check->diverged() ? "start not in the stream" : "too few bytes";
      } else if (s->check->diverged()) {
        detail += "broke off after " + std::to_string(got) + " bytes";
      } else {
        detail += std::to_string(want - got) + " bytes missing";
      }
      detail += " (wrote " + std::to_string(s->out_bytes.load()) + ")";
    }
    log_progress("sink output: " + std::to_string(sinks_complete_) + " of " +
                 std::to_string(sinks_.size()) + " sinks wrote every byte fed after their first (" +
                 std::to_string(checked / 1e6) + " MB compared)" +
                 (detail.empty() ? "" : "; incomplete:" + detail));
  }

  // All nodes must read the same CLOCK_MONOTONIC as this process: the same
  // time namespace (Linux 5.6+ can give a namespace its own offset).
  void check_clock() {
    std::string mine = time_namespace("self");
    same_clock_ = mine.rfind("unreadable", 0) != 0;
    std::string odd;
    for (auto& n : nodes_) {
      std::string theirs = time_namespace(std::to_string(n->proc->pid()));
      for (int i = 0; i < 5 && theirs.rfind("unreadable", 0) == 0; ++i) {
        pause_for(10ms);
        theirs = time_namespace(std::to_string(n->proc->pid()));
      }
      if (theirs != mine) {
        same_clock_ = false;
        odd += " " + n->name + " (" + theirs + ")";
      }
    }
    log_progress(std::string("time namespace: ") + mine +
                 (same_clock_ ? ", shared by every node" : ", NOT shared by" + odd));
  }

  std::vector<Node*> live(Role role) {
    std::vector<Node*> out;
    for (auto& n : nodes_) {
      if (n->role == role && !n->victim) out.push_back(n.get());
    }
    return out;
  }

  // Snapshots the TCP counters with the stream paused: no chunk is then in
  // flight, so the chunks counted between two such snapshots are exactly the
  // ones whose bytes the counters saw. (A snapshot of ~900 sockets takes up
  // to a few hundred ms on a loaded machine; taken while chunks flow, its
  // edges would be off by that much stream.)
  TcpSnapshot quiet_snapshot(const std::set<int>& ports) {
    feeder_->pause(true);
    pause_for(1s);  // the chunker's time flush and the last chunks pass
    auto snap = tcp_snapshot(ss_, ports);
    return snap;
  }

  void measure_steady() {
    std::set<int> ports;
    for (auto& n : nodes_) ports.insert(port_of(n->addr));

    // Control traffic alone: heartbeats, their answers and keepalive pings go
    // on while the stream is silent.
    log_progress("stream paused for " + std::to_string(kIdleWindow.count() + 2) + " s");
    steady_.idle0 = quiet_snapshot(ports);
    pause_for(kIdleWindow);
    steady_.idle1 = quiet_snapshot(ports);
    steady_.tcp0 = steady_.idle1;
    feeder_->pause(false);
    pause_for(1s);

    auto relays = live(Role::kRelay);
    std::vector<double> cpu0;
    for (Node* r : relays) cpu0.push_back(cpu_seconds(r->proc->pid()));
    std::uint64_t fed0 = feeder_->fed();
    steady_.wall0 = wall_now();
    steady_.t0 = now_us();
    log_progress("steady window: " + std::to_string(o_.steady_s) + " s");
    pause_for(std::chrono::seconds(o_.steady_s));
    steady_.t1 = now_us();
    steady_.wall1 = wall_now();
    double secs = (steady_.t1 - steady_.t0) / 1e6;
    steady_.stream_bps = (feeder_->fed() - fed0) * 8.0 / secs;
    for (std::size_t i = 0; i < relays.size(); ++i) {
      steady_.relay_cpu_s += cpu_seconds(relays[i]->proc->pid()) - cpu0[i];
      steady_.relay_rss_mib.push_back(peak_rss_mib(relays[i]->proc->pid()));
    }
    steady_.relays = relays;

    // The overhead window: from the end of the idle window to here.
    steady_.tcp1 = quiet_snapshot(ports);
    feeder_->pause(false);
    pause_for(2s);
  }

  void run_trial(int sig) {
    // The victim: the live relay that feeds the most sinks (then most nodes),
    // by the newest stats lines.
    std::map<std::string, std::vector<std::pair<Node*, std::uint32_t>>> children;
    std::map<std::string, int> sink_children;
    for (auto& n : nodes_) {
      if (n->role == Role::kSource || n->victim) continue;
      for (const auto& [stripe, parent] : current_parents(read_text(n->stats))) {
        if (parent.empty() || parent == "-") continue;
        children[parent].push_back({n.get(), stripe});
        if (n->role == Role::kSink) ++sink_children[parent];
      }
    }
    Node* victim = nullptr;
    auto score = [&](Node* r) {
      return std::pair(sink_children[r->short_id()], children[r->short_id()].size());
    };
    for (Node* r : live(Role::kRelay)) {
      if (!victim || score(r) > score(victim)) victim = r;
    }
    if (!victim || sink_children[victim->short_id()] == 0) {
      log_progress("no relay feeds a sink; trial skipped");
      return;
    }
    Trial t;
    t.signal = sig;
    t.victim = victim->name;
    t.orphans = children[victim->short_id()];
    victim->victim = true;
    t.at = now_us();
    (void)victim->proc->signal(sig);
    log_progress(std::string(sig == SIGKILL ? "SIGKILL " : "SIGSTOP ") + victim->name + " (" +
                 std::to_string(t.orphans.size()) + " orphaned stripes, " +
                 std::to_string(sink_children[victim->short_id()]) + " of sinks)");
    if (sig == SIGKILL) {
      pause_for(3s);
    } else {
      // Children notice a frozen parent by missed heartbeats (about 1 s).
      pause_for(4s);
      victim->proc->kill();
      pause_for(500ms);
    }
    trials_.push_back(std::move(t));
  }

  // How long each orphan of a trial went without chunks: from the signal to
  // its first chunk on that stripe after a repair (counted with a higher
  // repair count than before the signal). An orphan that got chunks after the
  // signal without a repair was not one (its stats line was stale) and is left
  // out; one that got no chunk on that stripe for the rest of the run failed.
  //
  // `late_ms` gets how late that first chunk was (arrival - publish): a
  // repair that ends before the stripe's next chunk is due costs the viewer
  // nothing beyond the usual delivery time, while `ms` then still includes the
  // wait for that chunk (up to K chunk periods).
  void recovery_times(const Trial& t, const std::map<std::uint64_t, Micros>& published,
                      std::vector<double>& ms, std::vector<double>& late_ms, int& failed) {
    std::string detail;
    for (auto [node, stripe] : t.orphans) {
      std::uint64_t before = 0;
      bool after = false;
      std::optional<Micros> back;
      for (const auto& c : chunk_lines(read_text(node->log), false)) {
        if (c.stripe != stripe) continue;
        if (c.at < t.at) {
          before = c.repairs;
          continue;
        }
        after = true;
        if (c.repairs > before) {
          back = c.at;
          auto p = published.find(c.seq);
          if (p != published.end()) late_ms.push_back((c.at - p->second) / 1000.0);
          break;
        }
      }
      if (back) {
        ms.push_back((*back - t.at) / 1000.0);
        detail += " " + node->name + "/" + std::to_string(stripe) + ":" +
                  std::to_string(static_cast<long>(ms.back())) + "ms";
        if (!late_ms.empty()) {
          detail += "(late " + std::to_string(static_cast<long>(late_ms.back())) + ")";
        }
      } else if (!after) {
        ++failed;
        detail += " " + node->name + "/" + std::to_string(stripe) + ":never";
      }
    }
    log_progress(std::string(t.signal == SIGKILL ? "SIGKILL " : "SIGSTOP ") + t.victim +
                 ", orphan/stripe:time" + detail);
  }

  void report(double rate_bps) {
    std::vector<Row> rows;
    auto row = [&](const std::string& name, double value, const std::string& unit) {
      if (std::isnan(value)) {
        log_progress(name + ": no samples");
        return;
      }
      rows.push_back({name, value, unit, std::nullopt, 0});
    };

    // Join and first byte, per sink.
    std::vector<double> join_ms, first_byte_ms;
    std::string detail;
    for (Node* s : sinks_) {
      auto lines = chunk_lines(read_text(s->log), false);
      detail += " " + s->name + ":";
      if (!lines.empty()) {
        join_ms.push_back((lines.front().at - s->started_us()) / 1000.0);
        detail += std::to_string(static_cast<long>(join_ms.back()));
      }
      if (s->first_byte_us.load() > 0) {
        first_byte_ms.push_back((s->first_byte_us.load() - s->started_us()) / 1000.0);
        detail += "/" + std::to_string(static_cast<long>(first_byte_ms.back()));
      }
    }
    log_progress("sink: join/first byte ms" + detail);
    row("overlay.join_ms", percentile(join_ms, 0.5), "ms");
    row("overlay.join_max_ms", max_of(join_ms), "ms");
    row("overlay.first_byte_ms", percentile(first_byte_ms, 0.5), "ms");
    row("overlay.first_byte_max_ms", max_of(first_byte_ms), "ms");

    // Every relay and sink: start -> a verified chunk on every stripe.
    std::vector<double> all_stripes_ms;
    int joined = 0, receivers = 0;
    Micros last_joined = 0, first_started = 0;
    for (auto& n : nodes_) {
      if (n->role == Role::kSource) continue;
      ++receivers;
      if (first_started == 0 || n->started_us() < first_started) first_started = n->started_us();
      std::string text = read_text(n->log);
      std::map<std::uint32_t, Micros> first;
      for (const auto& c : chunk_lines(text, false)) first.emplace(c.stripe, c.at);
      if (text.find("joined all stripes") == std::string::npos ||
          first.size() < static_cast<std::size_t>(o_.stripes)) {
        continue;
      }
      Micros all = 0;
      for (auto [stripe, at] : first) all = std::max(all, at);
      ++joined;
      last_joined = std::max(last_joined, all);
      all_stripes_ms.push_back((all - n->started_us()) / 1000.0);
    }
    log_progress(std::to_string(joined) + " of " + std::to_string(receivers) +
                 " relays and sinks joined every stripe, the last " +
                 std::to_string((last_joined - first_started) / 1e6) +
                 " s after the first relay started");
    rows.push_back({"overlay.nodes_joined", static_cast<double>(joined), "nodes",
                    std::string("overlay.nodes"), static_cast<double>(receivers)});
    row("overlay.last_join_s", last_joined > 0 ? (last_joined - first_started) / 1e6 : std::nan(""),
        "s");
    row("overlay.join_all_stripes_ms", percentile(all_stripes_ms, 0.5), "ms");
    row("overlay.join_all_stripes_max_ms", max_of(all_stripes_ms), "ms");

    std::map<std::uint64_t, Micros> published;
    for (const auto& c : chunk_lines(read_text(source_->log), true)) published[c.seq] = c.at;

    // Recovery.
    for (int sig : {SIGKILL, SIGSTOP}) {
      std::vector<double> ms, late_ms;
      int failed = 0, trials = 0;
      for (const auto& t : trials_) {
        if (t.signal != sig) continue;
        ++trials;
        recovery_times(t, published, ms, late_ms, failed);
      }
      std::string what = sig == SIGKILL ? "kill" : "stop";
      log_progress("recovery after SIG" + std::string(sig == SIGKILL ? "KILL" : "STOP") + ": " +
                   std::to_string(trials) + " trials, " + std::to_string(ms.size()) +
                   " orphaned stripes repaired, " + std::to_string(failed) + " not repaired");
      row("overlay.recovery_" + what + "_ms", percentile(ms, 0.5), "ms");
      row("overlay.recovery_" + what + "_max_ms", max_of(ms), "ms");
      row("overlay.recovery_" + what + "_late_ms", percentile(late_ms, 0.5), "ms");
      row("overlay.recovery_" + what + "_late_max_ms", max_of(late_ms), "ms");
    }

    // Latency in the steady window: each chunk published in it, at every
    // node that accepted it.
    std::vector<double> hop_ms, e2e_ms;
    std::map<std::uint32_t, std::size_t> depths;
    std::map<std::uint32_t, std::uint32_t> max_depth;          // per stripe
    std::map<std::uint32_t, std::set<const Node*>> in_stripe;  // receivers per stripe
    std::size_t before_publish = 0, repaired_in_window = 0;
    double payload = 0, chunks = 0;
    for (auto& n : nodes_) {
      if (n->role == Role::kSource) continue;
      std::map<std::uint32_t, std::uint64_t> repairs0;  // per stripe, at the window's start
      for (const auto& c : chunk_lines(read_text(n->log), false)) {
        if (c.at >= steady_.tcp0.at && c.at < steady_.tcp1.at) {
          payload += static_cast<double>(c.payload);
          chunks += 1;
        }
        auto p = published.find(c.seq);
        if (p == published.end() || p->second < steady_.t0 || p->second >= steady_.t1) continue;
        if (!repairs0.count(c.stripe)) repairs0[c.stripe] = c.repairs;
        if (c.repairs != repairs0[c.stripe]) ++repaired_in_window;
        if (c.at < p->second) ++before_publish;
        if (c.depth == 0) continue;
        max_depth[c.stripe] = std::max(max_depth[c.stripe], c.depth);
        in_stripe[c.stripe].insert(n.get());
        double ms = (c.at - p->second) / 1000.0;
        hop_ms.push_back(ms / c.depth);
        ++depths[c.depth];
        if (n->role == Role::kSink) e2e_ms.push_back(ms);
      }
    }
    std::string depth_text;
    for (auto [d, count] : depths)
      depth_text += " " + std::to_string(d) + ":" + std::to_string(count);
    log_progress("steady window: " + std::to_string(hop_ms.size()) + " chunk arrivals; by depth" +
                 depth_text + "; " + std::to_string(before_publish) +
                 " arrived before their publish time; " + std::to_string(repaired_in_window) +
                 " after a repair");
    if (!same_clock_ || before_publish > 0) {
      log_progress("WARNING: nodes may not share one monotonic clock; latencies are suspect");
    }
    row("overlay.hop_latency_p50_ms", percentile(hop_ms, 0.5), "ms");
    row("overlay.hop_latency_p99_ms", percentile(hop_ms, 0.99), "ms");
    row("overlay.e2e_latency_p50_ms", percentile(e2e_ms, 0.5), "ms");
    row("overlay.e2e_latency_p99_ms", percentile(e2e_ms, 0.99), "ms");
    depth_rows(max_depth, in_stripe, rows);

    // Overhead: every byte between two nodes is received by one of them.
    auto received = [](const TcpSnapshot& a, const TcpSnapshot& b) {
      double sum = 0;
      for (const auto& [key, bytes] : b.received) {
        auto was = a.received.find(key);
        sum += static_cast<double>(bytes - (was == a.received.end() ? 0 : was->second));
      }
      return sum;
    };
    double wire = received(steady_.tcp0, steady_.tcp1);
    double window_s = (steady_.tcp1.at - steady_.tcp0.at) / 1e6;
    double idle_s = (steady_.idle1.at - steady_.idle0.at) / 1e6;
    double control = idle_s > 0 ? received(steady_.idle0, steady_.idle1) / idle_s * window_s : 0;
    std::size_t opened = 0, closed = 0;
    for (const auto& [key, bytes] : steady_.tcp1.received)
      opened += !steady_.tcp0.received.count(key);
    for (const auto& [key, bytes] : steady_.tcp0.received)
      closed += !steady_.tcp1.received.count(key);
    // A connection carries chunks one way at most (parent to child); what
    // flows the other way is control only: heartbeats, flow-control credit,
    // keepalive pings. Per connection that is the smaller direction.
    double upstream = 0;
    auto delta = [&](const std::string& key) {
      auto now = steady_.tcp1.received.find(key);
      if (now == steady_.tcp1.received.end()) return 0.0;
      auto was = steady_.tcp0.received.find(key);
      return static_cast<double>(now->second -
                                 (was == steady_.tcp0.received.end() ? 0 : was->second));
    };
    for (const auto& [key, bytes] : steady_.tcp1.received) {
      auto space = key.find(' ');
      std::string reverse = key.substr(space + 1) + " " + key.substr(0, space);
      if (key < reverse && steady_.tcp1.received.count(reverse)) {
        upstream += std::min(delta(key), delta(reverse));
      }
    }
    log_progress("wire: " + std::to_string(wire / 1e6) + " MB on " +
                 std::to_string(steady_.tcp1.received.size()) + " sockets (" +
                 std::to_string(opened) + " opened, " + std::to_string(closed) +
                 " closed in the window); stream payload accepted: " +
                 std::to_string(payload / 1e6) + " MB in " + std::to_string(chunks) +
                 " chunks; stream fed at " + std::to_string(steady_.stream_bps / 1e6) +
                 " Mbit/s (asked " + std::to_string(rate_bps / 1e6) + ")");
    if (payload > 0 && !ss_.empty()) {
      row("overlay.overhead_pct", (wire - payload) / payload * 100, "%");
      row("overlay.signature_overhead_pct", chunks * kChunkOverheadBytes / payload * 100, "%");
      row("overlay.upstream_overhead_pct", upstream / payload * 100, "%");
      row("overlay.control_overhead_pct", control / payload * 100, "%");
      row("overlay.framing_overhead_pct",
          (wire - payload - chunks * kChunkOverheadBytes - control) / payload * 100, "%");
    }

    // Relays: memory and CPU.
    row("overlay.relay_rss_mib", max_of(steady_.relay_rss_mib), "MiB");
    double out_bps = 0;
    for (Node* r : steady_.relays) {
      double sum = 0;
      int n = 0;
      for (const auto& s : stats_lines(read_text(r->stats))) {
        double t = s["time"].get<double>();
        if (t < steady_.wall0 || t > steady_.wall1) continue;
        sum += s["data"]["rate_out_bps"].get<double>();
        ++n;
      }
      if (n > 0) out_bps += sum / n;
    }
    double secs = (steady_.t1 - steady_.t0) / 1e6;
    double cpu_pct = steady_.relay_cpu_s / secs * 100;
    log_progress("relays: " + std::to_string(steady_.relays.size()) + " used " +
                 std::to_string(cpu_pct) + " % CPU together while forwarding " +
                 std::to_string(out_bps / 1e6) + " Mbit/s; peak RSS median " +
                 std::to_string(percentile(steady_.relay_rss_mib, 0.5)) + " MiB");
    if (out_bps > 0) row("overlay.relay_cpu_pct_per_mbps", cpu_pct / (out_bps / 1e6), "%/(Mbit/s)");
    if (!steady_.relays.empty()) {
      auto relays = static_cast<double>(steady_.relays.size());
      row("overlay.relay_cpu_pct", cpu_pct / relays, "%");
      row("overlay.relay_out_mbps", out_bps / 1e6 / relays, "Mbit/s");
    }

    // What the viewers lost.
    double gaps = 0;
    for (Node* s : sinks_) {
      auto lines = stats_lines(read_text(s->stats));
      if (!lines.empty()) gaps += lines.back()["data"]["gaps"].get<double>();
    }
    row("overlay.sink_gaps", gaps, "gaps");
    rows.push_back({"overlay.sinks_complete", static_cast<double>(sinks_complete_), "sinks",
                    std::string("overlay.sinks"), static_cast<double>(sinks_.size())});

    for (const auto& r : rows) std::cout << to_json_line(r) << "\n";
    std::cout.flush();
  }

  // How deep each stripe's tree is against a balanced tree of its fan-out.
  // The fan-out is the tree's own: its receivers over its interior nodes
  // (distinct parents, the source included), from each node's last stats
  // line of the steady window. Depths are those of the chunks published in
  // that window.
  void depth_rows(const std::map<std::uint32_t, std::uint32_t>& max_depth,
                  const std::map<std::uint32_t, std::set<const Node*>>& in_stripe,
                  std::vector<Row>& rows) {
    std::map<std::uint32_t, std::map<std::string, int>> children;  // stripe -> parent -> count
    for (auto& n : nodes_) {
      if (n->role == Role::kSource) continue;
      const nlohmann::json* last = nullptr;
      auto lines = stats_lines(read_text(n->stats));
      for (const auto& s : lines) {
        if (s["time"].get<double>() <= steady_.wall1) last = &s;
      }
      if (!last) continue;
      for (const auto& s : (*last)["data"]["per_stripe"]) {
        if (!s["parent"].is_string()) continue;
        std::string parent = s["parent"];
        ++children[s["stripe"].get<std::uint32_t>()][parent];
      }
    }
    int balanced_max = 0;
    std::optional<int> excess_max;
    std::string detail;
    for (std::uint32_t k = 0; k < static_cast<std::uint32_t>(o_.stripes); ++k) {
      auto d = max_depth.find(k);
      auto r = in_stripe.find(k);
      auto c = children.find(k);
      if (d == max_depth.end() || r == in_stripe.end() || c == children.end()) {
        log_progress("stripe " + std::to_string(k) + ": no depth samples");
        continue;
      }
      double placed = 0;
      for (const auto& [parent, count] : c->second) placed += count;
      double fanout = placed / static_cast<double>(c->second.size());
      auto n = static_cast<double>(r->second.size());
      int balanced = balanced_depth(n, fanout);
      int excess = static_cast<int>(d->second) - balanced;
      balanced_max = std::max(balanced_max, balanced);
      excess_max = std::max(excess_max.value_or(excess), excess);
      detail += " " + std::to_string(k) + ": " + std::to_string(r->second.size()) + " receivers, " +
                std::to_string(c->second.size()) + " interior, fan-out " + std::to_string(fanout) +
                ", max depth " + std::to_string(d->second) + ", balanced " +
                std::to_string(balanced) + " (at " +
                std::to_string(static_cast<int>(Options::kRelayCapacity)) +
                " children: " + std::to_string(balanced_depth(n, Options::kRelayCapacity)) + ");";
      std::string suffix = "_stripe_" + std::to_string(k);
      rows.push_back({"overlay.max_depth" + suffix, static_cast<double>(d->second), "levels",
                      std::nullopt, 0});
      rows.push_back({"overlay.fanout" + suffix, fanout, "children", std::nullopt, 0});
      rows.push_back({"overlay.balanced_depth" + suffix, static_cast<double>(balanced), "levels",
                      std::nullopt, 0});
    }
    log_progress("tree depth per stripe:" + detail);
    if (!excess_max) return;
    rows.push_back(
        {"overlay.balanced_depth", static_cast<double>(balanced_max), "levels", std::nullopt, 0});
    rows.push_back(
        {"overlay.depth_excess_max", static_cast<double>(*excess_max), "levels", std::nullopt, 0});
  }

  struct Steady {
    Micros t0 = 0, t1 = 0;
    double wall0 = 0, wall1 = 0;
    TcpSnapshot tcp0, tcp1;    // the overhead window, both taken with the stream paused
    TcpSnapshot idle0, idle1;  // the stream paused throughout
    double stream_bps = 0;
    double relay_cpu_s = 0;
    std::vector<double> relay_rss_mib;
    std::vector<Node*> relays;
  };

  Options o_;
  std::mt19937 rng_;
  std::string dir_;
  std::string source_tool_, relay_tool_, sink_tool_, ss_;
  std::string clip_;
  std::string source_id_;
  // Declared after clip_ (which the feeder reads) and before nodes_, so
  // members go away in a safe order even without the destructor's help.
  std::unique_ptr<Feeder> feeder_;
  std::vector<std::unique_ptr<Node>> nodes_;
  Node* source_ = nullptr;
  std::vector<Node*> sinks_;
  std::vector<Trial> trials_;
  Steady steady_;
  bool same_clock_ = false;
  Clock::time_point spread_start_{};  // the first relay's start (--join-within-s)
  int sinks_complete_ = 0;
};

}  // namespace
}  // namespace peers::bench

int main(int argc, char** argv) {
  using namespace peers::bench;
  peers::ToolCli cli("overlay_bench",
                     "Runs a VidTorrent overlay of real processes on loopback and measures "
                     "joins, repairs, latency, overhead and relay cost.",
                     "overlay_bench --relays 35 --sinks 14 --steady-s 20");
  Options o;
  auto& app = cli.app();
  app.add_option("--relays", o.relays, "Relays (vt-relay)")->capture_default_str();
  app.add_option("--sinks", o.sinks, "Sinks (vt-sink)")->capture_default_str();
  app.add_option("--sink-upload", o.sink_upload,
                 "The sinks' --upload (0 = pure viewers); 'default' passes none")
      ->capture_default_str();
  app.add_option("--join-within-s", o.join_within_s,
                 "Start all relays and sinks evenly spread over this many seconds, "
                 "without waiting for joins (0 = one at a time, sinks after --sinks-after-s)")
      ->capture_default_str();
  app.add_option("--stripes", o.stripes, "Stripes, K")->capture_default_str();
  app.add_option("--rate", o.rate, "Stream rate in bits/s (4M, 800k)")->capture_default_str();
  app.add_option("--steady-s", o.steady_s,
                 "Seconds of undisturbed stream for latency, "
                 "overhead and relay cost")
      ->capture_default_str();
  app.add_option("--sinks-after-s", o.sinks_after_s,
                 "Start the sinks once the stream has run this long (past the relays' history)")
      ->capture_default_str();
  app.add_option("--kill-trials", o.kill_trials, "Relays killed (SIGKILL), one at a time")
      ->capture_default_str();
  app.add_option("--stop-trials", o.stop_trials, "Relays frozen (SIGSTOP), one at a time")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "Seed for the choice of join points")->capture_default_str();
  app.add_flag("--keep-dir", o.keep_dir, "Keep the clip and the nodes' logs");
  return cli.run(argc, argv, [&] {
    if (o.relays < 1 || o.sinks < 1 || o.stripes < 1 || o.steady_s < 1) {
      throw peers::usage_error("--relays, --sinks, --stripes and --steady-s must be at least 1");
    }
    OverlayBench bench(o);
    return bench.run();
  });
}
