// flood_bench: strangers against a real node (issue 12, "Hostile peers").
//
//   bazel build -c opt //bench:flood_bench && bazel-out/k8-opt/bin/bench/flood_bench
//   flood_bench --connections 300 --after-s 3        # quick look
//
// Starts a vt-source listening on 127.0.0.1 (its stdin a pipe that stays
// empty: a node with the tools' options and no stream), with the file
// descriptor limit a process gets by default, then floods it from this
// process in two phases:
//   handshake   --connections sockets that each send a valid HELLO and the
//               header of the longest record allowed next (AUTH), then stall;
//   record      --connections sockets that each complete the handshake, then
//               send the header of the longest record allowed (1 MiB) and a
//               few bytes of it, and stall; dialed one after another until 20
//               in a row fail (refused, or the node out of descriptors).
// Each phase holds its sockets for --hold-s, closes them all and waits
// --after-s. Prints one JSON line per result (bench/harness.h), no baselines:
//   flood.baseline_rss_mib                 the node's RSS before any flood
//   flood.<phase>_peak_rss_mib             the node's peak RSS (VmHWM, reset per phase)
//   flood.<phase>_rss_after_mib            its RSS --after-s after the sockets closed
//   flood.<phase>_held                     connections the node still held 0.5 s after the last
//   flood.<phase>_refused                  connections it refused (from its log's counts)
//   flood.log_lines                        its lines about strangers (refused, failed
//                                          handshakes, failed accepts), both phases
//   flood.log_lines_max_per_s              the most lines of one kind in any second
//   flood.accept_failures                  accept() errors (EMFILE: the node's limit is
//                                          --node-nofile, 1024 as usual)
// Method and numbers: docs/security.md.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bench/harness.h"
#include "lib/crypto/identity.h"
#include "lib/crypto/session.h"
#include "lib/kernel/cli.h"
#include "lib/kernel/error.h"
#include "lib/kernel/signals.h"
#include "lib/kernel/subprocess.h"
#include "lib/wire/frame.h"

namespace peers::bench {
namespace {

using namespace std::chrono_literals;

struct Options {
  int connections = 1500;
  int hold_s = 3;
  int after_s = 10;
  int node_nofile = 1024;
  bool keep_dir = false;
};

void progress(const std::string& what) { std::fprintf(stderr, "flood_bench: %s\n", what.c_str()); }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A field of /proc/<pid>/status in kB ("VmRSS", "VmHWM"), as MiB.
double status_mib(pid_t pid, const std::string& field) {
  std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  }
  throw Error(Errc::kNotFound, "no " + field + " for pid " + std::to_string(pid));
}

// Starts the next VmHWM from the current RSS (Linux 4.0 and later).
void reset_peak(pid_t pid) { std::ofstream("/proc/" + std::to_string(pid) + "/clear_refs") << "5"; }

void sleep_unless_stopped(Clock::duration d) {
  auto until = Clock::now() + d;
  while (Clock::now() < until) {
    if (stop_requested()) throw Error(Errc::kCancelled, "stopped by a signal");
    std::this_thread::sleep_for(20ms);
  }
}

std::string be32(std::uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (24 - 8 * i));
  return s;
}

// A blocking socket connected to 127.0.0.1:port whose reads give up after
// `timeout`; -1 if the connect fails.
int dial(std::uint16_t port, std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket");
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool recv_exact(int fd, std::string& out, std::size_t n) {
  out.assign(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::recv(fd, out.data() + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

// Sockets this side still holds open that the node has not closed.
int still_held(const std::vector<int>& fds) {
  int held = 0;
  char buf[4096];
  for (int fd : fds) {
    bool closed = false;
    for (;;) {
      ssize_t r = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (r > 0) continue;
      closed = r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
      break;
    }
    held += !closed;
  }
  return held;
}

// What the node logged about strangers: lines per kind ("<msg> <reason>"),
// when they were written, and how many events they stand for.
struct LogTally {
  std::map<std::string, std::vector<double>> times;
  std::map<std::string, std::uint64_t> events;

  static LogTally of(const std::string& log) {
    LogTally t;
    std::istringstream in(read_text(log));
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.contains("data")) continue;
      const auto& d = j["data"];
      std::string msg = d.value("msg", "");
      if (msg != "connection refused" && msg != "handshake failed" && msg != "accept failed") {
        continue;
      }
      std::string kind = msg + " " + d.value("reason", "");
      t.times[kind].push_back(j.value("time", 0.0));
      // A line with details is one event itself; a summary only counts others.
      bool summary = !d.contains("addr") && !d.contains("retry_in_ms");
      t.events[kind] += (summary ? 0 : 1) + std::stoull(d.value("held_back", "0"));
    }
    return t;
  }

  std::uint64_t lines() const {
    std::uint64_t n = 0;
    for (const auto& [kind, ts] : times) n += ts.size();
    return n;
  }
  // The most lines of one kind within any second.
  std::uint64_t max_per_second() const {
    std::uint64_t most = 0;
    for (const auto& [kind, ts] : times) {
      for (std::size_t i = 0, j = 0; j < ts.size(); ++j) {
        while (ts[j] - ts[i] >= 1.0) ++i;
        most = std::max<std::uint64_t>(most, j - i + 1);
      }
    }
    return most;
  }
  std::uint64_t events_of(const std::string& msg) const {
    std::uint64_t n = 0;
    for (const auto& [kind, count] : events) {
      if (kind.rfind(msg + " ", 0) == 0) n += count;
    }
    return n;
  }
};

class Flood {
 public:
  explicit Flood(const Options& o) : o_(o) {}

  int run() {
    dir_ = std::filesystem::temp_directory_path() / ("flood_bench." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    // The node gets the descriptor limit a process usually has (it inherits
    // this side's); this side needs one per socket.
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    rlimit node_lim = lim;
    node_lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, static_cast<rlim_t>(o_.node_nofile));
    if (::setrlimit(RLIMIT_NOFILE, &node_lim) != 0) throw_errno("setrlimit(RLIMIT_NOFILE)");
    start_node();
    lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, static_cast<rlim_t>(o_.connections) * 2 + 256);
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) throw_errno("setrlimit(RLIMIT_NOFILE)");
    sleep_unless_stopped(1s);
    row("flood.baseline_rss_mib", status_mib(pid(), "VmRSS"), "MiB");

    phase("handshake", [&](std::vector<int>& fds) { stalled_handshakes(fds); });
    phase("record", [&](std::vector<int>& fds) { stalled_records(fds); });

    LogTally all = LogTally::of(log_);
    row("flood.log_lines", static_cast<double>(all.lines()), "lines");
    row("flood.log_lines_max_per_s", static_cast<double>(all.max_per_second()), "lines");
    row("flood.accept_failures", static_cast<double>(all.events_of("accept failed")), "failures");
    for (const auto& [kind, ts] : all.times) {
      progress("log: " + kind + ": " + std::to_string(ts.size()) + " lines for " +
               std::to_string(all.events.at(kind)) + " events");
    }
    node_->kill();
    if (o_.keep_dir) {
      progress("kept " + dir_.string());
    } else {
      std::filesystem::remove_all(dir_);
    }
    return 0;
  }

 private:
  pid_t pid() const { return node_->pid(); }

  void row(const std::string& name, double value, const std::string& unit) {
    std::cout << to_json_line({name, value, unit, std::nullopt, 0}) << std::endl;
  }

  void start_node() {
    std::string key = (dir_ / "node.key").string();
    auto keygen = Subprocess::run(tool_path("vt-keygen"), {"-o", key}, "");
    if (!keygen || !keygen->status.success()) throw Error(Errc::kInternal, "vt-keygen failed");
    log_ = (dir_ / "node.log").string();
    SpawnOptions so;
    so.stdin_to = Redirect::pipe();  // stays open and empty
    so.stdout_to = Redirect::null();
    so.stderr_to = Redirect::file(log_);
    so.die_with_parent = true;
    node_.emplace(
        Subprocess::spawn(
            tool_path("vt-source"),
            {"--listen", "127.0.0.1:0", "--key", key, "--input", "-", "--log-format", "json"}, so)
            .value());
    auto until = Clock::now() + 10s;
    while (port_ == 0) {
      if (Clock::now() > until) throw Error(Errc::kTimeout, "vt-source did not start listening");
      std::istringstream in(read_text(log_));
      std::string line;
      while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || j["data"].value("msg", "") != "listening") continue;
        auto addr = j["data"].value("addr", "");
        port_ = static_cast<std::uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
        peer_ = PeerId::parse(j["data"].value("peer", "")).value();
      }
      std::this_thread::sleep_for(20ms);
    }
    progress("vt-source pid " + std::to_string(pid()) + " listening on port " +
             std::to_string(port_));
  }

  template <typename F>
  void phase(const std::string& name, F&& open) {
    LogTally before = LogTally::of(log_);
    reset_peak(pid());
    std::vector<int> fds;
    auto t0 = Clock::now();
    open(fds);
    progress(name + ": " + std::to_string(fds.size()) + " sockets open in " +
             std::to_string(std::chrono::duration<double>(Clock::now() - t0).count()) + " s");
    sleep_unless_stopped(500ms);
    int held = still_held(fds);
    sleep_unless_stopped(std::chrono::seconds(o_.hold_s));
    double peak = status_mib(pid(), "VmHWM");
    for (int fd : fds) ::close(fd);
    sleep_unless_stopped(std::chrono::seconds(o_.after_s));
    double after = status_mib(pid(), "VmRSS");
    LogTally now = LogTally::of(log_);
    row("flood." + name + "_peak_rss_mib", peak, "MiB");
    row("flood." + name + "_rss_after_mib", after, "MiB");
    row("flood." + name + "_held", held, "connections");
    row("flood." + name + "_refused",
        static_cast<double>(now.events_of("connection refused") -
                            before.events_of("connection refused")),
        "connections");
  }

  // HELLO, the header of the longest AUTH record, one byte of it; stall.
  void stalled_handshakes(std::vector<int>& fds) {
    Identity me = Identity::generate();
    for (int i = 0; i < o_.connections; ++i) {
      if (stop_requested()) throw Error(Errc::kCancelled, "stopped by a signal");
      int fd = dial(port_, 1000ms);
      if (fd < 0) continue;
      Handshake hs(me, true, {});
      send_all(fd, hs.hello() + be32(kMaxAuthSize + kRecordTagSize) + "x");
      fds.push_back(fd);
    }
  }

  // A whole handshake, then the header of a 1 MiB record and 1000 bytes of
  // it; stall. Until 20 dials in a row fail.
  void stalled_records(std::vector<int>& fds) {
    Identity me = Identity::generate();
    HandshakeOptions ho;
    ho.expected_peer = peer_;
    int failed_in_a_row = 0;
    for (int i = 0; i < o_.connections && failed_in_a_row < 20; ++i) {
      if (stop_requested()) throw Error(Errc::kCancelled, "stopped by a signal");
      int fd = dial(port_, 500ms);
      if (fd >= 0 && handshake(fd, me, ho)) {
        fds.push_back(fd);
        failed_in_a_row = 0;
      } else {
        if (fd >= 0) ::close(fd);
        ++failed_in_a_row;
      }
    }
  }

  static bool handshake(int fd, const Identity& me, const HandshakeOptions& ho) {
    Handshake hs(me, true, ho);
    std::string theirs, header, body;
    if (!send_all(fd, hs.hello()) || !recv_exact(fd, theirs, kHelloSize)) return false;
    if (!hs.on_hello(theirs)) return false;
    auto [tx, rx] = hs.ciphers();
    std::string rec = be32(static_cast<std::uint32_t>(hs.auth().size() + tx.overhead()));
    rec += hs.auth();
    tx.seal(rec, 4, rec.substr(0, 4));
    if (!send_all(fd, rec)) return false;
    if (!recv_exact(fd, header, 4)) return false;
    std::uint32_t len = 0;
    for (char c : header) len = (len << 8) | static_cast<unsigned char>(c);
    if (len > kMaxAuthSize + kRecordTagSize || !recv_exact(fd, body, len)) return false;
    return send_all(fd, be32(static_cast<std::uint32_t>(wire::kMaxFrameSize + kRecordTagSize)) +
                            std::string(1000, 'r'));
  }

  Options o_;
  std::filesystem::path dir_;
  std::string log_;
  std::optional<Subprocess> node_;
  std::uint16_t port_ = 0;
  PeerId peer_{PublicKey{}};
};

}  // namespace
}  // namespace peers::bench

int main(int argc, char** argv) {
  using namespace peers::bench;
  peers::ToolCli cli("flood_bench",
                     "Floods a real node with stalled strangers; reports its memory and logs.",
                     "flood_bench --connections 300 --after-s 3");
  Options o;
  auto& app = cli.app();
  app.add_option("--connections", o.connections, "Sockets per phase (1500)");
  app.add_option("--hold-s", o.hold_s, "Seconds each phase holds its sockets open (3)");
  app.add_option("--after-s", o.after_s, "Seconds after closing them before RSS is read (10)");
  app.add_option("--node-nofile", o.node_nofile,
                 "The node's RLIMIT_NOFILE soft limit (1024, as most processes get)");
  app.add_flag("--keep-dir", o.keep_dir, "Keep the node's key and log (the directory is printed)");
  return cli.run(argc, argv, [&] { return Flood(o).run(); });
}
