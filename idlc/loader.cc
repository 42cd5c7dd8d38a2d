#include "idlc/loader.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "idlc/parser.h"

namespace peers::idl {
namespace {

namespace fs = std::filesystem;

bool escapes(const std::string& normal) { return normal == ".." || normal.rfind("../", 0) == 0; }

class Loader {
 public:
  Loader(const std::vector<std::string>& include_dirs, SourceReader& reader, Diagnostics& diags)
      : includes_(include_dirs), reader_(reader), diags_(diags) {
    if (includes_.empty()) includes_.push_back(".");
  }

  Program run(const std::vector<std::string>& paths) {
    for (const std::string& given : paths) {
      std::string path = normalize_path(given);
      std::string id = reader_.identity(path);
      if (auto it = loaded_.find(id); it != loaded_.end()) {
        add_root(it->second);
        continue;
      }
      auto include_path = root_include_path(path);
      if (!include_path) {
        diags_.error(path, {},
                     "the file must be below the current directory or an include directory "
                     "(-I), so its outputs have a place under the output directory");
        continue;
      }
      auto text = reader_.read(path);
      if (!text) {
        diags_.error(path, {}, "cannot read the file: " + text.error().message());
        continue;
      }
      add_root(load_file(path, *include_path, id, *text));
    }
    return std::move(program_);
  }

 private:
  void add_root(const File* f) {
    for (const File* r : program_.roots) {
      if (r == f) return;
    }
    program_.roots.push_back(f);
  }

  std::optional<std::string> root_include_path(const std::string& path) {
    if (!fs::path(path).is_absolute() && !escapes(path)) return path;
    std::error_code ec;
    fs::path abs = fs::weakly_canonical(fs::absolute(path, ec), ec);
    for (const std::string& inc : includes_) {
      fs::path base = fs::weakly_canonical(fs::absolute(inc, ec), ec);
      std::string rel = abs.lexically_relative(base).generic_string();
      if (!rel.empty() && rel != "." && !escapes(rel)) return rel;
    }
    return std::nullopt;
  }

  const File* load_file(const std::string& path, const std::string& include_path,
                        const std::string& id, const std::string& text) {
    diags_.note_file(path);
    std::unique_ptr<File> file = parse(text, path, diags_);
    file->include_path = include_path;
    File* raw = file.get();
    loaded_[id] = raw;
    stack_.push_back({id, path});
    std::map<std::string, Location> seen;  // identity -> first import of it
    for (Import& imp : file->imports) {
      auto found = resolve(*file, imp);
      if (!found) continue;
      auto [found_path, found_include, found_id, found_text] = std::move(*found);
      if (auto [it, fresh] = seen.emplace(found_id, imp.loc); !fresh) {
        diags_.error(path, imp.loc,
                     found_path + " is already imported at " + to_string(it->second));
        continue;
      }
      if (const std::string* cycle = on_stack(found_id)) {
        std::string chain;
        bool in = false;
        for (const auto& [sid, spath] : stack_) {
          if (&spath == cycle) in = true;
          if (in) chain += spath + " -> ";
        }
        diags_.error(path, imp.loc, "import cycle: " + chain + found_path);
        continue;
      }
      if (auto it = loaded_.find(found_id); it != loaded_.end()) {
        imp.file = it->second;
      } else {
        imp.file = load_file(found_path, found_include, found_id, found_text);
      }
    }
    stack_.pop_back();
    program_.files.push_back(std::move(file));
    return raw;
  }

  // The display path of the file on the stack with this identity, if any.
  const std::string* on_stack(const std::string& id) const {
    for (const auto& [sid, spath] : stack_) {
      if (sid == id) return &spath;
    }
    return nullptr;
  }

  struct Found {
    std::string path;
    std::string include_path;
    std::string id;
    std::string text;
  };

  std::optional<Found> resolve(const File& from, const Import& imp) {
    if (imp.path.empty()) {
      diags_.error(from.path, imp.loc, "the import path is empty");
      return std::nullopt;
    }
    if (fs::path(imp.path).is_absolute()) {
      diags_.error(from.path, imp.loc,
                   "import \"" + imp.path +
                       "\" is absolute; imports are relative to the importing file or an "
                       "include directory");
      return std::nullopt;
    }
    struct Candidate {
      std::string path;
      std::string include_path;
    };
    std::vector<Candidate> candidates;
    std::string here = fs::path(from.path).parent_path().generic_string();
    std::string here_include = fs::path(from.include_path).parent_path().generic_string();
    candidates.push_back({normalize_path((fs::path(here) / imp.path).generic_string()),
                          normalize_path((fs::path(here_include) / imp.path).generic_string())});
    for (const std::string& inc : includes_) {
      candidates.push_back(
          {normalize_path((fs::path(inc) / imp.path).generic_string()), normalize_path(imp.path)});
    }
    for (const Candidate& c : candidates) {
      auto text = reader_.read(c.path);
      if (text) return Found{c.path, c.include_path, reader_.identity(c.path), std::move(*text)};
      if (text.error().code() != Errc::kNotFound) {
        diags_.error(from.path, imp.loc, "cannot read " + c.path + ": " + text.error().message());
        return std::nullopt;
      }
    }
    std::string searched = here.empty() ? "." : here;
    for (const std::string& inc : includes_) searched += ", " + inc;
    diags_.error(from.path, imp.loc,
                 "cannot find import \"" + imp.path + "\" (searched " + searched + ")");
    return std::nullopt;
  }

  std::vector<std::string> includes_;
  SourceReader& reader_;
  Diagnostics& diags_;
  Program program_;
  std::map<std::string, const File*> loaded_;
  std::vector<std::pair<std::string, std::string>> stack_;  // identity, display path
};

}  // namespace

std::string normalize_path(const std::string& path) {
  std::string out = fs::path(path).lexically_normal().generic_string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out.empty() ? "." : out;
}

Result<std::string> DiskReader::read(const std::string& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return Error(Errc::kNotFound, "no such file");
  if (!fs::is_regular_file(st)) return Error(Errc::kInvalidArgument, "not a regular file");
  auto size = fs::file_size(path, ec);
  if (ec) return Error(Errc::kIo, ec.message());
  if (size > kMaxSourceSize) {
    return Error(Errc::kInvalidArgument,
                 "larger than " + std::to_string(kMaxSourceSize >> 20) + " MiB");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Errc::kIo, "cannot open it");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error(Errc::kIo, "read failed");
  return text.str();
}

std::string DiskReader::identity(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? normalize_path(path) : p.generic_string();
}

std::string MemoryReader::normalize(const std::string& path) { return normalize_path(path); }

Result<std::string> MemoryReader::read(const std::string& path) {
  auto it = files_.find(normalize(path));
  if (it == files_.end()) return Error(Errc::kNotFound, "no such file");
  return it->second;
}

Program load(const std::vector<std::string>& paths, const std::vector<std::string>& include_dirs,
             SourceReader& reader, Diagnostics& diags) {
  return Loader(include_dirs, reader, diags).run(paths);
}

}  // namespace peers::idl
