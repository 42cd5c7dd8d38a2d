// peers-idlc: the interface compiler of Peers. Reads .pidl files (and what they
// import), checks them, and writes C++ types (<file>.pidl.h/.cc), C++ RPC stubs
// (<file>.pidl.rpc.h/.rpc.cc) or a JSON descriptor (<file>.pidl.json) under the
// output directory. Every error in the
// input is printed as "file:line:col: error: message" and the exit code is 2.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "idlc/checker.h"
#include "idlc/diagnostics.h"
#include "idlc/gen_cpp.h"
#include "idlc/gen_json.h"
#include "idlc/gen_rpc.h"
#include "idlc/loader.h"
#include "lib/kernel/cli.h"

namespace peers::idl {
namespace {

namespace fs = std::filesystem;

// Writes through a temporary file and a rename, so a reader (or an
// interrupted build) never sees half a file.
Result<void> write_file(const fs::path& path, const std::string& text) {
  std::error_code ec;
  if (path.has_parent_path()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec)
      return Error(Errc::kIo, "cannot create " + path.parent_path().string() + ": " + ec.message());
  }
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return Error(Errc::kIo, "cannot write " + tmp.string());
  }
  fs::rename(tmp, path, ec);
  if (ec) return Error(Errc::kIo, "cannot write " + path.string() + ": " + ec.message());
  return {};
}

int compile(const std::vector<std::string>& files, const std::vector<std::string>& includes,
            const std::string& out_dir, const std::string& lang) {
  DiskReader disk;
  Diagnostics diags;
  Program program = load(files, includes, disk, diags);
  if (!diags.has_errors()) check(program, diags);
  if (diags.has_errors()) {
    for (const Diagnostic& d : diags.sorted()) std::cerr << d.str() << "\n";
    std::cerr << std::flush;
    return kExitUsage;
  }
  for (const File* f : program.roots) {
    fs::path base = fs::path(out_dir) / f->include_path;
    std::vector<std::pair<fs::path, std::string>> outputs;
    if (lang == "json") {
      outputs.push_back({fs::path(base.string() + ".json"), generate_json(*f)});
    } else if (lang == "rpc") {
      CppOutput rpc = generate_rpc(*f);
      outputs.push_back({fs::path(base.string() + ".rpc.h"), std::move(rpc.header)});
      outputs.push_back({fs::path(base.string() + ".rpc.cc"), std::move(rpc.source)});
    } else {
      CppOutput cpp = generate_cpp(*f);
      outputs.push_back({fs::path(base.string() + ".h"), std::move(cpp.header)});
      outputs.push_back({fs::path(base.string() + ".cc"), std::move(cpp.source)});
    }
    for (const auto& [path, text] : outputs) {
      auto ok = write_file(path, text);
      if (!ok) {
        print_failure("peers-idlc", ok.error().message());
        return kExitFailure;
      }
    }
  }
  return kExitOk;
}

}  // namespace
}  // namespace peers::idl

int main(int argc, char** argv) {
  peers::ToolCli cli(
      "peers-idlc",
      "Compiles Peers IDL files (.pidl) to C++ types (<file>.pidl.h, <file>.pidl.cc),\n"
      "C++ RPC stubs (<file>.pidl.rpc.h, <file>.pidl.rpc.cc) or a JSON descriptor\n"
      "(<file>.pidl.json). Errors in the input are printed as\n"
      "'file:line:col: error: message' (exit code 2). docs/idl.md describes the IDL.",
      "peers-idlc proto/overlay.pidl -I . -o bazel-bin --lang cpp");
  std::vector<std::string> files;
  std::vector<std::string> includes;
  std::string out_dir = ".";
  std::string lang = "cpp";
  CLI::App& app = cli.app();
  app.add_option("files", files, "The .pidl files to compile")->required();
  app.add_option("-I,--include", includes,
                 "A directory to look for imports in, after the importing file's own\n"
                 "directory (repeatable; default: the current directory)")
      ->allow_extra_args(false);  // "-I dir file.pidl": the file is not a second dir
  app.add_option("-o,--out", out_dir,
                 "Output directory: outputs go to OUTDIR/<file as given>.h/.cc,\n"
                 ".rpc.h/.rpc.cc or .json")
      ->capture_default_str();
  app.add_option("--lang", lang,
                 "What to generate: cpp (types), rpc (client and server stubs of the\n"
                 "interfaces; they include the cpp header) or json (descriptor)")
      ->check(CLI::IsMember({"cpp", "rpc", "json"}))
      ->capture_default_str();
  return cli.run(argc, argv, [&] { return peers::idl::compile(files, includes, out_dir, lang); });
}
