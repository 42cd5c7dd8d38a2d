// Reachability against the real binaries on loopback: the join link the
// source prints, joining by it (pinned, with no --source-key), and links
// that are wrong (usage errors, exit 2).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "lib/kernel/subprocess.h"
#include "tests/support/overlay_harness.h"
#include "tests/support/runfiles.h"

namespace vt::test {
namespace {

using peers::Subprocess;

class Reach : public OverlayHarness {
 protected:
  // The link from the source's "join link: vt://..." line.
  std::string join_link(const Tool& source) {
    EXPECT_TRUE(source.wait_log("join link: ")) << source.log_text();
    std::string log = source.log_text();
    auto at = log.find("join link: ");
    if (at == std::string::npos) return "";
    at += std::strlen("join link: ");
    return log.substr(at, log.find('\n', at) - at);
  }
};

TEST_F(Reach, SourcePrintsALinkASinkJoinsBy) {
  Tool source = start_source();
  std::string link = join_link(source);
  EXPECT_EQ(link, "vt://" + source.addr + "/" + source_id_);
  std::string output = dir_ + "/s1.out";
  Tool sink = start("vt-sink", "s1", {link, "--output", output, "--buffer", "5s"});
  sink.output = output;
  ASSERT_TRUE(sink.wait_log("joined all stripes")) << sink.log_text();
  // A relay takes the link through --join too.
  Tool relay = start("vt-relay", "r1", {"--join", link, "--linger", "3s"});
  ASSERT_TRUE(relay.wait_log("joined all stripes")) << relay.log_text();
  feed(source, 32 * 1024);
  expect_complete(sink);
  EXPECT_EQ(sink.log_text().find("not verified"), std::string::npos) << sink.log_text();
  EXPECT_EQ(relay.log_text().find("not verified"), std::string::npos) << relay.log_text();
}

TEST_F(Reach, UnpinnedJoinWarns) {
  Tool source = start_source();
  Tool relay = start("vt-relay", "r1", {"--join", source.addr});
  EXPECT_TRUE(relay.wait_log("the source is not verified")) << relay.log_text();
}

TEST_F(Reach, BadLinksAreUsageErrors) {
  std::string other_key = make_key("other");
  struct Case {
    std::vector<std::string> args;
    std::string says;
  } cases[] = {
      {{"vt://127.0.0.1/" + source_id_}, "bad join link 'vt://127.0.0.1/"},
      {{"vt://127.0.0.1:7000/vt1nope"}, "bad join link"},
      {{"vt://127.0.0.1:7000"}, "no source id"},
      {{"vt://127.0.0.1:7000/" + source_id_, "--source-key", other_key}, "is for source"},
      {{"--join", "localhost"}, "bad --join"},
      {{}, "nowhere to join"},
      {{"--join", "127.0.0.1:7000", "--announce", "0.0.0.0:7000"}, "bad --announce"},
  };
  for (const auto& tool : {"vt-sink", "vt-relay"}) {
    for (const auto& c : cases) {
      auto out =
          Subprocess::run(peers::test::runfile(std::string("cmd/") + tool + "/" + tool), c.args);
      ASSERT_TRUE(out) << out.error().what();
      EXPECT_EQ(out->status, peers::ExitStatus::exited(2)) << tool << " " << c.says << out->err;
      EXPECT_NE(out->err.find(c.says), std::string::npos) << tool << ": " << out->err;
    }
  }
}

}  // namespace
}  // namespace vt::test
