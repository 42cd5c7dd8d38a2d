// Integration tests of vt-inspect against a real overlay: vt-source,
// vt-relay and vt-sink processes on loopback, walked, drawn and queried by
// the real vt-inspect binary. Also nodes that cannot answer: a relay that
// denies inspection, a frozen sink, an address where nothing listens, and
// TCP servers that write junk or say nothing.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "lib/crypto/peer_id.h"
#include "lib/kernel/subprocess.h"
#include "tests/support/overlay_harness.h"
#include "tests/support/runfiles.h"

namespace vt::test {
namespace {

using nlohmann::json;
using peers::Output;
using peers::Redirect;
using peers::SpawnOptions;
using peers::Stream;
using peers::Subprocess;
using Clock = std::chrono::steady_clock;

// A plain TCP server on loopback that is not a Peers node: it writes junk to
// every connection (or, when silent, accepts and never says anything).
class FakeServer {
 public:
  explicit FakeServer(bool silent) : silent_(silent) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    addr_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    thread_ = std::thread([this] { run(); });
  }
  ~FakeServer() {
    stop_ = true;
    thread_.join();
    for (int c : held_) ::close(c);
    ::close(fd_);
  }
  const std::string& addr() const { return addr_; }

 private:
  void run() {
    std::string junk;
    for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 131 + 7) % 256);
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      if (silent_) {
        held_.push_back(c);
        continue;
      }
      // Kept open: the other side must read the junk, not a reset.
      (void)!::send(c, junk.data(), junk.size(), MSG_NOSIGNAL);
      held_.push_back(c);
    }
  }

  bool silent_;
  int fd_ = -1;
  std::string addr_;
  std::atomic<bool> stop_{false};
  std::vector<int> held_;
  std::thread thread_;
};

class Inspect : public OverlayHarness {
 protected:
  Output inspect(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) {
    auto r =
        Subprocess::run(peers::test::runfile("cmd/vt-inspect/vt-inspect"), args, {}, {}, timeout);
    EXPECT_TRUE(r) << r.error().what();
    return r ? *r : Output{};
  }

  json status(const std::string& addr) {
    Output o = inspect({"status", addr, "--json"});
    EXPECT_TRUE(o.status.success()) << o.err;
    return json::parse(o.out, nullptr, false);
  }

  json tree(std::vector<std::string> args) {
    args.insert(args.begin(), "tree");
    args.push_back("--json");
    Output o = inspect(args);
    EXPECT_TRUE(o.status.success()) << o.err;
    return json::parse(o.out, nullptr, false);
  }

  // Why the tree's nodes and links differ from the nodes' own statuses and
  // from `expected` (peer ids); "" when they agree.
  std::string mismatch(const json& t, const std::set<std::string>& expected) {
    if (!t.is_object()) return "not a JSON document";
    std::set<std::string> ids;
    for (const auto& n : t["nodes"]) {
      if (!n["id"].is_string()) return "a node without id: " + n.dump();
      ids.insert(n["id"].get<std::string>());
      if (!n["reachable"].get<bool>()) return "unreachable: " + n.dump();
      json st = status(n["addr"].get<std::string>());
      if (st["id"] != n["id"]) return "another node at " + n["addr"].dump();
      if (n["stripes"].size() != st["stripes"].size()) return "stripe count of " + n.dump();
      for (std::size_t s = 0; s < st["stripes"].size(); ++s) {
        const json& own = st["stripes"][s];
        json parent = own["parent"].is_null() ? json(nullptr) : own["parent"]["id"];
        if (n["stripes"][s]["parent"] != parent) {
          return "stripe " + std::to_string(s) + " of " + n["id"].dump() + ": tree says " +
                 n["stripes"][s]["parent"].dump() + ", the node says " + parent.dump();
        }
        if (st["role"] != "SOURCE" && parent.is_null()) return "no parent yet: " + n.dump();
      }
    }
    if (ids != expected) return "other nodes: " + t.dump();
    return "";
  }

  // Polls until the tree walked from `from` agrees (topologies move while
  // repairs settle).
  void expect_tree(const std::string& from, const std::set<std::string>& expected) {
    std::string why;
    auto until = Clock::now() + 30s;
    while (Clock::now() < until) {
      why = mismatch(tree({from}), expected);
      if (why.empty()) return;
      std::this_thread::sleep_for(300ms);
    }
    ADD_FAILURE() << why;
  }

  // The next JSON line of `kind` that vt-inspect events prints.
  json next_event(Subprocess& events, const std::string& kind, std::chrono::milliseconds timeout) {
    auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      auto line = events.read_line(Stream::kStdout, std::max(left, 1ms));
      if (!line) break;
      json j = json::parse(*line, nullptr, false);
      EXPECT_TRUE(j.is_object()) << *line;
      if (j.is_object() && j["event"] == kind) return j;
    }
    ADD_FAILURE() << "no " << kind << " event; stderr: " << events.take(Stream::kStderr);
    return json();
  }

  // A new key file <dir>/<name>.key; its peer id is kept for id_of_key().
  std::string key(const std::string& name) {
    ids_[name] = make_key(name);
    return dir_ + "/" + name + ".key";
  }
  std::string id_of_key(const std::string& name) { return ids_[name]; }
  std::map<std::string, std::string> ids_;

  std::string id_of(const Tool& t) { return status(t.addr)["id"].get<std::string>(); }

  // A key file whose identity has home stripe `home` of k (vt-inspect's
  // golden tree needs to know where a relay is interior).
  std::string key_with_home(const std::string& name, std::uint32_t home, std::uint32_t k) {
    for (int i = 0; i < 64; ++i) {
      std::string file = name + "." + std::to_string(i);
      auto parsed = peers::PeerId::parse(make_key(file));
      if (!parsed) continue;
      const auto& key = parsed->public_key();
      if (static_cast<std::uint32_t>((key[0] | (key[1] << 8)) % k) == home) {
        return dir_ + "/" + file + ".key";
      }
    }
    ADD_FAILURE() << "no key with home stripe " << home;
    return "";
  }
};

TEST_F(Inspect, TreeJsonListsTheRunningNodesAndTheirParents) {
  Tool source = start_source(2);
  Tool r1 = start_relay("r1", source.addr);
  Tool r2 = start_relay("r2", source.addr);
  Tool s1 = start_sink("s1", r1.addr, {"--upload", "0"});
  Tool s2 = start_sink("s2", r2.addr, {"--upload", "0"});
  std::string ids[] = {id_of(source), id_of(r1), id_of(r2), id_of(s1), id_of(s2)};
  // From a leaf: it finds the source through its path, then everyone.
  expect_tree(s1.addr, {ids[0], ids[1], ids[2], ids[3], ids[4]});

  // A relay dies; its children re-attach; the tree shows exactly that.
  ASSERT_TRUE(r1.proc->signal(SIGKILL));
  ASSERT_TRUE(r1.proc->wait(10s));
  ASSERT_TRUE(s1.wait_log("parent lost")) << s1.log_text();
  expect_tree(s2.addr, {ids[0], ids[2], ids[3], ids[4]});
}

TEST_F(Inspect, DotIsAcceptedByGraphviz) {
  if (::access("/usr/bin/dot", X_OK) != 0) GTEST_SKIP() << "graphviz is not installed";
  Tool source = start_source(2);
  Tool r1 = start_relay("r1", source.addr);
  Tool s1 = start_sink("s1", r1.addr, {"--upload", "0"});
  Output o = inspect({"tree", source.addr, "--dot"});
  ASSERT_TRUE(o.status.success()) << o.err;
  EXPECT_NE(o.out.find("subgraph cluster_1"), std::string::npos) << o.out;
  auto svg = Subprocess::run("/usr/bin/dot", {"-Tsvg"}, o.out);
  ASSERT_TRUE(svg);
  EXPECT_TRUE(svg->status.success()) << svg->err << "\n" << o.out;
  EXPECT_NE(svg->out.find("<svg"), std::string::npos);
  EXPECT_NE(svg->out.find("stripe 1"), std::string::npos);
}

TEST_F(Inspect, TextTreeMatchesTheGoldenRendering) {
  // source (K=2) > r1 (interior in stripe 0) > s1 (no upload). In stripe 1
  // r1 is a leaf, so s1's join there goes to the source: both are its
  // children, the relay drawn first.
  Tool source = start_source(2);
  Tool r1 = start_relay("r1", source.addr, {"--key", key_with_home("r1", 0, 2)});
  Tool s1 = start_sink("s1", r1.addr, {"--upload", "0"});
  std::map<std::string, std::string> names;
  for (Tool* t : {&source, &r1, &s1}) {
    names[peers::PeerId::parse(id_of(*t))->short_id()] = "<" + t->name + ">";
    names[t->addr] = "<" + t->name + "-addr>";
  }
  auto normalise = [&](std::string text) {
    for (const auto& [from, to] : names) {
      for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
        text.replace(at, from.size(), to);
      }
    }
    text = std::regex_replace(text, std::regex("(in|out|rtt)=[^ \n]+"), "$1=*");
    return text;
  };
  const std::string golden =
      "stream <source>: 2 stripes, 3 nodes: 1 source, 1 relay, 1 viewer, max depth 2\n"
      "stripe 0\n"
      "  <source> source <source-addr> rate_out=* gaps=0\n"
      "  └── <r1> relay <r1-addr> rate_in=* rate_out=* rtt=* gaps=0\n"
      "      └── <s1> sink <s1-addr> rate_in=* rtt=* gaps=0\n"
      "stripe 1\n"
      "  <source> source <source-addr> rate_out=* gaps=0\n"
      "  ├── <r1> relay <r1-addr> rate_in=* rate_out=* rtt=* gaps=0\n"
      "  └── <s1> sink <s1-addr> rate_in=* rtt=* gaps=0\n";
  // Walked from each node, the drawing is the same.
  for (Tool* from : {&s1, &source, &r1}) {
    Output o = inspect({"tree", from->addr});
    ASSERT_TRUE(o.status.success()) << o.err;
    EXPECT_EQ(normalise(o.out), golden) << o.out;
  }
  Output ascii = inspect({"tree", s1.addr, "--ascii"});
  EXPECT_NE(normalise(ascii.out).find("  |-- <r1> relay"), std::string::npos) << ascii.out;

  // JSON and dot carry the header's totals too.
  json t = tree({s1.addr});
  EXPECT_EQ(t["totals"], json::parse(R"({"nodes": 3, "sources": 1, "relays": 1, "viewers": 1,
      "unknown": 0, "max_depth": 2, "did_not_answer": 0})"))
      << t.dump();
  Output dot = inspect({"tree", s1.addr, "--dot"});
  ASSERT_TRUE(dot.status.success()) << dot.err;
  EXPECT_NE(normalise(dot.out).find("label=\"stream <source>: 2 stripes, 3 nodes: 1 source, 1 "
                                    "relay, 1 viewer, max depth 2\""),
            std::string::npos)
      << dot.out;

  // One line per node, the same header, depths per stripe (nothing was
  // streamed: no delay behind live yet).
  Output nodes = inspect({"nodes", s1.addr});
  ASSERT_TRUE(nodes.status.success()) << nodes.err;
  std::string text = std::regex_replace(normalise(nodes.out), std::regex(" +"), " ");
  text = std::regex_replace(text, std::regex("[0-9.]+[kMG]?bit/s|[0-9.]+m?s\\b"), "*");
  EXPECT_EQ(text,
            "stream <source>: 2 stripes, 3 nodes: 1 source, 1 relay, 1 viewer, max depth 2\n"
            "id role addr depth rate_in rate_out children behind_live gaps\n"
            "<source> source <source-addr> 0,0 - * 3 - -\n"
            "<r1> relay <r1-addr> 1,1 * * 1 - -\n"
            "<s1> sink <s1-addr> 2,1 * * 0 - 0\n")
      << nodes.out;
}

TEST_F(Inspect, WatchRedrawsUnderATimeHeaderUntilCtrlC) {
  Tool source = start_source(2);
  Tool r1 = start_relay("r1", source.addr);
  for (const char* command : {"tree", "nodes"}) {
    SCOPED_TRACE(command);
    SpawnOptions opts;
    opts.stdin_to = Redirect::null();
    auto watch = Subprocess::spawn(peers::test::runfile("cmd/vt-inspect/vt-inspect"),
                                   {command, r1.addr, "--watch", "100ms"}, opts);
    ASSERT_TRUE(watch);
    // Each view: home and clear, when it was taken, then the same header
    // as without --watch. Two views, then Ctrl-C ends it with 0.
    const std::regex time_header(
        "^\x1b\\[H\x1b\\[2Jevery 100ms, [0-2][0-9]:[0-5][0-9]:[0-6][0-9] UTC$");
    int views = 0;
    auto until = Clock::now() + 30s;
    while (views < 2 && Clock::now() < until) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      auto line = watch->read_line(Stream::kStdout, std::max(left, 1ms));
      if (!line) break;
      if (!std::regex_match(*line, time_header)) continue;
      ++views;
      auto next = watch->read_line(Stream::kStdout, 10s);
      ASSERT_TRUE(next);
      EXPECT_NE(next->find("2 stripes, 2 nodes: 1 source, 1 relay"), std::string::npos) << *next;
    }
    EXPECT_EQ(views, 2) << watch->take(Stream::kStderr);
    ASSERT_TRUE(watch->signal(SIGINT));
    auto st = watch->wait(30s);
    ASSERT_TRUE(st);
    EXPECT_EQ(*st, peers::ExitStatus::exited(0)) << watch->take(Stream::kStderr);
  }
}

TEST_F(Inspect, EventsShowARelaysDeathAtOnce) {
  Tool source = start_source(2);
  Tool r1 = start_relay("r1", source.addr, {"--key", key("r1")});
  Tool s1 = start_sink("s1", r1.addr, {"--upload", "0"});
  SpawnOptions opts;
  opts.stdin_to = Redirect::null();
  auto events = Subprocess::spawn(peers::test::runfile("cmd/vt-inspect/vt-inspect"),
                                  {"events", s1.addr}, opts);
  ASSERT_TRUE(events);
  // The backlog: s1 joined both stripes.
  json joined = next_event(*events, "joined", 10s);
  ASSERT_TRUE(joined.is_object());
  EXPECT_EQ(joined["data"]["node"], id_of(s1));
  ASSERT_TRUE(r1.proc->signal(SIGKILL));
  // Streamed as the node logs it (no polling); the deadline is only generous
  // (no timing bound: a loaded 2-core machine may be slow).
  json lost = next_event(*events, "parent_lost", 30s);
  ASSERT_TRUE(lost.is_object());
  EXPECT_EQ(lost["data"]["parent"], id_of_key("r1"));
  EXPECT_TRUE(lost["time"].is_number());
  EXPECT_TRUE(lost["data"]["stripe"].is_number());
  // Then it re-attaches elsewhere.
  EXPECT_TRUE(next_event(*events, "reattached", 30s).is_object());
  ASSERT_TRUE(events->signal(SIGINT));
  auto st = events->wait(5s);
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, peers::ExitStatus::exited(0));
}

TEST_F(Inspect, EventsEndWithExitZeroWhenTheNodeStopsCleanly) {
  Tool source = start_source(2);
  Tool r1 = start_relay("r1", source.addr);
  SpawnOptions opts;
  opts.stdin_to = Redirect::null();
  auto events = Subprocess::spawn(peers::test::runfile("cmd/vt-inspect/vt-inspect"),
                                  {"events", r1.addr}, opts);
  ASSERT_TRUE(events);
  ASSERT_TRUE(next_event(*events, "joined", 10s).is_object());
  ASSERT_TRUE(r1.proc->signal(SIGTERM));
  auto st = events->wait(30s);
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, peers::ExitStatus::exited(0)) << events->take(Stream::kStderr);
}

TEST_F(Inspect, CallInvokesAnyMethodWithJson) {
  Tool source = start_source(2);
  Tool r1 = start_relay("r1", source.addr);
  Output o = inspect({"call", r1.addr, "Overlay.stream"});
  ASSERT_TRUE(o.status.success()) << o.err;
  json j = json::parse(o.out, nullptr, false);
  EXPECT_EQ(j["source_id"], source_id_) << o.out;
  EXPECT_EQ(j["stripes"], 2);

  Output ev = inspect({"call", r1.addr, "vt.inspect.Inspect.events", R"({"since": 0})"});
  ASSERT_TRUE(ev.status.success()) << ev.err;
  j = json::parse(ev.out, nullptr, false);
  ASSERT_TRUE(j["events"].is_array()) << ev.out;
  EXPECT_EQ(j["events"][0]["kind"], "joined") << ev.out;

  Output list = inspect({"call", "--list", r1.addr});
  ASSERT_TRUE(list.status.success()) << list.err;
  EXPECT_NE(list.out.find("vt.inspect.Inspect\n  status(void) -> vt.inspect.NodeStatus throws "
                          "vt.inspect.Denied\n"),
            std::string::npos)
      << list.out;
  EXPECT_NE(list.out.find("vt.overlay.Overlay\n  join(vt.overlay.JoinRequest)"), std::string::npos)
      << list.out;

  Output bad = inspect({"call", r1.addr, "Overlay.nope"});
  EXPECT_EQ(bad.status, peers::ExitStatus::exited(2));
  EXPECT_NE(bad.err.find("vt-inspect: vt.overlay.Overlay has no method 'nope'"), std::string::npos)
      << bad.err;
  Output args = inspect({"call", r1.addr, "Inspect.events", R"({"since": "x"})"});
  EXPECT_EQ(args.status, peers::ExitStatus::exited(2)) << args.err;
  // Only reads without --write: a join is refused before anything is sent.
  Output write = inspect({"call", r1.addr, "Overlay.join", "{}"});
  EXPECT_EQ(write.status, peers::ExitStatus::exited(2)) << write.err;
  EXPECT_NE(write.err.find("vt.overlay.Overlay.join changes the node's state; add --write"),
            std::string::npos)
      << write.err;
}

TEST_F(Inspect, DeniedFrozenUnreachableAndJunkNodesAreMarked) {
  std::string operator_id = make_key("operator");
  std::string stranger_id = make_key("stranger");
  Tool source = start_source(2);
  Tool guarded = start_relay("guarded", source.addr,
                             {"--key", key("guarded"), "--inspect-allow", operator_id});
  Tool s1 = start_sink("s1", guarded.addr, {"--upload", "0"});
  Tool frozen = start_sink("frozen", source.addr, {"--upload", "0"});
  FakeServer junk(false), silent(true);
  std::string guarded_id = id_of_key("guarded");

  // Only the operator's key may ask the guarded relay.
  Output denied = inspect({"status", guarded.addr});
  EXPECT_EQ(denied.status, peers::ExitStatus::exited(1));
  EXPECT_NE(denied.err.find("denied"), std::string::npos) << denied.err;
  Output stranger = inspect({"--key", dir_ + "/stranger.key", "status", guarded.addr});
  EXPECT_EQ(stranger.status, peers::ExitStatus::exited(1));
  Output allowed = inspect({"--key", dir_ + "/operator.key", "status", guarded.addr, "--json"});
  ASSERT_TRUE(allowed.status.success()) << allowed.err;
  EXPECT_EQ(json::parse(allowed.out)["id"], guarded_id);

  // A frozen sink stays listed by its parent for a few seconds.
  std::string frozen_id = id_of(frozen);
  ASSERT_TRUE(frozen.proc->signal(SIGSTOP));
  auto started = Clock::now();
  Output o = inspect({"tree", "--json", "--timeout", "500ms", source.addr, junk.addr(),
                      silent.addr(), "127.0.0.1:1"});
  auto took = Clock::now() - started;
  ASSERT_TRUE(o.status.success()) << o.err;
  EXPECT_LT(took, 5s);
  json t = json::parse(o.out, nullptr, false);
  std::map<std::string, json> by;
  for (const auto& n : t["nodes"]) {
    by[n["id"].is_string() ? n["id"].get<std::string>() : n["addr"].get<std::string>()] = n;
  }
  EXPECT_EQ(by[guarded_id]["problem"], "denied") << o.out;
  EXPECT_FALSE(by[guarded_id]["reachable"].get<bool>());
  EXPECT_EQ(by[guarded_id]["stripes"][0]["parent"], t["stream_id"]) << o.out;
  EXPECT_EQ(by[frozen_id]["problem"], "timeout") << o.out;
  EXPECT_EQ(by[junk.addr()]["problem"], "protocol") << o.out;
  EXPECT_EQ(by[silent.addr()]["problem"], "timeout") << o.out;
  EXPECT_EQ(by["127.0.0.1:1"]["problem"], "unreachable") << o.out;
  EXPECT_TRUE(by[id_of(s1)]["reachable"].get<bool>());

  // The drawing marks them too.
  Output text = inspect({"tree", "--timeout", "500ms", source.addr, junk.addr(), "127.0.0.1:1"});
  ASSERT_TRUE(text.status.success()) << text.err;
  EXPECT_NE(text.out.find(" [denied]"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("outside the trees\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(junk.addr() + " [protocol]"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("127.0.0.1:1 [unreachable]"), std::string::npos) << text.out;
  EXPECT_TRUE(frozen.proc->signal(SIGCONT));
}

TEST_F(Inspect, NothingAnswersIsAFailure) {
  FakeServer junk(false);
  Output o = inspect({"tree", "--timeout", "500ms", junk.addr()});
  EXPECT_EQ(o.status, peers::ExitStatus::exited(1)) << o.out << o.err;
  EXPECT_NE(o.err.find("vt-inspect: no node answered"), std::string::npos) << o.err;
  Output st = inspect({"status", "--timeout", "500ms", "127.0.0.1:1"});
  EXPECT_EQ(st.status, peers::ExitStatus::exited(1));
  EXPECT_NE(st.err.find("unreachable"), std::string::npos) << st.err;
}

}  // namespace
}  // namespace vt::test
