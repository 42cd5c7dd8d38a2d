// JSON values <-> wire bytes for any IDL type, driven by the JSON descriptors
// peers-idlc writes (--lang json), so tools can call methods and show values
// without generated code.
//
// The bytes are exactly what the generated C++ encoder writes for the same
// value, and decoding follows the generated decoder's rules and error
// messages (unknown fields skipped, kinds checked, strings UTF-8, counts
// bounded, nesting limited to 64). The JSON form of a value:
//   bool            true / false
//   i8 .. u64       a JSON integer (u64 and i64 in full range; no floats, no strings)
//   f64             a JSON number, or "NaN", "Infinity", "-Infinity"
//   string          a JSON string
//   bytes, bytes<N> lowercase hex ("00ff"); either case is accepted
//   list<T>         an array
//   optional<T>     the value, or null (also: the field left out) when absent
//   map<K, V>       an object; keys are decimal integers, strings or hex bytes
//   enum            the value's name ("RELAY"); a number for a value the
//                   descriptor does not name (accepted on input too)
//   struct, error   an object keyed by field name; input may leave fields out
//                   (they take their defaults) but may not name unknown ones;
//                   output lists every field
//   void            {} (null is accepted on input)
//
//   auto d = peers::idl::Descriptors::load(nlohmann::json::parse(text));
//   auto bytes = d->json_to_wire("vt.overlay.JoinRequest", {{"stripe", 3}});
//   auto value = d->wire_to_json("vt.overlay.JoinReply", reply_bytes);
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/kernel/error.h"

namespace peers::idl {

// A set of loaded descriptors. Once loaded it is only read: its const
// methods may be called from any thread at once.
class Descriptors {
 public:
  struct Method {
    std::string name;
    std::uint32_t id = 0;
    std::string request;                  // a full struct name or "void"
    std::optional<std::string> response;  // a full struct name, "void", or none (oneway)
    bool oneway = false;
    bool data = false;
    std::vector<std::string> throws;  // full error names
    std::string doc;
  };

  Descriptors();
  ~Descriptors();
  Descriptors(Descriptors&&) noexcept;
  Descriptors& operator=(Descriptors&&) noexcept;

  // One descriptor document, or an array of them (a library and its imports).
  // A malformed descriptor is an Error with code kInvalidArgument.
  static Result<Descriptors> load(const nlohmann::json& docs);
  // Adds one more document; a type declared again replaces the earlier one.
  Result<void> add(const nlohmann::json& doc);

  // Whether `full_name` is a struct or error ("void" counts as one).
  bool has_message(std::string_view full_name) const;
  // The method of an interface ("vt.overlay.Overlay", "join"); null if none.
  const Method* method(std::string_view interface_name, std::string_view method_name) const;

  // Encodes a JSON value of struct or error `type` (or "void"). Errors in the
  // value have code kInvalidArgument and say where: "at seqs[2]: expected an
  // unsigned integer, got string".
  Result<std::string> json_to_wire(std::string_view type, const nlohmann::json& value) const;
  // Decodes a body of struct or error `type` (or "void"). Malformed bytes give
  // code kProtocol with the generated decoder's message.
  Result<nlohmann::json> wire_to_json(std::string_view type, std::string_view bytes) const;

  // The loaded types (defined in json_codec.cc).
  struct Tables;

 private:
  std::unique_ptr<Tables> t_;
};

// One-shot forms: load `descriptors` (as Descriptors::load) and transcode.
Result<std::string> json_to_wire(const nlohmann::json& descriptors, std::string_view type,
                                 const nlohmann::json& value);
Result<nlohmann::json> wire_to_json(const nlohmann::json& descriptors, std::string_view type,
                                    std::string_view bytes);

}  // namespace peers::idl
