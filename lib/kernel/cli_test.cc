#include "lib/kernel/cli.h"

#include <gtest/gtest.h>

#include <vector>

namespace peers {
namespace {

int run_cli(std::vector<std::string> args, const std::function<int()>& body, std::string* flag) {
  ToolCli cli("t", "A test tool.", "t --name x");
  cli.app().add_option("--name", *flag, "A name")->required();
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return cli.run(static_cast<int>(argv.size()), argv.data(), body);
}

TEST(ToolCli, RunsBodyAndReturnsItsCode) {
  std::string name;
  EXPECT_EQ(run_cli(
                {"t", "--name", "x"}, [] { return 0; }, &name),
            kExitOk);
  EXPECT_EQ(name, "x");
}

TEST(ToolCli, BadFlagIsUsageError) {
  std::string name;
  bool ran = false;
  EXPECT_EQ(run_cli(
                {"t", "--nope"},
                [&] {
                  ran = true;
                  return 0;
                },
                &name),
            kExitUsage);
  EXPECT_FALSE(ran);
  EXPECT_EQ(run_cli(
                {"t"}, [&] { return 0; }, &name),
            kExitUsage);  // --name is required
}

TEST(ToolCli, ErrorsMapToExitCodes) {
  std::string name;
  EXPECT_EQ(run_cli(
                {"t", "--name", "x"}, []() -> int { throw usage_error("bad id"); }, &name),
            kExitUsage);
  EXPECT_EQ(
      run_cli(
          {"t", "--name", "x"}, []() -> int { throw Error(Errc::kConnectionLost, "gone"); }, &name),
      kExitFailure);
}

TEST(ToolCli, HelpAndVersionExitZero) {
  std::string name;
  EXPECT_EQ(run_cli(
                {"t", "--help"}, [] { return 1; }, &name),
            0);
  EXPECT_EQ(run_cli(
                {"t", "--version"}, [] { return 1; }, &name),
            0);
}

TEST(ToolCli, RejectsUnknownLogFormat) {
  std::string name;
  EXPECT_EQ(run_cli(
                {"t", "--name", "x", "--log-format", "xml"}, [] { return 0; }, &name),
            kExitUsage);
}

}  // namespace
}  // namespace peers
