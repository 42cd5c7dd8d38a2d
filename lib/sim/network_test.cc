#include "lib/sim/network.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "lib/crypto/identity.h"
#include "lib/rpc/connection.h"
#include "lib/rpc/node.h"

namespace peers::sim {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using rpc::Task;

constexpr std::uint32_t kEcho = 0x5157;

class Echo : public rpc::Service {
 public:
  std::string_view name() const override { return "test.Echo"; }
  std::vector<rpc::MethodInfo> methods() const override { return {{kEcho, "test.Echo.echo"}}; }
  Task<rpc::Answer<std::string>> call(rpc::CallContext&, std::uint32_t, std::string args) override {
    co_return args;
  }
  Task<void> event(rpc::CallContext&, std::uint32_t, std::string) override { co_return; }
};

// A world: virtual time, one io_context, the network.
struct World {
  VirtualTime vt;
  asio::io_context io;
  Network net{io.get_executor(), vt, 7};

  // A node on a host of its own.
  std::unique_ptr<rpc::Node> node(std::size_t host) {
    rpc::NodeOptions o;
    o.network = net.transport(host);
    return std::make_unique<rpc::Node>(io.get_executor(), Identity::generate(), o);
  }

  // Closes the nodes and lets their connections finish.
  void close(std::initializer_list<rpc::Node*> nodes) {
    for (auto* n : nodes) n->close();
    bool idle = false;
    run_until(idle, 30s);
  }

  // Runs `body` on the simulated loop until it ends: "" when it did, else its
  // exception's message or that it never finished.
  template <typename Body>
  std::string run_task(Body body) {
    bool done = false;
    std::string failure;
    asio::co_spawn(
        io,
        [&]() -> Task<void> {
          try {
            auto task = body();
            co_await std::move(task);
          } catch (const std::exception& e) {
            failure = e.what();
          }
          done = true;
        },
        asio::detached);
    run_until(done);
    return done ? failure : "did not finish";
  }

  // Runs until `done` or until `limit` of virtual time passed.
  void run_until(const bool& done, Clock::duration limit = 600s) {
    auto end = Clock::now() + limit;
    while (!done) {
      io.restart();
      io.poll();
      if (done) break;
      auto next = vt.next_deadline();
      if (!next || *next > end) break;
      vt.advance_to(*next);
    }
  }
};

TEST(SimNetwork, CallsCrossAModelledPathAtItsDelayAndRate) {
  World w;
  auto a = w.net.add_host({.up_bps = 1e6, .x_ms = 0});
  auto b = w.net.add_host({.up_bps = 8e6, .x_ms = 49});  // 50 ms one way
  auto pa = w.node(a), pb = w.node(b);
  rpc::Node& na = *pa;
  rpc::Node& nb = *pb;
  nb.add_service(std::make_shared<Echo>());
  auto port = nb.listen("0.0.0.0:0");
  ASSERT_TRUE(port);
  EXPECT_EQ(nb.listen_addr(), w.net.ip(b) + ":" + std::to_string(*port));

  Clock::duration small_rtt{}, big_time{};
  std::string failure = w.run_task([&]() -> Task<void> {
    auto dial = na.connect(nb.listen_addr(), nb.id());
    auto conn = co_await std::move(dial);
    auto t0 = Clock::now();
    auto ping = conn->call(kEcho, "ping");
    std::string r = co_await std::move(ping);
    small_rtt = Clock::now() - t0;
    EXPECT_EQ(r, "ping");
    // 250 kB up a 1 Mbit/s uplink: about 2 s; back at 8 Mbit/s.
    std::string big(250'000, 'x');
    t0 = Clock::now();
    auto echo = conn->call(kEcho, big);
    std::string r2 = co_await std::move(echo);
    big_time = Clock::now() - t0;
    EXPECT_EQ(r2, big);
    EXPECT_EQ(conn->remote_address(), nb.listen_addr());
  });
  EXPECT_EQ(failure, "");
  EXPECT_GE(small_rtt, 100ms);
  EXPECT_LT(small_rtt, 110ms);
  EXPECT_GE(big_time, 2000ms + 100ms + 250ms);
  EXPECT_LT(big_time, 2600ms);
  // TCP/IP headers: 66 bytes a packet of up to 1448.
  EXPECT_GE(w.net.stats(a).bytes_up, 250'000u + 250'000u / 1448 * 66);
  w.close({&na, &nb});
}

TEST(SimNetwork, AHostsAccessDelayAddsToEveryPathOfIt) {
  // As the network lab's per-node delay: one way A -> B is the distance
  // (here 0, plus 1 ms) and both access delays.
  World w;
  auto a = w.net.add_host({.access_ms = 10});
  auto b = w.net.add_host({.access_ms = 24});
  auto pa = w.node(a), pb = w.node(b);
  rpc::Node& na = *pa;
  rpc::Node& nb = *pb;
  nb.add_service(std::make_shared<Echo>());
  ASSERT_TRUE(nb.listen("0.0.0.0:0"));
  Clock::duration rtt{};
  std::string failure = w.run_task([&]() -> Task<void> {
    auto dial = na.connect(nb.listen_addr(), nb.id());
    auto conn = co_await std::move(dial);
    auto t0 = Clock::now();
    auto ping = conn->call(kEcho, "ping");
    co_await std::move(ping);
    rtt = Clock::now() - t0;
  });
  EXPECT_EQ(failure, "");
  EXPECT_GE(rtt, 70ms);  // 2 * (1 + 10 + 24)
  EXPECT_LT(rtt, 75ms);
  w.close({&na, &nb});
}

// Modelled CPU work (vt-sim's modelled cryptography) delays what the host
// receives and what it sends, in virtual time.
TEST(SimNetwork, CpuWorkChargedToAHostDelaysItsProcessing) {
  World w;
  auto a = w.net.add_host({.x_ms = 0});
  auto b = w.net.add_host({.x_ms = 49});  // 50 ms one way
  auto pa = w.node(a), pb = w.node(b);
  rpc::Node& na = *pa;
  rpc::Node& nb = *pb;
  nb.add_service(std::make_shared<Echo>());
  ASSERT_TRUE(nb.listen("0.0.0.0:0"));
  Clock::duration idle_rtt{}, busy_rtt{}, sender_busy_rtt{};
  std::string failure = w.run_task([&]() -> Task<void> {
    auto dial = na.connect(nb.listen_addr(), nb.id());
    auto conn = co_await std::move(dial);
    auto ping = [&]() -> Task<Clock::duration> {
      auto t0 = Clock::now();
      auto call = conn->call(kEcho, "ping");
      co_await std::move(call);
      co_return Clock::now() - t0;
    };
    auto p1 = ping();
    idle_rtt = co_await std::move(p1);
    // The server's CPU has 300 ms of work queued: the request waits for it.
    w.net.charge_cpu(b, 300ms);
    auto p2 = ping();
    busy_rtt = co_await std::move(p2);
    // The client's: the request leaves when its CPU is done.
    w.net.charge_cpu(a, 200ms);
    auto p3 = ping();
    sender_busy_rtt = co_await std::move(p3);
  });
  EXPECT_EQ(failure, "");
  EXPECT_GE(idle_rtt, 100ms);
  EXPECT_LT(idle_rtt, 110ms);
  EXPECT_GE(busy_rtt, idle_rtt + 240ms);
  EXPECT_LT(busy_rtt, idle_rtt + 310ms);
  // Less a fraction of a millisecond: the idle ping's segments also carried
  // the ACKs its host owed (header bytes).
  EXPECT_GE(sender_busy_rtt, idle_rtt + 199ms);
  EXPECT_LT(sender_busy_rtt, idle_rtt + 210ms);
  EXPECT_EQ(w.net.stats(b).cpu, Clock::duration(300ms));
  w.close({&na, &nb});
}

TEST(SimNetwork, NatHostsCannotBeDialedAndMissingPortsAreRefused) {
  World w;
  auto pub = w.net.add_host({});
  auto nat = w.net.add_host({.nat = true});
  auto pp = w.node(pub), pn = w.node(nat);
  rpc::Node& np = *pp;
  rpc::Node& nn = *pn;
  ASSERT_TRUE(np.listen("0.0.0.0:0"));
  ASSERT_TRUE(nn.listen("0.0.0.0:0"));
  bool done = false;
  std::vector<std::string> results;
  asio::co_spawn(
      w.io,
      [&]() -> Task<void> {
        for (std::string to : {nn.listen_addr(), w.net.ip(pub) + ":1", np.listen_addr()}) {
          try {
            auto from = to == np.listen_addr() ? &nn : &np;
            auto dial = from->connect(to);
            auto conn = co_await std::move(dial);
            results.push_back("ok");
          } catch (const Error& e) {
            results.push_back(std::string(errc_name(e.code())));
          }
        }
        done = true;
      },
      asio::detached);
  w.run_until(done);
  ASSERT_TRUE(done);
  // NATed: no answer; nothing on port 1: refused; out of the NAT: fine.
  EXPECT_EQ(results, (std::vector<std::string>{"timeout", "unavailable", "ok"}));
  w.close({&np, &nn});
}

TEST(SimNetwork, ACrashedHostsPeersSeeTheirConnectionsFail) {
  World w;
  auto a = w.net.add_host({});
  auto b = w.net.add_host({.x_ms = 20});
  auto pa = w.node(a), pb = w.node(b);
  rpc::Node& na = *pa;
  rpc::Node& nb = *pb;
  nb.add_service(std::make_shared<Echo>());
  ASSERT_TRUE(nb.listen("0.0.0.0:0"));
  bool done = false;
  std::string closed_why;
  asio::co_spawn(
      w.io,
      [&]() -> Task<void> {
        auto dial = na.connect(nb.listen_addr(), nb.id());
        auto conn = co_await std::move(dial);
        auto echo = conn->call(kEcho, "x");
        co_await std::move(echo);
        w.net.crash(b);
        auto closed = conn->wait_closed();
        Error why = co_await std::move(closed);
        closed_why = why.message();
        done = true;
      },
      asio::detached);
  w.run_until(done);
  EXPECT_TRUE(done);
  EXPECT_NE(closed_why, "");
  w.close({&na, &nb});
}

}  // namespace
}  // namespace peers::sim
