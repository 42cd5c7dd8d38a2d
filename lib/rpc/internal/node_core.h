// Internal state of a Node shared with its connections. Not for other
// components.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "lib/kernel/log.h"
#include "lib/kernel/timer.h"
#include "lib/rpc/address.h"
#include "lib/rpc/connection.h"
#include "lib/rpc/internal/admission.h"
#include "lib/rpc/internal/log_throttle.h"
#include "lib/rpc/node.h"
#include "lib/rpc/service.h"
#include "lib/rpc/transport.h"

namespace peers::rpc::internal {

// 16-byte token proving an answer belongs to call `id` made on the connection
// whose handshake produced `binding_key`.
std::string continuation_token(const std::array<std::uint8_t, 32>& binding_key, std::uint64_t id);

class NodeCore : public std::enable_shared_from_this<NodeCore> {
 public:
  NodeCore(Executor exec, Identity identity, NodeOptions options);

  struct Method {
    // Weak on purpose: the Node handle owns its services. A service commonly
    // keeps connections (to forward to, to call back), and every connection
    // keeps this core, so a strong reference here would be a cycle that
    // outlives the Node. Lock it for the length of one call.
    std::weak_ptr<Service> service;
    MethodInfo info;
  };

  // A call this node made and still awaits, possibly answered through a
  // continuation from another node.
  struct Pending {
    Connection::ReplyHandler handler;
    std::weak_ptr<Connection> conn;
    std::array<std::uint8_t, 32> binding{};
    bool forwarded = false;
    // When the caller stops waiting; what the timeout error names.
    std::chrono::steady_clock::time_point deadline;
    std::uint32_t method_id = 0;
    Duration timeout{};
  };

  const Method* method(std::uint32_t id) const;

  std::uint64_t new_call_id() { return next_call_id_.fetch_add(1); }
  // Registers a call awaiting its answer until p.deadline. One timer per node
  // watches the earliest deadline of all pending calls (a timer per call cost
  // an allocation, a timer-queue insertion and a cancelled-handler run on
  // every call).
  void add_pending(std::uint64_t id, Pending p);
  // Stops the wait for the earliest deadline (Node::close): a waiting timer
  // is work that keeps io_context::run() from returning. The timer is left
  // waiting when the last pending call completes, as cancelling it would
  // cost a handler run per call; it then fires once, finds nothing and stops.
  void stop_deadline_timer();
  // Completes and removes a pending call if `from` may answer it (null: any).
  // Returns false if there was no such call.
  // `here`: the waiter may be resumed inside this call (see
  // Completion::resume_here); only from the top of a connection's read loop.
  bool complete(std::uint64_t id, const Connection* from, std::exception_ptr error,
                std::string result, bool here = false);
  void mark_forwarded(std::uint64_t id, const Connection* from);
  bool is_forwarded(std::uint64_t id);
  // An answer that came through a continuation.
  void complete_continuation(const wire::Continuation& c, std::exception_ptr error,
                             std::string result);
  // Sends an answer to the original caller of a forwarded call: on an open
  // connection to the caller if there is one, else back along the
  // connection the call arrived on (`arrived_on`: each node that forwarded
  // it kept a route back), and only when that is gone by dialing the
  // caller's address.
  void deliver_continuation(wire::Continuation c, std::exception_ptr error, std::string result,
                            std::weak_ptr<Connection> arrived_on);
  // Remembers, until `expiry`, that answers for continuation `c` go back on
  // `upstream` (the connection the forwarded call came in on), and that the
  // call went on over `downstream`. Bounded: kMaxRoutes, the one closest to
  // expiry dropped first.
  void add_route(const wire::Continuation& c, std::weak_ptr<Connection> upstream,
                 std::chrono::steady_clock::time_point expiry,
                 std::weak_ptr<Connection> downstream);
  // The connection an answer for `c` goes back on, or null; the route is
  // used up.
  std::shared_ptr<Connection> take_route(const wire::Continuation& c);
  static constexpr std::size_t kMaxRoutes = 4096;
  // An answer for another node's call that came back to this node, which
  // forwarded the call: sent on along its route (dropped without one).
  void relay_continuation(const wire::Continuation& c, std::optional<wire::ErrorBody> error,
                          std::string result);

  // Lists c, unless the node is closing (then false): under the same lock
  // as connections(), so a connection established while close() runs on
  // another thread is either in close()'s list or refused here.
  bool add_connection(const std::shared_ptr<Connection>& c);
  void remove_connection(const std::shared_ptr<Connection>& c, const Error& reason);
  std::shared_ptr<Connection> find(const PeerId& peer) const;
  // An open connection this node dialed to host_port, or null.
  std::shared_ptr<Connection> find_dialed(const std::string& host_port) const;
  std::vector<std::shared_ptr<Connection>> connections() const;

  Task<std::shared_ptr<Connection>> connect(std::string host_port, std::optional<PeerId> expected);
  // A new outbound connection, before its handshake: over the Network when
  // there is one, else TCP (with a timeout: a probe's plain connect).
  Task<std::shared_ptr<Connection>> dial(const std::string& host_port,
                                         std::optional<Duration> timeout);
  // Runs the handshake of a connection this node made (dialed or punched),
  // expecting `expected` if given; on failure closes the socket and throws
  // the error with `failure` before its message.
  Task<void> handshake_or_close(std::shared_ptr<Connection> conn, std::optional<PeerId> expected,
                                std::string failure);
  // A connection a hole punch made: runs the handshake (as the dialer when
  // `outbound`) expecting `expected`, then establishes it.
  Task<std::shared_ptr<Connection>> take_punched(boost::asio::ip::tcp::socket socket, bool outbound,
                                                 PeerId expected);
  Task<boost::asio::ip::tcp::socket> connect_tcp(const HostPort& hp, const std::string& host_port);
  Task<boost::asio::ip::tcp::socket> probe_tcp(const HostPort& hp, const std::string& host_port,
                                               Duration timeout);
  // A listening socket and the timer its accept loop backs off with; both
  // on one strand of their own.
  struct Listener {
    explicit Listener(Executor strand) : strand(strand), backoff(strand) {}
    Executor strand;
    // TCP; none for a Network's listener (an acceptor would start the
    // io_context's reactor).
    std::optional<boost::asio::ip::tcp::acceptor> acceptor;
    Timer backoff;
    std::unique_ptr<ListenTransport> other;  // a Network's listener, else TCP
  };
  void start_accept(std::shared_ptr<Listener> listener);
  // Sets `closing` and closes every acceptor on its own strand (its accept
  // loop may be starting an accept at that moment). Any thread.
  void stop_accepting();
  void establish(std::shared_ptr<Connection> c);
  // Takes on a connection just accepted, or closes it at once when it is
  // over a limit of NodeOptions. On the acceptor's strand.
  void admit(Socket socket);
  void run_inbound_handshake(std::shared_ptr<Connection> conn);

  // Whether a line of `kind` ("<message>: <reason>") may be logged now, and
  // how many of that kind were held back since the last (see LogThrottle):
  // the held-back summary is "<message> reason=<reason> held_back=N". Lines
  // about strangers (refusals, failed handshakes, failed accepts) are
  // written at most once a second per kind. Held-back counts are written by a timer when their
  // second is over, and by stop_log_throttle(). Any thread.
  std::optional<std::uint64_t> log_allowed(const std::string& kind);
  void stop_log_throttle();
  NodeStats stats() const;

  Executor exec;
  // The io_context behind exec (a Node needs one: connections' strands are
  // strands of its own executor type).
  boost::asio::io_context* io;
  Identity identity;
  PeerId id;
  NodeOptions options;
  std::unordered_map<std::uint32_t, Method> methods;  // filled before start
  std::string listen_addr;
  // The first listening socket's host and port (see Node::listen).
  std::string listen_host;
  std::uint16_t listen_port = 0;

  // The address to tell the peer of a connection with these ends ("ip:port"
  // each): rpc/address.h's advertised_address().
  std::string advertise_to(const std::string& local, const std::string& remote) const;
  // After a handshake: this side's end, the peer's, and where the peer says
  // it sees this side ("" if it did not say).
  void learn_address(const std::string& local, const std::string& remote,
                     const std::string& observed);
  std::string advertised() const;
  // A dial-back's verdict on `addr` (see Node::check_reachable).
  void set_reachability(Reachability::State state, const std::string& addr);
  Reachability::State reachability() const;
  // The address check_reachable() asks a peer to dial, "" if none.
  std::string dial_back_target(const Connection& via) const;
  // Dials host_port and runs the handshake expecting `expected`, within
  // `timeout`, then closes; fails with the reason. For dial-backs.
  Task<void> probe(std::string host_port, PeerId expected, Duration timeout);
  std::vector<std::shared_ptr<Listener>> listeners;
  std::function<void(const std::shared_ptr<Connection>&)> on_connect;
  std::function<void(const std::shared_ptr<Connection>&, const Error&)> on_disconnect;
  std::function<bool(const PeerId&, const PeerId&)> punch_filter;  // Node::on_punch_request
  std::atomic<bool> closing{false};  // set from any thread, read on strands
  Admission admission;
  std::atomic<std::size_t> connection_objects{0};
  std::atomic<std::size_t> input_buffer_bytes{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> accept_failures{0};
  // Hole punches this node took part in (either side), and those that
  // ended in an authenticated connection.
  std::atomic<std::uint64_t> punches{0};
  std::atomic<std::uint64_t> punched{0};
  std::atomic<int> punches_in_flight{0};  // served (peers.Reach.punch) now

 private:
  std::atomic<std::uint64_t> next_call_id_{1};
  mutable std::mutex mu_;
  std::unordered_map<std::uint64_t, Pending> pending_;
  // (deadline, call id) of every pending call, earliest first.
  std::set<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> deadlines_;
  Timer deadline_timer_;
  // What deadline_timer_ waits for; max() when it is not waiting.
  std::chrono::steady_clock::time_point timer_armed_ = std::chrono::steady_clock::time_point::max();
  void arm_deadline_timer_locked();
  void on_deadline();
  std::vector<std::shared_ptr<Connection>> conns_;
  // add_route(): (caller id, call id, token) -> the way back, and when the
  // route expires.
  struct Route {
    std::weak_ptr<Connection> upstream;
    std::chrono::steady_clock::time_point expiry;
    // The connection the call was forwarded on: when it closes before the
    // answer came back, the answer may be lost with it (the node that left
    // was its way back), and the caller hears so at once (remove_connection).
    // An answer that still reaches the caller another way (a node further
    // on with a connection to it) comes second and is dropped there: a
    // retry, not a wait of the caller's whole deadline.
    std::weak_ptr<Connection> downstream;
  };
  // Answers, with a connection_lost error, the calls forwarded over `gone`
  // whose answers have not come back: a node on the way left, and the
  // caller would otherwise wait for its whole deadline.
  void fail_routes_through(const std::shared_ptr<Connection>& gone);
  std::map<std::tuple<std::string, std::uint64_t, std::string>, Route> routes_;
  // Puts a continuation's answer on `conn`, on its strand.
  static void send_continuation(const std::shared_ptr<Connection>& conn, wire::Continuation c,
                                std::optional<wire::ErrorBody> error, std::string result);
  // learn_address(): the local IP of the widest scope seen on a connection,
  // and whether a peer on a public address saw this node at another IP.
  std::string learned_ip_;
  int learned_rank_ = 0;
  bool behind_nat_ = false;
  Reachability::State reach_state_ = Reachability::State::kUnknown;
  std::string reach_addr_;  // the address a dial-back reached

  void arm_log_timer_locked();
  void write_held_back(LogThrottle::Clock::time_point now);
  std::mutex log_mu_;  // guards the two below
  LogThrottle log_throttle_;
  Timer log_timer_;
  bool log_timer_armed_ = false;
};

}  // namespace peers::rpc::internal
