#include "bench/harness.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "lib/kernel/error.h"

extern char** environ;

namespace peers::bench {

namespace {

double rounded(double x, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(x * scale) / scale;
}

std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw_errno("cannot find this program (/proc/self/exe)");
  return std::string(buf, static_cast<std::size_t>(n));
}

// Reads the "port\n" line the server announces; a server that dies or hangs
// before announcing fails the benchmark instead of hanging it.
std::uint16_t read_port(int fd, std::chrono::milliseconds timeout) {
  std::string line;
  auto deadline = Clock::now() + timeout;
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) throw Error(Errc::kTimeout, "server did not announce its port");
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno("poll");
    if (r == 0) continue;
    char buf[64];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("reading the server's port");
    if (n == 0) throw Error(Errc::kInternal, "server exited before announcing its port");
    line.append(buf, static_cast<std::size_t>(n));
  }
  unsigned long port = std::strtoul(line.c_str(), nullptr, 10);
  if (port == 0 || port > 65535) throw Error(Errc::kInternal, "server announced a bad port");
  return static_cast<std::uint16_t>(port);
}

}  // namespace

// A tool from this binary's runfiles (Bazel data deps), else from bazel-bin.
std::string tool_path(const std::string& tool) {
  std::string rel = "cmd/" + tool + "/" + tool;
  std::vector<std::string> tries;
  if (const char* dir = std::getenv("RUNFILES_DIR"))
    tries.push_back(std::string(dir) + "/vidtorrent/" + rel);
  std::string exe = self_exe();
  tries.push_back(exe + ".runfiles/vidtorrent/" + rel);
  // bazel-out/<config>/bin/bench/overlay_bench -> bazel-out/<config>/bin/cmd/...
  auto bin = std::filesystem::path(exe).parent_path().parent_path();
  tries.push_back((bin / rel).string());
  for (const auto& p : tries) {
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  throw Error(Errc::kNotFound, "cannot find " + tool + " (looked in " + tries.front() + ", ...)");
}

void throw_errno(const std::string& what) {
  throw Error(Errc::kInternal, what + ": " + std::strerror(errno));
}

std::string to_json_line(const Row& row) {
  using nlohmann::ordered_json;
  // Without a measured baseline (a baseline row, or a run that skipped it)
  // there is no ratio.
  bool compared = row.baseline && row.baseline_value > 0;
  ordered_json j;
  j["bench"] = row.bench;
  j["value"] = rounded(row.value, 1);
  j["unit"] = row.unit;
  j["baseline"] = row.baseline ? ordered_json(*row.baseline) : ordered_json(nullptr);
  j["baseline_value"] = compared ? ordered_json(rounded(row.baseline_value, 1)) : nullptr;
  j["ratio"] = compared ? ordered_json(rounded(row.value / row.baseline_value, 3)) : nullptr;
  return j.dump();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double sample_rate(const std::atomic<std::uint64_t>& counter, const Timing& timing) {
  std::this_thread::sleep_for(timing.warmup);
  std::vector<double> rates;
  std::uint64_t c0 = counter.load();
  auto t0 = Clock::now();
  for (int i = 0; i < std::max(1, timing.windows); ++i) {
    std::this_thread::sleep_for(timing.window);
    std::uint64_t c1 = counter.load();
    auto t1 = Clock::now();
    double seconds = std::chrono::duration<double>(t1 - t0).count();
    rates.push_back(static_cast<double>(c1 - c0) / seconds);
    c0 = c1;
    t0 = t1;
  }
  return median(std::move(rates));
}

void announce_port(int fd, std::uint16_t port) {
  std::string line = std::to_string(port) + "\n";
  if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    throw_errno("announcing the port");
  }
}

// ---------------------------------------------------------------- ServerPeer

struct ServerPeer::ThreadState {
  std::thread thread;
  int exit_code = 0;
  std::string failure;
};

void pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0) {
    throw_errno("cannot pin to CPU " + std::to_string(cpu));
  }
}

ServerPeer ServerPeer::start(Layout layout, const std::vector<std::string>& server_args,
                             std::function<int(int ready_fd)> serve, int cpu) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe");
  ServerPeer peer;
  if (layout == Layout::kThread) {
    auto state = std::make_shared<ThreadState>();
    int ready = fds[1];
    state->thread = std::thread([state, ready, cpu, serve = std::move(serve)] {
      try {
        if (cpu >= 0) pin_to_cpu(cpu);
        state->exit_code = serve(ready);
      } catch (const std::exception& e) {
        state->exit_code = 1;
        state->failure = e.what();
      }
      ::close(ready);
    });
    peer.thread_ = state;
  } else {
    std::string exe = self_exe();
    std::vector<std::string> args{exe};
    args.insert(args.end(), server_args.begin(), server_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    // The child inherits the affinity of the thread that spawns it.
    cpu_set_t mine;
    bool repin = cpu >= 0 && ::sched_getaffinity(0, sizeof mine, &mine) == 0;
    if (repin) pin_to_cpu(cpu);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (repin) ::sched_setaffinity(0, sizeof mine, &mine);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      errno = rc;
      throw_errno("cannot start the server process");
    }
    peer.pid_ = pid;
  }
  try {
    peer.port_ = read_port(fds[0], std::chrono::seconds(20));
  } catch (...) {
    ::close(fds[0]);
    throw;  // the destructor of `peer` reaps the server
  }
  ::close(fds[0]);
  return peer;
}

ServerPeer::ServerPeer(ServerPeer&& other) noexcept
    : port_(other.port_), pid_(other.pid_), thread_(std::move(other.thread_)) {
  other.pid_ = -1;
}

ServerPeer::~ServerPeer() {
  try {
    finish();
  } catch (const std::exception&) {
    // Reaped; the failure was reported where finish() was called, if it was.
  }
}

void ServerPeer::finish(std::chrono::milliseconds grace) {
  if (thread_) {
    auto state = std::move(thread_);
    // A thread cannot be killed: it ends when its client is gone.
    if (state->thread.joinable()) state->thread.join();
    if (state->exit_code != 0) {
      throw Error(Errc::kInternal,
                  "server failed: " + (state->failure.empty()
                                           ? "exit code " + std::to_string(state->exit_code)
                                           : state->failure));
    }
    return;
  }
  if (pid_ <= 0) return;
  pid_t pid = pid_;
  int status = 0;
  auto deadline = Clock::now() + grace;
  pid_t r = 0;
  while ((r = ::waitpid(pid, &status, WNOHANG)) == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  bool killed = false;
  if (r == 0) {
    ::kill(pid, SIGKILL);
    killed = true;
    while ((r = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
  if (killed) throw Error(Errc::kTimeout, "server process did not exit after its client left");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error(Errc::kInternal, "server process failed (status " + std::to_string(status) + ")");
  }
}

}  // namespace peers::bench
