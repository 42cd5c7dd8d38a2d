// Tests of the code peers-idlc generates (built by peers_idl_library from
// testdata/*.pidl): round trips of every type, defaults, versioning, typed
// errors, interface metadata, and rejection of bad bytes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <type_traits>

#include "lib/idl/field_codec.h"
#include "lib/wire/codec.h"
#include "lib/wire/error_registry.h"
#include "testdata/idl/common.pidl.h"
#include "testdata/idl/every_type.pidl.h"
#include "testdata/idl/every_type_sample.h"
#include "testdata/idl/version_new.pidl.h"
#include "testdata/idl/version_old.pidl.h"

namespace peers::idltest {
namespace {

using peers::wire::Kind;
using peers::wire::Writer;

// A body holding one field with the given key and raw value bytes.
std::string field(std::uint32_t number, Kind kind, std::string_view value) {
  Writer w;
  w.key(number, kind);
  w.raw(value);
  return w.take();
}

std::string varint(std::uint64_t v) {
  Writer w;
  w.varint(v);
  return w.take();
}

std::string length_prefixed(std::string_view body) {
  Writer w;
  w.bytes(body);
  return w.take();
}

TEST(Generated, EveryTypeRoundTrips) {
  Everything e = full_everything();
  std::string bytes = e.encode();
  auto back = Everything::decode(bytes);
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(*back, e);
  EXPECT_TRUE(std::signbit(back->samples[1]));  // -0.0 stays negative
  EXPECT_EQ(static_cast<std::uint32_t>(back->roles[2]), 99u);
  EXPECT_EQ(back->encode(), bytes);  // encoding is deterministic
}

TEST(Generated, EncodeAppendsToAWriter) {
  Inner in{"a", 1};
  std::string out = "prefix";
  Writer w(&out);
  in.encode(w);
  EXPECT_EQ(out, "prefix" + in.encode());
}

TEST(Generated, DefaultsAreNotWrittenExceptFixedBytes) {
  EXPECT_EQ(Inner{}.encode(), "");
  EXPECT_EQ(Empty{}.encode(), "");
  EXPECT_EQ(Node{}.encode(), "");
  // Only bytes<4> tag (field 13) is always present: key 13<<3|2 = 0x6a.
  EXPECT_EQ(Everything{}.encode(), std::string("\x6a\x04\x00\x00\x00\x00", 6));
  auto back = Everything::decode(Everything{}.encode());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, Everything{});
}

TEST(Generated, EmptyBodyDecodesToDefaults) {
  auto e = Everything::decode("");
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, Everything{});
  EXPECT_EQ(e->role, Role::kSource);
  EXPECT_FALSE(e->maybe.has_value());
}

TEST(Generated, PresentOptionalsAreWrittenEvenWhenDefault) {
  Inner in;
  Everything e;
  e.maybe = 0;
  e.maybe_inner = Inner{};
  std::string bytes = e.encode();
  auto back = Everything::decode(bytes);
  ASSERT_TRUE(back);
  ASSERT_TRUE(back->maybe.has_value());
  EXPECT_EQ(*back->maybe, 0u);
  ASSERT_TRUE(back->maybe_inner.has_value());
  EXPECT_EQ(*back->maybe_inner, in);
}

TEST(Generated, StructFieldWithDefaultBodyIsLeftOut) {
  Everything e;
  e.inner = Inner{};
  e.origin = common::Point{0, 0};
  EXPECT_EQ(e.encode(), Everything{}.encode());
  e.inner.value = 1;
  EXPECT_NE(e.encode(), Everything{}.encode());
}

TEST(Generated, FieldsAreWrittenInNumberOrder) {
  Everything e;
  e.last = 1;
  e.flag = true;
  std::string bytes = e.encode();
  peers::wire::Reader r(bytes);
  std::uint32_t prev = 0;
  while (!r.at_end()) {
    auto key = r.key();
    ASSERT_TRUE(key);
    EXPECT_GT(key->field, prev);
    prev = key->field;
    ASSERT_TRUE(r.skip(key->kind));
  }
  EXPECT_EQ(prev, 536870911u);
}

TEST(Generated, RecursiveStructsRoundTrip) {
  Node leaf{"leaf", {}, {}, {}};
  Node root;
  root.name = "root";
  root.children = {leaf, leaf};
  root.next = Node{"next", {leaf}, {}, {}};
  root.named["x"] = leaf;
  auto back = Node::decode(root.encode());
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(*back, root);
  ASSERT_TRUE(back->next);
  EXPECT_EQ(back->next->children[0].name, "leaf");

  Ping ping;
  ping.n = 3;
  Pong pong;
  pong.first.n = 4;
  pong.more = {Ping{{}, 5}};
  ping.pong = pong;
  auto ping_back = Ping::decode(ping.encode());
  ASSERT_TRUE(ping_back) << ping_back.error().what();
  EXPECT_EQ(*ping_back, ping);
}

TEST(Generated, BoxHasValueSemantics) {
  Node a;
  a.next = Node{"b", {}, {}, {}};
  Node copy = a;
  copy.next->name = "changed";
  EXPECT_EQ(a.next->name, "b");
  EXPECT_NE(a, copy);
  copy.next = std::nullopt;
  EXPECT_FALSE(copy.next.has_value());
  EXPECT_TRUE(copy.next == std::nullopt);
}

// A Node whose `next` nests `levels` deep.
std::string nested_nodes(int levels) {
  Writer w;
  std::vector<std::size_t> open;
  for (int i = 0; i < levels; ++i) {
    w.key(3, Kind::kBytes);
    open.push_back(w.begin_nested());
  }
  while (!open.empty()) {
    w.end_nested(open.back());
    open.pop_back();
  }
  return w.take();
}

TEST(Generated, NestingIsLimited) {
  EXPECT_TRUE(Node::decode(nested_nodes(peers::idl::kMaxDepth)));
  auto deep = Node::decode(nested_nodes(peers::idl::kMaxDepth + 1));
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().code(), Errc::kProtocol);
  EXPECT_EQ(deep.error().message(), "peers.idltest.Node: nested deeper than 64 levels");
  // A bomb far deeper than any stack would take is still a clean error.
  EXPECT_FALSE(Node::decode(nested_nodes(100000)));
}

TEST(Generated, WrongKindIsAnError) {
  auto e = Everything::decode(field(8, Kind::kBytes, length_prefixed("abc")));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), Errc::kProtocol);
  EXPECT_EQ(e.error().message(),
            "field 8 (umedium) of peers.idltest.Everything: expected varint, got bytes");
  auto f = Everything::decode(field(10, Kind::kVarint, varint(1)));
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message(),
            "field 10 (ratio) of peers.idltest.Everything: expected fixed64, got varint");
}

TEST(Generated, TruncatedInputIsAnError) {
  std::string bytes = full_everything().encode();
  auto cut = Everything::decode(std::string_view(bytes).substr(0, bytes.size() - 1));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code(), Errc::kProtocol);
  // No prefix crashes; most fail.
  int failures = 0;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    if (!Everything::decode(std::string_view(bytes).substr(0, n))) ++failures;
  }
  EXPECT_GT(failures, static_cast<int>(bytes.size()) / 2);
}

TEST(Generated, OverlongCountIsRejectedBeforeAllocating) {
  // seqs (field 14): a list body claiming a billion elements in 2 bytes.
  std::string body = varint(1000000000) + "\x01\x02";
  auto e = Everything::decode(field(14, Kind::kBytes, length_prefixed(body)));
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message().find("field 14 (seqs) of peers.idltest.Everything: "),
            std::string::npos);
  EXPECT_NE(e.error().message().find("count 1000000000 cannot fit"), std::string::npos);
  // samples (f64, 8 bytes each): 2 elements need 16 bytes, not 9.
  auto s =
      Everything::decode(field(16, Kind::kBytes, length_prefixed(varint(2) + std::string(8, 'x'))));
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("cannot fit"), std::string::npos);
}

TEST(Generated, ExtraBytesInAListBodyAreAnError) {
  auto e = Everything::decode(
      field(14, Kind::kBytes, length_prefixed(varint(1) + varint(5) + varint(6))));
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message().find("bytes after the last list element"), std::string::npos);
}

TEST(Generated, FixedBytesOfWrongSizeIsAnError) {
  auto e = Everything::decode(field(13, Kind::kBytes, length_prefixed("abc")));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message(),
            "field 13 (tag) of peers.idltest.Everything: expected 4 bytes, got 3");
  auto in_list = Everything::decode(
      field(19, Kind::kBytes, length_prefixed(varint(1) + length_prefixed("abc"))));
  ASSERT_FALSE(in_list);
  EXPECT_EQ(in_list.error().message(),
            "field 19 (pairs) of peers.idltest.Everything: expected 2 bytes, got 3");
}

TEST(Generated, StringsMustBeUtf8ButBytesNeedNot) {
  auto bad = Everything::decode(field(11, Kind::kBytes, length_prefixed("\xc3\x28")));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "field 11 (name) of peers.idltest.Everything: invalid UTF-8 in a string");
  auto blob = Everything::decode(field(12, Kind::kBytes, length_prefixed("\xc3\x28")));
  ASSERT_TRUE(blob);
  EXPECT_EQ(blob->blob, "\xc3\x28");
}

TEST(Generated, OutOfRangeIntegersAreErrors) {
  auto u8 = Everything::decode(field(6, Kind::kVarint, varint(256)));
  ASSERT_FALSE(u8);
  EXPECT_NE(u8.error().message().find("field 6 (utiny) of peers.idltest.Everything: "),
            std::string::npos);
  EXPECT_NE(u8.error().message().find("does not fit in 8 bits"), std::string::npos);
  auto i8 = Everything::decode(field(2, Kind::kVarint, varint(peers::wire::zigzag(-129))));
  ASSERT_FALSE(i8);
  auto b = Everything::decode(field(1, Kind::kVarint, varint(2)));
  ASSERT_FALSE(b);
  auto role = Everything::decode(field(31, Kind::kVarint, varint(1ull << 32)));
  ASSERT_FALSE(role);
}

TEST(Generated, NestedErrorsNameTheInnermostField) {
  // inner (field 32) holds an Inner whose value (field 2) has the wrong kind.
  std::string inner = field(2, Kind::kBytes, length_prefixed(""));
  auto e = Everything::decode(field(32, Kind::kBytes, length_prefixed(inner)));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message(),
            "field 2 (value) of peers.idltest.Inner: expected varint, got bytes");
}

TEST(Generated, RepeatedFieldsLastWinsListsAppendMapsMerge) {
  Inner a{"a", 1};
  Inner b{"b", 2};
  Everything one;
  one.umedium = 1;
  one.seqs = {1, 2};
  one.rates = {{"x", 1}, {"y", 2}};
  one.inner = a;
  Everything two;
  two.umedium = 2;
  two.seqs = {3};
  two.rates = {{"y", 3}, {"z", 4}};
  two.inner = b;
  auto both = Everything::decode(one.encode() + two.encode());
  ASSERT_TRUE(both);
  EXPECT_EQ(both->umedium, 2u);
  EXPECT_EQ(both->seqs, (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(both->rates, (std::map<std::string, double>{{"x", 1}, {"y", 3}, {"z", 4}}));
  EXPECT_EQ(both->inner, b);
}

TEST(Generated, UnknownFieldsAreSkipped) {
  std::string extra = field(77, Kind::kVarint, varint(5)) + field(78, Kind::kFixed64, "12345678") +
                      field(79, Kind::kBytes, length_prefixed("zz"));
  Inner in{"a", -3};
  auto back = Inner::decode(extra + in.encode() + extra);
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(*back, in);
  auto bad = Inner::decode(field(79, Kind::kBytes, varint(10) + "x"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("peers.idltest.Inner: "), std::string::npos);
}

TEST(Generated, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string junk(rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    (void)Everything::decode(junk);
    (void)Node::decode(junk);
  }
}

// --- versions -------------------------------------------------------------------

TEST(Versioning, NewReaderSkipsRemovedFieldAndDefaultsAddedOnes) {
  v1::Profile old_p{7, "ann", v1::Mood::kHappy};
  auto now = v2::Profile::decode(old_p.encode());
  ASSERT_TRUE(now) << now.error().what();
  EXPECT_EQ(now->id, 7u);
  EXPECT_EQ(now->mood, v2::Mood::kHappy);
  EXPECT_TRUE(now->friends.empty());
  EXPECT_FALSE(now->home.has_value());
  EXPECT_EQ(now->score, 0.0);
}

TEST(Versioning, OldReaderSkipsAddedFieldsAndKeepsUnknownEnumValues) {
  v2::Profile p;
  p.id = 9;
  p.mood = v2::Mood::kGrumpy;
  p.friends = {1, 2};
  p.home = common::Point{3, 4};
  p.score = 0.5;
  p.tags = {{"k", "v"}};
  p.code = {1, 2, 3};
  auto old_p = v1::Profile::decode(p.encode());
  ASSERT_TRUE(old_p) << old_p.error().what();
  EXPECT_EQ(old_p->id, 9u);
  EXPECT_EQ(old_p->name, "");
  EXPECT_EQ(static_cast<std::uint32_t>(old_p->mood), 2u);
  EXPECT_EQ(to_string(old_p->mood), "");  // v1 has no name for it
  // Passed back through the old version, the new value survives.
  auto again = v2::Profile::decode(old_p->encode());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->mood, v2::Mood::kGrumpy);
}

// --- enums ------------------------------------------------------------------------

TEST(Enums, NamesBothWays) {
  EXPECT_EQ(to_string(Role::kNotReadyYet), "NOT_READY_YET");
  EXPECT_EQ(to_string(static_cast<Role>(3)), "");
  Role r = Role::kSource;
  EXPECT_TRUE(from_string("SINK", &r));
  EXPECT_EQ(r, Role::kSink);
  EXPECT_FALSE(from_string("sink", &r));
  EXPECT_EQ(r, Role::kSink);
  static_assert(std::is_same_v<std::underlying_type_t<Role>, std::uint32_t>);
  static_assert(static_cast<std::uint32_t>(Role::kNotReadyYet) == 7);
}

// --- errors -----------------------------------------------------------------------

TEST(TypedErrors, CarryTypeCodeAndDefaultMessage) {
  NotReady n;
  EXPECT_EQ(n.message(), "not ready");
  EXPECT_EQ(n.code(), Errc::kApplication);
  EXPECT_EQ(n.type_name(), "peers.idltest.NotReady");
  Full f("no room", 3, {"a"}, Inner{"d", 1});
  EXPECT_EQ(f.message(), "no room");
  EXPECT_EQ(f.type_name(), Full::kTypeName);
  EXPECT_EQ(f.capacity, 3u);
}

TEST(TypedErrors, CrossTheWireAsTheSameType) {
  Full sent("no room", 3, {"a", "b"}, Inner{"d", 1});
  std::string fields;
  sent.encode_fields(fields);
  std::exception_ptr p = peers::wire::make_error(Errc::kApplication, "peers.idltest.Full", fields,
                                                 "no room", "peer-7");
  try {
    std::rethrow_exception(p);
    FAIL() << "no exception";
  } catch (const Full& got) {
    EXPECT_EQ(got.message(), "no room");
    EXPECT_EQ(got.origin(), "peer-7");
    EXPECT_EQ(got.capacity, 3u);
    EXPECT_EQ(got.waiting, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(got.detail, (Inner{"d", 1}));
    // Held as a plain Error, rethrow() still throws the derived type.
    const peers::Error& base = got;
    try {
      base.rethrow();
    } catch (const Full& again) {
      EXPECT_EQ(again.capacity, 3u);
    }
  }
}

TEST(TypedErrors, ImportedLibrariesRegisterTheirErrors) {
  common::Busy busy("later", 250);
  std::string fields;
  busy.encode_fields(fields);
  try {
    std::rethrow_exception(
        peers::wire::make_error(Errc::kApplication, common::Busy::kTypeName, fields, "later", ""));
  } catch (const common::Busy& got) {
    EXPECT_EQ(got.retry_after_ms, 250u);
    return;
  } catch (...) {
  }
  FAIL() << "not rethrown as common::Busy";
}

TEST(TypedErrors, FieldlessErrorsRoundTrip) {
  NotReady n("wait");
  std::string fields;
  n.encode_fields(fields);
  EXPECT_EQ(fields, "");
  try {
    std::rethrow_exception(
        peers::wire::make_error(Errc::kApplication, NotReady::kTypeName, fields, "wait", "x"));
  } catch (const NotReady& got) {
    EXPECT_EQ(got.message(), "wait");
    EXPECT_EQ(got.origin(), "x");
    return;
  } catch (...) {
  }
  FAIL() << "not rethrown as NotReady";
}

TEST(TypedErrors, BadFieldsBecomeAProtocolError) {
  std::string bad = field(1, Kind::kBytes, length_prefixed("x"));
  try {
    std::rethrow_exception(
        peers::wire::make_error(Errc::kApplication, Full::kTypeName, bad, "m", "peer-1"));
  } catch (const Full&) {
    FAIL() << "decoded bad fields";
  } catch (const peers::Error& e) {
    EXPECT_EQ(e.code(), Errc::kProtocol);
    EXPECT_EQ(e.origin(), "peer-1");
    EXPECT_EQ(e.message(), "field 1 (capacity) of peers.idltest.Full: expected varint, got bytes");
  }
}

// --- interfaces ---------------------------------------------------------------------

constexpr std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

TEST(Interfaces, DescribeTheirMethods) {
  static_assert(Tester::kName == "peers.idltest.Tester");
  static_assert(std::is_same_v<Tester::Join::Request, Everything>);
  static_assert(std::is_same_v<Tester::Join::Response, Inner>);
  static_assert(std::is_same_v<Tester::Join::Throws, std::tuple<Full, NotReady, common::Busy>>);
  static_assert(Tester::Join::kId == fnv1a("peers.idltest.Tester.join"));
  static_assert(Tester::Join::kName == "join");
  static_assert(Tester::Join::kFullName == "peers.idltest.Tester.join");
  static_assert(!Tester::Join::kOneway && !Tester::Join::kData);
  static_assert(Tester::Heartbeat::kOneway);
  static_assert(std::is_same_v<Tester::Heartbeat::Response, void>);
  static_assert(Tester::Feed::kData);
  static_assert(std::is_same_v<Tester::Ping::Request, void>);
  static_assert(std::is_same_v<Tester::Ping::Response, void>);
  static_assert(std::tuple_size_v<Tester::Ping::Throws> == 0);
  static_assert(Everything::kTypeName == "peers.idltest.Everything");
  SUCCEED();
}

}  // namespace
}  // namespace peers::idltest
