// A value of peers.idltest.Everything with every field set to something other
// than its default, shared by the tests of generated code and of the JSON
// codec (json_codec_test.cc spells the same value in JSON).
#pragma once

#include <limits>

#include "testdata/idl/every_type.pidl.h"

namespace peers::idltest {

inline Everything full_everything() {
  Everything e;
  e.flag = true;
  e.tiny = -128;
  e.small = -300;
  e.medium = -70000;
  e.large = std::numeric_limits<std::int64_t>::min();
  e.utiny = 255;
  e.usmall = 65535;
  e.umedium = 4000000000u;
  e.ularge = std::numeric_limits<std::uint64_t>::max();
  e.ratio = -2.5;
  e.name = "h\xc3\xa9llo";
  e.blob = std::string("\x00\xff\x01", 3);
  e.tag = {1, 2, 3, 4};
  e.seqs = {0, 1, 1ull << 40};
  e.names = {"", "a", "bc"};
  e.samples = {0.0, -0.0, 1e300};
  e.inners = {Inner{}, Inner{"x", -1}};
  e.grid = {{}, {1, -2}, {3}};
  e.pairs = {{0, 0}, {9, 8}};
  e.bits = {true, false, true};
  e.roles = {Role::kSink, Role::kSource, static_cast<Role>(99)};
  e.maybe = 0;  // present, although it equals the default
  e.maybe_inner = Inner{};
  e.maybe_name = "";
  e.maybe_list = std::vector<std::uint8_t>{};
  e.rates = {{"a", 1.5}, {"b", -0.25}};
  e.by_id = {{-5, Inner{"neg", 5}}, {7, Inner{}}};
  e.by_key = {{std::string("\x00\x01", 2), "zero-one"}, {"k", ""}};
  e.groups = {{1, {"a", "b"}}, {2, {}}};
  e.by_tag = {{{1, 2}, true}, {{0, 0}, false}};
  e.role = Role::kNotReadyYet;
  e.inner = Inner{"in", 42};
  e.origin = common::Point{-1, 1};
  e.color = common::Color::kGreen;
  e.maybe_ratio = 0.0;
  e.signed_map = {{-128, -1}, {127, std::numeric_limits<std::int64_t>::max()}};
  e.far = -1000;
  e.last = 7;
  return e;
}

}  // namespace peers::idltest
