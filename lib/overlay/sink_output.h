// The sink's output: chunks of all stripes reordered in a PlayoutBuffer and
// written, in order, to the output file by a thread of their own, so a slow
// reader never stalls the event loop (children, heartbeats, signals). A
// reader that goes away (EPIPE) ends the sink cleanly: the writer requests a
// stop (lib/kernel/signals.h).
//
// Threads: SinkOutput runs on the node's event loop (single-threaded, like
// OverlayNode); OutputWriter's write() and close() may be called from it.
//
//   int fd = vt::open_sink_output(options.output);   // throws for a bad path
//   vt::SinkOutput sink(io, *node, fd, 2s, [&] { linger_then_stop(); });
//   sink.start();                 // takes node->on_chunk, drains every 20 ms
//   ... once every stripe is joined: sink.start_playout();
//   io.run();
//   sink.finish();                // writes what is queued
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lib/kernel/timer.h"
#include "lib/overlay/overlay_node.h"
#include "lib/overlay/stats_record.h"
#include "lib/stream/playout_buffer.h"

namespace vt {

// Opens the sink's --output ("-" = stdout), creating or truncating a file.
// Throws peers::Error(kInvalidArgument) naming the file.
int open_sink_output(const std::string& path);

// Writes byte strings to fd, in order, on its own thread.
class OutputWriter {
 public:
  explicit OutputWriter(int fd);
  ~OutputWriter() { finish(); }

  void write(std::string bytes);
  // No more writes: the thread writes what is queued, then ends. Does not
  // wait for it.
  void close();
  // close(), then waits until everything queued is written (or the reader
  // went away).
  void finish();
  // The reader went away: writes are dropped.
  bool broken() const { return broken_.load(); }

 private:
  void run();

  int fd_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::size_t queued_ = 0;
  bool done_ = false;
  std::atomic<bool> broken_{false};
  std::thread thread_;
};

class SinkOutput {
 public:
  // A late chunk (its stripe has not reached it) is waited for this many
  // times the buffer; a lost one (its stripe went past it) for the buffer.
  static constexpr int kLateFactor = 4;

  // on_end runs on the loop once the end of the stream was played and the
  // writer closed.
  SinkOutput(boost::asio::io_context& io, OverlayNode& node, int out_fd,
             std::chrono::microseconds buffer, std::function<void()> on_end);

  // Takes node.on_chunk (chunks wait until start_playout()) and drains the
  // playout buffer every 20 ms.
  void start();
  // Every stripe is joined: decides where playing starts and plays what
  // arrived until now.
  void start_playout();
  // Plays what is due.
  void drain();

  // Chunks given up on after the buffer's deadline (0 before playing starts).
  std::uint64_t gaps() const { return playout_ ? playout_->stats().gaps : 0; }
  // The stats' view of playout: gaps, skipped chunks, and what the buffer
  // holds (stream time from the last chunk written to the newest received).
  PlayoutLevel level() const;
  bool broken() const { return writer_.broken(); }
  // Playing started and has not reached the end of the stream.
  bool incomplete() const { return playout_ && !playout_->finished(); }
  // Waits until the writer has written everything queued.
  void finish() { writer_.finish(); }

 private:
  boost::asio::io_context& io_;
  OverlayNode& node_;
  std::chrono::microseconds buffer_;
  std::function<void()> on_end_;
  OutputWriter writer_;
  std::optional<PlayoutBuffer> playout_;
  peers::Timer timer_;
  bool output_done_ = false;
  std::vector<Chunk> held_back_;  // until every stripe is joined
  ChunkSeq play_floor_ = 0;
  std::optional<std::chrono::microseconds> newest_timestamp_;  // of chunks received
  std::optional<std::chrono::microseconds> played_timestamp_;  // of the last chunk written
};

}  // namespace vt
