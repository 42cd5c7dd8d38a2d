#include "lib/overlay/join_decision.h"

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace vt {

void PrintTo(const JoinDecision& d, std::ostream* out) {
  *out << to_string(d.action);
  if (d.refusal != JoinRefusal::kNone) *out << " (" << to_string(d.refusal) << ")";
  if (!d.peer.empty()) *out << " peer=" << d.peer;
  if (d.to_child) *out << " to_child";
}

namespace {

// A relay in its home stripe, attached below "root" and "parent", with a
// budget of 4 children and none used; the joiner uploads (capacity 2) and
// asks directly (0 hops).
JoinState relay() {
  JoinState st;
  st.stripes = 4;
  st.attached = true;
  st.interior = true;
  st.self_id = "self";
  st.path = {"root", "parent"};
  st.root_id_valid = true;
  st.capacity = 4;
  st.used_slots = 0;
  return st;
}

overlay::JoinRequest request() {
  overlay::JoinRequest req;
  req.stripe = 1;
  req.joiner.id = "joiner";
  req.joiner.capacity = 2;
  return req;
}

JoinChild child(std::string id, std::uint32_t capacity, std::uint32_t spare, bool interior = false,
                std::uint32_t rtt_us = 1000, bool fresh = true) {
  return {std::move(id), capacity, interior, spare, rtt_us, fresh};
}

JoinDecision refuse(JoinRefusal why) { return {JoinAction::kRefuse, why, "", false}; }
JoinDecision adopt() { return {JoinAction::kAdopt, JoinRefusal::kNone, "", false}; }
JoinDecision over_budget() { return {JoinAction::kAdoptOverBudget, JoinRefusal::kNone, "", false}; }
JoinDecision swap(std::string peer) { return {JoinAction::kSwap, JoinRefusal::kNone, peer, false}; }
JoinDecision choke(std::string peer) {
  return {JoinAction::kChoke, JoinRefusal::kNone, peer, false};
}
JoinDecision to_root_first() {
  return {JoinAction::kSendToRoot, JoinRefusal::kNone, "root", false};
}
JoinDecision forward_to_child(std::string peer) {
  return {JoinAction::kForward, JoinRefusal::kNone, peer, true};
}
JoinDecision forward_to_root() { return {JoinAction::kForward, JoinRefusal::kNone, "root", false}; }

struct Case {
  std::string name;
  std::function<void(JoinState&, overlay::JoinRequest&)> setup;
  JoinDecision want;
};

void run(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    JoinState st = relay();
    overlay::JoinRequest req = request();
    c.setup(st, req);
    EXPECT_EQ(decide_join(req, st), c.want) << c.name;
  }
}

// Full: the budget is spent.
void full(JoinState& st) { st.used_slots = st.capacity; }

TEST(DecideJoin, RefusesWhatItCannotServe) {
  run({
      {"no such stripe", [](auto&, auto& r) { r.stripe = 4; }, refuse(JoinRefusal::kNoSuchStripe)},
      {"no parent yet", [](auto& s, auto&) { s.attached = false; },
       refuse(JoinRefusal::kNotInTree)},
      {"leaving", [](auto& s, auto&) { s.leaving = true; }, refuse(JoinRefusal::kNotInTree)},
      {"too many hops", [](auto&, auto& r) { r.hops = 17; }, refuse(JoinRefusal::kTooManyHops)},
      {"hops at the limit", [](auto&, auto& r) { r.hops = 16; }, adopt()},
      {"hop limit is an input",
       [](auto& s, auto& r) {
         s.max_hops = 4;
         r.hops = 5;
       },
       refuse(JoinRefusal::kTooManyHops)},
      {"itself", [](auto&, auto& r) { r.joiner.id = "self"; }, refuse(JoinRefusal::kSelfJoin)},
      {"stripe check comes first",
       [](auto& s, auto& r) {
         r.stripe = 9;
         s.leaving = true;
       },
       refuse(JoinRefusal::kNoSuchStripe)},
  });
}

TEST(DecideJoin, SendsADirectJoinOutsideItsHomeStripeToTheRoot) {
  auto leaf = [](JoinState& s) { s.interior = false; };
  run({
      {"direct, not home", [&](auto& s, auto&) { leaf(s); }, to_root_first()},
      {"routed here (hops > 0)",
       [&](auto& s, auto& r) {
         leaf(s);
         r.hops = 1;
       },
       adopt()},
      {"home stripe", [](auto&, auto&) {}, adopt()},
      {"the source has no root to ask",
       [&](auto& s, auto&) {
         leaf(s);
         s.is_source = true;
         s.path.clear();
         s.root_id_valid = false;
       },
       adopt()},
      {"no path known",
       [&](auto& s, auto&) {
         leaf(s);
         s.path.clear();
         s.root_id_valid = false;
       },
       adopt()},
      {"root id unusable: decide here",
       [&](auto& s, auto&) {
         leaf(s);
         s.root_id_valid = false;
       },
       adopt()},
      {"here_only never goes to the root",
       [&](auto& s, auto& r) {
         leaf(s);
         r.here_only = true;
       },
       adopt()},
  });
}

TEST(DecideJoin, AdoptsWithRoomUnlessTheJoinerIsAnAncestor) {
  run({
      {"room", [](auto&, auto&) {}, adopt()},
      {"last free slot", [](auto& s, auto&) { s.used_slots = 3; }, adopt()},
      {"ancestor with room goes on to a child",
       [](auto& s, auto& r) {
         r.joiner.id = "parent";
         s.children = {child("a", 4, 2)};
       },
       forward_to_child("a")},
      {"ancestor with room and nobody below: to the root",
       [](auto&, auto& r) { r.joiner.id = "parent"; }, forward_to_root()},
  });
}

TEST(DecideJoin, HereOnlyAdoptsSwapsOrRefuses) {
  auto here_only_full = [](JoinState& s, overlay::JoinRequest& r) {
    full(s);
    r.here_only = true;
    r.current_parent = "p";
    s.children = {child("a", 8, 3), child("p", 1, 0)};
  };
  run({
      {"room", [](auto&, auto& r) { r.here_only = true; }, adopt()},
      {"full: swap with a parent that uploads less", here_only_full, swap("p")},
      {"full: parent uploads as much",
       [&](auto& s, auto& r) {
         here_only_full(s, r);
         r.joiner.capacity = 1;
       },
       refuse(JoinRefusal::kNoRoomHere)},
      {"full: parent is not our child",
       [&](auto& s, auto& r) {
         here_only_full(s, r);
         r.current_parent = "elsewhere";
       },
       refuse(JoinRefusal::kNoRoomHere)},
      {"full: no parent named",
       [&](auto& s, auto& r) {
         here_only_full(s, r);
         r.current_parent = "";
       },
       refuse(JoinRefusal::kNoRoomHere)},
      {"ancestor: neither adopt nor swap",
       [&](auto& s, auto& r) {
         here_only_full(s, r);
         s.used_slots = 0;
         r.joiner.id = "root";
       },
       refuse(JoinRefusal::kNoRoomHere)},
      {"never forwards, never lends slack",
       [&](auto& s, auto& r) {
         here_only_full(s, r);
         r.current_parent = "";
         r.resume = true;
       },
       refuse(JoinRefusal::kNoRoomHere)},
  });
}

TEST(DecideJoin, ChokesTheFirstChildThatUploadsNothingForAnUploader) {
  run({
      {"first non-uploading child",
       [](auto& s, auto& r) {
         full(s);
         r.home_stripe = r.stripe;
         r.joiner.addr = "10.0.0.9:7000";
         s.children = {child("a", 3, 0), child("b", 0, 0), child("c", 0, 0)};
       },
       choke("b")},
      {"also a silent one",
       [](auto& s, auto& r) {
         full(s);
         r.home_stripe = r.stripe;
         r.joiner.addr = "10.0.0.9:7000";
         s.children = {child("b", 0, 0, false, 0, false)};
       },
       choke("b")},
      {"also for a joiner at home here that nobody can dial (the choked "
       "viewer reaches it through this node)",
       [](auto& s, auto& r) {
         full(s);
         r.home_stripe = r.stripe;
         s.children = {child("b", 0, 0)};
       },
       choke("b")},
      {"not for a joiner at home elsewhere, even with room known below (other "
       "joins may take it first): it goes there",
       [](auto& s, auto& r) {
         full(s);
         r.joiner.addr = "10.0.0.9:7000";
         s.children = {child("a", 3, 1), child("b", 0, 0)};
       },
       forward_to_child("a")},
      {"not for a joiner at home elsewhere with no room below: the choked "
       "viewer would have nowhere to go",
       [](auto& s, auto&) {
         full(s);
         s.children = {child("a", 3, 0), child("b", 0, 0)};
       },
       over_budget()},
      {"not for a joiner that uploads nothing",
       [](auto& s, auto& r) {
         full(s);
         r.joiner.capacity = 0;
         s.children = {child("b", 0, 0)};
       },
       forward_to_root()},
      {"an orphan gets slack instead when choking is for newcomers only",
       [](auto& s, auto& r) {
         full(s);
         r.home_stripe = r.stripe;
         s.choke_for_orphans = false;
         r.resume = true;
         s.children = {child("b", 0, 0)};
       },
       over_budget()},
      {"not for an ancestor (it goes on, as today, to the root)",
       [](auto& s, auto& r) {
         full(s);
         r.home_stripe = r.stripe;
         r.joiner.id = "root";
         s.children = {child("b", 0, 0)};
       },
       forward_to_root()},
  });
}

TEST(DecideJoin, ANewcomerThatAdoptsHereDemotesALeafOfThisStripe) {
  auto demote = [](std::string peer) {
    return JoinDecision{JoinAction::kDemote, JoinRefusal::kNone, std::move(peer), false};
  };
  run({
      {"home stripe newcomer, a leaf that uploads elsewhere",
       [](auto& s, auto& r) {
         full(s);
         r.home_stripe = r.stripe;
         r.joiner.addr = "10.0.0.9:7000";
         s.children = {child("a", 3, 0, true), child("b", 3, 0, false)};
       },
       demote("b")},
      {"a child that uploads nothing is choked first",
       [](auto& s, auto& r) {
         full(s);
         r.home_stripe = r.stripe;
         r.joiner.addr = "10.0.0.9:7000";
         s.children = {child("b", 3, 0, false), child("c", 0, 0)};
       },
       choke("c")},
      {"not when every child adopts here",
       [](auto& s, auto& r) {
         full(s);
         r.home_stripe = r.stripe;
         s.children = {child("a", 3, 0, true)};
       },
       over_budget()},
      {"not for a joiner whose home is another stripe",
       [](auto& s, auto& r) {
         full(s);
         r.home_stripe = r.stripe + 1;
         s.children = {child("b", 3, 0, false)};
       },
       over_budget()},
      {"not for an orphan",
       [](auto& s, auto& r) {
         full(s);
         r.home_stripe = r.stripe;
         r.resume = true;
         s.children = {child("b", 3, 0, false)};
       },
       over_budget()},
  });
}

TEST(DecideJoin, ANodeWithRoomToGrowLendsSlackToAnyNewcomer) {
  run({
      {"a newcomer that uploads nothing",
       [](auto& s, auto& r) {
         full(s);
         s.slack_for_newcomers = false;
         s.room_to_grow = true;
         r.joiner.capacity = 0;
       },
       over_budget()},
      {"not past the slack",
       [](auto& s, auto& r) {
         full(s);
         s.used_slots += s.slack;
         s.room_to_grow = true;
         r.joiner.capacity = 0;
       },
       forward_to_root()},
      {"not without room to grow",
       [](auto& s, auto& r) {
         full(s);
         s.slack_for_newcomers = false;
         r.joiner.capacity = 0;
       },
       forward_to_root()},
      {"not while room is known below (it goes there)",
       [](auto& s, auto& r) {
         full(s);
         s.room_to_grow = true;
         r.joiner.capacity = 0;
         s.children = {child("a", 3, 2)};
       },
       forward_to_child("a")},
  });
}

TEST(DecideJoin, LendsSlackWhenNoRoomIsKnownBelow) {
  run({
      {"uploading newcomer, nobody below", [](auto& s, auto&) { full(s); }, over_budget()},
      {"uploading newcomer, children full",
       [](auto& s, auto&) {
         full(s);
         s.children = {child("a", 3, 0)};
       },
       over_budget()},
      {"orphan that uploads nothing",
       [](auto& s, auto& r) {
         full(s);
         r.joiner.capacity = 0;
         r.resume = true;
       },
       over_budget()},
      {"newcomer that uploads nothing: to the root",
       [](auto& s, auto& r) {
         full(s);
         r.joiner.capacity = 0;
       },
       forward_to_root()},
      {"room below: forward instead",
       [](auto& s, auto&) {
         full(s);
         s.children = {child("a", 3, 1)};
       },
       forward_to_child("a")},
      {"slack spent: forward to a full child",
       [](auto& s, auto&) {
         s.used_slots = s.capacity + 1;
         s.children = {child("a", 3, 0)};
       },
       forward_to_child("a")},
      {"slack is an input",
       [](auto& s, auto&) {
         s.used_slots = s.capacity + 1;
         s.slack = 2;
       },
       over_budget()},
      {"a node that uploads nothing lends nothing",
       [](auto& s, auto&) {
         s.capacity = 0;
         s.used_slots = 0;
       },
       forward_to_root()},
      {"the source lends too",
       [](auto& s, auto&) {
         full(s);
         s.is_source = true;
         s.path.clear();
       },
       over_budget()},
      {"an ancestor gets none",
       [](auto& s, auto& r) {
         full(s);
         r.joiner.id = "parent";
         r.resume = true;
       },
       forward_to_root()},
  });
}

TEST(DecideJoin, ForwardsToTheBestChild) {
  // A joiner that uploads nothing, at a full node: no choke, no slack.
  auto setup = [](std::vector<JoinChild> children) {
    return [children](JoinState& s, overlay::JoinRequest& r) {
      full(s);
      r.joiner.capacity = 0;
      s.children = children;
    };
  };
  run({
      {"room below beats home stripe", setup({child("a", 8, 0, true), child("b", 1, 1, false)}),
       forward_to_child("b")},
      {"home stripe beats more room", setup({child("a", 8, 5, false), child("b", 1, 1, true)}),
       forward_to_child("b")},
      {"more room beats capacity", setup({child("a", 1, 2), child("b", 9, 1)}),
       forward_to_child("a")},
      {"capacity breaks a tie", setup({child("a", 2, 1), child("b", 3, 1)}), forward_to_child("b")},
      {"then the lower RTT", setup({child("a", 2, 1, false, 500), child("b", 2, 1, false, 100)}),
       forward_to_child("b")},
      {"equal in all: the first", setup({child("a", 2, 1), child("b", 2, 1)}),
       forward_to_child("a")},
      {"never the joiner, a non-uploader or a silent child",
       setup({child("joiner", 9, 9), child("z", 0, 9), child("stale", 9, 9, true, 1, false),
              child("ok", 1, 1)}),
       forward_to_child("ok")},
      {"a full child while the request is young",
       [](auto& s, auto& r) {
         full(s);
         r.joiner.capacity = 0;
         r.hops = 7;
         s.children = {child("a", 2, 0)};
       },
       forward_to_child("a")},
      {"a full child once it is old: refuse (not at hop 0, so not the root)",
       [](auto& s, auto& r) {
         full(s);
         r.joiner.capacity = 0;
         r.hops = 8;
         s.children = {child("a", 2, 0)};
       },
       refuse(JoinRefusal::kNoRoomInSubtree)},
      {"a child with room at any hop count",
       [](auto& s, auto& r) {
         full(s);
         r.joiner.capacity = 0;
         r.hops = 15;
         s.children = {child("a", 2, 1)};
       },
       forward_to_child("a")},
      {"nobody below, a direct join: let the root place it",
       [](auto& s, auto& r) {
         full(s);
         r.joiner.capacity = 0;
       },
       forward_to_root()},
      {"nobody below, routed here: refuse",
       [](auto& s, auto& r) {
         full(s);
         r.joiner.capacity = 0;
         r.hops = 1;
       },
       refuse(JoinRefusal::kNoRoomInSubtree)},
      {"the source never sends to a root",
       [](auto& s, auto& r) {
         full(s);
         s.is_source = true;
         s.path.clear();
         r.joiner.capacity = 0;
       },
       refuse(JoinRefusal::kNoRoomInSubtree)},
  });
}

TEST(DecideJoin, PlacesNewcomersFromTheRoot) {
  auto from_root = [](JoinState& s) { s.place_from_root = true; };
  run({
      {"newcomer in the home stripe: to the root", [&](auto& s, auto&) { from_root(s); },
       to_root_first()},
      {"an orphan is adopted here (fast repair)",
       [&](auto& s, auto& r) {
         from_root(s);
         r.resume = true;
       },
       adopt()},
      {"routed here by the root: adopt",
       [&](auto& s, auto& r) {
         from_root(s);
         r.hops = 1;
       },
       adopt()},
      {"the source places it itself",
       [&](auto& s, auto&) {
         from_root(s);
         s.is_source = true;
         s.path.clear();
         s.root_id_valid = false;
       },
       adopt()},
  });
}

TEST(DecideJoin, ForwardsToTheShallowestRoom) {
  auto setup = [](std::vector<JoinChild> children) {
    return [children](JoinState& s, overlay::JoinRequest& r) {
      full(s);
      r.joiner.capacity = 0;
      r.hops = 1;
      s.children = children;
    };
  };
  auto with_depth = [](JoinChild c, std::uint32_t depth) {
    c.room_depth = depth;
    return c;
  };
  run({
      {"room one level down beats more room three levels down",
       setup({with_depth(child("deep", 8, 9, true), 3), with_depth(child("near", 2, 1), 1)}),
       forward_to_child("near")},
      {"a known depth beats an unknown one",
       setup({child("unknown", 8, 9, true), with_depth(child("known", 2, 1), 2)}),
       forward_to_child("known")},
      {"equal depth: home stripe, then spare",
       setup({with_depth(child("a", 8, 5), 2), with_depth(child("b", 2, 1, true), 2)}),
       forward_to_child("b")},
  });
}

TEST(DecideJoin, NoSlackForNewcomersWhenAdmissionProtectsViewers) {
  auto strict = [](JoinState& s) {
    full(s);
    s.slack_for_newcomers = false;
    s.is_source = true;
    s.path.clear();
    s.root_id_valid = false;
  };
  run({
      {"an uploading newcomer at a full source with nothing below: refused",
       [&](auto& s, auto& r) {
         strict(s);
         r.hops = 1;
       },
       refuse(JoinRefusal::kNoRoomInSubtree)},
      {"an orphan still gets slack",
       [&](auto& s, auto& r) {
         strict(s);
         r.resume = true;
       },
       over_budget()},
  });
}

// Nobody can dial a node behind a NAT: it feeds joiners it can dial itself
// (connection reversal) and joiners that punch through to it with its
// parent's help (hole punching); a joiner with no address goes to a child
// nobody can dial only through a node it can dial (which introduces them).
TEST(JoinDecision, ConnectionReversalNeedsOneSideToBeDialable) {
  auto behind_nat = [](JoinState& st) { st.dialable = false; };
  auto joiner_listens = [](overlay::JoinRequest& req) { req.joiner.addr = "10.0.0.9:7000"; };
  auto natted_child = [](std::string id, std::uint32_t spare) {
    JoinChild c = child(std::move(id), 4, spare, true);
    c.dialable = false;
    return c;
  };
  run({
      {"an undialable node adopts a joiner it can dial",
       [&](JoinState& st, overlay::JoinRequest& req) {
         behind_nat(st);
         joiner_listens(req);
       },
       adopt()},
      {"an undialable node does not adopt a joiner without an address",
       [&](JoinState& st, overlay::JoinRequest& req) {
         behind_nat(st);
         st.children = {child("c1", 4, 2, true)};
       },
       forward_to_child("c1")},
      {"nor lends it slack; with nobody below it sends it to the root",
       [&](JoinState& st, overlay::JoinRequest& req) { behind_nat(st); }, forward_to_root()},
      {"nor chokes a child for it",
       [&](JoinState& st, overlay::JoinRequest& req) {
         behind_nat(st);
         st.used_slots = 4;
         st.children = {child("leaf", 0, 0), child("c1", 4, 1, true)};
       },
       forward_to_child("c1")},
      {"an address-less joiner prefers a dialable child to an undialable one with more room",
       [&](JoinState& st, overlay::JoinRequest& req) {
         st.used_slots = 4;
         st.children = {natted_child("nat", 4), child("c1", 4, 1, true)};
       },
       forward_to_child("c1")},
      {"an address-less newcomer whose only room is behind a NAT goes there (it punches through "
       "with this node's help)",
       [&](JoinState& st, overlay::JoinRequest& req) {
         st.used_slots = 4;
         st.children = {natted_child("nat", 4), child("c1", 4, 0, true), child("leaf", 2, 0)};
       },
       forward_to_child("nat")},
      {"an orphan too",
       [&](JoinState& st, overlay::JoinRequest& req) {
         req.resume = true;
         st.used_slots = 4;
         st.children = {natted_child("nat", 4), child("c1", 4, 0, true), child("leaf", 2, 0)};
       },
       forward_to_child("nat")},
      {"but not from a node behind a NAT itself: the joiner could not reach it to be introduced",
       [&](JoinState& st, overlay::JoinRequest& req) {
         behind_nat(st);
         st.used_slots = 4;
         st.children = {natted_child("nat", 4), child("c1", 4, 1, true)};
       },
       forward_to_child("c1")},
      {"an undialable node adopts an address-less joiner that can punch through to it",
       [&](JoinState& st, overlay::JoinRequest& req) {
         behind_nat(st);
         st.punchable = true;
       },
       adopt()},
      {"and lends it slack",
       [&](JoinState& st, overlay::JoinRequest& req) {
         behind_nat(st);
         st.punchable = true;
         st.used_slots = 4;
         req.resume = true;
       },
       over_budget()},
      {"a joiner with an address may go to the undialable child",
       [&](JoinState& st, overlay::JoinRequest& req) {
         joiner_listens(req);
         st.used_slots = 4;
         st.children = {natted_child("nat", 4), child("c1", 4, 1, true)};
       },
       forward_to_child("nat")},
  });
}

}  // namespace
overlay::PeerInfo peer(std::string id, std::string addr) {
  overlay::PeerInfo p;
  p.id = std::move(id);
  p.addr = std::move(addr);
  return p;
}

// A node at depth 3 in stripe 0 (root r, grandparent g, parent p) that also
// has parents in stripes 1 (q, under r) and knows the --join node j.
RepairView orphan() {
  RepairView v;
  v.self_addr = "10.0.0.9:7000";
  v.parent = peer("vt1p", "10.0.0.3:7000");
  v.path = {peer("vt1r", "10.0.0.1:7000"), peer("vt1g", "10.0.0.2:7000"), *v.parent};
  v.bootstrap = {"10.0.0.5:7000", "10.0.0.3:7000"};
  v.stripes = {{v.parent, v.path},
               {peer("vt1q", "10.0.0.4:7000"), {peer("vt1r", "10.0.0.1:7000")}}};
  return v;
}

TEST(RepairCandidates, FirstTheNamedNodeThenAncestorsUpwardThenJoinNodes) {
  RepairView v = orphan();
  v.via = "10.0.0.7:7000";
  EXPECT_EQ(choose_repair_candidates(v, 0),
            (std::vector<std::string>{"10.0.0.7:7000", "10.0.0.2:7000", "10.0.0.1:7000",
                                      "10.0.0.5:7000"}));
}

TEST(RepairCandidates, LaterRoundsAddTheLostParentAndTheOtherStripesTrees) {
  EXPECT_EQ(choose_repair_candidates(orphan(), 1),
            (std::vector<std::string>{"10.0.0.3:7000", "10.0.0.2:7000", "10.0.0.1:7000",
                                      "10.0.0.5:7000", "10.0.0.4:7000"}));
}

TEST(RepairCandidates, SlowPeersWaitThreeRoundsAndThisNodeNeverAppears) {
  RepairView v = orphan();
  v.penalized = {"vt1g", "vt1q"};
  v.bootstrap.push_back(v.self_addr);
  EXPECT_EQ(choose_repair_candidates(v, 1),
            (std::vector<std::string>{"10.0.0.3:7000", "10.0.0.1:7000", "10.0.0.5:7000"}));
  auto late = choose_repair_candidates(v, 3);
  EXPECT_NE(std::find(late.begin(), late.end(), "10.0.0.2:7000"), late.end());
  EXPECT_NE(std::find(late.begin(), late.end(), "10.0.0.4:7000"), late.end());
  EXPECT_EQ(std::find(late.begin(), late.end(), v.self_addr), late.end());
}

TEST(RepairCandidates, AFirstJoinKnowsOnlyItsJoinNodesThenTheOtherStripes) {
  RepairView v;
  v.bootstrap = {"10.0.0.5:7000"};
  v.stripes = {{std::nullopt, {}},
               {peer("vt1q", "10.0.0.4:7000"), {peer("vt1r", "10.0.0.1:7000")}}};
  EXPECT_EQ(choose_repair_candidates(v, 0), (std::vector<std::string>{"10.0.0.5:7000"}));
  EXPECT_EQ(choose_repair_candidates(v, 1),
            (std::vector<std::string>{"10.0.0.5:7000", "10.0.0.4:7000", "10.0.0.1:7000"}));
}

// A relay with a budget of 4 in all stripes and 6 children: 3 in its home
// stripe 1, 2 in stripe 0 and 1 in stripe 2 (stop-gaps).
ShedView overloaded_relay() {
  ShedView v;
  v.congested = true;
  v.stripes = {{false, 4, {{"vt1a", 3, 2}, {"vt1b", 0, 0}}},
               {true, 4, {{"vt1h", 0, 0}, {"vt1i", 2, 0}, {"vt1j", 4, 5}}},
               {false, 4, {{"vt1z", 1, 0}}}};
  return v;
}

TEST(ShedVictim, NothingWhileTheUplinkIsNotFull) {
  ShedView v = overloaded_relay();
  v.congested = false;
  EXPECT_EQ(choose_shed_victim(v), std::nullopt);
}

TEST(ShedVictim, NothingWhileTheChildrenFitTheBudget) {
  ShedView v = overloaded_relay();
  for (auto& s : v.stripes) s.budget = 6;
  EXPECT_EQ(choose_shed_victim(v), std::nullopt);
}

TEST(ShedVictim, AStopGapChildGoesBeforeAnyOfTheHomeStripe) {
  // The home stripe holds a child that uploads nothing, but the stop-gap
  // children of stripes 0 and 2 go first, the one uploading nothing first.
  EXPECT_EQ(choose_shed_victim(overloaded_relay()), (ShedChoice{0, "vt1b"}));
  ShedView v = overloaded_relay();
  v.stripes[0].children = {{"vt1a", 3, 2}};
  EXPECT_EQ(choose_shed_victim(v), (ShedChoice{2, "vt1z"}));
}

TEST(ShedVictim, InTheHomeStripeTheChildThatUploadsNothingThenTheLeastRoomBelow) {
  ShedView v = overloaded_relay();
  v.stripes[0].children.clear();
  v.stripes[2].children.clear();
  v.stripes[1].children.push_back({"vt1k", 1, 0});
  for (auto& s : v.stripes) s.budget = 3;
  EXPECT_EQ(choose_shed_victim(v), (ShedChoice{1, "vt1h"}));
  v.stripes[1].children = {{"vt1i", 2, 3}, {"vt1j", 4, 1}, {"vt1k", 1, 2}, {"vt1l", 1, 4}};
  EXPECT_EQ(choose_shed_victim(v), (ShedChoice{1, "vt1j"}));
}

TEST(ShedVictim, TheSourceShedsInTheFirstStripeOverItsOwnBudget) {
  ShedView v;
  v.is_source = true;
  v.congested = true;
  v.stripes = {{true, 2, {{"vt1a", 0, 0}, {"vt1b", 3, 0}}},
               {true, 1, {{"vt1c", 3, 0}, {"vt1d", 5, 1}}},
               {true, 1, {{"vt1e", 0, 0}, {"vt1f", 1, 0}}}};
  // Stripe 0 holds 2 of 2; stripe 1 is the first over its budget, although
  // stripe 2 holds a child that uploads nothing.
  EXPECT_EQ(choose_shed_victim(v), (ShedChoice{1, "vt1c"}));
}

TEST(HomeStripe, TheStripeWhoseForwardersHaveTheFewestSlots) {
  // Free room is the same in every stripe (a relay's one budget shows in
  // all its stripes); what differs is who forwards where.
  EXPECT_EQ(choose_home_stripe(4, 0, {20, 6, 14, 6}, {9, 9, 9, 9}), 1u);
  EXPECT_EQ(choose_home_stripe(4, 2, {20, 6, 14, 6}, {9, 9, 9, 9}), 3u);
}

TEST(HomeStripe, TiesGoToTheLeastRoomThenToTheKeysStripe) {
  EXPECT_EQ(choose_home_stripe(4, 0, {8, 8, 8, 8}, {3, 2, 5, 2}), 1u);
  EXPECT_EQ(choose_home_stripe(4, 2, {8, 8, 8, 8}, {3, 2, 5, 2}), 3u);
  EXPECT_EQ(choose_home_stripe(4, 3, {8, 8, 8, 8}, {4, 4, 4, 4}), 3u);
}

TEST(HomeStripe, WhatIsNotKnownDoesNotCount) {
  // An older node reports no interior capacity: free room decides.
  EXPECT_EQ(choose_home_stripe(4, 0, {}, {3, 2, 5, 1}), 3u);
  EXPECT_EQ(choose_home_stripe(4, 1, {}, {}), 1u);
  EXPECT_EQ(choose_home_stripe(4, 6, {1, 2}, {}), 2u);
  EXPECT_EQ(choose_home_stripe(0, 3, {}, {}), 0u);
}

TEST(HomeMove, ToTheStripeShortOfForwardersWhenThatNarrowsTheGap) {
  // The lab's honest run: stripe 3's forwarders had 8 Mbit/s of uplink,
  // stripe 2's 14. A node with 4 slots at home in stripe 2 (28 slots)
  // moves to stripe 3 (16): 24 and 20 after the move.
  EXPECT_EQ(choose_home_move(2, 4, {24, 20, 28, 16}), 3u);
  // Its home is not the richest: it still narrows the gap with the poorest.
  EXPECT_EQ(choose_home_move(0, 4, {26, 20, 28, 16}), 3u);
}

TEST(HomeMove, NotWhenTheMoveWouldTipTheBalanceTheOtherWay) {
  // 9 slots from 28 to 16 would leave 19 against 25: worse than before.
  EXPECT_EQ(choose_home_move(2, 9, {24, 20, 28, 16}), std::nullopt);
  // Exactly even after the move is still a move (24, 24).
  EXPECT_EQ(choose_home_move(0, 4, {28, 30, 30, 20}), 3u);
}

TEST(HomeMove, NotForSmallDifferencesNorWhereNothingIsKnown) {
  // 17 of 20 is more than 80 %: not worth the churn, though 1 slot fits.
  EXPECT_EQ(choose_home_move(0, 1, {20, 18, 19, 17}), std::nullopt);
  EXPECT_EQ(choose_home_move(0, 1, {20, 18, 19, 16}), 3u);
  // Already at home in the poorest stripe.
  EXPECT_EQ(choose_home_move(3, 2, {20, 18, 19, 4}), std::nullopt);
  // A node with no slots forwards nothing anywhere.
  EXPECT_EQ(choose_home_move(0, 0, {20, 18, 19, 4}), std::nullopt);
  // Totals not known yet, or for another number of stripes.
  EXPECT_EQ(choose_home_move(0, 2, {}), std::nullopt);
  EXPECT_EQ(choose_home_move(3, 2, {20, 4}), std::nullopt);
}

}  // namespace vt
