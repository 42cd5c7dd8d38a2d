// Logging to stderr, as text for people or JSON lines for programs.
//
// stdout belongs to the stream (or to machine-readable output), so every log
// line goes to stderr. Thread-safe: one line is written whole.
//
//   peers::log_setup("vt-sink", peers::LogFormat::kText, peers::LogLevel::kInfo);
//   peers::log_info("joined", {{"stripe", "2"}, {"parent", id}});
//   // text:  vt-sink: info: joined stripe=2 parent=vt1...
//   // json:  {"event":"log","time":1764083000.123,"data":{"level":"info",
//   //         "tool":"vt-sink","msg":"joined","stripe":2,"parent":"vt1..."}}
//   // (a field whose text is a number is a JSON number: is_json_number())
#pragma once

#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/kernel/error.h"

namespace peers {

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };
enum class LogFormat { kText, kJson };

Result<LogLevel> parse_log_level(std::string_view text);    // "trace".."error", "off"
Result<LogFormat> parse_log_format(std::string_view text);  // "text" | "json"
std::string_view log_level_name(LogLevel level);

// Sets the tool name, format and threshold. Safe to call again.
void log_setup(std::string tool, LogFormat format, LogLevel level);
// Changes only the format (a tool whose JSON stats share stderr with the logs).
void log_set_format(LogFormat format);
bool log_enabled(LogLevel level);
LogFormat log_format();
const std::string& log_tool();

using LogFields = std::initializer_list<std::pair<std::string_view, std::string>>;

void log(LogLevel level, std::string_view msg, LogFields fields = {});
// The same with fields built at run time (a component that tags its lines).
void log(LogLevel level, std::string_view msg,
         std::span<const std::pair<std::string_view, std::string>> fields);
inline void log_debug(std::string_view m, LogFields f = {}) { log(LogLevel::kDebug, m, f); }
inline void log_info(std::string_view m, LogFields f = {}) { log(LogLevel::kInfo, m, f); }
inline void log_warn(std::string_view m, LogFields f = {}) { log(LogLevel::kWarn, m, f); }
inline void log_error(std::string_view m, LogFields f = {}) { log(LogLevel::kError, m, f); }

// Tests only: also hands every line written (newline included) to `sink`,
// under the log's lock, so a sink must not log itself. stderr still gets the
// line. An empty function removes the sink.
void log_set_sink(std::function<void(std::string_view line)> sink);
LogLevel log_level();  // the threshold
// Tests only: keeps every line written while it lives, at `threshold`, and
// puts back the threshold and an empty sink when it goes (also when the
// test throws).
class LogCapture {
 public:
  explicit LogCapture(LogLevel threshold);
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  LogLevel saved_;
  std::vector<std::string> lines_;
};

// Replaces the clock of log lines: JSON lines' "time" becomes clock() and
// text lines gain a leading "t=SECONDS" field. A simulator sets its virtual
// clock here, so a node's log lines say when they happened in the run. An
// empty function restores the wall clock (and plain text lines). The clock
// is read under the log's lock: it must not log.
void log_set_clock(std::function<double()> clock);
// Escapes a string as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

// True when text is a plain decimal number as programs write them ("0",
// "-12", "3.25"; no leading zeros, no exponent, at most 20 digits): log
// fields and event fields holding one are written as JSON numbers, so
// `"first_seq":0`, not `"first_seq":"0"`. Ids and hex never qualify by
// design (peer ids start with "vt1"; hex with a leading zero stays text).
bool is_json_number(std::string_view text);

// text as a JSON value: the number itself when is_json_number(text), else
// json_quote(text).
std::string json_value(std::string_view text);

// Seconds since the Unix epoch, with milliseconds.
double wall_seconds();

}  // namespace peers
