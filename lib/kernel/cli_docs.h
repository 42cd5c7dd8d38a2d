// A tool's manual page and bash completion, generated from its CLI11
// definitions, so they cannot disagree with --help. ToolCli answers the
// hidden flags `--help-man` and `--help-completion` with them (the build
// writes docs/man/*.1 and completions with these; scripts/install installs
// them).
//
//   std::cout << peers::man_page(cli.app(), "vt-sink", "0.1.0");
//   std::cout << peers::bash_completion(cli.app(), "vt-sink");
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace peers {

// roff (man(7)): NAME, SYNOPSIS, DESCRIPTION, OPTIONS, one section per
// subcommand, EXAMPLES (from the footer), EXIT STATUS.
std::string man_page(const CLI::App& app, const std::string& name, const std::string& version);

// A bash completion script: options of the tool and of the subcommand
// typed, subcommand names, the values of `a|b|c` options, file names for
// FILE and PATH options.
std::string bash_completion(const CLI::App& app, const std::string& name);

}  // namespace peers
