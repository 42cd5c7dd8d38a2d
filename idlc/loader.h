// The loader of peers-idlc: reads the files named on the command line and,
// transitively, every file they import, into one Program.
//
// An import path is looked up first beside the importing file, then in each
// include directory (-I) in order; the first existing file wins. Two paths
// naming the same file load it once. A missing import, an import cycle and a
// file imported twice are errors, reported at the import statement.
//
//   DiskReader disk;
//   Diagnostics diags;
//   Program p = load({"proto/overlay.pidl"}, {"."}, disk, diags);
//   if (!diags.has_errors()) check(p, diags);
#pragma once

#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "idlc/ast.h"
#include "idlc/diagnostics.h"
#include "lib/kernel/error.h"

namespace peers::idl {

// Where the loader gets source text from: the disk, or memory in tests.
class SourceReader {
 public:
  virtual ~SourceReader() = default;
  // The file's text; an Error with code kNotFound when there is no such file.
  virtual Result<std::string> read(const std::string& path) = 0;
  // A key that two paths naming the same file share.
  virtual std::string identity(const std::string& path) = 0;
};

// Reads regular files of at most kMaxSourceSize bytes.
class DiskReader : public SourceReader {
 public:
  static constexpr std::size_t kMaxSourceSize = 16 << 20;
  Result<std::string> read(const std::string& path) override;
  std::string identity(const std::string& path) override;
};

// Files held in memory, keyed by normalized path ("a/b.pidl").
class MemoryReader : public SourceReader {
 public:
  MemoryReader() = default;
  MemoryReader(std::initializer_list<std::pair<std::string, std::string>> files) {
    for (const auto& [path, text] : files) add(path, text);
  }
  void add(const std::string& path, std::string text) { files_[normalize(path)] = std::move(text); }
  Result<std::string> read(const std::string& path) override;
  std::string identity(const std::string& path) override { return normalize(path); }

 private:
  static std::string normalize(const std::string& path);
  std::map<std::string, std::string> files_;
};

struct Program {
  // Every file read, each after the files it imports.
  std::vector<std::unique_ptr<File>> files;
  // The files named by the caller, in order, each once (a file named twice
  // appears once).
  std::vector<const File*> roots;
};

// Reads and parses `paths` and their imports. With no include directories the
// current directory is the only one. Syntax errors and import problems go to
// `diags`; what could be read is still returned.
Program load(const std::vector<std::string>& paths, const std::vector<std::string>& include_dirs,
             SourceReader& reader, Diagnostics& diags);

// "./a//b.pidl" -> "a/b.pidl" (lexical, '/' separators).
std::string normalize_path(const std::string& path);

}  // namespace peers::idl
