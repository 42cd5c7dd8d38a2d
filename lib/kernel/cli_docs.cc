#include "lib/kernel/cli_docs.h"

#include <cctype>
#include <set>
#include <vector>

namespace peers {

namespace {

// Options a user can type (the hidden ones have no group).
std::vector<const CLI::Option*> visible_options(const CLI::App& app, bool positional) {
  return app.get_options([positional](const CLI::Option* o) {
    return !o->get_group().empty() && o->get_positional() == positional;
  });
}

std::vector<const CLI::App*> subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); });
}

// roff text: backslashes doubled, a leading dot or quote escaped, '-' as \-.
std::string roff(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool line_start = i == 0 || text[i - 1] == '\n';
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  return out;
}

std::string option_names(const CLI::Option* o) {
  std::string names;
  for (const auto& s : o->get_snames()) names += (names.empty() ? "-" : ", -") + s;
  for (const auto& l : o->get_lnames()) names += (names.empty() ? "--" : ", --") + l;
  if (o->get_positional()) names = o->get_name();
  return names;
}

std::string option_value(const CLI::Option* o) {
  if (!o->get_option_text().empty()) return o->get_option_text();
  return o->get_type_name().empty() ? "" : "VALUE";
}

std::string option_items(const std::vector<const CLI::Option*>& options) {
  std::string out;
  for (const CLI::Option* o : options) {
    std::string value = option_value(o);
    out += ".TP\n.B " + roff(option_names(o)) +
           (value.empty() ? "" : " \\fI" + roff(value) + "\\fR") + "\n" +
           roff(o->get_description());
    if (!value.empty() && o->get_required()) out += " (required)";
    if (!value.empty() && !o->get_required() && !o->get_default_str().empty()) {
      out += " (default " + roff(o->get_default_str()) + ")";
    }
    out += "\n";
  }
  return out;
}

std::string examples(const CLI::App& app) {
  std::string footer = app.get_footer();
  const std::string head = "Example:\n";
  if (footer.rfind(head, 0) == 0) footer = footer.substr(head.size());
  std::string out;
  std::size_t start = 0;
  while (start < footer.size()) {
    std::size_t end = footer.find('\n', start);
    if (end == std::string::npos) end = footer.size();
    std::string line = footer.substr(start, end - start);
    while (!line.empty() && line.front() == ' ') line.erase(0, 1);
    if (!line.empty()) out += ".PP\n.nf\n" + roff(line) + "\n.fi\n";
    start = end + 1;
  }
  return out;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string shell_name(const std::string& tool) {
  std::string out = "_";
  for (char c : tool) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

// The words a user may type at a point: option names, or subcommand names.
std::string option_words(const CLI::App& app) {
  std::string out;
  for (const CLI::Option* o : visible_options(app, false)) {
    for (const auto& l : o->get_lnames()) out += (out.empty() ? "--" : " --") + l;
    for (const auto& s : o->get_snames()) out += (out.empty() ? "-" : " -") + s;
  }
  return out;
}

// `case` arms completing the value of options whose value is a file or one
// of a few words.
// Each option name once (subcommands repeat --watch, --help).
std::string value_cases(const CLI::App& app, std::set<std::string>& seen) {
  std::string out;
  for (const CLI::Option* o : visible_options(app, false)) {
    std::string value = option_value(o);
    std::string names;
    for (const auto& l : o->get_lnames()) names += (names.empty() ? "--" : "|--") + l;
    for (const auto& s : o->get_snames()) names += (names.empty() ? "-" : "|-") + s;
    if (names.empty() || value.empty() || !seen.insert(names).second) continue;
    if (value == "FILE" || value == "PATH") {
      out += "      " + names + ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n";
    } else if (value.find('|') != std::string::npos) {
      std::string words = value;
      for (char& c : words) c = c == '|' ? ' ' : c;
      out += "      " + names + ") COMPREPLY=($(compgen -W \"" + words +
             "\" -- \"$cur\")); return ;;\n";
    } else {
      out += "      " + names + ") return ;;\n";  // a value to type
    }
  }
  return out;
}

}  // namespace

std::string man_page(const CLI::App& app, const std::string& name, const std::string& version) {
  std::string out =
      ".TH " + upper(name) + " 1 \"\" \"" + roff(name + " " + version) + "\" \"VidTorrent\"\n";
  out += ".SH NAME\n" + roff(name) + " \\- " + roff(app.get_description()) + "\n";
  out += ".SH SYNOPSIS\n.B " + roff(name) + "\n[\\fIOPTIONS\\fR]";
  auto subs = subcommands(app);
  if (!subs.empty()) out += " [\\fISUBCOMMAND\\fR ...]";
  for (const CLI::Option* p : visible_options(app, true))
    out += " \\fI" + roff(p->get_name()) + "\\fR";
  out += "\n.SH DESCRIPTION\n" + roff(app.get_description()) + "\n";
  out += ".SH OPTIONS\n" + option_items(visible_options(app, false));
  for (const CLI::App* sub : subs) {
    out += ".SH " + upper(roff(name + " " + sub->get_name())) + "\n" +
           roff(sub->get_description()) + "\n";
    out += option_items(visible_options(*sub, true));
    out += option_items(visible_options(*sub, false));
    std::string ex = examples(*sub);
    if (!ex.empty()) out += ".PP\nExamples:\n" + ex;
  }
  std::string ex = examples(app);
  if (!ex.empty()) out += ".SH EXAMPLES\n" + ex;
  out +=
      ".SH EXIT STATUS\n0 success, 1 a runtime failure, 2 a user's mistake (bad flag, bad file, "
      "bad address or peer id), reported in one line on stderr.\n"
      ".SH SEE ALSO\nThe docs/ folder of the VidTorrent source: tools.md, inspect.md, "
      "keyfile.md.\n";
  return out;
}

std::string bash_completion(const CLI::App& app, const std::string& name) {
  std::string fn = shell_name(name);
  std::string out = "# bash completion for " + name + " (generated from its --help definitions)\n";
  out += fn + "() {\n";
  out += "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n";
  out += "  local sub=\"\" w\n";
  auto subs = subcommands(app);
  std::string sub_names;
  for (const CLI::App* s : subs) sub_names += (sub_names.empty() ? "" : " ") + s->get_name();
  if (!subs.empty()) {
    out += "  for w in \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do\n    case \"$w\" in\n      ";
    for (std::size_t i = 0; i < subs.size(); ++i) out += (i ? "|" : "") + subs[i]->get_name();
    out += ") sub=\"$w\" ;;\n    esac\n  done\n";
  }
  std::set<std::string> seen;
  out += "  case \"$prev\" in\n" + value_cases(app, seen);
  for (const CLI::App* s : subs) out += value_cases(*s, seen);
  out += "  esac\n";
  out += "  local words=\"" + option_words(app) + "\"\n";
  if (!subs.empty()) {
    out += "  case \"$sub\" in\n";
    for (const CLI::App* s : subs) {
      out += "    " + s->get_name() + ") words=\"$words " + option_words(*s) + "\" ;;\n";
    }
    out += "    \"\") [[ \"$cur\" != -* ]] && words=\"" + sub_names + "\" ;;\n";
    out += "  esac\n";
  }
  out += "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n";
  out += "}\ncomplete -o default -F " + fn + " " + name + "\n";
  return out;
}

}  // namespace peers
