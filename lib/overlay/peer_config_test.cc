#include "lib/overlay/peer_config.h"

#include <gtest/gtest.h>

#include "lib/kernel/error.h"

namespace vt {
namespace {

using namespace std::chrono_literals;

PeerAppOptions options(overlay::Role role) {
  PeerAppOptions o;
  o.role = role;
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
  EXPECT_EQ(error_of(o).rfind("bad --source-key: ", 0), 0u) << error_of(o);
}

}  // namespace
}  // namespace vt
