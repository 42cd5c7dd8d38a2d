#include "lib/kernel/cli.h"

#include <iostream>

#include "lib/kernel/log.h"
#include "lib/kernel/signals.h"
#include "lib/kernel/version.h"

namespace peers {

Error usage_error(std::string message) { return Error(Errc::kInvalidArgument, std::move(message)); }

int exit_code_for(const Error& e) {
  switch (e.code()) {
    case Errc::kInvalidArgument:
    case Errc::kNotFound:
    case Errc::kPermissionDenied:
      return kExitUsage;
    default:
      return kExitFailure;
  }
}

void print_failure(const std::string& tool, const std::string& message) {
  std::cerr << tool << ": " << message << std::endl;
}

ToolCli::ToolCli(std::string name, std::string description, std::string example)
    : name_(std::move(name)), app_(std::move(description), name_) {
  app_.set_version_flag("--version", name_ + " " + kVersion);
  app_.footer("Example:\n  " + example);
  app_.add_option("--log-format", log_format_, "Log format on stderr: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app_.add_option("--log-level", log_level_, "Log threshold: trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
}

int ToolCli::run(int argc, char** argv, const std::function<int()>& body) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app_.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app_.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app_.exit(e);
  } catch (const CLI::ParseError& e) {
    print_failure(name_, e.what());
    std::cerr << "Run '" << name_ << " --help' for usage." << std::endl;
    return kExitUsage;
  } catch (const Error& e) {
    // A subcommand callback may already fail while parsing.
    print_failure(name_, e.what());
    return exit_code_for(e);
  }
  log_setup(name_, *parse_log_format(log_format_), *parse_log_level(log_level_));
  install_stop_signals();
  try {
    return body();
  } catch (const Error& e) {
    print_failure(name_, e.what());
    return exit_code_for(e);
  } catch (const std::exception& e) {
    print_failure(name_, std::string("internal error: ") + e.what());
    return kExitFailure;
  }
}

}  // namespace peers
