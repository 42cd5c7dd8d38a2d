#include "lib/overlay/stats_reporter.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>

#include "lib/kernel/log.h"
#include "lib/kernel/units.h"

namespace vt {

namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

std::string rate_text(double bps) { return peers::format_rate(static_cast<std::uint64_t>(bps)); }

}  // namespace

StatsReporter::StatsReporter(asio::io_context& io, OverlayNode& node, std::string peer, bool json,
                             std::chrono::microseconds every, std::function<std::uint64_t()> gaps)
    : io_(io),
      node_(node),
      peer_(std::move(peer)),
      json_(json),
      every_(every),
      gaps_(std::move(gaps)),
      timer_(io) {}

void StatsReporter::start() {
  asio::co_spawn(
      io_,
      [this]() -> peers::rpc::Task<void> {
        auto last = node_.stats();
        auto last_t = steady_clock::now();
        for (;;) {
          timer_.expires_after(every_);
          boost::system::error_code ec;
          auto w = timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          co_await std::move(w);
          if (ec) co_return;
          auto now_t = steady_clock::now();
          double secs = std::chrono::duration<double>(now_t - last_t).count();
          auto st = node_.stats();
          double in_bps = (st.bytes_in - last.bytes_in) * 8 / secs;
          double out_bps = (st.bytes_out - last.bytes_out) * 8 / secs;
          last = st;
          last_t = now_t;
          std::size_t children = 0, parents = 0;
          std::string per_stripe;
          for (const auto& s : node_.stripe_status()) {
            children += s.children;
            if (!s.parent.empty()) ++parents;
            if (!per_stripe.empty()) per_stripe += ",";
            per_stripe += "{\"stripe\":" + std::to_string(s.stripe) +
                          ",\"parent\":" + peers::json_quote(s.parent) +
                          ",\"children\":" + std::to_string(s.children) +
                          ",\"interior\":" + (s.interior ? "true" : "false") +
                          ",\"repairs\":" + std::to_string(s.repairs) + "}";
          }
          std::uint64_t gaps = gaps_();
          // Measured, not declared: the uplink estimate, the children it
          // pays for, how long chunks wait to leave, how far behind live.
          auto behind = node_.receive_behind_live();
          double behind_ms = behind ? static_cast<double>(behind->count()) / 1000 : -1;
          char measured[256];
          if (json_) {
            std::snprintf(
                measured, sizeof measured,
                "\"uplink_bps\":%.0f,\"capacity\":%u,\"queue_ms\":%.1f,"
                "\"stream_bps\":%.0f,\"behind_live_ms\":%s,\"shed\":%llu,"
                "\"slow_parents\":%llu,",
                st.uplink_bps, st.capacity, st.queue_delay_ms, st.stream_bps,
                behind ? std::to_string(static_cast<long long>(behind_ms)).c_str() : "null",
                static_cast<unsigned long long>(st.shed),
                static_cast<unsigned long long>(st.slow_parents));
          } else {
            std::snprintf(
                measured, sizeof measured, " uplink=%s capacity=%u queue=%.0fms%s",
                rate_text(st.uplink_bps).c_str(), st.capacity, st.queue_delay_ms,
                behind
                    ? (" behind_live=" + std::to_string(static_cast<long long>(behind_ms)) + "ms")
                          .c_str()
                    : "");
          }
          char line[512];
          if (json_) {
            std::snprintf(line, sizeof line,
                          "{\"event\":\"stats\",\"time\":%.3f,\"data\":{\"tool\":%s,"
                          "\"peer\":%s,\"rate_in_bps\":%.0f,\"rate_out_bps\":%.0f,"
                          "\"children\":%zu,\"parents\":%zu,\"gaps\":%llu,\"rejected\":%llu,"
                          "\"rtt_ms\":%.3f,%s\"stripes\":[",
                          peers::wall_seconds(), peers::json_quote(peers::log_tool()).c_str(),
                          peers::json_quote(peer_).c_str(), in_bps, out_bps, children, parents,
                          static_cast<unsigned long long>(gaps),
                          static_cast<unsigned long long>(st.rejected), st.rtt_ms, measured);
            std::string out = std::string(line) + per_stripe + "]}}\n";
            std::fputs(out.c_str(), stderr);
          } else {
            std::snprintf(line, sizeof line,
                          "%s: stats in=%s out=%s children=%zu parents=%zu/%u gaps=%llu "
                          "rejected=%llu rtt=%.2fms%s\n",
                          peers::log_tool().c_str(), rate_text(in_bps).c_str(),
                          rate_text(out_bps).c_str(), children, parents, node_.stripes(),
                          static_cast<unsigned long long>(gaps),
                          static_cast<unsigned long long>(st.rejected), st.rtt_ms, measured);
            std::fputs(line, stderr);
          }
        }
      },
      asio::detached);
}

}  // namespace vt
