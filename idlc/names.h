// Name rules of the IDL and how IDL names become C++ names.
//
// IDL names follow one style per kind of thing, so that the C++ names made
// from them cannot collide with each other or with C++ itself:
//   packages     dotted lower_snake_case   vt.overlay      -> namespace vt::overlay
//   types        CamelCase                 PeerInfo        -> PeerInfo
//   fields       lower_snake_case          rtt_us          -> rtt_us
//   methods      lower_snake_case          get_peer        -> struct GetPeer
//   enum values  UPPER_SNAKE_CASE          NOT_READY       -> kNotReady
//
//   snake_to_camel("get_peer") == "GetPeer"
//   enum_constant("NOT_READY") == "kNotReady"
//   method_id("vt.overlay.Overlay.join") == FNV-1a 32 of the full name
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace peers::idl {

// [a-z][a-z0-9]*(_[a-z0-9]+)*: no leading, trailing or double underscore.
bool is_lower_snake(std::string_view s);
// [A-Z][A-Z0-9]*(_[A-Z0-9]+)*
bool is_upper_snake(std::string_view s);
// [A-Z][A-Za-z0-9]*
bool is_camel(std::string_view s);

// A C++20 keyword or alternative token ("class", "and", "co_await", ...).
bool is_cpp_keyword(std::string_view s);
// A name C++ or the C library reserves in a way a member cannot use: a keyword,
// or a macro of the C library ("errno", "stdin", ...).
bool is_cpp_reserved(std::string_view s);

// "get_peer" -> "GetPeer".
std::string snake_to_camel(std::string_view snake);
// "NOT_READY" -> "kNotReady".
std::string enum_constant(std::string_view upper_snake);
// "NotReady" -> "not ready", "HTTPError" -> "http error".
std::string camel_to_words(std::string_view camel);
// "vt.overlay" -> "vt::overlay".
std::string package_namespace(std::string_view package);

// FNV-1a, 32 bits, of the method's full name ("vt.overlay.Overlay.join"): the
// id that CALL frames carry.
std::uint32_t method_id(std::string_view full_name);

}  // namespace peers::idl
