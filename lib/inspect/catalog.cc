#include "lib/inspect/catalog.h"

#include <algorithm>

namespace vt {

using peers::Errc;
using peers::Error;

peers::Result<Catalog> Catalog::load(const std::vector<std::string_view>& documents) {
  Catalog c;
  for (auto text : documents) {
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded()) return Error(Errc::kInvalidArgument, "a descriptor is not JSON");
    auto added = c.descriptors_.add(doc);
    if (!added) return added.error();
    if (!doc.contains("interfaces") || !doc["interfaces"].is_array()) continue;
    for (const auto& i : doc["interfaces"]) {
      Interface in;
      in.full_name = i.value("full_name", "");
      in.doc = i.value("doc", "");
      c.interfaces_.push_back(std::move(in));
    }
  }
  // Methods point into descriptors_, which is complete only now.
  for (auto text : documents) {
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
    if (!doc.contains("interfaces") || !doc["interfaces"].is_array()) continue;
    for (const auto& i : doc["interfaces"]) {
      auto it = std::find_if(c.interfaces_.begin(), c.interfaces_.end(), [&](const Interface& x) {
        return x.full_name == i.value("full_name", "");
      });
      if (it == c.interfaces_.end() || !i.contains("methods")) continue;
      it->methods.clear();
      for (const auto& m : i["methods"]) {
        if (const auto* method = c.descriptors_.method(it->full_name, m.value("name", ""))) {
          it->methods.push_back(method);
        }
      }
    }
  }
  std::sort(c.interfaces_.begin(), c.interfaces_.end(),
            [](const Interface& a, const Interface& b) { return a.full_name < b.full_name; });
  return c;
}

const Catalog& Catalog::builtin() {
  static const Catalog catalog = Catalog::load(embedded_descriptors()).value();
  return catalog;
}

const Catalog::Interface* Catalog::find_interface(std::string_view full_name) const {
  for (const auto& i : interfaces_) {
    if (i.full_name == full_name) return &i;
  }
  return nullptr;
}

peers::Result<Catalog::Resolved> Catalog::resolve(std::string_view name) const {
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) {
    return Error(Errc::kInvalidArgument,
                 "'" + std::string(name) + "' is not Interface.method (e.g. Inspect.status)");
  }
  std::string_view iface = name.substr(0, dot), method = name.substr(dot + 1);
  std::vector<const Interface*> matches;
  for (const auto& i : interfaces_) {
    bool full = i.full_name == iface;
    bool tail = i.full_name.size() > iface.size() &&
                i.full_name.compare(i.full_name.size() - iface.size(), iface.size(), iface) == 0 &&
                i.full_name[i.full_name.size() - iface.size() - 1] == '.';
    if (full || tail) matches.push_back(&i);
  }
  std::string known;
  for (const auto& i : interfaces_) known += (known.empty() ? "" : ", ") + i.full_name;
  if (matches.empty()) {
    return Error(Errc::kNotFound,
                 "no interface '" + std::string(iface) + "' (known: " + known + ")");
  }
  if (matches.size() > 1) {
    return Error(Errc::kInvalidArgument,
                 "'" + std::string(iface) + "' is ambiguous; use the full name (" + known + ")");
  }
  for (const auto* m : matches[0]->methods) {
    if (m->name == method) return Resolved{matches[0], m, matches[0]->full_name + "." + m->name};
  }
  std::string methods;
  for (const auto* m : matches[0]->methods) methods += (methods.empty() ? "" : ", ") + m->name;
  return Error(Errc::kNotFound, matches[0]->full_name + " has no method '" + std::string(method) +
                                    "' (it has: " + methods + ")");
}

std::string Catalog::signature(const peers::idl::Descriptors::Method& m) {
  std::string s = (m.oneway ? "oneway " : "") + m.name + "(" + m.request + ")";
  if (m.response) s += " -> " + *m.response;
  if (m.data) s += " data";
  for (std::size_t i = 0; i < m.throws.size(); ++i) {
    s += (i == 0 ? " throws " : ", ") + m.throws[i];
  }
  return s;
}

}  // namespace vt
