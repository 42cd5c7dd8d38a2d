// peers::Error: the one error type of Peers and VidTorrent.
//
// An Error has a code (what kind of failure, stable across versions and
// processes), a message for people, the origin (the peer id of the node where
// it was raised, empty when local) and a type name. Typed errors declared in
// IDL files derive from Error and set a type name such as "vt.overlay.Full";
// the RPC layer carries all of these across the wire so a caller catches the
// same C++ type its callee threw. An error that came from the operating
// system also keeps its std::error_code (system_code()), locally.
//
// Parsers of untrusted input never throw: they return Result<T>, which holds a
// value or an Error.
//
//   peers::Result<Key> k = parse_key(text);
//   if (!k) { std::cerr << k.error().what() << "\n"; return 2; }
//   use(*k);
#pragma once

#include <concepts>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
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

// The Errc an operating-system error means to a caller: ECONNREFUSED and
// other unreachable peers -> kUnavailable, ETIMEDOUT -> kTimeout, EACCES/EPERM
// -> kPermissionDenied, ENOENT -> kNotFound, ECONNRESET/EPIPE -> kConnectionLost,
// ECANCELED -> kCancelled, EMFILE/ENFILE/ENOMEM/ENOBUFS -> kOverloaded, EINVAL
// -> kInvalidArgument; anything else (and every non-system category, such as
// a resolver's) -> `fallback`. Compares by std::errc condition, so codes of the
// system and generic categories (and Boost's, converted) map alike.
Errc errc_from_system(std::error_code ec, Errc fallback = Errc::kIo) noexcept;

// An Error is a code and one pointer to shared, immutable details (type name,
// message, origin, call path, the what() text, an optional system error code):
// copying one, as throwing and catching does, bumps a reference count, and a
// Result<T> holding a value is not bloated by the strings of the error it
// might have held. Copies and moves never throw. A moved-from Error keeps its
// code and has empty strings.
class Error : public std::exception {
 public:
  Error(Errc code, std::string message, std::string origin = {});
  // An operating-system failure: code errc_from_system(ec, fallback), message
  // "<context>: <ec.message()>", system_code() ec.
  //   return Error::from_system(ec, "cannot connect to " + addr, Errc::kUnavailable);
  static Error from_system(std::error_code ec, std::string_view context, Errc fallback = Errc::kIo);
  // The value Result<T>::error() returns on a success: code kOk, "no error".
  static const Error& none() noexcept;

  Error(const Error& other) noexcept;
  Error(Error&& other) noexcept;
  Error& operator=(const Error& other) noexcept;
  Error& operator=(Error&& other) noexcept;
  ~Error() override;

  Errc code() const noexcept { return code_; }
  const std::string& message() const noexcept;
  // Peer id of the node that raised it; empty when raised in this process.
  const std::string& origin() const noexcept;
  // Type name: "peers.<code>" for kernel codes, the IDL's qualified name for
  // typed errors.
  const std::string& type_name() const noexcept;
  // The method (or call path) the error passed through, outermost last.
  const std::string& call_path() const noexcept;
  // The operating-system error behind it (errno, or Asio's code); empty when
  // there is none. Local only: it is not sent on the wire (docs/protocol.md),
  // so an error that came from a peer has none.
  std::error_code system_code() const noexcept;

  Error& set_origin(std::string origin);
  Error& set_call_path(std::string path);
  // Keeps ec as system_code() without changing code or message, for callers
  // that word the message or choose the code themselves.
  Error& set_system_code(std::error_code ec);

  // "message" or "message (from <origin> in <call path>)".
  const char* what() const noexcept override;

  // Typed errors append their fields (wire value codec, struct body) so the
  // RPC layer can send them; plain Errors have none.
  virtual void encode_fields(std::string& out) const {}
  // Rethrows this error as its most derived type (typed errors override it),
  // so a copy held as Error can still be caught as the type that was thrown.
  [[noreturn]] virtual void rethrow() const { throw *this; }

 protected:
  Error(Errc code, std::string type_name, std::string message, std::string origin);

 private:
  struct Details;  // error.cc: reference-counted, shared by copies
  // Details only this Error holds, copied first when shared (copy on write).
  Details& own();
  void release() noexcept;

  Errc code_;
  Details* details_;  // never null except in a moved-from Error
};

// A value or an Error. Small on purpose: C++20 has no std::expected.
//
// error() on a success is defined: it returns Error::none() (code kOk,
// "no error"), never a dangling or empty value, so logging r.error() on the
// wrong branch prints "no error" rather than crashing. value() on a failure
// throws the error.
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

  // The error; Error::none() on a success.
  const Error& error() const noexcept {
    return v_.index() == 1 ? *std::get_if<1>(&v_) : Error::none();
  }

 private:
  T& get_or_throw() {
    if (v_.index() == 1) throw *std::get_if<1>(&v_);
    return *std::get_if<0>(&v_);
  }
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error. A success is a null shared_ptr (two
// words, no allocation); a failure holds the error on the heap, shared by
// copies, as its most derived type (a typed error stays typed: value()
// rethrows it as such).
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() noexcept = default;
  template <std::derived_from<Error> E>
  Result(E error) : e_(std::make_shared<const E>(std::move(error))) {}  // NOLINT

  bool ok() const noexcept { return e_ == nullptr; }
  explicit operator bool() const noexcept { return ok(); }
  // The error; Error::none() on a success.
  const Error& error() const noexcept { return e_ ? *e_ : Error::none(); }
  void value() const {
    if (e_) e_->rethrow();
  }

 private:
  std::shared_ptr<const Error> e_;
};

}  // namespace peers
