// Topology: the stripe trees of a live overlay as vt-inspect found them, and
// their renderings (text with box drawing, one JSON document, Graphviz).
//
// The input is what a crawl (lib/inspect/crawl.h) learnt about each node: its
// status when it answered, or why it did not (unreachable, denied, ...). A
// node's parent in a stripe is what the node itself reports; for a node that
// did not answer, what its parent's list of children says. Nodes whose
// reported parent links form a cycle are marked as a loop and drawn once.
// Output is deterministic (nodes sorted by role, then id; no timestamps), so
// `watch -d` shows only what changed.
//
//   vt::Topology topo(crawl_result.nodes);
//   std::cout << topo.text({.ascii = false});
//   std::cout << topo.json().dump(2) << "\n";
//   std::cout << topo.dot();
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "proto/inspect.pidl.h"

namespace vt {

// What a crawl learnt about one node.
struct CrawledNode {
  std::string id;    // full peer id; "" when it never answered and nobody named it
  std::string addr;  // where it was asked (host:port)
  std::optional<inspect::NodeStatus> status;  // set when it answered
  // Why there is no status: "unreachable", "timeout", "denied", "protocol"
  // (it does not speak Peers RPC), "wrong_peer", "no_inspect" (serves no
  // Inspect), "not_visited" (the crawl ran out of time), "error".
  std::string problem;
  std::string error;  // the message that goes with problem
};

// What the header counts: every node found, by role (sinks are viewers),
// the deepest any node sits in any stripe (the source is at 0), and how many
// did not answer.
struct TopologyTotals {
  std::size_t nodes = 0;
  std::size_t sources = 0;
  std::size_t relays = 0;
  std::size_t viewers = 0;
  std::size_t unknown = 0;
  std::size_t max_depth = 0;
  std::size_t did_not_answer = 0;
};

struct TextOptions {
  bool ascii = false;  // +-- and | instead of box drawing
};

class Topology {
 public:
  explicit Topology(std::vector<CrawledNode> nodes);

  std::string text(const TextOptions& options = {}) const;
  // One line per node under the same header as text(): id, role, address,
  // depth in each stripe, rates in and out, children, delay behind live,
  // gaps (`vt-inspect nodes`), in columns.
  std::string nodes_text() const;
  // "stream vt1abc: 4 stripes, 5 nodes: 1 source, 2 relays, 2 viewers, max
  // depth 2 (1 did not answer)\n": the first line of text() and nodes_text().
  std::string header() const;
  // The counts header() writes; json() has them as "totals", dot() as the
  // graph's label.
  TopologyTotals totals() const;
  // Hops from the stripe's source to id (the source: 0); nullopt when its
  // parents do not lead to the source (a loop, an orphan, not in the stripe).
  std::optional<std::size_t> depth(std::uint32_t stripe, const std::string& id) const;
  // {"stream_id", "stripe_count", "totals": {...}, "nodes": [...], "loops": [...]};
  // docs/inspect.md.
  nlohmann::ordered_json json() const;
  // digraph with one cluster per stripe, labelled with the header's line.
  std::string dot() const;

  // The nodes in their output order.
  const std::vector<CrawledNode>& nodes() const { return nodes_; }
  std::uint32_t stripe_count() const { return k_; }
  // The parent of `id` in `stripe` ("" if none or unknown).
  std::string parent_of(std::uint32_t stripe, const std::string& id) const;
  // Ids in a loop of parent links in `stripe`.
  const std::set<std::string>& loop_nodes(std::uint32_t stripe) const { return loops_[stripe]; }

 private:
  struct Link {
    std::string parent;
    std::optional<std::uint32_t> rtt_us;
    bool reported_by_self = false;  // else: by the parent's list of children
  };
  struct Info {
    overlay::Role role = overlay::Role::kUnknown;
    std::string addr;
  };

  const CrawledNode* find(const std::string& id) const;
  const inspect::StripeStatus* stripe_of(const CrawledNode& n, std::uint32_t stripe) const;
  const std::vector<std::string>& children_of(std::uint32_t stripe, const std::string& id) const;
  std::vector<std::string> roots_of(std::uint32_t stripe) const;
  std::string label(std::uint32_t stripe, const std::string& id) const;
  void draw(std::uint32_t stripe, const std::string& id, const std::string& prefix, bool root,
            bool last, const TextOptions& options, std::set<std::string>& drawn,
            std::string& out) const;
  bool in_stripe(std::uint32_t stripe, const std::string& id) const;

  std::vector<CrawledNode> nodes_;
  std::map<std::string, std::size_t> by_id_;
  std::map<std::string, Info> info_;  // role and address of every id seen
  std::uint32_t k_ = 0;
  std::string stream_id_;
  std::vector<std::map<std::string, Link>> links_;  // per stripe: child -> link
  std::vector<std::set<std::string>> members_;      // per stripe: ids taking part
  std::vector<std::set<std::string>> loops_;        // per stripe: ids in a cycle
  // per stripe: parent -> children, in output order
  std::vector<std::map<std::string, std::vector<std::string>>> children_;
};

// "vt1abcdefgh" for a peer id text (the first 11 characters of anything else).
std::string short_peer(const std::string& id);

}  // namespace vt
