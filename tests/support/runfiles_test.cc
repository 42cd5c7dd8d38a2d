#include "tests/support/runfiles.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "lib/kernel/error.h"

namespace peers::test {
namespace {

TEST(Runfile, FindsFilesInTheRunfilesTree) {
  std::string self = runfile("tests/support/runfiles_test");
  EXPECT_EQ(::access(self.c_str(), X_OK), 0) << self;
  EXPECT_EQ(self,
            std::string(std::getenv("TEST_SRCDIR")) + "/vidtorrent/tests/support/runfiles_test");
  EXPECT_THROW(runfile("no/such/file"), Error);
}

}  // namespace
}  // namespace peers::test
