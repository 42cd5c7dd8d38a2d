#include "lib/overlay/source_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <thread>

#include "lib/kernel/cli.h"
#include "lib/kernel/log.h"
#include "lib/kernel/units.h"

namespace vt {

namespace asio = boost::asio;
using std::chrono::steady_clock;
using namespace std::chrono_literals;

int open_source_input(const std::string& path) {
  if (path == "-") return STDIN_FILENO;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw peers::usage_error("--input: cannot read '" + path + "': " + std::strerror(errno));
  }
  if (S_ISFIFO(st.st_mode)) return -1;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw peers::usage_error("--input: cannot read '" + path + "': " + std::strerror(errno));
  }
  return fd;
}

SourceInput::SourceInput(asio::io_context& io, OverlayNode& node, std::string path, int in_fd,
                         const ChunkerOptions& options, bool realtime, std::function<void()> on_end,
                         std::function<void()> on_fail)
    : io_(io),
      node_(node),
      path_(std::move(path)),
      in_fd_(in_fd),
      chunker_(Chunker::create(options).value()),
      on_end_(std::move(on_end)),
      on_fail_(std::move(on_fail)),
      flush_timer_(io),
      realtime_(realtime) {}

void SourceInput::start() {
  reader_ = std::thread([this] { read_loop(); });
  asio::co_spawn(
      io_,
      [this]() -> peers::rpc::Task<void> {
        for (;;) {
          flush_timer_.expires_after(20ms);
          boost::system::error_code ec;
          auto w = flush_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          co_await std::move(w);
          if (ec) co_return;
          if (!chunker_.finished()) {
            for (auto& c : chunker_.poll(peers::Clock::now())) node_.publish(c);
          }
        }
      },
      asio::detached);
}

void SourceInput::read_loop() {
  if (in_fd_ < 0) in_fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (in_fd_ < 0) {
    peers::log_error("cannot read --input", {{"file", path_}, {"error", std::strerror(errno)}});
    asio::post(io_, [this] { on_fail_(); });
    return;
  }
  std::string buf(64 * 1024, '\0');
  for (;;) {
    ssize_t n = ::read(in_fd_, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (stop_) return;
    if (n <= 0) {
      probe_.finish();
      say_what_input_is(/*at_end=*/true);
      asio::post(io_, [this] {
        for (auto& c : chunker_.finish(peers::Clock::now())) node_.publish(c);
        peers::log_info("end of input", {{"chunks", std::to_string(chunker_.next_seq())}});
        on_end_();
      });
      return;
    }
    bytes_read_ += static_cast<std::uint64_t>(n);
    probe_and_send(std::string_view(buf.data(), static_cast<std::size_t>(n)));
  }
}

void SourceInput::post(std::string_view data) {
  if (data.empty()) return;
  asio::post(io_, [this, data = std::string(data)] {
    for (auto& c : chunker_.push(data, peers::Clock::now())) node_.publish(c);
  });
}

// Once: MPEG-TS or not, and for TS what its tables and clock say, when the
// tables and a second of PCRs have been read, after 8 MB, or at the end.
void SourceInput::say_what_input_is(bool at_end) {
  if (said_) return;
  TsVerdict v = probe_.verdict();
  if (v == TsVerdict::kNeedMore && !at_end) return;
  if (v != TsVerdict::kTs) {
    said_ = true;
    peers::log_info("input is not MPEG-TS: sent as plain bytes");
    if (realtime_) peers::log_warn("--realtime: only MPEG-TS has a clock; sending as read");
    return;
  }
  auto rate = probe_.bit_rate_bps();
  bool enough = probe_.tables_complete() && rate;
  if (!enough && !at_end && probe_.bytes() < 8'000'000) return;
  said_ = true;
  peers::log_info("input is MPEG-TS",
                  {{"programs", probe_.describe()},
                   {"bit_rate", rate ? peers::format_bit_rate(*rate) : std::string("-")}});
}

void SourceInput::probe_and_send(std::string_view data) {
  probe_.push(data);
  say_what_input_is(false);
  if (!realtime_ || probe_.verdict() != TsVerdict::kTs) {
    post(data);
    return;
  }
  // Each PCR is due at the origin plus its stream time; what comes before
  // it goes out then. Behind by more than a second (a slow start, a pause
  // upstream): start counting again from now rather than rush.
  std::size_t sent = 0;
  for (const TsProbe::ClockPoint& p : probe_.clock_points()) {
    auto now = peers::Clock::now();
    if (!pace_origin_ || now - (*pace_origin_ + p.time) > 1s) pace_origin_ = now - p.time;
    auto due = *pace_origin_ + p.time;
    while (!stop_ && peers::Clock::now() < due) {
      std::this_thread::sleep_for(
          std::min<steady_clock::duration>(due - peers::Clock::now(), 50ms));
    }
    if (stop_) return;
    post(data.substr(sent, p.offset - sent));
    sent = p.offset;
  }
  post(data.substr(sent));
}

void SourceInput::abandon() {
  if (reader_.joinable()) {
    stop_ = true;
    reader_.detach();
  }
}

}  // namespace vt
