// Services: what a node serves to its peers.
//
// A Service is one IDL interface implemented on this node; the generated
// server base class (peers-idlc) decodes arguments, calls the typed virtual
// methods, and encodes results. A Node dispatches incoming CALL and EVENT
// frames to the service registered for their method id, on the connection's
// strand, in arrival order.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/crypto/identity.h"
#include "lib/rpc/types.h"

namespace peers::rpc {

struct MethodInfo {
  std::uint32_t id;
  std::string_view name;  // "vt.overlay.Overlay.join"
  bool oneway = false;
  bool data = false;  // opens a data channel
};

// What a handler knows about the call it serves. Lives as long as the handler.
class CallContext {
 public:
  CallContext(std::shared_ptr<Connection> conn, const MethodInfo& method,
              std::chrono::steady_clock::time_point deadline)
      : conn_(std::move(conn)), method_(method), deadline_(deadline) {}

  // The authenticated peer that made the call: for a forwarded call, the
  // node that forwarded it.
  const PeerId& peer() const;
  // Whether another node tail-forwarded the call here (a continuation).
  bool forwarded() const { return forwarded_; }
  // Who the call is for: the authenticated peer, or for a forwarded call the
  // original caller, as the first hop authenticated it (its answer goes to
  // that id only, over a session authenticated again). nullopt: a forwarded
  // call whose caller id does not parse (its answer cannot be delivered).
  std::optional<PeerId> origin() const;
  void set_forwarded_for(std::string caller_id) {
    forwarded_ = true;
    origin_text_ = std::move(caller_id);
  }
  // The connection the call arrived on: call the caller back through it.
  const std::shared_ptr<Connection>& connection() const { return conn_; }
  const MethodInfo& method() const { return method_; }
  // When the caller stops waiting (time_point::max() if never).
  std::chrono::steady_clock::time_point deadline() const { return deadline_; }
  // The data channel of a `data` method (null otherwise).
  const std::shared_ptr<DataChannel>& channel() const { return channel_; }
  void set_channel(std::shared_ptr<DataChannel> c) { channel_ = std::move(c); }

  // Tail-calls method M on another node with req; `co_return ctx.forward<M>(...)`.
  template <typename M>
  Forward forward(std::shared_ptr<Connection> to, const typename M::Request& req) const {
    return Forward{std::move(to), M::kId, req.encode()};
  }

 private:
  std::shared_ptr<Connection> conn_;
  const MethodInfo& method_;
  std::chrono::steady_clock::time_point deadline_;
  std::shared_ptr<DataChannel> channel_;
  bool forwarded_ = false;
  std::string origin_text_;  // the continuation's caller id
};

class Service {
 public:
  virtual ~Service() = default;
  // Qualified interface name, "vt.overlay.Overlay".
  virtual std::string_view name() const = 0;
  virtual std::vector<MethodInfo> methods() const = 0;
  // A request/response call: the encoded result, or a Forward. Errors are
  // thrown as peers::Error (or a typed subclass) and reach the caller.
  virtual Task<Answer<std::string>> call(CallContext& ctx, std::uint32_t method_id,
                                         std::string args) = 0;
  // A one-way event; errors are logged, never sent back.
  virtual Task<void> event(CallContext& ctx, std::uint32_t method_id, std::string args) = 0;
};

}  // namespace peers::rpc
