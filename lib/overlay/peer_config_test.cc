#include "lib/overlay/peer_config.h"

#include <gtest/gtest.h>

#include "lib/crypto/identity.h"
#include "lib/kernel/error.h"

namespace vt {
namespace {

using namespace std::chrono_literals;

PeerAppOptions options(overlay::Role role) {
  PeerAppOptions o;
  o.role = role;
  if (role != overlay::Role::kSource) o.join = {"127.0.0.1:7000"};
  return o;
}

std::string error_of(const PeerAppOptions& o) {
  try {
    make_peer_config(o);
  } catch (const peers::Error& e) {
    EXPECT_EQ(e.code(), peers::Errc::kInvalidArgument);
    return e.message();
  }
  return "no error";
}

TEST(PeerConfig, DefaultsPerRole) {
  PeerConfig relay = make_peer_config(options(overlay::Role::kRelay));
  EXPECT_EQ(relay.capacity, 8u);
  EXPECT_EQ(relay.join_timeout, 10s);
  EXPECT_EQ(relay.linger, 2s);
  EXPECT_FALSE(relay.stats_every);
  EXPECT_EQ(make_peer_config(options(overlay::Role::kSink)).capacity, 4u);
  PeerConfig source = make_peer_config(options(overlay::Role::kSource));
  EXPECT_TRUE(source.is_source);
  EXPECT_EQ(source.capacity, 4u);
}

TEST(PeerConfig, ChildrenFromUploadOrMaxChildren) {
  PeerAppOptions relay = options(overlay::Role::kRelay);
  relay.upload = "20M";  // a child costs 4M / 4 stripes
  EXPECT_EQ(make_peer_config(relay).capacity, 20u);
  // At the assumed rate: the node figures it again at the measured one.
  EXPECT_TRUE(make_peer_config(relay).capacity_from_upload);
  relay.upload = "0";
  EXPECT_EQ(make_peer_config(relay).capacity, 0u);
  EXPECT_FALSE(make_peer_config(relay).capacity_from_upload);  // 0 stays 0
  relay.max_children = 3;
  relay.upload = "20M";  // --max-children caps; --upload is still the uplink's ceiling
  EXPECT_EQ(make_peer_config(relay).capacity, 3u);
  EXPECT_FALSE(make_peer_config(relay).capacity_from_upload);
  EXPECT_EQ(make_peer_config(relay).upload_bps, 20e6);
  relay.upload = "bad";  // checked even then: a mistake is caught at once
  EXPECT_THROW(make_peer_config(relay), peers::Error);

  PeerAppOptions source = options(overlay::Role::kSource);
  source.stripes = 8;
  source.upload = "20M";  // 40 stripe-children over 8 stripes
  EXPECT_EQ(make_peer_config(source).capacity, 5u);
  source.upload = "100k";  // at least one per stripe
  EXPECT_EQ(make_peer_config(source).capacity, 1u);
}

TEST(PeerConfig, RepairTimeoutAndStart) {
  PeerAppOptions o = options(overlay::Role::kSink);
  PeerConfig c = make_peer_config(o);
  EXPECT_EQ(c.repair_timeout, std::chrono::seconds(60));
  EXPECT_FALSE(c.start_oldest);
  EXPECT_FALSE(c.upload_bps);
  o.start = "oldest";
  o.repair_timeout = "5m";
  c = make_peer_config(o);
  EXPECT_TRUE(c.start_oldest);
  EXPECT_EQ(c.repair_timeout, std::chrono::minutes(5));
  o.start = "newest";
  EXPECT_EQ(error_of(o), "--start: expected live or oldest, got 'newest'");
}

TEST(PeerConfig, NamesTheFlagThatIsWrong) {
  PeerAppOptions o = options(overlay::Role::kSink);
  o.buffer = "2x";
  EXPECT_EQ(error_of(o),
            "--buffer: invalid duration '2x': unknown unit 'x' (use us, ms, s, m or h)");
  o = options(overlay::Role::kRelay);
  o.upload = "20x";
  EXPECT_EQ(error_of(o), "--upload: invalid rate '20x': unknown suffix 'x' (use k, M or G)");
  o = options(overlay::Role::kRelay);
  o.source_key = "vt1nope";
  EXPECT_EQ(error_of(o).rfind("--source-key: ", 0), 0u) << error_of(o);
}

TEST(PeerConfig, JoinLinkPinsTheSource) {
  std::string id = peers::Identity::generate().peer_id().to_string();
  PeerAppOptions o = options(overlay::Role::kSink);
  o.join.clear();
  o.link = "vt://10.0.0.1:7000,10.0.0.2:7000/" + id;
  PeerConfig c = make_peer_config(o);
  EXPECT_EQ(c.join, (std::vector<std::string>{"10.0.0.1:7000", "10.0.0.2:7000"}));
  ASSERT_TRUE(c.source_key);
  EXPECT_EQ(c.source_key->to_string(), id);
  // The same link through --join, beside a plain address.
  o.link.clear();
  o.join = {"10.0.0.3:7000", "vt://10.0.0.1:7000/" + id};
  c = make_peer_config(o);
  EXPECT_EQ(c.join, (std::vector<std::string>{"10.0.0.3:7000", "10.0.0.1:7000"}));
  EXPECT_EQ(c.source_key->to_string(), id);
  // Plain --join pins nothing.
  o.join = {"10.0.0.3:7000"};
  EXPECT_FALSE(make_peer_config(o).source_key);
}

TEST(PeerConfig, BadJoinTargetsAreUsageErrors) {
  std::string id = peers::Identity::generate().peer_id().to_string();
  std::string other = peers::Identity::generate().peer_id().to_string();
  PeerAppOptions o = options(overlay::Role::kRelay);
  o.join.clear();
  EXPECT_EQ(error_of(o), "nowhere to join: give a join link (vt://HOST:PORT/vt1...) or --join");
  o.link = "vt://10.0.0.1/" + id;
  EXPECT_EQ(error_of(o).rfind("bad join link 'vt://10.0.0.1/", 0), 0u) << error_of(o);
  o.link = "vt://10.0.0.1:7000/" + id;
  o.source_key = other;
  EXPECT_NE(error_of(o).find("is for source " + id + ", not " + other), std::string::npos)
      << error_of(o);
  o = options(overlay::Role::kRelay);
  o.join = {"localhost"};
  EXPECT_EQ(error_of(o).rfind("--join: bad address 'localhost'", 0), 0u) << error_of(o);
  o = options(overlay::Role::kRelay);
  o.announce = "0.0.0.0:7000";
  EXPECT_EQ(error_of(o), "--announce: '0.0.0.0:7000' is not an address to dial");
  o.announce = "1.2.3.4:0";
  EXPECT_EQ(error_of(o), "--announce: port 0 cannot be dialed");
  o.announce = "1.2.3.4";
  EXPECT_EQ(error_of(o).rfind("--announce: bad address", 0), 0u) << error_of(o);
}

}  // namespace
}  // namespace vt
