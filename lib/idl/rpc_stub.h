// What generated RPC stubs (<file>.pidl.rpc.cc, see idlc/gen_rpc.h) call:
// typed calls over a peers::rpc::Connection, argument and reply decoding with
// the errors docs/idl.md promises. Not meant for hand-written code, which uses
// the generated XClient and XServer classes.
//
//   // In OverlayClient::join:
//   return ::peers::idl::call_typed<JoinReply>(conn_, Overlay::Join::kId, request.encode(),
//                                              options, Overlay::Join::kFullName);
//
// The call_* coroutines take the connection by shared_ptr, so a task stays
// valid when the client object that made it is gone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "lib/kernel/error.h"
#include "lib/rpc/connection.h"
#include "lib/rpc/types.h"

namespace peers::idl {

// The arguments of a call or event to `method` ("vt.overlay.Overlay.join")
// decoded as T; throws Error(kProtocol, "bad arguments for <method>: <reason>").
template <typename T>
T decode_args(std::string_view args, std::string_view method) {
  Result<T> value = T::decode(args);
  if (!value) {
    throw Error(Errc::kProtocol,
                "bad arguments for " + std::string(method) + ": " + value.error().message());
  }
  return std::move(*value);
}

// A reply of `method` decoded as T; throws Error(kProtocol, "bad reply from
// <method>: <reason>").
template <typename T>
T decode_reply(std::string_view reply, std::string_view method) {
  Result<T> value = T::decode(reply);
  if (!value) {
    throw Error(Errc::kProtocol,
                "bad reply from " + std::string(method) + ": " + value.error().message());
  }
  return std::move(*value);
}

// Calls a request/response method and decodes its reply as T. Throws what
// Connection::call throws, or decode_reply's error.
template <typename T>
rpc::Task<T> call_typed(std::shared_ptr<rpc::Connection> conn, std::uint32_t method_id,
                        std::string args, rpc::CallOptions options, std::string_view method) {
  // Named first: GCC 12 may destroy a temporary inside co_await twice.
  auto op = conn->call(method_id, std::move(args), options);
  std::string reply = co_await std::move(op);
  co_return decode_reply<T>(reply, method);
}

// Calls a method whose result is void; the reply's bytes are ignored.
rpc::Task<void> call_void(std::shared_ptr<rpc::Connection> conn, std::uint32_t method_id,
                          std::string args, rpc::CallOptions options);

// Calls a `data` method: its reply decoded as T, and the channel it opened.
// A reply that does not decode fails the channel with the same error.
template <typename T>
rpc::Task<std::pair<T, std::shared_ptr<rpc::DataChannel>>> call_with_channel_typed(
    std::shared_ptr<rpc::Connection> conn, std::uint32_t method_id, std::string args,
    rpc::CallOptions options, std::string_view method) {
  auto op = conn->call_with_channel(method_id, std::move(args), options);
  std::pair<std::string, std::shared_ptr<rpc::DataChannel>> got = co_await std::move(op);
  Result<T> value = T::decode(got.first);
  if (!value) {
    Error e(Errc::kProtocol,
            "bad reply from " + std::string(method) + ": " + value.error().message());
    if (got.second) got.second->fail(e);
    throw e;
  }
  co_return std::pair<T, std::shared_ptr<rpc::DataChannel>>(std::move(*value),
                                                            std::move(got.second));
}

// Calls a `data` method whose result is void: the channel it opened.
rpc::Task<std::shared_ptr<rpc::DataChannel>> call_with_channel_void(
    std::shared_ptr<rpc::Connection> conn, std::uint32_t method_id, std::string args,
    rpc::CallOptions options);

// Error(kUnknownMethod, "vt.overlay.Overlay has no method 0x12345678"): what a
// generated server answers to an id its interface does not have (or to a
// call of a oneway method, an event of a request/response method).
Error unknown_method(std::string_view interface_name, std::uint32_t method_id);

}  // namespace peers::idl
