// crawl() against a hub that lies or names hundreds of nodes nobody can ask:
// an in-process node serving vt.inspect.Inspect whose status lists hundreds
// of children at loopback ports where nothing listens (bound, not listening:
// refused at once) or where a listener never accepts (silent: only timeouts).
// The walk must end within its bounds and mark every such node.
#include "lib/inspect/crawl.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <set>
#include <sstream>

#include "lib/crypto/identity.h"
#include "lib/rpc/rpc_test_util.h"
#include "proto/inspect.pidl.rpc.h"

namespace vt {
namespace {

using namespace std::chrono_literals;
using peers::rpc::Task;
using peers::rpc::testing::Kernel;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kStripes = 4;

// A loopback TCP port held open for the test: `listening` false, a connect
// is refused; true, it is accepted by the kernel and never answered.
class Port {
 public:
  explicit Port(bool listening) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    if (listening) {
      EXPECT_EQ(::listen(fd_, 4096), 0);
    }
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    addr_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  }
  ~Port() { ::close(fd_); }
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;
  const std::string& addr() const { return addr_; }

 private:
  int fd_ = -1;
  std::string addr_;
};

// Serves a fixed status: the hub is the source of every stripe and names
// `children` (valid peer ids at the given addresses) as its children in each.
class HubInspect : public inspect::InspectServer {
 public:
  explicit HubInspect(inspect::NodeStatus status) : status_(std::move(status)) {}

  Task<peers::rpc::Answer<inspect::NodeStatus>> status(peers::rpc::CallContext&) override {
    co_return status_;
  }
  Task<peers::rpc::Answer<inspect::EventList>> events(peers::rpc::CallContext&,
                                                      inspect::EventsRequest) override {
    co_return inspect::EventList{};
  }
  Task<inspect::EventList> follow(peers::rpc::CallContext&, inspect::EventsRequest) override {
    throw peers::Error(peers::Errc::kUnknownMethod, "no follow here");
  }
  Task<peers::rpc::Answer<inspect::ServiceList>> services(peers::rpc::CallContext&) override {
    inspect::ServiceList list;
    list.interfaces.push_back("vt.inspect.Inspect");
    co_return list;
  }

 private:
  inspect::NodeStatus status_;
};

struct Hub {
  // `addrs` are handed out to the children round-robin.
  Hub(std::size_t children, const std::vector<std::string>& addrs)
      : server(kernel.executor(), peers::Identity::generate()),
        client(kernel.executor(), peers::Identity::generate(), client_options()) {
    inspect::NodeStatus st;
    st.id = server.id().to_string();
    st.role = overlay::Role::kSource;
    st.stream_id = st.id;
    st.stripe_count = kStripes;
    st.tool = "vt-source";
    for (std::size_t i = 0; i < children; ++i) {
      inspect::Neighbor nb;
      nb.id = peers::Identity::generate().peer_id().to_string();
      nb.addr = addrs[i % addrs.size()];
      nb.role = overlay::Role::kSink;
      ids.insert(nb.id);
      child_addrs[nb.id] = nb.addr;
      for (std::uint32_t s = 0; s < kStripes; ++s) {
        if (st.stripes.size() <= s) st.stripes.emplace_back().stripe = s;
        st.stripes[s].children.push_back(nb);
      }
    }
    server.add_service(std::make_shared<HubInspect>(st));
    addr = "127.0.0.1:" + std::to_string(server.listen("127.0.0.1:0").value());
  }
  ~Hub() {
    server.close();
    client.close();
  }

  static peers::rpc::NodeOptions client_options() {
    peers::rpc::NodeOptions o;
    // Handshakes the walk gave up on end soon after, not 10 s later.
    o.handshake_timeout = 1s;
    return o;
  }

  // Runs the walk from the hub; `took` is how long it ran.
  std::vector<CrawledNode> crawl(CrawlOptions options) {
    auto started = Clock::now();
    auto nodes = kernel.run(vt::crawl(client, {addr}, options));
    took = Clock::now() - started;
    return nodes;
  }

  // One io thread, as in vt-inspect: crawl() keeps its state on the
  // coroutine's executor.
  Kernel kernel{1};
  peers::rpc::Node server;
  peers::rpc::Node client;
  std::string addr;
  std::set<std::string> ids;  // the children
  std::map<std::string, std::string> child_addrs;
  Clock::duration took{};
};

// problem -> how many of the hub's children have it; the hub itself must
// have answered.
std::map<std::string, std::size_t> problems(const Hub& hub, const std::vector<CrawledNode>& nodes) {
  std::map<std::string, std::size_t> out;
  std::set<std::string> seen;
  for (const auto& n : nodes) {
    EXPECT_TRUE(seen.insert(n.id).second) << "twice: " << n.id;
    if (n.id == hub.server.id().to_string()) {
      EXPECT_TRUE(n.status.has_value()) << n.problem << ": " << n.error;
      continue;
    }
    EXPECT_TRUE(hub.ids.count(n.id)) << "not a child: " << n.id << " " << n.addr;
    EXPECT_FALSE(n.status.has_value()) << n.id;
    EXPECT_FALSE(n.error.empty()) << n.id;
    EXPECT_EQ(n.addr, hub.child_addrs.at(n.id));
    ++out[n.problem];
  }
  return out;
}

// How many lines of each stripe's drawing carry `mark`.
std::size_t count_lines(const std::string& text, const std::string& mark) {
  std::istringstream lines(text);
  std::size_t count = 0;
  for (std::string line; std::getline(lines, line);) {
    count += line.find(mark) != std::string::npos ? 1 : 0;
  }
  return count;
}

TEST(Crawl, HundredsOfChildrenWhereNothingListensAreMarkedUnreachable) {
  std::vector<std::unique_ptr<Port>> dead;
  std::vector<std::string> addrs;
  for (int i = 0; i < 8; ++i) {
    dead.push_back(std::make_unique<Port>(false));
    addrs.push_back(dead.back()->addr());
  }
  Hub hub(400, addrs);
  CrawlOptions o;
  o.node_timeout = 1000ms;
  o.total_timeout = 5000ms;
  auto nodes = hub.crawl(o);
  // An upper bound only: the walk did not hang.
  EXPECT_LT(hub.took, o.total_timeout + 10s);
  ASSERT_EQ(nodes.size(), 401u);
  EXPECT_EQ(problems(hub, nodes), (std::map<std::string, std::size_t>{{"unreachable", 400}}));

  Topology topo(nodes);
  std::string text = topo.text();
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "stream " + hub.server.id().short_id() +
                ": 4 stripes, 401 nodes: 1 source, 400 viewers, max depth 1 (400 did not answer)");
  EXPECT_EQ(count_lines(text, " [unreachable]"), 400u * kStripes) << text;
  EXPECT_EQ(text.find("outside the trees"), std::string::npos) << text;
  auto j = topo.json();
  ASSERT_EQ(j["nodes"].size(), 401u);
  for (const auto& n : j["nodes"]) {
    if (n["id"] == hub.server.id().to_string()) continue;
    EXPECT_FALSE(n["reachable"].get<bool>()) << n.dump();
    EXPECT_EQ(n["problem"], "unreachable") << n.dump();
    EXPECT_NE(n["error"].get<std::string>().find("cannot connect to 127.0.0.1:"), std::string::npos)
        << n.dump();
    ASSERT_EQ(n["stripes"].size(), kStripes) << n.dump();
    EXPECT_EQ(n["stripes"][3]["parent"], hub.server.id().to_string());
    EXPECT_EQ(n["stripes"][3]["reported_by"], "parent");
  }
}

TEST(Crawl, NodesPastMaxNodesAreMarkedNotVisited) {
  Port dead(false);
  Hub hub(400, {dead.addr()});
  CrawlOptions o;
  o.node_timeout = 1000ms;
  o.total_timeout = 5000ms;
  o.max_nodes = 50;
  auto nodes = hub.crawl(o);
  EXPECT_LT(hub.took, o.total_timeout + 10s);
  // Every child is listed: those asked (the seed and the hub count towards
  // max_nodes) unreachable, the others never asked.
  ASSERT_EQ(nodes.size(), 401u);
  auto by = problems(hub, nodes);
  EXPECT_EQ(by["unreachable"], 48u);
  EXPECT_EQ(by["not_visited"], 352u);
  EXPECT_EQ(by.size(), 2u);
  for (const auto& n : nodes) {
    if (n.problem == "not_visited") {
      EXPECT_EQ(n.error, "the walk stops at 50 nodes");
    }
  }

  Topology topo(nodes);
  std::string text = topo.text({.ascii = true});
  EXPECT_EQ(count_lines(text, " [not_visited]"), 352u * kStripes) << text;
  EXPECT_EQ(count_lines(text, " [unreachable]"), 48u * kStripes) << text;
  std::size_t marked = 0;
  auto j = topo.json();
  for (const auto& n : j["nodes"]) marked += n["problem"] == "not_visited" ? 1 : 0;
  EXPECT_EQ(marked, 352u);
}

TEST(Crawl, HundredsOfSilentChildrenCostNoMoreThanTheTotalTimeout) {
  // A listener that never accepts: each connect succeeds or hangs, and no
  // handshake ever comes back. 400 children in rounds of 16 at 1 s each would
  // take 25 s; the walk stops at 3 s and marks whom it did not ask.
  Port silent(true);
  Hub hub(400, {silent.addr()});
  CrawlOptions o;
  o.node_timeout = 1000ms;
  o.total_timeout = 3000ms;
  o.parallel = 16;
  auto nodes = hub.crawl(o);
  EXPECT_LT(hub.took, o.total_timeout + 10s);
  ASSERT_EQ(nodes.size(), 401u);
  auto by = problems(hub, nodes);
  // Each round waits for its slowest node (node_timeout), the last one is cut
  // at total_timeout: after the hub's own (short) round, at most 3000 / 1000
  // = 3 rounds of 16 children start.
  EXPECT_GE(by["timeout"], 1u);
  EXPECT_LE(by["timeout"], 3u * 16);
  EXPECT_EQ(by["timeout"] + by["not_visited"], 400u) << ::testing::PrintToString(by);
  for (const auto& n : nodes) {
    if (n.problem == "not_visited") {
      EXPECT_EQ(n.error, "the walk ran out of time");
    }
    if (n.problem == "timeout") {
      EXPECT_NE(n.error.find("no answer within"), std::string::npos) << n.error;
    }
  }

  Topology topo(nodes);
  std::string text = topo.text();
  EXPECT_EQ(count_lines(text, " [timeout]"), by["timeout"] * kStripes) << text;
  EXPECT_EQ(count_lines(text, " [not_visited]"), by["not_visited"] * kStripes) << text;
}

}  // namespace
}  // namespace vt
