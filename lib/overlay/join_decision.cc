#include "lib/overlay/join_decision.h"

#include <algorithm>
#include <tuple>

namespace vt {
namespace {

JoinDecision refuse(JoinRefusal why) { return {JoinAction::kRefuse, why, {}, false}; }
JoinDecision act(JoinAction action, std::string peer = {}, bool to_child = false) {
  return {action, JoinRefusal::kNone, std::move(peer), to_child};
}

}  // namespace

JoinDecision decide_join(const overlay::JoinRequest& req, const JoinState& st) {
  if (req.stripe >= st.stripes) return refuse(JoinRefusal::kNoSuchStripe);
  if (!st.attached || st.leaving) return refuse(JoinRefusal::kNotInTree);
  if (req.hops > st.max_hops) return refuse(JoinRefusal::kTooManyHops);
  if (req.joiner.id == st.self_id) return refuse(JoinRefusal::kSelfJoin);
  const bool joiner_is_ancestor =
      std::find(st.path.begin(), st.path.end(), req.joiner.id) != st.path.end();
  // This node can feed the joiner: the joiner dials it, it dials the joiner
  // (reversal), or the joiner punches through to it (both behind NATs). If
  // not, it only forwards.
  const bool reachable = st.dialable || !req.joiner.addr.empty() || st.punchable;
  const bool has_room = reachable && st.used_slots < st.capacity;

  // Interior-node-disjoint trees: a direct join for a stripe that is not
  // this node's home goes to the root first, which places it under a node
  // whose home the stripe is; nodes adopt outside their home stripe only when
  // the request was routed to them.
  bool newcomer = !req.resume && !req.here_only;
  bool routed_here =
      req.hops > 0 || st.is_source || (st.interior && !(st.place_from_root && newcomer));
  if (!routed_here && !req.here_only && !st.path.empty() && st.root_id_valid) {
    return act(JoinAction::kSendToRoot, st.path.front());
  }
  if (req.here_only) {
    if (!joiner_is_ancestor && has_room) return act(JoinAction::kAdopt);
    // Swap: the joiner uploads more than its parent, which is our child; the
    // joiner takes the parent's place and the parent re-joins below it.
    if (!req.current_parent.empty() && !joiner_is_ancestor && reachable) {
      for (const JoinChild& c : st.children) {
        if (c.id == req.current_parent && c.capacity < req.joiner.capacity) {
          return act(JoinAction::kSwap, c.id);
        }
      }
    }
    return refuse(JoinRefusal::kNoRoomHere);
  }
  if (!joiner_is_ancestor && reachable) {
    if (has_room) return act(JoinAction::kAdopt);
    // BitTorrent-style: a joiner that uploads takes the place of a child
    // that uploads nothing. Only where the choked child has a place to go:
    // below the joiner (whose home this stripe is: it brings room here).
    // Else a joiner that brings no room to this stripe would take an
    // admitted viewer's place in a tree with none to spare (the lab's dsl:
    // viewers choked six times in 8 s, losing chunks).
    // Room known below is not enough: other joins take it first, and in the
    // lab's dsl a viewer choked that way five times in 4 s ended 44 s
    // without a stripe. A joiner that others can dial holds the choked
    // child a place of its own (JoinReply.displaced); one behind a NAT
    // still brings room here, reached through this node. Demotion too: a
    // NATed relay at home in a stripe must be able to take a leaf's place
    // near the root, or it lands below another NATed node, and viewers
    // behind NATs cannot be introduced to it (the natpunch lab: a relay of
    // 8 Mbit/s fed nobody, and two viewers were refused).
    const bool room_for_choked = req.home_stripe == req.stripe;
    if (req.joiner.capacity > 0 && (!req.resume || st.choke_for_orphans) && room_for_choked) {
      for (const JoinChild& c : st.children) {
        if (c.capacity == 0) return act(JoinAction::kChoke, c.id);
      }
      // A joiner whose home this stripe is (it will adopt here) takes the
      // place of a child that is a leaf here (it adopts in another stripe):
      // the first nodes to join took the top of every stripe, and the trees
      // grew chains below the few that forward it. A newcomer only: the
      // leaf re-joins below, once.
      if (!req.resume && req.home_stripe == req.stripe) {
        for (const JoinChild& c : st.children) {
          if (!c.interior) return act(JoinAction::kDemote, c.id);
        }
      }
    }
  }

  // Forward toward a node that can adopt: the child with the most room, or
  // (for a node that is a leaf in this stripe) the root. Prefer children
  // with room below them, then those whose home stripe this is
  // (interior-node-disjoint trees), then spare room, then capacity, then the
  // lowest RTT; never a child that uploads nothing or has gone silent.
  const JoinChild* best = nullptr;
  auto rank = [&req](const JoinChild& c) {
    // Shallower room first (room_depth 1 = the child itself has a slot).
    std::int64_t shallow = c.room_depth > 0 ? -static_cast<std::int64_t>(c.room_depth) : -(1 << 30);
    // Then one side can dial the other (a punch between two NATs may fail).
    bool direct = c.dialable || !req.joiner.addr.empty();
    return std::tuple(c.spare > 0, shallow, direct, c.interior, c.spare, c.capacity);
  };
  for (const JoinChild& c : st.children) {
    if (c.id == req.joiner.id || c.capacity == 0 || !c.fresh) continue;
    // Neither could dial the other, and the joiner cannot reach this node
    // to have it introduce them (hole punching).
    if (!c.dialable && req.joiner.addr.empty() && !st.dialable) continue;
    if (!best || rank(c) > rank(*best) || (rank(c) == rank(*best) && c.rtt_us < best->rtt_us)) {
      best = &c;
    }
  }
  // A joiner that finds no room known below would be passed around and back
  // off: an orphan (a resuming join) while its viewers' buffers drain, a
  // newcomer until --join-timeout. A node that uploads at all lends either up
  // to `slack` children over its budget instead, when the joiner is an orphan
  // or brings upload capacity of its own (the tree gains more room than it
  // lends). Only a newcomer that uploads nothing is turned away.
  bool lend = req.resume || (st.slack_for_newcomers && req.joiner.capacity > 0) || st.room_to_grow;
  if (lend && reachable && !joiner_is_ancestor && (!best || best->spare == 0) && st.capacity > 0 &&
      st.used_slots < st.capacity + st.slack) {
    return act(JoinAction::kAdoptOverBudget);
  }
  std::string target;
  if (best && (best->spare > 0 || req.hops < st.max_hops / 2)) {
    target = best->id;
  } else if (!st.is_source && !st.path.empty() && req.hops == 0) {
    target = st.path.front();  // let the root place it
  } else {
    return refuse(JoinRefusal::kNoRoomInSubtree);
  }
  return act(JoinAction::kForward, target, best && best->id == target);
}

std::optional<ShedChoice> choose_shed_victim(const ShedView& v) {
  if (!v.congested) return std::nullopt;
  std::size_t total = 0;
  for (const auto& s : v.stripes) total += s.children.size();
  // Least valuable first: a stop-gap stripe's child, then one that uploads
  // nothing, then the least room below it (ties: the first found).
  auto value = [](const ShedStripe& s, const ShedChild& c) {
    return std::tuple(s.interior, c.capacity > 0, c.spare);
  };
  std::optional<ShedChoice> out;
  decltype(value(ShedStripe{}, ShedChild{})) least{};
  for (std::uint32_t i = 0; i < v.stripes.size(); ++i) {
    const ShedStripe& s = v.stripes[i];
    std::size_t used = v.is_source ? s.children.size() : total;
    if (used <= s.budget) continue;
    for (const ShedChild& c : s.children) {
      if (!out || value(s, c) < least) {
        least = value(s, c);
        out = ShedChoice{i, c.id};
      }
    }
    if (v.is_source && out) break;  // the source's budgets are per stripe
  }
  return out;
}

std::uint32_t choose_home_stripe(std::uint32_t stripes, std::uint32_t first,
                                 const std::vector<std::uint32_t>& interior,
                                 const std::vector<std::uint32_t>& spare) {
  if (stripes == 0) return 0;
  first %= stripes;
  auto level = [&](std::uint32_t c) {
    return std::pair(interior.size() == stripes ? interior[c] : 0u,
                     spare.size() == stripes ? spare[c] : 0u);
  };
  std::uint32_t best = first;
  for (std::uint32_t i = 1; i < stripes; ++i) {
    std::uint32_t c = (first + i) % stripes;
    if (level(c) < level(best)) best = c;
  }
  return best;
}

std::optional<std::uint32_t> choose_home_move(std::uint32_t home, std::uint32_t slots,
                                              const std::vector<std::uint32_t>& interior) {
  if (slots == 0 || home >= interior.size() || interior.size() < 2) return std::nullopt;
  std::uint32_t to = home;
  for (std::uint32_t i = 0; i < interior.size(); ++i) {
    if (interior[i] < interior[to]) to = i;
  }
  if (to == home) return std::nullopt;
  std::uint64_t at_home = interior[home], there = interior[to];
  if (at_home < there + 2ull * slots) return std::nullopt;
  if (there * 5 > at_home * 4) return std::nullopt;
  return to;
}

std::string_view to_string(JoinAction action) {
  switch (action) {
    case JoinAction::kRefuse:
      return "refuse";
    case JoinAction::kAdopt:
      return "adopt";
    case JoinAction::kAdoptOverBudget:
      return "adopt_over_budget";
    case JoinAction::kSwap:
      return "swap";
    case JoinAction::kChoke:
      return "choke";
    case JoinAction::kDemote:
      return "demote";
    case JoinAction::kSendToRoot:
      return "send_to_root";
    case JoinAction::kForward:
      return "forward";
  }
  return "?";
}

std::string_view to_string(JoinRefusal refusal) {
  switch (refusal) {
    case JoinRefusal::kNone:
      return "none";
    case JoinRefusal::kNoSuchStripe:
      return "no_such_stripe";
    case JoinRefusal::kNotInTree:
      return "not_in_tree";
    case JoinRefusal::kTooManyHops:
      return "too_many_hops";
    case JoinRefusal::kSelfJoin:
      return "self_join";
    case JoinRefusal::kNoRoomHere:
      return "no_room_here";
    case JoinRefusal::kNoRoomInSubtree:
      return "no_room_in_subtree";
  }
  return "?";
}

std::vector<std::string> choose_repair_candidates(const RepairView& v, std::uint32_t round) {
  std::vector<std::string> out;
  auto avoided = [&](const overlay::PeerInfo* p) {
    return p && round < 3 &&
           std::find(v.penalized.begin(), v.penalized.end(), p->id) != v.penalized.end();
  };
  auto add = [&](const overlay::PeerInfo* p, const std::string& addr) {
    if (addr.empty() || addr == v.self_addr || avoided(p)) return;
    if (std::find(out.begin(), out.end(), addr) == out.end()) out.push_back(addr);
  };
  add(nullptr, v.via);
  for (std::size_t i = v.path.size(); i-- > 0;) {
    if (round == 0 && v.parent && v.path[i].id == v.parent->id) continue;
    add(&v.path[i], v.path[i].addr);
  }
  for (const auto& b : v.bootstrap) {
    if (round == 0 && v.parent && b == v.parent->addr) continue;  // the parent just lost
    add(nullptr, b);
  }
  if (round > 0) {
    for (const auto& [parent, path] : v.stripes) {
      if (parent) add(&*parent, parent->addr);
      for (const auto& p : path) add(&p, p.addr);
    }
  }
  return out;
}

}  // namespace vt
