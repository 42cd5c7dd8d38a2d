// Every tool's command line as a user meets it: each --help (and each
// subcommand's) against a golden file in testdata/golden/help/, and the
// mistakes that must fail at once: exit 2, one line on stderr, nothing on
// stdout, nothing started (no listening, no joining, no retries).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "lib/kernel/subprocess.h"
#include "tests/support/golden.h"
#include "tests/support/runfiles.h"

namespace {

using peers::ExitStatus;
using peers::Output;
using peers::Subprocess;
using namespace std::chrono_literals;

Output run(const std::string& tool, const std::vector<std::string>& args) {
  std::string path = tool == "peers-idlc" ? "idlc/peers-idlc" : "cmd/" + tool + "/" + tool;
  auto out = Subprocess::run(peers::test::runfile(path), args, {}, {}, 30s);
  EXPECT_TRUE(out) << (out ? "" : out.error().what());
  return out ? *out : Output{ExitStatus::exited(-1), "", ""};
}

// A file of the build or the source tree (a data dependency).
std::string built(const std::string& path) {
  std::ifstream in(peers::test::runfile(path), std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct HelpCase {
  std::string tool;
  std::vector<std::string> args;
  std::string golden;
};

TEST(Help, EveryToolAndSubcommandMatchesItsGolden) {
  const std::vector<HelpCase> cases = {
      {"vt-source", {"--help"}, "vt-source.txt"},
      {"vt-relay", {"--help"}, "vt-relay.txt"},
      {"vt-sink", {"--help"}, "vt-sink.txt"},
      {"vt-keygen", {"--help"}, "vt-keygen.txt"},
      {"vt-keygen", {"show", "--help"}, "vt-keygen-show.txt"},
      {"vt-keygen", {"check-id", "--help"}, "vt-keygen-check-id.txt"},
      {"vt-sim", {"--help"}, "vt-sim.txt"},
      {"vt-inspect", {"--help"}, "vt-inspect.txt"},
      {"vt-inspect", {"status", "--help"}, "vt-inspect-status.txt"},
      {"vt-inspect", {"tree", "--help"}, "vt-inspect-tree.txt"},
      {"vt-inspect", {"nodes", "--help"}, "vt-inspect-nodes.txt"},
      {"vt-inspect", {"events", "--help"}, "vt-inspect-events.txt"},
      {"vt-inspect", {"call", "--help"}, "vt-inspect-call.txt"},
  };
  for (const HelpCase& c : cases) {
    SCOPED_TRACE(c.golden);
    Output out = run(c.tool, c.args);
    EXPECT_EQ(out.status, ExitStatus::exited(0)) << out.err;
    EXPECT_EQ(out.err, "");
    vt::test::expect_golden("help/" + c.golden, out.out);
    // No CLI11 type clutter ("TEXT:{text,json}=text", "UINT:INT in [1 - 64]").
    for (const char* clutter : {"TEXT", "UINT", "INT:", ":{", " in ["}) {
      EXPECT_EQ(out.out.find(clutter), std::string::npos) << clutter << " in\n" << out.out;
    }
    EXPECT_NE(out.out.find("Example:\n"), std::string::npos);
  }
}

TEST(Help, ExamplesAgreeWithTheReadme) {
  // Each tool's first example is the one the README gives for it (its
  // table writes | as \|). The relay's joins by the link vt-source printed
  // (it listens on all interfaces by default and learns its address).
  std::string readme = std::regex_replace(built("README.md"), std::regex("\\\\\\|"), "|");
  ASSERT_FALSE(readme.empty());
  for (const char* tool :
       {"vt-source", "vt-relay", "vt-sink", "vt-inspect", "vt-keygen", "vt-sim"}) {
    std::string help = run(tool, {"--help"}).out;
    std::size_t at = help.find("Example:\n  ");
    ASSERT_NE(at, std::string::npos) << tool;
    at += std::string("Example:\n  ").size();
    std::string example = help.substr(at, help.find('\n', at) - at);
    example = example.substr(0, example.find("   ("));  // a remark after the command
    EXPECT_NE(readme.find("`" + example + "`"), std::string::npos) << tool << ": " << example;
  }
  EXPECT_NE(run("vt-relay", {"--help"}).out.find("vt-relay vt://host:7000/vt1... --upload 20M"),
            std::string::npos);
  // The source's --upload does not describe a viewer.
  std::string source = run("vt-source", {"--help"}).out;
  EXPECT_EQ(source.find("viewer"), std::string::npos);
  EXPECT_EQ(source.find("0 = "), std::string::npos);
}

struct Mistake {
  std::string tool;
  std::vector<std::string> args;
  std::string message;  // the one line on stderr
};

TEST(UsageErrors, ExitTwoAtOnceWithOneLine) {
  // A real key, so the source gets as far as its --input.
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string key = std::string(tmp ? tmp : "/tmp") + "/cli_test_source.key";
  std::remove(key.c_str());
  ASSERT_EQ(run("vt-keygen", {"-o", key}).status, ExitStatus::exited(0));
  const std::vector<Mistake> cases = {
      {"vt-sink",
       {"--join", "127.0.0.1"},
       "vt-sink: --join: bad address '127.0.0.1' (want HOST:PORT, IPv6 as [::1]:PORT) (see "
       "vt-sink --help)"},
      {"vt-relay",
       {"--join", "host:port"},
       "vt-relay: --join: bad address 'host:port' (want HOST:PORT with a port from 0 to 65535) "
       "(see vt-relay --help)"},
      {"vt-relay",
       {"--join", "127.0.0.1:0"},
       "vt-relay: --join: bad address '127.0.0.1:0' (port 0 only listens; give the node's port) "
       "(see vt-relay --help)"},
      {"vt-sink",
       {"--join", "127.0.0.1:7000", "--listen", "0.0.0.0"},
       "vt-sink: --listen: bad address '0.0.0.0' (want HOST:PORT, IPv6 as [::1]:PORT) (see "
       "vt-sink --help)"},
      {"vt-source",
       {"--listen", "127.0.0.1:99999", "--key", "/dev/null"},
       "vt-source: --listen: bad address '127.0.0.1:99999' (want HOST:PORT with a port from 0 "
       "to 65535) (see vt-source --help)"},
      {"vt-relay",
       {"--join", "127.0.0.1:7000", "--max-connections", "0"},
       "vt-relay: --max-connections: bad value '0' (want 1 to 1000000) (see vt-relay --help)"},
      {"vt-inspect",
       {"status", "localhost"},
       "vt-inspect: bad address 'localhost' (want HOST:PORT, IPv6 as [::1]:PORT) (see "
       "vt-inspect status --help)"},
      {"vt-inspect",
       {"tree", "127.0.0.1:7000", "nohost"},
       "vt-inspect: bad address 'nohost' (want HOST:PORT, IPv6 as [::1]:PORT) (see "
       "vt-inspect tree --help)"},
      {"vt-source",
       {"--listen", "127.0.0.1:0", "--key", "/dev/null", "--stripes", "65"},
       "vt-source: --stripes: bad value '65' (want 1 to 64) (see vt-source --help)"},
      {"vt-source",
       {"--listen", "127.0.0.1:0", "--key", "/dev/null", "--chunk-bytes", "lots"},
       "vt-source: --chunk-bytes: bad value 'lots' (want 1024 to 524288) (see vt-source --help)"},
      {"vt-sink",
       {"--join", "127.0.0.1:7000", "--key", "/nonexistent/a.key"},
       "vt-sink: --key: no such file '/nonexistent/a.key' (see vt-sink --help)"},
      {"vt-sink",
       {"--join", "127.0.0.1:7000", "--log-format", "xml"},
       "vt-sink: --log-format: bad value 'xml' (want text|json) (see vt-sink --help)"},
      {"vt-relay", {"--join"}, "vt-relay: --join: no value (want HOST:PORT) (see vt-relay --help)"},
      {"vt-relay",
       {"--join", "127.0.0.1:7000", "--bogus"},
       "vt-relay: unexpected argument '--bogus' (see vt-relay --help)"},
      // A mistake in a subcommand points to the subcommand's help.
      {"vt-inspect",
       {"tree", "--bogus"},
       "vt-inspect: unexpected argument '--bogus' (see vt-inspect tree --help)"},
      {"vt-inspect",
       {"nodes", "127.0.0.1:7000", "--jsn"},
       "vt-inspect: unexpected argument '--jsn' (see vt-inspect nodes --help)"},
      {"vt-inspect", {"status"}, "vt-inspect: missing HOST:PORT (see vt-inspect status --help)"},
      {"vt-inspect",
       {"events", "127.0.0.1:7000", "--since", "soon"},
       "vt-inspect: --since: bad value 'soon' (want a number) (see vt-inspect events --help)"},
      {"vt-inspect",
       {},
       "vt-inspect: a subcommand is required (status, tree, nodes, events, call) (see vt-inspect "
       "--help)"},
      {"vt-keygen",
       {"show", "--bogus"},
       "vt-keygen: unexpected argument '--bogus' (see vt-keygen show --help)"},
      {"vt-sink",
       {"--join", "127.0.0.1:7000", "--stats-file", "-"},
       "vt-sink: --stats-file -: stdout carries the stream; give --output FILE or a stats file"},
      {"vt-relay",
       {"--join", "127.0.0.1:7000", "--stats-interval", "0"},
       "vt-relay: --stats-interval: must be at least 1ms"},
      // Found once the flags are read (files, ids, flag combinations): the
      // same shape, "<tool>: --flag: what is wrong".
      {"vt-source",
       {"--listen", "127.0.0.1:0", "--key", key, "--input", "/nonexistent/in.ts"},
       "vt-source: --input: cannot read '/nonexistent/in.ts': No such file or directory"},
      {"vt-sink",
       {"--join", "127.0.0.1:7000", "--output", "/nonexistent/out.ts"},
       "vt-sink: --output: cannot write '/nonexistent/out.ts': No such file or directory"},
      {"vt-relay",
       {"--join", "127.0.0.1:7000", "--stats-file", "/nonexistent/stats"},
       "vt-relay: --stats-file: cannot write '/nonexistent/stats': No such file or directory"},
      {"vt-sink",
       {"--join", "127.0.0.1:7000", "--source-key", "nope"},
       "vt-sink: --source-key: not a peer id: it must start with 'vt1'"},
      {"vt-relay",
       {"--join", "127.0.0.1:7000", "--announce", "0.0.0.0:7000"},
       "vt-relay: --announce: '0.0.0.0:7000' is not an address to dial"},
      {"vt-inspect",
       {"tree", "127.0.0.1:7000", "--json", "--dot"},
       "vt-inspect: --json and --dot exclude each other"},
  };
  for (const Mistake& m : cases) {
    SCOPED_TRACE(m.tool + " " + m.message);
    auto started = std::chrono::steady_clock::now();
    Output out = run(m.tool, m.args);
    EXPECT_EQ(out.status, ExitStatus::exited(2)) << out.err;
    EXPECT_EQ(out.out, "");
    EXPECT_EQ(out.err, m.message + "\n");
    // At once: no retries, no timeouts (generous for a loaded machine).
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  }
}

TEST(UsageErrors, EveryOneStartsLowerCaseAndSaysWhereHelpIs) {
  // One style: "<tool>: <message>", the message in lower case (CLI11's own
  // start with a capital), and a parse error names the help to read.
  const std::vector<std::vector<std::string>> cases = {
      {"--join", "127.0.0.1:7000", "--max-children", "2000"},
      {"--join", "127.0.0.1:7000", "--max-per-address", "x"},
      {"--join", "127.0.0.1:7000", "--json=maybe"},
      {"--join", "127.0.0.1:7000", "extra", "words"},
  };
  for (const auto& args : cases) {
    Output out = run("vt-relay", args);
    SCOPED_TRACE(out.err);
    EXPECT_EQ(out.status, ExitStatus::exited(2));
    ASSERT_EQ(out.err.rfind("vt-relay: ", 0), 0u);
    char first = out.err[std::string("vt-relay: ").size()];
    EXPECT_FALSE(first >= 'A' && first <= 'Z');
    EXPECT_NE(out.err.find(" (see vt-relay --help)\n"), std::string::npos);
    EXPECT_EQ(out.err.find('\n'), out.err.size() - 1);
  }
}

TEST(UsageErrors, FollowLogFormatJson) {
  Output out = run("vt-sink", {"--log-format", "json", "--join", "127.0.0.1"});
  EXPECT_EQ(out.status, ExitStatus::exited(2));
  EXPECT_EQ(out.err.find('\n'), out.err.size() - 1) << out.err;
  EXPECT_EQ(out.err.rfind("{\"event\":\"log\",\"time\":", 0), 0u) << out.err;
  EXPECT_NE(out.err.find("\"level\":\"error\",\"tool\":\"vt-sink\",\"msg\":\"--join: bad address "
                         "'127.0.0.1'"),
            std::string::npos)
      << out.err;
}

TEST(UsageErrors, AreJsonLinesWhenTheLogsAre) {
  // --log-format json (before or after the mistake), or --json without
  // --stats-file (JSON stats and logs share stderr): the one line is a JSON
  // log line with the text's message, for a parse error (a range, a
  // subcommand's unknown flag, an address) and one found later (an id).
  struct Case {
    std::string tool;
    std::vector<std::string> args;
    std::string msg;
  } cases[] = {
      {"vt-source",
       {"--log-format", "json", "--listen", "127.0.0.1:0", "--key", "/dev/null", "--stripes", "65"},
       "--stripes: bad value '65' (want 1 to 64) (see vt-source --help)"},
      {"vt-inspect",
       {"tree", "--bogus", "--log-format=json"},
       "unexpected argument '--bogus' (see vt-inspect tree --help)"},
      {"vt-relay",
       {"--json", "--join", "127.0.0.1"},
       "--join: bad address '127.0.0.1' (want HOST:PORT, IPv6 as [::1]:PORT) (see vt-relay "
       "--help)"},
      {"vt-sink",
       {"--join", "127.0.0.1:7000", "--json", "--source-key", "nope", "--output", "/dev/null"},
       "--source-key: not a peer id: it must start with 'vt1'"},
  };
  for (const Case& c : cases) {
    Output out = run(c.tool, c.args);
    SCOPED_TRACE(out.err);
    EXPECT_EQ(out.status, ExitStatus::exited(2));
    EXPECT_EQ(out.out, "");
    EXPECT_EQ(out.err.find('\n'), out.err.size() - 1);
    EXPECT_EQ(out.err.rfind("{\"event\":\"log\",\"time\":", 0), 0u);
    EXPECT_NE(out.err.find("\"data\":{\"level\":\"error\",\"tool\":\"" + c.tool + "\",\"msg\":\"" +
                           c.msg + "\"}}\n"),
              std::string::npos);
  }
  // With --stats-file the JSON goes there and the logs stay text.
  Output out = run("vt-relay", {"--json", "--stats-file", "/dev/null", "--join", "127.0.0.1"});
  EXPECT_EQ(out.status, ExitStatus::exited(2));
  EXPECT_EQ(out.err.rfind("vt-relay: --join: bad address '127.0.0.1'", 0), 0u) << out.err;
}

// The generated manual pages and completion, from the files the build
// wrote (//cmd:man, //cmd:completion): every option --help shows is in both.

std::vector<std::string> long_options(const std::string& help) {
  std::vector<std::string> out;
  std::smatch m;
  std::regex option("(?:^|[ ,])(--[a-z][a-z-]+)");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), option);
       it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

TEST(ManPages, EveryToolHasOneWithEveryOption) {
  for (const char* tool :
       {"vt-source", "vt-relay", "vt-sink", "vt-inspect", "vt-keygen", "vt-sim", "peers-idlc"}) {
    SCOPED_TRACE(tool);
    std::string man = built(std::string("cmd/man/") + tool + ".1");
    EXPECT_EQ(man.rfind(".TH ", 0), 0u);
    EXPECT_NE(man.find(".SH EXAMPLES"), std::string::npos);
    std::string help = run(tool, {"--help"}).out;
    for (const std::string& opt : long_options(help)) {
      std::string roff;
      for (char c : opt) roff += c == '-' ? std::string("\\-") : std::string(1, c);
      EXPECT_NE(man.find(roff), std::string::npos) << opt;
    }
  }
}

TEST(Completion, CompletesOptionsSubcommandsAndValues) {
  auto complete = [](const std::string& tool, const std::string& line) {
    // COMP_WORDS as bash would split the line, the cursor on the last word.
    std::string script = built("cmd/completion/" + tool) + "\nCOMP_WORDS=(" + line +
                         ")\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
                         "_" +
                         std::regex_replace(tool, std::regex("-"), "_") +
                         "\necho \"${COMPREPLY[*]}\"\n";
    auto out = Subprocess::run("/bin/bash", {"-c", script}, {}, {}, 30s);
    EXPECT_TRUE(out && out->status.success()) << (out ? out->err : out.error().what());
    return out ? out->out : std::string();
  };
  EXPECT_EQ(complete("vt-sink", "vt-sink --lis"), "--listen\n");
  EXPECT_EQ(complete("vt-sink", "vt-sink --log-format ''"), "text json\n");
  EXPECT_EQ(complete("vt-inspect", "vt-inspect ''"), "status tree nodes events call\n");
  EXPECT_EQ(complete("vt-inspect", "vt-inspect tree --as"), "--ascii\n");
  EXPECT_EQ(complete("vt-source", "vt-source --real"), "--realtime\n");
  EXPECT_EQ(complete("peers-idlc", "peers-idlc --la"), "--lang\n");
}

}  // namespace
