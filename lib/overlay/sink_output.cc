#include "lib/overlay/sink_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>

#include "lib/kernel/cli.h"
#include "lib/kernel/log.h"
#include "lib/kernel/signals.h"

namespace vt {

namespace asio = boost::asio;
using std::chrono::steady_clock;
using namespace std::chrono_literals;

int open_sink_output(const std::string& path) {
  int fd = path == "-" ? STDOUT_FILENO
                       : ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw peers::usage_error("--output: cannot write '" + path + "': " + std::strerror(errno));
  }
  return fd;
}

// ------------------------------------------------------------------ writer

OutputWriter::OutputWriter(int fd) : fd_(fd), thread_([this] { run(); }) {}

void OutputWriter::write(std::string bytes) {
  std::lock_guard lock(mu_);
  queued_ += bytes.size();
  queue_.push_back(std::move(bytes));
  cv_.notify_one();
}

void OutputWriter::close() {
  std::lock_guard lock(mu_);
  done_ = true;
  cv_.notify_one();
}

void OutputWriter::finish() {
  close();
  if (thread_.joinable()) thread_.join();
}

void OutputWriter::run() {
  for (;;) {
    std::string next;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return done_ || !queue_.empty(); });
      if (queue_.empty()) return;
      next = std::move(queue_.front());
      queue_.pop_front();
      queued_ -= next.size();
    }
    if (broken_) continue;
    const char* p = next.data();
    std::size_t left = next.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        broken_ = true;
        // A reader that went away (a player closed, `| head`) is an ordinary
        // end for a sink; any other write error is worth a warning.
        if (n < 0 && errno == EPIPE) {
          peers::log_info("output closed by its reader; stopping");
        } else {
          peers::log_warn("cannot write output; stopping",
                          {{"error", n < 0 ? std::strerror(errno) : "no progress"}});
        }
        peers::request_stop();
        break;
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
}

// ------------------------------------------------------------------ playout

SinkOutput::SinkOutput(asio::io_context& io, OverlayNode& node, int out_fd,
                       std::chrono::microseconds buffer, std::function<void()> on_end)
    : io_(io),
      node_(node),
      buffer_(buffer),
      on_end_(std::move(on_end)),
      writer_(out_fd),
      timer_(io) {}

void SinkOutput::start() {
  // Every stripe ended, some without their last chunks (a stripe nobody
  // could send any more): play what arrived and end, rather than wait for
  // chunks that will not come.
  node_.on_end = [this]() {
    if (output_done_) return;
    if (!playout_) start_playout();
    for (auto& c : playout_->flush()) {
      if (!c.payload.empty()) writer_.write(std::move(c.payload));
    }
    drain();
  };
  // Chunks a fill is bringing are late, not lost, while it lasts.
  node_.on_fill = [this](std::uint32_t, ChunkSeq from, ChunkSeq to, bool pending) {
    if (!playout_) return;
    if (pending) {
      playout_->expect(from, to);
    } else {
      playout_->forget_expected(from);
      drain();
    }
  };
  node_.on_chunk = [this](const Chunk& c) {
    if (!newest_timestamp_ || c.timestamp > *newest_timestamp_) newest_timestamp_ = c.timestamp;
    if (!playout_) {
      held_back_.push_back(c);  // until every stripe is joined
      return;
    }
    if (c.seq >= play_floor_) playout_->insert(c, peers::Clock::now());
    drain();
  };
  asio::co_spawn(
      io_,
      [this]() -> peers::rpc::Task<void> {
        for (;;) {
          timer_.expires_after(20ms);
          boost::system::error_code ec;
          auto w = timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          co_await std::move(w);
          if (ec) co_return;
          drain();
        }
      },
      asio::detached);
}

// Where playing starts. A parent begins a new child's feed at the newest
// random-access chunk of its stripe, or at the oldest one it holds, so a
// late joiner's stripes begin at different seqs, and every stripe is
// complete only from the highest of those, less K-1, on. Chunks therefore
// wait until every stripe is joined: a sink there from the start (each
// stripe begins below K) plays everything; a late one drops what comes
// before that point and starts at the first random-access chunk after it,
// so it writes a clean suffix of the stream.
void SinkOutput::start_playout() {
  ChunkSeq k = node_.stripes();
  ChunkSeq highest = 0;
  for (std::uint32_t i = 0; i < k; ++i) {
    highest = std::max(highest, node_.first_seq(i).value_or(0));
  }
  PlayoutOptions po;
  po.buffer = buffer_;
  // A chunk whose stripe has not reached it yet (a lagging or repairing
  // stripe that will resend from where it stopped) is waited for longer
  // than one its stripe went past.
  po.stripes = static_cast<std::uint32_t>(k);
  po.late_limit = buffer_ * kLateFactor;
  if (highest < k) {
    po.start = StartPolicy::kAtSeq;
    po.start_seq = 0;
  } else {
    play_floor_ = highest - (k - 1);
  }
  playout_.emplace(PlayoutBuffer::create(po).value());
  std::sort(held_back_.begin(), held_back_.end(),
            [](const Chunk& a, const Chunk& b) { return a.seq < b.seq; });
  for (auto& c : held_back_) {
    if (c.seq >= play_floor_) playout_->insert(std::move(c), peers::Clock::now());
  }
  held_back_.clear();
  peers::log_debug("playout starts", {{"from_seq", std::to_string(play_floor_)}});
}

PlayoutLevel SinkOutput::level() const {
  PlayoutLevel l;
  if (!playout_) return l;
  l.gaps = playout_->stats().gaps;
  l.skipped_chunks = playout_->stats().skipped_chunks;
  l.buffer_chunks = playout_->held_chunks();
  l.buffer_ms = 0;
  if (newest_timestamp_ && played_timestamp_ && *newest_timestamp_ > *played_timestamp_) {
    l.buffer_ms = static_cast<double>((*newest_timestamp_ - *played_timestamp_).count()) / 1000;
  }
  return l;
}

void SinkOutput::drain() {
  if (!playout_) return;
  for (auto& c : playout_->pop_ready(peers::Clock::now())) {
    played_timestamp_ = c.timestamp;
    if (!c.payload.empty()) writer_.write(std::move(c.payload));
  }
  if (playout_->finished() && !output_done_) {
    output_done_ = true;
    // The writer flushes on its own thread, waited for at exit: a slow
    // reader must not stall the loop (children, heartbeats, signals).
    writer_.close();
    peers::log_info("end of stream", {{"bytes", std::to_string(playout_->stats().released_bytes)},
                                      {"gaps", std::to_string(playout_->stats().gaps)}});
    on_end_();
  }
}

}  // namespace vt
