// How vt-inspect shows one node's status and its events.
//
//   std::cout << vt::status_text(status);                  // for people
//   std::cout << vt::status_json(status).dump(2);          // IDL field names (docs/inspect.md)
//   std::cout << vt::event_json(node_id, event).dump() << "\n";  // a JSON line
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "proto/inspect.pidl.h"

namespace vt {

// A few aligned lines: identity, stream, rates, then one block per stripe.
std::string status_text(const inspect::NodeStatus& status);

// The status as JSON, every field under its IDL name (as `vt-inspect call
// HOST:PORT Inspect.status` prints it).
nlohmann::json status_json(const inspect::NodeStatus& status);

// {"event": kind, "time": seconds, "data": {"node": id, "seq": n,
// "stripe": s, ...fields}}: the JSON-lines shape every tool uses.
// Keys keep that order.
nlohmann::ordered_json event_json(const std::string& node_id, const inspect::Event& event);

// For --watch: `now` with every word that differs from the word at the same
// place (line, then word) in `before` shown in reverse video (ANSI), as
// `watch -d` does; lines that are new are marked whole. The first view
// (before empty) is returned as it is.
std::string mark_changes(const std::string& before, const std::string& now);

}  // namespace vt
