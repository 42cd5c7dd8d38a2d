#include "lib/inspect/catalog.h"

#include <gtest/gtest.h>

#include "lib/inspect/format.h"

namespace vt {
namespace {

TEST(Catalog, BuiltinKnowsInspectAndOverlay) {
  const Catalog& c = Catalog::builtin();
  ASSERT_NE(c.find_interface("vt.inspect.Inspect"), nullptr);
  ASSERT_NE(c.find_interface("vt.overlay.Overlay"), nullptr);
  std::vector<std::string> names;
  for (const auto* m : c.find_interface("vt.inspect.Inspect")->methods) names.push_back(m->name);
  EXPECT_EQ(names, (std::vector<std::string>{"status", "events", "follow", "services"}));
}

TEST(Catalog, ResolvesShortAndFullNames) {
  const Catalog& c = Catalog::builtin();
  auto a = c.resolve("Overlay.stream");
  ASSERT_TRUE(a) << a.error().what();
  EXPECT_EQ(a->full_name, "vt.overlay.Overlay.stream");
  EXPECT_EQ(a->method->response, "vt.overlay.StreamInfo");
  auto b = c.resolve("vt.inspect.Inspect.events");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->method->request, "vt.inspect.EventsRequest");
}

TEST(Catalog, NamesWhatExistsWhenAMethodIsMissing) {
  const Catalog& c = Catalog::builtin();
  auto a = c.resolve("Overlay.nope");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code(), peers::Errc::kNotFound);
  EXPECT_NE(a.error().message().find("it has: join, feed"), std::string::npos)
      << a.error().message();
  auto b = c.resolve("Nope.status");
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message().find("vt.inspect.Inspect"), std::string::npos);
  auto d = c.resolve("status");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), peers::Errc::kInvalidArgument);
}

TEST(Catalog, Signature) {
  auto a = Catalog::builtin().resolve("Inspect.follow");
  ASSERT_TRUE(a);
  EXPECT_EQ(Catalog::signature(*a->method),
            "follow(vt.inspect.EventsRequest) -> vt.inspect.EventList data throws "
            "vt.inspect.Denied");
}

TEST(Format, StatusJsonUsesIdlNames) {
  inspect::NodeStatus st;
  st.id = "vt1x";
  st.role = overlay::Role::kRelay;
  st.stripe_count = 1;
  inspect::StripeStatus s;
  s.stripe = 0;
  s.last_seq = 4;
  st.stripes.push_back(s);
  auto j = status_json(st);
  EXPECT_EQ(j["id"], "vt1x");
  EXPECT_EQ(j["role"], "RELAY");
  EXPECT_EQ(j["stripes"][0]["last_seq"], 4);
  EXPECT_EQ(j["stripes"][0]["parent"], nullptr);
}

TEST(Format, EventLineHasTheToolsShape) {
  inspect::Event e;
  e.seq = 7;
  e.time = 1764083000.5;
  e.kind = "parent_lost";
  e.stripe = 1;
  e.fields = {{"parent", "vt1p"}, {"why", "feed ended"}};
  EXPECT_EQ(event_json("vt1n", e).dump(),
            R"({"event":"parent_lost","time":1764083000.5,"data":{"node":"vt1n","seq":7,)"
            R"("stripe":1,"parent":"vt1p","why":"feed ended"}})");
}

}  // namespace
TEST(Format, WatchMarksTheWordsThatChanged) {
  EXPECT_EQ(mark_changes("", "a b\n"), "a b\n");
  EXPECT_EQ(mark_changes("x rate_in=1Mbit/s gaps=0\n", "x rate_in=2Mbit/s gaps=0\n"),
            "x \x1b[7mrate_in=2Mbit/s\x1b[0m gaps=0\n");
  EXPECT_EQ(mark_changes("a\n", "a\nnew line\n"), "a\n\x1b[7mnew\x1b[0m \x1b[7mline\x1b[0m\n");
  EXPECT_EQ(mark_changes("same  spaced\n", "same  spaced\n"), "same  spaced\n");
}

}  // namespace vt
