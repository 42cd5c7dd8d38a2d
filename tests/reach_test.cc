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
  // It listens on all interfaces (no --listen) and a dial-back reached it
  // on loopback, where the source sees it.
  EXPECT_TRUE(sink.wait_log("reachable addr=127.0.0.1:")) << sink.log_text();
  feed(source, 32 * 1024);
  expect_complete(sink);
  EXPECT_EQ(sink.log_text().find("not verified"), std::string::npos) << sink.log_text();
  EXPECT_EQ(relay.log_text().find("not verified"), std::string::npos) << relay.log_text();
}

TEST_F(Reach, AForwardedJoinAnswersAViewerNobodyCanDial) {
  // The source is full (one child per stripe: r1), so it forwards the
  // viewer's joins to r1, which adopts it. The viewer announces an address
  // where nothing listens (as one behind a NAT would); the answer must come
  // back along the connections the join came through, not by dialing.
  Tool source = start_source(4, {"--max-children", "1"});
  Tool relay = start_relay("r1", source.addr);
  std::string relay_id = peer_of(relay);
  ASSERT_FALSE(relay_id.empty()) << relay.log_text();
  Tool sink = start_sink("s1", source.addr, {"--announce", "127.0.0.1:1", "--upload", "0"});
  // Adopted by r1 (short ids in the log), below the source: forwarded.
  EXPECT_EQ(sink.log_lines({"joined stripe", "parent=" + relay_id.substr(0, 11), "depth=2"}).size(),
            4u)
      << sink.log_text();
  EXPECT_TRUE(sink.wait_log("not reachable: peers cannot dial this node addr=127.0.0.1:1"))
      << sink.log_text();
  feed(source, 32 * 1024);
  expect_complete(sink);
  for (const Tool* t : {&source, &relay, &sink}) {
    EXPECT_EQ(t->log_text().find("cannot reach the caller"), std::string::npos) << t->log_text();
  }
}

TEST_F(Reach, ANodeNobodyCanDialFeedsChildrenItDials) {
  // r1 uploads but claims an address where nothing listens: once its
  // dial-back failed, nobody can dial it. The source is full (one child per
  // stripe: r1), so r2's joins go to r1, which feeds r2 over a connection it
  // opens to r2 (connection reversal). The viewer gets every byte.
  Tool source = start_source(4, {"--max-children", "1"});
  Tool r1 = start_relay("r1", source.addr, {"--announce", "127.0.0.1:1", "--upload", "20M"});
  ASSERT_TRUE(r1.wait_log("not reachable")) << r1.log_text();
  std::string r1_short = peer_of(r1).substr(0, 11);
  Tool r2 = start_relay("r2", source.addr, {"--upload", "20M"});
  EXPECT_FALSE(r2.log_lines({"joined stripe", "parent=" + r1_short}).empty()) << r2.log_text();
  EXPECT_TRUE(r1.wait_log("feeding by connection reversal")) << r1.log_text();
  Tool sink = start_sink("s1", source.addr, {"--upload", "0"});
  feed(source, 32 * 1024);
  expect_complete(sink);
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
      {{"--join", "localhost"}, "--join: bad address 'localhost'"},
      {{}, "nowhere to join"},
      {{"--join", "127.0.0.1:7000", "--announce", "0.0.0.0:7000"}, "--announce: '0.0.0.0:7000'"},
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
