#include "lib/kernel/error.h"

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

Error::Error(Errc code, std::string message, std::string origin)
    : Error(code, "peers." + std::string(errc_name(code)), std::move(message), std::move(origin)) {}

Error::Error(Errc code, std::string type_name, std::string message, std::string origin)
    : code_(code),
      type_name_(std::move(type_name)),
      message_(std::move(message)),
      origin_(std::move(origin)) {
  refresh_what();
}

Error& Error::set_origin(std::string origin) {
  origin_ = std::move(origin);
  refresh_what();
  return *this;
}

Error& Error::set_call_path(std::string path) {
  call_path_ = std::move(path);
  refresh_what();
  return *this;
}

void Error::refresh_what() {
  what_ = message_;
  if (!origin_.empty() || !call_path_.empty()) {
    what_ += " (";
    if (!origin_.empty()) what_ += "from " + origin_;
    if (!origin_.empty() && !call_path_.empty()) what_ += " ";
    if (!call_path_.empty()) what_ += "in " + call_path_;
    what_ += ")";
  }
}

}  // namespace peers
