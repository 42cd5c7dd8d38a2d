// Fuzz target: the IDL parser (idlc/parser.h). Whatever the text, it returns
// a file or reports why not, within its nesting limit.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "fuzz/fuzz_input.h"
#include "idlc/ast.h"
#include "idlc/diagnostics.h"
#include "idlc/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  peers::fuzz::FuzzInput in(data, size);
  peers::idl::Diagnostics diags;
  std::unique_ptr<peers::idl::File> file = peers::idl::parse(in.rest(), "fuzz.pidl", diags);
  PEERS_FUZZ_CHECK(file || diags.has_errors(), "no file without a reason");
  for (const peers::idl::Diagnostic& d : diags.sorted()) {
    PEERS_FUZZ_CHECK(!d.message.empty(), "a diagnostic says what is wrong");
    (void)d.str();
  }
  return 0;
}
