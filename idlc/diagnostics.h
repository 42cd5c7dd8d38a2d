// Diagnostics of peers-idlc: every error found in the input, with its place.
//
// The lexer, parser, loader and checker report into one Diagnostics and keep
// going, so a user sees every mistake of a run at once, each printed as
//   proto/overlay.pidl:4:3: error: field number 3 is used twice in struct Join (first used at 3:3)
// Lines and columns count from 1; a column counts bytes, a tab is one byte.
//
//   Diagnostics diags;
//   diags.error("a.pidl", {4, 3}, "unknown type Foo");
//   for (const Diagnostic& d : diags.sorted()) std::cerr << d.str() << "\n";
#pragma once

#include <string>
#include <vector>

namespace peers::idl {

struct Location {
  int line = 0;
  int col = 0;
};

// "4:3".
std::string to_string(Location loc);

struct Diagnostic {
  std::string file;
  Location loc;
  std::string message;

  // "file:line:col: error: message"; "file: error: message" when the error is
  // about the whole file (loc.line == 0).
  std::string str() const;
};

class Diagnostics {
 public:
  void error(const std::string& file, Location loc, std::string message);

  bool has_errors() const { return !all_.empty(); }
  std::size_t count() const { return all_.size(); }
  // In the order reported.
  const std::vector<Diagnostic>& all() const { return all_; }
  // Grouped by file (in the order each file was first mentioned) and sorted by
  // place inside each file; reports at the same place keep their order.
  std::vector<Diagnostic> sorted() const;
  // Makes `file` sort before files first mentioned later (the loader calls it
  // as it reads files, so errors come out in reading order).
  void note_file(const std::string& file);

 private:
  std::vector<Diagnostic> all_;
  std::vector<std::string> files_;
};

}  // namespace peers::idl
