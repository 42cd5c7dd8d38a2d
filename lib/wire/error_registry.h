// Typed errors across process boundaries.
//
// Each error type declared in an IDL file registers a factory under its
// qualified type name ("vt.overlay.Full"); generated code does this during
// static initialisation. When an ERROR frame arrives, the RPC layer calls
// make_error() to rebuild the same C++ type the callee threw. A type this
// process does not know becomes a plain peers::Error with code kApplication
// and the remote type name in its message, so nothing is lost.
//
//   try { co_await stub.join(req); } catch (const vt::overlay::Full& e) { ... }
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include "lib/kernel/error.h"

namespace peers::wire {

// Builds a typed error from its encoded fields; returns an Error if the fields
// do not decode.
using ErrorFactory = std::exception_ptr (*)(std::string_view fields, std::string message,
                                            std::string origin);

// Registers a factory; the last registration of a name wins. Thread-safe.
void register_error_type(std::string_view type_name, ErrorFactory factory);

// Rebuilds an error raised on another node. Never returns null.
std::exception_ptr make_error(Errc code, std::string_view type_name, std::string_view fields,
                              std::string message, std::string origin);

}  // namespace peers::wire
