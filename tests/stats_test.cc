// Stats and the final summary of the real tools on loopback: JSON stats
// (--stats-file -, --json) parse line by line with logs enabled, every
// number a JSON number; the summary appears at the end of the stream and
// on SIGINT. Waits are for log lines and exits, never fixed times.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "lib/kernel/subprocess.h"
#include "tests/support/overlay_harness.h"
#include "tests/support/runfiles.h"

namespace {

using peers::Redirect;
using peers::SpawnOptions;
using peers::Subprocess;
using vt::test::read_file;
using vt::test::Tool;
using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Every value in a record's data is a number, a bool, null, an array or a
// string that is not a number in disguise.
void expect_no_numbers_as_strings(const nlohmann::json& data, const std::string& line) {
  for (auto& [key, value] : data.items()) {
    if (!value.is_string()) continue;
    std::string s = value.get<std::string>();
    bool digits = !s.empty() && s.find_first_not_of("0123456789.-") == std::string::npos &&
                  s.find_first_of("0123456789") != std::string::npos && s.find("..") == s.npos &&
                  !(s.size() > 1 && s[0] == '0' && s[1] != '.');
    EXPECT_FALSE(digits) << key << " is a number written as a string: " << line;
  }
}

class Stats : public vt::test::OverlayHarness {};

TEST_F(Stats, JsonStatsParseLineByLineWithLogsOnAndEndWithASummary) {
  Tool source = start_source(4, {"--stats-interval", "200ms"});
  // The relay's JSON stats go to stdout (a file here), its text logs to
  // stderr at debug level: neither stream may hold the other's lines.
  std::string relay_stats = dir_ + "/relay.stats";
  Tool relay = start(
      "vt-relay", "relay",
      {"--join", source.addr, "--linger", "3s", "--stats-file", "-", "--stats-interval", "200ms"},
      false, Redirect::file(relay_stats));
  ASSERT_TRUE(relay.wait_log("joined all stripes")) << relay.log_text();

  // The sink's JSON stats share stderr with its logs, which become JSON
  // lines too (--json without --stats-file).
  Tool sink;
  sink.name = "sink";
  sink.log = dir_ + "/sink.log";
  sink.output = dir_ + "/sink.out";
  SpawnOptions opts;
  opts.stdin_to = Redirect::null();
  opts.stdout_to = Redirect::null();
  opts.stderr_to = Redirect::file(sink.log);
  auto p = Subprocess::spawn(
      peers::test::runfile("cmd/vt-sink/vt-sink"),
      {"--join", relay.addr, "--output", sink.output, "--source-key", source_id_, "--buffer", "5s",
       "--json", "--stats-interval", "200ms", "--log-level", "debug"},
      opts);
  ASSERT_TRUE(p) << p.error().what();
  sink.proc = std::make_unique<Subprocess>(std::move(*p));
  ASSERT_TRUE(sink.wait_log("\"msg\":\"joined all stripes\"")) << sink.log_text();

  feed(source, 32 * 1024);
  expect_complete(sink);
  auto relay_exit = relay.proc->wait(60s);
  ASSERT_TRUE(relay_exit);
  EXPECT_TRUE(relay_exit->success()) << relay.log_text();

  // The sink's stderr: JSON lines only, logs and stats and one summary last.
  std::size_t stats = 0, logs = 0, summaries = 0;
  bool numbers_seen = false;
  std::vector<std::string> sink_lines = lines_of(sink.log_text());
  ASSERT_FALSE(sink_lines.empty());
  for (const std::string& line : sink_lines) {
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(line)) << "not JSON: " << line;
    ASSERT_TRUE(j["time"].is_number()) << line;
    std::string event = j["event"];
    if (event == "stats") ++stats;
    if (event == "log") ++logs;
    if (event == "summary") ++summaries;
    expect_no_numbers_as_strings(j["data"], line);
    if (j["data"].contains("first_seq")) numbers_seen = j["data"]["first_seq"].is_number();
  }
  EXPECT_GT(stats, 0u);
  EXPECT_GT(logs, 0u);
  EXPECT_TRUE(numbers_seen) << "no log line with first_seq";
  EXPECT_EQ(summaries, 1u);
  auto last = nlohmann::json::parse(sink_lines.back());
  EXPECT_EQ(last["event"], "summary");
  EXPECT_EQ(last["data"]["reason"], "end of stream");
  EXPECT_EQ(last["data"]["exit_code"], 0);
  EXPECT_EQ(last["data"]["gaps"], 0);
  EXPECT_EQ(last["data"]["bytes_in"].get<double>() > 0, true);

  // The relay's stats file: JSON records only, the summary last; its stderr
  // keeps the text logs and the text summary, and no JSON.
  std::vector<std::string> relay_lines = lines_of(read_file(relay_stats));
  ASSERT_GE(relay_lines.size(), 2u) << read_file(relay_stats);
  for (const std::string& line : relay_lines) {
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(line)) << "not JSON: " << line;
    EXPECT_TRUE(j["event"] == "stats" || j["event"] == "summary") << line;
    EXPECT_TRUE(j["data"]["rate_in_bps"].is_number()) << line;
    expect_no_numbers_as_strings(j["data"], line);
  }
  auto relay_summary = nlohmann::json::parse(relay_lines.back());
  EXPECT_EQ(relay_summary["event"], "summary");
  EXPECT_EQ(relay_summary["data"]["reason"], "end of stream");
  EXPECT_EQ(relay.log_text().find("{\"event\""), std::string::npos) << relay.log_text();
  EXPECT_EQ(relay.log_lines({"vt-relay: summary reason=\"end of stream\" exit_code=0"}).size(), 1u)
      << relay.log_text();

  // The source's text stats show its input and no parents or input from
  // parents; nothing is a -1 placeholder.
  ASSERT_TRUE(source.wait_log("vt-source: summary")) << source.log_text();
  for (const std::string& line : source.log_lines({"vt-source: stats "})) {
    EXPECT_NE(line.find(" input="), std::string::npos) << line;
    EXPECT_EQ(line.find(" parents="), std::string::npos) << line;
    EXPECT_EQ(line.find(" rate_in="), std::string::npos) << line;
    EXPECT_EQ(line.find("-1"), std::string::npos) << line;
  }
}

TEST_F(Stats, SummaryOnSigintAndSigterm) {
  Tool source = start_source(2);
  Tool relay = start_relay("relay", source.addr);
  Tool sink = start_sink("sink", relay.addr, {"--upload", "0"});
  ASSERT_TRUE(relay.proc->signal(SIGINT));
  auto st = relay.proc->wait(60s);
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, peers::ExitStatus::exited(0)) << relay.log_text();
  EXPECT_EQ(relay.log_lines({"vt-relay: summary reason=\"stopped by SIGINT\" exit_code=0"}).size(),
            1u)
      << relay.log_text();
  // Its parent logs a leave, not a failed feed.
  EXPECT_TRUE(source.wait_log("why=left")) << source.log_text();
  EXPECT_TRUE(source.log_lines({"child dropped", "feed failed"}).empty()) << source.log_text();
  // The relay had a child: it says it hands it over.
  EXPECT_EQ(relay.log_lines({"stopping: handing children over", "SIGINT"}).size(), 1u)
      << relay.log_text();
  // The child sees a leave too, not a failure.
  EXPECT_TRUE(sink.wait_log("info: parent left")) << sink.log_text();
  EXPECT_TRUE(sink.log_lines({"parent lost"}).empty()) << sink.log_text();
  // Each names its children limit as its flags do.
  EXPECT_EQ(source.log_lines({"info: listening ", " children_per_stripe="}).size(), 1u)
      << source.log_text();
  EXPECT_EQ(relay.log_lines({"info: listening ", " max_children="}).size(), 1u) << relay.log_text();

  ASSERT_TRUE(sink.proc->signal(SIGTERM));
  st = sink.proc->wait(60s);
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, peers::ExitStatus::exited(0)) << sink.log_text();
  EXPECT_EQ(sink.log_lines({"vt-sink: summary reason=\"stopped by SIGTERM\" exit_code=0"}).size(),
            1u)
      << sink.log_text();
  // A sink with no children does not claim to hand any over.
  EXPECT_TRUE(sink.log_lines({"handing children over"}).empty()) << sink.log_text();
  EXPECT_EQ(sink.log_lines({"info: stopping why=\"stopped by SIGTERM\""}).size(), 1u)
      << sink.log_text();
}

TEST_F(Stats, SummaryWhenTheToolFails) {
  // Nothing listens at port 1: the join fails, exit 1, and the summary says
  // why, in the text log and last in the stats file.
  std::string stats = dir_ + "/lonely.stats";
  Tool sink = start("vt-sink", "lonely",
                    {"--join", "127.0.0.1:1", "--join-timeout", "1s", "--output",
                     dir_ + "/lonely.out", "--stats-file", stats});
  auto st = sink.proc->wait(60s);
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, peers::ExitStatus::exited(1)) << sink.log_text();
  EXPECT_EQ(sink.log_lines({"vt-sink: summary reason=\"cannot join: ", "exit_code=1"}).size(), 1u)
      << sink.log_text();
  std::vector<std::string> lines = lines_of(read_file(stats));
  ASSERT_FALSE(lines.empty());
  auto last = nlohmann::json::parse(lines.back());
  EXPECT_EQ(last["event"], "summary");
  EXPECT_EQ(last["data"]["exit_code"], 1);
  EXPECT_EQ(last["data"]["reason"].get<std::string>().rfind("cannot join: ", 0), 0u) << last;
}

TEST_F(Stats, SummaryWhenTheReaderGoesAwayIsAnOrdinaryEnd) {
  // The sink writes the stream to a pipe whose reader reads a little and
  // closes it (a player quit, `| head`): exit 0, an info line, a summary,
  // and no warning, error or "Broken pipe".
  Tool source = start_source(2);
  Tool sink = start("vt-sink", "piped",
                    {"--join", source.addr, "--source-key", source_id_, "--upload", "0"}, false,
                    peers::Redirect::pipe());
  ASSERT_TRUE(sink.wait_log("joined all stripes")) << sink.log_text();
  std::string head;
  feed(source, 32 * 1024, [&] {
    auto until = std::chrono::steady_clock::now() + 60s;
    while (head.size() < 1000 && std::chrono::steady_clock::now() < until) {
      (void)sink.proc->wait(20ms);  // reads what the pipe holds meanwhile
      head += sink.proc->take(peers::Stream::kStdout);
    }
    sink.proc->close_output(peers::Stream::kStdout);
  });
  ASSERT_GE(head.size(), 1000u) << sink.log_text();
  auto st = sink.proc->wait(60s);
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, peers::ExitStatus::exited(0)) << sink.log_text();
  EXPECT_EQ(sink.log_lines({"info: output closed by its reader; stopping"}).size(), 1u)
      << sink.log_text();
  EXPECT_EQ(sink.log_lines({"vt-sink: summary reason=\"output closed by its reader\" exit_code=0"})
                .size(),
            1u)
      << sink.log_text();
  for (const char* bad : {"Broken pipe", " warn: ", " error: ", "handing children over"}) {
    EXPECT_TRUE(sink.log_lines({bad}).empty()) << bad << "\n" << sink.log_text();
  }
}

}  // namespace
