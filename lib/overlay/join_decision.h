// The routing rules of a join: what a node does with a request to adopt a
// joiner in one stripe, given what it knows. A plain function of a snapshot
// of the node's state and the request; OverlayNode::join builds the snapshot,
// calls decide_join() and carries the answer out (reservations, redirects,
// forwarding, errors), so the rules are tested here without sockets or time.
//
// The rules, in order: refuse what cannot be served (no such stripe, not in
// the tree, too many hops, the node itself); send a direct join for a stripe
// that is not this node's home to the root (interior-node-disjoint trees);
// adopt when there is room; with `here_only` (a child moving up) swap it with
// its parent when it uploads more, else refuse; choke a child that uploads
// nothing for a joiner that uploads; adopt an orphan (or, with
// slack_for_newcomers, an uploading newcomer) over the budget (`slack`) when
// no room is known below; forward to the best child (room below it, the
// shallowest room, home stripe, spare, capacity, then RTT), or to the root
// when nothing below fits; else refuse. With place_from_root, a newcomer's
// direct join at a node other than the source goes to the root first.
//
//   JoinState state;
//   state.stripes = 4;
//   state.attached = true;
//   state.self_id = "vt1self";
//   state.capacity = 4;
//   state.used_slots = 4;
//   state.children = {{.id = "vt1kid", .capacity = 8, .spare = 3, .fresh = true}};
//   JoinDecision d = decide_join(request, state);
//   // d.action == JoinAction::kForward, d.peer == "vt1kid", d.to_child
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/overlay.pidl.h"

namespace vt {

// A join passes at most this many nodes before it is refused.
inline constexpr std::uint32_t kMaxJoinHops = 16;
// Children over its budget a node takes rather than turn a joiner away.
inline constexpr std::size_t kRepairSlack = 1;

// What the node knows of one of its children in the requested stripe.
struct JoinChild {
  std::string id;              // its peer id (text)
  std::uint32_t capacity = 0;  // children it can feed; 0 = uploads nothing
  bool interior = false;       // the stripe is its home stripe and it uploads
  std::uint32_t spare = 0;     // room in its subtree, from its last heartbeat
  std::uint32_t rtt_us = 0;    // as it reported
  bool fresh = true;           // heard from lately (not frozen or gone)
  // Levels below this node to the nearest free slot in the child's subtree
  // (1 = the child itself), from its last heartbeat; 0 = none known.
  std::uint32_t room_depth = 0;
  // Others can dial it (it advertised an address). One that cannot be
  // dialed feeds only joiners it can dial itself (connection reversal).
  bool dialable = true;
};

// The node's state as the decision needs it, for the requested stripe.
struct JoinState {
  std::uint32_t stripes = 0;  // stripes the node knows; a request beyond is refused
  bool is_source = false;
  bool attached = false;  // the source, or has a parent in the stripe
  bool leaving = false;
  bool interior = false;  // the stripe is the node's home stripe (always at the source)
  std::string self_id;
  std::vector<std::string> path;  // peer ids from the root to the parent
  bool root_id_valid = false;     // path.front() is a well-formed peer id
  // In the node's own order: the first one that uploads nothing is choked.
  std::vector<JoinChild> children;
  std::uint32_t capacity = 0;  // the budget of children (the source: per stripe)
  std::size_t used_slots = 0;  // children and live reservations counted against it
  std::size_t slack = kRepairSlack;
  std::uint32_t max_hops = kMaxJoinHops;
  // A newcomer's direct join (not a repair, not a move up) goes to the root,
  // which walks it down to the shallowest room, even in this node's home
  // stripe: trees stay near log_fanout(audience) deep instead of growing a
  // chain below whichever node a viewer was told to --join.
  bool place_from_root = false;
  // Lend slack to an uploading newcomer too (not only to an orphan). Off:
  // admitted viewers are never degraded by newcomers; a newcomer that finds
  // no room is told so.
  bool slack_for_newcomers = true;
  // The node's uplink has shown room for more than its budget
  // (UplinkEstimator::room_to_grow): it lends slack to any newcomer, and
  // its estimate grows by what the child then uses. By use alone a budget
  // grows one child per 2-s window, slower than viewers arrive (the lab:
  // 7-9 Mbit/s relays at 8-9 children, 43-62 % of their uplinks, while
  // viewers were refused). Not advertised as spare room: with every full
  // node offering its slot, joins were forwarded past them to the bottom of
  // the trees (on loopback, where every uplink has room, trees 16-27 deep
  // against a balanced 4-5).
  bool room_to_grow = false;
  // Choke a non-uploading child for an orphan that uploads, too (not only
  // for a newcomer). Off: repairs do not ripple into viewers that did
  // nothing (an orphan gets slack instead).
  bool choke_for_orphans = true;
  // Others can dial this node. If not, it adopts a joiner that gave an
  // address (it dials the joiner: connection reversal), or one with no
  // address when `punchable`. A joiner with no address is sent to a child
  // that cannot be dialed only when this node can be dialed: the joiner
  // punches through to that child with this node's help.
  bool dialable = true;
  // Not dialable, but a joiner with no address can reach this node by hole
  // punching (Node::punch) through its parent in the stripe, which can be
  // dialed; false for a joiner that failed to a moment ago.
  bool punchable = false;
};

enum class JoinAction {
  kRefuse,           // answer with an error (refusal says which)
  kAdopt,            // a free slot: reserve it, answer with a ticket
  kAdoptOverBudget,  // no room known below: adopt up to `slack` over the budget
  kSwap,             // here_only: redirect `peer` (our child, the joiner's parent)
                     // to the joiner, drop it, adopt the joiner
  kChoke,            // redirect `peer` (a child that uploads nothing) to this node,
                     // drop it, adopt the joiner
  kDemote,           // redirect `peer` (a leaf in this stripe) to this node, drop
                     // it, adopt the joiner (which adopts in this stripe): nodes
                     // that forward a stripe go near its root, leaves below
  kSendToRoot,       // a direct join for a stripe that is not our home: forward to
                     // the root (`peer`)
  kForward,          // forward to `peer`: a child (to_child) or the root
};

enum class JoinRefusal {
  kNone,
  kNoSuchStripe,     // NotInTree
  kNotInTree,        // NotInTree: no parent in the stripe yet, or leaving
  kTooManyHops,      // Full
  kSelfJoin,         // kInvalidArgument
  kNoRoomHere,       // Full: here_only, and no room or swap
  kNoRoomInSubtree,  // Full
};

struct JoinDecision {
  JoinAction action = JoinAction::kRefuse;
  JoinRefusal refusal = JoinRefusal::kNone;
  std::string peer;       // see JoinAction
  bool to_child = false;  // kForward: peer is a child (one we cannot reach is dropped)

  friend bool operator==(const JoinDecision&, const JoinDecision&) = default;
};

JoinDecision decide_join(const overlay::JoinRequest& request, const JoinState& state);

// Where an orphan asks to be adopted again, in order. In round 0: the node
// the old parent named (`via`), the ancestors from the nearest up to the
// root (not the parent just lost), then the --join nodes (not the lost
// parent either). From round 1 on also the lost parent (it may only have
// been late), the other stripes' parents and the nodes on their paths.
// Peers left for being slow (`penalized`) are skipped in rounds 0-2; this
// node's own address and repeats never appear.
struct RepairView {
  std::string via;                          // a node the old parent named, or ""
  std::string self_addr;                    // this node's advertised address
  std::optional<overlay::PeerInfo> parent;  // the parent just lost, if any
  std::vector<overlay::PeerInfo> path;      // root .. parent, in the stripe
  std::vector<std::string> bootstrap;       // --join
  // Every stripe's parent and path (this one's included).
  std::vector<std::pair<std::optional<overlay::PeerInfo>, std::vector<overlay::PeerInfo>>> stripes;
  std::vector<std::string> penalized;  // ids left for being slow, still avoided
};
std::vector<std::string> choose_repair_candidates(const RepairView& view, std::uint32_t round);

// Which child a node whose measured uplink is full drops first (it is
// redirected and re-joins with a resume). A node other than the source has
// one budget for all stripes, so the victim is chosen over all of them:
// first a child of a stripe that is not the node's home (fed as a stop-gap;
// the home stripe's subtree hangs below the node), then one that uploads
// nothing, then the one with the least room below it. The source has a
// budget per stripe and sheds in the first stripe over its budget. Nothing
// while the uplink is not full: a budget below the children held is also
// what an estimate still probing upward looks like.
struct ShedChild {
  std::string id;
  std::uint32_t capacity = 0;  // children it can feed; 0 = uploads nothing
  std::uint32_t spare = 0;     // room in its subtree, from its last heartbeat
};
struct ShedStripe {
  bool interior = false;  // the node's home stripe (always at the source)
  std::uint32_t budget = 0;
  std::vector<ShedChild> children;
};
struct ShedView {
  bool is_source = false;
  bool congested = false;  // the uplink's queue says it is full
  std::vector<ShedStripe> stripes;
};
struct ShedChoice {
  std::uint32_t stripe = 0;
  std::string child;
  friend bool operator==(const ShedChoice&, const ShedChoice&) = default;
};
std::optional<ShedChoice> choose_shed_victim(const ShedView& view);

// The stripe a joiner makes its home (the one it forwards in), from what a
// node of the stream reports: interior capacity goes where it is short, the
// stripe whose forwarding nodes have the fewest child slots; ties go to the
// one with the least free room, then to `first` (from the joiner's key, so
// that joiners that see the same numbers spread) and the stripes after it.
// Lists of the wrong size are not known.
std::uint32_t choose_home_stripe(std::uint32_t stripes, std::uint32_t first,
                                 const std::vector<std::uint32_t>& interior,
                                 const std::vector<std::uint32_t>& spare);

// Whether a node whose home is `home` should move it, and where to. It
// adds `slots` child slots to its home's interior capacity; `interior` is
// each stripe's interior capacity over the whole stream (the node's slots
// counted in its home's). To the stripe with the least, when the move
// narrows the gap: the home keeps at least what the new stripe gets (they
// differ by at least twice `slots`) and the new stripe has at most 80 % of
// the home's (small differences are not worth the churn). Nothing when the
// list is not known (wrong size) or the node has no slots.
std::optional<std::uint32_t> choose_home_move(std::uint32_t home, std::uint32_t slots,
                                              const std::vector<std::uint32_t>& interior);

std::string_view to_string(JoinAction action);
std::string_view to_string(JoinRefusal refusal);

}  // namespace vt
