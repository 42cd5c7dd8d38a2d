// History: the recent signed chunks of one stripe, kept by a relay.
//
// When a child loses its parent and re-attaches elsewhere, its new parent
// resends the stripe from the child's last received seq, out of this history,
// so the child (and its subtree) loses nothing as long as recovery is faster
// than the history is long. A relay keeps one History per stripe it carries.
//
// Entries are the chunks' wire bytes, shared (a relay forwards one buffer to
// all its children), ordered by seq. The history is bounded three ways: age
// (entries added max_age or longer ago are expired), total bytes and entry
// count; the oldest seqs go first. The newest entry is always kept, even when
// it alone passes max_bytes.
//
// No clock is read: add() and expire() take `now`. Not thread-safe.
//
//   vt::History history({.max_age = 10s, .max_bytes = 8 << 20});
//   history.add(chunk.seq, bytes, now);
//   if (history.covers(from)) for (auto& e : history.since(from)) child.send(e.bytes);
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/stream/chunk.h"

namespace vt {

// Immutable bytes shared between the history and the send queues.
using SharedBytes = std::shared_ptr<const std::string>;

struct HistoryOptions {
  std::chrono::microseconds max_age = std::chrono::seconds(10);
  std::size_t max_bytes = 16 << 20;
  std::size_t max_chunks = 4096;
};

struct HistoryEntry {
  ChunkSeq seq = 0;
  SharedBytes bytes;
};

class History {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit History(const HistoryOptions& options = {});

  // Keeps bytes as chunk seq, added at now, then expires what the bounds
  // require (an entry older than all others may go at once). Seqs need not
  // arrive in order (a resend may fill a hole). Returns false, keeping
  // nothing, for a seq already held, one at or below a seq already evicted,
  // or null bytes.
  bool add(ChunkSeq seq, SharedBytes bytes, TimePoint now);

  // Drops entries added at or before now - max_age.
  void expire(TimePoint now);

  // The entries with seq >= first, in seq order.
  std::vector<HistoryEntry> since(ChunkSeq first) const;

  // True when nothing at or after first was ever evicted: since(first) then
  // holds every chunk of the stripe from first on that this relay received.
  bool covers(ChunkSeq first) const;

  std::optional<ChunkSeq> oldest_seq() const;
  std::optional<ChunkSeq> newest_seq() const;
  std::size_t size() const { return entries_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  struct Entry {
    SharedBytes bytes;
    TimePoint added;
  };

  void evict_oldest();
  void enforce_bounds();

  HistoryOptions options_;
  std::map<ChunkSeq, Entry> entries_;
  std::size_t bytes_ = 0;
  // The highest seq evicted so far.
  std::optional<ChunkSeq> evicted_up_to_;
};

}  // namespace vt
