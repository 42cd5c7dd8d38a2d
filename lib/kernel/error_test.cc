#include "lib/kernel/error.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

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

// The success path carries no strings: an Error is a vtable pointer, a code
// and one pointer; a Result<void> that succeeded is a null pointer.
static_assert(sizeof(Error) <= 3 * sizeof(void*));
static_assert(sizeof(Result<void>) <= 2 * sizeof(void*));
static_assert(sizeof(Result<int>) <= 4 * sizeof(void*));
static_assert(std::is_nothrow_copy_constructible_v<Error>);
static_assert(std::is_nothrow_move_constructible_v<Error>);
static_assert(std::is_nothrow_copy_assignable_v<Error>);
static_assert(std::is_nothrow_move_assignable_v<Error>);

TEST(Result, ErrorOnSuccessIsNoError) {
  Result<void> ok;
  EXPECT_EQ(ok.error().code(), Errc::kOk);
  EXPECT_STREQ(ok.error().what(), "no error");
  EXPECT_EQ(&ok.error(), &Error::none());
  Result<int> good = 3;
  EXPECT_EQ(good.error().code(), Errc::kOk);
  EXPECT_EQ(good.error().type_name(), "peers.ok");
  EXPECT_NO_THROW(ok.value());
}

TEST(Error, CopiesShareAndSettersCopyOnWrite) {
  Error a(Errc::kTimeout, "no answer");
  Error b = a;
  b.set_origin("vt1abc");
  EXPECT_STREQ(a.what(), "no answer");
  EXPECT_STREQ(b.what(), "no answer (from vt1abc)");
  EXPECT_EQ(&a.message(), &Error(a).message());  // a copy shares the strings

  Error c = std::move(b);
  EXPECT_STREQ(c.what(), "no answer (from vt1abc)");
  EXPECT_EQ(c.code(), Errc::kTimeout);
  b = c;  // a moved-from Error can be assigned to
  EXPECT_STREQ(b.what(), "no answer (from vt1abc)");
  b = std::move(b);  // NOLINT: self-move leaves it usable
  c = a;
  EXPECT_STREQ(c.what(), "no answer");
  EXPECT_EQ(b.origin(), "vt1abc");

  Error moved(Errc::kIo, "x");
  Error taker = std::move(moved);
  EXPECT_EQ(moved.code(), Errc::kIo);  // NOLINT: moved-from keeps its code
  EXPECT_STREQ(moved.what(), "");      // NOLINT: and has empty strings
  moved.set_call_path("m");            // NOLINT: and can be reused
  EXPECT_STREQ(moved.what(), " (in m)");
  EXPECT_EQ(moved.type_name(), "peers.io");
}

TEST(Error, WhatTextIsUnchanged) {
  Error e(Errc::kAuth, "bad signature", "vt1xyz");
  EXPECT_STREQ(e.what(), "bad signature (from vt1xyz)");
  e.set_call_path("a.B.c");
  EXPECT_STREQ(e.what(), "bad signature (from vt1xyz in a.B.c)");
  Error f(Errc::kAuth, "bad signature");
  f.set_call_path("a.B.c");
  EXPECT_STREQ(f.what(), "bad signature (in a.B.c)");
}

TEST(Error, MapsSystemErrorsToCodes) {
  auto sys = [](int e) { return std::error_code(e, std::system_category()); };
  EXPECT_EQ(errc_from_system(sys(ECONNREFUSED)), Errc::kUnavailable);
  EXPECT_EQ(errc_from_system(sys(EHOSTUNREACH)), Errc::kUnavailable);
  EXPECT_EQ(errc_from_system(sys(ETIMEDOUT)), Errc::kTimeout);
  EXPECT_EQ(errc_from_system(sys(EACCES)), Errc::kPermissionDenied);
  EXPECT_EQ(errc_from_system(sys(EPERM)), Errc::kPermissionDenied);
  EXPECT_EQ(errc_from_system(sys(ENOENT)), Errc::kNotFound);
  EXPECT_EQ(errc_from_system(sys(ECONNRESET)), Errc::kConnectionLost);
  EXPECT_EQ(errc_from_system(sys(EPIPE)), Errc::kConnectionLost);
  EXPECT_EQ(errc_from_system(sys(EMFILE)), Errc::kOverloaded);
  EXPECT_EQ(errc_from_system(sys(ECANCELED)), Errc::kCancelled);
  EXPECT_EQ(errc_from_system(sys(EINVAL)), Errc::kInvalidArgument);
  EXPECT_EQ(errc_from_system(sys(ENOSPC)), Errc::kIo);
  EXPECT_EQ(errc_from_system(sys(ENOSPC), Errc::kUnavailable), Errc::kUnavailable);
  EXPECT_EQ(errc_from_system(std::make_error_code(std::errc::timed_out)), Errc::kTimeout);
  EXPECT_EQ(errc_from_system(std::error_code()), Errc::kOk);
}

TEST(Error, FromSystemKeepsTheErrorCode) {
  std::error_code ec(ECONNREFUSED, std::system_category());
  Error e = Error::from_system(ec, "cannot connect to 127.0.0.1:1");
  EXPECT_EQ(e.code(), Errc::kUnavailable);
  EXPECT_EQ(e.system_code(), ec);
  EXPECT_EQ(e.system_code(), std::errc::connection_refused);
  EXPECT_EQ(e.message(), "cannot connect to 127.0.0.1:1: " + ec.message());
  EXPECT_EQ(e.type_name(), "peers.unavailable");

  Error copy = e;
  copy.set_origin("vt1abc");
  EXPECT_EQ(copy.system_code(), ec);

  Error worded = Error(Errc::kConnectionLost, "read failed").set_system_code(ec);
  EXPECT_EQ(worded.code(), Errc::kConnectionLost);
  EXPECT_EQ(worded.message(), "read failed");
  EXPECT_EQ(worded.system_code(), ec);
  EXPECT_FALSE(Error(Errc::kIo, "x").system_code());
}

class Typed : public Error {
 public:
  explicit Typed(int n) : Error(Errc::kApplication, "test.Typed", "typed", {}), n(n) {}
  [[noreturn]] void rethrow() const override { throw *this; }
  int n;
};

TEST(Result, VoidResultKeepsTypedErrors) {
  Result<void> bad = Typed(7);
  EXPECT_EQ(bad.error().type_name(), "test.Typed");
  Result<void> copy = bad;
  try {
    copy.value();
    FAIL() << "no throw";
  } catch (const Typed& t) {
    EXPECT_EQ(t.n, 7);
  }
}

TEST(Result, CopiesAndMoves) {
  Result<std::string> a = std::string("x");
  Result<std::string> b = Error(Errc::kNotFound, "gone");
  Result<std::string> c = b;
  EXPECT_EQ(c.error().message(), "gone");
  c = a;
  EXPECT_EQ(*c, "x");
  Result<void> d = Error(Errc::kIo, "disk");
  Result<void> e = std::move(d);
  EXPECT_FALSE(e);
  EXPECT_STREQ(e.error().what(), "disk");
}

}  // namespace
}  // namespace peers
