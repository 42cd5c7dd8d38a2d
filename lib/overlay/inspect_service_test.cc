#include "lib/overlay/inspect_service.h"

#include <gtest/gtest.h>

#include "lib/rpc/rpc_test_util.h"

namespace vt {
namespace {

using peers::rpc::Task;
using peers::rpc::testing::Kernel;

// A source node serving Overlay and Inspect on loopback, and a client node.
struct Fixture {
  explicit Fixture(InspectOptions options = {}, std::uint32_t stripes = 2)
      : server(kernel.executor(), peers::Identity::generate()),
        client(kernel.executor(), peers::Identity::generate()) {
    OverlayConfig cfg;
    cfg.role = overlay::Role::kSource;
    cfg.stripes = stripes;
    node = std::make_shared<OverlayNode>(server, cfg);
    if (options.tool.empty()) options.tool = "vt-source";
    // The sampler ends at its next tick once the service is gone.
    options.rate_period = std::chrono::milliseconds(50);
    inspect = std::make_shared<InspectService>(server, node, options);
    server.add_service(node);
    server.add_service(inspect);
    kernel.run([this]() -> Task<void> {
      inspect->start();
      co_return;
    }());
    addr = "127.0.0.1:" + std::to_string(server.listen("127.0.0.1:0").value());
  }
  ~Fixture() {
    server.close();
    client.close();
  }

  inspect::InspectClient connect() {
    auto conn = kernel.run(client.connect(addr));
    return inspect::InspectClient(conn);
  }
  void record(const std::string& kind, std::map<std::string, std::string> fields) {
    kernel.run([this, kind, fields]() -> Task<void> {
      inspect->record(kind, fields);
      co_return;
    }());
  }

  Kernel kernel{1};
  peers::rpc::Node server;
  peers::rpc::Node client;
  std::shared_ptr<OverlayNode> node;
  std::shared_ptr<InspectService> inspect;
  std::string addr;
};

TEST(InspectService, StatusDescribesTheSource) {
  Fixture f;
  auto st = f.connect().status_sync();
  EXPECT_EQ(st.id, f.server.id().to_string());
  EXPECT_EQ(st.role, overlay::Role::kSource);
  EXPECT_EQ(st.tool, "vt-source");
  EXPECT_EQ(st.stream_id, st.id);
  EXPECT_EQ(st.stripe_count, 2u);
  EXPECT_EQ(st.addr, f.addr);
  EXPECT_FALSE(st.version.empty());
  ASSERT_EQ(st.stripes.size(), 2u);
  EXPECT_EQ(st.stripes[1].stripe, 1u);
  EXPECT_TRUE(st.stripes[1].interior);
  EXPECT_FALSE(st.stripes[1].parent.has_value());
  EXPECT_TRUE(st.stripes[1].children.empty());
  EXPECT_TRUE(st.stripes[1].path.empty());
}

TEST(InspectService, EventsKeepOrderAndCountWhatTheRingLost) {
  Fixture f(InspectOptions{.max_events = 3});
  for (int i = 0; i < 5; ++i) {
    f.record("parent_lost",
             {{"stripe", std::to_string(i % 2)}, {"why", "test " + std::to_string(i)}});
  }
  auto client = f.connect();
  inspect::EventsRequest req;
  auto all = client.events_sync(req);
  ASSERT_EQ(all.events.size(), 3u);
  EXPECT_EQ(all.events[0].seq, 3u);
  EXPECT_EQ(all.events[2].seq, 5u);
  EXPECT_EQ(all.last_seq, 5u);
  EXPECT_EQ(all.missed, 2u);
  EXPECT_EQ(all.events[2].kind, "parent_lost");
  EXPECT_EQ(all.events[2].stripe, 0u);
  EXPECT_EQ(all.events[2].fields, (std::map<std::string, std::string>{{"why", "test 4"}}));
  EXPECT_GT(all.events[2].time, 1e9);
  req.since = 4;
  auto later = client.events_sync(req);
  ASSERT_EQ(later.events.size(), 1u);
  EXPECT_EQ(later.events[0].seq, 5u);
  EXPECT_EQ(later.missed, 0u);
}

TEST(InspectService, FollowersGetEachNewEvent) {
  Fixture f;
  f.record("joined", {{"stripe", "0"}});
  auto client = f.connect();
  inspect::EventsRequest req;
  auto [list, channel] = f.kernel.run(client.follow(req));
  ASSERT_EQ(list.events.size(), 1u);
  f.record("adopted", {{"stripe", "1"}, {"child", "vt1x"}});
  f.record("no_stripe", {{"stripe", "x"}});
  auto first = f.kernel.run(channel->read());
  ASSERT_TRUE(first);
  auto e = inspect::Event::decode(*first);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->seq, 2u);
  EXPECT_EQ(e->kind, "adopted");
  EXPECT_EQ(e->stripe, 1u);
  EXPECT_EQ(e->fields.at("child"), "vt1x");
  auto second = inspect::Event::decode(*f.kernel.run(channel->read()));
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->stripe.has_value());  // not a number: kept as a field
  EXPECT_EQ(second->fields.at("stripe"), "x");
}

TEST(InspectService, OnlyAllowedPeersMayInspect) {
  auto allowed = peers::Identity::generate();
  Fixture f(InspectOptions{.allow = {allowed.peer_id()}});
  auto client = f.connect();
  EXPECT_THROW(client.status_sync(), inspect::Denied);
  EXPECT_THROW(client.services_sync(), inspect::Denied);
  EXPECT_THROW(client.events_sync({}), inspect::Denied);
  // The overlay itself stays open.
  overlay::OverlayClient ov(client.connection());
  EXPECT_EQ(ov.stream_sync().stripes, 2u);

  peers::rpc::Node friendly(f.kernel.executor(), std::move(allowed));
  auto conn = f.kernel.run(friendly.connect(f.addr));
  EXPECT_EQ(inspect::InspectClient(conn).status_sync().id, f.server.id().to_string());
  friendly.close();
}

TEST(InspectService, ServicesNameBothInterfaces) {
  Fixture f;
  auto list = f.connect().services_sync();
  EXPECT_EQ(list.interfaces,
            (std::vector<std::string>{"vt.inspect.Inspect", "vt.overlay.Overlay"}));
}

}  // namespace
}  // namespace vt
