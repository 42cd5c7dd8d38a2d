// crawl(): finds every node of a live overlay by asking nodes for their
// status (vt.inspect.Inspect.status) and following the links they report.
//
// It starts at the seed addresses, asks each node, and adds every node it
// names (the parent and the children of each stripe, and the root of each
// path: the source) to the next round; each round asks its nodes in
// parallel. Each node gets `node_timeout` (connect, handshake and answer
// together); the whole walk stops at `total_timeout`, and nodes not asked by
// then are reported as "not_visited", and so are nodes named after the walk
// reached `max_nodes`. Nodes that cannot be reached, refuse (Denied), or do
// not speak Peers RPC are reported with their problem, never awaited beyond
// their timeout. Every node the walk heard of is in the result once.
//
// Threads: run crawl() on a single-threaded executor (vt-inspect's io thread)
// or a strand; its rounds share state between the coroutines they spawn.
//
//   peers::rpc::Node rpc(io.get_executor(), peers::Identity::generate());
//   auto op = vt::crawl(rpc, {"127.0.0.1:7000"}, {});
//   std::vector<vt::CrawledNode> nodes = co_await std::move(op);
//   std::cout << vt::Topology(nodes).text();
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "lib/inspect/topology.h"
#include "lib/rpc/node.h"

namespace vt {

struct CrawlOptions {
  std::chrono::milliseconds node_timeout{2000};
  std::chrono::milliseconds total_timeout{10000};
  // Nodes asked at once (one round; the next starts when all answered or
  // timed out).
  std::size_t parallel = 64;
  // A walk asks no more nodes than this (seeds included; a bound against a
  // lying node); the nodes named past it are reported as "not_visited".
  std::size_t max_nodes = 10000;
};

// Every node found, in no particular order (Topology sorts).
peers::rpc::Task<std::vector<CrawledNode>> crawl(peers::rpc::Node& rpc,
                                                 std::vector<std::string> seeds,
                                                 CrawlOptions options);

// Asks one node for its status within `timeout`; `expected_id` (if not
// empty) must be who answers. Never throws: failures become a problem.
peers::rpc::Task<CrawledNode> ask_status(peers::rpc::Node& rpc, std::string addr,
                                         std::string expected_id,
                                         std::chrono::milliseconds timeout);

// The problem word for an error from connecting to or calling a node:
// "unreachable", "timeout", "denied", "protocol", "wrong_peer",
// "no_inspect" or "error".
std::string problem_of(const peers::Error& e);

}  // namespace vt
