#include "lib/rpc/node.h"

#include <sodium.h>

#include <algorithm>
#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "lib/kernel/log.h"
#include "lib/kernel/timer.h"
#include "lib/rpc/internal/deadline_guard.h"
#include "lib/rpc/internal/node_core.h"
#include "lib/rpc/internal/punch.h"

namespace peers::rpc {

namespace asio = boost::asio;
using asio::use_awaitable;
using asio::ip::tcp;

namespace internal {

std::string continuation_token(const std::array<std::uint8_t, 32>& key, std::uint64_t id) {
  unsigned char msg[8];
  for (int i = 0; i < 8; ++i) msg[i] = static_cast<unsigned char>(id >> (8 * i));
  unsigned char out[16];
  crypto_generichash(out, sizeof out, msg, sizeof msg, key.data(), key.size());
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

namespace {

asio::io_context* io_context_of(const Executor& exec) {
  using Plain = asio::io_context::executor_type;
  using Tracked =
      decltype(asio::prefer(std::declval<Plain>(), asio::execution::outstanding_work.tracked));
  if (const auto* e = exec.target<Plain>()) return &e->context();
  if (const auto* e = exec.target<Tracked>()) return &e->context();
  throw Error(Errc::kInvalidArgument,
              "a peers::rpc::Node runs on an io_context's executor (io.get_executor())");
}

}  // namespace

NodeCore::NodeCore(Executor e, Identity ident, NodeOptions o)
    : exec(std::move(e)),
      io(io_context_of(exec)),
      identity(std::move(ident)),
      id(identity.peer_id()),
      options(o),
      admission(o),
      deadline_timer_(exec),
      log_timer_(exec) {}

const NodeCore::Method* NodeCore::method(std::uint32_t mid) const {
  auto it = methods.find(mid);
  return it == methods.end() ? nullptr : &it->second;
}

void NodeCore::add_pending(std::uint64_t call_id, Pending p) {
  std::lock_guard lock(mu_);
  deadlines_.emplace(p.deadline, call_id);
  pending_.emplace(call_id, std::move(p));
  arm_deadline_timer_locked();
}

// Makes deadline_timer_ wait for the earliest deadline, if it is not already
// waiting for that or an earlier time. Calls made with equal timeouts have
// ever later deadlines, so the timer is re-armed about once per timeout, not
// once per call.
void NodeCore::arm_deadline_timer_locked() {
  if (deadlines_.empty()) return;
  auto earliest = deadlines_.begin()->first;
  if (earliest >= timer_armed_) return;
  timer_armed_ = earliest;
  deadline_timer_.expires_at(earliest);  // a wait for a later time ends as aborted
  deadline_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_deadline();
  });
}

void NodeCore::stop_deadline_timer() {
  std::lock_guard lock(mu_);
  timer_armed_ = std::chrono::steady_clock::time_point::max();
  deadline_timer_.cancel();
}

void NodeCore::on_deadline() {
  struct Expired {
    std::uint64_t id;
    Pending p;
  };
  std::vector<Expired> expired;
  {
    std::lock_guard lock(mu_);
    timer_armed_ = std::chrono::steady_clock::time_point::max();
    auto now = Clock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      std::uint64_t call_id = deadlines_.begin()->second;
      deadlines_.erase(deadlines_.begin());
      auto it = pending_.find(call_id);
      if (it == pending_.end()) continue;
      expired.push_back({call_id, std::move(it->second)});
      pending_.erase(it);
    }
    arm_deadline_timer_locked();
  }
  for (auto& [call_id, p] : expired) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08x", p.method_id);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(p.timeout).count();
    p.handler(std::make_exception_ptr(Error(Errc::kTimeout, "call to method " + std::string(hex) +
                                                                " timed out after " +
                                                                std::to_string(ms) + " ms")),
              std::string());
    // Tell the callee to stop working on it.
    if (auto conn = p.conn.lock()) conn->call_timed_out(call_id);
  }
}

bool NodeCore::complete(std::uint64_t call_id, const Connection* from, std::exception_ptr error,
                        std::string result, bool here) {
  Pending p;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(call_id);
    if (it == pending_.end()) return false;
    if (from != nullptr && it->second.conn.lock().get() != from) return false;
    p = std::move(it->second);
    pending_.erase(it);
    deadlines_.erase({p.deadline, call_id});
  }
  if (!here) {
    p.handler(error, std::move(result));
    return true;
  }
  try {
    p.handler.resume_here(error, std::move(result));
  } catch (...) {
    // Something the resumed caller ran inline threw (a completion handler
    // that rethrows, say). It must not end the read loop that resumed it:
    // let it leave io_context::run() as it would have from a posted handler.
    asio::post(exec, [e = std::current_exception()] { std::rethrow_exception(e); });
  }
  return true;
}

void NodeCore::mark_forwarded(std::uint64_t call_id, const Connection* from) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(call_id);
  if (it != pending_.end() && it->second.conn.lock().get() == from) it->second.forwarded = true;
}

bool NodeCore::is_forwarded(std::uint64_t call_id) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(call_id);
  return it != pending_.end() && it->second.forwarded;
}

void NodeCore::complete_continuation(const wire::Continuation& c, std::exception_ptr error,
                                     std::string result) {
  bool valid = false;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(c.call_id);
    valid = it != pending_.end() && c.caller_id == id.to_string() &&
            c.token == continuation_token(it->second.binding, c.call_id);
  }
  if (!valid) {
    log_debug("answer for an unknown or expired forwarded call",
              {{"call", std::to_string(c.call_id)}});
    return;
  }
  complete(c.call_id, nullptr, error, std::move(result));
}

void NodeCore::add_route(const wire::Continuation& c, std::weak_ptr<Connection> upstream,
                         std::chrono::steady_clock::time_point expiry,
                         std::weak_ptr<Connection> downstream) {
  auto now = Clock::now();
  std::lock_guard lock(mu_);
  if (routes_.size() >= kMaxRoutes) {
    std::erase_if(routes_, [&](const auto& r) { return r.second.expiry <= now; });
  }
  if (routes_.size() >= kMaxRoutes) {
    auto soonest = std::min_element(
        routes_.begin(), routes_.end(),
        [](const auto& a, const auto& b) { return a.second.expiry < b.second.expiry; });
    routes_.erase(soonest);
  }
  routes_[{c.caller_id, c.call_id, c.token}] =
      Route{std::move(upstream), expiry, std::move(downstream)};
}

void NodeCore::fail_routes_through(const std::shared_ptr<Connection>& gone) {
  const std::string peer = gone->peer().short_id();
  std::vector<std::pair<wire::Continuation, std::shared_ptr<Connection>>> lost;
  {
    auto now = Clock::now();
    std::lock_guard lock(mu_);
    for (auto it = routes_.begin(); it != routes_.end();) {
      const auto& down = it->second.downstream;
      // Same owner, also once the connection is freed (no address reuse).
      if (down.owner_before(gone) || gone.owner_before(down)) {
        ++it;
        continue;
      }
      auto up = it->second.upstream.lock();
      if (up && up->is_open() && it->second.expiry > now) {
        wire::Continuation c;
        std::tie(c.caller_id, c.call_id, c.token) = it->first;
        lost.emplace_back(std::move(c), std::move(up));
      }
      it = routes_.erase(it);
    }
  }
  for (auto& [c, up] : lost) {
    // The answer may yet reach the caller another way (a node further on
    // that has a connection to it); an answer to a call no longer pending
    // is ignored there, so the first of the two counts.
    wire::ErrorBody body{Errc::kConnectionLost,
                         "peers." + std::string(errc_name(Errc::kConnectionLost)),
                         "the call was forwarded to " + peer +
                             ", which closed its connection before the answer came back",
                         id.to_string(),
                         "",
                         ""};
    send_continuation(up, std::move(c), std::move(body), "");
  }
}

std::shared_ptr<Connection> NodeCore::take_route(const wire::Continuation& c) {
  std::lock_guard lock(mu_);
  auto it = routes_.find({c.caller_id, c.call_id, c.token});
  if (it == routes_.end()) return nullptr;
  auto conn = it->second.upstream.lock();
  bool live = it->second.expiry > Clock::now();
  routes_.erase(it);
  return live && conn && conn->is_open() ? conn : nullptr;
}

void NodeCore::send_continuation(const std::shared_ptr<Connection>& conn, wire::Continuation c,
                                 std::optional<wire::ErrorBody> error, std::string result) {
  asio::dispatch(conn->strand_,
                 [conn, c = std::move(c), error = std::move(error), result = std::move(result)] {
                   conn->emit_continuation(c, error, result);
                 });
}

void NodeCore::deliver_continuation(wire::Continuation c, std::exception_ptr error,
                                    std::string result, std::weak_ptr<Connection> arrived_on) {
  std::optional<wire::ErrorBody> body;
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      body = wire::ErrorBody{e.code(),      e.type_name(),
                             e.message(),   e.origin().empty() ? id.to_string() : e.origin(),
                             e.call_path(), ""};
      e.encode_fields(body->fields);
    } catch (const std::exception& e) {
      body = wire::ErrorBody{Errc::kInternal, "peers.internal", e.what(), id.to_string(), "", ""};
    }
  }
  auto caller = PeerId::parse(c.caller_id);
  if (!caller) {
    log_warn("forwarded call names a bad caller id", {{"caller", c.caller_id}});
    return;
  }
  // A connection to the caller is the shortest way; else back the way the
  // call came, which needs nobody to be reachable.
  std::shared_ptr<Connection> conn = find(*caller);
  if (!conn) {
    conn = arrived_on.lock();
    if (conn && !conn->is_open()) conn = nullptr;
  }
  if (conn) {
    send_continuation(conn, std::move(c), std::move(body), std::move(result));
    return;
  }
  // The way back is broken (a node on it left): dial the caller if it said
  // where it can be reached.
  if (c.caller_addr.empty()) {
    log_warn("cannot answer a forwarded call: the way back is gone and the caller has no address",
             {{"caller", caller->short_id()}});
    return;
  }
  auto self = shared_from_this();
  asio::co_spawn(
      exec,
      [self, caller = *caller, c = std::move(c), body = std::move(body),
       result = std::move(result)]() mutable -> Task<void> {
        std::shared_ptr<Connection> conn;
        try {
          auto op = self->connect(c.caller_addr, caller);
          conn = co_await std::move(op);
        } catch (const std::exception& e) {
          log_warn("cannot reach the caller of a forwarded call",
                   {{"caller", caller.short_id()}, {"addr", c.caller_addr}, {"error", e.what()}});
          co_return;
        }
        send_continuation(conn, std::move(c), std::move(body), std::move(result));
      },
      asio::detached);
}

void NodeCore::relay_continuation(const wire::Continuation& c, std::optional<wire::ErrorBody> error,
                                  std::string result) {
  auto up = take_route(c);
  if (!up) {
    log_debug("answer for a forwarded call with no way back",
              {{"caller", c.caller_id.substr(0, 12)}, {"call", std::to_string(c.call_id)}});
    return;
  }
  send_continuation(up, c, std::move(error), std::move(result));
}

namespace {

// Which learned local address to prefer: one others can reach from further away.
int scope_rank(AddressScope s) {
  switch (s) {
    case AddressScope::kPublic:
      return 3;
    case AddressScope::kPrivate:
      return 2;
    case AddressScope::kLoopback:
      return 1;
    default:
      return 0;
  }
}

}  // namespace

std::string NodeCore::advertise_to(const std::string& local, const std::string& remote) const {
  return advertised_address({.announce = options.announce,
                             .listen_host = listen_host,
                             .port = listen_port,
                             .local_ip = host_of(local),
                             .peer_ip = host_of(remote)});
}

void NodeCore::learn_address(const std::string& local, const std::string& remote,
                             const std::string& observed) {
  std::string local_ip = host_of(local);
  AddressScope peer_scope = address_scope(host_of(remote));
  std::string seen_ip = host_of(observed);
  std::lock_guard lock(mu_);
  if (int rank = scope_rank(address_scope(local_ip)); rank > learned_rank_) {
    learned_rank_ = rank;
    learned_ip_ = local_ip;
  }
  // A peer that saw this node at another IP than the one this side of the
  // connection has: a NAT is in between, and the listening port is not open
  // on its outer side unless forwarded by hand (--announce).
  if (peer_scope != AddressScope::kLoopback && !seen_ip.empty() && seen_ip != local_ip) {
    if (!behind_nat_) {
      log_info("behind a NAT: a peer sees this node at another address",
               {{"local", local}, {"seen_as", observed}, {"by", remote}});
    }
    behind_nat_ = true;
  }
}

std::string NodeCore::advertised() const {
  std::lock_guard lock(mu_);
  // A dial-back's verdict outweighs what the node believes, --announce too.
  if (reach_state_ == Reachability::State::kReachable) return reach_addr_;
  if (reach_state_ == Reachability::State::kUnreachable) return "";
  if (!options.announce.empty()) return options.announce;
  if (listen_host.empty() || behind_nat_) return "";
  if (address_scope(listen_host) != AddressScope::kUnspecified) {
    return join_host_port(listen_host, listen_port);
  }
  if (learned_ip_.empty()) return "";
  return join_host_port(learned_ip_, listen_port);
}

void NodeCore::set_reachability(Reachability::State state, const std::string& addr) {
  std::lock_guard lock(mu_);
  reach_state_ = state;
  reach_addr_ = addr;
}

Reachability::State NodeCore::reachability() const {
  std::lock_guard lock(mu_);
  return reach_state_;
}

std::string NodeCore::dial_back_target(const Connection& via) const {
  if (!options.announce.empty()) return options.announce;
  if (listen_port == 0) return "";
  if (std::string adv = advertised(); !adv.empty()) return adv;
  // Behind a NAT: the port may be forwarded on the NAT's outer address.
  std::string seen = host_of(via.observed_address());
  return seen.empty() ? "" : join_host_port(seen, listen_port);
}

Task<std::shared_ptr<Connection>> NodeCore::dial(const std::string& host_port,
                                                 std::optional<Duration> timeout) {
  auto hp = parse_host_port(host_port);
  if (!hp) throw hp.error();
  std::optional<Socket> socket;
  if (options.network) {
    auto op = options.network->connect(host_port);
    socket.emplace(co_await std::move(op), exec);
  } else if (timeout) {
    auto op = probe_tcp(*hp, host_port, *timeout);
    socket.emplace(co_await std::move(op));
  } else {
    auto op = connect_tcp(*hp, host_port);
    socket.emplace(co_await std::move(op));
  }
  co_return std::make_shared<Connection>(shared_from_this(), std::move(*socket), true);
}

Task<void> NodeCore::probe(std::string host_port, PeerId expected, Duration timeout) {
  auto op = dial(host_port, timeout);
  auto conn = co_await std::move(op);
  std::optional<Error> failed;
  try {
    // No cancellation slot: see connect().
    auto handshake =
        asio::co_spawn(conn->strand_, conn->run_handshake(expected),
                       asio::bind_cancellation_slot(asio::cancellation_slot(), use_awaitable));
    co_await std::move(handshake);
  } catch (const Error& e) {
    failed = e;
  }
  asio::dispatch(conn->strand_, [conn] { conn->socket_.close(); });
  if (failed) throw Error(failed->code(), "handshake with " + host_port + ": " + failed->message());
}

Task<tcp::socket> NodeCore::probe_tcp(const HostPort& hp, const std::string& host_port,
                                      Duration timeout) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(hp.host, ec);
  if (ec) throw Error(Errc::kInvalidArgument, "not an IP address: " + host_port);
  // The timer runs on this coroutine's executor, so its handler and the
  // coroutine never touch the socket at once.
  auto ex = co_await asio::this_coro::executor;
  tcp::socket socket(exec);
  Timer timer(ex);
  timer.expires_after(timeout);
  // The socket is touched only while the coroutine still waits for the
  // connect (the guard's handler may run after the coroutine ended).
  detail::DeadlineGuard deadline(timer, [&socket] {
    boost::system::error_code ignored;
    socket.close(ignored);
  });
  auto connect = socket.async_connect(tcp::endpoint(ip, hp.port), asio::as_tuple(use_awaitable));
  auto [cec] = co_await std::move(connect);
  if (deadline.finish(timer)) throw Error(Errc::kTimeout, "no answer from " + host_port);
  if (cec) throw Error::from_system(cec, "cannot connect to " + host_port, Errc::kUnavailable);
  co_return socket;
}

namespace {

// "IP:PORT" (port not 0) as an endpoint; nullopt for anything else.
std::optional<tcp::endpoint> ip_endpoint(std::string_view text) {
  auto hp = parse_host_port(text);
  if (!hp || hp->port == 0) return std::nullopt;
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(hp->host, ec);
  if (ec) return std::nullopt;
  return tcp::endpoint(ip, hp->port);
}

// A port as text ("7000", not 0); nullopt for anything else.
std::optional<std::uint16_t> port_of_text(const std::string& text) {
  auto hp = parse_host_port("h:" + text);
  if (!hp || hp->port == 0) return std::nullopt;
  return hp->port;
}

// FNV-1a, 32 bits: method ids (docs/idl.md).
constexpr std::uint32_t method_id(std::string_view name) {
  std::uint32_t h = 2166136261u;
  for (char c : name) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

constexpr std::uint32_t kDialBackId = method_id("peers.Reach.dial_back");
constexpr std::uint32_t kIntroduceId = method_id("peers.Reach.introduce");
constexpr std::uint32_t kPunchId = method_id("peers.Reach.punch");
// Hole punches a node serves at once (peers.Reach.punch), and introductions
// it relays at once: each costs a listening socket and a dialer for a few
// seconds, so a peer cannot make it hold many.
constexpr int kMaxPunches = 8;
// How long the node asked to punch keeps trying (peers.Reach.punch).
constexpr Duration kPunchTimeout = std::chrono::seconds(4);
// A dial-back waits this long for the connection and the handshake: a
// NAT drops the SYN rather than refusing it, and TCP would retry for minutes.
constexpr Duration kDialBackTimeout = std::chrono::seconds(3);

// The built-in peers.Reach service: dial_back(address) dials the caller at
// `address`, which must be on the IP the call came from (a node is not made
// to dial third parties), one dial-back at a time. The argument is the
// address as text; the result is empty when the handshake with the caller's
// identity succeeded, else the reason.
class ReachService : public Service {
 public:
  explicit ReachService(std::weak_ptr<NodeCore> core) : core_(std::move(core)) {}
  std::string_view name() const override { return "peers.Reach"; }
  std::vector<MethodInfo> methods() const override {
    return {{kDialBackId, "peers.Reach.dial_back"},
            {kIntroduceId, "peers.Reach.introduce"},
            {kPunchId, "peers.Reach.punch"}};
  }
  Task<Answer<std::string>> call(CallContext& ctx, std::uint32_t method,
                                 std::string args) override {
    auto core = core_.lock();
    if (!core) throw Error(Errc::kUnavailable, "node is shutting down");
    if (method == kIntroduceId) {
      auto op = introduce(core, ctx, std::move(args));
      co_return co_await std::move(op);
    }
    if (method == kPunchId) co_return punch(core, ctx, args);
    auto hp = parse_host_port(args);
    if (!hp || hp->port == 0) throw Error(Errc::kInvalidArgument, "dial_back wants HOST:PORT");
    std::string from = host_of(ctx.connection()->remote_address());
    if (host_of(args) != from) {
      throw Error(Errc::kPermissionDenied,
                  "dial-back only to the address the request came from (" + from + ")");
    }
    if (busy_.exchange(true)) throw Error(Errc::kOverloaded, "a dial-back is in progress");
    std::string verdict;
    try {
      auto op = core->probe(args, ctx.peer(), kDialBackTimeout);
      co_await std::move(op);
    } catch (const Error& e) {
      verdict = e.message().empty() ? "unreachable" : e.message();
    }
    busy_ = false;
    co_return verdict;
  }
  Task<void> event(CallContext&, std::uint32_t, std::string) override { co_return; }

 private:
  // "ID rest": the peer id and the rest of the text, split at the first space.
  static std::pair<PeerId, std::string> split_id(const std::string& args, std::string_view usage) {
    auto space = args.find(' ');
    if (space != std::string::npos) {
      if (auto id = PeerId::parse(std::string_view(args).substr(0, space))) {
        return {*id, args.substr(space + 1)};
      }
    }
    throw Error(Errc::kInvalidArgument, "wants '" + std::string(usage) + "'");
  }

  // introduce("ID PORT"): the caller will dial the peer ID from PORT; this
  // node asks that peer (over its own connection to it) to dial the caller
  // at the caller's IP as this node sees it with PORT, and answers where
  // the peer dials from: its IP as this node sees it with the port it gave.
  // Both addresses are what this node saw, not what anyone said.
  Task<Answer<std::string>> introduce(std::shared_ptr<NodeCore> core, CallContext& ctx,
                                      std::string args) {
    auto [target, port_text] = split_id(args, "introduce PEER_ID PORT");
    auto port = port_of_text(port_text);
    if (!port) throw Error(Errc::kInvalidArgument, "introduce: bad port");
    auto conn = core->find(target);
    if (!conn) {
      throw Error(Errc::kNotFound, "introduce: no connection to " + target.short_id());
    }
    std::string caller_ip = host_of(ctx.connection()->remote_address());
    if (caller_ip.empty()) throw Error(Errc::kUnavailable, "introduce: caller has no address");
    if (introductions_.fetch_add(1) >= kMaxPunches) {
      --introductions_;
      throw Error(Errc::kOverloaded, "introduce: too many in progress");
    }
    std::string answer;
    std::optional<Error> failed;
    try {
      auto op =
          conn->call(kPunchId, ctx.peer().to_string() + " " + join_host_port(caller_ip, *port),
                     CallOptions{std::chrono::seconds(3)});
      answer = co_await std::move(op);
    } catch (const Error& e) {
      failed = e;
    }
    --introductions_;
    if (failed) throw Error(failed->code(), "introduce: " + failed->message());
    auto their = port_of_text(answer);
    if (!their) throw Error(Errc::kProtocol, "introduce: bad punch answer");
    co_return join_host_port(host_of(conn->remote_address()), *their);
  }

  // punch("ID HOST:PORT"): dial HOST:PORT from a port of this node's own,
  // for a few seconds, expecting ID; answers that port at once. Who asks
  // names the address (the introducing node, from what it saw): at most
  // kMaxPunches at once, each one dial after another to one address, and
  // the handshake must prove ID.
  std::string punch(const std::shared_ptr<NodeCore>& core, CallContext& ctx,
                    const std::string& args) {
    // Not a structured binding: clang 14 cannot capture one in a lambda.
    auto split = split_id(args, "punch PEER_ID HOST:PORT");
    PeerId initiator = split.first;
    auto remote = ip_endpoint(split.second);
    if (!remote) throw Error(Errc::kInvalidArgument, "punch: bad address");
    if (core->options.network) throw Error(Errc::kUnavailable, "punch: not over this transport");
    if (core->punch_filter && !core->punch_filter(ctx.peer(), initiator)) {
      throw Error(Errc::kPermissionDenied,
                  "punch: not expecting " + initiator.short_id() + " through this node");
    }
    if (core->punches_in_flight.fetch_add(1) >= kMaxPunches) {
      --core->punches_in_flight;
      throw Error(Errc::kOverloaded, "punch: too many in progress");
    }
    std::shared_ptr<Punch> p;
    try {
      p = Punch::open(core->exec, host_of(ctx.connection()->local_address()));
    } catch (...) {
      --core->punches_in_flight;
      throw;
    }
    core->punches.fetch_add(1);
    asio::co_spawn(
        core->exec,
        [core, p, remote = *remote, initiator]() -> Task<void> {
          try {
            auto run = p->run(remote, kPunchTimeout);
            tcp::socket s = co_await std::move(run);
            auto op = core->take_punched(std::move(s), false, initiator);
            co_await std::move(op);
            core->punched.fetch_add(1);
          } catch (const std::exception& e) {
            auto* pe = dynamic_cast<const Error*>(&e);
            log_debug("hole punch failed",
                      {{"peer", initiator.short_id()},
                       {"to", remote.address().to_string() + ":" + std::to_string(remote.port())},
                       {"reason", pe ? pe->message() : std::string(e.what())}});
          }
          --core->punches_in_flight;
        },
        asio::detached);
    return std::to_string(p->port());
  }

  std::weak_ptr<NodeCore> core_;
  std::atomic<bool> busy_{false};
  std::atomic<int> introductions_{0};
};

}  // namespace

bool NodeCore::add_connection(const std::shared_ptr<Connection>& c) {
  std::lock_guard lock(mu_);
  if (closing) return false;
  conns_.push_back(c);
  return true;
}

void NodeCore::remove_connection(const std::shared_ptr<Connection>& c, const Error& reason) {
  {
    std::lock_guard lock(mu_);
    std::erase(conns_, c);
  }
  fail_routes_through(c);
  if (on_disconnect) on_disconnect(c, reason);
}

std::shared_ptr<Connection> NodeCore::find(const PeerId& peer) const {
  std::lock_guard lock(mu_);
  for (const auto& c : conns_) {
    if (c->is_open() && c->peer() == peer) return c;
  }
  return nullptr;
}

std::shared_ptr<Connection> NodeCore::find_dialed(const std::string& host_port) const {
  std::lock_guard lock(mu_);
  for (const auto& c : conns_) {
    if (c->is_open() && c->outbound() && c->remote_address() == host_port) return c;
  }
  return nullptr;
}

std::vector<std::shared_ptr<Connection>> NodeCore::connections() const {
  std::lock_guard lock(mu_);
  return conns_;
}

void NodeCore::establish(std::shared_ptr<Connection> c) {
  if (!add_connection(c)) {
    c->close(Error(Errc::kUnavailable, "node is shutting down"));
    return;
  }
  asio::co_spawn(c->strand_, c->read_loop(), asio::detached);
  asio::co_spawn(c->strand_, c->keepalive_loop(), asio::detached);
  // Handshake records may have been queued; a write may be needed.
  asio::dispatch(c->strand_, [c] { c->flush(); });
  if (on_connect)
    asio::dispatch(c->strand_, [self = shared_from_this(), c] { self->on_connect(c); });
}

Task<asio::ip::tcp::socket> NodeCore::connect_tcp(const HostPort& hp,
                                                  const std::string& host_port) {
  tcp::resolver resolver(exec);
  auto resolve =
      resolver.async_resolve(hp.host, std::to_string(hp.port), asio::as_tuple(use_awaitable));
  auto [rec, results] = co_await std::move(resolve);
  if (rec) throw Error::from_system(rec, "cannot resolve '" + hp.host + "'", Errc::kUnavailable);
  tcp::socket socket(exec);
  // An address that drops SYNs (a firewall, a host that is gone) would hold
  // the dial for the system's SYN retries, about two minutes: the lab had
  // joins hang that long at a firewalled relay. The guard closes the socket
  // at the deadline, as in probe_tcp.
  auto ex = co_await asio::this_coro::executor;
  Timer timer(ex);
  timer.expires_after(options.connect_timeout);
  detail::DeadlineGuard deadline(timer, [&socket] {
    boost::system::error_code ignored;
    socket.close(ignored);
  });
  auto connect = asio::async_connect(socket, results, asio::as_tuple(use_awaitable));
  auto [cec, ep] = co_await std::move(connect);
  if (deadline.finish(timer)) {
    throw Error(Errc::kTimeout,
                "cannot connect to " + host_port + ": no answer within " +
                    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       options.connect_timeout)
                                       .count()) +
                    " ms");
  }
  // ECONNREFUSED -> kUnavailable, ETIMEDOUT -> kTimeout, ...; system_code() keeps cec.
  if (cec) throw Error::from_system(cec, "cannot connect to " + host_port, Errc::kUnavailable);
  co_return socket;
}

Task<void> NodeCore::handshake_or_close(std::shared_ptr<Connection> conn,
                                        std::optional<PeerId> expected, std::string failure) {
  try {
    // Bound to no cancellation slot on purpose. Boost 1.81's co_spawn puts the
    // child's cancellation state in memory owned by the awaiting frame's slot;
    // this frame reuses that memory for its next operation while the child may
    // still be unwinding on the strand: a heap-use-after-free that AddressSanitizer
    // caught in vt-relay (fixed in later Asio, chriskohlhoff/asio#1332). The
    // handshake has its own timeout.
    auto handshake =
        asio::co_spawn(conn->strand_, conn->run_handshake(expected),
                       asio::bind_cancellation_slot(asio::cancellation_slot(), use_awaitable));
    co_await std::move(handshake);
  } catch (Error& e) {
    conn->socket_.close();
    throw Error(e.code(), failure + e.message()).set_system_code(e.system_code());
  }
}

Task<std::shared_ptr<Connection>> NodeCore::connect(std::string host_port,
                                                    std::optional<PeerId> expected) {
  auto op = dial(host_port, std::nullopt);
  auto conn = co_await std::move(op);
  auto hs = handshake_or_close(conn, expected, "connection to " + host_port + " failed: ");
  co_await std::move(hs);
  establish(conn);
  co_return conn;
}

Task<std::shared_ptr<Connection>> NodeCore::take_punched(tcp::socket socket, bool outbound,
                                                         PeerId expected) {
  auto conn = std::make_shared<Connection>(shared_from_this(), Socket(std::move(socket)), outbound);
  // Either side: the handshake knows which it is from the connection.
  auto hs = handshake_or_close(conn, expected, "handshake over a punched connection: ");
  co_await std::move(hs);
  if (closing) {
    conn->close(Error(Errc::kUnavailable, "node is shutting down"));
    throw Error(Errc::kUnavailable, "node is shutting down");
  }
  establish(conn);
  co_return conn;
}

void NodeCore::start_accept(std::shared_ptr<Listener> listener) {
  auto self = shared_from_this();
  if (listener->other) {
    asio::co_spawn(
        listener->strand,
        [self, listener]() -> Task<void> {
          for (;;) {
            std::unique_ptr<StreamTransport> stream;
            try {
              auto accept = listener->other->accept();
              stream = co_await std::move(accept);
            } catch (const Error&) {
              co_return;  // closed
            }
            self->admit(Socket(std::move(stream), self->exec));
          }
        },
        asio::detached);
    return;
  }
  asio::co_spawn(
      listener->strand,
      [self, listener]() -> Task<void> {
        // An accept that fails for want of descriptors, buffers or memory
        // leaves the connection in the backlog, so trying again at once
        // fails again at once (a loop at 88 % of a core, millions of log
        // lines): wait 10 ms, doubling to 1 s, until an accept succeeds.
        constexpr Duration kFirstBackoff = std::chrono::milliseconds(10);
        constexpr Duration kMaxBackoff = std::chrono::seconds(1);
        Duration backoff{0};
        for (;;) {
          // The accepted socket runs on the node's executor, not on the
          // acceptor's strand.
          auto accept = listener->acceptor->async_accept(self->exec, asio::as_tuple(use_awaitable));
          auto [ec, socket] = co_await std::move(accept);
          if (!ec) {
            backoff = Duration(0);
            self->admit(Socket(std::move(socket)));
            continue;
          }
          if (ec == asio::error::operation_aborted || !listener->acceptor->is_open()) co_return;
          self->accept_failures.fetch_add(1, std::memory_order_relaxed);
          namespace errc = boost::system::errc;
          bool starved = ec == errc::too_many_files_open ||
                         ec == errc::too_many_files_open_in_system || ec == errc::no_buffer_space ||
                         ec == errc::not_enough_memory;
          if (starved) backoff = std::clamp(2 * backoff, kFirstBackoff, kMaxBackoff);
          if (auto held = self->log_allowed("accept failed: " + ec.message())) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count();
            log_warn("accept failed", {{"reason", ec.message()},
                                       {"retry_in_ms", std::to_string(ms)},
                                       {"held_back", std::to_string(*held)}});
          }
          if (!starved) continue;
          listener->backoff.expires_after(backoff);
          auto wait = listener->backoff.async_wait(asio::as_tuple(use_awaitable));
          co_await std::move(wait);
        }
      },
      asio::detached);
}

void NodeCore::admit(Socket socket) {
  std::string remote = socket.remote_address();
  if (remote.empty()) return;  // gone already
  std::string ip = host_of(remote);
  internal::Refusal refusal = admission.admit(ip, address_scope(ip) == AddressScope::kLoopback);
  if (refusal != internal::Refusal::kNone) {
    refused.fetch_add(1, std::memory_order_relaxed);
    // A reset rather than a FIN: this side keeps no TIME_WAIT for a stranger.
    socket.close(true);
    std::string reason(refusal_name(refusal));
    if (auto held = log_allowed("connection refused: " + reason)) {
      log_warn("connection refused",
               {{"addr", remote}, {"reason", reason}, {"held_back", std::to_string(*held)}});
    }
    return;
  }
  auto conn = std::make_shared<Connection>(shared_from_this(), std::move(socket), false);
  conn->admitted(std::move(ip));
  run_inbound_handshake(std::move(conn));
}

void NodeCore::run_inbound_handshake(std::shared_ptr<Connection> conn) {
  asio::co_spawn(
      conn->strand_,
      [self = shared_from_this(), conn]() -> Task<void> {
        try {
          auto handshake = conn->run_handshake(std::nullopt);
          co_await std::move(handshake);
        } catch (const Error& e) {
          std::string reason(errc_name(e.code()));
          if (auto held = self->log_allowed("handshake failed: " + reason)) {
            log_warn("handshake failed", {{"addr", conn->remote_address()},
                                          {"reason", reason},
                                          {"detail", e.message()},
                                          {"held_back", std::to_string(*held)}});
          }
          conn->socket_.close();
          conn->leave_admission();
          co_return;
        }
        if (self->closing) {
          conn->close(Error(Errc::kUnavailable, "node is shutting down"));
          co_return;
        }
        self->establish(conn);
      },
      asio::detached);
}

void NodeCore::stop_accepting() {
  closing = true;
  for (auto& l : listeners) {
    asio::dispatch(l->strand, [l] {
      boost::system::error_code ignored;
      if (l->acceptor) l->acceptor->close(ignored);
      if (l->other) l->other->close();
      l->backoff.cancel();
    });
  }
}

std::optional<std::uint64_t> NodeCore::log_allowed(const std::string& kind) {
  std::lock_guard lock(log_mu_);
  auto held = log_throttle_.admit(kind, LogThrottle::Clock::now());
  if (!held) arm_log_timer_locked();
  return held;
}

void NodeCore::arm_log_timer_locked() {
  auto next = log_throttle_.next_due();
  if (log_timer_armed_ || closing || !next) return;
  log_timer_armed_ = true;
  log_timer_.expires_at(*next);
  log_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) {
      std::lock_guard lock(self->log_mu_);
      self->log_timer_armed_ = false;
      self->write_held_back(LogThrottle::Clock::now());
    }
  });
}

void NodeCore::write_held_back(LogThrottle::Clock::time_point now) {
  // A kind is "<message>: <reason>"; the summary is a line of that kind
  // with no details but the count.
  for (const auto& d : log_throttle_.due(now)) {
    auto colon = d.kind.find(": ");
    log_warn(std::string_view(d.kind).substr(0, colon),
             {{"reason", colon == std::string::npos ? "" : d.kind.substr(colon + 2)},
              {"held_back", std::to_string(d.held_back)}});
  }
  arm_log_timer_locked();
}

void NodeCore::stop_log_throttle() {
  std::lock_guard lock(log_mu_);
  log_timer_armed_ = false;
  log_timer_.cancel();
  write_held_back(LogThrottle::Clock::time_point::max());
}

NodeStats NodeCore::stats() const {
  AdmissionCounts c = admission.counts();
  NodeStats s;
  s.handshakes = c.handshakes;
  s.accepted = c.connections;
  s.connection_objects = connection_objects.load(std::memory_order_relaxed);
  s.input_buffer_bytes = input_buffer_bytes.load(std::memory_order_relaxed);
  s.refused = refused.load(std::memory_order_relaxed);
  s.accept_failures = accept_failures.load(std::memory_order_relaxed);
  s.punches = punches.load(std::memory_order_relaxed);
  s.punched = punched.load(std::memory_order_relaxed);
  return s;
}

}  // namespace internal

Node::Node(Executor executor, Identity identity, NodeOptions options)
    : core_(
          std::make_shared<internal::NodeCore>(std::move(executor), std::move(identity), options)) {
  add_service(std::make_shared<internal::ReachService>(core_));
}

Node::~Node() { close(); }

const PeerId& Node::id() const { return core_->id; }
const Identity& Node::identity() const { return core_->identity; }
Executor Node::executor() const { return core_->exec; }
const NodeOptions& Node::options() const { return core_->options; }

void Node::add_service(std::shared_ptr<Service> service) {
  for (const auto& m : service->methods()) {
    auto [it, inserted] = core_->methods.emplace(m.id, internal::NodeCore::Method{service, m});
    if (!inserted) {
      throw Error(Errc::kInvalidArgument, "method id collision: " + std::string(m.name) + " and " +
                                              std::string(it->second.info.name));
    }
  }
  services_.push_back(std::move(service));
}

Result<std::uint16_t> Node::listen(const std::string& host_port) {
  auto hp = parse_host_port(host_port);
  if (!hp) return hp.error();
  if (core_->options.network) {
    auto other = core_->options.network->listen(host_port);
    if (!other) return other.error();
    auto listener = std::make_shared<internal::NodeCore::Listener>(asio::make_strand(core_->exec));
    listener->other = std::move(*other);
    auto port = listener->other->port();
    if (core_->listen_addr.empty()) {
      core_->listen_host = listener->other->host();
      core_->listen_port = port;
      core_->listen_addr = join_host_port(core_->listen_host, port);
    }
    core_->listeners.push_back(listener);
    core_->start_accept(listener);
    return port;
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(hp->host == "localhost" ? "127.0.0.1" : hp->host, ec);
  if (ec) {
    return Error(Errc::kInvalidArgument, "cannot listen on '" + host_port + "': not an IP address");
  }
  auto listener = std::make_shared<internal::NodeCore::Listener>(asio::make_strand(core_->exec));
  tcp::acceptor* acceptor = &listener->acceptor.emplace(listener->strand);
  tcp::endpoint ep(addr, hp->port);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error::from_system(ec, "cannot listen on " + host_port, Errc::kUnavailable);
  auto port = acceptor->local_endpoint().port();
  if (core_->listen_addr.empty()) {
    core_->listen_addr = join_host_port(addr.to_string(), port);
    core_->listen_host = addr.to_string();
    core_->listen_port = port;
  }
  core_->listeners.push_back(listener);
  core_->start_accept(listener);
  return port;
}

std::string Node::listen_addr() const { return core_->listen_addr; }
std::string Node::advertised_addr() const { return core_->advertised(); }

Reachability::State Node::reachable() const { return core_->reachability(); }

Task<Reachability> Node::check_reachable(std::shared_ptr<Connection> via) {
  Reachability r;
  if (!via || !via->is_open()) {
    r.reason = "no connection to ask";
    co_return r;
  }
  r.addr = core_->dial_back_target(*via);
  if (r.addr.empty()) {
    r.reason = "no address to try (not listening)";
    co_return r;
  }
  try {
    auto op = via->call(internal::kDialBackId, r.addr,
                        CallOptions{internal::kDialBackTimeout + std::chrono::seconds(2)});
    std::string verdict = co_await std::move(op);
    r.state = verdict.empty() ? Reachability::State::kReachable : Reachability::State::kUnreachable;
    r.reason = verdict;
  } catch (const Error& e) {
    r.reason = e.message();  // the peer could not tell (older, busy, refused)
    co_return r;
  }
  core_->set_reachability(r.state, r.addr);
  co_return r;
}

Task<std::shared_ptr<Connection>> Node::connect(std::string host_port,
                                                std::optional<PeerId> expected) {
  return core_->connect(std::move(host_port), std::move(expected));
}

std::shared_ptr<Connection> Node::find(const PeerId& peer) const { return core_->find(peer); }

Task<std::shared_ptr<Connection>> Node::punch(std::shared_ptr<Connection> via, PeerId peer,
                                              Duration timeout) {
  if (auto c = core_->find(peer)) co_return c;
  if (!via || !via->is_open()) throw Error(Errc::kUnavailable, "punch: no connection to ask");
  if (core_->options.network) throw Error(Errc::kUnavailable, "punch: not over this transport");
  auto p = internal::Punch::open(core_->exec, host_of(via->local_address()));
  core_->punches.fetch_add(1);
  auto ask = via->call(internal::kIntroduceId, peer.to_string() + " " + std::to_string(p->port()),
                       CallOptions{timeout});
  std::string their = co_await std::move(ask);
  auto remote = internal::ip_endpoint(their);
  if (!remote) throw Error(Errc::kProtocol, "punch: bad introduction: " + their);
  auto run = p->run(*remote, timeout);
  tcp::socket s = co_await std::move(run);
  auto take = core_->take_punched(std::move(s), true, peer);
  auto conn = co_await std::move(take);
  core_->punched.fetch_add(1);
  co_return conn;
}

Task<std::shared_ptr<Connection>> Node::get_or_connect(const PeerId& peer, std::string host_port) {
  if (auto c = core_->find(peer)) co_return c;
  auto op = core_->connect(std::move(host_port), peer);
  co_return co_await std::move(op);
}

Task<std::shared_ptr<Connection>> Node::get_or_connect(std::string host_port) {
  if (auto c = core_->find_dialed(host_port)) co_return c;
  auto op = core_->connect(std::move(host_port), std::nullopt);
  co_return co_await std::move(op);
}

std::vector<std::shared_ptr<Connection>> Node::connections() const { return core_->connections(); }

NodeStats Node::stats() const { return core_->stats(); }

void Node::on_connect(std::function<void(const std::shared_ptr<Connection>&)> f) {
  core_->on_connect = std::move(f);
}

void Node::on_disconnect(std::function<void(const std::shared_ptr<Connection>&, const Error&)> f) {
  core_->on_disconnect = std::move(f);
}

void Node::on_punch_request(std::function<bool(const PeerId&, const PeerId&)> f) {
  core_->punch_filter = std::move(f);
}

Task<void> Node::shutdown(Duration grace) {
  core_->stop_accepting();
  for (auto& c : core_->connections()) {
    try {
      auto op = c->goaway("node shutting down", grace);
      co_await std::move(op);
    } catch (const std::exception&) {
    }
  }
}

Task<void> Node::close_and_wait() {
  close();
  // Those whose close has not run yet are still listed.
  for (auto& c : core_->connections()) {
    auto op = c->wait_closed();
    co_await std::move(op);
  }
}

void Node::close() {
  core_->stop_accepting();
  core_->stop_deadline_timer();
  core_->stop_log_throttle();
  for (auto& c : core_->connections()) c->close(Error(Errc::kUnavailable, "node closed"));
}

}  // namespace peers::rpc
