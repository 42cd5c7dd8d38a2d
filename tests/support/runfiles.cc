#include "tests/support/runfiles.h"

#include <unistd.h>

#include <cstdlib>

#include "lib/kernel/error.h"

namespace peers::test {

std::string runfile(std::string_view path) {
  const char* dir = std::getenv("TEST_SRCDIR");
  if (dir == nullptr || *dir == '\0') dir = std::getenv("RUNFILES_DIR");
  if (dir == nullptr || *dir == '\0') {
    throw Error(Errc::kNotFound, "cannot find runfile '" + std::string(path) +
                                     "': TEST_SRCDIR is not set (run the test with bazel test)");
  }
  std::string full = std::string(dir) + "/vidtorrent/" + std::string(path);
  if (::access(full.c_str(), F_OK) != 0) {
    throw Error(Errc::kNotFound, "runfile '" + std::string(path) + "' not found at " + full +
                                     " (is it in the test's data?)");
  }
  return full;
}

}  // namespace peers::test
