// One stats record of a streaming tool (vt-source, vt-relay, vt-sink) and
// its two renderings, which share one schema: the same fields in the same
// order, a text line for people and a JSON line for programs.
//
//   text:  vt-sink: stats uptime=12.0s rate_in=4.34Mbit/s ... rtt=0.41ms
//   json:  {"event":"stats","time":1764083000.123,"data":{"tool":"vt-sink",
//           "peer":"vt1abcdefgh","role":"sink","uptime_s":12.0,"rate_in_bps":4342867,...}}
//
// A JSON key is the text key plus its unit: `_bps` for bit rates, `_ms` for
// milliseconds, `_s` for seconds; counts and `bytes_*` have none. Text
// values carry their unit (lib/kernel/units.h: "4.34Mbit/s", "6.51MB",
// "1.23s"); JSON values are plain numbers (bits per second, bytes,
// milliseconds). A field that does not apply to the role (the source has no
// parents, only a sink has a playout buffer) is left out of both; one that
// is not known yet (no RTT measured) is `null` in JSON and `-` in text.
// The final summary is the same record with event "summary", rates
// averaged over the whole run, and how the run ended (reason, exit_code).
// docs/tools.md lists every field.
//
//   vt::StatsRecord r = ...;                 // filled by StatsReporter
//   std::fputs(vt::stats_text(r).c_str(), stderr);
//   stats_file << vt::stats_json(r);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/overlay.pidl.h"

namespace vt {

struct StripeRecord {
  std::uint32_t stripe = 0;
  std::optional<std::string> parent;  // short id; none for the source or while repairing
  std::size_t children = 0;
  bool interior = false;
  std::uint64_t repairs = 0;
};

struct StatsRecord {
  std::string event = "stats";  // "stats" or "summary"
  double time = 0;              // seconds since the Unix epoch
  std::string tool;             // "vt-sink"
  std::string peer;             // short id
  overlay::Role role = overlay::Role::kRelay;
  double uptime_s = 0;
  // Chunks received from parents and sent to children: bits/s over the
  // interval (the summary: over the run), and totals.
  double rate_in_bps = 0, rate_out_bps = 0;
  std::uint64_t bytes_in = 0, chunks_in = 0, bytes_out = 0, chunks_out = 0;
  // The source: what it read from its input.
  std::optional<double> input_bps;
  std::optional<std::uint64_t> input_bytes;
  std::uint32_t stripes = 0;
  std::optional<std::uint32_t> parents;  // stripes with a parent (not the source)
  std::size_t children = 0;              // stripe-children, all stripes together
  // The sink: holes skipped in playout and the chunks in them.
  std::optional<std::uint64_t> gaps, skipped_chunks;
  std::uint64_t duplicates = 0, rejected = 0, repairs = 0;
  // How far behind live the newest chunk received is (not the source);
  // nullopt until the stream clock is learned.
  std::optional<double> behind_live_ms;
  bool has_behind_live = false;  // the field applies (behind_live_ms may still be unknown)
  // The sink: what its playout buffer holds, as stream time and chunks.
  std::optional<double> buffer_ms;
  std::optional<std::size_t> buffer_chunks;
  bool has_buffer = false;
  // Mean RTT to the parents; nullopt before one is measured.
  std::optional<double> rtt_ms;
  bool has_rtt = false;
  // Measured: the uplink estimate, the children it pays for, how long
  // chunks wait to leave, the stream's rate; children shed for want of
  // uplink, parents left for being slow.
  double uplink_bps = 0, stream_bps = 0, queue_ms = 0;
  std::uint32_t capacity = 0;
  std::uint64_t shed = 0, slow_parents = 0;
  // The summary: how the run ended ("end of stream", "stopped by SIGINT",
  // "stream lost: ...") and the exit code.
  std::optional<std::string> reason;
  std::optional<int> exit_code;
  std::vector<StripeRecord> per_stripe;  // JSON only ("per_stripe")
};

// The sink's playout, as the stats show it.
struct PlayoutLevel {
  std::uint64_t gaps = 0, skipped_chunks = 0;
  std::optional<double> buffer_ms;  // stream time held; nullopt before playing starts
  std::size_t buffer_chunks = 0;
};

// "<tool>: stats key=value ...\n" (or "<tool>: summary ...").
std::string stats_text(const StatsRecord& record);

// {"event":...,"time":...,"data":{...}} and a newline.
std::string stats_json(const StatsRecord& record);

}  // namespace vt
