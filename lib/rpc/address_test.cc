#include "lib/rpc/address.h"

#include <gtest/gtest.h>

namespace peers::rpc {
namespace {

TEST(Address, ParsesAndJoinsHostPort) {
  auto hp = parse_host_port("[::1]:7000");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 7000);
  EXPECT_EQ(join_host_port("::1", 7000), "[::1]:7000");
  EXPECT_EQ(join_host_port("10.0.0.1", 1), "10.0.0.1:1");
  for (const char* bad : {"", "host", "host:", ":7000", "h:70000", "h:7x", "::1:7000", "[::1]7"}) {
    EXPECT_FALSE(parse_host_port(bad)) << bad;
  }
}

TEST(Address, ScopeOfEachKind) {
  struct Case {
    const char* ip;
    AddressScope scope;
  } cases[] = {
      {"0.0.0.0", AddressScope::kUnspecified},
      {"::", AddressScope::kUnspecified},
      {"127.0.0.1", AddressScope::kLoopback},
      {"127.5.6.7", AddressScope::kLoopback},
      {"::1", AddressScope::kLoopback},
      {"[::1]", AddressScope::kLoopback},
      {"169.254.1.2", AddressScope::kLinkLocal},
      {"fe80::1", AddressScope::kLinkLocal},
      {"fe80::1%eth0", AddressScope::kLinkLocal},
      {"10.1.2.3", AddressScope::kPrivate},
      {"172.16.0.1", AddressScope::kPrivate},
      {"172.31.255.1", AddressScope::kPrivate},
      {"172.32.0.1", AddressScope::kPublic},
      {"192.168.50.10", AddressScope::kPrivate},
      {"100.64.0.1", AddressScope::kPrivate},
      {"100.128.0.1", AddressScope::kPublic},
      {"fd00::5", AddressScope::kPrivate},
      {"203.0.113.7", AddressScope::kPublic},
      {"2001:db8::1", AddressScope::kPublic},
      {"::ffff:10.0.0.1", AddressScope::kPrivate},
      {"::ffff:127.0.0.1", AddressScope::kLoopback},
      {"example.org", AddressScope::kName},
  };
  for (const auto& c : cases) EXPECT_EQ(address_scope(c.ip), c.scope) << c.ip;
}

TEST(Address, WhoCanUseWhat) {
  using S = AddressScope;
  EXPECT_FALSE(usable_by(S::kUnspecified, S::kLoopback));
  EXPECT_TRUE(usable_by(S::kLoopback, S::kLoopback));
  EXPECT_FALSE(usable_by(S::kLoopback, S::kPrivate));
  EXPECT_FALSE(usable_by(S::kLoopback, S::kPublic));
  EXPECT_TRUE(usable_by(S::kLinkLocal, S::kLinkLocal));
  EXPECT_FALSE(usable_by(S::kLinkLocal, S::kPublic));
  EXPECT_TRUE(usable_by(S::kPrivate, S::kPrivate));
  EXPECT_FALSE(usable_by(S::kPrivate, S::kPublic));
  EXPECT_TRUE(usable_by(S::kPublic, S::kPublic));
  EXPECT_TRUE(usable_by(S::kPublic, S::kLoopback));
  EXPECT_TRUE(usable_by(S::kName, S::kPublic));
}

TEST(Address, AdvertisedPerPeer) {
  struct Case {
    AdvertiseInput in;
    const char* want;
  } cases[] = {
      // --announce wins, whatever the peer.
      {{"198.51.100.4:7000", "0.0.0.0", 40000, "192.168.50.10", "203.0.113.1"},
       "198.51.100.4:7000"},
      // All interfaces: the connection's local address, the listening port.
      {{"", "0.0.0.0", 7000, "10.0.0.2", "10.0.0.9"}, "10.0.0.2:7000"},
      {{"", "::", 7000, "2001:db8::2", "2001:db8::9"}, "[2001:db8::2]:7000"},
      {{"", "0.0.0.0", 7000, "127.0.0.1", "127.0.0.1"}, "127.0.0.1:7000"},
      // Behind a NAT: a private address means nothing to a public peer.
      {{"", "0.0.0.0", 7000, "192.168.50.10", "203.0.113.1"}, ""},
      {{"", "192.168.50.10", 7000, "192.168.50.10", "203.0.113.1"}, ""},
      // Loopback only to this host; link-local only on the link.
      {{"", "127.0.0.1", 7000, "127.0.0.1", "127.0.0.1"}, "127.0.0.1:7000"},
      {{"", "127.0.0.1", 7000, "127.0.0.1", "10.0.0.9"}, ""},
      {{"", "fe80::1", 7000, "fe80::1", "203.0.113.1"}, ""},
      {{"", "203.0.113.5", 7000, "203.0.113.5", "198.51.100.1"}, "203.0.113.5:7000"},
      // Not listening: nothing to tell.
      {{"", "", 0, "10.0.0.2", "10.0.0.9"}, ""},
      // No connection yet: a specific host goes, all interfaces does not.
      {{"", "10.0.0.2", 7000, "", ""}, "10.0.0.2:7000"},
      {{"", "0.0.0.0", 7000, "", ""}, ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(advertised_address(c.in), c.want)
        << c.in.listen_host << " local " << c.in.local_ip << " peer " << c.in.peer_ip;
  }
}

TEST(Address, LinkAddresses) {
  std::vector<std::string> ifs = {"10.0.0.2", "192.168.1.4", "2001:db8::2"};
  EXPECT_EQ(link_addresses({"0.0.0.0", 7000}, "", ifs),
            (std::vector<std::string>{"10.0.0.2:7000", "192.168.1.4:7000"}));
  EXPECT_EQ(link_addresses({"::", 7000}, "", ifs),
            (std::vector<std::string>{"10.0.0.2:7000", "192.168.1.4:7000", "[2001:db8::2]:7000"}));
  EXPECT_EQ(link_addresses({"0.0.0.0", 7000}, "", {}),
            (std::vector<std::string>{"127.0.0.1:7000"}));
  EXPECT_EQ(link_addresses({"127.0.0.1", 7000}, "", ifs),
            (std::vector<std::string>{"127.0.0.1:7000"}));
  EXPECT_EQ(link_addresses({"0.0.0.0", 7000}, "vt.example.org:9000", ifs),
            (std::vector<std::string>{"vt.example.org:9000"}));
}

TEST(Address, InterfacesLeaveOutLoopback) {
  for (const auto& ip : interface_addresses()) {
    EXPECT_NE(address_scope(ip), AddressScope::kLoopback) << ip;
    EXPECT_NE(address_scope(ip), AddressScope::kLinkLocal) << ip;
  }
}

TEST(Address, APeersClaimedAddressMustBeWhereItsSessionComesFrom) {
  EXPECT_EQ(checked_peer_address("10.0.0.5:7000", "10.0.0.5:41234"), "10.0.0.5:7000");
  EXPECT_EQ(checked_peer_address("[2001:db8::5]:7000", "[2001:db8::5]:5555"), "[2001:db8::5]:7000");
  EXPECT_EQ(checked_peer_address("10.0.0.5:7000", "[::ffff:10.0.0.5]:41234"), "10.0.0.5:7000");
  // A third party's address, none, no port, or nonsense: nothing.
  EXPECT_EQ(checked_peer_address("203.0.113.9:80", "10.0.0.5:41234"), "");
  EXPECT_EQ(checked_peer_address("", "10.0.0.5:41234"), "");
  EXPECT_EQ(checked_peer_address("10.0.0.5:0", "10.0.0.5:41234"), "");
  EXPECT_EQ(checked_peer_address("10.0.0.5", "10.0.0.5:41234"), "");
  EXPECT_EQ(checked_peer_address("10.0.0.5:7000", "garbage"), "");
  EXPECT_EQ(host_of("[::ffff:192.0.2.1]:9"), "192.0.2.1");
}

}  // namespace
}  // namespace peers::rpc
