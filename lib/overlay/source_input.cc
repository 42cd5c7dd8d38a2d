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

#include "lib/kernel/cli.h"
#include "lib/kernel/log.h"

namespace vt {

namespace asio = boost::asio;
using std::chrono::steady_clock;
using namespace std::chrono_literals;

int open_source_input(const std::string& path) {
  if (path == "-") return STDIN_FILENO;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw peers::usage_error("cannot read --input '" + path + "': " + std::strerror(errno));
  }
  if (S_ISFIFO(st.st_mode)) return -1;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw peers::usage_error("cannot read --input '" + path + "': " + std::strerror(errno));
  }
  return fd;
}

SourceInput::SourceInput(asio::io_context& io, OverlayNode& node, std::string path, int in_fd,
                         const ChunkerOptions& options, std::function<void()> on_end,
                         std::function<void()> on_fail)
    : io_(io),
      node_(node),
      path_(std::move(path)),
      in_fd_(in_fd),
      chunker_(Chunker::create(options).value()),
      on_end_(std::move(on_end)),
      on_fail_(std::move(on_fail)),
      flush_timer_(io) {}

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
            for (auto& c : chunker_.poll(steady_clock::now())) node_.publish(c);
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
      asio::post(io_, [this] {
        for (auto& c : chunker_.finish(steady_clock::now())) node_.publish(c);
        peers::log_info("end of input", {{"chunks", std::to_string(chunker_.next_seq())}});
        on_end_();
      });
      return;
    }
    bytes_read_ += static_cast<std::uint64_t>(n);
    asio::post(io_, [this, data = std::string(buf.data(), static_cast<std::size_t>(n))] {
      for (auto& c : chunker_.push(data, steady_clock::now())) node_.publish(c);
    });
  }
}

void SourceInput::abandon() {
  if (reader_.joinable()) {
    stop_ = true;
    reader_.detach();
  }
}

}  // namespace vt
