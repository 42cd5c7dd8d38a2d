#include "lib/overlay/overlay_node.h"

#include <gtest/gtest.h>

#include "lib/rpc/rpc_test_util.h"

namespace vt {
namespace {

using peers::rpc::Task;
using peers::rpc::testing::Kernel;

// A source with one stripe and room for one child, and a node that sends it
// join requests on behalf of made-up joiners.
struct Fixture {
  Fixture()
      : server(kernel.executor(), peers::Identity::generate()),
        client(kernel.executor(), peers::Identity::generate()) {
    OverlayConfig cfg;
    cfg.role = overlay::Role::kSource;
    cfg.stripes = 1;
    cfg.capacity = 1;
    node = std::make_shared<OverlayNode>(server, cfg);
    server.add_service(node);
    addr = "127.0.0.1:" + std::to_string(server.listen("127.0.0.1:0").value());
    conn = kernel.run(client.connect(addr));
  }
  ~Fixture() {
    server.close();
    client.close();
  }

  // A join from a fresh joiner that uploads `capacity` children's worth.
  overlay::JoinReply join(bool resume, std::uint32_t capacity = 2) {
    overlay::JoinRequest req;
    req.stripe = 0;
    req.joiner.id = peers::Identity::generate().peer_id().to_string();
    req.joiner.addr = "127.0.0.1:9";
    req.joiner.capacity = capacity;
    req.joiner.role = overlay::Role::kRelay;
    req.resume = resume;
    return overlay::OverlayClient(conn).join_sync(req);
  }

  Kernel kernel{1};
  peers::rpc::Node server;
  peers::rpc::Node client;
  std::shared_ptr<OverlayNode> node;
  std::string addr;
  std::shared_ptr<peers::rpc::Connection> conn;
};

TEST(OverlayNode, AFullNodeTurnsAwayANewcomerThatUploadsNothing) {
  Fixture f;
  EXPECT_EQ(f.join(false).parent.id, f.server.id().to_string());
  EXPECT_THROW(f.join(false, 0), overlay::Full);
  EXPECT_EQ(f.node->stats().slack_adoptions, 0u);
}

TEST(OverlayNode, AFullNodeLendsAnOrphanOneSlotOverItsBudget) {
  Fixture f;
  EXPECT_EQ(f.join(false).parent.id, f.server.id().to_string());
  // An orphan resuming after its parent died (even one that uploads nothing)
  // is adopted at once rather than passed around; one only: the next one
  // finds the node full.
  EXPECT_EQ(f.join(true, 0).parent.id, f.server.id().to_string());
  EXPECT_EQ(f.node->stats().slack_adoptions, 1u);
  EXPECT_THROW(f.join(true), overlay::Full);
  EXPECT_THROW(f.join(false), overlay::Full);
}

TEST(OverlayNode, AFullNodeTellsANewcomerThereIsNoCapacity) {
  // Admitted viewers are never degraded by newcomers: no slack for a
  // newcomer, even one that uploads, and the refusal says why.
  Fixture f;
  EXPECT_EQ(f.join(false).parent.id, f.server.id().to_string());
  try {
    f.join(false, 4);
    ADD_FAILURE() << "a full source adopted a newcomer";
  } catch (const overlay::Full& e) {
    EXPECT_EQ(e.message().rfind("no capacity: ", 0), 0u) << e.message();
  }
  EXPECT_EQ(f.node->stats().slack_adoptions, 0u);
}

TEST(OverlayNode, ADeclaredUploadIsACeilingAndTheBudgetHasHeadroom) {
  // 4 Mbit/s declared on a 4 Mbit/s stream in 4 stripes: 85 % of it, less
  // wire overhead, pays for 3 stripe-children, not 4.
  Kernel kernel{1};
  peers::rpc::Node server(kernel.executor(), peers::Identity::generate());
  OverlayConfig cfg;
  cfg.role = overlay::Role::kRelay;
  cfg.capacity = 4;
  cfg.upload_ceiling_bps = 4e6;
  auto node = std::make_shared<OverlayNode>(server, cfg);
  EXPECT_EQ(node->stats().capacity, 3u);
  // Declaring 80 Mbit/s buys no more than the default 8 children until the
  // uplink has shown, by carrying them, that it can take more.
  OverlayConfig liar = cfg;
  liar.capacity = 80;
  liar.upload_ceiling_bps = 80e6;
  auto node2 = std::make_shared<OverlayNode>(server, liar);
  EXPECT_EQ(node2->stats().capacity, 8u);
  server.close();
}

}  // namespace
}  // namespace vt
