#include "tests/support/golden.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/support/runfiles.h"

namespace vt::test {

namespace {

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

void expect_golden(const std::string& name, const std::string& actual) {
  const std::string relative = "testdata/golden/" + name;
  const char* update = std::getenv("VT_UPDATE_GOLDENS");
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (update && *update && workspace && *workspace) {
    std::ofstream out(std::string(workspace) + "/" + relative, std::ios::binary | std::ios::trunc);
    out << actual;
    ADD_FAILURE() << "rewrote " << relative << " (VT_UPDATE_GOLDENS): review the diff";
    return;
  }
  std::string expected;
  try {
    expected = read_whole(peers::test::runfile(relative));
  } catch (const std::exception& e) {
    ADD_FAILURE() << "golden " << relative << " missing (" << e.what()
                  << "); write it with VT_UPDATE_GOLDENS=1 bazel run. Actual:\n"
                  << actual;
    return;
  }
  EXPECT_EQ(expected, actual) << "golden " << relative << " differs";
}

}  // namespace vt::test
