#include "lib/kernel/cli.h"

#include <gtest/gtest.h>

#include <string>
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

// What a user who typed `args` reads (the tool's name prefixed by print_failure).
std::string message_for(std::vector<std::string> args) {
  CLI::App app("A test tool.", "t");
  app.fallthrough();
  std::string format = "text", addr, key;
  unsigned stripes = 4;
  bool json = false;
  app.add_option("--log-format", format)->check(CLI::IsMember({"text", "json"}));
  app.add_option("--stripes", stripes)->check(CLI::Range(1u, 64u));
  app.add_option("--count", stripes);
  app.add_option("--key", key)->option_text("FILE")->check(CLI::ExistingFile);
  app.add_option("--join", addr)->option_text("HOST:PORT");
  app.add_flag("--json", json);
  app.require_subcommand(0, 1);
  auto* tree = app.add_subcommand("tree", "Draw");
  tree->add_option("addr", addr)
      ->option_text("HOST:PORT")
      ->required()
      ->check(CLI::Validator([](std::string& s) { return s == "x" ? "bad address 'x'" : ""; }, "",
                             "address"));
  app.add_subcommand("nodes", "List");
  std::vector<char*> argv = {const_cast<char*>("t")};
  for (auto& a : args) argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return usage_message(app, "t", e);
  }
  return "(parsed)";
}

TEST(UsageMessage, CliElevensErrorsInTheToolsStyle) {
  // Lower case, the option first, the value quoted, what is wanted after it.
  EXPECT_EQ(message_for({"--stripes", "65"}),
            "--stripes: bad value '65' (want 1 to 64) (see t --help)");
  EXPECT_EQ(message_for({"--log-format", "xml"}),
            "--log-format: bad value 'xml' (want text|json) (see t --help)");
  EXPECT_EQ(message_for({"--count", "many"}),
            "--count: bad value 'many' (want a number) (see t --help)");
  EXPECT_EQ(message_for({"--key", "/nonexistent/a.key"}),
            "--key: no such file '/nonexistent/a.key' (see t --help)");
  EXPECT_EQ(message_for({"--join"}), "--join: no value (want HOST:PORT) (see t --help)");
  EXPECT_EQ(message_for({"--json=maybe"}), "--json: takes no value (see t --help)");
  EXPECT_EQ(message_for({"--bogus"}), "unexpected argument '--bogus' (see t --help)");
}

TEST(UsageMessage, PointsToTheHelpOfTheSubcommandBeingParsed) {
  EXPECT_EQ(message_for({"tree", "--bogus"}), "unexpected argument '--bogus' (see t tree --help)");
  EXPECT_EQ(message_for({"tree", "h:1", "--bogus"}),
            "unexpected argument '--bogus' (see t tree --help)");
  EXPECT_EQ(message_for({"tree"}), "missing HOST:PORT (see t tree --help)");
  EXPECT_EQ(message_for({"tree", "x"}), "bad address 'x' (see t tree --help)");
  // A top-level option after the subcommand: the tool's help describes it.
  EXPECT_EQ(message_for({"tree", "h:1", "--stripes", "0"}),
            "--stripes: bad value '0' (want 1 to 64) (see t --help)");
  EXPECT_EQ(message_for({"tree", "h:1"}), "(parsed)");
}

TEST(UsageMessage, NamesTheSubcommandsWhenNoneIsGiven) {
  CLI::App app("A test tool.", "t");
  app.require_subcommand(1);
  app.add_subcommand("tree", "Draw");
  app.add_subcommand("nodes", "List");
  std::vector<char*> argv = {const_cast<char*>("t")};
  try {
    app.parse(1, argv.data());
    ADD_FAILURE() << "parsed";
  } catch (const CLI::ParseError& e) {
    EXPECT_EQ(usage_message(app, "t", e), "a subcommand is required (tree, nodes) (see t --help)");
  }
}

}  // namespace
}  // namespace peers
