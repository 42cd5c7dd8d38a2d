// The source's input pump: a thread reads the input (stdin, a file or a
// FIFO) in 64 KiB pieces, and the event loop cuts them into chunks (the
// Chunker: TS-aligned, flushed by size or, every 20 ms, by time) and
// publishes them on the node. At end of input the last chunks and the
// end-of-stream chunk are published and on_end runs. The reader also says
// what the input is (a TsProbe: MPEG-TS or not, programs, codecs, bit rate
// by PCR) and, with --realtime, holds each piece back until its PCR is due.
//
// Threads: the reader thread only reads and posts to the loop; the chunker
// and the node are used on the loop.
//
//   int fd = vt::open_source_input(options.input);  // throws for a bad path
//   vt::SourceInput input(io, *node, options.input, fd, chunker_options, /*realtime=*/false,
//                         /*on_end=*/[&] { linger_then_stop(); },
//                         /*on_fail=*/[&] { stop(1); });
//   input.start();
//   io.run();
//   input.abandon();
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "lib/kernel/timer.h"
#include "lib/overlay/overlay_node.h"
#include "lib/stream/chunker.h"
#include "lib/stream/ts_probe.h"

namespace vt {

// Opens the source's --input: "-" is stdin; a FIFO returns -1 and is opened
// by the reader thread (open blocks until a writer comes, and the source
// must listen before its producer starts). Throws peers::Error
// (kInvalidArgument) naming the file.
int open_source_input(const std::string& path);

class SourceInput {
 public:
  // in_fd: from open_source_input(). realtime: an MPEG-TS input is sent at
  // the pace of its clock (PCR), a recorded file like a live stream. on_end
  // and on_fail (the input could not be opened) run on the loop.
  SourceInput(boost::asio::io_context& io, OverlayNode& node, std::string path, int in_fd,
              const ChunkerOptions& options, bool realtime, std::function<void()> on_end,
              std::function<void()> on_fail);
  ~SourceInput() { abandon(); }

  // Starts the reader thread and the flush timer.
  void start();
  // The loop has ended: the reader stops at its next read. A reader blocked
  // on stdin cannot be interrupted portably, so it is detached; the process
  // is about to exit.
  void abandon();

  // Bytes read from the input so far (any thread).
  std::uint64_t bytes_read() const { return bytes_read_.load(); }

 private:
  void read_loop();
  // Reader thread: what the input is, said once; pacing by PCR.
  void probe_and_send(std::string_view data);
  void say_what_input_is(bool at_end);
  void post(std::string_view data);

  boost::asio::io_context& io_;
  OverlayNode& node_;
  std::string path_;
  int in_fd_;
  Chunker chunker_;
  std::function<void()> on_end_;
  std::function<void()> on_fail_;
  peers::Timer flush_timer_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> bytes_read_{0};
  // Reader thread only.
  bool realtime_ = false;
  TsProbe probe_;
  bool said_ = false;
  std::optional<std::chrono::steady_clock::time_point> pace_origin_;
  std::thread reader_;
};

}  // namespace vt
