#include "lib/kernel/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

namespace peers {
namespace {

std::mutex g_mu;
std::string g_tool = "peers";
std::atomic<LogFormat> g_format{LogFormat::kText};
std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::function<void(std::string_view)> g_sink;  // guarded by g_mu
std::function<double()> g_clock;               // guarded by g_mu

// Text values with spaces or quotes are quoted so a line stays parseable.
std::string text_value(std::string_view v) {
  bool plain = !v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) plain = false;
  }
  return plain ? std::string(v) : json_quote(v);
}

}  // namespace

Result<LogLevel> parse_log_level(std::string_view t) {
  if (t == "trace") return LogLevel::kTrace;
  if (t == "debug") return LogLevel::kDebug;
  if (t == "info") return LogLevel::kInfo;
  if (t == "warn" || t == "warning") return LogLevel::kWarn;
  if (t == "error") return LogLevel::kError;
  if (t == "off") return LogLevel::kOff;
  return Error(Errc::kInvalidArgument, "unknown log level '" + std::string(t) +
                                           "' (want trace, debug, info, warn, error or off)");
}

Result<LogFormat> parse_log_format(std::string_view t) {
  if (t == "text") return LogFormat::kText;
  if (t == "json") return LogFormat::kJson;
  return Error(Errc::kInvalidArgument,
               "unknown log format '" + std::string(t) + "' (want text or json)");
}

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      return "off";
  }
  return "unknown";
}

void log_setup(std::string tool, LogFormat format, LogLevel level) {
  std::lock_guard lock(g_mu);
  g_tool = std::move(tool);
  g_format = format;
  g_level = level;
}

void log_set_format(LogFormat format) { g_format = format; }

void log_set_sink(std::function<void(std::string_view line)> sink) {
  std::lock_guard lock(g_mu);
  g_sink = std::move(sink);
}

LogLevel log_level() { return g_level.load(); }

LogCapture::LogCapture(LogLevel threshold) : saved_(log_level()) {
  log_setup(log_tool(), log_format(), threshold);
  log_set_sink([this](std::string_view line) { lines_.emplace_back(line); });
}

LogCapture::~LogCapture() {
  log_set_sink(nullptr);
  log_setup(log_tool(), log_format(), saved_);
}

void log_set_clock(std::function<double()> clock) {
  std::lock_guard lock(g_mu);
  g_clock = std::move(clock);
}

bool log_enabled(LogLevel level) { return level >= g_level.load() && level != LogLevel::kOff; }
LogFormat log_format() { return g_format.load(); }
const std::string& log_tool() { return g_tool; }

double wall_seconds() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::milliseconds>(now).count() / 1000.0;
}

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

bool is_json_number(std::string_view t) {
  std::size_t i = 0;
  if (i < t.size() && t[i] == '-') ++i;
  std::size_t int_start = i;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  std::size_t int_digits = i - int_start;
  if (int_digits == 0 || int_digits > 20) return false;
  if (int_digits > 1 && t[int_start] == '0') return false;
  if (i == t.size()) return true;
  if (t[i] != '.') return false;
  std::size_t frac_start = ++i;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  return i == t.size() && i > frac_start && i - frac_start <= 20;
}

std::string json_value(std::string_view text) {
  return is_json_number(text) ? std::string(text) : json_quote(text);
}

void log(LogLevel level, std::string_view msg, LogFields fields) {
  log(level, msg, std::span(fields.begin(), fields.size()));
}

void log(LogLevel level, std::string_view msg,
         std::span<const std::pair<std::string_view, std::string>> fields) {
  if (!log_enabled(level)) return;
  std::string line;
  std::lock_guard lock(g_mu);
  if (g_format == LogFormat::kJson) {
    char t[32];
    std::snprintf(t, sizeof t, "%.3f", g_clock ? g_clock() : wall_seconds());
    line = "{\"event\":\"log\",\"time\":";
    line += t;
    line += ",\"data\":{\"level\":" + json_quote(log_level_name(level)) +
            ",\"tool\":" + json_quote(g_tool) + ",\"msg\":" + json_quote(msg);
    for (const auto& [k, v] : fields) line += "," + json_quote(k) + ":" + json_value(v);
    line += "}}\n";
  } else {
    line = g_tool + ": ";
    if (g_clock) {
      char t[32];
      std::snprintf(t, sizeof t, "t=%.3f ", g_clock());
      line += t;
    }
    line += std::string(log_level_name(level)) + ": " + std::string(msg);
    for (const auto& [k, v] : fields) line += " " + std::string(k) + "=" + text_value(v);
    line += "\n";
  }
  if (g_sink) g_sink(line);
  // One write(2) per line so lines from several threads or processes never interleave.
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace peers
