#include "lib/inspect/format.h"

#include <cstdio>

#include "lib/inspect/catalog.h"
#include "lib/inspect/topology.h"
#include "lib/kernel/log.h"
#include "lib/kernel/units.h"

namespace vt {

namespace {

std::string neighbor_text(const inspect::Neighbor& n) {
  std::string s = short_peer(n.id) + " " + (n.addr.empty() ? std::string("-") : n.addr);
  if (n.rtt_us) s += " rtt=" + peers::format_millis(*n.rtt_us / 1000.0);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string seconds_text(std::uint64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", ms / 1000.0);
  return buf;
}

}  // namespace

std::string status_text(const inspect::NodeStatus& st) {
  std::string out;
  auto line = [&](const std::string& key, const std::string& value) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%-10s ", key.c_str());
    out += buf + value + "\n";
  };
  line("peer", st.id);
  line("role", lower(overlay::to_string(st.role)) + " (" + st.tool + " " + st.version + "), up " +
                   seconds_text(st.uptime_ms));
  line("addr", st.addr.empty() ? "-" : st.addr);
  line("stream", (st.stream_id.empty() ? std::string("?") : st.stream_id) + ", " +
                     std::to_string(st.stripe_count) + " stripes, history " +
                     seconds_text(st.history_ms));
  line("rates", "in " + peers::format_bit_rate(st.rate_in_bps) + ", out " +
                    peers::format_bit_rate(st.rate_out_bps));
  line("chunks", "in " + std::to_string(st.chunks_in) + ", out " + std::to_string(st.chunks_out) +
                     ", duplicates " + std::to_string(st.duplicates) + ", rejected " +
                     std::to_string(st.rejected) + ", gaps " + std::to_string(st.gaps));
  line("capacity", std::to_string(st.capacity) + " children");
  for (const auto& s : st.stripes) {
    std::string head = s.interior ? "interior" : "leaf";
    head += ", parent ";
    if (s.parent) {
      head += neighbor_text(*s.parent);
    } else {
      head += st.role == overlay::Role::kSource ? "- (root)" : "none";
    }
    if (s.repairing) head += " [repairing]";
    line("stripe " + std::to_string(s.stripe), head);
    std::string more = "last_seq " + (s.last_seq ? std::to_string(*s.last_seq) : std::string("-")) +
                       ", repairs " + std::to_string(s.repairs) + ", gaps " +
                       std::to_string(s.gaps) + ", history " + std::to_string(s.history_chunks) +
                       " chunks";
    line("", more);
    if (!s.path.empty()) {
      std::string path;
      for (const auto& p : s.path) path += (path.empty() ? "" : " > ") + short_peer(p.id);
      line("", "path " + path);
    }
    line("", "children " + std::to_string(s.children.size()));
    for (const auto& c : s.children) line("", "  " + neighbor_text(c));
  }
  return out;
}

nlohmann::json status_json(const inspect::NodeStatus& st) {
  auto j =
      Catalog::builtin().descriptors().wire_to_json(inspect::NodeStatus::kTypeName, st.encode());
  return j ? *j : nlohmann::json(nullptr);
}

nlohmann::ordered_json event_json(const std::string& node_id, const inspect::Event& e) {
  nlohmann::ordered_json data = nlohmann::ordered_json::object();
  data["node"] = node_id;
  data["seq"] = e.seq;
  if (e.stripe) data["stripe"] = *e.stripe;
  for (const auto& [k, v] : e.fields) {
    // A field whose text is a number is a JSON number, as in the logs.
    if (!data.contains(k)) {
      data[k] =
          peers::is_json_number(v) ? nlohmann::ordered_json::parse(v) : nlohmann::ordered_json(v);
    }
  }
  nlohmann::ordered_json line = nlohmann::ordered_json::object();
  line["event"] = e.kind;
  line["time"] = e.time;
  line["data"] = std::move(data);
  return line;
}

}  // namespace vt
