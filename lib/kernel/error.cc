#include "lib/kernel/error.h"

#include <atomic>

namespace peers {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::kOk:
      return "ok";
    case Errc::kInvalidArgument:
      return "invalid_argument";
    case Errc::kNotFound:
      return "not_found";
    case Errc::kIo:
      return "io";
    case Errc::kProtocol:
      return "protocol";
    case Errc::kAuth:
      return "auth";
    case Errc::kTimeout:
      return "timeout";
    case Errc::kCancelled:
      return "cancelled";
    case Errc::kConnectionLost:
      return "connection_lost";
    case Errc::kUnavailable:
      return "unavailable";
    case Errc::kOverloaded:
      return "overloaded";
    case Errc::kPermissionDenied:
      return "permission_denied";
    case Errc::kUnknownMethod:
      return "unknown_method";
    case Errc::kInternal:
      return "internal";
    case Errc::kApplication:
      return "application";
  }
  return "unknown";
}

Errc errc_from_system(std::error_code ec, Errc fallback) noexcept {
  using std::errc;
  if (!ec) return Errc::kOk;
  for (errc e : {errc::connection_refused, errc::host_unreachable, errc::network_unreachable,
                 errc::network_down, errc::address_in_use, errc::address_not_available}) {
    if (ec == e) return Errc::kUnavailable;
  }
  for (errc e : {errc::connection_reset, errc::connection_aborted, errc::broken_pipe,
                 errc::not_connected, errc::network_reset}) {
    if (ec == e) return Errc::kConnectionLost;
  }
  for (errc e : {errc::too_many_files_open, errc::too_many_files_open_in_system,
                 errc::not_enough_memory, errc::no_buffer_space}) {
    if (ec == e) return Errc::kOverloaded;
  }
  if (ec == errc::timed_out) return Errc::kTimeout;
  if (ec == errc::permission_denied || ec == errc::operation_not_permitted) {
    return Errc::kPermissionDenied;
  }
  if (ec == errc::no_such_file_or_directory) return Errc::kNotFound;
  if (ec == errc::operation_canceled) return Errc::kCancelled;
  if (ec == errc::invalid_argument) return Errc::kInvalidArgument;
  return fallback;
}

// Reference-counted by the Errors that share it; changed only while one
// Error holds it alone.
struct Error::Details {
  std::atomic<std::uint32_t> refs{1};
  std::string type_name;
  std::string message;
  std::string origin;
  std::string call_path;
  std::string what;
  std::error_code system;

  void refresh_what() {
    what = message;
    if (!origin.empty() || !call_path.empty()) {
      what += " (";
      if (!origin.empty()) what += "from " + origin;
      if (!origin.empty() && !call_path.empty()) what += " ";
      if (!call_path.empty()) what += "in " + call_path;
      what += ")";
    }
  }
};

namespace {

const std::string& empty_string() {
  static const std::string* s = new std::string;  // never destroyed: errors outlive statics
  return *s;
}

}  // namespace

Error::Error(Errc code, std::string message, std::string origin)
    : Error(code, "peers." + std::string(errc_name(code)), std::move(message), std::move(origin)) {}

Error::Error(Errc code, std::string type_name, std::string message, std::string origin)
    : code_(code), details_(new Details) {
  details_->type_name = std::move(type_name);
  details_->message = std::move(message);
  details_->origin = std::move(origin);
  details_->refresh_what();
}

Error Error::from_system(std::error_code ec, std::string_view context, Errc fallback) {
  Error e(errc_from_system(ec, fallback), std::string(context) + ": " + ec.message());
  e.details_->system = ec;
  return e;
}

const Error& Error::none() noexcept {
  static const Error* e = new Error(Errc::kOk, "no error");  // never destroyed
  return *e;
}

Error::Error(const Error& other) noexcept
    : std::exception(other), code_(other.code_), details_(other.details_) {
  if (details_) details_->refs.fetch_add(1, std::memory_order_relaxed);
}

Error::Error(Error&& other) noexcept
    : std::exception(other), code_(other.code_), details_(std::exchange(other.details_, nullptr)) {}

Error& Error::operator=(const Error& other) noexcept {
  Error copy(other);
  return *this = std::move(copy);
}

Error& Error::operator=(Error&& other) noexcept {
  if (this != &other) {
    release();
    code_ = other.code_;
    details_ = std::exchange(other.details_, nullptr);
  }
  return *this;
}

Error::~Error() { release(); }

void Error::release() noexcept {
  if (details_ && details_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete details_;
  details_ = nullptr;
}

Error::Details& Error::own() {
  if (details_ == nullptr) {
    details_ = new Details;
    details_->type_name = "peers." + std::string(errc_name(code_));
  } else if (details_->refs.load(std::memory_order_acquire) != 1) {
    // Shared: copy first. No other thread can add a holder meanwhile, since
    // this Error is one of the holders and the caller owns it.
    auto* copy = new Details;
    copy->type_name = details_->type_name;
    copy->message = details_->message;
    copy->origin = details_->origin;
    copy->call_path = details_->call_path;
    copy->what = details_->what;
    copy->system = details_->system;
    release();
    details_ = copy;
  }
  return *details_;
}

const std::string& Error::message() const noexcept {
  return details_ ? details_->message : empty_string();
}
const std::string& Error::origin() const noexcept {
  return details_ ? details_->origin : empty_string();
}
const std::string& Error::type_name() const noexcept {
  return details_ ? details_->type_name : empty_string();
}
const std::string& Error::call_path() const noexcept {
  return details_ ? details_->call_path : empty_string();
}
std::error_code Error::system_code() const noexcept {
  return details_ ? details_->system : std::error_code();
}
const char* Error::what() const noexcept { return details_ ? details_->what.c_str() : ""; }

Error& Error::set_origin(std::string origin) {
  Details& d = own();
  d.origin = std::move(origin);
  d.refresh_what();
  return *this;
}

Error& Error::set_call_path(std::string path) {
  Details& d = own();
  d.call_path = std::move(path);
  d.refresh_what();
  return *this;
}

Error& Error::set_system_code(std::error_code ec) {
  own().system = ec;
  return *this;
}

}  // namespace peers
