#include "lib/kernel/subprocess.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

namespace peers {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const std::string kSh = "/bin/sh";

Output run_sh(const std::string& script, std::string_view input = {}, SpawnOptions options = {}) {
  Result<Output> out = Subprocess::run(kSh, {"-c", script}, input, std::move(options));
  EXPECT_TRUE(out.ok()) << out.error().what();
  return out.ok() ? *out : Output{};
}

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// True when pid is no child of this process any more (it was reaped).
bool reaped(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) < 0 && errno == ECHILD;
}

TEST(Subprocess, RunsAProgramAndCapturesItsOutput) {
  Output out = run_sh("echo out; echo err >&2; exit 3");
  EXPECT_EQ(out.status, ExitStatus::exited(3));
  EXPECT_EQ(out.out, "out\n");
  EXPECT_EQ(out.err, "err\n");
}

TEST(Subprocess, FindsProgramsInPath) {
  Result<Output> out = Subprocess::run("echo", {"a b", "c"});
  ASSERT_TRUE(out.ok()) << out.error().what();
  EXPECT_TRUE(out->status.success());
  EXPECT_EQ(out->out, "a b c\n");
}

TEST(Subprocess, PassesInputThroughStdin) {
  Output out = run_sh("cat", "line one\nline two\n");
  EXPECT_EQ(out.out, "line one\nline two\n");
}

TEST(Subprocess, MovesMegabytesBothWaysWithoutDeadlock) {
  // cat writes back while the test is still writing: both pipes fill up
  // unless the writer also reads.
  std::string big(4 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 1000) big[i] = '\n';
  Output out = run_sh("cat; cat /dev/null >&2", big);
  EXPECT_EQ(out.out.size(), big.size());
  EXPECT_EQ(out.out, big);
}

TEST(Subprocess, SetsAndUnsetsEnvironmentVariables) {
  SpawnOptions options;
  options.env["PEERS_TEST_A"] = "alpha";
  options.unset_env = {"PEERS_TEST_B"};
  ::setenv("PEERS_TEST_B", "beta", 1);
  Output out = run_sh("echo \"$PEERS_TEST_A/${PEERS_TEST_B-unset}\"", {}, options);
  EXPECT_EQ(out.out, "alpha/unset\n");

  SpawnOptions empty;
  empty.clear_env = true;
  empty.env["ONLY"] = "1";
  Result<Output> env = Subprocess::run("/usr/bin/env", {}, {}, empty);
  ASSERT_TRUE(env.ok()) << env.error().what();
  EXPECT_EQ(env->out, "ONLY=1\n");
}

TEST(Subprocess, RunsInTheGivenDirectory) {
  SpawnOptions options;
  options.cwd = "/";
  EXPECT_EQ(run_sh("pwd", {}, options).out, "/\n");
}

TEST(Subprocess, RedirectsToFilesAndDevNull) {
  std::string in_path = temp_path("subprocess_in.txt");
  std::string out_path = temp_path("subprocess_out.txt");
  std::ofstream(in_path) << "from a file\n";
  SpawnOptions options;
  options.stdin_to = Redirect::file(in_path);
  options.stdout_to = Redirect::file(out_path);
  options.stderr_to = Redirect::null();
  Output out = run_sh("cat; echo hidden >&2", {}, options);
  EXPECT_TRUE(out.status.success());
  EXPECT_EQ(out.out, "");
  EXPECT_EQ(out.err, "");
  EXPECT_EQ(read_file(out_path), "from a file\n");

  options.stdout_to = Redirect::file(out_path, /*append=*/true);
  run_sh("echo more", {}, options);
  EXPECT_EQ(read_file(out_path), "from a file\nmore\n");
}

TEST(Subprocess, ReadsLinesIncrementally) {
  Result<Subprocess> child =
      Subprocess::spawn(kSh, {"-c", "echo ready; read x; echo got $x; printf tail"});
  ASSERT_TRUE(child.ok()) << child.error().what();
  EXPECT_EQ(child->read_line(Stream::kStdout).value(), "ready");
  ASSERT_TRUE(child->write_stdin("ping\n").ok());
  EXPECT_EQ(child->read_until(Stream::kStdout, "got ").value(), "got ");
  EXPECT_EQ(child->read_line(Stream::kStdout).value(), "ping");
  EXPECT_EQ(child->read_line(Stream::kStdout).value(), "tail");  // unterminated last line
  Result<std::string> after = child->read_line(Stream::kStdout);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code(), Errc::kConnectionLost);
  EXPECT_EQ(child->wait().value(), ExitStatus::exited(0));
}

TEST(Subprocess, ReadUntilFailsWhenTheStreamEndsFirst) {
  Result<Subprocess> child = Subprocess::spawn(kSh, {"-c", "echo no port here >&2"});
  ASSERT_TRUE(child.ok());
  Result<std::string> text = child->read_until(Stream::kStderr, "listening on");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code(), Errc::kConnectionLost);
  EXPECT_EQ(child->take(Stream::kStderr), "no port here\n");
}

TEST(Subprocess, ReadToEndCollectsEverything) {
  Result<Subprocess> child = Subprocess::spawn(kSh, {"-c", "echo a; sleep 0.1; echo b"});
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(child->read_to_end(Stream::kStdout).value(), "a\nb\n");
}

TEST(Subprocess, ReadTimesOutInsteadOfHanging) {
  Result<Subprocess> child = Subprocess::spawn("sleep", {"30"});
  ASSERT_TRUE(child.ok());
  auto start = Clock::now();
  Result<std::string> line = child->read_line(Stream::kStdout, milliseconds(100));
  ASSERT_FALSE(line.ok());
  EXPECT_EQ(line.error().code(), Errc::kTimeout);
  EXPECT_EQ(line.error().message(),
            "'sleep' (pid " + std::to_string(child->pid()) + "): no line on stdout within 100 ms");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST(Subprocess, WaitTimesOutThenSignalStopsTheChild) {
  Result<Subprocess> child = Subprocess::spawn("sleep", {"30"});
  ASSERT_TRUE(child.ok());
  Result<ExitStatus> early = child->wait(milliseconds(50));
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code(), Errc::kTimeout);
  EXPECT_TRUE(child->running());
  ASSERT_TRUE(child->signal(SIGTERM).ok());
  Result<ExitStatus> status = child->wait();
  ASSERT_TRUE(status.ok()) << status.error().what();
  EXPECT_EQ(*status, ExitStatus::killed(SIGTERM));
  EXPECT_EQ(status->to_string(), "killed by signal 15 (SIGTERM)");
  EXPECT_FALSE(child->running());
  EXPECT_EQ(child->wait().value(), ExitStatus::killed(SIGTERM));  // same answer again
}

TEST(Subprocess, RefusesToSignalAReapedChild) {
  Result<Subprocess> child = Subprocess::spawn("true", {});
  ASSERT_TRUE(child.ok());
  ASSERT_TRUE(child->wait().ok());
  Result<void> sent = child->signal(SIGKILL);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code(), Errc::kInvalidArgument);
}

TEST(Subprocess, DestructorKillsAndReapsARunningChild) {
  pid_t pid = -1;
  {
    Result<Subprocess> child = Subprocess::spawn("sleep", {"30"});
    ASSERT_TRUE(child.ok());
    pid = child->pid();
    ASSERT_TRUE(child->running());
  }
  EXPECT_TRUE(reaped(pid));
}

TEST(Subprocess, MovingKeepsOneOwner) {
  Result<Subprocess> child = Subprocess::spawn("sleep", {"30"});
  ASSERT_TRUE(child.ok());
  pid_t pid = child->pid();
  Subprocess owner = std::move(*child);
  EXPECT_EQ(owner.pid(), pid);
  EXPECT_EQ(child->pid(), -1);  // NOLINT(bugprone-use-after-move): the state is specified
  owner = Subprocess::spawn("true", {}).value();  // kills and reaps the first child
  EXPECT_TRUE(reaped(pid));
  EXPECT_TRUE(owner.wait().value().success());
}

TEST(Subprocess, WritingToAChildThatClosedStdinIsAnError) {
  Result<Subprocess> child = Subprocess::spawn(kSh, {"-c", "exec 0<&-; exec sleep 30"});
  ASSERT_TRUE(child.ok());
  std::string big(1 << 20, 'x');
  Result<void> written = child->write_stdin(big, std::chrono::seconds(10));
  ASSERT_FALSE(written.ok());  // and SIGPIPE did not kill the test
  EXPECT_EQ(written.error().code(), Errc::kConnectionLost);
}

TEST(Subprocess, ClosingStdoutMakesTheChildsNextWriteFail) {
  // The child ignores SIGPIPE, like the tools do, and reports its write error.
  Result<Subprocess> child = Subprocess::spawn(
      kSh, {"-c",
            "trap '' PIPE; echo first; read go; if echo second; then echo wrote >&2; "
            "else echo failed >&2; fi"});
  ASSERT_TRUE(child.ok()) << child.error().what();
  EXPECT_EQ(child->read_line(Stream::kStdout).value(), "first");
  child->close_output(Stream::kStdout);
  child->close_output(Stream::kStdout);  // idempotent
  ASSERT_TRUE(child->write_stdin("go\n").ok());
  Result<Output> out = child->communicate();
  ASSERT_TRUE(out.ok()) << out.error().what();
  EXPECT_EQ(out->out, "");
  EXPECT_NE(out->err.find("failed"), std::string::npos) << out->err;
}

TEST(Subprocess, ReportsAProgramThatCannotStart) {
  Result<Subprocess> missing = Subprocess::spawn("/no/such/program", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
  EXPECT_EQ(missing.error().message(),
            "cannot start '/no/such/program': No such file or directory");
  EXPECT_FALSE(Subprocess::spawn("no-such-program-in-path", {}).ok());
}

TEST(Subprocess, ChildStartsWithDefaultSignals) {
  // Even if the test ignores SIGTERM, the child does not.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old {};
  ::sigaction(SIGTERM, &ignore, &old);
  Result<Subprocess> child = Subprocess::spawn("sleep", {"30"});
  ::sigaction(SIGTERM, &old, nullptr);
  ASSERT_TRUE(child.ok());
  ASSERT_TRUE(child->signal(SIGTERM).ok());
  EXPECT_EQ(child->wait().value(), ExitStatus::killed(SIGTERM));
}

TEST(ExitStatus, DescribesItself) {
  EXPECT_EQ(ExitStatus::exited(2).to_string(), "exit code 2");
  EXPECT_EQ(ExitStatus::killed(SIGKILL).to_string(), "killed by signal 9 (SIGKILL)");
  EXPECT_TRUE(ExitStatus::exited(0).success());
  EXPECT_FALSE(ExitStatus::killed(0).success());
}

TEST(Subprocess, ReleasedPipesBelongToTheCaller) {
  Result<Subprocess> child = Subprocess::spawn("cat", {});
  ASSERT_TRUE(child.ok());
  int in = child->release_stdin();
  int out = child->release_output(Stream::kStdout);
  ASSERT_GE(in, 0);
  ASSERT_GE(out, 0);
  EXPECT_EQ(child->release_stdin(), -1);
  EXPECT_EQ(::write(in, "hi\n", 3), 3);
  ::close(in);
  ::fcntl(out, F_SETFL, ::fcntl(out, F_GETFL) & ~O_NONBLOCK);
  std::string got;
  char buf[16];
  ssize_t n;
  while ((n = ::read(out, buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
  ::close(out);
  EXPECT_EQ(got, "hi\n");
  EXPECT_EQ(child->wait().value(), ExitStatus::exited(0));
}

TEST(Subprocess, KillEndsTheChildAndKeepsItsStatus) {
  Result<Subprocess> child = Subprocess::spawn("sleep", {"30"});
  ASSERT_TRUE(child.ok());
  child->kill();
  EXPECT_FALSE(child->running());
  EXPECT_EQ(child->wait().value(), ExitStatus::killed(SIGKILL));
  child->kill();  // idempotent
  EXPECT_FALSE(child->signal(SIGTERM).ok());
}

TEST(Subprocess, DiesWithTheThreadThatSpawnedIt) {
  SpawnOptions options;
  options.die_with_parent = true;
  std::optional<Result<Subprocess>> child;
  std::thread([&] { child.emplace(Subprocess::spawn("sleep", {"30"}, options)); }).join();
  ASSERT_TRUE(child->ok());
  EXPECT_EQ((*child)->wait(milliseconds(10000)).value(), ExitStatus::killed(SIGKILL));
}

TEST(Subprocess, StartFailsForAMissingInputFile) {
  SpawnOptions options;
  options.stdin_to = Redirect::file("/no/such/input");
  Result<Subprocess> no_input = Subprocess::spawn("cat", {}, options);
  ASSERT_FALSE(no_input.ok());
  EXPECT_EQ(no_input.error().code(), Errc::kNotFound);
}

}  // namespace
}  // namespace peers
