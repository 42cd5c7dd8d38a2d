#include "lib/overlay/stats_reporter.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "lib/kernel/log.h"

namespace vt {

namespace asio = boost::asio;
using std::chrono::steady_clock;

StatsReporter::StatsReporter(asio::io_context& io, OverlayNode& node, StatsOptions options)
    : io_(io),
      node_(node),
      options_(std::move(options)),
      started_(peers::Clock::now()),
      timer_(io) {}

StatsRecord StatsReporter::record(const StatsRecord* since, double seconds) const {
  StatsRecord r;
  r.time = peers::wall_seconds();
  r.tool = peers::log_tool();
  r.peer = options_.peer;
  r.role = node_.config().role;
  bool source = r.role == overlay::Role::kSource;
  r.uptime_s = std::chrono::duration<double>(peers::Clock::now() - started_).count();
  OverlayStats st = node_.stats();
  r.bytes_in = st.bytes_in;
  r.chunks_in = st.chunks_in;
  r.bytes_out = st.bytes_out;
  r.chunks_out = st.chunks_out;
  auto rate = [&](std::uint64_t now, std::uint64_t then) {
    return seconds > 0 && now >= then ? static_cast<double>(now - then) * 8 / seconds : 0.0;
  };
  r.rate_in_bps = rate(r.bytes_in, since ? since->bytes_in : 0);
  r.rate_out_bps = rate(r.bytes_out, since ? since->bytes_out : 0);
  if (source && input_bytes) {
    r.input_bytes = input_bytes();
    r.input_bps = rate(*r.input_bytes, since && since->input_bytes ? *since->input_bytes : 0);
  }
  r.stripes = node_.stripes();
  std::uint32_t parents = 0;
  for (const auto& s : node_.stripe_status()) {
    r.children += s.children;
    r.repairs += s.repairs;
    StripeRecord sr;
    sr.stripe = s.stripe;
    if (!source && !s.parent.empty()) {
      sr.parent = s.parent;
      ++parents;
    }
    sr.children = s.children;
    sr.interior = s.interior;
    sr.repairs = s.repairs;
    r.per_stripe.push_back(sr);
  }
  if (!source) r.parents = parents;
  r.duplicates = st.duplicates;
  r.rejected = st.rejected;
  if (!source) {
    r.has_behind_live = true;
    if (auto behind = node_.receive_behind_live()) {
      r.behind_live_ms = static_cast<double>(behind->count()) / 1000;
    }
    r.has_rtt = true;
    if (st.rtt_ms >= 0) r.rtt_ms = st.rtt_ms;
  }
  if (playout) {
    PlayoutLevel level = playout();
    r.gaps = level.gaps;
    r.skipped_chunks = level.skipped_chunks;
    r.has_buffer = true;
    r.buffer_ms = level.buffer_ms;
    if (level.buffer_ms) r.buffer_chunks = level.buffer_chunks;
  }
  r.uplink_bps = st.uplink_bps;
  r.capacity = st.capacity;
  r.queue_ms = st.queue_delay_ms;
  r.stream_bps = st.stream_bps;
  r.shed = st.shed;
  r.slow_parents = st.slow_parents;
  return r;
}

void StatsReporter::write(const StatsRecord& r) {
  std::FILE* out = options_.out ? options_.out : stderr;
  std::string line = options_.json ? stats_json(r) : stats_text(r);
  // A reader of --stats-file - that went away costs the records, not the
  // stream (SIGPIPE is ignored; the write fails with EPIPE).
  std::fputs(line.c_str(), out);
  std::fflush(out);
}

void StatsReporter::start() {
  if (!options_.every) return;
  asio::co_spawn(
      io_,
      [this]() -> peers::rpc::Task<void> {
        StatsRecord last = record(nullptr, 0);
        auto last_t = peers::Clock::now();
        for (;;) {
          timer_.expires_after(*options_.every);
          boost::system::error_code ec;
          auto w = timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          co_await std::move(w);
          if (ec) co_return;
          auto now_t = peers::Clock::now();
          StatsRecord r = record(&last, std::chrono::duration<double>(now_t - last_t).count());
          write(r);
          last = std::move(r);
          last_t = now_t;
        }
      },
      asio::detached);
}

void StatsReporter::summary(const std::string& reason, int exit_code) {
  double run_s = std::chrono::duration<double>(peers::Clock::now() - started_).count();
  StatsRecord r = record(nullptr, run_s);
  r.event = "summary";
  r.reason = reason;
  r.exit_code = exit_code;
  if (options_.json) write(r);
  // People get the summary on stderr as well, unless that is where the JSON
  // records just went.
  bool json_on_stderr = options_.json && (!options_.out || options_.out == stderr);
  if (!json_on_stderr && peers::log_enabled(peers::LogLevel::kInfo)) {
    std::string line = stats_text(r);
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
  }
}

}  // namespace vt
