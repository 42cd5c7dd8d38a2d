#include "lib/idl/rpc_stub.h"

#include <cstdio>

namespace peers::idl {

rpc::Task<void> call_void(std::shared_ptr<rpc::Connection> conn, std::uint32_t method_id,
                          std::string args, rpc::CallOptions options) {
  auto op = conn->call(method_id, std::move(args), options);
  // A newer callee may return a struct where this version has void; its
  // bytes mean nothing here.
  co_await std::move(op);
}

rpc::Task<std::shared_ptr<rpc::DataChannel>> call_with_channel_void(
    std::shared_ptr<rpc::Connection> conn, std::uint32_t method_id, std::string args,
    rpc::CallOptions options) {
  auto op = conn->call_with_channel(method_id, std::move(args), options);
  std::pair<std::string, std::shared_ptr<rpc::DataChannel>> got = co_await std::move(op);
  co_return std::move(got.second);
}

Error unknown_method(std::string_view interface_name, std::uint32_t method_id) {
  char id[16];
  std::snprintf(id, sizeof id, "0x%08x", method_id);
  return Error(Errc::kUnknownMethod, std::string(interface_name) + " has no method " + id);
}

}  // namespace peers::idl
