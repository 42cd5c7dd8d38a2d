#include "lib/inspect/topology.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <tuple>

#include "lib/crypto/peer_id.h"
#include "lib/kernel/units.h"

namespace vt {

namespace {

// A status is what a node claims: stripe numbers beyond any real stream are
// ignored rather than allocated for.
constexpr std::uint32_t kMaxStripes = 256;

int role_rank(overlay::Role role) {
  switch (role) {
    case overlay::Role::kSource:
      return 0;
    case overlay::Role::kRelay:
      return 1;
    case overlay::Role::kSink:
      return 2;
    default:
      return 3;
  }
}

std::string role_word(overlay::Role role) {
  switch (role) {
    case overlay::Role::kSource:
      return "source";
    case overlay::Role::kRelay:
      return "relay";
    case overlay::Role::kSink:
      return "sink";
    default:
      return "node";
  }
}

std::string dot_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string short_peer(const std::string& id) {
  auto parsed = peers::PeerId::parse(id);
  return parsed ? parsed->short_id() : id.substr(0, 11);
}

Topology::Topology(std::vector<CrawledNode> nodes) : nodes_(std::move(nodes)) {
  // What every node's neighbours say about it: its role and address.
  auto learn = [&](const inspect::Neighbor& n) {
    auto& i = info_[n.id];
    if (i.role == overlay::Role::kUnknown) i.role = n.role;
    if (i.addr.empty()) i.addr = n.addr;
  };
  for (const auto& n : nodes_) {
    if (!n.status) continue;
    if (n.status->stripe_count <= kMaxStripes) k_ = std::max(k_, n.status->stripe_count);
    if (stream_id_.empty()) stream_id_ = n.status->stream_id;
    for (const auto& s : n.status->stripes) {
      if (s.stripe >= kMaxStripes) continue;
      k_ = std::max(k_, s.stripe + 1);
      if (s.parent) learn(*s.parent);
      for (const auto& c : s.children) learn(c);
    }
  }
  for (const auto& n : nodes_) {
    if (n.id.empty()) continue;
    auto& i = info_[n.id];
    if (n.status) i.role = n.status->role;
    if (!n.addr.empty()) i.addr = n.addr;
  }
  std::sort(nodes_.begin(), nodes_.end(), [&](const CrawledNode& a, const CrawledNode& b) {
    auto key = [&](const CrawledNode& n) {
      auto it = info_.find(n.id);
      int rank = n.id.empty()
                     ? 4
                     : role_rank(it == info_.end() ? overlay::Role::kUnknown : it->second.role);
      return std::tuple(rank, n.id, n.addr);
    };
    return key(a) < key(b);
  });
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i].id.empty()) by_id_.emplace(nodes_[i].id, i);
  }

  links_.resize(k_);
  members_.resize(k_);
  loops_.resize(k_);
  // A node that answered says who its parent is; for one that did not, its
  // parent's list of children is all there is.
  for (const auto& n : nodes_) {
    if (!n.status) continue;
    for (const auto& s : n.status->stripes) {
      if (s.stripe >= k_) continue;
      members_[s.stripe].insert(n.id);
      if (s.parent) {
        links_[s.stripe][n.id] = Link{s.parent->id, s.parent->rtt_us, true};
        members_[s.stripe].insert(s.parent->id);
      }
      for (const auto& c : s.children) members_[s.stripe].insert(c.id);
    }
  }
  for (const auto& n : nodes_) {
    if (!n.status) continue;
    for (const auto& s : n.status->stripes) {
      if (s.stripe >= k_) continue;
      for (const auto& c : s.children) {
        auto* child = find(c.id);
        if (child && child->status) continue;
        auto& links = links_[s.stripe];
        auto it = links.find(c.id);
        // Two parents claiming one silent child: the first in id order wins.
        if (it == links.end()) links[c.id] = Link{n.id, c.rtt_us, false};
      }
    }
  }

  // Each node's children in output order (nodes_ is sorted; ids nobody can
  // describe come last, in id order), computed once: renderings ask for them
  // per node, and a walk may bring thousands of nodes.
  children_.resize(k_);
  for (std::uint32_t s = 0; s < k_; ++s) {
    for (const auto& n : nodes_) {
      if (n.id.empty()) continue;
      auto it = links_[s].find(n.id);
      if (it != links_[s].end()) children_[s][it->second.parent].push_back(n.id);
    }
    for (const auto& [child, link] : links_[s]) {
      if (!find(child)) children_[s][link.parent].push_back(child);
    }
  }

  // Loops: walk up from every node; a walk that meets itself is a cycle.
  for (std::uint32_t s = 0; s < k_; ++s) {
    std::set<std::string> done;
    for (const auto& start : members_[s]) {
      std::vector<std::string> walk;
      std::set<std::string> on_walk;
      std::string at = start;
      while (!at.empty() && !done.count(at)) {
        if (on_walk.count(at)) {
          auto seen = std::find(walk.begin(), walk.end(), at);
          for (auto it = seen; it != walk.end(); ++it) loops_[s].insert(*it);
          break;
        }
        walk.push_back(at);
        on_walk.insert(at);
        at = parent_of(s, at);
      }
      done.insert(walk.begin(), walk.end());
    }
  }
}

const CrawledNode* Topology::find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &nodes_[it->second];
}

const inspect::StripeStatus* Topology::stripe_of(const CrawledNode& n, std::uint32_t stripe) const {
  if (!n.status) return nullptr;
  for (const auto& s : n.status->stripes) {
    if (s.stripe == stripe) return &s;
  }
  return nullptr;
}

std::string Topology::parent_of(std::uint32_t stripe, const std::string& id) const {
  if (stripe >= k_) return "";
  auto it = links_[stripe].find(id);
  return it == links_[stripe].end() ? "" : it->second.parent;
}

bool Topology::in_stripe(std::uint32_t stripe, const std::string& id) const {
  return stripe < k_ && members_[stripe].count(id);
}

const std::vector<std::string>& Topology::children_of(std::uint32_t stripe,
                                                      const std::string& id) const {
  static const std::vector<std::string> kNone;
  auto it = children_[stripe].find(id);
  return it == children_[stripe].end() ? kNone : it->second;
}

std::vector<std::string> Topology::roots_of(std::uint32_t stripe) const {
  std::vector<std::string> ordered;
  for (const auto& n : nodes_) {
    if (in_stripe(stripe, n.id)) ordered.push_back(n.id);
  }
  for (const auto& id : members_[stripe]) {
    if (!find(id)) ordered.push_back(id);
  }
  std::vector<std::string> roots;
  for (const auto& id : ordered) {
    std::string p = parent_of(stripe, id);
    if (p.empty() || !in_stripe(stripe, p)) roots.push_back(id);
  }
  // A loop has no root: draw it from its first member in output order.
  std::set<std::string> covered;
  std::function<void(const std::string&)> cover = [&](const std::string& id) {
    if (!covered.insert(id).second) return;
    for (const auto& c : children_of(stripe, id)) cover(c);
  };
  for (const auto& r : roots) cover(r);
  for (const auto& id : ordered) {
    if (!covered.count(id) && loops_[stripe].count(id)) {
      roots.push_back(id);
      cover(id);
    }
  }
  return roots;
}

std::string Topology::label(std::uint32_t stripe, const std::string& id) const {
  const CrawledNode* n = find(id);
  auto info = info_.count(id) ? info_.at(id) : Info{};
  std::string out = short_peer(id) + " " + role_word(info.role);
  out += " " + (info.addr.empty() ? std::string("-") : info.addr);
  if (n && n->status) {
    const auto& st = *n->status;
    bool sends = st.role != overlay::Role::kSink;
    if (!sends) {
      for (const auto& s : st.stripes) sends |= !s.children.empty();
    }
    if (st.role != overlay::Role::kSource)
      out += " rate_in=" + peers::format_bit_rate(st.rate_in_bps);
    if (sends) out += " rate_out=" + peers::format_bit_rate(st.rate_out_bps);
  }
  if (stripe < k_) {
    auto it = links_[stripe].find(id);
    if (it != links_[stripe].end()) {
      out += " rtt=" + (it->second.rtt_us ? peers::format_millis(*it->second.rtt_us / 1000.0)
                                          : std::string("-"));
    }
  }
  if (n && n->status) {
    if (const auto* s = stripe_of(*n, stripe)) {
      out += " gaps=" + std::to_string(s->gaps);
      if (s->repairing) out += " [repairing]";
    }
  }
  if (n && !n->status) out += " [" + n->problem + "]";
  if (!n) out += " [not_visited]";
  if (stripe < k_ && loops_[stripe].count(id)) out += " [loop]";
  return out;
}

void Topology::draw(std::uint32_t stripe, const std::string& id, const std::string& prefix,
                    bool root, bool last, const TextOptions& o, std::set<std::string>& drawn,
                    std::string& out) const {
  const char* branch = o.ascii ? (last ? "`-- " : "|-- ") : (last ? "└── " : "├── ");
  const char* pipe = o.ascii ? (last ? "    " : "|   ") : (last ? "    " : "│   ");
  out += prefix + (root ? "" : branch);
  if (!drawn.insert(id).second) {
    out += short_peer(id) + (o.ascii ? " ^ loop\n" : " ↺ loop\n");
    return;
  }
  out += label(stripe, id) + "\n";
  std::string inner = prefix + (root ? "" : pipe);
  const auto& kids = children_of(stripe, id);
  for (std::size_t i = 0; i < kids.size(); ++i) {
    draw(stripe, kids[i], inner, false, i + 1 == kids.size(), o, drawn, out);
  }
}

std::optional<std::size_t> Topology::depth(std::uint32_t stripe, const std::string& id) const {
  if (!in_stripe(stripe, id) || loops_[stripe].count(id)) return std::nullopt;
  std::string at = id;
  for (std::size_t hops = 0; hops <= nodes_.size() + info_.size(); ++hops) {
    std::string parent = parent_of(stripe, at);
    if (parent.empty()) {
      auto it = info_.find(at);
      bool source = it != info_.end() && it->second.role == overlay::Role::kSource;
      return source ? std::optional<std::size_t>(hops) : std::nullopt;
    }
    at = parent;
  }
  return std::nullopt;
}

TopologyTotals Topology::totals() const {
  TopologyTotals t;
  t.nodes = nodes_.size();
  for (const auto& n : nodes_) {
    t.did_not_answer += n.status ? 0 : 1;
    auto it = info_.find(n.id);
    switch (it == info_.end() ? overlay::Role::kUnknown : it->second.role) {
      case overlay::Role::kSource:
        ++t.sources;
        break;
      case overlay::Role::kRelay:
        ++t.relays;
        break;
      case overlay::Role::kSink:
        ++t.viewers;
        break;
      default:
        ++t.unknown;
    }
    for (std::uint32_t s = 0; s < k_; ++s)
      t.max_depth = std::max(t.max_depth, depth(s, n.id).value_or(0));
  }
  return t;
}

std::string Topology::header() const {
  TopologyTotals t = totals();
  auto count = [](std::size_t n, const std::string& one, const std::string& many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  std::string out = "stream " + (stream_id_.empty() ? std::string("?") : short_peer(stream_id_)) +
                    ": " + count(k_, "stripe", "stripes") + ", " + count(t.nodes, "node", "nodes");
  std::vector<std::string> parts;
  if (t.sources) parts.push_back(count(t.sources, "source", "sources"));
  if (t.relays) parts.push_back(count(t.relays, "relay", "relays"));
  if (t.viewers) parts.push_back(count(t.viewers, "viewer", "viewers"));
  if (t.unknown) parts.push_back(count(t.unknown, "unknown", "unknown"));
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : ": ") + parts[i];
  out += ", max depth " + std::to_string(t.max_depth);
  if (t.did_not_answer) out += " (" + std::to_string(t.did_not_answer) + " did not answer)";
  return out + "\n";
}

std::string Topology::nodes_text() const {
  std::vector<std::vector<std::string>> rows = {
      {"id", "role", "addr", "depth", "rate_in", "rate_out", "children", "behind_live", "gaps"}};
  for (const auto& n : nodes_) {
    auto info = info_.count(n.id) ? info_.at(n.id) : Info{};
    std::string depths;
    for (std::uint32_t s = 0; s < k_; ++s) {
      auto d = depth(s, n.id);
      depths += (s ? "," : "") + (d ? std::to_string(*d) : std::string("-"));
    }
    std::vector<std::string> row = {n.id.empty() ? std::string("-") : short_peer(n.id),
                                    role_word(info.role),
                                    n.addr.empty() ? (info.addr.empty() ? "-" : info.addr) : n.addr,
                                    depths.empty() ? "-" : depths};
    if (n.status) {
      const auto& st = *n.status;
      std::size_t children = 0;
      for (const auto& s : st.stripes) children += s.children.size();
      row.push_back(st.role == overlay::Role::kSource ? "-"
                                                      : peers::format_bit_rate(st.rate_in_bps));
      row.push_back(peers::format_bit_rate(st.rate_out_bps));
      row.push_back(std::to_string(children));
      row.push_back(st.role == overlay::Role::kSource || !st.behind_live_ms
                        ? "-"
                        : peers::format_millis(static_cast<double>(*st.behind_live_ms)));
      row.push_back(st.role == overlay::Role::kSink ? std::to_string(st.gaps) : "-");
    } else {
      for (int i = 0; i < 5; ++i) row.push_back("-");
      row.back() = "- [" + (n.problem.empty() ? std::string("not_visited") : n.problem) + "]";
    }
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out = header();
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string Topology::text(const TextOptions& o) const {
  std::string out = header();
  for (std::uint32_t s = 0; s < k_; ++s) {
    out += "stripe " + std::to_string(s) + "\n";
    std::set<std::string> drawn;
    for (const auto& r : roots_of(s)) draw(s, r, "  ", true, true, o, drawn, out);
  }
  // Nodes that take part in no stripe (a seed that did not answer, ...).
  std::string others;
  for (const auto& n : nodes_) {
    bool member = false;
    for (std::uint32_t s = 0; s < k_ && !member; ++s) member = in_stripe(s, n.id);
    if (member) continue;
    others += "  " + (n.id.empty() ? std::string("") : short_peer(n.id) + " ") + n.addr;
    if (!n.status) others += " [" + n.problem + "] " + n.error;
    others += "\n";
  }
  if (!others.empty()) out += "outside the trees\n" + others;
  return out;
}

nlohmann::ordered_json Topology::json() const {
  using json = nlohmann::ordered_json;
  json nodes = json::array();
  auto add_node = [&](const std::string& id, const CrawledNode* n) {
    auto info = info_.count(id) ? info_.at(id) : Info{};
    json j;
    j["id"] = id.empty() ? json(nullptr) : json(id);
    j["short_id"] = id.empty() ? json(nullptr) : json(short_peer(id));
    j["addr"] = n && !n->addr.empty() ? n->addr : info.addr;
    j["role"] = std::string(overlay::to_string(info.role));
    j["reachable"] = n && n->status.has_value();
    j["problem"] = n ? (n->status ? json(nullptr) : json(n->problem)) : json("not_visited");
    j["error"] = n && !n->status && !n->error.empty() ? json(n->error) : json(nullptr);
    if (n && n->status) {
      const auto& st = *n->status;
      j["tool"] = st.tool;
      j["version"] = st.version;
      j["uptime_ms"] = st.uptime_ms;
      j["rate_in_bps"] = st.rate_in_bps;
      j["rate_out_bps"] = st.rate_out_bps;
      j["gaps"] = st.gaps;
      j["rejected"] = st.rejected;
    }
    json stripes = json::array();
    for (std::uint32_t s = 0; s < k_; ++s) {
      if (!in_stripe(s, id)) continue;
      json js;
      js["stripe"] = s;
      auto link = links_[s].find(id);
      bool has_link = link != links_[s].end();
      js["parent"] = has_link ? json(link->second.parent) : json(nullptr);
      js["rtt_us"] = has_link && link->second.rtt_us ? json(*link->second.rtt_us) : json(nullptr);
      js["reported_by"] = has_link && !link->second.reported_by_self ? "parent" : "self";
      js["children"] = children_of(s, id);
      js["loop"] = loops_[s].count(id) > 0;
      if (const auto* ss = n ? stripe_of(*n, s) : nullptr) {
        js["interior"] = ss->interior;
        js["gaps"] = ss->gaps;
        js["repairs"] = ss->repairs;
        js["repairing"] = ss->repairing;
        js["last_seq"] = ss->last_seq ? json(*ss->last_seq) : json(nullptr);
      }
      stripes.push_back(std::move(js));
    }
    j["stripes"] = std::move(stripes);
    nodes.push_back(std::move(j));
  };
  for (const auto& n : nodes_) add_node(n.id, &n);
  std::set<std::string> missing;
  for (std::uint32_t s = 0; s < k_; ++s) {
    for (const auto& id : members_[s]) {
      if (!find(id)) missing.insert(id);
    }
  }
  for (const auto& id : missing) add_node(id, nullptr);

  json loops = json::array();
  for (std::uint32_t s = 0; s < k_; ++s) {
    if (loops_[s].empty()) continue;
    loops.push_back(
        {{"stripe", s}, {"nodes", std::vector<std::string>(loops_[s].begin(), loops_[s].end())}});
  }
  TopologyTotals t = totals();
  json totals = {{"nodes", t.nodes},
                 {"sources", t.sources},
                 {"relays", t.relays},
                 {"viewers", t.viewers},
                 {"unknown", t.unknown},
                 {"max_depth", t.max_depth},
                 {"did_not_answer", t.did_not_answer}};
  return {{"stream_id", stream_id_.empty() ? json(nullptr) : json(stream_id_)},
          {"stripe_count", k_},
          {"totals", std::move(totals)},
          {"nodes", std::move(nodes)},
          {"loops", std::move(loops)}};
}

std::string Topology::dot() const {
  // The graph's label is the text header: stream, stripes, the totals.
  std::string heading = header();
  heading.pop_back();
  std::string out =
      "digraph overlay {\n"
      "  graph [rankdir=TB, fontname=\"monospace\", labelloc=t, label=" +
      dot_quote(heading) +
      "];\n"
      "  node [shape=box, fontname=\"monospace\", fontsize=10];\n"
      "  edge [fontname=\"monospace\", fontsize=9];\n";
  for (std::uint32_t s = 0; s < k_; ++s) {
    std::string prefix = std::to_string(s) + ":";
    out += "  subgraph cluster_" + std::to_string(s) + " {\n";
    out += "    label=" + dot_quote("stripe " + std::to_string(s)) + ";\n";
    std::vector<std::string> ids;
    for (const auto& n : nodes_) {
      if (in_stripe(s, n.id)) ids.push_back(n.id);
    }
    for (const auto& id : members_[s]) {
      if (!find(id)) ids.push_back(id);
    }
    for (const auto& id : ids) {
      const CrawledNode* n = find(id);
      auto info = info_.count(id) ? info_.at(id) : Info{};
      std::string text = short_peer(id) + "\n" + role_word(info.role) + " " + info.addr;
      std::string attrs;
      if (n && n->status) {
        text += "\nin " + peers::format_bit_rate(n->status->rate_in_bps) + " out " +
                peers::format_bit_rate(n->status->rate_out_bps);
      } else {
        text += "\n[" + (n ? n->problem : std::string("not_visited")) + "]";
        attrs = ", style=dashed, color=red, fontcolor=red";
      }
      if (loops_[s].count(id)) {
        text += "\n[loop]";
        attrs = ", color=red, fontcolor=red";
      }
      out += "    " + dot_quote(prefix + id) + " [label=" + dot_quote(text) + attrs + "];\n";
    }
    for (const auto& id : ids) {
      auto it = links_[s].find(id);
      if (it == links_[s].end() || !in_stripe(s, it->second.parent)) continue;
      const CrawledNode* n = find(id);
      std::string text;
      if (n && n->status && n->status->stripe_count > 0) {
        text = peers::format_bit_rate(n->status->rate_in_bps / n->status->stripe_count);
      }
      if (it->second.rtt_us) {
        text += (text.empty() ? "" : " ") + peers::format_millis(*it->second.rtt_us / 1000.0);
      }
      std::string attrs = "label=" + dot_quote(text);
      if (loops_[s].count(id) && loops_[s].count(it->second.parent)) attrs += ", color=red";
      out += "    " + dot_quote(prefix + it->second.parent) + " -> " + dot_quote(prefix + id) +
             " [" + attrs + "];\n";
    }
    out += "  }\n";
  }
  // Nodes outside every tree.
  for (const auto& n : nodes_) {
    bool member = false;
    for (std::uint32_t s = 0; s < k_ && !member; ++s) member = in_stripe(s, n.id);
    if (member) continue;
    std::string key = "other:" + (n.id.empty() ? n.addr : n.id);
    std::string text = (n.id.empty() ? std::string() : short_peer(n.id) + "\n") + n.addr;
    if (!n.status) text += "\n[" + n.problem + "]";
    out += "  " + dot_quote(key) + " [label=" + dot_quote(text) +
           ", style=dashed, color=red, fontcolor=red];\n";
  }
  out += "}\n";
  return out;
}

}  // namespace vt
