#include "lib/inspect/format.h"

#include <cstdio>
#include <vector>

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

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t at; (at = text.find(sep, start)) != std::string::npos; start = at + 1) {
    out.push_back(text.substr(start, at - start));
  }
  out.push_back(text.substr(start));
  return out;
}

}  // namespace

std::string mark_changes(const std::string& before, const std::string& now) {
  if (before.empty()) return now;
  static const std::string kOn = "\x1b[7m", kOff = "\x1b[0m";
  std::vector<std::string> old_lines = split(before, '\n');
  std::vector<std::string> lines = split(now, '\n');
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i) out += "\n";
    if (i >= old_lines.size()) {
      out += lines[i].empty() ? "" : kOn + lines[i] + kOff;
      continue;
    }
    // Words and the runs of spaces between them keep their places.
    std::vector<std::string> old_words = split(old_lines[i], ' ');
    std::vector<std::string> words = split(lines[i], ' ');
    for (std::size_t j = 0; j < words.size(); ++j) {
      if (j) out += " ";
      bool changed = j >= old_words.size() || old_words[j] != words[j];
      out += changed && !words[j].empty() ? kOn + words[j] + kOff : words[j];
    }
  }
  return out;
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
