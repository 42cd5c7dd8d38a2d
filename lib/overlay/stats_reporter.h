// The stats a streaming tool reports: a record every --stats-interval (text
// on stderr, or JSON lines on stderr or in --stats-file) and a final summary
// when the tool ends, however it ends. The fields and their two renderings
// are in stats_record.h; this gathers them from the node, the sink's
// playout and the source's input, and measures rates between records.
//
//   vt::StatsReporter stats(io, *node, {.peer = id, .every = 1s, .json = true, .out = file});
//   stats.playout = [&] { return sink->level(); };
//   stats.start();
//   io.run();
//   stats.summary("end of stream", 0);
//
// Threads: start() and the periodic records run on the loop; summary() is
// called once the loop has stopped.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include "lib/kernel/timer.h"
#include "lib/overlay/overlay_node.h"
#include "lib/overlay/stats_record.h"

namespace vt {

struct StatsOptions {
  std::string peer;  // short id
  // A record every this long; nullopt = none (the summary is still written).
  std::optional<std::chrono::microseconds> every;
  bool json = false;         // JSON lines instead of text
  std::FILE* out = nullptr;  // where records go (nullptr = stderr)
};

class StatsReporter {
 public:
  StatsReporter(boost::asio::io_context& io, OverlayNode& node, StatsOptions options);

  // The sink's playout level (sinks only).
  std::function<PlayoutLevel()> playout;
  // Bytes the source has read from its input (the source only).
  std::function<std::uint64_t()> input_bytes;

  // Writes a record every `every` until the loop stops.
  void start();

  // The record as of now, rates over the time since `since` (and its totals).
  StatsRecord record(const StatsRecord* since, double seconds) const;

  // Writes the final summary: a text line on stderr (at log level info or
  // finer) and, when records are JSON, an {"event":"summary"} record where
  // they go. Rates are averages over the whole run.
  void summary(const std::string& reason, int exit_code);

 private:
  void write(const StatsRecord& record);

  boost::asio::io_context& io_;
  OverlayNode& node_;
  StatsOptions options_;
  std::chrono::steady_clock::time_point started_;
  peers::Timer timer_;
};

}  // namespace vt
