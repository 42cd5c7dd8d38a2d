#include "lib/stream/history.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vt {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const Clock::time_point t0 = Clock::time_point{} + 1000s;

SharedBytes bytes(std::size_t size, char fill = 'x') {
  return std::make_shared<const std::string>(size, fill);
}

std::vector<ChunkSeq> seqs(const std::vector<HistoryEntry>& entries) {
  std::vector<ChunkSeq> out;
  for (const HistoryEntry& e : entries) out.push_back(e.seq);
  return out;
}

TEST(History, ReturnsChunksSinceASeqInOrder) {
  History history;
  EXPECT_FALSE(history.oldest_seq().has_value());
  EXPECT_FALSE(history.newest_seq().has_value());
  EXPECT_TRUE(history.since(0).empty());
  SharedBytes b8 = bytes(10, 'a');
  for (ChunkSeq s : {0, 4, 8, 12}) {
    EXPECT_TRUE(history.add(s, s == 8 ? b8 : bytes(10), t0));
  }
  EXPECT_EQ(*history.oldest_seq(), 0u);
  EXPECT_EQ(*history.newest_seq(), 12u);
  EXPECT_EQ(seqs(history.since(5)), (std::vector<ChunkSeq>{8, 12}));
  EXPECT_EQ(seqs(history.since(8)), (std::vector<ChunkSeq>{8, 12}));
  EXPECT_EQ(seqs(history.since(0)), (std::vector<ChunkSeq>{0, 4, 8, 12}));
  EXPECT_TRUE(history.since(13).empty());
  EXPECT_EQ(history.since(8)[0].bytes, b8);  // shared, not copied
  EXPECT_EQ(history.size(), 4u);
  EXPECT_EQ(history.bytes(), 40u);
}

TEST(History, RefusesDuplicatesAndNull) {
  History history;
  EXPECT_TRUE(history.add(4, bytes(1), t0));
  EXPECT_FALSE(history.add(4, bytes(1), t0));
  EXPECT_FALSE(history.add(8, nullptr, t0));
  EXPECT_EQ(history.size(), 1u);
}

TEST(History, AcceptsAResendThatFillsAHole) {
  History history;
  EXPECT_TRUE(history.add(0, bytes(1), t0));
  EXPECT_TRUE(history.add(8, bytes(1), t0));
  EXPECT_TRUE(history.add(4, bytes(1), t0));
  EXPECT_EQ(seqs(history.since(0)), (std::vector<ChunkSeq>{0, 4, 8}));
}

TEST(History, EvictsOldestByBytes) {
  History history({.max_bytes = 250});
  for (ChunkSeq s = 0; s < 5; ++s) EXPECT_TRUE(history.add(s, bytes(100), t0));
  EXPECT_EQ(history.size(), 2u);
  EXPECT_EQ(history.bytes(), 200u);
  EXPECT_EQ(*history.oldest_seq(), 3u);
  EXPECT_FALSE(history.covers(2));
  EXPECT_TRUE(history.covers(3));
  EXPECT_FALSE(history.add(2, bytes(1), t0));  // already evicted: stays out
}

TEST(History, EvictsOldestByCount) {
  History history({.max_chunks = 3});
  for (ChunkSeq s = 0; s < 10; ++s) (void)history.add(s * 4, bytes(1), t0);
  EXPECT_EQ(seqs(history.since(0)), (std::vector<ChunkSeq>{28, 32, 36}));
  EXPECT_TRUE(history.covers(25));
  EXPECT_FALSE(history.covers(24));
}

TEST(History, KeepsTheNewestEvenWhenItAloneIsTooBig) {
  History history({.max_bytes = 50});
  EXPECT_TRUE(history.add(0, bytes(10), t0));
  EXPECT_TRUE(history.add(1, bytes(80), t0));
  EXPECT_EQ(history.size(), 1u);
  EXPECT_EQ(*history.oldest_seq(), 1u);
}

TEST(History, ExpiresByAgeAtTheBoundary) {
  History history({.max_age = 10s});
  (void)history.add(0, bytes(1), t0);
  (void)history.add(1, bytes(1), t0 + 1s);
  history.expire(t0 + 10s - 1us);
  EXPECT_EQ(history.size(), 2u);
  history.expire(t0 + 10s);
  EXPECT_EQ(history.size(), 1u);
  EXPECT_EQ(*history.oldest_seq(), 1u);
  // add() expires too.
  (void)history.add(2, bytes(1), t0 + 11s);
  EXPECT_EQ(seqs(history.since(0)), std::vector<ChunkSeq>{2});
  history.expire(t0 + 1h);
  EXPECT_EQ(history.size(), 0u);
  EXPECT_EQ(history.bytes(), 0u);
  EXPECT_TRUE(history.covers(3));
  EXPECT_FALSE(history.covers(2));
}

TEST(History, CoversEverythingUntilSomethingIsEvicted) {
  History history;
  EXPECT_TRUE(history.covers(0));
  (void)history.add(100, bytes(1), t0);
  EXPECT_TRUE(history.covers(0));  // nothing this relay had is missing
}

}  // namespace
}  // namespace vt
