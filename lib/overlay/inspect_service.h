// InspectService: serves vt.inspect.Inspect (proto/inspect.pidl) for one
// OverlayNode, so an operator can see the node's place in every stripe tree
// (parent, children, path to the source, RTTs, rates, gaps) and follow what
// happens to it (vt-inspect). Read-only: it only reads OverlayNode accessors.
//
// It records the node's events (OverlayNode::on_event) in a bounded ring with
// wall-clock times, and writes each new one to every follow() channel. With a
// non-empty allow list, calls from any other peer fail with inspect::Denied.
//
// Threads: like OverlayNode, it runs on the node's single io thread; start(),
// record() and the handlers run there.
//
//   auto inspect = std::make_shared<vt::InspectService>(rpc, node, vt::InspectOptions{
//       .tool = "vt-relay", .allow = {operator_id}});
//   rpc.add_service(inspect);
//   inspect->start();
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/crypto/peer_id.h"
#include "lib/overlay/overlay_node.h"
#include "lib/rpc/node.h"
#include "proto/inspect.pidl.rpc.h"

namespace vt {

struct InspectOptions {
  // The tool's name for NodeStatus.tool ("vt-relay").
  std::string tool;
  // Peers allowed to inspect this node; empty: everyone.
  std::vector<peers::PeerId> allow;
  // Events kept for events() and follow(since).
  std::size_t max_events = 1024;
  // Events queued to one follower before it is cut off (it reads too slowly).
  std::size_t max_follower_queue = 1024;
  // Rates are measured over this period.
  std::chrono::milliseconds rate_period{1000};
};

class InspectService : public inspect::InspectServer,
                       public std::enable_shared_from_this<InspectService> {
 public:
  // `rpc` must outlive the service; `node` is shared.
  InspectService(peers::rpc::Node& rpc, std::shared_ptr<OverlayNode> node, InspectOptions options);
  ~InspectService() override;

  // Hooks the node's on_event (keeping a hook set before) and starts the
  // rate sampler. Call once, on the io thread.
  void start();

  // Adds an event now (what the node's hook calls). "stripe", when present
  // and numeric, becomes Event.stripe; the other fields stay as they are.
  void record(const std::string& kind, const std::map<std::string, std::string>& fields);

  // Sinks: the playout buffer's gap count, for NodeStatus.gaps.
  std::function<std::uint64_t()> playout_gaps;

  // The status as served (also for tests).
  inspect::NodeStatus status_now() const;

  // Inspect service.
  peers::rpc::Task<peers::rpc::Answer<inspect::NodeStatus>> status(
      peers::rpc::CallContext& ctx) override;
  peers::rpc::Task<peers::rpc::Answer<inspect::EventList>> events(
      peers::rpc::CallContext& ctx, inspect::EventsRequest request) override;
  peers::rpc::Task<inspect::EventList> follow(peers::rpc::CallContext& ctx,
                                              inspect::EventsRequest request) override;
  peers::rpc::Task<peers::rpc::Answer<inspect::ServiceList>> services(
      peers::rpc::CallContext& ctx) override;

 private:
  struct Follower {
    std::shared_ptr<peers::rpc::DataChannel> channel;
    std::deque<std::string> queue;  // encoded events
    bool writing = false;
  };

  void check_allowed(const peers::rpc::CallContext& ctx) const;
  inspect::EventList events_since(std::uint64_t since) const;
  void start_writer(std::shared_ptr<Follower> follower);
  void drop_follower(const std::shared_ptr<Follower>& follower, const std::string& why);

  peers::rpc::Node& rpc_;
  std::shared_ptr<OverlayNode> node_;
  InspectOptions options_;
  std::chrono::steady_clock::time_point started_;
  std::deque<inspect::Event> ring_;
  std::uint64_t next_seq_ = 1;
  std::vector<std::shared_ptr<Follower>> followers_;
  // Rates: the counters at the last two samples.
  struct Sample {
    std::chrono::steady_clock::time_point at;
    std::uint64_t bytes_in = 0, bytes_out = 0;
  };
  Sample last_, previous_;
};

}  // namespace vt
