#include "lib/overlay/join_link.h"

#include <gtest/gtest.h>

#include "lib/crypto/identity.h"

namespace vt {
namespace {

std::string key() {
  static const std::string k = peers::Identity::generate().peer_id().to_string();
  return k;
}

TEST(JoinLink, PrintsAndParsesBack) {
  auto id = peers::PeerId::parse(key()).value();
  std::string text = format_join_link({"203.0.113.5:7000", "[2001:db8::1]:7001"}, id);
  EXPECT_EQ(text, "vt://203.0.113.5:7000,[2001:db8::1]:7001/" + key());
  auto link = parse_join_link(text);
  ASSERT_TRUE(link) << link.error().message();
  EXPECT_EQ(link->addrs, (std::vector<std::string>{"203.0.113.5:7000", "[2001:db8::1]:7001"}));
  EXPECT_EQ(link->source, id);
}

TEST(JoinLink, OneAddressAndAName) {
  auto link = parse_join_link("vt://stream.example.org:7000/" + key());
  ASSERT_TRUE(link);
  EXPECT_EQ(link->addrs, std::vector<std::string>{"stream.example.org:7000"});
  EXPECT_TRUE(is_join_link("vt://x"));
  EXPECT_FALSE(is_join_link("127.0.0.1:7000"));
}

TEST(JoinLink, BadLinksSayWhatIsWrong) {
  std::string k = key();
  std::string k_typo = k;
  k_typo[10] = k_typo[10] == 'a' ? 'b' : 'a';
  struct Case {
    std::string text;
    std::string says;
  } cases[] = {
      {"http://1.2.3.4:7000/" + k, "does not start with vt://"},
      {"vt://1.2.3.4:7000", "no source id"},
      {"vt://1.2.3.4:7000/", "no source id"},
      {"vt:///" + k, "no address"},
      {"vt://1.2.3.4/" + k, "bad address '1.2.3.4'"},
      {"vt://1.2.3.4:0/" + k, "port 0"},
      {"vt://1.2.3.4:99999/" + k, "bad address"},
      {"vt://1.2.3.4:7000,/" + k, "bad address ''"},
      {"vt://1.2.3.4:7000/vt1nope", "bad join link"},
      {"vt://1.2.3.4:7000/" + k_typo, "bad join link"},
      {"vt://" + std::string(17 * 2, ',') + "/" + k, "bad address"},
  };
  for (const auto& c : cases) {
    auto link = parse_join_link(c.text);
    ASSERT_FALSE(link) << c.text;
    EXPECT_EQ(link.error().code(), peers::Errc::kInvalidArgument);
    EXPECT_NE(link.error().message().find(c.says), std::string::npos)
        << c.text << " -> " << link.error().message();
  }
  std::string many = "vt://";
  for (int i = 0; i < 17; ++i) many += (i ? ",h:" : "h:") + std::to_string(7000 + i);
  auto link = parse_join_link(many + "/" + k);
  ASSERT_FALSE(link);
  EXPECT_NE(link.error().message().find("more than 16"), std::string::npos);
}

}  // namespace
}  // namespace vt
