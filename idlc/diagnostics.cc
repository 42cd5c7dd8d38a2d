#include "idlc/diagnostics.h"

#include <algorithm>

namespace peers::idl {

std::string to_string(Location loc) {
  return std::to_string(loc.line) + ":" + std::to_string(loc.col);
}

std::string Diagnostic::str() const {
  if (loc.line <= 0) return file + ": error: " + message;
  return file + ":" + to_string(loc) + ": error: " + message;
}

void Diagnostics::note_file(const std::string& file) {
  if (std::find(files_.begin(), files_.end(), file) == files_.end()) files_.push_back(file);
}

void Diagnostics::error(const std::string& file, Location loc, std::string message) {
  note_file(file);
  all_.push_back(Diagnostic{file, loc, std::move(message)});
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  auto file_index = [this](const std::string& f) {
    return std::find(files_.begin(), files_.end(), f) - files_.begin();
  };
  std::vector<Diagnostic> out = all_;
  std::stable_sort(out.begin(), out.end(), [&](const Diagnostic& a, const Diagnostic& b) {
    auto fa = file_index(a.file);
    auto fb = file_index(b.file);
    if (fa != fb) return fa < fb;
    if (a.loc.line != b.loc.line) return a.loc.line < b.loc.line;
    return a.loc.col < b.loc.col;
  });
  return out;
}

}  // namespace peers::idl
