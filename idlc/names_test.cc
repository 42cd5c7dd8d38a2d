#include "idlc/names.h"

#include <gtest/gtest.h>

namespace peers::idl {
namespace {

TEST(Names, Styles) {
  EXPECT_TRUE(is_lower_snake("rtt_us"));
  EXPECT_TRUE(is_lower_snake("a1_b2"));
  EXPECT_FALSE(is_lower_snake("Rtt"));
  EXPECT_FALSE(is_lower_snake("rtt__us"));
  EXPECT_FALSE(is_lower_snake("rtt_"));
  EXPECT_FALSE(is_lower_snake("_rtt"));
  EXPECT_FALSE(is_lower_snake("1a"));
  EXPECT_FALSE(is_lower_snake(""));
  EXPECT_TRUE(is_upper_snake("NOT_READY"));
  EXPECT_TRUE(is_upper_snake("H264"));
  EXPECT_FALSE(is_upper_snake("Not_Ready"));
  EXPECT_FALSE(is_upper_snake("A__B"));
  EXPECT_TRUE(is_camel("PeerInfo"));
  EXPECT_TRUE(is_camel("HTTPError2"));
  EXPECT_FALSE(is_camel("peerInfo"));
  EXPECT_FALSE(is_camel("Peer_Info"));
}

TEST(Names, ReservedWords) {
  for (const char* w : {"class", "and", "co_await", "char8_t", "requires", "delete", "override"}) {
    EXPECT_TRUE(is_cpp_keyword(w)) << w;
  }
  EXPECT_FALSE(is_cpp_keyword("data"));
  EXPECT_FALSE(is_cpp_keyword("errno"));
  EXPECT_TRUE(is_cpp_reserved("errno"));
  EXPECT_TRUE(is_cpp_reserved("stdin"));
  EXPECT_FALSE(is_cpp_reserved("string"));
  EXPECT_FALSE(is_cpp_reserved(""));
}

TEST(Names, Conversions) {
  EXPECT_EQ(snake_to_camel("join"), "Join");
  EXPECT_EQ(snake_to_camel("get_peer_info"), "GetPeerInfo");
  EXPECT_EQ(snake_to_camel("a1_b"), "A1B");
  EXPECT_EQ(enum_constant("SOURCE"), "kSource");
  EXPECT_EQ(enum_constant("NOT_READY"), "kNotReady");
  EXPECT_EQ(enum_constant("H264_HIGH"), "kH264High");
  EXPECT_EQ(camel_to_words("Full"), "full");
  EXPECT_EQ(camel_to_words("NotReady"), "not ready");
  EXPECT_EQ(camel_to_words("HTTPError"), "http error");
  EXPECT_EQ(camel_to_words("Error404Page"), "error404 page");
  EXPECT_EQ(package_namespace("vt.overlay"), "vt::overlay");
  EXPECT_EQ(package_namespace("vt"), "vt");
}

TEST(Names, MethodIdIsFnv1a32) {
  EXPECT_EQ(method_id(""), 2166136261u);
  EXPECT_EQ(method_id("a"), 0xe40c292cu);
  EXPECT_EQ(method_id("foobar"), 0xbf9cf968u);
  EXPECT_EQ(method_id("bad.Collide.m_imeg"), method_id("bad.Collide.m_cadaa"));
}

}  // namespace
}  // namespace peers::idl
