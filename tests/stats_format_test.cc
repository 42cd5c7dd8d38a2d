// The stats records' text and JSON renderings against golden files
// (testdata/golden/stats/): one record per role, a summary, unknown values.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "lib/overlay/stats_record.h"
#include "tests/support/golden.h"

namespace {

using vt::StatsRecord;
using vt::overlay::Role;

StatsRecord base(Role role, const std::string& tool) {
  StatsRecord r;
  r.time = 1764083000.125;
  r.tool = tool;
  r.peer = "vt1abcdefgh";
  r.role = role;
  r.uptime_s = 12.04;
  r.stripes = 4;
  r.uplink_bps = 20e6;
  r.capacity = 8;
  r.queue_ms = 3.25;
  r.stream_bps = 4.3e6;
  for (std::uint32_t i = 0; i < 4; ++i) {
    vt::StripeRecord s;
    s.stripe = i;
    if (role != Role::kSource)
      s.parent = i == 3 ? std::nullopt : std::optional("vt1parent" + std::to_string(i));
    s.children = i == 0 ? 2 : 0;
    s.interior = i == 0;
    s.repairs = i == 1 ? 1 : 0;
    r.per_stripe.push_back(s);
  }
  return r;
}

StatsRecord source_record() {
  StatsRecord r = base(Role::kSource, "vt-source");
  r.input_bps = 4342867;
  r.input_bytes = 6510000;
  r.rate_out_bps = 8685734;
  r.bytes_out = 13020000;
  r.chunks_out = 800;
  r.children = 8;
  return r;
}

StatsRecord sink_record() {
  StatsRecord r = base(Role::kSink, "vt-sink");
  r.rate_in_bps = 4342867;
  r.rate_out_bps = 2105632;
  r.bytes_in = 6510000;
  r.chunks_in = 400;
  r.bytes_out = 3100000;
  r.chunks_out = 190;
  r.parents = 3;
  r.children = 2;
  r.gaps = 1;
  r.skipped_chunks = 2;
  r.duplicates = 5;
  r.rejected = 0;
  r.repairs = 1;
  r.has_behind_live = true;
  r.behind_live_ms = 1234.5;
  r.has_buffer = true;
  r.buffer_ms = 480;
  r.buffer_chunks = 12;
  r.has_rtt = true;
  r.rtt_ms = 0.412;
  return r;
}

// A relay that has just started: no RTT, no stream clock yet.
StatsRecord relay_unknowns() {
  StatsRecord r = base(Role::kRelay, "vt-relay");
  r.parents = 0;
  r.has_behind_live = true;
  r.has_rtt = true;
  return r;
}

StatsRecord sink_summary() {
  StatsRecord r = sink_record();
  r.event = "summary";
  r.reason = "stopped by SIGINT";
  r.exit_code = 0;
  return r;
}

void check(const std::string& name, const StatsRecord& r) {
  std::string text = vt::stats_text(r);
  std::string json = vt::stats_json(r);
  vt::test::expect_golden("stats/" + name + ".txt", text);
  vt::test::expect_golden("stats/" + name + ".json", json);
  // One line each; the JSON parses and every field is a number, a string,
  // null, a bool or the per-stripe list, never a number written as a string.
  EXPECT_EQ(text.find('\n'), text.size() - 1);
  EXPECT_EQ(json.find('\n'), json.size() - 1);
  auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j["event"], r.event);
  EXPECT_TRUE(j["time"].is_number());
  for (auto& [key, value] : j["data"].items()) {
    if (key == "tool" || key == "peer" || key == "role" || key == "reason") {
      EXPECT_TRUE(value.is_string()) << key;
    } else if (key == "per_stripe") {
      EXPECT_TRUE(value.is_array());
    } else {
      EXPECT_TRUE(value.is_number() || value.is_null()) << key << " = " << value;
    }
  }
}

TEST(StatsFormat, Source) { check("source", source_record()); }
TEST(StatsFormat, Sink) { check("sink", sink_record()); }
TEST(StatsFormat, RelayWithUnknownsShowsDashAndNull) { check("relay_unknowns", relay_unknowns()); }
TEST(StatsFormat, Summary) { check("sink_summary", sink_summary()); }

TEST(StatsFormat, TextAndJsonHaveTheSameFields) {
  // One schema: every text key is a JSON key less its unit suffix.
  for (const StatsRecord& r : {source_record(), sink_record(), relay_unknowns(), sink_summary()}) {
    std::string text = vt::stats_text(r);
    auto j = nlohmann::json::parse(vt::stats_json(r));
    std::size_t text_keys = 0;
    for (std::size_t at = text.find(' ', text.find(": ") + 2); at != std::string::npos;
         at = text.find(' ', at + 1)) {
      std::size_t eq = text.find('=', at);
      if (eq == std::string::npos) break;
      std::string key = text.substr(at + 1, eq - at - 1);
      if (key.find(' ') != std::string::npos || key.find('"') != std::string::npos) continue;
      ++text_keys;
      bool found = false;
      for (const char* suffix : {"", "_bps", "_ms", "_s"}) {
        if (j["data"].contains(key + suffix)) found = true;
      }
      EXPECT_TRUE(found) << key;
    }
    // tool, peer, role and per_stripe are JSON only.
    EXPECT_EQ(text_keys + 4, j["data"].size()) << text;
  }
}

}  // namespace
