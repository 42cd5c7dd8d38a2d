// The benchmark harness: result rows as JSON lines, rate sampling, and the
// server peer a benchmark measures against.
//
// Every benchmark binary (bench/<group>_bench.cc) runs its client side in the
// main process and its server side either in a second process (the same
// binary re-executed with server arguments, so two cores work like two real
// peers) or on a thread of the same process. Workers advance a counter; the
// main thread samples it after a warm-up over a few fixed windows and keeps
// the median rate.
//
//   peers::bench::ServerPeer server = peers::bench::ServerPeer::start(
//       Layout::kProcess, {"--serve", "tcp-echo"}, [](int fd) { return serve_echo(fd); });
//   std::atomic<std::uint64_t> done{0};
//   ... workers increment done ...
//   double per_s = peers::bench::sample_rate(done, timing);
//   std::cout << to_json_line({"tcp.pingpong", per_s, "round_trips/s"}) << "\n";
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace peers::bench {

using Clock = std::chrono::steady_clock;

// One result. `baseline` names the row this one is compared against (none for
// baselines themselves); ratio = value / baseline_value, printed only when
// baseline_value was measured (> 0).
struct Row {
  std::string bench;
  double value = 0;
  std::string unit;
  std::optional<std::string> baseline;
  double baseline_value = 0;
};

// {"bench":N,"value":X,"unit":U,"baseline":B|null,"baseline_value":Y|null,"ratio":R|null}
std::string to_json_line(const Row& row);

struct Timing {
  std::chrono::milliseconds warmup{1000};
  std::chrono::milliseconds window{3000};
  int windows = 3;
};

// The middle value (the upper middle of an even count); values must not be empty.
double median(std::vector<double> values);

// Waits `warmup`, then measures how fast `counter` grows over `windows`
// consecutive windows of `window` each; returns the median, per second.
// Called from a thread that does no benchmark work itself.
double sample_rate(const std::atomic<std::uint64_t>& counter, const Timing& timing);

// Where the server side of a benchmark runs.
enum class Layout {
  kProcess,  // a child process: this binary re-executed with server arguments
  kThread,   // a thread of this process
};

// The server side of one benchmark. The server writes its port as a decimal
// line to the file descriptor it is given (stdout in the child process) and
// serves one client; it returns (or the child exits) when that client has
// disconnected. The destructor waits for it, killing a child that lingers, so
// no process is leaked.
class ServerPeer {
 public:
  // `serve(ready_fd)` runs the server in this process: called on a thread for
  // Layout::kThread; for Layout::kProcess the child runs `server_args` and
  // main() must route them to the same function with ready_fd = 1.
  // `cpu` >= 0 pins the server (process or thread) to that CPU.
  static ServerPeer start(Layout layout, const std::vector<std::string>& server_args,
                          std::function<int(int ready_fd)> serve, int cpu = -1);
  ServerPeer(ServerPeer&& other) noexcept;
  ServerPeer& operator=(ServerPeer&&) = delete;
  ~ServerPeer();

  std::uint16_t port() const { return port_; }
  // Waits (up to `grace`) for the server to end after its client left, then
  // kills a child that is still running. Throws peers::Error if the server
  // failed. Idempotent.
  void finish(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  ServerPeer() = default;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  struct ThreadState;
  std::shared_ptr<ThreadState> thread_;
};

// Pins the calling thread (and the threads and processes it starts later) to
// one CPU. Throws peers::Error if the CPU does not exist.
void pin_to_cpu(int cpu);

// Writes "port\n" to fd (the server's side of the ready handshake).
void announce_port(int fd, std::uint16_t port);

// The path of a tool ("vt-source") from this binary's runfiles (Bazel data
// deps), else from bazel-bin beside it. Throws peers::Error(kNotFound).
std::string tool_path(const std::string& tool);

// Throws peers::Error(kInternal) with `what` and errno's text.
[[noreturn]] void throw_errno(const std::string& what);

}  // namespace peers::bench
