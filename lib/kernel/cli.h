// The command-line frame every tool shares (CLI11).
//
// ToolCli gives each tool the same --help (with an example), --version,
// --log-format text|json, --log-level, signal handling and exit codes:
// 0 success, 1 runtime failure, 2 a user's mistake (bad flag, bad file, bad
// id). Failures print one line on stderr: "<tool>: <message>", or a JSON
// log line with --log-format json. --help shows each option's value by name
// (option_text: `--listen HOST:PORT`), its default or "(required)", wrapped
// at 80 columns, without CLI11's type names.
//
//   int main(int argc, char** argv) {
//     peers::ToolCli cli("vt-keygen", "Makes identities.", "vt-keygen -o alice.key");
//     std::string out;
//     cli.app().add_option("-o,--output", out, "Key file to write");
//     return cli.run(argc, argv, [&] { return make_key(out); });
//   }
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "lib/kernel/error.h"

namespace peers {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// An Error meaning "the user asked for something wrong": the tool exits 2.
Error usage_error(std::string message);

// Maps an error to the tool's exit code (2 for kInvalidArgument/kPermissionDenied
// on the user's input, 1 otherwise).
int exit_code_for(const Error& e);

class ToolCli {
 public:
  ToolCli(std::string name, std::string description, std::string example);

  CLI::App& app() { return app_; }

  // `flag` given without `unless` also makes the logs JSON lines (the peer
  // tools' --json without --stats-file): a mistake found while parsing is
  // then a JSON line too, as with --log-format json.
  void json_logs_with(std::string flag, std::string unless) {
    json_flag_ = std::move(flag);
    json_unless_ = std::move(unless);
  }
  const std::string& name() const { return name_; }

  // Parses argv, sets up logging and the stop signals, then runs body (or the
  // selected subcommand's callback, which body may inspect). Returns the exit
  // code; never throws.
  int run(int argc, char** argv, const std::function<int()>& body);

 private:
  std::string name_;
  CLI::App app_;
  std::string log_format_ = "text";
  std::string log_level_ = "info";
  std::string json_flag_;
  std::string json_unless_;
};

// The one line a CLI11 parse failure becomes, in the tools' own style: lower
// case, the option first, the value quoted and what is wanted in
// parentheses, then where to read more, the help of the (sub)command being
// parsed:
//   --stripes: bad value '65' (want 1 to 64) (see vt-source --help)
//   unexpected argument '--bogus' (see vt-inspect tree --help)
// `app` is the tool's parsed (or partly parsed) top-level app; `tool` its name.
std::string usage_message(const CLI::App& app, const std::string& tool, const CLI::ParseError& e);

// Prints "<tool>: <message>" on stderr as one line (always, whatever the log
// level); with JSON logs, {"event":"log",...,"data":{"level":"error",...}}.
void print_failure(const std::string& tool, const std::string& message);

}  // namespace peers
