#include "lib/inspect/topology.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <sstream>

namespace vt {
namespace {

using overlay::Role;

// Made-up ids keep the renderings readable; they are not valid peer ids, so
// short_peer() shows their first 11 characters.
const std::string kSource = "vt1source0000000000";
const std::string kRelayA = "vt1relayaaa00000000";
const std::string kRelayB = "vt1relaybbb00000000";
const std::string kSink = "vt1sinkccc000000000";
const std::string kDenied = "vt1denied0000000000";

std::map<std::string, std::string> addrs = {
    {kSource, "10.0.0.1:7000"}, {kRelayA, "10.0.0.2:7000"}, {kRelayB, "10.0.0.3:7000"},
    {kSink, "10.0.0.4:7000"},   {kDenied, "10.0.0.5:7000"},
};
std::map<std::string, Role> roles = {
    {kSource, Role::kSource}, {kRelayA, Role::kRelay}, {kRelayB, Role::kRelay},
    {kSink, Role::kSink},     {kDenied, Role::kRelay},
};

inspect::Neighbor nb(const std::string& id, std::uint32_t rtt_us = 0) {
  inspect::Neighbor n;
  n.id = id;
  n.addr = addrs[id];
  n.role = roles[id];
  if (rtt_us) n.rtt_us = rtt_us;
  return n;
}

// A node that answered: its parent and children per stripe.
struct Shape {
  std::string id;
  std::vector<std::string> parents;                // per stripe ("" = none)
  std::vector<std::vector<std::string>> children;  // per stripe
};

CrawledNode answered(const Shape& shape) {
  CrawledNode n;
  n.id = shape.id;
  n.addr = addrs[shape.id];
  inspect::NodeStatus st;
  st.id = shape.id;
  st.role = roles[shape.id];
  st.addr = n.addr;
  st.stream_id = kSource;
  st.stripe_count = static_cast<std::uint32_t>(shape.parents.size());
  st.rate_in_bps = st.role == Role::kSource ? 0 : 1500000;
  st.rate_out_bps = st.role == Role::kSink ? 0 : 3000000;
  st.tool = "vt-" + std::string(st.role == Role::kSource  ? "source"
                                : st.role == Role::kRelay ? "relay"
                                                          : "sink");
  for (std::uint32_t s = 0; s < shape.parents.size(); ++s) {
    inspect::StripeStatus ss;
    ss.stripe = s;
    if (!shape.parents[s].empty()) ss.parent = nb(shape.parents[s], 120 + 10 * s);
    for (const auto& c : shape.children[s]) ss.children.push_back(nb(c, 200));
    ss.gaps = shape.id == kSink && s == 1 ? 2 : 0;
    st.stripes.push_back(ss);
  }
  n.status = st;
  return n;
}

CrawledNode silent(const std::string& id, const std::string& problem) {
  CrawledNode n;
  n.id = id;
  n.addr = addrs[id];
  n.problem = problem;
  n.error = "no";
  return n;
}

// stripe 0: source > A > {sink, denied}, source > B
// stripe 1: source > B > sink, B > A; denied below the source
std::vector<CrawledNode> fixed_overlay() {
  return {
      answered({kSink, {kRelayA, kRelayB}, {{}, {}}}),
      answered({kRelayB, {kSource, kSource}, {{}, {kSink, kRelayA}}}),
      answered({kSource, {"", ""}, {{kRelayA, kRelayB}, {kRelayB, kDenied}}}),
      answered({kRelayA, {kSource, kRelayB}, {{kSink, kDenied}, {}}}),
      silent(kDenied, "denied"),
  };
}

TEST(Topology, DrawsEveryStripeAsASortedTree) {
  Topology topo(fixed_overlay());
  EXPECT_EQ(
      topo.text(),
      "stream vt1source00: 2 stripes, 5 nodes: 1 source, 3 relays, 1 viewer, max depth 2 (1 did "
      "not answer)\n"
      "stripe 0\n"
      "  vt1source00 source 10.0.0.1:7000 rate_out=3Mbit/s gaps=0\n"
      "  ├── vt1relayaaa relay 10.0.0.2:7000 rate_in=1.5Mbit/s rate_out=3Mbit/s rtt=0.12ms gaps=0\n"
      "  │   ├── vt1denied00 relay 10.0.0.5:7000 rtt=0.2ms [denied]\n"
      "  │   └── vt1sinkccc0 sink 10.0.0.4:7000 rate_in=1.5Mbit/s rtt=0.12ms gaps=0\n"
      "  └── vt1relaybbb relay 10.0.0.3:7000 rate_in=1.5Mbit/s rate_out=3Mbit/s rtt=0.12ms gaps=0\n"
      "stripe 1\n"
      "  vt1source00 source 10.0.0.1:7000 rate_out=3Mbit/s gaps=0\n"
      "  ├── vt1denied00 relay 10.0.0.5:7000 rtt=0.2ms [denied]\n"
      "  └── vt1relaybbb relay 10.0.0.3:7000 rate_in=1.5Mbit/s rate_out=3Mbit/s rtt=0.13ms gaps=0\n"
      "      ├── vt1relayaaa relay 10.0.0.2:7000 rate_in=1.5Mbit/s rate_out=3Mbit/s rtt=0.13ms "
      "gaps=0\n"
      "      └── vt1sinkccc0 sink 10.0.0.4:7000 rate_in=1.5Mbit/s rtt=0.13ms gaps=2\n");
}

TEST(Topology, AsciiUsesPlainCharacters) {
  std::string text = Topology(fixed_overlay()).text({.ascii = true});
  EXPECT_NE(text.find("  |-- vt1relayaaa"), std::string::npos) << text;
  EXPECT_NE(text.find("  |   `-- vt1sinkccc0"), std::string::npos) << text;
  for (unsigned char c : text) EXPECT_LT(c, 0x80) << text;
}

TEST(Topology, OrderDoesNotDependOnInput) {
  auto nodes = fixed_overlay();
  std::string a = Topology(nodes).text();
  std::reverse(nodes.begin(), nodes.end());
  EXPECT_EQ(Topology(nodes).text(), a);
  EXPECT_EQ(Topology(nodes).json(), Topology(fixed_overlay()).json());
}

TEST(Topology, JsonListsParentsPerStripe) {
  auto j = Topology(fixed_overlay()).json();
  EXPECT_EQ(j["stream_id"], kSource);
  EXPECT_EQ(j["stripe_count"], 2);
  ASSERT_EQ(j["nodes"].size(), 5u);
  std::map<std::string, nlohmann::ordered_json> by_id;
  for (const auto& n : j["nodes"]) by_id[n["id"]] = n;
  EXPECT_EQ(j["nodes"][0]["id"], kSource);  // sources first
  EXPECT_EQ(by_id[kSource]["stripes"][0]["parent"], nullptr);
  EXPECT_EQ(by_id[kSource]["role"], "SOURCE");
  EXPECT_EQ(by_id[kRelayA]["stripes"][1]["parent"], kRelayB);
  EXPECT_EQ(by_id[kRelayA]["stripes"][0]["children"],
            nlohmann::ordered_json::array({kDenied, kSink}));
  EXPECT_EQ(by_id[kSink]["stripes"][0]["rtt_us"], 120);
  EXPECT_TRUE(by_id[kSink]["reachable"]);
  EXPECT_EQ(by_id[kSink]["problem"], nullptr);
  EXPECT_FALSE(by_id[kDenied]["reachable"]);
  EXPECT_EQ(by_id[kDenied]["problem"], "denied");
  EXPECT_EQ(by_id[kDenied]["stripes"][0]["parent"], kRelayA);
  EXPECT_EQ(by_id[kDenied]["stripes"][0]["reported_by"], "parent");
  EXPECT_EQ(by_id[kDenied]["stripes"][1]["parent"], kSource);
  EXPECT_TRUE(j["loops"].empty());
}

TEST(Topology, MarksALoopOfParentLinks) {
  // A and B each claim the other as parent in stripe 0: nothing leads there
  // from the source, yet both are drawn, once, and marked.
  std::vector<CrawledNode> nodes = {
      answered({kSource, {""}, {{kSink}}}),
      answered({kSink, {kSource}, {{}}}),
      answered({kRelayA, {kRelayB}, {{kRelayB}}}),
      answered({kRelayB, {kRelayA}, {{kRelayA}}}),
  };
  Topology topo(nodes);
  EXPECT_EQ(topo.loop_nodes(0), (std::set<std::string>{kRelayA, kRelayB}));
  std::string text = topo.text();
  EXPECT_NE(text.find("  vt1relayaaa relay 10.0.0.2:7000 rate_in=1.5Mbit/s rate_out=3Mbit/s "
                      "rtt=0.12ms gaps=0 [loop]\n"
                      "  └── vt1relaybbb relay 10.0.0.3:7000 rate_in=1.5Mbit/s rate_out=3Mbit/s "
                      "rtt=0.12ms gaps=0 "
                      "[loop]\n"
                      "      └── vt1relayaaa ↺ loop\n"),
            std::string::npos)
      << text;
  auto j = topo.json();
  ASSERT_EQ(j["loops"].size(), 1u);
  EXPECT_EQ(j["loops"][0]["nodes"], nlohmann::ordered_json::array({kRelayA, kRelayB}));
  EXPECT_NE(topo.dot().find("color=red"), std::string::npos);
}

TEST(Topology, NodesOutsideTheTreesAreListedWithTheirProblem) {
  auto nodes = fixed_overlay();
  CrawledNode junk;
  junk.addr = "10.0.0.9:7000";
  junk.problem = "protocol";
  junk.error = "not a Peers node";
  nodes.push_back(junk);
  Topology topo(nodes);
  std::string text = topo.text();
  EXPECT_NE(text.find("outside the trees\n  10.0.0.9:7000 [protocol] not a Peers node\n"),
            std::string::npos)
      << text;
  auto j = topo.json();
  EXPECT_EQ(j["nodes"].back()["addr"], "10.0.0.9:7000");
  EXPECT_EQ(j["nodes"].back()["id"], nullptr);
  EXPECT_EQ(j["nodes"].back()["problem"], "protocol");
}

TEST(Topology, DotHasOneClusterPerStripeAndMarksSilentNodes) {
  std::string dot = Topology(fixed_overlay()).dot();
  EXPECT_EQ(dot.rfind("digraph overlay {", 0), 0u);
  EXPECT_NE(dot.find("subgraph cluster_0"), std::string::npos);
  EXPECT_NE(dot.find("subgraph cluster_1"), std::string::npos);
  EXPECT_NE(dot.find("\"0:" + kSource + "\" -> \"0:" + kRelayA + "\" [label=\"750kbit/s 0.12ms\"]"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("[denied]\", style=dashed, color=red"), std::string::npos) << dot;
}

TEST(Topology, JsonAndDotCarryTheHeadersTotals) {
  Topology topo(fixed_overlay());
  // The text header's counts, as numbers under the words it uses.
  auto j = topo.json();
  EXPECT_EQ(j["totals"], nlohmann::ordered_json::parse(R"({"nodes": 5, "sources": 1,
      "relays": 3, "viewers": 1, "unknown": 0, "max_depth": 2, "did_not_answer": 1})"));
  for (const auto& [key, value] : j["totals"].items()) EXPECT_TRUE(value.is_number()) << key;
  std::vector<std::string> keys;
  for (const auto& [key, value] : j.items()) keys.push_back(key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"stream_id", "stripe_count", "totals", "nodes", "loops"}));
  // The graph's label is the header line.
  std::string dot = topo.dot();
  EXPECT_NE(dot.find("label=\"stream vt1source00: 2 stripes, 5 nodes: 1 source, 3 relays, 1 "
                     "viewer, max depth 2 (1 did not answer)\"];"),
            std::string::npos)
      << dot;
}

TEST(Topology, IgnoresStripeNumbersNoStreamHas) {
  auto nodes = fixed_overlay();
  nodes[0].status->stripe_count = 4000000000u;
  nodes[0].status->stripes[0].stripe = 4000000000u;
  Topology topo(nodes);
  EXPECT_EQ(topo.stripe_count(), 2u);
}

// A synthetic overlay of hundreds of nodes: one source, `relays` relays and
// `sinks` sinks, K stripes. In stripe s the relays whose home stripe is s form
// a tree under the source (each feeds up to 4 of them, so it is several levels
// deep); everyone else hangs as a leaf under those relays, round-robin. Every
// 23rd sink did not answer (its parent's list of children places it).
struct BigOverlay {
  static constexpr std::uint32_t kStripes = 4;
  std::vector<std::string> ids;  // ids[0] is the source
  std::map<std::string, Role> role;
  std::map<std::string, std::vector<std::string>> parent;  // per stripe
  std::map<std::string, std::vector<std::vector<std::string>>> children;
  std::set<std::string> silent;
  std::vector<CrawledNode> nodes;

  static std::string id_of(char kind, int i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "vt1%c%05d0000000000", kind, i);
    return buf;
  }
  static std::string addr_of(int i) {
    return "10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".1:7000";
  }

  BigOverlay(int relays, int sinks) {
    ids.push_back(id_of('s', 0));
    role[ids[0]] = Role::kSource;
    for (int i = 0; i < relays; ++i) {
      ids.push_back(id_of('r', i));
      role[ids.back()] = Role::kRelay;
    }
    for (int i = 0; i < sinks; ++i) {
      ids.push_back(id_of('k', i));
      role[ids.back()] = Role::kSink;
      if (i % 23 == 5) silent.insert(ids.back());
    }
    for (const auto& id : ids) {
      parent[id].assign(kStripes, "");
      children[id].assign(kStripes, {});
    }
    for (std::uint32_t s = 0; s < kStripes; ++s) {
      std::vector<std::string> interior;  // in breadth-first order
      for (int i = 0; i < relays; ++i) {
        if (static_cast<std::uint32_t>(i) % kStripes == s) interior.push_back(id_of('r', i));
      }
      auto adopt = [&](const std::string& p, const std::string& c) {
        parent[c][s] = p;
        children[p][s].push_back(c);
      };
      for (std::size_t i = 0; i < interior.size(); ++i) {
        adopt(i < 4 ? ids[0] : interior[i / 4 - 1], interior[i]);
      }
      std::size_t next = 0;
      for (std::size_t i = 1; i < ids.size(); ++i) {
        if (!parent[ids[i]][s].empty()) continue;
        adopt(interior[next++ % interior.size()], ids[i]);
      }
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const std::string& id = ids[i];
      CrawledNode n;
      n.id = id;
      n.addr = addr_of(static_cast<int>(i));
      if (silent.count(id)) {
        n.problem = "timeout";
        n.error = "no answer within 2000ms";
        nodes.push_back(n);
        continue;
      }
      inspect::NodeStatus st;
      st.id = id;
      st.role = role[id];
      st.addr = n.addr;
      st.stream_id = ids[0];
      st.stripe_count = kStripes;
      st.rate_in_bps = st.role == Role::kSource ? 0 : 1500000;
      st.rate_out_bps = 750000.0 * static_cast<double>(i % 7);
      for (std::uint32_t s = 0; s < kStripes; ++s) {
        inspect::StripeStatus ss;
        ss.stripe = s;
        auto neighbor = [&](const std::string& other) {
          inspect::Neighbor nb;
          nb.id = other;
          auto at = std::find(ids.begin(), ids.end(), other) - ids.begin();
          nb.addr = addr_of(static_cast<int>(at));
          nb.role = role[other];
          nb.rtt_us = 100 + static_cast<std::uint32_t>(at);
          return nb;
        };
        if (!parent[id][s].empty()) ss.parent = neighbor(parent[id][s]);
        for (const auto& c : children[id][s]) ss.children.push_back(neighbor(c));
        std::sort(ss.children.begin(), ss.children.end(),
                  [](const auto& a, const auto& b) { return a.id < b.id; });
        st.stripes.push_back(ss);
      }
      n.status = st;
      nodes.push_back(n);
    }
  }
};

// How often each short id is drawn in each stripe of a text rendering, and
// how far right (in bytes) the deepest one starts.
struct Drawing {
  std::string header;
  std::vector<std::map<std::string, int>> seen;
  std::vector<std::size_t> deepest;
  std::vector<std::string> marked;  // short ids drawn with " [timeout]"
  std::vector<std::string> bad;     // lines that are not a node of a stripe
};

Drawing parse_drawing(const std::string& text, std::uint32_t stripes) {
  Drawing d;
  d.seen.resize(stripes);
  d.deepest.resize(stripes);
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);
  d.header = line;
  int stripe = -1;
  while (std::getline(lines, line)) {
    if (line == "stripe " + std::to_string(stripe + 1)) {
      ++stripe;
      continue;
    }
    auto at = line.find("vt1");
    if (stripe < 0 || stripe >= static_cast<int>(stripes) || at == std::string::npos ||
        line.find("loop") != std::string::npos) {
      d.bad.push_back(line);
      continue;
    }
    std::string id = line.substr(at, 11);
    ++d.seen[stripe][id];
    d.deepest[stripe] = std::max(d.deepest[stripe], at);
    if (line.find(" [timeout]") != std::string::npos) d.marked.push_back(id);
  }
  return d;
}

TEST(Topology, HundredsOfNodesAppearOncePerStripe) {
  BigOverlay big(100, 300);
  ASSERT_EQ(big.ids.size(), 401u);
  Topology topo(big.nodes);
  ASSERT_EQ(topo.stripe_count(), BigOverlay::kStripes);

  std::multiset<std::string> quiet;
  for (const auto& id : big.silent) {
    for (std::uint32_t s = 0; s < BigOverlay::kStripes; ++s) quiet.insert(id.substr(0, 11));
  }
  for (bool ascii : {false, true}) {
    std::string text = topo.text({.ascii = ascii});
    Drawing d = parse_drawing(text, BigOverlay::kStripes);
    EXPECT_EQ(d.header,
              "stream vt1s0000000: 4 stripes, 401 nodes: 1 source, 100 relays, 300 "
              "viewers, max depth 4 (" +
                  std::to_string(big.silent.size()) + " did not answer)");
    EXPECT_TRUE(d.bad.empty()) << d.bad.front();
    EXPECT_EQ(std::multiset<std::string>(d.marked.begin(), d.marked.end()), quiet);
    for (std::uint32_t s = 0; s < BigOverlay::kStripes; ++s) {
      EXPECT_EQ(d.seen[s].size(), big.ids.size()) << "stripe " << s;
      for (const auto& id : big.ids) {
        EXPECT_EQ(d.seen[s][id.substr(0, 11)], 1) << id << " in stripe " << s;
      }
      // source > relay > relay > relay > leaf: four levels of "|   " below
      // the root's indent.
      if (ascii) {
        EXPECT_EQ(d.deepest[s], 2u + 4 * 4) << text;
      }
    }
  }

  auto j = topo.json();
  EXPECT_EQ(j["stripe_count"], BigOverlay::kStripes);
  ASSERT_EQ(j["nodes"].size(), big.ids.size());
  std::set<std::string> ids;
  for (const auto& n : j["nodes"]) {
    std::string id = n["id"];
    EXPECT_TRUE(ids.insert(id).second) << id;
    EXPECT_EQ(n["reachable"].get<bool>(), !big.silent.count(id)) << id;
    EXPECT_EQ(n["problem"], big.silent.count(id) ? nlohmann::ordered_json("timeout")
                                                 : nlohmann::ordered_json(nullptr));
    ASSERT_EQ(n["stripes"].size(), BigOverlay::kStripes) << id;
    for (std::uint32_t s = 0; s < BigOverlay::kStripes; ++s) {
      const auto& js = n["stripes"][s];
      EXPECT_EQ(js["stripe"], s);
      const std::string& p = big.parent[id][s];
      EXPECT_EQ(js["parent"],
                p.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(p))
          << id << " in stripe " << s;
      EXPECT_EQ(js["children"].size(), big.children[id][s].size()) << id;
    }
  }
  EXPECT_EQ(ids, std::set<std::string>(big.ids.begin(), big.ids.end()));
  EXPECT_TRUE(j["loops"].empty());
}

TEST(Topology, HundredsOfNodesRenderTheSameWhateverTheInputOrder) {
  BigOverlay big(100, 300);
  Topology topo(big.nodes);
  std::string text = topo.text();
  std::string ascii = topo.text({.ascii = true});
  std::string json = topo.json().dump(2);
  std::string dot = topo.dot();
  std::mt19937 rng(42);
  for (int round = 0; round < 3; ++round) {
    auto nodes = big.nodes;
    std::shuffle(nodes.begin(), nodes.end(), rng);
    Topology again(std::move(nodes));
    EXPECT_EQ(again.text(), text);
    EXPECT_EQ(again.text({.ascii = true}), ascii);
    EXPECT_EQ(again.json().dump(2), json);
    EXPECT_EQ(again.dot(), dot);
  }
}

TEST(Topology, TenThousandChildrenNobodyAskedAreDrawnNotVisited) {
  // What a lying (or huge) source can make a walk bring back: only it
  // answered, naming max_nodes children in every stripe. Drawing that costs
  // time linear in the nodes (this test's size "small" is its only clock).
  constexpr int kChildren = 10000;
  CrawledNode source;
  source.id = BigOverlay::id_of('s', 0);
  source.addr = BigOverlay::addr_of(0);
  inspect::NodeStatus st;
  st.id = source.id;
  st.role = Role::kSource;
  st.stream_id = source.id;
  st.stripe_count = BigOverlay::kStripes;
  for (std::uint32_t s = 0; s < BigOverlay::kStripes; ++s) {
    inspect::StripeStatus ss;
    ss.stripe = s;
    for (int i = 0; i < kChildren; ++i) {
      inspect::Neighbor nb;
      nb.id = BigOverlay::id_of('k', i);
      nb.addr = BigOverlay::addr_of(i + 1);
      nb.role = Role::kSink;
      ss.children.push_back(nb);
    }
    st.stripes.push_back(ss);
  }
  source.status = st;
  Topology topo({source});
  std::string text = topo.text();
  Drawing d = parse_drawing(text, BigOverlay::kStripes);
  EXPECT_EQ(d.header, "stream vt1s0000000: 4 stripes, 1 node: 1 source, max depth 0");
  EXPECT_TRUE(d.bad.empty()) << d.bad.front();
  std::size_t marks = 0;
  for (std::size_t at = text.find(" [not_visited]\n"); at != std::string::npos;
       at = text.find(" [not_visited]\n", at + 1)) {
    ++marks;
  }
  EXPECT_EQ(marks, std::size_t{kChildren} * BigOverlay::kStripes);
  for (std::uint32_t s = 0; s < BigOverlay::kStripes; ++s) {
    EXPECT_EQ(d.seen[s].size(), std::size_t{kChildren} + 1);
  }
  auto j = topo.json();
  ASSERT_EQ(j["nodes"].size(), std::size_t{kChildren} + 1);
  EXPECT_EQ(j["nodes"][0]["stripes"][2]["children"].size(), std::size_t{kChildren});
  EXPECT_EQ(j["nodes"][kChildren]["problem"], "not_visited");
  EXPECT_EQ(j["nodes"][kChildren]["stripes"][2]["reported_by"], "parent");
  EXPECT_NE(topo.dot().find("[not_visited]\", style=dashed"), std::string::npos);
}

TEST(Topology, NodesTextIsOneLinePerNodeWithDepthsAndTotals) {
  Topology topo(fixed_overlay());
  EXPECT_EQ(topo.depth(0, kSource), 0u);
  EXPECT_EQ(topo.depth(0, kRelayA), 1u);
  EXPECT_EQ(topo.depth(1, kRelayA), 2u);
  EXPECT_EQ(
      topo.nodes_text(),
      "stream vt1source00: 2 stripes, 5 nodes: 1 source, 3 relays, 1 viewer, max depth 2 "
      "(1 did not answer)\n"
      "id           role    addr           depth  rate_in    rate_out  children  behind_live  "
      "gaps\n"
      "vt1source00  source  10.0.0.1:7000  0,0    -          3Mbit/s   4         -            -\n"
      "vt1denied00  relay   10.0.0.5:7000  2,1    -          -         -         -            "
      "- [denied]\n"
      "vt1relayaaa  relay   10.0.0.2:7000  1,2    1.5Mbit/s  3Mbit/s   2         -            -\n"
      "vt1relaybbb  relay   10.0.0.3:7000  1,1    1.5Mbit/s  3Mbit/s   2         -            -\n"
      "vt1sinkccc0  sink    10.0.0.4:7000  2,2    1.5Mbit/s  0bit/s    0         -            "
      "0\n");
}

}  // namespace
}  // namespace vt
