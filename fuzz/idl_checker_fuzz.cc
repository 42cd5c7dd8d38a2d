// Fuzz target: the IDL loader and checker (idlc/loader.h, idlc/checker.h), and
// the generators they guard. The input is a.pidl; a line "//--" in it starts
// a second file, b.pidl, which a.pidl may import, and both may import
// testdata/idl/common.pidl's text as "common.pidl". A program the checker
// accepts must generate C++ types, RPC stubs and JSON descriptors without
// failing: the generators trust the checker.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_input.h"
#include "idlc/checker.h"
#include "idlc/diagnostics.h"
#include "idlc/gen_cpp.h"
#include "idlc/gen_json.h"
#include "idlc/gen_rpc.h"
#include "idlc/loader.h"

namespace {

constexpr std::string_view kCommon = R"(package peers.idltest.common;
enum Color { NONE = 0; RED = 1; GREEN = 2; }
struct Point { 1: i32 x; 2: i32 y; }
error Busy { 1: u32 retry_after_ms; }
)";

constexpr std::string_view kSeparator = "\n//--\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  peers::fuzz::FuzzInput in(data, size);
  std::string_view text = in.rest();
  std::string_view a = text, b;
  if (std::size_t cut = text.find(kSeparator); cut != std::string_view::npos) {
    a = text.substr(0, cut);
    b = text.substr(cut + kSeparator.size());
  }
  peers::idl::MemoryReader reader;
  reader.add("a.pidl", std::string(a));
  if (b.data()) reader.add("b.pidl", std::string(b));
  reader.add("common.pidl", std::string(kCommon));

  peers::idl::Diagnostics diags;
  peers::idl::Program program = peers::idl::load({"a.pidl"}, {}, reader, diags);
  if (diags.has_errors()) return 0;
  peers::idl::check(program, diags);
  if (diags.has_errors()) return 0;
  for (const auto& file : program.files) {
    (void)peers::idl::generate_cpp(*file);
    (void)peers::idl::generate_rpc(*file);
    (void)peers::idl::generate_json(*file);
  }
  return 0;
}
