// vt-delay-line: the network lab's delay. It opens a TUN device, holds every
// IPv4 packet the kernel routes into it for delay(source) + delay(destination)
// and writes it back, where the kernel routes it on to its destination
// (docs/netlab.md). netem is not available on the lab's kernels; this is the
// user-space stand-in, run by lab/netlab.py inside the lab's core namespace.
//
// stdout carries JSON lines: {"event":"ready",...} once the device exists,
// {"event":"stats",...} every --stats-interval and once more at exit.
// Exit codes: 0 after SIGINT/SIGTERM, 1 runtime failure, 2 a bad flag.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lab/delay_queue.h"

namespace {

using vt::lab::Clock;
using vt::lab::DelayQueue;

// "20ms", "1.5ms", "500us", "2s", "0": a duration, or nothing.
std::optional<Clock::duration> parse_duration(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value < 0) return std::nullopt;
  std::string_view unit(end, text.data() + text.size() - end);
  double us;
  if (unit == "us") {
    us = value;
  } else if (unit == "ms") {
    us = value * 1e3;
  } else if (unit == "s" || (unit.empty() && value == 0)) {
    us = value * 1e6;
  } else {
    return std::nullopt;
  }
  if (us > 3600e6) return std::nullopt;
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::micro>(us));
}

struct DelayRule {
  std::uint32_t addr;
  Clock::duration delay;
};

// "10.77.0.2=20ms"
std::optional<DelayRule> parse_rule(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos) return std::nullopt;
  in_addr a{};
  if (inet_pton(AF_INET, text.substr(0, eq).c_str(), &a) != 1) return std::nullopt;
  auto d = parse_duration(std::string_view(text).substr(eq + 1));
  if (!d) return std::nullopt;
  return DelayRule{ntohl(a.s_addr), *d};
}

int open_tun(const std::string& name) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

double wall_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void print_stats(const DelayQueue& q, std::uint64_t write_errors) {
  const auto& s = q.stats();
  std::printf(
      "{\"event\":\"stats\",\"time\":%.3f,\"data\":{\"packets_in\":%llu,\"bytes_in\":%llu,"
      "\"packets_out\":%llu,\"bytes_out\":%llu,\"held_packets\":%zu,\"held_bytes\":%zu,"
      "\"peak_packets\":%zu,\"peak_bytes\":%zu,\"dropped_not_ipv4\":%llu,\"dropped_full\":%llu,"
      "\"write_errors\":%llu}}\n",
      wall_seconds(), static_cast<unsigned long long>(s.packets_in),
      static_cast<unsigned long long>(s.bytes_in), static_cast<unsigned long long>(s.packets_out),
      static_cast<unsigned long long>(s.bytes_out), q.size(), q.bytes(), s.peak_packets,
      s.peak_bytes, static_cast<unsigned long long>(s.dropped_not_ipv4),
      static_cast<unsigned long long>(s.dropped_full),
      static_cast<unsigned long long>(write_errors));
  std::fflush(stdout);
}

void arm(int timer_fd, std::optional<Clock::time_point> at) {
  itimerspec spec{};
  if (at) {
    // steady_clock is CLOCK_MONOTONIC on Linux; a zero it_value would disarm.
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(at->time_since_epoch()).count();
    if (ns <= 0) ns = 1;
    spec.it_value.tv_sec = ns / 1000000000;
    spec.it_value.tv_nsec = ns % 1000000000;
  }
  timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &spec, nullptr);
}

int fail(const char* what) {
  std::fprintf(stderr, "vt-delay-line: %s: %s\n", what, std::strerror(errno));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Holds IPv4 packets routed into a TUN device for delay(src) + delay(dst), then writes them "
      "back (the network lab's delay line, docs/netlab.md)."};
  app.footer("Example:\n  vt-delay-line --tun tun0 --delay 10.77.0.2=20ms --delay 10.77.0.3=5ms");
  app.set_version_flag("--version", "vt-delay-line 1");
  std::string tun = "tun0";
  std::vector<std::string> rules;
  std::string default_delay = "0";
  std::string stats_interval = "0";
  std::size_t max_bytes = 64u << 20;
  app.add_option("--tun", tun, "TUN device to create and serve")->capture_default_str();
  app.add_option("--delay", rules, "One-way delay of an address: ADDR=DURATION (repeatable)");
  app.add_option("--default-delay", default_delay, "Delay of any other address")
      ->capture_default_str();
  app.add_option("--max-bytes", max_bytes, "Drop packets past this many held bytes")
      ->capture_default_str();
  app.add_option("--stats-interval", stats_interval,
                 "Print a stats line every DURATION (0: only at exit)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  auto dflt = parse_duration(default_delay);
  auto interval = parse_duration(stats_interval);
  if (!dflt || !interval) {
    std::fprintf(stderr, "vt-delay-line: bad duration (write 20ms, 500us, 1s)\n");
    return 2;
  }
  DelayQueue queue({.max_bytes = max_bytes, .default_delay = *dflt});
  for (const auto& r : rules) {
    auto rule = parse_rule(r);
    if (!rule) {
      std::fprintf(stderr, "vt-delay-line: bad --delay '%s' (write ADDR=DURATION)\n", r.c_str());
      return 2;
    }
    queue.set_delay(rule->addr, rule->delay);
  }

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  int tun_fd = open_tun(tun);
  if (tun_fd < 0) return fail(("cannot open TUN device '" + tun + "'").c_str());
  int release_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  int stats_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (sig_fd < 0 || release_fd < 0 || stats_fd < 0 || ep < 0) return fail("setup");
  for (int fd : {sig_fd, tun_fd, release_fd, stats_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) return fail("epoll_ctl");
  }
  if (*interval > Clock::duration::zero()) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(*interval).count();
    itimerspec spec{};
    spec.it_value.tv_sec = spec.it_interval.tv_sec = ns / 1000000000;
    spec.it_value.tv_nsec = spec.it_interval.tv_nsec = ns % 1000000000;
    timerfd_settime(stats_fd, 0, &spec, nullptr);
  }
  std::printf("{\"event\":\"ready\",\"time\":%.3f,\"data\":{\"tun\":\"%s\",\"rules\":%zu}}\n",
              wall_seconds(), tun.c_str(), rules.size());
  std::fflush(stdout);

  std::uint64_t write_errors = 0;
  std::vector<std::uint8_t> buf(65536);
  bool stop = false;
  while (!stop) {
    epoll_event events[4];
    int n = epoll_wait(ep, events, 4, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == sig_fd) {
        stop = true;
      } else if (fd == stats_fd) {
        std::uint64_t ticks;
        if (read(stats_fd, &ticks, sizeof ticks) > 0) print_stats(queue, write_errors);
      } else if (fd == release_fd) {
        std::uint64_t ticks;
        (void)!read(release_fd, &ticks, sizeof ticks);
      } else if (fd == tun_fd) {
        // A bounded batch, so a flood cannot hold back releases that are due.
        for (int k = 0; k < 256; ++k) {
          ssize_t got = read(tun_fd, buf.data(), buf.size());
          if (got < 0) {
            if (errno == EAGAIN || errno == EINTR) break;
            return fail("read from TUN");
          }
          queue.push(vt::lab::Packet(buf.begin(), buf.begin() + got), Clock::now());
        }
      }
    }
    auto now = Clock::now();
    while (auto packet = queue.pop_due(now)) {
      // A packet the kernel refuses (its route vanished at teardown) is lost,
      // as on a real link.
      if (write(tun_fd, packet->data(), packet->size()) < 0) ++write_errors;
    }
    arm(release_fd, queue.next_release());
  }
  print_stats(queue, write_errors);
  return 0;
}
