#include "lib/kernel/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <ostream>
#include <system_error>
#include <thread>

extern char** environ;

namespace peers {
namespace {

using Clock = std::chrono::steady_clock;
using Duration = std::chrono::milliseconds;

constexpr std::size_t kReadChunk = 64 * 1024;

std::string errno_text(int err) { return std::system_category().message(err); }

Errc errno_code(int err) {
  if (err == ENOENT || err == ENOTDIR) return Errc::kNotFound;
  if (err == EACCES || err == EPERM) return Errc::kPermissionDenied;
  return Errc::kIo;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Moves fd above 0..2. posix_spawn's dup2(fd, 1) keeps close-on-exec set when
// fd is already 1 (possible if this process closed its stdout), and the child
// would lose the stream.
int above_stdio(int fd) {
  if (fd > STDERR_FILENO) return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  ::close(fd);
  return moved;
}

// write(2) that reports a closed pipe as EPIPE without letting SIGPIPE kill
// the test: the signal is blocked in this thread for the write, and the one
// the write raised is consumed before unblocking.
ssize_t write_without_sigpipe(int fd, const char* data, std::size_t size) {
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigset_t pending;
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  ssize_t n = ::write(fd, data, size);
  int err = errno;
  if (n < 0 && err == EPIPE && !was_pending) {
    timespec zero{};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return n;
}

Duration remaining(Clock::time_point deadline) {
  auto left = std::chrono::ceil<Duration>(deadline - Clock::now());
  return std::max(left, Duration(0));
}

std::vector<std::string> child_environment(const SpawnOptions& options) {
  std::vector<std::string> env;
  if (!options.clear_env) {
    for (char** e = environ; *e != nullptr; ++e) {
      std::string_view entry(*e);
      std::string name(entry.substr(0, entry.find('=')));
      bool replaced = options.env.count(name) > 0 ||
                      std::find(options.unset_env.begin(), options.unset_env.end(), name) !=
                          options.unset_env.end();
      if (!replaced) env.emplace_back(entry);
    }
  }
  for (const auto& [name, value] : options.env) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Where exec finds program: as given when it names a path, else the first
// executable file of that name in this process's PATH (as execvp does).
// Returns 0 and sets *path, or the errno exec would fail with.
int find_program(const std::string& program, std::string* path) {
  if (program.find('/') != std::string::npos) {
    *path = program;
    return 0;
  }
  const char* env_path = std::getenv("PATH");
  std::string dirs = env_path != nullptr ? env_path : "/bin:/usr/bin";
  int err = ENOENT;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = dirs.find(':', start);
    std::string dir = dirs.substr(start, end == std::string::npos ? end : end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) {
      *path = candidate;
      return 0;
    }
    if (errno == EACCES) err = EACCES;
    if (end == std::string::npos) return err;
    start = end + 1;
  }
}

// What the child does with one of its standard streams between fork and
// exec.
struct StdioAction {
  int pipe_end = -1;           // dup2 this onto the stream, or
  const char* path = nullptr;  // open this there (nullptr: leave the stream as is)
  int flags = 0;
};

// The child between fork and exec: only async-signal-safe calls, since other
// threads of the parent may have held locks at the fork. On failure, writes
// errno to report_fd and exits 127.
[[noreturn]] void exec_child(const StdioAction (&stdio)[3], const char* cwd, const char* path,
                             char* const* argv, char* const* envp, bool die_with_parent,
                             pid_t parent, int report_fd) {
  auto fail = [&](int err) {
    ssize_t n;
    do {
      n = ::write(report_fd, &err, sizeof err);
    } while (n < 0 && errno == EINTR);
    ::_exit(127);
  };
  if (die_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
  }
  // The child starts clean whatever the parent did to its own signals.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int target = 0; target < 3; ++target) {
    const StdioAction& a = stdio[target];
    if (a.pipe_end >= 0) {
      // Pipe ends lie above 0..2, so this never clears its own close-on-exec.
      if (::dup2(a.pipe_end, target) < 0) fail(errno);
    } else if (a.path != nullptr) {
      int fd = ::open(a.path, a.flags, 0644);
      if (fd < 0) fail(errno);
      if (fd != target) {
        if (::dup2(fd, target) < 0) fail(errno);
        ::close(fd);
      }
    }
  }
  if (cwd != nullptr && ::chdir(cwd) != 0) fail(errno);
  ::execve(path, argv, envp);
  fail(errno);
  ::_exit(127);  // not reached
}

}  // namespace

ExitStatus ExitStatus::from_wait_status(int status) {
  if (WIFSIGNALED(status)) return killed(WTERMSIG(status));
  return exited(WEXITSTATUS(status));
}

std::string ExitStatus::to_string() const {
  if (!signaled) return "exit code " + std::to_string(value);
  const char* abbrev = sigabbrev_np(value);
  return "killed by signal " + std::to_string(value) +
         (abbrev != nullptr ? " (SIG" + std::string(abbrev) + ")" : "");
}

void PrintTo(const ExitStatus& status, std::ostream* out) { *out << status.to_string(); }

Result<Subprocess> Subprocess::spawn(const std::string& program,
                                     const std::vector<std::string>& args, SpawnOptions options) {
  Subprocess child;
  child.name_ = program.substr(program.find_last_of('/') + 1);
  std::string path = program;
  if (!options.cwd.empty() && path.find('/') != std::string::npos && path[0] != '/') {
    // The child changes directory before exec; keep a relative path
    // meaning what it means here.
    char here[PATH_MAX];
    if (::getcwd(here, sizeof here) != nullptr) path = std::string(here) + "/" + path;
  }

  std::string exe;
  if (int err = find_program(path, &exe); err != 0) {
    return Error(errno_code(err), "cannot start '" + program + "': " + errno_text(err));
  }

  int child_ends[3] = {-1, -1, -1};
  auto close_child_ends = [&] {
    for (int& fd : child_ends) close_fd(fd);
  };
  StdioAction stdio[3];
  const Redirect* redirects[3] = {&options.stdin_to, &options.stdout_to, &options.stderr_to};
  for (int target = 0; target < 3; ++target) {
    const Redirect& r = *redirects[target];
    bool is_input = target == STDIN_FILENO;
    Channel* channel = target == STDOUT_FILENO   ? &child.out_
                       : target == STDERR_FILENO ? &child.err_
                                                 : nullptr;
    if (channel != nullptr && r.kind != Redirect::Kind::kPipe) channel->eof = true;
    switch (r.kind) {
      case Redirect::Kind::kPipe: {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
          int err = errno;
          close_child_ends();
          return Error(Errc::kIo, "cannot make a pipe for '" + program + "': " + errno_text(err));
        }
        int parent_end = is_input ? fds[1] : fds[0];
        child_ends[target] = above_stdio(is_input ? fds[0] : fds[1]);
        set_nonblocking(parent_end);
        (is_input ? child.in_fd_ : channel->fd) = parent_end;
        stdio[target].pipe_end = child_ends[target];
        break;
      }
      case Redirect::Kind::kNull:
        stdio[target].path = "/dev/null";
        stdio[target].flags = is_input ? O_RDONLY : O_WRONLY;
        break;
      case Redirect::Kind::kFile:
        stdio[target].path = r.path.c_str();
        stdio[target].flags =
            is_input ? O_RDONLY : (O_WRONLY | O_CREAT | (r.append ? O_APPEND : O_TRUNC));
        break;
      case Redirect::Kind::kInherit:
        break;
    }
  }

  std::vector<std::string> argv_strings = {program};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv = pointers(argv_strings);
  std::vector<std::string> env_strings = child_environment(options);
  std::vector<char*> envp = pointers(env_strings);

  // The child reports a failure before exec (its errno) on this pipe; exec
  // closes it, so end of file means the program runs.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    int err = errno;
    close_child_ends();
    return Error(Errc::kIo, "cannot make a pipe for '" + program + "': " + errno_text(err));
  }
  report[1] = above_stdio(report[1]);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    exec_child(stdio, options.cwd.empty() ? nullptr : options.cwd.c_str(), exe.c_str(), argv.data(),
               envp.data(), options.die_with_parent, parent, report[1]);
  }
  int fork_err = errno;
  close_fd(report[1]);
  close_child_ends();
  if (pid < 0) {
    close_fd(report[0]);
    return Error(errno_code(fork_err), "cannot start '" + program + "': " + errno_text(fork_err));
  }
  int child_err = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_err, sizeof child_err);
  } while (n < 0 && errno == EINTR);
  close_fd(report[0]);
  if (n > 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return Error(errno_code(child_err), "cannot start '" + program + "': " + errno_text(child_err));
  }
  child.pid_ = pid;
  return child;
}

Result<Output> Subprocess::run(const std::string& program, const std::vector<std::string>& args,
                               std::string_view input, SpawnOptions options, Duration timeout) {
  Result<Subprocess> child = spawn(program, args, std::move(options));
  if (!child) return child.error();
  return child->communicate(input, timeout);
}

Subprocess::Subprocess(Subprocess&& other) noexcept { *this = std::move(other); }

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    release();
    name_ = std::move(other.name_);
    pid_ = std::exchange(other.pid_, -1);
    reaped_ = other.reaped_;
    status_ = other.status_;
    in_fd_ = std::exchange(other.in_fd_, -1);
    out_ = std::exchange(other.out_, Channel{});
    err_ = std::exchange(other.err_, Channel{});
  }
  return *this;
}

Subprocess::~Subprocess() { release(); }

void Subprocess::kill() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    status_ = ExitStatus::from_wait_status(status);
  }
}

void Subprocess::release() {
  kill();
  pid_ = -1;
  close_fd(in_fd_);
  close_fd(out_.fd);
  close_fd(err_.fd);
}

const char* Subprocess::stream_name(Stream stream) const {
  return stream == Stream::kStdout ? "stdout" : "stderr";
}

Error Subprocess::timeout_error(const std::string& what, Duration timeout) const {
  return Error(Errc::kTimeout, "'" + name_ + "' (pid " + std::to_string(pid_) + "): no " + what +
                                   " within " + std::to_string(timeout.count()) + " ms");
}

bool Subprocess::try_reap() {
  if (reaped_) return true;
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = ExitStatus::from_wait_status(status);
  } else if (r < 0 && errno == ECHILD) {
    // Someone else reaped it (SIGCHLD ignored?): its status is lost.
    reaped_ = true;
    status_ = ExitStatus::exited(-1);
  }
  return reaped_;
}

bool Subprocess::running() { return !try_reap(); }

void Subprocess::read_some(Channel& channel) {
  char buffer[kReadChunk];
  ssize_t n = ::read(channel.fd, buffer, sizeof buffer);
  if (n > 0) {
    channel.buffer.append(buffer, static_cast<std::size_t>(n));
  } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    channel.eof = true;
    close_fd(channel.fd);
  }
}

void Subprocess::drain() {
  for (Channel* channel : {&out_, &err_}) {
    // Bounded, in case something still holding the pipe keeps writing.
    for (int i = 0; i < 64 && channel->fd >= 0; ++i) {
      std::size_t before = channel->buffer.size();
      read_some(*channel);
      if (channel->fd >= 0 && channel->buffer.size() == before) break;  // EAGAIN
    }
  }
}

bool Subprocess::poll_io(Clock::time_point deadline, bool want_write) {
  pollfd fds[3];
  nfds_t n = 0;
  int out_index = -1, err_index = -1, in_index = -1;
  if (out_.fd >= 0) {
    out_index = static_cast<int>(n);
    fds[n++] = {out_.fd, POLLIN, 0};
  }
  if (err_.fd >= 0) {
    err_index = static_cast<int>(n);
    fds[n++] = {err_.fd, POLLIN, 0};
  }
  if (want_write && in_fd_ >= 0) {
    in_index = static_cast<int>(n);
    fds[n++] = {in_fd_, POLLOUT, 0};
  }
  Duration left = remaining(deadline);
  if (n == 0) {
    std::this_thread::sleep_for(left);
    return false;
  }
  int timeout_ms = static_cast<int>(std::min<Duration::rep>(left.count(), INT_MAX));
  if (::poll(fds, n, timeout_ms) <= 0) return false;  // timeout or EINTR
  if (out_index >= 0 && fds[out_index].revents != 0) read_some(out_);
  if (err_index >= 0 && fds[err_index].revents != 0) read_some(err_);
  // POLLERR: the reader is gone; the write that follows reports EPIPE.
  return in_index >= 0 && (fds[in_index].revents & (POLLOUT | POLLERR | POLLHUP)) != 0;
}

Result<void> Subprocess::write_stdin(std::string_view data, Duration timeout) {
  if (in_fd_ < 0)
    return Error(Errc::kInvalidArgument, "stdin of '" + name_ + "' is not an open pipe");
  auto deadline = Clock::now() + timeout;
  while (!data.empty()) {
    if (Clock::now() >= deadline) return timeout_error("room on stdin", timeout);
    if (!poll_io(deadline, true)) continue;
    ssize_t n = write_without_sigpipe(in_fd_, data.data(), std::min(data.size(), kReadChunk));
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EPIPE) {
      return Error(Errc::kConnectionLost, "'" + name_ + "' closed its stdin");
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return Error(Errc::kIo, "cannot write to stdin of '" + name_ + "': " + errno_text(errno));
    }
  }
  return {};
}

void Subprocess::close_stdin() { close_fd(in_fd_); }

int Subprocess::release_stdin() { return std::exchange(in_fd_, -1); }

int Subprocess::release_output(Stream stream) {
  Channel& ch = channel(stream);
  ch.eof = true;
  return std::exchange(ch.fd, -1);
}

void Subprocess::close_output(Stream stream) {
  Channel& ch = channel(stream);
  close_fd(ch.fd);
  ch.eof = true;
}

Result<std::string> Subprocess::read_until(Stream stream, std::string_view needle,
                                           Duration timeout) {
  Channel& ch = channel(stream);
  auto deadline = Clock::now() + timeout;
  std::size_t searched = 0;
  for (;;) {
    auto pos = ch.buffer.find(needle, searched);
    if (pos != std::string::npos) {
      std::string text = ch.buffer.substr(0, pos + needle.size());
      ch.buffer.erase(0, pos + needle.size());
      return text;
    }
    // Text already searched cannot hold the needle's start, except its tail.
    searched = ch.buffer.size() >= needle.size() ? ch.buffer.size() - needle.size() + 1 : 0;
    if (ch.fd < 0) {
      return Error(Errc::kConnectionLost, std::string(stream_name(stream)) + " of '" + name_ +
                                              "' ended before '" + std::string(needle) + "'");
    }
    if (Clock::now() >= deadline) {
      return timeout_error("'" + std::string(needle) + "' on " + stream_name(stream), timeout);
    }
    poll_io(deadline, false);
  }
}

Result<std::string> Subprocess::read_line(Stream stream, Duration timeout) {
  Result<std::string> line = read_until(stream, "\n", timeout);
  if (line) {
    line->pop_back();
    return line;
  }
  Channel& ch = channel(stream);
  if (line.error().code() == Errc::kTimeout) {
    return timeout_error(std::string("line on ") + stream_name(stream), timeout);
  }
  if (line.error().code() == Errc::kConnectionLost) {
    if (!ch.buffer.empty()) return take(stream);
    return Error(Errc::kConnectionLost,
                 std::string(stream_name(stream)) + " of '" + name_ + "' ended");
  }
  return line;
}

Result<std::string> Subprocess::read_to_end(Stream stream, Duration timeout) {
  Channel& ch = channel(stream);
  auto deadline = Clock::now() + timeout;
  while (ch.fd >= 0) {
    if (Clock::now() >= deadline) {
      return timeout_error(std::string("end of ") + stream_name(stream), timeout);
    }
    poll_io(deadline, false);
  }
  return take(stream);
}

std::string Subprocess::take(Stream stream) { return std::exchange(channel(stream).buffer, {}); }

Result<ExitStatus> Subprocess::wait(Duration timeout) {
  if (pid_ <= 0) return Error(Errc::kInvalidArgument, "no process to wait for");
  auto deadline = Clock::now() + timeout;
  // Without a pidfd there is nothing to poll for the exit itself: check
  // often at first (most children here exit quickly), then every 20 ms.
  Duration pause(1);
  for (;;) {
    if (try_reap()) {
      drain();
      return status_;
    }
    auto now = Clock::now();
    if (now >= deadline) return timeout_error("exit", timeout);
    poll_io(std::min(now + pause, deadline), false);
    pause = std::min(pause * 2, Duration(20));
  }
}

Result<Output> Subprocess::communicate(std::string_view input, Duration timeout) {
  auto deadline = Clock::now() + timeout;
  if (in_fd_ >= 0) {
    if (!input.empty()) {
      Result<void> written = write_stdin(input, timeout);
      // A child that does not read all of its input is not an error here.
      if (!written && written.error().code() != Errc::kConnectionLost) return written.error();
    }
    close_stdin();
  } else if (!input.empty()) {
    return Error(Errc::kInvalidArgument, "stdin of '" + name_ + "' is not an open pipe");
  }
  while (out_.fd >= 0 || err_.fd >= 0) {
    if (Clock::now() >= deadline) return timeout_error("end of output", timeout);
    poll_io(deadline, false);
  }
  Result<ExitStatus> status = wait(remaining(deadline));
  if (!status) return status.error();
  return Output{*status, take(Stream::kStdout), take(Stream::kStderr)};
}

Result<void> Subprocess::signal(int sig) {
  if (pid_ <= 0 || reaped_) {
    return Error(Errc::kInvalidArgument,
                 "'" + name_ + "' has already exited; its pid may belong to another process");
  }
  if (::kill(pid_, sig) != 0) {
    return Error(Errc::kIo, "cannot signal '" + name_ + "': " + errno_text(errno));
  }
  return {};
}

}  // namespace peers
