// runfile(): where a Bazel test finds the files of its `data` (the tools it
// starts, test inputs).
//
//   std::string keygen = peers::test::runfile("cmd/vt-keygen/vt-keygen");
//   auto out = peers::Subprocess::run(keygen, {"-o", "-"});
#pragma once

#include <string>
#include <string_view>

namespace peers::test {

// The path of a file in the test's runfiles, from $TEST_SRCDIR (or
// $RUNFILES_DIR) and the workspace name "vidtorrent":
//   runfile("cmd/vt-keygen/vt-keygen") -> $TEST_SRCDIR/vidtorrent/cmd/vt-keygen/vt-keygen
// Throws Error(kNotFound) if the variable is unset or the file does not
// exist (it is missing from the test's data), so a test fails clearly.
std::string runfile(std::string_view path);

}  // namespace peers::test
