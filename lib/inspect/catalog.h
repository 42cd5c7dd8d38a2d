// Catalog: the IDL interfaces vt-inspect knows, from the JSON descriptors
// peers-idlc writes (docs/idl.md), so `vt-inspect call` can encode the
// arguments of any method and decode its result without generated code.
//
// The builtin catalog holds the descriptors of proto/inspect.pidl and of the
// files it imports (proto/overlay.pidl), embedded in the binary at build time.
//
//   const vt::Catalog& cat = vt::Catalog::builtin();
//   auto m = cat.resolve("Overlay.stream");        // or "vt.overlay.Overlay.stream"
//   auto args = cat.descriptors().json_to_wire(m->method->request, json::object());
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "lib/idl/json_codec.h"
#include "lib/kernel/error.h"

namespace vt {

class Catalog {
 public:
  struct Interface {
    std::string full_name;  // "vt.overlay.Overlay"
    std::string doc;
    std::vector<const peers::idl::Descriptors::Method*> methods;  // in declaration order
  };
  struct Resolved {
    const Interface* interface = nullptr;
    const peers::idl::Descriptors::Method* method = nullptr;
    std::string full_name;  // "vt.overlay.Overlay.stream"
  };

  // Descriptor documents (JSON text), in any order. kInvalidArgument for a
  // malformed one.
  static peers::Result<Catalog> load(const std::vector<std::string_view>& documents);
  // The embedded descriptors; loaded once.
  static const Catalog& builtin();

  const peers::idl::Descriptors& descriptors() const { return descriptors_; }
  const std::vector<Interface>& interfaces() const { return interfaces_; }
  const Interface* find_interface(std::string_view full_name) const;

  // "Interface.method" with the interface's full name or its last part.
  // kNotFound (with the names that exist) when there is no such method,
  // kInvalidArgument when a short name fits several interfaces.
  peers::Result<Resolved> resolve(std::string_view name) const;

  // "join(vt.overlay.JoinRequest) -> vt.overlay.JoinReply throws vt.overlay.Full"
  static std::string signature(const peers::idl::Descriptors::Method& m);

 private:
  peers::idl::Descriptors descriptors_;
  std::vector<Interface> interfaces_;
};

// The descriptor documents compiled into this binary (embedded_descriptors.cc,
// generated from //proto:inspect_descriptor).
std::vector<std::string_view> embedded_descriptors();

}  // namespace vt
