#include "lib/kernel/signals.h"

#include <execinfo.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>

namespace peers {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};
int g_pipe[2] = {-1, -1};
std::once_flag g_once;

void make_pipe() {
  if (::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    g_pipe[0] = g_pipe[1] = -1;
  }
}

void notify() {
  if (g_stop.exchange(true)) return;
  if (g_pipe[1] >= 0) {
    char c = 1;
    // Async-signal-safe; the pipe only needs to become readable once.
    [[maybe_unused]] ssize_t n = ::write(g_pipe[1], &c, 1);
  }
}

extern "C" void on_stop_signal(int sig) {
  int saved = errno;
  g_signal.store(sig);
  notify();
  errno = saved;
}

// A crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) writes the stack as
// addresses to stderr, then dies of the same signal (SA_RESETHAND), so the
// exit status and any core dump are what they would have been. backtrace()
// is preloaded at install time: its first call may allocate.
extern "C" void on_crash_signal(int sig) {
  void* frames[64];
  int n = ::backtrace(frames, 64);
  static const char kHead[] = "fatal signal; stack (addr2line -e BINARY -f -C ADDR):\n";
  [[maybe_unused]] ssize_t w = ::write(2, kHead, sizeof kHead - 1);
  ::backtrace_symbols_fd(frames, n, 2);
  ::raise(sig);
}

}  // namespace

void install_crash_report() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // A sanitizer's own report says far more; do not take its signals away.
  return;
#endif
  void* warm[1];
  ::backtrace(warm, 1);
  struct sigaction sa {};
  sa.sa_handler = on_crash_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND | SA_NODEFER;
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::sigaction(sig, &sa, nullptr);
}

void install_stop_signals() {
  install_crash_report();
  std::call_once(g_once, make_pipe);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  ::sigaction(SIGPIPE, &ign, nullptr);
}

bool stop_requested() { return g_stop.load(); }
int stop_signal() { return g_signal.load(); }

int stop_fd() {
  std::call_once(g_once, make_pipe);
  return g_pipe[0];
}

void request_stop() {
  std::call_once(g_once, make_pipe);
  notify();
}

void wait_for_stop() {
  int fd = stop_fd();
  while (!stop_requested()) {
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, 1000);
  }
}

}  // namespace peers
