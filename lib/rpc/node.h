// A Peers node: an identity, the services it serves, and its connections.
//
// A Node listens and dials; every connection is authenticated both ways in
// the handshake, so every handler knows which peer called it. One connection
// per peer pair carries calls both ways. The node runs on an io_context the
// caller owns; it may run on several threads (each connection keeps to its
// own strand).
//
//   boost::asio::io_context io;
//   peers::rpc::Node node(io.get_executor(), peers::Identity::generate());
//   node.add_service(std::make_shared<MyOverlay>());
//   uint16_t port = node.listen("127.0.0.1:0").value();
//   io.run();
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/crypto/identity.h"
#include "lib/kernel/error.h"
#include "lib/rpc/address.h"
#include "lib/rpc/connection.h"
#include "lib/rpc/service.h"
#include "lib/rpc/transport.h"
#include "lib/rpc/types.h"

namespace peers::rpc {

struct NodeOptions {
  Duration keepalive_interval = std::chrono::seconds(2);
  // A connection that receives nothing (not even a PONG) for this long is
  // closed: it catches frozen peers and peers that stopped reading.
  Duration idle_timeout = std::chrono::seconds(10);
  Duration handshake_timeout = std::chrono::seconds(10);
  // A dial whose SYNs nobody answers fails after this (the system would
  // retry for about two minutes). It covers the first two SYN
  // retransmissions (at 1 and 3 s): a peer that answers does so long before.
  Duration connect_timeout = std::chrono::seconds(5);
  Duration default_call_timeout = std::chrono::seconds(30);
  // Unsent bytes a connection may queue before the peer counts as stuck.
  std::size_t max_write_buffer = 64u << 20;
  // Receive window of a data channel.
  std::size_t channel_window = 1u << 20;
  // Benchmarks only: no encryption when both sides allow it.
  bool allow_plain = false;
  bool prefer_chacha = false;

  // Limits on accepted connections (strangers cost little until they prove
  // who they are). A connection over a limit is closed as soon as it is
  // accepted; refusals are logged at most once a second per kind, with a
  // count. Connections this node dials are not counted.
  //
  // Connections still in the handshake. Each holds a small buffer and a
  // handshake_timeout at most; an honest handshake takes one round trip.
  std::size_t max_handshakes = 64;
  // All accepted connections, handshakes included: each costs a descriptor
  // (a process usually has 1024) and memory (docs/security.md).
  std::size_t max_connections = 1024;
  // Accepted connections from one IP address (a NAT may hide a few peers).
  std::size_t max_connections_per_address = 32;
  // Loopback peers are usually several nodes on one host (tests, the demo),
  // so the per-address limit leaves them alone unless this is set.
  bool limit_loopback_per_address = false;

  // Where peers should dial this node when it is not where it listens (a
  // port forwarded by hand): announced to every peer as it is.
  std::string announce;

  // The transport: null for TCP; vt-sim gives each node its simulated host.
  std::shared_ptr<Network> network;
};

// What a node holds for its accepted connections; for tests and diagnostics.
// What a dial-back check found (Node::check_reachable).
struct Reachability {
  enum class State { kUnknown, kReachable, kUnreachable };
  State state = State::kUnknown;
  std::string addr;    // the address that was tried ("" if none to try)
  std::string reason;  // why not, when unreachable or unknown
};

struct NodeStats {
  std::size_t handshakes = 0;          // accepted, handshake not finished
  std::size_t accepted = 0;            // accepted and not closed, handshakes included
  std::size_t connection_objects = 0;  // Connections not yet destroyed (both directions)
  std::size_t input_buffer_bytes = 0;  // receive buffers of all its connections
  std::uint64_t refused = 0;           // connections closed at once for a limit
  std::uint64_t accept_failures = 0;   // accept() errors (EMFILE, ...)
  std::uint64_t punches = 0;           // hole punches taken part in (Node::punch, either side)
  std::uint64_t punched = 0;           // of those, ended in an authenticated connection
};

namespace internal {
class NodeCore;
}

class Node {
 public:
  // `executor` is an io_context's (io.get_executor()); the io_context may be
  // run by any number of threads. Throws Error(kInvalidArgument) otherwise.
  Node(Executor executor, Identity identity, NodeOptions options = {});
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const PeerId& id() const;
  const Identity& identity() const;
  Executor executor() const;
  const NodeOptions& options() const;

  // Serves an interface. Add services before listening or connecting. The
  // Node keeps the service alive as long as the Node itself; a connection
  // that outlives the Node answers new calls with Errc::kUnavailable.
  void add_service(std::shared_ptr<Service> service);

  // Binds "host:port" (port 0 picks one) and accepts connections. Returns the
  // port; fails with kUnavailable (address in use) or kPermissionDenied
  // (EACCES), keeping the system's code as system_code(). The first listening
  // address is announced to peers in the handshake (it is where continuations
  // reach this node).
  Result<std::uint16_t> listen(const std::string& host_port);
  std::string listen_addr() const;
  // The address to tell peers that are not on the other end of a particular
  // connection (addresses that travel on, in paths and redirects), "" when
  // this node knows none that others could dial: NodeOptions::announce; the
  // listening address when it names one host; when it listens on all
  // interfaces, the local address of its connections of the widest scope
  // (public over private over loopback) with the listening port. A node
  // that a peer on a public address saw at another IP than its own is
  // behind a NAT: it advertises "" (no --announce) unless a dial-back
  // proved it reachable. Each connection's handshake tells its peer an
  // address chosen for that peer (Connection::advertised_addr()).
  std::string advertised_addr() const;

  // Asks the peer of `via` to dial this node back (the built-in method
  // peers.Reach.dial_back, docs/protocol.md) at the address it would
  // advertise, or, behind a NAT without --announce, at the NAT's address
  // (as `via`'s peer saw it) with the listening port, in case the port is
  // forwarded. A reachable address becomes advertised_addr(); an
  // unreachable one means the node advertises none. The peer dials only
  // the IP the request came from and expects this node's identity in the
  // handshake. Never throws; a peer that cannot tell gives kUnknown.
  Task<Reachability> check_reachable(std::shared_ptr<Connection> via);
  // The last check's verdict (kUnknown before any).
  Reachability::State reachable() const;

  // Dials and authenticates; fails with Errc::kAuth if `expected` is given
  // and the other side is someone else, Errc::kUnavailable if nothing listens
  // (or the host cannot be resolved or reached), Errc::kTimeout if the
  // system's connect timed out. A failure of the system keeps its code as the
  // error's system_code() (ECONNREFUSED, ETIMEDOUT, ...).
  Task<std::shared_ptr<Connection>> connect(std::string host_port,
                                            std::optional<PeerId> expected = std::nullopt);
  // A connection to `peer`, which cannot be dialed (or cannot dial this
  // node), made through `via`, a connection to a node that has one to
  // `peer`: that node tells each side the other's address as it sees it,
  // and both dial at once from the ports they gave, so that each one's
  // outgoing SYN opens its NAT for the other's (TCP simultaneous open,
  // peers.Reach.introduce and peers.Reach.punch, docs/protocol.md). This
  // side runs the handshake as the dialer and expects `peer`. An open
  // connection to `peer` is returned as it is. Fails with kTimeout when no
  // connection stood within `timeout` (a NAT that picks another port per
  // destination, or one that refuses), kNotFound when `via`'s node has no
  // connection to `peer`, kUnavailable over a simulated network.
  Task<std::shared_ptr<Connection>> punch(std::shared_ptr<Connection> via, PeerId peer,
                                          Duration timeout = std::chrono::seconds(4));
  // An open connection to this peer, or null.
  std::shared_ptr<Connection> find(const PeerId& peer) const;
  // An open connection to the peer, or a new one to host_port.
  Task<std::shared_ptr<Connection>> get_or_connect(const PeerId& peer, std::string host_port);
  // An open connection this node dialed to host_port (whoever answered
  // there), or a new one. Only dialed ones: an address a peer states about
  // itself proves nothing.
  Task<std::shared_ptr<Connection>> get_or_connect(std::string host_port);
  std::vector<std::shared_ptr<Connection>> connections() const;
  NodeStats stats() const;

  // Called on the connection's strand when a connection is established or
  // closed (with the reason).
  void on_connect(std::function<void(const std::shared_ptr<Connection>&)> f);
  void on_disconnect(std::function<void(const std::shared_ptr<Connection>&, const Error&)> f);
  // Which punches (peers.Reach.punch) this node serves: `f(asker, peer)` is
  // asked, on the asker's connection's strand, before the node dials the
  // address `asker` names to meet `peer`; false refuses with
  // kPermissionDenied. Without a filter every connected peer may ask (at
  // most 8 at once), so a node that expects punches only from peers it
  // knows (the overlay: a joiner it reserved a slot for, introduced by its
  // own parent) sets one, and is not made to dial strangers' addresses.
  void on_punch_request(std::function<bool(const PeerId& asker, const PeerId& peer)> f);

  // Stops accepting, sends GOAWAY on every connection and waits (up to
  // `grace`) for calls in flight to finish.
  Task<void> shutdown(Duration grace = std::chrono::seconds(5));
  // Closes everything now. Any thread: listening sockets and connections
  // close on their own strands, so they may finish a moment after it returns.
  // A program that ends its loop after close() waits for close_and_wait()
  // instead: a close queued behind a busy connection's other work would
  // never run, and the connection, its channels and the coroutines waiting
  // on them would hold each other for ever (a leak at exit).
  void close();
  // close(), then returns once every connection has closed (their waiters
  // woken, their channels failed). Await it on the node's loop.
  Task<void> close_and_wait();

 private:
  std::shared_ptr<internal::NodeCore> core_;
  // Owned here, not by core_ (which connections share): see NodeCore::Method.
  std::vector<std::shared_ptr<Service>> services_;
};

}  // namespace peers::rpc
