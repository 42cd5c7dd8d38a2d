// Addresses: "host:port" text, what kind of address an IP is, and which of
// this node's addresses to tell a given peer.
//
// A node that listens on all interfaces (0.0.0.0 or ::) must not advertise
// that address: a peer that dials it reaches itself. Nor may it advertise a
// loopback or link-local address to a peer elsewhere. The address a peer is
// told is chosen per connection: --announce when the user forwarded a port
// by hand, else the listening host, else the local address of the
// connection (the interface that peer reached), with the listening port,
// and only when the peer can use it. Plain functions; no sockets, no Asio.
//
//   auto hp = peers::rpc::parse_host_port("[::1]:7000");  // {"::1", 7000}
//   peers::rpc::advertised_address({.listen_host = "0.0.0.0", .port = 7000,
//                                   .local_ip = "10.0.0.2", .peer_ip = "10.0.0.9"});
//   // "10.0.0.2:7000"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/kernel/error.h"

namespace peers::rpc {

// "host:port" -> endpoint pieces; IPv6 as "[::1]:7000".
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
Result<HostPort> parse_host_port(std::string_view text);
// The inverse: "[::1]:7000" for an IPv6 host, "h:7000" otherwise.
std::string join_host_port(std::string_view host, std::uint16_t port);

// The host of "host:port" ("" if it does not parse), an IPv4-mapped IPv6
// address as IPv4 (a dual-stack socket sees IPv4 peers that way).
std::string host_of(std::string_view host_port);

// The address a peer claims for itself (where others may dial it), kept only
// when it is on the IP its session comes from: a peer cannot point others at
// a third party. "" otherwise, and for a claim that does not parse.
std::string checked_peer_address(std::string_view claimed, std::string_view session_remote);

// What an IP address can be used for. A host name (not an IP literal) is
// kName: the user typed it, so it is trusted to mean something.
enum class AddressScope {
  kUnspecified,  // 0.0.0.0, ::  (listen on all; never dialable)
  kLoopback,     // 127/8, ::1   (this host only)
  kLinkLocal,    // 169.254/16, fe80::/10  (this link only)
  kPrivate,      // 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier NAT), fc00::/7
  kPublic,       // anything else
  kName,         // not an IP literal
};
// `ip` without a port; an IPv4-mapped IPv6 address counts as its IPv4 address.
AddressScope address_scope(std::string_view ip);
std::string_view to_string(AddressScope scope);

// Whether a peer that this node sees at an address of scope `peer` can dial
// an address of scope `addr`: never an unspecified one; loopback only from
// this host; link-local only from the link; a private address only from a
// private, link-local or loopback peer (a peer seen at a public address is
// outside, past a NAT); public addresses and names from anyone.
bool usable_by(AddressScope addr, AddressScope peer);

struct AdvertiseInput {
  std::string announce;     // --announce HOST:PORT ("" = none): used as it is
  std::string listen_host;  // the host the node listens on ("" = not listening)
  std::uint16_t port = 0;   // the port it listens on
  std::string local_ip;     // this side's address of the connection to the peer
  std::string peer_ip;      // the peer's address as this side sees it
};
// The address to tell this peer ("host:port"), or "" when the node has none
// the peer could use.
std::string advertised_address(const AdvertiseInput& in);

// The IP addresses of this host's interfaces that are up, loopback and
// link-local left out (getifaddrs), IPv4 first. For the source's join link.
std::vector<std::string> interface_addresses();

// The addresses to print in a join link for a node listening on `listen`
// ("host:port"): `announce` when given; the listening address when it names
// one host; for all interfaces, each of `interfaces` with the port (loopback
// when there is none).
std::vector<std::string> link_addresses(const HostPort& listen, const std::string& announce,
                                        const std::vector<std::string>& interfaces);

}  // namespace peers::rpc
