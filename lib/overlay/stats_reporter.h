// The stats line a streaming tool prints on stderr every --stats-interval:
// rates in and out over the interval, children, parents, gaps, rejected
// chunks and RTT, as text or (--json) as a JSON line
// {"event":"stats","time":...,"data":{...,"stripes":[...]}} with one entry
// per stripe (benchmarks and tests read these).
//
//   vt::StatsReporter stats(io, *node, rpc.id().short_id(), /*json=*/true, 1s,
//                           [&] { return sink ? sink->gaps() : 0; });
//   stats.start();
//   io.run();
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "lib/overlay/overlay_node.h"

namespace vt {

class StatsReporter {
 public:
  // gaps: the sink's playout gaps so far (0 for others). Runs on the loop.
  StatsReporter(boost::asio::io_context& io, OverlayNode& node, std::string peer, bool json,
                std::chrono::microseconds every, std::function<std::uint64_t()> gaps);

  // Prints a line every `every` until the loop stops.
  void start();

 private:
  boost::asio::io_context& io_;
  OverlayNode& node_;
  std::string peer_;  // short id
  bool json_;
  std::chrono::microseconds every_;
  std::function<std::uint64_t()> gaps_;
  boost::asio::steady_timer timer_;
};

}  // namespace vt
