// One side of a TCP simultaneous open (hole punching, docs/protocol.md).
//
// Two nodes that cannot dial each other (each behind a NAT that drops what
// it did not ask for) learn each other's outer address through a node both
// are connected to, and then both dial at once. Each side's outgoing SYN
// opens its own NAT for the other's; the SYNs cross and TCP makes one
// connection of them. Where one side can be reached after all (no NAT, or a
// NAT that lets it in) the other's SYN may arrive while nothing there dials
// yet: a listener on the same port (SO_REUSEPORT) takes it instead, and a
// refused dial is tried again until the deadline. The first connection that
// stands wins; the rest is closed.
//
//   auto p = Punch::open(exec, "192.168.1.10");   // binds a port
//   tell the other side p->port() (through the common node) ...
//   tcp::socket s = co_await p->run(their_endpoint, 5s);
//
// The outer port is predicted as the local one: NATs that keep the port
// (Linux masquerade does when it is free; many home routers do) work, those
// that pick another port for every destination fail the punch with a
// timeout, and the caller falls back to a node it can dial.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <optional>
#include <string>

#include "lib/kernel/timer.h"
#include "lib/rpc/types.h"

namespace peers::rpc::internal {

class Punch : public std::enable_shared_from_this<Punch> {
 public:
  using tcp = boost::asio::ip::tcp;

  // Listens on local_ip and a port the system picks. Throws Error
  // (kInvalidArgument for a bad IP, kUnavailable when the system refuses).
  static std::shared_ptr<Punch> open(const Executor& exec, const std::string& local_ip);
  ~Punch();
  std::uint16_t port() const { return local_.port(); }

  // Dials `remote` from port() (again after a refusal, every 200 ms) and
  // accepts on port() from remote's IP, until one connection stands or
  // `timeout` passed. Throws Error(kTimeout) naming the last failure. Once.
  Task<tcp::socket> run(tcp::endpoint remote, Duration timeout);

  // Connect attempts made (for diagnostics).
  unsigned attempts() const { return attempts_; }

 private:
  explicit Punch(const Executor& exec);
  void start_connect();
  void start_accept();
  // Ends the punch with `s` (none: failed, why in last_error_). On the strand.
  void finish(std::optional<tcp::socket> s);

  Executor exec_;    // the node's: sockets live there
  Executor strand_;  // every handler of the punch runs here
  tcp::acceptor acceptor_;
  std::optional<tcp::socket> connector_;
  tcp::endpoint local_, remote_;
  Timer deadline_, retry_, signal_;
  std::optional<tcp::socket> result_;
  bool over_ = false;
  std::string last_error_ = "no answer";
  unsigned attempts_ = 0;
};

}  // namespace peers::rpc::internal
