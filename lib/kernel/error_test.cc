#include "lib/kernel/error.h"

#include <gtest/gtest.h>

namespace peers {
namespace {

TEST(Error, CarriesCodeMessageAndTypeName) {
  Error e(Errc::kProtocol, "frame too long");
  EXPECT_EQ(e.code(), Errc::kProtocol);
  EXPECT_EQ(e.message(), "frame too long");
  EXPECT_EQ(e.type_name(), "peers.protocol");
  EXPECT_STREQ(e.what(), "frame too long");
  EXPECT_TRUE(e.origin().empty());
}

TEST(Error, WhatNamesOriginAndCallPath) {
  Error e(Errc::kTimeout, "no answer");
  e.set_origin("vt1abc").set_call_path("vt.overlay.Overlay.join");
  EXPECT_STREQ(e.what(), "no answer (from vt1abc in vt.overlay.Overlay.join)");
  Error f(Errc::kTimeout, "no answer", "vt1abc");
  EXPECT_STREQ(f.what(), "no answer (from vt1abc)");
}

TEST(Error, CodeNamesAreStable) {
  EXPECT_EQ(errc_name(Errc::kInvalidArgument), "invalid_argument");
  EXPECT_EQ(errc_name(Errc::kConnectionLost), "connection_lost");
  EXPECT_EQ(errc_name(static_cast<Errc>(999)), "unknown");
  EXPECT_EQ(static_cast<int>(Errc::kApplication), 14);  // on the wire: never renumber
}

TEST(Error, IsCaughtAsStdException) {
  try {
    throw Error(Errc::kIo, "disk gone");
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(), "disk gone");
  }
}

TEST(Result, HoldsValueOrError) {
  Result<int> good = 7;
  ASSERT_TRUE(good);
  EXPECT_EQ(*good, 7);
  Result<int> bad = Error(Errc::kNotFound, "nope");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Errc::kNotFound);
  EXPECT_THROW(bad.value(), Error);
}

TEST(Result, VoidResult) {
  Result<void> ok;
  EXPECT_TRUE(ok);
  Result<void> bad = Error(Errc::kAuth, "bad signature");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "bad signature");
  EXPECT_THROW(bad.value(), Error);
}

}  // namespace
}  // namespace peers
