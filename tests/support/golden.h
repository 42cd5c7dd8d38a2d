// Golden files: expected outputs under testdata/golden/, compared exactly.
//
//   vt::test::expect_golden("stats/sink.txt", stats_text(record));
//
// A mismatch fails the test and prints both texts. To accept a change, run
// the test with `VT_UPDATE_GOLDENS=1 bazel run //tests:<test>`: then the
// files are rewritten in the workspace (BUILD_WORKSPACE_DIRECTORY, which
// `bazel run` sets) and the test still fails once, so an update is never
// silent; review the diff before committing.
#pragma once

#include <string>

namespace vt::test {

// Compares actual with testdata/golden/<name> (from the test's runfiles;
// the file must be in the test's data).
void expect_golden(const std::string& name, const std::string& actual);

}  // namespace vt::test
