// Subprocess: runs a program with its stdin, stdout and stderr connected to
// pipes, files or /dev/null, and never leaks it.
//
// Integration tests start the real binaries (several at once: a source, a
// relay, sinks) and talk to them through their standard streams; benchmarks
// start whole overlays of them. Everything that waits takes a deadline and
// returns a kTimeout error instead of hanging. A Subprocess that is destroyed
// while its child still runs kills the child (SIGKILL) and reaps it, so a
// failing test (an ASSERT that returns early, an exception) leaves no process
// behind; with SpawnOptions::die_with_parent the child is also killed when
// this process dies without cleaning up (a benchmark killed by its user).
//
// Output pipes are drained into memory whenever the Subprocess waits for
// anything, so a child that writes a lot on one stream never blocks while the
// caller waits for the other stream or for the exit. A caller that wants to
// read or write a pipe itself (on a thread of its own, at its own pace) takes
// its descriptor with release_stdin() / release_output().
//
// Signals go to the child's own pid only (kill(pid, sig)), and only while the
// child has not been reaped, so a recycled pid can never be hit. Processes the
// child starts itself are its business: run wrappers with `sh -c 'exec prog'`
// so the program itself is the child.
//
// Not thread-safe: use one Subprocess from one thread at a time (different
// Subprocess objects are independent).
//
//   Result<Output> out = peers::Subprocess::run("vt-keygen", {"show", "-"}, key_text);
//   ASSERT_TRUE(out.ok()) << out.error().what();
//   EXPECT_EQ(out->status, ExitStatus::exited(0));
//
//   Result<Subprocess> relay = Subprocess::spawn(relay_path, {"--listen", "127.0.0.1:0"});
//   Result<std::string> line = relay->read_until(Stream::kStderr, "listening on", 10s);
//   relay->signal(SIGINT).value();
//   EXPECT_EQ(relay->wait().value(), ExitStatus::exited(0));
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lib/kernel/error.h"

namespace peers {

// How long a Subprocess waits unless told otherwise: generous, so loaded CI
// machines do not fail tests, yet bounded.
inline constexpr std::chrono::milliseconds kSubprocessTimeout = std::chrono::seconds(30);

// Where one standard stream of the child goes.
struct Redirect {
  enum class Kind { kPipe, kNull, kInherit, kFile };

  // A pipe to this process (the default for all three streams).
  static Redirect pipe() { return {Kind::kPipe, {}, false}; }
  // /dev/null.
  static Redirect null() { return {Kind::kNull, {}, false}; }
  // The same stream as this process (e.g. a test's log).
  static Redirect inherit() { return {Kind::kInherit, {}, false}; }
  // A file: stdin reads it; stdout/stderr create it (mode 0644) and truncate
  // it, or append to it.
  static Redirect file(std::string path, bool append = false) {
    return {Kind::kFile, std::move(path), append};
  }

  Kind kind = Kind::kPipe;
  std::string path;
  bool append = false;
};

struct SpawnOptions {
  // Variables set in the child's environment (replacing inherited ones).
  std::map<std::string, std::string> env;
  // Variables removed from the child's environment.
  std::vector<std::string> unset_env;
  // Start from an empty environment instead of this process's.
  bool clear_env = false;
  // Working directory of the child; empty: this process's.
  std::string cwd;
  Redirect stdin_to = Redirect::pipe();
  Redirect stdout_to = Redirect::pipe();
  Redirect stderr_to = Redirect::pipe();
  // The child gets SIGKILL when the thread that spawned it ends, also when
  // this process is killed (PR_SET_PDEATHSIG). Spawn from a thread that lives
  // as long as the child should (the main thread).
  bool die_with_parent = false;
};

// How a child ended: an exit code, or the signal that killed it.
struct ExitStatus {
  static ExitStatus exited(int code) { return {false, code}; }
  static ExitStatus killed(int signal) { return {true, signal}; }
  // From waitpid()'s status word.
  static ExitStatus from_wait_status(int status);

  bool signaled = false;
  // The exit code, or the signal number when signaled.
  int value = 0;

  bool success() const { return !signaled && value == 0; }
  // "exit code 2", "killed by signal 9 (SIGKILL)".
  std::string to_string() const;
  friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};

// Lets gtest print an ExitStatus in failure messages.
void PrintTo(const ExitStatus& status, std::ostream* out);

// Everything a finished child left: its status and all of its piped output.
struct Output {
  ExitStatus status;
  std::string out;
  std::string err;
};

enum class Stream { kStdout, kStderr };

class Subprocess {
 public:
  // Starts program with args (argv[1..]; argv[0] is program). A program name
  // without '/' is looked up in PATH. The child starts with all signals at
  // their default action and none blocked. Fails (kNotFound / kIo /
  // kPermissionDenied) when the program cannot be started, with its reason.
  static Result<Subprocess> spawn(const std::string& program, const std::vector<std::string>& args,
                                  SpawnOptions options = {});

  // spawn(), then communicate(input): runs program to completion.
  static Result<Output> run(const std::string& program, const std::vector<std::string>& args,
                            std::string_view input = {}, SpawnOptions options = {},
                            std::chrono::milliseconds timeout = kSubprocessTimeout);

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  // Kills (SIGKILL) and reaps the child if it still runs; closes the pipes.
  ~Subprocess();

  // Kills (SIGKILL) and reaps the child if it still runs, as the destructor
  // does; the pipes stay open (what is buffered or left in them can still be
  // read). Idempotent.
  void kill();

  pid_t pid() const { return pid_; }
  // The program name, for messages.
  const std::string& name() const { return name_; }

  // True until the child has exited (reaps it when it has).
  bool running();

  // Writes all of data to the child's stdin (which must be a pipe), reading
  // its output meanwhile. Fails with kConnectionLost if the child closed its
  // stdin, with kTimeout after timeout.
  Result<void> write_stdin(std::string_view data,
                           std::chrono::milliseconds timeout = kSubprocessTimeout);
  // Closes the child's stdin, so it sees end of file. Idempotent.
  void close_stdin();
  // Hands this end of a piped stdin to the caller, who then owns it (writes
  // and closes it); the descriptor is non-blocking and close-on-exec.
  // Returns -1 when stdin is not an open pipe.
  int release_stdin();
  // Hands this end of a piped stdout or stderr to the caller, who then owns
  // it (reads and closes it; non-blocking, close-on-exec). What was read
  // before stays buffered for take(). Returns -1 when it is not an open pipe.
  int release_output(Stream stream);
  // Closes this end of a piped stdout or stderr, as a reader that goes away
  // does: the child's next write there fails with EPIPE (or SIGPIPE kills
  // it). Output already read stays buffered for take(). Idempotent.
  void close_output(Stream stream);

  // The next line of the stream, without its '\n'. At end of stream, returns
  // a last unterminated line if there is one, else fails with kConnectionLost.
  Result<std::string> read_line(Stream stream,
                                std::chrono::milliseconds timeout = kSubprocessTimeout);
  // Everything up to and including the first occurrence of needle.
  // kConnectionLost if the stream ends first (the text read stays buffered).
  Result<std::string> read_until(Stream stream, std::string_view needle,
                                 std::chrono::milliseconds timeout = kSubprocessTimeout);
  // Everything until end of stream (the child, and any child of it holding
  // the pipe, closed it).
  Result<std::string> read_to_end(Stream stream,
                                  std::chrono::milliseconds timeout = kSubprocessTimeout);
  // What has been read from the stream so far and not consumed, without
  // waiting; consumes it.
  std::string take(Stream stream);

  // Waits for the child to exit and returns how. Output that arrives
  // meanwhile is buffered for take()/read_*(). Fails with kTimeout (the
  // child keeps running) after timeout. Once the child was reaped, returns
  // the same status again.
  Result<ExitStatus> wait(std::chrono::milliseconds timeout = kSubprocessTimeout);

  // Writes input to stdin (if it is a pipe) and closes it, reads stdout and
  // stderr (those that are pipes) to end of stream, waits for the exit.
  // Returns the status and all output not consumed before.
  Result<Output> communicate(std::string_view input = {},
                             std::chrono::milliseconds timeout = kSubprocessTimeout);

  // Sends sig to the child. Fails (kInvalidArgument) once the child was
  // reaped: its pid may belong to another process by then.
  Result<void> signal(int sig);

 private:
  struct Channel {
    int fd = -1;
    std::string buffer;
    bool eof = false;
  };

  Subprocess() = default;
  Channel& channel(Stream stream) { return stream == Stream::kStdout ? out_ : err_; }
  const char* stream_name(Stream stream) const;
  // Reaps the child if it has exited; returns true once it is reaped.
  bool try_reap();
  // Waits until an output pipe has data (and reads it), stdin is writable
  // (when want_write), or deadline. Returns true if stdin is writable.
  bool poll_io(std::chrono::steady_clock::time_point deadline, bool want_write);
  // Reads what the output pipes hold right now, without waiting.
  void drain();
  void read_some(Channel& channel);
  Error timeout_error(const std::string& what, std::chrono::milliseconds timeout) const;
  void release();

  std::string name_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  ExitStatus status_;
  int in_fd_ = -1;
  Channel out_;
  Channel err_;
};

}  // namespace peers
