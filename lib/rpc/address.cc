#include "lib/rpc/address.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace peers::rpc {

Result<HostPort> parse_host_port(std::string_view text) {
  HostPort hp;
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Error(Errc::kInvalidArgument,
                   "bad address '" + std::string(text) + "' (want HOST:PORT, IPv6 as [::1]:PORT)");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return Error(Errc::kInvalidArgument,
                   "bad address '" + std::string(text) + "' (want HOST:PORT, IPv6 as [::1]:PORT)");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || port.empty() || ec != std::errc() || p != port.data() + port.size() ||
      value > 65535) {
    return Error(Errc::kInvalidArgument, "bad address '" + std::string(text) +
                                             "' (want HOST:PORT with a port from 0 to 65535)");
  }
  hp.host = std::string(host);
  hp.port = static_cast<std::uint16_t>(value);
  return hp;
}

std::string join_host_port(std::string_view host, std::uint16_t port) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out = "[" + std::string(host) + "]";
  } else {
    out = std::string(host);
  }
  return out + ":" + std::to_string(port);
}

namespace {

AddressScope scope_v4(const std::uint8_t a[4]) {
  if (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0) return AddressScope::kUnspecified;
  if (a[0] == 127) return AddressScope::kLoopback;
  if (a[0] == 169 && a[1] == 254) return AddressScope::kLinkLocal;
  if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
      (a[0] == 100 && (a[1] & 0xc0) == 64)) {
    return AddressScope::kPrivate;
  }
  return AddressScope::kPublic;
}

}  // namespace

AddressScope address_scope(std::string_view ip) {
  std::string text(ip);
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  // A zone ("fe80::1%eth0") belongs to a link-local address.
  if (auto pct = text.find('%'); pct != std::string::npos) text.resize(pct);
  std::uint8_t v4[4];
  if (inet_pton(AF_INET, text.c_str(), v4) == 1) return scope_v4(v4);
  std::uint8_t v6[16];
  if (inet_pton(AF_INET6, text.c_str(), v6) != 1) return AddressScope::kName;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(v6, kMapped, 12) == 0) return scope_v4(v6 + 12);
  bool zero_head = std::all_of(v6, v6 + 15, [](std::uint8_t b) { return b == 0; });
  if (zero_head && v6[15] == 0) return AddressScope::kUnspecified;
  if (zero_head && v6[15] == 1) return AddressScope::kLoopback;
  if (v6[0] == 0xfe && (v6[1] & 0xc0) == 0x80) return AddressScope::kLinkLocal;
  if ((v6[0] & 0xfe) == 0xfc) return AddressScope::kPrivate;
  return AddressScope::kPublic;
}

std::string_view to_string(AddressScope scope) {
  switch (scope) {
    case AddressScope::kUnspecified:
      return "unspecified";
    case AddressScope::kLoopback:
      return "loopback";
    case AddressScope::kLinkLocal:
      return "link-local";
    case AddressScope::kPrivate:
      return "private";
    case AddressScope::kPublic:
      return "public";
    case AddressScope::kName:
      return "name";
  }
  return "?";
}

bool usable_by(AddressScope addr, AddressScope peer) {
  switch (addr) {
    case AddressScope::kUnspecified:
      return false;
    case AddressScope::kLoopback:
      return peer == AddressScope::kLoopback;
    case AddressScope::kLinkLocal:
      return peer == AddressScope::kLinkLocal || peer == AddressScope::kLoopback;
    case AddressScope::kPrivate:
      return peer == AddressScope::kPrivate || peer == AddressScope::kLinkLocal ||
             peer == AddressScope::kLoopback;
    case AddressScope::kPublic:
    case AddressScope::kName:
      return true;
  }
  return false;
}

std::string advertised_address(const AdvertiseInput& in) {
  if (!in.announce.empty()) return in.announce;
  if (in.listen_host.empty()) return "";
  std::string host = in.listen_host;
  if (address_scope(host) == AddressScope::kUnspecified) host = in.local_ip;
  if (host.empty()) return "";
  // Without a peer to judge by (no connection yet) any specific address goes.
  AddressScope scope = address_scope(host);
  if (in.peer_ip.empty() ? scope == AddressScope::kUnspecified
                         : !usable_by(scope, address_scope(in.peer_ip))) {
    return "";
  }
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return join_host_port(host, in.port);
}

std::vector<std::string> interface_addresses() {
  std::vector<std::string> v4, v6;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {};
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_UP) == 0) continue;
    char text[INET6_ADDRSTRLEN] = {};
    int family = i->ifa_addr->sa_family;
    if (family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    } else if (family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, text,
                sizeof text);
    } else {
      continue;
    }
    AddressScope scope = address_scope(text);
    if (scope == AddressScope::kLoopback || scope == AddressScope::kLinkLocal ||
        scope == AddressScope::kUnspecified) {
      continue;
    }
    (family == AF_INET ? v4 : v6).push_back(text);
  }
  freeifaddrs(list);
  v4.insert(v4.end(), v6.begin(), v6.end());
  return v4;
}

std::vector<std::string> link_addresses(const HostPort& listen, const std::string& announce,
                                        const std::vector<std::string>& interfaces) {
  if (!announce.empty()) return {announce};
  if (address_scope(listen.host) != AddressScope::kUnspecified) {
    return {join_host_port(listen.host, listen.port)};
  }
  bool v6_any = listen.host.find(':') != std::string::npos;
  std::vector<std::string> out;
  for (const auto& ip : interfaces) {
    // An IPv4 socket bound to 0.0.0.0 does not accept IPv6.
    if (!v6_any && ip.find(':') != std::string::npos) continue;
    out.push_back(join_host_port(ip, listen.port));
  }
  if (out.empty()) out.push_back(join_host_port(v6_any ? "::1" : "127.0.0.1", listen.port));
  return out;
}

std::string host_of(std::string_view host_port) {
  auto hp = parse_host_port(host_port);
  if (!hp) return "";
  if (hp->host.starts_with("::ffff:") && hp->host.find('.') != std::string::npos) {
    return hp->host.substr(7);
  }
  return hp->host;
}

std::string checked_peer_address(std::string_view claimed, std::string_view session_remote) {
  auto hp = parse_host_port(claimed);
  if (!hp || hp->port == 0) return "";
  std::string host = host_of(claimed);
  if (host.empty() || host != host_of(session_remote)) return "";
  return std::string(claimed);
}

}  // namespace peers::rpc
