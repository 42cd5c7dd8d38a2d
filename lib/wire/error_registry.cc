#include "lib/wire/error_registry.h"

#include <map>
#include <mutex>

namespace peers::wire {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, ErrorFactory, std::less<>> factories;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: used during static init and exit
  return *r;
}

}  // namespace

void register_error_type(std::string_view type_name, ErrorFactory factory) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.factories[std::string(type_name)] = factory;
}

std::exception_ptr make_error(Errc code, std::string_view type_name, std::string_view fields,
                              std::string message, std::string origin) {
  if (code == Errc::kApplication) {
    ErrorFactory f = nullptr;
    {
      Registry& r = registry();
      std::lock_guard lock(r.mu);
      auto it = r.factories.find(type_name);
      if (it != r.factories.end()) f = it->second;
    }
    if (f) return f(fields, std::move(message), std::move(origin));
    message = std::string(type_name) + ": " + message;
  }
  return std::make_exception_ptr(Error(code, std::move(message), std::move(origin)));
}

}  // namespace peers::wire
