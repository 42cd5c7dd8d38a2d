#include "lib/overlay/overlay_node.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "lib/kernel/log.h"
#include "lib/rpc/rpc_test_util.h"
#include "lib/stream/signed_chunk.h"

namespace vt {
namespace {

using peers::rpc::Task;
using peers::rpc::testing::Kernel;

// A source with one stripe and room for one child, and joiners: each a node
// of its own that joins for itself.
struct Fixture {
  explicit Fixture(std::uint32_t stripes = 1, std::uint32_t capacity = 1,
                   std::chrono::milliseconds parent_timeout = std::chrono::milliseconds(1000))
      : server(kernel.executor(), peers::Identity::generate()) {
    OverlayConfig cfg;
    cfg.role = overlay::Role::kSource;
    cfg.stripes = stripes;
    cfg.capacity = capacity;
    // The source drops a child whose heartbeats stop after 3 of these.
    cfg.parent_timeout = parent_timeout;
    node = std::make_shared<OverlayNode>(server, cfg);
    server.add_service(node);
    addr = "127.0.0.1:" + std::to_string(server.listen("127.0.0.1:0").value());
  }
  ~Fixture() {
    // Ends the node's maintenance loop, so the kernel runs out of work at
    // once instead of after its 10 s grace.
    kernel.run(node->leave());
    server.close();
    for (auto& c : clients) c->close();
  }

  struct Joiner {
    peers::rpc::Node* node;
    std::shared_ptr<peers::rpc::Connection> conn;
  };
  // A node's configuration that joins through this source.
  OverlayConfig config(overlay::Role role, std::uint32_t capacity) const {
    OverlayConfig cfg;
    cfg.role = role;
    cfg.capacity = capacity;
    cfg.bootstrap = {addr};
    return cfg;
  }

  // A fresh node connected to the source.
  Joiner joiner() {
    clients.push_back(
        std::make_unique<peers::rpc::Node>(kernel.executor(), peers::Identity::generate()));
    return {clients.back().get(), kernel.run(clients.back()->connect(addr))};
  }

  static overlay::JoinRequest request(const peers::rpc::Node& who, bool resume,
                                      std::uint32_t capacity) {
    overlay::JoinRequest req;
    req.stripe = 0;
    req.joiner.id = who.id().to_string();
    req.joiner.addr = "127.0.0.1:9";
    req.joiner.capacity = capacity;
    req.joiner.role = overlay::Role::kRelay;
    req.resume = resume;
    return req;
  }

  // A join from a fresh joiner that uploads `capacity` children's worth.
  overlay::JoinReply join(bool resume, std::uint32_t capacity = 2) {
    Joiner j = joiner();
    return overlay::OverlayClient(j.conn).join_sync(request(*j.node, resume, capacity));
  }

  // A fresh joiner that joins and opens its feed: a child of the source.
  Joiner child(std::uint32_t capacity) {
    Joiner j = joiner();
    overlay::JoinReply reply =
        overlay::OverlayClient(j.conn).join_sync(request(*j.node, false, capacity));
    overlay::FeedRequest feed;
    feed.stripe = 0;
    feed.ticket = reply.ticket;
    feeds.push_back(kernel.run(overlay::OverlayClient(j.conn).feed(feed)).second);
    return j;
  }

  // Joiner j asks the node listening on `port` to adopt it where it is (a
  // here-only join) with no address of its own, as a NATed node would.
  overlay::JoinReply join_without_address(const Joiner& j, std::uint16_t port) {
    auto conn = kernel.run(j.node->connect("127.0.0.1:" + std::to_string(port)));
    overlay::JoinRequest req = request(*j.node, false, 0);
    req.joiner.addr.clear();
    req.here_only = true;
    return overlay::OverlayClient(conn).join_sync(req);
  }

  // A relay of `capacity` children on `rpc` that has joined the source.
  std::shared_ptr<OverlayNode> relay(peers::rpc::Node& rpc, std::uint32_t capacity = 2) {
    OverlayConfig cfg;
    cfg.role = overlay::Role::kRelay;
    cfg.capacity = capacity;
    cfg.bootstrap = {addr};
    auto node = std::make_shared<OverlayNode>(rpc, cfg);
    rpc.add_service(node);
    kernel.run(node->start(std::chrono::seconds(10)));
    return node;
  }

  // Joins from `n` fresh joiners that listen (so an adopter can dial them
  // back), sent to the source together from the kernel's thread.
  std::vector<std::future<overlay::JoinReply>> joins_together(int n) {
    std::vector<std::pair<std::shared_ptr<peers::rpc::Connection>, overlay::JoinRequest>> asks;
    for (int i = 0; i < n; ++i) {
      clients.push_back(
          std::make_unique<peers::rpc::Node>(kernel.executor(), peers::Identity::generate()));
      auto port = clients.back()->listen("127.0.0.1:0").value();
      auto conn = kernel.run(clients.back()->connect(addr));
      overlay::JoinRequest req = request(*clients.back(), false, 2);
      req.joiner.addr = "127.0.0.1:" + std::to_string(port);
      asks.emplace_back(conn, req);
    }
    std::vector<std::future<overlay::JoinReply>> answers;
    std::promise<void> sent;
    boost::asio::post(kernel.executor(), [&] {
      for (const auto& [conn, req] : asks) {
        answers.push_back(boost::asio::co_spawn(
            kernel.executor(),
            [conn = conn, req = req]() -> Task<overlay::JoinReply> {
              auto op = overlay::OverlayClient(conn).join(req);
              co_return co_await std::move(op);
            },
            boost::asio::use_future));
      }
      sent.set_value();
    });
    sent.get_future().wait();
    return answers;
  }

  Kernel kernel{1};
  peers::rpc::Node server;
  std::vector<std::shared_ptr<peers::rpc::DataChannel>> feeds;
  std::vector<std::unique_ptr<peers::rpc::Node>> clients;
  std::shared_ptr<OverlayNode> node;
  std::string addr;
};

TEST(OverlayNode, ANodeJoinsOnlyForItself) {
  // The session proves who calls: a join naming another node as the joiner
  // (to take its place, or to have its slot) is refused, and nothing
  // changes.
  Fixture f;
  Fixture::Joiner attacker = f.joiner();
  Fixture::Joiner victim = f.joiner();
  overlay::JoinRequest req = Fixture::request(*victim.node, false, 100);
  try {
    overlay::OverlayClient(attacker.conn).join_sync(req);
    ADD_FAILURE() << "a join for another node was served";
  } catch (const peers::Error& e) {
    EXPECT_EQ(e.code(), peers::Errc::kPermissionDenied) << e.what();
  }
  EXPECT_EQ(f.node->stats().joins_served, 0u);
  // The same request from the node it names is served.
  EXPECT_EQ(overlay::OverlayClient(victim.conn).join_sync(req).parent.id,
            f.server.id().to_string());
}

TEST(OverlayNode, ANodeServesAPunchOnlyForAJoinerItReservedIntroducedByItsParent) {
  // A relay under the source takes a joiner (a reservation). Only its parent
  // in that stripe, the source, may ask it to punch through to that joiner:
  // not another peer, and not for another joiner.
  Fixture f;
  peers::rpc::Node relay_rpc(f.kernel.executor(), peers::Identity::generate());
  auto relay_port = relay_rpc.listen("127.0.0.1:0").value();
  auto relay = f.relay(relay_rpc);
  Fixture::Joiner j = f.joiner();
  overlay::JoinReply reply = f.join_without_address(j, relay_port);
  ASSERT_EQ(reply.parent.id, relay_rpc.id().to_string());
  auto expects = [&](const peers::PeerId& asker, const peers::PeerId& joiner) {
    return f.kernel.run([&]() -> Task<bool> { co_return relay->expects_punch(asker, joiner); }());
  };
  EXPECT_TRUE(expects(f.server.id(), j.node->id()));
  EXPECT_FALSE(expects(j.node->id(), j.node->id()));                            // not its parent
  EXPECT_FALSE(expects(f.server.id(), peers::Identity::generate().peer_id()));  // not reserved
  f.kernel.run(relay->leave());
  relay_rpc.close();
}

TEST(OverlayNode, AJoinersIntroducerMayAskForThePunchAfterTheAdopterMoved) {
  // A relay R under the source takes an address-less joiner J (the reply's
  // path names the source as the introducer). Then R moves: the source
  // redirects it to another relay R2. J's punch, asked by the source as the
  // reply told J, is still served; R2 (R's parent now) may ask too; a
  // stranger may not.
  Fixture f(1, 2);
  peers::rpc::Node r_rpc(f.kernel.executor(), peers::Identity::generate());
  auto r_port = r_rpc.listen("127.0.0.1:0").value();
  auto r = f.relay(r_rpc);
  peers::rpc::Node r2_rpc(f.kernel.executor(), peers::Identity::generate());
  auto r2_port = r2_rpc.listen("127.0.0.1:0").value();
  auto r2 = f.relay(r2_rpc);
  Fixture::Joiner j = f.joiner();
  overlay::JoinReply reply = f.join_without_address(j, r_port);
  auto reserved_at = std::chrono::steady_clock::now();
  ASSERT_EQ(reply.parent.id, r_rpc.id().to_string());
  ASSERT_EQ(reply.path.back().id, f.server.id().to_string());

  overlay::Redirect move;
  move.stripe = 0;
  move.via.id = r2_rpc.id().to_string();
  move.via.addr = "127.0.0.1:" + std::to_string(r2_port);
  move.reason = "test";
  auto source_to_r = f.kernel.run(f.server.connect("127.0.0.1:" + std::to_string(r_port)));
  f.kernel.run([&]() -> Task<int> {
    overlay::OverlayClient(source_to_r).redirect(move);
    co_return 0;
  }());
  auto parent_of_r = [&] {
    return f.kernel.run([&]() -> Task<std::string> { co_return r->stripe_status()[0].parent; }());
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (parent_of_r() != r2_rpc.id().short_id()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "R is under " << parent_of_r();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto expects = [&](const peers::PeerId& asker) {
    return f.kernel.run([&]() -> Task<bool> { co_return r->expects_punch(asker, j.node->id()); }());
  };
  // J's reservation lasts 5 s; the move takes milliseconds on loopback, but
  // a starved machine may take longer, and then there is nothing to check.
  if (std::chrono::steady_clock::now() - reserved_at < std::chrono::seconds(4)) {
    EXPECT_TRUE(expects(f.server.id()));
    EXPECT_TRUE(expects(r2_rpc.id()));
  }
  EXPECT_FALSE(expects(peers::Identity::generate().peer_id()));
  f.kernel.run(r->leave());
  f.kernel.run(r2->leave());
  r_rpc.close();
  r2_rpc.close();
}

TEST(OverlayNode, AStrangerCannotSwapItselfOverAChild) {
  // A child that is fed here, and a stranger that claims to be its child
  // and to upload far more: the child does not vouch for it (here: it does
  // not even serve Overlay), so there is no swap and the child keeps its
  // slot.
  Fixture f;
  Fixture::Joiner child = f.joiner();
  overlay::JoinReply reply =
      overlay::OverlayClient(child.conn).join_sync(Fixture::request(*child.node, false, 1));
  overlay::FeedRequest feed;
  feed.stripe = 0;
  feed.ticket = reply.ticket;
  auto fed = f.kernel.run(overlay::OverlayClient(child.conn).feed(feed));
  ASSERT_EQ(f.node->stripe_status()[0].children, 1u);

  Fixture::Joiner stranger = f.joiner();
  overlay::JoinRequest req = Fixture::request(*stranger.node, true, 100);
  req.here_only = true;
  req.current_parent = child.node->id().to_string();
  EXPECT_THROW(overlay::OverlayClient(stranger.conn).join_sync(req), overlay::Full);
  ASSERT_EQ(f.node->stripe_status()[0].children, 1u);
  EXPECT_EQ(f.node->stripe_status()[0].child_list[0].info.id, child.node->id().to_string());
  EXPECT_EQ(f.node->stats().joins_served, 1u);
}

TEST(OverlayNode, OnlyTheParentAsksAboutAChild) {
  // vouch() tells whether a node is a child here: only this node's parent
  // in the stripe may ask (the source has none, so nobody may).
  Fixture f;
  Fixture::Joiner stranger = f.joiner();
  overlay::ChildQuery q;
  q.stripe = 0;
  q.child = stranger.node->id().to_string();
  try {
    overlay::OverlayClient(stranger.conn).vouch_sync(q);
    ADD_FAILURE() << "a stranger learnt about the children";
  } catch (const peers::Error& e) {
    EXPECT_EQ(e.code(), peers::Errc::kPermissionDenied) << e.what();
  }
}

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

TEST(OverlayNode, TheSourceLendsOneChildOfSlackInAllNotOneInEachStripe) {
  // Two stripes, one child each: full. An orphan is lent the one child of
  // slack; a second orphan, in the other stripe, is not (lent per stripe,
  // K children over the budget took the headroom every stripe needs).
  Fixture f(2);
  auto request_in = [](const peers::rpc::Node& who, std::uint32_t stripe, bool resume) {
    overlay::JoinRequest req = Fixture::request(who, resume, 0);
    req.stripe = stripe;
    return req;
  };
  for (std::uint32_t stripe : {0u, 1u}) {
    Fixture::Joiner j = f.joiner();
    overlay::JoinReply reply =
        overlay::OverlayClient(j.conn).join_sync(request_in(*j.node, stripe, false));
    overlay::FeedRequest feed;
    feed.stripe = stripe;
    feed.ticket = reply.ticket;
    f.feeds.push_back(f.kernel.run(overlay::OverlayClient(j.conn).feed(feed)).second);
  }
  Fixture::Joiner orphan = f.joiner();
  EXPECT_EQ(
      overlay::OverlayClient(orphan.conn).join_sync(request_in(*orphan.node, 0, true)).parent.id,
      f.server.id().to_string());
  EXPECT_EQ(f.node->stats().slack_adoptions, 1u);
  Fixture::Joiner second = f.joiner();
  EXPECT_THROW(overlay::OverlayClient(second.conn).join_sync(request_in(*second.node, 1, true)),
               overlay::Full);
  EXPECT_EQ(f.node->stats().slack_adoptions, 1u);
}

TEST(OverlayNode, ChildrenClaimingEndlessRoomCannotWrapTheRoomTheirParentReports) {
  // Two children each claim 2^32 - 1 free slots below them: unchecked
  // claims are bounded (2^20) and summed without wrapping, so the parent
  // reports the bound, not a small wrapped number, and keeps working.
  Fixture f(1, 2);
  Fixture::Joiner a = f.child(2);
  Fixture::Joiner b = f.child(2);
  overlay::Heartbeat hb;
  hb.stripe = 0;
  hb.capacity = 2;
  hb.spare = 0xFFFFFFFFu;
  overlay::OverlayClient(a.conn).heartbeat_sync(hb);
  overlay::HeartbeatReply reply = overlay::OverlayClient(b.conn).heartbeat_sync(hb);
  EXPECT_EQ(reply.spare, 1u << 20);
}

TEST(OverlayNode, ANodeWithNoBootstrapAddressSaysSoAtOnce) {
  Fixture f;
  peers::rpc::Node rpc(f.kernel.executor(), peers::Identity::generate());
  OverlayConfig cfg = f.config(overlay::Role::kRelay, 2);
  cfg.bootstrap.clear();
  auto node = std::make_shared<OverlayNode>(rpc, cfg);
  rpc.add_service(node);
  try {
    // A join timeout of an hour: the answer must not wait for it.
    f.kernel.run(node->start(std::chrono::hours(1)));
    ADD_FAILURE() << "started with nothing to join";
  } catch (const peers::Error& e) {
    EXPECT_EQ(e.code(), peers::Errc::kInvalidArgument) << e.what();
    EXPECT_NE(std::string(e.what()).find("no bootstrap address"), std::string::npos) << e.what();
  }
  rpc.close();
}

TEST(OverlayNode, AChildThatCannotBeDialedMakesItsParentForgetItsAddress) {
  // The child joined with an address; a dial-back then found it cannot be
  // dialed (a firewall), and its heartbeats say so: the parent forgets the
  // address, and a later heartbeat cannot give it back.
  Fixture f(1, 2);
  Fixture::Joiner child = f.child(2);
  auto child_addr = [&] {
    auto st = f.node->stripe_status();
    return st[0].child_list.empty() ? std::string("no child") : st[0].child_list[0].info.addr;
  };
  ASSERT_EQ(child_addr(), "127.0.0.1:9");
  overlay::Heartbeat hb;
  hb.stripe = 0;
  hb.capacity = 2;
  overlay::OverlayClient(child.conn).heartbeat_sync(hb);
  EXPECT_EQ(child_addr(), "127.0.0.1:9");
  hb.undialable = true;
  overlay::OverlayClient(child.conn).heartbeat_sync(hb);
  EXPECT_EQ(child_addr(), "");
  hb.undialable = false;
  overlay::OverlayClient(child.conn).heartbeat_sync(hb);
  EXPECT_EQ(child_addr(), "");
}

TEST(OverlayNode, ANodeThatFeedsByConnectionReversalHoldsTheSlotWhileItDials) {
  // A relay nobody can dial (it never listened) with room for one child,
  // under a source it fills: joins reach it forwarded over the connection it
  // opened, and it dials each joiner back to feed it. Joins that arrive
  // during such a dial must not each see the one free slot (vt-sim: a
  // NATed viewer with room for 2 adopted 7 in half a second, then shed
  // them one by one).
  Fixture f;
  peers::rpc::Node relay_rpc(f.kernel.executor(), peers::Identity::generate());
  auto relay = f.relay(relay_rpc, 1);
  ASSERT_EQ(relay_rpc.advertised_addr(), "");
  std::vector<std::future<overlay::JoinReply>> answers = f.joins_together(3);
  int adopted = 0, full = 0;
  for (auto& a : answers) {
    try {
      overlay::JoinReply reply = a.get();
      EXPECT_EQ(reply.parent.id, relay_rpc.id().to_string());
      ++adopted;
    } catch (const overlay::Full& e) {
      ++full;
    }
  }
  EXPECT_EQ(adopted, 1);
  EXPECT_EQ(full, 2);
  f.kernel.run(relay->leave());
  relay_rpc.close();
}

TEST(OverlayNode, JoinsForwardedTogetherGoToDifferentChildrenWithRoom) {
  // A full source with two relays of one slot each: two joins that arrive
  // together are forwarded one to each relay, not both after the slot the
  // first relay last reported (the second would find it taken and be told
  // there is no capacity while the other relay has room).
  Fixture f(1, 2);
  peers::rpc::Node a_rpc(f.kernel.executor(), peers::Identity::generate());
  peers::rpc::Node b_rpc(f.kernel.executor(), peers::Identity::generate());
  a_rpc.listen("127.0.0.1:0").value();
  b_rpc.listen("127.0.0.1:0").value();
  auto a = f.relay(a_rpc, 1);
  auto b = f.relay(b_rpc, 1);
  std::vector<std::future<overlay::JoinReply>> answers = f.joins_together(2);
  std::set<std::string> parents;
  for (auto& answer : answers) {
    try {
      parents.insert(answer.get().parent.id);
    } catch (const overlay::Full& e) {
      ADD_FAILURE() << "refused: " << e.what();
    }
  }
  EXPECT_EQ(parents, (std::set<std::string>{a_rpc.id().to_string(), b_rpc.id().to_string()}));
  f.kernel.run(a->leave());
  f.kernel.run(b->leave());
  a_rpc.close();
  b_rpc.close();
}

TEST(OverlayNode, StripeJoinsAskTheBootstrapNodeThatAnsweredBeforeOneThatDidNot) {
  // The first bootstrap address refuses connections (a node that left; in
  // vt-sim, a NATed friend's private address, which costs a 5 s connect
  // timeout each time); the second is the source. Once the stream is
  // learned from the source, the stripe's join asks the source first and
  // never the address that failed.
  Fixture f;
  std::string dead;
  {
    peers::rpc::Node gone(f.kernel.executor(), peers::Identity::generate());
    dead = "127.0.0.1:" + std::to_string(gone.listen("127.0.0.1:0").value());
    gone.close();
  }
  peers::rpc::Node rpc(f.kernel.executor(), peers::Identity::generate());
  OverlayConfig cfg = f.config(overlay::Role::kRelay, 2);
  cfg.bootstrap = {dead, f.addr};
  auto node = std::make_shared<OverlayNode>(rpc, cfg);
  rpc.add_service(node);
  std::vector<std::string> lines;
  {
    peers::LogCapture log(peers::LogLevel::kDebug);
    f.kernel.run(node->start(std::chrono::seconds(10)));
    lines = log.lines();
  }
  std::size_t stream_tries = 0, join_tries = 0;
  for (const auto& l : lines) {
    if (l.find(dead) == std::string::npos) continue;
    if (l.find("cannot join yet") != std::string::npos) ++stream_tries;
    if (l.find("join attempt failed") != std::string::npos) ++join_tries;
  }
  EXPECT_EQ(stream_tries, 1u);
  EXPECT_EQ(join_tries, 0u);
  EXPECT_EQ(node->stripe_status()[0].parent_info->info.id, f.server.id().to_string());
  f.kernel.run(node->leave());
  rpc.close();
}

TEST(OverlayNode, ANewcomerAsksTheNextBootstrapAddressWhileADialNobodyAnswersWaits) {
  // The first bootstrap address drops connection attempts (a firewall, or a
  // NATed friend's private address): its dial waits out the connect
  // timeout, here a minute. The newcomer asks the source, its second
  // address, meanwhile, and has joined long before that dial gives up.
  Fixture f;
  peers::rpc::testing::BlackHole hole;
  ASSERT_NE(hole.port(), 0);
  const std::string dropped = "127.0.0.1:" + std::to_string(hole.port());
  peers::rpc::NodeOptions o;
  o.connect_timeout = std::chrono::seconds(60);
  peers::rpc::Node rpc(f.kernel.executor(), peers::Identity::generate(), o);
  OverlayConfig cfg = f.config(overlay::Role::kRelay, 2);
  cfg.bootstrap = {dropped, f.addr};
  auto node = std::make_shared<OverlayNode>(rpc, cfg);
  rpc.add_service(node);
  std::vector<std::string> lines;
  {
    peers::LogCapture log(peers::LogLevel::kDebug);
    f.kernel.run(node->start(std::chrono::seconds(120)));
    lines = log.lines();
  }
  for (const auto& l : lines) {
    // Asked first; neither failed nor used for a stripe's join.
    if (l.find("cannot join yet") != std::string::npos ||
        l.find("join attempt failed") != std::string::npos) {
      EXPECT_EQ(l.find(dropped), std::string::npos) << l;
    }
  }
  EXPECT_EQ(node->stripe_status()[0].parent_info->info.id, f.server.id().to_string());
  f.kernel.run(node->leave());
  rpc.close();
}

TEST(OverlayNode, AFullNodeTellsANewcomerThereIsNoCapacity) {
  // Admitted viewers are never degraded by newcomers: no slack for a
  // newcomer, and the refusal says why.
  Fixture f;
  f.child(0);
  try {
    f.join(false, 0);
    ADD_FAILURE() << "a full source adopted a newcomer";
  } catch (const overlay::Full& e) {
    EXPECT_EQ(e.message().rfind("no capacity: ", 0), 0u) << e.message();
    EXPECT_EQ(e.retry_ms, 0u);
  }
  EXPECT_EQ(f.node->stats().slack_adoptions, 0u);
}

// A newcomer whose --join addresses are the fixture's full source and
// `other` is told "no capacity" within seconds, not at its 30 s deadline.
void expect_told_no_capacity(Fixture& f, const std::string& other) {
  peers::rpc::Node me(f.kernel.executor(), peers::Identity::generate());
  OverlayConfig cfg;
  cfg.role = overlay::Role::kSink;
  cfg.capacity = 0;
  cfg.bootstrap = {f.addr, other};
  auto node = std::make_shared<OverlayNode>(me, cfg);
  auto began = std::chrono::steady_clock::now();
  try {
    f.kernel.run(node->start(std::chrono::seconds(30)));
    ADD_FAILURE() << "a full source adopted a newcomer";
  } catch (const peers::Error& e) {
    EXPECT_EQ(e.message().rfind("no capacity: ", 0), 0u) << e.message();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(15));
  me.close();
}

TEST(OverlayNode, ANewcomerLearnsThereIsNoCapacityEvenWhenAKnownNodeIsGone) {
  // The source is full; the newcomer's other address is a node that has
  // left (its connection is refused). That says nothing about capacity.
  // The source keeps its child (which sends no heartbeat) for 30 s.
  Fixture f(1, 1, std::chrono::seconds(10));
  f.child(0);
  std::string gone;
  {
    peers::rpc::Node left(f.kernel.executor(), peers::Identity::generate());
    gone = "127.0.0.1:" + std::to_string(left.listen("127.0.0.1:0").value());
    left.close();
  }
  expect_told_no_capacity(f, gone);
}

TEST(OverlayNode, ANewcomerLearnsThereIsNoCapacityEvenWhenAKnownNodeIsNotInTheTree) {
  // The newcomer's other address is a node that is not in the tree (a
  // newcomer refused before it, or one still joining): it answers
  // NotInTree every time, which says nothing about capacity either.
  // The source keeps its child (which sends no heartbeat) for 30 s.
  Fixture f(1, 1, std::chrono::seconds(10));
  f.child(0);
  peers::rpc::Node outside(f.kernel.executor(), peers::Identity::generate());
  auto port = outside.listen("127.0.0.1:0").value();
  outside.add_service(
      std::make_shared<OverlayNode>(outside, f.config(overlay::Role::kRelay, 2)));  // never started
  expect_told_no_capacity(f, "127.0.0.1:" + std::to_string(port));
  outside.close();
}

TEST(OverlayNode, ASlotHeldOnlyByAReservationIsBusyNotFull) {
  // A joiner that was answered but has not opened its feed holds the slot
  // for a few seconds only: a newcomer hears "busy" and when to ask again
  // (it keeps trying instead of giving up), not "no capacity".
  Fixture f;
  EXPECT_EQ(f.join(false).parent.id, f.server.id().to_string());
  // At first the joiner may be on its way to open its feed: no capacity.
  EXPECT_THROW(f.join(false, 4), overlay::Full);
  // Once it has had time enough and did not, its slot will lapse: busy.
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  try {
    f.join(false, 4);
    ADD_FAILURE() << "a full source adopted a newcomer";
  } catch (const overlay::Full& e) {
    EXPECT_EQ(e.message().rfind("busy: ", 0), 0u) << e.message();
    EXPECT_GT(e.retry_ms, 0u);
    EXPECT_LE(e.retry_ms, 5000u);
  }
}

TEST(OverlayNode, AJoinThatWouldChokeAViewerChokesItOnlyOnceItsFeedOpens) {
  // The viewer uploads nothing; a joiner that says it uploads takes its
  // slot, but only when it opens its feed: joins alone (a flood of fresh
  // identities) push nobody around, and one viewer is offered once.
  Fixture f;
  Fixture::Joiner viewer = f.child(0);
  Fixture::Joiner taker = f.joiner();
  overlay::JoinReply reply =
      overlay::OverlayClient(taker.conn).join_sync(Fixture::request(*taker.node, false, 4));
  EXPECT_THROW(f.join(false, 4), overlay::Full);  // the viewer is promised already
  ASSERT_EQ(f.node->stripe_status()[0].children, 1u);
  EXPECT_EQ(f.node->stats().choked, 0u);
  overlay::FeedRequest feed;
  feed.stripe = 0;
  feed.ticket = reply.ticket;
  auto fed = f.kernel.run(overlay::OverlayClient(taker.conn).feed(feed));
  ASSERT_EQ(f.node->stripe_status()[0].children, 1u);
  EXPECT_EQ(f.node->stripe_status()[0].child_list[0].info.id, taker.node->id().to_string());
  EXPECT_EQ(f.node->stats().choked, 1u);
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

TEST(OverlayNode, AHomeMovesToAStripeThatLostItsForwarders) {
  // Two stripes, the source with a slot or two in each, and three relays of
  // a few slots: their homes spread as they join, two in one stripe and one
  // in the other. When the one alone in its stripe leaves, that stripe has
  // the source's slots only, and one of the two others moves its home there
  // (the heartbeats carry the totals down from the source). Only one: the
  // source grants the moves, counting those it granted, and moving the
  // other too would only tip the balance the other way.
  Fixture f(2, 4);
  struct Relay {
    std::unique_ptr<peers::rpc::Node> rpc;
    std::shared_ptr<OverlayNode> node;
  };
  std::vector<Relay> relays;
  for (int i = 0; i < 3; ++i) {
    Relay r;
    r.rpc = std::make_unique<peers::rpc::Node>(f.kernel.executor(), peers::Identity::generate());
    r.rpc->listen("127.0.0.1:0").value();
    OverlayConfig cfg;
    cfg.role = overlay::Role::kRelay;
    cfg.capacity = 4;
    cfg.bootstrap = {f.addr};
    cfg.home_dwell = std::chrono::milliseconds(0);
    // Delays closer than the totals take to go round: both ask.
    cfg.home_move_spread = std::chrono::milliseconds(200);
    r.node = std::make_shared<OverlayNode>(*r.rpc, cfg);
    r.rpc->add_service(r.node);
    f.kernel.run(r.node->start(std::chrono::seconds(20)));
    relays.push_back(std::move(r));
  }
  // Which stripe each relay forwards in, read on the kernel's threads.
  auto homes = [&] {
    return f.kernel.run([&]() -> Task<std::vector<int>> {
      std::vector<int> out;
      for (auto& r : relays) {
        int home = -1;
        if (r.node) {
          for (const auto& st : r.node->stripe_status()) home = st.interior ? int(st.stripe) : home;
        }
        out.push_back(home);
      }
      co_return out;
    }());
  };
  auto before = homes();
  int in0 = static_cast<int>(std::count(before.begin(), before.end(), 0));
  ASSERT_TRUE(in0 == 1 || in0 == 2)
      << "homes did not spread: " << before[0] << before[1] << before[2];
  int lonely_stripe = in0 == 1 ? 0 : 1;
  auto lonely = std::find(before.begin(), before.end(), lonely_stripe) - before.begin();
  f.kernel.run(relays[lonely].node->leave());
  relays[lonely].rpc->close();
  relays[lonely].node.reset();
  // Well past the heartbeats that carry the totals and the spread delay.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::vector<int> after;
  for (;;) {
    after = homes();
    if (std::count(after.begin(), after.end(), lonely_stripe) > 0) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "no home moved to stripe " << lonely_stripe;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(std::count(after.begin(), after.end(), lonely_stripe), 1);
  // The other does not follow, nor does the mover come back.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(homes(), after);
  for (auto& r : relays) {
    if (!r.node) continue;
    f.kernel.run(r.node->leave());
    r.rpc->close();
  }
}

TEST(OverlayNode, AViewerChokedForANewcomerThatUploadsGoesToAPlaceTheNewcomerHolds) {
  // The source has one slot, held by a viewer that uploads nothing. A relay
  // joins: it uploads and this stripe is its home, so it takes the slot,
  // holds the viewer a place of its own, and the viewer is sent there. The
  // viewer is never left to search a full tree for room.
  Fixture f(1, 1);
  auto make = [&](overlay::Role role, std::uint32_t capacity) {
    auto rpc = std::make_unique<peers::rpc::Node>(f.kernel.executor(), peers::Identity::generate());
    rpc->listen("127.0.0.1:0").value();
    OverlayConfig cfg;
    cfg.role = role;
    cfg.capacity = capacity;
    cfg.bootstrap = {f.addr};
    auto node = std::make_shared<OverlayNode>(*rpc, cfg);
    rpc->add_service(node);
    return std::pair(std::move(rpc), node);
  };
  auto [viewer_rpc, viewer] = make(overlay::Role::kSink, 0);
  f.kernel.run(viewer->start(std::chrono::seconds(10)));
  auto [relay_rpc, relay] = make(overlay::Role::kRelay, 4);
  f.kernel.run(relay->start(std::chrono::seconds(10)));
  auto parent_of_viewer = [&, &viewer = viewer] {
    return f.kernel.run(
        [&]() -> Task<std::string> { co_return viewer->stripe_status()[0].parent; }());
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (parent_of_viewer() != relay_rpc->id().short_id()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "the viewer is under " << parent_of_viewer();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(f.node->stats().choked, 1u);
  EXPECT_EQ(f.node->stripe_status()[0].child_list.at(0).info.id, relay_rpc->id().to_string());
  // Straight there: the source forwarded no join of the viewer's to find it.
  EXPECT_EQ(f.node->stats().forwards, 0u);
  f.kernel.run(viewer->leave());
  f.kernel.run(relay->leave());
  viewer_rpc->close();
  relay_rpc->close();
}

TEST(OverlayNode, AHomeMoveThatIsNotWantedIsNotGrantedAndChangesNothing) {
  // The source answers move_home with its totals and grants nothing that
  // choose_home_move does not want: a stripe that does not exist, a move to
  // the same stripe, or one that would tip the balance. A node other than
  // the source grants nothing at all.
  Fixture f(2, 4);
  Fixture::Joiner asker = f.joiner();
  overlay::OverlayClient client(asker.conn);
  auto ask = [&](std::uint32_t from, std::uint32_t to, std::uint32_t slots) {
    overlay::HomeMove m;
    m.from = from;
    m.to = to;
    m.slots = slots;
    return client.move_home_sync(m);
  };
  for (auto [from, to, slots] :
       {std::tuple{0u, 7u, 1u}, std::tuple{9u, 1u, 1u}, std::tuple{1u, 1u, 1u},
        std::tuple{0u, 1u, 1000u}, std::tuple{0u, 1u, 1u}}) {
    auto reply = ask(from, to, slots);
    EXPECT_FALSE(reply.granted) << from << "->" << to << " x" << slots;
    // Its own budget in each stripe (4), unchanged by the asking.
    EXPECT_EQ(reply.stripe_interior, (std::vector<std::uint32_t>{4, 4}));
  }
  peers::rpc::Node relay_rpc(f.kernel.executor(), peers::Identity::generate());
  auto relay_port = relay_rpc.listen("127.0.0.1:0").value();
  auto relay = std::make_shared<OverlayNode>(relay_rpc, f.config(overlay::Role::kRelay, 2));
  relay_rpc.add_service(relay);
  f.kernel.run(relay->start(std::chrono::seconds(10)));
  auto to_relay = f.kernel.run(asker.node->connect("127.0.0.1:" + std::to_string(relay_port)));
  overlay::HomeMove m;
  m.from = 0;
  m.to = 1;
  m.slots = 1;
  EXPECT_THROW(overlay::OverlayClient(to_relay).move_home_sync(m), overlay::NotInTree);
  f.kernel.run(relay->leave());
  relay_rpc.close();
}

// A chunk of a one-stripe stream, `seq` seconds in, each a random-access
// point (a newcomer starts at the newest).
Chunk test_chunk(ChunkSeq seq) {
  Chunk c;
  c.seq = seq;
  c.stripe = 0;
  c.random_access = true;
  c.timestamp = std::chrono::seconds(seq);
  c.payload = "chunk " + std::to_string(seq);
  return c;
}

// Publishes seqs [from, to) at the fixture's source, each in stripe seq % K.
void publish(Fixture& f, ChunkSeq from, ChunkSeq to, std::uint32_t stripes = 1) {
  f.kernel.run([&]() -> Task<int> {
    for (ChunkSeq q = from; q < to; ++q) {
      Chunk c = test_chunk(q);
      c.stripe = static_cast<std::uint32_t>(q % stripes);
      f.node->publish(c);
    }
    co_return 0;
  }());
}

// Asks the fixture's source for a fill and returns the seqs of the chunks
// that came, each verified against the source's key.
std::vector<ChunkSeq> fill_from_source(Fixture& f, overlay::OverlayClient& client,
                                       std::uint32_t stripe, ChunkSeq from, ChunkSeq to) {
  overlay::FillRequest req;
  req.stripe = stripe;
  req.from_seq = from;
  req.to_seq = to;
  auto [reply, channel] = f.kernel.run(client.fill(req));
  std::vector<ChunkSeq> got;
  for (;;) {
    auto data = f.kernel.run(channel->read());
    if (!data) break;
    auto chunk = verify_chunk(*data, f.server.identity().public_key(), 1 << 20);
    EXPECT_TRUE(chunk) << chunk.error().message();
    if (!chunk) break;
    EXPECT_EQ(chunk->stripe, stripe);
    got.push_back(chunk->seq);
  }
  EXPECT_EQ(reply.chunks, got.size());
  return got;
}

TEST(OverlayNode, AFillServesHeldChunksOfARangeWithinBounds) {
  Fixture f(1, 2);
  publish(f, 0, 10);
  Fixture::Joiner asker = f.joiner();
  overlay::OverlayClient client(asker.conn);
  EXPECT_EQ(fill_from_source(f, client, 0, 3, 7), (std::vector<ChunkSeq>{3, 4, 5, 6}));
  EXPECT_EQ(f.node->stats().fills_served, 1u);
  // Bad ranges and stripes get a clear error, and nothing is sent.
  auto fails = [&](std::uint32_t stripe, ChunkSeq from, ChunkSeq to) {
    overlay::FillRequest bad;
    bad.stripe = stripe;
    bad.from_seq = from;
    bad.to_seq = to;
    try {
      f.kernel.run(client.fill(bad));
    } catch (const peers::Error& e) {
      return std::string(e.what());
    }
    return std::string("served");
  };
  EXPECT_NE(fails(0, 5, 5).find("empty range"), std::string::npos);
  EXPECT_NE(fails(0, 0, 1000).find("at most 64 chunks"), std::string::npos);
  EXPECT_NE(fails(3, 0, 2).find("no such stripe"), std::string::npos);
  EXPECT_EQ(f.node->stats().fills_served, 1u);
}

TEST(OverlayNode, AFillSendsOnlyTheStripesChunksAndARangeCannotWrapPastTheBound) {
  Fixture f(2, 2);
  publish(f, 0, 20, 2);
  Fixture::Joiner asker = f.joiner();
  overlay::OverlayClient client(asker.conn);
  EXPECT_EQ(fill_from_source(f, client, 1, 3, 11), (std::vector<ChunkSeq>{3, 5, 7, 9}));
  // A range whose length, rounded up to whole chunks, would wrap to a small
  // number is as long as it looks.
  overlay::FillRequest huge;
  huge.stripe = 0;
  huge.from_seq = 0;
  huge.to_seq = UINT64_MAX;
  try {
    f.kernel.run(client.fill(huge));
    ADD_FAILURE() << "a fill of 2^63 chunks was served";
  } catch (const peers::Error& e) {
    EXPECT_NE(std::string(e.what()).find("at most 64 chunks"), std::string::npos) << e.what();
  }
  // 64 chunks of a stripe is the bound, 65 is past it.
  huge.to_seq = 128;
  EXPECT_NO_THROW(f.kernel.run(client.fill(huge)));
  huge.stripe = 1;
  huge.from_seq = 1;
  huge.to_seq = 131;
  EXPECT_THROW(f.kernel.run(client.fill(huge)), peers::Error);
}

TEST(OverlayNode, AChildWhoseNewParentsHistoryBeganLateFillsTheGapFromAnotherHolder) {
  // The source feeds a relay R and, below R, a viewer V. R freezes (SIGSTOP,
  // as it were) while the stream goes on, and a newcomer N joins the source
  // at the live edge, its history beginning there. V loses R and lands
  // below N, whose history begins after V's last chunk: the chunks between
  // come from the source, so V misses none.
  // The source keeps the frozen R as a child for 30 s: it stays full, and
  // V's repair goes below N however long V takes to notice R.
  Fixture f(1, 2, std::chrono::seconds(10));
  auto config = [&](overlay::Role role, std::uint32_t capacity) {
    OverlayConfig cfg;
    cfg.role = role;
    cfg.capacity = capacity;
    cfg.bootstrap = {f.addr};
    return cfg;
  };
  publish(f, 0, 3);
  // R on an event loop of its own, so that it can be frozen.
  auto frozen_kernel = std::make_unique<peers::rpc::testing::Kernel>(1);
  peers::rpc::Node r_rpc(frozen_kernel->executor(), peers::Identity::generate());
  auto r_port = r_rpc.listen("127.0.0.1:0").value();
  auto r = std::make_shared<OverlayNode>(r_rpc, config(overlay::Role::kRelay, 2));
  r_rpc.add_service(r);
  frozen_kernel->run(r->start(std::chrono::seconds(10)));

  peers::rpc::Node v_rpc(f.kernel.executor(), peers::Identity::generate());
  v_rpc.listen("127.0.0.1:0").value();
  OverlayConfig v_cfg = config(overlay::Role::kSink, 0);
  v_cfg.bootstrap = {"127.0.0.1:" + std::to_string(r_port)};
  auto v = std::make_shared<OverlayNode>(v_rpc, v_cfg);
  v_rpc.add_service(v);
  auto seen = std::make_shared<std::set<ChunkSeq>>();
  v->on_chunk = [seen](const Chunk& c) { seen->insert(c.seq); };
  f.kernel.run(v->start(std::chrono::seconds(10)));
  auto parent_of_v = [&] {
    return f.kernel.run([&]() -> Task<std::string> { co_return v->stripe_status()[0].parent; }());
  };
  auto seen_count = [&] {
    return f.kernel.run([&]() -> Task<std::size_t> { co_return seen->size(); }());
  };
  ASSERT_EQ(parent_of_v(), r_rpc.id().short_id());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (seen_count() < 3) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "V did not get the first chunks";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  // Frozen until the end of the test, a failed one included.
  struct Thaw {
    std::promise<void> promise;
    ~Thaw() { promise.set_value(); }
  } thaw;
  std::shared_future<void> thawed = thaw.promise.get_future().share();
  boost::asio::post(frozen_kernel->io(), [thawed] { thawed.wait(); });
  publish(f, 3, 13);
  peers::rpc::Node n_rpc(f.kernel.executor(), peers::Identity::generate());
  n_rpc.listen("127.0.0.1:0").value();
  auto n = std::make_shared<OverlayNode>(n_rpc, config(overlay::Role::kRelay, 2));
  n_rpc.add_service(n);
  f.kernel.run(n->start(std::chrono::seconds(10)));
  ASSERT_EQ(n->first_seq(0), std::optional<ChunkSeq>(12)) << "N did not start at the live edge";
  publish(f, 13, 15);

  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (seen_count() < 15) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline)
        << "V is under " << parent_of_v() << " with " << seen_count() << " of 15 chunks";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Filled below N, in the one repair: without the fill V would have had to
  // wait for its stall watch to send it elsewhere (seconds; a sink's
  // playout skips the gap before then).
  auto [repairs, filled] = f.kernel.run([&]() -> Task<std::pair<std::uint64_t, std::uint64_t>> {
    co_return std::pair(v->stripe_status()[0].repairs, v->stats().filled);
  }());
  EXPECT_EQ(repairs, 1u);
  EXPECT_EQ(filled, 9u);  // 3 to 11, from the source
  EXPECT_EQ(parent_of_v(), n_rpc.id().short_id());
  EXPECT_EQ(*seen, (std::set<ChunkSeq>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}));
  EXPECT_EQ(f.node->stats().fills_served, 1u);

  thaw.promise.set_value();
  thaw.promise = std::promise<void>();
  f.kernel.run(v->leave());
  f.kernel.run(n->leave());
  frozen_kernel->run(r->leave());
  v_rpc.close();
  n_rpc.close();
  r_rpc.close();
}

// A holder that answers a fill with a doctored chunk first and the genuine
// chunks after it: a chunk of the stream with one bit of its signature
// flipped (a forgery), or a genuine chunk from outside the range asked; or
// that announces the chunks and sends none.
class DoctoredHolder : public overlay::OverlayServer {
 public:
  enum class Doctor { kFlippedSignature, kOutsideRange, kSilent };
  DoctoredHolder(peers::rpc::Node& rpc, const peers::Identity& source, Doctor how)
      : rpc_(rpc), source_(source), how_(how) {}

  std::size_t fills = 0;

  Task<overlay::FillReply> fill(peers::rpc::CallContext& ctx, overlay::FillRequest req) override {
    ++fills;
    std::vector<std::string> chunks;
    for (ChunkSeq q = req.from_seq; q < req.to_seq; ++q) {
      chunks.push_back(sign_chunk(source_, test_chunk(q)));
    }
    if (how_ == Doctor::kFlippedSignature) {
      chunks.front().back() = static_cast<char>(chunks.front().back() ^ 0x01);
    } else {
      chunks.front() = sign_chunk(source_, test_chunk(req.to_seq));
    }
    overlay::FillReply reply;
    reply.stripe = req.stripe;
    reply.chunks = static_cast<std::uint32_t>(chunks.size());
    auto channel = ctx.channel();
    if (how_ == Doctor::kSilent) {
      held_.push_back(channel);  // open, and nothing on it
      co_return reply;
    }
    boost::asio::co_spawn(
        rpc_.executor(),
        [channel, chunks = std::move(chunks)]() -> Task<void> {
          try {
            for (const auto& c : chunks) {
              auto op = channel->write(c);
              co_await std::move(op);
            }
            channel->close();
          } catch (const std::exception&) {
            // The asker hung up: what it should do.
          }
        },
        boost::asio::detached);
    co_return reply;
  }
  Task<peers::rpc::Answer<overlay::StreamInfo>> stream(peers::rpc::CallContext&) override {
    throw overlay::NotInTree("a holder only", 0);
  }
  Task<peers::rpc::Answer<overlay::JoinReply>> join(peers::rpc::CallContext&,
                                                    overlay::JoinRequest req) override {
    throw overlay::NotInTree("a holder only", req.stripe);
  }
  Task<overlay::FeedReply> feed(peers::rpc::CallContext&, overlay::FeedRequest req) override {
    throw overlay::NotInTree("a holder only", req.stripe);
  }
  Task<peers::rpc::Answer<overlay::HeartbeatReply>> heartbeat(peers::rpc::CallContext&,
                                                              overlay::Heartbeat req) override {
    throw overlay::NotInTree("a holder only", req.stripe);
  }
  Task<void> redirect(peers::rpc::CallContext&, overlay::Redirect) override { co_return; }
  Task<peers::rpc::Answer<overlay::ChildReport>> vouch(peers::rpc::CallContext&,
                                                       overlay::ChildQuery req) override {
    throw overlay::NotInTree("a holder only", req.stripe);
  }
  Task<peers::rpc::Answer<overlay::HomeMoveReply>> move_home(peers::rpc::CallContext&,
                                                             overlay::HomeMove req) override {
    throw overlay::NotInTree("a holder only", req.from);
  }

 private:
  peers::rpc::Node& rpc_;
  const peers::Identity& source_;
  Doctor how_;
  std::vector<std::shared_ptr<peers::rpc::DataChannel>> held_;
};

TEST(OverlayNode, AFillHolderThatSendsAForgeryIsBannedAndTheGapComesFromTheNextHolder) {
  // A viewer V joins at the live edge (seq 11) and asks for the chunks
  // before it: first from a holder that sends a doctored chunk, then from
  // the source. Nothing doctored reaches V's output; the forger is banned
  // and never asked again; a holder that sent a genuine chunk outside the
  // range, or that sends nothing, is given up for that fill but not banned.
  Fixture f(1, 2);
  publish(f, 0, 12);
  struct Holder {
    peers::rpc::Node rpc;
    std::shared_ptr<DoctoredHolder> service;
    overlay::PeerInfo info;
    Holder(Fixture& f, DoctoredHolder::Doctor how)
        : rpc(f.kernel.executor(), peers::Identity::generate()) {
      service = std::make_shared<DoctoredHolder>(rpc, f.server.identity(), how);
      rpc.add_service(service);
      info.id = rpc.id().to_string();
      info.addr = "127.0.0.1:" + std::to_string(rpc.listen("127.0.0.1:0").value());
    }
  };
  Holder forger(f, DoctoredHolder::Doctor::kFlippedSignature);
  Holder stray(f, DoctoredHolder::Doctor::kOutsideRange);
  Holder silent(f, DoctoredHolder::Doctor::kSilent);
  overlay::PeerInfo source;
  source.id = f.server.id().to_string();
  source.addr = f.addr;

  peers::rpc::Node v_rpc(f.kernel.executor(), peers::Identity::generate());
  v_rpc.listen("127.0.0.1:0").value();
  auto v = std::make_shared<OverlayNode>(v_rpc, f.config(overlay::Role::kSink, 0));
  v_rpc.add_service(v);
  auto out = std::make_shared<std::map<ChunkSeq, std::string>>();
  v->on_chunk = [out](const Chunk& c) { (*out)[c.seq] = c.payload; };
  auto banned = std::make_shared<std::vector<std::string>>();
  v->on_event = [banned](const std::string& kind, const std::map<std::string, std::string>& m) {
    if (kind == "peer_banned") banned->push_back(m.at("peer"));
  };
  f.kernel.run(v->start(std::chrono::seconds(10)));
  ASSERT_EQ(v->first_seq(0), std::optional<ChunkSeq>(11));

  f.kernel.run(v->fill_gap(0, 3, 8, {forger.info, source}));
  EXPECT_EQ(forger.service->fills, 1u);
  EXPECT_EQ(v->stats().rejected, 1u);
  EXPECT_EQ(*banned, (std::vector<std::string>{forger.rpc.id().to_string()}));
  // The banned forger is not asked again; the stray holder is given up for
  // this fill only.
  f.kernel.run(v->fill_gap(0, 8, 10, {forger.info, stray.info, source}));
  EXPECT_EQ(forger.service->fills, 1u);
  EXPECT_EQ(stray.service->fills, 1u);
  EXPECT_EQ(v->stats().rejected, 2u);
  // The silent holder's channel is failed after the fill timeout (3 s).
  f.kernel.run(v->fill_gap(0, 10, 11, {stray.info, silent.info, source}));
  EXPECT_EQ(stray.service->fills, 2u);
  EXPECT_EQ(silent.service->fills, 1u);
  EXPECT_EQ(banned->size(), 1u);

  EXPECT_EQ(v->stats().filled, 8u);  // 3 to 10, all from the source
  EXPECT_EQ(f.node->stats().fills_served, 3u);
  ASSERT_GE(out->size(), 9u);
  for (ChunkSeq q = 3; q <= 11; ++q) {
    ASSERT_TRUE(out->count(q)) << q;
    EXPECT_EQ(out->at(q), test_chunk(q).payload) << q;
  }
  f.kernel.run(v->leave());
  v_rpc.close();
  forger.rpc.close();
  stray.rpc.close();
  silent.rpc.close();
}

}  // namespace
}  // namespace vt
