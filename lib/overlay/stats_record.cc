#include "lib/overlay/stats_record.h"

#include <cmath>
#include <cstdio>

#include "lib/kernel/log.h"
#include "lib/kernel/units.h"

namespace vt {

namespace {

enum class Unit { kCount, kBitRate, kBytes, kMillis, kSeconds, kText };

// One field of the schema: its name (the text key; JSON adds the unit's
// suffix) and its value, absent when not known yet.
struct Field {
  std::string name;
  Unit unit;
  std::optional<double> number;
  std::string text;  // Unit::kText
};

const char* json_suffix(Unit unit) {
  switch (unit) {
    case Unit::kBitRate:
      return "_bps";
    case Unit::kMillis:
      return "_ms";
    case Unit::kSeconds:
      return "_s";
    default:
      return "";
  }
}

std::string text_value(const Field& f) {
  if (f.unit == Unit::kText) {
    // Quoted when it holds spaces, so the line stays key=value pairs.
    bool plain = !f.text.empty() && f.text.find_first_of(" \"=") == std::string::npos;
    return plain ? f.text : peers::json_quote(f.text);
  }
  if (!f.number) return "-";
  double v = *f.number;
  char buf[32];
  switch (f.unit) {
    case Unit::kCount:
      std::snprintf(buf, sizeof buf, "%.0f", v);
      return buf;
    case Unit::kBitRate:
      return peers::format_bit_rate(v);
    case Unit::kBytes:
      return peers::format_bytes(v);
    case Unit::kMillis:
      return peers::format_millis(v);
    case Unit::kSeconds:
      std::snprintf(buf, sizeof buf, "%.1fs", v);
      return buf;
    case Unit::kText:
      break;
  }
  return "-";
}

std::string json_number(const Field& f) {
  if (f.unit == Unit::kText) return peers::json_quote(f.text);
  if (!f.number || !std::isfinite(*f.number)) return "null";
  double v = *f.number;
  char buf[40];
  // Rates in whole bits/s, durations in ms to the microsecond, seconds to
  // the millisecond; counts are integers.
  switch (f.unit) {
    case Unit::kMillis:
      std::snprintf(buf, sizeof buf, "%.3f", v);
      break;
    case Unit::kSeconds:
      std::snprintf(buf, sizeof buf, "%.3f", v);
      break;
    default:
      std::snprintf(buf, sizeof buf, "%.0f", v);
  }
  return buf;
}

template <typename T>
std::optional<double> num(std::optional<T> v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}

// The schema: every field in its order, leaving out those that do not
// apply to the record's role.
std::vector<Field> fields(const StatsRecord& r) {
  std::vector<Field> out;
  auto add = [&](std::string name, Unit unit, std::optional<double> v) {
    out.push_back({std::move(name), unit, v, {}});
  };
  auto count = [&](std::string name, double v) { add(std::move(name), Unit::kCount, v); };
  if (r.reason) out.push_back({"reason", Unit::kText, std::nullopt, *r.reason});
  if (r.exit_code) count("exit_code", *r.exit_code);
  add("uptime", Unit::kSeconds, r.uptime_s);
  if (r.input_bps) add("input", Unit::kBitRate, r.input_bps);
  if (r.input_bytes) add("input_bytes", Unit::kBytes, num(r.input_bytes));
  // The source receives nothing from parents: its input stands for it.
  bool source = r.role == overlay::Role::kSource;
  if (!source) add("rate_in", Unit::kBitRate, r.rate_in_bps);
  add("rate_out", Unit::kBitRate, r.rate_out_bps);
  if (!source) {
    add("bytes_in", Unit::kBytes, static_cast<double>(r.bytes_in));
    count("chunks_in", static_cast<double>(r.chunks_in));
  }
  add("bytes_out", Unit::kBytes, static_cast<double>(r.bytes_out));
  count("chunks_out", static_cast<double>(r.chunks_out));
  count("stripes", r.stripes);
  if (r.parents) count("parents", *r.parents);
  count("children", static_cast<double>(r.children));
  if (r.gaps) count("gaps", static_cast<double>(*r.gaps));
  if (r.skipped_chunks) count("skipped_chunks", static_cast<double>(*r.skipped_chunks));
  if (!source) {
    count("duplicates", static_cast<double>(r.duplicates));
    count("rejected", static_cast<double>(r.rejected));
    count("repairs", static_cast<double>(r.repairs));
  }
  if (r.has_behind_live) add("behind_live", Unit::kMillis, r.behind_live_ms);
  if (r.has_buffer) {
    add("buffer", Unit::kMillis, r.buffer_ms);
    add("buffer_chunks", Unit::kCount, num(r.buffer_chunks));
  }
  if (r.has_rtt) add("rtt", Unit::kMillis, r.rtt_ms);
  add("uplink", Unit::kBitRate, r.uplink_bps);
  count("capacity", r.capacity);
  add("queue", Unit::kMillis, r.queue_ms);
  add("stream", Unit::kBitRate, r.stream_bps);
  count("shed", static_cast<double>(r.shed));
  count("slow_parents", static_cast<double>(r.slow_parents));
  return out;
}

}  // namespace

std::string stats_text(const StatsRecord& r) {
  std::string line = r.tool + ": " + r.event;
  for (const Field& f : fields(r)) line += " " + f.name + "=" + text_value(f);
  return line + "\n";
}

std::string stats_json(const StatsRecord& r) {
  char time[32];
  std::snprintf(time, sizeof time, "%.3f", r.time);
  std::string line = "{\"event\":" + peers::json_quote(r.event) + ",\"time\":" + time +
                     ",\"data\":{\"tool\":" + peers::json_quote(r.tool) +
                     ",\"peer\":" + peers::json_quote(r.peer) + ",\"role\":" +
                     peers::json_quote(r.role == overlay::Role::kSource ? "source"
                                       : r.role == overlay::Role::kSink ? "sink"
                                                                        : "relay");
  for (const Field& f : fields(r)) {
    line += "," + peers::json_quote(f.name + json_suffix(f.unit)) + ":" + json_number(f);
  }
  line += ",\"per_stripe\":[";
  for (std::size_t i = 0; i < r.per_stripe.size(); ++i) {
    const StripeRecord& s = r.per_stripe[i];
    if (i) line += ",";
    line += "{\"stripe\":" + std::to_string(s.stripe) +
            ",\"parent\":" + (s.parent ? peers::json_quote(*s.parent) : "null") +
            ",\"children\":" + std::to_string(s.children) +
            ",\"interior\":" + (s.interior ? "true" : "false") +
            ",\"repairs\":" + std::to_string(s.repairs) + "}";
  }
  return line + "]}}\n";
}

}  // namespace vt
