// peers::Error: the one error type of Peers and VidTorrent.
//
// An Error has a code (what kind of failure, stable across versions and
// processes), a message for people, the origin (the peer id of the node where
// it was raised, empty when local) and a type name. Typed errors declared in
// IDL files derive from Error and set a type name such as "vt.overlay.Full";
// the RPC layer carries all of these across the wire so a caller catches the
// same C++ type its callee threw.
//
// Parsers of untrusted input never throw: they return Result<T>, which holds a
// value or an Error.
//
//   peers::Result<Key> k = parse_key(text);
//   if (!k) { std::cerr << k.error().what() << "\n"; return 2; }
//   use(*k);
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace peers {

// Stable numeric codes; they travel on the wire, so never renumber.
enum class Errc : std::uint16_t {
  kOk = 0,
  kInvalidArgument = 1,  // the caller's input is wrong (exit code 2 in tools)
  kNotFound = 2,
  kIo = 3,        // a local file or device failed
  kProtocol = 4,  // a peer sent bytes that break the protocol
  kAuth = 5,      // authentication or integrity failed
  kTimeout = 6,   // a deadline passed
  kCancelled = 7,
  kConnectionLost = 8,  // the connection closed with calls pending
  kUnavailable = 9,     // nothing listens, or the peer is going away
  kOverloaded = 10,
  kPermissionDenied = 11,
  kUnknownMethod = 12,
  kInternal = 13,
  kApplication = 14,  // a typed error declared in an IDL file
};

// "invalid_argument", "protocol", ...; "unknown" for codes from the future.
std::string_view errc_name(Errc code);

class Error : public std::exception {
 public:
  Error(Errc code, std::string message, std::string origin = {});
  ~Error() override = default;

  Errc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // Peer id of the node that raised it; empty when raised in this process.
  const std::string& origin() const noexcept { return origin_; }
  // Type name: "peers.<code>" for kernel codes, the IDL's qualified name for
  // typed errors.
  const std::string& type_name() const noexcept { return type_name_; }
  // The method (or call path) the error passed through, outermost last.
  const std::string& call_path() const noexcept { return call_path_; }

  Error& set_origin(std::string origin);
  Error& set_call_path(std::string path);

  // "message" or "message (from <origin> in <call path>)".
  const char* what() const noexcept override { return what_.c_str(); }

  // Typed errors append their fields (wire value codec, struct body) so the
  // RPC layer can send them; plain Errors have none.
  virtual void encode_fields(std::string& out) const {}
  // Rethrows this error as its most derived type (typed errors override it),
  // so a copy held as Error can still be caught as the type that was thrown.
  [[noreturn]] virtual void rethrow() const { throw *this; }

 protected:
  Error(Errc code, std::string type_name, std::string message, std::string origin);
  void refresh_what();

 private:
  Errc code_;
  std::string type_name_;
  std::string message_;
  std::string origin_;
  std::string call_path_;
  std::string what_;
};

// A value or an Error. Small on purpose: C++20 has no std::expected.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return get_or_throw(); }
  const T& value() const& { return const_cast<Result*>(this)->get_or_throw(); }
  T&& value() && { return std::move(get_or_throw()); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  T& get_or_throw() {
    if (v_.index() == 1) throw std::get<1>(v_);
    return std::get<0>(v_);
  }
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}  // NOLINT
  bool ok() const noexcept { return !e_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const { return *e_; }
  void value() const {
    if (e_) throw *e_;
  }

 private:
  std::optional<Error> e_;
};

}  // namespace peers
