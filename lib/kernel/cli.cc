#include "lib/kernel/cli.h"

#include <cstdio>
#include <iostream>
#include <memory>
#include <regex>
#include <sstream>
#include <string_view>

#include "lib/kernel/cli_docs.h"
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
  // One line, whatever the message held; JSON when the logs are.
  std::string one_line = message;
  for (char& c : one_line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (log_format() == LogFormat::kJson) {
    char time[32];
    std::snprintf(time, sizeof time, "%.3f", wall_seconds());
    std::cerr << "{\"event\":\"log\",\"time\":" << time
              << ",\"data\":{\"level\":\"error\",\"tool\":" << json_quote(tool)
              << ",\"msg\":" << json_quote(one_line) << "}}" << std::endl;
    return;
  }
  std::cerr << tool << ": " << one_line << std::endl;
}

namespace {

// Words wrapped to `width` columns, lines joined by "\n".
std::string wrap(const std::string& text, std::size_t width) {
  std::string out, line;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find_first_of(" \n", start);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(start, end - start);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    if (end < text.size() && text[end] == '\n') {
      out += line + "\n";
      line.clear();
    }
    start = end + 1;
  }
  return out + line;
}

// --help without CLI11's type clutter ("TEXT:{text,json}=text"): an
// option shows its value's name (option_text: HOST:PORT, DURATION; VALUE
// when none is set), and its description says the default or that it is
// required; descriptions wrap at 80 columns.
class ToolFormatter : public CLI::Formatter {
 public:
  ToolFormatter() { column_width(kColumn); }

  // Flags have no type name (and nothing to show).
  static bool is_flag(const CLI::Option* opt) {
    return opt->get_option_text().empty() && opt->get_type_name().empty();
  }

  std::string make_option_opts(const CLI::Option* opt) const override {
    if (is_flag(opt)) return "";
    std::string out =
        " " + (opt->get_option_text().empty() ? std::string("VALUE") : opt->get_option_text());
    if (opt->get_expected_max() == CLI::detail::expected_max_vector_size) out += " ...";
    return out;
  }

  std::string make_option_desc(const CLI::Option* opt) const override {
    std::string desc = opt->get_description();
    if (!is_flag(opt)) {
      if (opt->get_required()) {
        desc += " (required)";
      } else if (!opt->get_default_str().empty()) {
        desc += " (default " + opt->get_default_str() + ")";
      }
    }
    return wrap(desc, kWidth - kColumn);
  }

  std::string make_subcommand(const CLI::App* sub) const override {
    std::stringstream out;
    CLI::detail::format_help(out, sub->get_display_name(true),
                             wrap(sub->get_description(), kWidth - kColumn), column_width_);
    return out.str();
  }

  std::string make_description(const CLI::App* app) const override {
    std::string desc = app->get_description();
    return desc.empty() ? "" : wrap(desc, kWidth) + "\n";
  }

 private:
  static constexpr std::size_t kColumn = 30;
  static constexpr std::size_t kWidth = 80;
};

// CLI11's messages start with a capital ("The following argument was not
// expected"); the tools' own are lower case.
std::string lower_first(std::string message) {
  if (!message.empty() && message[0] >= 'A' && message[0] <= 'Z' &&
      !(message.size() > 1 && message[1] >= 'A' && message[1] <= 'Z')) {
    message[0] = static_cast<char>(message[0] - 'A' + 'a');
  }
  return message;
}

// The deepest subcommand parsed so far: its options and its --help are the
// ones the user was writing.
std::vector<const CLI::App*> parsed_chain(const CLI::App& app) {
  std::vector<const CLI::App*> chain = {&app};
  for (;;) {
    auto subs = chain.back()->get_subcommands();
    if (subs.empty()) return chain;
    chain.push_back(subs.back());
  }
}

// The option `name` of the innermost app that has it, or nullptr.
const CLI::Option* find_option(const std::vector<const CLI::App*>& chain, const std::string& name) {
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (const CLI::Option* opt = (*it)->get_option_no_throw(name)) return opt;
  }
  return nullptr;
}

// A positional argument's name ("addr") means nothing to the user, who
// never typed it.
bool is_positional(const std::vector<const CLI::App*>& chain, const std::string& name) {
  const CLI::Option* opt = find_option(chain, name);
  return opt && opt->get_positional() && name.rfind('-', 0) != 0;
}

}  // namespace

std::string usage_message(const CLI::App& app, const std::string& tool, const CLI::ParseError& e) {
  std::vector<const CLI::App*> chain = parsed_chain(app);
  std::string message = e.what();
  // CLI11 checks what is required before what is left over, but an unknown
  // flag (a typo) is the likelier mistake: `tree --bogus` names --bogus.
  std::vector<std::string> extra = app.remaining(/*recurse=*/true);
  if (dynamic_cast<const CLI::RequiredError*>(&e) && !extra.empty()) {
    message = CLI::ExtrasError(extra).what();
  }
  std::smatch m;
  // CLI11's shapes (CLI/Error.hpp, CLI/Validators.hpp in 2.1), in ours.
  static const std::regex range("^(\\S+): Value (.*) not in range (\\S+) to (\\S+)$");
  static const std::regex member("^(\\S+): (.*) not in \\{(.*)\\}$");
  static const std::regex no_file("^(\\S+): (File|Directory|Path) does not exist: (.*)$");
  static const std::regex convert("^Could not convert: (\\S+) = (.*)$");
  static const std::regex not_allowed("^The value (.*) is not an allowed value for (\\S+)$");
  static const std::regex missing("^(\\S+): \\d+ required \\S+ missing$");
  static const std::regex required("^(\\S+) is required$");
  static const std::regex extras("^The following arguments? (?:was|were) not expected: (.*)$");
  static const std::regex flag_value(
      "^(\\S+): (?:Should be true/false or a number|too many "
      "inputs for a flag)$");
  if (std::regex_match(message, m, range)) {
    message =
        m.str(1) + ": bad value '" + m.str(2) + "' (want " + m.str(3) + " to " + m.str(4) + ")";
  } else if (std::regex_match(message, m, member)) {
    message = m.str(1) + ": bad value '" + m.str(2) + "' (want " +
              std::regex_replace(m.str(3), std::regex(","), "|") + ")";
  } else if (std::regex_match(message, m, no_file)) {
    std::string what = m.str(2) == "File" ? "file" : m.str(2) == "Directory" ? "directory" : "path";
    message = m.str(1) + ": no such " + what + " '" + m.str(3) + "'";
  } else if (std::regex_match(message, m, convert)) {
    const CLI::Option* opt = find_option(chain, m.str(1));
    message = opt && opt->get_expected_max() == 0
                  ? m.str(1) + ": takes no value"  // a flag given "=maybe"
                  : m.str(1) + ": bad value '" + m.str(2) + "' (want a number)";
  } else if (std::regex_match(message, m, not_allowed)) {
    message = m.str(2) + ": bad value '" + m.str(1) + "'";
  } else if (std::regex_match(message, m, missing)) {
    const CLI::Option* opt = find_option(chain, m.str(1));
    std::string want = opt ? opt->get_option_text() : "";
    message = m.str(1) + ": no value" + (want.empty() ? "" : " (want " + want + ")");
  } else if (std::regex_match(message, m, required) && is_positional(chain, m.str(1))) {
    std::string want = find_option(chain, m.str(1))->get_option_text();
    message = "missing " + (want.empty() ? m.str(1) : want);
  } else if (std::regex_match(message, m, extras)) {
    std::string args = m.str(1);
    message = args.find(' ') == std::string::npos ? "unexpected argument '" + args + "'"
                                                  : "unexpected arguments '" + args + "'";
  } else if (std::regex_match(message, m, flag_value)) {
    message = m.str(1) + ": takes no value";
  } else if (message == "A subcommand is required") {
    std::string names;
    for (const CLI::App* sub : chain.back()->get_subcommands({})) {
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    message = "a subcommand is required" + (names.empty() ? "" : " (" + names + ")");
  } else if (std::regex_match(message, m, std::regex("^(\\S+): (.*)$")) &&
             is_positional(chain, m.str(1))) {
    // A validator's message about a positional argument: the message alone.
    message = lower_first(m.str(2));
  } else {
    // Anything else: lower case, also after a leading "--option: ".
    message = lower_first(message);
    std::size_t colon = message.find(": ");
    if (colon != std::string::npos && message.find(' ') > colon) {
      message = message.substr(0, colon + 2) + lower_first(message.substr(colon + 2));
    }
  }
  // The help that describes the option the message begins with (a
  // top-level option given after the subcommand is in the tool's help, not
  // the subcommand's); else the help of the subcommand being parsed.
  std::size_t depth = chain.size() - 1;
  if (std::regex_search(message, m, std::regex("^(--[a-z][a-z0-9-]*): "))) {
    for (std::size_t i = chain.size(); i-- > 0;) {
      if (chain[i]->get_option_no_throw(m.str(1))) {
        depth = i;
        break;
      }
    }
  }
  std::string help = tool;
  for (std::size_t i = 1; i <= depth; ++i) help += " " + chain[i]->get_name();
  return message + " (see " + help + " --help)";
}

namespace {

// --log-format json anywhere on the command line, or a flag that makes the
// logs JSON (`json_flag` without `unless`): failures while parsing it are
// JSON too.
bool asks_for_json_logs(int argc, char** argv, std::string_view json_flag,
                        std::string_view unless) {
  bool flag = false, unless_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--log-format=json") return true;
    if (a == "--log-format" && i + 1 < argc && std::string_view(argv[i + 1]) == "json") return true;
    flag |= !json_flag.empty() && a == json_flag;
    unless_given |=
        !unless.empty() &&
        (a == unless || (a.starts_with(unless) && a.substr(unless.size()).starts_with("=")));
  }
  return flag && !unless_given;
}

}  // namespace

ToolCli::ToolCli(std::string name, std::string description, std::string example)
    : name_(std::move(name)), app_(std::move(description), name_) {
  app_.formatter(std::make_shared<ToolFormatter>());
  app_.set_help_flag("-h,--help", "Print this help and exit");
  app_.set_version_flag("--version", name_ + " " + kVersion, "Print the version and exit");
  app_.footer("Example:\n  " + example);
  app_.add_option("--log-format", log_format_, "Logs on stderr as text or JSON lines")
      ->check(CLI::IsMember({"text", "json"}))
      ->option_text("text|json")
      ->capture_default_str();
  app_.add_option("--log-level", log_level_, "Log threshold")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->option_text("trace|debug|info|warn|error|off")
      ->capture_default_str();
}

int ToolCli::run(int argc, char** argv, const std::function<int()>& body) {
  // For the build (man pages, completion): before parsing, which would
  // insist on required options.
  if (argc == 2 && std::string_view(argv[1]) == "--help-man") {
    std::cout << man_page(app_, name_, kVersion);
    return kExitOk;
  }
  if (argc == 2 && std::string_view(argv[1]) == "--help-completion") {
    std::cout << bash_completion(app_, name_);
    return kExitOk;
  }
  if (asks_for_json_logs(argc, argv, json_flag_, json_unless_)) log_set_format(LogFormat::kJson);
  try {
    app_.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app_.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app_.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app_.exit(e);
  } catch (const CLI::ParseError& e) {
    print_failure(name_, usage_message(app_, name_, e));
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
